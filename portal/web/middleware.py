import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/login/", "/static/", "/healthz")


class LoginRequiredMiddleware:
    """Send anonymous visitors of any page but the public ones to the login."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated and not request.path.startswith(
            PUBLIC_PREFIXES
        ):
            if getattr(request, "htmx", False):
                response = HttpResponse(status=401)
                response["HX-Redirect"] = settings.LOGIN_URL
                return response
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class SophosErrorMiddleware:
    """Show a Sophos Central failure that no view handled as a page, not a 500.

    Lists and actions show Sophos errors in place; this catches the rest,
    for example a detail page of a tenant that now answers 403, and says
    what Sophos answered with its correlation id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        from sophos.errors import RateLimited, SophosError

        if not isinstance(exception, SophosError):
            return None
        logger.warning(
            "sophos error on %s %s: %s (correlation id %s)",
            request.method,
            request.path,
            exception,
            exception.correlation_id or "-",
        )
        status = 503 if isinstance(exception, RateLimited) else 502
        response = render(
            request,
            "sophos_error.html",
            {"error": exception, "sophos_status": exception.status},
            status=status,
        )
        if isinstance(exception, RateLimited) and exception.retry_after:
            response["Retry-After"] = str(int(exception.retry_after) + 1)
        return response
