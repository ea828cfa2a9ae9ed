"""Bulk isolation across two tenants, run by a real cluster, in Chromium."""

import pytest
from django.urls import reverse
from django_q.conf import Conf

from sophos.models import Endpoint, Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.endpoints import endpoint_get
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import (
    csp_errors_collect,
    job_finished_wait,
    log_in,
    technician_create,
)
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser

REASON = "Ransomware beaconing seen by the SOC"


def _not_isolated(tenant: Tenant) -> Endpoint:
    return (
        tenant.endpoints.filter(isolation_status="notIsolated")
        .order_by("hostname")
        .first()
    )


def test_bulk_isolation_across_two_tenants(
    cluster,
    live_server,
    browser_page,  # noqa: F811
    monkeypatch,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    # The cluster process runs the job, so the page has to poll for progress.
    monkeypatch.setattr(Conf, "SYNC", False)
    first, second = Tenant.objects.filter(endpoints_total__gte=2).order_by("name")[:2]
    technician_create("tech", [first, second])
    chosen = [_not_isolated(first), _not_isolated(second)]
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:isolation"), "tech")
    page.get_by_label("Isolation", exact=True).select_option("notIsolated")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**isolation=notIsolated**")
    for endpoint in chosen:
        page.locator(f"#isolation-picker input[value='{endpoint.pk}']").check()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Review").click()

    page.get_by_role("heading", name="Isolate 2 endpoints").wait_for()
    listed = page.locator("section[aria-labelledby=chosen] li")
    assert listed.count() == 2
    for endpoint in chosen:
        assert listed.filter(has_text=endpoint.hostname).count() == 1
    assert page.get_by_role("heading", name=first.display_name).count() == 1
    assert page.get_by_role("heading", name=second.display_name).count() == 1
    page.get_by_role("button", name="Isolate now").click()

    page.get_by_text("Job queued: Isolate endpoints, 2 items.").wait_for()
    job_finished_wait(page)
    progress = page.locator("#job-detail .job-progress")
    assert progress.locator(".status").inner_text() == "Succeeded"
    assert "2 of 2 done" in progress.inner_text()
    assert progress.locator("progress").get_attribute("value") == "2"
    rows = page.locator("#job-detail tbody tr")
    assert rows.count() == 2
    for endpoint in chosen:
        row = rows.filter(has_text=endpoint.hostname)
        cells = row.locator("td")
        assert cells.nth(0).inner_text() == "Succeeded"
        assert cells.nth(1).inner_text() == "Isolated"
        assert cells.nth(2).inner_text() == "Isolated."
    for endpoint, tenant in zip(chosen, (first, second), strict=True):
        isolation = endpoint_get(tenant=tenant, endpoint_id=endpoint.pk).isolation
        assert isolation.enabled is True
        assert isolation.comment == REASON
    assert csp_errors == []
