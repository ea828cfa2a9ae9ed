"""Endpoint policies: custom and base policies and their settings.

Every tenant has one base policy per policy type, created on first use with
ids derived from the tenant and the type, so concurrent first requests write
the same rows. A policy's settings are the ``settings`` map inside its JSON.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Max

from sophos import catalog
from sophos.simulator import clock, store
from sophos.simulator.api.endpoint_controls import actor
from sophos.simulator.api.resources import apply_filters, json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.routing import Call, Handler, router

POLICY_KIND = "endpoint/v1/policies"
# NOTE/sophos-api: the largest policy page is unverified.
POLICIES_MAX_PAGE_SIZE = 100
# Base policies sort before custom ones; custom policies start after them.
CUSTOM_SEQ_START = 1000

_NAMESPACE = uuid.UUID("6f1c8a9e-2b7d-4c3e-9a51-0d2f4b6e8c17")


def _setting(value: Any, recommended: Any = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"value": value, **extra}
    if recommended is not None:
        entry["recommendedValue"] = recommended
    return entry


# NOTE/sophos-api: only a few setting keys per policy type are modelled. The
# full key list of each type is in Sophos's policy settings metadata.
_COMMON_SETTINGS = {
    "threat-protection": {
        "endpoint.malware.enabled": _setting(True, True),
        "endpoint.scans.scheduled.enabled": _setting(False, False),
        "endpoint.scans.scheduled.days": _setting(
            ["monday", "wednesday", "friday"], format="string"
        ),
        "endpoint.scans.scheduled.hour": _setting("21:00"),
    },
    "peripheral-control": {
        "endpoint.peripheral-control.enabled": _setting(False, False),
    },
    "application-control": {
        "endpoint.application-control.enabled": _setting(False, False),
    },
    "web-control": {
        "endpoint.web-control.enabled": _setting(True, True),
        "endpoint.web-control.tls-decryption.enabled": _setting(False, False),
    },
    "agent-updating": {
        "endpoint.agent-updating.release-channel": _setting("recommended"),
    },
    "windows-firewall": {
        "endpoint.windows-firewall.enabled": _setting(False, False),
    },
    "device-encryption": {
        "endpoint.device-encryption.enabled": _setting(False, False),
        "endpoint.device-encryption.encrypt-non-boot-volumes": _setting(True, True),
        "endpoint.device-encryption.require-startup-authentication": _setting(
            False, False
        ),
    },
    "data-collection-and-investigation": {
        "endpoint.data-collection.enabled": _setting(True, True),
    },
    "endpoint-dns-protection": {
        "endpoint.dns-protection.enabled": _setting(False, False),
    },
}
_SERVER_ONLY = {
    "server-lockdown": {"server.lockdown.enabled": _setting(False, False)},
    "server-file-integrity-monitoring": {
        "server.file-integrity-monitoring.enabled": _setting(False, False)
    },
    "server-linux-runtime-detection": {
        "server.linux-runtime-detection.enabled": _setting(True, True)
    },
}


def _server_settings(policy_type: str) -> dict[str, dict[str, Any]]:
    computer_type = policy_type.removeprefix("server-")
    settings = _COMMON_SETTINGS.get(computer_type, {})
    return {
        "server." + key.removeprefix("endpoint."): copy.deepcopy(value)
        for key, value in settings.items()
    }


DEFAULT_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    **_COMMON_SETTINGS,
    **{
        f"server-{name}": _server_settings(f"server-{name}")
        for name in (
            "threat-protection",
            "peripheral-control",
            "application-control",
            "web-control",
            "agent-updating",
            "windows-firewall",
            "data-collection-and-investigation",
        )
    },
    **_SERVER_ONLY,
}
POLICY_TYPES = tuple(DEFAULT_SETTINGS)


def default_settings(policy_type: str) -> dict[str, dict[str, Any]]:
    return copy.deepcopy(DEFAULT_SETTINGS[policy_type])


def base_policy_id(tenant_id: str, policy_type: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/{policy_type}"))


def _base_policy(tenant: SimTenant, policy_type: str, moment: str) -> dict[str, Any]:
    return {
        "id": base_policy_id(tenant.id, policy_type),
        "name": "Base Policy",
        "type": policy_type,
        "lockedByManagingAccount": False,
        "priority": 0,
        "tenant": {"id": tenant.id, "name": tenant.data.get("name", "")},
        "enabled": True,
        "settings": default_settings(policy_type),
        "appliesTo": {},
        "createdAt": moment,
        "updatedAt": moment,
    }


def ensure_base_policies(tenant: SimTenant) -> None:
    """Create the tenant's base policies once, whichever request comes first."""
    rows = SimObject.objects.filter(kind=POLICY_KIND, scope_id=tenant.id, seq__lt=100)
    if rows.count() >= len(POLICY_TYPES):
        return
    moment = clock.now_iso()
    new = [
        SimObject(
            kind=POLICY_KIND,
            scope_id=tenant.id,
            object_id=base_policy_id(tenant.id, policy_type),
            seq=position,
            data=_base_policy(tenant, policy_type, moment),
        )
        for position, policy_type in enumerate(POLICY_TYPES, start=1)
    ]
    # Rows that another request created first are skipped by the unique key.
    SimObject.objects.bulk_create(new, ignore_conflicts=True)


