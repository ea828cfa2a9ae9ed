"""Common API: list, read and act on a tenant's open alerts."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet

from sophos.simulator import clock, store
from sophos.simulator.http import ApiError, SimRequest, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import key_page, parse_key_paging
from sophos.simulator.params import parse_choices, parse_time
from sophos.simulator.routing import Call, router

ALERT_KIND = "common/v1/alerts"
ACTION_KIND = "common/v1/alerts/{alertId}/actions"
# Sophos's connector and third-party docs give 100; the 2026 collection's
# example shows 1000.
ALERTS_MAX_PAGE_SIZE = 100

SEVERITIES = {"low", "medium", "high"}
PRODUCTS = {
    "other",
    "endpoint",
    "server",
    "mobile",
    "encryption",
    "emailGateway",
    "webGateway",
    "phishThreat",
    "wireless",
    "iaas",
    "firewall",
}
ACTIONS = {
    "acknowledge",
    "cleanPua",
    "cleanVirus",
    "authPua",
    "clearThreat",
    "clearHmpa",
    "sendMsgPua",
    "sendMsgThreat",
}
# NOTE/sophos-api: which actions close an alert is assumed: acknowledging,
# cleaning up and clearing do; authorising and messaging do not.
RESOLVING_ACTIONS = {
    "acknowledge",
    "cleanPua",
    "cleanVirus",
    "clearThreat",
    "clearHmpa",
}


def filter_alerts(
    rows: QuerySet[SimObject], request: SimRequest
) -> QuerySet[SimObject]:
    for name, allowed in (("severity", SEVERITIES), ("product", PRODUCTS)):
        values = parse_choices(request, name, allowed)
        if values:
            rows = store.where_text_in(rows, name, values)
    for name in ("category", "groupKey"):
        values = request.query_list(name)
        if values:
            rows = store.where_text_in(rows, name, values)
    # The collection's own examples send from and to without a zone.
    after = parse_time(request, "from", allow_naive=True)
    before = parse_time(request, "to", allow_naive=True)
    if after or before:
        rows = store.where_text_range(
            rows, "raisedAt", at_or_after=after, before=before
        )
    ids = request.query_list("ids")
    if ids:
        rows = rows.filter(object_id__in=ids)
    # NOTE: sort is not applied yet; alerts come in the order they were stored.
    return rows


@router.route("GET", "/common/v1/alerts", "tenant")
def alerts_list(call: Call) -> SimResponse:
    paging = parse_key_paging(call.request, ALERTS_MAX_PAGE_SIZE)
    rows = filter_alerts(
        store.listed(ALERT_KIND, call.require_tenant().id), call.request
    )
    fields = call.request.query_list("fields")

    def render(row: SimObject) -> dict[str, Any]:
        return store.select_fields(row.data, fields)

    return json_response(200, key_page(rows, paging, render))


def _find_alert(call: Call) -> SimObject:
    alert_id = call.params["alertId"]
    row = store.find(ALERT_KIND, call.require_tenant().id, alert_id)
    if row is None:
        raise ApiError(404, f"Alert {alert_id} not found.")
    return row


@router.route("GET", "/common/v1/alerts/{alertId}", "tenant")
def alert_detail(call: Call) -> SimResponse:
    row = _find_alert(call)
    return json_response(
        200, store.select_fields(row.data, call.request.query_list("fields"))
    )


def _requested_action(request: SimRequest) -> tuple[str, str]:
    try:
        body = request.json()
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, 'Invalid JSON body: send {"action": ...}.') from None
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise ApiError(400, "Missing required field 'action' in the body.")
    message = body.get("message") or ""
    return body["action"], str(message)


@router.route("POST", "/common/v1/alerts/{alertId}/actions", "tenant")
def alert_action(call: Call) -> SimResponse:
    alert = _find_alert(call)
    action, _message = _requested_action(call.request)
    allowed = alert.data.get("allowedActions", [])
    if action not in allowed:
        raise ApiError(
            400,
            f"Invalid action {action!r}: it is not allowed for alert "
            f"{alert.object_id}, which allows {', '.join(allowed)}.",
        )

    moment = clock.now()
    delay = call.settings.alert_resolve_delay_seconds
    completed = delay <= 0
    if action in RESOLVING_ACTIONS:
        alert.removed_at = moment + timedelta(seconds=max(delay, 0))
        alert.save(update_fields=["removed_at"])
    action_id = str(uuid.uuid4())
    record = {
        "id": action_id,
        "alertId": alert.object_id,
        "action": action,
        "status": "completed" if completed else "started",
        "requestedAt": clock.isoformat(moment),
        "startedAt": clock.isoformat(moment),
        "completedAt": clock.isoformat(moment) if completed else None,
        "result": "",
    }
    store.create(
        ACTION_KIND, alert.scope_id, action_id, record, parent_id=alert.object_id
    )
    return json_response(201, record)
