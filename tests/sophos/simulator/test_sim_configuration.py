import pytest
from sim_helpers import GLOBAL, Api, fetch_token, tenant_request

from sophos.simulator.api.alerts import ALERT_KIND
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.firewalls import FIREWALL_KIND
from sophos.simulator.api.groups import GROUP_KIND
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import demo_credential, seed_fleet


def test_endpoint_groups_match_endpoints(api, first_tenant):
    groups = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/endpoint-groups", pageSize=100
    ).json()["items"]
    endpoints = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id)

    by_id = {group["id"]: group for group in groups}
    for endpoint in endpoints:
        group = by_id[endpoint.data["group"]["id"]]
        assert group["name"] == endpoint.data["group"]["name"]
        assert {"id": endpoint.object_id} in group["endpoints"]["items"]


def test_alert_people_are_directory_users(api, first_tenant):
    alerts = SimObject.objects.filter(kind=ALERT_KIND, scope_id=first_tenant.id)
    person_id = next(a.data["person"]["id"] for a in alerts if "person" in a.data)

    response = tenant_request(
        api, first_tenant, "GET", f"/common/v1/directory/users/{person_id}"
    )

    assert response.status_code == 200
    assert response.json()["tenant"]["id"] == first_tenant.id


def test_tenant_roles_and_admins(api, first_tenant):
    roles = tenant_request(api, first_tenant, "GET", "/common/v1/roles").json()
    admins = tenant_request(api, first_tenant, "GET", "/common/v1/admins").json()

    role_ids = {role["id"] for role in roles["items"]}
    assert {role["type"] for role in roles["items"]} == {"predefined"}
    assert admins["items"][0]["roleAssignments"][0]["roleId"] in role_ids


ADMINS = "/common/v1/admins"


def _roles_by_name(api, tenant):
    roles = tenant_request(api, tenant, "GET", "/common/v1/roles").json()["items"]
    return {role["name"]: role["id"] for role in roles}


def _super_admin(api, tenant):
    """Return the tenant's seeded admin, its only Super Admin."""
    super_role = _roles_by_name(api, tenant)["Super Admin"]
    admins = tenant_request(api, tenant, "GET", ADMINS).json()["items"]
    (admin,) = [
        admin
        for admin in admins
        if any(a["roleId"] == super_role for a in admin["roleAssignments"])
    ]
    return admin


def _admin_create(api, tenant, role_name):
    user = tenant_request(
        api,
        tenant,
        "POST",
        "/common/v1/directory/users",
        {"name": "Robin Vale", "firstName": "Robin", "lastName": "Vale"},
    ).json()
    role_id = _roles_by_name(api, tenant)[role_name]
    body = {"userId": user["id"], "roleAssignments": [{"roleId": role_id}]}
    response = tenant_request(api, tenant, "POST", ADMINS, body)
    assert response.status_code == 201, response.text
    return response.json()


def test_last_super_admin_delete_conflicts(api, first_tenant):
    admin = _super_admin(api, first_tenant)

    response = tenant_request(api, first_tenant, "DELETE", f"{ADMINS}/{admin['id']}")

    assert response.status_code == 409
    assert response.json()["error"] == "resourceConflict"
    assert "last Super Admin" in response.json()["message"]
    still_listed = tenant_request(api, first_tenant, "GET", f"{ADMINS}/{admin['id']}")
    assert still_listed.status_code == 200


def test_super_admin_delete_allowed_with_another(api, first_tenant):
    admin = _super_admin(api, first_tenant)
    _admin_create(api, first_tenant, "Super Admin")

    response = tenant_request(api, first_tenant, "DELETE", f"{ADMINS}/{admin['id']}")

    assert response.status_code == 200
    assert response.json() == {"deleted": True}


def test_last_super_admin_role_removal_conflicts(api, first_tenant):
    admin = _super_admin(api, first_tenant)
    assignment_id = admin["roleAssignments"][0]["id"]
    path = f"{ADMINS}/{admin['id']}/role-assignments/{assignment_id}"

    refused = tenant_request(api, first_tenant, "DELETE", path)
    _admin_create(api, first_tenant, "Super Admin")
    allowed = tenant_request(api, first_tenant, "DELETE", path)

    assert refused.status_code == 409
    assert refused.json()["error"] == "resourceConflict"
    assert allowed.status_code == 200
    assert allowed.json() == {"deleted": True}


def test_other_role_removal_of_last_super_admin(api, first_tenant):
    admin = _super_admin(api, first_tenant)
    admin_role = _roles_by_name(api, first_tenant)["Admin"]
    added = tenant_request(
        api,
        first_tenant,
        "POST",
        f"{ADMINS}/{admin['id']}/role-assignments",
        {"roleId": admin_role},
    ).json()

    response = tenant_request(
        api,
        first_tenant,
        "DELETE",
        f"{ADMINS}/{admin['id']}/role-assignments/{added['id']}",
    )

    assert response.status_code == 200


