"""Read-mostly reference data: permission sets, categories, packages, installers.

These lists are the same for every tenant, so they are built in code rather
than stored. Package comments and special-package requests are stored.
"""

from __future__ import annotations

import uuid
from typing import Any

from sophos.simulator import store
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.params import parse_choices
from sophos.simulator.routing import Call, router

_NAMESPACE = uuid.UUID("0b5e3c52-7d1a-4f6b-8e2c-91a4d7f3b6e0")

COMMENT_KIND = "endpoint/v1/software/comments"
SPECIAL_PACKAGE_KIND = "endpoint/v1/software/packages/static/{staticPackageId}/add"


def _stable_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


# Permission set ids are snake-case names, as the role examples of Sophos's
# collection use them ("central_admin", "endpoint_product_admin").
PERMISSION_SETS = [
    {
        "id": permission_set_id,
        "name": name,
        "type": "base",
        "principalTypes": ["user", "service"],
        "allowedInCustomRoles": permission_set_id != "central_super_admin",
    }
    for permission_set_id, name in (
        ("central_super_admin", "Super Admin"),
        ("central_admin", "Admin"),
        ("central_helpdesk", "Help Desk"),
        ("central_read_only", "Read-only"),
        ("endpoint_product_admin", "Endpoint Admin"),
        ("central_user", "User"),
    )
]
PERMISSION_SET_IDS = frozenset(item["id"] for item in PERMISSION_SETS)

# The mitigation names of the exploit mitigation examples in Sophos's collection.
MITIGATIONS = (
    "ASLR",
    "BannedAPI",
    "BottomUpASLR",
    "Caller",
    "DEP",
    "DeviceAndIoControl",
    "HeapSpray",
    "IAF",
    "Intruder",
    "KbdGuard",
    "LoadLib",
    "LockdownAutorun",
    "LockdownLoadImage",
    "LockdownNewFile",
    "NullPage",
    "SEHOP",
    "StackExec",
    "StackPivot",
)
EXPLOIT_CATEGORY_IDS = ("browsers", "plugins", "java", "office", "media", "other")
EXPLOIT_CATEGORIES = [
    {
        "id": category_id,
        "name": name,
        "settings": {mitigation: True for mitigation in MITIGATIONS},
    }
    for category_id, name in (
        ("browsers", "Browsers"),
        ("plugins", "Web browser plugins"),
        ("java", "Java"),
        ("office", "Office"),
        ("media", "Media players"),
        ("other", "Other"),
    )
]

WEB_CATEGORIES = [
    {"id": number, "name": name, "label": name.lower().replace(" ", "-")}
    for number, name in enumerate(
        (
            "Adult",
            "Alcohol and Tobacco",
            "Chat",
            "Criminal Activity",
            "Gambling",
            "Games",
            "Hacking",
            "News",
            "Personal Cloud Storage",
            "Shopping",
            "Social Networking",
            "Streaming Media",
            "Weapons",
        ),
        start=1,
    )
]

# The origin of every link the simulator returns for a person to open. The
# .invalid domain is reserved so that it does not resolve (RFC 6761, section
# 6.4), so a browser or client that follows such a link reaches no host.
# NOTE/sophos-api: Sophos Central returns installer links on a Sophos download
# host (the collection's example is
# https://api.sophos.com/api/download/.../SophosSetup.exe) and release notes
# links on its documentation site.
LINK_ORIGIN = "https://sophos-simulator.invalid"

_MODULE_VERSION = "2024.3.1.12"
RECOMMENDED_PACKAGES = [
    {
        "id": f"recommended-{platform}",
        "platform": platform,
        "modules": [{"name": "coreAgent", "version": _MODULE_VERSION}],
    }
    for platform in ("windows", "winserv", "linux", "macos")
]


def _package(
    kind: str, name: str, endpoint_type: str, version: str, released: str, expires: str
) -> dict[str, Any]:
    package_id = _stable_id(f"{kind}/{name}")
    return {
        "id": package_id,
        "name": name,
        "releasedAt": released,
        "expiresAt": expires,
        "type": kind,
        "platform": "windows",
        "endpointType": endpoint_type,
        "modules": [{"name": "coreAgent", "version": version}],
        "packageNotesUrl": f"{LINK_ORIGIN}/releasenotes/{package_id}.html",
        "visible": True,
    }


