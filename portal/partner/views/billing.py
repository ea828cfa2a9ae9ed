"""Billing usage by month: totals per product and per tenant, the usage rows,
a CSV export and a trend chart of the last twelve months.

The shown month is read when the page opens and kept once closed. The chart
draws the kept months and offers a job that fetches the missing ones.
"""

from __future__ import annotations

import csv
import datetime
import logging
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget

from portal import access
from portal.access import Capability
from portal.partner import billing as billing_months
from portal.partner import forms as partner_forms
from portal.partner.charts import bar_chart
from portal.partner.models import BillingMonth
from portal.partner.views.common import partner_context
from portal.tenants.common import (
    MAX_SEARCH_LENGTH,
    HtmxHttpRequest,
    csv_safe,
    render_page,
)
from sophos.errors import NotFound, SophosError

logger = logging.getLogger(__name__)

TEMPLATE = "billing/month.html"
TENANT_TEMPLATE = "billing/tenant_usage.html"
TENANT_PAGE_SIZE = 50
CSV_COLUMNS = (
    ("Tenant", "shown_name"),
    ("Tenant id", "account_id"),
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
    first = billing_months.FIRST_MONTH
    last = billing_months.LAST_MONTH
    if not (1 <= month <= 12 and first.year <= year <= last.year):
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
        messages.error(request, " ".join(str(error) for error in form.errors["month"]))

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


def _month_context(
    request: HtmxHttpRequest, first_day: datetime.date
) -> dict[str, Any]:
    return partner_context(
        request,
        nav="billing",
        month=first_day,
        previous=_previous_month(first_day),
        next=_next_month(first_day),
        form=partner_forms.BillingMonthForm(
            initial={"month": first_day.strftime("%Y-%m")}
        ),
    )


def _kept_month(
    context: dict[str, Any], year: int, month: int, *, refresh: bool = False
) -> BillingMonth | None:
    """Return the kept month, or put what stopped it into the context.

    When a month kept earlier cannot be fetched again, that copy is returned
    and the error goes into ``refresh_error``.
    """
    error: SophosError
    try:
        return billing_months.billing_month_get(year=year, month=month, refresh=refresh)
    except NotFound as exc:
        error = exc
    except SophosError as exc:
        logger.warning("billing usage %04d-%02d failed: %s", year, month, exc)
        error = exc

    kept = billing_months.billing_month_kept(year=year, month=month)
    if kept is not None:
        context["refresh_error"] = error
    elif isinstance(error, NotFound):
        context["no_data"] = True
        context["month_closed"] = billing_months.month_closed(year, month)
    else:
        context["error"] = error
    return kept


def _totals_context(request: HtmxHttpRequest, kept: BillingMonth) -> dict[str, Any]:
    """Return one page of the month's tenant totals, searched and sorted."""
    # PostgreSQL rejects NUL characters in a query parameter.
    search = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_SEARCH_LENGTH]
    sort = request.GET.get("sort", "name")
    if sort not in billing_months.TENANT_SORTS:
        sort = "name"
    totals = billing_months.tenant_totals(kept, search=search, sort=sort)
    page = Paginator(totals, TENANT_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "kept": kept,
        "page": page,
        "search": search,
        "sort": sort,
        "outdated": billing_months.month_outdated(kept),
    }


@require_GET
@access.require(Capability.VIEW_BILLING)
def billing_month(
    request: HtmxHttpRequest, year: int, month: int
) -> HttpResponse | StreamingHttpResponse:
    first_day = _first_day(year, month)
    context = _month_context(request, first_day)
    target = request.htmx.target if request.htmx else None
    if target == "billing-chart":
        context.update(_chart_context(year, month))
        return render_page(request, TEMPLATE, "billing-chart", context)

    kept = _kept_month(context, year, month)
    if kept is not None:
        if request.GET.get("format") == "csv":
            return _csv(kept)
        context.update(_totals_context(request, kept))
        if target == "tenant-totals":
            return render_page(request, TEMPLATE, "tenant-totals", context)
    context.update(_chart_context(year, month))
    response = render_page(request, TEMPLATE, "billing-report", context)
    if target == "tenant-totals":
        # Without a month there is no table: the report with its error
        # replaces the whole report, not the table it was asked for.
        retarget(response, "#billing-report")
    return response


@require_POST
@access.require(Capability.VIEW_BILLING)
def billing_month_refresh(
    request: HtmxHttpRequest, year: int, month: int
) -> HttpResponse:
    """Fetch an open month again; a closed month is kept as it is."""
    first_day = _first_day(year, month)
    context = _month_context(request, first_day)
    kept = _kept_month(context, year, month, refresh=True)
    if not request.htmx:
        _message_fetch_error(request, context)
        return redirect("billing_month", year=year, month=month)
    if kept is not None:
        context.update(_totals_context(request, kept))
    context.update(_chart_context(year, month))
    return render_page(request, TEMPLATE, "billing-report", context)


def _message_fetch_error(request: HtmxHttpRequest, context: dict[str, Any]) -> None:
    """Add what stopped a fetch, if anything, to the messages of the next page."""
    if "refresh_error" in context:
        messages.error(
            request,
            "The billing usage could not be fetched again: "
            f"{context['refresh_error']}. The figures shown are the copy kept "
            "earlier; try again later.",
        )
    elif "error" in context or "no_data" in context:
        reason = context.get("error") or "Sophos Central has no usage for the month."
        messages.error(request, f"The billing usage could not be fetched: {reason}")


@require_GET
@access.require(Capability.VIEW_BILLING)
def billing_tenant_usage(
    request: HtmxHttpRequest, year: int, month: int, account_id: str
) -> HttpResponse:
    """Show one tenant's products in the month, below its row or as a page."""
    if "\x00" in account_id:
        # Kept account ids have no NUL, and PostgreSQL rejects one in a query.
        raise Http404("No usage for this tenant in the month.")
    first_day = _first_day(year, month)
    context = _month_context(request, first_day)
    kept = _kept_month(context, year, month)
    if kept is None:
        url = reverse("billing_month", args=[year, month])
        if request.htmx:
            # The month page shows why, so it replaces the page, not the row.
            return HttpResponseClientRedirect(url)
        return redirect(url)
    total = billing_months.tenant_total(kept, account_id)
    if total is None:
        raise Http404("No usage for this tenant in the month.")
    context.update(
        total=total,
        usage=billing_months.tenant_usage(kept, account_id),
        collapsed=request.GET.get("show") == "0",
    )
    return render_page(request, TENANT_TEMPLATE, "tenant-usage", context)


def _csv(kept: BillingMonth) -> StreamingHttpResponse:
    """Return every usage row of the month, formula cells neutralised."""
    name = f"billing-{kept.year:04d}-{kept.month:02d}.csv"
    response = StreamingHttpResponse(
        _csv_lines(kept), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class _Line:
    """A file-like object whose ``write`` returns what it was given."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(kept: BillingMonth) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow([label for label, _ in CSV_COLUMNS])
    for row in billing_months.usage_rows(kept):
        yield writer.writerow(
            [_csv_cell(getattr(row, name)) for _, name in CSV_COLUMNS]
        )


def _csv_cell(value: object) -> str | int:
    # A number is written as it is, so a negative quantity stays a number.
    if isinstance(value, int):
        return value
    return csv_safe(str(value))


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
