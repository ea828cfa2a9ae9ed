"""The client and the sync against the embedded simulator."""

import datetime as dt
import io
import threading
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.models import Schedule

from sophos.client import SophosClient
from sophos.models import Alert, AuditEntry, Endpoint, Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services import sync as sync_module
from sophos.services.connections import client_for
from sophos.services.jobs import (
    ItemSpec,
    job_create,
    job_finish_when_done,
    job_item_start,
    job_item_succeed,
    job_start,
)
from sophos.services.sync import (
    HIGH_WATER_OVERLAP,
    SCHEDULE_NAME,
    SYNC_WORKER_STOPPED_MESSAGE,
    sync_item_run,
    sync_run,
    sync_schedule_ensure,
    sync_scheduled,
    sync_start,
)
from sophos.simulator import clock as sim_clock
from sophos.simulator.api.alerts import ALERT_KIND
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.faults import reset_faults, set_faults
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.transport import SimulatorTransport

pytestmark = pytest.mark.django_db

NEW_ALERT_ID = "0b5e7c1e-5a2b-4c55-9a1d-2f3e4d5c6b7a"


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


# Fan-out, job bookkeeping and incremental passes.


@pytest.fixture
def sent_urls(monkeypatch):
    """The URL of every request the simulator transport handles."""
    urls: list[str] = []
    handle = SimulatorTransport.handle_request

    def recording(self, request):
        urls.append(str(request.url))
        return handle(self, request)

    monkeypatch.setattr(SimulatorTransport, "handle_request", recording)
    return urls


@pytest.fixture
def queued_tasks(monkeypatch):
    """Tasks the sync queues, kept instead of run."""
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        "sophos.services.sync.async_task",
        lambda name, *args, **options: queued.append((name, args)),
    )
    return queued


def incremental_sync() -> Job:
    job = job_create(
        kind="sync", title="Sync", user=None, parameters={"mode": "incremental"}
    )
    return sync_run(job_id=job.pk)


def sim_endpoint(tenant: Tenant, *, oldest: bool) -> SimObject:
    rows = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=str(tenant.pk))
    order = "data__lastSeenAt" if oldest else "-data__lastSeenAt"
    return rows.order_by(order).first()


def test_sync_queues_one_task_per_tenant(demo_connection, queued_tasks):
    job = run_sync()

    item_ids = list(job.items.values_list("pk", flat=True))
    assert job.status == Job.Status.RUNNING
    assert len(item_ids) == Tenant.objects.count()
    assert queued_tasks == [("sophos.tasks.sync_item_task", (pk,)) for pk in item_ids]


def test_last_item_to_end_finishes_the_job(demo_connection, queued_tasks):
    job = run_sync()
    *first_items, last_item = reversed(job.items.order_by("pk"))

    for item in first_items:
        sync_item_run(item_id=item.pk)
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING
    sync_item_run(item_id=last_item.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.finished_at is not None
    assert job.done == job.total == len(first_items) + 1


def test_item_delivered_twice_runs_once(demo_connection, queued_tasks, sent_urls):
    job = run_sync()
    item = job.items.first()
    sync_item_run(item_id=item.pk)
    calls_after_first = len(sent_urls)

    sync_item_run(item_id=item.pk)

    job.refresh_from_db()
    assert len(sent_urls) == calls_after_first
    assert job.done == 1


def test_item_ending_twice_counts_once(demo_connection):
    job = job_create(
        kind="test", title="Test", user=None, items=[ItemSpec(target="one")]
    )
    item = job.items.get()

    job_item_succeed(item=item)
    job_item_succeed(item=item)

    job.refresh_from_db()
    assert job.done == 1


def test_job_finish_when_done_finishes_once(demo_connection):
    job = job_create(
        kind="test", title="Test", user=None, items=[ItemSpec(target="one")]
    )
    job_start(job=job)
    assert job_finish_when_done(job_id=job.pk) is None
    job_item_succeed(item=job.items.get())

    first = job_finish_when_done(job_id=job.pk)
    second = job_finish_when_done(job_id=job.pk)

    assert first is not None
    assert first.status == Job.Status.SUCCEEDED
    assert second is None


def test_cancelled_job_cancels_its_remaining_items(demo_connection, queued_tasks):
    job = run_sync()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)

    for item in job.items.all():
        sync_item_run(item_id=item.pk)

    job.refresh_from_db()
    statuses = set(job.items.values_list("status", flat=True))
    assert statuses == {JobItem.Status.CANCELLED}
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None


