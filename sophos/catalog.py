"""Catalog of the Sophos Central API operations that the portal covers.

Each operation is one route: method, path template, host, ID header scope,
paging style, success status, parameter and body field names. The client,
the simulator, the API console and the coverage tests read this catalog, so
it is the single list of supported routes.

The data is ``catalog.json`` beside this module, written by
``scripts/build_catalog.py``. Free-form requests to routes outside the
catalog are not operations here; the API console sends those itself.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal, cast, get_args
from urllib.parse import quote

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
# "global" is https://api.central.sophos.com, and "regional" is the tenant's
# apiHost, https://api-<dataRegion>.central.sophos.com.
Host = Literal["global", "regional"]
# ID header of the request: X-Tenant-ID, X-Partner-ID or X-Organization-ID.
Scope = Literal["tenant", "partner", "organization"]
# "key" pages with pageFromKey/pages.nextKey, "page" with page/pageTotal.
Paging = Literal["key", "page", "none"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")
# Characters that could change which route a path parameter reaches.
_FORBIDDEN_IN_VALUE = ("/", "\\", "?", "#", "%", "..")
# RFC 3986 sub-delims, ":" and "@" stay as they are, and other characters are
# percent-encoded.
_SAFE_IN_SEGMENT = "-._~!$&'()*+,;=:@"


class UnknownOperation(KeyError):
    """No operation has the requested name."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.suggestions = suggestions

    def __str__(self) -> str:
        message = f"Unknown Sophos Central operation {self.name!r}."
        if self.suggestions:
            return f"{message} Did you mean: {', '.join(self.suggestions)}?"
        return f"{message} See sophos.catalog.all_operations() for valid names."


class MissingPathParameter(ValueError):
    """A path placeholder was given no value."""

    def __init__(self, operation: str, parameter: str) -> None:
        super().__init__(
            f"Missing path parameter {parameter!r} for operation {operation!r}."
        )
        self.operation = operation
        self.parameter = parameter


class InvalidPathParameter(ValueError):
    """A path parameter value is empty or could leave its path segment."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One Sophos Central API route as the portal uses it."""

    name: str
    category: str
    category_label: str
    title: str
    method: Method
    path: str
    host: Host
    scope: Scope
    paging: Paging
    success_status: int
    query_params: tuple[str, ...]
    body_required: tuple[str, ...]
    body_optional: tuple[str, ...]
    # Largest pageSize that a source documents, or None when no source states one.
    max_page_size: int | None
    # True for POST routes that take no fields but need a "{}" body, because
    # Sophos Central rejects an empty body on them.
    bodiless_post: bool
    description: str
    # Placeholder names of ``path`` in order, e.g. ("policyId", "settingKey").
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", _placeholders(self.path))

    def build_path(self, **params: str | int) -> str:
        """Fill the path placeholders with the given values.

        Raise MissingPathParameter when a placeholder has no value,
        InvalidPathParameter when a value is empty or contains ``/``, ``\\``,
        ``?``, ``#``, ``%`` or ``..``, and TypeError for an unknown name.
        Other characters outside the RFC 3986 segment set are percent-encoded.
        """
        unknown = sorted(set(params) - set(self.path_params))
        if unknown:
            raise TypeError(
                f"Operation {self.name!r} has no path parameter "
                f"{', '.join(map(repr, unknown))}; "
                f"it takes {', '.join(self.path_params) or 'none'}."
            )

        def fill(placeholder: re.Match[str]) -> str:
            parameter = placeholder.group(1)
            if parameter not in params:
                raise MissingPathParameter(self.name, parameter)
            return _encode_segment(self.name, parameter, params[parameter])

        return _PLACEHOLDER.sub(fill, self.path)


def get(name: str) -> Operation:
    """Return the operation with this name or raise UnknownOperation."""
    operations = _operations_by_name()
    try:
        return operations[name]
    except KeyError:
        suggestions = difflib.get_close_matches(name, operations, n=3, cutoff=0.6)
        raise UnknownOperation(name, suggestions) from None


def all_operations() -> tuple[Operation, ...]:
    """Return every operation, grouped by category in display order."""
    return _load()[1]


def categories() -> dict[str, str]:
    """Return the category names mapped to their labels, in display order."""
    return dict(_load()[0])


def by_category() -> dict[str, list[Operation]]:
    """Return the operations of each category, keyed by category name."""
    grouped: dict[str, list[Operation]] = {name: [] for name in categories()}
    for operation in all_operations():
        grouped[operation.category].append(operation)
    return grouped


