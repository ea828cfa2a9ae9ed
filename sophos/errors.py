"""Errors raised by the Sophos Central client.

Every error states whether repeating the request can help (``retryable``) and
keeps what Sophos sent back, so a page can show the message and the
correlation id that Sophos support asks for::

    SophosError
    ├── TransportError          connection failed or timed out (retryable)
    ├── InvalidResponse         the reply is not the JSON that was expected
    ├── RateLimitReached        an interactive call would wait too long for the
    │                           rate limit; carries ``retry_after`` (retryable)
    ├── SecretUnreadable        a connection's stored client secret cannot be
    │                           decrypted with PORTAL_ENCRYPTION_KEY, so no
    │                           request was sent
    └── ApiError                Sophos answered with an error status
        ├── BadRequest          400, 422: the request is invalid
        ├── CredentialsRejected 401: token or credential rejected
        ├── Forbidden           403: the credential may not reach this tenant
        ├── NotFound            404
        ├── Conflict            409: duplicate, or a change already in progress
        ├── RateLimited         429: carries the wait in ``retry_after`` (retryable)
        └── Unavailable         5xx (retryable)
"""

from __future__ import annotations

import math
from typing import Any


class SophosError(Exception):
    """Base class of every error the client raises."""

    retryable = False
    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        error: str = "",
        correlation_id: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.correlation_id = correlation_id
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class TransportError(SophosError):
    """The request did not reach Sophos Central or timed out."""

    retryable = True


class InvalidResponse(SophosError):
    """Sophos Central replied with a body the client cannot read."""


class RateLimitReached(SophosError):
    """The credential's call limit is used up for longer than a person should wait.

    Raised instead of sleeping for calls made inside
    ``sophos.client.interactive_calls``, such as those of a web request.
    ``retry_after`` is the wait in seconds that the call would have needed.
    ``status`` is 429 when Sophos Central sent the wait in ``Retry-After``,
    and None when the portal's own rate limiter set it.
    """

    retryable = True

    def __init__(
        self,
        *,
        retry_after: float,
        status: int | None = None,
        correlation_id: str = "",
        request_id: str = "",
    ) -> None:
        seconds = max(1, math.ceil(retry_after))
        unit = "second" if seconds == 1 else "seconds"
        if status == 429:
            cause = (
                "Sophos Central is rate-limiting this credential (429): its call "
                "limit is used up for now by syncs, jobs or other API clients."
            )
        else:
            cause = (
                "The Sophos Central call limit of this credential is used up for "
                "now by syncs and jobs."
            )
        super().__init__(
            f"{cause} Retry in {seconds} {unit}.",
            correlation_id=correlation_id,
            request_id=request_id,
        )
        self.retry_after = retry_after
        self.status = status


class SecretUnreadable(SophosError):
    """A connection's stored client secret cannot be decrypted.

    ``PORTAL_ENCRYPTION_KEY`` changed since the secret was saved, or the
    stored value is corrupt. Nothing reaches Sophos Central, so ``status``
    and the correlation id stay empty. ``connection_id`` and
    ``connection_name`` name the connection when the caller knows it. The
    message never contains the secret, the key or the ciphertext.
    """

    def __init__(
        self, *, connection_id: int | None = None, connection_name: str = ""
    ) -> None:
        if connection_name:
            subject = f'The stored client secret of connection "{connection_name}"'
        else:
            subject = "The stored client secret"
        super().__init__(
            f"{subject} cannot be decrypted with the current "
            "PORTAL_ENCRYPTION_KEY. Restore the previous key, or have an owner "
            "enter the client secret again on the connection's page."
        )
        self.connection_id = connection_id
        self.connection_name = connection_name


class ApiError(SophosError):
    """Sophos Central replied with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error: str = "",
        correlation_id: str = "",
        request_id: str = "",
        body: Any = None,
    ) -> None:
        super().__init__(
            message,
            error=error,
            correlation_id=correlation_id,
            request_id=request_id,
        )
        self.status = status
        self.body = body


class BadRequest(ApiError):
    pass


class CredentialsRejected(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class RateLimited(ApiError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ApiError):
    retryable = True


STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: CredentialsRejected,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
}

STATUS_WORDS = {
    400: "rejected the request as invalid",
    401: "rejected the credential or token",
    403: "denied access",
    404: "found no such object",
    409: "reported a conflict",
    422: "rejected the request as invalid",
    429: "is rate-limiting this credential",
}


def error_for_status(
    status: int,
    body: Any,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> ApiError:
    """Build the typed error for an error reply from Sophos Central."""
    fields = body if isinstance(body, dict) else {}
    error = str(fields.get("error") or fields.get("errorCode") or "")
    detail = str(fields.get("message") or "")
    words = STATUS_WORDS.get(status, "failed")
    if status >= 500:
        words = "is unavailable"
    message = f"Sophos Central {words} ({status}) for {method} {path}"
    if detail and detail != error:
        message += f": {detail}"
    elif error:
        message += f": {error}"
    kwargs: dict[str, Any] = {
        "status": status,
        "error": error,
        "correlation_id": str(fields.get("correlationId") or ""),
        "request_id": str(fields.get("requestId") or fields.get("trackingId") or ""),
        "body": body,
    }
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return Unavailable(message, **kwargs)
    error_class = STATUS_ERRORS.get(status, ApiError)
    return error_class(message, **kwargs)
