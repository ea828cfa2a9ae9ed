from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.access import Capability, has_capability, user_roles
from portal.accounts.models import Role
from sophos.services.credentials import CredentialExpiry, connections_expiring


def connection_warnings(request: HttpRequest) -> dict[str, Any]:
    """Add the owners' navigation flags and ``credential_warnings``, the
    credentials near expiry.

    Each value is computed only when a template reads it, so partial
    responses cost no query.
    """
    user = getattr(request, "user", None)
    if user is None:
        return {}

    def may_manage() -> bool:
        return has_capability(user, Capability.MANAGE_CONNECTIONS)

    def owner() -> bool:
        return Role.OWNER in user_roles(user)

    def warnings() -> list[CredentialExpiry]:
        if not may_manage():
            return []
        return connections_expiring()

    return {
        "can_manage_connections": SimpleLazyObject(may_manage),
        "is_owner": SimpleLazyObject(owner),
        "credential_warnings": SimpleLazyObject(warnings),
    }
