import re
import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape

from portal.accounts.models import Role
from portal.tenants.forms.alerts import AlertBulkActionForm
from sophos.models import Alert, Job, JobItem, Tenant
from sophos.services.labels import code_label
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alert(synced_fleet):
    return next(a for a in Alert.objects.all() if "cleanPua" in a.allowed_actions)


@pytest.fixture
def tenant(alert):
    return Tenant.objects.get(pk=alert.tenant_id)


@pytest.fixture
def reader(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _detail_url(alert):
    return reverse("tenants:alert_detail", args=[alert.tenant_id, alert.pk])


def _bulk_url(tenant):
    return reverse("tenants:alerts_bulk_action", args=[tenant.pk])


def test_alert_detail_full_page(owner_client, alert):
    response = owner_client.get(_detail_url(alert))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert str(alert.pk) in html
    assert escape(alert.description) in html
    assert f"<dt>Category</dt><dd>{code_label(alert.category)}</dd>" in html
    assert f"<dd>{alert.category}</dd>" not in html
    assert "Clean PUA" in html
    assert reverse("alert_action", args=[alert.tenant_id, alert.pk]) in html
    assert (
        reverse(
            "tenants:endpoint_detail", args=[alert.tenant_id, alert.managed_agent_id]
        )
        in html
    )


def test_alert_detail_htmx_partial(owner_client, alert):
    response = owner_client.get(_detail_url(alert), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="alert-detail">')


def test_alert_detail_unknown_alert(owner_client, tenant):
    url = reverse("tenants:alert_detail", args=[tenant.pk, uuid.uuid4()])

    assert owner_client.get(url).status_code == 404


def test_alert_list_links_detail_and_checkboxes(owner_client, alert):
    response = owner_client.get(reverse("tenant_alerts", args=[alert.tenant_id]))

    html = response.content.decode()
    assert _detail_url(alert) in html
    assert f'name="alerts" value="{alert.pk}" form="alerts-bulk"' in html
    assert 'id="alerts-bulk"' in html


def test_alert_list_bulk_actions_match_form(owner_client, alert):
    response = owner_client.get(reverse("tenant_alerts", args=[alert.tenant_id]))

    select = re.search(
        r'<select name="action" id="bulk-action".*?</select>',
        response.content.decode(),
        re.S,
    ).group(0)
    offered = re.findall(r'<option value="(\w+)"', select)
    choices = [v for v, _ in AlertBulkActionForm.base_fields["action"].choices if v]
    assert sorted(offered) == sorted(choices)


def test_bulk_action_skips_and_succeeds(
    owner_client, tenant, alert, django_capture_on_commit_callbacks
):
    other = next(a for a in tenant.alerts.all() if "cleanPua" not in a.allowed_actions)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _bulk_url(tenant),
            {"alerts": [str(alert.pk), str(other.pk)], "action": "cleanPua"},
            headers=HTMX,
        )

    job = Job.objects.get(kind="alert_bulk_action")
    items = {item.target: item for item in job.items.all()}
    assert response.status_code == 200
    assert reverse("job_detail", args=[job.pk]) in response.content.decode()
    assert job.status == Job.Status.SUCCEEDED
    assert items[str(alert.pk)].status == JobItem.Status.SUCCEEDED
    assert items[str(other.pk)].status == JobItem.Status.SKIPPED
    assert not Alert.objects.filter(pk=alert.pk).exists()


def test_bulk_action_redirects_to_job(owner_client, tenant, alert):
    response = owner_client.post(
        _bulk_url(tenant), {"alerts": [str(alert.pk)], "action": "acknowledge"}
    )

    job = Job.objects.get(kind="alert_bulk_action")
    assert response.status_code == 302
    assert response["Location"] == reverse("job_detail", args=[job.pk])


def test_bulk_action_failed_item_keeps_correlation_id(
    owner_client, tenant, alert, monkeypatch, django_capture_on_commit_callbacks
):
    rejected = reject(monkeypatch, "POST", r"/actions$", 400, "Alert is locked")

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            _bulk_url(tenant), {"alerts": [str(alert.pk)], "action": "cleanPua"}
        )

    item = JobItem.objects.get(job__kind="alert_bulk_action")
    assert item.status == JobItem.Status.FAILED
    assert "Alert is locked" in item.message
    assert item.correlation_id == rejected.correlation_id


def test_bulk_action_needs_selection(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _bulk_url(tenant), {"action": "acknowledge"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Select at least one alert." in response.content.decode()
    assert not Job.objects.filter(kind="alert_bulk_action").exists()
    assert writes == []


def test_reader_sees_no_bulk_controls(reader, alert):
    listing = reader.get(reverse("tenant_alerts", args=[alert.tenant_id]))
    detail = reader.get(_detail_url(alert))

    assert 'id="alerts-bulk"' not in listing.content.decode()
    assert 'name="alerts"' not in listing.content.decode()
    assert detail.status_code == 200
    assert "/action/" not in detail.content.decode()


def test_reader_forged_bulk_rejected(reader, tenant, alert, monkeypatch):
    writes = record_writes(monkeypatch)

    response = reader.post(
        _bulk_url(tenant), {"alerts": [str(alert.pk)], "action": "acknowledge"}
    )

    assert response.status_code == 403
    assert not Job.objects.filter(kind="alert_bulk_action").exists()
    assert writes == []
