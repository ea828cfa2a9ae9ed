"""Mirror Sophos Central tenants, endpoints and alerts into the local models.

A sync is a job: one item a tenant. A tenant that fails (403, 404, a
timeout) is marked on its row and its item; the others still sync.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from sophos.client import SophosClient, TenantInfo
from sophos.errors import Forbidden, NotFound, SophosError
from sophos.models import Alert, Connection, Endpoint, Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services.connections import client_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
HEALTH_STATES = ("good", "suspicious", "bad", "unknown")
SEVERITIES = ("high", "medium", "low")


def sync_start(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    connection_id: int | None = None,
) -> Job:
    """Create a sync job and queue it once the surrounding transaction commits."""
    title = "Sync tenants, endpoints and alerts"
    job = jobs.job_create(
        kind="sync",
        title=title,
        user=user,
        parameters={"connection_id": connection_id},
    )
    transaction.on_commit(
        lambda: async_task("sophos.tasks.sync_run_task", job.pk, task_name=title)
    )
    return job


def sync_run(*, job_id: int) -> Job:
    """Run a queued sync job to the end."""
    job = Job.objects.get(pk=job_id)
    jobs.job_start(job=job)
    connection_id = job.parameters.get("connection_id")
    connections = Connection.objects.all()
    if connection_id:
        connections = connections.filter(pk=connection_id)

    try:
        for connection in connections:
            _sync_connection(job, connection)
    except SophosError as exc:
        logger.warning("sync job %s stopped: %s", job.pk, exc)
        return jobs.job_finish(job=job, error=str(exc))
    return jobs.job_finish(job=job)


def _sync_connection(job: Job, connection: Connection) -> None:
    with client_for(connection) as client:
        tenants = tenants_sync(client=client, connection=connection)
        items = jobs.job_items_add(
            job=job,
            items=[
                jobs.ItemSpec(target=str(t.pk), label=t.display_name, tenant_id=t.pk)
                for t in tenants
            ],
        )
        by_id = {t.pk: t for t in tenants}
        for item in items:
            job.refresh_from_db(fields=["status"])
            if job.status == Job.Status.CANCELLED:
                return
            assert item.tenant_id is not None
            _sync_item(client, by_id[item.tenant_id], item)


def _sync_item(client: SophosClient, tenant: Tenant, item: JobItem) -> None:
    jobs.job_item_start(item=item)
    try:
        tenant_sync(client=client, tenant=tenant)
    except SophosError as exc:
        _tenant_failed(tenant, exc)
        jobs.job_item_fail(item=item, error=exc)
        logger.warning("sync tenant %s failed: %s", tenant.pk, exc)
    else:
        jobs.job_item_succeed(item=item)


def _tenant_failed(tenant: Tenant, exc: SophosError) -> None:
    if isinstance(exc, Forbidden | NotFound):
        tenant.sync_status = Tenant.SyncStatus.FORBIDDEN
    else:
        tenant.sync_status = Tenant.SyncStatus.FAILED
    tenant.sync_error = str(exc)
    tenant.save(update_fields=["sync_status", "sync_error"])


def tenants_sync(*, client: SophosClient, connection: Connection) -> list[Tenant]:
    """Mirror the credential's tenant list, returning the tenants seen."""
    seen: list[Tenant] = []
    for info in client.tenants():
        seen.append(_tenant_upsert(connection, info))
    return seen


def _tenant_upsert(connection: Connection, info: TenantInfo) -> Tenant:
    defaults = {
        "connection": connection,
        "name": info.name or info.id,
        "show_as": info.show_as,
        "data_region": info.data_region,
        "data_geography": info.data_geography,
        "billing_type": info.billing_type,
        "status": info.status,
        "api_host": info.api_host,
    }
    tenant, _ = Tenant.objects.update_or_create(id=info.id, defaults=defaults)
    return tenant


def tenant_sync(*, client: SophosClient, tenant: Tenant) -> Tenant:
    """Mirror one tenant's endpoints and open alerts, then its counters."""
    if not tenant.api_host:
        raise NotFound(
            f"Tenant {tenant.name} has no API host yet, so it cannot be synced.",
            status=404,
        )
    started = timezone.now()
    target = client.tenant_target(str(tenant.pk), tenant.api_host)

    endpoint_counts = _mirror(
        Endpoint,
        tenant,
        (_endpoint_fields(item, started) for item in client.endpoints(target)),
        started,
    )
    alert_counts = _mirror(
        Alert,
        tenant,
        (_alert_fields(item, started) for item in client.alerts(target)),
        started,
    )

    _name_alert_agents(tenant)
    for state in HEALTH_STATES:
        setattr(tenant, f"endpoints_{state}", endpoint_counts.get(state, 0))
    tenant.endpoints_total = sum(endpoint_counts.get(s, 0) for s in HEALTH_STATES)
    tenant.tamper_off = endpoint_counts.get("tamper_off", 0)
    for severity in SEVERITIES:
        setattr(tenant, f"alerts_{severity}", alert_counts.get(severity, 0))
    tenant.sync_status = Tenant.SyncStatus.OK
    tenant.sync_error = ""
    tenant.last_synced_at = timezone.now()
    tenant.save()
    logger.info(
        "sync tenant %s: %s endpoints, %s alerts",
        tenant.pk,
        tenant.endpoints_total,
        tenant.open_alerts,
    )
    return tenant


