"""Billing pages against odd Sophos data, odd requests and odd timing."""

import csv
import datetime
import io
import re
import threading
import uuid
from unittest import mock

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from portal.partner import billing as billing_months
from portal.partner.models import BillingMonth, BillingTenantTotal
from sophos.errors import NotFound, Unavailable
from sophos.models import Job, Tenant
from sophos.services.billing import BillingRow, billing_report
from tests.portal.factories import make_connection, make_tenant, make_user

pytestmark = pytest.mark.django_db

YEAR, MONTH = 2025, 3
MONTH_URL = reverse("billing_month", args=[YEAR, MONTH])


@pytest.fixture
def billing_client(client):
    client.force_login(make_user(roles=[Role.BILLING]))
    return client


def _row(account_id, name="Contoso", code="CIXA", billable=1, actual=1):
    return BillingRow(
        tenant_id=account_id,
        tenant_name=name,
        product_code=code,
        product_description=f"Product {code}",
        product_group="endpoint",
        sku=f"{code}-1",
        billable_quantity=billable,
        actual_quantity=actual,
    )


def _keep(rows, year=YEAR, month=MONTH):
    """Keep the month with ``rows`` through the page's own store."""
    if not BillingMonth.objects.exists():
        make_connection()
    report = billing_report(year=year, month=month, rows=rows)
    with mock.patch(
        "sophos.services.billing.billing_usage", autospec=True, return_value=report
    ):
        return billing_months.billing_month_get(year=year, month=month)


def _usage_url(account_id):
    return reverse("billing_tenant_usage", args=[YEAR, MONTH, account_id])


# -- account ids ---------------------------------------------------------------


@pytest.mark.parametrize("account_id", ["a/b", "a.b", "a?b", "a%b", "a#b", "ü-1"])
def test_odd_account_id_links_to_its_products(billing_client, account_id):
    _keep([_row(account_id, name="Odd Ltd")])

    page = billing_client.get(MONTH_URL)
    usage = billing_client.get(_usage_url(account_id))

    assert page.status_code == 200
    assert f'href="{_usage_url(account_id)}"' in page.content.decode()
    assert usage.status_code == 200
    assert usage.context["total"].account_id == account_id


def test_percent_encoded_slash_finds_the_account(billing_client):
    _keep([_row("a/b", name="Slash Ltd")])

    response = billing_client.get(
        reverse("billing_month", args=[YEAR, MONTH]) + "tenants/a%2Fb/"
    )

    assert response.status_code == 200
    assert response.context["total"].account_id == "a/b"


def test_row_without_account_id_is_shown_without_link(billing_client):
    _keep([_row("", name="No account id"), _row("acct-2", name="Fabrikam")])

    response = billing_client.get(MONTH_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "No account id" in html
    assert html.count('aria-label="Products of') == 1


@pytest.mark.parametrize("account_id", ["a?b", "a%b", "a#b", "a b"])
def test_hide_link_keeps_account_id_encoded(billing_client, account_id):
    _keep([_row(account_id, name="Odd Ltd")])

    response = billing_client.get(
        _usage_url(account_id), headers={"HX-Request": "true"}
    )

    links = re.findall(r'href="([^"]*)"', response.content.decode())
    assert links == [_usage_url(account_id) + "?show=0"]


def test_account_name_with_html_is_escaped(billing_client):
    _keep([_row("acct-1", name='<img src=x onerror="alert(1)">')])

    page = billing_client.get(MONTH_URL).content.decode()
    usage = billing_client.get(_usage_url("acct-1")).content.decode()

    for html in (page, usage):
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


# -- malformed Sophos replies ------------------------------------------------------


def _page_with_items(client, items):
    """Return the month page while Sophos lists ``items`` as the month's usage."""
    with mock.patch(
        "sophos.client.SophosClient.billing_usage",
        autospec=True,
        return_value=iter(items),
    ):
        return client.get(MONTH_URL)


def _item(**fields):
    return {"accountId": "acct-1", "productCode": "CIXA", **fields}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("not an object", "row 2 is not a JSON object"),
        (None, "row 2 is not a JSON object"),
        (_item(billableQuantity="inf"), "invalid billableQuantity 'inf'"),
        (_item(billableQuantity="1e400"), "invalid billableQuantity '1e400'"),
        (_item(billableQuantity=10**30), f"invalid billableQuantity {10**30}"),
        (_item(actualQuantity="many"), "invalid actualQuantity 'many'"),
        (_item(billableQuantity=True), "invalid billableQuantity True"),
        (_item(accountId={"id": 1}), "invalid accountId {'id': 1}"),
    ],
)
def test_malformed_usage_is_not_kept(billing_client, demo_connection, item, expected):
    response = _page_with_items(billing_client, [_item(billableQuantity=3), item])

    assert response.status_code == 200
    assert "could not be fetched" in response.content.decode()
    assert expected in response.context["error"].message
    assert not BillingMonth.objects.exists()


