"""The partner's billing usage report for one month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sophos.models import Connection, Tenant
from sophos.services.connections import client_for
from sophos.services.partner_api import NoPartnerConnection, partner_connection

__all__ = [
    "BillingReport",
    "BillingRow",
    "NoPartnerConnection",
    "TenantTotal",
    "billing_report",
    "billing_usage",
    "billing_usage_rows",
]


@dataclass(frozen=True)
class BillingRow:
    tenant_id: str
    tenant_name: str
    product_code: str
    product_description: str
    product_group: str
    sku: str
    billable_quantity: int
    actual_quantity: int


@dataclass(frozen=True)
class TenantTotal:
    """One tenant's usage in a month, summed over its products."""

    tenant_id: str
    tenant_name: str
    products: int
    billable_quantity: int
    actual_quantity: int


@dataclass(frozen=True)
class BillingReport:
    year: int
    month: int
    rows: list[BillingRow]
    totals_by_product: list[tuple[str, int]] = field(default_factory=list)
    totals_by_tenant: list[TenantTotal] = field(default_factory=list)

    @property
    def billable_total(self) -> int:
        return sum(row.billable_quantity for row in self.rows)


def _quantity(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def tenant_names() -> dict[str, str]:
    """Map each mirrored tenant's id to the name the portal shows."""
    return {
        str(pk): customer_name or show_as or name
        for pk, customer_name, show_as, name in Tenant.objects.values_list(
            "pk", "customer_name", "show_as", "name"
        )
    }


def billing_usage_rows(
    *, year: int, month: int, connection: Connection | None = None
) -> list[BillingRow]:
    """Fetch the usage rows of a month; raises ``NotFound`` for a month
    without data and ``NoPartnerConnection`` without a partner credential."""
    names = tenant_names()
    rows = []
    with client_for(connection or partner_connection()) as client:
        for item in client.billing_usage(year, month):
            tenant_id = str(item.get("accountId") or "")
            rows.append(
                BillingRow(
                    tenant_id=tenant_id,
                    tenant_name=str(
                        names.get(tenant_id) or item.get("accountName") or tenant_id
                    ),
                    product_code=str(item.get("productCode") or ""),
                    product_description=str(item.get("productDescription") or ""),
                    product_group=str(item.get("productGroup") or ""),
                    sku=str(item.get("sku") or ""),
                    billable_quantity=_quantity(item.get("billableQuantity")),
                    actual_quantity=_quantity(item.get("actualQuantity")),
                )
            )
    return rows


def billing_report(
    *, year: int, month: int, rows: Iterable[BillingRow]
) -> BillingReport:
    """Sort a month's rows and add the totals per product and per tenant."""
    ordered = sorted(rows, key=lambda r: (r.tenant_name.lower(), r.product_code))

    products: dict[str, int] = defaultdict(int)
    for row in ordered:
        products[row.product_description or row.product_code] += row.billable_quantity

    by_tenant: dict[str, list[BillingRow]] = defaultdict(list)
    for row in ordered:
        by_tenant[row.tenant_id].append(row)
    tenants = [
        TenantTotal(
            tenant_id=tenant_id,
            tenant_name=items[0].tenant_name,
            products=len({item.product_code for item in items}),
            billable_quantity=sum(item.billable_quantity for item in items),
            actual_quantity=sum(item.actual_quantity for item in items),
        )
        for tenant_id, items in by_tenant.items()
    ]
    return BillingReport(
        year=year,
        month=month,
        rows=ordered,
        totals_by_product=sorted(products.items()),
        totals_by_tenant=sorted(tenants, key=lambda t: t.tenant_name.lower()),
    )


def billing_usage(
    *, year: int, month: int, connection: Connection | None = None
) -> BillingReport:
    """Fetch the usage report of a month; raises NotFound for a month without data."""
    rows = billing_usage_rows(year=year, month=month, connection=connection)
    return billing_report(year=year, month=month, rows=rows)
