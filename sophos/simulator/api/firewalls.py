"""Firewalls and firewall groups: updates, actions, firmware upgrades, groups.

Listing, reading and deleting firewalls is the generic collection handling
of ``resources``. A firewall's group is its own ``group`` field, as the
firewall JSON shows it, so a group's member list is a filter over the
tenant's firewalls, like endpoint groups.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sophos.simulator import clock, store, validation
from sophos.simulator.api.endpoint_controls import actor
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.params import parse_time_text
from sophos.simulator.routing import Call, router

FIREWALL_KIND = "firewall/v1/firewalls"
FIREWALL_GROUP_KIND = "firewall/v1/firewall-groups"
# NOTE/sophos-api: approveManagement is the only action value that Sophos's
# collection shows; the others are assumed.
FIREWALL_ACTIONS = {"approveManagement", "reboot", "syncConfig"}
# The firmware the simulator offers as the upgrade for every firewall.
LATEST_FIRMWARE = "SFOS 21.0.1 MR-1-Build270"
# NOTE/sophos-api: no documented read shows a scheduled firmware upgrade.
# The simulator keeps it in this field of the firewall JSON, so the
# firewall list shows it until it is cancelled.
UPGRADE_FIELD = "firmwareUpgrade"
# NOTE/sophos-api: the largest firewall group page is unverified.
GROUPS_MAX_PAGE_SIZE = 100


def find_firewall(call: Call, firewall_id: str, field: str = "") -> SimObject:
    """Return a firewall; with ``field`` an unknown id is a 400 naming it."""
    row = store.find(FIREWALL_KIND, call.require_tenant().id, firewall_id)
    if row is None:
        if field:
            raise validation.invalid(field, f"no firewall {firewall_id} exists.")
        raise ApiError(404, f"Firewall {firewall_id} not found.")
    return row


def _changed_by(call: Call, row: SimObject) -> None:
    row.data["updatedAt"] = clock.now_iso()
    row.data["updatedBy"] = actor(call)
    row.save(update_fields=["data"])


# -- firewalls ---------------------------------------------------------------------


def _coordinate(location: dict[str, Any], name: str, limit: float) -> str:
    field = f"geoLocation.{name}"
    raw = location.get(name)
    if raw is None:
        raise validation.missing(field)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise validation.invalid(field, f"{raw!r} is not a number.") from None
    if not -limit <= number <= limit:
        raise validation.invalid(field, f"{raw} is outside -{limit} to {limit}.")
    return str(raw)


@router.route("PATCH", "/firewall/v1/firewalls/{firewallId}", "tenant")
def firewall_update(call: Call) -> SimResponse:
    firewall = find_firewall(call, call.params["firewallId"])
    body = json_body(call)
    validation.only_fields(body, ("name", "geoLocation"), "A firewall update")
    if "name" in body:
        firewall.data["name"] = validation.text(body, "name")
    if "geoLocation" in body:
        location = validation.mapping(body, "geoLocation", required=True)
        firewall.data["geoLocation"] = {
            "latitude": _coordinate(location, "latitude", 90),
            "longitude": _coordinate(location, "longitude", 180),
        }
    _changed_by(call, firewall)
    return json_response(200, firewall.data)


@router.route("POST", "/firewall/v1/firewalls/{firewallId}/action", "tenant")
def firewall_action(call: Call) -> SimResponse:
    firewall = find_firewall(call, call.params["firewallId"])
    action = validation.choice(json_body(call), "action", FIREWALL_ACTIONS)
    if action == "approveManagement":
        status = firewall.data.setdefault("status", {})
        if status.get("managing") == "approved":
            raise validation.invalid(
                "action", f"firewall {firewall.object_id} is already managed."
            )
        status["managing"] = "approved"
        firewall.data["stateChangedAt"] = clock.now_iso()
        _changed_by(call, firewall)
    return json_response(201, {"status": "succeeded", "action": action})


def _requested_firewalls(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return ``firewalls`` as ``[{id, ...}]``; bare ids are accepted."""
    raw = body.get("firewalls")
    if raw is None:
        raise validation.missing("firewalls")
    if not isinstance(raw, list) or not raw:
        raise validation.invalid("firewalls", "send a list of firewalls.")
    items = []
    for position, item in enumerate(raw):
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            raise validation.invalid(f"firewalls[{position}]", "send {id} or an id.")
        validation.text(item, "id", prefix=f"firewalls[{position}].")
        items.append(item)
    return items


def _upgrade_to(firewall: SimObject) -> list[str]:
    return (
        []
        if firewall.data.get("firmwareVersion") == LATEST_FIRMWARE
        else [LATEST_FIRMWARE]
    )


