"""Directory users, user groups and the memberships between them.

A membership is stored twice, once under the user and once under the group,
so that both member lists are plain paged collections.
"""

from __future__ import annotations

from typing import Any

from sophos.simulator import store
from sophos.simulator.api.groups import request_ids
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

USER_KIND = "common/v1/directory/users"
USER_GROUP_KIND = "common/v1/directory/user-groups"
USER_GROUPS_KIND = "common/v1/directory/users/{userId}/groups"
GROUP_USERS_KIND = "common/v1/directory/user-groups/{groupId}/users"


def _find(kind: str, noun: str, call: Call, object_id: str) -> SimObject:
    row = store.find(kind, call.require_tenant().id, object_id)
    if row is None:
        raise ApiError(404, f"{noun} {object_id} not found.")
    return row


def _summary(row: SimObject) -> dict[str, Any]:
    return {"id": row.object_id, "name": row.data.get("name", "")}


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
    ids = json_body(call, required=("ids",))["ids"]
    if not isinstance(ids, list):
        raise ApiError(400, "Invalid ids: send a list of ids.")
    return [str(i) for i in ids]


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


@router.route("DELETE", "/common/v1/directory/user-groups/{groupId}", "tenant")
def user_group_delete(call: Call) -> SimResponse:
    group = _find(USER_GROUP_KIND, "User group", call, call.params["groupId"])
    if store.listed(GROUP_USERS_KIND, group.scope_id, group.object_id).exists():
        raise ApiError(
            409, f"User group {group.object_id} has members: remove them first."
        )
    group.delete()
    return json_response(200, {"deleted": True})


@router.route("DELETE", "/common/v1/directory/users/{userId}", "tenant")
def user_delete(call: Call) -> SimResponse:
    user = _find(USER_KIND, "User", call, call.params["userId"])
    for membership in store.listed(USER_GROUPS_KIND, user.scope_id, user.object_id):
        group = store.find(USER_GROUP_KIND, user.scope_id, membership.object_id)
        if group is not None:
            remove_membership(user.object_id, group)
    user.delete()
    return json_response(200, {"deleted": True})
