import datetime
import io

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import Role, UserRole
from portal.accounts.sessions import user_sessions_end
from portal.security.models import PortalSettings
from sophos.models import AuditEntry
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("login")
FLEET_URL = reverse("fleet")
PASSWORD = "tech-password-1"


def _fail_logins(client, username, times, **extra):
    response = None
    for _ in range(times):
        response = client.post(
            LOGIN_URL, {"username": username, "password": "wrong"}, **extra
        )
    return response


def _code(device):
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{token:0{device.digits}d}"


def _confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def _logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def _user_session_count(user):
    count = 0
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            count += 1
    return count


# Failed logins


def test_login_locks_out_after_failure_limit(client):
    make_user(username="alice")

    before = _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    locked = _fail_logins(client, "alice", 1)

    assert before.status_code == 200
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "This account is locked after too many failed logins" in html
    assert "Try again after" in html
    assert 'name="username"' in html


def test_lockout_rejects_the_right_password(client):
    make_user(username="alice")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)

    response = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(FLEET_URL).status_code == 302


def test_lockout_names_the_time_to_retry(client):
    make_user(username="alice")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)

    response = _fail_logins(client, "alice", 1)

    newest = AccessAttempt.objects.get(username="alice").attempt_time
    retry_at = timezone.localtime(newest + settings.AXES_COOLOFF_TIME)
    assert response.context["locked_until"] == newest + settings.AXES_COOLOFF_TIME
    assert f"Try again after {retry_at:%H:%M}" in response.content.decode()


def test_lockout_is_not_extended_by_attempts_during_it(client):
    make_user(username="alice")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)
    first = AccessAttempt.objects.get(username="alice").attempt_time

    _fail_logins(client, "alice", 3)

    assert AccessAttempt.objects.get(username="alice").attempt_time == first


def test_lockout_ends_after_cool_off(client):
    make_user(username="alice")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)
    long_ago = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(1)
    AccessAttempt.objects.update(attempt_time=long_ago)

    response = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == FLEET_URL


def test_cool_off_is_fifteen_minutes():
    assert datetime.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_lockout_is_per_username_and_address(client):
    make_user(username="alice")
    make_user(username="bob")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)

    bob = client.post(LOGIN_URL, {"username": "bob", "password": PASSWORD})
    elsewhere = Client(REMOTE_ADDR="192.0.2.10").post(
        LOGIN_URL, {"username": "alice", "password": PASSWORD}
    )

    assert bob.status_code == 302
    assert elsewhere.status_code == 302


def test_successful_login_resets_failures(client):
    make_user(username="alice")
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT - 1)

    client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD})

    assert not AccessAttempt.objects.filter(username="alice").exists()


@pytest.mark.parametrize(
    "next_url", ["/login", "/login/", "/login/?next=/jobs/", "/logout/"]
)
def test_login_ignores_next_back_to_login(client, next_url):
    make_user(username="alice")

    response = client.post(
        LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == FLEET_URL


def test_login_follows_other_next(client):
    make_user(username="alice")

    response = client.post(
        LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": "/jobs/"}
    )

    assert response["Location"] == "/jobs/"


def test_code_step_ignores_next_back_to_login(client):
    alice = make_user(username="alice")
    device = _confirmed_device(alice)
    client.force_login(alice)

    response = client.post(
        reverse("two_factor_verify") + "?next=/login/", {"token": _code(device)}
    )

    assert response.status_code == 302
    assert response["Location"] == FLEET_URL


def test_force_login_bypasses_axes(client):
    client.force_login(make_user())

    assert client.get(FLEET_URL).status_code == 200


# Sessions


def test_idle_timeout_settings():
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_session_expires_when_idle(client):
    client.force_login(make_user())
    assert client.get(FLEET_URL).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = client.get(FLEET_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_each_request_extends_the_session(client):
    client.force_login(make_user())
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=60)
    )

    client.get(FLEET_URL)

    expire_date = Session.objects.get(session_key=key).expire_date
    expected = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((expire_date - expected).total_seconds()) < 60


def test_logout_deletes_the_session(client):
    client.force_login(make_user())
    key = client.session.session_key

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(FLEET_URL).status_code == 302


def test_logout_rejects_get(client):
    client.force_login(make_user())

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.get(FLEET_URL).status_code == 200


