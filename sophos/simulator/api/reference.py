"""Read-mostly reference data: permission sets, categories, packages, installers.

These lists are the same for every tenant, so they are built in code rather
than stored. Package comments and special-package requests are stored.
"""

from __future__ import annotations

import uuid
from typing import Any

from sophos.simulator import clock, store
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.routing import Call, router

_NAMESPACE = uuid.UUID("0b5e3c52-7d1a-4f6b-8e2c-91a4d7f3b6e0")

COMMENT_KIND = "endpoint/v1/software/comments"
SPECIAL_PACKAGE_KIND = "endpoint/v1/software/packages/static/{staticPackageId}/add"


def _stable_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


PERMISSION_SETS = [
    {
        "id": _stable_id(f"permission-set/{name}"),
        "name": name,
        "type": "base",
        "principalTypes": ["user", "service"],
        "allowedInCustomRoles": True,
    }
    for name in ("Super Admin", "Admin", "Help Desk", "Read-only", "User")
]

_MITIGATIONS = ("DEP", "ASLR", "BottomUpASLR", "NullPage", "HeapSpray", "StackPivot")
EXPLOIT_CATEGORIES = [
    {
        "id": category_id,
        "name": name,
        "settings": {mitigation: True for mitigation in _MITIGATIONS},
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

_MODULE_VERSION = "2024.3.1.12"
RECOMMENDED_PACKAGES = [
    {
        "id": f"recommended-{platform}",
        "platform": platform,
        "modules": [{"name": "coreAgent", "version": _MODULE_VERSION}],
    }
    for platform in ("windows", "winserv", "linux", "macos")
]

STATIC_PACKAGES = [
    {
        "id": _stable_id(f"static/{name}"),
        "name": name,
        "releasedAt": released,
        "expiresAt": expires,
        "type": "fixed",
        "platform": "windows",
        "modules": [{"name": "coreAgent", "version": version}],
        "visible": True,
    }
    for name, version, released, expires in (
        ("Sophos Endpoint 2024.1 LTS", "2024.1.2.7", "2024-03-12", "2026-03-12"),
        ("Sophos Endpoint 2024.2 LTS", "2024.2.1.4", "2024-07-02", "2026-07-02"),
        ("Sophos Endpoint 2023.2 LTS", "2023.2.3.9", "2023-09-19", "2025-09-19"),
    )
]
_STATIC_BY_ID = {package["id"]: package for package in STATIC_PACKAGES}


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


@router.route("GET", "/endpoint/v1/software/packages/static", "tenant")
def static_packages(call: Call) -> SimResponse:
    return json_response(200, {"items": STATIC_PACKAGES})


def _static_package(call: Call) -> dict[str, Any]:
    package_id = call.params["staticPackageId"]
    if package_id not in _STATIC_BY_ID:
        raise ApiError(404, f"Static package {package_id} not found.")
    return _STATIC_BY_ID[package_id]


@router.route(
    "GET", "/endpoint/v1/software/packages/static/{staticPackageId}", "tenant"
)
def static_package(call: Call) -> SimResponse:
    return json_response(200, _static_package(call))


@router.route(
    "POST", "/endpoint/v1/software/packages/static/{staticPackageId}/add", "tenant"
)
def special_package_add(call: Call) -> SimResponse:
    package = _static_package(call)
    tenant_id = call.require_tenant().id
    if store.find(SPECIAL_PACKAGE_KIND, tenant_id, package["id"]):
        raise ApiError(409, f"Package {package['id']} is already added.")
    store.create(SPECIAL_PACKAGE_KIND, tenant_id, package["id"], dict(package))
    return json_response(201, package)


@router.route("GET", "/endpoint/v1/downloads", "tenant")
def installers(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    origin = call.hosts.region_origin(tenant.data_region)
    # NOTE: the installer links point at the simulator, which does not serve
    # the files.
    installers = [
        {
            "productName": product,
            "platform": platform,
            "type": kind,
            "supportedProducts": ["coreAgent", "interceptX", "xdr"],
            "downloadUrl": f"{origin}/simulator/downloads/{tenant.id}/{file_name}",
        }
        for product, platform, kind, file_name in (
            ("Sophos Endpoint Protection", "windows", "computer", "SophosSetup.exe"),
            ("Sophos Server Protection", "windows", "server", "SophosSetup.exe"),
            ("Sophos Protection for Linux", "linux", "server", "SophosSetup.sh"),
            ("Sophos Endpoint for macOS", "macOS", "computer", "SophosInstall.zip"),
        )
    ]
    return json_response(
        200,
        {
            "tenant": {"id": tenant.id},
            "licensedProducts": ["coreAgent", "interceptX", "xdr"],
            "installers": installers,
        },
    )


@router.route("PUT", "/endpoint/v1/software/comments/{staticPackageId}", "tenant")
def package_comment_update(call: Call) -> SimResponse:
    package = _static_package(call)
    body = json_body(call, required=("comment",))
    tenant_id = call.require_tenant().id
    data = {"id": package["id"], "comment": str(body["comment"])}
    data["updatedAt"] = clock.now_iso()
    row = store.find(COMMENT_KIND, tenant_id, package["id"])
    if row is None:
        row = store.create(COMMENT_KIND, tenant_id, package["id"], data)
    else:
        store.merge(row, data)
    return json_response(200, row.data)
