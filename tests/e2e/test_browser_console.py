"""The API console in Chromium."""

import pytest
from django.urls import reverse

from sophos.models import Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import csp_errors_collect, log_in, technician_create
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def tenant(committed_db):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    return Tenant.objects.order_by("name").first()


def _console_open(page, live_server, tenant: Tenant) -> None:
    technician_create("tech", [tenant])
    log_in(page, live_server, reverse("console"), "tech")
    page.get_by_label("Tenant", exact=True).select_option(str(tenant.pk))
    page.get_by_label("Path", exact=True).fill("/endpoint/v1/endpoints")


def test_console_sends_on_first_click(
    live_server,
    browser_page,  # noqa: F811
    tenant,
):
    page = browser_page
    csp_errors = csp_errors_collect(page)
    _console_open(page, live_server, tenant)
    posts: list[str] = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )

    page.get_by_role("button", name="Send request").click()

    result = page.locator("#console-result")
    result.locator(".console-status-line").wait_for()
    assert "GET https://" in result.inner_text()
    assert len(posts) == 1
    assert page.locator("#console-preview").get_by_text("ID header").is_visible()
    assert csp_errors == []


def test_console_sends_on_first_enter(
    live_server,
    browser_page,  # noqa: F811
    tenant,
):
    page = browser_page
    _console_open(page, live_server, tenant)

    page.get_by_label("Path", exact=True).press("Enter")

    result = page.locator("#console-result")
    result.locator(".console-status-line").wait_for()
    assert "/endpoint/v1/endpoints" in result.inner_text()


def test_console_explains_expired_form(
    live_server,
    browser_page,  # noqa: F811
    tenant,
):
    page = browser_page
    csp_errors = csp_errors_collect(page)
    _console_open(page, live_server, tenant)
    page.context.clear_cookies(name="csrftoken")

    page.get_by_role("button", name="Send request").click()

    alert = page.locator("#request-error")
    alert.wait_for()
    assert "This form has expired" in alert.inner_text()
    assert "Reload the page and try again." in alert.inner_text()
    assert csp_errors == []
