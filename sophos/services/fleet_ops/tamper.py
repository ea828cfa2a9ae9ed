"""The tamper protection board and the job that turns it back on per endpoint.

The board reads the mirror: each tenant's global tamper protection and each
endpoint's, with the time the sync first saw it off
(``sophos.services.mirror_items``). Global tamper protection cannot be
changed through the API, so the board links to Sophos Central for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sophos.models import Endpoint, Tenant
from sophos.services.endpoints import endpoint_tamper_protection_set
from sophos.services.fleet_ops.base import (
    BulkOperation,
    ItemContext,
    ItemResult,
    failed,
    plan_endpoints,
    register,
    skipped,
    succeeded,
    would,
)
from sophos.services.tenant_api import tenant_call

logger = logging.getLogger(__name__)

ENABLE = "tamper.enable"
# The Sophos Central page that turns global tamper protection on.
# NOTE/sophos-api: the path of the Central console page is taken from the
# console's navigation (Global settings, Tamper protection) and may change.
CENTRAL_TAMPER_SETTINGS_URL = (
    "https://central.sophos.com/manage/config/settings/tamper-protection"
)


@dataclass(frozen=True)
class TamperOffEndpoint:
    """An endpoint with tamper protection off, and since when by the mirror."""

    endpoint: Endpoint
    off_since: dt.datetime | None

    @property
    def off_for(self) -> dt.timedelta | None:
        if self.off_since is None:
            return None
        return timezone.now() - self.off_since


def tenants_global_tamper_off(*, tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    """Return the tenants whose global tamper protection the sync saw off."""
    return tenants.filter(global_tamper_protection_enabled=False).order_by(
        "global_tamper_protection_off_since", "name"
    )


def endpoints_tamper_off(
    *, tenants: QuerySet[Tenant], tenant_id: uuid.UUID | None = None
) -> list[TamperOffEndpoint]:
    """Return the endpoints with tamper protection off, longest off first."""
    endpoints = Endpoint.objects.filter(
        tenant__in=tenants, tamper_protection_enabled=False
    ).select_related("tenant")
    if tenant_id is not None:
        endpoints = endpoints.filter(tenant_id=tenant_id)
    ordered = endpoints.order_by(
        "tamper_protection_off_since", "tenant__name", "hostname"
    )
    return [
        TamperOffEndpoint(endpoint=e, off_since=e.tamper_protection_off_since)
        for e in ordered
    ]


def tamper_enable_parameters(
    *, endpoint_ids: Sequence[uuid.UUID | str]
) -> dict[str, Any]:
    return {"endpoint_ids": [str(pk) for pk in endpoint_ids]}


def _run_item(context: ItemContext) -> ItemResult:
    tenant = context.tenant
    if tenant is None:
        return failed("The endpoint belongs to no mirrored tenant.")
    endpoint_id = context.item.target
    hostname = str(context.item.data.get("hostname") or endpoint_id)

    data = tenant_call(
        tenant, "endpoint_get", path_params={"endpointId": endpoint_id}
    ).data
    enabled = data.get("tamperProtectionEnabled") if isinstance(data, Mapping) else None
    if enabled is True:
        _mirror_on(tenant, endpoint_id)
        return skipped("Already on.")
    if context.dry_run:
        return would(f"turn tamper protection on for {hostname}")

    state = endpoint_tamper_protection_set(
        user=context.user, tenant=tenant, endpoint_id=endpoint_id, enabled=True
    )
    if not state.enabled:
        return failed("Sophos Central still reports tamper protection off.")
    _mirror_on(tenant, endpoint_id)
    return succeeded("Tamper protection on.", stage="on")


def _mirror_on(tenant: Tenant, endpoint_id: str) -> None:
    Endpoint.objects.filter(tenant=tenant, pk=endpoint_id).update(
        tamper_protection_enabled=True,
        tamper_protection_off_since=None,
        tamper_protection_notified_at=None,
    )


register(
    BulkOperation(
        kind=ENABLE,
        title="Turn tamper protection on",
        plan=plan_endpoints,
        run_item=_run_item,
    )
)
