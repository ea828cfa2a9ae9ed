"""Billing months kept as JSON rows move into the usage and total tables."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("partner", "0001_initial")]
AFTER = [("partner", "0002_billing_tables")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _latest_schema_after():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_kept_json_rows_move_into_tables():
    apps = _migrate(BEFORE)
    Connection = apps.get_model("sophos", "Connection")
    Tenant = apps.get_model("sophos", "Tenant")
    BillingMonth = apps.get_model("partner", "BillingMonth")
    partner = Connection.objects.create(
        name="Partner", client_id="client", secret_encrypted="x", kind="partner"
    )
    tenant = Tenant.objects.create(
        id=uuid.uuid4(),
        connection=partner,
        name="Mirrored Ltd",
        api_host="https://api-eu01.central.sophos.com",
    )
    row = {
        "product_code": "CIXA",
        "product_description": "Intercept X Advanced",
        "product_group": "endpoint",
        "sku": "CIXA-1",
    }
    BillingMonth.objects.create(
        connection=partner,
        year=2025,
        month=3,
        rows=[
            {
                **row,
                "tenant_id": str(tenant.pk),
                "tenant_name": "Mirrored Ltd",
                "billable_quantity": 10,
                "actual_quantity": 11,
            },
            {
                **row,
                "tenant_id": str(tenant.pk),
                "tenant_name": "Mirrored Ltd",
                "product_code": "SVRC",
                "billable_quantity": 2,
                "actual_quantity": 2,
            },
            {
                **row,
                "tenant_id": "gone",
                "tenant_name": "Gone Ltd",
                "billable_quantity": "7.0",
                "actual_quantity": None,
            },
        ],
    )

    apps = _migrate(AFTER)

    kept = apps.get_model("partner", "BillingMonth").objects.get()
    totals = {
        total.account_id: total
        for total in apps.get_model("partner", "BillingTenantTotal").objects.all()
    }
    usage = apps.get_model("partner", "BillingUsage").objects.all()
    assert (kept.billable_total, kept.actual_total) == (19, 13)
    assert (kept.tenant_count, kept.row_count) == (2, 3)
    assert kept.product_totals == [["Intercept X Advanced", 19]]
    assert totals[str(tenant.pk)].tenant_id == tenant.pk
    assert totals[str(tenant.pk)].products == 2
    assert totals[str(tenant.pk)].billable_quantity == 12
    assert totals["gone"].tenant_id is None
    assert usage.count() == 3


def test_account_ids_link_tenants_mirrored_later():
    apps = _migrate([("partner", "0002_billing_tables")])
    Connection = apps.get_model("sophos", "Connection")
    BillingMonth = apps.get_model("partner", "BillingMonth")
    BillingTenantTotal = apps.get_model("partner", "BillingTenantTotal")
    BillingUsage = apps.get_model("partner", "BillingUsage")
    partner = Connection.objects.create(
        name="Partner", client_id="client", secret_encrypted="x", kind="partner"
    )
    kept = BillingMonth.objects.create(connection=partner, year=2025, month=3)
    account_id = str(uuid.uuid4())
    for account in (account_id, "not-a-uuid"):
        BillingTenantTotal.objects.create(
            billing_month=kept, account_id=account, account_name=account
        )
        BillingUsage.objects.create(
            billing_month=kept, account_id=account, account_name=account
        )

    apps = _migrate([("partner", "0003_billing_tenant_link")])

    for name in ("BillingTenantTotal", "BillingUsage"):
        rows = apps.get_model("partner", name).objects.all()
        links = dict(rows.values_list("account_id", "tenant_id"))
        assert links == {account_id: uuid.UUID(account_id), "not-a-uuid": None}


def test_malformed_json_rows_mark_month_for_fetching():
    apps = _migrate(BEFORE)
    Connection = apps.get_model("sophos", "Connection")
    BillingMonth = apps.get_model("partner", "BillingMonth")
    partner = Connection.objects.create(
        name="Partner", client_id="client", secret_encrypted="x", kind="partner"
    )
    good = {"tenant_id": "a", "product_code": "CIXA", "billable_quantity": 2}
    months = {
        1: [good, {}],
        2: [good, "text", None, 5, [1]],
        3: [good, {**good, "billable_quantity": "inf"}],
        4: [good, {**good, "billable_quantity": "1e400"}],
        5: [good, {**good, "billable_quantity": 10**30}],
        6: [good, {**good, "actual_quantity": "many"}],
        7: [good, {**good, "actual_quantity": [1]}],
        8: {"tenant_id": "a"},
        9: "garbage",
    }
    for month, rows in months.items():
        BillingMonth.objects.create(
            connection=partner, year=2024, month=month, rows=rows
        )

    apps = _migrate(AFTER)

    kept = {
        row.month: row
        for row in apps.get_model("partner", "BillingMonth").objects.all()
    }
    assert kept[1].complete
    assert (kept[1].row_count, kept[1].billable_total) == (2, 2)
    for month in range(2, 10):
        assert not kept[month].complete, month
    assert (kept[2].row_count, kept[2].billable_total) == (1, 2)
    assert (kept[5].row_count, kept[5].billable_total) == (2, 2)
    assert kept[9].row_count == 0


def test_month_kept_before_closing_everywhere_is_fetched_again():
    apps = _migrate(BEFORE)
    Connection = apps.get_model("sophos", "Connection")
    BillingMonth = apps.get_model("partner", "BillingMonth")
    partner = Connection.objects.create(
        name="Partner", client_id="client", secret_encrypted="x", kind="partner"
    )
    early = BillingMonth.objects.create(connection=partner, year=2025, month=3)
    late = BillingMonth.objects.create(connection=partner, year=2025, month=4)
    BillingMonth.objects.filter(pk=early.pk).update(
        fetched_at=datetime.datetime(2025, 4, 1, 6, tzinfo=datetime.UTC)
    )
    BillingMonth.objects.filter(pk=late.pk).update(
        fetched_at=datetime.datetime(2025, 5, 1, 13, tzinfo=datetime.UTC)
    )

    apps = _migrate(AFTER)

    kept = {
        row.month: row
        for row in apps.get_model("partner", "BillingMonth").objects.all()
    }
    assert not kept[3].complete
    assert kept[4].complete


def test_months_kept_as_complete_too_early_are_reopened():
    apps = _migrate([("partner", "0002_billing_tables")])
    Connection = apps.get_model("sophos", "Connection")
    BillingMonth = apps.get_model("partner", "BillingMonth")
    partner = Connection.objects.create(
        name="Partner", client_id="client", secret_encrypted="x", kind="partner"
    )
    fetched = {
        3: datetime.datetime(2025, 4, 1, 6, tzinfo=datetime.UTC),
        4: datetime.datetime(2025, 5, 1, 13, tzinfo=datetime.UTC),
    }
    for month, fetched_at in fetched.items():
        kept = BillingMonth.objects.create(
            connection=partner, year=2025, month=month, complete=True
        )
        BillingMonth.objects.filter(pk=kept.pk).update(fetched_at=fetched_at)

    apps = _migrate([("partner", "0003_billing_tenant_link")])

    kept = {
        row.month: row
        for row in apps.get_model("partner", "BillingMonth").objects.all()
    }
    assert not kept[3].complete
    assert kept[4].complete
