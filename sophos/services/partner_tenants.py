"""The partner's tenants: the live list merged with the mirror, and creation.

The list reads the partner API live, so a tenant created a moment ago shows
before the next sync, and adds what the mirror stores (customer name, sync
status, endpoint and alert counts). A tenant created here is written to the
mirror at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sophos.models import Tenant
from sophos.services.partner_api import (
    partner_connection,
    partner_get,
    partner_list,
    partner_parse,
    partner_write,
)
from sophos.services.resources import Listing, User, section, text

logger = logging.getLogger(__name__)

# NOTE/sophos-api: the partner API accepts trial and usage when creating a
# tenant; term appears only in replies, for tenants billed by a term licence.
BILLING_TYPES = {"trial": "Trial", "usage": "Usage (monthly billing)"}
BILLING_TYPE_LABELS = {**BILLING_TYPES, "term": "Term licence"}
# Data geographies the partner API and the SophosCentral PowerShell module
# accept when creating a tenant.
DATA_GEOGRAPHIES = {
    "US": "United States",
    "IE": "Ireland (EU)",
    "DE": "Germany (EU)",
    "CA": "Canada",
    "AU": "Australia",
    "JP": "Japan",
}
# NOTE/sophos-api: region names follow the api-<region> host names Sophos
# uses; a tenant is created in one region of its geography.
DATA_REGIONS = {
    "us01": "us01 (United States, West)",
    "us03": "us03 (United States, East)",
    "eu01": "eu01 (Ireland)",
    "eu02": "eu02 (Germany)",
    "ca01": "ca01 (Canada)",
    "au01": "au01 (Australia)",
    "jp01": "jp01 (Japan)",
}


@dataclass(frozen=True)
class TenantContact:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_code: str = ""

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class PartnerTenant:
    id: str
    name: str
    show_as: str
    data_geography: str
    data_region: str
    billing_type: str
    status: str
    api_host: str
    contact: TenantContact = field(default_factory=TenantContact)
    # The mirror row, or None for a tenant no sync has seen yet.
    mirror: Tenant | None = None

    @property
    def display_name(self) -> str:
        if self.mirror is not None:
            return self.mirror.display_name
        return self.show_as or self.name

    @property
    def billing_label(self) -> str:
        return BILLING_TYPE_LABELS.get(self.billing_type, self.billing_type)


def parse_contact(data: Mapping[str, Any]) -> TenantContact:
    address = section(data, "address")
    return TenantContact(
        first_name=text(data, "firstName"),
        last_name=text(data, "lastName"),
        email=text(data, "email"),
        phone=text(data, "phone"),
        mobile=text(data, "mobile"),
        address1=text(address, "address1"),
        address2=text(address, "address2"),
        city=text(address, "city"),
        state=text(address, "state"),
        postal_code=text(address, "postalCode"),
        country_code=text(address, "countryCode"),
    )


def parse_tenant(data: Mapping[str, Any]) -> PartnerTenant:
    return PartnerTenant(
        id=text(data, "id"),
        name=text(data, "name"),
        show_as=text(data, "showAs"),
        data_geography=text(data, "dataGeography"),
        data_region=text(data, "dataRegion"),
        billing_type=text(data, "billingType"),
        status=text(data, "status"),
        api_host=text(data, "apiHost").rstrip("/"),
        contact=parse_contact(section(data, "contact")),
    )


def _with_mirror(tenant: PartnerTenant, mirror: Tenant | None) -> PartnerTenant:
    return PartnerTenant(**{**tenant.__dict__, "mirror": mirror})


def partner_tenants_list(
    *, visible_ids: Collection[uuid.UUID] | None = None
) -> Listing[PartnerTenant]:
    """Read the partner's tenants live, each with its mirror row.

    ``visible_ids`` limits the list to those tenants; None shows every
    tenant, including those no sync has mirrored yet.
    """
    listing = partner_list(operation="tenants_list", parse=parse_tenant)
    mirrors = {str(row.pk): row for row in Tenant.objects.all()}
    allowed = None if visible_ids is None else {str(pk) for pk in visible_ids}
    items = [
        _with_mirror(tenant, mirrors.get(tenant.id))
        for tenant in listing.items
        if allowed is None or tenant.id in allowed
    ]
    return Listing(items=items, truncated=listing.truncated)


def partner_tenant_get(*, tenant_id: str) -> PartnerTenant:
    """Read one tenant live; raises ``NotFound`` for an unknown id."""
    tenant = partner_get(
        operation="tenant_get", parse=parse_tenant, path_params={"tenantId": tenant_id}
    )
    return _with_mirror(tenant, Tenant.objects.filter(pk=tenant.id).first())


def _contact_body(contact: TenantContact) -> dict[str, Any]:
    body: dict[str, Any] = {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
    }
    for key, value in (("phone", contact.phone), ("mobile", contact.mobile)):
        if value:
            body[key] = value
    address = {
        "address1": contact.address1,
        "address2": contact.address2,
        "city": contact.city,
        "state": contact.state,
        "postalCode": contact.postal_code,
        "countryCode": contact.country_code,
    }
    address = {key: value for key, value in address.items() if value}
    if address:
        body["address"] = address
    return body


def partner_tenant_create(
    *,
    user: User,
    name: str,
    contact: TenantContact,
    billing_type: str,
    show_as: str = "",
    data_geography: str = "",
    data_region: str = "",
) -> PartnerTenant:
    """Create a tenant under the partner and write it to the mirror.

    Sophos needs a data geography or a data region; both may be given.
    """
    if billing_type not in BILLING_TYPES:
        raise ValueError(
            f"Billing type {billing_type!r} is invalid: use trial or usage."
        )
    if not data_geography and not data_region:
        raise ValueError("Choose a data geography or a data region.")
    if not (contact.first_name and contact.last_name and contact.email):
        raise ValueError("The contact needs a first name, a last name and an email.")
    body: dict[str, Any] = {
        "name": name.strip(),
        "billingType": billing_type,
        "contact": _contact_body(contact),
    }
    if show_as.strip():
        body["showAs"] = show_as.strip()
    if data_geography:
        body["dataGeography"] = data_geography
    if data_region:
        body["dataRegion"] = data_region

    response = partner_write(user=user, operation="tenant_create", body=body)
    created = partner_parse(response, "tenant_create", parse_tenant)
    mirror = _mirror_upsert(created)
    logger.info("tenant %s created as %s", created.id, created.name)
    return _with_mirror(created, mirror)


def _mirror_upsert(tenant: PartnerTenant) -> Tenant | None:
    """Write a created tenant to the mirror; None if Sophos sent no id."""
    try:
        tenant_id = uuid.UUID(tenant.id)
    except ValueError:
        logger.warning("created tenant has an invalid id %r", tenant.id[:40])
        return None
    row, _ = Tenant.objects.update_or_create(
        id=tenant_id,
        defaults={
            "connection": partner_connection(),
            "name": tenant.name or tenant.id,
            "show_as": tenant.show_as,
            "data_region": tenant.data_region,
            "data_geography": tenant.data_geography,
            "billing_type": tenant.billing_type,
            "status": tenant.status,
            "api_host": tenant.api_host,
        },
    )
    return row
