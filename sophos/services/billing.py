"""The partner's billing usage report for one month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sophos.errors import InvalidResponse
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


# The largest quantity a usage row may report, far above any seat count. It
# keeps the sum of a month's rows within the 64-bit columns that store it.
MAX_QUANTITY = 2**31 - 1
# The tenant name of a usage row that has no accountId.
NO_ACCOUNT_NAME = "No account id"


def _quantity(item: Mapping[str, Any], key: str) -> int:
    """Return the quantity under ``key`` as a whole number.

    A missing or empty quantity is 0 and a fraction is truncated toward zero.
    Raises ``ValueError`` for anything but a finite number of at most
    ``MAX_QUANTITY`` either side of 0.
    """
    # NOTE/sophos-api: whether Sophos ever reports fractional or negative
    # quantities is unverified; both are kept as described above.
    value = item.get(key)
    if value is None or value == "":
        return 0
    invalid = ValueError(
        f"has an invalid {key} {value!r}: expected a number from "
        f"-{MAX_QUANTITY} to {MAX_QUANTITY}"
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid from None
    if not number.is_finite() or abs(number) > MAX_QUANTITY:
        raise invalid
    return int(number)


def _text(value: Any) -> str:
    """Return the value as text without NUL characters, which PostgreSQL
    rejects in text and JSON columns."""
    return str(value or "").replace("\x00", "")


def _account_id(item: Mapping[str, Any]) -> str:
    """Return the row's accountId as text, empty when it has none."""
    value = item.get("accountId")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"has an invalid accountId {value!r}")
    return _text(value)


def _usage_row(item: Any, names: Mapping[str, str]) -> BillingRow:
    """Return one usage item as a row.

    Raises ``ValueError`` with the reason when the item cannot be read.
    """
    if not isinstance(item, dict):
        raise ValueError("is not a JSON object")
    tenant_id = _account_id(item)
    name = names.get(tenant_id) or _text(item.get("accountName")) or tenant_id
    return BillingRow(
        tenant_id=tenant_id,
        tenant_name=name or NO_ACCOUNT_NAME,
        product_code=_text(item.get("productCode")),
        product_description=_text(item.get("productDescription")),
        product_group=_text(item.get("productGroup")),
        sku=_text(item.get("sku")),
        billable_quantity=_quantity(item, "billableQuantity"),
        actual_quantity=_quantity(item, "actualQuantity"),
    )


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
    """Fetch the usage rows of a month.

    Raises ``NotFound`` for a month without data, ``NoPartnerConnection``
    without a partner credential and ``InvalidResponse`` for a row that is not
    an object or has an unreadable accountId or quantity.
    """
    names = tenant_names()
    rows = []
    with client_for(connection or partner_connection()) as client:
        for number, item in enumerate(client.billing_usage(year, month), start=1):
            try:
                rows.append(_usage_row(item, names))
            except ValueError as exc:
                raise InvalidResponse(
                    f"Sophos Central returned billing usage for {year}-{month:02d} "
                    f"that cannot be kept: row {number} {exc}. Fetch the month "
                    "again later, and report the reply to Sophos support if it "
                    "stays the same."
                ) from exc
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
