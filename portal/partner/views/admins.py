"""Partner admins with their role assignments, partner roles and permission
sets. Every page reads live from Sophos and needs the partner admin right.

Sophos Central's partner API has no operation that deletes a partner admin:
an admin is taken out of service by removing their role assignments.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from portal import access
from portal.access import Capability
from portal.partner import forms as partner_forms
from portal.partner.views.common import partner_context
from portal.tenants.common import (
    Column,
    ConfirmDelete,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
)
from portal.tenants.forms import roles as role_forms
from portal.tenants.views.admins import (
    ROLE_TABLE,
    permission_set_choices,
    permission_set_names,
    role_edit_form,
    role_form_save,
    role_names,
)
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import partner_admins
from sophos.services.partner_admins import PartnerAdmin
from sophos.services.tenant_admins import PermissionSet, Role

logger = logging.getLogger(__name__)

LIST_TEMPLATE = "partner/list.html"
ADMIN_TEMPLATE = "partner/admin_detail.html"
FORM_TEMPLATE = "partner/form.html"
ROLE_TEMPLATE = "partner/role_detail.html"
CONFIRM_TEMPLATE = "partner/confirm_delete.html"

ADMIN_TABLE: Table[PartnerAdmin] = Table(
    columns=(
        Column("name", "Name", lambda row: row.display_name),
        Column("username", "Email", lambda row: row.username),
        Column(
            "roles",
            "Role assignments",
            lambda row: len(row.role_assignments),
            numeric=True,
        ),
        Column("active", "Active", lambda row: row.active),
        Column("primary", "Primary", lambda row: row.primary),
    ),
    default_sort="name",
    search=lambda row: (row.display_name, row.username),
    search_help="Name or email",
)

PERMISSION_SET_TABLE: Table[PermissionSet] = Table(
    columns=(
        Column("name", "Name", lambda row: row.name),
        Column("type", "Type", lambda row: row.type),
        Column("principal_types", "For", lambda row: row.principal_types),
        Column(
            "custom", "Allowed in custom roles", lambda row: row.allowed_in_custom_roles
        ),
    ),
    default_sort="name",
    search=lambda row: (row.name,),
    search_help="Name",
    filters=(
        Filter(
            "custom",
            "Allowed in custom roles",
            [("Yes", "Yes"), ("No", "No")],
            lambda row: "Yes" if row.allowed_in_custom_roles else "No",
        ),
    ),
)


def _tenant_choices() -> list[tuple[str, str]]:
    return [(str(tenant.pk), tenant.display_name) for tenant in Tenant.objects.all()]


def _list_page(
    request: HtmxHttpRequest,
    *,
    nav: str,
    title: str,
    noun: str,
    intro: str,
    read: Callable[[], list[Any]],
    table: Table[Any],
    row_url: Callable[[Any], str] | None,
    create_url: str = "",
) -> HttpResponse:
    """Render one of the partner list pages, or its CSV export."""
    context = partner_context(
        request,
        nav=nav,
        title=title,
        noun=noun,
        intro=intro,
        list_url=request.path,
        create_url=create_url,
    )
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="partner-table",
        read=read,
        table=table,
        csv_name=f"partner-{nav}.csv",
        subject=f"partner {nav} list",
        row_url=row_url,
    )


# -- admins --------------------------------------------------------------------------


@require_GET
@access.require(Capability.PARTNER_ADMIN)
def partner_admins_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list_page(
        request,
        nav="admins",
        title="Partner admins",
        noun="admin",
        intro="People who sign in to the partner account in Sophos Central. The API "
        "cannot delete an admin: remove their role assignments instead.",
        read=lambda: partner_admins.partner_admins_list().items,
        table=ADMIN_TABLE,
        row_url=lambda row: reverse("partner_admin_detail", args=[row.id]),
        create_url=reverse("partner_admin_create"),
    )


def _role_choices() -> list[tuple[str, str]]:
    return [(role.id, role.name) for role in partner_admins.partner_roles_list().items]


@require_http_methods(["GET", "POST"])
@access.require(Capability.PARTNER_ADMIN)
def partner_admin_create(request: HtmxHttpRequest) -> HttpResponse:
    choices = {"roles": _role_choices(), "tenants": _tenant_choices()}
    form = partner_forms.PartnerAdminCreateForm(
        request.POST if request.method == "POST" else None, **choices
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            admin = partner_admins.partner_admin_create(
                user=request.user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role_id=data["role"],
                scope_type=data["scope_type"],
                scope_id=data["tenant"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "email" if exc.status == 409 else None)
        else:
            messages.success(request, f"Invited {admin.username} as a partner admin.")
            return redirect("partner_admin_detail", item_id=admin.id)
    return _form_page(
        request,
        form,
        nav="admins",
        heading="Invite a partner admin",
        action_url=reverse("partner_admin_create"),
        list_url=reverse("partner_admins"),
        list_title="Partner admins",
    )


def _form_page(
    request: HtmxHttpRequest,
    form: forms.Form,
    *,
    nav: str,
    heading: str,
    action_url: str,
    list_url: str,
    list_title: str,
) -> HttpResponse:
    """Render a partner create form; a form that comes back bound was invalid
    or rejected."""
    context = partner_context(
        request,
        nav=nav,
        form=form,
        heading=heading,
        action_url=action_url,
        list_url=list_url,
        list_title=list_title,
    )
    status = 400 if form.is_bound else 200
    return render_page(request, FORM_TEMPLATE, "partner-form", context, status=status)


def _admin_or_404(admin_id: str) -> PartnerAdmin:
    try:
        return partner_admins.partner_admin_get(admin_id=admin_id)
    except NotFound:
        raise Http404("No partner admin with this id.") from None


def _admin_page(
    request: HtmxHttpRequest,
    admin: PartnerAdmin,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = partner_context(
        request,
        nav="admins",
        admin=admin,
        can_act=True,
        show_scope=True,
        list_url=reverse("partner_admins"),
        add_url=reverse("partner_admin_roles_add", args=[admin.id]),
        **(extra or {}),
    )
    try:
        roles = partner_admins.partner_roles_list().items
        assignments = partner_admins.partner_admin_role_assignments_list(
            admin_id=admin.id
        ).items
    except SophosError as exc:
        logger.warning("roles of partner admin %s failed: %s", admin.id, exc)
        context["roles_error"] = exc
        return render_page(
            request, ADMIN_TEMPLATE, "admin-roles", context, status=status
        )

    names = role_names(roles)
    tenants = dict(_tenant_choices())
    context["assignments"] = [
        {
            "id": assignment.id,
            "role": names.get(assignment.role_id, assignment.role_id),
            "scope": (
                f"Tenant {tenants.get(assignment.scope_id, assignment.scope_id)}"
                if assignment.scope_type == "tenant"
                else partner_admins.ASSIGNMENT_SCOPES.get(
                    assignment.scope_type, assignment.scope_type or "—"
                )
            ),
            "remove_url": reverse(
                "partner_admin_roles_remove", args=[admin.id, assignment.id]
            ),
        }
        for assignment in assignments
    ]
    context.setdefault(
        "assign_form",
        partner_forms.PartnerRoleAssignForm(
            roles=[(role.id, role.name) for role in roles],
            tenants=list(tenants.items()),
        ),
    )
    return render_page(request, ADMIN_TEMPLATE, "admin-roles", context, status=status)


@require_GET
@access.require(Capability.PARTNER_ADMIN)
def partner_admin_detail(request: HtmxHttpRequest, item_id: uuid.UUID) -> HttpResponse:
    return _admin_page(request, _admin_or_404(str(item_id)))


@require_POST
@access.require(Capability.PARTNER_ADMIN)
def partner_admin_roles_add(
    request: HtmxHttpRequest, item_id: uuid.UUID
) -> HttpResponse:
    admin = _admin_or_404(str(item_id))
    roles = _role_choices()
    form = partner_forms.PartnerRoleAssignForm(
        request.POST, roles=roles, tenants=_tenant_choices()
    )
    if not form.is_valid():
        return _admin_page(request, admin, extra={"assign_form": form}, status=400)
    try:
        partner_admins.partner_admin_role_assignment_create(
            user=request.user,
            admin_id=admin.id,
            role_id=form.cleaned_data["role"],
            scope_type=form.cleaned_data["scope_type"],
            scope_id=form.cleaned_data["tenant"],
        )
    except SophosError as exc:
        add_sophos_error(form, exc, "role")
        return _admin_page(request, admin, extra={"assign_form": form})
    notice = (
        f"Gave {admin.display_name} the role {dict(roles)[form.cleaned_data['role']]}."
    )
    return _after_role_change(request, admin, notice)


@require_POST
@access.require(Capability.PARTNER_ADMIN)
def partner_admin_roles_remove(
    request: HtmxHttpRequest, item_id: uuid.UUID, assignment_id: uuid.UUID
) -> HttpResponse:
    admin = _admin_or_404(str(item_id))
    try:
        partner_admins.partner_admin_role_assignment_delete(
            user=request.user, admin_id=admin.id, assignment_id=str(assignment_id)
        )
    except SophosError as exc:
        return _admin_page(request, admin, extra={"remove_error": exc})
    return _after_role_change(
        request, admin, f"Removed a role assignment from {admin.display_name}."
    )


def _after_role_change(
    request: HtmxHttpRequest, admin: PartnerAdmin, notice: str
) -> HttpResponse:
    if request.htmx:
        return _admin_page(request, admin, extra={"notice": notice})
    messages.success(request, notice)
    return redirect("partner_admin_detail", item_id=admin.id)


# -- roles and permission sets -------------------------------------------------------


@require_GET
@access.require(Capability.PARTNER_ADMIN)
def partner_roles_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list_page(
        request,
        nav="roles",
        title="Partner roles",
        noun="role",
        intro="What partner admins may do. Sophos predefines some roles; custom "
        "roles combine permission sets.",
        read=lambda: partner_admins.partner_roles_list().items,
        table=ROLE_TABLE,
        row_url=lambda row: reverse("partner_role_detail", args=[row.id]),
        create_url=reverse("partner_role_create"),
    )


@require_GET
@access.require(Capability.PARTNER_ADMIN)
def partner_permission_sets_list(request: HtmxHttpRequest) -> HttpResponse:
    return _list_page(
        request,
        nav="permission_sets",
        title="Partner permission sets",
        noun="permission set",
        intro="The building blocks of custom partner roles.",
        read=lambda: partner_admins.partner_permission_sets_list().items,
        table=PERMISSION_SET_TABLE,
        row_url=None,
    )


def _set_choices() -> list[tuple[str, str]]:
    return permission_set_choices(partner_admins.partner_permission_sets_list().items)


@require_http_methods(["GET", "POST"])
@access.require(Capability.PARTNER_ADMIN)
def partner_role_create(request: HtmxHttpRequest) -> HttpResponse:
    choices = _set_choices()
    form = role_forms.RoleCreateForm(
        request.POST if request.method == "POST" else None, permission_sets=choices
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            role = partner_admins.partner_role_create(
                user=request.user,
                name=data["name"],
                description=data["description"],
                principal_type=data["principal_type"],
                permission_sets=data["permission_sets"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc, form.error_field(exc))
        else:
            messages.success(request, f"Created the partner role {role.name}.")
            return redirect("partner_role_detail", item_id=role.id)
    return _form_page(
        request,
        form,
        nav="roles",
        heading="Create a partner role",
        action_url=reverse("partner_role_create"),
        list_url=reverse("partner_roles"),
        list_title="Partner roles",
    )


def _role_or_404(role_id: str) -> Role:
    try:
        return partner_admins.partner_role_get(role_id=role_id)
    except NotFound:
        raise Http404("No partner role with this id.") from None


@require_http_methods(["GET", "POST"])
@access.require(Capability.PARTNER_ADMIN)
def partner_role_detail(request: HtmxHttpRequest, item_id: uuid.UUID) -> HttpResponse:
    role = _role_or_404(str(item_id))
    sets = partner_admins.partner_permission_sets_list().items
    form = role_edit_form(request, role, sets)
    updated = role_form_save(
        form,
        functools.partial(
            partner_admins.partner_role_update, user=request.user, role_id=role.id
        ),
    )
    if updated is not None:
        messages.success(request, f"Saved the partner role {updated.name}.")
        return redirect("partner_role_detail", item_id=role.id)

    # A POST that saved nothing was invalid, rejected, or for a predefined role.
    status = 400 if request.method == "POST" else 200
    names = permission_set_names(sets)
    context = partner_context(
        request,
        nav="roles",
        role=role,
        can_act=True,
        permission_sets=[names.get(item, item) for item in role.permission_sets],
        form=form,
        list_url=reverse("partner_roles"),
        detail_url=reverse("partner_role_detail", args=[role.id]),
        delete_url=reverse("partner_role_delete", args=[role.id]),
    )
    return render_page(request, ROLE_TEMPLATE, "role-detail", context, status=status)


@require_http_methods(["GET", "POST"])
@access.require(Capability.PARTNER_ADMIN)
def partner_role_delete(request: HtmxHttpRequest, item_id: uuid.UUID) -> HttpResponse:
    role = _role_or_404(str(item_id))
    error: SophosError | None = None
    error_text = ""
    status = 200
    if request.method == "POST":
        try:
            partner_admins.partner_role_delete(user=request.user, role_id=role.id)
        except SophosError as exc:
            error = exc
            status = exc.status or 502
            if exc.status == 409:
                error_text = (
                    f"The role {role.name} is assigned to at least one partner admin, "
                    "and Sophos Central deletes only unassigned roles: remove it from "
                    f"those admins first. ({exc.message})"
                )
        else:
            messages.success(request, f"Deleted the partner role {role.name}.")
            return redirect("partner_roles")
    confirm = ConfirmDelete(
        title=f"Delete the partner role {role.name}?",
        subject=f"the partner role {role.name}",
        losses=[
            "The role and its permission sets are gone; admins cannot be given it "
            "again."
        ],
        action_url=reverse("partner_role_delete", args=[role.id]),
        cancel_url=reverse("partner_role_detail", args=[role.id]),
        error=error,
    )
    context = partner_context(
        request,
        nav="roles",
        confirm=confirm,
        error_text=error_text,
        list_url=reverse("partner_roles"),
        list_title="Partner roles",
    )
    return render_page(
        request, CONFIRM_TEMPLATE, "confirm-panel", context, status=status
    )
