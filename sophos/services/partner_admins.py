"""The partner's admins, their role assignments, and the partner roles.

A partner admin's role assignment has a scope: the whole partner account or
one tenant. Roles are predefined by Sophos (read-only) or custom. The role
and assignment dataclasses are those of the tenant admins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sophos.services.partner_api import (
    partner_get,
    partner_list,
    partner_parse,
    partner_write,
)
from sophos.services.resources import Listing, User, flag, section, text
from sophos.services.tenant_admins import (
    PermissionSet,
    Role,
    RoleAssignment,
    parse_assignment,
    parse_assignments,
    parse_permission_set,
    parse_role,
    require_custom_role,
    role_body,
)

logger = logging.getLogger(__name__)

# NOTE/sophos-api: "tenant" is the scope type Sophos's examples show; the
# partner-wide scope type is assumed to be "partner".
ASSIGNMENT_SCOPES = {"partner": "Whole partner account", "tenant": "One tenant"}


@dataclass(frozen=True)
class PartnerAdmin:
    id: str
    username: str
    name: str
    first_name: str
    last_name: str
    phone: str
    mobile: str
    active: bool | None
    primary: bool
    role_assignments: tuple[RoleAssignment, ...]

    @property
    def display_name(self) -> str:
        return (
            self.name
            or " ".join(part for part in (self.first_name, self.last_name) if part)
            or self.username
        )


def parse_admin(data: Mapping[str, Any]) -> PartnerAdmin:
    profile = section(data, "profile")
    return PartnerAdmin(
        id=text(data, "id"),
        username=text(data, "username"),
        name=text(profile, "name"),
        first_name=text(profile, "firstName"),
        last_name=text(profile, "lastName"),
        phone=text(profile, "phone"),
        mobile=text(profile, "mobile"),
        active=flag(data, "active"),
        primary=bool(flag(data, "primary")),
        role_assignments=parse_assignments(data.get("roleAssignments")),
    )


def _scope(scope_type: str, scope_id: str) -> dict[str, str]:
    if scope_type not in ASSIGNMENT_SCOPES:
        raise ValueError(f"Scope {scope_type!r} is invalid: use partner or tenant.")
    if scope_type == "tenant" and not scope_id:
        raise ValueError("Choose the tenant the role applies to.")
    scope = {"type": scope_type}
    if scope_type == "tenant":
        scope["id"] = scope_id
    return scope


# Admins


def partner_admins_list(*, search: str = "") -> Listing[PartnerAdmin]:
    """Read the partner's admins."""
    return partner_list(
        operation="partner_admins_list",
        parse=parse_admin,
        params={"search": search} if search else None,
    )


def partner_admin_get(*, admin_id: str) -> PartnerAdmin:
    return partner_get(
        operation="partner_admin_get",
        parse=parse_admin,
        path_params={"adminId": admin_id},
    )


def partner_admin_create(
    *,
    user: User,
    email: str,
    first_name: str,
    last_name: str,
    role_id: str = "",
    scope_type: str = "partner",
    scope_id: str = "",
) -> PartnerAdmin:
    """Invite a partner admin by email address, optionally with one role.

    Sophos rejects with 409 an email address already in use.
    """
    body: dict[str, Any] = {
        "username": email.strip(),
        "profile": {"firstName": first_name.strip(), "lastName": last_name.strip()},
    }
    if role_id:
        body["roleAssignments"] = [
            {"roleId": role_id, "scope": _scope(scope_type, scope_id)}
        ]
    response = partner_write(
        user=user,
        operation="partner_admin_create",
        body=body,
        tenant_id=scope_id if scope_type == "tenant" else "",
    )
    created = partner_parse(response, "partner_admin_create", parse_admin)
    logger.info("partner admin %s created", created.id)
    return created


# NOTE/sophos-api: the catalog has no operation that deletes a partner admin,
# so an admin is taken out of service by removing their role assignments.


def partner_admin_role_assignments_list(*, admin_id: str) -> Listing[RoleAssignment]:
    return partner_list(
        operation="partner_admin_role_assignments_list",
        parse=parse_assignment,
        path_params={"adminId": admin_id},
    )


def partner_admin_role_assignment_create(
    *, user: User, admin_id: str, role_id: str, scope_type: str, scope_id: str = ""
) -> RoleAssignment:
    """Give a partner admin a role for the whole account or for one tenant."""
    response = partner_write(
        user=user,
        operation="partner_admin_role_assignment_create",
        path_params={"adminId": admin_id},
        body={"roleId": role_id, "scope": _scope(scope_type, scope_id)},
        tenant_id=scope_id if scope_type == "tenant" else "",
    )
    return partner_parse(
        response, "partner_admin_role_assignment_create", parse_assignment
    )


def partner_admin_role_assignment_delete(
    *, user: User, admin_id: str, assignment_id: str
) -> None:
    partner_write(
        user=user,
        operation="partner_admin_role_assignment_delete",
        path_params={"adminId": admin_id, "assignmentId": assignment_id},
    )


# Roles and permission sets


def partner_roles_list() -> Listing[Role]:
    """Read the partner's predefined and custom roles."""
    return partner_list(operation="partner_roles_list", parse=parse_role)


def partner_role_get(*, role_id: str) -> Role:
    return partner_get(
        operation="partner_role_get",
        parse=parse_role,
        path_params={"roleId": role_id},
    )


def partner_role_create(
    *,
    user: User,
    name: str,
    description: str = "",
    principal_type: str = "user",
    permission_sets: Iterable[str],
) -> Role:
    """Create a custom partner role from permission sets."""
    body = role_body(
        name=name,
        description=description,
        permission_sets=permission_sets,
        principal_type=principal_type,
    )
    response = partner_write(user=user, operation="partner_role_create", body=body)
    created = partner_parse(response, "partner_role_create", parse_role)
    logger.info("partner role %s created", created.id)
    return created


def partner_role_update(
    *,
    user: User,
    role_id: str,
    name: str,
    description: str = "",
    permission_sets: Iterable[str],
) -> Role:
    """Change a custom partner role; raises ``PredefinedRole`` for a predefined
    one."""
    require_custom_role(partner_role_get(role_id=role_id))
    response = partner_write(
        user=user,
        operation="partner_role_update",
        path_params={"roleId": role_id},
        body=role_body(
            name=name, description=description, permission_sets=permission_sets
        ),
    )
    return partner_parse(response, "partner_role_update", parse_role)


def partner_role_delete(*, user: User, role_id: str) -> None:
    """Delete a custom partner role; Sophos rejects it with 409 while it is assigned."""
    require_custom_role(partner_role_get(role_id=role_id))
    partner_write(
        user=user, operation="partner_role_delete", path_params={"roleId": role_id}
    )
    logger.info("partner role %s deleted", role_id)


def partner_permission_sets_list() -> Listing[PermissionSet]:
    """Read the permission sets that partner roles can contain."""
    return partner_list(
        operation="partner_permission_sets_list", parse=parse_permission_set
    )
