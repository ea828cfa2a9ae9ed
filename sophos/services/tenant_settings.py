"""Tenant-wide endpoint settings: peripherals, event journal, tamper protection.

Global tamper protection is read-only: the API reads whether it is on, and
it is changed in Sophos Central's global settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sophos.models import Tenant
from sophos.services.labels import code_label
from sophos.services.payloads import timestamp
from sophos.services.resources import (
    Listing,
    User,
    flag,
    number,
    resource_get,
    resource_list,
    resource_update,
    section,
    text,
)

logger = logging.getLogger(__name__)

# NOTE/sophos-api: the event journal endpoint types are assumed to be the
# endpoint types, computer and server; Sophos documents no list.
EVENT_JOURNAL_ENDPOINT_TYPES = {"computer": "Computers", "server": "Servers"}
# NOTE/sophos-api: "wireless" is the only peripheral type in Sophos's
# examples; the others follow Sophos Central's peripheral control policy.
PERIPHERAL_TYPES = {
    "bluetooth": "Bluetooth",
    "floppyDrive": "Floppy drive",
    "infrared": "Infrared",
    "modem": "Modem",
    "mtp": "MTP/PTP",
    "opticalDrive": "Optical drive",
    "removableStorage": "Removable storage",
    "wireless": "Wireless",
}


@dataclass(frozen=True)
class Peripheral:
    id: str
    type: str
    category: str
    model: str
    model_id: str
    instance_id: str
    last_endpoint_hostname: str
    last_used_by: str
    last_action: str
    first_seen_at: dt.datetime | None
    last_seen_at: dt.datetime | None

    @property
    def type_label(self) -> str:
        return PERIPHERAL_TYPES.get(self.type) or code_label(self.type)


@dataclass(frozen=True)
class EventJournalSettings:
    endpoint_type: str
    use_recommended: bool
    disk_limit_mb: int | None
    disk_limit_mb_recommended: int | None
    disk_limit_percent: int | None
    disk_limit_percent_recommended: int | None


@dataclass(frozen=True)
class GlobalTamperProtection:
    enabled: bool | None


def parse_peripheral(data: Mapping[str, Any]) -> Peripheral:
    return Peripheral(
        id=text(data, "id"),
        type=text(data, "type"),
        category=text(data, "category"),
        model=text(data, "model"),
        model_id=text(data, "modelId"),
        instance_id=text(data, "instanceId"),
        last_endpoint_hostname=text(data, "lastEndpointHostname"),
        last_used_by=text(data, "lastUsedBy"),
        last_action=text(data, "lastActionTaken"),
        first_seen_at=timestamp(data.get("firstSeenAt")),
        last_seen_at=timestamp(data.get("lastSeenAt")),
    )


def _limit(data: Mapping[str, Any], key: str) -> tuple[int | None, int | None]:
    """Return a limit's value and recommended value.

    NOTE/sophos-api: Sophos sends ``{"value", "recommendedValue"}``; a bare
    number is read as the value.
    """
    if isinstance(data.get(key), Mapping):
        limit = section(data, key)
        return number(limit, "value"), number(limit, "recommendedValue")
    return number(data, key), None


def _journal_parser(
    endpoint_type: str,
) -> Callable[[Mapping[str, Any]], EventJournalSettings]:
    def parse(data: Mapping[str, Any]) -> EventJournalSettings:
        megabytes, megabytes_recommended = _limit(data, "diskSpaceLimitInMB")
        percent, percent_recommended = _limit(data, "diskSpaceLimitAsPercentage")
        return EventJournalSettings(
            endpoint_type=endpoint_type,
            use_recommended=bool(flag(data, "useRecommended")),
            disk_limit_mb=megabytes,
            disk_limit_mb_recommended=megabytes_recommended,
            disk_limit_percent=percent,
            disk_limit_percent_recommended=percent_recommended,
        )

    return parse


def _check_endpoint_type(endpoint_type: str) -> None:
    if endpoint_type not in EVENT_JOURNAL_ENDPOINT_TYPES:
        raise ValueError(
            f"Endpoint type {endpoint_type!r} is invalid: use computer or server."
        )


# Peripherals


def peripherals_list(
    *, tenant: Tenant, types: Iterable[str] = ()
) -> Listing[Peripheral]:
    """Read the peripherals seen on the tenant's endpoints."""
    chosen = [str(item) for item in types]
    return resource_list(
        tenant=tenant,
        operation="peripherals_list",
        parse=parse_peripheral,
        params={"type": chosen} if chosen else None,
    )


def peripheral_get(*, tenant: Tenant, peripheral_id: str) -> Peripheral:
    return resource_get(
        tenant=tenant,
        operation="peripheral_get",
        parse=parse_peripheral,
        path_params={"peripheralId": peripheral_id},
    )


# Event journal


def event_journal_settings_get(
    *, tenant: Tenant, endpoint_type: str
) -> EventJournalSettings:
    """Read the event journal disk limits of one endpoint type."""
    _check_endpoint_type(endpoint_type)
    return resource_get(
        tenant=tenant,
        operation="event_journal_settings_get",
        parse=_journal_parser(endpoint_type),
        path_params={"endpointType": endpoint_type},
    )


def event_journal_settings_update(
    *,
    user: User,
    tenant: Tenant,
    endpoint_type: str,
    use_recommended: bool,
    disk_limit_mb: int | None = None,
    disk_limit_percent: int | None = None,
) -> EventJournalSettings:
    """Change the event journal disk limits; the lower of two limits applies.

    With ``use_recommended`` the limits are not sent, because Sophos applies
    its recommended values.
    """
    _check_endpoint_type(endpoint_type)
    body: dict[str, Any] = {"useRecommended": use_recommended}
    if not use_recommended:
        if disk_limit_mb is None and disk_limit_percent is None:
            raise ValueError(
                "Give a disk space limit in MB or as a percentage, "
                "or use the recommended limits."
            )
        if disk_limit_mb is not None:
            body["diskSpaceLimitInMB"] = disk_limit_mb
        if disk_limit_percent is not None:
            body["diskSpaceLimitAsPercentage"] = disk_limit_percent
    return resource_update(
        user=user,
        tenant=tenant,
        operation="event_journal_settings_update",
        path_params={"endpointType": endpoint_type},
        body=body,
        parse=_journal_parser(endpoint_type),
    )


# Global tamper protection


def global_tamper_protection_get(*, tenant: Tenant) -> GlobalTamperProtection:
    """Read whether tamper protection is on for the whole tenant."""
    return resource_get(
        tenant=tenant,
        operation="global_tamper_protection_get",
        parse=lambda data: GlobalTamperProtection(enabled=flag(data, "enabled")),
    )
