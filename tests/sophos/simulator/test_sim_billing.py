from sophos.simulator import clock
from sophos.simulator.api.partner import BILLING_KIND
from sophos.simulator.models import SimObject, SimTenant


def _month_back(months):
    today = clock.now().date()
    index = today.year * 12 + today.month - 1 - months
    return index // 12, index % 12 + 1


def test_billing_last_month_present(api):
    year, month = _month_back(1)

    response = api.partner(f"/partner/v1/billing/usage/{year}/{month}", pageSize=100)

    body = response.json()
    assert response.status_code == 200
    tenants = set(
        SimTenant.objects.filter(partner_id=api.partner_id).values_list("id", flat=True)
    )
    assert {row["accountId"] for row in body["items"]} == tenants
    assert all(row["partnerAccountId"] == api.partner_id for row in body["items"])
    assert "nextKey" not in body["pages"]


def test_billing_one_row_per_tenant_and_product(api):
    year, month = _month_back(3)

    items = api.partner(f"/partner/v1/billing/usage/{year}/{month}", pageSize=100)
    keys = [(r["accountId"], r["productCode"]) for r in items.json()["items"]]

    assert len(keys) == len(set(keys))


def test_billing_thirteen_months(api):
    months = SimObject.objects.filter(kind=BILLING_KIND, scope_id=api.partner_id)

    assert months.values("parent_id").distinct().count() == 13


def test_billing_current_and_old_month_404(api):
    for back in (0, 14):
        year, month = _month_back(back)

        response = api.partner(f"/partner/v1/billing/usage/{year}/{month}")

        assert response.status_code == 404


def test_billing_invalid_month_400(api):
    response = api.partner("/partner/v1/billing/usage/2026/13")

    assert response.status_code == 400


def test_billing_key_paging(api):
    year, month = _month_back(2)
    seen, key = [], None
    while True:
        params = {"pageSize": 2, **({"pageFromKey": key} if key else {})}
        body = api.partner(f"/partner/v1/billing/usage/{year}/{month}", **params).json()
        seen.extend(body["items"])
        key = body["pages"].get("nextKey")
        if key is None:
            break

    assert len(seen) == body["pages"]["items"]


def test_billing_filter_account(api, first_tenant):
    year, month = _month_back(1)

    body = api.partner(
        f"/partner/v1/billing/usage/{year}/{month}", accountId=first_tenant.id
    ).json()

    assert body["items"]
    assert {row["accountId"] for row in body["items"]} == {first_tenant.id}


def test_billing_month_with_leading_zero(api):
    year, month = _month_back(1)

    response = api.partner(f"/partner/v1/billing/usage/{year}/{month:02d}")

    assert response.status_code == 200


def test_billing_filter_contact_email(api, first_tenant):
    year, month = _month_back(1)
    email = first_tenant.data["contact"]["email"]

    body = api.partner(
        f"/partner/v1/billing/usage/{year}/{month}", contactEmail=email
    ).json()

    assert body["items"]
    assert {row["accountId"] for row in body["items"]} == {first_tenant.id}
