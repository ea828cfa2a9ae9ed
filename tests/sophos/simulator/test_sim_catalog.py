import pytest
from sim_helpers import GLOBAL

from sophos import catalog
from sophos.simulator.api import GENERIC_PLANS
from sophos.simulator.api.resources import Shape, plans
from sophos.simulator.routing import router

OPERATIONS = catalog.all_operations()


def test_every_catalog_operation_has_a_route():
    missing = [
        f"{op.method} {op.path}"
        for op in OPERATIONS
        if not router.has(op.method, op.path)
    ]

    assert missing == []


def test_plans_cover_catalog():
    assert len(plans()) == len(OPERATIONS)
    assert GENERIC_PLANS


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_catalog_operation_is_served(api, first_tenant, operation):
    values = {
        name: "00000000-0000-4000-8000-000000000001" for name in operation.path_params
    }
    if "year" in values:
        values.update(year="2020", month="1")
    url_path = operation.build_path(**values)
    if operation.scope == "tenant":
        url = f"https://api-{first_tenant.data_region}.central.sophos.com{url_path}"
        headers = api.tenant_headers(first_tenant)
    else:
        url = GLOBAL + url_path
        headers = {
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        }
    body = {name: "x" for name in operation.body_required}

    kwargs = {"json": body} if operation.method in {"POST", "PUT", "PATCH"} else {}
    response = api.client.request(operation.method, url, headers=headers, **kwargs)

    assert response.status_code not in {405, 500}, response.text
    assert "No API at" not in response.text


def test_collection_shapes():
    by_name = {plan.operation.name: plan for plan in plans()}

    assert by_name["allowed_items_list"].shape is Shape.LIST
    assert by_name["allowed_item_create"].shape is Shape.CREATE
    assert by_name["allowed_item_get"].shape is Shape.ITEM_GET
    assert by_name["allowed_item_delete"].shape is Shape.ITEM_DELETE
    assert by_name["tenant_roles_list"].shape is Shape.ITEMS
    assert by_name["global_tamper_protection_get"].shape is Shape.SINGLETON_GET
    assert by_name["tls_decryption_settings_update"].shape is Shape.SINGLETON_UPDATE
    assert by_name["endpoint_scan_start"].shape is Shape.ACTION
