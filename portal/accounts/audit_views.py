"""The audit log page and its CSV export, for owners and administrators."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal import access
from portal.access import Capability
from portal.accounts import forms, selectors
from portal.accounts.views import render_page
from portal.web.forms import filter_values
from portal.web.views import HtmxHttpRequest
from sophos.models import AuditEntry

PAGE_SIZE = 50

CSV_COLUMNS = [
    "time",
    "username",
    "operation",
    "outcome",
    "tenant_id",
    "tenant_name",
    "status_code",
    "correlation_id",
    "job_id",
    "message",
    "parameters",
]

# A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Return ``value`` as CSV text that a spreadsheet shows as text.

    A value starting with a formula character gets a leading apostrophe, so
    text from an audit entry never runs as a formula when the export is
    opened in a spreadsheet.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _filter_form(request: HtmxHttpRequest) -> forms.AuditFilterForm:
    return forms.AuditFilterForm(
        request.GET,
        usernames=selectors.audit_usernames(),
        tenants=selectors.audit_tenants(),
        operations=selectors.audit_operations(),
    )


def _filters(form: forms.AuditFilterForm) -> selectors.AuditFilters:
    # An invalid filter, such as a last day before the first, is left out
    # and the form shows its error.
    values = filter_values(form, form.defaults)
    return selectors.AuditFilters(
        username=values["user"],
        tenant_id=values["tenant"],
        operation=values["operation"],
        since=values["since"],
        until=values["until"],
    )


@require_GET
@login_required
@access.require(Capability.VIEW_AUDIT)
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    form = _filter_form(request)
    entries = selectors.audit_entries_list(filters=_filters(form))
    page_number = filter_values(form, form.defaults)["page"]
    page = Paginator(entries.select_related("job"), PAGE_SIZE).get_page(page_number)

    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "export_query": query.urlencode(),
        "section": "audit",
    }
    return render_page(request, "audit/log.html", "audit-table", context)


def _csv_rows(entries: Iterator[AuditEntry]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for entry in entries:
        yield [
            csv_cell(value)
            for value in (
                entry.at.isoformat(),
                entry.username,
                entry.operation,
                entry.outcome,
                entry.tenant_id or "",
                entry.tenant_name,
                entry.status_code if entry.status_code is not None else "",
                entry.correlation_id,
                entry.job_id or "",
                entry.message,
                json.dumps(entry.parameters, sort_keys=True),
            )
        ]


class _Echo:
    """A file-like object whose ``write`` returns the text, for streaming."""

    def write(self, value: str) -> str:
        return value


@require_GET
@login_required
@access.require(Capability.VIEW_AUDIT)
def audit_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    form = _filter_form(request)
    entries = selectors.audit_entries_list(filters=_filters(form))

    writer = csv.writer(_Echo())
    lines = (writer.writerow(row) for row in _csv_rows(entries.iterator()))
    filename = f"audit-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
