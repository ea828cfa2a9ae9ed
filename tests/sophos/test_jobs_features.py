"""Dry run, cancel, retry, scope and summary of fleet jobs (the shared runner)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.models import Role
from sophos.errors import Forbidden
from sophos.models import AuditEntry, Job, JobItem
from sophos.services import jobs
from sophos.services.fleet_ops import base
from sophos.services.jobs import ItemSpec
from tests.portal.factories import make_tenant, make_user

pytestmark = pytest.mark.django_db

KIND = "testing.touch"


@pytest.fixture
def calls():
    """The targets run_item saw, and a hook to change its behaviour."""
    return {"seen": [], "fail": set(), "cancel_after": None}


@pytest.fixture
def operation(calls):
    def plan(request: base.PlanRequest):
        for tenant in request.tenants.filter(pk__in=request.parameters["tenants"]):
            for name in request.parameters["targets"]:
                yield ItemSpec(target=name, label=name, tenant_id=tenant.pk)

    def run_item(context: base.ItemContext) -> base.ItemResult:
        target = context.item.target
        calls["seen"].append(target)
        if calls["cancel_after"] == target:
            jobs.job_cancel(job=context.job, user=context.user)
        if target in calls["fail"]:
            raise Forbidden("Denied for the test.", status=403, correlation_id="c-403")
        if context.dry_run:
            return base.would(f"touch {target}")
        return base.succeeded(f"Touched {target}.", result_touched=True)

    operation = base.register(
        base.BulkOperation(
            kind=KIND, title="Touch things", plan=plan, run_item=run_item
        )
    )
    yield operation
    base._registry.pop(KIND)


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def owner_user():
    return make_user(roles=[Role.OWNER])


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Start the test operation and run its queued task at commit."""

    def start(user, tenant, targets=("a", "b", "c"), dry_run=False):
        parameters = {"tenants": [str(tenant.pk)], "targets": list(targets)}
        with django_capture_on_commit_callbacks(execute=True):
            job = base.operation_start(
                kind=KIND, user=user, parameters=parameters, dry_run=dry_run
            )
        job.refresh_from_db()
        return job

    return start


def _outcomes(job):
    return [
        (item.target, item.status, item.message) for item in job.items.order_by("id")
    ]


def test_run_all_items_succeed(operation, owner_user, tenant, start):
    job = start(owner_user, tenant)

    assert job.status == Job.Status.SUCCEEDED
    assert job.done == 3
    assert _outcomes(job) == [
        ("a", "succeeded", "Touched a."),
        ("b", "succeeded", "Touched b."),
        ("c", "succeeded", "Touched c."),
    ]
    assert job.items.first().data == {"result_touched": True}


def test_dry_run_skips_with_would(operation, owner_user, tenant, start):
    job = start(owner_user, tenant, dry_run=True)

    assert job.dry_run is True
    assert job.title == "Dry run: Touch things"
    assert job.status == Job.Status.SUCCEEDED
    assert _outcomes(job) == [
        ("a", "skipped", "Would touch a"),
        ("b", "skipped", "Would touch b"),
        ("c", "skipped", "Would touch c"),
    ]


def test_failed_item_keeps_correlation_id(operation, calls, owner_user, tenant, start):
    calls["fail"] = {"b"}

    job = start(owner_user, tenant)

    assert job.status == Job.Status.PARTIAL
    failed = job.items.get(target="b")
    assert failed.status == JobItem.Status.FAILED
    assert failed.message == "Denied for the test."
    assert failed.correlation_id == "c-403"
    assert job.items.filter(status=JobItem.Status.SUCCEEDED).count() == 2


def test_every_item_failed_fails_job(operation, calls, owner_user, tenant, start):
    calls["fail"] = {"a", "b", "c"}

    job = start(owner_user, tenant)

    assert job.status == Job.Status.FAILED


def test_summary_counts_items(operation, calls, owner_user, tenant, start):
    calls["fail"] = {"a"}
    job = start(owner_user, tenant)

    summary = jobs.job_summary(items=job.items.all())

    assert summary.total == 3
    assert summary.succeeded == 2
    assert summary.failed == 1
    assert summary.skipped == 0
    assert summary.unfinished == 0


