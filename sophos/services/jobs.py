"""The one job model behind every slow or bulk operation.

A job has one item a target. Each item ends succeeded, failed or skipped,
and ``job_finish`` derives the job's status from its items, so a job never
reports success for an item that failed. A dry run (``Job.dry_run``) ends
every item it would change as skipped with a "Would ..." message.

``job_cancel`` marks a job cancelled and ends its queued items cancelled.
The task that runs it checks between items and stops, so an item it is
running still ends with its real outcome. A job whose items have not changed
for ``PORTAL_JOB_STALL_AFTER_MINUTES`` is stalled (``job_stalled``): its
worker stopped or restarted, so a cancel also closes its running items.
``job_close_stalled`` closes such a job so that a new one can replace it.
``job_retry`` creates a new job with copies of a finished job's failed and
cancelled items, linked by ``Job.retry_of``, unless an earlier retry of it is
still open. Both are recorded in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from sophos.errors import SophosError
from sophos.models import AuditEntry, Job, JobItem
from sophos.services.audit import audit_record

logger = logging.getLogger(__name__)


User = AbstractBaseUser | AnonymousUser | None


@dataclass(frozen=True)
class ItemSpec:
    """One item to add to a job: its target and the operation's input."""

    target: str
    label: str = ""
    tenant_id: uuid.UUID | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSummary:
    """How many of a job's items ended each way, and how many are open."""

    total: int
    succeeded: int
    failed: int
    skipped: int
    cancelled: int
    queued: int
    running: int

    @property
    def unfinished(self) -> int:
        return self.queued + self.running


def job_create(
    *,
    kind: str,
    title: str,
    user: User,
    items: Iterable[ItemSpec] = (),
    parameters: dict[str, object] | None = None,
    dry_run: bool = False,
    retry_of: Job | None = None,
) -> Job:
    requester = user.pk if user is not None and user.is_authenticated else None
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            title=title,
            requested_by_id=requester,
            parameters=parameters or {},
            dry_run=dry_run,
            retry_of=retry_of,
        )
        job_items_add(job=job, items=items)
    return job


def job_items_add(*, job: Job, items: Iterable[ItemSpec]) -> list[JobItem]:
    rows = [
        JobItem(
            job=job,
            target=i.target,
            target_label=i.label,
            tenant_id=i.tenant_id,
            data=dict(i.data),
        )
        for i in items
    ]
    created = JobItem.objects.bulk_create(rows, batch_size=500)
    if created:
        Job.objects.filter(pk=job.pk).update(total=F("total") + len(created))
        job.refresh_from_db(fields=["total"])
    return created


def job_start(*, job: Job) -> bool:
    """Mark a queued job running and return True, or return False.

    A job that is no longer queued (cancelled before its task ran, or
    started by an earlier delivery of the task) keeps its status, which
    ``job`` then shows.
    """
    started = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    job.refresh_from_db(fields=["status", "started_at"])
    return bool(started)


def job_cancelled(*, job_id: int) -> bool:
    """Return whether the job has been cancelled; tasks ask between items."""
    return Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).exists()


