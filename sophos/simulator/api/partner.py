"""Partner APIs on the global host: tenants and billing usage."""

from __future__ import annotations

from typing import Any

from sophos.simulator import store
from sophos.simulator.hosts import HostMap
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.paging import (
    key_page,
    number_page,
    parse_key_paging,
    parse_number_paging,
)
from sophos.simulator.routing import Call, router

# NOTE/sophos-api: the largest tenant page is unverified; 100 is assumed.
TENANTS_MAX_PAGE_SIZE = 100
# NOTE/sophos-api: the largest billing usage page is unverified.
BILLING_MAX_PAGE_SIZE = 100

BILLING_KIND = "partner/v1/billing/usage/{year}/{month}"


def billing_month_key(year: int, month: int) -> str:
    """Return the ``parent_id`` under which a month's usage rows are stored."""
    return f"{year:04d}-{month:02d}"


def render_tenant(tenant: SimTenant, hosts: HostMap) -> dict[str, Any]:
    """Return the tenant JSON with ``apiHost`` for the serving host map."""
    rendered: dict[str, Any] = {}
    for key, value in tenant.data.items():
        rendered[key] = value
        if key in {"partner", "organization"}:
            rendered["apiHost"] = hosts.region_origin(tenant.data_region)
    rendered.setdefault("apiHost", hosts.region_origin(tenant.data_region))
    return rendered


@router.route("GET", "/partner/v1/tenants", "partner")
def tenants_list(call: Call) -> SimResponse:
    paging = parse_number_paging(call.request, TENANTS_MAX_PAGE_SIZE)
    fields = call.request.query_list("fields")
    rows = SimTenant.objects.filter(partner=call.require_partner())

    def render(tenant: SimTenant) -> dict[str, Any]:
        return store.select_fields(render_tenant(tenant, call.hosts), fields)

    return json_response(200, number_page(rows, paging, render))


@router.route("GET", "/partner/v1/tenants/{tenantId}", "partner")
def tenant_detail(call: Call) -> SimResponse:
    tenant_id = call.params["tenantId"]
    tenant = SimTenant.objects.filter(id=tenant_id).first()
    if tenant is None:
        raise ApiError(404, f"Tenant {tenant_id} not found.")
    if tenant.partner_id != call.require_partner().id:
        raise ApiError(403, f"This partner may not manage tenant {tenant_id}.")
    fields = call.request.query_list("fields")
    return json_response(
        200, store.select_fields(render_tenant(tenant, call.hosts), fields)
    )


def _parse_month(call: Call) -> tuple[int, int]:
    raw_year, raw_month = call.params["year"], call.params["month"]
    try:
        year, month = int(raw_year), int(raw_month)
    except ValueError:
        raise ApiError(
            400, f"Invalid billing month {raw_year}/{raw_month}: use numbers."
        ) from None
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise ApiError(400, f"Invalid billing month {year}/{month}.")
    return year, month


@router.route("GET", "/partner/v1/billing/usage/{year}/{month}", "partner")
def billing_usage(call: Call) -> SimResponse:
    year, month = _parse_month(call)
    partner = call.require_partner()
    paging = parse_key_paging(call.request, BILLING_MAX_PAGE_SIZE)
    month_rows = store.listed(BILLING_KIND, partner.id, billing_month_key(year, month))
    if not month_rows.exists():
        raise ApiError(404, f"No billing usage data for {year}/{month}.")

    rows = month_rows
    account_ids = call.request.query_list("accountId")
    if account_ids:
        rows = store.where_text_in(rows, "accountId", account_ids)
    emails = call.request.query_list("contactEmail")
    if emails:
        tenants = store.where_text_in(
            SimTenant.objects.filter(partner=partner), "contact__email", emails
        ).values_list("id", flat=True)
        rows = store.where_text_in(rows, "accountId", list(tenants))
    fields = call.request.query_list("fields")

    def render(row: SimObject) -> dict[str, Any]:
        return store.select_fields(row.data, fields)

    return json_response(200, key_page(rows, paging, render))
