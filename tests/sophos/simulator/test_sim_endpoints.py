import pytest
from sim_helpers import FLEET_ENDPOINTS, GLOBAL

from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.faults import set_faults
from sophos.simulator.models import SimObject, SimTenant


def _pages(api, tenant, **params):
    pages, key = [], None
    while True:
        if key:
            params["pageFromKey"] = key
        response = api.tenant(tenant, "/endpoint/v1/endpoints", **params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        key = response.json()["pages"].get("nextKey")
        if key is None:
            return pages


def test_endpoints_key_paging_exact_count(api, first_tenant):
    pages = _pages(api, first_tenant, pageSize=3)

    ids = [e["id"] for page in pages for e in page["items"]]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert len(set(ids)) == FLEET_ENDPOINTS
    assert "nextKey" not in pages[-1]["pages"]
    assert pages[1]["pages"]["fromKey"] == pages[0]["pages"]["nextKey"]


def test_endpoints_page_total(api, first_tenant):
    body = api.tenant(
        first_tenant, "/endpoint/v1/endpoints", pageSize=3, pageTotal="True"
    ).json()

    assert body["pages"]["total"] == 3
    assert body["pages"]["items"] == FLEET_ENDPOINTS
    assert body["pages"]["maxSize"] == 500


def test_endpoints_page_param_ignored(api, first_tenant):
    response = api.tenant(first_tenant, "/endpoint/v1/endpoints", page=2)

    assert response.status_code == 200
    assert len(response.json()["items"]) == FLEET_ENDPOINTS


@pytest.mark.parametrize(("size", "status"), [(500, 200), (501, 400), (0, 400)])
def test_endpoints_page_size_limit(api, first_tenant, size, status):
    response = api.tenant(first_tenant, "/endpoint/v1/endpoints", pageSize=size)

    assert response.status_code == status


def test_endpoints_bad_page_key_is_400(api, first_tenant):
    response = api.tenant(first_tenant, "/endpoint/v1/endpoints", pageFromKey="zz")

    assert response.status_code == 400


def test_endpoints_views(api, first_tenant):
    def first(view):
        body = api.tenant(first_tenant, "/endpoint/v1/endpoints", view=view).json()
        return body["items"][0]

    assert set(first("basic")) == {"id", "type", "tenant", "hostname"}
    assert "health" in first("summary")
    assert "serialNumber" not in first("summary")
    assert "serialNumber" in first("full")
    assert "serviceDetails" in first("full")["health"]["services"]


def test_endpoints_invalid_view_is_400(api, first_tenant):
    response = api.tenant(first_tenant, "/endpoint/v1/endpoints", view="huge")

    assert response.status_code == 400


def _stored(tenant, **lookups):
    rows = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=tenant.id)
    return {row.object_id for row in rows if _matches(row.data, lookups)}


def _matches(data, lookups):
    for path, expected in lookups.items():
        value = data
        for part in path.split("__"):
            value = value[part]
        if value not in expected:
            return False
    return True


def _listed_ids(api, tenant, **params):
    body = api.tenant(tenant, "/endpoint/v1/endpoints", **params).json()
    return {e["id"] for e in body["items"]}


def test_endpoints_filter_health(api):
    for tenant in SimTenant.objects.filter(partner_id=api.partner_id):
        listed = _listed_ids(api, tenant, healthStatus="bad,suspicious")

        assert listed == _stored(tenant, health__overall={"bad", "suspicious"})


def test_endpoints_filter_tamper_protection(api):
    for tenant in SimTenant.objects.filter(partner_id=api.partner_id):
        listed = _listed_ids(api, tenant, tamperProtectionEnabled="false")

        assert listed == _stored(tenant, tamperProtectionEnabled={False})


def test_endpoints_filter_type_and_isolation(api, first_tenant):
    servers = _listed_ids(api, first_tenant, type="server")
    isolated = _listed_ids(api, first_tenant, isolationStatus="isolated")

    assert servers == _stored(first_tenant, type={"server"})
    assert isolated == _stored(first_tenant, isolation__status={"isolated"})


