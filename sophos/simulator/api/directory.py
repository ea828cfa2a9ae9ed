"""Directory users, user groups and the memberships between them.

A membership is stored twice, once under the user and once under the group,
so that both member lists are plain paged collections. Users and groups are
rendered with a summary of their memberships, and member lists with the
current data of each member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from sophos.simulator import clock, store, validation
from sophos.simulator.api.groups import request_ids
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.routing import Call, router

USER_KIND = "common/v1/directory/users"
USER_GROUP_KIND = "common/v1/directory/user-groups"
USER_GROUPS_KIND = "common/v1/directory/users/{userId}/groups"
GROUP_USERS_KIND = "common/v1/directory/user-groups/{groupId}/users"
# The tenant admins, whose ``users`` name directory users (see ``admins``).
TENANT_ADMIN_KIND = "common/v1/admins"
# NOTE/sophos-api: the largest directory page is unverified.
DIRECTORY_MAX_PAGE_SIZE = 100
SOURCE_TYPES = ("custom", "activeDirectory", "azureActiveDirectory")
USER_SEARCH_FIELDS = ("name", "firstName", "lastName", "email", "exchangeLogin")
GROUP_SEARCH_FIELDS = ("name", "description")
_USER_FIELDS = ("name", "firstName", "lastName", "email", "exchangeLogin")


def _find(kind: str, noun: str, call: Call, object_id: str) -> SimObject:
    row = store.find(kind, call.require_tenant().id, object_id)
    if row is None:
        raise ApiError(404, f"{noun} {object_id} not found.")
    return row


def _summary(row: SimObject) -> dict[str, Any]:
    return {"id": row.object_id, "name": row.data.get("name", "")}


def _member_ids(kind: str, scope_id: str, parent_id: str) -> list[str]:
    rows = store.listed(kind, scope_id, parent_id).order_by("seq")
    return list(rows.values_list("object_id", flat=True))


def _with_members(row: SimObject, field: str, kind: str) -> dict[str, Any]:
    ids = _member_ids(kind, row.scope_id, row.object_id)
    return {
        **row.data,
        field: {
            "total": len(ids),
            "itemsCount": len(ids),
            "items": [{"id": member_id} for member_id in ids],
        },
    }


def render_user(row: SimObject) -> dict[str, Any]:
    """Return the user JSON with the groups the user is in."""
    return _with_members(row, "groups", USER_GROUPS_KIND)


def render_user_group(row: SimObject) -> dict[str, Any]:
    """Return the group JSON with the users in it."""
    return _with_members(row, "users", GROUP_USERS_KIND)


def add_membership(user: SimObject, group: SimObject) -> None:
    """Record that ``user`` is in ``group``; adding it twice changes nothing."""
    if store.find(GROUP_USERS_KIND, group.scope_id, user.object_id, group.object_id):
        return
    store.create(
        GROUP_USERS_KIND,
        group.scope_id,
        user.object_id,
        _summary(user),
        group.object_id,
    )
    store.create(
        USER_GROUPS_KIND,
        user.scope_id,
        group.object_id,
        _summary(group),
        user.object_id,
    )


def remove_membership(user_id: str, group: SimObject) -> bool:
    """Remove one membership and return whether it existed."""
    deleted, _ = SimObject.objects.filter(
        kind=GROUP_USERS_KIND,
        scope_id=group.scope_id,
        parent_id=group.object_id,
        object_id=user_id,
    ).delete()
    SimObject.objects.filter(
        kind=USER_GROUPS_KIND,
        scope_id=group.scope_id,
        parent_id=user_id,
        object_id=group.object_id,
    ).delete()
    return bool(deleted)


def _id_list(call: Call) -> list[str]:
    return validation.id_list(json_body(call), "ids")


def _tenant_ref(tenant: SimTenant) -> dict[str, str]:
    return {"id": tenant.id, "name": str(tenant.data.get("name", ""))}


def _tenant_domain(tenant: SimTenant) -> str:
    email = str(tenant.data.get("contact", {}).get("email", ""))
    return email.rsplit("@", 1)[-1] if "@" in email else ""


def _filter(
    call: Call,
    rows: QuerySet[SimObject],
    search_fields: tuple[str, ...],
    member_filter: tuple[str, str] | None,
) -> QuerySet[SimObject]:
    """Apply ``ids``, ``search``, ``sourceType``, ``domain`` and a member filter.

    ``member_filter`` names the query parameter that selects the objects
    linked to one id, and the membership kind that links them.
    """
    request = call.request
    ids = request.query_list("ids")
    if ids:
        rows = rows.filter(object_id__in=ids)
    source_types = request.query_list("sourceType")
    if source_types:
        rows = store.where_text_in(rows, "source__type", source_types)
    domains = request.query_list("domain")
    if domains:
        rows = store.where_text_in(rows, "domain", domains)
    text = request.query_last("search")
    if text:
        fields = request.query_list("searchFields") or list(search_fields)
        unknown = [name for name in fields if name not in search_fields]
        if unknown:
            raise ApiError(
                400,
                f"Invalid searchFields value {unknown[0]!r}: use one of "
                f"{', '.join(search_fields)}.",
            )
        rows = store.where_any_text_contains(rows, fields, text)
    if member_filter is not None:
        parameter, kind = member_filter
        linked_to = request.query_last(parameter)
        if linked_to:
            ids = _member_ids(kind, call.require_tenant().id, linked_to)
            rows = rows.filter(object_id__in=ids)
    return rows


def _page(
    call: Call, rows: QuerySet[SimObject], render: Callable[[SimObject], Any]
) -> SimResponse:
    paging = parse_number_paging(call.request, DIRECTORY_MAX_PAGE_SIZE)
    fields = call.request.query_list("fields")

    def render_selected(row: SimObject) -> dict[str, Any]:
        return store.select_fields(render(row), fields)

    return json_response(200, number_page(rows, paging, render_selected))


# -- users -----------------------------------------------------------------------


def _user_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "name" in body:
        fields["name"] = validation.text(body, "name")
    for name in _USER_FIELDS[1:]:
        if not partial or name in body:
            fields[name] = validation.optional_text(body, name)
    email = fields.get("email")
    if email and ("@" not in email or email.startswith("@")):
        raise validation.invalid("email", f"{email!r} is not an email address.")
    return fields


def _check_email_free(call: Call, email: str, own_id: str = "") -> None:
    if not email:
        return
    existing = store.where_text_in(
        store.listed(USER_KIND, call.require_tenant().id), "email", [email]
    ).exclude(object_id=own_id)
    if existing.exists():
        raise ApiError(
            409, f"A user with email {email} already exists: {existing[0].object_id}."
        )


@router.route("GET", "/common/v1/directory/users", "tenant")
def users_list(call: Call) -> SimResponse:
    rows = store.listed(USER_KIND, call.require_tenant().id)
    rows = _filter(call, rows, USER_SEARCH_FIELDS, ("groupId", GROUP_USERS_KIND))
    return _page(call, rows, render_user)


@router.route("POST", "/common/v1/directory/users", "tenant")
def user_create(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    body = json_body(call)
    fields = _user_fields(body, partial=False)
    group_ids = validation.id_list(body, "groupIds", required=False)
    groups = [_find(USER_GROUP_KIND, "User group", call, i) for i in group_ids]
    _check_email_free(call, fields["email"])
    email = fields["email"]
    data = {
        **fields,
        "domain": email.rsplit("@", 1)[-1] if email else _tenant_domain(tenant),
        "tenant": _tenant_ref(tenant),
        "source": {"type": "custom"},
    }
    user = store.create_item(USER_KIND, tenant.id, data)
    for group in groups:
        add_membership(user, group)
    return json_response(201, render_user(user))


@router.route("GET", "/common/v1/directory/users/{userId}", "tenant")
def user_get(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    fields = call.request.query_list("fields")
    return json_response(200, store.select_fields(render_user(user), fields))


def _refresh_summaries(kind: str, scope_id: str, object_id: str, name: str) -> None:
    """Rename the stored membership summaries of a renamed user or group."""
    for row in SimObject.objects.filter(
        kind=kind, scope_id=scope_id, object_id=object_id
    ):
        row.data["name"] = name
        row.save(update_fields=["data"])


@router.route("PATCH", "/common/v1/directory/users/{userId}", "tenant")
def user_update(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    body = json_body(call)
    validation.only_fields(body, _USER_FIELDS, "A user update")
    if user.data.get("source", {}).get("type", "custom") != "custom":
        raise ApiError(
            409, f"User {user.object_id} is synchronized from a directory service."
        )
    changes = _user_fields(body, partial=True)
    if changes.get("email"):
        _check_email_free(call, changes["email"], own_id=user.object_id)
        changes["domain"] = changes["email"].rsplit("@", 1)[-1]
    store.merge(user, {**changes, "updatedAt": clock.now_iso()})
    if "name" in changes:
        _refresh_summaries(
            GROUP_USERS_KIND, user.scope_id, user.object_id, changes["name"]
        )
    return json_response(200, render_user(user))


@router.route("DELETE", "/common/v1/directory/users/{userId}", "tenant")
def user_delete(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    for admin in store.listed(TENANT_ADMIN_KIND, user.scope_id):
        if any(
            item.get("id") == user.object_id for item in admin.data.get("users", [])
        ):
            raise ApiError(
                409,
                f"User {user.object_id} is admin {admin.object_id}: delete the "
                "admin first.",
            )
    for membership in store.listed(USER_GROUPS_KIND, user.scope_id, user.object_id):
        group = store.find(USER_GROUP_KIND, user.scope_id, membership.object_id)
        if group is not None:
            remove_membership(user.object_id, group)
    user.delete()
    return json_response(200, {"deleted": True})


# -- user groups -------------------------------------------------------------------


def _check_group_name_free(call: Call, name: str, own_id: str = "") -> None:
    rows = store.where_text_in(
        store.listed(USER_GROUP_KIND, call.require_tenant().id), "name", [name]
    ).exclude(object_id=own_id)
    if rows.exists():
        raise ApiError(
            409, f"A user group named {name!r} already exists: {rows[0].object_id}."
        )


@router.route("GET", "/common/v1/directory/user-groups", "tenant")
def user_groups_list(call: Call) -> SimResponse:
    rows = store.listed(USER_GROUP_KIND, call.require_tenant().id)
    rows = _filter(call, rows, GROUP_SEARCH_FIELDS, ("userId", USER_GROUPS_KIND))
    return _page(call, rows, render_user_group)


@router.route("POST", "/common/v1/directory/user-groups", "tenant")
def user_group_create(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    body = json_body(call)
    name = validation.text(body, "name")
    description = validation.optional_text(body, "description")
    user_ids = validation.id_list(body, "userIds", required=False)
    users = [_find(USER_KIND, "User", call, user_id) for user_id in user_ids]
    _check_group_name_free(call, name)
    data = {
        "name": name,
        "description": description,
        "domain": _tenant_domain(tenant),
        "source": {"type": "custom"},
        "tenant": _tenant_ref(tenant),
    }
    group = store.create_item(USER_GROUP_KIND, tenant.id, data)
    for user in users:
        add_membership(user, group)
    return json_response(201, render_user_group(group))


@router.route("GET", "/common/v1/directory/user-groups/{groupId}", "tenant")
def user_group_get(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    fields = call.request.query_list("fields")
    return json_response(200, store.select_fields(render_user_group(group), fields))


@router.route("PATCH", "/common/v1/directory/user-groups/{groupId}", "tenant")
def user_group_update(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    body = json_body(call)
    validation.only_fields(body, ("name", "description"), "A user group update")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = validation.text(body, "name")
        _check_group_name_free(call, changes["name"], own_id=group.object_id)
    if "description" in body:
        changes["description"] = validation.optional_text(body, "description")
    store.merge(group, {**changes, "updatedAt": clock.now_iso()})
    if "name" in changes:
        _refresh_summaries(
            USER_GROUPS_KIND, group.scope_id, group.object_id, changes["name"]
        )
    return json_response(200, render_user_group(group))


@router.route("DELETE", "/common/v1/directory/user-groups/{groupId}", "tenant")
def user_group_delete(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    if store.listed(GROUP_USERS_KIND, group.scope_id, group.object_id).exists():
        raise ApiError(
            409, f"User group {group.object_id} has members: remove them first."
        )
    group.delete()
    return json_response(200, {"deleted": True})


# -- memberships -------------------------------------------------------------------


def _linked(
    call: Call, link_kind: str, parent_id: str, target_kind: str
) -> QuerySet[SimObject]:
    """Return the users or groups that the membership rows under a parent name."""
    tenant_id = call.require_tenant().id
    ids = _member_ids(link_kind, tenant_id, parent_id)
    return store.listed(target_kind, tenant_id).filter(object_id__in=ids)


@router.route("GET", "/common/v1/directory/users/{userId}/groups", "tenant")
def user_memberships_list(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    rows = _linked(call, USER_GROUPS_KIND, user.object_id, USER_GROUP_KIND)
    rows = _filter(call, rows, GROUP_SEARCH_FIELDS, None)
    return _page(call, rows, render_user_group)


@router.route("GET", "/common/v1/directory/user-groups/{groupId}/users", "tenant")
def user_group_users_list(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    rows = _linked(call, GROUP_USERS_KIND, group.object_id, USER_KIND)
    rows = _filter(call, rows, USER_SEARCH_FIELDS, None)
    return _page(call, rows, render_user)


@router.route("POST", "/common/v1/directory/users/{userId}/groups", "tenant")
def user_groups_add(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    added, not_found = [], []
    for group_id in _id_list(call):
        group = store.find(USER_GROUP_KIND, user.scope_id, group_id)
        if group is None:
            not_found.append(group_id)
            continue
        add_membership(user, group)
        added.append({"id": group_id})
    return json_response(
        201, {"addedToGroups": added, "errors": {"groupsNotFound": not_found}}
    )


@router.route("DELETE", "/common/v1/directory/users/{userId}/groups", "tenant")
def user_groups_remove(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    removed, not_found = [], []
    for group_id in request_ids(call):
        group = store.find(USER_GROUP_KIND, user.scope_id, group_id)
        if group is None or not remove_membership(user.object_id, group):
            not_found.append(group_id)
            continue
        removed.append({"id": group_id})
    return json_response(
        200, {"removedFromGroups": removed, "errors": {"groupsNotFound": not_found}}
    )


@router.route("POST", "/common/v1/directory/user-groups/{groupId}/users", "tenant")
def group_users_add(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    added, not_found = [], []
    for user_id in _id_list(call):
        user = store.find(USER_KIND, group.scope_id, user_id)
        if user is None:
            not_found.append(user_id)
            continue
        add_membership(user, group)
        added.append({"id": user_id})
    return json_response(
        201, {"addedUsers": added, "errors": {"usersNotFound": not_found}}
    )


@router.route("DELETE", "/common/v1/directory/user-groups/{groupId}/users", "tenant")
def group_users_remove(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    removed, not_found = [], []
    for user_id in request_ids(call):
        if not remove_membership(user_id, group):
            not_found.append(user_id)
            continue
        removed.append({"id": user_id})
    return json_response(
        200, {"removedUsers": removed, "errors": {"usersNotFound": not_found}}
    )
