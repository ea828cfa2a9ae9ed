from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.partner.models import BillingMonth
from sophos.errors import NotFound, Unavailable
from sophos.services.billing import BillingRow, billing_report
from tests.portal.factories import make_connection

pytestmark = pytest.mark.django_db

MONTH_URL = reverse("billing_month", args=[2025, 3])


@pytest.fixture
def usage():
    make_connection()
    with mock.patch("sophos.services.billing.billing_usage", autospec=True) as usage:
        yield usage


def _report():
    rows = [
        BillingRow(
            tenant_id="6e0e3f4c-0000-4000-8000-000000000001",
            tenant_name="Contoso",
            product_code="CIXA",
            product_description="Intercept X Advanced",
            product_group="Endpoint",
            sku="CIXA-1",
            billable_quantity=40,
            actual_quantity=42,
        ),
        BillingRow(
            tenant_id="6e0e3f4c-0000-4000-8000-000000000002",
            tenant_name="Fabrikam",
            product_code="CIXA",
            product_description="Intercept X Advanced",
            product_group="Endpoint",
            sku="CIXA-1",
            billable_quantity=15,
            actual_quantity=15,
        ),
    ]
    return billing_report(year=2025, month=3, rows=rows)


def test_billing_requires_login(client, usage):
    response = client.get(MONTH_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    usage.assert_not_called()


def test_billing_index_redirects_to_previous_month(owner_client):
    today = timezone.localdate()
    previous = (today.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)

    response = owner_client.get(reverse("billing"))

    assert response.status_code == 302
    expected = reverse("billing_month", args=[previous.year, previous.month])
    assert response["Location"] == expected


def test_billing_index_redirects_to_picked_month(owner_client):
    response = owner_client.get(reverse("billing"), {"month": "2024-11"})

    assert response["Location"] == reverse("billing_month", args=[2024, 11])


def test_billing_index_rejects_malformed_month(owner_client):
    response = owner_client.get(reverse("billing"), {"month": "2024-13"}, follow=True)

    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_billing_month_rows_and_totals(owner_client, usage):
    usage.return_value = _report()

    response = owner_client.get(MONTH_URL)

    usage.assert_called_once_with(year=2025, month=3, connection=mock.ANY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Billing usage, March 2025" in html
    assert "Contoso" in html
    assert "Fabrikam" in html
    assert '<td class="num">42</td>' in html
    assert '<td class="num">55</td>' in html
    assert 'value="2025-03"' in html
    assert reverse("billing_month", args=[2025, 2]) in html
    assert reverse("billing_month", args=[2025, 4]) in html


def test_billing_month_htmx_returns_report_only(owner_client, usage):
    usage.return_value = _report()

    response = owner_client.get(MONTH_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="billing-report"' in html
    assert "Contoso" in html


def test_billing_month_without_data(owner_client, usage):
    usage.side_effect = NotFound("No usage", status=404)

    response = owner_client.get(MONTH_URL)

    assert response.status_code == 200
    assert "Sophos Central reports no billing usage for March 2025." in (
        response.content.decode()
    )


def test_closed_month_without_usage_is_not_fetched_again(owner_client, usage):
    usage.side_effect = NotFound("No usage", status=404)

    owner_client.get(MONTH_URL)
    html = owner_client.get(MONTH_URL).content.decode()

    assert usage.call_count == 1
    assert "Sophos Central reports no billing usage for March 2025." in html
    assert BillingMonth.objects.get(year=2025, month=3).has_usage is False


def test_chart_stops_offering_months_without_usage(owner_client, usage):
    usage.side_effect = NotFound("No usage", status=404)

    html = owner_client.get(MONTH_URL).content.decode()

    assert "Fetch 11 missing months" in html
    assert "<td>no usage reported</td>" in html


def test_open_month_without_usage_says_not_yet(owner_client, usage):
    usage.side_effect = NotFound("No usage", status=404)
    today = timezone.localdate()

    html = owner_client.get(
        reverse("billing_month", args=[today.year, today.month])
    ).content.decode()

    assert "has no billing usage for" in html
    assert "Usage appears once a month has closed" in html
    assert not BillingMonth.objects.exists()


def test_billing_month_shows_sophos_error(owner_client, usage):
    usage.side_effect = Unavailable(
        "Sophos Central is unavailable (503)", status=503, correlation_id="corr-7"
    )

    html = owner_client.get(MONTH_URL).content.decode()

    assert "could not be fetched: Sophos Central is unavailable (503)" in html
    assert "<code>corr-7</code>" in html


def test_billing_picker_crosses_years(owner_client, usage):
    usage.return_value = _report()

    html = owner_client.get(reverse("billing_month", args=[2025, 1])).content.decode()

    assert reverse("billing_month", args=[2024, 12]) in html
    assert reverse("billing_month", args=[2025, 2]) in html


@pytest.mark.parametrize(("year", "month"), [(2025, 0), (2025, 13), (1999, 5)])
def test_billing_invalid_month_is_404(owner_client, usage, year, month):
    response = owner_client.get(reverse("billing_month", args=[year, month]))

    assert response.status_code == 404
    usage.assert_not_called()


@pytest.mark.parametrize("month", ["1999-12", "0001-01", "9999-01"])
def test_billing_index_rejects_month_out_of_range(owner_client, month):
    response = owner_client.get(reverse("billing"), {"month": month})

    assert response.status_code == 302
    assert response["Location"] != reverse("billing_month", args=month.split("-"))
    followed = owner_client.get(response["Location"])
    assert "Pick a month from January 2000 to December 9998" in (
        followed.content.decode()
    )


@pytest.mark.parametrize("month", ["", "2024-011", "20241"])
def test_billing_index_explains_month_format(owner_client, month):
    response = owner_client.get(reverse("billing"), {"month": month}, follow=True)

    assert "Enter a month as YYYY-MM" in response.content.decode()
