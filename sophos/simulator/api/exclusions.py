"""Creates and updates of allowed and blocked items, exclusions and local sites.

Listing, reading and deleting these objects is the generic collection
handling of ``resources``. The handlers here check the fields of a create
or an update, fill in what Sophos adds (creator, origin, description) and
reject duplicates where Sophos documents it.
"""

from __future__ import annotations

import re
from typing import Any

from sophos.simulator import clock, store, validation
from sophos.simulator.api.directory import USER_KIND
from sophos.simulator.api.endpoint_controls import actor
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.reference import WEB_CATEGORIES
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

ALLOWED_KIND = "endpoint/v1/settings/allowed-items"
BLOCKED_KIND = "endpoint/v1/settings/blocked-items"
SCANNING_KIND = "endpoint/v1/settings/exclusions/scanning"
ISOLATION_EXCLUSION_KIND = "endpoint/v1/settings/exclusions/isolation"
IPS_EXCLUSION_KIND = "endpoint/v1/settings/exclusions/intrusion-prevention"
LOCAL_SITES_KIND = "endpoint/v1/settings/web-control/local-sites"

# The property that identifies an allowed item of each type.
ALLOWED_TYPES = {
    "path": "path",
    "sha256": "sha256",
    "certificateSigner": "certificateSigner",
}
ITEM_PROPERTIES = ("fileName", "path", "sha256", "certificateSigner")
SCANNING_TYPES = {
    "path": "Path",
    "posixPath": "Linux or macOS path",
    "virtualPath": "Virtual path",
    "process": "Process",
    "web": "Website",
    "pua": "Potentially unwanted application",
    "exploitMitigation": "Exploit mitigation",
    "detectedExploit": "Detected exploit",
    "amsi": "AMSI",
    "behavioral": "Behavioral detection",
}
SCAN_MODES = ("onDemand", "onAccess", "onDemandAndOnAccess")
DIRECTIONS = ("inbound", "outbound", "both")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_WEB_CATEGORY_IDS = {category["id"] for category in WEB_CATEGORIES}


def _find(call: Call, kind: str, param: str, noun: str) -> SimObject:
    object_id = call.params[param]
    row = store.find(kind, call.require_tenant().id, object_id)
    if row is None:
        raise ApiError(404, f"{noun} {object_id} not found.")
    return row


def _save_changes(row: SimObject, changes: dict[str, Any]) -> SimResponse:
    row.data.update(changes)
    row.data["updatedAt"] = clock.now_iso()
    row.save(update_fields=["data"])
    return json_response(200, row.data)


# -- allowed and blocked items -------------------------------------------------------


def _properties(body: dict[str, Any], key: str) -> dict[str, str]:
    """Return the item's properties; ``key`` is the one its type needs."""
    raw = validation.mapping(body, "properties", required=True)
    properties: dict[str, str] = {}
    for name in ITEM_PROPERTIES:
        if raw.get(name) is not None:
            properties[name] = validation.text(raw, name, prefix="properties.")
    if key not in properties:
        raise validation.missing(f"properties.{key}")
    if "sha256" in properties:
        if not _SHA256.match(properties["sha256"]):
            raise validation.invalid(
                "properties.sha256", "send 64 hexadecimal characters."
            )
        properties["sha256"] = properties["sha256"].lower()
    return properties


def _duplicate_of(
    call: Call, kind: str, item_type: str, key: str, value: str
) -> SimObject | None:
    rows = store.listed(kind, call.require_tenant().id)
    rows = store.where_text_in(rows, "type", [item_type])
    for row in rows:
        stored = str(row.data.get("properties", {}).get(key, ""))
        if stored.lower() == value.lower():
            return row
    return None


def _origin_person(call: Call, body: dict[str, Any]) -> dict[str, Any] | None:
    person_id = validation.optional_text(body, "originPersonId")
    if not person_id:
        return None
    user = store.find(USER_KIND, call.require_tenant().id, person_id)
    if user is None:
        raise validation.invalid("originPersonId", f"no user {person_id} exists.")
    return {"id": user.object_id, "name": user.data.get("name", "")}


def _origin_endpoint(call: Call, body: dict[str, Any]) -> dict[str, Any] | None:
    endpoint_id = validation.optional_text(body, "originEndpointId")
    if not endpoint_id:
        return None
    endpoint = store.find(ENDPOINT_KIND, call.require_tenant().id, endpoint_id)
    if endpoint is None:
        raise validation.invalid(
            "originEndpointId", f"no endpoint {endpoint_id} exists."
        )
    return {"id": endpoint.object_id, "hostname": endpoint.data.get("hostname", "")}


