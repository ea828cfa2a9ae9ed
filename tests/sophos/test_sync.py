"""The client and the sync against the embedded simulator."""

import pytest

from sophos.client import SophosClient
from sophos.models import Alert, Endpoint, Job, JobItem, Tenant
from sophos.services.connections import client_for
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run, sync_start
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.faults import reset_faults, set_faults
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.transport import SimulatorTransport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_faults():
    reset_faults()
    yield
    reset_faults()


def simulator_client(**kwargs) -> SophosClient:
    credential = demo_credential()
    return SophosClient(
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        transport=SimulatorTransport(),
        **kwargs,
    )


def run_sync() -> Job:
    job = job_create(kind="sync", title="Sync", user=None)
    return sync_run(job_id=job.pk)


def test_tenant_paging_returns_every_tenant_once():
    with simulator_client() as client:
        tenants = list(
            client.iter_page_numbers(
                "/partner/v1/tenants", scope="partner", page_size=3
            )
        )

    partner_id = demo_credential().partner_id
    expected = SimTenant.objects.filter(partner_id=partner_id).count()
    assert len(tenants) == expected
    assert len({t["id"] for t in tenants}) == expected


def test_endpoint_paging_returns_the_exact_seeded_count():
    tenant = SimTenant.objects.filter(partner_id=demo_credential().partner_id).first()
    seeded = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=tenant.id).count()

    with simulator_client() as client:
        info = next(t for t in client.tenants() if t.id == tenant.id)
        endpoints = list(
            client.iter_keys("/endpoint/v1/endpoints", tenant=info.target, page_size=7)
        )

    assert seeded > 7
    assert len(endpoints) == seeded
    assert len({e["id"] for e in endpoints}) == seeded


def test_expired_token_is_renewed():
    set_faults(token_lifetime_seconds=1)
    clock = {"now": 1_000_000.0}

    with simulator_client(clock=lambda: clock["now"]) as client:
        client.whoami()
        first = client.access_token()
        clock["now"] += 5
        second = client.access_token()

    assert first != second


def test_it_waits_for_retry_after_and_succeeds():
    waits = []
    set_faults(rate_429=1.0, retry_after_seconds=3)

    with simulator_client(sleep=lambda s: (waits.append(s), reset_faults())) as client:
        me = client.whoami()

    assert me.id_type == "partner"
    assert waits == [3.0]
    assert client.rate_limited_responses == 1


def test_sync_mirrors_every_tenant_with_exact_counts(demo_connection):
    job = run_sync()

    assert job.status == Job.Status.SUCCEEDED
    tenant = Tenant.objects.order_by("name").first()
    seeded = SimObject.objects.filter(
        kind=ENDPOINT_KIND, scope_id=str(tenant.pk)
    ).count()
    assert tenant.endpoints_total == seeded
    assert Endpoint.objects.filter(tenant=tenant).count() == seeded
    good = Endpoint.objects.filter(tenant=tenant, health="good").count()
    assert tenant.endpoints_good == good
    assert (
        tenant.alerts_high
        == Alert.objects.filter(tenant=tenant, severity="high").count()
    )
    assert tenant.last_synced_at is not None


def test_sync_names_the_endpoint_of_each_alert(demo_connection):
    run_sync()

    alert = Alert.objects.exclude(managed_agent_id="").first()
    endpoint = Endpoint.objects.get(pk=alert.managed_agent_id)
    assert alert.managed_agent_name == endpoint.hostname


def test_a_forbidden_tenant_does_not_stop_the_sync(demo_connection):
    run_sync()
    blocked, *others = list(Tenant.objects.order_by("name"))
    set_faults(forbidden_tenant_ids=[str(blocked.pk)])

    job = run_sync()

    blocked.refresh_from_db()
    assert job.status == Job.Status.PARTIAL
    assert blocked.sync_status == Tenant.SyncStatus.FORBIDDEN
    item = job.items.get(tenant_id=blocked.pk)
    assert item.status == JobItem.Status.FAILED
    assert item.correlation_id
    assert "denied" in item.message
    for tenant in others:
        tenant.refresh_from_db()
        assert tenant.sync_status == Tenant.SyncStatus.OK
    assert job.items.filter(status=JobItem.Status.SUCCEEDED).count() == len(others)


def test_sync_removes_endpoints_deleted_in_sophos(demo_connection):
    run_sync()
    endpoint = Endpoint.objects.first()
    SimObject.objects.filter(kind=ENDPOINT_KIND, object_id=str(endpoint.pk)).delete()

    run_sync()

    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_sync_start_queues_the_job_and_it_runs(
    demo_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = sync_start(user=None)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.done == job.total == Tenant.objects.count()


def test_client_for_uses_the_simulator_for_the_demo_connection(demo_connection):
    with client_for(demo_connection) as client:
        me = client.whoami()

    assert me.id == demo_credential().partner_id
