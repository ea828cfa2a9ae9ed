"""Adding, changing and removing Sophos Central connections, and the expiry
of their API credentials.

Every change is checked against Sophos Central first (a token request and
whoami) and saves nothing when the check fails. The client secret is stored
encrypted and never reaches logs, the audit log or an error message. Each
attempt, whether it succeeds or fails, is recorded in the audit log.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from sophos.client import WhoAmI
from sophos.crypto import decrypt_secret, encrypt_secret
from sophos.errors import (
    CredentialsRejected,
    Forbidden,
    RateLimited,
    RateLimitReached,
    SecretUnreadable,
    SophosError,
    TransportError,
    Unavailable,
)
from sophos.models import AuditEntry, Connection
from sophos.services.audit import audit_record
from sophos.services.connections import connection_validate

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser

# Sophos Central API credentials stop working 36 months after they are
# created; the portal warns this many days before.
CREDENTIAL_LIFETIME_MONTHS = 36
EXPIRY_WARNING_DAYS = 30

# The token service's error codes, in words a technician can act on.
TOKEN_ERROR_WORDS = {
    "oauth.invalid_client_id": "Sophos Central does not know this client ID",
    "oauth.invalid_client_secret": "Sophos Central rejected the client secret",
    "oauth.client_disabled": "This API credential is disabled in Sophos Central",
}


class ConnectionRejected(Exception):
    """A connection change that was not saved, with the reason in plain words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def credential_problem(exc: SophosError) -> str:
    """Describe why Sophos Central did not accept a credential."""
    code = exc.error or (str(exc.status) if exc.status else "")
    if isinstance(exc, CredentialsRejected):
        words = TOKEN_ERROR_WORDS.get(
            exc.error, "Sophos Central rejected the credential"
        )
        text = f"{words} ({code})."
    elif isinstance(exc, Forbidden):
        text = f"Sophos Central denied this credential access ({code})."
    elif isinstance(exc, RateLimited):
        wait = f" in {exc.retry_after:.0f} seconds" if exc.retry_after else " later"
        text = f"Sophos Central is rate-limiting this credential: try again{wait}."
    elif isinstance(exc, RateLimitReached):
        text = exc.message
    elif isinstance(exc, Unavailable | TransportError):
        text = f"Sophos Central could not be reached ({exc}). Try again later."
    else:
        text = f"Sophos Central did not accept the credential: {exc}"
    reference = exc.correlation_id or exc.request_id
    if reference:
        text += f" Sophos reference: {reference}."
    return text


