"""The template filter that decides whether the navigation shows the console."""

from __future__ import annotations

from django import template

from portal.access import AnyUser, Capability, has_capability

register = template.Library()


@register.filter
def can_use_console(user: AnyUser) -> bool:
    return has_capability(user, Capability.API_CONSOLE)
