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
from sophos.simulator import clock, store, validation
from sophos.simulator.api.endpoint_controls import actor
from sophos.simulator.api.resources import apply_filters, json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.params import parse_time_text
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
        "endpoint.scans.scheduled.start-from": _setting(
            "2024-01-01T21:00:00.000Z", format="date-time"
        ),
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


def _system_actor(tenant: SimTenant) -> dict[str, Any]:
    """Describe Sophos Central itself, which creates each base policy."""
    # NOTE/sophos-api: who Sophos names as a base policy's creator is unverified.
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"{tenant.id}/system")),
        "type": "system",
        "name": "Sophos Central",
        "accountType": "tenant",
        "accountId": tenant.id,
    }


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
        "createdBy": _system_actor(tenant),
        "updatedAt": moment,
        "updatedBy": _system_actor(tenant),
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


def _merge_settings(row: SimObject, changes: Any, field: str = "settings") -> None:
    """Set the values of a map ``{settingKey: {"value": ...}}``.

    Keys that the simulator does not model are stored as sent. Only
    ``value`` can change; ``recommendedValue``, ``unit`` and ``format``
    belong to Sophos.
    """
    if not isinstance(changes, dict):
        raise validation.invalid(field, "send a map of setting keys to {value}.")
    settings = row.data.setdefault("settings", {})
    for key, change in changes.items():
        if not isinstance(change, dict) or "value" not in change:
            raise validation.invalid(f"{field}.{key}", 'send {"value": ...}.')
        settings.setdefault(key, {})["value"] = change["value"]


# The appliesTo keys and the collections their ids must name.
# NOTE/sophos-api: the collection documents users and userGroups; the
# endpoint keys follow Sophos's own integration and are unverified.
APPLIES_TO_KINDS = {
    "users": ("common/v1/directory/users", "user"),
    "userGroups": ("common/v1/directory/user-groups", "user group"),
    "endpoints": ("endpoint/v1/endpoints", "endpoint"),
    "endpointGroups": ("endpoint/v1/endpoint-groups", "endpoint group"),
}


def _applies_to(tenant_id: str, raw: Any) -> dict[str, list[str]]:
    """Check an ``appliesTo`` object: known keys, lists of existing ids."""
    if not isinstance(raw, dict):
        raise validation.invalid("appliesTo", "send an object of id lists.")
    checked: dict[str, list[str]] = {}
    for key, ids in raw.items():
        field = f"appliesTo.{key}"
        if key not in APPLIES_TO_KINDS:
            raise validation.invalid(
                field, f"use the keys {', '.join(APPLIES_TO_KINDS)}."
            )
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise validation.invalid(field, "send a list of ids.")
        kind, noun = APPLIES_TO_KINDS[key]
        for object_id in ids:
            if store.find(kind, tenant_id, object_id) is None:
                raise validation.invalid(field, f"no {noun} {object_id} exists.")
        checked[key] = list(dict.fromkeys(ids))
    return checked


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
    tenant = call.require_tenant()
    body = json_body(call)
    name = validation.text(body, "name")
    policy_type = validation.choice(body, "type", DEFAULT_SETTINGS)
    ensure_base_policies(tenant)
    data = {
        "name": name,
        "type": policy_type,
        "lockedByManagingAccount": False,
        "priority": _priority(body, default=_last_priority(tenant.id) + 1),
        "enabled": validation.flag(body, "enabled") is not False,
        "settings": default_settings(policy_type),
        "appliesTo": _applies_to(tenant.id, body.get("appliesTo") or {}),
    }
    if body.get("disableAt") is not None:
        data["disableAt"] = _disable_at(body)
    row = _create_policy(call, data)
    if "settings" in body:
        _merge_settings(row, body["settings"])
        row.save(update_fields=["data"])
    return json_response(201, row.data)


def _priority(body: dict[str, Any], default: int) -> int:
    if body.get("priority") is None:
        return default
    return validation.integer(body["priority"], "priority", low=1)