def test_failed_tenant_list_fails_its_connection_item(demo_connection):
    set_faults(rate_5xx=1.0)

    job = run_sync()

    item = job.items.get()
    assert job.status == Job.Status.FAILED
    assert item.target == f"connection:{demo_connection.pk}"
    assert item.status == JobItem.Status.FAILED


def test_full_sync_sets_the_sync_state(demo_connection):
    run_sync()

    tenant = Tenant.objects.order_by("name").first()
    newest_seen = sim_endpoint(tenant, oldest=False).data["lastSeenAt"]
    assert tenant.last_full_sync_at is not None
    assert tenant.last_incremental_sync_at is None
    assert tenant.endpoints_high_water == parse_datetime(newest_seen)
    assert tenant.alerts_high_water == max(
        tenant.alerts.values_list("raised_at", flat=True)
    )


def test_incremental_sync_asks_only_for_changes(demo_connection, sent_urls):
    run_sync()
    sent_urls.clear()

    job = incremental_sync()

    tenant = Tenant.objects.order_by("name").first()
    endpoint_urls = [u for u in sent_urls if "/endpoint/v1/endpoints" in u]
    alert_urls = [u for u in sent_urls if "/common/v1/alerts" in u]
    since = (tenant.endpoints_high_water - HIGH_WATER_OVERLAP).strftime("%H%%3A%M")
    assert job.status == Job.Status.SUCCEEDED
    assert len(endpoint_urls) == len(alert_urls) == Tenant.objects.count()
    assert all("lastSeenAfter=" in url for url in endpoint_urls)
    assert all("from=" in url for url in alert_urls)
    assert any(since in url for url in endpoint_urls)
    assert tenant.last_incremental_sync_at is not None


def test_incremental_sync_skips_the_rarely_changed_lists(demo_connection, sent_urls):
    run_sync()
    sent_urls.clear()

    incremental_sync()

    assert not [url for url in sent_urls if "/endpoint/v1/settings/" in url]


def test_incremental_sync_mirrors_what_changed(demo_connection):
    run_sync()
    tenant = Tenant.objects.order_by("name").first()
    seen_now = sim_endpoint(tenant, oldest=True)
    seen_now.data["lastSeenAt"] = sim_clock.now_iso()
    seen_now.data["health"]["overall"] = "bad"
    seen_now.save()
    alert = SimObject.objects.filter(kind=ALERT_KIND, scope_id=str(tenant.pk)).first()
    SimObject.objects.create(
        kind=ALERT_KIND,
        scope_id=alert.scope_id,
        object_id=NEW_ALERT_ID,
        seq=alert.seq + 10_000,
        data={**alert.data, "id": NEW_ALERT_ID, "raisedAt": sim_clock.now_iso()},
    )

    incremental_sync()

    tenant.refresh_from_db()
    assert Endpoint.objects.get(pk=seen_now.object_id).health == "bad"
    assert Alert.objects.filter(pk=NEW_ALERT_ID).exists()
    assert tenant.endpoints_bad == tenant.endpoints.filter(health="bad").count()
    assert tenant.alerts_high_water == parse_datetime(
        SimObject.objects.get(object_id=NEW_ALERT_ID).data["raisedAt"]
    )


def test_incremental_sync_misses_deletions_until_full_pass(demo_connection, settings):
    run_sync()
    tenant = Tenant.objects.order_by("name").first()
    deleted = sim_endpoint(tenant, oldest=True)
    deleted.delete()
    # The oldest lastSeenAt lies before the high-water mark, so an
    # incremental pass does not fetch this endpoint.
    unseen_change = sim_endpoint(tenant, oldest=True)
    unseen_change.data["hostname"] = "renamed-quietly"
    unseen_change.save()

    incremental_sync()
    kept_before_full_pass = Endpoint.objects.filter(pk=deleted.object_id).exists()
    name_before_full_pass = Endpoint.objects.get(pk=unseen_change.object_id).hostname
    settings.SYNC_FULL_EVERY_SECONDS = 0
    incremental_sync()

    tenant.refresh_from_db()
    assert kept_before_full_pass
    assert name_before_full_pass != "renamed-quietly"
    assert not Endpoint.objects.filter(pk=deleted.object_id).exists()
    assert Endpoint.objects.get(pk=unseen_change.object_id).hostname == (
        "renamed-quietly"
    )
    assert tenant.endpoints_total == tenant.endpoints.count()