def _creator(call: Call) -> dict[str, Any]:
    credential = actor(call)
    return {"id": credential["id"], "name": credential["name"]}


@router.route("POST", "/endpoint/v1/settings/allowed-items", "tenant")
def allowed_item_create(call: Call) -> SimResponse:
    body = json_body(call)
    item_type = validation.choice(body, "type", ALLOWED_TYPES)
    key = ALLOWED_TYPES[item_type]
    properties = _properties(body, key)
    comment = validation.text(body, "comment", blank=True)
    duplicate = _duplicate_of(call, ALLOWED_KIND, item_type, key, properties[key])
    if duplicate is not None:
        raise ApiError(
            409,
            f"An allowed item with properties.{key} {properties[key]!r} already "
            f"exists: {duplicate.object_id}.",
        )
    data: dict[str, Any] = {
        "type": item_type,
        "properties": properties,
        "comment": comment,
        "createdBy": _creator(call),
    }
    person = _origin_person(call, body)
    if person is not None:
        data["originPerson"] = person
    endpoint = _origin_endpoint(call, body)
    if endpoint is not None:
        data["originEndpoint"] = endpoint
    row = store.create_item(ALLOWED_KIND, call.require_tenant().id, data)
    return json_response(201, row.data)


@router.route("PATCH", "/endpoint/v1/settings/allowed-items/{allowedItemId}", "tenant")
def allowed_item_update(call: Call) -> SimResponse:
    row = _find(call, ALLOWED_KIND, "allowedItemId", "Allowed item")
    body = json_body(call)
    validation.only_fields(body, ("comment",), "An allowed item update")
    return _save_changes(row, {"comment": validation.text(body, "comment", blank=True)})


@router.route("POST", "/endpoint/v1/settings/blocked-items", "tenant")
def blocked_item_create(call: Call) -> SimResponse:
    body = json_body(call)
    item_type = validation.choice(body, "type", ("sha256",))
    properties = _properties(body, "sha256")
    comment = validation.text(body, "comment", blank=True)
    duplicate = _duplicate_of(
        call, BLOCKED_KIND, item_type, "sha256", properties["sha256"]
    )
    if duplicate is not None:
        # Sophos documents 400, not 409, for a failed blocked item create.
        raise validation.invalid(
            "properties.sha256",
            f"{properties['sha256']} is already blocked by {duplicate.object_id}.",
        )
    data = {
        "type": item_type,
        "properties": properties,
        "comment": comment,
        "createdBy": _creator(call),
    }
    row = store.create_item(BLOCKED_KIND, call.require_tenant().id, data)
    return json_response(201, row.data)


# -- scanning exclusions -------------------------------------------------------------


def scanning_description(exclusion_type: str, value: str, scan_mode: str) -> str:
    """Describe a scanning exclusion as Sophos Central's list shows it."""
    label = SCANNING_TYPES.get(exclusion_type, exclusion_type)
    modes = {
        "onDemand": "on-demand scans",
        "onAccess": "on-access scans",
        "onDemandAndOnAccess": "on-demand and on-access scans",
    }
    return f"{label} {value} excluded from {modes.get(scan_mode, scan_mode)}"


@router.route("POST", "/endpoint/v1/settings/exclusions/scanning", "tenant")
def scanning_exclusion_create(call: Call) -> SimResponse:
    body = json_body(call)
    value = validation.text(body, "value")
    exclusion_type = validation.choice(body, "type", SCANNING_TYPES)
    scan_mode = validation.choice(
        body, "scanMode", SCAN_MODES, default="onDemandAndOnAccess"
    )
    data = {
        "value": value,
        "type": exclusion_type,
        "scanMode": scan_mode,
        "description": scanning_description(exclusion_type, value, scan_mode),
        "comment": validation.optional_text(body, "comment"),
        "lockedByManagingAccount": False,
    }
    row = store.create_item(SCANNING_KIND, call.require_tenant().id, data)
    return json_response(201, row.data)


@router.route(
    "PATCH", "/endpoint/v1/settings/exclusions/scanning/{exclusionId}", "tenant"
)
def scanning_exclusion_update(call: Call) -> SimResponse:
    row = _find(call, SCANNING_KIND, "exclusionId", "Scanning exclusion")
    body = json_body(call)
    validation.only_fields(
        body, ("value", "scanMode", "comment"), "A scanning exclusion update"
    )
    changes: dict[str, Any] = {}
    if "value" in body:
        changes["value"] = validation.text(body, "value")
    if "scanMode" in body:
        changes["scanMode"] = validation.choice(body, "scanMode", SCAN_MODES)
    if "comment" in body:
        changes["comment"] = validation.optional_text(body, "comment")
    merged = {**row.data, **changes}
    changes["description"] = scanning_description(
        merged["type"], merged["value"], merged.get("scanMode", "onDemandAndOnAccess")
    )
    return _save_changes(row, changes)