def credential_expires_on(created_on: dt.date) -> dt.date:
    """Return the day a credential created on ``created_on`` expires."""
    months = created_on.month - 1 + CREDENTIAL_LIFETIME_MONTHS
    year = created_on.year + months // 12
    month = months % 12 + 1
    day = min(created_on.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


@dataclass(frozen=True)
class CredentialExpiry:
    connection: Connection
    expires_on: dt.date
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def credential_expiry(
    connection: Connection, *, today: dt.date | None = None
) -> CredentialExpiry | None:
    """Return when the connection's credential expires, if its creation
    date is known."""
    if connection.credential_created_on is None:
        return None
    expires_on = credential_expires_on(connection.credential_created_on)
    days_left = (expires_on - (today or timezone.localdate())).days
    return CredentialExpiry(connection, expires_on, days_left)


def _check_transport(transport: str) -> None:
    if transport not in Connection.Transport.values:
        raise ConnectionRejected(
            f"Transport {transport!r} is invalid: use live or simulator.",
            field="transport",
        )
    if transport == Connection.Transport.SIMULATOR and settings.PRODUCTION:
        raise ConnectionRejected(
            "The embedded simulator is available in embedded mode only.",
            field="transport",
        )


def _audit_parameters(
    *,
    name: str,
    client_id: str,
    transport: str,
    credential_created_on: dt.date | None,
) -> dict[str, Any]:
    # Key names avoid the words that audit.scrub redacts, such as
    # "credential" and "secret", so that these harmless values stay readable.
    return {
        "name": name,
        "client_id": client_id,
        "transport": transport,
        "created_on": (
            credential_created_on.isoformat() if credential_created_on else None
        ),
    }


# sensitive_variables() hides every local variable of the decorated call and
# of the calls below it (the client's token form among them) from Django's
# error reports.
@sensitive_variables()
def _validate(
    *,
    user: AnyUser,
    operation: str,
    parameters: dict[str, Any],
    client_id: str,
    client_secret: str,
    transport: str,
) -> WhoAmI:
    try:
        return connection_validate(
            client_id=client_id, client_secret=client_secret, transport=transport
        )
    except SophosError as exc:
        problem = credential_problem(exc)
        logger.warning(
            "connection check failed client=%s status=%s error=%s",
            client_id,
            exc.status,
            exc.error,
        )
        audit_record(
            user=user,
            operation=operation,
            outcome=AuditEntry.Outcome.FAILED,
            parameters=parameters,
            status_code=exc.status,
            message=problem,
            correlation_id=exc.correlation_id,
        )
        raise ConnectionRejected(problem) from exc


@sensitive_variables()
def connection_create(
    *,
    user: AnyUser,
    name: str,
    client_id: str,
    client_secret: str,
    transport: str,
    credential_created_on: dt.date,
) -> Connection:
    """Check a new credential with Sophos Central and store it.

    Raises ``ConnectionRejected`` with the reason when the check fails; then
    nothing is saved.
    """
    _check_transport(transport)
    parameters = _audit_parameters(
        name=name,
        client_id=client_id,
        transport=transport,
        credential_created_on=credential_created_on,
    )
    me = _validate(
        user=user,
        operation="connection_create",
        parameters=parameters,
        client_id=client_id,
        client_secret=client_secret,
        transport=transport,
    )

    with transaction.atomic():
        connection = Connection.objects.create(
            name=name,
            client_id=client_id,
            secret_encrypted=encrypt_secret(client_secret),
            transport=transport,
            kind=me.id_type,
            principal_id=me.id,
            credential_created_on=credential_created_on,
        )
        audit_record(
            user=user,
            operation="connection_create",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters={**parameters, "kind": me.id_type, "principal_id": me.id},
            message=f"Added {me.id_type} connection {name}.",
        )
    logger.info("connection added id=%s kind=%s", connection.pk, me.id_type)
    return connection


@sensitive_variables()
def connection_update(
    *,
    user: AnyUser,
    connection: Connection,
    name: str,
    client_id: str,
    client_secret: str,
    transport: str,
    credential_created_on: dt.date | None,
) -> Connection:
    """Change a connection; an empty ``client_secret`` keeps the stored one.

    A changed client ID, secret or transport is checked with Sophos Central
    first, and must still belong to the same partner, organization or
    tenant. Raises ``ConnectionRejected`` with the reason, saving nothing.
    """
    _check_transport(transport)
    secret_changed = bool(client_secret)
    parameters = _audit_parameters(
        name=name,
        client_id=client_id,
        transport=transport,
        credential_created_on=credential_created_on,
    )
    parameters["connection_id"] = connection.pk
    parameters["changed"] = _changed_fields(
        connection,
        name=name,
        client_id=client_id,
        secret_changed=secret_changed,
        transport=transport,
        credential_created_on=credential_created_on,
    )
    credential_changed = (
        secret_changed
        or client_id != connection.client_id
        or transport != connection.transport
    )

    if credential_changed:
        secret = client_secret or _stored_secret(connection)
        me = _validate(
            user=user,
            operation="connection_update",
            parameters=parameters,
            client_id=client_id,
            client_secret=secret,
            transport=transport,
        )
        _check_same_principal(user, connection, me, parameters)
        if secret_changed:
            connection.secret_encrypted = encrypt_secret(client_secret)
        connection.kind = me.id_type
        connection.principal_id = me.id

    connection.name = name
    connection.client_id = client_id
    connection.transport = transport
    connection.credential_created_on = credential_created_on
    with transaction.atomic():
        connection.save()
        audit_record(
            user=user,
            operation="connection_update",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters=parameters,
            message=f"Changed connection {name}.",
        )
    logger.info("connection changed id=%s", connection.pk)
    return connection


def _changed_fields(
    connection: Connection,
    *,
    name: str,
    client_id: str,
    secret_changed: bool,
    transport: str,
    credential_created_on: dt.date | None,
) -> list[str]:
    changes = {
        "name": name != connection.name,
        "client ID": client_id != connection.client_id,
        "client secret": secret_changed,
        "transport": transport != connection.transport,
        "creation date": credential_created_on != connection.credential_created_on,
    }
    return [label for label, changed in changes.items() if changed]


def connection_secret_readable(*, connection: Connection) -> bool:
    """Return whether the stored client secret decrypts with the current key."""
    try:
        decrypt_secret(connection.secret_encrypted)
    except SecretUnreadable:
        return False
    return True


def _stored_secret(connection: Connection) -> str:
    try:
        return decrypt_secret(connection.secret_encrypted)
    except SecretUnreadable as exc:
        raise ConnectionRejected(
            "The stored client secret cannot be decrypted with this portal's "
            "encryption key: enter the client secret again.",
            field="client_secret",
        ) from exc


def _check_same_principal(
    user: AnyUser, connection: Connection, me: WhoAmI, parameters: dict[str, Any]
) -> None:
    if not connection.principal_id or connection.principal_id == me.id:
        return
    problem = (
        f"This credential belongs to {me.id_type} {me.id}, but this connection "
        f"mirrors {connection.kind or 'account'} {connection.principal_id}: add "
        "it as a new connection instead."
    )
    audit_record(
        user=user,
        operation="connection_update",
        outcome=AuditEntry.Outcome.FAILED,
        parameters=parameters,
        message=problem,
    )
    raise ConnectionRejected(problem)


def connection_delete(*, user: AnyUser, connection: Connection) -> int:
    """Remove a connection and its tenants from the portal's mirror.

    Sophos Central is not changed. Returns the number of tenants removed.
    """
    tenants = connection.tenants.count()
    parameters = {
        "connection_id": connection.pk,
        "name": connection.name,
        "client_id": connection.client_id,
        "kind": connection.kind,
        "principal_id": connection.principal_id,
        "tenants": tenants,
    }
    with transaction.atomic():
        connection.delete()
        audit_record(
            user=user,
            operation="connection_delete",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters=parameters,
            message=f"Removed connection {parameters['name']}.",
        )
    logger.info(
        "connection removed id=%s tenants=%s", parameters["connection_id"], tenants
    )
    return tenants