def _last_priority(tenant_id: str) -> int:
    """Return the largest priority number in use; a new policy goes after it."""
    priorities = [
        int(row.data.get("priority", 0)) for row in store.listed(POLICY_KIND, tenant_id)
    ]
    return max(priorities, default=0)


def _disable_at(body: dict[str, Any]) -> str:
    raw = body["disableAt"]
    if not isinstance(raw, str):
        raise validation.invalid("disableAt", "send an ISO 8601 UTC time.")
    return parse_time_text(raw, "disableAt")


@router.route("GET", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_get(call: Call) -> SimResponse:
    return json_response(
        200, _selected(call, _policy(call, call.params["policyId"]).data)
    )


_POLICY_FIELDS = ("name", "priority", "enabled", "disableAt", "appliesTo", "settings")


def _update_policy(call: Call, row: SimObject) -> SimResponse:
    body = json_body(call)
    validation.only_fields(body, (*_POLICY_FIELDS, "id", "type"), "A policy update")
    for field in ("id", "type"):
        if field in body and body[field] != row.data.get(field):
            raise validation.invalid(field, "a policy's id and type cannot change.")
    if row.data.get("priority") == 0:
        # Sophos Central lets a base policy change its settings only.
        for field in _POLICY_FIELDS[:-1]:
            if field in body and body[field] != row.data.get(field):
                raise validation.invalid(
                    field, "a base policy can change its settings only."
                )
    else:
        _apply_policy_fields(call, row, body)
    if body.get("settings") is not None:
        _merge_settings(row, body["settings"])
    _touch(call, row)
    return json_response(200, row.data)


def _apply_policy_fields(call: Call, row: SimObject, body: dict[str, Any]) -> None:
    if "name" in body:
        row.data["name"] = validation.text(body, "name")
    if "priority" in body:
        row.data["priority"] = _priority(body, default=row.data["priority"])
    if "enabled" in body:
        row.data["enabled"] = bool(validation.flag(body, "enabled"))
    if "appliesTo" in body:
        row.data["appliesTo"] = _applies_to(
            call.require_tenant().id, body["appliesTo"] or {}
        )
    if "disableAt" in body:
        if body["disableAt"] is None:
            row.data.pop("disableAt", None)
        else:
            row.data["disableAt"] = _disable_at(body)


@router.route("PATCH", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_update(call: Call) -> SimResponse:
    return _update_policy(call, _policy(call, call.params["policyId"]))


@router.route("DELETE", "/endpoint/v1/policies/{policyId}", "tenant")
def policy_delete(call: Call) -> SimResponse:
    row = _policy(call, call.params["policyId"])
    if row.data.get("priority") == 0:
        raise ApiError(
            409, f"Policy {row.object_id} is the base policy of its type and stays."
        )
    row.delete()
    return json_response(200, {"deleted": True})


def _clone(call: Call, source: SimObject) -> SimResponse:
    body = json_body(call)
    validation.only_fields(body, ("name",), "A policy clone")
    data = copy.deepcopy(source.data)
    data["name"] = validation.optional_text(body, "name") or (
        f"{source.data['name']} (clone)"
    )
    data["lockedByManagingAccount"] = False
    data["priority"] = _last_priority(source.scope_id) + 1
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
    # A client sends {"value": ...}; the collection's example sends a map of
    # setting keys, of which the key in the path is used.
    nested = body.get(key)
    change: dict[str, Any] = nested if isinstance(nested, dict) else body
    if "value" not in change:
        raise validation.missing("value")
    setting["value"] = change["value"]
    _touch(call, row)
    return json_response(200, setting)


def _setting_reset(call: Call, row: SimObject) -> SimResponse:
    key = call.params["settingKey"]
    setting = _setting_of(row, key)
    defaults = default_settings(row.data["type"])
    if key in defaults:
        row.data["settings"][key] = defaults[key]
    elif "recommendedValue" in setting:
        setting["value"] = setting["recommendedValue"]
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
