"""The main pages run as many SQL queries for a large fleet as for a small one.

Each page is requested over a mirror of 2 tenants with 3 endpoints and 3
alerts each, then over the same mirror grown to 60 tenants with 120 endpoints
and 120 alerts each, which is more than one page of each list. The second
request must run exactly as many queries as the first. The job page is
requested the same way for a job with 3 items, then 120. A page whose count
grows is doing work per row: a missing ``select_related``, a query in a
template loop, or a counter computed instead of read.
"""

import datetime as dt
import uuid
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.partner.billing import billing_month_get
from portal.partner.models import BillingMonth
from sophos.models import Alert, Connection, Endpoint, Job, JobItem, Tenant
from sophos.models_fleet import DriftCheck, ItemPush, OnboardingRun
from sophos.services.billing import BillingRow, billing_report
from tests.portal.factories import make_connection

pytestmark = pytest.mark.django_db

SMALL = (2, 3)
LARGE = (60, 120)
PAGES = (
    "fleet",
    "endpoints",
    "endpoints, next page",
    "alerts",
    "alerts, next page",
    "billing",
)


def previous_month() -> dt.date:
    first = timezone.localdate().replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def add_rows(tenant: Tenant, start: int, stop: int) -> None:
    """Add endpoints and alerts numbered ``start`` to ``stop`` to the tenant."""
    now = timezone.now()
    Endpoint.objects.bulk_create(
        Endpoint(
            id=uuid.uuid4(),
            tenant=tenant,
            hostname=f"host-{number:04d}",
            type="computer",
            health="good",
            synced_at=now,
        )
        for number in range(start, stop)
    )
    Alert.objects.bulk_create(
        Alert(
            id=uuid.uuid4(),
            tenant=tenant,
            severity="high",
            category=f"category-{number % 5}",
            allowed_actions=["acknowledge"],
            managed_agent_name=f"host-{number:04d}",
            raised_at=now - dt.timedelta(minutes=number),
            synced_at=now,
        )
        for number in range(start, stop)
    )
    Tenant.objects.filter(pk=tenant.pk).update(
        endpoints_total=stop, endpoints_good=stop, alerts_high=stop
    )


def add_tenants(connection: Connection, start: int, stop: int, rows: int) -> None:
    tenants = Tenant.objects.bulk_create(
        Tenant(
            id=uuid.uuid4(),
            connection=connection,
            name=f"Tenant {number:04d}",
            api_host="https://api-eu01.central.sophos.com",
            sync_status=Tenant.SyncStatus.OK,
            last_synced_at=timezone.now(),
        )
        for number in range(start, stop)
    )
    for tenant in tenants:
        add_rows(tenant, 0, rows)


def keep_billing_month(connection: Connection) -> None:
    """Keep last month's usage, one row a tenant, as the billing page stores it."""
    month = previous_month()
    BillingMonth.objects.filter(
        connection=connection, year=month.year, month=month.month
    ).delete()
    rows = [
        BillingRow(
            tenant_id=str(tenant.pk),
            tenant_name=tenant.name,
            product_code="CIXA",
            product_description="Intercept X Advanced",
            product_group="endpoint",
            sku="CIXA-100",
            billable_quantity=tenant.endpoints_total,
            actual_quantity=tenant.endpoints_total,
        )
        for tenant in Tenant.objects.all()
    ]
    report = billing_report(year=month.year, month=month.month, rows=rows)
    with mock.patch(
        "sophos.services.billing.billing_usage", autospec=True, return_value=report
    ):
        billing_month_get(year=month.year, month=month.month)


def page_url(owner_client, page: str, tenant: Tenant) -> str:
    """Return the page's URL. A next page starts after the first page's last row."""
    if page == "fleet":
        return reverse("fleet")
    if page == "billing":
        month = previous_month()
        return reverse("billing_month", args=[month.year, month.month])
    name = "tenant_endpoints" if page.startswith("endpoints") else "tenant_alerts"
    url = reverse(name, args=[tenant.pk])
    if page.endswith("next page"):
        first = owner_client.get(url).context["page"]
        url += "?" + urlencode({"after": first.next_cursor, "page": 2})
    return url


