import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from portal.partner import billing as billing_months
from portal.partner.charts import bar_chart, nice_maximum
from portal.partner.models import BillingMonth
from sophos.models import Job, JobItem, Tenant
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_requests

pytestmark = pytest.mark.django_db


def _previous_month():
    today = timezone.localdate().replace(day=1)
    return (today - timezone.timedelta(days=1)).replace(day=1)


@pytest.fixture
def month(synced_fleet):
    """The last closed month, which the seeded simulator bills."""
    return _previous_month()


@pytest.fixture
def billing_client(client):
    client.force_login(make_user(roles=[Role.BILLING]))
    return client


def _url(month, **query):
    url = reverse("billing_month", args=[month.year, month.month])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _usage_calls(urls):
    return [url for url in urls if "/partner/v1/billing/usage/" in url.path]


def test_month_page_shows_totals_and_tenants(billing_client, month):
    tenant = Tenant.objects.order_by("name").first()

    response = billing_client.get(_url(month))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Totals per product" in html
    assert "Totals per tenant" in html
    assert tenant.display_name in html
    assert 'id="billable-total"' in html
    assert "<svg" in html


def test_closed_month_is_kept_and_not_fetched_again(billing_client, month, monkeypatch):
    urls = record_requests(monkeypatch)

    first = billing_client.get(_url(month)).content.decode()
    calls_after_first = len(_usage_calls(urls))
    second = billing_client.get(_url(month)).content.decode()

    assert calls_after_first >= 1
    assert len(_usage_calls(urls)) == calls_after_first
    assert BillingMonth.objects.filter(year=month.year, month=month.month).count() == 1
    assert first.count("<tr>") == second.count("<tr>")


def test_open_month_is_not_kept(billing_client, synced_fleet):
    today = timezone.localdate()

    response = billing_client.get(_url(today))

    assert response.status_code == 200
    assert not BillingMonth.objects.filter(year=today.year, month=today.month).exists()


def test_month_csv_export(billing_client, month):
    report = billing_months.billing_month_report(year=month.year, month=month.month)

    response = billing_client.get(_url(month, format="csv"))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["Tenant", "Tenant id", "Product"]
    assert len(rows) == len(report.rows) + 1
    assert sum(int(row[6]) for row in rows[1:]) == report.billable_total


def test_csv_neutralises_formula_cells(billing_client, month):
    tenant = Tenant.objects.order_by("name").first()
    tenant.customer_name = "=HYPERLINK(1)"
    tenant.save(update_fields=["customer_name"])

    response = billing_client.get(_url(month, format="csv"))

    names = [row[0] for row in csv.reader(io.StringIO(response.content.decode()))]
    assert "'=HYPERLINK(1)" in names
    assert "=HYPERLINK(1)" not in names


def test_chart_partial_for_htmx(billing_client, month):
    response = billing_client.get(
        _url(month), headers={"HX-Request": "true", "HX-Target": "billing-chart"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="billing-chart"')
    assert html.count('class="chart-bar') == 12


def test_chart_marks_months_not_kept(billing_client, month):
    html = billing_client.get(_url(month)).content.decode()

    assert html.count("chart-bar-missing") == 11
    assert "Fetch 11 missing months" in html
    assert ' style="' not in html.split('id="billing-chart"')[1]


def test_fetch_job_keeps_missing_months(
    billing_client, month, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = billing_client.post(
            reverse("billing_months_fetch", args=[month.year, month.month]),
            headers={"HX-Request": "true"},
        )

    job = Job.objects.get(kind=billing_months.FETCH_JOB_KIND)
    assert f'id="job-{job.pk}-progress"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.items.filter(status=JobItem.Status.SUCCEEDED).count() == 12
    assert BillingMonth.objects.count() == 12
    html = billing_client.get(_url(month)).content.decode()
    assert "chart-bar-missing" not in html


def test_fetch_job_skips_months_without_usage(synced_fleet, owner):
    months = [billing_months.TrendPoint(year=2001, month=1, total=None)]

    job = billing_months.billing_months_fetch_start(user=owner, months=months)
    billing_months.billing_months_fetch_run(job_id=job.pk)

    job.refresh_from_db()
    item = job.items.get()
    assert item.status == JobItem.Status.SKIPPED
    assert job.status == Job.Status.SUCCEEDED


def test_fetch_without_htmx_redirects_to_job(billing_client, month):
    response = billing_client.post(
        reverse("billing_months_fetch", args=[month.year, month.month])
    )

    job = Job.objects.get(kind=billing_months.FETCH_JOB_KIND)
    assert response.status_code == 302
    assert response["Location"] == reverse("job_detail", args=[job.pk])


def test_technician_cannot_see_billing(client, month):
    client.force_login(make_user(roles=[Role.TECHNICIAN]))

    page = client.get(_url(month))
    fetch = client.post(reverse("billing_months_fetch", args=[month.year, month.month]))

    assert page.status_code == 403
    assert fetch.status_code == 403
    assert not Job.objects.filter(kind=billing_months.FETCH_JOB_KIND).exists()


def test_bar_chart_scales_to_largest_month():
    points = [
        billing_months.TrendPoint(year=2025, month=1, total=50),
        billing_months.TrendPoint(year=2025, month=2, total=100),
        billing_months.TrendPoint(year=2025, month=3, total=None),
    ]

    chart = bar_chart(points, current_key="2025-02")

    first, second, missing = chart.bars
    assert second.height == pytest.approx(2 * first.height, abs=0.2)
    assert second.current
    assert missing.missing
    assert missing.height == 3
    assert chart.ticks[-1].label == "100"


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (7, 10), (12, 20), (240, 250), (999, 1000)]
)
def test_nice_maximum(value, expected):
    assert nice_maximum(value) == expected
