"""A billing user reads a month's usage and its trend chart in Chromium."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role, UserRole
from sophos.services.billing import billing_usage
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


def _month_before(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def test_billing_month_totals_and_chart(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    user = django_user_model.objects.create_user("accounts", password="Billing-pass-42")
    UserRole.objects.create(user=user, role=Role.BILLING)
    picked = _month_before(_month_before(timezone.localdate()))
    report = billing_usage(year=picked.year, month=picked.month)
    page = browser_page
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto(live_server.url + reverse("billing"))
    page.fill("input[name=username]", "accounts")
    page.fill("input[name=password]", "Billing-pass-42")
    page.click("button[type=submit]")
    page.fill("input[name=month]", picked.strftime("%Y-%m"))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**{reverse('billing_month', args=[picked.year, picked.month])}")

    heading = page.locator("h1").inner_text()
    total = page.locator("#billable-total").inner_text()
    tenant_rows = page.locator("#tenant-totals-table tr.tenant-total")
    first_tenant = tenant_rows.first.locator("th").inner_text()
    assert heading == f"Billing usage, {picked.strftime('%B %Y')}"
    assert int(total.replace(",", "")) == report.billable_total
    assert tenant_rows.count() == len(report.totals_by_tenant)
    assert first_tenant == report.totals_by_tenant[0].tenant_name
    assert page.locator("#product-totals tbody tr").count() == len(
        report.totals_by_product
    )

    first = report.totals_by_tenant[0]
    page.get_by_role("link", name=f"Products of {first.tenant_name}").click()
    products = page.locator("tr.usage-detail:not([hidden]) tbody tr")
    products.first.wait_for()
    assert products.count() == len(
        [row for row in report.rows if row.tenant_id == first.tenant_id]
    )
    page.get_by_role("link", name=f"Hide the products of {first.tenant_name}").click()
    page.wait_for_function(
        "() => !document.querySelector('tr.usage-detail:not([hidden])')"
    )

    chart = page.locator("#billing-chart svg.bar-chart")
    assert chart.is_visible()
    assert chart.locator("rect.chart-bar").count() == 12
    missing_before = chart.locator("rect.chart-bar-missing").count()
    assert missing_before > 0

    page.get_by_role("button", name="Fetch").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#billing-chart rect.chart-bar').length"
        " === 12 && !document.querySelector('#billing-chart rect.chart-bar-missing')"
    )

    heights = [
        float(height)
        for height in page.locator("#billing-chart rect.chart-bar").evaluate_all(
            "bars => bars.map(bar => bar.getAttribute('height'))"
        )
    ]
    assert all(height > 3 for height in heights)
    assert csp_errors == []
