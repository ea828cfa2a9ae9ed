import re
import uuid
from datetime import timedelta
from html import unescape
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from sophos.errors import BadRequest
from sophos.services.alerts import AlertActionResult
from tests.portal.factories import make_alert, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return make_tenant(name="Contoso")


@pytest.fixture
def alert(tenant):
    return make_alert(
        tenant,
        severity="high",
        category="malware",
        allowed_actions=["acknowledge", "cleanVirus"],
        managed_agent_name="ws-alice",
    )


@pytest.fixture
def perform():
    with mock.patch(
        "sophos.services.alerts.alert_action_perform", autospec=True
    ) as perform:
        yield perform


def _list_url(tenant):
    return reverse("tenant_alerts", args=[tenant.pk])


def _action_url(alert):
    return reverse("alert_action", args=[alert.tenant_id, alert.pk])


def test_alerts_requires_login(client, tenant):
    response = client.get(_list_url(tenant))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_alert_action_requires_login(client, alert, perform):
    response = client.post(_action_url(alert), {"action": "acknowledge"})

    assert response.status_code == 302
    perform.assert_not_called()


def test_alerts_list_action_buttons(owner_client, alert):
    response = owner_client.get(_list_url(alert.tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "ws-alice" in html
    assert 'name="action" value="acknowledge"' in html
    assert 'name="action" value="cleanVirus"' in html
    assert ">Clean virus</button>" in html
    assert f'hx-post="{_action_url(alert)}"' in html


def test_alerts_htmx_returns_table_only(owner_client, alert):
    response = owner_client.get(_list_url(alert.tenant), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="alerts-table"' in html
    assert f'id="alert-{alert.pk}"' in html


def _table_region(html):
    return re.search(r'<div id="alerts-table"[^>]*>', html).group(0)


def test_alerts_table_reloads_when_job_finishes(owner_client, alert):
    response = owner_client.get(_list_url(alert.tenant), {"severity": "high"})

    region = unescape(_table_region(response.content.decode()))
    assert 'hx-trigger="jobFinished from:body"' in region
    assert f'hx-get="{_list_url(alert.tenant)}?severity=high"' in region
    assert 'hx-swap="outerHTML"' in region
    assert "every" not in region


def test_alerts_filter_ignores_bulk_select(owner_client, alert):
    response = owner_client.get(_list_url(alert.tenant))

    html = response.content.decode()
    filter_form = re.search(r'<form id="alert-filter"[^>]*>', html).group(0)
    assert 'hx-trigger="submit, change from:find select"' in filter_form


def test_alerts_table_reload_keeps_page(owner_client, alert):
    query = {"category": "malware", "after": "cursor-1", "page": "2"}

    response = owner_client.get(
        _list_url(alert.tenant), query, headers={"HX-Request": "true"}
    )

    region = unescape(_table_region(response.content.decode()))
    assert (
        f'hx-get="{_list_url(alert.tenant)}?category=malware&after=cursor-1&page=2"'
        in region
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"severity": "high"}, {"high-malware"}),
        ({"severity": "low"}, {"low-pua"}),
        ({"category": "pua"}, {"low-pua"}),
        ({"category": "malware", "severity": "medium"}, {"medium-malware"}),
        ({}, {"high-malware", "medium-malware", "low-pua"}),
    ],
)
def test_alerts_filters(owner_client, tenant, query, expected):
    make_alert(tenant, severity="high", category="malware", type="high-malware")
    make_alert(tenant, severity="medium", category="malware", type="medium-malware")
    make_alert(tenant, severity="low", category="pua", type="low-pua")

    response = owner_client.get(_list_url(tenant), query)

    assert {alert.type for alert in response.context["page"]} == expected


def test_alerts_category_choices(owner_client, tenant):
    make_alert(tenant, category="pua")
    make_alert(tenant, category="malware")

    response = owner_client.get(_list_url(tenant))

    choices = list(response.context["form"].fields["category"].choices)
    assert choices == [("", "Any category"), ("malware", "Malware"), ("pua", "PUA")]


def test_alerts_list_labels_category(owner_client, tenant):
    make_alert(tenant, category="adSync", severity="medium")

    response = owner_client.get(_list_url(tenant))

    html = response.content.decode()
    assert "<td>AD sync</td>" in html
    assert '<option value="adSync">AD sync</option>' in html
    assert ">adSync<" not in html


