"""Portal user, role, assignment and tenant group changes, each audited.

Every service checks that the acting user may make the change, because a
view is not the only caller, and records the change in the audit log
without passwords.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portal import access
from portal.access import Capability
from portal.accounts.models import Role, TenantAssignment, TenantGroup, UserRole
from portal.accounts.sessions import user_sessions_end
from sophos.models import Tenant
from sophos.services.audit import audited

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser


def _check_manageable(actor: Actor, user: User) -> None:
    if not access.user_manageable(actor, user):
        raise PermissionDenied(
            f"Your role does not allow changing the account {user.username!r}."
        )


def _check_grantable(actor: Actor, roles: Collection[str]) -> None:
    forbidden = set(roles) - access.roles_grantable(actor)
    if forbidden:
        raise PermissionDenied(
            f"Your role does not allow granting {', '.join(sorted(forbidden))}."
        )


def _roles_of(user: User) -> list[str]:
    return sorted(UserRole.objects.filter(user=user).values_list("role", flat=True))


def _active_owners_besides(user: User) -> bool:
    model = get_user_model()
    others = model.objects.filter(is_active=True).exclude(pk=user.pk)
    return (
        others.filter(is_superuser=True).exists()
        or others.filter(roles__role=Role.OWNER).exists()
    )


def _check_keeps_an_owner(user: User, *, losing_owner: bool) -> None:
    """Reject a change that would leave the portal without an active owner."""
    was_owner = user.is_superuser or Role.OWNER in _roles_of(user)
    if losing_owner and was_owner and not _active_owners_besides(user):
        raise ValidationError(
            f"{user.username!r} is the last active owner: make another user an "
            "owner first."
        )


def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    roles: Collection[str] = (),
    tenants: Iterable[Tenant] = (),
    groups: Iterable[TenantGroup] = (),
) -> User:
    """Create an active portal user with roles and tenant assignments."""
    if not access.has_capability(actor, Capability.MANAGE_USERS):
        raise PermissionDenied("Your role does not allow creating users.")
    _check_grantable(actor, roles)
    tenants = list(tenants)
    groups = list(groups)
    parameters = {
        "username": username,
        "email": email,
        "roles": sorted(roles),
        "tenants": [str(t.pk) for t in tenants],
        "groups": [g.name for g in groups],
    }
    with (
        audited(user=actor, operation="user_create", parameters=parameters),
        transaction.atomic(),
    ):
        user: User = get_user_model().objects.create_user(
            username=username,
            password=password,
            email=email,
            first_name=first_name,
            last_name=last_name,
        )
        UserRole.objects.bulk_create(UserRole(user=user, role=r) for r in roles)
        _assignments_replace(user, tenants, groups)
    logger.info("user %s created by %s", user.pk, getattr(actor, "pk", None))
    return user


def user_update(
    *,
    actor: Actor,
    user: User,
    email: str,
    first_name: str,
    last_name: str,
) -> None:
    """Change a user's email address and name."""
    _check_manageable(actor, user)
    changes = {
        field: value
        for field, value in (
            ("email", email),
            ("first_name", first_name),
            ("last_name", last_name),
        )
        if getattr(user, field) != value
    }
    if not changes:
        return
    parameters = {"username": user.username, **changes}
    with audited(user=actor, operation="user_update", parameters=parameters):
        for field, value in changes.items():
            setattr(user, field, value)
        user.save(update_fields=list(changes))


def user_roles_set(*, actor: Actor, user: User, roles: Collection[str]) -> None:
    """Replace a user's roles.

    An administrator may neither grant nor remove the owner role, and the
    last active owner keeps theirs.
    """
    _check_manageable(actor, user)
    before = set(_roles_of(user))
    after = set(roles)
    if before == after:
        return
    _check_grantable(actor, after - before)
    _check_grantable(actor, before - after)
    _check_keeps_an_owner(
        user, losing_owner=Role.OWNER in before - after and not user.is_superuser
    )
    parameters = {
        "username": user.username,
        "roles": sorted(after),
        "previous_roles": sorted(before),
    }
    with (
        audited(user=actor, operation="user_roles_set", parameters=parameters),
        transaction.atomic(),
    ):
        UserRole.objects.filter(user=user, role__in=before - after).delete()
        UserRole.objects.bulk_create(
            UserRole(user=user, role=r) for r in sorted(after - before)
        )
    # The role cache lives on the user object, so drop it after a change.
    if hasattr(user, "_portal_roles"):
        delattr(user, "_portal_roles")