def count_queries(owner_client, url: str) -> int:
    owner_client.get(url)
    with CaptureQueriesContext(db_connection) as queries:
        response = owner_client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_page_query_count_is_constant(owner_client, django_assert_num_queries, page):
    connection = make_connection()
    add_tenants(connection, 1, SMALL[0], SMALL[1])
    tenant = Tenant.objects.create(
        id=uuid.uuid4(),
        connection=connection,
        name="Tenant 0000",
        api_host="https://api-eu01.central.sophos.com",
    )
    add_rows(tenant, 0, SMALL[1])
    keep_billing_month(connection)
    small = count_queries(owner_client, page_url(owner_client, page, tenant))

    add_tenants(connection, SMALL[0], LARGE[0], LARGE[1])
    add_rows(tenant, SMALL[1], LARGE[1])
    keep_billing_month(connection)
    url = page_url(owner_client, page, tenant)
    owner_client.get(url)

    with django_assert_num_queries(small):
        response = owner_client.get(url)

    assert response.status_code == 200
    assert Tenant.objects.count() == LARGE[0]
    assert len(response.context["page"]) == 50


JOB_STATES = {
    "running": {"status": Job.Status.RUNNING},
    "cancelling": {"status": Job.Status.CANCELLED},
    "finished": {"status": Job.Status.PARTIAL, "finished_at": timezone.now()},
}


def add_job_items(job: Job, start: int, stop: int) -> None:
    """Add items numbered ``start`` to ``stop``, in every status in turn."""
    statuses = list(JobItem.Status)
    JobItem.objects.bulk_create(
        JobItem(
            job=job,
            target=f"target-{number:04d}",
            status=statuses[number % len(statuses)],
            message=f"Item {number}",
        )
        for number in range(start, stop)
    )


@pytest.mark.parametrize("state", JOB_STATES)
def test_job_page_query_count_is_constant(
    owner_client, owner, django_assert_num_queries, state
):
    job = Job.objects.create(
        kind="sync", title="Sync", requested_by=owner, **JOB_STATES[state]
    )
    add_job_items(job, 0, SMALL[1])
    url = reverse("job_detail", args=[job.pk])
    small = count_queries(owner_client, url)

    add_job_items(job, SMALL[1], LARGE[1])
    owner_client.get(url)

    with django_assert_num_queries(small):
        response = owner_client.get(url)

    assert response.status_code == 200
    assert len(response.context["items"]) == LARGE[1]


JOB_LISTS = ("jobs", "fleet_ops:push_list", "fleet_ops:drift", "fleet_ops:onboarding")


def add_listed_jobs(page: str, owner, start: int, stop: int) -> None:
    """Add jobs numbered ``start`` to ``stop`` to the list, each stalled, busy
    or queued for long in turn, with the row that lists them on ``page``."""
    long_ago = timezone.now() - dt.timedelta(minutes=20)
    for number in range(start, stop):
        queued = number % 3 == 2
        job = Job.objects.create(
            kind="sync",
            title=f"Job {number:04d}",
            requested_by=owner,
            status=Job.Status.QUEUED if queued else Job.Status.RUNNING,
            started_at=None if queued else long_ago,
            total=1,
        )
        item = JobItem.objects.create(job=job, target=f"target-{number:04d}")
        if number % 3 == 0:
            JobItem.objects.filter(pk=item.pk).update(updated_at=long_ago)
        Job.objects.filter(pk=job.pk).update(created_at=long_ago)
        if page == "fleet_ops:push_list":
            ItemPush.objects.create(
                kind=ItemPush.Kind.BLOCKED,
                value=f"{number:064d}",
                comment="Known bad",
                requested_by=owner,
                job=job,
                undo_job=job,
            )
        elif page == "fleet_ops:drift":
            DriftCheck.objects.create(
                policy_type="threat-protection",
                baseline_label="Base policy",
                requested_by=owner,
                job=job,
            )
        elif page == "fleet_ops:onboarding":
            OnboardingRun.objects.create(
                customer_name=f"Customer {number:04d}", requested_by=owner, job=job
            )


@pytest.mark.parametrize("page", JOB_LISTS)
def test_job_list_query_count_is_constant(
    owner_client, owner, django_assert_num_queries, page
):
    url = reverse(page)
    add_listed_jobs(page, owner, 0, 3)
    small = count_queries(owner_client, url)

    add_listed_jobs(page, owner, 3, 60)
    owner_client.get(url)

    with django_assert_num_queries(small):
        response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="status status-stalled">Stalled</span>' in html
    assert "No worker has started it." in html
