"""Web control: local sites, web categories, SSL/TLS decryption and the
websites that decryption skips."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.tenants.common import (
    Column,
    ConfirmDelete,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
    sophos_error_text,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import (
    Collection,
    User,
    collection_urls,
    confirm_delete_page,
)
from portal.tenants.forms import web_control as web_forms
from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.services import web_control
from sophos.services.resources import Listing
from sophos.services.web_control import LocalSite, TlsExcludedWebsite, WebCategory

logger = logging.getLogger(__name__)

SUBNAV = "tenants/web_control/_subnav.html"
TLS_TEMPLATE = "tenants/web_control/tls_decryption.html"
EXCLUDED_TEMPLATE = "tenants/web_control/tls_excluded_websites.html"

# -- local sites ---------------------------------------------------------------------


def _categories(tenant: Tenant) -> tuple[list[WebCategory], SophosError | None]:
    """Return the web categories, or none and the error that prevented it."""
    try:
        return web_control.web_categories_list(tenant=tenant).items, None
    except SophosError as exc:
        logger.warning("web categories of tenant %s failed: %s", tenant.pk, exc)
        return [], exc


def _sites(tenant: Tenant) -> Listing[LocalSite]:
    listing = web_control.local_sites_list(tenant=tenant)
    categories, _error = _categories(tenant)
    named = [web_control.local_site_named(site, categories) for site in listing.items]
    return Listing(items=named, truncated=listing.truncated)


def _site(tenant: Tenant, site_id: str) -> LocalSite:
    site = web_control.local_site_get(tenant=tenant, site_id=site_id)
    categories, _error = _categories(tenant)
    return web_control.local_site_named(site, categories)


def _site_form_kwargs(tenant: Tenant) -> dict[str, Any]:
    categories, error = _categories(tenant)
    return {
        "categories": categories,
        "categories_error": sophos_error_text(error) if error else "",
    }


def _site_create(user: User, tenant: Tenant, data: dict[str, Any]) -> LocalSite:
    return web_control.local_site_create(
        user=user,
        tenant=tenant,
        url=data["url"],
        category_id=data["category_id"],
        tags=data["tags"],
        comment=data["comment"],
    )


def _site_update(
    user: User, tenant: Tenant, item: LocalSite, data: dict[str, Any]
) -> LocalSite:
    return web_control.local_site_update(
        user=user,
        tenant=tenant,
        site_id=item.id,
        url=data["url"],
        category_id=data["category_id"],
        tags=data["tags"],
        comment=data["comment"],
    )


def _site_details(item: LocalSite) -> list[tuple[str, object]]:
    return [
        ("Website", item.url),
        ("Category", item.category_name),
        ("Tags", ", ".join(item.tags)),
        ("Comment", item.comment),
        ("Id", item.id),
    ]


LOCAL_SITES = Collection[LocalSite](
    key="local_sites",
    path="web-control/local-sites/",
    title="Local sites",
    noun="local site",
    nav="local_sites",
    subnav=SUBNAV,
    intro="Websites with a category or tags set by this tenant, which web "
    "control policies then allow, warn about or block.",
    table=Table(
        columns=(
            Column("url", "Website", lambda row: row.url, mono=True),
            Column("category", "Category", lambda row: row.category_name),
            Column("tags", "Tags", lambda row: row.tags),
            Column("comment", "Comment", lambda row: row.comment),
        ),
        default_sort="url",
        search=lambda row: (row.url, row.category_name, *row.tags, row.comment),
        search_help="Website, category, tag or comment",
    ),
    list_items=_sites,
    item_id=lambda item: item.id,
    item_label=lambda item: item.url,
    get_item=_site,
    details=_site_details,
    form_kwargs=_site_form_kwargs,
    create_form=web_forms.LocalSiteForm,
    create=_site_create,
    update_form=web_forms.LocalSiteForm,
    update_initial=lambda item: {
        "url": item.url,
        "category_id": item.category_id,
        "tags": ", ".join(item.tags),
        "comment": item.comment,
    },
    update=_site_update,
    delete=lambda user, tenant, item_id: web_control.local_site_delete(
        user=user, tenant=tenant, site_id=item_id
    ),
    losses=lambda item: [
        f"{item.url} goes back to the category Sophos gives it, and policies "
        "that name its tags no longer apply to it."
    ],
)


# -- web categories ------------------------------------------------------------------


WEB_CATEGORIES = Collection[WebCategory](
    key="web_categories",
    path="web-control/categories/",
    title="Web categories",
    noun="web category",
    plural="web categories",
    nav="web_categories",
    subnav=SUBNAV,
    intro="The categories Sophos sorts websites into; local sites and SSL/TLS "
    "decryption settings name them.",
    table=Table(
        columns=(
            Column("title", "Category", lambda row: row.title),
            Column("name", "Name", lambda row: row.name, mono=True),
            Column("id", "Id", lambda row: row.id, numeric=True),
        ),
        default_sort="title",
        search=lambda row: (row.title, row.name, str(row.id)),
        search_help="Category name or id",
    ),
    list_items=lambda tenant: web_control.web_categories_list(tenant=tenant),
    item_id=lambda item: str(item.id),
    item_label=lambda item: item.title,
    has_detail=False,
)


# -- SSL/TLS decryption --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def tls_decryption(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    """Show and change which web categories' HTTPS traffic is decrypted."""
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    context = tenant_context(
        request, tenant, nav="tls_decryption", subnav_current="tls_decryption"
    )
    try:
        settings = web_control.tls_decryption_settings_get(tenant=tenant)
        categories = web_control.web_categories_list(tenant=tenant).items
    except SophosError as exc:
        context["error"] = exc
        return render_page(request, TLS_TEMPLATE, "tls-settings", context)

    form = web_forms.TlsDecryptionForm(
        request.POST if writing else None,
        categories=categories,
        decryption=settings.decryption,
    )
    status = 200
    if writing and form.is_valid():
        try:
            web_control.tls_decryption_settings_update(
                user=request.user, tenant=tenant, decryption=form.decryption()
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
            status = 400
        else:
            messages.success(request, "Saved the SSL/TLS decryption settings.")
            return redirect("tenants:tls_decryption", tenant_id=tenant.pk)

    context["form"] = form
    context["settings"] = settings
    context["decrypted"] = sum(settings.decryption.values())
    return render_page(request, TLS_TEMPLATE, "tls-settings", context, status=status)


EXCLUDED_TABLE = Table[TlsExcludedWebsite](
    columns=(
        Column("value", "Website", lambda row: row.value, mono=True),
        Column("comment", "Comment", lambda row: row.comment),
    ),
    default_sort="value",
    search=lambda row: (row.value, row.comment),
    search_help="Website or comment",
)


def _excluded_url(tenant: Tenant, action: str = "list") -> str:
    return reverse(f"tenants:tls_excluded_websites_{action}", args=[tenant.pk])


@require_GET
def tls_excluded_websites(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    return _excluded_response(request, tenant, web_forms.TlsExcludedWebsiteForm())


def _excluded_response(
    request: HtmxHttpRequest,
    tenant: Tenant,
    form: web_forms.TlsExcludedWebsiteForm,
    *,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request, tenant, nav="tls_decryption", subnav_current="tls_excluded"
    )
    context.update(
        {
            "form": form,
            "list_url": _excluded_url(tenant),
            "add_url": _excluded_url(tenant, "add"),
            "clear_url": _excluded_url(tenant, "clear"),
        }
    )
    return live_table_page(
        request,
        context,
        template=EXCLUDED_TEMPLATE,
        partial="excluded-table",
        read=lambda: web_control.tls_excluded_websites_list(tenant=tenant),
        table=EXCLUDED_TABLE,
        csv_name=f"tls-excluded-websites-{tenant.pk}.csv",
        subject=f"TLS excluded websites of tenant {tenant.pk}",
        status=status,
    )


@require_http_methods(["POST"])
def tls_excluded_website_add(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    form = web_forms.TlsExcludedWebsiteForm(request.POST)
    if form.is_valid():
        website = TlsExcludedWebsite(
            value=form.cleaned_data["value"], comment=form.cleaned_data["comment"]
        )
        try:
            web_control.tls_excluded_websites_add(
                user=request.user, tenant=tenant, websites=[website]
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "value")
        else:
            messages.success(request, f"Decryption now skips {website.value}.")
            return redirect(_excluded_url(tenant))
    # The add form sits on the list page, which shows its errors.
    return _excluded_response(request, tenant, form, status=400)


@require_http_methods(["GET", "POST"])
def tls_excluded_website_remove(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    # The confirmation form posts to a URL that carries the value.
    source = request.POST if "value" in request.POST else request.GET
    form = web_forms.TlsExcludedWebsiteRemoveForm(source)
    if not form.is_valid():
        return HttpResponse("Name the website to remove in value.", status=400)
    value = form.cleaned_data["value"]
    confirm = ConfirmDelete(
        title=f"Decrypt {value} again?",
        subject=f"the excluded website {value}",
        losses=[
            f"Endpoints decrypt HTTPS traffic to {value} again when its "
            "category is decrypted, which can break sites that pin their "
            "certificates."
        ],
        action_url=_excluded_url(tenant, "remove") + "?" + urlencode({"value": value}),
        cancel_url=_excluded_url(tenant),
    )
    return _excluded_delete_page(
        request,
        tenant,
        confirm,
        delete=lambda: web_control.tls_excluded_websites_remove(
            user=request.user, tenant=tenant, values=[value]
        ),
        deleted_message=f"Decryption no longer skips {value}.",
    )


@require_http_methods(["GET", "POST"])
def tls_excluded_websites_clear(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    confirm = ConfirmDelete(
        title="Remove every excluded website?",
        subject="every website excluded from SSL/TLS decryption",
        losses=[
            "Endpoints decrypt HTTPS traffic to all of these websites again "
            "whenever their category is decrypted."
        ],
        action_url=_excluded_url(tenant, "clear"),
        cancel_url=_excluded_url(tenant),
    )
    return _excluded_delete_page(
        request,
        tenant,
        confirm,
        delete=lambda: web_control.tls_excluded_websites_clear(
            user=request.user, tenant=tenant
        ),
        deleted_message="Removed every excluded website.",
    )


def _excluded_delete_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    confirm: ConfirmDelete,
    *,
    delete: Callable[[], object],
    deleted_message: str,
) -> HttpResponse:
    return confirm_delete_page(
        request,
        tenant,
        nav="tls_decryption",
        section_title="SSL/TLS excluded websites",
        list_url=_excluded_url(tenant),
        confirm=lambda error: dataclasses.replace(confirm, error=error),
        delete=delete,
        deleted_message=deleted_message,
        subnav=SUBNAV,
        subnav_current="tls_excluded",
    )


urlpatterns = [
    *collection_urls(LOCAL_SITES),
    *collection_urls(WEB_CATEGORIES),
    path("web-control/tls-decryption/", tls_decryption, name="tls_decryption"),
    path(
        "web-control/tls-decryption/excluded-websites/",
        tls_excluded_websites,
        name="tls_excluded_websites_list",
    ),
    path(
        "web-control/tls-decryption/excluded-websites/add/",
        tls_excluded_website_add,
        name="tls_excluded_websites_add",
    ),
    path(
        "web-control/tls-decryption/excluded-websites/remove/",
        tls_excluded_website_remove,
        name="tls_excluded_websites_remove",
    ),
    path(
        "web-control/tls-decryption/excluded-websites/clear/",
        tls_excluded_websites_clear,
        name="tls_excluded_websites_clear",
    ),
]
