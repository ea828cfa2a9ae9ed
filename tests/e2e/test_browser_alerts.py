"""A bulk alert action in Chromium: the list drops the alerts once its job ends."""

from collections import Counter

import pytest
from django.urls import reverse

from sophos.models import Alert, Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


def _tenant_with_two_alerts() -> tuple[Tenant, str, list[Alert]]:
    """Return a tenant, a severity and two of its alerts that allow acknowledge."""
    counts = Counter(
        (alert.tenant_id, alert.severity)
        for alert in Alert.objects.all()
        if "acknowledge" in alert.allowed_actions
    )
    (tenant_id, severity), count = counts.most_common(1)[0]
    assert count >= 2, "the seeded fleet has no two alerts to act on"
    alerts = [
        alert
        for alert in Alert.objects.filter(tenant_id=tenant_id, severity=severity)
        if "acknowledge" in alert.allowed_actions
    ]
    return Tenant.objects.get(pk=tenant_id), severity, alerts[:2]


def test_bulk_action_removes_alerts_without_reload(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    django_user_model.objects.create_superuser("tech", password="Browser-pass-42")
    tenant, severity, chosen = _tenant_with_two_alerts()
    list_url = reverse("tenant_alerts", args=[tenant.pk]) + f"?severity={severity}"
    page = browser_page

    page.goto(live_server.url + list_url)
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", "Browser-pass-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{list_url}")
    page.evaluate("window.loadedOnce = true")
    for alert in chosen:
        page.check(f"input[name=alerts][value='{alert.pk}']")
    page.select_option("#bulk-action", "acknowledge")
    page.get_by_role("button", name="Apply to selected").click()

    rows = " && ".join(
        f"!document.querySelector('#alert-{alert.pk}')" for alert in chosen
    )
    page.wait_for_function(f"() => {rows}")
    severities = page.locator("#alerts-table tbody .severity").all_inner_texts()
    assert page.evaluate("window.loadedOnce") is True
    assert page.url.endswith(list_url)
    assert set(severities) <= {severity.capitalize()}
    assert not Alert.objects.filter(pk__in=[alert.pk for alert in chosen]).exists()
