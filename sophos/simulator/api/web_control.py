"""Web control SSL/TLS decryption: categories to decrypt and excluded websites.

The settings object summarises the excluded websites, which are stored one
object per website so that their list pages like every other list.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sophos.simulator import clock, store, validation
from sophos.simulator.api.reference import WEB_CATEGORIES
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.paging import number_page, parse_number_paging
from sophos.simulator.routing import Call, router

TLS_KIND = "endpoint/v1/settings/web-control/tls-decryption"
EXCLUDED_KIND = "endpoint/v1/settings/web-control/tls-decryption/excluded-websites"
# NOTE/sophos-api: the largest page of excluded websites is unverified.
EXCLUDED_MAX_PAGE_SIZE = 100
_CATEGORY_IDS = {category["id"] for category in WEB_CATEGORIES}


def _settings_row(tenant_id: str) -> SimObject:
    default = {
        "categories": [
            {"id": category["id"], "decryptionEnabled": True}
            for category in WEB_CATEGORIES
        ]
    }
    return store.upsert_singleton(TLS_KIND, tenant_id, "", default)


def _excluded(tenant_id: str) -> list[dict[str, Any]]:
    rows = store.listed(EXCLUDED_KIND, tenant_id).order_by("seq")
    return [_website(row) for row in rows]


def _key(value: str) -> str:
    """Return the object id of a website; values can exceed the id column."""
    return hashlib.sha256(value.lower().encode("utf-8")).hexdigest()[:40]


def _website(row: SimObject) -> dict[str, Any]:
    return {"value": row.data["value"], "comment": row.data.get("comment", "")}


def _render_settings(tenant_id: str) -> dict[str, Any]:
    row = _settings_row(tenant_id)
    websites = _excluded(tenant_id)
    return {
        "categories": row.data["categories"],
        "excludedWebsites": {
            "total": len(websites),
            "itemsCount": len(websites),
            "items": websites,
        },
    }


@router.route("GET", "/endpoint/v1/settings/web-control/tls-decryption", "tenant")
def tls_settings_get(call: Call) -> SimResponse:
    return json_response(200, _render_settings(call.require_tenant().id))


@router.route("PATCH", "/endpoint/v1/settings/web-control/tls-decryption", "tenant")
def tls_settings_update(call: Call) -> SimResponse:
    tenant_id = call.require_tenant().id
    body = json_body(call)
    validation.only_fields(body, ("categories",), "An SSL/TLS decryption update")
    changes = body.get("categories") or []
    if not isinstance(changes, list):
        raise validation.invalid("categories", "send a list of categories.")
    row = _settings_row(tenant_id)
    by_id = {category["id"]: category for category in row.data["categories"]}
    for position, change in enumerate(changes):
        field = f"categories[{position}]"
        if not isinstance(change, dict):
            raise validation.invalid(field, "send {id, decryptionEnabled}.")
        category_id = validation.integer(change.get("id"), f"{field}.id")
        if category_id not in _CATEGORY_IDS:
            raise validation.invalid(
                f"{field}.id", f"{category_id} is not a web category."
            )
        enabled = validation.flag(change, "decryptionEnabled", prefix=f"{field}.")
        if enabled is None:
            raise validation.missing(f"{field}.decryptionEnabled")
        by_id[category_id] = {"id": category_id, "decryptionEnabled": enabled}
    row.data["categories"] = [by_id[key] for key in sorted(by_id)]
    row.save(update_fields=["data"])
    return json_response(200, _render_settings(tenant_id))


@router.route(
    "GET",
    "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites",
    "tenant",
)
def excluded_websites_list(call: Call) -> SimResponse:
    paging = parse_number_paging(call.request, EXCLUDED_MAX_PAGE_SIZE)
    rows = store.listed(EXCLUDED_KIND, call.require_tenant().id)
    return json_response(200, number_page(rows, paging, _website))


def _website_changes(body: dict[str, Any], field: str) -> list[dict[str, str]]:
    raw = body.get(field) or []
    if not isinstance(raw, list):
        raise validation.invalid(field, "send a list of {value, comment}.")
    changes = []
    for position, item in enumerate(raw):
        prefix = f"{field}[{position}]."
        if not isinstance(item, dict):
            raise validation.invalid(f"{field}[{position}]", "send {value, comment}.")
        value = validation.text(item, "value", prefix=prefix).strip()
        comment = validation.optional_text(item, "comment", prefix=prefix)
        changes.append({"value": value, "comment": comment})
    return changes


@router.route(
    "PATCH",
    "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites",
    "tenant",
)
def excluded_websites_update(call: Call) -> SimResponse:
    tenant_id = call.require_tenant().id
    body = json_body(call)
    validation.only_fields(body, ("add", "remove"), "An excluded websites update")
    additions = _website_changes(body, "add")
    removals = _website_changes(body, "remove")
    if not additions and not removals:
        raise validation.invalid("add", "send websites to add or to remove.")
    added, removed = [], []
    for change in removals:
        deleted, _ = SimObject.objects.filter(
            kind=EXCLUDED_KIND, scope_id=tenant_id, object_id=_key(change["value"])
        ).delete()
        if deleted:
            removed.append(change)
    for change in additions:
        key = _key(change["value"])
        if store.find(EXCLUDED_KIND, tenant_id, key) is None:
            data = {**change, "createdAt": clock.now_iso()}
            store.create(EXCLUDED_KIND, tenant_id, key, data)
            added.append(change)
    return json_response(200, {"added": added, "removed": removed})


@router.route(
    "DELETE",
    "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites",
    "tenant",
)
def excluded_websites_clear(call: Call) -> SimResponse:
    SimObject.objects.filter(
        kind=EXCLUDED_KIND, scope_id=call.require_tenant().id
    ).delete()
    return json_response(200, {"deleted": True})
