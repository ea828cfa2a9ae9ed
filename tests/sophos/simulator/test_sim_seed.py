import pytest
from sim_helpers import FLEET_ENDPOINTS, FLEET_TENANTS

from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.models import SimCredential, SimObject, SimTenant
from sophos.simulator.seed import (
    demo_credential,
    other_partner_credential,
    seed_fleet,
)


def _snapshot():
    return (
        sorted(SimTenant.objects.values_list("id", "data__name")),
        sorted(SimObject.objects.values_list("kind", "object_id")),
    )


def test_seed_is_deterministic(db):
    first = seed_fleet(seed=11, tenants=3, max_endpoints=5)
    first_rows = _snapshot()

    second = seed_fleet(seed=11, tenants=3, max_endpoints=5)

    assert first == second
    assert _snapshot() == first_rows


def test_seed_differs_by_seed(db):
    first = seed_fleet(seed=11, tenants=3, max_endpoints=5)
    second = seed_fleet(seed=12, tenants=3, max_endpoints=5)

    assert first.client_id != second.client_id
    assert first.partner_id != second.partner_id


def test_seed_endpoints_per_tenant_exact(fleet):
    for tenant in SimTenant.objects.filter(partner_id=fleet.partner_id):
        count = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=tenant.id).count()
        assert count == FLEET_ENDPOINTS


def test_seed_max_endpoints_bound(db):
    credential = seed_fleet(seed=5, tenants=6, max_endpoints=9)

    for tenant in SimTenant.objects.filter(partner_id=credential.partner_id):
        count = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=tenant.id).count()
        assert 3 <= count <= 9


def test_seed_stores_demo_credential(fleet):
    stored = SimCredential.objects.get(client_id=fleet.client_id)

    assert demo_credential() == fleet
    assert stored.client_secret == fleet.client_secret
    assert stored.principal_id == fleet.partner_id


def test_seed_other_partner_has_one_tenant(fleet):
    other = other_partner_credential()

    assert other.partner_id != fleet.partner_id
    assert SimTenant.objects.filter(partner_id=other.partner_id).count() == 1
    assert (
        SimTenant.objects.filter(partner_id=fleet.partner_id).count() == FLEET_TENANTS
    )


def test_seed_mix_of_health_and_tamper(db):
    seed_fleet(seed=2, tenants=4, max_endpoints=40, endpoints_per_tenant=40)
    endpoints = SimObject.objects.filter(kind=ENDPOINT_KIND)

    health = {row.data["health"]["overall"] for row in endpoints}
    tamper_off = [row for row in endpoints if not row.data["tamperProtectionEnabled"]]

    assert health == {"good", "suspicious", "bad", "unknown"}
    assert tamper_off


def test_seed_rejects_negative_counts(db):
    with pytest.raises(ValueError, match="0 or more"):
        seed_fleet(seed=1, tenants=-1, max_endpoints=3)
