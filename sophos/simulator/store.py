"""Reads and writes of ``SimObject`` rows, shared by every API handler."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max, Model, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from sophos.simulator import clock
from sophos.simulator.models import SimObject

RowT = TypeVar("RowT", bound=Model)


def listed(kind: str, scope_id: str, parent_id: str = "") -> QuerySet[SimObject]:
    """Return the objects of a collection that are still listed now."""
    return SimObject.objects.filter(
        kind=kind, scope_id=scope_id, parent_id=parent_id
    ).filter(Q(removed_at__isnull=True) | Q(removed_at__gt=clock.now()))


def find(
    kind: str, scope_id: str, object_id: str, parent_id: str | None = None
) -> SimObject | None:
    """Return one listed object, under ``parent_id`` unless that is None."""
    rows = SimObject.objects.filter(kind=kind, scope_id=scope_id, object_id=object_id)
    if parent_id is not None:
        rows = rows.filter(parent_id=parent_id)
    return rows.filter(
        Q(removed_at__isnull=True) | Q(removed_at__gt=clock.now())
    ).first()


def create(
    kind: str,
    scope_id: str,
    object_id: str,
    data: dict[str, Any],
    parent_id: str = "",
) -> SimObject:
    """Append an object at the end of its collection."""
    with transaction.atomic():
        last = SimObject.objects.filter(
            kind=kind, scope_id=scope_id, parent_id=parent_id
        ).aggregate(last=Max("seq"))["last"]
        return SimObject.objects.create(
            kind=kind,
            scope_id=scope_id,
            parent_id=parent_id,
            object_id=object_id,
            seq=(last or 0) + 1,
            data=data,
        )


def create_item(
    kind: str, scope_id: str, body: dict[str, Any], parent_id: str = ""
) -> SimObject:
    """Create an object from a request body with a new id and timestamps."""
    moment = clock.now_iso()
    data = {"id": str(uuid.uuid4()), **body, "createdAt": moment, "updatedAt": moment}
    return create(kind, scope_id, data["id"], data, parent_id=parent_id)


def merge(row: SimObject, changes: dict[str, Any]) -> SimObject:
    """Apply a PATCH-style change of top-level fields and save the row."""
    row.data.update(changes)
    if "updatedAt" in row.data:
        row.data["updatedAt"] = clock.now_iso()
    row.save(update_fields=["data"])
    return row


def upsert_singleton(
    kind: str,
    scope_id: str,
    object_id: str,
    default: dict[str, Any],
    parent_id: str = "",
) -> SimObject:
    """Return a settings object, created from ``default`` the first time."""
    row = find(kind, scope_id, object_id, parent_id=parent_id)
    if row is None:
        row = create(kind, scope_id, object_id, dict(default), parent_id=parent_id)
    return row


def _alias(path: str) -> str:
    return "f_" + path.replace("__", "_")


def _text(path: str) -> Cast:
    """Return the JSON value at ``path`` as plain text.

    The cast makes ``in``, ``icontains`` and range lookups compare text on
    every backend, where a bare ``KT`` keeps the JSON lookups that expect
    JSON-encoded values on SQLite.
    """
    return Cast(KT(f"data__{path}"), output_field=TextField())


def where_text_in(
    rows: QuerySet[RowT], path: str, values: list[str], *, or_missing: bool = False
) -> QuerySet[RowT]:
    """Keep rows whose JSON string at ``path`` (``a__b``) is one of ``values``.

    With ``or_missing`` the rows without a value at ``path`` (absent or JSON
    null) are kept too.
    """
    alias = _alias(path)
    match = Q(**{f"{alias}__in": values})
    if or_missing:
        match |= Q(**{f"{alias}__isnull": True})
    annotated: QuerySet[RowT] = rows.alias(**{alias: _text(path)})
    return annotated.filter(match)


def where_text_contains(rows: QuerySet[RowT], path: str, text: str) -> QuerySet[RowT]:
    alias = _alias(path)
    annotated: QuerySet[RowT] = rows.alias(**{alias: _text(path)})
    return annotated.filter(**{f"{alias}__icontains": text})


def where_any_text_contains(
    rows: QuerySet[RowT], paths: list[str], text: str
) -> QuerySet[RowT]:
    """Keep rows where any of the JSON strings at ``paths`` contains ``text``."""
    aliases = {_alias(path): _text(path) for path in paths}
    match = Q()
    for alias in aliases:
        match |= Q(**{f"{alias}__icontains": text})
    annotated: QuerySet[RowT] = rows.alias(**aliases)
    return annotated.filter(match)


def where_any_text_contains_any(
    rows: QuerySet[RowT], paths: list[str], texts: list[str]
) -> QuerySet[RowT]:
    """Keep rows where a JSON value at one of ``paths`` contains one of ``texts``."""
    aliases = {_alias(path): _text(path) for path in paths}
    match = Q()
    for alias in aliases:
        for text in texts:
            match |= Q(**{f"{alias}__contains": text})
    annotated: QuerySet[RowT] = rows.alias(**aliases)
    return annotated.filter(match)


def where_text_range(
    rows: QuerySet[RowT],
    path: str,
    *,
    at_or_after: str | None = None,
    before: str | None = None,
) -> QuerySet[RowT]:
    """Keep rows by a timestamp string; stored times sort as text."""
    alias = _alias(path)
    rows = rows.alias(**{alias: _text(path)})
    if at_or_after is not None:
        rows = rows.filter(**{f"{alias}__gte": at_or_after})
    if before is not None:
        rows = rows.filter(**{f"{alias}__lt": before})
    return rows


def where_bool(rows: QuerySet[RowT], path: str, value: bool) -> QuerySet[RowT]:
    return rows.filter(**{f"data__{path}": value})


def select_fields(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Apply the ``fields`` partial-response parameter to top-level keys."""
    if not fields:
        return data
    wanted = {name.split(".")[0] for name in fields}
    return {key: value for key, value in data.items() if key in wanted}