def test_alert_action_success_row(owner_client, alert, perform):
    perform.return_value = AlertActionResult(
        action="acknowledge",
        status="completed",
        result="",
        correlation_id="corr-1",
        resolved=True,
    )

    response = owner_client.post(
        _action_url(alert), {"action": "acknowledge"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    perform.assert_called_once_with(
        user=mock.ANY,
        tenant_id=alert.tenant_id,
        alert_id=alert.pk,
        action="acknowledge",
        message=None,
    )
    assert perform.call_args.kwargs["user"].is_authenticated
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="alert-{alert.pk}" class="row-done">')
    assert "Acknowledge: completed · resolved" in html
    assert "<button" not in html


def test_alert_action_sophos_error_row(owner_client, alert, perform):
    perform.side_effect = BadRequest(
        "Sophos Central rejected the request as invalid (400): Alert is busy",
        status=400,
        error="badRequest",
        correlation_id="5f0c7a9e-corr",
    )

    response = owner_client.post(
        _action_url(alert), {"action": "cleanVirus"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="row-error"' in html
    assert "rejected the request as invalid (400): Alert is busy" in html
    assert "<code>5f0c7a9e-corr</code>" in html
    assert 'value="cleanVirus"' in html


def test_alert_action_rejects_disallowed_action(owner_client, alert, perform):
    response = owner_client.post(
        _action_url(alert), {"action": "clearThreat"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    perform.assert_not_called()


def test_alert_action_rejects_missing_action(owner_client, alert, perform):
    response = owner_client.post(_action_url(alert), {})

    assert response.status_code == 400
    perform.assert_not_called()


def test_alert_action_unknown_alert_is_404(owner_client, tenant, perform):
    url = reverse("alert_action", args=[tenant.pk, uuid.uuid4()])

    response = owner_client.post(url, {"action": "acknowledge"})

    assert response.status_code == 404
    perform.assert_not_called()


def test_alert_action_wrong_tenant_is_404(owner_client, alert, perform):
    other = make_tenant(name="Fabrikam")
    url = reverse("alert_action", args=[other.pk, alert.pk])

    response = owner_client.post(url, {"action": "acknowledge"})

    assert response.status_code == 404
    perform.assert_not_called()


def test_alert_action_without_htmx_redirects(owner_client, alert, perform):
    perform.side_effect = BadRequest(
        "Sophos Central rejected the request", status=400, correlation_id="corr-9"
    )

    response = owner_client.post(
        _action_url(alert), {"action": "acknowledge"}, follow=True
    )

    assert response.redirect_chain == [(_list_url(alert.tenant), 302)]
    html = response.content.decode()
    assert "Sophos Central rejected the request (correlation id corr-9)" in html


def test_alert_action_message_uses_label(owner_client, alert, perform):
    perform.return_value = AlertActionResult(
        action="cleanVirus",
        status="completed",
        result="",
        correlation_id="corr-2",
        resolved=True,
    )

    response = owner_client.post(
        _action_url(alert), {"action": "cleanVirus"}, follow=True
    )

    assert "Alert action Clean virus: completed." in response.content.decode()


def test_alert_action_rejects_get(owner_client, alert, perform):
    response = owner_client.get(_action_url(alert))

    assert response.status_code == 405
    perform.assert_not_called()


def _link(html, rel):
    found = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', html)
    assert found, f'no rel="{rel}" link'
    return unescape(found.group(1))


def test_alerts_keyset_newest_first(owner_client, tenant):
    now = timezone.now()
    for minutes in range(70):
        make_alert(
            tenant,
            type=f"alert-{minutes:02d}",
            raised_at=now - timedelta(minutes=minutes),
        )
    first = owner_client.get(_list_url(tenant))

    second = owner_client.get(_list_url(tenant) + _link(first.content.decode(), "next"))
    back = owner_client.get(_list_url(tenant) + _link(second.content.decode(), "first"))

    assert [a.type for a in second.context["page"]] == [
        f"alert-{m:02d}" for m in range(50, 70)
    ]
    assert [a.type for a in back.context["page"]] == [
        f"alert-{m:02d}" for m in range(50)
    ]
    assert "Page 2 of 2" in second.content.decode()


def test_alerts_keyset_keeps_the_filter(owner_client, tenant):
    now = timezone.now()
    for minutes in range(60):
        make_alert(tenant, severity="low", raised_at=now - timedelta(minutes=minutes))
    make_alert(tenant, severity="high", raised_at=now)
    first = owner_client.get(_list_url(tenant), {"severity": "low"})

    second = owner_client.get(_list_url(tenant) + _link(first.content.decode(), "next"))

    assert "severity=low" in _link(first.content.decode(), "next")
    assert {a.severity for a in second.context["page"]} == {"low"}
    assert len(second.context["page"]) == 10


def test_alerts_list_links_endpoint_by_agent_id(owner_client, tenant):
    endpoint_id = uuid.uuid4()
    make_alert(tenant, managed_agent_id=str(endpoint_id), managed_agent_name="ws-bob")
    make_alert(tenant, managed_agent_id="fw-agent-7", managed_agent_name="fw-edge")

    html = owner_client.get(_list_url(tenant)).content.decode()

    endpoint_url = reverse("tenants:endpoint_detail", args=[tenant.pk, endpoint_id])
    assert f'<a href="{endpoint_url}">ws-bob</a>' in html
    assert "<td>fw-edge</td>" in html
