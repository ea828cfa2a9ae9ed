"""The portal's pages: fleet overview, tenant pages and jobs.

Every page renders whole on a normal request and only its refreshable
partial on an htmx request, so links and filters work with and without
JavaScript.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from portal import access
from portal.access import Capability
from portal.web import forms
from sophos.errors import SophosError
from sophos.models import Alert, Job, JobItem, Tenant
from sophos.services import fleet, jobs
from sophos.services.labels import code_label

logger = logging.getLogger(__name__)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _wants_partial(request: HtmxHttpRequest) -> bool:
    # After a history cache miss, htmx requests the pushed URL again with
    # HX-Request set, and that response must be the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(
    request: HtmxHttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Render the page, or only its ``partial`` for an htmx request."""
    name = f"{template}#{partial}" if _wants_partial(request) else template
    response = render(request, name, context, status=status)
    # Browsers must not show a cached partial when the user goes back.
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@login_required
def fleet_overview(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.TenantOverviewFilterForm(request.GET)
    values = forms.filter_values(form, form.defaults)

    page = fleet.tenants_overview(
        tenants=access.tenants_visible(request.user),
        search=values["q"],
        sort=values["sort"],
        page=values["page"],
    )

    context = {
        "form": form,
        "page": page,
        "sort": values["sort"],
        "section": "fleet",
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "has_role": bool(access.user_roles(request.user)),
    }
    if not _wants_partial(request):
        jobs = access.jobs_visible(request.user)
        context["active_job"] = fleet.sync_job_active(jobs=jobs)
    return _render(request, "fleet/overview.html", "fleet-table", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def sync_start(request: HtmxHttpRequest) -> HttpResponse:
    from sophos.services import sync

    job = sync.sync_start(user=request.user)

    if request.htmx:
        context = {"job": job, "poll": True}
        return render(request, "jobs/job_progress.html", context)
    messages.success(request, f"Sync started: {job.title}.")
    return redirect("job_detail", job_id=job.pk)


@require_GET
@login_required
def tenant_detail(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for(request, tenant_id)
    return redirect("tenant_endpoints", tenant_id=tenant.pk)


@require_GET
@login_required
def tenant_endpoints(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for(request, tenant_id)
    form = forms.EndpointFilterForm(request.GET)
    values = forms.filter_values(form, form.defaults)

    page = fleet.endpoints_list(
        tenant=tenant,
        search=values["q"],
        health=values["health"],
        type=values["type"],
        page=values["page"],
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )

    context = {
        "tenant": tenant,
        "form": form,
        "page": page,
        "tab": "endpoints",
        "section": "fleet",
    }
    return _render(request, "tenants/endpoints.html", "endpoints-table", context)


@require_GET
@login_required
def tenant_alerts(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for(request, tenant_id)
    categories = fleet.alert_categories_list(tenant=tenant)
    form = forms.AlertFilterForm(request.GET, categories=categories)
    values = forms.filter_values(form, form.defaults)

    page = fleet.alerts_list(
        tenant=tenant,
        severity=values["severity"],
        category=values["category"],
        page=values["page"],
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )

    context = {
        "tenant": tenant,
        "form": form,
        "page": page,
        "tab": "alerts",
        "section": "fleet",
        "can_act": access.can_act_on(request.user, tenant),
    }
    return _render(request, "tenants/alerts.html", "alerts-table", context)


@require_POST
@login_required
def alert_action(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, alert_id: uuid.UUID
) -> HttpResponse:
    from sophos.services import alerts

    tenant = access.tenant_for(request, tenant_id, write=True)
    try:
        alert = fleet.alert_get(tenant=tenant, alert_id=alert_id)
    except Alert.DoesNotExist:
        raise Http404("No open alert with this id for this tenant.") from None
    form = forms.AlertActionForm(request.POST, allowed_actions=alert.allowed_actions)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "The action is not one of this alert's allowed actions: "
            + ", ".join(alert.allowed_actions)
        )

    context: dict[str, Any] = {"tenant": tenant, "alert": alert, "can_act": True}
    try:
        context["result"] = alerts.alert_action_perform(
            user=request.user,
            tenant_id=tenant.pk,
            alert_id=alert.pk,
            action=form.cleaned_data["action"],
            message=form.cleaned_data["message"] or None,
        )
    except SophosError as exc:
        # Sophos rejected the action, so the row shows why, with the correlation
        # id that Sophos support needs.
        context["error"] = exc

    if request.htmx:
        return render(request, "tenants/alerts.html#alert-row", context)
    _message_for_action(request, context)
    return redirect("tenant_alerts", tenant_id=tenant.pk)


def _message_for_action(request: HttpRequest, context: dict[str, Any]) -> None:
    error = context.get("error")
    if error is None:
        result = context["result"]
        label = code_label(result.action)
        messages.success(request, f"Alert action {label}: {result.status}.")
        return
    text = str(error)
    if error.correlation_id:
        text += f" (correlation id {error.correlation_id})"
    messages.error(request, text)


@require_GET
@login_required
def jobs_list(request: HtmxHttpRequest) -> HttpResponse:
    page_form = forms.PageForm(request.GET)
    values = forms.filter_values(page_form, page_form.defaults)

    page = fleet.jobs_list(jobs=access.jobs_visible(request.user), page=values["page"])

    context = {
        "page": page,
        "polling": any(jobs.job_active(job=job) for job in page),
        "section": "jobs",
    }
    return _render(request, "jobs/list.html", "jobs-table", context)


def _item_scope(request: HttpRequest) -> QuerySet[Tenant] | None:
    if access.sees_every_tenant(request.user):
        return None
    return access.tenants_visible(request.user)


@require_GET
@login_required
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    try:
        job = fleet.job_get(jobs=access.jobs_visible(request.user), job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No job with this id.") from None
    jobs.jobs_activity_load(jobs=[job])

    # The job page refreshes its whole #job-detail region. Any other htmx
    # caller, such as the fleet overview after "Sync now", polls the progress.
    if _wants_partial(request) and request.htmx.target != "job-detail":
        response = render(request, "jobs/job_progress.html", {"job": job, "poll": True})
    else:
        items = fleet.job_items_list(job=job, tenants=_item_scope(request))
        context = {
            "job": job,
            "items": items,
            "section": "jobs",
            **_job_actions(job, items),
        }
        response = _render(request, "jobs/detail.html", "job-detail", context)

    job_finished_trigger(request, response, job)
    return response


def job_finished_trigger(
    request: HtmxHttpRequest, response: HttpResponse, job: Job
) -> None:
    """Fire the ``jobFinished`` event on an htmx response once ``job`` has ended.

    Lists that wait for a job reload on this event. A cancelled job has ended
    only once its worker has ended its item (``jobs.job_active``).
    """
    if request.htmx and not jobs.job_active(job=job):
        trigger_client_event(response, "jobFinished", {"id": job.pk})


def _job_actions(job: Job, items: QuerySet[JobItem]) -> dict[str, Any]:
    """Return the job page's item counts, which job buttons it shows, and
    whether the job has stalled."""
    from sophos.services.fleet_ops import base

    fleet_operation = base.operation_get(job.kind) is not None
    summary = jobs.job_summary(items=items)
    stalled = jobs.job_stalled(job=job)
    return {
        "summary": summary,
        "stalled": stalled,
        "stall_minutes": settings.PORTAL_JOB_STALL_AFTER_MINUTES,
        "polling": jobs.job_active(job=job),
        "cancel_pending": jobs.job_open(job=job) and job.finished and not stalled,
        "can_cancel": not job.finished or stalled,
        "can_retry": base.job_retryable(job=job),
        "open_retry": jobs.job_retry_open(job=job) if job.finished else None,
        "retry_count": summary.failed + summary.cancelled,
        "retries_after_cancel": fleet_operation,
        "can_repeat": fleet_operation and job.dry_run and job.finished,
    }
