"""The main pages run the same SQL queries for a small fleet and a large one.

Each page is requested over a mirror of 2 tenants and over a mirror of 60
tenants with 120 endpoints and 120 alerts each, which is more than one page
of each list. Both must run exactly the page's pinned number of queries. A
page whose count changes is doing work per row: a missing
``select_related``, a query in a template loop, or a counter computed
instead of read.
"""

import datetime as dt
import uuid
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.partner.models import BillingMonth
from sophos.models import Alert, Endpoint, Tenant
from tests.portal.factories import make_connection

pytestmark = pytest.mark.django_db

SIZES = {"small": (2, 3), "large": (60, 120)}

# Session, user and roles come first, then the page's own queries. The last
# three write the session back (SESSION_SAVE_EVERY_REQUEST).
QUERIES = {
    "fleet": 9,
    "endpoints": 9,
    "endpoints, next page": 9,
    "alerts": 11,
    "alerts, next page": 11,
    "billing": 11,
}


def previous_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def build_fleet(tenants: int, rows: int) -> Tenant:
    """Write a mirror of ``tenants`` tenants with ``rows`` endpoints and alerts each.

    Returns the tenant whose lists the tests page through.
    """
    connection = make_connection()
    now = timezone.now()
    mirror = Tenant.objects.bulk_create(
        Tenant(
            id=uuid.uuid4(),
            connection=connection,
            name=f"Tenant {number:04d}",
            api_host="https://api-eu01.central.sophos.com",
            endpoints_total=rows,
            endpoints_good=rows,
            alerts_high=rows,
            sync_status=Tenant.SyncStatus.OK,
            last_synced_at=now,
        )
        for number in range(tenants)
    )
    for tenant in mirror:
        Endpoint.objects.bulk_create(
            Endpoint(
                id=uuid.uuid4(),
                tenant=tenant,
                hostname=f"host-{number:04d}",
                type="computer",
                health="good",
                synced_at=now,
            )
            for number in range(rows)
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
            for number in range(rows)
        )
    month = previous_month()
    BillingMonth.objects.create(
        connection=connection,
        year=month.year,
        month=month.month,
        rows=[
            {
                "tenant_id": str(tenant.pk),
                "tenant_name": tenant.name,
                "product_code": "CIXA",
                "product_description": "Intercept X Advanced",
                "product_group": "endpoint",
                "sku": "CIXA-100",
                "billable_quantity": rows,
                "actual_quantity": rows,
            }
            for tenant in mirror
        ],
    )
    return mirror[-1]


def next_page(owner_client, url: str) -> str:
    """Return the URL of the page after the first, which is empty in a small list."""
    page = owner_client.get(url).context["page"]
    return f"{url}?{urlencode({'after': page.next_cursor, 'page': 2})}"


def page_urls(owner_client, tenant: Tenant) -> dict[str, str]:
    month = previous_month()
    endpoints = reverse("tenant_endpoints", args=[tenant.pk])
    alerts = reverse("tenant_alerts", args=[tenant.pk])
    return {
        "fleet": reverse("fleet"),
        "endpoints": endpoints,
        "endpoints, next page": next_page(owner_client, endpoints),
        "alerts": alerts,
        "alerts, next page": next_page(owner_client, alerts),
        "billing": reverse("billing_month", args=[month.year, month.month]),
    }


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("page", QUERIES)
def test_page_query_count_is_constant(
    owner_client, django_assert_num_queries, size, page
):
    tenants, rows = SIZES[size]
    tenant = build_fleet(tenants, rows)
    url = page_urls(owner_client, tenant)[page]
    owner_client.get(url)

    with django_assert_num_queries(QUERIES[page]):
        response = owner_client.get(url)

    assert response.status_code == 200
