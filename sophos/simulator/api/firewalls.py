"""Firewall actions: approve management, firmware checks and upgrades."""

from __future__ import annotations

from typing import Any

from sophos.simulator import store
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

FIREWALL_KIND = "firewall/v1/firewalls"
# NOTE/sophos-api: approveManagement is the only action value that Sophos's
# collection shows; the others are assumed.
FIREWALL_ACTIONS = {"approveManagement", "reboot", "syncConfig"}
# The firmware the simulator offers as the upgrade for every firewall.
LATEST_FIRMWARE = "SFOS 21.0.1 MR-1-Build270"


def _firewall(call: Call, firewall_id: str) -> SimObject:
    row = store.find(FIREWALL_KIND, call.require_tenant().id, firewall_id)
    if row is None:
        raise ApiError(404, f"Firewall {firewall_id} not found.")
    return row


def _firewall_ids(call: Call, body: dict[str, Any]) -> list[str]:
    raw = body["firewalls"]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "Invalid firewalls: send a list of firewalls.")
    return [str(item["id"] if isinstance(item, dict) else item) for item in raw]


@router.route("POST", "/firewall/v1/firewalls/{firewallId}/action", "tenant")
def firewall_action(call: Call) -> SimResponse:
    firewall = _firewall(call, call.params["firewallId"])
    action = json_body(call, required=("action",))["action"]
    if action not in FIREWALL_ACTIONS:
        allowed = ", ".join(sorted(FIREWALL_ACTIONS))
        raise ApiError(400, f"Invalid action {action!r}: use one of {allowed}.")
    if action == "approveManagement":
        status = firewall.data.setdefault("status", {})
        status["managing"] = "approved"
        firewall.save(update_fields=["data"])
    return json_response(201, {"status": "succeeded", "action": action})


@router.route("POST", "/firewall/v1/firewalls/actions/firmware-upgrade-check", "tenant")
def firmware_upgrade_check(call: Call) -> SimResponse:
    body = json_body(call, required=("firewalls",))
    firewalls = [_firewall(call, fid) for fid in _firewall_ids(call, body)]
    items = [
        {
            "id": row.object_id,
            "serialNumber": row.data.get("serialNumber", ""),
            "firmwareVersion": row.data.get("firmwareVersion", ""),
            "upgradeToVersion": [LATEST_FIRMWARE],
        }
        for row in firewalls
    ]
    versions = [{"version": LATEST_FIRMWARE, "size": "1.2 GB", "bugs": [], "news": []}]
    return json_response(201, {"firewalls": items, "firmwareVersions": versions})


@router.route("POST", "/firewall/v1/firewalls/actions/firmware-upgrade", "tenant")
def firmware_upgrade(call: Call) -> SimResponse:
    body = json_body(call, required=("firewalls",))
    firewalls = [_firewall(call, fid) for fid in _firewall_ids(call, body)]
    return json_response(
        201,
        {
            "firewalls": [
                {"id": row.object_id, "status": "scheduled"} for row in firewalls
            ]
        },
    )
