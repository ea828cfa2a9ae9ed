"""Template tags for the portal's tables."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(
    context: template.Context,
    label: str,
    key: str,
    target: str,
    first: str = "asc",
    numeric: bool = False,
) -> dict[str, Any]:
    """Render a ``<th>`` whose link sorts the table by ``key``.

    The first click sorts in the ``first`` direction ("asc" or "desc") and the
    next one reverses it. The link keeps the other query parameters and
    returns to page 1. A ``numeric`` column is right-aligned.
    """
    current = context.get("sort", "")
    if current == key:
        aria_sort, next_sort = "ascending", f"-{key}"
    elif current == f"-{key}":
        aria_sort, next_sort = "descending", key
    else:
        aria_sort = "none"
        next_sort = f"-{key}" if first == "desc" else key

    query = context["request"].GET.copy()
    query["sort"] = next_sort
    query.pop("page", None)
    return {
        "label": label,
        "href": f"?{query.urlencode()}",
        "aria_sort": aria_sort,
        "target": target,
        "numeric": numeric,
    }