def test_disabling_user_ends_their_sessions():
    alice = make_user(username="alice")
    bob = make_user(username="bob")
    alice_clients = [_logged_in(alice), _logged_in(alice)]
    bob_client = _logged_in(bob)

    alice.is_active = False
    alice.save()

    assert _user_session_count(alice) == 0
    assert _user_session_count(bob) == 1
    for alice_client in alice_clients:
        assert alice_client.get(FLEET_URL).status_code == 302
    assert bob_client.get(FLEET_URL).status_code == 200


def test_disabling_with_update_fields_ends_sessions():
    alice = make_user(username="alice")
    _logged_in(alice)

    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert _user_session_count(alice) == 0


def test_saving_active_user_keeps_sessions():
    alice = make_user(username="alice")
    _logged_in(alice)

    alice.first_name = "Alice"
    alice.save()

    assert _user_session_count(alice) == 1


def test_user_sessions_end_keeps_one_session():
    alice = make_user(username="alice")
    kept = _logged_in(alice)
    _logged_in(alice)

    ended = user_sessions_end(alice, keep_session_key=kept.session.session_key)

    assert ended == 1
    assert _user_session_count(alice) == 1
    assert kept.get(FLEET_URL).status_code == 200


# Two-factor login


def test_enrolment_page_shows_qr_code_and_key(client):
    client.force_login(make_user(username="alice"))

    response = client.get(reverse("two_factor"))

    html = response.content.decode()
    device = TOTPDevice.objects.get(user__username="alice")
    assert response.status_code == 200
    assert device.confirmed is False
    assert "otpauth://totp/Sophos%20MSP%20Portal%3Aalice?secret=" in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert response.context["manual_key"] in html


def test_enrolment_confirms_device_with_code(client):
    alice = make_user(username="alice")
    client.force_login(alice)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=alice)

    response = client.post(reverse("two_factor"), {"token": _code(device)})

    device.refresh_from_db()
    assert response.status_code == 302
    assert device.confirmed is True
    assert client.get(FLEET_URL).status_code == 200
    entry = AuditEntry.objects.get(operation="two_factor_enrol")
    assert entry.username == "alice"


def test_enrolment_rejects_wrong_code(client):
    alice = make_user(username="alice")
    client.force_login(alice)
    client.get(reverse("two_factor"))

    response = client.post(reverse("two_factor"), {"token": "000000"})

    assert response.status_code == 200
    assert "That code is wrong or has expired" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_enrolment_ends_other_sessions(client):
    alice = make_user(username="alice")
    other = _logged_in(alice)
    client.force_login(alice)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=alice)

    client.post(reverse("two_factor"), {"token": _code(device)})

    assert other.get(FLEET_URL).status_code == 302
    assert client.get(FLEET_URL).status_code == 200


def test_login_asks_for_code_after_password(client):
    alice = make_user(username="alice")
    device = _confirmed_device(alice)

    login = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD})
    held = client.get(FLEET_URL)
    verified = client.post(held["Location"], {"token": _code(device)}, follow=False)
    after = client.get(FLEET_URL)

    assert login.status_code == 302
    assert held.status_code == 302
    assert held["Location"] == f"{reverse('two_factor_verify')}?next=%2F"
    assert verified.status_code == 302
    assert verified["Location"] == FLEET_URL
    assert after.status_code == 200


def test_code_step_rejects_wrong_code(client):
    alice = make_user(username="alice")
    _confirmed_device(alice)
    client.force_login(alice)

    response = client.post(reverse("two_factor_verify"), {"token": "000000"})

    assert response.status_code == 200
    assert "That code is wrong or has expired" in response.content.decode()
    assert client.get(FLEET_URL).status_code == 302


def test_code_step_is_throttled(client):
    alice = make_user(username="alice")
    device = _confirmed_device(alice)
    client.force_login(alice)
    client.post(reverse("two_factor_verify"), {"token": "000000"})

    response = client.post(reverse("two_factor_verify"), {"token": _code(device)})

    assert "Too many wrong codes" in response.content.decode()
    assert client.get(FLEET_URL).status_code == 302