# -- isolation and intrusion prevention exclusions -----------------------------------


def _ports(body: dict[str, Any], field: str) -> list[int]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise validation.invalid(field, "send a list of port numbers.")
    return [validation.integer(port, field, low=0, high=65535) for port in value]


def _traffic_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Read the port, address and direction fields of a network exclusion."""
    fields: dict[str, Any] = {}
    for name in ("localPorts", "remotePorts"):
        if not partial or name in body:
            fields[name] = _ports(body, name)
    if not partial or "remoteAddresses" in body:
        fields["remoteAddresses"] = validation.text_list(body, "remoteAddresses")
    if not partial or "direction" in body:
        fields["direction"] = validation.choice(
            body, "direction", DIRECTIONS, default="both"
        )
    if not partial or "comment" in body:
        fields["comment"] = validation.optional_text(body, "comment")
    return fields


def _network_exclusion_create(
    call: Call, kind: str, exclusion_type: str
) -> SimResponse:
    body = json_body(call)
    fields = _traffic_fields(body, partial=False)
    if not (fields["localPorts"] or fields["remotePorts"] or fields["remoteAddresses"]):
        raise validation.invalid(
            "localPorts",
            "send at least one of localPorts, remotePorts or remoteAddresses.",
        )
    data = {"type": exclusion_type, **fields}
    row = store.create_item(kind, call.require_tenant().id, data)
    return json_response(201, row.data)


def _network_exclusion_update(call: Call, kind: str, noun: str) -> SimResponse:
    row = _find(call, kind, "exclusionId", noun)
    body = json_body(call)
    validation.only_fields(
        body,
        ("localPorts", "remotePorts", "direction", "remoteAddresses", "comment"),
        f"An {noun.lower()} update",
    )
    return _save_changes(row, _traffic_fields(body, partial=True))


@router.route("POST", "/endpoint/v1/settings/exclusions/isolation", "tenant")
def isolation_exclusion_create(call: Call) -> SimResponse:
    return _network_exclusion_create(call, ISOLATION_EXCLUSION_KIND, "isolation")


@router.route(
    "PATCH", "/endpoint/v1/settings/exclusions/isolation/{exclusionId}", "tenant"
)
def isolation_exclusion_update(call: Call) -> SimResponse:
    return _network_exclusion_update(
        call, ISOLATION_EXCLUSION_KIND, "Isolation exclusion"
    )


@router.route("POST", "/endpoint/v1/settings/exclusions/intrusion-prevention", "tenant")
def intrusion_prevention_exclusion_create(call: Call) -> SimResponse:
    return _network_exclusion_create(call, IPS_EXCLUSION_KIND, "intrusionPrevention")


@router.route(
    "PATCH",
    "/endpoint/v1/settings/exclusions/intrusion-prevention/{exclusionId}",
    "tenant",
)
def intrusion_prevention_exclusion_update(call: Call) -> SimResponse:
    return _network_exclusion_update(
        call, IPS_EXCLUSION_KIND, "Intrusion prevention exclusion"
    )


# -- web control local sites ---------------------------------------------------------


def _site_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "url" in body:
        fields["url"] = validation.text(body, "url")
    if body.get("categoryId") is not None:
        category = validation.integer(body["categoryId"], "categoryId")
        if category not in _WEB_CATEGORY_IDS:
            raise validation.invalid(
                "categoryId",
                f"{category} is not a web category; list them with "
                "GET /endpoint/v1/settings/web-control/categories.",
            )
        fields["categoryId"] = category
    if not partial or "tags" in body:
        fields["tags"] = validation.text_list(body, "tags")
    if not partial or "comment" in body:
        fields["comment"] = validation.optional_text(body, "comment")
    return fields


@router.route("POST", "/endpoint/v1/settings/web-control/local-sites", "tenant")
def local_site_create(call: Call) -> SimResponse:
    body = json_body(call)
    row = store.create_item(
        LOCAL_SITES_KIND, call.require_tenant().id, _site_fields(body, partial=False)
    )
    return json_response(201, row.data)


@router.route(
    "PATCH", "/endpoint/v1/settings/web-control/local-sites/{localSiteId}", "tenant"
)
def local_site_update(call: Call) -> SimResponse:
    row = _find(call, LOCAL_SITES_KIND, "localSiteId", "Local site")
    body = json_body(call)
    validation.only_fields(
        body, ("url", "categoryId", "tags", "comment"), "A local site update"
    )
    return _save_changes(row, _site_fields(body, partial=True))
