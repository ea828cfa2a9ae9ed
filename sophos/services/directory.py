"""A tenant's directory users and user groups, and the memberships between them.

Sophos Central lets the API change only directory objects whose source is
``custom`` (made in Sophos Central or through the API). Users and groups
synced from Active Directory or Azure AD are read-only here: the services
raise ``SyncedDirectoryObject`` before sending a write for them, because
Sophos would reject it with 409.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.services.labels import code_label
from sophos.services.payloads import ids, timestamp
from sophos.services.resources import (
    Listing,
    User,
    correlation_id_of,
    resource_create,
    resource_delete,
    resource_get,
    resource_list,
    resource_update,
    resource_write,
    section,
    text,
)

logger = logging.getLogger(__name__)

CUSTOM_SOURCE = "custom"
# NOTE/sophos-api: the collection shows only "custom"; the synced source
# names follow Sophos Central's directory sync settings. Unknown values are
# shown as sent and treated as synced (read-only).
SOURCE_TYPES = {
    CUSTOM_SOURCE: "Sophos Central",
    "activeDirectory": "Active Directory",
    "azureActiveDirectory": "Azure AD",
}


class SyncedDirectoryObject(SophosError):
    """A write was requested for a user or group synced from a directory.

    It carries status 409, the status Sophos Central rejects such a write
    with, so pages show it as they show Sophos's own rejections.
    """

    status = 409


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    name: str
    first_name: str
    last_name: str
    email: str
    domain: str
    exchange_login: str
    source_type: str
    group_count: int
    group_ids: tuple[str, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @property
    def editable(self) -> bool:
        return self.source_type in ("", CUSTOM_SOURCE)

    @property
    def source_label(self) -> str:
        return source_label(self.source_type)


@dataclass(frozen=True)
class UserGroup:
    id: str
    name: str
    description: str
    domain: str
    source_type: str
    member_count: int
    member_ids: tuple[str, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @property
    def editable(self) -> bool:
        return self.source_type in ("", CUSTOM_SOURCE)

    @property
    def source_label(self) -> str:
        return source_label(self.source_type)


@dataclass(frozen=True)
class MembershipChange:
    """Sophos Central's reply to adding or removing members.

    ``changed`` lists the ids added or removed; ``not_found`` the ids that
    Sophos could not find (it changes the others and does not fail).
    """

    changed: tuple[str, ...]
    not_found: tuple[str, ...]
    correlation_id: str = ""


def source_label(source_type: str) -> str:
    if not source_type:
        return SOURCE_TYPES[CUSTOM_SOURCE]
    return SOURCE_TYPES.get(source_type) or code_label(source_type)


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(ids(value))


def _count(summary: Mapping[str, Any], listed: tuple[str, ...]) -> int:
    total = summary.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    return len(listed)


def parse_user(data: Mapping[str, Any]) -> DirectoryUser:
    groups = section(data, "groups")
    group_ids = _ids(groups.get("items"))
    return DirectoryUser(
        id=text(data, "id"),
        name=text(data, "name"),
        first_name=text(data, "firstName"),
        last_name=text(data, "lastName"),
        email=text(data, "email"),
        domain=text(data, "domain"),
        exchange_login=text(data, "exchangeLogin"),
        source_type=text(section(data, "source"), "type"),
        group_count=_count(groups, group_ids),
        group_ids=group_ids,
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def parse_group(data: Mapping[str, Any]) -> UserGroup:
    users = section(data, "users")
    member_ids = _ids(users.get("items"))
    return UserGroup(
        id=text(data, "id"),
        name=text(data, "name"),
        description=text(data, "description"),
        domain=text(data, "domain"),
        source_type=text(section(data, "source"), "type"),
        member_count=_count(users, member_ids),
        member_ids=member_ids,
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def _filters(search: str, source_type: str) -> dict[str, str]:
    params = {}
    if search:
        params["search"] = search
    if source_type:
        params["sourceType"] = source_type
    return params


def _require_editable(kind: str, item: DirectoryUser | UserGroup) -> None:
    if not item.editable:
        raise SyncedDirectoryObject(
            f"{kind} {item.name or item.id} is synced from {item.source_label} "
            "and is read-only here: change it in that directory."
        )


# Users


def users_list(
    *, tenant: Tenant, search: str = "", source_type: str = "", group_id: str = ""
) -> Listing[DirectoryUser]:
    """Read the tenant's directory users, optionally filtered by Sophos."""
    params = _filters(search, source_type)
    if group_id:
        params["groupId"] = group_id
    return resource_list(
        tenant=tenant, operation="users_list", parse=parse_user, params=params
    )


