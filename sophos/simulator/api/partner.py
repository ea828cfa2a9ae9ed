"""Partner APIs on the global host: tenants and billing usage."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max

from sophos.simulator import store
from sophos.simulator.api.resources import json_body
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


# The data region of a new tenant in each data geography.
GEOGRAPHY_REGIONS = {
    "US": "us01",
    "IE": "eu01",
    "GB": "eu01",
    "DE": "eu02",
    "CA": "ca01",
    "AU": "au01",
    "JP": "jp01",
    "BR": "br01",
    "IN": "in01",
}
REGION_GEOGRAPHIES = {
    "us01": "US",
    "us03": "US",
    "eu01": "IE",
    "eu02": "DE",
    "ca01": "CA",
    "au01": "AU",
    "jp01": "JP",
    "br01": "BR",
    "in01": "IN",
}
BILLING_TYPES = {"term", "trial", "usage"}


def _new_tenant_place(body: dict[str, Any]) -> tuple[str, str]:
    """Return (dataGeography, dataRegion) from a create request, or raise 400."""
    region = body.get("dataRegion")
    geography = body.get("dataGeography")
    if region is not None:
        if region not in REGION_GEOGRAPHIES:
            raise ApiError(400, f"Invalid dataRegion {region!r}.")
        return str(geography or REGION_GEOGRAPHIES[region]), str(region)
    if geography is None:
        raise ApiError(400, "Missing dataGeography or dataRegion: send one of them.")
    if geography not in GEOGRAPHY_REGIONS:
        raise ApiError(
            400,
            f"Invalid dataGeography {geography!r}: use one of "
            f"{', '.join(sorted(GEOGRAPHY_REGIONS))}.",
        )
    return str(geography), GEOGRAPHY_REGIONS[geography]


@router.route("POST", "/partner/v1/tenants", "partner")
def tenant_create(call: Call) -> SimResponse:
    body = json_body(call, required=("name", "contact", "billingType"))
    if body["billingType"] not in BILLING_TYPES:
        raise ApiError(400, f"Invalid billingType {body['billingType']!r}.")
    if not isinstance(body["contact"], dict):
        raise ApiError(400, "Invalid contact: send an object with name and email.")
    geography, region = _new_tenant_place(body)
    partner = call.require_partner()
    tenant_id = str(uuid.uuid4())
    data = {
        "id": tenant_id,
        "showAs": body.get("showAs") or body["name"],
        "name": body["name"],
        "dataGeography": geography,
        "dataRegion": region,
        "billingType": body["billingType"],
        "partner": {"id": partner.id},
        "status": "active",
        "contact": body["contact"],
    }
    with transaction.atomic():
        last = SimTenant.objects.aggregate(last=Max("seq"))["last"] or 0
        tenant = SimTenant.objects.create(
            id=tenant_id, partner=partner, seq=last + 1, data_region=region, data=data
        )
    return json_response(201, render_tenant(tenant, call.hosts))


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
