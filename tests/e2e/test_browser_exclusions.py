"""An allowed item added and removed through the pages, in headless Chromium."""

import pytest
from django.urls import reverse

from sophos.services import exclusions
from sophos.services.connections import demo_connection_ensure
from tests.e2e.test_browser import browser_page  # noqa: F401
from tests.portal.tenant_pages import simulator_tenant

pytestmark = pytest.mark.browser

SHA256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


def _listed(tenant) -> bool:
    items = exclusions.allowed_items_list(tenant=tenant).items
    return any(item.properties.sha256 == SHA256 for item in items)


def test_it_adds_and_removes_an_allowed_item(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    tenant = simulator_tenant(demo_connection_ensure())
    django_user_model.objects.create_superuser("tech", password="Browser-pass-42")
    page = browser_page
    list_url = live_server.url + reverse("tenants:allowed_items_list", args=[tenant.pk])

    page.goto(list_url)
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", "Browser-pass-42")
    page.click("button[type=submit]")
    page.get_by_role("link", name="Add allowed item").click()
    page.get_by_label("SHA-256 hash").check()
    page.fill("input[name=sha256]", SHA256)
    page.fill("textarea[name=comment]", "Signed build tool")
    page.get_by_role("button", name="Add an allowed item").click()

    page.get_by_text("Added the allowed item").wait_for()
    assert _listed(tenant)

    page.get_by_role("navigation", name="Section", exact=True).get_by_role(
        "link", name="Allowed items"
    ).click()
    page.fill("input[name=q]", SHA256[:16])
    row = page.locator("tr", has=page.get_by_role("link", name=SHA256))
    row.wait_for()
    row.get_by_role("link", name="Delete").click()

    panel = page.locator("#confirm-panel")
    panel.get_by_text("cannot be undone").wait_for()
    assert "Sophos detects or blocks" in panel.inner_text()
    panel.get_by_role("button", name="Delete").click()

    page.get_by_text(f"Deleted the allowed item {SHA256}.").wait_for()
    assert page.get_by_role("link", name=SHA256).count() == 0
    assert not _listed(tenant)
    assert page.url == list_url