def test_cancel_mid_run_cancels_the_rest(operation, calls, owner_user, tenant, start):
    calls["cancel_after"] = "a"

    job = start(owner_user, tenant)

    assert job.status == Job.Status.CANCELLED
    assert calls["seen"] == ["a"]
    assert _outcomes(job) == [
        ("a", "succeeded", "Touched a."),
        ("b", "cancelled", "Cancelled."),
        ("c", "cancelled", "Cancelled."),
    ]
    assert job.finished_at is not None
    audit = AuditEntry.objects.get(operation="job_cancel")
    assert audit.job_id == job.pk


def test_cancel_before_run_ends_job(owner_user, tenant):
    job = jobs.job_create(
        kind=KIND,
        title="Queued",
        user=owner_user,
        items=[ItemSpec(target="x", tenant_id=tenant.pk)],
    )

    cancelled = jobs.job_cancel(job=job, user=owner_user)

    assert cancelled is True
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None
    assert _outcomes(job) == [("x", "cancelled", "Cancelled.")]


def test_cancelled_job_is_not_started(owner_user, tenant, start):
    job = jobs.job_create(
        kind=KIND,
        title="Queued",
        user=owner_user,
        items=[ItemSpec(target="x", tenant_id=tenant.pk)],
    )
    jobs.job_cancel(job=job, user=owner_user)

    started = jobs.job_start(job=job)

    assert started is False
    assert job.status == Job.Status.CANCELLED


def test_cancel_finished_job_changes_nothing(operation, owner_user, tenant, start):
    job = start(owner_user, tenant)

    assert jobs.job_cancel(job=job, user=owner_user) is False
    assert job.status == Job.Status.SUCCEEDED
    assert not AuditEntry.objects.filter(operation="job_cancel").exists()


def test_retry_runs_only_failed_items(
    operation, calls, owner_user, tenant, start, django_capture_on_commit_callbacks
):
    calls["fail"] = {"b", "c"}
    job = start(owner_user, tenant)
    calls["fail"] = {"c"}
    calls["seen"].clear()

    with django_capture_on_commit_callbacks(execute=True):
        retry = base.operation_retry(job=job, user=owner_user)

    retry.refresh_from_db()
    assert retry.retry_of_id == job.pk
    assert retry.kind == KIND
    assert retry.title == "Retry of Touch things"
    assert calls["seen"] == ["b", "c"]
    assert _outcomes(retry) == [
        ("b", "succeeded", "Touched b."),
        ("c", "failed", "Denied for the test."),
    ]
    assert retry.status == Job.Status.PARTIAL
    assert AuditEntry.objects.filter(operation="job_retry", job=retry).exists()


def test_retry_without_failures_returns_none(operation, owner_user, tenant, start):
    job = start(owner_user, tenant)

    assert base.operation_retry(job=job, user=owner_user) is None
    assert base.job_retryable(job=job) is False


def test_retry_keeps_dry_run(operation, calls, owner_user, tenant, start):
    calls["fail"] = {"a"}
    job = start(owner_user, tenant, dry_run=True)

    retry = base.operation_retry(job=job, user=owner_user)

    assert retry.dry_run is True


def test_runner_skips_tenants_out_of_scope(operation, calls, tenant):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenant])
    job = jobs.job_create(
        kind=KIND,
        title="Touch",
        user=technician,
        items=[ItemSpec(target="a", tenant_id=tenant.pk)],
    )
    technician.tenant_assignments.all().delete()

    job = base.job_run(job_id=job.pk)

    assert calls["seen"] == []
    assert _outcomes(job) == [("a", "skipped", base.NOT_ACTIONABLE_MESSAGE)]


def test_plan_sees_only_actionable_tenants(operation, tenant, start):
    reader = make_user(roles=[Role.READ_ONLY], tenants=[tenant])

    job = start(reader, tenant)

    assert job.total == 0
    assert job.status == Job.Status.SUCCEEDED


def test_start_records_audit_entry(operation, owner_user, tenant, start):
    job = start(owner_user, tenant, dry_run=True)

    entry = AuditEntry.objects.get(operation=f"fleet.{KIND}")
    assert entry.outcome == AuditEntry.Outcome.QUEUED
    assert entry.job_id == job.pk
    assert entry.parameters["dry_run"] is True


