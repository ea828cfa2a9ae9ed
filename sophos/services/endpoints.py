"""One endpoint, read live, and the actions taken on it.

Reads go to Sophos Central, and every action is audited. An action that
changes a mirrored field (isolation status, tamper protection, the endpoint's
existence) also updates the mirror, so the endpoint list agrees at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from sophos.models import Endpoint, Tenant
from sophos.services.connections import client_for
from sophos.services.payloads import actor_from, mapping, strings, text, timestamp
from sophos.services.tenant_api import (
    User,
    audit_response,
    tenant_audit,
    tenant_call,
)

logger = logging.getLogger(__name__)

HEALTH_STATES = ("good", "suspicious", "bad", "unknown")


@dataclass(frozen=True)
class Actor:
    """The user or API credential that made a change in Sophos Central."""

    id: str
    name: str
    type: str
    account_type: str

    @property
    def label(self) -> str:
        return self.name or self.id or "Unknown"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    status: str


@dataclass(frozen=True)
class AssignedProduct:
    code: str
    version: str
    status: str


@dataclass(frozen=True)
class Isolation:
    """An endpoint's isolation state and who last changed it."""

    enabled: bool
    admin_isolated: bool
    self_isolated: bool
    comment: str = ""
    last_enabled_at: dt.datetime | None = None
    last_enabled_by: Actor | None = None
    last_disabled_at: dt.datetime | None = None
    last_disabled_by: Actor | None = None

    @property
    def status(self) -> str:
        return "isolated" if self.enabled else "notIsolated"


@dataclass(frozen=True)
class EndpointDetail:
    """One computer or server as Sophos Central reports it now."""

    id: str
    hostname: str
    type: str
    health: str
    threats_status: str
    services_status: str
    services: list[ServiceStatus]
    os_name: str
    os_platform: str
    os_version: str
    ipv4_addresses: list[str]
    ipv6_addresses: list[str]
    mac_addresses: list[str]
    associated_person_id: str
    associated_person_name: str
    associated_person_login: str
    group_id: str
    group_name: str
    assigned_products: list[AssignedProduct]
    tamper_protection_supported: bool | None
    tamper_protection_enabled: bool | None
    online: bool | None
    last_seen_at: dt.datetime | None
    serial_number: str
    lockdown_status: str
    encryption_status: str
    isolation: Isolation


@dataclass(frozen=True)
class ActionRequested:
    """A scan or update check that Sophos Central passed on to the endpoint."""

    id: str
    status: str
    requested_at: dt.datetime | None
    correlation_id: str = ""


@dataclass(frozen=True)
class TamperProtection:
    enabled: bool


@dataclass(frozen=True)
class TamperPassword:
    """A newly generated tamper protection password, shown once and never kept."""

    password: str = field(repr=False)


def endpoint_get(*, tenant: Tenant, endpoint_id: uuid.UUID | str) -> EndpointDetail:
    """Read one endpoint with its isolation details, live.

    Raises ``NotFound`` for an endpoint that Sophos Central does not know.
    """
    path = {"endpointId": str(endpoint_id)}
    with client_for(tenant.connection) as client:
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        data = client.call(
            "endpoint_get", tenant=target, path_params=path, params={"view": "full"}
        ).data
        isolation = client.call(
            "endpoint_isolation_get", tenant=target, path_params=path
        ).data
    return _endpoint_from(mapping(data), mapping(isolation))


