"""Sophos connections: building clients and the embedded demo connection."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from django.conf import settings
from django.utils import timezone

from sophos.client import (
    MemoryTokenStore,
    NoRateLimit,
    RateLimiter,
    SophosClient,
    WhoAmI,
)
from sophos.crypto import decrypt_secret, encrypt_secret
from sophos.errors import SecretUnreadable
from sophos.models import Connection
from sophos.shared_state import CacheRateLimiter, CacheTokenStore

logger = logging.getLogger(__name__)

DEMO_CONNECTION_NAME = "Demo partner (embedded simulator)"


def _transport_for(connection: Connection) -> httpx.BaseTransport | None:
    return _transport_named(connection.transport)


def _transport_named(transport: str) -> httpx.BaseTransport | None:
    if transport == Connection.Transport.SIMULATOR:
        from sophos.simulator.transport import SimulatorTransport

        return SimulatorTransport()
    return None


def _rate_limiter_for(connection: Connection) -> RateLimiter:
    # The embedded simulator enforces no call budget unless a test or the
    # benchmark sets one, so the demo is not slowed to the live pace.
    if connection.transport == Connection.Transport.SIMULATOR:
        per_minute = settings.SIMULATOR_CLIENT_CALLS_PER_MINUTE
        per_day = 0
    else:
        per_minute = settings.SOPHOS_CALLS_PER_MINUTE
        per_day = settings.SOPHOS_CALLS_PER_DAY
    if not per_minute and not per_day:
        return NoRateLimit()
    return CacheRateLimiter(per_minute=per_minute, per_day=per_day)


def _client_secret(connection: Connection) -> str:
    try:
        return decrypt_secret(connection.secret_encrypted)
    except SecretUnreadable:
        raise SecretUnreadable(
            connection_id=connection.pk, connection_name=connection.name
        ) from None


def client_for(connection: Connection) -> SophosClient:
    """Build the API client for a stored connection.

    Raises ``SecretUnreadable``, naming the connection, when its stored
    client secret cannot be decrypted.
    """
    return SophosClient(
        client_id=connection.client_id,
        client_secret=_client_secret(connection),
        token_url=settings.SOPHOS_TOKEN_URL,
        global_url=connection.global_url or settings.SOPHOS_GLOBAL_URL,
        transport=_transport_for(connection),
        timeout=settings.SOPHOS_TIMEOUT_SECONDS,
        max_retries=settings.SOPHOS_MAX_RETRIES,
        token_store=CacheTokenStore(),
        rate_limiter=_rate_limiter_for(connection),
    )


def connection_validate(
    *, client_id: str, client_secret: str, transport: str
) -> WhoAmI:
    """Check a credential with a token request and a whoami call.

    Returns who the credential is; raises the client's ``SophosError`` when
    Sophos Central rejects it or cannot be reached. The check uses a token
    store of its own, so that a token cached for the same client ID cannot
    stand in for a wrong secret. It retries once at most, because a person
    waits for the answer.
    """
    client = SophosClient(
        client_id=client_id,
        client_secret=client_secret,
        token_url=settings.SOPHOS_TOKEN_URL,
        global_url=settings.SOPHOS_GLOBAL_URL,
        transport=_transport_named(transport),
        timeout=settings.SOPHOS_TIMEOUT_SECONDS,
        max_retries=1,
        token_store=MemoryTokenStore(),
        rate_limiter=NoRateLimit(),
    )
    with client:
        client.access_token()
        return client.whoami()


def connection_save(
    *,
    name: str,
    client_id: str,
    client_secret: str,
    transport: str = Connection.Transport.LIVE,
    created_on: dt.date | None = None,
) -> Connection:
    """Create or update a connection, storing the secret encrypted."""
    connection, _ = Connection.objects.update_or_create(
        name=name,
        defaults={
            "client_id": client_id,
            "secret_encrypted": encrypt_secret(client_secret),
            "transport": transport,
            "credential_created_on": created_on or timezone.localdate(),
        },
    )
    return connection


def connection_identify(*, connection: Connection) -> Connection:
    """Ask whoami who the credential is and store the result."""
    with client_for(connection) as client:
        me = client.whoami()
    connection.kind = me.id_type
    connection.principal_id = me.id
    connection.save(update_fields=["kind", "principal_id", "updated_at"])
    return connection


def demo_connection_ensure() -> Connection:
    """Create the connection bound to the embedded simulator, once."""
    from sophos.simulator.seed import demo_credential

    credential = demo_credential()
    connection = Connection.objects.filter(name=DEMO_CONNECTION_NAME).first()
    if connection and connection.client_id == credential.client_id:
        return connection
    connection = connection_save(
        name=DEMO_CONNECTION_NAME,
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        transport=Connection.Transport.SIMULATOR,
    )
    return connection_identify(connection=connection)
