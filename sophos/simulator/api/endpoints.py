"""Endpoint API: list and read endpoints of a tenant."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sophos.simulator import store
from sophos.simulator.http import ApiError, SimRequest, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import key_page, parse_bool, parse_key_paging
from sophos.simulator.params import parse_choices, parse_time
from sophos.simulator.routing import Call, router

ENDPOINT_KIND = "endpoint/v1/endpoints"
# Sophos's connector and third-party docs give 500; one client assumes 1000.
ENDPOINTS_MAX_PAGE_SIZE = 500

HEALTH = {"good", "suspicious", "bad", "unknown"}
TYPES = {"computer", "server", "securityVm"}
ISOLATION = {"isolated", "notIsolated"}
VIEWS = {"basic", "summary", "full"}
LOCKDOWN = {
    "creatingWhitelist",
    "installing",
    "locked",
    "locking",
    "notInstalled",
    "registering",
    "starting",
    "stopping",
    "unavailable",
    "uninstalled",
    "unlocked",
}

BASIC_FIELDS = ("id", "type", "tenant", "hostname")
# NOTE/sophos-api: Sophos names no exact field list for the default summary
# view ("the most commonly used set of fields"); this set is a guess.
SUMMARY_FIELDS = (
    *BASIC_FIELDS,
    "health",
    "os",
    "ipv4Addresses",
    "ipv6Addresses",
    "macAddresses",
    "group",
    "associatedPerson",
    "tamperProtectionSupported",
    "tamperProtectionEnabled",
    "assignedProducts",
    "lastSeenAt",
    "lockdown",
    "online",
    "isolation",
)

# The ``searchFields`` names and the endpoint fields they search.
SEARCH_FIELDS = {
    "hostname": "hostname",
    "groupName": "group__name",
    "associatedPersonName": "associatedPerson__name",
    "ipAddresses": "ipv4Addresses",
    "osName": "os__name",
}

_TEXT_FILTERS = {
    "healthStatus": ("health__overall", HEALTH),
    "type": ("type", TYPES),
    "isolationStatus": ("isolation__status", ISOLATION),
    "lockdownStatus": ("lockdown__status", LOCKDOWN),
}
_CONTAINS_FILTERS = {
    "hostnameContains": "hostname",
    "serialNumberContains": "serialNumber",
    "associatedPersonContains": "associatedPerson__name",
}
_BOOL_FILTERS = {
    "tamperProtectionEnabled": "tamperProtectionEnabled",
    "tamperProtectionSupported": "tamperProtectionSupported",
    "online": "online",
}
_TIME_FILTERS = {
    "lastSeen": "lastSeenAt",
    "lastOsUpdate": "lastOsUpdateAt",
    "lastAgentUpdate": "lastAgentUpdateAt",
}


def render_endpoint(data: dict[str, Any], request: SimRequest) -> dict[str, Any]:
    """Apply the ``view`` and ``fields`` parameters to a stored endpoint."""
    view = request.query_last("view") or "summary"
    if view not in VIEWS:
        raise ApiError(400, f"Invalid view {view!r}: use basic, summary or full.")
    if view != "full":
        names = BASIC_FIELDS if view == "basic" else SUMMARY_FIELDS
        data = {key: data[key] for key in names if key in data}
    return store.select_fields(data, request.query_list("fields"))


def filter_endpoints(
    rows: QuerySet[SimObject], request: SimRequest
) -> QuerySet[SimObject]:
    for name, (path, allowed) in _TEXT_FILTERS.items():
        values = parse_choices(request, name, allowed)
        if values:
            rows = store.where_text_in(rows, path, values)
    for name, path in _CONTAINS_FILTERS.items():
        text = request.query_last(name)
        if text:
            rows = store.where_text_contains(rows, path, text)
    for name, path in _BOOL_FILTERS.items():
        flag = parse_bool(request, name)
        if flag is not None:
            rows = store.where_bool(rows, path, flag)
    for prefix, path in _TIME_FILTERS.items():
        after = parse_time(request, f"{prefix}After")
        before = parse_time(request, f"{prefix}Before")
        if after or before:
            rows = store.where_text_range(rows, path, at_or_after=after, before=before)
    ids = request.query_list("ids")
    if ids:
        rows = rows.filter(object_id__in=ids)
    rows = _search(rows, request)
    addresses = request.query_list("ipAddresses")
    if addresses:
        # The address list is read as JSON text, so a quoted address matches
        # one whole element.
        quoted = [f'"{address}"' for address in addresses]
        rows = store.where_any_text_contains_any(
            rows, ["ipv4Addresses", "ipv6Addresses"], quoted
        )
    # NOTE: macAddresses, cloud and sort are not applied yet.
    return rows


def _search(rows: QuerySet[SimObject], request: SimRequest) -> QuerySet[SimObject]:
    text = request.query_last("search")
    if not text:
        return rows
    names = request.query_list("searchFields") or list(SEARCH_FIELDS)
    unknown = [name for name in names if name not in SEARCH_FIELDS]
    if unknown:
        raise ApiError(
            400,
            f"Invalid searchFields value {unknown[0]!r}: use one of "
            f"{', '.join(SEARCH_FIELDS)}.",
        )
    return store.where_any_text_contains(
        rows, [SEARCH_FIELDS[name] for name in names], text
    )


@router.route("GET", "/endpoint/v1/endpoints", "tenant")
def endpoints_list(call: Call) -> SimResponse:
    paging = parse_key_paging(call.request, ENDPOINTS_MAX_PAGE_SIZE)
    rows = filter_endpoints(
        store.listed(ENDPOINT_KIND, call.require_tenant().id), call.request
    )
    render_endpoint({}, call.request)  # rejects an invalid view on empty pages

    def render(row: SimObject) -> dict[str, Any]:
        return render_endpoint(row.data, call.request)

    return json_response(200, key_page(rows, paging, render))


@router.route("GET", "/endpoint/v1/endpoints/{endpointId}", "tenant")
def endpoint_detail(call: Call) -> SimResponse:
    endpoint_id = call.params["endpointId"]
    row = store.find(ENDPOINT_KIND, call.require_tenant().id, endpoint_id)
    if row is None:
        raise ApiError(404, f"Endpoint {endpoint_id} not found.")
    return json_response(200, render_endpoint(row.data, call.request))
