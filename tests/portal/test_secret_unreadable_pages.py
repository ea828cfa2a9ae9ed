"""Pages when a connection's stored client secret cannot be decrypted.

The secrets are encrypted with one PORTAL_ENCRYPTION_KEY and the pages run
with another, as after a key change.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import Endpoint, Tenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.transport import SimulatorTransport
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
OLD_KEY = "the key the secrets were saved with"
NEW_KEY = "a key that cannot decrypt them"


@pytest.fixture
def old_key(settings):
    settings.PORTAL_ENCRYPTION_KEY = OLD_KEY


@pytest.fixture
def connection(old_key, synced_fleet, settings):
    """The synced demo connection, read after PORTAL_ENCRYPTION_KEY changed."""
    settings.PORTAL_ENCRYPTION_KEY = NEW_KEY
    return synced_fleet


@pytest.fixture
def tenant(connection):
    return Tenant.objects.filter(connection=connection).order_by("name").first()


@pytest.fixture
def tech_client(client, tenant):
    client.force_login(make_user(roles=[Role.TECHNICIAN], tenants=[tenant]))
    return client


@pytest.fixture
def recorder(monkeypatch):
    transport = SimulatorTransport(record=True)
    monkeypatch.setattr(
        "sophos.services.connections._transport_for", lambda connection: transport
    )
    return transport


def _explained(html, connection):
    return (
        f'The stored client secret of connection "{connection.name}" cannot be '
        "decrypted with the current <code>PORTAL_ENCRYPTION_KEY</code>"
    ) in html


def _edit_link(connection):
    return f'href="{reverse("connection_edit", args=[connection.pk])}"'


def _assert_nothing_secret(text, connection):
    assert demo_credential().client_secret not in text
    assert connection.secret_encrypted not in text
    assert OLD_KEY not in text
    assert NEW_KEY not in text


def test_tenant_page_explains_unreadable_secret(owner_client, connection, tenant):
    url = reverse("tenants:firewalls_list", args=[tenant.pk])

    response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert _explained(html, connection)
    assert _edit_link(connection) in html
    assert "enter the client secret again on the connection's page" in html
    _assert_nothing_secret(html, connection)


def test_tenant_partial_explains_unreadable_secret(owner_client, connection, tenant):
    url = reverse("tenants:firewalls_list", args=[tenant.pk])

    response = owner_client.get(url, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert _explained(html, connection)
    assert _edit_link(connection) in html


def test_technician_is_told_to_ask_an_owner(tech_client, connection, tenant):
    url = reverse("tenants:firewalls_list", args=[tenant.pk])

    response = tech_client.get(url)

    html = response.content.decode()
    assert _explained(html, connection)
    assert "Ask an owner to restore the previous key" in html
    assert _edit_link(connection) not in html


def test_alert_action_explains_unreadable_secret(owner_client, connection, tenant):
    alert = tenant.alerts.exclude(allowed_actions=[]).first()
    url = reverse("alert_action", args=[tenant.pk, alert.pk])

    response = owner_client.post(
        url, {"action": alert.allowed_actions[0]}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _explained(html, connection)
    assert _edit_link(connection) in html


def test_billing_page_explains_unreadable_secret(owner_client, connection):
    url = reverse("billing_month", args=[2025, 3])

    response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "The billing usage for March 2025 could not be fetched." in html
    assert _explained(html, connection)
    assert _edit_link(connection) in html
    _assert_nothing_secret(html, connection)


def test_drift_page_explains_unreadable_secret(owner_client, connection, tenant):
    query = {"tenant": str(tenant.pk), "policy_type": "threat-protection"}

    response = owner_client.get(
        reverse("fleet_ops:drift_policies"), query, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _explained(html, connection)


def test_middleware_explains_unreadable_secret(owner_client, connection, caplog):
    endpoint = Endpoint.objects.filter(tenant__connection=connection).first()
    url = reverse("tenants:endpoint_detail", args=[endpoint.tenant_id, endpoint.pk])

    with caplog.at_level(logging.DEBUG):
        response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 502
    assert "A connection's client secret cannot be decrypted" in html
    assert "Sophos Central did not answer as expected" not in html
    assert _explained(html, connection)
    assert _edit_link(connection) in html
    _assert_nothing_secret(html, connection)
    _assert_nothing_secret(caplog.text, connection)


def test_middleware_tells_technician_to_ask_an_owner(tech_client, connection, tenant):
    endpoint = Endpoint.objects.filter(tenant=tenant).first()
    url = reverse("tenants:endpoint_detail", args=[tenant.pk, endpoint.pk])

    response = tech_client.get(url)

    html = response.content.decode()
    assert response.status_code == 502
    assert "Ask an owner to restore the previous key" in html
    assert _edit_link(connection) not in html


def test_console_explains_unreadable_secret(owner_client, connection, tenant, recorder):
    fields = {"tenant": str(tenant.pk), "operation": "endpoints_list"}

    response = owner_client.post(reverse("console"), fields, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was sent" in html
    assert _explained(html, connection)
    assert _edit_link(connection) in html
    assert recorder.calls == []
    _assert_nothing_secret(html, connection)


def test_console_reaches_no_page_error(owner_client, connection, tenant, recorder):
    body = json.dumps({"action": "acknowledge"})
    fields = {
        "tenant": str(tenant.pk),
        "method": "POST",
        "path": "/common/v1/alerts/actions",
        "body": body,
    }

    response = owner_client.post(reverse("console"), fields, headers=HTMX)

    assert response.status_code == 200
    assert _explained(response.content.decode(), connection)


def test_connections_list_asks_for_secret_again(owner_client, connection):
    response = owner_client.get(reverse("connections"))

    html = response.content.decode()
    assert "Needs its client secret again" in html
    assert _edit_link(connection) in html
    _assert_nothing_secret(html, connection)


def test_connections_list_trusts_readable_secret(owner_client, old_key, synced_fleet):
    response = owner_client.get(reverse("connections"))

    assert "Needs its client secret again" not in response.content.decode()


def test_edit_form_asks_for_secret_again(owner_client, connection):
    url = reverse("connection_edit", args=[connection.pk])

    response = owner_client.get(url)

    html = response.content.decode()
    assert "The stored secret cannot be decrypted" in html
    assert "Leave blank to keep the stored secret." not in html
