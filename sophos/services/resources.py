"""Typed reads and audited writes of a tenant's Sophos Central collections.

Category services (exclusions, web control, ...) build on these helpers: each
passes the catalog operation name and a ``parse`` function that turns one
Sophos item into the category's dataclass, so no raw dict reaches a view.
Every write runs inside ``audited`` with the catalog operation name, and
records the response status and correlation id.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sophos.client import ApiResponse, SophosClient, TenantTarget
from sophos.errors import InvalidResponse
from sophos.models import Tenant
from sophos.services.audit import audited
from sophos.services.connections import client_for

logger = logging.getLogger(__name__)

T = TypeVar("T")
User = AbstractBaseUser | AnonymousUser | None
Parser = Callable[[Mapping[str, Any]], T]

# Lists are read whole so the portal can filter and sort them; this many
# items at most are read from one list operation.
MAX_LIST_ITEMS = 5000


@dataclass(frozen=True)
class Listing(Generic[T]):
    """All items of a Sophos list, up to ``MAX_LIST_ITEMS``."""

    items: list[T]
    # True when Sophos had more items than were read.
    truncated: bool


def target_for(client: SophosClient, tenant: Tenant) -> TenantTarget:
    return client.tenant_target(str(tenant.pk), tenant.api_host)


def resource_list(
    *,
    tenant: Tenant,
    operation: str,
    parse: Parser[T],
    params: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str | int] | None = None,
    cap: int = MAX_LIST_ITEMS,
) -> Listing[T]:
    """Read every item of a list operation, paging as the operation does."""
    items: list[T] = []
    truncated = False
    with client_for(tenant.connection) as client:
        pages = client.paginate(
            operation,
            tenant=target_for(client, tenant),
            path_params=path_params,
            params=params,
        )
        for raw in pages:
            if len(items) >= cap:
                truncated = True
                break
            items.append(parse(_object(raw, operation)))
    if truncated:
        logger.warning(
            "%s tenant %s has more than %s items; the rest are not shown",
            operation,
            tenant.pk,
            cap,
        )
    return Listing(items=items, truncated=truncated)


def resource_get(
    *,
    tenant: Tenant,
    operation: str,
    parse: Parser[T],
    path_params: Mapping[str, str | int] | None = None,
    params: Mapping[str, Any] | None = None,
) -> T:
    """Read one object (an item or a settings object) and parse it."""
    with client_for(tenant.connection) as client:
        response = client.call(
            operation,
            tenant=target_for(client, tenant),
            path_params=path_params,
            params=params,
        )
    return parse(_object(response.data, operation))


def resource_write(
    *,
    user: User,
    tenant: Tenant,
    operation: str,
    path_params: Mapping[str, str | int] | None = None,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
) -> ApiResponse:
    """Send one write operation inside the audit log and return the response.

    The audit entry names the catalog operation and keeps the path
    parameters, the query and the body (with secret-looking keys redacted).
    """
    parameters: dict[str, Any] = {**(path_params or {})}
    if params:
        parameters["query"] = dict(params)
    if body is not None:
        parameters["body"] = body
    with (
        audited(
            user=user,
            operation=operation,
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters=parameters,
        ) as audit,
        client_for(tenant.connection) as client,
    ):
        response = client.call(
            operation,
            tenant=target_for(client, tenant),
            path_params=path_params,
            params=params,
            json=body,
        )
        audit.status_code = response.status
        audit.correlation_id = correlation_id_of(response)
    logger.info(
        "%s tenant %s by user %s: %s",
        operation,
        tenant.pk,
        getattr(user, "pk", None),
        response.status,
    )
    return response


def resource_create(
    *,
    user: User,
    tenant: Tenant,
    operation: str,
    body: Mapping[str, Any],
    parse: Parser[T],
    path_params: Mapping[str, str | int] | None = None,
) -> T:
    """Create an item and return it as Sophos stored it."""
    response = resource_write(
        user=user,
        tenant=tenant,
        operation=operation,
        path_params=path_params,
        body=dict(body),
    )
    return parse(_object(response.data, operation))


def resource_update(
    *,
    user: User,
    tenant: Tenant,
    operation: str,
    path_params: Mapping[str, str | int],
    body: Mapping[str, Any],
    parse: Parser[T],
) -> T:
    """Change an item (or a settings object) and return its new state."""
    response = resource_write(
        user=user,
        tenant=tenant,
        operation=operation,
        path_params=path_params,
        body=dict(body),
    )
    return parse(_object(response.data, operation))


def resource_delete(
    *,
    user: User,
    tenant: Tenant,
    operation: str,
    path_params: Mapping[str, str | int],
) -> None:
    """Delete an item."""
    resource_write(
        user=user, tenant=tenant, operation=operation, path_params=path_params
    )


def correlation_id_of(response: ApiResponse) -> str:
    """Return the response's correlation id, from the body or the headers."""
    return response.correlation_id or str(
        response.headers.get("x-correlation-id") or ""
    )


def _object(data: Any, operation: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidResponse(f"{operation} did not return a JSON object.")
    return data


# Small readers for parse functions: Sophos omits empty fields, and a
# missing or mistyped value becomes the empty value of the expected type.


def text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def number(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value if item is not None)


def numbers(data: Mapping[str, Any], key: str) -> tuple[int, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(
        item for item in value if isinstance(item, int) and not isinstance(item, bool)
    )


def moment(data: Mapping[str, Any], key: str) -> datetime.datetime | None:
    """Return an ISO 8601 timestamp as an aware datetime, or None.

    Sophos sends UTC with a "Z"; a time without a zone is read as UTC.
    """
    value = data.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        logger.debug("unreadable timestamp %r in %s", value, key)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed
