"""An endpoint isolated from its detail page, in headless Chromium."""

import pytest
from django.urls import reverse

from sophos.models import Endpoint, Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


def test_it_isolates_an_endpoint_with_a_comment(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    django_user_model.objects.create_superuser("tech", password="Browser-pass-42")
    endpoint = (
        Endpoint.objects.filter(isolation_status="notIsolated")
        .order_by("hostname")
        .first()
    )
    tenant = Tenant.objects.get(pk=endpoint.tenant_id)
    page = browser_page

    page.goto(live_server.url + reverse("tenant_endpoints", args=[tenant.pk]))
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", "Browser-pass-42")
    page.click("button[type=submit]")
    page.fill("input[name=q]", endpoint.hostname)
    page.get_by_role("link", name=endpoint.hostname, exact=True).click()

    panel = page.locator("#isolation-panel")
    assert panel.locator("#isolation-status").inner_text() == "Not isolated"
    panel.get_by_label("Comment").fill("Ransomware suspected")
    panel.get_by_role("button", name="Isolate endpoint").click()

    page.get_by_text("Isolated the endpoint.").wait_for()
    panel = page.locator("#isolation-panel")
    assert panel.locator("#isolation-status").inner_text() == "Isolated"
    assert "Ransomware suspected" in panel.inner_text()
    assert panel.get_by_role("button", name="Release from isolation").count() == 1
    endpoint.refresh_from_db()
    assert endpoint.isolation_status == "isolated"
