"""Endpoint migrations: moving endpoints from one tenant to another.

Sophos Central needs two calls on two tenants. The receiving tenant creates a
migration job naming the sending tenant and the endpoints, and gets a token.
The sending tenant then starts the job with that token and the endpoints it
lets go. Both tenants list the job under the same id, in mode ``receiving``
or ``sending``. A move run from the portal is a job with one item per
endpoint, which follows each endpoint's migration status for a while.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_q.tasks import async_task

from sophos import client as sophos_client
from sophos.errors import SophosError
from sophos.models import Endpoint, Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services.labels import code_label
from sophos.services.payloads import timestamp
from sophos.services.resources import (
    Listing,
    User,
    resource_create,
    resource_get,
    resource_list,
    resource_update,
    section,
    text,
)

logger = logging.getLogger(__name__)

MIGRATION_JOB_KIND = "endpoint_migration"
MODES = {"receiving": "Receiving", "sending": "Sending"}
# NOTE/sophos-api: only "pending" is documented for an endpoint's migration
# status; the final values below are assumed, and any other value counts as
# still in progress.
SUCCEEDED_STATUSES = {"succeeded", "success", "completed", "complete", "migrated"}
FAILED_STATUSES = {"failed", "error", "cancelled", "expired"}
# How long a migration job follows the endpoint statuses after the start:
# this many reads, POLL_SECONDS apart. Endpoints still in progress then are
# reported as skipped (not confirmed), and their page shows the live status.
POLL_ATTEMPTS = 20
POLL_SECONDS = 15.0


@dataclass(frozen=True)
class Migration:
    id: str
    mode: str
    # The other tenant of the job, when Sophos names it.
    from_tenant_id: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    # The token the sending tenant needs; only the receiving side reads it.
    token: str = ""

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode) or code_label(self.mode)


@dataclass(frozen=True)
class MigrationEndpoint:
    id: str
    status: str
    # The hostname from the portal's mirror, "" for an endpoint not mirrored.
    hostname: str = ""

    @property
    def finished(self) -> bool:
        return self.status in SUCCEEDED_STATUSES | FAILED_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


def parse_migration(data: Mapping[str, Any]) -> Migration:
    return Migration(
        id=text(data, "id"),
        mode=text(data, "mode"),
        from_tenant_id=text(section(data, "fromTenant"), "id"),
        created_at=timestamp(data.get("createdAt")),
        expires_at=timestamp(data.get("expiresAt")),
        token=text(data, "token"),
    )


def parse_endpoint(data: Mapping[str, Any]) -> MigrationEndpoint:
    return MigrationEndpoint(id=text(data, "id"), status=text(data, "status"))


def _check_mode(mode: str) -> None:
    if mode and mode not in MODES:
        raise ValueError(f"Mode {mode!r} is invalid: use sending or receiving.")


def _endpoint_list(endpoint_ids: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(endpoint_id) for endpoint_id in endpoint_ids))
    if not chosen:
        raise ValueError("Choose at least one endpoint to move.")
    return chosen


def migrations_list(*, tenant: Tenant, mode: str = "") -> Listing[Migration]:
    """Read the tenant's migration jobs, optionally of one mode."""
    _check_mode(mode)
    return resource_list(
        tenant=tenant,
        operation="migrations_list",
        parse=parse_migration,
        params={"mode": mode} if mode else None,
    )


def migration_get(*, tenant: Tenant, migration_id: str) -> Migration:
    return resource_get(
        tenant=tenant,
        operation="migration_get",
        parse=parse_migration,
        path_params={"migrationJobId": migration_id},
    )


def migration_endpoints_list(
    *, tenant: Tenant, migration_id: str
) -> Listing[MigrationEndpoint]:
    """Read each endpoint's migration status, named from the mirror."""
    listing = resource_list(
        tenant=tenant,
        operation="migration_endpoints_list",
        parse=parse_endpoint,
        path_params={"migrationJobId": migration_id},
    )
    names = _hostnames(item.id for item in listing.items)
    items = [
        MigrationEndpoint(
            id=item.id, status=item.status, hostname=names.get(item.id, "")
        )
        for item in listing.items
    ]
    return Listing(items=items, truncated=listing.truncated)


def _hostnames(endpoint_ids: Iterable[str]) -> dict[str, str]:
    keys = []
    for endpoint_id in endpoint_ids:
        try:
            keys.append(uuid.UUID(endpoint_id))
        except ValueError:
            continue
    rows = Endpoint.objects.filter(pk__in=keys).values_list("pk", "hostname")
    return {str(pk): hostname for pk, hostname in rows}


def migration_create(
    *,
    user: User,
    receiving_tenant: Tenant,
    sending_tenant_id: str,
    endpoint_ids: Iterable[str],
) -> Migration:
    """Prepare the receiving tenant; the reply carries the sending side's token."""
    body = {
        "fromTenant": str(sending_tenant_id),
        "endpoints": _endpoint_list(endpoint_ids),
    }
    migration = resource_create(
        user=user,
        tenant=receiving_tenant,
        operation="migration_create",
        body=body,
        parse=parse_migration,
    )
    logger.info(
        "migration %s created in tenant %s from tenant %s",
        migration.id,
        receiving_tenant.pk,
        sending_tenant_id,
    )
    return migration


