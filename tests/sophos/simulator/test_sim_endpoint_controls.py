from datetime import UTC, datetime

import pytest
from sim_helpers import tenant_request

from sophos.simulator import clock
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.faults import set_faults
from sophos.simulator.models import SimObject


@pytest.fixture
def endpoint(first_tenant):
    row = SimObject.objects.filter(
        kind=ENDPOINT_KIND,
        scope_id=first_tenant.id,
        data__isolation__status="notIsolated",
        data__tamperProtectionSupported=True,
    ).first()
    assert row is not None
    return row


def _isolation_path(endpoint):
    return f"/endpoint/v1/endpoints/{endpoint.object_id}/isolation"


def test_isolation_get_default(api, first_tenant, endpoint):
    response = tenant_request(api, first_tenant, "GET", _isolation_path(endpoint))

    assert response.status_code == 200
    assert response.json()["enabled"] is False


def test_isolation_patch_isolates_endpoint(api, first_tenant, endpoint):
    response = tenant_request(
        api,
        first_tenant,
        "PATCH",
        _isolation_path(endpoint),
        {"enabled": True, "comment": "Suspicious traffic"},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["enabled"] is True
    assert body["comment"] == "Suspicious traffic"
    assert body["lastEnabledBy"]["accountId"] == api.partner_id
    detail = tenant_request(
        api, first_tenant, "GET", f"/endpoint/v1/endpoints/{endpoint.object_id}"
    ).json()
    assert detail["isolation"]["status"] == "isolated"
    listed = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/endpoints", isolationStatus="isolated"
    ).json()
    assert endpoint.object_id in [e["id"] for e in listed["items"]]


def test_isolation_same_state_is_400(api, first_tenant, endpoint):
    response = tenant_request(
        api, first_tenant, "PATCH", _isolation_path(endpoint), {"enabled": False}
    )

    assert response.status_code == 400


def test_isolation_change_in_progress_is_409(api, first_tenant, endpoint):
    frozen = clock.FrozenClock(datetime.now(UTC))
    clock.set_clock(frozen)
    set_faults(isolation_delay_seconds=30)
    path = _isolation_path(endpoint)

    first = tenant_request(api, first_tenant, "PATCH", path, {"enabled": True})
    second = tenant_request(api, first_tenant, "PATCH", path, {"enabled": False})
    frozen.advance(31)
    third = tenant_request(api, first_tenant, "PATCH", path, {"enabled": False})

    assert first.status_code == 200
    assert second.status_code == 409
    assert third.status_code == 200


def test_isolation_bulk_is_202(api, first_tenant):
    ids = list(
        SimObject.objects.filter(
            kind=ENDPOINT_KIND, scope_id=first_tenant.id
        ).values_list("object_id", flat=True)[:3]
    )

    response = tenant_request(
        api,
        first_tenant,
        "POST",
        "/endpoint/v1/endpoints/isolation",
        {"enabled": True, "comment": "Outbreak", "ids": ids},
    )

    assert response.status_code == 202
    assert [item["id"] for item in response.json()["items"]] == ids
    statuses = {
        row.data["isolation"]["status"]
        for row in SimObject.objects.filter(kind=ENDPOINT_KIND, object_id__in=ids)
    }
    assert statuses == {"isolated"}


def test_isolation_unknown_endpoint_is_404(api, first_tenant):
    response = tenant_request(
        api,
        first_tenant,
        "PATCH",
        "/endpoint/v1/endpoints/00000000-0000-4000-8000-000000000000/isolation",
        {"enabled": True},
    )

    assert response.status_code == 404


def test_tamper_protection_get_and_disable(api, first_tenant, endpoint):
    path = f"/endpoint/v1/endpoints/{endpoint.object_id}/tamper-protection"

    before = tenant_request(api, first_tenant, "GET", path).json()
    changed = tenant_request(api, first_tenant, "POST", path, {"enabled": False})

    assert set(before) == {"enabled", "password", "previousPasswords"}
    assert changed.status_code == 201
    assert changed.json()["enabled"] is False
    off = tenant_request(
        api,
        first_tenant,
        "GET",
        "/endpoint/v1/endpoints",
        tamperProtectionEnabled="false",
    ).json()
    assert endpoint.object_id in [e["id"] for e in off["items"]]


def test_tamper_protection_regenerate_password(api, first_tenant, endpoint):
    path = f"/endpoint/v1/endpoints/{endpoint.object_id}/tamper-protection"
    before = tenant_request(api, first_tenant, "GET", path).json()

    after = tenant_request(
        api, first_tenant, "POST", path, {"regeneratePassword": True}
    ).json()

    assert after["password"] != before["password"]
    assert after["previousPasswords"][0]["password"] == before["password"]
