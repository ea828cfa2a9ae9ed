"""Isolate or release endpoints of many tenants, a tenant at a time.

For each tenant, ``_prepare_tenant`` reads every chosen endpoint's isolation
state, ends the ones already in the requested state as skipped, and sends
the rest in one bulk request (``endpoints_isolation_update``, which Sophos
accepts with 202). ``_run_item`` then reads each sent endpoint again until it
reports the requested state. An item thus moves through queued, sent and
isolated (or released), or ends failed with Sophos's reason.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from sophos import client as sophos_client
from sophos.client import SophosClient, TenantTarget
from sophos.errors import CredentialsRejected, Forbidden, SophosError
from sophos.models import Endpoint, JobItem, Tenant
from sophos.services import jobs
from sophos.services.audit import audited
from sophos.services.connections import client_for
from sophos.services.exclusions import NetworkExclusion, isolation_exclusions_list
from sophos.services.fleet_ops.base import (
    BulkOperation,
    ItemContext,
    ItemResult,
    TenantContext,
    failed,
    item_end,
    plan_endpoints,
    register,
    skipped,
    succeeded,
    would,
)

logger = logging.getLogger(__name__)

ISOLATE = "isolation.isolate"
RELEASE = "isolation.release"
# Endpoints in one bulk request.
# NOTE/sophos-api: Sophos documents no maximum number of ids per request;
# 100 is an estimate that keeps each request small.
BULK_SIZE = 100
# Reads of a sent endpoint's state before the item fails as unconfirmed.
# NOTE/sophos-api: how long Sophos takes to report a new isolation state is
# not documented; the simulator reports it at once.
CONFIRM_ATTEMPTS = 4
CONFIRM_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class _Change:
    enabled: bool
    verb: str
    state: str
    stage: str


_CHANGES = {
    ISOLATE: _Change(enabled=True, verb="isolate", state="isolated", stage="isolated"),
    RELEASE: _Change(
        enabled=False, verb="release", state="not isolated", stage="released"
    ),
}


def isolation_start_parameters(
    *, endpoint_ids: Sequence[uuid.UUID | str], reason: str
) -> dict[str, Any]:
    """Return the job parameters of an isolation or release request."""
    return {"endpoint_ids": [str(pk) for pk in endpoint_ids], "reason": reason}


def _hostname(item: JobItem) -> str:
    return str(item.data.get("hostname") or item.target)


def _isolated(client: SophosClient, target: TenantTarget, endpoint_id: str) -> bool:
    data = client.call(
        "endpoint_isolation_get", tenant=target, path_params={"endpointId": endpoint_id}
    ).data
    enabled = data.get("enabled") if isinstance(data, Mapping) else None
    return enabled is True


def _mirror_state(tenant: Tenant, endpoint_ids: Iterable[str], enabled: bool) -> None:
    Endpoint.objects.filter(tenant=tenant, pk__in=list(endpoint_ids)).update(
        isolation_status="isolated" if enabled else "notIsolated"
    )


def _prepare_tenant(context: TenantContext) -> None:
    change = _CHANGES[context.job.kind]
    tenant = context.tenant
    with client_for(tenant.connection) as client:
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        to_send = _check_states(context, change, client, target)
        for start in range(0, len(to_send), BULK_SIZE):
            if jobs.job_cancelled(job_id=context.job.pk):
                return
            _send(context, change, client, target, to_send[start : start + BULK_SIZE])


def _check_states(
    context: TenantContext,
    change: _Change,
    client: SophosClient,
    target: TenantTarget,
) -> list[JobItem]:
    """End the items that need no change and return the ones to send."""
    to_send: list[JobItem] = []
    for item in context.items:
        if jobs.job_cancelled(job_id=context.job.pk):
            break
        try:
            current = _isolated(client, target, item.target)
        except (Forbidden, CredentialsRejected):
            # The whole tenant is out of reach: every item fails alike.
            raise
        except SophosError as exc:
            jobs.job_item_fail(item=item, error=exc)
            continue
        if current == change.enabled:
            _mirror_state(context.tenant, [item.target], current)
            item_end(item=item, result=skipped(f"Already {change.state}."))
        elif context.dry_run:
            item_end(item=item, result=would(f"{change.verb} {_hostname(item)}"))
        else:
            to_send.append(item)
    return to_send


def _send(
    context: TenantContext,
    change: _Change,
    client: SophosClient,
    target: TenantTarget,
    items: list[JobItem],
) -> None:
    ids = [item.target for item in items]
    body = {
        "enabled": change.enabled,
        "ids": ids,
        "comment": str(context.parameters.get("reason") or ""),
    }
    tenant = context.tenant
    try:
        with audited(
            user=context.user,
            operation="endpoints_isolation_update",
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters=body,
            job=context.job,
        ) as audit:
            response = client.call(
                "endpoints_isolation_update", tenant=target, json=body
            )
            audit.status_code = response.status
            audit.correlation_id = response.correlation_id
    except SophosError as exc:
        logger.warning(
            "bulk %s of %s endpoints of tenant %s failed: %s",
            change.verb,
            len(ids),
            tenant.pk,
            exc,
        )
        for item in items:
            jobs.job_item_fail(item=item, error=exc)
        return
    message = f"Sent to Sophos Central ({response.status}); confirming."
    for item in items:
        jobs.job_item_progress(item=item, stage="sent", message=message)


def _run_item(context: ItemContext) -> ItemResult:
    change = _CHANGES[context.job.kind]
    tenant = context.tenant
    if tenant is None or context.item.stage != "sent":
        return failed("The request for this endpoint was not sent.")
    with client_for(tenant.connection) as client:
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        for attempt in range(CONFIRM_ATTEMPTS):
            if _isolated(client, target, context.item.target) == change.enabled:
                _mirror_state(tenant, [context.item.target], change.enabled)
                label = change.stage.capitalize()
                return succeeded(f"{label}.", stage=change.stage)
            if attempt + 1 < CONFIRM_ATTEMPTS:
                sophos_client.pause(CONFIRM_PAUSE_SECONDS)
    return failed(
        f"Sophos Central accepted the request, but the endpoint is still not "
        f"{change.state} after {CONFIRM_ATTEMPTS} checks."
    )


@dataclass(frozen=True)
class TenantExclusions:
    """One tenant's isolation exclusions, or the error that hid them."""

    tenant: Tenant
    exclusions: list[NetworkExclusion]
    error: SophosError | None = None


def isolation_exclusions_preview(
    *, tenants: QuerySet[Tenant] | Iterable[Tenant]
) -> list[TenantExclusions]:
    """Read each tenant's isolation exclusions live, which isolation leaves open."""
    previews = []
    for tenant in tenants:
        try:
            listing = isolation_exclusions_list(tenant=tenant)
        except SophosError as exc:
            logger.warning("isolation exclusions of tenant %s: %s", tenant.pk, exc)
            previews.append(TenantExclusions(tenant=tenant, exclusions=[], error=exc))
            continue
        previews.append(TenantExclusions(tenant=tenant, exclusions=listing.items))
    return previews


for _kind, _change in _CHANGES.items():
    register(
        BulkOperation(
            kind=_kind,
            title=f"{_change.verb.capitalize()} endpoints",
            plan=plan_endpoints,
            run_item=_run_item,
            prepare_tenant=_prepare_tenant,
        )
    )
