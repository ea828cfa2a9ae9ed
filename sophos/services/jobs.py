"""The one job model behind every slow or bulk operation."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from sophos.errors import SophosError
from sophos.models import Job, JobItem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemSpec:
    target: str
    label: str = ""
    tenant_id: uuid.UUID | None = None


def job_create(
    *,
    kind: str,
    title: str,
    user: AbstractBaseUser | AnonymousUser | None,
    items: Iterable[ItemSpec] = (),
    parameters: dict[str, object] | None = None,
) -> Job:
    requester = user.pk if user is not None and user.is_authenticated else None
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            title=title,
            requested_by_id=requester,
            parameters=parameters or {},
        )
        job_items_add(job=job, items=items)
    return job


def job_items_add(*, job: Job, items: Iterable[ItemSpec]) -> list[JobItem]:
    rows = [
        JobItem(job=job, target=i.target, target_label=i.label, tenant_id=i.tenant_id)
        for i in items
    ]
    created = JobItem.objects.bulk_create(rows, batch_size=500)
    if created:
        Job.objects.filter(pk=job.pk).update(total=F("total") + len(created))
        job.refresh_from_db(fields=["total"])
    return created


def job_start(*, job: Job) -> None:
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])


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


def job_item_start(*, item: JobItem) -> None:
    item.status = JobItem.Status.RUNNING
    item.save(update_fields=["status", "updated_at"])


UNFINISHED_ITEM_STATUSES = (JobItem.Status.QUEUED, JobItem.Status.RUNNING)


def _item_end(item: JobItem, status: str, message: str, correlation_id: str) -> None:
    # The update applies only to an unfinished item, so an item that ends
    # twice (a task delivered again) adds one to the job's progress, once.
    ended = JobItem.objects.filter(
        pk=item.pk, status__in=UNFINISHED_ITEM_STATUSES
    ).update(
        status=status,
        message=message,
        correlation_id=correlation_id,
        updated_at=timezone.now(),
    )
    item.status = status
    item.message = message
    item.correlation_id = correlation_id
    if ended:
        Job.objects.filter(pk=item.job_id).update(done=F("done") + 1)


def job_item_succeed(*, item: JobItem, message: str = "") -> None:
    _item_end(item, JobItem.Status.SUCCEEDED, message, "")


def job_item_skip(*, item: JobItem, message: str) -> None:
    _item_end(item, JobItem.Status.SKIPPED, message, "")


def job_item_fail(*, item: JobItem, error: BaseException) -> None:
    correlation_id = error.correlation_id if isinstance(error, SophosError) else ""
    _item_end(item, JobItem.Status.FAILED, str(error), correlation_id)


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
        unfinished.update(status=JobItem.Status.SKIPPED, message="Cancelled.")
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
