"""Typed reads and audited writes of the partner's own Sophos Central API.

The partner calls (tenants, partner admins and roles, billing) go to the
global host with ``X-Partner-ID`` and need a connection whose credential is
a partner credential. These helpers mirror ``sophos.services.resources`` for
that scope.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from sophos.client import ApiResponse
from sophos.errors import InvalidResponse, SophosError
from sophos.models import Connection
from sophos.services.audit import audited
from sophos.services.connections import client_for
from sophos.services.resources import (
    MAX_LIST_ITEMS,
    Listing,
    Parser,
    User,
    correlation_id_of,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class NoPartnerConnection(SophosError):
    """No connection with a partner credential exists."""


def partner_connection() -> Connection:
    """Return the first partner connection; raises ``NoPartnerConnection``."""
    connection = (
        Connection.objects.filter(kind=Connection.Kind.PARTNER).order_by("pk").first()
    )
    if connection is None:
        raise NoPartnerConnection(
            "This page needs a partner connection: add one under Settings."
        )
    return connection


def partner_list(
    *,
    operation: str,
    parse: Parser[T],
    params: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str | int] | None = None,
    cap: int = MAX_LIST_ITEMS,
) -> Listing[T]:
    """Read every item of a partner list operation, up to ``cap`` items."""
    items: list[T] = []
    truncated = False
    with client_for(partner_connection()) as client:
        for raw in client.paginate(operation, path_params=path_params, params=params):
            if len(items) >= cap:
                truncated = True
                break
            items.append(parse(_object(raw, operation)))
    if truncated:
        logger.warning(
            "%s has more than %s items; the rest are not shown", operation, cap
        )
    return Listing(items=items, truncated=truncated)


def partner_get(
    *,
    operation: str,
    parse: Parser[T],
    path_params: Mapping[str, str | int] | None = None,
    params: Mapping[str, Any] | None = None,
) -> T:
    """Read one partner object and parse it."""
    with client_for(partner_connection()) as client:
        response = client.call(operation, path_params=path_params, params=params)
    return parse(_object(response.data, operation))


def partner_write(
    *,
    user: User,
    operation: str,
    path_params: Mapping[str, str | int] | None = None,
    body: Any = None,
    tenant_id: str = "",
    tenant_name: str = "",
) -> ApiResponse:
    """Send one partner write operation inside the audit log.

    ``tenant_id`` names the tenant the write concerns (a created tenant, or
    the scope of a role assignment), so the audit log can be filtered by it.
    """
    parameters: dict[str, Any] = {**(path_params or {})}
    if body is not None:
        parameters["body"] = body
    connection = partner_connection()
    with (
        audited(
            user=user,
            operation=operation,
            tenant_id=tenant_id or None,
            tenant_name=tenant_name,
            parameters=parameters,
        ) as audit,
        client_for(connection) as client,
    ):
        response = client.call(operation, path_params=path_params, json=body)
        audit.status_code = response.status
        audit.correlation_id = correlation_id_of(response)
    logger.info(
        "%s partner %s by user %s: %s",
        operation,
        connection.principal_id or connection.pk,
        getattr(user, "pk", None),
        response.status,
    )
    return response


def partner_parse(response: ApiResponse, operation: str, parse: Parser[T]) -> T:
    """Parse the object in a write's response."""
    return parse(_object(response.data, operation))


def _object(data: Any, operation: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidResponse(f"{operation} did not return a JSON object.")
    return data
