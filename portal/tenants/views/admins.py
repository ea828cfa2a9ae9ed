"""Tenant admins with their role assignments, tenant roles and permission
sets. Every page reads live from Sophos.

Predefined roles are read-only: their pages offer no edit or delete.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import Collection, User, collection_urls
from portal.tenants.forms import roles as role_forms
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import directory, tenant_admins
from sophos.services.labels import code_label
from sophos.services.tenant_admins import PermissionSet, Role, TenantAdmin

logger = logging.getLogger(__name__)

ADMIN_TEMPLATE = "tenants/admin_detail.html"
ROLE_TEMPLATE = "tenants/role_detail.html"


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def role_names(roles: Iterable[Role]) -> dict[str, str]:
    return {role.id: role.name for role in roles}


def permission_set_names(sets: Iterable[PermissionSet]) -> dict[str, str]:
    """Map permission set ids, and names, to names.

    NOTE/sophos-api: roles name their permission sets by id; some replies use
    the set's name, which maps to itself.
    """
    names = {item.id: item.name for item in sets}
    names.update({item.name: item.name for item in sets})
    return names


def permission_set_choices(sets: Iterable[PermissionSet]) -> list[tuple[str, str]]:
    return [(item.id, item.name) for item in sets if item.allowed_in_custom_roles]


def permission_set_ids(role: Role, sets: Iterable[PermissionSet]) -> list[str]:
    """Return the ids of a role's permission sets, for a form's initial value."""
    ids = {item.name: item.id for item in sets}
    return [ids.get(value, value) for value in role.permission_sets]


def role_edit_form(
    request: HtmxHttpRequest, role: Role, sets: Iterable[PermissionSet]
) -> role_forms.RoleForm | None:
    """Return the edit form of a custom role, bound to the data of a POST.

    A predefined role cannot be changed, so it gets None.
    """
    if not role.editable:
        return None
    choices = permission_set_choices(sets)
    if request.method == "POST":
        return role_forms.RoleForm(request.POST, permission_sets=choices)
    initial = {
        "name": role.name,
        "description": role.description,
        "permission_sets": permission_set_ids(role, sets),
    }
    return role_forms.RoleForm(initial=initial, permission_sets=choices)


def role_form_save(
    form: role_forms.RoleForm | None, update: Callable[..., Role]
) -> Role | None:
    """Send a valid POSTed role form through update and return the saved role.

    Return None without sending for a missing, unbound or invalid form, and
    None with the error on the form when Sophos rejects the change.
    """
    if form is None or not form.is_bound or not form.is_valid():
        return None
    try:
        return update(
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            permission_sets=form.cleaned_data["permission_sets"],
        )
    except SophosError as exc:
        add_sophos_error(form, exc, form.error_field(exc))
        return None


def _roles(tenant: Tenant) -> list[Role]:
    return tenant_admins.tenant_roles_list(tenant=tenant).items


# -- admins --------------------------------------------------------------------------


def _admin_form_kwargs(tenant: Tenant) -> dict[str, Any]:
    users = directory.users_list(tenant=tenant).items
    return {
        "users": sorted(
            (
                (user.id, f"{user.name} ({user.email})" if user.email else user.name)
                for user in users
            ),
            key=lambda choice: choice[1].casefold(),
        ),
        "roles": [(role.id, role.name) for role in _roles(tenant)],
    }


def _admin_create(user: User, tenant: Tenant, data: dict[str, Any]) -> TenantAdmin:
    return tenant_admins.tenant_admin_create(
        user=user, tenant=tenant, user_id=data["user"], role_ids=data["roles"]
    )


def _admin_delete_error(error: SophosError, item: TenantAdmin) -> str:
    if error.status == 409:
        return (
            f"Sophos Central keeps at least one Super Admin, and {item.name} is the "
            f"last one: give another admin the Super Admin role first. "
            f"({error.message})"
        )
    return error.message


ADMINS = Collection[TenantAdmin](
    key="tenant_admins",
    path="admins/",
    title="Admins",
    noun="admin",
    nav="tenant_admins",
    intro="People who sign in to this tenant's Sophos Central, and their roles.",
    table=Table(
        columns=(
            Column("name", "Name", lambda row: row.name),
            Column("email", "Email", lambda row: row.email),
            Column(
                "roles",
                "Role assignments",
                lambda row: len(row.role_assignments),
                numeric=True,
            ),
            Column("created", "Created", lambda row: row.created_at),
            Column("updated", "Updated", lambda row: row.updated_at),
        ),
        default_sort="name",
        search=lambda row: (row.name, row.email),
        search_help="Name or email",
    ),
    list_items=lambda tenant: tenant_admins.tenant_admins_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name,
    get_item=lambda tenant, item_id: tenant_admins.tenant_admin_get(
        tenant=tenant, admin_id=item_id
    ),
    create_form=role_forms.TenantAdminCreateForm,
    form_kwargs=_admin_form_kwargs,
    create=_admin_create,
    delete=lambda user, tenant, item_id: tenant_admins.tenant_admin_delete(
        user=user, tenant=tenant, admin_id=item_id
    ),
    losses=lambda item: [
        f"{item.name} can no longer sign in to this tenant's Sophos Central.",
        f"Their {len(item.role_assignments)} role assignment(s) are removed.",
        "The directory user stays.",
    ],
    delete_error=_admin_delete_error,
)


def _admin_or_404(tenant: Tenant, admin_id: str) -> TenantAdmin:
    try:
        return tenant_admins.tenant_admin_get(tenant=tenant, admin_id=admin_id)
    except NotFound:
        raise Http404("No admin with this id in this tenant.") from None


def _admin_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    admin: TenantAdmin,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request,
        tenant,
        nav=ADMINS.nav,
        collection=ADMINS,
        admin=admin,
        list_url=ADMINS.url("list", tenant),
        delete_url=ADMINS.url("delete", tenant, admin.id),
        add_url=_url("tenant_admin_roles_add", tenant, admin.id),
        **(extra or {}),
    )
    try:
        roles = _roles(tenant)
        assignments = tenant_admins.tenant_admin_role_assignments_list(
            tenant=tenant, admin_id=admin.id
        ).items
    except SophosError as exc:
        logger.warning("roles of admin %s failed: %s", admin.id, exc)
        context["roles_error"] = exc
        return render_page(
            request, ADMIN_TEMPLATE, "admin-roles", context, status=status
        )

    names = role_names(roles)
    context["assignments"] = [
        {
            "id": assignment.id,
            "role": names.get(assignment.role_id, assignment.role_id),
            "remove_url": _url(
                "tenant_admin_roles_remove", tenant, admin.id, assignment.id
            ),
        }
        for assignment in assignments
    ]
    assigned_role_ids = {assignment.role_id for assignment in assignments}
    context.setdefault(
        "assign_form",
        role_forms.RoleAssignForm(
            roles=[
                (role.id, role.name)
                for role in roles
                if role.id not in assigned_role_ids
            ]
        ),
    )
    return render_page(request, ADMIN_TEMPLATE, "admin-roles", context, status=status)


@require_GET
def tenant_admin_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    admin = _admin_or_404(tenant, str(item_id))
    return _admin_page(request, tenant, admin)


@require_POST
def tenant_admin_roles_add(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    admin = _admin_or_404(tenant, str(item_id))
    roles = [(role.id, role.name) for role in _roles(tenant)]
    form = role_forms.RoleAssignForm(request.POST, roles=roles)
    if not form.is_valid():
        return _admin_page(
            request, tenant, admin, extra={"assign_form": form}, status=400
        )
    try:
        tenant_admins.tenant_admin_role_assignment_create(
            user=request.user,
            tenant=tenant,
            admin_id=admin.id,
            role_id=form.cleaned_data["role"],
        )
    except SophosError as exc:
        add_sophos_error(form, exc, "role")
        return _admin_page(request, tenant, admin, extra={"assign_form": form})
    notice = f"Gave {admin.name} the role {dict(roles)[form.cleaned_data['role']]}."
    return _after_role_change(request, tenant, admin, notice)


@require_POST
def tenant_admin_roles_remove(
    request: HtmxHttpRequest,
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    assignment_id: uuid.UUID,
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    admin = _admin_or_404(tenant, str(item_id))
    try:
        tenant_admins.tenant_admin_role_assignment_delete(
            user=request.user,
            tenant=tenant,
            admin_id=admin.id,
            assignment_id=str(assignment_id),
        )
    except SophosError as exc:
        return _admin_page(request, tenant, admin, extra={"remove_error": exc})
    return _after_role_change(
        request, tenant, admin, f"Removed a role assignment from {admin.name}."
    )


def _after_role_change(
    request: HtmxHttpRequest, tenant: Tenant, admin: TenantAdmin, notice: str
) -> HttpResponse:
    if request.htmx:
        return _admin_page(request, tenant, admin, extra={"notice": notice})
    messages.success(request, notice)
    return redirect(ADMINS.url("detail", tenant, admin.id))


# -- roles ---------------------------------------------------------------------------


def _role_form_kwargs(tenant: Tenant) -> dict[str, Any]:
    sets = tenant_admins.tenant_permission_sets_list(tenant=tenant).items
    return {"permission_sets": permission_set_choices(sets)}


def _role_create(user: User, tenant: Tenant, data: dict[str, Any]) -> Role:
    return tenant_admins.tenant_role_create(
        user=user,
        tenant=tenant,
        name=data["name"],
        description=data["description"],
        principal_type=data["principal_type"],
        permission_sets=data["permission_sets"],
    )


def _role_delete_error(error: SophosError, item: Role) -> str:
    if error.status == 409:
        return (
            f"The role {item.name} is assigned to at least one admin, and Sophos "
            "Central deletes only unassigned roles: remove it from those admins "
            f"first. ({error.message})"
        )
    return error.message


ROLE_TABLE: Table[Role] = Table(
    columns=(
        Column("name", "Name", lambda row: row.name),
        Column("type", "Type", lambda row: row.type_label),
        Column(
            "principal_type",
            "For",
            lambda row: (
                tenant_admins.PRINCIPAL_TYPES.get(row.principal_type)
                or code_label(row.principal_type)
            ),
        ),
        Column("description", "Description", lambda row: row.description),
        Column("permission_sets", "Permission sets", lambda row: row.permission_sets),
    ),
    default_sort="name",
    search=lambda row: (row.name, row.description),
    search_help="Name or description",
    filters=(
        Filter(
            "type", "Type", list(tenant_admins.ROLE_TYPES.items()), lambda r: r.type
        ),
    ),
)

ROLES = Collection[Role](
    key="tenant_roles",
    path="roles/",
    title="Roles",
    noun="role",
    nav="tenant_roles",
    intro="What admins of this tenant may do. Sophos predefines some roles; "
    "custom roles combine permission sets.",
    table=ROLE_TABLE,
    list_items=lambda tenant: tenant_admins.tenant_roles_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name,
    get_item=lambda tenant, item_id: tenant_admins.tenant_role_get(
        tenant=tenant, role_id=item_id
    ),
    create_form=role_forms.RoleCreateForm,
    form_kwargs=_role_form_kwargs,
    create=_role_create,
    delete=lambda user, tenant, item_id: tenant_admins.tenant_role_delete(
        user=user, tenant=tenant, role_id=item_id
    ),
    losses=lambda item: [
        f"The role {item.name} and its permission sets are gone; admins cannot "
        "be given it again."
    ],
    delete_error=_role_delete_error,
)


def _role_or_404(tenant: Tenant, role_id: str) -> Role:
    try:
        return tenant_admins.tenant_role_get(tenant=tenant, role_id=role_id)
    except NotFound:
        raise Http404("No role with this id in this tenant.") from None


@require_http_methods(["GET", "POST"])
def tenant_role_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    role = _role_or_404(tenant, str(item_id))
    sets = tenant_admins.tenant_permission_sets_list(tenant=tenant).items
    names = permission_set_names(sets)
    form = role_edit_form(request, role, sets)
    updated = role_form_save(
        form,
        functools.partial(
            tenant_admins.tenant_role_update,
            user=request.user,
            tenant=tenant,
            role_id=role.id,
        ),
    )
    if updated is not None:
        messages.success(request, f"Saved the role {updated.name}.")
        return redirect(ROLES.url("detail", tenant, role.id))

    # A POST that saved nothing was invalid, rejected, or for a predefined role.
    status = 400 if writing else 200
    context = tenant_context(
        request,
        tenant,
        nav=ROLES.nav,
        collection=ROLES,
        role=role,
        permission_sets=[names.get(item, item) for item in role.permission_sets],
        form=form,
        list_url=ROLES.url("list", tenant),
        detail_url=ROLES.url("detail", tenant, role.id),
        delete_url=ROLES.url("delete", tenant, role.id),
    )
    return render_page(request, ROLE_TEMPLATE, "role-detail", context, status=status)


PERMISSION_SETS = Collection[PermissionSet](
    key="tenant_permission_sets",
    path="roles/permission-sets/",
    title="Permission sets",
    noun="permission set",
    nav="tenant_permission_sets",
    intro="The building blocks of custom roles.",
    table=Table(
        columns=(
            Column("name", "Name", lambda row: row.name),
            Column("type", "Type", lambda row: row.type, code=True),
            Column(
                "principal_types", "For", lambda row: row.principal_types, code=True
            ),
            Column(
                "custom",
                "Allowed in custom roles",
                lambda row: row.allowed_in_custom_roles,
            ),
        ),
        default_sort="name",
        search=lambda row: (row.name,),
        search_help="Name",
    ),
    list_items=lambda tenant: tenant_admins.tenant_permission_sets_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name,
    has_detail=False,
)


def _without(patterns: list[URLPattern], name: str) -> list[URLPattern]:
    """Drop a generic page that a custom view replaces."""
    return [pattern for pattern in patterns if pattern.name != name]


urlpatterns = [
    *_without(collection_urls(ADMINS), "tenant_admins_detail"),
    path("admins/<uuid:item_id>/", tenant_admin_detail, name="tenant_admins_detail"),
    path(
        "admins/<uuid:item_id>/roles/add/",
        tenant_admin_roles_add,
        name="tenant_admin_roles_add",
    ),
    path(
        "admins/<uuid:item_id>/roles/<uuid:assignment_id>/remove/",
        tenant_admin_roles_remove,
        name="tenant_admin_roles_remove",
    ),
    *collection_urls(PERMISSION_SETS),
    *_without(collection_urls(ROLES), "tenant_roles_detail"),
    path("roles/<uuid:item_id>/", tenant_role_detail, name="tenant_roles_detail"),
]
