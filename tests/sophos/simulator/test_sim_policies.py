from sim_helpers import tenant_request

from sophos.simulator.api.policies import POLICY_TYPES

POLICIES = "/endpoint/v1/policies"


def _base(api, tenant, policy_type="threat-protection", suffix=""):
    return tenant_request(api, tenant, "GET", f"{POLICIES}/{policy_type}/base{suffix}")


def test_policies_list_has_base_policies(api, first_tenant):
    body = tenant_request(api, first_tenant, "GET", POLICIES, pageSize=100).json()

    base = [p for p in body["items"] if p["priority"] == 0]
    assert {p["type"] for p in base} == set(POLICY_TYPES)
    assert body["pages"]["items"] == len(POLICY_TYPES)


def test_base_policy_ids_are_stable(api, first_tenant):
    first = _base(api, first_tenant).json()
    second = _base(api, first_tenant).json()

    assert first["id"] == second["id"]
    assert first["name"] == "Base Policy"


def test_base_policy_unknown_type_is_404(api, first_tenant):
    response = _base(api, first_tenant, policy_type="toaster-control")

    assert response.status_code == 404


def test_policy_create_clone_and_delete(api, first_tenant):
    created = tenant_request(
        api,
        first_tenant,
        "POST",
        POLICIES,
        {
            "name": "Finance laptops",
            "type": "device-encryption",
            "settings": {"endpoint.device-encryption.enabled": {"value": True}},
        },
    )
    policy = created.json()

    cloned = tenant_request(
        api, first_tenant, "POST", f"{POLICIES}/{policy['id']}/clone", {"name": "Copy"}
    )
    deleted = tenant_request(api, first_tenant, "DELETE", f"{POLICIES}/{policy['id']}")

    assert created.status_code == 201
    assert policy["settings"]["endpoint.device-encryption.enabled"]["value"] is True
    assert cloned.status_code == 201
    assert cloned.json()["name"] == "Copy"
    assert cloned.json()["settings"] == policy["settings"]
    assert deleted.json() == {"deleted": True}


def test_base_policy_cannot_be_deleted(api, first_tenant):
    base = _base(api, first_tenant).json()

    response = tenant_request(api, first_tenant, "DELETE", f"{POLICIES}/{base['id']}")

    assert response.status_code == 409


def test_policy_settings_update_and_reset(api, first_tenant):
    base = _base(api, first_tenant).json()
    settings_path = f"{POLICIES}/{base['id']}/settings"

    updated = tenant_request(
        api,
        first_tenant,
        "PATCH",
        settings_path,
        {"endpoint.malware.enabled": {"value": False}},
    ).json()
    one = tenant_request(
        api, first_tenant, "GET", f"{settings_path}/endpoint.malware.enabled"
    ).json()
    reset = tenant_request(
        api, first_tenant, "POST", f"{settings_path}/reset", {}
    ).json()

    assert updated["endpoint.malware.enabled"]["value"] is False
    assert one["value"] is False
    assert reset["endpoint.malware.enabled"]["value"] is True


def test_base_settings_routes(api, first_tenant):
    key = "endpoint.scans.scheduled.hour"

    changed = tenant_request(
        api,
        first_tenant,
        "PATCH",
        f"{POLICIES}/threat-protection/base/settings/{key}",
        {"value": "03:00"},
    )
    read = _base(api, first_tenant, suffix=f"/settings/{key}")

    assert changed.status_code == 200
    assert read.json()["value"] == "03:00"


def test_unknown_setting_is_404(api, first_tenant):
    response = _base(api, first_tenant, suffix="/settings/endpoint.nope")

    assert response.status_code == 404


def test_policy_settings_metadata(api, first_tenant):
    body = tenant_request(api, first_tenant, "GET", f"{POLICIES}/settings").json()

    assert {item["policyType"] for item in body["items"]} == set(POLICY_TYPES)