def _endpoint_from(
    data: Mapping[str, Any], isolation: Mapping[str, Any]
) -> EndpointDetail:
    health = mapping(data.get("health"))
    services = mapping(health.get("services"))
    os = mapping(data.get("os"))
    person = mapping(data.get("associatedPerson"))
    group = mapping(data.get("group"))
    return EndpointDetail(
        id=text(data.get("id")),
        hostname=text(data.get("hostname")),
        type=text(data.get("type")),
        health=text(health.get("overall")) or "unknown",
        threats_status=text(mapping(health.get("threats")).get("status")),
        services_status=text(services.get("status")),
        services=[
            ServiceStatus(name=text(item.get("name")), status=text(item.get("status")))
            for item in map(mapping, services.get("serviceDetails") or [])
        ],
        os_name=text(os.get("name")),
        os_platform=text(os.get("platform")),
        os_version=_os_version(os),
        ipv4_addresses=strings(data.get("ipv4Addresses")),
        ipv6_addresses=strings(data.get("ipv6Addresses")),
        mac_addresses=strings(data.get("macAddresses")),
        associated_person_id=text(person.get("id")),
        associated_person_name=text(person.get("name")),
        associated_person_login=text(person.get("viaLogin")),
        group_id=text(group.get("id")),
        group_name=text(group.get("name")),
        assigned_products=[
            AssignedProduct(
                code=text(item.get("code")),
                version=text(item.get("version")),
                status=text(item.get("status")),
            )
            for item in map(mapping, data.get("assignedProducts") or [])
        ],
        tamper_protection_supported=_flag(data.get("tamperProtectionSupported")),
        tamper_protection_enabled=_flag(data.get("tamperProtectionEnabled")),
        online=_flag(data.get("online")),
        last_seen_at=timestamp(data.get("lastSeenAt")),
        serial_number=text(data.get("serialNumber")),
        lockdown_status=text(mapping(data.get("lockdown")).get("status")),
        encryption_status=text(mapping(data.get("encryption")).get("overallStatus")),
        isolation=_isolation_from(isolation, mapping(data.get("isolation"))),
    )


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _os_version(os: Mapping[str, Any]) -> str:
    parts = [os.get(name) for name in ("majorVersion", "minorVersion", "build")]
    if all(part is None for part in parts):
        return ""
    return ".".join(str(part) for part in parts if part is not None)


def _isolation_from(
    settings: Mapping[str, Any], summary: Mapping[str, Any] | None = None
) -> Isolation:
    """Combine the isolation settings with the endpoint's isolation summary."""
    summary = summary or {}
    enabled = settings.get("enabled")
    if not isinstance(enabled, bool):
        enabled = summary.get("status") == "isolated"
    return Isolation(
        enabled=enabled,
        admin_isolated=bool(summary.get("adminIsolated", enabled)),
        self_isolated=bool(summary.get("selfIsolated", False)),
        comment=text(settings.get("comment")),
        last_enabled_at=timestamp(settings.get("lastEnabledAt")),
        last_enabled_by=_actor(settings.get("lastEnabledBy")),
        last_disabled_at=timestamp(settings.get("lastDisabledAt")),
        last_disabled_by=_actor(settings.get("lastDisabledBy")),
    )


def _actor(value: Any) -> Actor | None:
    fields = actor_from(value)
    return Actor(**fields) if fields else None


def _isolation_set(
    *, user: User, tenant: Tenant, endpoint_id: str, enabled: bool, comment: str
) -> Isolation:
    body = {"enabled": enabled, "comment": comment}
    with tenant_audit(
        user,
        tenant,
        "endpoint_isolation_update",
        endpoint_id=endpoint_id,
        enabled=enabled,
        comment=comment,
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_isolation_update",
            path_params={"endpointId": endpoint_id},
            json=body,
        )
        audit_response(audit, response)

    isolation = _isolation_from(mapping(response.data))
    if isolation.enabled != enabled:
        # NOTE/sophos-api: a reply that still shows the old state is taken as
        # a change in progress; the mirror follows the request.
        isolation = _isolation_from({**mapping(response.data), "enabled": enabled})
    Endpoint.objects.filter(tenant=tenant, pk=endpoint_id).update(
        isolation_status=isolation.status
    )
    logger.info(
        "endpoint %s tenant %s isolation %s by %s",
        endpoint_id,
        tenant.pk,
        "on" if enabled else "off",
        getattr(user, "pk", None),
    )
    return isolation


def endpoint_isolate(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str, comment: str
) -> Isolation:
    """Isolate one endpoint from the network, with the reason as comment.

    Raises ``Conflict`` while an earlier isolation change is in progress and
    ``BadRequest`` when the endpoint is already isolated.
    """
    return _isolation_set(
        user=user,
        tenant=tenant,
        endpoint_id=str(endpoint_id),
        enabled=True,
        comment=comment,
    )


def endpoint_release(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str, comment: str
) -> Isolation:
    """Release one endpoint from isolation, with the reason as comment."""
    return _isolation_set(
        user=user,
        tenant=tenant,
        endpoint_id=str(endpoint_id),
        enabled=False,
        comment=comment,
    )


