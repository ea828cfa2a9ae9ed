from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.access import Capability, has_capability, user_roles
from portal.accounts.models import Role
from portal.connections.warnings import ExpiryWarning, expiry_warnings


def connection_warnings(request: HttpRequest) -> dict[str, Any]:
    """Add the owners' navigation flags and ``credential_warnings``, the
    credentials near expiry.

    Each value is computed only when a template reads it, so partial
    responses cost nothing.
    """
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or session is None:
        return {}

    def may_manage() -> bool:
        return has_capability(user, Capability.MANAGE_CONNECTIONS)

    def owner() -> bool:
        return Role.OWNER in user_roles(user)

    def warnings() -> list[ExpiryWarning]:
        return expiry_warnings(session, user)

    return {
        "can_manage_connections": SimpleLazyObject(may_manage),
        "is_owner": SimpleLazyObject(owner),
        "credential_warnings": SimpleLazyObject(warnings),
    }
