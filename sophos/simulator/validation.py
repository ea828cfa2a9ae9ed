"""Checks of request body fields; every 400 names the field that failed.

Field names in messages are the JSON paths a client sends, such as
``properties.sha256`` or ``appliesTo.users``, so a client can show the
message next to the input it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sophos.simulator.http import ApiError


def invalid(field: str, problem: str) -> ApiError:
    """Return the 400 error for one field, e.g. ``Invalid type 'x': use ...``."""
    return ApiError(400, f"Invalid {field}: {problem}")


def missing(field: str) -> ApiError:
    return ApiError(400, f"Missing required field {field!r} in the body.")


def text(
    body: dict[str, Any], field: str, *, prefix: str = "", blank: bool = False
) -> str:
    """Return a required string field, non-blank unless ``blank`` is set."""
    name = prefix + field
    if field not in body:
        raise missing(name)
    value = body[field]
    if not isinstance(value, str) or not (blank or value.strip()):
        raise invalid(name, "send text." if blank else "send non-empty text.")
    return value


def optional_text(
    body: dict[str, Any], field: str, default: str = "", *, prefix: str = ""
) -> str:
    """Return a string field that may be absent or null, else ``default``."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(prefix + field, "send text.")
    return value


def choice(
    body: dict[str, Any],
    field: str,
    allowed: Iterable[str],
    *,
    default: str | None = None,
    prefix: str = "",
) -> str:
    """Return a field whose value is one of ``allowed``.

    Without a ``default`` the field is required.
    """
    name = prefix + field
    options = sorted(allowed)
    if body.get(field) is None:
        if default is None:
            raise missing(name)
        return default
    value = body[field]
    if value not in options:
        raise invalid(name, f"{value!r} is not one of {', '.join(options)}.")
    return str(value)


def flag(body: dict[str, Any], field: str, *, prefix: str = "") -> bool | None:
    """Return a boolean field, or None when it is absent."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(prefix + field, "use true or false.")
    return value


def integer(
    value: Any, field: str, *, low: int | None = None, high: int | None = None
) -> int:
    """Return ``value`` as an int within ``low`` to ``high``, both included."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, f"{value!r} is not a whole number.")
    if low is not None and value < low:
        raise invalid(field, f"{value} is less than {low}.")
    if high is not None and value > high:
        raise invalid(field, f"{value} is more than {high}.")
    number: int = value
    return number


def text_list(
    body: dict[str, Any], field: str, *, required: bool = False, prefix: str = ""
) -> list[str]:
    """Return a list of non-blank strings; absent gives an empty list."""
    name = prefix + field
    value = body.get(field)
    if value is None:
        if required:
            raise missing(name)
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise invalid(name, "send a list of non-empty strings.")
    if required and not value:
        raise invalid(name, "send at least one value.")
    return list(value)


def id_list(body: dict[str, Any], field: str, *, required: bool = True) -> list[str]:
    """Return a list of ids; numbers are taken as their text."""
    value = body.get(field)
    if value is None:
        if required:
            raise missing(field)
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, str | int) and not isinstance(item, bool) for item in value
    ):
        raise invalid(field, "send a list of ids.")
    return [str(item) for item in value]


def only_fields(body: dict[str, Any], allowed: Iterable[str], request: str) -> None:
    """Reject fields outside ``allowed``; ``request`` names the request kind."""
    known = set(allowed)
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(
            unknown[0],
            f"{request} does not take this field; send only "
            f"{', '.join(sorted(known))}.",
        )


def mapping(
    body: dict[str, Any], field: str, *, required: bool = False
) -> dict[str, Any]:
    """Return an object field; absent gives an empty object unless required."""
    value = body.get(field)
    if value is None:
        if required:
            raise missing(field)
        return {}
    if not isinstance(value, dict):
        raise invalid(field, "send a JSON object.")
    return value
