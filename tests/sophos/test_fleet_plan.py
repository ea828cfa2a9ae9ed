import pytest

from sophos.models import Tenant
from sophos.services.fleet_ops.base import PlanRequest, plan_endpoints

pytestmark = pytest.mark.django_db


@pytest.fixture
def chosen(synced_fleet, owner):
    """Two endpoints of the requester's tenant and one of another tenant."""
    first, second = Tenant.objects.filter(endpoints_total__gte=2).order_by("name")[:2]
    ours = list(first.endpoints.order_by("hostname")[:2])
    theirs = second.endpoints.order_by("hostname").first()
    request = PlanRequest(
        user=owner,
        parameters={"endpoint_ids": [str(e.pk) for e in (ours[1], theirs, ours[0])]},
        tenants=Tenant.objects.filter(pk=first.pk),
    )
    return request, first, ours


def test_plan_endpoints_scope_and_order(chosen):
    request, tenant, ours = chosen

    specs = list(plan_endpoints(request))

    assert [spec.target for spec in specs] == [str(e.pk) for e in ours]
    assert specs[0].label == f"{ours[0].hostname} ({tenant.display_name})"
    assert specs[0].tenant_id == tenant.pk
    assert specs[0].data == {"hostname": ours[0].hostname}


def test_plan_endpoints_extra_data(chosen):
    request, _, ours = chosen

    specs = list(plan_endpoints(request, extra=lambda e: {"seen": e.hostname}))

    assert specs[0].data == {"hostname": ours[0].hostname, "seen": ours[0].hostname}