def _policy(call: Call, policy_id: str) -> SimObject:
    tenant = call.require_tenant()
    ensure_base_policies(tenant)
    row = store.find(POLICY_KIND, tenant.id, policy_id)
    if row is None:
        raise ApiError(404, f"Policy {policy_id} not found.")
    return row


def _base(call: Call) -> SimObject:
    policy_type = call.params["policyType"]
    if policy_type not in DEFAULT_SETTINGS:
        raise ApiError(404, f"No base policy of type {policy_type!r}.")
    return _policy(call, base_policy_id(call.require_tenant().id, policy_type))


def _selected(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    return store.select_fields(data, call.request.query_list("fields"))


def _touch(call: Call, row: SimObject) -> None:
    row.data["updatedAt"] = clock.now_iso()
    row.data["updatedBy"] = actor(call)
    row.save(update_fields=["data"])


def _merge_settings(row: SimObject, changes: Any) -> None:
    if not isinstance(changes, dict):
        raise ApiError(400, "Invalid settings: send a map of setting keys to values.")
    settings = row.data.setdefault("settings", {})
    for key, change in changes.items():
        if not isinstance(change, dict):
            raise ApiError(400, f'Invalid setting {key!r}: send {{"value": ...}}.')
        settings.setdefault(key, {}).update(change)


def _next_seq(tenant_id: str) -> int:
    last = SimObject.objects.filter(kind=POLICY_KIND, scope_id=tenant_id).aggregate(
        last=Max("seq")
    )["last"]
    return max(last or 0, CUSTOM_SEQ_START) + 1


def _create_policy(call: Call, data: dict[str, Any]) -> SimObject:
    tenant = call.require_tenant()
    policy_id = str(uuid.uuid4())
    moment = clock.now_iso()
    data.update(
        {
            "id": policy_id,
            "tenant": {"id": tenant.id, "name": tenant.data.get("name", "")},
            "createdAt": moment,
            "createdBy": actor(call),
            "updatedAt": moment,
            "updatedBy": actor(call),
        }
    )
    return SimObject.objects.create(
        kind=POLICY_KIND,
        scope_id=tenant.id,
        object_id=policy_id,
        seq=_next_seq(tenant.id),
        data=data,
    )


# -- policies ------------------------------------------------------------------------


@router.route("GET", "/endpoint/v1/policies", "tenant")
def policies_list(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    ensure_base_policies(tenant)
    rows = apply_filters(
        catalog.get("policies_list"), call, store.listed(POLICY_KIND, tenant.id)
    )
    paging = parse_number_paging(call.request, POLICIES_MAX_PAGE_SIZE)
    return json_response(
        200, number_page(rows, paging, lambda row: _selected(call, row.data))
    )


@router.route("POST", "/endpoint/v1/policies", "tenant")
def policy_create(call: Call) -> SimResponse:
    body = json_body(call, required=("name", "type"))
    if body["type"] not in DEFAULT_SETTINGS:
        raise ApiError(400, f"Invalid policy type {body['type']!r}.")
    ensure_base_policies(call.require_tenant())
    data = {
        "name": body["name"],
        "type": body["type"],
        "lockedByManagingAccount": False,
        "priority": body.get("priority", 1),
        "enabled": body.get("enabled", True),
        "settings": default_settings(body["type"]),
        "appliesTo": body.get("appliesTo", {}),
    }
    if "disableAt" in body:
        data["disableAt"] = body["disableAt"]
    row = _create_policy(call, data)
    if "settings" in body:
        _merge_settings(row, body["settings"])
        row.save(update_fields=["data"])
    return json_response(201, row.data)


@router.route("GET", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_get(call: Call) -> SimResponse:
    return json_response(
        200, _selected(call, _policy(call, call.params["policyId"]).data)
    )


def _update_policy(call: Call, row: SimObject) -> SimResponse:
    body = json_body(call)
    settings = body.pop("settings", None)
    body.pop("id", None)
    body.pop("type", None)
    if row.data.get("priority") == 0:
        # A base policy keeps its name and place; only settings change.
        body = {k: v for k, v in body.items() if k not in {"name", "priority"}}
    row.data.update(body)
    if settings is not None:
        _merge_settings(row, settings)
    _touch(call, row)
    return json_response(200, row.data)


@router.route("PATCH", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_update(call: Call) -> SimResponse:
    return _update_policy(call, _policy(call, call.params["policyId"]))


@router.route("DELETE", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_delete(call: Call) -> SimResponse:
    row = _policy(call, call.params["policyId"])
    if row.data.get("priority") == 0:
        raise ApiError(400, "A base policy cannot be deleted.")
    row.delete()
    return json_response(200, {"deleted": True})


def _clone(call: Call, source: SimObject) -> SimResponse:
    body = json_body(call)
    data = copy.deepcopy(source.data)
    data["name"] = body.get("name") or f"{source.data['name']} (clone)"
    data["priority"] = max(int(source.data.get("priority", 0)), 1)
    data.pop("disableAt", None)
    return json_response(201, _create_policy(call, data).data)


@router.route("POST", "/endpoint/v1/policies/{policyId}/clone", "tenant")
def policy_clone(call: Call) -> SimResponse:
    return _clone(call, _policy(call, call.params["policyId"]))


# -- settings of a policy or a base policy -------------------------------------------


def _settings_get(call: Call, row: SimObject) -> SimResponse:
    return json_response(200, row.data.get("settings", {}))


def _settings_update(call: Call, row: SimObject) -> SimResponse:
    _merge_settings(row, json_body(call))
    _touch(call, row)
    return json_response(200, row.data["settings"])


def _settings_reset(call: Call, row: SimObject) -> SimResponse:
    row.data["settings"] = default_settings(row.data["type"])
    _touch(call, row)
    return json_response(200, row.data["settings"])


def _setting_of(row: SimObject, key: str) -> dict[str, Any]:
    settings = row.data.get("settings", {})
    if key not in settings:
        raise ApiError(404, f"Setting {key!r} not found in policy {row.object_id}.")
    value: dict[str, Any] = settings[key]
    return value


def _setting_get(call: Call, row: SimObject) -> SimResponse:
    return json_response(200, _setting_of(row, call.params["settingKey"]))


def _setting_update(call: Call, row: SimObject) -> SimResponse:
    key = call.params["settingKey"]
    setting = _setting_of(row, key)
    body = json_body(call)
    # The collection sends a map of keys, a client may send {"value": ...}.
    setting.update(body.get(key, body) if isinstance(body.get(key), dict) else body)
    _touch(call, row)
    return json_response(200, setting)


def _setting_reset(call: Call, row: SimObject) -> SimResponse:
    key = call.params["settingKey"]
    _setting_of(row, key)
    defaults = default_settings(row.data["type"])
    if key in defaults:
        row.data["settings"][key] = defaults[key]
    _touch(call, row)
    return json_response(200, row.data["settings"][key])


_POLICY = "/endpoint/v1/policies/{policyId}"
_BASE = "/endpoint/v1/policies/{policyType}/base"

PolicyHandler = Callable[[Call, SimObject], SimResponse]


def _base_get(call: Call, row: SimObject) -> SimResponse:
    return json_response(200, _selected(call, row.data))


def _on_policy(serve: PolicyHandler) -> Handler:
    def handler(call: Call) -> SimResponse:
        return serve(call, _policy(call, call.params["policyId"]))

    return handler


def _on_base(serve: PolicyHandler) -> Handler:
    def handler(call: Call) -> SimResponse:
        return serve(call, _base(call))

    return handler


_POLICY_ROUTES: tuple[tuple[str, str, PolicyHandler], ...] = (
    ("GET", "/settings", _settings_get),
    ("PATCH", "/settings", _settings_update),
    ("POST", "/settings/reset", _settings_reset),
    ("GET", "/settings/{settingKey}", _setting_get),
    ("POST", "/settings/{settingKey}/reset", _setting_reset),
)
_BASE_ROUTES: tuple[tuple[str, str, PolicyHandler], ...] = (
    ("GET", "", _base_get),
    ("PATCH", "", _update_policy),
    *_POLICY_ROUTES,
    ("PATCH", "/settings/{settingKey}", _setting_update),
    ("POST", "/clone", _clone),
)
for _method, _suffix, _serve in _POLICY_ROUTES:
    router.add(_method, _POLICY + _suffix, "tenant", _on_policy(_serve))
for _method, _suffix, _serve in _BASE_ROUTES:
    router.add(_method, _BASE + _suffix, "tenant", _on_base(_serve))


_VALUE_TYPES = {bool: "boolean", int: "integer", list: "array", str: "string"}


@router.route("GET", "/endpoint/v1/policies/settings", "tenant")
def policy_settings_metadata(call: Call) -> SimResponse:
    # NOTE/sophos-api: the metadata's shape is only sketched by Sophos's
    # example; this lists each modelled key with its type and default.
    items = [
        {
            "policyType": policy_type,
            "items": [
                {
                    "name": key,
                    "description": key.replace(".", " ").replace("-", " "),
                    "type": _VALUE_TYPES.get(type(setting["value"]), "string"),
                    "defaultValue": setting["value"],
                }
                for key, setting in settings.items()
            ],
        }
        for policy_type, settings in DEFAULT_SETTINGS.items()
    ]
    return json_response(200, {"version": "1.0.0", "schemas": {}, "items": items})