def match(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """Find the operation that serves a concrete request path.

    ``path`` is the URL path without query string, e.g.
    ``/endpoint/v1/endpoints/abc/isolation``. Returns the operation and its
    path parameters, or None when no operation matches. Where two templates
    fit, the one with a literal segment further left wins, so
    ``/partner/v1/roles/permission-sets`` is not read as a role id.
    """
    if not path.startswith("/"):
        return None
    segments = path[1:].split("/")
    candidates = _match_index().get((method.upper(), len(segments)), [])
    for operation, template in candidates:
        values: dict[str, str] = {}
        for segment, (literal, parameter) in zip(segments, template, strict=True):
            if parameter is not None and segment:
                values[parameter] = segment
            elif literal != segment:
                break
        else:
            return operation, values
    return None


def _placeholders(path: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.findall(path))


def _encode_segment(operation: str, parameter: str, value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidPathParameter(
            f"Path parameter {parameter!r} of {operation!r} must be a string or "
            f"an integer, not {type(value).__name__}."
        )
    text = str(value)
    if not text.strip():
        raise InvalidPathParameter(
            f"Path parameter {parameter!r} of {operation!r} is empty."
        )
    if text.strip() == ".":
        # httpx normalises a "." segment away, which would reach the
        # collection instead of one item.
        raise InvalidPathParameter(
            f"Path parameter {parameter!r} of {operation!r} is '.': "
            "pass a single id or key."
        )
    for forbidden in _FORBIDDEN_IN_VALUE:
        if forbidden in text:
            raise InvalidPathParameter(
                f"Path parameter {parameter!r} of {operation!r} contains "
                f"{forbidden!r}: {text!r}. Pass a single id or key."
            )
    return quote(text, safe=_SAFE_IN_SEGMENT)


_Template = tuple[tuple[str, str | None], ...]


@functools.cache
def _match_index() -> dict[tuple[str, int], list[tuple[Operation, _Template]]]:
    """Index the operations by method and segment count for match().

    Within each bucket, templates are sorted so that at the first position
    where two differ, the one with a literal segment comes first.
    """
    index: dict[tuple[str, int], list[tuple[Operation, _Template]]] = {}
    for operation in all_operations():
        template = _template(operation.path)
        key = (operation.method, len(template))
        index.setdefault(key, []).append((operation, template))
    for candidates in index.values():
        candidates.sort(key=lambda candidate: _placeholder_positions(candidate[1]))
    return index


def _template(path: str) -> _Template:
    """Split a path template into (segment, placeholder name or None) pairs."""
    template: list[tuple[str, str | None]] = []
    for segment in path[1:].split("/"):
        placeholder = _PLACEHOLDER.fullmatch(segment)
        template.append((segment, placeholder.group(1) if placeholder else None))
    return tuple(template)


def _placeholder_positions(template: _Template) -> list[bool]:
    return [parameter is not None for _segment, parameter in template]


@functools.cache
def _operations_by_name() -> dict[str, Operation]:
    return {operation.name: operation for operation in all_operations()}


@functools.cache
def _load() -> tuple[tuple[tuple[str, str], ...], tuple[Operation, ...]]:
    """Read catalog.json and return (name, label) categories and operations."""
    text = resources.files("sophos").joinpath("catalog.json").read_text("utf-8")
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("catalog.json: the top level must be an object.")

    labels: dict[str, str] = {}
    for raw in _list(document, "categories"):
        category = _object(raw, "categories[]")
        labels[_str(category, "name")] = _str(category, "label")

    operations = tuple(
        _operation(_object(raw, "operations[]"), labels)
        for raw in _list(document, "operations")
    )
    names = [operation.name for operation in operations]
    if len(set(names)) != len(names):
        raise ValueError("catalog.json: operation names must be unique.")
    return tuple(labels.items()), operations


def _operation(raw: dict[str, object], labels: dict[str, str]) -> Operation:
    category = _str(raw, "category")
    if category not in labels:
        raise ValueError(f"catalog.json: unknown category {category!r}.")
    max_page_size = raw.get("max_page_size")
    if max_page_size is not None and not isinstance(max_page_size, int):
        raise ValueError(f"catalog.json: invalid max_page_size {max_page_size!r}.")
    bodiless_post = raw.get("bodiless_post")
    if not isinstance(bodiless_post, bool):
        raise ValueError(f"catalog.json: invalid bodiless_post {bodiless_post!r}.")

    return Operation(
        name=_str(raw, "name"),
        category=category,
        category_label=labels[category],
        title=_str(raw, "title"),
        method=cast(Method, _choice(raw, "method", get_args(Method))),
        path=_str(raw, "path"),
        host=cast(Host, _choice(raw, "host", get_args(Host))),
        scope=cast(Scope, _choice(raw, "scope", get_args(Scope))),
        paging=cast(Paging, _choice(raw, "paging", get_args(Paging))),
        success_status=_int(raw, "success_status"),
        query_params=_str_tuple(raw, "query_params"),
        body_required=_str_tuple(raw, "body_required"),
        body_optional=_str_tuple(raw, "body_optional"),
        max_page_size=max_page_size,
        bodiless_post=bodiless_post,
        description=_str(raw, "description"),
    )


def _object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"catalog.json: {where} must be an object.")
    return cast(dict[str, object], value)


def _list(raw: dict[str, object], key: str) -> list[object]:
    value = raw.get(key)
    if not isinstance(value, list):
        raise ValueError(f"catalog.json: {key!r} must be a list.")
    return cast(list[object], value)


def _str(raw: dict[str, object], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"catalog.json: {key!r} must be a non-empty string.")
    return value


def _int(raw: dict[str, object], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"catalog.json: {key!r} must be an integer.")
    return value


def _str_tuple(raw: dict[str, object], key: str) -> tuple[str, ...]:
    values = _list(raw, key)
    if not all(isinstance(value, str) for value in values):
        raise ValueError(f"catalog.json: {key!r} must list strings.")
    return tuple(cast(list[str], values))


def _choice(raw: dict[str, object], key: str, allowed: tuple[str, ...]) -> str:
    value = _str(raw, key)
    if value not in allowed:
        raise ValueError(
            f"catalog.json: {key!r} is {value!r}; expected one of {allowed}."
        )
    return value
