"""A tenant's admins, its roles and the permission sets roles are made of.

An admin is a directory user with one or more role assignments. Roles are
predefined by Sophos (read-only) or custom (created, changed and deleted
here). The dataclasses and parsers are shared with the partner admins and
roles, whose replies have the same shape plus an assignment scope.
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
from sophos.services.payloads import timestamp
from sophos.services.resources import (
    Listing,
    User,
    flag,
    resource_create,
    resource_delete,
    resource_get,
    resource_list,
    resource_update,
    section,
    strings,
    text,
)

logger = logging.getLogger(__name__)

CUSTOM_ROLE = "custom"
ROLE_TYPES = {"predefined": "Predefined", CUSTOM_ROLE: "Custom"}
# A role is for people (user) or for API credentials (service).
PRINCIPAL_TYPES = {"user": "User", "service": "Service (API credential)"}


class PredefinedRole(SophosError):
    """A change was requested for a role that Sophos predefines.

    It carries status 400, as the request is invalid whatever the data.
    """

    status = 400


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    role_id: str
    # Partner assignments only: the scope type ("partner", "tenant", ...)
    # and the id of the tenant or group it is limited to.
    scope_type: str = ""
    scope_id: str = ""


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    type: str
    principal_type: str
    permission_sets: tuple[str, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @property
    def editable(self) -> bool:
        return self.type == CUSTOM_ROLE

    @property
    def type_label(self) -> str:
        return ROLE_TYPES.get(self.type) or code_label(self.type)


@dataclass(frozen=True)
class PermissionSet:
    id: str
    name: str
    type: str
    principal_types: tuple[str, ...]
    allowed_in_custom_roles: bool


@dataclass(frozen=True)
class TenantAdmin:
    id: str
    name: str
    first_name: str
    last_name: str
    email: str
    # The directory users behind the admin, as (id, name) pairs.
    users: tuple[tuple[str, str], ...]
    role_assignments: tuple[RoleAssignment, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(user_id for user_id, _ in self.users)


def parse_assignment(data: Mapping[str, Any]) -> RoleAssignment:
    scope = section(data, "scope")
    return RoleAssignment(
        id=text(data, "id"),
        role_id=text(data, "roleId"),
        scope_type=text(scope, "type"),
        scope_id=text(scope, "id"),
    )


def parse_assignments(value: Any) -> tuple[RoleAssignment, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(parse_assignment(item) for item in value if isinstance(item, Mapping))


def parse_role(data: Mapping[str, Any]) -> Role:
    return Role(
        id=text(data, "id"),
        name=text(data, "name"),
        description=text(data, "description"),
        type=text(data, "type") or CUSTOM_ROLE,
        principal_type=text(data, "principalType"),
        permission_sets=strings(data, "permissionSets"),
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def parse_permission_set(data: Mapping[str, Any]) -> PermissionSet:
    return PermissionSet(
        id=text(data, "id"),
        name=text(data, "name") or text(data, "id"),
        type=text(data, "type"),
        principal_types=strings(data, "principalTypes"),
        allowed_in_custom_roles=bool(flag(data, "allowedInCustomRoles")),
    )


def _users_of(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    listed = data.get("users")
    if isinstance(listed, list):
        return tuple(
            (text(item, "id"), text(item, "name"))
            for item in listed
            if isinstance(item, Mapping)
        )
    # NOTE/sophos-api: some replies name the user with a bare ``userId``.
    user_id = text(data, "userId")
    return ((user_id, ""),) if user_id else ()


def parse_admin(data: Mapping[str, Any]) -> TenantAdmin:
    profile = section(data, "profile")
    users = _users_of(data)
    first_user_name = users[0][1] if users else ""
    return TenantAdmin(
        id=text(data, "id"),
        name=text(profile, "name") or first_user_name or text(data, "id"),
        first_name=text(profile, "firstName"),
        last_name=text(profile, "lastName"),
        email=text(profile, "email"),
        users=users,
        role_assignments=parse_assignments(data.get("roleAssignments")),
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def role_body(
    *,
    name: str,
    description: str,
    permission_sets: Iterable[str],
    principal_type: str | None = None,
) -> dict[str, Any]:
    """Build the fields a role create or update sends.

    Only a create sends the principal type, because it cannot change later.
    Raises ``ValueError`` for an unknown principal type or no permission set.
    """
    if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
        raise ValueError(
            f"Principal type {principal_type!r} is invalid: use user or service."
        )
    sets = [str(item) for item in permission_sets]
    if not sets:
        raise ValueError("A role needs at least one permission set.")
    body: dict[str, Any] = {
        "name": name.strip(),
        "description": description.strip(),
        "permissionSets": sets,
    }
    if principal_type is not None:
        body["principalType"] = principal_type
    return body


# Admins


def tenant_admins_list(*, tenant: Tenant, search: str = "") -> Listing[TenantAdmin]:
    """Read the tenant's admins."""
    params = {"search": search} if search else None
    return resource_list(
        tenant=tenant,
        operation="tenant_admins_list",
        parse=parse_admin,
        params=params,
    )


