"""The partner's billing usage report for one month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sophos.errors import SophosError
from sophos.models import Connection, Tenant
from sophos.services.connections import client_for


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
class BillingReport:
    year: int
    month: int
    rows: list[BillingRow]
    totals_by_product: list[tuple[str, int]] = field(default_factory=list)


class NoPartnerConnection(SophosError):
    """No connection with a partner credential exists."""


def _partner_connection() -> Connection:
    connection = Connection.objects.filter(kind=Connection.Kind.PARTNER).first()
    if connection is None:
        raise NoPartnerConnection(
            "Billing usage needs a partner connection: add one under Settings."
        )
    return connection


def _quantity(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def billing_usage(*, year: int, month: int) -> BillingReport:
    """Fetch the usage report of a month; raises NotFound for a month without data."""
    connection = _partner_connection()
    names = {str(pk): name for pk, name in Tenant.objects.values_list("id", "name")}
    rows = []
    with client_for(connection) as client:
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

    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.product_description or row.product_code] += row.billable_quantity
    return BillingReport(
        year=year,
        month=month,
        rows=sorted(rows, key=lambda r: (r.tenant_name.lower(), r.product_code)),
        totals_by_product=sorted(totals.items()),
    )
