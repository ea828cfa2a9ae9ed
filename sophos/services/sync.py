"""Mirror Sophos Central tenants, endpoints and alerts into the local models.

A sync is a job with one item a tenant. ``sync_run`` lists each connection's
tenants and queues one django-q2 task a tenant (``sync_item_run``), so a slow
or failing tenant never holds up another. A tenant that fails (403, 404, a
timeout) is marked on its row and its item, and the task that ends the last
item finishes the job. A connection whose tenant list cannot be read gets one
failed item. When the cause is a stored client secret that cannot be
decrypted, its mirrored tenants are marked failed with that message too,
because none of them can sync until the secret is readable again.

A full pass lists a tenant's endpoints and open alerts and removes the
mirrored ones that Sophos no longer lists. An incremental pass requests only
the endpoints seen (``lastSeenAfter``) and the alerts raised (``from``) since
the tenant's high-water marks. No API lists deletions, so an incremental sync
still gives a tenant a full pass once ``SYNC_FULL_EVERY_SECONDS`` have passed
since its last one.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.tasks import async_task

from sophos.client import SophosClient, TenantInfo
from sophos.errors import Forbidden, NotFound, SecretUnreadable, SophosError
from sophos.models import Alert, Connection, Endpoint, Job, JobItem, Tenant
from sophos.services import jobs, mirror_items
from sophos.services.connections import client_for
from sophos.shared_state import cache_lock

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
HEALTH_STATES = ("good", "suspicious", "bad", "unknown")
SEVERITIES = ("high", "medium", "low")
COUNTER_FIELDS = [
    "endpoints_total",
    *(f"endpoints_{state}" for state in HEALTH_STATES),
    "tamper_off",
    *(f"alerts_{severity}" for severity in SEVERITIES),
]

SYNC_JOB_KIND = "sync"
SCHEDULE_NAME = "Incremental sync of every tenant"

# An incremental pass requests changes from this long before the high-water
# mark, so an endpoint or alert that Sophos records a little late is still
# fetched. Rows fetched twice are upserted twice, which is harmless.
# NOTE/sophos-api: how late Sophos can record lastSeenAt or raisedAt is not
# documented; five minutes is an estimate.
HIGH_WATER_OVERLAP = dt.timedelta(minutes=5)


# Held while a request looks for a sync to join and creates one, so that two
# requests at once join one new sync instead of starting two.
SYNC_START_LOCK = "sophos-sync-start"

# Message of the items that end cancelled when a new sync request closes a
# stalled sync.
SYNC_WORKER_STOPPED_MESSAGE = (
    "The worker stopped before this tenant was synced, so the sync was closed "
    "when a new one was requested."
)


def sync_start(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    connection_id: int | None = None,
    incremental: bool = False,
) -> Job:
    """Create a sync job and queue it once the surrounding transaction commits.

    A sync someone starts is a full pass of every tenant by default. An
    ``incremental`` sync fetches only changes, except for tenants whose full
    pass is due. A request joins a queued or running sync that covers it,
    and closes a stalled one (``jobs.job_stalled``) before it starts anew.
    """
    # NOTE: a caller inside its own transaction commits the new job after the
    # lock is released, so another process may start a second sync meanwhile.
    # The portal's views and tasks call this outside a transaction.
    with cache_lock(SYNC_START_LOCK), transaction.atomic():
        running = _active_sync(user=user, connection_id=connection_id)
        if running is not None:
            # Two full passes of one tenant at once could delete each other's
            # rows, so a second request joins the sync that is under way.
            logger.info("sync requested while job %s runs; reusing it", running.pk)
            return running
        job = _sync_create(
            user=user, connection_id=connection_id, incremental=incremental
        )
    _sync_queue(job)
    return job


def _sync_create(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    connection_id: int | None,
    incremental: bool,
) -> Job:
    title = "Incremental sync" if incremental else "Sync"
    title += " of tenants, endpoints and alerts"
    parameters: dict[str, object] = {"connection_id": connection_id}
    if incremental:
        parameters["mode"] = "incremental"
    scope = _user_scope(user)
    if scope is not None:
        parameters["tenant_ids"] = scope
    return jobs.job_create(
        kind=SYNC_JOB_KIND, title=title, user=user, parameters=parameters
    )


def _sync_queue(job: Job) -> None:
    """Queue the sync's task once the surrounding transaction commits.

    Callers queue after releasing ``SYNC_START_LOCK``. django-q2's sync mode
    runs the whole sync inside ``async_task``, and other requests would wait
    for the lock meanwhile.
    """
    job_id = job.pk
    title = job.title
    transaction.on_commit(
        lambda: async_task("sophos.tasks.sync_run_task", job_id, task_name=title)
    )


def _active_sync(
    *, user: AbstractBaseUser | AnonymousUser | None, connection_id: int | None
) -> Job | None:
    scope = _user_scope(user)
    for job in _open_syncs(user=user):
        same_connection = job.parameters.get("connection_id") in (None, connection_id)
        covered = job.parameters.get("tenant_ids") is None or (
            scope is not None and set(scope) <= set(job.parameters["tenant_ids"])
        )
        if same_connection and covered:
            return job
    return None


def _user_scope(user: AbstractBaseUser | AnonymousUser | None) -> list[str] | None:
    """Return the tenant ids a person's sync may touch, or None for all.

    A technician's "Sync now" syncs only the tenants they may act on, so it
    neither spends the call budget on other customers nor counts them.
    """
    if user is None or not user.is_authenticated:
        return None
    from portal.access import sees_every_tenant, tenants_actionable

    if sees_every_tenant(user):
        return None
    return [str(pk) for pk in tenants_actionable(user).values_list("pk", flat=True)]


def _open_syncs(*, user: AbstractBaseUser | AnonymousUser | None) -> list[Job]:
    """Close the stalled sync jobs, and return the others that are queued or
    running, oldest first.

    A stalled sync's worker stopped, so it would hold back every new sync
    until someone cancelled it. A cancelled sync whose worker stopped before
    it ended its item is stalled too, and is closed so that it finishes. A
    started sync that is not stalled changed
    within the stall time, so it is returned however long it has run. A sync
    job created before the task timeout and never started, such as one
    queued while no cluster ran, counts as dead and is left alone.
    """
    unfinished = list(
        Job.objects.filter(jobs.OPEN_JOBS, kind=SYNC_JOB_KIND).order_by(
            "created_at", "pk"
        )
    )
    jobs.jobs_activity_load(jobs=unfinished)
    recent = timezone.now() - dt.timedelta(seconds=Conf.TIMEOUT or 3600)
    open_syncs = []
    for job in unfinished:
        if jobs.job_stalled(job=job):
            logger.warning(
                "sync job %s is closed, because none of its items changed for "
                "%s minutes and a new sync was requested",
                job.pk,
                settings.PORTAL_JOB_STALL_AFTER_MINUTES,
            )
            jobs.job_close_stalled(
                job=job, user=user, message=SYNC_WORKER_STOPPED_MESSAGE
            )
        elif job.status == Job.Status.CANCELLED:
            continue
        elif job.started_at is not None or job.created_at >= recent:
            open_syncs.append(job)
    return open_syncs


def sync_scheduled() -> Job | None:
    """Start an incremental sync unless a sync job is still queued or running.

    A stalled sync job is closed first, and one left queued, never started,
    for longer than the task timeout counts as dead (its cluster stopped), so
    neither holds back the schedule.
    """
    with cache_lock(SYNC_START_LOCK), transaction.atomic():
        open_syncs = _open_syncs(user=None)
        if open_syncs:
            active = open_syncs[0]
            logger.info(
                "scheduled sync skipped: job %s is still %s", active.pk, active.status
            )
            return None
        job = _sync_create(user=None, connection_id=None, incremental=True)
    _sync_queue(job)
    return job


def sync_schedule_ensure() -> Schedule:
    """Create or update the django-q2 schedule of the incremental sync."""
    minutes = settings.SYNC_INCREMENTAL_EVERY_MINUTES
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "sophos.tasks.sync_scheduled_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    return schedule


def sync_run(*, job_id: int, inline: bool = False) -> Job:
    """List every connection's tenants and queue one task a tenant.

    With ``inline`` the tenants sync one after another in this process, so the
    job has finished when this returns. Otherwise the cluster runs the tasks
    and the last one finishes the job. A job that is not queued any more (a
    task delivered twice) is returned unchanged.
    """
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.QUEUED:
        logger.warning("sync job %s is %s, so it is not run again", job.pk, job.status)
        return job
    jobs.job_start(job=job)

    # Every item exists before the first task runs, so no task can find the
    # job without open items and finish it early.
    items: list[JobItem] = []
    for connection in _connections(job):
        items.extend(_tenant_items(job, connection))
    for item in items:
        _queue_item(item, inline=inline)
    jobs.job_finish_when_done(job_id=job.pk)
    job.refresh_from_db()
    return job


def _connections(job: Job) -> Iterable[Connection]:
    connections = Connection.objects.order_by("pk")
    connection_id = job.parameters.get("connection_id")
    if connection_id:
        connections = connections.filter(pk=connection_id)
    return connections


def _tenant_items(job: Job, connection: Connection) -> list[JobItem]:
    """Mirror the connection's tenant list and add one job item a tenant.

    When the tenant list cannot be read, the connection gets a failed item of
    its own and the other connections still sync.
    """
    try:
        with client_for(connection) as client:
            tenants = tenants_sync(client=client, connection=connection)
    except SophosError as exc:
        logger.warning(
            "sync job %s: tenant list of %s failed: %s", job.pk, connection, exc
        )
        spec = jobs.ItemSpec(
            target=f"connection:{connection.pk}", label=connection.name
        )
        (failed,) = jobs.job_items_add(job=job, items=[spec])
        jobs.job_item_fail(item=failed, error=exc)
        if isinstance(exc, SecretUnreadable):
            _connection_tenants_failed(job, connection, exc)
        return []
    scope = job.parameters.get("tenant_ids")
    if scope is not None:
        allowed = set(scope)
        tenants = [t for t in tenants if str(t.pk) in allowed]
    specs = [
        jobs.ItemSpec(target=str(t.pk), label=t.display_name, tenant_id=t.pk)
        for t in tenants
    ]
    return jobs.job_items_add(job=job, items=specs)


def _connection_tenants_failed(
    job: Job, connection: Connection, exc: SophosError
) -> None:
    tenants = Tenant.objects.filter(connection=connection)
    scope = job.parameters.get("tenant_ids")
    if scope is not None:
        tenants = tenants.filter(pk__in=scope)
    tenants.update(sync_status=Tenant.SyncStatus.FAILED, sync_error=str(exc))


def _queue_item(item: JobItem, *, inline: bool) -> None:
    if inline:
        sync_item_run(item_id=item.pk)
        return
    async_task(
        "sophos.tasks.sync_item_task",
        item.pk,
        task_name=f"Sync {item.target_label}"[:100],
    )


def sync_item_run(*, item_id: int) -> JobItem:
    """Sync the tenant of one job item, then finish the job if it was the last.

    An item that has already ended is left alone, so a task delivered twice
    changes nothing.
    """
    item = jobs.job_item_claim(item_id=item_id)
    if item is not None:
        _item_run(item.job, item)
    else:
        item = JobItem.objects.select_related("job").get(pk=item_id)
    jobs.job_finish_when_done(job_id=item.job_id)
    return item


def _item_run(job: Job, item: JobItem) -> None:
    if Job.objects.filter(pk=job.pk, status=Job.Status.CANCELLED).exists():
        jobs.job_item_cancel(item=item)
        return
    tenant = None
    if item.tenant_id is not None:
        tenants = Tenant.objects.select_related("connection")
        tenant = tenants.filter(pk=item.tenant_id).first()
    if tenant is None:
        jobs.job_item_skip(item=item, message="The tenant is no longer in the mirror.")
        return

    full = _full_pass_due(job, tenant)
    try:
        with client_for(tenant.connection) as client:
            tenant_sync(client=client, tenant=tenant, full=full)
    except SophosError as exc:
        _tenant_failed(tenant, exc)
        jobs.job_item_fail(item=item, error=exc)
        logger.warning("sync tenant %s failed: %s", tenant.pk, exc)
    except Exception as exc:
        # Any other error is a bug. The item still ends, so the job finishes.
        logger.exception("sync tenant %s failed with an internal error", tenant.pk)
        jobs.job_item_fail(item=item, error=exc)
    else:
        message = "Full pass." if full else "Incremental pass."
        jobs.job_item_succeed(item=item, message=message)


def _full_pass_due(job: Job, tenant: Tenant) -> bool:
    if job.parameters.get("mode") != "incremental":
        return True
    if tenant.last_full_sync_at is None:
        return True
    interval = dt.timedelta(seconds=settings.SYNC_FULL_EVERY_SECONDS)
    return timezone.now() - tenant.last_full_sync_at >= interval


def _tenant_failed(tenant: Tenant, exc: SophosError) -> None:
    if isinstance(exc, Forbidden | NotFound):
        tenant.sync_status = Tenant.SyncStatus.FORBIDDEN
    else:
        tenant.sync_status = Tenant.SyncStatus.FAILED
    tenant.sync_error = str(exc)
    tenant.save(update_fields=["sync_status", "sync_error"])


def tenants_sync(*, client: SophosClient, connection: Connection) -> list[Tenant]:
    """Mirror the credential's tenant list, returning the tenants seen.

    Each page of the list is written with one upsert, which keeps a tenant's
    customer name, counters and sync state.
    """
    seen: list[str] = []
    infos = client.tenants()
    while batch := list(islice(infos, BATCH_SIZE)):
        _tenants_upsert(connection, batch)
        seen.extend(info.id for info in batch)
    by_id = {
        str(tenant.pk): tenant
        for tenant in Tenant.objects.filter(connection=connection)
    }
    return [by_id[tenant_id] for tenant_id in seen if tenant_id in by_id]


def _tenants_upsert(connection: Connection, infos: list[TenantInfo]) -> None:
    rows = [
        Tenant(
            id=uuid.UUID(info.id),
            connection=connection,
            name=info.name or info.id,
            show_as=info.show_as,
            data_region=info.data_region,
            data_geography=info.data_geography,
            billing_type=info.billing_type,
            status=info.status,
            api_host=info.api_host,
        )
        for info in infos
    ]
    Tenant.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=[
            "connection",
            "name",
            "show_as",
            "data_region",
            "data_geography",
            "billing_type",
            "status",
            "api_host",
        ],
    )


@dataclass(frozen=True)
class _Row:
    """One endpoint or alert as model fields, ready for the upsert."""

    fields: dict[str, Any]
    # The Sophos time this row advances the high-water mark to, if any.
    mark: dt.datetime | None


def tenant_sync(*, client: SophosClient, tenant: Tenant, full: bool = True) -> Tenant:
    """Mirror one tenant's endpoints and open alerts, then its counters.

    A ``full`` pass removes what Sophos no longer lists. An incremental pass
    fetches only what changed since the tenant's high-water marks.
    """
    if not tenant.api_host:
        raise NotFound(
            f"Tenant {tenant.name} has no API host yet, so it cannot be synced.",
            status=404,
        )
    started = timezone.now()
    target = client.tenant_target(str(tenant.pk), tenant.api_host)

    endpoint_filters: dict[str, Any] = {}
    alert_filters: dict[str, Any] = {}
    if not full:
        endpoint_filters["lastSeenAfter"] = _since(tenant.endpoints_high_water)
        alert_filters["from"] = _since(tenant.alerts_high_water)

    endpoints = client.endpoints(target, **endpoint_filters)
    endpoint_mark = _mirror(
        Endpoint,
        tenant,
        (_endpoint_row(item, started) for item in endpoints),
        started,
        full=full,
    )
    alerts = client.alerts(target, **alert_filters)
    alert_mark = _mirror(
        Alert,
        tenant,
        _named_alert_rows(tenant, (_alert_row(i, started) for i in alerts)),
        started,
        full=full,
    )

    _count(tenant)
    tenant.endpoints_high_water = _newest(tenant.endpoints_high_water, endpoint_mark)
    tenant.alerts_high_water = _newest(tenant.alerts_high_water, alert_mark)
    _record_pass(tenant, full=full)
    if full:
        # The allowed and blocked items and the global tamper protection
        # setting change rarely and cost three calls a tenant, so only a full
        # pass reads them. Every pass updates the endpoints' tamper state.
        mirror_items.tenant_extras_mirror(client=client, tenant=tenant)
    else:
        mirror_items.endpoint_tamper_since_update(tenant=tenant, now=timezone.now())
    logger.info(
        "sync tenant %s (%s pass): %s endpoints, %s alerts",
        tenant.pk,
        "full" if full else "incremental",
        tenant.endpoints_total,
        tenant.open_alerts,
    )
    return tenant


def _since(mark: dt.datetime | None) -> str | None:
    """Format a high-water mark for Sophos, or None to ask for everything."""
    if mark is None:
        return None
    since = (mark - HIGH_WATER_OVERLAP).astimezone(dt.UTC)
    return since.strftime("%Y-%m-%dT%H:%M:%S.") + f"{since.microsecond // 1000:03d}Z"


def _newest(
    current: dt.datetime | None, candidate: dt.datetime | None
) -> dt.datetime | None:
    if current is None:
        return candidate
    if candidate is None:
        return current
    return max(current, candidate)


def _record_pass(tenant: Tenant, *, full: bool) -> None:
    now = timezone.now()
    tenant.sync_status = Tenant.SyncStatus.OK
    tenant.sync_error = ""
    tenant.last_synced_at = now
    if full:
        tenant.last_full_sync_at = now
    else:
        tenant.last_incremental_sync_at = now
    # Only the sync's own columns, so a customer name saved meanwhile stays.
    tenant.save(
        update_fields=[
            *COUNTER_FIELDS,
            "sync_status",
            "sync_error",
            "last_synced_at",
            "last_full_sync_at",
            "last_incremental_sync_at",
            "endpoints_high_water",
            "alerts_high_water",
        ]
    )


def _mirror(
    model: type[Endpoint] | type[Alert],
    tenant: Tenant,
    rows: Iterator[_Row],
    started: dt.datetime,
    *,
    full: bool,
) -> dt.datetime | None:
    """Upsert rows in batches and return the newest high-water time among them.

    A full pass then deletes the tenant's rows it did not see. Rows stream
    batch by batch, so memory stays flat however many endpoints a tenant has.
    """
    newest: dt.datetime | None = None
    update_fields: list[str] | None = None
    while batch := list(islice(rows, BATCH_SIZE)):
        objects = []
        for row in batch:
            newest = _newest(newest, row.mark)
            objects.append(model(tenant=tenant, **row.fields))
        if update_fields is None:
            # An endpoint migrated from another tenant changes its tenant.
            update_fields = [f for f in batch[0].fields if f != "id"] + ["tenant"]
        model.objects.bulk_create(
            objects,  # type: ignore[arg-type]
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=update_fields,
        )
    if full:
        model.objects.filter(tenant=tenant, synced_at__lt=started).delete()
    return newest


def _named_alert_rows(tenant: Tenant, rows: Iterator[_Row]) -> Iterator[_Row]:
    """Name each alert's endpoint from the mirrored hostnames, a batch at a time.

    Alerts name their endpoint only by id (``managedAgent.id``). The
    endpoints are mirrored first, so one query a batch finds the hostnames.
    """
    while batch := list(islice(rows, BATCH_SIZE)):
        agent_ids = [_uuid_or_none(row.fields["managed_agent_id"]) for row in batch]
        hostnames = dict(
            Endpoint.objects.filter(
                tenant=tenant, pk__in={i for i in agent_ids if i is not None}
            ).values_list("id", "hostname")
        )
        for row, agent_id in zip(batch, agent_ids, strict=True):
            if agent_id in hostnames:
                row.fields["managed_agent_name"] = hostnames[agent_id]
            yield row


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _count(tenant: Tenant) -> None:
    """Set the tenant's counters from its mirrored rows, one query a model."""
    endpoint_counts = Endpoint.objects.filter(tenant=tenant).aggregate(
        endpoints_total=Count("pk"),
        tamper_off=Count("pk", filter=Q(tamper_protection_enabled=False)),
        **{
            f"endpoints_{state}": Count("pk", filter=Q(health=state))
            for state in HEALTH_STATES
        },
    )
    alert_counts = Alert.objects.filter(tenant=tenant).aggregate(
        **{
            f"alerts_{severity}": Count("pk", filter=Q(severity=severity))
            for severity in SEVERITIES
        }
    )
    for name, value in {**endpoint_counts, **alert_counts}.items():
        setattr(tenant, name, value)


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


