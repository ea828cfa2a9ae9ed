"""The unread notification count that the page header shows."""

from __future__ import annotations

from typing import Any

from django import template

from portal import access
from sophos.services import notifications

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_unread_count(context: dict[str, Any]) -> int:
    """Return how many notifications the request's user has not read."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    visible = notifications.notifications_visible(
        tenants=access.tenants_visible(user),
        every_tenant=access.sees_every_tenant(user),
    )
    unread = notifications.notifications_unread(
        notifications=visible, user_id=int(user.pk)
    )
    return unread.count()
