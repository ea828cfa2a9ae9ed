"""The ``secret_unreadable`` filter, for templates that show Sophos errors."""

from __future__ import annotations

from django import template

from sophos.errors import SecretUnreadable

register = template.Library()


@register.filter
def secret_unreadable(error: object) -> bool:
    """Return whether ``error`` is a ``SecretUnreadable``.

    Templates explain that error with a link to the connection instead of
    showing its message.
    """
    return isinstance(error, SecretUnreadable)
