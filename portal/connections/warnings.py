"""The credential expiry banner that owners see on every page.

The expiry dates are read at login and kept in the session, then read again
at most every ``REFRESH_SECONDS``, so that an ordinary page costs no query
for the banner. The owner who changes a connection gets a fresh copy at
once; other sessions see the change within ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from portal.access import Capability, has_capability
from sophos.models import Connection
from sophos.services.credentials import EXPIRY_WARNING_DAYS, credential_expires_on

SESSION_KEY = "portal_credential_expiry"
REFRESH_SECONDS = 600


@dataclass(frozen=True)
class ExpiryWarning:
    connection_id: int
    name: str
    expires_on: dt.date
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def expiry_snapshot_take(
    session: SessionBase, user: AbstractBaseUser | AnonymousUser
) -> None:
    """Store the expiry date of every connection, or none for non-owners."""
    items: list[list[Any]] = []
    if has_capability(user, Capability.MANAGE_CONNECTIONS):
        dated = Connection.objects.exclude(credential_created_on=None)
        for pk, name, created_on in dated.values_list(
            "pk", "name", "credential_created_on"
        ):
            if created_on is not None:
                expires_on = credential_expires_on(created_on)
                items.append([pk, name, expires_on.isoformat()])
    session[SESSION_KEY] = {"at": time.time(), "items": items}


def expiry_warnings(
    session: SessionBase, user: AbstractBaseUser | AnonymousUser
) -> list[ExpiryWarning]:
    """Return the credentials that expire within the warning period or have
    expired, soonest first, refreshing the session's copy when it is old."""
    if not user.is_authenticated:
        return []
    snapshot = session.get(SESSION_KEY)
    if not isinstance(snapshot, dict) or (
        time.time() - float(snapshot.get("at", 0)) > REFRESH_SECONDS
    ):
        expiry_snapshot_take(session, user)
        snapshot = session[SESSION_KEY]

    today = timezone.localdate()
    warnings = []
    for pk, name, expires_iso in snapshot["items"]:
        expires_on = dt.date.fromisoformat(expires_iso)
        days_left = (expires_on - today).days
        if days_left <= EXPIRY_WARNING_DAYS:
            warnings.append(ExpiryWarning(pk, name, expires_on, days_left))
    return sorted(warnings, key=lambda warning: warning.expires_on)
