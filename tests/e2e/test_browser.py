"""A technician's first minutes, in a real headless Chromium."""

import os
import shutil

import pytest
from django.db import connections
from django.urls import reverse

from sophos.models import Alert, Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is missing at {CHROMIUM}; .ci/run installs it.")
        pytest.skip(f"Chromium is missing at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the ORM calls made by the
    # test between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_FLAGS
            )
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
            browser.close()
    finally:
        # ORM calls made while Playwright's loop runs open their own
        # connection; close it so the test database can be dropped.
        connections.close_all()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_it_logs_in_opens_a_tenant_and_acts_on_an_alert(
    committed_db, live_server, browser_page, django_user_model
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    django_user_model.objects.create_superuser("tech", password="Browser-pass-42")
    alert = next(a for a in Alert.objects.all() if "acknowledge" in a.allowed_actions)
    tenant = Tenant.objects.get(pk=alert.tenant_id)
    page = browser_page

    page.goto(live_server.url + reverse("fleet"))
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", "Browser-pass-42")
    page.click("button[type=submit]")
    page.get_by_role("link", name=tenant.display_name).first.click()
    page.get_by_role("link", name="Alerts").first.click()
    row = page.locator("tr", has=page.locator(f"form[action$='{alert.pk}/action/']"))
    row.get_by_role("button", name="Acknowledge").click()

    page.wait_for_function(
        "() => !document.querySelector(\"form[action$='"
        + str(alert.pk)
        + "/action/'] button[value=acknowledge]\")"
    )
    assert not Alert.objects.filter(pk=alert.pk).exists()
    assert "/tenants/" in page.url