def test_unusual_quantities_are_kept(billing_client, demo_connection):
    items = [
        _item(accountId="a", billableQuantity=-3, actualQuantity=-3),
        _item(accountId="b", billableQuantity="7", actualQuantity=2**31 - 1),
        _item(accountId="c", billableQuantity=2.9),
        _item(accountId="d", billableQuantity=None, actualQuantity=""),
        _item(accountId="e"),
    ]

    response = _page_with_items(billing_client, items)

    kept = BillingMonth.objects.get()
    quantities = dict(kept.usage.values_list("account_id", "billable_quantity"))
    assert response.status_code == 200
    assert quantities == {"a": -3, "b": 7, "c": 2, "d": 0, "e": 0}
    assert kept.billable_total == 6
    assert kept.actual_total == 2**31 - 1 - 3


def test_usage_without_account_id_is_kept(billing_client, demo_connection):
    items = [_item(accountId=None, billableQuantity=4), _item(billableQuantity=1)]

    response = _page_with_items(billing_client, items)

    kept = BillingMonth.objects.get()
    assert response.status_code == 200
    assert kept.billable_total == 5
    assert kept.tenant_count == 2
    assert "No account id" in response.content.decode()


# -- CSV export --------------------------------------------------------------------


def _csv_rows(response):
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


def test_csv_keeps_negative_quantities_as_numbers(billing_client):
    _keep([_row("acct-1", billable=-3, actual=-4)])

    response = billing_client.get(MONTH_URL, {"format": "csv"})

    header, row = _csv_rows(response)
    assert row[header.index("Billable quantity")] == "-3"
    assert row[header.index("Actual quantity")] == "-4"


def test_csv_neutralises_every_text_column(billing_client):
    row = BillingRow(
        tenant_id="-acct",
        tenant_name="=HYPERLINK(1)",
        product_code="+CIXA",
        product_description="@SUM(A1)",
        product_group="\tendpoint",
        sku="=1+1",
        billable_quantity=1,
        actual_quantity=1,
    )
    _keep([row])

    response = billing_client.get(MONTH_URL, {"format": "csv"})

    _, cells = _csv_rows(response)
    assert response.streaming
    assert cells[:6] == [
        "'=HYPERLINK(1)",
        "'-acct",
        "'@SUM(A1)",
        "'+CIXA",
        "'=1+1",
        "'\tendpoint",
    ]


# -- the month boundary --------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """A settable ``timezone.now``; ``clock[0]`` is the current UTC time."""
    now = [datetime.datetime(2025, 3, 15, tzinfo=datetime.UTC)]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    return now


def _utc(*parts):
    return datetime.datetime(*parts, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("time_zone", "now", "closed"),
    [
        # Local time is already April, but March has not ended everywhere.
        ("Pacific/Kiritimati", _utc(2025, 3, 31, 11), False),
        ("UTC", _utc(2025, 4, 1, 1), False),
        ("America/Los_Angeles", _utc(2025, 4, 1, 3), False),
        # March has ended in every time zone.
        ("Pacific/Kiritimati", _utc(2025, 4, 1, 12), True),
        ("America/Los_Angeles", _utc(2025, 4, 1, 12), True),
    ],
)
def test_month_closes_once_ended_everywhere(settings, clock, time_zone, now, closed):
    settings.TIME_ZONE = time_zone
    clock[0] = now

    kept = _keep([_row("acct-1")])

    assert billing_months.month_closed(YEAR, MONTH) is closed
    assert kept.complete is closed


def test_month_kept_early_is_fetched_again_once_closed(settings, clock):
    settings.TIME_ZONE = "Pacific/Kiritimati"
    clock[0] = _utc(2025, 3, 31, 11)
    _keep([_row("acct-1", billable=5)])

    clock[0] = _utc(2025, 4, 1, 12)
    kept = _keep([_row("acct-1", billable=7)])

    assert kept.complete
    assert kept.billable_total == 7


