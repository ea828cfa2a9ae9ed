"""A blocked item previewed, pushed to three tenants and undone, in Chromium."""

import re

import pytest
from django.urls import reverse

from sophos.models import Tenant
from sophos.services import exclusions
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import PASSWORD, csp_errors_collect, log_in
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser

SHA256 = "7f" * 32
COMMENT = "Ransomware dropper from the phishing wave"


def _hashes(tenant: Tenant) -> list[str]:
    items = exclusions.blocked_items_list(tenant=tenant).items
    return [item.properties.sha256 for item in items]


def _finished_wait(page) -> None:
    page.locator("#push-detail:not([hx-get])").wait_for()


def test_push_blocked_item_and_undo(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    django_user_model.objects.create_superuser("owner", password=PASSWORD)
    had_it, first, second = Tenant.objects.order_by("name")[:3]
    exclusions.blocked_item_create(
        user=None,
        tenant=had_it,
        properties=exclusions.ItemProperties(sha256=SHA256),
        comment="Blocked by hand earlier",
    )
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:push_create"), "owner")
    assert page.get_by_label("Blocked item").is_checked()
    page.get_by_label("Value").fill(SHA256)
    page.get_by_label("Comment").fill(COMMENT)
    page.locator("select[name=tenants]").select_option(
        [str(tenant.pk) for tenant in (had_it, first, second)]
    )
    page.get_by_role("button", name="Preview (dry run)").click()

    _finished_wait(page)
    assert page.locator("h1").inner_text() == "Dry run: Blocked item"
    rows = page.locator("#push-detail tbody tr")
    assert rows.count() == 3
    assert rows.filter(has_text="Would add the blocked item").count() == 2
    assert rows.filter(has_text="Already present").count() == 1
    assert SHA256 not in _hashes(first)
    page.get_by_role("button", name="Push now to these tenants").click()

    page.get_by_role("heading", name="Blocked item", exact=True).wait_for()
    _finished_wait(page)
    rows = page.locator("#push-detail tbody tr")
    assert rows.count() == 3
    present_before = rows.filter(has_text=had_it.display_name)
    assert present_before.locator(".status").inner_text() == "Skipped"
    assert "Already present" in present_before.locator("td").last.inner_text()
    for tenant in (first, second):
        row = rows.filter(has_text=tenant.display_name)
        assert row.locator(".status").inner_text() == "Succeeded"
        assert row.locator("td").last.inner_text() == "Created"
        assert SHA256 in _hashes(tenant)
    page.get_by_role("link", name="Undo the push (2 items)").click()

    confirm = page.locator("#push-undo")
    assert had_it.display_name in confirm.locator("ul").last.inner_text()
    assert "had the item before the push; it stays" in confirm.inner_text()
    confirm.get_by_role("button", name="Delete 2 items").click()

    page.wait_for_url("**/fleet/push/*/")
    _finished_wait(page)
    undo = page.locator("#push-detail .job-progress").last
    assert undo.locator(".status").inner_text() == "Succeeded"
    assert "2 of 2 done" in undo.inner_text()
    rows = page.locator("#push-detail tbody tr")
    for tenant in (first, second):
        row = rows.filter(has_text=tenant.display_name)
        assert row.locator("td").last.inner_text() == "Removed by undo"
        assert SHA256 not in _hashes(tenant)
    assert SHA256 in _hashes(had_it)
    assert page.get_by_role("link", name=re.compile(r"^Undo the push \(")).count() == 0
    assert csp_errors == []
