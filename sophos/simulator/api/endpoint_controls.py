"""Endpoint isolation and per-endpoint tamper protection.

Both change the endpoint's own JSON (``isolation`` and
``tamperProtectionEnabled``) as well as their own settings object, so the
endpoint list, its filters and the settings routes agree.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sophos.simulator import clock, store
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

ISOLATION_KIND = "endpoint/v1/endpoints/{endpointId}/isolation"
TAMPER_KIND = "endpoint/v1/endpoints/{endpointId}/tamper-protection"
# Keys of stored settings that are simulator bookkeeping, not API fields.
_PRIVATE_PREFIX = "_"


def public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith(_PRIVATE_PREFIX)}


def find_endpoint(call: Call, endpoint_id: str) -> SimObject:
    row = store.find(ENDPOINT_KIND, call.require_tenant().id, endpoint_id)
    if row is None:
        raise ApiError(404, f"Endpoint {endpoint_id} not found.")
    return row


def actor(call: Call) -> dict[str, Any]:
    """Describe the API credential that made a change, as Sophos's ``...By``."""
    credential = call.require_credential()
    return {
        "id": credential.client_id,
        "type": "service",
        "name": "API credential",
        "accountType": credential.id_type,
        "accountId": credential.principal_id,
    }


# -- isolation --------------------------------------------------------------------


def _isolation_record(endpoint: SimObject) -> SimObject:
    isolated = endpoint.data.get("isolation", {}).get("status") == "isolated"
    default = {
        "enabled": isolated,
        "lastEnabledAt": None,
        "lastEnabledBy": None,
        "lastDisabledAt": None,
        "lastDisabledBy": None,
        "comment": "",
    }
    return store.upsert_singleton(
        ISOLATION_KIND, endpoint.scope_id, "", default, parent_id=endpoint.object_id
    )


def _change_isolation(
    call: Call, endpoint: SimObject, enabled: bool, comment: str, *, strict: bool
) -> dict[str, Any]:
    """Isolate or release one endpoint and return its isolation settings.

    With ``strict`` a request for the state the endpoint is already in gets
    400, as a single-endpoint change does.
    """
    record = _isolation_record(endpoint)
    moment = clock.now()
    busy_until = record.data.get("_changeCompletesAt")
    if busy_until and busy_until > clock.isoformat(moment):
        raise ApiError(
            409, f"An isolation change of endpoint {endpoint.object_id} is in progress."
        )
    if strict and record.data["enabled"] == enabled:
        state = "isolated" if enabled else "not isolated"
        raise ApiError(
            400, f"Invalid enabled: endpoint {endpoint.object_id} is already {state}."
        )

    # NOTE/sophos-api: the endpoint reports the new state at once. The delay
    # only makes a second change inside the window fail with 409.
    delay = call.settings.isolation_delay_seconds
    prefix = "lastEnabled" if enabled else "lastDisabled"
    record.data.update(
        {
            "enabled": enabled,
            f"{prefix}At": clock.isoformat(moment),
            f"{prefix}By": actor(call),
            "comment": comment,
            "_changeCompletesAt": clock.isoformat(moment + timedelta(seconds=delay)),
        }
    )
    record.save(update_fields=["data"])
    previous = endpoint.data.get("isolation", {})
    endpoint.data["isolation"] = {
        "status": "isolated" if enabled else "notIsolated",
        "adminIsolated": enabled,
        "selfIsolated": bool(previous.get("selfIsolated", False)),
    }
    endpoint.save(update_fields=["data"])
    return public(record.data)


def _isolation_request(call: Call) -> tuple[bool, str]:
    body = json_body(call, required=("enabled",))
    if not isinstance(body["enabled"], bool):
        raise ApiError(400, "Invalid enabled value: use true or false.")
    return body["enabled"], str(body.get("comment") or "")


@router.route("GET", "/endpoint/v1/endpoints/{endpointId}/isolation", "tenant")
def isolation_get(call: Call) -> SimResponse:
    endpoint = find_endpoint(call, call.params["endpointId"])
    return json_response(200, public(_isolation_record(endpoint).data))


@router.route("PATCH", "/endpoint/v1/endpoints/{endpointId}/isolation", "tenant")
def isolation_update(call: Call) -> SimResponse:
    endpoint = find_endpoint(call, call.params["endpointId"])
    enabled, comment = _isolation_request(call)
    return json_response(
        200, _change_isolation(call, endpoint, enabled, comment, strict=True)
    )


@router.route("POST", "/endpoint/v1/endpoints/isolation", "tenant")
def isolation_bulk_update(call: Call) -> SimResponse:
    enabled, comment = _isolation_request(call)
    ids = json_body(call).get("ids")
    if ids is None:
        raise ApiError(400, "Missing required field 'ids' in the body.")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "Invalid ids: send a list of endpoint ids.")
    endpoints = [find_endpoint(call, str(endpoint_id)) for endpoint_id in ids]
    items = []
    for endpoint in endpoints:
        settings = _change_isolation(call, endpoint, enabled, comment, strict=False)
        items.append({"id": endpoint.object_id, "isolation": settings})
    return json_response(202, {"items": items})


# -- tamper protection ---------------------------------------------------------------


def _new_password() -> str:
    return secrets.token_hex(8).upper()


def _tamper_record(endpoint: SimObject) -> SimObject:
    return store.upsert_singleton(
        TAMPER_KIND,
        endpoint.scope_id,
        "",
        {"password": _new_password(), "previousPasswords": []},
        parent_id=endpoint.object_id,
    )


def _tamper_settings(endpoint: SimObject, record: SimObject) -> dict[str, Any]:
    return {
        "enabled": bool(endpoint.data.get("tamperProtectionEnabled")),
        "password": record.data["password"],
        "previousPasswords": record.data["previousPasswords"],
    }


@router.route("GET", "/endpoint/v1/endpoints/{endpointId}/tamper-protection", "tenant")
def tamper_protection_get(call: Call) -> SimResponse:
    endpoint = find_endpoint(call, call.params["endpointId"])
    return json_response(200, _tamper_settings(endpoint, _tamper_record(endpoint)))


@router.route("POST", "/endpoint/v1/endpoints/{endpointId}/tamper-protection", "tenant")
def tamper_protection_update(call: Call) -> SimResponse:
    endpoint = find_endpoint(call, call.params["endpointId"])
    body = json_body(call)
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ApiError(400, "Invalid enabled value: use true or false.")
    if enabled and not endpoint.data.get("tamperProtectionSupported", True):
        raise ApiError(
            400,
            f"Invalid enabled: endpoint {endpoint.object_id} does not support "
            "tamper protection.",
        )

    record = _tamper_record(endpoint)
    if body.get("regeneratePassword"):
        record.data["previousPasswords"].append(
            {"password": record.data["password"], "invalidatedAt": clock.now_iso()}
        )
        record.data["password"] = _new_password()
        record.save(update_fields=["data"])
    if enabled is not None:
        endpoint.data["tamperProtectionEnabled"] = enabled
        endpoint.save(update_fields=["data"])
    return json_response(201, _tamper_settings(endpoint, record))
