"""Building blocks shared by the tenant category pages.

- ``tenant_for`` and ``can_act``: resolve the tenant in the URL for this user
  (404 outside their scope, 403 to a write they may not make).
- ``render_page``: the whole page, or only its partial for an htmx request.
- ``Table``, ``Column``, ``Filter`` and ``table_for``: filter, sort and
  paginate a list of typed rows on the portal server, with ``csv_response``
  exporting the same rows, and ``live_table_page`` rendering a table read
  live from Sophos, or its CSV export.
- ``add_sophos_error`` and ``sophos_error_text``: show a rejected Sophos
  request beside a form field or an action, with its correlation id.
- ``ConfirmDelete``: what the shared confirmation fragment says before a
  delete.
"""

from __future__ import annotations

import csv
import datetime
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse

from portal import access
from portal.web.views import HtmxHttpRequest, _render
from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.services.labels import code_label
from sophos.services.resources import Listing

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

__all__ = [
    "HtmxHttpRequest",
    "Column",
    "ConfirmDelete",
    "Filter",
    "Table",
    "TableResult",
    "add_sophos_error",
    "can_act",
    "csv_response",
    "csv_safe",
    "live_table_page",
    "render_page",
    "sophos_error_text",
    "table_for",
    "tenant_context",
    "tenant_for",
    "wants_csv",
]


# -- tenant and rendering ----------------------------------------------------------


def tenant_for(
    request: HttpRequest, tenant_id: uuid.UUID | str, *, write: bool = False
) -> Tenant:
    """Return the URL's tenant, or raise 404 (not visible) or 403 (no write)."""
    return access.tenant_for(request, tenant_id, write=write)


def can_act(request: HttpRequest, tenant: Tenant) -> bool:
    """Return whether the user may change this tenant; pages hide the controls
    of a user who may not."""
    return access.can_act_on(request.user, tenant)


def tenant_context(
    request: HttpRequest, tenant: Tenant, *, nav: str, **extra: Any
) -> dict[str, Any]:
    """Return the context every tenant page needs.

    ``nav`` is the side navigation entry marked as the current page, for
    example "scanning_exclusions".
    """
    return {
        "tenant": tenant,
        "can_act": can_act(request, tenant),
        "tab": nav,
        "section": "fleet",
        **extra,
    }


def render_page(
    request: HtmxHttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or only its ``{% partialdef partial %}`` for htmx.

    The response varies on ``HX-Request``, so a browser never shows a cached
    partial as a page.
    """
    return _render(request, template, partial, context, status=status)


# -- Sophos errors -----------------------------------------------------------------


def sophos_error_text(error: SophosError) -> str:
    """Return the Sophos message followed by its correlation id, if any."""
    message = error.message or type(error).__name__
    if error.correlation_id:
        return f"{message} (correlation id {error.correlation_id})"
    return message


def add_sophos_error(
    form: forms.BaseForm, error: SophosError, field: str | None = None
) -> None:
    """Show a rejected request beside ``field``, or above the form without one."""
    form.add_error(field, sophos_error_text(error))


# -- lists: filter, sort, paginate, export -------------------------------------------


@dataclass(frozen=True)
class Column(Generic[T]):
    """One table column: its sort key, header and cell value."""

    key: str
    label: str
    value: Callable[[T], object]
    sortable: bool = True
    numeric: bool = False
    mono: bool = False
    # The value is a Sophos API code or a list of codes: the page shows their
    # labels and the CSV export the codes as sent.
    code: bool = False


@dataclass(frozen=True)
class Filter(Generic[T]):
    """A choice filter read from the query parameter ``name``.

    ``value`` returns the row's value, or several values for a row that
    matches more than one choice (a site with several tags).
    """

    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    value: Callable[[T], str | Iterable[str]]


@dataclass(frozen=True)
class Table(Generic[T]):
    """How a list of rows is shown, searched, filtered and sorted."""

    columns: tuple[Column[T], ...]
    # A column key, "-" in front for descending.
    default_sort: str
    # The texts that the search box (query parameter q) looks in.
    search: Callable[[T], Iterable[str]] | None = None
    filters: tuple[Filter[T], ...] = ()
    search_help: str = ""

    @property
    def searchable(self) -> bool:
        # Templates call callables, so they test this instead of ``search``.
        return self.search is not None

    def sort_keys(self) -> set[str]:
        keys = {column.key for column in self.columns if column.sortable}
        return keys | {f"-{key}" for key in keys}


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool
    mono: bool


@dataclass(frozen=True)
class TableRow(Generic[T]):
    item: T
    cells: list[Cell]
    # The detail page and the delete confirmation, or "" without one.
    url: str
    delete_url: str


@dataclass(frozen=True)
class FilterState:
    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    selected: str


@dataclass
class TableResult(Generic[T]):
    """One page of a filtered and sorted list, and the state of its controls."""

    table: Table[T]
    page: Page[T]
    rows: list[TableRow[T]]
    # Every row that passed the filters, in order, for the CSV export.
    matched: list[T]
    total: int
    sort: str
    search: str
    filters: list[FilterState] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return bool(self.search) or any(state.selected for state in self.filters)


def table_for(
    request: HttpRequest,
    items: Sequence[T],
    table: Table[T],
    *,
    row_url: Callable[[T], str] | None = None,
    row_delete_url: Callable[[T], str] | None = None,
) -> TableResult[T]:
    """Filter, sort and paginate ``items`` by the request's query parameters.

    Reads ``q`` (search), each filter's parameter, ``sort`` (a column key,
    "-" for descending) and ``page``. Values that are not offered fall back
    to no filter, the default sort and the nearest page, so a stale link
    still shows a list.
    """
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    sort = request.GET.get("sort", "")
    if sort not in table.sort_keys():
        sort = table.default_sort

    states = []
    matched = list(items)
    for choice_filter in table.filters:
        selected = request.GET.get(choice_filter.name, "")
        if selected not in {value for value, _ in choice_filter.choices}:
            selected = ""
        states.append(
            FilterState(
                choice_filter.name, choice_filter.label, choice_filter.choices, selected
            )
        )
        if selected:
            matched = [row for row in matched if _matches(choice_filter, row, selected)]
    if search and table.search is not None:
        matched = [row for row in matched if _contains(table.search(row), search)]

    matched = _sorted(matched, table, sort)
    page = Paginator(matched, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        TableRow(
            item=item,
            cells=[
                Cell(_shown_text(column, item), column.numeric, column.mono)
                for column in table.columns
            ],
            url=row_url(item) if row_url else "",
            delete_url=row_delete_url(item) if row_delete_url else "",
        )
        for item in page.object_list
    ]
    return TableResult(
        table=table,
        page=page,
        rows=rows,
        matched=matched,
        total=len(items),
        sort=sort,
        search=search,
        filters=states,
    )


def _matches(choice_filter: Filter[T], row: T, selected: str) -> bool:
    value = choice_filter.value(row)
    if isinstance(value, str):
        return value == selected
    return selected in value


def _contains(texts: Iterable[str], search: str) -> bool:
    needle = search.casefold()
    return any(needle in text.casefold() for text in texts if text)


def _sorted(rows: list[T], table: Table[T], sort: str) -> list[T]:
    key = sort.removeprefix("-")
    column = next(column for column in table.columns if column.key == key)
    descending = sort.startswith("-")
    present = [row for row in rows if not _is_empty(column.value(row))]
    empty = [row for row in rows if _is_empty(column.value(row))]
    present.sort(key=lambda row: _sort_value(column.value(row)), reverse=descending)
    # Rows without a value come last in both directions.
    return present + empty


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == ()


def _sort_value(value: object) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value).casefold()
    return value


def cell_text(value: object) -> str:
    """Return a value as a table shows it; an empty value is an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(item) for item in value)
    return str(value)


