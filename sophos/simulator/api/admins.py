"""Admins, roles and role assignments of the partner and of each tenant.

The partner APIs and the tenant (common) APIs have the same shape, so each
handler here serves both: a ``Realm`` names the collections and what
differs. An admin's role assignments live in the admin's own JSON
(``roleAssignments``), so the admin and the assignment routes agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import QuerySet

from sophos.simulator import clock, store, validation
from sophos.simulator.api.directory import USER_KIND
from sophos.simulator.api.reference import PERMISSION_SETS
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.routing import Call, Handler, router

PRINCIPAL_TYPES = ("user", "service")
# NOTE/sophos-api: the scope types of a partner admin's role assignment
# other than "partner" and "tenant" are unverified.
PARTNER_SCOPE_TYPES = ("partner", "tenant")
SUPER_ADMIN_SET = "central_super_admin"
# NOTE/sophos-api: the largest admin page is unverified.
ADMINS_MAX_PAGE_SIZE = 100
_CUSTOM_SETS = {
    str(item["id"]) for item in PERMISSION_SETS if item["allowedInCustomRoles"]
}


@dataclass(frozen=True)
class Realm:
    """The partner's or a tenant's admins and roles."""

    scope: Literal["partner", "tenant"]
    prefix: str

    @property
    def admin_kind(self) -> str:
        return f"{self.prefix}/admins"

    @property
    def role_kind(self) -> str:
        return f"{self.prefix}/roles"

    def owner_id(self, call: Call) -> str:
        if self.scope == "tenant":
            return call.require_tenant().id
        return call.require_partner().id


PARTNER = Realm("partner", "partner/v1")
TENANT = Realm("tenant", "common/v1")


def _find(realm: Realm, call: Call, kind: str, param: str, noun: str) -> SimObject:
    object_id = call.params[param]
    row = store.find(kind, realm.owner_id(call), object_id)
    if row is None:
        raise ApiError(404, f"{noun} {object_id} not found.")
    return row


def _admin(realm: Realm, call: Call) -> SimObject:
    return _find(realm, call, realm.admin_kind, "adminId", "Admin")


def _role(realm: Realm, call: Call) -> SimObject:
    return _find(realm, call, realm.role_kind, "roleId", "Role")


def _selected(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    return store.select_fields(data, call.request.query_list("fields"))


def _touch(row: SimObject) -> SimResponse:
    row.data["updatedAt"] = clock.now_iso()
    row.save(update_fields=["data"])
    return json_response(200, row.data)


# -- roles -------------------------------------------------------------------------


def _permission_sets(body: dict[str, Any]) -> list[str]:
    sets = validation.text_list(body, "permissionSets", required=True)
    for set_id in sets:
        if set_id not in _CUSTOM_SETS:
            raise validation.invalid(
                "permissionSets",
                f"{set_id!r} is not a permission set a custom role can use; "
                f"use one of {', '.join(sorted(_CUSTOM_SETS))}.",
            )
    return sets


def _check_role_name_free(
    realm: Realm, call: Call, name: str, own_id: str = ""
) -> None:
    rows = store.where_text_in(
        store.listed(realm.role_kind, realm.owner_id(call)), "name", [name]
    ).exclude(object_id=own_id)
    if rows.exists():
        raise ApiError(
            409, f"A role named {name!r} already exists: {rows[0].object_id}."
        )


def _admins_with_role(realm: Realm, call: Call, role_id: str) -> list[str]:
    return [
        admin.object_id
        for admin in store.listed(realm.admin_kind, realm.owner_id(call))
        if any(
            a.get("roleId") == role_id for a in admin.data.get("roleAssignments", [])
        )
    ]


def _roles_list(realm: Realm, call: Call) -> SimResponse:
    rows = store.listed(realm.role_kind, realm.owner_id(call))
    for name in ("type", "principalType"):
        values = call.request.query_list(name)
        if values:
            rows = store.where_text_in(rows, name, values)
    items = [_selected(call, row.data) for row in rows.order_by("seq")]
    return json_response(200, {"items": items})


def _role_create(realm: Realm, call: Call) -> SimResponse:
    body = json_body(call)
    name = validation.text(body, "name")
    data = {
        "name": name,
        "description": validation.optional_text(body, "description"),
        "type": "custom",
        "principalType": validation.choice(body, "principalType", PRINCIPAL_TYPES),
        "permissionSets": _permission_sets(body),
    }
    _check_role_name_free(realm, call, name)
    row = store.create_item(realm.role_kind, realm.owner_id(call), data)
    return json_response(201, _selected(call, row.data))


def _role_get(realm: Realm, call: Call) -> SimResponse:
    return json_response(200, _selected(call, _role(realm, call).data))


def _role_update(realm: Realm, call: Call) -> SimResponse:
    row = _role(realm, call)
    body = json_body(call)
    validation.only_fields(
        body, ("name", "description", "permissionSets"), "A role update"
    )
    if row.data.get("type") == "predefined":
        raise ApiError(409, f"Role {row.object_id} is predefined and cannot change.")
    if "name" in body:
        row.data["name"] = validation.text(body, "name")
        _check_role_name_free(realm, call, row.data["name"], own_id=row.object_id)
    if "description" in body:
        row.data["description"] = validation.optional_text(body, "description")
    if "permissionSets" in body:
        row.data["permissionSets"] = _permission_sets(body)
    return _touch(row)


def _role_delete(realm: Realm, call: Call) -> SimResponse:
    row = _role(realm, call)
    if row.data.get("type") == "predefined":
        raise ApiError(
            409, f"Role {row.object_id} is predefined and cannot be deleted."
        )
    holders = _admins_with_role(realm, call, row.object_id)
    if holders:
        raise ApiError(
            409,
            f"Role {row.object_id} is assigned to admin {holders[0]}: remove the "
            "assignment first.",
        )
    row.delete()
    return json_response(200, {"deleted": True})


# -- role assignments ----------------------------------------------------------------


def _assignment(
    realm: Realm, call: Call, body: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Check one role assignment of a request and return it with a new id."""
    role_id = validation.text(body, "roleId", prefix=prefix)
    if store.find(realm.role_kind, realm.owner_id(call), role_id) is None:
        raise validation.invalid(f"{prefix}roleId", f"no role {role_id} exists.")
    assignment: dict[str, Any] = {"id": str(uuid.uuid4()), "roleId": role_id}
    if realm.scope == "partner":
        scope = validation.mapping(body, "scope", required=True)
        scope_type = validation.choice(
            scope, "type", PARTNER_SCOPE_TYPES, prefix=f"{prefix}scope."
        )
        assignment["scope"] = {"type": scope_type}
        if scope_type == "tenant":
            tenant_id = validation.text(scope, "id", prefix=f"{prefix}scope.")
            owned = SimTenant.objects.filter(
                id=tenant_id, partner_id=realm.owner_id(call)
            ).exists()
            if not owned:
                raise validation.invalid(
                    f"{prefix}scope.id", f"no tenant {tenant_id} of this partner."
                )
            assignment["scope"]["id"] = tenant_id
    return assignment


