"""Ending the login sessions of chosen users.

Sessions are found through the session table, so this works with the
``db`` and ``cached_db`` session engines; each one is deleted through the
configured engine so that a cached copy goes too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.utils import timezone

logger = logging.getLogger(__name__)

USER_ID_SESSION_KEY = "_auth_user_id"


def _session_store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def sessions_end(
    *, user_ids: Collection[str] | None, keep_session_key: str | None = None
) -> int:
    """Delete the unexpired sessions of the users whose ids are ``user_ids``.

    ``user_ids`` of None means every logged-in user. ``keep_session_key``
    spares one session, usually the one making the request. Returns the
    number of sessions deleted.
    """
    # NOTE: this decodes every unexpired session, which is fine for the
    # few hundred sessions of a portal's technicians but not for thousands.
    decoder = _session_store()
    doomed: list[str] = []
    unexpired = Session.objects.filter(expire_date__gt=timezone.now())
    for session in unexpired.only("session_key", "session_data").iterator():
        if session.session_key == keep_session_key:
            continue
        user_id = decoder.decode(session.session_data).get(USER_ID_SESSION_KEY)
        if user_id is None:
            continue
        if user_ids is None or str(user_id) in user_ids:
            doomed.append(session.session_key)

    for session_key in doomed:
        _session_store(session_key).delete(session_key)
    return len(doomed)


def user_sessions_end(
    user: AbstractBaseUser, *, keep_session_key: str | None = None
) -> int:
    """Log the user out everywhere by deleting their sessions.

    Returns the number of sessions deleted. ``keep_session_key`` spares one
    session, for a user who changes their own security settings.
    """
    count = sessions_end(user_ids={str(user.pk)}, keep_session_key=keep_session_key)
    logger.info("ended %s sessions of user=%s", count, user.pk)
    return count
