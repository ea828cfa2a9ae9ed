"""Reads behind the user, tenant group and audit log pages."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Max, Prefetch, QuerySet
from django.utils import timezone

from portal.accounts.models import TenantAssignment, TenantGroup, UserRole
from sophos.models import AuditEntry


def users_list() -> QuerySet[User]:
    """Return every portal user by username, with roles and assignments."""
    model = get_user_model()
    assignments = TenantAssignment.objects.select_related("tenant", "group")
    users: QuerySet[User] = model.objects.order_by("username").prefetch_related(
        Prefetch("roles", queryset=UserRole.objects.order_by("role")),
        Prefetch("tenant_assignments", queryset=assignments),
    )
    return users


def tenant_groups_list() -> QuerySet[TenantGroup]:
    """Return every tenant group by name, with tenant and user counts."""
    return TenantGroup.objects.annotate(
        tenant_count=Count("tenants", distinct=True),
        user_count=Count("assignments", distinct=True),
    ).order_by("name")


@dataclass(frozen=True)
class AuditFilters:
    username: str = ""
    tenant_id: str = ""
    operation: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_entries_list(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Return the audit entries matching ``filters``, newest first.

    ``since`` and ``until`` are whole days in the portal's time zone, both
    inclusive.
    """
    entries = AuditEntry.objects.all()
    if filters.username:
        entries = entries.filter(username=filters.username)
    if filters.tenant_id:
        entries = entries.filter(tenant_id=uuid.UUID(filters.tenant_id))
    if filters.operation:
        entries = entries.filter(operation=filters.operation)
    if filters.since:
        entries = entries.filter(at__gte=_day_start(filters.since))
    if filters.until and filters.until < datetime.date.max:
        next_day = filters.until + datetime.timedelta(days=1)
        entries = entries.filter(at__lt=_day_start(next_day))
    return entries.order_by("-at", "-id")


def audit_usernames() -> list[str]:
    """Return every username that appears in the audit log, sorted."""
    names = (
        AuditEntry.objects.exclude(username="")
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )
    return list(names)


def audit_operations() -> list[str]:
    """Return every operation that appears in the audit log, sorted."""
    operations = (
        AuditEntry.objects.order_by("operation")
        .values_list("operation", flat=True)
        .distinct()
    )
    return list(operations)


def audit_tenants() -> list[tuple[str, str]]:
    """Return (tenant id, name) for every tenant in the audit log, by name.

    A tenant recorded under several names is listed under the
    alphabetically last one.
    """
    rows = (
        AuditEntry.objects.exclude(tenant_id=None)
        .values("tenant_id")
        .annotate(name=Max("tenant_name"))
        .order_by()
    )
    choices = [
        (str(row["tenant_id"]), row["name"] or str(row["tenant_id"])) for row in rows
    ]
    return sorted(choices, key=lambda choice: (choice[1].lower(), choice[0]))
