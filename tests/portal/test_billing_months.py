import csv
import io
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from portal.partner import billing as billing_months
from portal.partner.charts import bar_chart, nice_maximum
from portal.partner.models import BillingMonth
from sophos.models import Job, JobItem, Tenant
from sophos.services.billing import BillingRow, billing_report
from tests.portal.factories import make_connection, make_user
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


@pytest.fixture
def open_usage(db):
    """Mock Sophos's usage of the open month: one tenant, one product."""
    make_connection()
    today = timezone.localdate()
    row = BillingRow(
        tenant_id="acct-1",
        tenant_name="Open Month Ltd",
        product_code="CIXA",
        product_description="Intercept X Advanced",
        product_group="endpoint",
        sku="CIXA-1",
        billable_quantity=5,
        actual_quantity=5,
    )
    report = billing_report(year=today.year, month=today.month, rows=[row])
    with mock.patch(
        "sophos.services.billing.billing_usage", autospec=True, return_value=report
    ) as usage:
        yield usage


def test_open_month_is_kept_as_incomplete(billing_client, open_usage):
    today = timezone.localdate()

    html = billing_client.get(_url(today)).content.decode()

    kept = BillingMonth.objects.get(year=today.year, month=today.month)
    assert not kept.complete
    assert "is still open, so its usage can change" in html
    assert "Fetch again" in html


def test_open_month_is_fetched_again_once_outdated(
    billing_client, open_usage, settings
):
    today = timezone.localdate()
    billing_client.get(_url(today))
    billing_client.get(_url(today))
    assert open_usage.call_count == 1

    BillingMonth.objects.update(
        fetched_at=timezone.now()
        - timezone.timedelta(seconds=settings.BILLING_OPEN_MONTH_MAX_AGE + 1)
    )
    billing_client.get(_url(today))

    assert open_usage.call_count == 2
    assert BillingMonth.objects.count() == 1


def test_refresh_fetches_open_month_but_not_closed_one(billing_client, open_usage):
    today = timezone.localdate()
    closed = _previous_month()
    billing_client.get(_url(today))
    BillingMonth.objects.create(
        connection=BillingMonth.objects.get().connection,
        year=closed.year,
        month=closed.month,
    )

    open_reply = billing_client.post(
        reverse("billing_month_refresh", args=[today.year, today.month])
    )
    billing_client.post(
        reverse("billing_month_refresh", args=[closed.year, closed.month])
    )

    assert open_reply.status_code == 302
    assert open_usage.call_count == 2
    assert BillingMonth.objects.count() == 2


def test_closed_month_kept_while_open_is_fetched_again(billing_client, month):
    # The month before last, which has closed in every time zone even on the
    # first day of this month.
    month = (month - timezone.timedelta(days=1)).replace(day=1)
    billing_months.billing_month_get(year=month.year, month=month.month)
    BillingMonth.objects.update(complete=False, billable_total=1)

    billing_client.get(_url(month))

    kept = BillingMonth.objects.get()
    assert kept.complete
    assert kept.billable_total > 1


def test_month_csv_export(billing_client, month):
    kept = billing_months.billing_month_get(year=month.year, month=month.month)

    response = billing_client.get(_url(month, format="csv"))

    content = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["Tenant", "Tenant id", "Product"]
    assert len(rows) == kept.row_count + 1
    assert sum(int(row[6]) for row in rows[1:]) == kept.billable_total


def test_csv_neutralises_formula_cells(billing_client, month):
    tenant = Tenant.objects.order_by("name").first()
    tenant.customer_name = "=HYPERLINK(1)"
    tenant.save(update_fields=["customer_name"])

    response = billing_client.get(_url(month, format="csv"))

    content = b"".join(response.streaming_content).decode()
    names = [row[0] for row in csv.reader(io.StringIO(content))]
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


def test_bar_chart_ticks_of_empty_months_differ():
    points = [billing_months.TrendPoint(year=2020, month=1, total=0)]

    chart = bar_chart(points)

    labels = [tick.label for tick in chart.ticks]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (7, 10), (12, 20), (240, 250), (999, 1000)]
)
def test_nice_maximum(value, expected):
    assert nice_maximum(value) == expected


def _synthetic_month(month, tenants):
    """Keep ``month`` with the given (account id, name, billable) tenants, two
    products each, through the page's own store."""
    make_connection()
    rows = [
        BillingRow(
            tenant_id=account_id,
            tenant_name=name,
            product_code=code,
            product_description=f"Product {code}",
            product_group="endpoint",
            sku=f"{code}-1",
            billable_quantity=billable,
            actual_quantity=billable + 1,
        )
        for account_id, name, billable in tenants
        for code in ("CIXA", "SVRC")
    ]
    report = billing_report(year=month.year, month=month.month, rows=rows)
    with mock.patch(
        "sophos.services.billing.billing_usage", autospec=True, return_value=report
    ):
        return billing_months.billing_month_get(year=month.year, month=month.month)


@pytest.fixture
def big_month(db):
    month = _previous_month()
    tenants = [
        (f"acct-{number:03d}", f"Customer {number:03d}", number)
        for number in range(120)
    ]
    _synthetic_month(month, tenants)
    return month


def _shown_names(response):
    return [total.shown_name for total in response.context["page"]]


def test_tenant_totals_are_paged(billing_client, big_month):
    first = billing_client.get(_url(big_month))
    last = billing_client.get(_url(big_month, page=3))

    html = first.content.decode()
    assert _shown_names(first)[0] == "Customer 000"
    assert len(_shown_names(first)) == 50
    assert _shown_names(last) == [f"Customer {n:03d}" for n in range(100, 120)]
    assert "120 tenants, showing 1–50" in html
    assert html.count('class="tenant-total"') == 50
    assert "240 usage rows" in html