@router.route("POST", "/firewall/v1/firewalls/actions/firmware-upgrade-check", "tenant")
def firmware_upgrade_check(call: Call) -> SimResponse:
    requested = _requested_firewalls(json_body(call))
    firewalls = [
        find_firewall(call, item["id"], field=f"firewalls[{position}]")
        for position, item in enumerate(requested)
    ]
    items = [
        {
            "id": row.object_id,
            "serialNumber": row.data.get("serialNumber", ""),
            "firmwareVersion": row.data.get("firmwareVersion", ""),
            "upgradeToVersion": _upgrade_to(row),
        }
        for row in firewalls
    ]
    versions = [{"version": LATEST_FIRMWARE, "size": "1.2 GB", "bugs": [], "news": []}]
    return json_response(201, {"firewalls": items, "firmwareVersions": versions})


@router.route("POST", "/firewall/v1/firewalls/actions/firmware-upgrade", "tenant")
def firmware_upgrade(call: Call) -> SimResponse:
    requested = _requested_firewalls(json_body(call))
    plans = []
    for position, item in enumerate(requested):
        prefix = f"firewalls[{position}]."
        firewall = find_firewall(call, item["id"], field=f"{prefix}id")
        offered = _upgrade_to(firewall)
        if not offered:
            raise validation.invalid(
                f"{prefix}id",
                f"firewall {firewall.object_id} already runs {LATEST_FIRMWARE}.",
            )
        version = validation.optional_text(
            item, "upgradeToVersion", offered[0], prefix=prefix
        )
        if version not in offered:
            raise validation.invalid(
                f"{prefix}upgradeToVersion",
                f"{version!r} is not offered; use one of {', '.join(offered)}.",
            )
        upgrade_at = _upgrade_time(item, prefix)
        plans.append((firewall, version, upgrade_at))
    results = []
    for firewall, version, upgrade_at in plans:
        firewall.data[UPGRADE_FIELD] = {
            "status": "scheduled",
            "upgradeToVersion": version,
            "upgradeAt": upgrade_at,
            "scheduledAt": clock.now_iso(),
        }
        _changed_by(call, firewall)
        results.append({"id": firewall.object_id, "status": "scheduled"})
    return json_response(201, {"firewalls": results})


def _upgrade_time(item: dict[str, Any], prefix: str) -> str:
    raw = item.get("upgradeAt")
    if raw is None:
        return clock.now_iso()
    if not isinstance(raw, str):
        raise validation.invalid(f"{prefix}upgradeAt", "send an ISO 8601 UTC time.")
    return parse_time_text(raw, f"{prefix}upgradeAt")


def _cancel_ids(call: Call) -> list[str]:
    """Read ``ids`` from the query string, or a JSON list or ``{"ids": [...]}``."""
    ids = call.request.query_list("ids")
    if not ids and call.request.body.strip():
        try:
            body = call.request.json()
        except ValueError:
            raise validation.invalid("ids", "send the firewall ids.") from None
        raw = body.get("ids") if isinstance(body, dict) else body
        if not isinstance(raw, list):
            raise validation.invalid("ids", "send a list of firewall ids.")
        ids = [str(item) for item in raw]
    if not ids:
        raise validation.missing("ids")
    return ids


@router.route("DELETE", "/firewall/v1/firewalls/actions/firmware-upgrade", "tenant")
def firmware_upgrade_cancel(call: Call) -> SimResponse:
    firewalls = [find_firewall(call, firewall_id) for firewall_id in _cancel_ids(call)]
    for firewall in firewalls:
        if UPGRADE_FIELD not in firewall.data:
            raise validation.invalid(
                "ids", f"firewall {firewall.object_id} has no scheduled upgrade."
            )
    for firewall in firewalls:
        firewall.data.pop(UPGRADE_FIELD)
        _changed_by(call, firewall)
    return json_response(200, {"deleted": True})


# -- firewall groups -------------------------------------------------------------


def _members(tenant_id: str, group_id: str) -> QuerySet[SimObject]:
    firewalls = store.listed(FIREWALL_KIND, tenant_id)
    return store.where_text_in(firewalls, "group__id", [group_id])


def render_group(row: SimObject) -> dict[str, Any]:
    """Return the group JSON with its current firewalls."""
    ids = list(
        _members(row.scope_id, row.object_id)
        .order_by("seq")
        .values_list("object_id", flat=True)
    )
    return {
        **row.data,
        "firewalls": {
            "total": len(ids),
            "itemsCount": len(ids),
            "items": [{"id": firewall_id} for firewall_id in ids],
        },
    }


def _find_group(call: Call, group_id: str, field: str = "") -> SimObject:
    row = store.find(FIREWALL_GROUP_KIND, call.require_tenant().id, group_id)
    if row is None:
        if field:
            raise validation.invalid(field, f"no firewall group {group_id} exists.")
        raise ApiError(404, f"Firewall group {group_id} not found.")
    return row


