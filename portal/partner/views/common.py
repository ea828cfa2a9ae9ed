"""Context every partner page shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal import access
from portal.access import Capability


def partner_context(request: HttpRequest, *, nav: str, **extra: Any) -> dict[str, Any]:
    """Return the side navigation state and the user's partner rights.

    ``nav`` is the side navigation entry marked as the current page.
    """
    user = request.user
    return {
        "section": "billing" if nav == "billing" else "partner",
        "nav": nav,
        "can_view_tenants": access.has_capability(user, Capability.VIEW_TENANTS),
        "can_admin": access.has_capability(user, Capability.PARTNER_ADMIN),
        "can_view_billing": access.has_capability(user, Capability.VIEW_BILLING),
        **extra,
    }