def test_htmx_request_held_at_code_step(client):
    alice = make_user(username="alice")
    _confirmed_device(alice)
    client.force_login(alice)

    response = client.get(FLEET_URL, headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("two_factor_verify")


def test_remove_device_needs_current_code(client):
    alice = make_user(username="alice")
    device = _confirmed_device(alice)
    client.force_login(alice)
    client.post(reverse("two_factor_verify"), {"token": _code(device)})

    wrong = client.post(reverse("two_factor_remove"), {"token": "000000"})

    assert wrong.status_code == 400
    assert TOTPDevice.objects.filter(user=alice).exists()


def test_remove_device_with_code(client):
    alice = make_user(username="alice")
    device = _confirmed_device(alice)
    client.force_login(alice)
    client.post(reverse("two_factor_verify"), {"token": _code(device)})
    device.refresh_from_db()
    device.last_t -= 1
    device.save()

    response = client.post(reverse("two_factor_remove"), {"token": _code(device)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert AuditEntry.objects.filter(operation="two_factor_remove").exists()
    assert client.get(FLEET_URL).status_code == 200


# Requiring two-factor login


@pytest.fixture
def verified_owner_client(client, owner):
    device = _confirmed_device(owner)
    client.force_login(owner)
    client.post(reverse("two_factor_verify"), {"token": _code(device)})
    return client


def test_owner_requires_two_factor(verified_owner_client):
    tech = make_user(username="tech")
    tech_client = _logged_in(tech)

    response = verified_owner_client.post(
        reverse("security_settings"), {"require_two_factor": "on"}
    )

    assert response.status_code == 302
    assert PortalSettings.load().require_two_factor is True
    assert tech_client.get(FLEET_URL).status_code == 302
    assert verified_owner_client.get(FLEET_URL).status_code == 200
    entry = AuditEntry.objects.get(operation="portal_settings_update")
    assert entry.parameters["require_two_factor"] is True


def test_required_two_factor_sends_users_to_enrol(client):
    PortalSettings.objects.update_or_create(
        pk=PortalSettings.SINGLETON_ID, defaults={"require_two_factor": True}
    )
    make_user(username="tech")

    client.post(LOGIN_URL, {"username": "tech", "password": PASSWORD})
    response = client.get(reverse("jobs"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor')}?next=%2Fjobs%2F"
    assert client.get(reverse("two_factor")).status_code == 200


def test_required_two_factor_lets_enrolled_users_through(client):
    PortalSettings.objects.update_or_create(
        pk=PortalSettings.SINGLETON_ID, defaults={"require_two_factor": True}
    )
    tech = make_user(username="tech")
    client.force_login(tech)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=tech)

    client.post(reverse("two_factor"), {"token": _code(device), "next": FLEET_URL})

    assert client.get(FLEET_URL).status_code == 200


def test_turning_requirement_off_frees_held_users(client):
    row = PortalSettings.load()
    row.require_two_factor = True
    row.save()
    client.force_login(make_user())
    assert client.get(FLEET_URL).status_code == 302

    row.require_two_factor = False
    row.save()

    assert client.get(FLEET_URL).status_code == 200


def test_owner_without_device_cannot_require_two_factor(owner_client):
    response = owner_client.post(
        reverse("security_settings"), {"require_two_factor": "on"}
    )

    assert response.status_code == 200
    assert "Set up two-factor login for your own account first" in (
        response.content.decode()
    )
    assert PortalSettings.load().require_two_factor is False


def test_login_rules_are_for_owners_only(client):
    admin = make_user()
    UserRole.objects.create(user=admin, role=Role.ADMINISTRATOR)
    client.force_login(admin)

    response = client.get(reverse("security_settings"))

    assert response.status_code == 403


def test_test_client_login_still_works(client):
    make_user(username="alice")

    logged_in = client.login(username="alice", password=PASSWORD)

    assert logged_in is True
    assert client.get(FLEET_URL).status_code == 200


def test_reset_command_removes_device():
    alice = make_user(username="alice")
    _confirmed_device(alice)
    output = io.StringIO()

    call_command("two_factor_reset", "alice", stdout=output)

    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert "Removed 1 authenticator app(s) of alice." in output.getvalue()
    entry = AuditEntry.objects.get(operation="two_factor_remove")
    assert entry.username == ""
    assert entry.parameters["user"] == "alice"


def test_reset_command_rejects_unknown_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("two_factor_reset", "nobody")
