"""The login page, which ignores a ``next`` address that leads back to it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.urls import reverse


def next_url_loops(url: str) -> bool:
    """Return whether ``url`` is the login or logout page.

    After signing in, a redirect to either shows the login form again. The
    comparison ignores a trailing slash because CommonMiddleware appends one.
    """
    path = urlsplit(url).path.rstrip("/")
    return path in {reverse("login").rstrip("/"), reverse("logout").rstrip("/")}


class LoginView(auth_views.LoginView):
    def get_redirect_url(self) -> str:
        url = super().get_redirect_url()
        if url and next_url_loops(url):
            return ""
        return url
