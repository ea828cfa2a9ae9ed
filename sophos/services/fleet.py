"""Read-only selectors over the local mirror for the portal's fleet pages.

Every list is paginated with Django's ``Paginator``, so a page costs one
``COUNT`` query and one ``SELECT`` whatever the size of the fleet. Sort keys
and filter values are whitelisted here and an unknown one raises
``ValueError``, so a caller cannot order or filter by an arbitrary column.
"""

from __future__ import annotations

import logging
import uuid

from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import CombinedExpression

from sophos.models import Alert, Endpoint, Job, JobItem, Tenant

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


def endpoints_list(
    *,
    tenant: Tenant,
    search: str = "",
    health: str = "",
    type: str = "",
    page: int | str = 1,
) -> Page[Endpoint]:
    """Return one page of a tenant's endpoints, ordered by hostname.

    ``search`` matches part of the hostname, an IPv4 address or the
    associated person. ``health`` and ``type`` are exact values, or empty for
    any.
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

    endpoints = endpoints.order_by("hostname", "id")
    return Paginator(endpoints, PAGE_SIZE).get_page(page)


def alerts_list(
    *,
    tenant: Tenant,
    severity: str = "",
    category: str = "",
    page: int | str = 1,
) -> Page[Alert]:
    """Return one page of a tenant's open alerts, newest first."""
    if severity and severity not in ALERT_SEVERITY_VALUES:
        raise ValueError(f"Unknown alert severity {severity!r}.")

    alerts = Alert.objects.filter(tenant=tenant)
    if severity:
        alerts = alerts.filter(severity=severity)
    if category:
        alerts = alerts.filter(category=category)

    alerts = alerts.order_by("-raised_at", "id")
    return Paginator(alerts, PAGE_SIZE).get_page(page)


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
    """Return one page of ``jobs``, newest first, with who requested each."""
    jobs = jobs.select_related("requested_by").order_by("-created_at", "-id")
    return Paginator(jobs, PAGE_SIZE).get_page(page)


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
