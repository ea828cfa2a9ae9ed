"""Endpoint groups (computer and server groups) and their members, live.

Membership changes are written through to the mirror's ``group_name``,
because Sophos Central shows an endpoint in one group at most.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from sophos.models import Endpoint, Tenant
from sophos.services.payloads import ids, integer, mapping, text, timestamp
from sophos.services.tenant_api import (
    User,
    audit_response,
    tenant_audit,
    tenant_call,
    tenant_items,
)

logger = logging.getLogger(__name__)

GROUP_TYPES = {"computer": "Computer", "server": "Server"}


@dataclass(frozen=True)
class EndpointGroup:
    id: str
    name: str
    description: str
    type: str
    endpoint_count: int
    endpoint_ids: list[str]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class GroupMember:
    id: str
    hostname: str
    type: str
    health: str
    os_name: str
    last_seen_at: dt.datetime | None


@dataclass(frozen=True)
class MembersAdded:
    """The reply to adding endpoints: the ids added and the ids rejected, by reason."""

    added: list[str]
    not_found: list[str]
    wrong_type: list[str]
    correlation_id: str = ""


@dataclass(frozen=True)
class MembersRemoved:
    removed: list[str]
    not_found: list[str]
    correlation_id: str = ""


def _group_from(data: Mapping[str, Any]) -> EndpointGroup:
    endpoints = mapping(data.get("endpoints"))
    listed = ids(endpoints.get("items"))
    return EndpointGroup(
        id=text(data.get("id")),
        name=text(data.get("name")),
        description=text(data.get("description")),
        type=text(data.get("type")),
        endpoint_count=integer(endpoints.get("total"), len(listed)),
        endpoint_ids=listed,
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def _member_from(data: Mapping[str, Any]) -> GroupMember:
    return GroupMember(
        id=text(data.get("id")),
        hostname=text(data.get("hostname")) or text(data.get("id")),
        type=text(data.get("type")),
        health=text(mapping(data.get("health")).get("overall")) or "unknown",
        os_name=text(mapping(data.get("os")).get("name")),
        last_seen_at=timestamp(data.get("lastSeenAt")),
    )


def _check_type(group_type: str) -> None:
    if group_type not in GROUP_TYPES:
        raise ValueError(
            f"Group type {group_type!r} is invalid: use computer or server."
        )


def endpoint_groups_list(
    *, tenant: Tenant, group_type: str = ""
) -> list[EndpointGroup]:
    """Read the tenant's endpoint groups, optionally of one type."""
    params: dict[str, Any] = {}
    if group_type:
        _check_type(group_type)
        params["groupType"] = group_type
    items = tenant_items(tenant, "endpoint_groups_list", params=params)
    return [_group_from(item) for item in items]


def endpoint_groups_of_endpoint(
    *, tenant: Tenant, endpoint_id: uuid.UUID | str
) -> list[EndpointGroup]:
    """Read the groups that contain one endpoint.

    A group whose reply lists all of its member ids must list this one. A
    group whose reply lists only some ids is kept as the server filtered it.
    """
    endpoint = str(endpoint_id)
    items = tenant_items(
        tenant, "endpoint_groups_list", params={"endpointIds": [endpoint]}
    )
    groups = []
    for group in map(_group_from, items):
        complete = len(group.endpoint_ids) >= group.endpoint_count
        if endpoint in group.endpoint_ids or not complete:
            groups.append(group)
    return groups


def endpoint_group_get(*, tenant: Tenant, group_id: str) -> EndpointGroup:
    """Read one group; raises ``NotFound`` for an unknown id."""
    response = tenant_call(
        tenant, "endpoint_group_get", path_params={"groupId": group_id}
    )
    return _group_from(mapping(response.data))


def endpoint_group_members_list(*, tenant: Tenant, group_id: str) -> list[GroupMember]:
    """Read every endpoint in a group."""
    items = tenant_items(
        tenant, "endpoint_group_endpoints_list", path_params={"groupId": group_id}
    )
    return [_member_from(item) for item in items]


def endpoint_group_create(
    *, user: User, tenant: Tenant, name: str, type: str, description: str = ""
) -> EndpointGroup:
    """Create an empty computer or server group."""
    _check_type(type)
    if not name.strip():
        raise ValueError("The group name is missing.")
    body = {"name": name, "type": type, "description": description}
    with tenant_audit(user, tenant, "endpoint_group_create", **body) as audit:
        response = tenant_call(tenant, "endpoint_group_create", json=body)
        audit_response(audit, response)
    group = _group_from(mapping(response.data))
    logger.info("endpoint group %s created in tenant %s", group.id, tenant.pk)
    return group


