"""Software packages with their comments, special packages, and the
installer download links. Every page reads live from Sophos."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    csv_response,
    render_page,
    sophos_error_text,
    table_for,
    tenant_context,
    tenant_for,
    wants_csv,
)
from portal.tenants.forms import packages as package_forms
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import packages
from sophos.services.packages import PackageComment, StaticPackage

logger = logging.getLogger(__name__)

NAV = "packages"
LIST_TEMPLATE = "tenants/packages.html"
DETAIL_TEMPLATE = "tenants/package_detail.html"
INSTALLERS_TEMPLATE = "tenants/installers.html"

PLATFORMS = [
    ("windows", "Windows"),
    ("winserv", "Windows Server"),
    ("linux", "Linux"),
    ("macOS", "macOS"),
]


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def package_table(comments: dict[str, PackageComment]) -> Table[StaticPackage]:
    return Table(
        columns=(
            Column("name", "Package", lambda row: row.name),
            Column("platform", "Platform", lambda row: row.platform, code=True),
            Column("type", "Type", lambda row: row.type, code=True),
            Column("version", "Agent version", lambda row: row.agent_version),
            Column("released", "Released", lambda row: row.released_on),
            Column("expires", "Expires", lambda row: row.expires_on),
            Column(
                "comment",
                "Comment",
                lambda row: comments[row.id].comment if row.id in comments else "",
            ),
        ),
        default_sort="-released",
        search=lambda row: (row.name, row.agent_version),
        search_help="Name or version",
        filters=(Filter("platform", "Platform", PLATFORMS, lambda row: row.platform),),
    )


def _list_context(request: HtmxHttpRequest, tenant: Tenant) -> dict[str, Any]:
    return tenant_context(
        request,
        tenant,
        nav=NAV,
        list_url=_url("packages_list", tenant),
        special_url=_url("packages_special_add", tenant),
        special_form=package_forms.SpecialPackageForm(),
    )


def _list_response(
    request: HtmxHttpRequest,
    tenant: Tenant,
    context: dict[str, Any],
    *,
    partial: str = "packages-table",
    status: int = 200,
) -> HttpResponse:
    try:
        listing = packages.static_packages_list(tenant=tenant)
        comments = packages.package_comments_by_package(tenant=tenant)
        recommended = packages.recommended_packages_list(tenant=tenant).items
    except SophosError as exc:
        logger.warning("packages of tenant %s failed: %s", tenant.pk, exc)
        context["error"] = exc
        return render_page(request, LIST_TEMPLATE, partial, context, status=status)
    result = table_for(
        request,
        listing.items,
        package_table(comments),
        row_url=lambda row: _url("packages_detail", tenant, row.id),
    )
    if wants_csv(request):
        return csv_response(f"packages-{tenant.pk}.csv", result)
    names = {package.id: package.name for package in listing.items}
    context.update(
        {
            "result": result,
            "recommended": recommended,
            "comments": [
                (names.get(comment.package_id, comment.package_name), comment)
                for comment in comments.values()
            ],
        }
    )
    return render_page(request, LIST_TEMPLATE, partial, context, status=status)


@require_GET
def packages_list(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    return _list_response(request, tenant, _list_context(request, tenant))


@require_POST
def special_package_add(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    context = _list_context(request, tenant)
    form = package_forms.SpecialPackageForm(request.POST)
    context["special_form"] = form
    if not form.is_valid():
        return _render_special(request, tenant, context, status=400)
    try:
        package = packages.special_package_add(
            user=request.user, tenant=tenant, token=form.cleaned_data["token"]
        )
    except SophosError as exc:
        if exc.status == 409:
            context["special_error_text"] = (
                "This tenant already has this special package: Sophos Central adds "
                f"each one once. ({sophos_error_text(exc)})"
            )
        elif exc.status == 404:
            context["special_error_text"] = (
                "No released special package matches this token: check it with "
                f"Sophos support. ({sophos_error_text(exc)})"
            )
        context["special_error"] = exc
        return _render_special(request, tenant, context)
    notice = f"Added the special package {package.name}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_url("packages_list", tenant))
    context["special_notice"] = notice
    context["special_form"] = package_forms.SpecialPackageForm()
    return _render_special(request, tenant, context)


def _render_special(
    request: HtmxHttpRequest,
    tenant: Tenant,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    return render_page(
        request, LIST_TEMPLATE, "special-package", context, status=status
    )


def _package_or_404(tenant: Tenant, package_id: str) -> StaticPackage:
    try:
        return packages.static_package_get(tenant=tenant, package_id=package_id)
    except NotFound:
        raise Http404("No static package with this id in this tenant.") from None


@require_http_methods(["GET", "POST"])
def package_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    """Show a package with its comment; a POST sets the comment."""
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    package = _package_or_404(tenant, str(item_id))
    try:
        comment = packages.package_comments_by_package(tenant=tenant).get(package.id)
    except SophosError as exc:
        logger.warning("package comments of tenant %s failed: %s", tenant.pk, exc)
        comment = None
    status = 200
    if writing:
        form = package_forms.PackageCommentForm(request.POST)
        if form.is_valid():
            try:
                packages.package_comment_set(
                    user=request.user,
                    tenant=tenant,
                    package_id=package.id,
                    comment=form.cleaned_data["comment"],
                )
            except SophosError as exc:
                add_sophos_error(form, exc, "comment")
            else:
                messages.success(request, f"Saved the comment on {package.name}.")
                return redirect(_url("packages_detail", tenant, package.id))
        status = 400
    else:
        form = package_forms.PackageCommentForm(
            initial={"comment": comment.comment if comment else ""}
        )
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        package=package,
        comment=comment,
        form=form,
        list_url=_url("packages_list", tenant),
        detail_url=_url("packages_detail", tenant, package.id),
        comment_delete_url=_url("packages_comment_delete", tenant, package.id),
    )
    return render_page(
        request, DETAIL_TEMPLATE, "package-comment", context, status=status
    )


@require_POST
def package_comment_delete(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    package = _package_or_404(tenant, str(item_id))
    try:
        packages.package_comment_delete(
            user=request.user, tenant=tenant, package_id=package.id
        )
    except SophosError as exc:
        messages.error(
            request, f"The comment was not deleted: {sophos_error_text(exc)}"
        )
    else:
        messages.success(request, f"Deleted the comment on {package.name}.")
    return redirect(_url("packages_detail", tenant, package.id))


# -- installers ----------------------------------------------------------------------


@require_GET
def installers_list(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    form = package_forms.InstallerFilterForm(request.GET)
    context = tenant_context(
        request,
        tenant,
        nav="installers",
        form=form,
        list_url=_url("installers_list", tenant),
        product_names=packages.INSTALLER_PRODUCTS,
    )
    status = 200
    chosen: dict[str, list[str]] = {"platforms": [], "products": []}
    if form.is_valid():
        chosen = {
            "platforms": form.cleaned_data["platforms"],
            "products": form.cleaned_data["products"],
        }
    else:
        status = 400
    try:
        context["installers"] = packages.installers_list(tenant=tenant, **chosen)
    except SophosError as exc:
        logger.warning("installers of tenant %s failed: %s", tenant.pk, exc)
        context["error"] = exc
    return render_page(
        request, INSTALLERS_TEMPLATE, "installers-table", context, status=status
    )


urlpatterns = [
    path("packages/", packages_list, name="packages_list"),
    path("packages/special/", special_package_add, name="packages_special_add"),
    path("packages/<uuid:item_id>/", package_detail, name="packages_detail"),
    path(
        "packages/<uuid:item_id>/comment/delete/",
        package_comment_delete,
        name="packages_comment_delete",
    ),
    path("installers/", installers_list, name="installers_list"),
]
