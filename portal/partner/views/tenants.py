"""The partner's tenants: the live list merged with the mirror, one tenant's
details, and creating a tenant.

Users who see every tenant also see tenants no sync has mirrored yet; the
others see the mirrored tenants assigned to them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal import access
from portal.access import Capability
from portal.partner import forms as partner_forms
from portal.partner.views.common import partner_context
from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
)
from sophos.errors import NotFound, SophosError
from sophos.services import partner_tenants
from sophos.services.partner_tenants import PartnerTenant, TenantContact

LIST_TEMPLATE = "partner/tenants.html"
DETAIL_TEMPLATE = "partner/tenant_detail.html"
FORM_TEMPLATE = "partner/tenant_form.html"


def _synced(row: PartnerTenant) -> object:
    return row.mirror.last_synced_at if row.mirror is not None else None


TENANT_TABLE: Table[PartnerTenant] = Table(
    columns=(
        Column("name", "Tenant", lambda row: row.display_name),
        Column("sophos_name", "Name in Sophos Central", lambda row: row.name),
        Column("geography", "Data geography", lambda row: row.data_geography),
        Column("region", "Data region", lambda row: row.data_region),
        Column("billing", "Billing", lambda row: row.billing_label),
        Column("status", "Status", lambda row: row.status),
        Column(
            "endpoints",
            "Endpoints",
            lambda row: row.mirror.endpoints_total if row.mirror else None,
            numeric=True,
        ),
        Column("synced", "Last sync", _synced),
    ),
    default_sort="name",
    search=lambda row: (row.display_name, row.name, row.show_as, row.contact.email),
    search_help="Name or contact email",
    filters=(
        Filter(
            "billing",
            "Billing",
            list(partner_tenants.BILLING_TYPE_LABELS.items()),
            lambda row: row.billing_type,
        ),
        Filter(
            "geography",
            "Data geography",
            list(partner_tenants.DATA_GEOGRAPHIES.items()),
            lambda row: row.data_geography,
        ),
    ),
)


@require_GET
@access.require(Capability.VIEW_TENANTS)
def partner_tenants_list(request: HtmxHttpRequest) -> HttpResponse:
    context = partner_context(request, nav="tenants")
    context["list_url"] = reverse("partner_tenants")
    visible = None
    if not access.sees_every_tenant(request.user):
        visible = list(
            access.tenants_visible(request.user).values_list("pk", flat=True)
        )
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="tenants-table",
        read=lambda: partner_tenants.partner_tenants_list(visible_ids=visible),
        table=TENANT_TABLE,
        csv_name="tenants.csv",
        subject="partner tenant list",
        row_url=lambda row: reverse("partner_tenant_detail", args=[row.id]),
    )


@require_GET
@access.require(Capability.VIEW_TENANTS)
def partner_tenant_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    if not access.sees_every_tenant(request.user):
        # A user with assigned tenants reads only those, and 404 hides the rest.
        access.tenant_for(request, tenant_id)
    try:
        tenant = partner_tenants.partner_tenant_get(tenant_id=str(tenant_id))
    except NotFound:
        raise Http404("No tenant with this id under the partner.") from None
    context = partner_context(request, nav="tenants", tenant=tenant)
    context["list_url"] = reverse("partner_tenants")
    if tenant.mirror is not None:
        context["tenant_url"] = reverse("tenant_detail", args=[tenant.id])
    return render_page(request, DETAIL_TEMPLATE, "tenant-detail", context)


@require_http_methods(["GET", "POST"])
@access.require(Capability.PARTNER_ADMIN)
def partner_tenant_create(request: HtmxHttpRequest) -> HttpResponse:
    form = partner_forms.TenantCreateForm(
        request.POST if request.method == "POST" else None
    )
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        contact = TenantContact(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            address1=data["address1"],
            city=data["city"],
            postal_code=data["postal_code"],
            country_code=data["country_code"],
        )
        try:
            tenant = partner_tenants.partner_tenant_create(
                user=request.user,
                name=data["name"],
                show_as=data["show_as"],
                contact=contact,
                billing_type=data["billing_type"],
                data_geography=data["data_geography"],
                data_region=data["data_region"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            where = tenant.data_region or tenant.data_geography
            messages.success(
                request, f"Created the tenant {tenant.display_name} in {where}."
            )
            return redirect("partner_tenant_detail", tenant_id=tenant.id)
    if form.is_bound:
        status = 400
    context = partner_context(request, nav="tenants", form=form)
    context["list_url"] = reverse("partner_tenants")
    return render_page(request, FORM_TEMPLATE, "tenant-form", context, status=status)