def test_month_closing_during_fetch_stays_incomplete(clock):
    make_connection()
    clock[0] = _utc(2025, 4, 1, 11, 59)
    report = billing_report(year=YEAR, month=MONTH, rows=[_row("acct-1")])

    def fetch(**kwargs):
        clock[0] = _utc(2025, 4, 1, 12, 1)
        return report

    with mock.patch("sophos.services.billing.billing_usage", side_effect=fetch):
        kept = billing_months.billing_month_get(year=YEAR, month=MONTH)

    assert not kept.complete
    assert billing_months.month_outdated(kept)


# -- tenant names ------------------------------------------------------------------


def _shown_names(response):
    return [total.shown_name for total in response.context["page"]]


def test_tenant_mirrored_after_month_shows_its_name(billing_client):
    account_id = str(uuid.uuid4())
    _keep([_row(account_id, name=account_id), _row("acct-2", name="Zeta Ltd")])
    make_tenant(id=uuid.UUID(account_id), name="Contoso", customer_name="Alpha Ltd")

    searched = billing_client.get(MONTH_URL, {"q": "alpha"})
    by_name = billing_client.get(MONTH_URL, {"sort": "name"})
    usage = billing_client.get(_usage_url(account_id))
    export = billing_client.get(MONTH_URL, {"format": "csv"})

    assert _shown_names(searched) == ["Alpha Ltd"]
    assert _shown_names(by_name) == ["Alpha Ltd", "Zeta Ltd"]
    assert "Alpha Ltd: usage in March 2025" in usage.content.decode()
    assert [row[0] for row in _csv_rows(export)[1:]] == ["Alpha Ltd", "Zeta Ltd"]


def test_deleted_tenant_shows_reported_name(billing_client):
    tenant = make_tenant(name="Contoso", customer_name="Alpha Ltd")
    _keep([_row(str(tenant.pk), name="Contoso at fetch")])

    Tenant.objects.filter(pk=tenant.pk).delete()
    after_delete = billing_client.get(MONTH_URL)
    make_tenant(id=tenant.pk, name="Contoso", customer_name="Back Again Ltd")
    after_return = billing_client.get(MONTH_URL)

    assert after_delete.status_code == 200
    assert _shown_names(after_delete) == ["Contoso at fetch"]
    assert _shown_names(after_return) == ["Back Again Ltd"]
    assert BillingTenantTotal.objects.get().account_name == "Contoso at fetch"


def test_renamed_tenant_sorts_by_new_name(billing_client):
    first = make_tenant(name="Aaa Ltd")
    second = make_tenant(name="Bbb Ltd")
    _keep([_row(str(first.pk), name="Aaa Ltd"), _row(str(second.pk), name="Bbb Ltd")])

    Tenant.objects.filter(pk=first.pk).update(customer_name="Zzz Ltd")
    ascending = billing_client.get(MONTH_URL, {"sort": "name"})
    descending = billing_client.get(MONTH_URL, {"sort": "-name"})

    assert _shown_names(ascending) == ["Bbb Ltd", "Zzz Ltd"]
    assert _shown_names(descending) == ["Zzz Ltd", "Bbb Ltd"]


# -- Sophos failing while a copy is kept -------------------------------------------


@pytest.fixture
def outdated_open_month(settings):
    """Keep this month, open, with a copy older than the configured age."""
    today = timezone.localdate()
    kept = _keep([_row("acct-1", name="Kept Ltd", billable=5)], today.year, today.month)
    age = timezone.timedelta(seconds=settings.BILLING_OPEN_MONTH_MAX_AGE + 60)
    BillingMonth.objects.filter(pk=kept.pk).update(fetched_at=timezone.now() - age)
    return today


def _sophos_down():
    error = Unavailable("Sophos is down (503)", status=503, correlation_id="corr-9")
    return mock.patch("sophos.services.billing.billing_usage", side_effect=error)


def test_failed_fetch_shows_kept_copy(billing_client, outdated_open_month):
    url = reverse(
        "billing_month", args=[outdated_open_month.year, outdated_open_month.month]
    )

    with _sophos_down():
        response = billing_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert _shown_names(response) == ["Kept Ltd"]
    assert "could not be fetched again: Sophos is down (503)" in html
    assert "<code>corr-9</code>" in html
    assert BillingMonth.objects.get().billable_total == 5


