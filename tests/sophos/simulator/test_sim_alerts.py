from datetime import UTC, datetime

from sophos.simulator import clock
from sophos.simulator.api.alerts import ALERT_KIND
from sophos.simulator.faults import set_faults
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import ALERT_TEMPLATES

EXPECTED_ACTIONS = {
    "Event::Endpoint::Threat::Detected": ["clearThreat", "acknowledge"],
    "Event::Endpoint::PUADetected": ["acknowledge", "cleanPua"],
    "Event::Endpoint::UpdateRebootRequired": ["acknowledge"],
}


def _alerts(api, tenant, **params):
    response = api.tenant(tenant, "/common/v1/alerts", **params)
    assert response.status_code == 200, response.text
    return response.json()


def _alert_of_type(tenant, alert_type):
    return SimObject.objects.filter(
        kind=ALERT_KIND, scope_id=tenant.id, data__type=alert_type
    ).first()


def test_alerts_cover_every_severity(api, first_tenant):
    items = _alerts(api, first_tenant, pageSize=100)["items"]

    assert {a["severity"] for a in items} == {"low", "medium", "high"}
    assert len(items) >= len(ALERT_TEMPLATES)


def test_alerts_allowed_actions_by_type(api, first_tenant):
    items = _alerts(api, first_tenant, pageSize=100)["items"]

    by_type = {a["type"]: a["allowedActions"] for a in items}
    for alert_type, actions in EXPECTED_ACTIONS.items():
        assert by_type[alert_type] == actions


def test_alert_shape(api, first_tenant):
    alert = _alerts(api, first_tenant)["items"][0]

    assert {"id", "allowedActions", "category", "description", "groupKey"} <= set(alert)
    assert alert["tenant"] == {"id": first_tenant.id, "name": first_tenant.data["name"]}
    assert alert["managedAgent"]["type"] in {"computer", "server"}
    assert alert["raisedAt"].endswith("Z")


def test_alerts_key_paging_exact_count(api, first_tenant):
    stored = SimObject.objects.filter(kind=ALERT_KIND, scope_id=first_tenant.id).count()
    seen, key = [], None
    while True:
        params = {"pageSize": 2, **({"pageFromKey": key} if key else {})}
        body = _alerts(api, first_tenant, **params)
        seen.extend(a["id"] for a in body["items"])
        key = body["pages"].get("nextKey")
        if key is None:
            break

    assert len(seen) == stored
    assert len(set(seen)) == stored


def test_alerts_page_size_above_max_is_400(api, first_tenant):
    response = api.tenant(first_tenant, "/common/v1/alerts", pageSize=101)

    assert response.status_code == 400


def test_alerts_filter_severity(api, first_tenant):
    items = _alerts(api, first_tenant, severity="high", pageSize=100)["items"]

    assert items
    assert {a["severity"] for a in items} == {"high"}


def test_alerts_filter_from(api, first_tenant):
    everything = _alerts(api, first_tenant, pageSize=100)["items"]
    middle = sorted(a["raisedAt"] for a in everything)[len(everything) // 2]

    later = _alerts(api, first_tenant, pageSize=100, **{"from": middle})["items"]

    assert later
    assert all(a["raisedAt"] >= middle for a in later)
    assert len(later) < len(everything)


def test_alert_detail_and_404(api, first_tenant):
    row = _alert_of_type(first_tenant, "Event::Endpoint::PUADetected")

    found = api.tenant(first_tenant, f"/common/v1/alerts/{row.object_id}")
    missing = api.tenant(
        first_tenant, "/common/v1/alerts/00000000-0000-4000-8000-000000000000"
    )

    assert found.json() == row.data
    assert missing.status_code == 404


def test_alert_action_allowed_resolves(api, first_tenant):
    row = _alert_of_type(first_tenant, "Event::Endpoint::PUADetected")

    response = api.tenant_post(
        first_tenant,
        f"/common/v1/alerts/{row.object_id}/actions",
        {"action": "cleanPua", "message": "Remove it"},
    )

    body = response.json()
    assert response.status_code == 201
    assert body["alertId"] == row.object_id
    assert body["action"] == "cleanPua"
    assert body["status"] == "completed"
    assert set(body) == {
        "id",
        "alertId",
        "action",
        "status",
        "requestedAt",
        "startedAt",
        "completedAt",
        "result",
    }
    listed = {a["id"] for a in _alerts(api, first_tenant, pageSize=100)["items"]}
    assert row.object_id not in listed
    detail = api.tenant(first_tenant, f"/common/v1/alerts/{row.object_id}")
    assert detail.status_code == 404


def test_alert_action_not_allowed_is_400(api, first_tenant):
    row = _alert_of_type(first_tenant, "Event::Endpoint::UpdateRebootRequired")

    response = api.tenant_post(
        first_tenant,
        f"/common/v1/alerts/{row.object_id}/actions",
        {"action": "cleanPua"},
    )

    assert response.status_code == 400
    assert "not allowed" in response.json()["message"]
    listed = {a["id"] for a in _alerts(api, first_tenant, pageSize=100)["items"]}
    assert row.object_id in listed


def test_alert_action_missing_body_is_400(api, first_tenant):
    row = _alert_of_type(first_tenant, "Event::Endpoint::UpdateRebootRequired")

    response = api.tenant_post(
        first_tenant, f"/common/v1/alerts/{row.object_id}/actions", {}
    )

    assert response.status_code == 400


def test_alert_action_resolve_delay(api, first_tenant):
    frozen = clock.FrozenClock(datetime.now(UTC))
    clock.set_clock(frozen)
    set_faults(alert_resolve_delay_seconds=30)
    row = _alert_of_type(first_tenant, "Event::Endpoint::Threat::Detected")

    response = api.tenant_post(
        first_tenant,
        f"/common/v1/alerts/{row.object_id}/actions",
        {"action": "clearThreat"},
    )

    assert response.json()["status"] == "started"
    assert response.json()["completedAt"] is None
    listed = {a["id"] for a in _alerts(api, first_tenant, pageSize=100)["items"]}
    assert row.object_id in listed
    frozen.advance(31)
    listed = {a["id"] for a in _alerts(api, first_tenant, pageSize=100)["items"]}
    assert row.object_id not in listed


def test_alerts_of_other_tenant_not_visible(api, first_tenant):
    other = SimTenant.objects.filter(partner_id=api.partner_id).exclude(
        id=first_tenant.id
    )[0]
    row = _alert_of_type(first_tenant, "Event::Endpoint::PUADetected")

    response = api.tenant(other, f"/common/v1/alerts/{row.object_id}")

    assert response.status_code == 404