def endpoint_group_update(
    *, user: User, tenant: Tenant, group_id: str, name: str, description: str
) -> EndpointGroup:
    """Rename a group or change its description."""
    body = {"name": name, "description": description}
    with tenant_audit(
        user, tenant, "endpoint_group_update", group_id=group_id, **body
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_group_update",
            path_params={"groupId": group_id},
            json=body,
        )
        audit_response(audit, response)
    group = _group_from(mapping(response.data))
    if group.endpoint_ids:
        Endpoint.objects.filter(
            tenant=tenant, pk__in=_uuids(group.endpoint_ids)
        ).update(group_name=group.name or name)
    return group


def endpoint_group_delete(*, user: User, tenant: Tenant, group_id: str) -> None:
    """Delete a group. Its endpoints stay in the tenant, in no group."""
    members = endpoint_group_get(tenant=tenant, group_id=group_id).endpoint_ids
    with tenant_audit(
        user, tenant, "endpoint_group_delete", group_id=group_id
    ) as audit:
        response = tenant_call(
            tenant, "endpoint_group_delete", path_params={"groupId": group_id}
        )
        audit_response(audit, response)
    Endpoint.objects.filter(tenant=tenant, pk__in=_uuids(members)).update(group_name="")
    logger.info("endpoint group %s deleted in tenant %s", group_id, tenant.pk)


def endpoint_group_endpoints_add(
    *, user: User, tenant: Tenant, group_id: str, endpoint_ids: Iterable[str]
) -> MembersAdded:
    """Add endpoints to a group.

    Sophos Central adds those it can and lists the others as not found or of
    the wrong type (a server for a computer group, say), without failing.
    """
    wanted = [str(endpoint_id) for endpoint_id in endpoint_ids]
    with tenant_audit(
        user, tenant, "endpoint_group_endpoints_add", group_id=group_id, ids=wanted
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_group_endpoints_add",
            path_params={"groupId": group_id},
            json={"ids": wanted},
        )
        audit_response(audit, response)
    data = mapping(response.data)
    errors = mapping(data.get("errors"))
    result = MembersAdded(
        added=ids(data.get("addedEndpoints")),
        not_found=ids(errors.get("endpointsNotFound")),
        wrong_type=ids(errors.get("endpointsOfWrongType")),
        correlation_id=response.correlation_id,
    )
    if result.added:
        group = endpoint_group_get(tenant=tenant, group_id=group_id)
        Endpoint.objects.filter(tenant=tenant, pk__in=_uuids(result.added)).update(
            group_name=group.name
        )
    return result


def endpoint_group_endpoints_remove(
    *, user: User, tenant: Tenant, group_id: str, endpoint_ids: Iterable[str]
) -> MembersRemoved:
    """Remove endpoints from a group; ids not in it are listed as not found."""
    wanted = [str(endpoint_id) for endpoint_id in endpoint_ids]
    with tenant_audit(
        user, tenant, "endpoint_group_endpoints_remove", group_id=group_id, ids=wanted
    ) as audit:
        response = tenant_call(
            tenant,
            "endpoint_group_endpoints_remove",
            path_params={"groupId": group_id},
            params={"ids": wanted},
        )
        audit_response(audit, response)
    data = mapping(response.data)
    result = MembersRemoved(
        removed=ids(data.get("removedEndpoints")),
        not_found=ids(mapping(data.get("errors")).get("endpointsNotFound")),
        correlation_id=response.correlation_id,
    )
    Endpoint.objects.filter(tenant=tenant, pk__in=_uuids(result.removed)).update(
        group_name=""
    )
    return result


def endpoint_group_endpoint_remove(
    *, user: User, tenant: Tenant, group_id: str, endpoint_id: str
) -> None:
    """Remove one endpoint from a group; ``NotFound`` if it is not in it."""
    path = {"groupId": group_id, "endpointId": endpoint_id}
    with tenant_audit(user, tenant, "endpoint_group_endpoint_remove", **path) as audit:
        response = tenant_call(
            tenant, "endpoint_group_endpoint_remove", path_params=path
        )
        audit_response(audit, response)
    Endpoint.objects.filter(tenant=tenant, pk__in=_uuids([endpoint_id])).update(
        group_name=""
    )


def mirrored_endpoints_list(*, tenant: Tenant, type: str = "") -> QuerySet[Endpoint]:
    """Return the tenant's mirrored endpoints by hostname, optionally of a type."""
    endpoints = Endpoint.objects.filter(tenant=tenant)
    if type:
        endpoints = endpoints.filter(type=type)
    return endpoints.order_by("hostname", "id")


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found
