"""Two-factor login with TOTP authenticator apps (django-otp).

A user enrols one authenticator app; from then on each login requires its
6-digit code after the password. An owner can require two-factor login for
everyone, and users without a device are then sent to enrol first.

The middleware decides on every request from a snapshot kept in the session
(``TwoFactorState``), so the common case costs no query. The snapshot is
taken at login and refreshed from the database before the middleware blocks
a request. The changes that would make a stale snapshot let a request
through end the sessions concerned instead: enrolling ends the user's other
sessions, and requiring two-factor ends the sessions of users without a
device.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.sessions import sessions_end, user_sessions_end
from portal.security.models import PortalSettings
from sophos.models import AuditEntry
from sophos.services.audit import audit_record

logger = logging.getLogger(__name__)

STATE_SESSION_KEY = "portal_two_factor"
DEVICE_NAME = "Authenticator app"

AnyUser = AbstractBaseUser | AnonymousUser


class TwoFactorError(Exception):
    """A two-factor change that is not allowed, with the reason for the user."""


@dataclass(frozen=True)
class TwoFactorState:
    """Snapshot of a logged-in user's two-factor status, read by the middleware."""

    has_device: bool
    required: bool


def device_confirmed(user: AnyUser) -> TOTPDevice | None:
    """Return the user's enrolled authenticator, or None."""
    if not user.is_authenticated:
        return None
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user__pk=user.pk, confirmed=True)
        .order_by("pk")
        .first()
    )
    return device


def state_load(user: AnyUser) -> TwoFactorState:
    """Read the user's two-factor state from the database."""
    return TwoFactorState(
        has_device=device_confirmed(user) is not None,
        required=PortalSettings.load().require_two_factor,
    )


def state_remember(session: SessionBase, state: TwoFactorState) -> None:
    session[STATE_SESSION_KEY] = asdict(state)


def state_remembered(session: SessionBase) -> TwoFactorState | None:
    """Return the snapshot kept in the session, or None if there is none."""
    stored = session.get(STATE_SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    try:
        return TwoFactorState(
            has_device=bool(stored["has_device"]), required=bool(stored["required"])
        )
    except KeyError:
        return None


def state_refresh(request: HttpRequest, user: AnyUser | None = None) -> TwoFactorState:
    """Read the state of ``user`` (default: the request's) and keep it in the
    session."""
    state = state_load(user if user is not None else request.user)
    state_remember(request.session, state)
    return state


def device_pending(user: AbstractBaseUser) -> TOTPDevice:
    """Return the user's unconfirmed device, creating one with a new key."""
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user__pk=user.pk, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _token_check(device_id: int, token: str) -> tuple[bool, str]:
    """Check a code against a device, honouring django-otp's throttling.

    Returns whether the code was accepted and, if not, the reason to show.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device_id)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            until = (details or {}).get("locked_until")
            wait = f" after {until:%H:%M:%S}" if until else " in a moment"
            return False, f"Too many wrong codes: try again{wait}."
        if device.verify_token(token):
            return True, ""
    return False, "That code is wrong or has expired: enter the current code."


def enrolment_confirm(*, request: HttpRequest, token: str) -> str:
    """Confirm the user's pending device with a code from the app.

    Returns an empty string on success, else the reason to show. On success
    the session counts as verified, and the user's other sessions end.
    """
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    device = device_pending(user)
    accepted, reason = _token_check(device.pk, token)
    if not accepted:
        logger.warning("two-factor enrolment code rejected user=%s", user.pk)
        return reason

    device.refresh_from_db()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user__pk=user.pk).exclude(pk=device.pk).delete()
    otp_login(request, device)
    state_refresh(request)
    ended = user_sessions_end(user, keep_session_key=request.session.session_key)
    audit_record(
        user=user,
        operation="two_factor_enrol",
        outcome=AuditEntry.Outcome.SUCCEEDED,
        parameters={"user": user.get_username(), "sessions_ended": ended},
    )
    return ""


def login_verify(*, request: HttpRequest, token: str) -> str:
    """Check the code asked for after the password.

    Returns an empty string on success, else the reason to show.
    """
    device = device_confirmed(request.user)
    if device is None:
        return "Your account has no authenticator app to check a code against."
    accepted, reason = _token_check(device.pk, token)
    if not accepted:
        logger.warning("two-factor login code rejected user=%s", request.user.pk)
        return reason
    device.refresh_from_db()
    otp_login(request, device)
    return ""


def two_factor_remove(
    *,
    actor: AnyUser | None,
    user: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> int:
    """Delete the user's authenticator apps and record who did it.

    ``actor`` is None for the ``two_factor_reset`` management command. Pass
    the actor's ``request`` when users remove their own device, so that the
    session stops counting as verified. Returns the devices deleted.
    """
    count: int
    count, _ = TOTPDevice.objects.filter(user__pk=user.pk).delete()
    if request is not None and request.user.pk == user.pk:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        state_refresh(request)
    audit_record(
        user=actor,
        operation="two_factor_remove",
        outcome=AuditEntry.Outcome.SUCCEEDED,
        parameters={"user": user.get_username(), "devices": count},
        message="" if actor else "Removed with manage.py two_factor_reset.",
    )
    logger.info("two-factor removed user=%s by=%s", user.pk, actor.pk if actor else "-")
    return count


def two_factor_requirement_set(*, request: HttpRequest, required: bool) -> int:
    """Turn the portal-wide two-factor requirement on or off.

    Turning it on ends the sessions of every user without an authenticator
    app, so they enrol at their next login. Returns the sessions ended.
    Raises ``TwoFactorError`` when the owner making the change has no app,
    because the requirement would then lock them out too.
    """
    actor = request.user
    if required and device_confirmed(actor) is None:
        raise TwoFactorError(
            "Set up two-factor login for your own account first: requiring it "
            "for everyone would otherwise send you to set it up too."
        )

    row = PortalSettings.load()
    changed = row.require_two_factor != required
    row.require_two_factor = required
    row.updated_by = actor if isinstance(actor, AbstractBaseUser) else None
    row.save()

    ended = 0
    if required and changed:
        enrolled = TOTPDevice.objects.filter(confirmed=True).values_list(
            "user_id", flat=True
        )
        ended = _sessions_end_except(
            enrolled_user_ids={str(pk) for pk in enrolled},
            keep_session_key=request.session.session_key,
        )
    state_refresh(request)
    audit_record(
        user=actor,
        operation="portal_settings_update",
        outcome=AuditEntry.Outcome.SUCCEEDED,
        parameters={"require_two_factor": required, "sessions_ended": ended},
    )
    return ended


def _sessions_end_except(
    *, enrolled_user_ids: set[str], keep_session_key: str | None
) -> int:
    from django.contrib.auth import get_user_model

    user_ids = {
        str(pk)
        for pk in get_user_model().objects.values_list("pk", flat=True)
        if str(pk) not in enrolled_user_ids
    }
    if not user_ids:
        return 0
    return sessions_end(user_ids=user_ids, keep_session_key=keep_session_key)
