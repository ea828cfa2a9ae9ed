"""Template filters that ask ``portal.access`` what the user may do."""

from __future__ import annotations

from django import template

from portal import access
from portal.access import AnyUser, Capability

register = template.Library()


@register.filter
def has_capability(user: AnyUser, capability: str) -> bool:
    """Return whether ``user`` has the capability named ``capability``.

    ``{% if user|has_capability:"view_billing" %}`` shows a link only to
    users whose roles allow the page. An unknown name raises ``ValueError``.
    """
    return access.has_capability(user, Capability(capability))