STATIC_PACKAGES = [
    _package("fixed", *fields)
    for fields in (
        (
            "Sophos Endpoint 2024.1 LTS",
            "computer",
            "2024.1.2.7",
            "2024-03-12",
            "2026-03-12",
        ),
        (
            "Sophos Endpoint 2024.2 LTS",
            "computer",
            "2024.2.1.4",
            "2024-07-02",
            "2026-07-02",
        ),
        (
            "Sophos Server 2023.2 LTS",
            "server",
            "2023.2.3.9",
            "2023-09-19",
            "2025-09-19",
        ),
    )
]
# Packages that Sophos support hands out by id; a tenant lists one only after
# adding it. NOTE/sophos-api: the "special" type value is assumed.
SPECIAL_PACKAGES = [
    _package("special", *fields)
    for fields in (
        (
            "Sophos Endpoint 2023.1 extended",
            "computer",
            "2023.1.4.2",
            "2023-02-14",
            "2026-08-14",
        ),
        (
            "Sophos Server 2022.4 extended",
            "server",
            "2022.4.3.1",
            "2022-11-08",
            "2026-05-08",
        ),
    )
]
_STATIC_BY_ID = {package["id"]: package for package in STATIC_PACKAGES}
_SPECIAL_BY_ID = {package["id"]: package for package in SPECIAL_PACKAGES}
_STATIC_FILTERS = {
    "type": "type",
    "platform": "platform",
    "endpointType": "endpointType",
}


@router.route("GET", "/partner/v1/roles/permission-sets", "partner")
def partner_permission_sets(call: Call) -> SimResponse:
    return json_response(200, {"items": PERMISSION_SETS})


@router.route("GET", "/common/v1/roles/permission-sets", "tenant")
def tenant_permission_sets(call: Call) -> SimResponse:
    return json_response(200, {"items": PERMISSION_SETS})


@router.route("GET", "/endpoint/v1/settings/exploit-mitigation/categories", "tenant")
def exploit_categories(call: Call) -> SimResponse:
    return json_response(200, {"items": EXPLOIT_CATEGORIES})


@router.route("GET", "/endpoint/v1/settings/web-control/categories", "tenant")
def web_categories(call: Call) -> SimResponse:
    # Sophos returns a bare array here, not an {"items": ...} envelope.
    return json_response(200, WEB_CATEGORIES)


@router.route("GET", "/endpoint/v1/software/packages/recommended", "tenant")
def recommended_packages(call: Call) -> SimResponse:
    return json_response(200, {"items": RECOMMENDED_PACKAGES})


def _packages_of(tenant_id: str) -> list[dict[str, Any]]:
    """Return the fixed packages and the special packages the tenant added."""
    added = store.listed(SPECIAL_PACKAGE_KIND, tenant_id).values_list(
        "object_id", flat=True
    )
    special = [_SPECIAL_BY_ID[i] for i in added if i in _SPECIAL_BY_ID]
    return [*STATIC_PACKAGES, *special]


@router.route("GET", "/endpoint/v1/software/packages/static", "tenant")
def static_packages(call: Call) -> SimResponse:
    packages = _packages_of(call.require_tenant().id)
    for name, key in _STATIC_FILTERS.items():
        wanted = call.request.query_list(name)
        if wanted:
            packages = [item for item in packages if item[key] in wanted]
    for name, key, after in (
        ("releasedFrom", "releasedAt", True),
        ("releasedTo", "releasedAt", False),
        ("expiresFrom", "expiresAt", True),
        ("expiresTo", "expiresAt", False),
    ):
        day = call.request.query_last(name)
        if day:
            packages = [item for item in packages if (item[key] >= day) == after]
    return json_response(200, {"items": packages})


def static_package_of(call: Call) -> dict[str, Any]:
    """Return the static package a path names, if the tenant can see it."""
    package_id = call.params["staticPackageId"]
    for package in _packages_of(call.require_tenant().id):
        if package["id"] == package_id:
            return package
    raise ApiError(404, f"Static package {package_id} not found.")


@router.route(
    "GET", "/endpoint/v1/software/packages/static/{staticPackageId}", "tenant"
)
def static_package(call: Call) -> SimResponse:
    return json_response(200, static_package_of(call))


@router.route(
    "POST", "/endpoint/v1/software/packages/static/{staticPackageId}/add", "tenant"
)
def special_package_add(call: Call) -> SimResponse:
    package_id = call.params["staticPackageId"]
    tenant_id = call.require_tenant().id
    if package_id in _STATIC_BY_ID:
        raise ApiError(
            409, f"Package {package_id} is a fixed package that every tenant has."
        )
    package = _SPECIAL_BY_ID.get(package_id)
    if package is None:
        raise ApiError(404, f"Special package {package_id} not found.")
    if store.find(SPECIAL_PACKAGE_KIND, tenant_id, package_id):
        raise ApiError(409, f"Special package {package_id} is already added.")
    store.create(SPECIAL_PACKAGE_KIND, tenant_id, package_id, {"id": package_id})
    return json_response(201, package)


