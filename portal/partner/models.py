"""Billing months as Sophos reported them, kept in tables the billing page
reads a page at a time.

A month is stored with its totals, one row per tenant with the tenant's
totals, and one row per tenant and product. The page reads the month, one
page of tenant totals and, on demand, one tenant's products, so its cost
does not grow with the number of tenants.
"""

from __future__ import annotations

from django.db import models

from sophos.models import Connection, Tenant

# Column sizes of the usage text that Sophos sends. Longer text is cut to fit,
# except an account id, which is rejected.
ACCOUNT_ID_MAX_LENGTH = 64
NAME_MAX_LENGTH = 255
CODE_MAX_LENGTH = 100


class BillingMonth(models.Model):
    """One month of a partner's billing usage and its totals.

    ``complete`` is set when the month had closed before it was fetched, so
    its usage no longer changes and it is never fetched again. A month
    fetched while open is fetched again once it is older than
    ``BILLING_OPEN_MONTH_MAX_AGE`` or has closed.
    """

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="billing_months"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    complete = models.BooleanField(default=True)
    # False for a closed month Sophos reported no usage for; it has no rows,
    # and the portal does not ask Sophos for it again.
    has_usage = models.BooleanField(default=True)
    billable_total = models.BigIntegerField(default=0)
    actual_total = models.BigIntegerField(default=0)
    tenant_count = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    # [[product, billable quantity], ...] sorted by product: one entry per
    # product, which keeps the list short.
    product_totals = models.JSONField(default=list)
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "year", "month"],
                name="partner_billing_month_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class BillingTenantTotal(models.Model):
    """One tenant's usage in a month, summed over its products."""

    billing_month = models.ForeignKey(
        BillingMonth, on_delete=models.CASCADE, related_name="tenant_totals"
    )
    # The tenant as Sophos reported it. ``tenant`` is the account id read as
    # a tenant id, with no database constraint. The join finds the mirrored
    # tenant, whose current name the page shows, even when it was mirrored
    # after the month was kept. Once the tenant is deleted it finds nothing.
    account_id = models.CharField(max_length=ACCOUNT_ID_MAX_LENGTH)
    account_name = models.CharField(max_length=NAME_MAX_LENGTH)
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    products = models.PositiveIntegerField(default=0)
    billable_quantity = models.BigIntegerField(default=0)
    actual_quantity = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account_name", "account_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_month", "account_id"],
                name="partner_billing_tenant_total_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.billing_month} {self.account_name}"


class BillingUsage(models.Model):
    """One tenant's usage of one product in a month."""

    billing_month = models.ForeignKey(
        BillingMonth, on_delete=models.CASCADE, related_name="usage"
    )
    account_id = models.CharField(max_length=ACCOUNT_ID_MAX_LENGTH)
    account_name = models.CharField(max_length=NAME_MAX_LENGTH)
    # As in ``BillingTenantTotal``, a link without a database constraint.
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    product_code = models.CharField(max_length=CODE_MAX_LENGTH)
    product_description = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    product_group = models.CharField(max_length=CODE_MAX_LENGTH, blank=True)
    sku = models.CharField(max_length=CODE_MAX_LENGTH, blank=True)
    billable_quantity = models.BigIntegerField(default=0)
    actual_quantity = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account_name", "product_code", "pk"]
        indexes = [
            models.Index(
                fields=["billing_month", "account_id"],
                name="partner_billing_usage_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.billing_month} {self.account_name} {self.product_code}"