def test_failed_fetch_keeps_search_partial(billing_client, outdated_open_month):
    url = reverse(
        "billing_month", args=[outdated_open_month.year, outdated_open_month.month]
    )

    with _sophos_down():
        response = billing_client.get(
            url,
            {"q": "kept"},
            headers={"HX-Request": "true", "HX-Target": "tenant-totals"},
        )

    assert response.content.decode().strip().startswith('<div id="tenant-totals">')
    assert _shown_names(response) == ["Kept Ltd"]


def test_failed_refresh_keeps_copy_and_says_why(billing_client, outdated_open_month):
    url = reverse(
        "billing_month_refresh",
        args=[outdated_open_month.year, outdated_open_month.month],
    )

    with _sophos_down():
        response = billing_client.post(url, follow=True)

    html = response.content.decode()
    assert "could not be fetched again: Sophos is down (503)" in html
    assert _shown_names(response) == ["Kept Ltd"]
    assert BillingMonth.objects.get().billable_total == 5


def test_search_without_kept_month_replaces_report(billing_client):
    make_connection()

    with _sophos_down():
        response = billing_client.get(
            MONTH_URL,
            {"q": "kept"},
            headers={"HX-Request": "true", "HX-Target": "tenant-totals"},
        )

    assert response["HX-Retarget"] == "#billing-report"
    assert response.content.decode().strip().startswith('<div id="billing-report">')


def test_products_without_kept_month_redirect_the_page(billing_client):
    make_connection()

    with mock.patch(
        "sophos.services.billing.billing_usage",
        side_effect=NotFound("No usage", status=404),
    ):
        response = billing_client.get(
            _usage_url("acct-1"), headers={"HX-Request": "true"}
        )

    assert response["HX-Redirect"] == MONTH_URL


# -- values a PostgreSQL column rejects ----------------------------------------------


def test_long_texts_fit_their_columns(billing_client):
    row = BillingRow(
        tenant_id="acct-1",
        tenant_name="N" * 300,
        product_code="C" * 150,
        product_description="D" * 300,
        product_group="G" * 150,
        sku="S" * 150,
        billable_quantity=1,
        actual_quantity=1,
    )

    kept = _keep([row])

    usage = kept.usage.get()
    assert len(usage.account_name) == 255
    assert len(usage.product_code) == 100
    assert len(usage.product_description) == 255
    assert len(usage.product_group) == 100
    assert len(usage.sku) == 100
    assert len(kept.tenant_totals.get().account_name) == 255
    assert billing_client.get(MONTH_URL).status_code == 200


def test_account_id_longer_than_column_is_rejected(billing_client):
    make_connection()
    report = billing_report(year=YEAR, month=MONTH, rows=[_row("x" * 65)])

    with mock.patch("sophos.services.billing.billing_usage", return_value=report):
        response = billing_client.get(MONTH_URL)

    assert "longer than 64 characters" in response.context["error"].message
    assert not BillingMonth.objects.exists()


def test_nul_characters_are_dropped_from_usage(billing_client, demo_connection):
    item = {
        "accountId": "acct\x00-1",
        "accountName": "Contoso\x00 Ltd",
        "productCode": "CIXA\x00",
        "productDescription": "Intercept\x00 X",
        "billableQuantity": 1,
    }

    _page_with_items(billing_client, [item])

    usage = BillingMonth.objects.get().usage.get()
    assert usage.account_id == "acct-1"
    assert usage.account_name == "Contoso Ltd"
    assert usage.product_code == "CIXA"
    assert BillingMonth.objects.get().product_totals == [["Intercept X", 1]]


def _sent_sql(queries):
    return "".join(query["sql"] for query in queries.captured_queries)


def test_nul_in_search_and_account_id(billing_client):
    _keep([_row("acct-1")])

    with CaptureQueriesContext(db_connection) as queries:
        searched = billing_client.get(MONTH_URL, {"q": "acct\x00-1"})
        usage = billing_client.get(MONTH_URL + "tenants/acct%00-1/")

    assert searched.status_code == 200
    assert searched.context["search"] == "acct-1"
    assert usage.status_code == 404
    assert "\x00" not in _sent_sql(queries)


# -- concurrent fetches --------------------------------------------------------------


