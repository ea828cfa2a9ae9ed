"""Error pages that Django's defaults would show unstyled or empty."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

CSRF_FAILURE_MESSAGE = (
    "This form has expired, probably because you signed in again or in another "
    "tab. Reload the page and try again."
)


def back_url(request: HttpRequest) -> str:
    """Return the same-site page the request came from, or an empty string."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Render the styled 403 page for a form whose CSRF token is stale.

    Django's CsrfViewMiddleware calls this view (``CSRF_FAILURE_VIEW``) and
    has already logged ``reason`` on the ``django.security.csrf`` logger.
    """
    context = {
        "error_title": "Form expired",
        "error_message": CSRF_FAILURE_MESSAGE,
        "back_url": back_url(request),
        "back_label": "Reload the page",
    }
    return render(request, "403.html", context, status=403)


def method_not_allowed_page(request: HttpRequest, allowed: str) -> HttpResponse:
    """Render the styled 405 page for an address that takes ``allowed``."""
    if "POST" in allowed and "GET" not in allowed:
        title = "Form submissions only"
        message = (
            "This address only accepts form submissions. Open the page that "
            "contains the form and submit it from there."
        )
    else:
        title = "Method not allowed"
        message = (
            f"This address does not accept {request.method} requests, only "
            f"{allowed}. Open it from a link or form in the portal."
        )
    context = {
        "error_title": title,
        "error_message": message,
        "back_url": back_url(request),
    }
    response = render(request, "405.html", context, status=405)
    response["Allow"] = allowed
    return response
