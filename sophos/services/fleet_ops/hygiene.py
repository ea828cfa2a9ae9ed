"""Stale and duplicate endpoints across tenants, and the job that deletes them.

Both lists read the mirror. A stale endpoint has not been seen for a number
of days. A duplicate shares its hostname (ignoring case) with another
endpoint of the same tenant, usually because a reinstalled computer left its
old record behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from sophos.models import Endpoint, Tenant
from sophos.services.endpoints import endpoint_delete
from sophos.services.fleet_ops.base import (
    BulkOperation,
    ItemContext,
    ItemResult,
    PlanRequest,
    failed,
    plan_endpoints,
    register,
    succeeded,
    would,
)
from sophos.services.jobs import ItemSpec
from sophos.services.tenant_api import tenant_call

logger = logging.getLogger(__name__)

DELETE = "hygiene.delete"
# The maximum number of endpoints a preview lists.
PREVIEW_LIMIT = 1000


@dataclass(frozen=True)
class DuplicateGroup:
    """Endpoints of one tenant that share a hostname, newest seen first."""

    tenant: Tenant
    hostname: str
    endpoints: list[Endpoint]

    @property
    def older(self) -> list[Endpoint]:
        """Every endpoint but the one seen last, the usual ones to delete."""
        return self.endpoints[1:]


def endpoints_stale(
    *, tenants: QuerySet[Tenant], days: int, limit: int = PREVIEW_LIMIT
) -> list[Endpoint]:
    """Return endpoints not seen for ``days`` days (or never), oldest first."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    endpoints = (
        Endpoint.objects.filter(tenant__in=tenants)
        .filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True))
        .select_related("tenant")
        .order_by("last_seen_at", "tenant__name", "hostname")
    )
    return list(endpoints[:limit])


def endpoints_duplicate(
    *, tenants: QuerySet[Tenant], limit: int = PREVIEW_LIMIT
) -> list[DuplicateGroup]:
    """Return groups of a tenant's endpoints with the same hostname."""
    keys = (
        Endpoint.objects.filter(tenant__in=tenants)
        .annotate(name=Lower("hostname"))
        .values("tenant_id", "name")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .order_by("tenant_id", "name")
    )
    groups: list[DuplicateGroup] = []
    listed = 0
    for key in keys:
        if listed >= limit:
            break
        endpoints = list(
            Endpoint.objects.filter(
                tenant_id=key["tenant_id"], hostname__iexact=key["name"]
            )
            .select_related("tenant")
            .order_by("-last_seen_at", "id")
        )
        listed += len(endpoints)
        groups.append(
            DuplicateGroup(
                tenant=endpoints[0].tenant,
                hostname=endpoints[0].hostname,
                endpoints=endpoints,
            )
        )
    groups.sort(key=lambda group: (group.tenant.name, group.hostname.lower()))
    return groups


def delete_parameters(
    *, endpoint_ids: Sequence[uuid.UUID | str], reason: str
) -> dict[str, Any]:
    return {"endpoint_ids": [str(pk) for pk in endpoint_ids], "reason": reason}


def _plan(request: PlanRequest) -> Iterable[ItemSpec]:
    return plan_endpoints(request, extra=_last_seen)


def _last_seen(endpoint: Endpoint) -> dict[str, Any]:
    last_seen = endpoint.last_seen_at
    return {"last_seen_at": last_seen.isoformat() if last_seen else None}


def _run_item(context: ItemContext) -> ItemResult:
    tenant = context.tenant
    if tenant is None:
        return failed("The endpoint belongs to no mirrored tenant.")
    endpoint_id = context.item.target
    hostname = str(context.item.data.get("hostname") or endpoint_id)
    if context.dry_run:
        # A read, so that the dry run reports an endpoint Sophos no longer has.
        tenant_call(tenant, "endpoint_get", path_params={"endpointId": endpoint_id})
        return would(f"delete {hostname}")
    endpoint_delete(user=context.user, tenant=tenant, endpoint_id=endpoint_id)
    return succeeded("Deleted.", stage="deleted")


register(
    BulkOperation(
        kind=DELETE,
        title="Delete endpoints",
        plan=_plan,
        run_item=_run_item,
    )
)
