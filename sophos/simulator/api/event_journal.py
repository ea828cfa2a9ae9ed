"""Event journal settings, one object per endpoint type (computer or server).

Reads return each limit as ``{value, recommendedValue}``; updates send the
limits as plain numbers, as Sophos's collection shows, or as ``{value}``.
"""

from __future__ import annotations

from typing import Any

from sophos.simulator import store, validation
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

EVENT_JOURNAL_KIND = "endpoint/v1/settings/event-journal"
ENDPOINT_TYPES = ("computer", "server")
# NOTE/sophos-api: the recommended limits are assumed; the collection's
# example shows only placeholders.
RECOMMENDED = {
    "computer": {"diskSpaceLimitInMB": 5250, "diskSpaceLimitAsPercentage": 10},
    "server": {"diskSpaceLimitInMB": 10500, "diskSpaceLimitAsPercentage": 10},
}
_LIMITS = {"diskSpaceLimitInMB": (1, 1_000_000), "diskSpaceLimitAsPercentage": (0, 100)}


def _row(call: Call) -> SimObject:
    endpoint_type = call.params["endpointType"]
    if endpoint_type not in ENDPOINT_TYPES:
        raise ApiError(
            400, f"Invalid endpointType {endpoint_type!r}: use computer or server."
        )
    recommended = RECOMMENDED[endpoint_type]
    default = {
        "useRecommended": True,
        **{
            name: {"value": value, "recommendedValue": value}
            for name, value in recommended.items()
        },
    }
    return store.upsert_singleton(
        EVENT_JOURNAL_KIND, call.require_tenant().id, endpoint_type, default
    )


def _limit(body: dict[str, Any], name: str) -> int:
    raw = body[name]
    if isinstance(raw, dict):
        if "value" not in raw:
            raise validation.missing(f"{name}.value")
        raw = raw["value"]
        name = f"{name}.value"
    low, high = _LIMITS[name.split(".")[0]]
    return validation.integer(raw, name, low=low, high=high)


@router.route("GET", "/endpoint/v1/settings/event-journal/{endpointType}", "tenant")
def event_journal_get(call: Call) -> SimResponse:
    return json_response(200, _row(call).data)


@router.route("PATCH", "/endpoint/v1/settings/event-journal/{endpointType}", "tenant")
def event_journal_update(call: Call) -> SimResponse:
    row = _row(call)
    body = json_body(call)
    validation.only_fields(
        body, ("useRecommended", *_LIMITS), "An event journal settings update"
    )
    use_recommended = validation.flag(body, "useRecommended")
    if use_recommended is not None:
        row.data["useRecommended"] = use_recommended
    for name in _LIMITS:
        if name in body:
            row.data[name]["value"] = _limit(body, name)
    if row.data["useRecommended"]:
        for name in _LIMITS:
            row.data[name]["value"] = row.data[name]["recommendedValue"]
    row.save(update_fields=["data"])
    return json_response(200, row.data)
