"""The login page shown to a username locked out by django-axes."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)


def locked_until(
    request: HttpRequest, credentials: dict[str, Any] | None
) -> datetime.datetime:
    """Return when the lockout of this username from this address ends.

    django-axes forgets failures older than the cool-off, and attempts made
    during a lockout are not recorded, so the lockout ends one cool-off
    after the newest recorded failure.
    """
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    username = get_client_username(request, credentials)
    newest = (
        AccessAttempt.objects.filter(
            username=username, ip_address=get_client_ip_address(request)
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (newest or timezone.now()) + cool_off


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None,
    credentials: dict[str, Any] | None,
) -> HttpResponse:
    """Render the login page with the lockout message, status 429."""
    until = locked_until(request, credentials)
    minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
    logger.warning(
        "login locked out ip=%s until=%s", get_client_ip_address(request), until
    )
    context = {
        # An unbound form: validating it would try the password again.
        "form": AuthenticationForm(
            request, initial={"username": get_client_username(request, credentials)}
        ),
        "locked_until": until,
        "locked_minutes": minutes,
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)