def test_unknown_kind_raises(owner_user, start):
    with pytest.raises(ValueError, match="Unknown fleet operation"):
        base.operation_start(kind="nothing.here", user=owner_user, parameters={})


# -- stalled jobs and cancel ------------------------------------------------------


def _running_job(user, tenant, statuses, *, quiet_minutes=0, kind=KIND):
    """Return a running job with one item per status, quiet for some minutes."""
    job = jobs.job_create(
        kind=kind,
        title="Touch things",
        user=user,
        items=[
            ItemSpec(target=name, label=name, tenant_id=tenant.pk)
            for name in "abcdefgh"[: len(statuses)]
        ],
    )
    jobs.job_start(job=job)
    for item, status in zip(job.items.order_by("id"), statuses, strict=True):
        if status == "running":
            jobs.job_item_start(item=item)
        elif status == "succeeded":
            jobs.job_item_succeed(item=item, message=f"Touched {item.target}.")
    _age(job, minutes=quiet_minutes)
    job.refresh_from_db()
    return job


def _age(job, *, minutes):
    moment = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(started_at=moment)
    job.items.update(updated_at=moment)


def test_job_stalled_after_quiet_minutes(owner_user, tenant, settings):
    settings.PORTAL_JOB_STALL_AFTER_MINUTES = 15
    quiet = _running_job(owner_user, tenant, ["running", "queued"], quiet_minutes=16)
    busy = _running_job(owner_user, tenant, ["running", "queued"], quiet_minutes=14)

    assert jobs.job_stalled(job=quiet) is True
    assert jobs.job_stalled(job=busy) is False


def test_job_stalled_follows_the_setting(owner_user, tenant, settings):
    job = _running_job(owner_user, tenant, ["running"], quiet_minutes=16)
    settings.PORTAL_JOB_STALL_AFTER_MINUTES = 30

    assert jobs.job_stalled(job=job) is False


def test_job_without_items_stalls_from_start(owner_user, tenant):
    job = _running_job(owner_user, tenant, [], quiet_minutes=60)

    assert jobs.job_stalled(job=job) is True


def test_finished_job_never_stalls(operation, owner_user, tenant, start):
    job = start(owner_user, tenant)
    _age(job, minutes=60)

    assert jobs.job_stalled(job=job) is False


def test_activity_load_spares_stall_queries(
    owner_user, tenant, django_assert_num_queries
):
    quiet = _running_job(owner_user, tenant, ["running"], quiet_minutes=16)
    busy = _running_job(owner_user, tenant, ["running"], quiet_minutes=1)

    with django_assert_num_queries(1):
        jobs.jobs_activity_load(jobs=[quiet, busy])
    with django_assert_num_queries(0):
        quiet_stalled = jobs.job_stalled(job=quiet)
        busy_stalled = jobs.job_stalled(job=busy)

    assert quiet_stalled is True
    assert busy_stalled is False


def test_activity_load_skips_finished_jobs(
    operation, owner_user, tenant, start, django_assert_num_queries
):
    job = start(owner_user, tenant)

    with django_assert_num_queries(0):
        jobs.jobs_activity_load(jobs=[job])

    assert "last_item_change" not in job.__dict__


