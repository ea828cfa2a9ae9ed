"""Owner and administrator settings: users, tenant groups, customer names.

Every view checks the capability first, and every change goes through
``portal.accounts.services`` or ``sophos.services.tenants``, which record it
in the audit log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import access
from portal.access import Capability
from portal.accounts import forms, selectors, services
from portal.accounts.models import Role, TenantAssignment, TenantGroup, UserRole
from portal.web.forms import filter_values
from portal.web.views import HtmxHttpRequest
from sophos.services import tenants as tenant_names

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def render_page(
    request: HtmxHttpRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """Render the page, or only its ``partial`` for an htmx request."""
    wants_partial = bool(request.htmx) and not request.htmx.history_restore_request
    name = f"{template}#{partial}" if wants_partial else template
    response = render(request, name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _posted(request: HttpRequest) -> Any:
    # An empty POST, such as a form with every box unticked, still binds.
    return request.POST if request.method == "POST" else None


def _user_or_404(user_id: int) -> User:
    user: User = get_object_or_404(get_user_model(), pk=user_id)
    return user


def _manageable_user(request: HttpRequest, user_id: int) -> User:
    user = _user_or_404(user_id)
    if not access.user_manageable(request.user, user):
        raise PermissionDenied("Only an owner can change an owner's account.")
    return user


# Users


def _role_reaches_every_tenant(user: User) -> bool:
    """Return whether a role gives the user every tenant, even while disabled.

    Reads the prefetched roles, so the list makes no query per user.
    """
    roles = {row.role for row in user.roles.all()}
    if user.is_superuser:
        roles.add(Role.OWNER)
    return bool(roles & access.ALL_TENANT_ROLES)


@require_GET
@login_required
@access.require(Capability.MANAGE_USERS)
def users_list(request: HtmxHttpRequest) -> HttpResponse:
    users = list(selectors.users_list())
    rows = [
        {
            "user": user,
            "manageable": access.user_manageable(request.user, user),
            "all_tenants": _role_reaches_every_tenant(user),
        }
        for user in users
    ]
    context = {"rows": rows, "section": "users", "tab": "users"}
    return render(request, "accounts/users_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.MANAGE_USERS)
def user_create(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.UserCreateForm(
        _posted(request),
        grantable=access.roles_grantable(request.user),
        tenants=access.tenants_visible(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.user_create(
            actor=request.user,
            username=data["username"],
            password=data["password1"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            roles=data["roles"],
            tenants=data["tenants"],
            groups=data["groups"],
        )
        messages.success(request, f"User {user.username} created.")
        return redirect("user_edit", user_id=user.pk)

    context = {"form": form, "section": "users", "tab": "users"}
    return render(request, "accounts/user_create.html", context)


def _access_initial(user: User) -> dict[str, Any]:
    assignments = TenantAssignment.objects.filter(user=user)
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": list(
            UserRole.objects.filter(user=user).values_list("role", flat=True)
        ),
        "tenants": list(
            assignments.filter(tenant__isnull=False).values_list("tenant_id", flat=True)
        ),
        "groups": list(
            assignments.filter(group__isnull=False).values_list("group_id", flat=True)
        ),
    }


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.MANAGE_USERS)
def user_edit(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    user = _manageable_user(request, user_id)
    form = forms.UserEditForm(
        _posted(request),
        initial=_access_initial(user),
        grantable=access.roles_grantable(request.user),
        tenants=access.tenants_visible(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # All or nothing: a refused role change must not leave the new
            # e-mail address saved.
            with transaction.atomic():
                services.user_update(
                    actor=request.user,
                    user=user,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
                services.user_roles_set(
                    actor=request.user, user=user, roles=data["roles"]
                )
                services.user_assignments_set(
                    actor=request.user,
                    user=user,
                    tenants=data["tenants"],
                    groups=data["groups"],
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"User {user.username} saved.")
            return redirect("user_edit", user_id=user.pk)

    context = {
        "form": form,
        "target": user,
        "password_form": SetPasswordForm(user),
        "is_self": user.pk == request.user.pk,
        "section": "users",
        "tab": "users",
    }
    return render(request, "accounts/user_edit.html", context)


@require_POST
@login_required
@access.require(Capability.MANAGE_USERS)
def user_password(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    user = _manageable_user(request, user_id)
    password_form = SetPasswordForm(user, request.POST)
    if password_form.is_valid():
        services.user_password_set(
            actor=request.user,
            user=user,
            password=password_form.cleaned_data["new_password1"],
        )
        messages.success(request, f"Password of {user.username} set.")
        return redirect("user_edit", user_id=user.pk)

    context = {
        "form": forms.UserEditForm(
            initial=_access_initial(user),
            grantable=access.roles_grantable(request.user),
            tenants=access.tenants_visible(request.user),
        ),
        "target": user,
        "password_form": password_form,
        "is_self": user.pk == request.user.pk,
        "section": "users",
        "tab": "users",
    }
    return render(request, "accounts/user_edit.html", context, status=400)


@require_POST
@login_required
@access.require(Capability.MANAGE_USERS)
def user_disable(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    user = _manageable_user(request, user_id)
    try:
        ended = services.user_disable(actor=request.user, user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"User {user.username} disabled; {ended} session"
            f"{'s' if ended != 1 else ''} ended.",
        )
    return redirect("user_edit", user_id=user.pk)


@require_POST
@login_required
@access.require(Capability.MANAGE_USERS)
def user_enable(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    user = _manageable_user(request, user_id)
    services.user_enable(actor=request.user, user=user)
    messages.success(request, f"User {user.username} enabled.")
    return redirect("user_edit", user_id=user.pk)


# Tenant groups


@require_GET
@login_required
@access.require(Capability.MANAGE_USERS)
def groups_list(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "groups": selectors.tenant_groups_list(),
        "section": "users",
        "tab": "groups",
    }
    return render(request, "accounts/groups_list.html", context)


def _group_form_page(
    request: HtmxHttpRequest, group: TenantGroup | None
) -> HttpResponse:
    form = forms.TenantGroupForm(
        _posted(request),
        instance=group,
        tenants=access.tenants_visible(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = services.tenant_group_save(
            actor=request.user,
            group=group,
            name=data["name"],
            description=data["description"],
            tenants=data["tenants"],
        )
        messages.success(request, f"Tenant group {saved.name} saved.")
        return redirect("groups")

    context = {"form": form, "group": group, "section": "users", "tab": "groups"}
    return render(request, "accounts/group_form.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.MANAGE_USERS)
def group_create(request: HtmxHttpRequest) -> HttpResponse:
    return _group_form_page(request, None)


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.MANAGE_USERS)
def group_edit(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(TenantGroup, pk=group_id)
    return _group_form_page(request, group)


@require_POST
@login_required
@access.require(Capability.MANAGE_USERS)
def group_delete(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(TenantGroup, pk=group_id)
    name = group.name
    services.tenant_group_delete(actor=request.user, group=group)
    messages.success(request, f"Tenant group {name} deleted.")
    return redirect("groups")


# Customer names


@require_GET
@login_required
@access.require(Capability.MANAGE_CUSTOMER_NAMES)
def customer_names(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.CustomerNameFilterForm(request.GET)
    values = filter_values(form, form.defaults)
    visible = access.tenants_visible(request.user)

    tenants = tenant_names.tenants_named(tenants=visible, search=values["q"])
    page = Paginator(tenants, PAGE_SIZE).get_page(values["page"])

    context = {
        "form": form,
        "page": page,
        "mismatched": tenant_names.tenants_name_mismatched(tenants=visible),
        "rename_supported": tenant_names.tenant_rename_supported(),
        "can_rename": access.has_capability(request.user, Capability.PARTNER_ADMIN),
        "section": "users",
        "tab": "customer-names",
    }
    return render_page(
        request, "accounts/customer_names.html", "customer-names-table", context
    )


@require_POST
@login_required
@access.require(Capability.MANAGE_CUSTOMER_NAMES)
def customer_name_set(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for(request, tenant_id, write=True)
    form = forms.CustomerNameForm(request.POST)
    if form.is_valid():
        tenant = tenant_names.tenant_customer_name_set(
            user=request.user,
            tenant_id=tenant.pk,
            customer_name=form.cleaned_data["customer_name"],
        )

    if request.htmx:
        context = {"tenant": tenant, "row_form": form, "saved": form.is_valid()}
        status = 200 if form.is_valid() else 400
        return render(
            request,
            "accounts/customer_names.html#customer-name-row",
            context,
            status=status,
        )
    if form.is_valid():
        messages.success(request, f"Customer name of {tenant.name} saved.")
    else:
        messages.error(request, " ".join(str(e) for e in form.errors["customer_name"]))
    return redirect("customer_names")


@require_POST
@login_required
@access.require(Capability.MANAGE_CUSTOMER_NAMES)
@access.require(Capability.PARTNER_ADMIN)
def tenants_rename(request: HtmxHttpRequest) -> HttpResponse:
    mismatched = tenant_names.tenants_name_mismatched(
        tenants=access.tenants_actionable(request.user)
    )
    form = forms.TenantRenameForm(request.POST, tenants=mismatched)
    if not form.is_valid():
        messages.error(request, "Pick at least one tenant whose names differ.")
        return redirect("customer_names")

    job = tenant_names.tenants_rename_start(
        user=request.user, tenants=form.cleaned_data["tenants"]
    )
    messages.success(request, f"Rename started: {job.title}.")
    return redirect("job_detail", job_id=job.pk)