def user_get(*, tenant: Tenant, user_id: str) -> DirectoryUser:
    """Read one user; raises ``NotFound`` for an unknown id."""
    return resource_get(
        tenant=tenant,
        operation="user_get",
        parse=parse_user,
        path_params={"userId": user_id},
    )


def _user_body(
    *,
    name: str,
    first_name: str,
    last_name: str,
    email: str,
    exchange_login: str,
    keep_empty: bool,
) -> dict[str, Any]:
    """Build a user body; ``keep_empty`` sends empty fields so they are cleared."""
    body: dict[str, Any] = {"name": name.strip()}
    optional = {
        "firstName": first_name,
        "lastName": last_name,
        "email": email,
        "exchangeLogin": exchange_login,
    }
    for key, value in optional.items():
        if value.strip() or keep_empty:
            body[key] = value.strip()
    return body


def user_create(
    *,
    user: User,
    tenant: Tenant,
    name: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    exchange_login: str = "",
    group_ids: Iterable[str] = (),
) -> DirectoryUser:
    """Add a custom user to the directory, optionally into groups."""
    body = _user_body(
        name=name,
        first_name=first_name,
        last_name=last_name,
        email=email,
        exchange_login=exchange_login,
        keep_empty=False,
    )
    groups = [str(group_id) for group_id in group_ids]
    if groups:
        body["groupIds"] = groups
    created = resource_create(
        user=user, tenant=tenant, operation="user_create", body=body, parse=parse_user
    )
    logger.info("directory user %s created in tenant %s", created.id, tenant.pk)
    return created


def user_update(
    *,
    user: User,
    tenant: Tenant,
    user_id: str,
    name: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    exchange_login: str = "",
) -> DirectoryUser:
    """Change a custom user's names, email address or Exchange login.

    Raises ``SyncedDirectoryObject`` for a synced user without sending.
    """
    _require_editable("User", user_get(tenant=tenant, user_id=user_id))
    body = _user_body(
        name=name,
        first_name=first_name,
        last_name=last_name,
        email=email,
        exchange_login=exchange_login,
        keep_empty=True,
    )
    return resource_update(
        user=user,
        tenant=tenant,
        operation="user_update",
        path_params={"userId": user_id},
        body=body,
        parse=parse_user,
    )


def user_delete(*, user: User, tenant: Tenant, user_id: str) -> None:
    """Delete a custom user; their group memberships go with them."""
    _require_editable("User", user_get(tenant=tenant, user_id=user_id))
    resource_delete(
        user=user,
        tenant=tenant,
        operation="user_delete",
        path_params={"userId": user_id},
    )
    logger.info("directory user %s deleted in tenant %s", user_id, tenant.pk)


def user_memberships_list(*, tenant: Tenant, user_id: str) -> Listing[UserGroup]:
    """Read the groups a user belongs to."""
    return resource_list(
        tenant=tenant,
        operation="user_memberships_list",
        parse=parse_group,
        path_params={"userId": user_id},
    )


def user_memberships_add(
    *, user: User, tenant: Tenant, user_id: str, group_ids: Iterable[str]
) -> MembershipChange:
    """Add a custom user to groups; unknown group ids come back as not found."""
    return _membership_write(
        user=user,
        tenant=tenant,
        operation="user_memberships_add",
        path_params={"userId": user_id},
        chosen=group_ids,
        adding=True,
        changed_key="addedToGroups",
        not_found_key="groupsNotFound",
    )


def user_memberships_remove(
    *, user: User, tenant: Tenant, user_id: str, group_ids: Iterable[str]
) -> MembershipChange:
    """Remove a user from groups; ids the user is not in come back as not found."""
    return _membership_write(
        user=user,
        tenant=tenant,
        operation="user_memberships_remove",
        path_params={"userId": user_id},
        chosen=group_ids,
        adding=False,
        changed_key="removedFromGroups",
        not_found_key="groupsNotFound",
    )


# User groups