def test_job_state_names_stalled_job(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running"], quiet_minutes=16)

    state = jobs.job_state(job=job)

    assert state.status == jobs.STALLED_STATUS
    assert state.label == "Stalled"
    assert state.stalled is True
    assert state.waiting_for_worker is False
    assert state.stall_minutes == 15


def test_job_state_keeps_busy_status(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running"], quiet_minutes=1)

    state = jobs.job_state(job=job)

    assert state.status == Job.Status.RUNNING
    assert state.label == "Running"
    assert state.stalled is False


def _queued_job(user, tenant, *, seconds_ago):
    job = jobs.job_create(
        kind=KIND,
        title="Touch things",
        user=user,
        items=[ItemSpec(target="a", label="a", tenant_id=tenant.pk)],
    )
    moment = timezone.now() - dt.timedelta(seconds=seconds_ago)
    Job.objects.filter(pk=job.pk).update(created_at=moment)
    job.refresh_from_db()
    return job


def test_job_waiting_for_worker_after_threshold(owner_user, tenant, settings):
    settings.PORTAL_JOB_QUEUED_WARNING_SECONDS = 60
    waiting = _queued_job(owner_user, tenant, seconds_ago=61)
    recent = _queued_job(owner_user, tenant, seconds_ago=59)

    assert jobs.job_waiting_for_worker(job=waiting) is True
    assert jobs.job_waiting_for_worker(job=recent) is False
    assert jobs.job_state(job=waiting).waiting_for_worker is True
    assert jobs.job_state(job=waiting).label == "Queued"


def test_started_job_is_not_waiting_for_worker(owner_user, tenant):
    job = _queued_job(owner_user, tenant, seconds_ago=600)

    jobs.job_start(job=job)

    assert jobs.job_waiting_for_worker(job=job) is False


def test_cancelled_queued_job_is_not_waiting(owner_user, tenant):
    job = _queued_job(owner_user, tenant, seconds_ago=600)

    jobs.job_cancel(job=job, user=owner_user)

    assert jobs.job_waiting_for_worker(job=job) is False


def test_close_stalled_leaves_busy_job(owner_user, tenant):
    busy = _running_job(owner_user, tenant, ["running", "queued"], quiet_minutes=1)

    closed = jobs.job_close_stalled(job=busy, user=owner_user)

    busy.refresh_from_db()
    assert closed is False
    assert busy.status == Job.Status.RUNNING
    assert busy.items.filter(status=JobItem.Status.CANCELLED).count() == 0


def test_close_stalled_ends_every_open_item(owner_user, tenant):
    job = _running_job(
        owner_user, tenant, ["succeeded", "running", "queued"], quiet_minutes=16
    )

    closed = jobs.job_close_stalled(job=job, user=None, message="Worker gone.")

    job.refresh_from_db()
    cancelled = job.items.filter(status=JobItem.Status.CANCELLED)
    assert closed is True
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None
    assert job.done == 3
    assert cancelled.count() == 2
    assert set(cancelled.values_list("message", flat=True)) == {"Worker gone."}


def test_cancel_ends_queued_items_at_once(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["succeeded", "running", "queued"])

    cancelled = jobs.job_cancel(job=job, user=owner_user)

    assert cancelled is True
    assert job.status == Job.Status.CANCELLED
    assert _outcomes(job) == [
        ("a", "succeeded", "Touched a."),
        ("b", "running", ""),
        ("c", "cancelled", "Cancelled."),
    ]
    assert job.done == 2
    assert job.finished_at is None


def test_live_worker_finishes_item_after_cancel(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running", "queued"])
    jobs.job_cancel(job=job, user=owner_user)
    item = job.items.get(target="a")

    jobs.job_item_succeed(item=item, message="Touched a.")
    finished = jobs.job_finish_when_done(job_id=job.pk)

    assert finished is not None
    assert finished.status == Job.Status.CANCELLED
    assert finished.done == 2
    assert _outcomes(job) == [
        ("a", "succeeded", "Touched a."),
        ("b", "cancelled", "Cancelled."),
    ]


def test_cancel_stalled_job_closes_running_items(owner_user, tenant):
    job = _running_job(
        owner_user, tenant, ["succeeded", "running", "queued"], quiet_minutes=20
    )

    cancelled = jobs.job_cancel(job=job, user=owner_user)

    assert cancelled is True
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None
    assert job.done == 3
    assert _outcomes(job) == [
        ("a", "succeeded", "Touched a."),
        ("b", "cancelled", jobs.WORKER_STOPPED_MESSAGE),
        ("c", "cancelled", "Cancelled."),
    ]
    audit = AuditEntry.objects.get(operation="job_cancel")
    assert audit.parameters["stalled"] is True
    assert audit.parameters["items_cancelled"] == 2


def test_second_cancel_closes_stalled_items(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running", "queued"])
    jobs.job_cancel(job=job, user=owner_user)
    _age(job, minutes=20)
    job.refresh_from_db()

    cancelled = jobs.job_cancel(job=job, user=owner_user)

    assert cancelled is True
    assert job.finished_at is not None
    assert _outcomes(job) == [
        ("a", "cancelled", jobs.WORKER_STOPPED_MESSAGE),
        ("b", "cancelled", "Cancelled."),
    ]
    assert AuditEntry.objects.filter(operation="job_cancel").count() == 2


def test_second_cancel_of_busy_job_changes_nothing(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running", "queued"])
    jobs.job_cancel(job=job, user=owner_user)

    cancelled = jobs.job_cancel(job=job, user=owner_user)

    assert cancelled is False
    assert job.items.get(target="a").status == JobItem.Status.RUNNING
    assert AuditEntry.objects.filter(operation="job_cancel").count() == 1


def test_late_worker_outcome_replaces_cancel(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running", "queued"], quiet_minutes=20)
    item = job.items.get(target="a")
    jobs.job_cancel(job=job, user=owner_user)

    jobs.job_item_succeed(item=item, message="Touched a.", correlation_id="c-1")

    job.refresh_from_db()
    item.refresh_from_db()
    assert item.status == JobItem.Status.SUCCEEDED
    assert item.message == "Touched a."
    assert item.correlation_id == "c-1"
    assert job.done == 2
    assert job.status == Job.Status.CANCELLED


def test_cancelled_item_is_not_started(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["queued"])
    item = job.items.get()
    jobs.job_cancel(job=job, user=owner_user)

    started = jobs.job_item_start(item=item)

    item.refresh_from_db()
    assert started is False
    assert item.status == JobItem.Status.CANCELLED


def test_summary_counts_cancelled_items(owner_user, tenant):
    job = _running_job(owner_user, tenant, ["succeeded", "running", "queued"])
    jobs.job_cancel(job=job, user=owner_user)

    summary = jobs.job_summary(items=job.items.all())

    assert summary.cancelled == 1
    assert summary.running == 1
    assert summary.unfinished == 1


def test_retry_runs_cancelled_items_again(
    operation, calls, owner_user, tenant, django_capture_on_commit_callbacks
):
    job = _running_job(
        owner_user, tenant, ["succeeded", "running", "queued"], quiet_minutes=20
    )
    jobs.job_cancel(job=job, user=owner_user)

    with django_capture_on_commit_callbacks(execute=True):
        retry = base.operation_retry(job=job, user=owner_user)

    retry.refresh_from_db()
    assert calls["seen"] == ["b", "c"]
    assert retry.status == Job.Status.SUCCEEDED
    assert [item.target for item in retry.items.order_by("id")] == ["b", "c"]


def test_retry_twice_creates_one_retry(operation, calls, owner_user, tenant, start):
    calls["fail"] = {"b"}
    job = start(owner_user, tenant)

    first = base.operation_retry(job=job, user=owner_user)
    second = base.operation_retry(job=job, user=owner_user)

    assert first is not None
    assert second is None
    assert list(job.retries.values_list("pk", flat=True)) == [first.pk]
    assert jobs.job_retry_open(job=job) == first
    assert base.job_retryable(job=job) is False


def test_retry_allowed_once_retry_finished(
    operation, calls, owner_user, tenant, start, django_capture_on_commit_callbacks
):
    calls["fail"] = {"b"}
    job = start(owner_user, tenant)
    with django_capture_on_commit_callbacks(execute=True):
        first = base.operation_retry(job=job, user=owner_user)

    second = base.operation_retry(job=job, user=owner_user)
    retry_of_retry = base.operation_retry(job=first, user=owner_user)

    first.refresh_from_db()
    assert first.status == Job.Status.FAILED
    assert jobs.job_retry_open(job=job) == second
    assert retry_of_retry is not None
    assert retry_of_retry.retry_of_id == first.pk
    assert retry_of_retry.title == "Retry of Touch things"


def test_retry_waits_for_cancelled_job_worker(operation, owner_user, tenant):
    job = _running_job(owner_user, tenant, ["running", "queued"])
    jobs.job_cancel(job=job, user=owner_user)

    retry = base.operation_retry(job=job, user=owner_user)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is None
    assert retry is None
    assert base.job_retryable(job=job) is False
    assert jobs.job_retry(job=job, user=owner_user) is None
