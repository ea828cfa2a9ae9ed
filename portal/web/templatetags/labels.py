"""Template filters that turn Sophos API values into words."""

from __future__ import annotations

import re

from django import template

register = template.Library()

# Labels for the alert actions Sophos Central lists in allowedActions.
ALERT_ACTION_LABELS = {
    "acknowledge": "Acknowledge",
    "authPua": "Authorize PUA",
    "cleanPua": "Clean PUA",
    "cleanVirus": "Clean virus",
    "clearHmpa": "Clear HitmanPro.Alert",
    "clearThreat": "Clear threat",
    "sendMsgPua": "Message about PUA",
    "sendMsgThreat": "Message about threat",
}


@register.filter
def action_label(action: str) -> str:
    """Return a button label for an alert action, such as "Clean virus"."""
    if action in ALERT_ACTION_LABELS:
        return ALERT_ACTION_LABELS[action]
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", action).lower()
    return words.capitalize()
