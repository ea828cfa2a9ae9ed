"""A tenant's web control settings, read and changed live in Sophos Central.

Local sites (a tenant's own category or tags for a website), the web
categories Sophos defines, SSL/TLS decryption per category, and the websites
that decryption skips.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sophos.models import Tenant
from sophos.services import resources
from sophos.services.resources import (
    Listing,
    User,
    flag,
    number,
    section,
    strings,
    text,
)

# -- web categories ------------------------------------------------------------------


@dataclass(frozen=True)
class WebCategory:
    id: int
    name: str
    label: str

    @property
    def title(self) -> str:
        return self.name or self.label or str(self.id)


def _web_category(data: Mapping[str, Any]) -> WebCategory:
    return WebCategory(
        id=number(data, "id") or 0, name=text(data, "name"), label=text(data, "label")
    )


def web_categories_list(*, tenant: Tenant) -> Listing[WebCategory]:
    """Read the web categories that local sites and decryption settings name."""
    return resources.resource_list(
        tenant=tenant, operation="web_categories_list", parse=_web_category
    )


# -- local sites ---------------------------------------------------------------------


@dataclass(frozen=True)
class LocalSite:
    """A website with the category or tags this tenant gives it."""

    id: str
    url: str
    category_id: int | None
    tags: tuple[str, ...]
    comment: str
    # Filled in by ``local_site_named`` from the web categories.
    category_name: str = ""


def local_site_named(site: LocalSite, categories: Sequence[WebCategory]) -> LocalSite:
    """Return the site with the name of its category filled in."""
    titles = {category.id: category.title for category in categories}
    if site.category_id is None:
        return site
    name = titles.get(site.category_id, f"Category {site.category_id}")
    return dataclasses.replace(site, category_name=name)


def _local_site(data: Mapping[str, Any]) -> LocalSite:
    return LocalSite(
        id=text(data, "id"),
        url=text(data, "url"),
        category_id=number(data, "categoryId"),
        tags=strings(data, "tags"),
        comment=text(data, "comment"),
    )


def _local_site_body(
    *,
    url: str,
    category_id: int | None,
    tags: Sequence[str],
    comment: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "tags": list(tags), "comment": comment}
    # NOTE/sophos-api: no source documents how to remove a site's category,
    # so an update without one leaves categoryId out and Sophos keeps the
    # current category.
    if category_id is not None:
        body["categoryId"] = category_id
    return body


def local_sites_list(*, tenant: Tenant) -> Listing[LocalSite]:
    return resources.resource_list(
        tenant=tenant, operation="local_sites_list", parse=_local_site
    )


def local_site_get(*, tenant: Tenant, site_id: str) -> LocalSite:
    return resources.resource_get(
        tenant=tenant,
        operation="local_site_get",
        parse=_local_site,
        path_params={"localSiteId": site_id},
    )


def local_site_create(
    *,
    user: User,
    tenant: Tenant,
    url: str,
    category_id: int | None = None,
    tags: Sequence[str] = (),
    comment: str = "",
) -> LocalSite:
    body = _local_site_body(
        url=url, category_id=category_id, tags=tags, comment=comment
    )
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="local_site_create",
        body=body,
        parse=_local_site,
    )


def local_site_update(
    *,
    user: User,
    tenant: Tenant,
    site_id: str,
    url: str,
    category_id: int | None = None,
    tags: Sequence[str] = (),
    comment: str = "",
) -> LocalSite:
    """Replace the site's URL, category, tags and comment."""
    body = _local_site_body(
        url=url, category_id=category_id, tags=tags, comment=comment
    )
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="local_site_update",
        path_params={"localSiteId": site_id},
        body=body,
        parse=_local_site,
    )


def local_site_delete(*, user: User, tenant: Tenant, site_id: str) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="local_site_delete",
        path_params={"localSiteId": site_id},
    )


# -- SSL/TLS decryption --------------------------------------------------------------


@dataclass(frozen=True)
class TlsDecryptionSettings:
    """The web categories whose HTTPS traffic the endpoints decrypt."""

    # Web category id to whether its traffic is decrypted. A category that
    # is not listed keeps the Sophos default.
    decryption: Mapping[int, bool]
    excluded_websites_total: int | None


def _tls_settings(data: Mapping[str, Any]) -> TlsDecryptionSettings:
    categories = data.get("categories")
    decryption: dict[int, bool] = {}
    for entry in categories if isinstance(categories, list) else []:
        if not isinstance(entry, Mapping):
            continue
        category_id = number(entry, "id")
        enabled = flag(entry, "decryptionEnabled")
        if category_id is not None and enabled is not None:
            decryption[category_id] = enabled
    excluded = section(data, "excludedWebsites")
    return TlsDecryptionSettings(
        decryption=decryption,
        excluded_websites_total=number(excluded, "total"),
    )


def tls_decryption_settings_get(*, tenant: Tenant) -> TlsDecryptionSettings:
    return resources.resource_get(
        tenant=tenant, operation="tls_decryption_settings_get", parse=_tls_settings
    )


def tls_decryption_settings_update(
    *, user: User, tenant: Tenant, decryption: Mapping[int, bool]
) -> TlsDecryptionSettings:
    """Set whether each given web category's HTTPS traffic is decrypted."""
    body = {
        "categories": [
            {"id": category_id, "decryptionEnabled": enabled}
            for category_id, enabled in sorted(decryption.items())
        ]
    }
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="tls_decryption_settings_update",
        path_params={},
        body=body,
        parse=_tls_settings,
    )


@dataclass(frozen=True)
class TlsExcludedWebsite:
    """A website whose HTTPS traffic the endpoints never decrypt."""

    value: str
    comment: str


def _excluded_website(data: Mapping[str, Any]) -> TlsExcludedWebsite:
    return TlsExcludedWebsite(value=text(data, "value"), comment=text(data, "comment"))


def tls_excluded_websites_list(*, tenant: Tenant) -> Listing[TlsExcludedWebsite]:
    return resources.resource_list(
        tenant=tenant, operation="tls_excluded_websites_list", parse=_excluded_website
    )


def tls_excluded_websites_add(
    *, user: User, tenant: Tenant, websites: Sequence[TlsExcludedWebsite]
) -> None:
    body = {
        "add": [
            {"value": site.value, "comment": site.comment}
            if site.comment
            else {"value": site.value}
            for site in websites
        ]
    }
    resources.resource_write(
        user=user, tenant=tenant, operation="tls_excluded_websites_update", body=body
    )


def tls_excluded_websites_remove(
    *, user: User, tenant: Tenant, values: Sequence[str]
) -> None:
    body = {"remove": [{"value": value} for value in values]}
    resources.resource_write(
        user=user, tenant=tenant, operation="tls_excluded_websites_update", body=body
    )


def tls_excluded_websites_clear(*, user: User, tenant: Tenant) -> None:
    """Remove every excluded website, so decryption applies to all again."""
    resources.resource_write(
        user=user, tenant=tenant, operation="tls_excluded_websites_clear"
    )