def _shown_text(column: Column[T], item: T) -> str:
    value = column.value(item)
    if not column.code:
        return cell_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(code_label(str(code)) for code in value)
    return code_label(cell_text(value))


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def csv_safe(text: str) -> str:
    """Return ``text`` with a leading ' when a spreadsheet would run it as a
    formula."""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_response(filename: str, result: TableResult[T]) -> HttpResponse:
    """Return every row that passed the filters as a CSV attachment, sorted as
    the page is, with one column per table column."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    columns = result.table.columns
    writer.writerow([csv_safe(column.label) for column in columns])
    for item in result.matched:
        writer.writerow([csv_safe(cell_text(column.value(item))) for column in columns])
    return response


def live_table_page(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    *,
    template: str,
    partial: str,
    read: Callable[[], Listing[T] | Sequence[T]],
    table: Table[T],
    csv_name: str,
    subject: str,
    row_url: Callable[[T], str] | None = None,
    row_delete_url: Callable[[T], str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a page whose table is read live from Sophos, or the table as a
    CSV file named ``csv_name`` when the request has ``format=csv``.

    When the read fails, a warning names ``subject`` (such as "firewalls of
    tenant <id>") and the page shows the error in place of the table. A
    ``Listing`` also sets ``truncated`` when Sophos had more pages.
    """
    try:
        listed = read()
    except SophosError as exc:
        logger.warning("%s failed: %s", subject, exc)
        context["error"] = exc
        return render_page(request, template, partial, context, status=status)

    items = listed.items if isinstance(listed, Listing) else listed
    result = table_for(
        request, items, table, row_url=row_url, row_delete_url=row_delete_url
    )
    if wants_csv(request):
        return csv_response(csv_name, result)
    context["result"] = result
    if isinstance(listed, Listing):
        context["truncated"] = listed.truncated
    return render_page(request, template, partial, context, status=status)


# -- confirmation ------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmDelete:
    """What ``tenants/_confirm_delete.html`` asks before a delete."""

    title: str
    # The thing to delete, as the user knows it: "the allowed item abc.exe".
    subject: str
    # What stops working or is gone once it is deleted, one sentence each.
    losses: Sequence[str]
    action_url: str
    cancel_url: str
    # The element an htmx confirmation replaces with the refreshed list.
    hx_target: str = ""
    error: SophosError | None = None
