"""Holding logged-in users at the two-factor step until they pass it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal.security.two_factor import state_refresh, state_remembered

# Paths every logged-in user reaches, verified or not.
OPEN_PREFIXES = ("/static/", "/healthz", "/login/", "/logout/")


class TwoFactorMiddleware:
    """Send users to the code page or the enrolment page before any other page.

    A user with an authenticator app must enter its code once per session;
    while an owner requires two-factor login, a user without an app must
    enrol one. Needs django-otp's ``OTPMiddleware`` before it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or request.path.startswith(OPEN_PREFIXES):
            return self.get_response(request)

        destination = self._destination(request, refresh=False)
        if destination is not None:
            # Confirm from the database before blocking, in case the
            # session's snapshot is stale (a device removed by an owner, the
            # requirement turned off).
            destination = self._destination(request, refresh=True)
        if destination is None or request.path == destination:
            return self.get_response(request)
        return self._redirect(request, destination)

    @staticmethod
    def _destination(request: HttpRequest, *, refresh: bool) -> str | None:
        state = None if refresh else state_remembered(request.session)
        if state is None:
            state = state_refresh(request)
        if state.has_device and not request.user.is_verified():  # type: ignore[union-attr]
            return reverse("two_factor_verify")
        if state.required and not state.has_device:
            return reverse("two_factor")
        return None

    @staticmethod
    def _redirect(request: HttpRequest, destination: str) -> HttpResponse:
        url = destination
        if request.method == "GET" and not getattr(request, "htmx", False):
            url += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