def _mirror(
    model: type[Endpoint] | type[Alert],
    tenant: Tenant,
    rows: Iterator[tuple[dict[str, Any], list[str]]],
    started: dt.datetime,
) -> dict[str, int]:
    """Upsert rows in batches, delete those not seen, and count them.

    Rows are streamed batch by batch, so memory stays flat however many
    endpoints a tenant has.
    """
    counts: dict[str, int] = {}
    update_fields: list[str] | None = None
    while batch := list(islice(rows, BATCH_SIZE)):
        objects = []
        for fields, buckets in batch:
            for bucket in buckets:
                counts[bucket] = counts.get(bucket, 0) + 1
            objects.append(model(tenant=tenant, **fields))
        if update_fields is None:
            # An endpoint migrated from another tenant changes its tenant.
            update_fields = [f for f in batch[0][0] if f != "id"] + ["tenant"]
        model.objects.bulk_create(
            objects,  # type: ignore[arg-type]
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=update_fields,
        )
    model.objects.filter(tenant=tenant, synced_at__lt=started).delete()
    return counts


def _name_alert_agents(tenant: Tenant) -> None:
    """Copy each alert's endpoint hostname from the mirror.

    Alerts name their endpoint only by id (``managedAgent.id``).
    """
    agent_ids = set(
        tenant.alerts.exclude(managed_agent_id="").values_list(
            "managed_agent_id", flat=True
        )
    )
    valid_ids = []
    for agent_id in agent_ids:
        try:
            valid_ids.append(uuid.UUID(agent_id))
        except ValueError:
            continue
    hostnames = dict(
        Endpoint.objects.filter(tenant=tenant, pk__in=valid_ids).values_list(
            "id", "hostname"
        )
    )
    for endpoint_id, hostname in hostnames.items():
        tenant.alerts.filter(managed_agent_id=str(endpoint_id)).update(
            managed_agent_name=hostname
        )


def _parse_time(value: Any) -> dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        logger.warning("sophos sent an unreadable date-time %r", value[:40])
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _text(data: Mapping[str, Any], *keys: str) -> str:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(key)
    return "" if value is None else str(value)


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value]


def _endpoint_fields(
    item: Mapping[str, Any], synced_at: dt.datetime
) -> tuple[dict[str, Any], list[str]]:
    health = _text(item, "health", "overall") or "unknown"
    if health not in HEALTH_STATES:
        health = "unknown"
    tamper = item.get("tamperProtectionEnabled")
    isolation = item.get("isolation")
    isolated = ""
    if isinstance(isolation, Mapping):
        isolated = str(isolation.get("status") or "")
    buckets = [health]
    if tamper is False:
        buckets.append("tamper_off")
    fields = {
        "id": uuid.UUID(str(item["id"])),
        "hostname": _text(item, "hostname") or _text(item, "id"),
        "type": _text(item, "type"),
        "health": health,
        "threats_status": _text(item, "health", "threats", "status"),
        "services_status": _text(item, "health", "services", "status"),
        "os_name": _text(item, "os", "name"),
        "os_platform": _text(item, "os", "platform"),
        "ipv4_addresses": _strings(item.get("ipv4Addresses")),
        "mac_addresses": _strings(item.get("macAddresses")),
        "associated_person": _text(item, "associatedPerson", "name"),
        "group_name": _text(item, "group", "name"),
        "tamper_protection_enabled": tamper if isinstance(tamper, bool) else None,
        "isolation_status": isolated,
        "online": item.get("online") if isinstance(item.get("online"), bool) else None,
        "last_seen_at": _parse_time(item.get("lastSeenAt")),
        "synced_at": synced_at,
    }
    return fields, buckets


def _alert_fields(
    item: Mapping[str, Any], synced_at: dt.datetime
) -> tuple[dict[str, Any], list[str]]:
    severity = _text(item, "severity")
    fields = {
        "id": uuid.UUID(str(item["id"])),
        "severity": severity,
        "category": _text(item, "category"),
        "product": _text(item, "product"),
        "type": _text(item, "type"),
        "description": _text(item, "description"),
        "allowed_actions": _strings(item.get("allowedActions")),
        "managed_agent_id": _text(item, "managedAgent", "id"),
        "managed_agent_name": _text(item, "managedAgent", "name"),
        "raised_at": _parse_time(item.get("raisedAt")) or synced_at,
        "synced_at": synced_at,
    }
    return fields, [severity]


def tenants_refresh_counters(tenants: Iterable[Tenant]) -> None:
    """Recount a tenant's alert counters from the mirror after a local change."""
    for tenant in tenants:
        for severity in SEVERITIES:
            count = tenant.alerts.filter(severity=severity).count()
            setattr(tenant, f"alerts_{severity}", count)
        tenant.save(update_fields=[f"alerts_{s}" for s in SEVERITIES])