# The installer filter values. The simulator rejects any other value with a
# 400. NOTE/sophos-api: the values come from the SophosCentral PowerShell
# module, because Sophos documents no full list.
INSTALLER_PLATFORMS = {"windows", "linux", "macOS"}
INSTALLER_PRODUCTS = {
    "coreAgent",
    "interceptX",
    "xdr",
    "endpointProtection",
    "deviceEncryption",
    "mtr",
    "mtd",
    "ztna",
}
_SERVER_PRODUCTS = ["coreAgent", "interceptX", "xdr", "endpointProtection", "mtr"]
_COMPUTER_PRODUCTS = [*_SERVER_PRODUCTS, "deviceEncryption", "ztna"]
# Product, platform, type, file name and the products the installer supports.
INSTALLERS = (
    (
        "Sophos Endpoint Protection",
        "windows",
        "computer",
        "SophosSetup.exe",
        _COMPUTER_PRODUCTS,
    ),
    (
        "Sophos Server Protection",
        "windows",
        "server",
        "SophosSetup.exe",
        _SERVER_PRODUCTS,
    ),
    (
        "Sophos Protection for Linux",
        "linux",
        "server",
        "SophosSetup.sh",
        ["coreAgent", "interceptX", "xdr", "mtr"],
    ),
    (
        "Sophos Endpoint for macOS",
        "macOS",
        "computer",
        "SophosInstall.zip",
        _COMPUTER_PRODUCTS,
    ),
)


@router.route("GET", "/endpoint/v1/downloads", "tenant")
def installers(call: Call) -> SimResponse:
    """List the installer links of the tenant.

    ``platforms`` and ``requestedProducts`` are array filters. Without them
    every installer is listed.
    NOTE/sophos-api: Sophos documents ``requestedProducts`` as the products
    to include in the installers. The simulator lists the installers that
    support at least one requested product and leaves their
    ``supportedProducts`` whole.
    """
    tenant = call.require_tenant()
    platforms = parse_choices(call.request, "platforms", INSTALLER_PLATFORMS)
    products = parse_choices(call.request, "requestedProducts", INSTALLER_PRODUCTS)
    listed = [
        {
            "productName": product,
            "platform": platform,
            "type": kind,
            "supportedProducts": list(supported),
            "downloadUrl": f"{LINK_ORIGIN}/downloads/{tenant.id}/{kind}/{file_name}",
        }
        for product, platform, kind, file_name, supported in INSTALLERS
        if not platforms or platform in platforms
        if not products or set(products) & set(supported)
    ]
    return json_response(
        200,
        {
            "tenant": {"id": tenant.id},
            "licensedProducts": ["coreAgent", "interceptX", "xdr"],
            "installers": listed,
        },
    )


def _render_comment(call: Call, row: SimObject) -> dict[str, Any]:
    package = _STATIC_BY_ID.get(row.object_id) or _SPECIAL_BY_ID.get(row.object_id)
    return {"id": row.object_id, "comment": row.data["comment"], "package": package}


def _find_comment(call: Call) -> SimObject:
    package = static_package_of(call)
    row = store.find(COMMENT_KIND, call.require_tenant().id, package["id"])
    if row is None:
        raise ApiError(404, f"Static package {package['id']} has no comment.")
    return row


@router.route("GET", "/endpoint/v1/software/comments", "tenant")
def package_comments_list(call: Call) -> SimResponse:
    rows = store.listed(COMMENT_KIND, call.require_tenant().id).order_by("seq")
    return json_response(200, {"items": [_render_comment(call, row) for row in rows]})


@router.route("GET", "/endpoint/v1/software/comments/{staticPackageId}", "tenant")
def package_comment_get(call: Call) -> SimResponse:
    return json_response(200, _render_comment(call, _find_comment(call)))


@router.route("PUT", "/endpoint/v1/software/comments/{staticPackageId}", "tenant")
def package_comment_update(call: Call) -> SimResponse:
    package = static_package_of(call)
    body = json_body(call, required=("comment",))
    if not isinstance(body["comment"], str) or not body["comment"].strip():
        raise ApiError(400, "Invalid comment: send the comment as non-empty text.")
    tenant_id = call.require_tenant().id
    data = {"id": package["id"], "comment": body["comment"]}
    row = store.find(COMMENT_KIND, tenant_id, package["id"])
    if row is None:
        row = store.create(COMMENT_KIND, tenant_id, package["id"], data)
    else:
        store.merge(row, data)
    return json_response(200, _render_comment(call, row))


@router.route("DELETE", "/endpoint/v1/software/comments/{staticPackageId}", "tenant")
def package_comment_delete(call: Call) -> SimResponse:
    _find_comment(call).delete()
    return json_response(200, {"deleted": True})
