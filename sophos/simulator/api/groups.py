"""Endpoint groups and their members.

An endpoint's membership is its own ``group`` field, as the endpoint JSON
shows it, so a group's member list is a filter over the tenant's endpoints
and an endpoint is in one group at most.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sophos import catalog
from sophos.simulator import clock, store
from sophos.simulator.api.endpoint_controls import find_endpoint
from sophos.simulator.api.endpoints import ENDPOINT_KIND, render_endpoint
from sophos.simulator.api.resources import apply_filters, json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import (
    key_page,
    number_page,
    parse_key_paging,
    parse_number_paging,
)
from sophos.simulator.routing import Call, router

GROUP_KIND = "endpoint/v1/endpoint-groups"
GROUP_TYPES = {"computer", "server"}
# NOTE/sophos-api: the largest endpoint group page is unverified.
GROUPS_MAX_PAGE_SIZE = 100
# The collection's documentation gives 1000, its own example shows 500.
MEMBERS_MAX_PAGE_SIZE = 500


def request_ids(call: Call) -> list[str]:
    """Read ``ids`` from the query string or, as some clients send it, the body."""
    ids = call.request.query_list("ids")
    if not ids and call.request.body.strip():
        body = json_body(call)
        raw = body.get("ids", [])
        if not isinstance(raw, list):
            raise ApiError(400, "Invalid ids: send a list of ids.")
        ids = [str(item) for item in raw]
    if not ids:
        raise ApiError(400, "Missing ids: send the ids to add or remove.")
    return ids


def _members(tenant_id: str, group_id: str) -> QuerySet[SimObject]:
    endpoints = store.listed(ENDPOINT_KIND, tenant_id)
    return store.where_text_in(endpoints, "group__id", [group_id])


def render_group(row: SimObject) -> dict[str, Any]:
    """Return the group JSON with its current member summary."""
    ids = list(
        _members(row.scope_id, row.object_id)
        .order_by("seq")
        .values_list("object_id", flat=True)
    )
    return {
        **row.data,
        "endpoints": {
            "total": len(ids),
            "itemsCount": len(ids),
            "items": [{"id": endpoint_id} for endpoint_id in ids],
        },
    }


def _find_group(call: Call) -> SimObject:
    group_id = call.params["groupId"]
    row = store.find(GROUP_KIND, call.require_tenant().id, group_id)
    if row is None:
        raise ApiError(404, f"Endpoint group {group_id} not found.")
    return row


def _list_groups(call: Call, rows: QuerySet[SimObject]) -> SimResponse:
    paging = parse_number_paging(call.request, GROUPS_MAX_PAGE_SIZE)
    fields = call.request.query_list("fields")

    def render(row: SimObject) -> dict[str, Any]:
        return store.select_fields(render_group(row), fields)

    return json_response(200, number_page(rows, paging, render))


def _containing(call: Call, rows: QuerySet[SimObject]) -> QuerySet[SimObject]:
    """Keep the groups that contain one of the ``endpointIds`` endpoints."""
    endpoint_ids = call.request.query_list("endpointIds")
    if not endpoint_ids:
        return rows
    endpoints = store.listed(ENDPOINT_KIND, call.require_tenant().id).filter(
        object_id__in=endpoint_ids
    )
    group_ids = set()
    for endpoint in endpoints:
        group = endpoint.data.get("group")
        if isinstance(group, dict) and group.get("id"):
            group_ids.add(str(group["id"]))
    return rows.filter(object_id__in=group_ids)


@router.route("GET", "/endpoint/v1/endpoint-groups", "tenant")
def groups_list(call: Call) -> SimResponse:
    operation = catalog.get("endpoint_groups_list")
    rows = store.listed(GROUP_KIND, call.require_tenant().id)
    rows = _containing(call, apply_filters(operation, call, rows))
    return _list_groups(call, rows)


@router.route("GET", "/endpoint/v1/endpoint-groups/types/{groupType}", "tenant")
def groups_by_type(call: Call) -> SimResponse:
    group_type = call.params["groupType"]
    if group_type not in GROUP_TYPES:
        raise ApiError(
            400, f"Invalid groupType {group_type!r}: use computer or server."
        )
    operation = catalog.get("endpoint_groups_by_type_list")
    rows = store.where_text_in(
        store.listed(GROUP_KIND, call.require_tenant().id), "type", [group_type]
    )
    rows = _containing(call, apply_filters(operation, call, rows))
    return _list_groups(call, rows)


@router.route("POST", "/endpoint/v1/endpoint-groups", "tenant")
def group_create(call: Call) -> SimResponse:
    body = json_body(call, required=("name", "type"))
    if body["type"] not in GROUP_TYPES:
        raise ApiError(400, f"Invalid type {body['type']!r}: use computer or server.")
    tenant = call.require_tenant()
    member_ids = [str(i) for i in body.pop("endpointIds", None) or []]
    data = {
        "name": body["name"],
        "description": body.get("description", ""),
        "type": body["type"],
        "tenant": {"id": tenant.id},
    }
    row = store.create_item(GROUP_KIND, tenant.id, data)
    _add_members(call, row, member_ids)
    return json_response(201, render_group(row))


@router.route("GET", "/endpoint/v1/endpoint-groups/{groupId}", "tenant")
def group_get(call: Call) -> SimResponse:
    row = _find_group(call)
    fields = call.request.query_list("fields")
    return json_response(200, store.select_fields(render_group(row), fields))


@router.route("PATCH", "/endpoint/v1/endpoint-groups/{groupId}", "tenant")
def group_update(call: Call) -> SimResponse:
    row = _find_group(call)
    body = json_body(call)
    changes = {k: body[k] for k in ("name", "description") if k in body}
    store.merge(row, changes)
    if "name" in changes:
        for endpoint in _members(row.scope_id, row.object_id):
            endpoint.data["group"] = {"id": row.object_id, "name": changes["name"]}
            endpoint.save(update_fields=["data"])
    return json_response(200, render_group(row))


@router.route("DELETE", "/endpoint/v1/endpoint-groups/{groupId}", "tenant")
def group_delete(call: Call) -> SimResponse:
    row = _find_group(call)
    for endpoint in _members(row.scope_id, row.object_id):
        endpoint.data.pop("group", None)
        endpoint.save(update_fields=["data"])
    row.delete()
    return json_response(200, {"deleted": True})


@router.route("GET", "/endpoint/v1/endpoint-groups/{groupId}/endpoints", "tenant")
def group_endpoints_list(call: Call) -> SimResponse:
    row = _find_group(call)
    paging = parse_key_paging(call.request, MEMBERS_MAX_PAGE_SIZE)

    def render(endpoint: SimObject) -> dict[str, Any]:
        return render_endpoint(endpoint.data, call.request)

    members = _members(row.scope_id, row.object_id)
    return json_response(200, key_page(members, paging, render))


def _add_members(
    call: Call, group: SimObject, endpoint_ids: list[str]
) -> dict[str, Any]:
    added, not_found, wrong_type = [], [], []
    for endpoint_id in endpoint_ids:
        endpoint = store.find(ENDPOINT_KIND, group.scope_id, endpoint_id)
        if endpoint is None:
            not_found.append(endpoint_id)
            continue
        if endpoint.data.get("type") != group.data["type"]:
            wrong_type.append(endpoint_id)
            continue
        endpoint.data["group"] = {"id": group.object_id, "name": group.data["name"]}
        endpoint.save(update_fields=["data"])
        added.append({"id": endpoint_id})
    store.merge(group, {"updatedAt": clock.now_iso()})
    return {
        "addedEndpoints": added,
        "errors": {"endpointsNotFound": not_found, "endpointsOfWrongType": wrong_type},
    }


@router.route("POST", "/endpoint/v1/endpoint-groups/{groupId}/endpoints", "tenant")
def group_endpoints_add(call: Call) -> SimResponse:
    group = _find_group(call)
    ids = json_body(call, required=("ids",))["ids"]
    if not isinstance(ids, list):
        raise ApiError(400, "Invalid ids: send a list of endpoint ids.")
    return json_response(201, _add_members(call, group, [str(i) for i in ids]))


@router.route("DELETE", "/endpoint/v1/endpoint-groups/{groupId}/endpoints", "tenant")
def group_endpoints_remove(call: Call) -> SimResponse:
    group = _find_group(call)
    removed, not_found = [], []
    for endpoint_id in request_ids(call):
        endpoint = store.find(ENDPOINT_KIND, group.scope_id, endpoint_id)
        in_group = endpoint is not None and (
            endpoint.data.get("group", {}).get("id") == group.object_id
        )
        if endpoint is None or not in_group:
            not_found.append(endpoint_id)
            continue
        endpoint.data.pop("group", None)
        endpoint.save(update_fields=["data"])
        removed.append({"id": endpoint_id})
    return json_response(
        200, {"removedEndpoints": removed, "errors": {"endpointsNotFound": not_found}}
    )


@router.route(
    "DELETE", "/endpoint/v1/endpoint-groups/{groupId}/endpoints/{endpointId}", "tenant"
)
def group_endpoint_remove(call: Call) -> SimResponse:
    group = _find_group(call)
    endpoint = find_endpoint(call, call.params["endpointId"])
    if endpoint.data.get("group", {}).get("id") != group.object_id:
        raise ApiError(
            404, f"Endpoint {endpoint.object_id} is not in group {group.object_id}."
        )
    endpoint.data.pop("group", None)
    endpoint.save(update_fields=["data"])
    return json_response(200, {"removed": True})