def test_sync_keeps_a_customer_name_saved_meanwhile(demo_connection):
    run_sync()
    Tenant.objects.update(customer_name="Kept Ltd")

    incremental_sync()

    assert set(Tenant.objects.values_list("customer_name", flat=True)) == {"Kept Ltd"}


def test_scheduled_sync_starts_an_incremental_job(
    demo_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = sync_scheduled()

    job.refresh_from_db()
    assert job.parameters["mode"] == "incremental"
    assert job.status == Job.Status.SUCCEEDED


def test_scheduled_sync_skips_while_a_sync_runs(demo_connection):
    running = job_create(kind="sync", title="Sync", user=None)
    job_start(job=running)

    assert sync_scheduled() is None


def test_scheduled_sync_ignores_a_dead_job(demo_connection, queued_tasks):
    dead = job_create(kind="sync", title="Sync", user=None)
    Job.objects.filter(pk=dead.pk).update(
        status=Job.Status.RUNNING,
        created_at=timezone.now() - dt.timedelta(days=2),
    )

    assert sync_scheduled() is not None


def stalled_sync(*, minutes: int = 20) -> Job:
    """Return a running sync whose worker stopped ``minutes`` ago, with one
    item done, one running and one queued."""
    job = job_create(
        kind="sync",
        title="Sync",
        user=None,
        items=[ItemSpec(target=name) for name in ("done", "running", "queued")],
    )
    job_start(job=job)
    done, running, _ = job.items.order_by("pk")
    job_item_start(item=running)
    job_item_start(item=done)
    job_item_succeed(item=done)
    moment = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(started_at=moment, created_at=moment)
    job.items.update(updated_at=moment)
    return job


def test_sync_start_closes_a_stalled_sync(queued_tasks, caplog):
    stalled = stalled_sync()

    job = sync_start(user=None)

    stalled.refresh_from_db()
    items = dict(stalled.items.values_list("target", "status"))
    assert job.pk != stalled.pk
    assert job.status == Job.Status.QUEUED
    assert stalled.status == Job.Status.CANCELLED
    assert stalled.finished_at is not None
    assert stalled.done == 3
    assert items == {"done": "succeeded", "running": "cancelled", "queued": "cancelled"}
    assert f"sync job {stalled.pk} is closed, because none of its items" in (
        caplog.text
    )


def test_closed_sync_items_say_the_worker_stopped(queued_tasks):
    stalled = stalled_sync()

    sync_start(user=None)

    messages = set(
        stalled.items.filter(status=JobItem.Status.CANCELLED).values_list(
            "message", flat=True
        )
    )
    assert messages == {SYNC_WORKER_STOPPED_MESSAGE}


def test_closing_a_stalled_sync_is_audited(queued_tasks, owner):
    stalled = stalled_sync()

    sync_start(user=owner)

    entry = AuditEntry.objects.get(operation="job_close_stalled")
    assert entry.job_id == stalled.pk
    assert entry.username == owner.get_username()
    assert entry.parameters["items_cancelled"] == 2


def test_sync_start_joins_a_busy_sync(queued_tasks):
    busy = stalled_sync(minutes=5)

    job = sync_start(user=None)

    busy.refresh_from_db()
    assert job.pk == busy.pk
    assert busy.status == Job.Status.RUNNING


def test_scheduled_sync_closes_a_stalled_sync(
    queued_tasks, django_capture_on_commit_callbacks
):
    stalled = stalled_sync()

    with django_capture_on_commit_callbacks(execute=True):
        job = sync_scheduled()

    stalled.refresh_from_db()
    assert job is not None
    assert job.parameters["mode"] == "incremental"
    assert stalled.status == Job.Status.CANCELLED
    assert stalled.finished_at is not None
    assert [name for name, _ in queued_tasks] == ["sophos.tasks.sync_run_task"]


def test_sync_start_closes_an_old_stalled_sync(queued_tasks):
    stalled = stalled_sync(minutes=3 * 24 * 60)

    sync_start(user=None)

    stalled.refresh_from_db()
    assert stalled.status == Job.Status.CANCELLED


def test_sync_start_closes_a_stalled_cancelled_sync(queued_tasks):
    stalled = stalled_sync()
    jobs.job_cancel(job=stalled, user=None)
    JobItem.objects.filter(job=stalled).update(
        updated_at=timezone.now() - dt.timedelta(minutes=20)
    )

    job = sync_start(user=None)

    stalled.refresh_from_db()
    items = dict(stalled.items.values_list("target", "status"))
    assert job.pk != stalled.pk
    assert stalled.status == Job.Status.CANCELLED
    assert stalled.finished_at is not None
    assert items == {"done": "succeeded", "running": "cancelled", "queued": "cancelled"}


def test_sync_start_does_not_join_a_cancelling_sync(queued_tasks):
    cancelling = stalled_sync(minutes=5)
    jobs.job_cancel(job=cancelling, user=None)

    job = sync_start(user=None)

    cancelling.refresh_from_db()
    assert job.pk != cancelling.pk
    assert cancelling.finished_at is None
    assert cancelling.items.filter(status=JobItem.Status.RUNNING).exists()


def long_busy_sync() -> Job:
    """Return a sync that started two hours ago, past the task timeout, and
    whose running item changed a minute ago."""
    job = stalled_sync(minutes=120)
    JobItem.objects.filter(job=job, status=JobItem.Status.RUNNING).update(
        updated_at=timezone.now() - dt.timedelta(minutes=1)
    )
    return job


def test_sync_start_joins_a_long_busy_sync(queued_tasks):
    busy = long_busy_sync()

    job = sync_start(user=None)

    busy.refresh_from_db()
    assert job.pk == busy.pk
    assert busy.status == Job.Status.RUNNING


def test_scheduled_sync_waits_for_a_long_busy_sync(queued_tasks):
    long_busy_sync()

    assert sync_scheduled() is None


def test_concurrent_requests_join_one_new_sync(shared_database, monkeypatch):
    monkeypatch.setattr(
        "sophos.services.sync.async_task", lambda name, *args, **options: None
    )
    stalled = stalled_sync()
    create = sync_module._sync_create

    def slow_create(**kwargs):
        # Gives the other request time to look for a sync meanwhile.
        time.sleep(0.2)
        return create(**kwargs)

    monkeypatch.setattr(sync_module, "_sync_create", slow_create)
    barrier = threading.Barrier(2)
    started: list[int] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            barrier.wait(timeout=10)
            started.append(sync_start(user=None).pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    open_syncs = Job.objects.filter(
        kind="sync", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    )
    assert errors == []
    assert len(started) == 2
    assert len(set(started)) == 1
    assert stalled.pk not in started
    assert list(open_syncs.values_list("pk", flat=True)) == started[:1]
    assert AuditEntry.objects.filter(operation="job_close_stalled").count() == 1


@pytest.mark.parametrize(
    "start",
    [lambda: sync_start(user=None), sync_scheduled],
    ids=["sync_start", "sync_scheduled"],
)
def test_sync_task_runs_after_lock_release(shared_database, monkeypatch, start):
    """In django-q2's sync mode the task runs the whole sync inline, so it
    must not hold the lock that other sync requests wait for."""
    locks_held: list[object] = []
    monkeypatch.setattr(
        "sophos.services.sync.async_task",
        lambda name, *args, **options: locks_held.append(
            cache.get(sync_module.SYNC_START_LOCK)
        ),
    )

    job = start()

    assert job is not None
    assert locks_held == [None]


def test_schedule_is_created_once(settings):
    settings.SYNC_INCREMENTAL_EVERY_MINUTES = 7

    sync_schedule_ensure()
    sync_schedule_ensure()

    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert Schedule.objects.filter(func=schedule.func).count() == 1
    assert schedule.minutes == 7
    assert schedule.schedule_type == Schedule.MINUTES


def test_portal_setup_schedules_the_sync_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    call_command("portal_setup", stdout=io.StringIO())
    call_command("portal_setup", stdout=io.StringIO())

    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1
    assert Tenant.objects.filter(sync_status=Tenant.SyncStatus.OK).exists()


def test_technician_sync_covers_only_assigned_tenants(
    demo_connection, django_user_model, django_capture_on_commit_callbacks
):
    from portal.accounts.models import Role, TenantAssignment, UserRole

    run_sync()
    tenant = Tenant.objects.order_by("name").first()
    tech = django_user_model.objects.create_user("tech", password="pw-123456x")
    UserRole.objects.create(user=tech, role=Role.TECHNICIAN)
    TenantAssignment.objects.create(user=tech, tenant=tenant)

    with django_capture_on_commit_callbacks(execute=True):
        job = sync_start(user=tech)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.total == 1
    assert list(job.items.values_list("tenant_id", flat=True)) == [tenant.pk]


def test_owner_sync_covers_every_tenant(
    demo_connection, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = sync_start(user=owner)

    job.refresh_from_db()
    assert job.total == Tenant.objects.count()