def job_item_claim(*, item_id: int) -> JobItem | None:
    """Start a queued item and return it, or return None if it has started.

    The status changes in one conditional ``UPDATE``, so when a task is
    delivered twice only one delivery runs the item.
    """
    claimed = JobItem.objects.filter(pk=item_id, status=JobItem.Status.QUEUED).update(
        status=JobItem.Status.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    return JobItem.objects.select_related("job").get(pk=item_id)


def job_item_start(*, item: JobItem) -> bool:
    """Mark a queued item running and return True, or return False.

    An item that is not queued any more, such as one a cancel ended, keeps
    its status, so the caller skips it.
    """
    started = JobItem.objects.filter(pk=item.pk, status=JobItem.Status.QUEUED).update(
        status=JobItem.Status.RUNNING, updated_at=timezone.now()
    )
    if started:
        item.status = JobItem.Status.RUNNING
    return bool(started)


UNFINISHED_ITEM_STATUSES = (JobItem.Status.QUEUED, JobItem.Status.RUNNING)


def job_item_progress(
    *,
    item: JobItem,
    stage: str,
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    """Record how far an unfinished item has come, such as "sent"."""
    item.stage = stage
    item.message = message
    if data:
        item.data = {**item.data, **data}
    JobItem.objects.filter(pk=item.pk, status__in=UNFINISHED_ITEM_STATUSES).update(
        stage=stage, message=message, data=item.data, updated_at=timezone.now()
    )


def _item_end(
    item: JobItem,
    status: str,
    message: str,
    correlation_id: str,
    data: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    # The update applies only to an unfinished item, so an item that ends
    # twice (a task delivered again) adds one to the job's progress, once.
    if data:
        item.data = {**item.data, **data}
    if stage is not None:
        item.stage = stage
    fields = {
        "status": status,
        "message": message,
        "correlation_id": correlation_id,
        "stage": item.stage,
        "data": item.data,
        "updated_at": timezone.now(),
    }
    items = JobItem.objects.filter(pk=item.pk)
    ended = items.filter(status__in=UNFINISHED_ITEM_STATUSES).update(**fields)
    item.status = status
    item.message = message
    item.correlation_id = correlation_id
    if ended:
        Job.objects.filter(pk=item.job_id).update(done=F("done") + 1)
        return
    # A cancel may have closed the item while its worker was still running
    # it. The worker's outcome replaces the cancel's guess, and the item
    # stays counted in the job's progress.
    items.filter(status=JobItem.Status.CANCELLED).update(**fields)


def job_item_succeed(
    *,
    item: JobItem,
    message: str = "",
    correlation_id: str = "",
    data: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    _item_end(item, JobItem.Status.SUCCEEDED, message, correlation_id, data, stage)


def job_item_skip(
    *,
    item: JobItem,
    message: str,
    data: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    _item_end(item, JobItem.Status.SKIPPED, message, "", data, stage)


def job_item_cancel(*, item: JobItem, message: str = "Cancelled.") -> None:
    """End the item cancelled, because its job was cancelled before it ran."""
    _item_end(item, JobItem.Status.CANCELLED, message, "")


def job_item_fail(
    *,
    item: JobItem,
    error: BaseException | str,
    correlation_id: str = "",
    data: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    """End the item failed with the error's message and correlation id."""
    if isinstance(error, SophosError):
        correlation_id = correlation_id or error.correlation_id
    _item_end(item, JobItem.Status.FAILED, str(error), correlation_id, data, stage)


def job_finish_when_done(*, job_id: int) -> Job | None:
    """Finish the job once none of its items is queued or running.

    Tasks that each run one item call this when their item ends. A single
    ``UPDATE`` claims the job only while it has no unfinished item and no
    ``finished_at``, so exactly one caller finishes it, even when the last
    items end at the same time in several workers. Returns the finished job,
    or None when items are still open or another caller finished it.
    """
    unfinished = JobItem.objects.filter(
        job_id=OuterRef("pk"), status__in=UNFINISHED_ITEM_STATUSES
    )
    claimed = (
        Job.objects.filter(pk=job_id, finished_at__isnull=True)
        .exclude(Exists(unfinished))
        .update(finished_at=timezone.now())
    )
    if not claimed:
        return None
    return job_finish(job=Job.objects.get(pk=job_id))


def job_finish(*, job: Job, error: str = "") -> Job:
    """Set the job's final status from its items: failures are never hidden."""
    job.refresh_from_db()
    counts = {
        status: job.items.filter(status=status).count()
        for status in (JobItem.Status.FAILED, JobItem.Status.SUCCEEDED)
    }
    unfinished = job.items.filter(
        status__in=[JobItem.Status.QUEUED, JobItem.Status.RUNNING]
    )
    if job.status == Job.Status.CANCELLED:
        unfinished.update(
            status=JobItem.Status.CANCELLED,
            message=CANCELLED_MESSAGE,
            updated_at=timezone.now(),
        )
    elif error or unfinished.exists():
        job.status = Job.Status.FAILED
        unfinished.update(
            status=JobItem.Status.FAILED, message=error or "The job stopped early."
        )
    elif counts[JobItem.Status.FAILED] and counts[JobItem.Status.SUCCEEDED]:
        job.status = Job.Status.PARTIAL
    elif counts[JobItem.Status.FAILED]:
        job.status = Job.Status.FAILED
    else:
        job.status = Job.Status.SUCCEEDED
    job.error = error
    job.done = job.items.exclude(
        status__in=[JobItem.Status.QUEUED, JobItem.Status.RUNNING]
    ).count()
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "done", "finished_at"])
    logger.info("job %s %s finished: %s", job.pk, job.kind, job.status)
    return job


def job_summary(*, items: QuerySet[JobItem]) -> JobSummary:
    """Count ``items`` by status in one query, such as a job's visible items."""
    statuses = JobItem.Status
    counts = items.aggregate(
        total=Count("pk"),
        **{
            status.value: Count("pk", filter=Q(status=status))
            for status in (
                statuses.SUCCEEDED,
                statuses.FAILED,
                statuses.SKIPPED,
                statuses.CANCELLED,
                statuses.QUEUED,
                statuses.RUNNING,
            )
        },
    )
    return JobSummary(**counts)


CANCELLED_MESSAGE = "Cancelled."
WORKER_STOPPED_MESSAGE = (
    "The worker stopped before this item finished, so Sophos Central may or "
    "may not have applied it. Check it there, or retry the item."
)


def job_open(*, job: Job) -> bool:
    """Return whether a worker may still change the job.

    That is a running job, or a cancelled one whose worker has not finished
    it yet (``finished_at`` is unset).
    """
    if job.status == Job.Status.RUNNING:
        return True
    return job.status == Job.Status.CANCELLED and job.finished_at is None


def job_active(*, job: Job) -> bool:
    """Return whether the job may still change, so pages poll it: it is
    queued or running, or cancelled while its worker ends an item."""
    return not job.finished or job_open(job=job)


def jobs_activity_load(*, jobs: Iterable[Job]) -> None:
    """Set ``last_item_change`` on each open job of ``jobs``, in one query.

    ``job_stalled`` and ``job_state`` then run no query for these jobs, so a
    page that lists jobs runs as many queries for many jobs as for one.
    """
    open_jobs = [job for job in jobs if job_open(job=job)]
    if not open_jobs:
        return
    rows = (
        JobItem.objects.filter(job_id__in=[job.pk for job in open_jobs])
        .values("job_id")
        .annotate(last=Max("updated_at"))
        .order_by()
    )
    last_changes = {row["job_id"]: row["last"] for row in rows}
    for job in open_jobs:
        job.last_item_change = last_changes.get(job.pk)


def _last_item_change(job: Job) -> dt.datetime | None:
    if "last_item_change" in job.__dict__:
        return job.last_item_change
    last: dt.datetime | None = job.items.aggregate(last=Max("updated_at"))["last"]
    return last


def job_stalled(*, job: Job, now: dt.datetime | None = None) -> bool:
    """Return whether an open job has not changed for the stall time.

    The stall time is ``PORTAL_JOB_STALL_AFTER_MINUTES``, counted from the
    job's start or its last item change, whichever is later. A worker that
    stopped or restarted leaves such a job, because a task delivered again
    does not resume a started job (``job_start`` returns False). Costs one
    query for an open job, unless ``jobs_activity_load`` loaded it, and none
    for any other.
    """
    if not job_open(job=job):
        return False
    last_item_change = _last_item_change(job)
    changes = [moment for moment in (job.started_at, last_item_change) if moment]
    if not changes:
        return False
    stall_after = dt.timedelta(minutes=settings.PORTAL_JOB_STALL_AFTER_MINUTES)
    return (now or timezone.now()) - max(changes) > stall_after


def job_waiting_for_worker(*, job: Job, now: dt.datetime | None = None) -> bool:
    """Return whether the job has been queued, never started, for longer than
    ``PORTAL_JOB_QUEUED_WARNING_SECONDS``.

    Such a job's task has not reached a worker, because the django-q2
    cluster is not running or its workers are busy with other tasks. Runs no
    query.
    """
    if job.status != Job.Status.QUEUED or job.started_at is not None:
        return False
    warn_after = dt.timedelta(seconds=settings.PORTAL_JOB_QUEUED_WARNING_SECONDS)
    return (now or timezone.now()) - job.created_at > warn_after


STALLED_STATUS = "stalled"


@dataclass(frozen=True)
class JobState:
    """A job's status as pages show it, with the warnings that go with it.

    ``status`` is a ``Job.Status`` value, or ``STALLED_STATUS`` for a stalled
    job, and ``label`` is its name for people. ``active`` is true while pages
    poll the job (``job_active``). ``stall_minutes`` and ``queued_warning_seconds``
    are the settings that the warnings quote.
    """

    status: str
    label: str
    active: bool
    stalled: bool
    waiting_for_worker: bool
    stall_minutes: int
    queued_warning_seconds: int


def job_state(*, job: Job, now: dt.datetime | None = None) -> JobState:
    """Return the job's status as pages show it, stalled included, and whether
    no worker has started it.

    Costs one query for an open job unless ``jobs_activity_load`` loaded it,
    and none for any other.
    """
    now = now or timezone.now()
    stalled = job_stalled(job=job, now=now)
    return JobState(
        status=STALLED_STATUS if stalled else job.status,
        label="Stalled" if stalled else job.get_status_display(),
        active=job_active(job=job),
        stalled=stalled,
        waiting_for_worker=job_waiting_for_worker(job=job, now=now),
        stall_minutes=settings.PORTAL_JOB_STALL_AFTER_MINUTES,
        queued_warning_seconds=settings.PORTAL_JOB_QUEUED_WARNING_SECONDS,
    )


def job_cancel(*, job: Job, user: User) -> bool:
    """Cancel an unfinished job, close the items no worker will end, and
    return whether anything changed.

    Queued items end cancelled at once. A running item is left to its
    worker, which checks ``job_cancelled`` between items and then finishes
    the job. When the job is stalled, its worker has stopped, so the running
    items end cancelled with ``WORKER_STOPPED_MESSAGE`` and the job finishes
    now. That also applies to a stalled job that was cancelled before.
    """
    stalled = job_stalled(job=job)
    with transaction.atomic():
        cancelled = Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).update(status=Job.Status.CANCELLED)
        if not cancelled and not stalled:
            job.refresh_from_db()
            return False
        closed = _items_cancel(job, JobItem.Status.QUEUED, CANCELLED_MESSAGE)
        if stalled:
            closed += _items_cancel(job, JobItem.Status.RUNNING, WORKER_STOPPED_MESSAGE)
        audit_record(
            user=user,
            operation="job_cancel",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters={
                "job_id": job.pk,
                "kind": job.kind,
                "items_cancelled": closed,
                "stalled": stalled,
            },
            message=f"Cancelled job {job.pk}: {job.title}",
            job=job,
        )
    logger.info(
        "job %s %s cancelled by user %s: %s items cancelled, stalled %s",
        job.pk,
        job.kind,
        _user_pk(user),
        closed,
        stalled,
    )
    job_finish_when_done(job_id=job.pk)
    job.refresh_from_db()
    return True


def job_close_stalled(
    *, job: Job, user: User, message: str = WORKER_STOPPED_MESSAGE
) -> bool:
    """Close a stalled job so that a new one can take its place.

    Its queued and running items end cancelled with ``message``, and the job
    finishes cancelled. ``user`` is who requested the new job, or None for
    the portal itself, and the close is recorded in the audit log under
    them. Returns False, and changes nothing, for a job that is not stalled.
    """
    if not job_stalled(job=job):
        return False
    with transaction.atomic():
        Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).update(status=Job.Status.CANCELLED)
        closed = _items_cancel(job, JobItem.Status.QUEUED, message)
        closed += _items_cancel(job, JobItem.Status.RUNNING, message)
        audit_record(
            user=user,
            operation="job_close_stalled",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters={"job_id": job.pk, "kind": job.kind, "items_cancelled": closed},
            message=f"Closed stalled job {job.pk}: {job.title}",
            job=job,
        )
    logger.info(
        "job %s %s closed as stalled: %s items cancelled", job.pk, job.kind, closed
    )
    job_finish_when_done(job_id=job.pk)
    job.refresh_from_db()
    return True


def _items_cancel(job: Job, status: str, message: str) -> int:
    """End the job's items in ``status`` cancelled and return how many."""
    count = job.items.filter(status=status).update(
        status=JobItem.Status.CANCELLED, message=message, updated_at=timezone.now()
    )
    if count:
        Job.objects.filter(pk=job.pk).update(done=F("done") + count)
    return count


RETRIED_ITEM_STATUSES = (JobItem.Status.FAILED, JobItem.Status.CANCELLED)

# Jobs that a worker may still change: queued, running, or cancelled with an
# item that its worker has not ended yet (see ``job_open``).
OPEN_JOBS = Q(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]) | Q(
    status=Job.Status.CANCELLED, finished_at__isnull=True
)


def job_retry_open(*, job: Job) -> Job | None:
    """Return the oldest retry of ``job`` that a worker may still change, or
    None."""
    return job.retries.filter(OPEN_JOBS).order_by("pk").first()


def job_retry(*, job: Job, user: User) -> Job | None:
    """Create a job with copies of a finished job's failed and cancelled items.

    The new job has the same kind, parameters and dry-run flag and links back
    through ``retry_of``. The caller queues it. Returns None when the job is
    unfinished, including a cancelled job whose worker is still ending an
    item, when an earlier retry of it is still open, and when it has no
    failed or cancelled item. Two retries at once would run the same items
    twice, so a caller that may race another one locks the job's row first.
    """
    if not job.finished or job_open(job=job):
        return None
    if job_retry_open(job=job) is not None:
        return None
    failed = list(job.items.filter(status__in=RETRIED_ITEM_STATUSES).order_by("id"))
    if not failed:
        return None
    specs = [
        ItemSpec(
            target=item.target,
            label=item.target_label,
            tenant_id=item.tenant_id,
            data=_retry_data(item.data),
        )
        for item in failed
    ]
    title = job.title.removeprefix("Retry of ")
    with transaction.atomic():
        retry = job_create(
            kind=job.kind,
            title=f"Retry of {title}"[:255],
            user=user,
            items=specs,
            parameters=dict(job.parameters),
            dry_run=job.dry_run,
            retry_of=job,
        )
        retry.connection_id = job.connection_id
        retry.save(update_fields=["connection"])
        audit_record(
            user=user,
            operation="job_retry",
            outcome=AuditEntry.Outcome.QUEUED,
            parameters={"job_id": job.pk, "retry_job_id": retry.pk},
            message=f"Retrying {len(specs)} failed or cancelled items of job {job.pk}",
            job=retry,
        )
    logger.info(
        "job %s retries %s failed or cancelled items of job %s",
        retry.pk,
        len(specs),
        job.pk,
    )
    return retry


# Keys of JobItem.data that record an earlier run's result, which a retry
# starts without.
RESULT_DATA_PREFIX = "result_"


def _retry_data(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith(RESULT_DATA_PREFIX)}


def _user_pk(user: User) -> object:
    return user.pk if user is not None and user.is_authenticated else None