def _action_start(
    *, user: User, tenant: Tenant, endpoint_id: str, operation: str
) -> ActionRequested:
    with tenant_audit(user, tenant, operation, endpoint_id=endpoint_id) as audit:
        response = tenant_call(
            tenant, operation, path_params={"endpointId": endpoint_id}
        )
        audit_response(audit, response)
    data = mapping(response.data)
    return ActionRequested(
        id=text(data.get("id")),
        status=text(data.get("status")) or "requested",
        requested_at=timestamp(data.get("requestedAt")),
        correlation_id=response.correlation_id,
    )


def endpoint_scan_start(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str
) -> ActionRequested:
    """Ask the endpoint to start a scan now."""
    return _action_start(
        user=user,
        tenant=tenant,
        endpoint_id=str(endpoint_id),
        operation="endpoint_scan_start",
    )


def endpoint_update_check_start(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str
) -> ActionRequested:
    """Ask the endpoint to check for Sophos software updates now."""
    return _action_start(
        user=user,
        tenant=tenant,
        endpoint_id=str(endpoint_id),
        operation="endpoint_update_check_start",
    )


def endpoint_tamper_protection_set(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str, enabled: bool
) -> TamperProtection:
    """Turn tamper protection on or off for one endpoint.

    Sophos Central turns it on only where it is also on for the tenant as a
    whole, and rejects the request otherwise.
    """
    endpoint = str(endpoint_id)
    with tenant_audit(
        user,
        tenant,
        "endpoint_tamper_protection_update",
        endpoint_id=endpoint,
        enabled=enabled,
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_tamper_protection_update",
            path_params={"endpointId": endpoint},
            json={"enabled": enabled},
        )
        audit_response(audit, response)

    reported = mapping(response.data).get("enabled")
    state = reported if isinstance(reported, bool) else enabled
    with transaction.atomic():
        Endpoint.objects.filter(tenant=tenant, pk=endpoint).update(
            tamper_protection_enabled=state
        )
        tenant_endpoint_counters_refresh(tenant)
    return TamperProtection(enabled=state)


def endpoint_tamper_password_regenerate(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str
) -> TamperPassword:
    """Generate a new tamper protection password and return it once.

    The password is neither logged nor audited: the audit entry records only
    that a new one was generated.
    """
    endpoint = str(endpoint_id)
    with tenant_audit(
        user,
        tenant,
        "endpoint_tamper_protection_update",
        endpoint_id=endpoint,
        change="new tamper protection password generated",
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_tamper_protection_update",
            path_params={"endpointId": endpoint},
            json={"regeneratePassword": True},
        )
        audit_response(audit, response)
    return TamperPassword(password=text(mapping(response.data).get("password")))


def endpoint_delete(
    *, user: User, tenant: Tenant, endpoint_id: uuid.UUID | str
) -> None:
    """Delete an endpoint from the tenant and from the mirror.

    The endpoint comes back only when Sophos software is installed on it again.
    """
    endpoint = str(endpoint_id)
    with tenant_audit(user, tenant, "endpoint_delete", endpoint_id=endpoint) as audit:
        response = tenant_call(
            tenant, "endpoint_delete", path_params={"endpointId": endpoint}
        )
        audit_response(audit, response)
    with transaction.atomic():
        Endpoint.objects.filter(tenant=tenant, pk=endpoint).delete()
        tenant_endpoint_counters_refresh(tenant)
    logger.info(
        "endpoint %s tenant %s deleted by %s",
        endpoint,
        tenant.pk,
        getattr(user, "pk", None),
    )


def tenant_endpoint_counters_refresh(tenant: Tenant) -> None:
    """Recount the tenant's endpoint counters from the mirror after a change."""
    endpoints = Endpoint.objects.filter(tenant=tenant)
    for state in HEALTH_STATES:
        setattr(tenant, f"endpoints_{state}", endpoints.filter(health=state).count())
    tenant.endpoints_total = endpoints.count()
    tenant.tamper_off = endpoints.filter(tamper_protection_enabled=False).count()
    tenant.save(
        update_fields=[
            "endpoints_total",
            "tamper_off",
            *(f"endpoints_{state}" for state in HEALTH_STATES),
        ]
    )
