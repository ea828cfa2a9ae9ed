"""The two Sophos paging styles over stored rows.

Key-based paging (``pageFromKey``/``nextKey``) resumes after the ``seq`` of
the previous page's last row, so every page is an index range scan, however
deep. Page-number paging (``page``/``pageSize``) uses an offset and serves the
short tenant lists it is made for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from sophos.simulator.http import ApiError, SimRequest

DEFAULT_PAGE_SIZE = 50

RowT = TypeVar("RowT", bound=Model)

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}


def parse_bool(request: SimRequest, name: str) -> bool | None:
    """Read a boolean parameter in any case (``true``, ``True``), or None."""
    raw = request.query_last(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ApiError(400, f"Invalid {name} value {raw!r}: use true or false.")


def parse_page_size(request: SimRequest, max_size: int) -> int:
    raw = request.query_last("pageSize")
    if raw is None or raw.strip() == "":
        return min(DEFAULT_PAGE_SIZE, max_size)
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid pageSize {raw!r}: use a whole number.") from None
    if not 1 <= size <= max_size:
        # NOTE/sophos-api: whether Sophos rejects or clamps an oversized page
        # is unverified; rejecting makes a client's wrong limit visible.
        raise ApiError(400, f"Invalid pageSize {size}: use 1 to {max_size}.")
    return size


@dataclass(frozen=True)
class KeyPageRequest:
    size: int
    max_size: int
    from_key: str | None
    after_seq: int | None
    want_total: bool


@dataclass(frozen=True)
class NumberPageRequest:
    size: int
    max_size: int
    page: int
    want_total: bool


def parse_key_paging(request: SimRequest, max_size: int) -> KeyPageRequest:
    """Read ``pageSize``, ``pageFromKey`` and ``pageTotal``; ``page`` is ignored."""
    size = parse_page_size(request, max_size)
    from_key = request.query_last("pageFromKey") or None
    after_seq = None
    if from_key is not None:
        try:
            after_seq = int(from_key)
        except ValueError:
            raise ApiError(
                400, f"Invalid pageFromKey {from_key!r}: send a previous nextKey."
            ) from None
    want_total = bool(parse_bool(request, "pageTotal"))
    return KeyPageRequest(size, max_size, from_key, after_seq, want_total)


def parse_number_paging(request: SimRequest, max_size: int) -> NumberPageRequest:
    """Read ``page`` (from 1), ``pageSize`` and ``pageTotal``."""
    size = parse_page_size(request, max_size)
    raw = request.query_last("page")
    page = 1
    if raw is not None and raw.strip() != "":
        try:
            page = int(raw)
        except ValueError:
            raise ApiError(400, f"Invalid page {raw!r}: use 1 or more.") from None
        if page < 1:
            raise ApiError(400, f"Invalid page {page}: use 1 or more.")
    want_total = bool(parse_bool(request, "pageTotal"))
    return NumberPageRequest(size, max_size, page, want_total)


def key_page(
    rows: QuerySet[RowT],
    paging: KeyPageRequest,
    render: Callable[[RowT], dict[str, Any]],
) -> dict[str, Any]:
    """Return ``{items, pages}`` for rows that have a ``seq`` field.

    ``pages.nextKey`` is left out on the last page, as Sophos does.
    """
    after = rows if paging.after_seq is None else rows.filter(seq__gt=paging.after_seq)
    found = list(after.order_by("seq")[: paging.size + 1])
    more = len(found) > paging.size
    found = found[: paging.size]
    pages: dict[str, Any] = {}
    if paging.from_key is not None:
        pages["fromKey"] = paging.from_key
    if more:
        pages["nextKey"] = str(found[-1].seq)  # type: ignore[attr-defined]
    count = rows.count()
    pages["size"] = paging.size
    if paging.want_total:
        pages["total"] = math.ceil(count / paging.size)
    pages["items"] = count
    pages["maxSize"] = paging.max_size
    return {"items": [render(row) for row in found], "pages": pages}


def number_page(
    rows: QuerySet[RowT],
    paging: NumberPageRequest,
    render: Callable[[RowT], dict[str, Any]],
) -> dict[str, Any]:
    """Return ``{items, pages}`` for one page number; past the end is empty."""
    start = (paging.page - 1) * paging.size
    found = list(rows.order_by("seq")[start : start + paging.size])
    count = rows.count()
    pages: dict[str, Any] = {"current": paging.page, "size": paging.size}
    if paging.want_total:
        pages["total"] = math.ceil(count / paging.size)
    pages["items"] = count
    pages["maxSize"] = paging.max_size
    return {"items": [render(row) for row in found], "pages": pages}
