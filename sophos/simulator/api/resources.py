"""Generic stateful handlers for every catalog operation without its own.

Each operation of ``sophos.catalog`` is classified by the shape of its path
and by the operations next to it. A collection lists, creates, reads,
updates and deletes its items. A singleton settings object is read and
updated. An action is a POST that starts something. Objects are
``SimObject`` rows whose kind is the collection's path template, so a
handler written for one API and the generic ones read and write the same
rows.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from sophos import catalog
from sophos.simulator import clock, store
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import (
    key_page,
    number_page,
    parse_key_paging,
    parse_number_paging,
)
from sophos.simulator.routing import Call, Handler, Router

# Query parameters that keep the items whose field (a ``store`` path) equals
# one of the given values. NOTE: other filters, such as those naming a related
# object (a user's groups, a role's admins), are ignored by generic lists.
FIELD_FILTERS = {
    "type": "type",
    "mode": "mode",
    "domain": "domain",
    "platform": "platform",
    "principalType": "principalType",
    "groupType": "type",
    "policyType": "type",
    "sourceType": "source__type",
}
# Filters whose meaning differs by operation.
OPERATION_FIELD_FILTERS = {("firewalls_list", "groupId"): "group__id"}
# Filter values that match the items without the field. Sophos documents
# groupId=ungrouped as a virtual group of the firewalls in no firewall group.
MISSING_FIELD_VALUES = {("firewalls_list", "groupId"): "ungrouped"}
# Text fields that ``search`` looks in when ``searchFields`` is not given.
SEARCH_FIELDS = ("name", "value", "url", "hostname", "comment", "description")
# NOTE/sophos-api: most page-number lists document no largest pageSize; 100
# is assumed where the catalog gives none.
DEFAULT_MAX_PAGE_SIZE = 100

# Collections whose DELETE returns 200 even for an unknown id, as Sophos
# documents for allowed and blocked items.
IDEMPOTENT_DELETE = frozenset(
    {"endpoint/v1/settings/allowed-items", "endpoint/v1/settings/blocked-items"}
)

SINGLETON_DEFAULTS: dict[str, dict[str, Any]] = {
    "endpoint/v1/settings/tamper-protection": {"enabled": True},
}


class Shape(enum.Enum):
    LIST = "list"
    ITEMS = "items"
    CREATE = "create"
    ITEM_GET = "item-get"
    ITEM_UPDATE = "item-update"
    ITEM_DELETE = "item-delete"
    SINGLETON_GET = "singleton-get"
    SINGLETON_UPDATE = "singleton-update"
    SINGLETON_DELETE = "singleton-delete"
    ACTION = "action"


@dataclass(frozen=True)
class Plan:
    """The generic handler's classification of one operation."""

    operation: catalog.Operation
    shape: Shape
    # Path template of the collection or singleton, without the leading slash.
    kind: str
    # Placeholder naming the item, for item shapes and keyed singletons.
    id_param: str | None
    # Collections (kind, placeholder) whose item must exist, outermost first.
    parents: tuple[tuple[str, str], ...]


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _is_placeholder(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class _Index:
    """The catalog's routes, for questions about a path's neighbours."""

    def __init__(self, operations: tuple[catalog.Operation, ...]) -> None:
        self.routes = {(op.method, op.path) for op in operations}
        self.item_prefixes = {
            op.path.rsplit("/", 1)[0]
            for op in operations
            if _is_placeholder(_segments(op.path)[-1])
        }

    def has(self, method: str, path: str) -> bool:
        return (method, path) in self.routes

    def is_collection(self, path: str) -> bool:
        """Return whether ``path`` lists or creates items read as ``path/{id}``."""
        if _is_placeholder(_segments(path)[-1]):
            return False
        served = self.has("GET", path) or self.has("POST", path)
        return served and path in self.item_prefixes

    def is_list(self, path: str) -> bool:
        return self.is_collection(path) or self.has("POST", path)


def plan_operation(operation: catalog.Operation, index: _Index) -> Plan:
    """Classify an operation by its path and its neighbouring routes."""
    segments = _segments(operation.path)
    last_is_id = _is_placeholder(segments[-1])
    collection = operation.path.rsplit("/", 1)[0] if last_is_id else operation.path
    id_param = segments[-1][1:-1] if last_is_id else None
    parents = _parents(collection, index)
    method = operation.method

    if last_is_id:
        keyed = not (index.has("GET", collection) or index.has("POST", collection))
        if method == "GET":
            shape = Shape.SINGLETON_GET if keyed else Shape.ITEM_GET
        elif method in {"PATCH", "PUT"}:
            shape = Shape.SINGLETON_UPDATE if keyed else Shape.ITEM_UPDATE
        elif method == "DELETE":
            shape = Shape.SINGLETON_DELETE if keyed else Shape.ITEM_DELETE
        else:
            shape = Shape.ACTION
        if not keyed:
            id_param = id_param if shape is not Shape.ACTION else None
    elif method == "GET":
        if operation.paging != "none":
            shape = Shape.LIST
        elif index.is_list(collection):
            shape = Shape.ITEMS
        else:
            shape = Shape.SINGLETON_GET
    elif (
        method == "POST" and index.is_list(collection) and index.has("GET", collection)
    ):
        shape = Shape.CREATE
    elif method in {"POST", "PATCH", "PUT"} and index.has("GET", collection):
        shape = Shape.SINGLETON_UPDATE
    elif method == "DELETE" and index.has("GET", collection):
        shape = Shape.SINGLETON_DELETE
    else:
        shape = Shape.ACTION
    return Plan(operation, shape, collection.lstrip("/"), id_param, parents)


def _parents(collection: str, index: _Index) -> tuple[tuple[str, str], ...]:
    """Return the enclosing collections whose item a path names."""
    found = []
    segments = _segments(collection)
    for position, segment in enumerate(segments):
        if not _is_placeholder(segment):
            continue
        prefix = "/" + "/".join(segments[:position])
        if index.is_collection(prefix):
            found.append((prefix.lstrip("/"), segment[1:-1]))
    return tuple(found)


# -- request helpers --------------------------------------------------------------


def _scope_id(call: Call) -> str:
    if call.tenant is not None:
        return call.tenant.id
    return call.require_partner().id


def _parent_id(kind: str, params: dict[str, str]) -> str:
    """Return the values of the placeholders inside ``kind``, joined by ``/``."""
    names = [s[1:-1] for s in _segments(kind) if _is_placeholder(s)]
    return "/".join(params[name] for name in names)


def _check_parents(plan: Plan, call: Call) -> None:
    scope_id = _scope_id(call)
    for kind, param in plan.parents:
        object_id = call.params[param]
        parent = _parent_id(kind, call.params)
        if store.find(kind, scope_id, object_id, parent_id=parent) is None:
            raise ApiError(404, f"{_noun(kind)} {object_id} not found.")


def _noun(kind: str) -> str:
    last = _segments(kind)[-1].replace("-", " ")
    return last[:-1].capitalize() if last.endswith("s") else last.capitalize()


def json_body(call: Call, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the request's JSON object body, or raise 400."""
    try:
        body = call.request.json()
    except ValueError:
        raise ApiError(400, "Invalid JSON body: send a JSON object.") from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON body: send a JSON object.")
    missing = [name for name in required if name not in body]
    if missing:
        raise ApiError(400, f"Missing required field {missing[0]!r} in the body.")
    return body


def _require_body(plan: Plan, call: Call) -> dict[str, Any]:
    if plan.operation.bodiless_post and not call.request.body.strip():
        # Sophos Central rejects these POST routes without a body; send {}.
        raise ApiError(400, "Missing request body: send {} for this action.")
    return json_body(call, required=plan.operation.body_required)


def apply_filters(
    operation: catalog.Operation, call: Call, rows: QuerySet[SimObject]
) -> QuerySet[SimObject]:
    """Apply the operation's field filters, ``ids`` and ``search``."""
    for name in operation.query_params:
        key = (operation.name, name)
        field = OPERATION_FIELD_FILTERS.get(key) or FIELD_FILTERS.get(name)
        values = call.request.query_list(name)
        if field and values:
            missing = MISSING_FIELD_VALUES.get(key)
            rows = store.where_text_in(
                rows, field, values, or_missing=missing in values
            )
    if "ids" in operation.query_params:
        ids = call.request.query_list("ids")
        if ids:
            rows = rows.filter(object_id__in=ids)
    text = call.request.query_last("search")
    if text and "search" in operation.query_params:
        fields = call.request.query_list("searchFields") or list(SEARCH_FIELDS)
        paths = [name.replace(".", "__") for name in fields]
        rows = store.where_any_text_contains(rows, paths, text)
    return rows


def _render(call: Call) -> Callable[[SimObject], dict[str, Any]]:
    fields = call.request.query_list("fields")

    def render(row: SimObject) -> dict[str, Any]:
        return store.select_fields(row.data, fields)

    return render


# -- handlers by shape ---------------------------------------------------------------


def _list(plan: Plan, call: Call) -> SimResponse:
    max_size = plan.operation.max_page_size or DEFAULT_MAX_PAGE_SIZE
    rows = store.listed(plan.kind, _scope_id(call), _parent_id(plan.kind, call.params))
    rows = apply_filters(plan.operation, call, rows)
    if plan.operation.paging == "key":
        body = key_page(rows, parse_key_paging(call.request, max_size), _render(call))
    else:
        paging = parse_number_paging(call.request, max_size)
        body = number_page(rows, paging, _render(call))
    return json_response(200, body)


def _items(plan: Plan, call: Call) -> SimResponse:
    rows = store.listed(plan.kind, _scope_id(call), _parent_id(plan.kind, call.params))
    rows = apply_filters(plan.operation, call, rows).order_by("seq")
    render = _render(call)
    return json_response(200, {"items": [render(row) for row in rows]})


def _create(plan: Plan, call: Call) -> SimResponse:
    body = _require_body(plan, call)
    created = store.create_item(
        plan.kind, _scope_id(call), body, parent_id=_parent_id(plan.kind, call.params)
    )
    return json_response(plan.operation.success_status, created.data)


def _find_item(plan: Plan, call: Call) -> SimObject:
    assert plan.id_param is not None
    object_id = call.params[plan.id_param]
    row = store.find(
        plan.kind,
        _scope_id(call),
        object_id,
        parent_id=_parent_id(plan.kind, call.params),
    )
    if row is None:
        raise ApiError(404, f"{_noun(plan.kind)} {object_id} not found.")
    return row


def _item_get(plan: Plan, call: Call) -> SimResponse:
    row = _find_item(plan, call)
    return json_response(200, _render(call)(row))


def _item_update(plan: Plan, call: Call) -> SimResponse:
    row = _find_item(plan, call)
    body = _require_body(plan, call)
    store.merge(row, body)
    return json_response(plan.operation.success_status, row.data)


def _item_delete(plan: Plan, call: Call) -> SimResponse:
    if plan.kind in IDEMPOTENT_DELETE:
        assert plan.id_param is not None
        row = store.find(plan.kind, _scope_id(call), call.params[plan.id_param])
    else:
        row = _find_item(plan, call)
    if row is not None:
        row.delete()
    return json_response(plan.operation.success_status, {"deleted": True})


def _singleton_key(plan: Plan, call: Call) -> tuple[str, str]:
    """Return (parent_id, object_id) of the singleton a request names."""
    object_id = call.params[plan.id_param] if plan.id_param else ""
    return _parent_id(plan.kind, call.params), object_id


def _singleton_get(plan: Plan, call: Call) -> SimResponse:
    parent_id, object_id = _singleton_key(plan, call)
    row = store.find(plan.kind, _scope_id(call), object_id, parent_id=parent_id)
    data = row.data if row else SINGLETON_DEFAULTS.get(plan.kind, {})
    return json_response(
        200, store.select_fields(data, call.request.query_list("fields"))
    )


def _singleton_update(plan: Plan, call: Call) -> SimResponse:
    body = _require_body(plan, call)
    parent_id, object_id = _singleton_key(plan, call)
    row = store.upsert_singleton(
        plan.kind,
        _scope_id(call),
        object_id,
        SINGLETON_DEFAULTS.get(plan.kind, {}),
        parent_id=parent_id,
    )
    store.merge(row, body)
    return json_response(plan.operation.success_status, row.data)


def _singleton_delete(plan: Plan, call: Call) -> SimResponse:
    parent_id, object_id = _singleton_key(plan, call)
    SimObject.objects.filter(
        kind=plan.kind,
        scope_id=_scope_id(call),
        parent_id=parent_id,
        object_id=object_id,
    ).delete()
    return json_response(plan.operation.success_status, {"deleted": True})


def _action(plan: Plan, call: Call) -> SimResponse:
    """Record a request to start something and report it as requested."""
    body = _require_body(plan, call) if plan.operation.method != "DELETE" else {}
    record = {
        "id": str(uuid.uuid4()),
        "status": "requested",
        "requestedAt": clock.now_iso(),
    }
    store.create(
        plan.operation.path.lstrip("/"),
        _scope_id(call),
        record["id"],
        {**record, "request": body},
        parent_id=_parent_id(plan.operation.path, call.params),
    )
    if plan.operation.method == "DELETE":
        return json_response(plan.operation.success_status, {"deleted": True})
    return json_response(plan.operation.success_status, record)


_SHAPE_HANDLERS: dict[Shape, Callable[[Plan, Call], SimResponse]] = {
    Shape.LIST: _list,
    Shape.ITEMS: _items,
    Shape.CREATE: _create,
    Shape.ITEM_GET: _item_get,
    Shape.ITEM_UPDATE: _item_update,
    Shape.ITEM_DELETE: _item_delete,
    Shape.SINGLETON_GET: _singleton_get,
    Shape.SINGLETON_UPDATE: _singleton_update,
    Shape.SINGLETON_DELETE: _singleton_delete,
    Shape.ACTION: _action,
}


def _handler(plan: Plan) -> Handler:
    serve = _SHAPE_HANDLERS[plan.shape]

    def handle(call: Call) -> SimResponse:
        _check_parents(plan, call)
        return serve(plan, call)

    handle.__name__ = f"generic_{plan.operation.name}"
    return handle


def plans() -> list[Plan]:
    operations = catalog.all_operations()
    index = _Index(operations)
    return [plan_operation(op, index) for op in operations]


def register_generic(router: Router) -> list[Plan]:
    """Register a generic handler for each catalog operation not yet served."""
    registered = []
    for plan in plans():
        op = plan.operation
        if router.has(op.method, op.path):
            continue
        router.add(op.method, op.path, op.scope, _handler(plan))
        registered.append(plan)
    return registered
