import pytest
from sim_helpers import GLOBAL, fetch_token

from sophos.simulator.models import SimTenant
from sophos.simulator.seed import other_partner_credential

TENANT_KEYS = {
    "id",
    "showAs",
    "name",
    "dataGeography",
    "dataRegion",
    "billingType",
    "partner",
    "apiHost",
    "status",
    "contact",
}


def _all_tenants(api, page_size):
    seen, page = [], 1
    while True:
        body = api.partner(
            "/partner/v1/tenants", page=page, pageSize=page_size, pageTotal="True"
        ).json()
        seen.extend(body["items"])
        if body["pages"]["current"] >= body["pages"]["total"]:
            return seen
        page += 1


def test_tenants_paging_returns_each_once(api):
    tenants = _all_tenants(api, page_size=1)

    ids = [t["id"] for t in tenants]
    stored = SimTenant.objects.filter(partner_id=api.partner_id)
    assert len(ids) == len(set(ids))
    assert set(ids) == set(stored.values_list("id", flat=True))


def test_tenant_shape(api):
    tenant = api.partner("/partner/v1/tenants").json()["items"][0]

    assert set(tenant) == TENANT_KEYS
    assert tenant["partner"] == {"id": api.partner_id}
    assert tenant["apiHost"] == (
        f"https://api-{tenant['dataRegion']}.central.sophos.com"
    )
    assert not tenant["apiHost"].endswith("/")
    assert "email" in tenant["contact"]


def test_tenants_span_three_regions(api):
    tenants = api.partner("/partner/v1/tenants").json()["items"]

    assert len({t["dataRegion"] for t in tenants}) >= 3


def test_tenants_pages_object(api):
    body = api.partner("/partner/v1/tenants", pageSize=3).json()

    assert body["pages"] == {"current": 1, "size": 3, "items": 4, "maxSize": 100}


def test_tenants_page_past_end_is_empty(api):
    body = api.partner("/partner/v1/tenants", page=9).json()

    assert body["items"] == []


def test_tenants_page_size_above_max_is_400(api):
    response = api.partner("/partner/v1/tenants", pageSize=101)

    body = response.json()
    assert response.status_code == 400
    assert set(body) == {"error", "message", "correlationId", "requestId", "createdAt"}
    assert "pageSize" in body["message"]


def test_tenants_repeated_parameter_accepted(api):
    response = api.client.get(
        GLOBAL + "/partner/v1/tenants?pageSize=1&pageSize=2&pageTotal=true",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
    )

    assert response.status_code == 200
    assert response.json()["pages"]["size"] == 2


def test_tenant_detail(api, first_tenant):
    response = api.partner(f"/partner/v1/tenants/{first_tenant.id}")

    assert response.status_code == 200
    assert response.json()["id"] == first_tenant.id
    assert set(response.json()) == TENANT_KEYS


def test_tenant_detail_unknown_is_404(api):
    response = api.partner("/partner/v1/tenants/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404


def test_tenant_detail_of_other_partner_is_403(api):
    other = SimTenant.objects.exclude(partner_id=api.partner_id).get()

    response = api.partner(f"/partner/v1/tenants/{other.id}")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("partner_header", "status"),
    [(None, 401), ("00000000-0000-4000-8000-000000000000", 403)],
)
def test_tenants_partner_header_checked(api, partner_header, status):
    headers = {"Authorization": f"Bearer {api.token}"}
    if partner_header:
        headers["X-Partner-ID"] = partner_header

    response = api.client.get(GLOBAL + "/partner/v1/tenants", headers=headers)

    assert response.status_code == status


def test_other_partner_sees_only_its_tenant(fleet, sim_client):
    other = other_partner_credential()
    token = fetch_token(sim_client, other)

    body = sim_client.get(
        GLOBAL + "/partner/v1/tenants",
        headers={"Authorization": f"Bearer {token}", "X-Partner-ID": other.partner_id},
    ).json()

    assert len(body["items"]) == 1
    assert body["items"][0]["partner"]["id"] == other.partner_id
