"""OAuth2 client-credentials tokens: issuing them and checking bearers."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta

from sophos.simulator import clock
from sophos.simulator.http import ApiError, SimRequest
from sophos.simulator.models import SimCredential, SimToken


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_jwt(credential: SimCredential, lifetime: int) -> str:
    """Return a token shaped like Sophos's JWT; only the simulator reads it."""
    issued = int(clock.now().timestamp())
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "sub": credential.client_id,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_hex(16),
    }
    parts = [
        _b64(json.dumps(header).encode()),
        _b64(json.dumps(payload).encode()),
        _b64(secrets.token_bytes(32)),
    ]
    return ".".join(parts)


def issue_tokens(credential: SimCredential, lifetime: int) -> tuple[str, str]:
    """Store and return a new access token and refresh token."""
    access = make_jwt(credential, lifetime)
    refresh = secrets.token_urlsafe(48)
    moment = clock.now()
    SimToken.objects.bulk_create(
        [
            SimToken(
                digest=digest(access),
                credential=credential,
                kind=SimToken.Kind.ACCESS,
                expires_at=moment + timedelta(seconds=lifetime),
            ),
            SimToken(
                digest=digest(refresh),
                credential=credential,
                kind=SimToken.Kind.REFRESH,
                # NOTE/sophos-api: refresh token lifetime unknown; a day here.
                expires_at=moment + timedelta(days=1),
            ),
        ]
    )
    SimToken.objects.filter(expires_at__lt=moment - timedelta(hours=1)).delete()
    return access, refresh


def find_refresh_credential(refresh_token: str) -> SimCredential | None:
    found = (
        SimToken.objects.select_related("credential")
        .filter(
            digest=digest(refresh_token),
            kind=SimToken.Kind.REFRESH,
            expires_at__gt=clock.now(),
        )
        .first()
    )
    return found.credential if found else None


def authenticate(request: SimRequest) -> SimCredential:
    """Return the credential behind the request's bearer token or raise 401."""
    header = request.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing bearer token in the Authorization header.")
    found = (
        SimToken.objects.select_related("credential")
        .filter(digest=digest(token.strip()), kind=SimToken.Kind.ACCESS)
        .first()
    )
    if found is None:
        raise ApiError(401, "Invalid access token: request a new one.")
    if found.expires_at <= clock.now():
        raise ApiError(401, "Access token expired: request a new one.")
    if not found.credential.enabled:
        raise ApiError(401, "The API credential of this token is disabled.")
    return found.credential