def _fetch_in_threads(year, month, *, refresh):
    """Fetch the month in two threads that both read Sophos before either
    stores, and return the kept month ids and any errors."""
    rows = [_row(f"acct-{number}", billable=1) for number in range(300)]
    report = billing_report(year=year, month=month, rows=rows)
    barrier = threading.Barrier(2)
    kept_ids, errors = [], []

    def fetch(**kwargs):
        barrier.wait(timeout=10)
        return report

    def run():
        try:
            kept = billing_months.billing_month_get(
                year=year, month=month, refresh=refresh
            )
            kept_ids.append(kept.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            db_connection.close()

    with mock.patch("sophos.services.billing.billing_usage", side_effect=fetch):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return kept_ids, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("refresh", [False, True])
def test_concurrent_fetches_keep_one_copy(refresh):
    make_connection()
    today = timezone.localdate()
    if refresh:
        _keep([_row("acct-0")], today.year, today.month)

    kept_ids, errors = _fetch_in_threads(today.year, today.month, refresh=refresh)

    kept = BillingMonth.objects.get()
    assert errors == []
    assert kept_ids == [kept.pk, kept.pk]
    assert kept.usage.count() == 300
    assert kept.tenant_totals.count() == 300
    assert kept.billable_total == 300


# -- odd requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "page_number", "sort"),
    [
        ({"page": "-1"}, 3, "name"),
        ({"page": "abc"}, 1, "name"),
        ({"page": "99999"}, 3, "name"),
        ({"page": "2.5"}, 1, "name"),
        ({"sort": "garbage"}, 1, "name"),
        ({"sort": "account_id; DROP TABLE x"}, 1, "name"),
        ({"sort": "-billable"}, 1, "-billable"),
    ],
)
def test_odd_paging_and_sorting(billing_client, query, page_number, sort):
    _keep([_row(f"acct-{number:03d}") for number in range(120)])

    response = billing_client.get(MONTH_URL, query)

    assert response.status_code == 200
    assert response.context["page"].number == page_number
    assert response.context["sort"] == sort


@pytest.mark.parametrize(
    "search",
    [
        "x" * 10_000,
        "' OR 1=1 --",
        "%",
        "_",
        '<script>alert("q")</script>',
        "=HYPERLINK(1)",
    ],
)
def test_odd_search_text(billing_client, search):
    _keep([_row("acct-1", name="Contoso")])

    response = billing_client.get(MONTH_URL, {"q": search})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["search"] == search[:200]
    assert _shown_names(response) == []
    assert "<script>alert" not in html


def test_duplicate_product_rows_are_summed(billing_client):
    rows = [_row("acct-1", billable=2, actual=3), _row("acct-1", billable=5, actual=5)]
    kept = _keep(rows)

    usage = billing_client.get(_usage_url("acct-1"))

    total = kept.tenant_totals.get()
    assert (total.products, total.billable_quantity, total.actual_quantity) == (1, 7, 8)
    assert kept.product_totals == [["Product CIXA", 7]]
    assert len(usage.context["usage"]) == 2


def test_post_routes_need_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(roles=[Role.BILLING]))
    make_connection()

    with mock.patch("sophos.services.billing.billing_usage") as usage:
        for name in ("billing_month_refresh", "billing_months_fetch"):
            response = client.post(reverse(name, args=[YEAR, MONTH]))
            assert response.status_code == 403, name

    usage.assert_not_called()
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.READ_ONLY])
def test_roles_without_billing_get_403(client, role):
    client.force_login(make_user(roles=[role]))
    _keep([_row("acct-1")])

    responses = [
        client.get(MONTH_URL),
        client.get(MONTH_URL, {"format": "csv"}),
        client.get(_usage_url("acct-1"), headers={"HX-Request": "true"}),
        client.post(reverse("billing_month_refresh", args=[YEAR, MONTH])),
        client.post(reverse("billing_months_fetch", args=[YEAR, MONTH])),
    ]

    assert [response.status_code for response in responses] == [403] * 5


def test_refresh_keeps_month_id_for_open_pages(billing_client):
    today = timezone.localdate()
    shown = _keep([_row("acct-1", billable=1)], today.year, today.month)
    report = billing_report(
        year=today.year, month=today.month, rows=[_row("acct-1", billable=9)]
    )

    with mock.patch("sophos.services.billing.billing_usage", return_value=report):
        fresh = billing_months.billing_month_get(
            year=today.year, month=today.month, refresh=True
        )

    totals = billing_months.tenant_totals(shown)
    assert fresh.pk == shown.pk
    assert fresh.billable_total == 9
    assert [total.billable_quantity for total in totals] == [9]
    assert BillingMonth.objects.count() == 1