def migration_start(
    *,
    user: User,
    sending_tenant: Tenant,
    migration_id: str,
    token: str,
    endpoint_ids: Iterable[str],
) -> Migration:
    """Start sending the endpoints, with the token of the receiving job."""
    if not token.strip():
        raise ValueError("The migration token is missing: copy it from the job.")
    return resource_update(
        user=user,
        tenant=sending_tenant,
        operation="migration_start",
        path_params={"migrationJobId": migration_id},
        body={"token": token.strip(), "endpoints": _endpoint_list(endpoint_ids)},
        parse=parse_migration,
    )


# The migration job


def migration_job_start(
    *,
    user: User,
    sending_tenant: Tenant,
    receiving_tenant: Tenant,
    endpoint_ids: Iterable[str],
) -> Job:
    """Queue a move of endpoints between two tenants as a job."""
    if sending_tenant.pk == receiving_tenant.pk:
        raise ValueError("Choose a receiving tenant other than the sending one.")
    chosen = _endpoint_list(endpoint_ids)
    names = _hostnames(chosen)
    title = (
        f"Move {len(chosen)} endpoint(s) from {sending_tenant.display_name} "
        f"to {receiving_tenant.display_name}"
    )
    job = jobs.job_create(
        kind=MIGRATION_JOB_KIND,
        title=title,
        user=user,
        items=[
            jobs.ItemSpec(
                target=endpoint_id,
                label=names.get(endpoint_id, endpoint_id),
                tenant_id=sending_tenant.pk,
            )
            for endpoint_id in chosen
        ],
        parameters={
            "sending_tenant_id": str(sending_tenant.pk),
            "receiving_tenant_id": str(receiving_tenant.pk),
        },
    )
    transaction.on_commit(
        lambda: async_task(
            "sophos.tasks_tenant_actions.migration_job_run_task",
            job.pk,
            task_name=title,
        )
    )
    return job


def migration_job_run(*, job_id: int) -> Job:
    """Create the receiving job, start it on the sending tenant, follow it."""
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    sending = Tenant.objects.get(pk=job.parameters["sending_tenant_id"])
    receiving = Tenant.objects.get(pk=job.parameters["receiving_tenant_id"])
    if not jobs.job_start(job=job):
        # Cancelled before it ran, or started by an earlier delivery.
        logger.warning("migration job %s is %s, so it is not run", job.pk, job.status)
        return jobs.job_finish_when_done(job_id=job.pk) or job
    items = {item.target: item for item in job.items.order_by("pk")}
    for item in items.values():
        jobs.job_item_start(item=item)

    try:
        migration = migration_create(
            user=job.requested_by,
            receiving_tenant=receiving,
            sending_tenant_id=str(sending.pk),
            endpoint_ids=items,
        )
        migration_start(
            user=job.requested_by,
            sending_tenant=sending,
            migration_id=migration.id,
            token=migration.token,
            endpoint_ids=items,
        )
    except (SophosError, ValueError) as exc:
        logger.warning("migration job %s could not start: %s", job.pk, exc)
        for item in items.values():
            jobs.job_item_fail(item=item, error=exc)
        return jobs.job_finish(job=job)

    job.parameters = {**job.parameters, "migration_id": migration.id}
    job.save(update_fields=["parameters"])
    _follow(job, sending, migration.id, items)
    return jobs.job_finish(job=job)


def _follow(
    job: Job, sending: Tenant, migration_id: str, items: dict[str, JobItem]
) -> None:
    """Close each item once its endpoint's status is final, or after the polls."""
    open_items = dict(items)
    for attempt in range(POLL_ATTEMPTS):
        if attempt:
            sophos_client.pause(POLL_SECONDS)
        try:
            statuses = migration_endpoints_list(
                tenant=sending, migration_id=migration_id
            ).items
        except SophosError as exc:
            logger.warning(
                "migration %s status read failed, retrying: %s", migration_id, exc
            )
            continue
        for endpoint in statuses:
            item = open_items.get(endpoint.id)
            if item is None or not endpoint.finished:
                continue
            del open_items[endpoint.id]
            if endpoint.failed:
                jobs.job_item_fail(
                    item=item,
                    error=RuntimeError(
                        f"Sophos Central reports the migration {endpoint.status}."
                    ),
                )
            else:
                jobs.job_item_succeed(item=item, message=f"Moved ({endpoint.status}).")
        if not open_items:
            return
    for item in open_items.values():
        # Not confirmed within the polling time, so not reported as moved.
        jobs.job_item_skip(
            item=item,
            message=(
                "Not confirmed yet: Sophos Central still moves it. "
                "The migration page shows its live status."
            ),
        )
