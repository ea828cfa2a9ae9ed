"""Fleet search, the tamper protection board and endpoint hygiene in Chromium."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from sophos.models import Endpoint, Tenant
from sophos.services import mirror_items
from sophos.services.connections import demo_connection_ensure
from sophos.services.endpoints import endpoint_tamper_protection_set
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import (
    PASSWORD,
    csp_errors_collect,
    job_finished_wait,
    log_in,
    technician_create,
)
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def tenants(committed_db):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    return list(Tenant.objects.filter(endpoints_total__gte=2).order_by("name"))


def _first_endpoint(tenant: Tenant) -> Endpoint:
    return tenant.endpoints.order_by("hostname").first()


def test_search_finds_endpoint_and_links_tenant(
    live_server,
    browser_page,  # noqa: F811
    tenants,
):
    mine, other = tenants[0], tenants[1]
    technician_create("tech", [mine])
    endpoint = _first_endpoint(mine)
    hidden = (
        other.endpoints.exclude(hostname__in=mine.endpoints.values("hostname"))
        .order_by("hostname")
        .first()
    )
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:search"), "tech")
    search = page.locator("#fleet-search")
    search.get_by_label("Search").fill(endpoint.hostname)
    search.get_by_role("button", name="Search").click()

    group = page.locator("#search-results section.search-group")
    group.first.wait_for()
    assert group.count() == 1
    assert group.locator("h2 a").inner_text() == mine.display_name
    row_link = group.get_by_role("link", name=endpoint.hostname, exact=True)
    assert row_link.count() == 1
    assert f"q={endpoint.hostname}" in page.url

    search.get_by_label("Search").fill(hidden.hostname)
    search.get_by_role("button", name="Search").click()
    page.get_by_text("Nothing in your tenants matches").wait_for()

    search.get_by_label("Search").fill(endpoint.hostname)
    search.get_by_role("button", name="Search").click()
    page.locator("#search-results").get_by_role("link", name=mine.display_name).click()
    page.wait_for_url(f"**{reverse('tenant_endpoints', args=[mine.pk])}")
    assert page.locator("h1").first.inner_text() == mine.display_name
    assert csp_errors == []


def test_tamper_board_lists_off_and_turns_on(
    live_server,
    browser_page,  # noqa: F811
    tenants,
    django_user_model,
):
    django_user_model.objects.create_superuser("owner", password=PASSWORD)
    endpoint = _first_endpoint(tenants[0])
    endpoint_tamper_protection_set(
        user=None, tenant=tenants[0], endpoint_id=endpoint.pk, enabled=False
    )
    mirror_items.endpoint_tamper_since_update(
        tenant=tenants[0], now=timezone.now() - dt.timedelta(days=3)
    )
    for tenant in Tenant.objects.all():
        mirror_items.global_tamper_state_set(tenant=tenant, enabled=True)
    mirror_items.global_tamper_state_set(tenant=tenants[1], enabled=False)
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:tamper"), "owner")

    tenants_off = page.locator("section[aria-labelledby=tenants-off] tbody tr")
    assert tenants_off.count() == 1
    assert tenants_off.locator("th").inner_text() == tenants[1].display_name
    endpoints_off = page.locator("#tamper-endpoints tbody tr")
    row = endpoints_off.filter(has=page.locator(f"input[value='{endpoint.pk}']"))
    assert row.count() == 1
    assert "3\xa0days" in row.inner_text()

    row.locator("input[name=endpoint_ids]").check()
    page.get_by_role(
        "button", name="Turn tamper protection on for the chosen endpoints"
    ).click()

    job_finished_wait(page)
    items = page.locator("#job-detail tbody tr")
    assert items.count() == 1
    assert endpoint.hostname in items.locator("th").inner_text()
    assert items.locator(".status").inner_text() == "Succeeded"
    assert items.locator("td").nth(2).inner_text() == "Tamper protection on."
    endpoint.refresh_from_db()
    assert endpoint.tamper_protection_enabled is True
    assert csp_errors == []


def test_hygiene_lists_stale_and_duplicates(
    live_server,
    browser_page,  # noqa: F811
    tenants,
    django_user_model,
):
    django_user_model.objects.create_superuser("owner", password=PASSWORD)
    tenant = tenants[0]
    stale = _first_endpoint(tenant)
    old = timezone.now() - dt.timedelta(days=400)
    Endpoint.objects.filter(pk=stale.pk).update(last_seen_at=old)
    twin = Endpoint.objects.create(
        id=uuid.uuid4(),
        tenant=tenant,
        hostname=stale.hostname.upper(),
        type="computer",
        last_seen_at=old - dt.timedelta(days=30),
        synced_at=timezone.now(),
    )
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:hygiene"), "owner")
    page.get_by_label("Not seen for (days)").fill("365")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="Not seen for 365 days").wait_for()

    stale_rows = page.locator("section[aria-labelledby=stale] tbody tr")
    stale_ids = stale_rows.locator("input[name=endpoint_ids]").evaluate_all(
        "boxes => boxes.map(box => box.value)"
    )
    assert str(stale.pk) in stale_ids
    assert str(twin.pk) in stale_ids
    duplicate_rows = page.locator("section[aria-labelledby=duplicates] tbody tr")
    newer = duplicate_rows.filter(has_text=str(stale.pk))
    older = duplicate_rows.filter(has_text=str(twin.pk))
    assert newer.count() == 1
    assert older.count() == 1
    assert "(seen last)" in newer.inner_text()
    assert "(seen last)" not in older.inner_text()
    assert tenant.display_name in older.inner_text()
    assert "days=365" in page.url

    stale_rows.locator(f"input[value='{stale.pk}']").check()
    assert page.get_by_label("Dry run").is_checked()
    page.get_by_role("button", name="Delete the chosen endpoints").click()

    job_finished_wait(page)
    items = page.locator("#job-detail tbody tr")
    assert items.count() == 1
    assert items.locator(".status").inner_text() == "Skipped"
    assert f"Would delete {stale.hostname}" in items.inner_text()
    assert Endpoint.objects.filter(pk=stale.pk).exists()
    assert csp_errors == []