def user_groups_list(
    *, tenant: Tenant, search: str = "", source_type: str = ""
) -> Listing[UserGroup]:
    """Read the tenant's directory user groups."""
    return resource_list(
        tenant=tenant,
        operation="user_groups_list",
        parse=parse_group,
        params=_filters(search, source_type),
    )


def user_group_get(*, tenant: Tenant, group_id: str) -> UserGroup:
    """Read one user group; raises ``NotFound`` for an unknown id."""
    return resource_get(
        tenant=tenant,
        operation="user_group_get",
        parse=parse_group,
        path_params={"groupId": group_id},
    )


def user_group_create(
    *,
    user: User,
    tenant: Tenant,
    name: str,
    description: str = "",
    user_ids: Iterable[str] = (),
) -> UserGroup:
    """Create a custom user group, optionally with members."""
    body: dict[str, Any] = {"name": name.strip()}
    if description.strip():
        body["description"] = description.strip()
    members = [str(user_id) for user_id in user_ids]
    if members:
        body["userIds"] = members
    created = resource_create(
        user=user,
        tenant=tenant,
        operation="user_group_create",
        body=body,
        parse=parse_group,
    )
    logger.info("user group %s created in tenant %s", created.id, tenant.pk)
    return created


def user_group_update(
    *, user: User, tenant: Tenant, group_id: str, name: str, description: str = ""
) -> UserGroup:
    """Rename a custom group or change its description."""
    _require_editable("User group", user_group_get(tenant=tenant, group_id=group_id))
    return resource_update(
        user=user,
        tenant=tenant,
        operation="user_group_update",
        path_params={"groupId": group_id},
        body={"name": name.strip(), "description": description.strip()},
        parse=parse_group,
    )


def user_group_delete(*, user: User, tenant: Tenant, group_id: str) -> None:
    """Delete an empty custom group; Sophos rejects it with 409 while it has members."""
    _require_editable("User group", user_group_get(tenant=tenant, group_id=group_id))
    resource_delete(
        user=user,
        tenant=tenant,
        operation="user_group_delete",
        path_params={"groupId": group_id},
    )
    logger.info("user group %s deleted in tenant %s", group_id, tenant.pk)


def user_group_users_list(*, tenant: Tenant, group_id: str) -> Listing[DirectoryUser]:
    """Read the members of a user group."""
    return resource_list(
        tenant=tenant,
        operation="user_group_users_list",
        parse=parse_user,
        path_params={"groupId": group_id},
    )


def user_group_users_add(
    *, user: User, tenant: Tenant, group_id: str, user_ids: Iterable[str]
) -> MembershipChange:
    """Add users to a custom group; unknown user ids come back as not found."""
    return _membership_write(
        user=user,
        tenant=tenant,
        operation="user_group_users_add",
        path_params={"groupId": group_id},
        chosen=user_ids,
        adding=True,
        changed_key="addedUsers",
        not_found_key="usersNotFound",
    )


def user_group_users_remove(
    *, user: User, tenant: Tenant, group_id: str, user_ids: Iterable[str]
) -> MembershipChange:
    """Remove users from a group; ids not in it come back as not found."""
    return _membership_write(
        user=user,
        tenant=tenant,
        operation="user_group_users_remove",
        path_params={"groupId": group_id},
        chosen=user_ids,
        adding=False,
        changed_key="removedUsers",
        not_found_key="usersNotFound",
    )


def _membership_write(
    *,
    user: User,
    tenant: Tenant,
    operation: str,
    path_params: Mapping[str, str],
    chosen: Iterable[str],
    adding: bool,
    changed_key: str,
    not_found_key: str,
) -> MembershipChange:
    """Send one membership add or remove and read which ids it changed.

    An add sends the ids in the body, and a remove (a DELETE) in the query.
    """
    listed = {"ids": [str(item_id) for item_id in chosen]}
    response = resource_write(
        user=user,
        tenant=tenant,
        operation=operation,
        path_params=path_params,
        body=listed if adding else None,
        params=None if adding else listed,
    )
    data = response.data if isinstance(response.data, Mapping) else {}
    return MembershipChange(
        changed=_ids(data.get(changed_key)),
        not_found=_ids(section(data, "errors").get(not_found_key)),
        correlation_id=correlation_id_of(response),
    )
