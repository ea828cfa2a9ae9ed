import logging
import math
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


class MethodNotAllowedPageMiddleware:
    """Replace an empty 405 response to a GET or HEAD with the styled page.

    Django's ``require_POST`` and ``require_http_methods`` return an empty
    body, which a browser shows as a blank page. The Allow header is kept.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from portal.web.errors import method_not_allowed_page

        response = self.get_response(request)
        if (
            response.status_code != 405
            or request.method not in ("GET", "HEAD")
            or response.streaming
            or response.content
        ):
            return response
        return method_not_allowed_page(request, response.get("Allow", ""))


class InteractiveSophosCallsMiddleware:
    """Cap how long a web request's Sophos calls wait for the limit and retries.

    Syncs and jobs share each credential's call budget with the pages. While
    they use it up, a page's call would wait for the next window, up to a
    minute, and the backoffs before retrying a 5xx reply add up to 15 to 19 s
    with the default four retries. Inside a request the waits are capped at
    ``SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS`` in total. A longer rate-limit wait
    raises ``RateLimitReached``, which the page shows with the seconds to
    wait, and a longer backoff raises the last error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from sophos.client import interactive_calls

        with interactive_calls(settings.SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS):
            return self.get_response(request)


class SophosErrorMiddleware:
    """Show a Sophos Central failure that no view handled as a page, not a 500.

    Lists and actions show Sophos errors in place; this catches the rest,
    for example a detail page of a tenant that now returns 403, and shows
    the Sophos error message with its correlation id. A connection whose stored
    client secret cannot be decrypted gets its own explanation, because
    nothing was sent to Sophos.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        from sophos.errors import (
            RateLimited,
            RateLimitReached,
            SecretUnreadable,
            SophosError,
        )

        if not isinstance(exception, SophosError):
            return None
        logger.warning(
            "sophos error on %s %s: %s (correlation id %s)",
            request.method,
            request.path,
            exception,
            exception.correlation_id or "-",
        )
        limit = (
            exception if isinstance(exception, RateLimited | RateLimitReached) else None
        )
        response = render(
            request,
            "sophos_error.html",
            {
                "error": exception,
                "sophos_status": exception.status,
                "rate_limited": limit is not None,
                "secret_unreadable": isinstance(exception, SecretUnreadable),
            },
            status=502 if limit is None else 503,
        )
        if limit is not None and limit.retry_after:
            response["Retry-After"] = str(math.ceil(limit.retry_after))
        return response
