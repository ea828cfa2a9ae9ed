"""Calls to one tenant's Sophos Central API, for the per-tenant services.

Each function builds the client from the tenant's connection, sends one
catalog operation to the tenant's API host with ``X-Tenant-ID`` and closes
the client again.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sophos.client import ApiResponse
from sophos.models import Tenant
from sophos.services.audit import AuditContext, audited
from sophos.services.connections import client_for

User = AbstractBaseUser | AnonymousUser | None

# A hard cap on the items read from one live listing for a page, so that a
# huge collection cannot hold a request for minutes.
MAX_LISTED_ITEMS = 5_000


def tenant_call(
    tenant: Tenant,
    operation: str,
    *,
    path_params: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
) -> ApiResponse:
    """Send one catalog operation to the tenant and return the response."""
    with client_for(tenant.connection) as client:
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        return client.call(
            operation, tenant=target, path_params=path_params, params=params, json=json
        )


def tenant_items(
    tenant: Tenant,
    operation: str,
    *,
    path_params: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    limit: int = MAX_LISTED_ITEMS,
) -> list[dict[str, Any]]:
    """Read every item of a listing operation, up to ``limit`` items."""
    items: list[dict[str, Any]] = []
    with client_for(tenant.connection) as client:
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        pages = client.paginate(
            operation, tenant=target, path_params=path_params, params=params
        )
        for item in pages:
            if isinstance(item, dict):
                items.append(item)
            if len(items) >= limit:
                break
    return items


def tenant_audit(
    user: User, tenant: Tenant, operation: str, **parameters: Any
) -> AbstractContextManager[AuditContext]:
    """Audit a write to the tenant under the catalog operation's name."""
    return audited(
        user=user,
        operation=operation,
        tenant_id=tenant.pk,
        tenant_name=tenant.display_name,
        parameters=parameters,
    )


def audit_response(audit: AuditContext, response: ApiResponse) -> None:
    """Copy the status and correlation id of Sophos's reply into the audit."""
    audit.status_code = response.status
    audit.correlation_id = response.correlation_id
