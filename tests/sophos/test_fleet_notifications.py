"""The tamper protection check: notification, e-mail and webhook, once each."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import httpx
import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from sophos.models import Endpoint, Notification, Tenant
from sophos.services import mirror_items, notifications
from tests.portal.factories import make_endpoint, make_tenant

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "https://hooks.example.test/tamper"
SECRET = "webhook-test-secret"


@pytest.fixture
def webhook(monkeypatch, settings):
    """Send the webhook to an httpx MockTransport and keep the requests."""
    settings.TAMPER_WEBHOOK_URL = WEBHOOK_URL
    settings.TAMPER_WEBHOOK_SECRET = SECRET
    settings.ALERT_EMAILS = ["soc@example.test"]
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(
        notifications,
        "_webhook_client",
        lambda: httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return sent


@pytest.fixture
def off_endpoint():
    tenant = make_tenant(name="Contoso")
    endpoint = make_endpoint(tenant, hostname="ws-01", tamper_protection_enabled=False)
    since = timezone.now() - dt.timedelta(hours=3)
    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=since)
    endpoint.refresh_from_db()
    return endpoint


def test_check_notifies_newly_off_endpoint(off_endpoint, webhook):
    result = notifications.tamper_protection_check()

    assert [item.hostname for item in result.items] == ["ws-01"]
    notification = Notification.objects.get()
    assert notification.tenant_id == off_endpoint.tenant_id
    assert notification.title == "Tamper protection off in Contoso: 1 endpoint"
    assert notification.message == "ws-01"
    assert result.emailed is True
    assert result.webhook_status == 204


def test_webhook_payload_is_versioned(off_endpoint, webhook):
    now = timezone.now()

    notifications.tamper_protection_check(now=now)

    (request,) = webhook
    payload = json.loads(request.content)
    assert request.url == WEBHOOK_URL
    assert request.headers["X-Portal-Event"] == "tamper_protection.off"
    assert payload == {
        "version": 1,
        "event": "tamper_protection.off",
        "detected_at": now.isoformat(),
        "items": [
            {
                "tenant_id": str(off_endpoint.tenant_id),
                "tenant_name": "Contoso",
                "endpoint_id": str(off_endpoint.pk),
                "hostname": "ws-01",
                "off_since": off_endpoint.tamper_protection_off_since.isoformat(),
            }
        ],
    }


def test_webhook_signature_matches_body(off_endpoint, webhook):
    notifications.tamper_protection_check()

    (request,) = webhook
    expected = hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Portal-Signature"] == f"sha256={expected}"


def test_email_lists_each_item(off_endpoint, webhook):
    notifications.tamper_protection_check()

    (message,) = mail.outbox
    assert message.to == ["soc@example.test"]
    assert message.subject == "Tamper protection off: 1 new"
    assert "Contoso: ws-01" in message.body


def test_second_check_sends_nothing(off_endpoint, webhook):
    notifications.tamper_protection_check()

    result = notifications.tamper_protection_check()

    assert result.items == []
    assert len(webhook) == 1
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_off_again_after_on_notifies_again(off_endpoint, webhook):
    notifications.tamper_protection_check()
    tenant = off_endpoint.tenant
    Endpoint.objects.filter(pk=off_endpoint.pk).update(tamper_protection_enabled=True)
    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=timezone.now())
    Endpoint.objects.filter(pk=off_endpoint.pk).update(tamper_protection_enabled=False)
    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=timezone.now())

    result = notifications.tamper_protection_check()

    assert [item.hostname for item in result.items] == ["ws-01"]
    assert len(webhook) == 2


def test_global_tamper_off_is_notified(webhook):
    tenant = make_tenant(name="Fabrikam")
    mirror_items.global_tamper_state_set(tenant=tenant, enabled=False)

    result = notifications.tamper_protection_check()

    (item,) = result.items
    assert item.endpoint_id is None
    assert item.tenant_id == tenant.pk
    notification = Notification.objects.get()
    assert notification.title == (
        "Tamper protection off in Fabrikam: global tamper protection"
    )
    tenant.refresh_from_db()
    assert tenant.global_tamper_protection_notified_at is not None


def test_check_without_channels_only_notifies(off_endpoint, settings):
    settings.TAMPER_WEBHOOK_URL = ""
    settings.ALERT_EMAILS = []

    result = notifications.tamper_protection_check()

    assert result.emailed is False
    assert result.webhook_status is None
    assert mail.outbox == []
    assert Notification.objects.count() == 1


def test_webhook_failure_is_logged(off_endpoint, webhook, monkeypatch, caplog):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(
        notifications,
        "_webhook_client",
        lambda: httpx.Client(transport=httpx.MockTransport(refuse)),
    )

    result = notifications.tamper_protection_check()

    assert result.webhook_status is None
    assert any("webhook" in r.getMessage() for r in caplog.records)
    assert Notification.objects.count() == 1


def test_unknown_tamper_state_never_notifies(webhook):
    tenant = make_tenant()
    make_endpoint(tenant, tamper_protection_enabled=None)
    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=timezone.now())

    result = notifications.tamper_protection_check()

    assert result.items == []


def test_schedule_created_once():
    first = notifications.tamper_check_schedule_ensure()
    second = notifications.tamper_check_schedule_ensure()

    assert first.pk == second.pk
    assert second.func == "sophos.tasks_fleet.tamper_protection_check_task"
    assert Schedule.objects.filter(name=notifications.SCHEDULE_NAME).count() == 1


def test_notifications_scoped_by_tenant():
    visible = make_tenant()
    hidden = make_tenant()
    Notification.objects.create(kind="x", title="Seen", tenant=visible)
    Notification.objects.create(kind="x", title="Hidden", tenant=hidden)
    Notification.objects.create(kind="x", title="Fleet-wide")

    titles = notifications.notifications_visible(
        tenants=Tenant.objects.filter(pk=visible.pk), every_tenant=False
    ).values_list("title", flat=True)

    assert list(titles) == ["Seen"]


def test_portal_setup_schedules_check(synced_fleet, settings, tmp_path):
    settings.DATA_DIR = tmp_path

    call_command("portal_setup", stdout=None)

    assert Schedule.objects.filter(name=notifications.SCHEDULE_NAME).exists()