def _assignments(
    realm: Realm, call: Call, body: dict[str, Any]
) -> list[dict[str, Any]]:
    raw = body.get("roleAssignments") or []
    if not isinstance(raw, list):
        raise validation.invalid("roleAssignments", "send a list of role assignments.")
    found = []
    for position, item in enumerate(raw):
        prefix = f"roleAssignments[{position}]."
        if not isinstance(item, dict):
            raise validation.invalid(f"roleAssignments[{position}]", "send an object.")
        found.append(_assignment(realm, call, item, prefix))
    return found


def _same_assignment(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return left["roleId"] == right["roleId"] and left.get("scope") == right.get("scope")


def _find_assignment(admin: SimObject, assignment_id: str) -> dict[str, Any]:
    for assignment in admin.data.get("roleAssignments", []):
        if assignment.get("id") == assignment_id:
            found: dict[str, Any] = assignment
            return found
    raise ApiError(
        404, f"Role assignment {assignment_id} of admin {admin.object_id} not found."
    )


def _assignments_list(realm: Realm, call: Call) -> SimResponse:
    admin = _admin(realm, call)
    return json_response(200, {"items": admin.data.get("roleAssignments", [])})


def _assignment_create(realm: Realm, call: Call) -> SimResponse:
    admin = _admin(realm, call)
    assignment = _assignment(realm, call, json_body(call), "")
    current = admin.data.setdefault("roleAssignments", [])
    if any(_same_assignment(item, assignment) for item in current):
        raise validation.invalid(
            "roleId", f"admin {admin.object_id} already has this role in this scope."
        )
    current.append(assignment)
    _touch(admin)
    return json_response(201, assignment)


def _assignment_get(realm: Realm, call: Call) -> SimResponse:
    admin = _admin(realm, call)
    return json_response(200, _find_assignment(admin, call.params["assignmentId"]))


def _assignment_delete(realm: Realm, call: Call) -> SimResponse:
    admin = _admin(realm, call)
    assignment = _find_assignment(admin, call.params["assignmentId"])
    admin.data["roleAssignments"].remove(assignment)
    _touch(admin)
    return json_response(200, {"deleted": True})


# -- admins ---------------------------------------------------------------------------


def _admins_page(realm: Realm, call: Call, rows: QuerySet[SimObject]) -> SimResponse:
    request = call.request
    text = request.query_last("search")
    if text:
        paths = ["username", "profile__name", "profile__email"]
        rows = store.where_any_text_contains(rows, paths, text)
    emails = request.query_list("email")
    if emails:
        rows = store.where_any_text_contains_any(
            rows, ["username", "profile__email"], emails
        )
    role_ids = request.query_list("roleId")
    if role_ids:
        holders = {
            admin_id
            for role_id in role_ids
            for admin_id in _admins_with_role(realm, call, role_id)
        }
        rows = rows.filter(object_id__in=holders)
    # NOTE: withAccessToTenant and sort are not applied.
    paging = parse_number_paging(request, ADMINS_MAX_PAGE_SIZE)
    return json_response(
        200, number_page(rows, paging, lambda row: _selected(call, row.data))
    )


def _admins_list(realm: Realm, call: Call) -> SimResponse:
    return _admins_page(
        realm, call, store.listed(realm.admin_kind, realm.owner_id(call))
    )


def _admin_get(realm: Realm, call: Call) -> SimResponse:
    return json_response(200, _selected(call, _admin(realm, call).data))


_PROFILE_FIELDS = ("name", "firstName", "lastName", "phone", "mobile", "fax")


def _partner_admin_create(call: Call) -> SimResponse:
    body = json_body(call)
    username = validation.text(body, "username")
    if "@" not in username:
        raise validation.invalid("username", f"{username!r} is not an email address.")
    raw_profile = validation.mapping(body, "profile")
    profile = {
        field: validation.optional_text(raw_profile, field, prefix="profile.")
        for field in _PROFILE_FIELDS
        if field in raw_profile
    }
    profile.setdefault(
        "name",
        " ".join(filter(None, (profile.get("firstName"), profile.get("lastName"))))
        or username,
    )

    partner_id = PARTNER.owner_id(call)
    existing = store.where_text_in(
        store.listed(PARTNER.admin_kind, partner_id), "username", [username]
    )
    if existing.exists():
        raise ApiError(409, f"An admin with username {username} already exists.")

    data = {
        "username": username,
        "profile": profile,
        "active": True,
        "primary": False,
        "roleAssignments": _assignments(PARTNER, call, body),
    }
    row = store.create_item(PARTNER.admin_kind, partner_id, data)
    return json_response(201, row.data)


def _tenant_admin_create(call: Call) -> SimResponse:
    body = json_body(call)
    tenant_id = TENANT.owner_id(call)
    user_id = validation.text(body, "userId")
    user = store.find(USER_KIND, tenant_id, user_id)
    if user is None:
        raise ApiError(404, f"User {user_id} not found.")
    for admin in store.listed(TENANT.admin_kind, tenant_id):
        if any(item.get("id") == user_id for item in admin.data.get("users", [])):
            raise validation.invalid(
                "userId", f"user {user_id} is already admin {admin.object_id}."
            )
    profile = {
        "name": user.data.get("name", ""),
        "firstName": user.data.get("firstName", ""),
        "lastName": user.data.get("lastName", ""),
        "email": user.data.get("email", ""),
    }
    data = {
        "tenant": {"id": tenant_id},
        "users": [{"id": user.object_id, "name": user.data.get("name", "")}],
        "profile": profile,
        "roleAssignments": _assignments(TENANT, call, body),
    }
    row = store.create_item(TENANT.admin_kind, tenant_id, data)
    return json_response(201, _selected(call, row.data))


def _super_roles(call: Call) -> set[str]:
    """Return the ids of the tenant's roles that grant Super Admin."""
    return {
        role.object_id
        for role in store.listed(TENANT.role_kind, TENANT.owner_id(call))
        if SUPER_ADMIN_SET in role.data.get("permissionSets", [])
    }


def _super_admins(call: Call) -> set[str]:
    """Return the ids of the tenant's admins with a Super Admin role."""
    super_roles = _super_roles(call)
    return {
        admin.object_id
        for admin in store.listed(TENANT.admin_kind, TENANT.owner_id(call))
        if any(
            a.get("roleId") in super_roles
            for a in admin.data.get("roleAssignments", [])
        )
    }


def _last_super_admin_conflict(admin: SimObject) -> ApiError:
    return ApiError(
        409,
        f"Admin {admin.object_id} is the tenant's last Super Admin. Give another "
        "admin the Super Admin role first.",
    )


def _tenant_admin_delete(call: Call) -> SimResponse:
    admin = _admin(TENANT, call)
    if _super_admins(call) == {admin.object_id}:
        raise _last_super_admin_conflict(admin)
    admin.delete()
    return json_response(200, {"deleted": True})


def _tenant_assignment_delete(call: Call) -> SimResponse:
    """Remove a tenant admin's role, keeping at least one Super Admin.

    NOTE/sophos-api: Sophos documents the 409 for deleting the last Super
    Admin. For removing that admin's last Super Admin role it documents no
    conflict, so the 409 here is assumed from the same rule.
    """
    admin = _admin(TENANT, call)
    assignment = _find_assignment(admin, call.params["assignmentId"])
    super_roles = _super_roles(call)
    other_super_assignments = [
        item
        for item in admin.data.get("roleAssignments", [])
        if item is not assignment and item.get("roleId") in super_roles
    ]
    last = _super_admins(call) == {admin.object_id}
    removes_super = assignment.get("roleId") in super_roles
    if last and removes_super and not other_super_assignments:
        raise _last_super_admin_conflict(admin)
    return _assignment_delete(TENANT, call)


# -- routes ---------------------------------------------------------------------------


def _bind(realm: Realm, serve: Any) -> Handler:
    def handler(call: Call) -> SimResponse:
        response: SimResponse = serve(realm, call)
        return response

    handler.__name__ = f"{realm.scope}_{serve.__name__.lstrip('_')}"
    return handler


_SHARED_ROUTES = (
    ("GET", "/admins", _admins_list),
    ("GET", "/admins/{adminId}", _admin_get),
    ("GET", "/admins/{adminId}/role-assignments", _assignments_list),
    ("POST", "/admins/{adminId}/role-assignments", _assignment_create),
    ("GET", "/admins/{adminId}/role-assignments/{assignmentId}", _assignment_get),
    ("GET", "/roles", _roles_list),
    ("POST", "/roles", _role_create),
    ("GET", "/roles/{roleId}", _role_get),
    ("PATCH", "/roles/{roleId}", _role_update),
    ("DELETE", "/roles/{roleId}", _role_delete),
)
for _realm in (PARTNER, TENANT):
    for _method, _suffix, _serve in _SHARED_ROUTES:
        router.add(
            _method, f"/{_realm.prefix}{_suffix}", _realm.scope, _bind(_realm, _serve)
        )
router.add("POST", "/partner/v1/admins", "partner", _partner_admin_create)
router.add("POST", "/common/v1/admins", "tenant", _tenant_admin_create)
router.add("DELETE", "/common/v1/admins/{adminId}", "tenant", _tenant_admin_delete)
_ASSIGNMENT_PATH = "/admins/{adminId}/role-assignments/{assignmentId}"
router.add(
    "DELETE",
    f"/{PARTNER.prefix}{_ASSIGNMENT_PATH}",
    "partner",
    _bind(PARTNER, _assignment_delete),
)
router.add(
    "DELETE", f"/{TENANT.prefix}{_ASSIGNMENT_PATH}", "tenant", _tenant_assignment_delete
)