def _assign(group: SimObject | None, firewalls: list[SimObject]) -> None:
    for firewall in firewalls:
        if group is None:
            firewall.data.pop("group", None)
        else:
            firewall.data["group"] = {"id": group.object_id, "name": group.data["name"]}
        firewall.save(update_fields=["data"])


def _firewall_list(call: Call, body: dict[str, Any], field: str) -> list[SimObject]:
    ids = validation.id_list(body, field, required=False)
    return [find_firewall(call, firewall_id, field=field) for firewall_id in ids]


@router.route("GET", "/firewall/v1/firewall-groups", "tenant")
def firewall_groups_list(call: Call) -> SimResponse:
    rows = store.listed(FIREWALL_GROUP_KIND, call.require_tenant().id)
    text = call.request.query_last("search")
    if text:
        rows = store.where_text_contains(rows, "name", text)
    # NOTE: recurseSubgroups is not applied; every group is listed.
    paging = parse_number_paging(call.request, GROUPS_MAX_PAGE_SIZE)
    return json_response(200, number_page(rows, paging, render_group))


@router.route("POST", "/firewall/v1/firewall-groups", "tenant")
def firewall_group_create(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    body = json_body(call)
    name = validation.text(body, "name")
    firewalls = _firewall_list(call, body, "assignFirewalls")
    data: dict[str, Any] = {
        "name": name,
        "tenant": {"id": tenant.id},
        "lockedByManagingAccount": False,
        "createdBy": actor(call),
        "updatedBy": actor(call),
    }

    parent_id = validation.optional_text(body, "parentGroupId")
    if parent_id:
        data["parentGroup"] = {
            "id": _find_group(call, parent_id, "parentGroupId").object_id
        }
    source_id = validation.optional_text(body, "configImportSourceFirewallId")
    if source_id:
        source = find_firewall(call, source_id, field="configImportSourceFirewallId")
        # NOTE/sophos-api: the import finishes at once in the simulator; the
        # create response shows it starting, as Sophos's example does.
        data["configImport"] = {
            "sourceFirewall": {"id": source.object_id},
            "percentComplete": 100,
            "status": "completed",
            "errors": [],
        }

    group = store.create_item(FIREWALL_GROUP_KIND, tenant.id, data)
    _assign(group, firewalls)

    rendered = render_group(group)
    if "configImport" in rendered:
        rendered["configImport"] = {
            **rendered["configImport"],
            "percentComplete": 0,
            "status": "initializing",
        }
    return json_response(201, rendered)


@router.route("PATCH", "/firewall/v1/firewall-groups/{groupId}", "tenant")
def firewall_group_update(call: Call) -> SimResponse:
    group = _find_group(call, call.params["groupId"])
    body = json_body(call)
    validation.only_fields(
        body,
        ("name", "assignFirewalls", "unassignFirewalls"),
        "A firewall group update",
    )
    assign = _firewall_list(call, body, "assignFirewalls")
    unassign = _firewall_list(call, body, "unassignFirewalls")
    for firewall in unassign:
        if firewall.data.get("group", {}).get("id") != group.object_id:
            raise validation.invalid(
                "unassignFirewalls",
                f"firewall {firewall.object_id} is not in group {group.object_id}.",
            )
    if "name" in body:
        group.data["name"] = validation.text(body, "name")
        _assign(group, list(_members(group.scope_id, group.object_id)))
    _changed_by(call, group)
    _assign(None, unassign)
    _assign(group, assign)
    return json_response(200, render_group(group))


@router.route("DELETE", "/firewall/v1/firewall-groups/{groupId}", "tenant")
def firewall_group_delete(call: Call) -> SimResponse:
    group = _find_group(call, call.params["groupId"])
    _assign(None, list(_members(group.scope_id, group.object_id)))
    group.delete()
    return json_response(200, {"deleted": True})


@router.route(
    "GET", "/firewall/v1/firewall-groups/{groupId}/firewalls/sync-status", "tenant"
)
def firewall_group_sync_status(call: Call) -> SimResponse:
    group = _find_group(call, call.params["groupId"])
    rows = _members(group.scope_id, group.object_id)
    ids = call.request.query_list("ids")
    if ids:
        rows = rows.filter(object_id__in=ids)

    def render(firewall: SimObject) -> dict[str, Any]:
        connected = bool(firewall.data.get("status", {}).get("connected", True))
        return {
            "firewall": {"id": firewall.object_id},
            # NOTE/sophos-api: "inSync" is the collection's example value;
            # the value for a firewall that is not connected is assumed.
            "status": "inSync" if connected else "pending",
            "lastUpdatedAt": group.data.get("updatedAt", clock.now_iso()),
        }

    paging = parse_number_paging(call.request, GROUPS_MAX_PAGE_SIZE)
    return json_response(200, number_page(rows, paging, render))
