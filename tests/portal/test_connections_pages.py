import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role, UserRole
from portal.connections import warnings
from sophos.crypto import decrypt_secret
from sophos.errors import CredentialsRejected, RateLimited, TransportError
from sophos.models import AuditEntry, Connection
from sophos.services import credentials
from sophos.simulator.seed import demo_credential, other_partner_credential
from tests.portal.factories import make_connection, make_tenant, make_user

pytestmark = pytest.mark.django_db

LIST_URL = reverse("connections")
ADD_URL = reverse("connection_add")


def _form(**fields):
    credential = demo_credential()
    data = {
        "name": "Main partner",
        "transport": Connection.Transport.SIMULATOR,
        "client_id": credential.client_id,
        "client_secret": credential.client_secret,
        "credential_created_on": "2025-01-15",
    }
    data.update(fields)
    return data


def _created_on_for_days_left(days):
    target = timezone.localdate() + datetime.timedelta(days=days)
    try:
        return target.replace(year=target.year - 3)
    except ValueError:  # 29 February
        return target.replace(year=target.year - 3, day=28)


@pytest.fixture
def saved_connection(owner):
    return credentials.connection_create(
        user=owner,
        name="Main partner",
        client_id=demo_credential().client_id,
        client_secret=demo_credential().client_secret,
        transport=Connection.Transport.SIMULATOR,
        credential_created_on=datetime.date(2025, 1, 15),
    )


# Access


def test_connections_are_for_owners_only(client):
    admin = make_user()
    UserRole.objects.create(user=admin, role=Role.ADMINISTRATOR)
    client.force_login(admin)

    for url in (LIST_URL, ADD_URL):
        assert client.get(url).status_code == 403


def test_connections_list_shows_connections(owner_client, saved_connection):
    response = owner_client.get(LIST_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Main partner" in html
    assert saved_connection.principal_id in html
    assert "Embedded simulator" in html
    assert "2028-01-15" in html


def test_nav_links_to_connections_for_owners(owner_client):
    html = owner_client.get(reverse("fleet")).content.decode()

    assert f'<a href="{LIST_URL}">Connections</a>' in html


def test_nav_hides_connections_from_technicians(client):
    client.force_login(make_user())

    html = client.get(reverse("fleet")).content.decode()

    assert LIST_URL not in html


# Adding


def test_add_offers_simulator_in_embedded_mode(owner_client):
    html = owner_client.get(ADD_URL).content.decode()

    assert '<option value="live">Sophos Central</option>' in html
    assert '<option value="simulator">Embedded simulator</option>' in html


def test_add_hides_simulator_in_production(owner_client, settings):
    settings.PRODUCTION = True

    page = owner_client.get(ADD_URL).content.decode()
    response = owner_client.post(ADD_URL, _form())

    assert '<option value="simulator">' not in page
    assert response.status_code == 200
    assert not Connection.objects.exists()


def test_add_validates_and_saves_connection(owner_client):
    credential = demo_credential()

    response = owner_client.post(ADD_URL, _form())

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    connection = Connection.objects.get(name="Main partner")
    assert connection.kind == Connection.Kind.PARTNER
    assert connection.principal_id == credential.partner_id
    assert connection.transport == Connection.Transport.SIMULATOR
    assert connection.credential_created_on == datetime.date(2025, 1, 15)
    assert credential.client_secret not in connection.secret_encrypted
    assert decrypt_secret(connection.secret_encrypted) == credential.client_secret


def test_add_records_audit_entry(owner_client):
    owner_client.post(ADD_URL, _form())

    entry = AuditEntry.objects.get(operation="connection_create")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED
    assert entry.username == "owner"
    assert entry.parameters["name"] == "Main partner"
    assert entry.parameters["kind"] == "partner"
    assert demo_credential().client_secret not in str(entry.parameters)


def test_add_with_wrong_secret_shows_sophos_error(owner_client):
    response = owner_client.post(ADD_URL, _form(client_secret="not-the-secret"))

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Sophos Central rejected the client secret (oauth.invalid_client_secret)."
        in html
    )
    assert "not-the-secret" not in html
    assert not Connection.objects.exists()
    entry = AuditEntry.objects.get(operation="connection_create")
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert entry.status_code == 401


