import httpx
from sim_helpers import GLOBAL

from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.transport import SimulatorTransport

ALLOWED = "/endpoint/v1/settings/allowed-items"
SCANNING = "/endpoint/v1/settings/exclusions/scanning"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000009"


def _request(api, tenant, method, path, body=None, **params):
    return api.client.request(
        method,
        f"https://api-{tenant.data_region}.central.sophos.com{path}",
        headers=api.tenant_headers(tenant),
        json=body,
        params=params,
    )


def _partner(api, method, path, body=None):
    return api.client.request(
        method,
        GLOBAL + path,
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
        json=body,
    )


def _allowed_item_body():
    return {
        "type": "sha256",
        "properties": {"sha256": "ab" * 32},
        "comment": "Line-of-business tool",
    }


def test_create_returns_201_with_id(api, first_tenant):
    response = _request(api, first_tenant, "POST", ALLOWED, _allowed_item_body())

    body = response.json()
    assert response.status_code == 201
    assert body["id"]
    assert body["comment"] == "Line-of-business tool"
    assert body["createdAt"].endswith("Z")


def test_created_item_is_read_listed_and_updated(api, first_tenant):
    created = _request(api, first_tenant, "POST", ALLOWED, _allowed_item_body()).json()
    item_path = f"{ALLOWED}/{created['id']}"

    read = _request(api, first_tenant, "GET", item_path)
    listed = _request(api, first_tenant, "GET", ALLOWED, pageTotal="true")
    updated = _request(api, first_tenant, "PATCH", item_path, {"comment": "Changed"})

    assert read.json() == created
    assert created["id"] in [item["id"] for item in listed.json()["items"]]
    assert listed.json()["pages"]["current"] == 1
    assert updated.status_code == 200
    assert updated.json()["comment"] == "Changed"
    assert _request(api, first_tenant, "GET", item_path).json()["comment"] == "Changed"


def test_delete_then_get_is_404(api, first_tenant):
    created = _request(
        api, first_tenant, "POST", SCANNING, {"value": "C:\\tools\\", "type": "path"}
    ).json()
    item_path = f"{SCANNING}/{created['id']}"

    deleted = _request(api, first_tenant, "DELETE", item_path)
    again = _request(api, first_tenant, "GET", item_path)

    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": True}
    assert again.status_code == 404


def test_delete_unknown_id(api, first_tenant):
    scanning = _request(api, first_tenant, "DELETE", f"{SCANNING}/{UNKNOWN_ID}")
    allowed = _request(api, first_tenant, "DELETE", f"{ALLOWED}/{UNKNOWN_ID}")

    assert scanning.status_code == 404
    assert allowed.status_code == 200
    assert allowed.json() == {"deleted": True}


def test_create_missing_required_field_is_400(api, first_tenant):
    response = _request(api, first_tenant, "POST", ALLOWED, {"comment": "no type"})

    assert response.status_code == 400
    assert "type" in response.json()["message"]


def test_items_are_per_tenant(api, first_tenant):
    other = SimTenant.objects.filter(partner_id=api.partner_id).exclude(
        id=first_tenant.id
    )[0]
    created = _request(api, first_tenant, "POST", ALLOWED, _allowed_item_body()).json()

    response = _request(api, other, "GET", f"{ALLOWED}/{created['id']}")

    assert response.status_code == 404


def test_list_filters_by_field(api, first_tenant):
    _request(
        api, first_tenant, "POST", SCANNING, {"value": "/opt/app", "type": "posixPath"}
    )
    _request(api, first_tenant, "POST", SCANNING, {"value": "C:\\app", "type": "path"})

    items = _request(api, first_tenant, "GET", SCANNING, type="posixPath").json()[
        "items"
    ]

    assert items
    assert {item["type"] for item in items} == {"posixPath"}


def test_action_records_request(api, first_tenant):
    endpoint = SimObject.objects.filter(
        kind="endpoint/v1/endpoints", scope_id=first_tenant.id
    ).first()

    response = _request(
        api,
        first_tenant,
        "POST",
        f"/endpoint/v1/endpoints/{endpoint.object_id}/scans",
        {},
    )

    body = response.json()
    assert response.status_code == 201
    assert set(body) == {"id", "status", "requestedAt"}
    assert body["status"] == "requested"


