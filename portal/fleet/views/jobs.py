"""Cancel, retry and repeat a job; the job page shows the buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from portal import access
from portal.fleet.views.common import job_started
from sophos.models import Job
from sophos.services import jobs
from sophos.services.fleet import job_get
from sophos.services.fleet_ops import base


def _job(request: HttpRequest, job_id: int) -> Job:
    try:
        return job_get(jobs=access.jobs_visible(request.user), job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No job with this id.") from None


@require_POST
@login_required
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if not jobs.job_cancel(job=job, user=request.user):
        messages.info(request, "The job has already finished or been cancelled.")
    elif job.finished_at is None:
        messages.success(
            request,
            "Job cancelled. Its queued items are cancelled, and the item running "
            "now ends when its worker finishes it.",
        )
    else:
        messages.success(request, "Job cancelled. Its unfinished items are cancelled.")
    return redirect("job_detail", job_id=job.pk)


@require_POST
@login_required
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    retry = base.operation_retry(job=job, user=request.user)
    if retry is None:
        messages.info(request, _retry_rejected_message(job))
        return redirect("job_detail", job_id=job.pk)
    return job_started(request, retry)


def _retry_rejected_message(job: Job) -> str:
    job.refresh_from_db()
    if jobs.job_open(job=job):
        return (
            "This job has not finished yet, because its worker is still ending an "
            "item. Retry it once it has finished."
        )
    open_retry = jobs.job_retry_open(job=job)
    if open_retry is not None:
        return (
            f"Job {open_retry.pk} is already retrying this job's failed items. "
            "Once it has finished, retry its failed items from its page."
        )
    return "This job has no failed items to retry."


@require_POST
@login_required
def job_repeat(request: HttpRequest, job_id: int) -> HttpResponse:
    """Run a finished dry run for real, with the same request."""
    job = _job(request, job_id)
    if not (job.dry_run and job.finished and base.operation_get(job.kind)):
        messages.info(request, "Only a finished dry run can be run for real.")
        return redirect("job_detail", job_id=job.pk)
    repeat = base.operation_start(
        kind=job.kind,
        user=request.user,
        parameters=dict(job.parameters),
        dry_run=False,
        title=job.title.removeprefix("Dry run: "),
    )
    return job_started(request, repeat)
