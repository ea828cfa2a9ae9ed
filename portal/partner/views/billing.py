"""Billing usage by month: totals per product and per tenant, the usage rows,
a CSV export and a trend chart of the last twelve months.

The shown month is read when the page opens and kept once closed. The chart
draws the kept months and offers a job that fetches the missing ones.
"""

from __future__ import annotations

import csv
import datetime
import logging
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portal import access
from portal.access import Capability
from portal.partner import billing as billing_months
from portal.partner import forms as partner_forms
from portal.partner.charts import bar_chart
from portal.partner.views.common import partner_context
from portal.tenants.common import HtmxHttpRequest, csv_safe, render_page
from sophos.errors import NotFound, SophosError
from sophos.services.billing import BillingReport

logger = logging.getLogger(__name__)

TEMPLATE = "billing/month.html"
CSV_COLUMNS = (
    ("Tenant", "tenant_name"),
    ("Tenant id", "tenant_id"),
    ("Product", "product_description"),
    ("Product code", "product_code"),
    ("SKU", "sku"),
    ("Product group", "product_group"),
    ("Billable quantity", "billable_quantity"),
    ("Actual quantity", "actual_quantity"),
)


def _previous_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=31)).replace(day=1)


def _first_day(year: int, month: int) -> datetime.date:
    # The upper bound leaves room for the next month's link.
    if not (1 <= month <= 12 and 2000 <= year <= 9998):
        raise Http404("No such month.")
    return datetime.date(year, month, 1)


@require_GET
@access.require(Capability.VIEW_BILLING)
def billing_index(request: HtmxHttpRequest) -> HttpResponse:
    if "month" in request.GET:
        form = partner_forms.BillingMonthForm(request.GET)
        if form.is_valid():
            chosen: datetime.date = form.cleaned_data["month"]
            return redirect("billing_month", year=chosen.year, month=chosen.month)
        messages.error(request, form.error_message)

    month = _previous_month(timezone.localdate())
    return redirect("billing_month", year=month.year, month=month.month)


def _chart_context(year: int, month: int, *, job: Any = None) -> dict[str, Any]:
    """Return the trend chart of the twelve months ending with year/month."""
    try:
        points = billing_months.billing_trend(year=year, month=month)
    except SophosError as exc:
        logger.warning("billing trend %04d-%02d failed: %s", year, month, exc)
        return {"chart_error": exc}
    missing = billing_months.missing_months(points)
    return {
        "chart": bar_chart(points, current_key=f"{year:04d}-{month:02d}"),
        "trend": points,
        "missing": missing,
        "fetch_job": job,
    }


@require_GET
@access.require(Capability.VIEW_BILLING)
def billing_month(request: HtmxHttpRequest, year: int, month: int) -> HttpResponse:
    first_day = _first_day(year, month)
    context = partner_context(
        request,
        nav="billing",
        month=first_day,
        previous=_previous_month(first_day),
        next=_next_month(first_day),
        form=partner_forms.BillingMonthForm(
            initial={"month": f"{year:04d}-{month:02d}"}
        ),
    )
    if request.htmx and request.htmx.target == "billing-chart":
        context.update(_chart_context(year, month))
        return render_page(request, TEMPLATE, "billing-chart", context)

    try:
        report = billing_months.billing_month_report(year=year, month=month)
    except NotFound:
        context["no_data"] = True
    except SophosError as exc:
        logger.warning("billing usage %04d-%02d failed: %s", year, month, exc)
        context["error"] = exc
    else:
        if request.GET.get("format") == "csv":
            return _csv(report)
        context["report"] = report
    context.update(_chart_context(year, month))
    return render_page(request, TEMPLATE, "billing-report", context)


def _csv(report: BillingReport) -> HttpResponse:
    """Return every usage row of the month, formula cells neutralised."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"billing-{report.year:04d}-{report.month:02d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([label for label, _ in CSV_COLUMNS])
    for row in report.rows:
        writer.writerow(
            [csv_safe(str(getattr(row, attribute))) for _, attribute in CSV_COLUMNS]
        )
    return response


@require_POST
@access.require(Capability.VIEW_BILLING)
def billing_months_fetch(
    request: HtmxHttpRequest, year: int, month: int
) -> HttpResponse:
    """Start a job that fetches the chart's missing months."""
    first_day = _first_day(year, month)
    context = partner_context(request, nav="billing", month=first_day)
    job = None
    try:
        points = billing_months.billing_trend(year=year, month=month)
    except SophosError as exc:
        context["chart_error"] = exc
        return render_page(request, TEMPLATE, "billing-chart", context)
    missing = billing_months.missing_months(points)
    if missing:
        job = billing_months.billing_months_fetch_start(
            user=request.user, months=missing
        )
    if not request.htmx:
        if job is not None:
            messages.success(request, f"Fetching {len(missing)} billing month(s).")
            return redirect("job_detail", job_id=job.pk)
        return redirect("billing_month", year=year, month=month)
    context.update(_chart_context(year, month, job=job))
    return render_page(request, TEMPLATE, "billing-chart", context)
