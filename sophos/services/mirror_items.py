"""Mirror what the tenant sync does not: allowed and blocked items, tamper state.

``tenant_extras_mirror`` runs at the end of each tenant's sync with the
sync's client. It replaces the tenant's mirrored allowed and blocked items
(for the cross-tenant SHA-256 search), reads the tenant's global tamper
protection setting, and sets when the mirror first saw tamper protection
off, for the tenant and for each endpoint (for the tamper protection board
and its check). A Sophos error in one part is logged and leaves that part
as it was, so it never fails the tenant's sync.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sophos.client import SophosClient, TenantTarget
from sophos.errors import SophosError
from sophos.models import AllowedBlockedItem, Endpoint, Tenant

logger = logging.getLogger(__name__)

ITEM_LISTS = {
    AllowedBlockedItem.Kind.ALLOWED: "allowed_items_list",
    AllowedBlockedItem.Kind.BLOCKED: "blocked_items_list",
}
# A hard cap on the items mirrored from one list of one tenant.
MAX_ITEMS_PER_LIST = 10_000


def tenant_extras_mirror(*, client: SophosClient, tenant: Tenant) -> None:
    """Mirror the tenant's allowed and blocked items and tamper protection state."""
    target = client.tenant_target(str(tenant.pk), tenant.api_host)
    now = timezone.now()
    for kind, operation in ITEM_LISTS.items():
        try:
            items = _list(client, target, operation)
        except SophosError as exc:
            logger.warning(
                "mirror %s of tenant %s failed: %s", operation, tenant.pk, exc
            )
            continue
        items_replace(tenant=tenant, kind=kind, items=items, synced_at=now)
    try:
        data = client.call("global_tamper_protection_get", tenant=target).data
    except SophosError as exc:
        logger.warning("global tamper protection of tenant %s: %s", tenant.pk, exc)
    else:
        enabled = data.get("enabled") if isinstance(data, Mapping) else None
        global_tamper_state_set(
            tenant=tenant, enabled=enabled if isinstance(enabled, bool) else None
        )
    endpoint_tamper_since_update(tenant=tenant, now=now)


def _list(
    client: SophosClient, target: TenantTarget, operation: str
) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = []
    for item in client.paginate(operation, tenant=target):
        if isinstance(item, Mapping) and item.get("id"):
            items.append(item)
        if len(items) >= MAX_ITEMS_PER_LIST:
            logger.warning(
                "%s: more than %s items, the rest are not mirrored",
                operation,
                MAX_ITEMS_PER_LIST,
            )
            break
    return items


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def items_replace(
    *,
    tenant: Tenant,
    kind: str,
    items: Iterable[Mapping[str, Any]],
    synced_at: dt.datetime,
) -> int:
    """Replace the tenant's mirrored items of ``kind`` with ``items`` (Sophos JSON).

    Returns the number of items mirrored.
    """
    rows = []
    for item in items:
        properties = item.get("properties")
        if not isinstance(properties, Mapping):
            properties = {}
        rows.append(
            AllowedBlockedItem(
                tenant=tenant,
                kind=kind,
                item_id=_text(item, "id"),
                type=_text(item, "type"),
                sha256=_text(properties, "sha256").lower(),
                path=_text(properties, "path"),
                file_name=_text(properties, "fileName"),
                certificate_signer=_text(properties, "certificateSigner"),
                comment=_text(item, "comment"),
                synced_at=synced_at,
            )
        )
    with transaction.atomic():
        AllowedBlockedItem.objects.filter(tenant=tenant, kind=kind).delete()
        AllowedBlockedItem.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def global_tamper_state_set(*, tenant: Tenant, enabled: bool | None) -> None:
    """Store the tenant's global tamper protection and when it was first off."""
    tenant.global_tamper_protection_enabled = enabled
    if enabled is False:
        if tenant.global_tamper_protection_off_since is None:
            tenant.global_tamper_protection_off_since = timezone.now()
    else:
        tenant.global_tamper_protection_off_since = None
        tenant.global_tamper_protection_notified_at = None
    tenant.save(
        update_fields=[
            "global_tamper_protection_enabled",
            "global_tamper_protection_off_since",
            "global_tamper_protection_notified_at",
        ]
    )


def endpoint_tamper_since_update(*, tenant: Tenant, now: dt.datetime) -> None:
    """Set when each endpoint was first seen with tamper protection off.

    An endpoint seen with it on again (or unknown) loses the time, so that
    turning it off later counts as newly off.
    """
    endpoints = Endpoint.objects.filter(tenant=tenant)
    endpoints.filter(
        tamper_protection_enabled=False, tamper_protection_off_since__isnull=True
    ).update(tamper_protection_off_since=now)
    endpoints.filter(
        ~Q(tamper_protection_enabled=False),
        Q(tamper_protection_off_since__isnull=False)
        | Q(tamper_protection_notified_at__isnull=False),
    ).update(tamper_protection_off_since=None, tamper_protection_notified_at=None)
