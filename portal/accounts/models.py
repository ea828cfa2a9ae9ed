"""Portal roles, tenant groups and the tenants each user is assigned."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sophos.models import Tenant


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMINISTRATOR = "administrator", "Administrator"
    TECHNICIAN = "technician", "Technician"
    READ_ONLY = "read-only", "Read-only"
    BILLING = "billing", "Billing"


class UserRole(models.Model):
    """A role held by a user; a user's rights are the union of their roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class TenantGroup(models.Model):
    """A named set of tenants, assigned to technicians as one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    tenants = models.ManyToManyField(Tenant, blank=True, related_name="portal_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantAssignment(models.Model):
    """A tenant or a tenant group assigned to a user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tenant_assignments",
    )
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        TenantGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(tenant__isnull=False, group__isnull=True)
                    | models.Q(tenant__isnull=True, group__isnull=False)
                ),
                name="assignment_is_tenant_or_group",
            ),
            models.UniqueConstraint(
                fields=["user", "tenant"], name="unique_user_tenant"
            ),
            models.UniqueConstraint(fields=["user", "group"], name="unique_user_group"),
        ]

    def __str__(self) -> str:
        return f"{self.user} -> {self.tenant or self.group}"