def test_partner_admins_seeded(api):
    response = api.client.get(
        GLOBAL + "/partner/v1/admins",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
    )

    assert response.status_code == 200
    assert len(response.json()["items"]) == 3


def test_scanning_exclusions_seeded(api, first_tenant):
    body = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/settings/exclusions/scanning"
    ).json()

    assert body["items"]
    assert {"id", "value", "type", "scanMode"} <= set(body["items"][0])


def test_some_tenants_have_firewalls(db):
    credential = seed_fleet(seed=5, tenants=12, max_endpoints=3)
    tenants = SimTenant.objects.filter(partner_id=credential.partner_id)
    tenant_ids = list(tenants.order_by("seq").values_list("id", flat=True))

    with_firewalls = {
        row.scope_id
        for row in SimObject.objects.filter(kind=FIREWALL_KIND, scope_id__in=tenant_ids)
    }

    assert tenant_ids[0] in with_firewalls
    assert with_firewalls < set(tenant_ids)
    assert SimObject.objects.filter(kind=GROUP_KIND).exists()


@pytest.fixture
def firewall(db):
    """A seeded firewall whose management waits for approval."""
    seed_fleet(seed=1, tenants=4, max_endpoints=2)
    return SimObject.objects.get(
        kind=FIREWALL_KIND, data__status__managing="approvalPending"
    )


def test_firewall_actions(firewall, sim_client):
    credential = demo_credential()
    api = Api(sim_client, fetch_token(sim_client, credential), credential.partner_id)
    tenant = SimTenant.objects.get(id=firewall.scope_id)

    action = tenant_request(
        api,
        tenant,
        "POST",
        f"/firewall/v1/firewalls/{firewall.object_id}/action",
        {"action": "approveManagement"},
    )
    check = tenant_request(
        api,
        tenant,
        "POST",
        "/firewall/v1/firewalls/actions/firmware-upgrade-check",
        {"firewalls": [firewall.object_id]},
    )
    invalid = tenant_request(
        api,
        tenant,
        "POST",
        f"/firewall/v1/firewalls/{firewall.object_id}/action",
        {"action": "explode"},
    )
    firewall.refresh_from_db()

    assert action.json() == {"status": "succeeded", "action": "approveManagement"}
    assert firewall.data["status"]["managing"] == "approved"
    assert check.json()["firewalls"][0]["id"] == firewall.object_id
    assert check.json()["firmwareVersions"]
    assert invalid.status_code == 400
    assert "action" in invalid.json()["message"]


def test_firewalls_ungrouped_filter(firewall, sim_client):
    credential = demo_credential()
    api = Api(sim_client, fetch_token(sim_client, credential), credential.partner_id)
    tenant = SimTenant.objects.get(id=firewall.scope_id)
    path = "/firewall/v1/firewalls"
    grouped = SimObject.objects.filter(
        kind=FIREWALL_KIND, scope_id=tenant.id, data__group__isnull=False
    ).exclude(object_id=firewall.object_id)
    group_id = grouped[0].data["group"]["id"]

    ungrouped = tenant_request(api, tenant, "GET", path, groupId="ungrouped").json()
    in_group = tenant_request(api, tenant, "GET", path, groupId=group_id).json()
    either = tenant_request(
        api, tenant, "GET", path, groupId=f"ungrouped,{group_id}"
    ).json()

    assert [item["id"] for item in ungrouped["items"]] == [firewall.object_id]
    assert "group" not in ungrouped["items"][0]
    assert {item["id"] for item in in_group["items"]} == {
        row.object_id for row in grouped if row.data["group"]["id"] == group_id
    }
    assert len(either["items"]) == len(in_group["items"]) + 1


def test_tenant_create(api):
    response = api.client.post(
        GLOBAL + "/partner/v1/tenants",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
        json={
            "name": "Quarry Lane Vets Ltd",
            "dataGeography": "DE",
            "billingType": "trial",
            "contact": {
                "firstName": "Ines",
                "lastName": "Weber",
                "email": "i@q.example",
            },
        },
    )

    body = response.json()
    assert response.status_code == 201
    assert body["dataRegion"] == "eu02"
    assert body["apiHost"] == "https://api-eu02.central.sophos.com"
    assert body["partner"] == {"id": api.partner_id}
    listed = api.partner("/partner/v1/tenants", pageSize=100).json()["items"]
    assert body["id"] in [tenant["id"] for tenant in listed]
    policies = tenant_request(api, body, "GET", "/endpoint/v1/policies")
    assert policies.status_code == 200


@pytest.mark.parametrize(
    "changes",
    [{"billingType": "free"}, {"dataGeography": "XX"}, {"dataGeography": None}],
)
def test_tenant_create_invalid(api, changes):
    body = {
        "name": "Bad Tenant",
        "dataGeography": "US",
        "billingType": "usage",
        "contact": {"email": "x@example.com"},
        **changes,
    }
    body = {key: value for key, value in body.items() if value is not None}

    response = api.client.post(
        GLOBAL + "/partner/v1/tenants",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
        json=body,
    )

    assert response.status_code == 400
