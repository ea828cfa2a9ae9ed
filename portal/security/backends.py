"""The login throttle as an authentication backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check, for logins that come with a request.

    The login page always passes its request. A call without one, such as
    the test client's ``login()`` or a script, skips the lockout check and
    goes on to the password check, where django-axes would raise instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if request is None:
            # NOTE: such a call is not throttled. Only the login page is.
            return None
        user: AbstractBaseUser | None = super().authenticate(
            request, username, password, **kwargs
        )
        return user