def _assignments_replace(
    user: User, tenants: list[Tenant], groups: list[TenantGroup]
) -> None:
    TenantAssignment.objects.filter(user=user).delete()
    TenantAssignment.objects.bulk_create(
        [TenantAssignment(user=user, tenant=t) for t in tenants]
        + [TenantAssignment(user=user, group=g) for g in groups]
    )


def user_assignments_set(
    *,
    actor: Actor,
    user: User,
    tenants: Iterable[Tenant],
    groups: Iterable[TenantGroup],
) -> None:
    """Replace the tenants and tenant groups assigned to a user."""
    _check_manageable(actor, user)
    tenants = list(tenants)
    groups = list(groups)
    current = TenantAssignment.objects.filter(user=user)
    direct = current.filter(tenant__isnull=False).values_list("tenant_id", flat=True)
    grouped = current.filter(group__isnull=False).values_list("group__name", flat=True)
    before_tenants = {str(tenant_id) for tenant_id in direct}
    before_groups = set(grouped)

    after_tenants = {str(t.pk) for t in tenants}
    after_groups = {g.name for g in groups}
    if before_tenants == after_tenants and before_groups == after_groups:
        return
    parameters = {
        "username": user.username,
        "tenants": sorted(after_tenants),
        "groups": sorted(after_groups),
        "previous_tenants": sorted(before_tenants),
        "previous_groups": sorted(before_groups),
    }
    with (
        audited(user=actor, operation="user_assignments_set", parameters=parameters),
        transaction.atomic(),
    ):
        _assignments_replace(user, tenants, groups)


def user_password_set(*, actor: Actor, user: User, password: str) -> None:
    """Set a user's password and end their other sessions."""
    _check_manageable(actor, user)
    with audited(
        user=actor,
        operation="user_password_set",
        parameters={"username": user.username},
    ):
        user.set_password(password)
        user.save(update_fields=["password"])
        user_sessions_end(user)


def user_disable(*, actor: Actor, user: User) -> int:
    """Disable a user's account and end every session they have.

    Returns the number of sessions ended. Users cannot disable themselves,
    and the last active owner stays active.
    """
    _check_manageable(actor, user)
    if user.pk == actor.pk:
        raise ValidationError("You cannot disable your own account.")
    _check_keeps_an_owner(user, losing_owner=True)
    with audited(
        user=actor, operation="user_disable", parameters={"username": user.username}
    ) as audit:
        # Sessions end before the save so that their count is known; saving
        # an inactive user also ends any session that starts in between.
        ended = user_sessions_end(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.extra["sessions_ended"] = ended
    return ended


def user_enable(*, actor: Actor, user: User) -> None:
    """Let a disabled user log in again."""
    _check_manageable(actor, user)
    if user.is_active:
        return
    with audited(
        user=actor, operation="user_enable", parameters={"username": user.username}
    ):
        user.is_active = True
        user.save(update_fields=["is_active"])


def tenant_group_save(
    *,
    actor: Actor,
    group: TenantGroup | None,
    name: str,
    description: str,
    tenants: Iterable[Tenant],
) -> TenantGroup:
    """Create a tenant group, or change an existing ``group``."""
    if not access.has_capability(actor, Capability.MANAGE_USERS):
        raise PermissionDenied("Your role does not allow changing tenant groups.")
    tenants = list(tenants)
    operation = "tenant_group_create" if group is None else "tenant_group_update"
    parameters: dict[str, object] = {
        "name": name,
        "description": description,
        "tenants": sorted(str(t.pk) for t in tenants),
    }
    if group is not None:
        parameters["previous_name"] = group.name
        parameters["previous_tenants"] = sorted(
            str(pk) for pk in group.tenants.values_list("pk", flat=True)
        )
    with (
        audited(user=actor, operation=operation, parameters=parameters),
        transaction.atomic(),
    ):
        group = group or TenantGroup()
        group.name = name
        group.description = description
        group.save()
        group.tenants.set(tenants)
    return group


def tenant_group_delete(*, actor: Actor, group: TenantGroup) -> None:
    """Delete a tenant group, which ends every assignment of it."""
    if not access.has_capability(actor, Capability.MANAGE_USERS):
        raise PermissionDenied("Your role does not allow changing tenant groups.")
    assigned = sorted(
        group.assignments.values_list("user__username", flat=True).distinct()
    )
    parameters = {"name": group.name, "assigned_users": assigned}
    with audited(user=actor, operation="tenant_group_delete", parameters=parameters):
        group.delete()