def test_action_on_unknown_parent_is_404(api, first_tenant):
    response = _request(
        api, first_tenant, "POST", f"/endpoint/v1/endpoints/{UNKNOWN_ID}/scans", {}
    )

    assert response.status_code == 404


def test_bodiless_post_needs_empty_object(api, first_tenant):
    endpoint = SimObject.objects.filter(
        kind="endpoint/v1/endpoints", scope_id=first_tenant.id
    ).first()

    response = api.client.post(
        f"https://api-{first_tenant.data_region}.central.sophos.com"
        f"/endpoint/v1/endpoints/{endpoint.object_id}/update-checks",
        headers=api.tenant_headers(first_tenant),
    )

    assert response.status_code == 400


def test_singleton_default_and_update(api, first_tenant):
    path = "/endpoint/v1/settings/event-journal/server"

    before = _request(api, first_tenant, "GET", path).json()
    updated = _request(
        api,
        first_tenant,
        "PATCH",
        path,
        {"useRecommended": False, "diskSpaceLimitInMB": 20000},
    )
    after = _request(api, first_tenant, "GET", path).json()

    assert before["useRecommended"] is True
    assert updated.status_code == 200
    assert after["useRecommended"] is False
    assert after["diskSpaceLimitInMB"]["value"] == 20000
    assert after["diskSpaceLimitInMB"]["recommendedValue"] != 20000


def test_global_tamper_protection_default(api, first_tenant):
    response = _request(
        api, first_tenant, "GET", "/endpoint/v1/settings/tamper-protection"
    )

    assert response.json() == {"enabled": True}


def test_partner_collection_with_nested_items(api):
    admin = _partner(
        api, "POST", "/partner/v1/admins", {"username": "ops@brightline.example"}
    ).json()
    nested = f"/partner/v1/admins/{admin['id']}/role-assignments"
    role_id = _partner(api, "GET", "/partner/v1/roles").json()["items"][0]["id"]

    assigned = _partner(
        api, "POST", nested, {"roleId": role_id, "scope": {"type": "partner"}}
    )
    unknown_role = _partner(
        api, "POST", nested, {"roleId": UNKNOWN_ID, "scope": {"type": "partner"}}
    )
    listed = _partner(api, "GET", nested)
    orphan = _partner(api, "GET", f"/partner/v1/admins/{UNKNOWN_ID}/role-assignments")

    assert assigned.status_code == 201
    assert unknown_role.status_code == 400
    assert "roleId" in unknown_role.json()["message"]
    assert listed.json()["items"] == [assigned.json()]
    assert orphan.status_code == 404


def test_state_kept_across_transports(api, first_tenant):
    created = _request(api, first_tenant, "POST", ALLOWED, _allowed_item_body()).json()

    with httpx.Client(transport=SimulatorTransport()) as fresh:
        response = fresh.get(
            f"https://api-{first_tenant.data_region}.central.sophos.com"
            f"{ALLOWED}/{created['id']}",
            headers=api.tenant_headers(first_tenant),
        )

    assert response.status_code == 200


def test_migration_job_flow(api, first_tenant):
    sender = SimTenant.objects.filter(partner_id=api.partner_id).exclude(
        id=first_tenant.id
    )[0]
    endpoint_ids = list(
        SimObject.objects.filter(
            kind="endpoint/v1/endpoints", scope_id=sender.id
        ).values_list("object_id", flat=True)[:2]
    )

    created = _request(
        api,
        first_tenant,
        "POST",
        "/endpoint/v1/migrations",
        {"fromTenant": sender.id, "endpoints": endpoint_ids},
    ).json()
    started = _request(
        api,
        sender,
        "PUT",
        f"/endpoint/v1/migrations/{created['id']}",
        {"token": created["token"], "endpoints": endpoint_ids},
    )
    wrong_token = _request(
        api,
        sender,
        "PUT",
        f"/endpoint/v1/migrations/{created['id']}",
        {"token": "nope", "endpoints": endpoint_ids},
    )
    members = _request(
        api, first_tenant, "GET", f"/endpoint/v1/migrations/{created['id']}/endpoints"
    ).json()

    assert created["mode"] == "receiving"
    assert started.status_code == 200
    assert started.json()["mode"] == "sending"
    assert wrong_token.status_code == 400
    assert "token" in wrong_token.json()["message"]
    assert {item["id"] for item in members["items"]} == set(endpoint_ids)