def _endpoint_row(item: Mapping[str, Any], synced_at: dt.datetime) -> _Row:
    health = _text(item, "health", "overall") or "unknown"
    if health not in HEALTH_STATES:
        health = "unknown"
    tamper = item.get("tamperProtectionEnabled")
    isolation = item.get("isolation")
    isolated = ""
    if isinstance(isolation, Mapping):
        isolated = str(isolation.get("status") or "")
    last_seen = _parse_time(item.get("lastSeenAt"))
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
        "last_seen_at": last_seen,
        "synced_at": synced_at,
    }
    return _Row(fields=fields, mark=last_seen)


def _alert_row(item: Mapping[str, Any], synced_at: dt.datetime) -> _Row:
    raised = _parse_time(item.get("raisedAt"))
    fields = {
        "id": uuid.UUID(str(item["id"])),
        "severity": _text(item, "severity"),
        "category": _text(item, "category"),
        "product": _text(item, "product"),
        "type": _text(item, "type"),
        "description": _text(item, "description"),
        "allowed_actions": _strings(item.get("allowedActions")),
        "managed_agent_id": _text(item, "managedAgent", "id"),
        "managed_agent_name": _text(item, "managedAgent", "name"),
        "raised_at": raised or synced_at,
        "synced_at": synced_at,
    }
    return _Row(fields=fields, mark=raised)


def tenants_refresh_counters(tenants: Iterable[Tenant]) -> None:
    """Recount a tenant's alert counters from the mirror after a local change."""
    for tenant in tenants:
        for severity in SEVERITIES:
            count = tenant.alerts.filter(severity=severity).count()
            setattr(tenant, f"alerts_{severity}", count)
        tenant.save(update_fields=[f"alerts_{s}" for s in SEVERITIES])
