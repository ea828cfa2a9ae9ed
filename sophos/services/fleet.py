"""Read-only selectors over the local mirror for the portal's fleet pages.

A page costs one ``COUNT`` query and one ``SELECT`` whatever the size of the
fleet. The tenant and job lists use Django's ``Paginator``. A tenant's
endpoints and alerts, which run to tens of thousands of rows, page by key
(``KeysetPage``), so the last page costs what the first does. Sort keys and
filter values are whitelisted here and an unknown one raises ``ValueError``,
so a caller cannot order or filter by an arbitrary column.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import CombinedExpression

from sophos.models import Alert, Endpoint, Job, JobItem, Tenant
from sophos.services import jobs as job_services

logger = logging.getLogger(__name__)

PAGE_SIZE = 50

# Sort key shown in URLs -> the Tenant field it orders by. An empty field
# ("alerts") orders by the sum of the three alert counters.
TENANT_SORT_FIELDS: dict[str, str] = {
    "name": "name",
    "endpoints": "endpoints_total",
    "good": "endpoints_good",
    "suspicious": "endpoints_suspicious",
    "bad": "endpoints_bad",
    "unknown": "endpoints_unknown",
    "tamper_off": "tamper_off",
    "alerts": "",
    "high": "alerts_high",
    "medium": "alerts_medium",
    "low": "alerts_low",
    "synced": "last_synced_at",
    "sync_status": "sync_status",
}
TENANT_DEFAULT_SORT = "name"

ENDPOINT_HEALTH_VALUES = ("good", "suspicious", "bad", "unknown")
ENDPOINT_TYPE_VALUES = ("computer", "server")
ALERT_SEVERITY_VALUES = ("high", "medium", "low")


def tenant_sort_keys() -> list[str]:
    """Return every accepted tenant sort key, ascending and descending."""
    return [prefix + key for key in TENANT_SORT_FIELDS for prefix in ("", "-")]


def tenants_overview(
    *,
    tenants: QuerySet[Tenant],
    search: str = "",
    sort: str = TENANT_DEFAULT_SORT,
    page: int | str = 1,
) -> Page[Tenant]:
    """Return one page of ``tenants`` with their health and alert counters.

    ``tenants`` is the caller's scope, such as ``portal.access.tenants_visible``.
    The counters are columns of ``Tenant`` kept by the sync, so the page runs
    the same two queries for three tenants or three thousand. ``sort`` is a
    key of ``TENANT_SORT_FIELDS``, prefixed with ``-`` for descending order.
    An out-of-range ``page`` returns the last page.
    """
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in TENANT_SORT_FIELDS:
        raise ValueError(f"Unknown tenant sort key {sort!r}.")

    if search:
        tenants = tenants.filter(
            Q(name__icontains=search)
            | Q(show_as__icontains=search)
            | Q(customer_name__icontains=search)
        )

    field = TENANT_SORT_FIELDS[key]
    column: F | CombinedExpression
    if field:
        column = F(field)
    else:
        column = F("alerts_high") + F("alerts_medium") + F("alerts_low")
    order = column.desc(nulls_last=True) if descending else column.asc(nulls_first=True)
    tenants = tenants.order_by(order, "name", "id")
    return Paginator(tenants, PAGE_SIZE).get_page(page)


def tenant_get(*, tenant_id: uuid.UUID) -> Tenant:
    """Return the tenant with this Sophos tenant id.

    Raises ``Tenant.DoesNotExist`` for an id that is not in the mirror.
    """
    return Tenant.objects.get(pk=tenant_id)


RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True)
class KeysetOrder:
    """A list's order by one field, then by id, and its cursors' text form.

    A cursor is ``<field value>|<id>`` of a row, as in ``?after=ws-01|<uuid>``.
    """

    field: str
    descending: bool
    parse: Callable[[str], Any]
    format: Callable[[Any], str]

    def cursor(self, row: Model) -> str:
        return f"{self.format(getattr(row, self.field))}|{row.pk}"

    def parse_cursor(self, cursor: str) -> tuple[Any, uuid.UUID] | None:
        """Return the value and id of a cursor, or None for an invalid one."""
        value, separator, row_id = cursor.rpartition("|")
        if not separator:
            return None
        try:
            return self.parse(value), uuid.UUID(row_id)
        except ValueError:
            return None

    def ordering(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        prefix = "-" if descending else ""
        id_prefix = "-" if reverse else ""
        return [prefix + self.field, id_prefix + "id"]

    def beyond(self, key: tuple[Any, uuid.UUID], *, reverse: bool = False) -> Q:
        """Match the rows after ``key`` in this order, or before it with ``reverse``.

        The first condition bounds the field on its own, so the database
        starts an index range scan at the cursor instead of counting rows
        up to it.
        """
        value, row_id = key
        later = "lt" if self.descending != reverse else "gt"
        id_after = "lt" if reverse else "gt"
        return Q(**{f"{self.field}__{later}e": value}) & (
            Q(**{f"{self.field}__{later}": value}) | Q(**{f"id__{id_after}": row_id})
        )


ENDPOINT_ORDER = KeysetOrder(field="hostname", descending=False, parse=str, format=str)
ALERT_ORDER = KeysetOrder(
    field="raised_at",
    descending=True,
    parse=dt.datetime.fromisoformat,
    format=dt.datetime.isoformat,
)


@dataclass(frozen=True)
class KeysetPage(Generic[RowT]):
    """One page of a list paged by key, with the links' cursors.

    ``number`` is the page number the links carry, so that the page shows
    "Page 3 of 12" without counting the rows before it.
    """

    object_list: list[RowT]
    number: int
    count: int
    per_page: int
    has_previous: bool
    has_next: bool
    previous_cursor: str
    next_cursor: str

    def __iter__(self) -> Iterator[RowT]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def previous_page_number(self) -> int:
        return max(1, self.number - 1)

    @property
    def next_page_number(self) -> int:
        return min(self.num_pages, self.number + 1)

    @property
    def start_index(self) -> int:
        if not self.object_list:
            return 0
        if not self.has_next:
            return self.count - len(self.object_list) + 1
        return (self.number - 1) * self.per_page + 1

    @property
    def end_index(self) -> int:
        if not self.object_list:
            return 0
        return self.start_index + len(self.object_list) - 1


def keyset_page(
    rows: QuerySet[RowT],
    order: KeysetOrder,
    *,
    after: str = "",
    before: str = "",
    page: int | str = 1,
    per_page: int = PAGE_SIZE,
) -> KeysetPage[RowT]:
    """Return the page of ``rows`` after or before a cursor, or the first page.

    An invalid cursor gives the first page. Without a cursor, a ``page``
    number beyond 1 is read by offset, so an old bookmark still works.
    """
    count = rows.count()
    number = _page_number(page)
    after_key = order.parse_cursor(after) if after else None
    before_key = order.parse_cursor(before) if before else None

    if before_key is not None:
        found = list(
            rows.filter(order.beyond(before_key, reverse=True)).order_by(
                *order.ordering(reverse=True)
            )[: per_page + 1]
        )
        if len(found) > per_page:
            found = found[:per_page][::-1]
            return _keyset_result(found, order, count, per_page, number, True, True)
        # Fewer rows than a page lie before the cursor: show the first page.
        number, after_key = 1, None

    ordered = rows.order_by(*order.ordering())
    if after_key is not None:
        found = list(ordered.filter(order.beyond(after_key))[: per_page + 1])
        has_previous = True
    else:
        start = 0 if before_key is not None else (number - 1) * per_page
        if start >= count:
            start, number = 0, 1
        found = list(ordered[start : start + per_page + 1])
        has_previous = start > 0
    has_next = len(found) > per_page
    found = found[:per_page]
    return _keyset_result(found, order, count, per_page, number, has_previous, has_next)


def _page_number(page: int | str) -> int:
    try:
        return max(1, int(page))
    except (TypeError, ValueError):
        return 1


def _keyset_result(
    rows: list[RowT],
    order: KeysetOrder,
    count: int,
    per_page: int,
    number: int,
    has_previous: bool,
    has_next: bool,
) -> KeysetPage[RowT]:
    pages = max(1, math.ceil(count / per_page))
    if not has_previous:
        number = 1
    elif not has_next:
        number = pages
    else:
        number = min(max(number, 2), pages - 1)
    return KeysetPage(
        object_list=rows,
        number=number,
        count=count,
        per_page=per_page,
        has_previous=has_previous,
        has_next=has_next,
        previous_cursor=order.cursor(rows[0]) if rows else "",
        next_cursor=order.cursor(rows[-1]) if rows else "",
    )


def endpoints_list(
    *,
    tenant: Tenant,
    search: str = "",
    health: str = "",
    type: str = "",
    page: int | str = 1,
    after: str = "",
    before: str = "",
) -> KeysetPage[Endpoint]:
    """Return one page of a tenant's endpoints, ordered by hostname.

    ``search`` matches part of the hostname, an IPv4 address or the
    associated person. ``health`` and ``type`` are exact values, or empty for
    any. ``after`` and ``before`` are cursors of ``ENDPOINT_ORDER`` (see
    ``keyset_page``).
    """
    if health and health not in ENDPOINT_HEALTH_VALUES:
        raise ValueError(f"Unknown endpoint health {health!r}.")
    if type and type not in ENDPOINT_TYPE_VALUES:
        raise ValueError(f"Unknown endpoint type {type!r}.")

    endpoints = Endpoint.objects.filter(tenant=tenant)
    if search:
        # icontains on a JSONField matches the serialized list, so a partial
        # address such as "10.0.3" finds any endpoint with a matching IPv4.
        endpoints = endpoints.filter(
            Q(hostname__icontains=search)
            | Q(ipv4_addresses__icontains=search)
            | Q(associated_person__icontains=search)
        )
    if health:
        endpoints = endpoints.filter(health=health)
    if type:
        endpoints = endpoints.filter(type=type)

    return keyset_page(endpoints, ENDPOINT_ORDER, after=after, before=before, page=page)


def alerts_list(
    *,
    tenant: Tenant,
    severity: str = "",
    category: str = "",
    page: int | str = 1,
    after: str = "",
    before: str = "",
) -> KeysetPage[Alert]:
    """Return one page of a tenant's open alerts, newest first.

    ``after`` and ``before`` are cursors of ``ALERT_ORDER`` (see
    ``keyset_page``).
    """
    if severity and severity not in ALERT_SEVERITY_VALUES:
        raise ValueError(f"Unknown alert severity {severity!r}.")

    alerts = Alert.objects.filter(tenant=tenant)
    if severity:
        alerts = alerts.filter(severity=severity)
    if category:
        alerts = alerts.filter(category=category)

    return keyset_page(alerts, ALERT_ORDER, after=after, before=before, page=page)


def alert_categories_list(*, tenant: Tenant) -> list[str]:
    """Return the distinct categories of a tenant's open alerts, sorted."""
    categories = (
        Alert.objects.filter(tenant=tenant)
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
    return list(categories)


def alert_get(*, tenant: Tenant, alert_id: uuid.UUID) -> Alert:
    """Return one of the tenant's alerts.

    Raises ``Alert.DoesNotExist`` when the mirror contains no such alert for
    this tenant, which includes an alert of another tenant.
    """
    return Alert.objects.get(tenant=tenant, pk=alert_id)


def jobs_list(*, jobs: QuerySet[Job], page: int | str = 1) -> Page[Job]:
    """Return one page of ``jobs``, newest first, with who requested each and
    when the items of each open job last changed."""
    jobs = jobs.select_related("requested_by").order_by("-created_at", "-id")
    listed = Paginator(jobs, PAGE_SIZE).get_page(page)
    job_services.jobs_activity_load(jobs=listed)
    return listed


def job_get(*, jobs: QuerySet[Job], job_id: int) -> Job:
    """Return one of ``jobs``.

    Raises ``Job.DoesNotExist`` for an id that is not among ``jobs``.
    """
    return jobs.select_related("requested_by").get(pk=job_id)


def job_items_list(
    *, job: Job, tenants: QuerySet[Tenant] | None = None
) -> QuerySet[JobItem]:
    """Return the job's items in the order they were created.

    With ``tenants``, an item about a tenant outside it is left out; items
    about no tenant stay.
    """
    items = job.items.order_by("id")
    if tenants is not None:
        items = items.filter(
            Q(tenant_id__isnull=True) | Q(tenant_id__in=tenants.values("pk"))
        )
    return items


def sync_job_active(*, jobs: QuerySet[Job]) -> Job | None:
    """Return the newest queued or running sync job among ``jobs``, if any."""
    return (
        jobs.filter(kind="sync", status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .order_by("-created_at", "-id")
        .first()
    )
