"""A tenant's software packages, their comments and the installer links.

Static packages are fixed-version agent releases an endpoint policy can pin.
A special package is a static package that Sophos support hands out as a
token; adding it to a tenant cannot be undone through the API, and adding it
twice fails with 409. Each static package can carry one comment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_date

from sophos.models import Tenant
from sophos.services.payloads import timestamp
from sophos.services.resources import (
    Listing,
    User,
    flag,
    resource_create,
    resource_delete,
    resource_get,
    resource_list,
    resource_update,
    section,
    strings,
    text,
)

logger = logging.getLogger(__name__)

# Values of the installer filters. NOTE/sophos-api: the product names come
# from the SophosCentral PowerShell module; Sophos documents no full list.
INSTALLER_PLATFORMS = {"windows": "Windows", "linux": "Linux", "macOS": "macOS"}
INSTALLER_PRODUCTS = {
    "coreAgent": "Core agent",
    "interceptX": "Intercept X",
    "xdr": "XDR",
    "endpointProtection": "Endpoint Protection",
    "deviceEncryption": "Device Encryption",
    "mtr": "Managed Threat Response",
    "ztna": "Zero Trust Network Access",
}
ENDPOINT_TYPES = {"computer": "Computer", "server": "Server"}


@dataclass(frozen=True)
class PackageModule:
    name: str
    version: str


@dataclass(frozen=True)
class StaticPackage:
    id: str
    name: str
    type: str
    platform: str
    endpoint_type: str
    released_on: dt.date | None
    expires_on: dt.date | None
    modules: tuple[PackageModule, ...]
    notes_url: str
    visible: bool | None

    @property
    def agent_version(self) -> str:
        for module in self.modules:
            if module.name == "coreAgent":
                return module.version
        return self.modules[0].version if self.modules else ""


@dataclass(frozen=True)
class RecommendedPackage:
    id: str
    platform: str
    modules: tuple[PackageModule, ...]


@dataclass(frozen=True)
class PackageComment:
    package_id: str
    package_name: str
    comment: str
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Installer:
    product_name: str
    platform: str
    type: str
    supported_products: tuple[str, ...]
    download_url: str


@dataclass(frozen=True)
class Installers:
    licensed_products: tuple[str, ...]
    installers: tuple[Installer, ...]


def _date(data: Mapping[str, Any], key: str) -> dt.date | None:
    value = text(data, key)
    try:
        return parse_date(value[:10]) if value else None
    except ValueError:
        logger.warning("sophos sent an unreadable %s %r", key, value[:40])
        return None


def _modules(value: Any) -> tuple[PackageModule, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        PackageModule(name=text(item, "name"), version=text(item, "version"))
        for item in value
        if isinstance(item, Mapping)
    )


def parse_static_package(data: Mapping[str, Any]) -> StaticPackage:
    return StaticPackage(
        id=text(data, "id"),
        name=text(data, "name") or text(data, "id"),
        type=text(data, "type"),
        platform=text(data, "platform"),
        endpoint_type=text(data, "endpointType"),
        released_on=_date(data, "releasedAt"),
        expires_on=_date(data, "expiresAt"),
        modules=_modules(data.get("modules")),
        notes_url=text(data, "packageNotesUrl"),
        visible=flag(data, "visible"),
    )


def parse_recommended_package(data: Mapping[str, Any]) -> RecommendedPackage:
    return RecommendedPackage(
        id=text(data, "id"),
        platform=text(data, "platform"),
        modules=_modules(data.get("modules")),
    )


def parse_comment(data: Mapping[str, Any]) -> PackageComment:
    package = section(data, "package")
    # NOTE/sophos-api: the collection nests the package and gives the comment
    # its own id; a reply without the package names the package by ``id``.
    return PackageComment(
        package_id=text(package, "id") or text(data, "id"),
        package_name=text(package, "name"),
        comment=text(data, "comment"),
        updated_at=timestamp(data.get("updatedAt")),
    )


def parse_installers(data: Mapping[str, Any]) -> Installers:
    listed = data.get("installers")
    installers = tuple(
        Installer(
            product_name=text(item, "productName"),
            platform=text(item, "platform"),
            type=text(item, "type"),
            supported_products=strings(item, "supportedProducts"),
            download_url=text(item, "downloadUrl"),
        )
        for item in (listed if isinstance(listed, list) else [])
        if isinstance(item, Mapping)
    )
    return Installers(
        licensed_products=strings(data, "licensedProducts"), installers=installers
    )


# Packages


def static_packages_list(
    *, tenant: Tenant, platform: str = "", endpoint_type: str = ""
) -> Listing[StaticPackage]:
    """Read the fixed-version packages the tenant can use."""
    params = {}
    if platform:
        params["platform"] = platform
    if endpoint_type:
        params["endpointType"] = endpoint_type
    return resource_list(
        tenant=tenant,
        operation="static_packages_list",
        parse=parse_static_package,
        params=params or None,
    )


def static_package_get(*, tenant: Tenant, package_id: str) -> StaticPackage:
    return resource_get(
        tenant=tenant,
        operation="static_package_get",
        parse=parse_static_package,
        path_params={"staticPackageId": package_id},
    )


def recommended_packages_list(*, tenant: Tenant) -> Listing[RecommendedPackage]:
    """Read the package versions Sophos recommends for each platform."""
    return resource_list(
        tenant=tenant,
        operation="recommended_packages_list",
        parse=parse_recommended_package,
    )


def special_package_add(*, user: User, tenant: Tenant, token: str) -> StaticPackage:
    """Add the special package named by a Sophos support token.

    Sophos rejects with 404 a token that names no released special package
    and with 409 when the tenant has it already. It cannot be removed again.
    """
    token = token.strip()
    if not token:
        raise ValueError("The special package token is missing.")
    package = resource_create(
        user=user,
        tenant=tenant,
        operation="special_package_add",
        path_params={"staticPackageId": token},
        body={},
        parse=parse_static_package,
    )
    logger.info("special package %s added in tenant %s", package.id, tenant.pk)
    return package


# Comments


def package_comments_list(*, tenant: Tenant) -> Listing[PackageComment]:
    return resource_list(
        tenant=tenant, operation="package_comments_list", parse=parse_comment
    )


def package_comments_by_package(*, tenant: Tenant) -> dict[str, PackageComment]:
    """Map each commented package's id to its comment."""
    return {
        comment.package_id: comment
        for comment in package_comments_list(tenant=tenant).items
    }


def package_comment_set(
    *, user: User, tenant: Tenant, package_id: str, comment: str
) -> PackageComment:
    """Set (add or replace) the comment of one static package."""
    comment = comment.strip()
    if not comment:
        raise ValueError("The comment is empty: delete it instead.")
    return resource_update(
        user=user,
        tenant=tenant,
        operation="package_comment_update",
        path_params={"staticPackageId": package_id},
        body={"comment": comment},
        parse=parse_comment,
    )


def package_comment_delete(*, user: User, tenant: Tenant, package_id: str) -> None:
    resource_delete(
        user=user,
        tenant=tenant,
        operation="package_comment_delete",
        path_params={"staticPackageId": package_id},
    )


# Installers


def installers_list(
    *,
    tenant: Tenant,
    platforms: Iterable[str] = (),
    products: Iterable[str] = (),
) -> Installers:
    """Read the installer download links, optionally filtered."""
    params: dict[str, list[str]] = {}
    if chosen_platforms := [str(item) for item in platforms]:
        params["platforms"] = chosen_platforms
    if chosen_products := [str(item) for item in products]:
        params["requestedProducts"] = chosen_products
    return resource_get(
        tenant=tenant,
        operation="installers_list",
        parse=parse_installers,
        params=params or None,
    )