def test_tenant_totals_sort_by_billable(billing_client, big_month):
    response = billing_client.get(_url(big_month, sort="-billable"))

    assert _shown_names(response)[:2] == ["Customer 119", "Customer 118"]


def test_tenant_totals_search_keeps_sort_in_partial(billing_client, big_month):
    response = billing_client.get(
        _url(big_month, q="customer%2011", sort="-name"),
        headers={"HX-Request": "true", "HX-Target": "tenant-totals"},
    )

    html = response.content.decode()
    assert html.strip().startswith('<div id="tenant-totals">')
    assert _shown_names(response) == [f"Customer {n:03d}" for n in range(119, 109, -1)]
    assert 'id="tenant-totals-sort" value="-name"' in html


def test_tenant_totals_search_without_match(billing_client, big_month):
    html = billing_client.get(_url(big_month, q="nobody")).content.decode()

    assert "No tenant matches “nobody”." in html


def test_tenant_products_shown_on_demand(billing_client, big_month):
    url = reverse(
        "billing_tenant_usage", args=[big_month.year, big_month.month, "acct-007"]
    )

    partial = billing_client.get(url, headers={"HX-Request": "true"})
    hidden = billing_client.get(url + "?show=0", headers={"HX-Request": "true"})
    page = billing_client.get(url)

    row = partial.content.decode().strip()
    assert row.startswith('<tr id="usage-')
    assert "Product CIXA" in row
    assert "Product SVRC" in row
    assert "Hide the products of Customer 007" in row
    assert " hidden>" in hidden.content.decode()
    assert "Customer 007: usage in" in page.content.decode()
    assert "<html" in page.content.decode()


def test_tenant_products_of_unknown_tenant_is_404(billing_client, big_month):
    url = reverse(
        "billing_tenant_usage", args=[big_month.year, big_month.month, "acct-999"]
    )

    assert billing_client.get(url).status_code == 404


def test_tenant_totals_show_current_portal_name(billing_client, month):
    tenant = Tenant.objects.order_by("name").first()
    billing_months.billing_month_get(year=month.year, month=month.month)
    tenant.customer_name = "Renamed Customer Ltd"
    tenant.save(update_fields=["customer_name"])

    response = billing_client.get(_url(month, q="renamed"))

    assert _shown_names(response) == ["Renamed Customer Ltd"]


def test_trend_reads_totals_without_rows(billing_client, big_month):
    points = billing_months.billing_trend(year=big_month.year, month=big_month.month)

    assert points[-1].total == sum(2 * n for n in range(120))
    assert [point.total for point in points[:-1]] == [None] * 11


def _fetch_job(owner, month):
    points = [billing_months.TrendPoint(year=month.year, month=month.month, total=None)]
    return billing_months.billing_months_fetch_start(user=owner, months=points)


def test_fetch_job_delivered_twice_runs_once(db, owner, open_usage):
    job = _fetch_job(owner, _previous_month())
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)

    billing_months.billing_months_fetch_run(job_id=job.pk)

    open_usage.assert_not_called()
    assert job.items.get().status == JobItem.Status.QUEUED


def test_fetch_job_ends_failed_on_internal_error(db, owner, open_usage):
    open_usage.side_effect = RuntimeError("unexpected")
    job = _fetch_job(owner, _previous_month())

    billing_months.billing_months_fetch_run(job_id=job.pk)

    job.refresh_from_db()
    item = job.items.get()
    assert job.status == Job.Status.FAILED
    assert job.finished
    assert item.status == JobItem.Status.FAILED
    assert item.message == "Internal error: unexpected"


def test_bar_chart_draws_negative_month_flat():
    points = [
        billing_months.TrendPoint(year=2025, month=1, total=-40),
        billing_months.TrendPoint(year=2025, month=2, total=100),
    ]

    chart = bar_chart(points)

    negative, positive = chart.bars
    assert negative.height == 0
    assert negative.y == chart.baseline
    assert negative.title == "January 2025: -40 billable units"
    assert positive.height > 0


def test_trend_fetches_no_month_before_2000(db):
    points = billing_months.billing_trend(year=2000, month=3)

    missing = billing_months.missing_months(points)

    assert [point.key for point in missing] == ["2000-01", "2000-02", "2000-03"]


def test_fetch_twice_reuses_the_unfinished_job(billing_client, month):
    url = reverse("billing_months_fetch", args=[month.year, month.month])

    first = billing_client.post(url, headers={"HX-Request": "true"})
    second = billing_client.post(url, headers={"HX-Request": "true"})

    job = Job.objects.get(kind=billing_months.FETCH_JOB_KIND)
    assert f'id="job-{job.pk}-progress"' in first.content.decode()
    assert f'id="job-{job.pk}-progress"' in second.content.decode()


def test_fetch_of_other_months_starts_a_new_job(billing_client, month):
    earlier = month.replace(year=month.year - 1)

    for shown in (month, earlier):
        billing_client.post(
            reverse("billing_months_fetch", args=[shown.year, shown.month])
        )

    assert Job.objects.filter(kind=billing_months.FETCH_JOB_KIND).count() == 2


def test_fetch_ignores_job_older_than_task_timeout(billing_client, month, settings):
    url = reverse("billing_months_fetch", args=[month.year, month.month])
    billing_client.post(url)
    stale = timezone.now() - timezone.timedelta(
        seconds=settings.Q_CLUSTER["timeout"] + 1
    )
    Job.objects.update(status=Job.Status.RUNNING, created_at=stale)

    billing_client.post(url)

    assert Job.objects.filter(kind=billing_months.FETCH_JOB_KIND).count() == 2
