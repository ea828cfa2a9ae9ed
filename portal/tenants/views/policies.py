"""Policy pages: list, create, detail with every setting, edit, assignment,
clone, reset, delete, base policies, comparison and setting metadata.

Every page reads live from Sophos Central.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.tenants.common import (
    Column,
    ConfirmDelete,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import confirm_delete_page
from portal.tenants.forms.policies import (
    PolicyAssignmentForm,
    PolicyCloneForm,
    PolicyCreateForm,
    PolicyEditForm,
)
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import policies
from sophos.services.policies import PolicyDetail, PolicySummary, SettingMetadata

logger = logging.getLogger(__name__)

NAV = "policies"
TYPE_CHOICES = list(policies.POLICY_TYPES.items())

POLICY_TABLE: Table[PolicySummary] = Table(
    columns=(
        Column("name", "Name", lambda p: p.name),
        Column("type", "Type", lambda p: p.type_label),
        Column("priority", "Priority", lambda p: p.priority, numeric=True),
        Column("enabled", "Enabled", lambda p: p.enabled),
        Column("locked", "Locked by partner", lambda p: p.locked),
        Column("updated", "Updated", lambda p: p.updated_at),
    ),
    default_sort="type",
    search=lambda p: (p.name, p.type_label),
    search_help="Name or type",
    filters=(Filter("type", "Type", TYPE_CHOICES, lambda p: p.type),),
)

METADATA_TABLE: Table[SettingMetadata] = Table(
    columns=(
        Column("key", "Key", lambda m: m.key, mono=True),
        Column("policy_type", "Policy type", lambda m: m.policy_type_label),
        Column("description", "Description", lambda m: m.description),
        Column("type", "Value type", lambda m: m.type, code=True),
        Column("default", "Default", lambda m: m.default_text),
        Column("choices", "Choices", lambda m: m.choices, sortable=False),
    ),
    default_sort="key",
    search=lambda m: (m.key, m.description),
    search_help="Key or description",
    filters=(Filter("type", "Policy type", TYPE_CHOICES, lambda m: m.policy_type),),
)


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _policy_or_404(tenant: Tenant, policy_id: uuid.UUID) -> PolicyDetail:
    try:
        return policies.policy_get(tenant=tenant, policy_id=str(policy_id))
    except NotFound:
        raise Http404("No policy with this id in this tenant.") from None


def _context(request: HtmxHttpRequest, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    return tenant_context(
        request, tenant, nav=NAV, list_url=_url("policies", tenant), **extra
    )


# -- list and create -------------------------------------------------------------


@require_GET
def policy_list(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    return live_table_page(
        request,
        _context(request, tenant),
        template="tenants/policies.html",
        partial="policies-table",
        read=lambda: policies.policies_list(tenant=tenant),
        table=POLICY_TABLE,
        csv_name=f"policies-{tenant.pk}.csv",
        subject=f"policies of tenant {tenant.pk}",
        row_url=lambda p: _url("policy_detail", tenant, p.id),
    )


def _form_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    form: Any,
    *,
    heading: str,
    submit: str,
    action_url: str,
    cancel_url: str,
    policy: PolicyDetail | None = None,
    template: str = "tenants/policy_form.html",
) -> HttpResponse:
    context = _context(
        request,
        tenant,
        form=form,
        heading=heading,
        submit=submit,
        action_url=action_url,
        cancel_url=cancel_url,
        policy=policy,
    )
    status = 400 if form.is_bound else 200
    return render_page(request, template, "policy-form", context, status=status)


@require_http_methods(["GET", "POST"])
def policy_create(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    initial = {"type": request.GET.get("type", "")}
    form = PolicyCreateForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if form.is_bound and form.is_valid():
        try:
            created = policies.policy_create(
                user=request.user,
                tenant=tenant,
                name=form.cleaned_data["name"],
                type=form.cleaned_data["type"],
                priority=form.cleaned_data["priority"],
                enabled=form.cleaned_data["enabled"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            messages.success(request, f"Created the policy {created.name}.")
            return redirect(_url("policy_detail", tenant, created.id))
    return _form_page(
        request,
        tenant,
        form,
        heading="New policy",
        submit="Create policy",
        action_url=_url("policy_create", tenant),
        cancel_url=_url("policies", tenant),
    )


# -- detail, edit, assignment, clone -----------------------------------------------


@require_GET
def policy_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    policy = _policy_or_404(tenant, policy_id)
    context = _context(request, tenant, policy=policy)
    return render_page(request, "tenants/policy_detail.html", "policy-detail", context)


@require_http_methods(["GET", "POST"])
def policy_edit(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    form = PolicyEditForm(
        request.POST if request.method == "POST" else None, policy=policy
    )
    detail_url = _url("policy_detail", tenant, policy.id)
    if form.is_bound and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect(detail_url)
        try:
            policies.policy_update(
                user=request.user, tenant=tenant, policy_id=policy.id, **changes
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            messages.success(
                request, f"Saved the policy {changes.get('name', policy.name)}."
            )
            return redirect(detail_url)
    return _form_page(
        request,
        tenant,
        form,
        heading=f"Edit {policy.name}",
        submit="Save",
        action_url=_url("policy_edit", tenant, policy.id),
        cancel_url=detail_url,
        policy=policy,
        template="tenants/policy_edit.html",
    )


@require_http_methods(["GET", "POST"])
def policy_assignment(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    if policy.is_base:
        raise Http404("A base policy applies to everyone and has no assignment.")
    options = policies.policy_assignment_options(tenant=tenant)
    form = PolicyAssignmentForm(
        request.POST if request.method == "POST" else None,
        current=policy.applies_to,
        options={
            "users": options.users,
            "user_groups": options.user_groups,
            "endpoints": options.endpoints,
            "endpoint_groups": options.endpoint_groups,
        },
    )
    detail_url = _url("policy_detail", tenant, policy.id)
    if form.is_bound and form.is_valid():
        try:
            policies.policy_update(
                user=request.user,
                tenant=tenant,
                policy_id=policy.id,
                applies_to=form.assignment(),
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            messages.success(request, f"Saved the assignment of {policy.name}.")
            return redirect(detail_url)
    return _form_page(
        request,
        tenant,
        form,
        heading=f"Assign {policy.name}",
        submit="Save assignment",
        action_url=_url("policy_assignment", tenant, policy.id),
        cancel_url=detail_url,
        policy=policy,
    )


@require_http_methods(["GET", "POST"])
def policy_clone(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    if request.method == "POST":
        form = PolicyCloneForm(request.POST)
    else:
        form = PolicyCloneForm(initial={"name": f"{policy.name} (copy)"})
    if form.is_bound and form.is_valid():
        try:
            clone = policies.policy_clone(
                user=request.user,
                tenant=tenant,
                policy_id=policy.id,
                name=form.cleaned_data["name"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "name")
        else:
            messages.success(request, f"Cloned {policy.name} as {clone.name}.")
            return redirect(_url("policy_detail", tenant, clone.id))
    return _form_page(
        request,
        tenant,
        form,
        heading=f"Clone {policy.name}",
        submit="Clone policy",
        action_url=_url("policy_clone", tenant, policy.id),
        cancel_url=_url("policy_detail", tenant, policy.id),
        policy=policy,
    )


# -- delete and reset ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def policy_delete(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    return confirm_delete_page(
        request,
        tenant,
        nav=NAV,
        section_title="Policies",
        list_url=_url("policies", tenant),
        confirm=lambda error: _confirm(tenant, policy, error=error),
        delete=lambda: policies.policy_delete(
            user=request.user, tenant=tenant, policy_id=policy.id
        ),
        deleted_message=f"Deleted the policy {policy.name}.",
    )


def _confirm(
    tenant: Tenant, policy: PolicyDetail, *, error: SophosError | None = None
) -> ConfirmDelete:
    return ConfirmDelete(
        title=f"Delete the policy {policy.name}?",
        subject=f"the {policy.type_label.lower()} policy {policy.name}",
        losses=[
            "Its settings and its assignment are gone.",
            "The users and endpoints it applies to fall back to the next policy "
            "of its type, or to the base policy.",
        ],
        action_url=_url("policy_delete", tenant, policy.id),
        cancel_url=_url("policy_detail", tenant, policy.id),
        error=error,
    )


def _reset_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    policy: PolicyDetail,
    *,
    keys: list[str],
    action_url: str,
    reset: Callable[[], object],
    done_message: str,
) -> HttpResponse:
    """Show which settings a reset changes (GET), and reset them (POST).

    A rejected reset shows the page again with the error, under the Sophos
    status, or 502 when no response arrived.
    """
    error: SophosError | None = None
    if request.method == "POST":
        try:
            reset()
        except SophosError as exc:
            error = exc
        else:
            messages.success(request, done_message)
            return redirect(_url("policy_detail", tenant, policy.id))

    changing = [
        setting
        for setting in policy.settings
        if setting.key in keys and not setting.is_recommended
    ]
    context = _context(
        request,
        tenant,
        policy=policy,
        changing=changing,
        every_setting=len(keys) > 1,
        action_url=action_url,
        cancel_url=_url("policy_detail", tenant, policy.id),
        error=error,
    )
    status = (error.status or 502) if error else 200
    return render_page(
        request, "tenants/policy_reset.html", "reset-panel", context, status=status
    )


@require_http_methods(["GET", "POST"])
def policy_settings_reset(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    return _reset_page(
        request,
        tenant,
        policy,
        keys=[setting.key for setting in policy.settings],
        action_url=_url("policy_settings_reset", tenant, policy.id),
        reset=lambda: policies.policy_settings_reset(
            user=request.user, tenant=tenant, policy_id=policy.id
        ),
        done_message=f"Reset every setting of {policy.name}.",
    )


@require_http_methods(["GET", "POST"])
def policy_setting_reset(
    request: HtmxHttpRequest,
    tenant_id: uuid.UUID,
    policy_id: uuid.UUID,
    setting_key: str,
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    policy = _policy_or_404(tenant, policy_id)
    setting = policy.setting(setting_key)
    if setting is None:
        raise Http404("The policy has no setting with this key.")
    return _reset_page(
        request,
        tenant,
        policy,
        keys=[setting_key],
        action_url=_url("policy_setting_reset", tenant, policy.id, setting_key),
        reset=lambda: policies.policy_setting_reset(
            user=request.user, tenant=tenant, policy_id=policy.id, key=setting_key
        ),
        done_message=f"Reset the setting {setting.label}.",
    )


# -- base policies, comparison, metadata -------------------------------------------


@require_GET
def base_policies(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    context = _context(request, tenant, policy_types=TYPE_CHOICES)
    return render_page(request, "tenants/base_policies.html", "base-policies", context)


@require_GET
def base_policy_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_type: str
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    if policy_type not in policies.POLICY_TYPES:
        raise Http404("No such policy type.")
    try:
        base = policies.base_policy_get(tenant=tenant, policy_type=policy_type)
    except NotFound:
        raise Http404("This tenant has no base policy of this type.") from None
    context = _context(request, tenant, policy=base)
    try:
        context["others"] = [
            summary
            for summary in policies.policies_list(
                tenant=tenant, policy_type=policy_type
            )
            if not summary.is_base
        ]
    except SophosError as exc:
        logger.warning("policies of type %s failed: %s", policy_type, exc)
        context["others_error"] = exc
    return render_page(request, "tenants/base_policy.html", "base-policy", context)


@require_GET
def policy_compare(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    try:
        comparison = policies.policy_compare(tenant=tenant, policy_id=str(policy_id))
    except NotFound:
        raise Http404(
            "No policy with this id, or no base policy of its type."
        ) from None
    context = _context(
        request,
        tenant,
        comparison=comparison,
        only_differences=request.GET.get("only") == "differences",
    )
    return render_page(request, "tenants/policy_compare.html", "comparison", context)


@require_GET
def policy_settings_metadata(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    return live_table_page(
        request,
        _context(request, tenant),
        template="tenants/policy_metadata.html",
        partial="metadata-table",
        read=lambda: policies.policy_settings_metadata_list(tenant=tenant),
        table=METADATA_TABLE,
        csv_name=f"policy-settings-{tenant.pk}.csv",
        subject=f"policy metadata of tenant {tenant.pk}",
    )


urlpatterns = [
    path("policies/", policy_list, name="policies"),
    path("policies/new/", policy_create, name="policy_create"),
    path("policies/base/", base_policies, name="base_policies"),
    path(
        "policies/base/<slug:policy_type>/",
        base_policy_detail,
        name="base_policy_detail",
    ),
    path(
        "policies/settings-metadata/",
        policy_settings_metadata,
        name="policy_settings_metadata",
    ),
    path("policies/<uuid:policy_id>/", policy_detail, name="policy_detail"),
    path("policies/<uuid:policy_id>/edit/", policy_edit, name="policy_edit"),
    path(
        "policies/<uuid:policy_id>/assignment/",
        policy_assignment,
        name="policy_assignment",
    ),
    path("policies/<uuid:policy_id>/clone/", policy_clone, name="policy_clone"),
    path("policies/<uuid:policy_id>/delete/", policy_delete, name="policy_delete"),
    path(
        "policies/<uuid:policy_id>/reset/",
        policy_settings_reset,
        name="policy_settings_reset",
    ),
    path(
        "policies/<uuid:policy_id>/settings/<str:setting_key>/reset/",
        policy_setting_reset,
        name="policy_setting_reset",
    ),
    path(
        "policies/<uuid:policy_id>/compare/",
        policy_compare,
        name="policy_compare",
    ),
]
