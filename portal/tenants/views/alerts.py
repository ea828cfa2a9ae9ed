"""The alert detail page, read live, and the bulk action on the alert list.

The detail page's action buttons post to the alert list's per-alert action
(``alert_action``). A bulk action runs as a job with one item per alert.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from portal.tenants.common import (
    HtmxHttpRequest,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.forms.alerts import AlertBulkActionForm
from sophos.errors import NotFound
from sophos.services import alerts

logger = logging.getLogger(__name__)

NAV = "alerts"


@require_GET
def alert_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, alert_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    try:
        alert = alerts.alert_get(tenant=tenant, alert_id=alert_id)
    except NotFound:
        raise Http404(
            "No open alert with this id in this tenant; it may have been resolved."
        ) from None
    endpoint_id = _uuid_or_none(alert.managed_agent_id)
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        alert=alert,
        endpoint_id=endpoint_id,
        list_url=reverse("tenant_alerts", args=[tenant.pk]),
    )
    return render_page(request, "tenants/alert_detail.html", "alert-detail", context)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@require_POST
def alerts_bulk_action(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    list_url = reverse("tenant_alerts", args=[tenant.pk])
    form = AlertBulkActionForm(request.POST)
    if not form.is_valid():
        text = " ".join(
            str(error) for errors in form.errors.values() for error in errors
        )
        if request.htmx:
            return render(
                request,
                "tenants/alerts_bulk_result.html",
                {"error_text": text},
                status=400,
            )
        messages.error(request, text)
        return redirect(list_url)

    chosen = [uuid.UUID(alert_id) for alert_id in form.cleaned_data["alerts"]]
    # An id that is not one of this tenant's open alerts still becomes an
    # item, so the job reports it as failed instead of dropping it silently.
    job = alerts.alerts_bulk_action_start(
        user=request.user,
        tenant=tenant,
        alert_ids=chosen,
        action=form.cleaned_data["action"],
        message=form.cleaned_data["message"] or None,
    )
    if request.htmx:
        return render(
            request, "tenants/alerts_bulk_result.html", {"job": job, "poll": True}
        )
    messages.success(request, f"Started: {job.title}.")
    return redirect("job_detail", job_id=job.pk)


urlpatterns = [
    path("alerts/<uuid:alert_id>/", alert_detail, name="alert_detail"),
    path("alerts/bulk/", alerts_bulk_action, name="alerts_bulk_action"),
]
