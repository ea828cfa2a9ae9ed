"""Who may see and do what: the one place every view, task and export checks.

Owners and administrators reach every tenant. Technicians and read-only
users reach the tenants assigned to them, directly or through a tenant
group; only technicians may act on them. Billing users see billing and no
tenant data. Roles combine as a union; a superuser counts as an owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from portal.accounts.models import Role, TenantAssignment, UserRole
from sophos.models import Job, Tenant

AnyUser = AbstractBaseUser | AnonymousUser

ALL_TENANT_ROLES = {Role.OWNER, Role.ADMINISTRATOR}
ASSIGNED_READ_ROLES = {Role.TECHNICIAN, Role.READ_ONLY}


class Capability(StrEnum):
    VIEW_TENANTS = "view_tenants"
    ACT_ON_TENANTS = "act_on_tenants"
    VIEW_BILLING = "view_billing"
    MANAGE_USERS = "manage_users"
    MANAGE_CONNECTIONS = "manage_connections"
    VIEW_AUDIT = "view_audit"
    PARTNER_ADMIN = "partner_admin"
    API_CONSOLE = "api_console"
    MANAGE_CUSTOMER_NAMES = "manage_customer_names"


CAPABILITIES: dict[str, set[Capability]] = {
    Role.OWNER: set(Capability),
    Role.ADMINISTRATOR: set(Capability) - {Capability.MANAGE_CONNECTIONS},
    Role.TECHNICIAN: {
        Capability.VIEW_TENANTS,
        Capability.ACT_ON_TENANTS,
        Capability.API_CONSOLE,
    },
    Role.READ_ONLY: {Capability.VIEW_TENANTS, Capability.API_CONSOLE},
    Role.BILLING: {Capability.VIEW_BILLING},
}


def user_roles(user: AnyUser) -> frozenset[str]:
    """Return the user's roles, read once per request and kept on the user."""
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_portal_roles", None)
    if cached is None:
        roles = set(
            UserRole.objects.filter(user__pk=user.pk).values_list("role", flat=True)
        )
        if getattr(user, "is_superuser", False):
            roles.add(Role.OWNER)
        cached = frozenset(roles)
        setattr(user, "_portal_roles", cached)  # noqa: B010
    return cached


def has_capability(user: AnyUser, capability: Capability) -> bool:
    return any(capability in CAPABILITIES[role] for role in user_roles(user))


def sees_every_tenant(user: AnyUser) -> bool:
    return bool(user_roles(user) & ALL_TENANT_ROLES)


def roles_grantable(user: AnyUser) -> set[str]:
    """Return the roles the user may grant to others.

    Owners grant any role and administrators every role but owner.
    """
    roles = user_roles(user)
    if Role.OWNER in roles:
        return set(Role.values)
    if has_capability(user, Capability.MANAGE_USERS):
        return set(Role.values) - {Role.OWNER}
    return set()


def user_manageable(actor: AnyUser, target: AbstractBaseUser) -> bool:
    """Return whether ``actor`` may change ``target``'s account and access.

    Only an owner may change an owner's account, roles and assignments.
    """
    if not has_capability(actor, Capability.MANAGE_USERS):
        return False
    if Role.OWNER in user_roles(target):
        return Role.OWNER in user_roles(actor)
    return True


def _assigned(user: AnyUser) -> Q:
    user_pk: int = user.pk  # type: ignore[assignment]
    assignments = TenantAssignment.objects.filter(user__pk=user_pk)
    direct = assignments.filter(tenant__isnull=False).values("tenant_id")
    grouped = assignments.filter(group__isnull=False).values("group__tenants")
    return Q(pk__in=direct) | Q(pk__in=grouped)


def tenants_visible(user: AnyUser) -> QuerySet[Tenant]:
    """Return every tenant the user may read."""
    roles = user_roles(user)
    if roles & ALL_TENANT_ROLES:
        return Tenant.objects.all()
    if roles & ASSIGNED_READ_ROLES:
        return Tenant.objects.filter(_assigned(user))
    return Tenant.objects.none()


def tenants_actionable(user: AnyUser) -> QuerySet[Tenant]:
    """Return every tenant the user may change."""
    roles = user_roles(user)
    if roles & ALL_TENANT_ROLES:
        return Tenant.objects.all()
    if Role.TECHNICIAN in roles:
        return Tenant.objects.filter(_assigned(user))
    return Tenant.objects.none()


def can_act_on(user: AnyUser, tenant: Tenant) -> bool:
    return tenants_actionable(user).filter(pk=tenant.pk).exists()


def jobs_visible(user: AnyUser) -> QuerySet[Job]:
    """Return every job the user may read.

    Owners and administrators read every job; anyone else reads the jobs they
    requested.
    """
    if sees_every_tenant(user):
        return Job.objects.all()
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return Job.objects.none()
    user_pk = user.pk
    return Job.objects.filter(requested_by__pk=user_pk)


def tenant_for(
    request: HttpRequest, tenant_id: uuid.UUID | str, *, write: bool = False
) -> Tenant:
    """Resolve a tenant from the URL for this user.

    A tenant the user may not see raises Http404, so its existence does not
    leak. A visible tenant the user may not change raises PermissionDenied
    (403) for a write.
    """
    tenant = tenants_visible(request.user).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    if write and not can_act_on(request.user, tenant):
        raise PermissionDenied("Your role lets you read this tenant, not change it.")
    return tenant


P = ParamSpec("P")
R = TypeVar("R")


def require(
    capability: Capability,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view so that it returns 403 to users without the capability."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            request: Any = args[0]
            if not has_capability(request.user, capability):
                raise PermissionDenied("Your role does not allow this page.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
