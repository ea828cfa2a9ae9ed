"""Billing months kept as JSON rows move into the usage and total tables."""

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
