"""The audit log: every write made through the portal, without secrets."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sophos.errors import SophosError
from sophos.models import AuditEntry, Job

logger = logging.getLogger(__name__)

# Keys whose values never reach the audit log, however deeply nested.
SECRET_KEY_PATTERN = re.compile(
    r"secret|password|passwd|token|authorization|api[_-]?key|credential",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """Return a copy of ``value`` with every secret-looking key's value redacted."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if SECRET_KEY_PATTERN.search(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def audit_record(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    operation: str,
    outcome: str,
    tenant_id: uuid.UUID | str | None = None,
    tenant_name: str = "",
    parameters: Mapping[str, Any] | None = None,
    status_code: int | None = None,
    message: str = "",
    correlation_id: str = "",
    job: Job | None = None,
) -> AuditEntry:
    authenticated = user is not None and user.is_authenticated
    return AuditEntry.objects.create(
        user_id=user.pk if authenticated and user is not None else None,
        username=user.get_username() if authenticated and user is not None else "",
        tenant_id=uuid.UUID(str(tenant_id)) if tenant_id else None,
        tenant_name=tenant_name,
        operation=operation,
        parameters=scrub(dict(parameters or {})),
        outcome=outcome,
        status_code=status_code,
        message=message[:2000],
        correlation_id=correlation_id,
        job=job,
    )


@dataclass
class AuditContext:
    """Result details that the audited block records in the log."""

    status_code: int | None = None
    correlation_id: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    operation: str,
    tenant_id: uuid.UUID | str | None = None,
    tenant_name: str = "",
    parameters: Mapping[str, Any] | None = None,
    job: Job | None = None,
) -> Iterator[AuditContext]:
    """Record the write made inside the block, whether it succeeds or fails."""
    context = AuditContext()
    try:
        yield context
    except SophosError as exc:
        audit_record(
            user=user,
            operation=operation,
            outcome=AuditEntry.Outcome.FAILED,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            parameters={**(parameters or {}), **context.extra},
            status_code=exc.status,
            message=str(exc),
            correlation_id=exc.correlation_id,
            job=job,
        )
        raise
    except Exception as exc:
        audit_record(
            user=user,
            operation=operation,
            outcome=AuditEntry.Outcome.FAILED,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            parameters={**(parameters or {}), **context.extra},
            message=f"{type(exc).__name__}: {exc}",
            job=job,
        )
        raise
    audit_record(
        user=user,
        operation=operation,
        outcome=AuditEntry.Outcome.SUCCEEDED,
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        parameters={**(parameters or {}), **context.extra},
        status_code=context.status_code,
        message=context.message,
        correlation_id=context.correlation_id,
        job=job,
    )