def test_add_with_unknown_client_id_shows_sophos_error(owner_client):
    response = owner_client.post(ADD_URL, _form(client_id="no-such-client"))

    assert (
        "Sophos Central does not know this client ID (oauth.invalid_client_id)."
        in response.content.decode()
    )
    assert not Connection.objects.exists()


def test_add_rejects_duplicate_name(owner_client, saved_connection):
    response = owner_client.post(ADD_URL, _form())

    assert "Another connection has this name" in response.content.decode()
    assert Connection.objects.count() == 1


def test_add_rejects_future_creation_date(owner_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = owner_client.post(ADD_URL, _form(credential_created_on=tomorrow))

    assert "cannot be in the future" in response.content.decode()
    assert not Connection.objects.exists()


# Editing


def test_edit_form_never_shows_secret(owner_client, saved_connection):
    url = reverse("connection_edit", args=[saved_connection.pk])

    html = owner_client.get(url).content.decode()

    assert demo_credential().client_secret not in html
    assert saved_connection.secret_encrypted not in html
    assert 'type="password" name="client_secret"' in html
    assert "Leave blank to keep the stored secret." in html


def test_edit_without_secret_keeps_it(owner_client, saved_connection):
    url = reverse("connection_edit", args=[saved_connection.pk])

    response = owner_client.post(url, _form(name="Renamed partner", client_secret=""))

    assert response.status_code == 302
    saved_connection.refresh_from_db()
    assert saved_connection.name == "Renamed partner"
    secret = decrypt_secret(saved_connection.secret_encrypted)
    assert secret == demo_credential().client_secret
    entry = AuditEntry.objects.get(operation="connection_update")
    assert entry.parameters["changed"] == ["name"]


def test_edit_with_wrong_secret_saves_nothing(owner_client, saved_connection):
    url = reverse("connection_edit", args=[saved_connection.pk])
    before = saved_connection.secret_encrypted

    response = owner_client.post(
        url, _form(name="Renamed partner", client_secret="not-the-secret")
    )

    assert "Sophos Central rejected the client secret" in response.content.decode()
    saved_connection.refresh_from_db()
    assert saved_connection.name == "Main partner"
    assert saved_connection.secret_encrypted == before


def test_edit_rejects_credential_of_other_partner(owner_client, saved_connection):
    other = other_partner_credential()
    url = reverse("connection_edit", args=[saved_connection.pk])

    response = owner_client.post(
        url, _form(client_id=other.client_id, client_secret=other.client_secret)
    )

    assert "add it as a new connection instead" in response.content.decode()
    saved_connection.refresh_from_db()
    assert saved_connection.client_id == demo_credential().client_id


# Removing


def test_remove_asks_for_confirmation(owner_client, saved_connection):
    make_tenant(saved_connection)
    url = reverse("connection_remove", args=[saved_connection.pk])

    html = owner_client.get(url).content.decode()

    assert "its 1 tenant from the portal" in html
    assert Connection.objects.filter(pk=saved_connection.pk).exists()


def test_remove_deletes_connection(owner_client, saved_connection):
    make_tenant(saved_connection)
    url = reverse("connection_remove", args=[saved_connection.pk])

    response = owner_client.post(url)

    assert response.status_code == 302
    assert not Connection.objects.filter(pk=saved_connection.pk).exists()
    entry = AuditEntry.objects.get(operation="connection_delete")
    assert entry.parameters["tenants"] == 1
    assert entry.parameters["name"] == "Main partner"


def test_remove_unknown_connection_is_404(owner_client):
    url = reverse("connection_remove", args=[999999])

    assert owner_client.post(url).status_code == 404


# Expiry


@pytest.mark.parametrize(
    ("created_on", "expires_on"),
    [
        (datetime.date(2023, 1, 31), datetime.date(2026, 1, 31)),
        (datetime.date(2024, 2, 29), datetime.date(2027, 2, 28)),
        (datetime.date(2022, 11, 30), datetime.date(2025, 11, 30)),
    ],
)
def test_credential_expires_after_36_months(created_on, expires_on):
    assert credentials.credential_expires_on(created_on) == expires_on


def test_banner_warns_30_days_before_expiry(client, owner):
    connection = make_connection(
        name="Ageing partner", credential_created_on=_created_on_for_days_left(30)
    )
    client.force_login(owner)

    fleet = client.get(reverse("fleet")).content.decode()
    listing = client.get(LIST_URL).content.decode()

    assert "credential of connection <strong>Ageing partner</strong> expires" in fleet
    edit_url = reverse("connection_edit", args=[connection.pk])
    assert f'<a href="{edit_url}">enter it here</a>' in fleet
    assert "in 30 days" in listing


def test_no_banner_before_warning_period(client, owner):
    make_connection(
        name="Young partner", credential_created_on=_created_on_for_days_left(31)
    )
    client.force_login(owner)

    html = client.get(reverse("fleet")).content.decode()

    assert "Young partner" not in html


def test_banner_follows_changes_made_by_the_owner(owner_client, saved_connection):
    url = reverse("connection_edit", args=[saved_connection.pk])
    old = _created_on_for_days_left(10).isoformat()

    owner_client.post(url, _form(client_secret="", credential_created_on=old))
    html = owner_client.get(reverse("fleet")).content.decode()

    assert "credential of connection <strong>Main partner</strong> expires" in html


def test_banner_refreshes_old_session_copy(client, owner, monkeypatch):
    client.force_login(owner)
    make_connection(
        name="Ageing partner", credential_created_on=_created_on_for_days_left(3)
    )
    fresh = client.get(reverse("fleet")).content.decode()
    later = time.time() + warnings.REFRESH_SECONDS + 1
    monkeypatch.setattr(warnings.time, "time", lambda: later)

    refreshed = client.get(reverse("fleet")).content.decode()

    assert "Ageing partner" not in fresh
    assert "Ageing partner" in refreshed


def test_banner_costs_no_query_per_page(client, owner, django_assert_num_queries):
    make_connection(credential_created_on=_created_on_for_days_left(3))
    client.force_login(owner)
    client.get(reverse("jobs"))
    session = client.session
    assert warnings.SESSION_KEY in session

    with django_assert_num_queries(0):
        found = warnings.expiry_warnings(session, owner)

    assert len(found) == 1


def test_banner_says_expired(client, owner):
    make_connection(
        name="Old partner", credential_created_on=_created_on_for_days_left(-2)
    )
    client.force_login(owner)

    html = client.get(reverse("fleet")).content.decode()

    assert "credential of connection <strong>Old partner</strong> expired on" in html


def test_banner_is_for_owners_only(client):
    make_connection(credential_created_on=_created_on_for_days_left(5))
    client.force_login(make_user())

    html = client.get(reverse("fleet")).content.decode()

    assert "credential-warnings" not in html


# Plain words for Sophos errors


def test_credential_problem_words():
    rejected = CredentialsRejected(
        "raw", status=401, error="oauth.client_disabled", request_id="req-1"
    )
    limited = RateLimited("raw", retry_after=30, status=429)
    unreachable = TransportError("Token request to id.sophos.com timed out.")

    assert credentials.credential_problem(rejected) == (
        "This API credential is disabled in Sophos Central (oauth.client_disabled)."
        " Sophos reference: req-1."
    )
    assert credentials.credential_problem(limited) == (
        "Sophos Central is rate-limiting this credential: try again in 30 seconds."
    )
    assert credentials.credential_problem(unreachable).startswith(
        "Sophos Central could not be reached"
    )
