"""Read typed values out of Sophos Central JSON without trusting its shape.

A field that is missing, null or of an unexpected type reads as empty, so a
partial reply shows as blanks on a page instead of failing it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)


def mapping(value: Any) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str:
    """Return ``value`` as text, or "" for null, objects and lists."""
    if value is None or isinstance(value, Mapping | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def strings(value: Any) -> list[str]:
    """Return a JSON array of scalars as a list of strings."""
    if not isinstance(value, list):
        return []
    return [text(item) for item in value if text(item)]


def ids(value: Any) -> list[str]:
    """Return the ids of a JSON array of ids or of ``{"id": ...}`` objects."""
    if not isinstance(value, list):
        return []
    found = []
    for item in value:
        identifier = text(mapping(item).get("id")) if isinstance(item, Mapping) else ""
        identifier = identifier or text(item)
        if identifier:
            found.append(identifier)
    return found


def integer(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def timestamp(value: Any) -> dt.datetime | None:
    """Parse an ISO 8601 date-time; a time without a zone is taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        logger.warning("sophos sent an unreadable date-time %r", value[:40])
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def actor_from(value: Any) -> dict[str, str]:
    """Return the fields of a ``createdBy``-style object, or {} when absent."""
    data = mapping(value)
    if not data:
        return {}
    return {
        "id": text(data.get("id")),
        "name": text(data.get("name")),
        "type": text(data.get("type")),
        "account_type": text(data.get("accountType")),
    }
