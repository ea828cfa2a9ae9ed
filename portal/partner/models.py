"""Billing months kept after they were fetched, since a closed month does
not change."""

from __future__ import annotations

from django.db import models

from sophos.models import Connection


class BillingMonth(models.Model):
    """One closed month of a partner's billing usage, as Sophos reported it."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="billing_months"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    # One object per usage row, as written by sophos.services.billing.row_to_dict.
    rows = models.JSONField(default=list)
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
