"""Signal receivers: the session snapshots taken at login, and ending the
sessions of a user who is disabled."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest

from portal.accounts.sessions import user_sessions_end
from portal.connections.warnings import expiry_snapshot_take
from portal.security.two_factor import state_refresh

logger = logging.getLogger(__name__)

# Set on a user instance between pre_save and post_save when the save
# disables an active account.
DISABLING_FLAG = "_portal_disabling"


def remember_login_state(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    """Keep in the new session what the middleware and the banner read on
    every request: the two-factor state and the credential expiry dates."""
    if request is not None and hasattr(request, "session"):
        state_refresh(request, user)
        expiry_snapshot_take(request.session, user)


def note_disabling(
    sender: Any, instance: AbstractBaseUser, update_fields: Any = None, **kwargs: Any
) -> None:
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    was_active = sender.objects.filter(pk=instance.pk, is_active=True).exists()
    setattr(instance, DISABLING_FLAG, was_active)


def end_sessions_of_disabled(
    sender: Any, instance: AbstractBaseUser, **kwargs: Any
) -> None:
    if not getattr(instance, DISABLING_FLAG, False):
        return
    setattr(instance, DISABLING_FLAG, False)
    count = user_sessions_end(instance)
    logger.info("user=%s disabled, %s sessions ended", instance.pk, count)


def connect() -> None:
    """Connect the receivers; called once from the app's ``ready``."""
    user_model = get_user_model()
    user_logged_in.connect(remember_login_state, dispatch_uid="portal-login-state")
    pre_save.connect(
        note_disabling, sender=user_model, dispatch_uid="portal-user-disabling"
    )
    post_save.connect(
        end_sessions_of_disabled, sender=user_model, dispatch_uid="portal-user-off"
    )