def test_endpoints_filter_hostname_and_ids(api, first_tenant):
    row = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id).first()
    hostname = row.data["hostname"]

    by_name = _listed_ids(api, first_tenant, hostnameContains=hostname[-4:].lower())
    by_id = _listed_ids(api, first_tenant, ids=row.object_id)

    assert row.object_id in by_name
    assert by_id == {row.object_id}


def test_endpoints_filter_last_seen(api, first_tenant):
    recent = _listed_ids(api, first_tenant, lastSeenAfter="-PT1H")
    older = _listed_ids(api, first_tenant, lastSeenBefore="-PT1H")

    assert recent.isdisjoint(older)
    assert len(recent | older) == FLEET_ENDPOINTS


def test_endpoints_filter_naive_time_is_400(api, first_tenant):
    response = api.tenant(
        first_tenant, "/endpoint/v1/endpoints", lastSeenAfter="2026-01-01T00:00:00"
    )

    assert response.status_code == 400


def test_endpoints_filter_invalid_health_is_400(api, first_tenant):
    response = api.tenant(first_tenant, "/endpoint/v1/endpoints", healthStatus="meh")

    assert response.status_code == 400


def test_endpoint_detail(api, first_tenant):
    row = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id).first()

    response = api.tenant(
        first_tenant, f"/endpoint/v1/endpoints/{row.object_id}", view="full"
    )

    assert response.status_code == 200
    assert response.json() == row.data


def test_endpoint_detail_unknown_is_404(api, first_tenant):
    response = api.tenant(
        first_tenant, "/endpoint/v1/endpoints/00000000-0000-4000-8000-000000000000"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


def test_foreign_tenant_is_403(api):
    foreign = SimTenant.objects.exclude(partner_id=api.partner_id).get()

    response = api.tenant(foreign, "/endpoint/v1/endpoints")

    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


def test_unknown_tenant_is_403(api, first_tenant):
    response = api.client.get(
        f"https://api-{first_tenant.data_region}.central.sophos.com/endpoint/v1/endpoints",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Tenant-ID": "00000000-0000-4000-8000-000000000000",
        },
    )

    assert response.status_code == 403


def test_wrong_region_is_403(api, first_tenant):
    wrong = "us03" if first_tenant.data_region != "us03" else "eu01"

    response = api.client.get(
        f"https://api-{wrong}.central.sophos.com/endpoint/v1/endpoints",
        headers=api.tenant_headers(first_tenant),
    )

    assert response.status_code == 403
    assert first_tenant.data_region in response.json()["message"]


def test_missing_tenant_header_is_401(api, first_tenant):
    response = api.client.get(
        f"https://api-{first_tenant.data_region}.central.sophos.com/endpoint/v1/endpoints",
        headers={"Authorization": f"Bearer {api.token}"},
    )

    assert response.status_code == 401


def test_tenant_api_not_on_global_host(api, first_tenant):
    response = api.client.get(
        GLOBAL + "/endpoint/v1/endpoints", headers=api.tenant_headers(first_tenant)
    )

    assert response.status_code == 404


def test_forbidden_tenant_knob(api, first_tenant):
    set_faults(forbidden_tenant_ids=[first_tenant.id])

    response = api.tenant(first_tenant, "/endpoint/v1/endpoints")

    assert response.status_code == 403


def test_endpoints_search_hostname(api, first_tenant):
    row = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id).last()

    found = _listed_ids(
        api, first_tenant, search=row.data["hostname"], searchFields="hostname"
    )

    assert found == {row.object_id}


def test_endpoints_search_invalid_field_is_400(api, first_tenant):
    response = api.tenant(
        first_tenant, "/endpoint/v1/endpoints", search="x", searchFields="serial"
    )

    assert response.status_code == 400


def test_endpoints_filter_ip_address(api, first_tenant):
    row = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id).first()
    address = row.data["ipv4Addresses"][0]

    found = _listed_ids(api, first_tenant, ipAddresses=address)

    rows = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=first_tenant.id)
    expected = {r.object_id for r in rows if address in r.data["ipv4Addresses"]}
    assert row.object_id in found
    assert found == expected