def tenant_admin_get(*, tenant: Tenant, admin_id: str) -> TenantAdmin:
    """Read one admin with their role assignments."""
    return resource_get(
        tenant=tenant,
        operation="tenant_admin_get",
        parse=parse_admin,
        path_params={"adminId": admin_id},
    )


def tenant_admin_create(
    *, user: User, tenant: Tenant, user_id: str, role_ids: Iterable[str] = ()
) -> TenantAdmin:
    """Make a directory user an admin of the tenant, with roles."""
    body: dict[str, Any] = {"userId": user_id}
    roles = [{"roleId": str(role_id)} for role_id in role_ids]
    if roles:
        body["roleAssignments"] = roles
    created = resource_create(
        user=user,
        tenant=tenant,
        operation="tenant_admin_create",
        body=body,
        parse=parse_admin,
    )
    logger.info("tenant admin %s created in tenant %s", created.id, tenant.pk)
    return created


def tenant_admin_delete(*, user: User, tenant: Tenant, admin_id: str) -> None:
    """Remove an admin; Sophos rejects with 409 the last Super Admin."""
    resource_delete(
        user=user,
        tenant=tenant,
        operation="tenant_admin_delete",
        path_params={"adminId": admin_id},
    )
    logger.info("tenant admin %s deleted in tenant %s", admin_id, tenant.pk)


def tenant_admin_role_assignments_list(
    *, tenant: Tenant, admin_id: str
) -> Listing[RoleAssignment]:
    """Read the role assignments of one admin."""
    return resource_list(
        tenant=tenant,
        operation="tenant_admin_role_assignments_list",
        parse=parse_assignment,
        path_params={"adminId": admin_id},
    )


def tenant_admin_role_assignment_create(
    *, user: User, tenant: Tenant, admin_id: str, role_id: str
) -> RoleAssignment:
    """Give an admin one more role."""
    return resource_create(
        user=user,
        tenant=tenant,
        operation="tenant_admin_role_assignment_create",
        path_params={"adminId": admin_id},
        body={"roleId": role_id},
        parse=parse_assignment,
    )


def tenant_admin_role_assignment_delete(
    *, user: User, tenant: Tenant, admin_id: str, assignment_id: str
) -> None:
    """Take one role assignment away from an admin."""
    resource_delete(
        user=user,
        tenant=tenant,
        operation="tenant_admin_role_assignment_delete",
        path_params={"adminId": admin_id, "assignmentId": assignment_id},
    )


# Roles and permission sets


def tenant_roles_list(*, tenant: Tenant) -> Listing[Role]:
    """Read the tenant's predefined and custom roles."""
    return resource_list(tenant=tenant, operation="tenant_roles_list", parse=parse_role)


def tenant_role_get(*, tenant: Tenant, role_id: str) -> Role:
    return resource_get(
        tenant=tenant,
        operation="tenant_role_get",
        parse=parse_role,
        path_params={"roleId": role_id},
    )


def tenant_role_create(
    *,
    user: User,
    tenant: Tenant,
    name: str,
    description: str = "",
    principal_type: str = "user",
    permission_sets: Iterable[str],
) -> Role:
    """Create a custom role from permission sets."""
    body = role_body(
        name=name,
        description=description,
        permission_sets=permission_sets,
        principal_type=principal_type,
    )
    created = resource_create(
        user=user,
        tenant=tenant,
        operation="tenant_role_create",
        body=body,
        parse=parse_role,
    )
    logger.info("tenant role %s created in tenant %s", created.id, tenant.pk)
    return created


def require_custom_role(role: Role) -> None:
    """Raise ``PredefinedRole`` unless ``role`` is a custom role."""
    if not role.editable:
        raise PredefinedRole(
            f"The role {role.name} is predefined by Sophos and cannot be changed "
            "or deleted: create a custom role instead."
        )


def tenant_role_update(
    *,
    user: User,
    tenant: Tenant,
    role_id: str,
    name: str,
    description: str = "",
    permission_sets: Iterable[str],
) -> Role:
    """Change a custom role; raises ``PredefinedRole`` for a predefined one."""
    require_custom_role(tenant_role_get(tenant=tenant, role_id=role_id))
    return resource_update(
        user=user,
        tenant=tenant,
        operation="tenant_role_update",
        path_params={"roleId": role_id},
        body=role_body(
            name=name, description=description, permission_sets=permission_sets
        ),
        parse=parse_role,
    )


def tenant_role_delete(*, user: User, tenant: Tenant, role_id: str) -> None:
    """Delete a custom role; Sophos rejects it with 409 while an admin has it."""
    require_custom_role(tenant_role_get(tenant=tenant, role_id=role_id))
    resource_delete(
        user=user,
        tenant=tenant,
        operation="tenant_role_delete",
        path_params={"roleId": role_id},
    )
    logger.info("tenant role %s deleted in tenant %s", role_id, tenant.pk)


def tenant_permission_sets_list(*, tenant: Tenant) -> Listing[PermissionSet]:
    """Read the permission sets that tenant roles can contain."""
    return resource_list(
        tenant=tenant,
        operation="tenant_permission_sets_list",
        parse=parse_permission_set,
    )
