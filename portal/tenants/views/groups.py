"""Endpoint group pages: list, create, detail with members, edit, delete,
and adding or removing members. Every page reads live from Sophos."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

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
from portal.tenants.forms.groups import (
    GroupCreateForm,
    GroupEditForm,
    MembersAddForm,
    MembersRemoveForm,
)
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import groups
from sophos.services.groups import EndpointGroup, GroupMember
from sophos.services.labels import code_label

NAV = "endpoint_groups"
LIST_TEMPLATE = "tenants/endpoint_groups.html"
DETAIL_TEMPLATE = "tenants/endpoint_group_detail.html"
FORM_TEMPLATE = "tenants/endpoint_group_form.html"
ADD_TEMPLATE = "tenants/endpoint_group_add.html"

GROUP_TABLE: Table[EndpointGroup] = Table(
    columns=(
        Column("name", "Name", lambda g: g.name),
        Column(
            "type",
            "Type",
            lambda g: groups.GROUP_TYPES.get(g.type) or code_label(g.type),
        ),
        Column("endpoints", "Endpoints", lambda g: g.endpoint_count, numeric=True),
        Column("description", "Description", lambda g: g.description),
        Column("updated", "Updated", lambda g: g.updated_at),
    ),
    default_sort="name",
    search=lambda g: (g.name, g.description),
    search_help="Name or description",
    filters=(
        Filter("type", "Type", list(groups.GROUP_TYPES.items()), lambda g: g.type),
    ),
)

MEMBER_TABLE: Table[GroupMember] = Table(
    columns=(
        Column("hostname", "Hostname", lambda m: m.hostname),
        Column("type", "Type", lambda m: m.type.capitalize()),
        Column("health", "Health", lambda m: m.health.capitalize()),
        Column("os", "OS", lambda m: m.os_name),
        Column("last_seen", "Last seen", lambda m: m.last_seen_at),
    ),
    default_sort="hostname",
    search=lambda m: (m.hostname, m.os_name),
    search_help="Hostname or OS",
)


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _group_or_404(tenant: Tenant, group_id: uuid.UUID) -> EndpointGroup:
    try:
        return groups.endpoint_group_get(tenant=tenant, group_id=str(group_id))
    except NotFound:
        raise Http404("No endpoint group with this id in this tenant.") from None


@require_GET
def endpoint_groups(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    context = tenant_context(
        request, tenant, nav=NAV, list_url=_url("endpoint_groups", tenant)
    )
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="groups-table",
        read=lambda: groups.endpoint_groups_list(tenant=tenant),
        table=GROUP_TABLE,
        csv_name=f"endpoint-groups-{tenant.pk}.csv",
        subject=f"endpoint groups of tenant {tenant.pk}",
        row_url=lambda g: _url("endpoint_group_detail", tenant, g.id),
    )


@require_http_methods(["GET", "POST"])
def endpoint_group_create(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    form = GroupCreateForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            group = groups.endpoint_group_create(
                user=request.user,
                tenant=tenant,
                name=form.cleaned_data["name"],
                type=form.cleaned_data["type"],
                description=form.cleaned_data["description"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            messages.success(request, f"Created the endpoint group {group.name}.")
            return redirect(_url("endpoint_group_detail", tenant, group.id))
    return _form_page(
        request,
        tenant,
        form,
        heading="New endpoint group",
        action_url=_url("endpoint_group_create", tenant),
        cancel_url=_url("endpoint_groups", tenant),
    )


def _form_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    form: GroupCreateForm | GroupEditForm,
    *,
    heading: str,
    action_url: str,
    cancel_url: str,
    group: EndpointGroup | None = None,
) -> HttpResponse:
    """Render the create form, or the edit form of ``group``; a form that comes
    back bound was invalid or rejected."""
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        form=form,
        group=group,
        heading=heading,
        action_url=action_url,
        cancel_url=cancel_url,
        list_url=_url("endpoint_groups", tenant),
    )
    status = 400 if form.is_bound else 200
    return render_page(request, FORM_TEMPLATE, "group-form", context, status=status)


@require_GET
def endpoint_group_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_group_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    group = _group_or_404(tenant, endpoint_group_id)
    return _detail_response(request, tenant, group)


def _detail_response(
    request: HtmxHttpRequest,
    tenant: Tenant,
    group: EndpointGroup,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        group=group,
        list_url=_url("endpoint_groups", tenant),
        detail_url=_url("endpoint_group_detail", tenant, group.id),
        **(extra or {}),
    )
    return live_table_page(
        request,
        context,
        template=DETAIL_TEMPLATE,
        partial="members-table",
        read=lambda: groups.endpoint_group_members_list(
            tenant=tenant, group_id=group.id
        ),
        table=MEMBER_TABLE,
        csv_name=f"endpoint-group-{group.id}.csv",
        subject=f"members of group {group.id}",
        status=status,
    )


@require_http_methods(["GET", "POST"])
def endpoint_group_edit(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_group_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    group = _group_or_404(tenant, endpoint_group_id)
    if request.method == "POST":
        form = GroupEditForm(request.POST)
    else:
        form = GroupEditForm(
            initial={"name": group.name, "description": group.description}
        )
    if form.is_bound and form.is_valid():
        try:
            updated = groups.endpoint_group_update(
                user=request.user,
                tenant=tenant,
                group_id=group.id,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            messages.success(request, f"Saved the endpoint group {updated.name}.")
            return redirect(_url("endpoint_group_detail", tenant, group.id))
    return _form_page(
        request,
        tenant,
        form,
        heading=f"Edit the endpoint group {group.name}",
        action_url=_url("endpoint_group_edit", tenant, group.id),
        cancel_url=_url("endpoint_group_detail", tenant, group.id),
        group=group,
    )


def _confirm(
    tenant: Tenant, group: EndpointGroup, *, error: SophosError | None = None
) -> ConfirmDelete:
    count = group.endpoint_count
    return ConfirmDelete(
        title=f"Delete the endpoint group {group.name}?",
        subject=f"the endpoint group {group.name}",
        losses=[
            f"Its {count} endpoint{'s' if count != 1 else ''} stay in the tenant "
            "but in no group.",
            "Policies assigned to the group no longer apply to those endpoints.",
        ],
        action_url=_url("endpoint_group_delete", tenant, group.id),
        cancel_url=_url("endpoint_group_detail", tenant, group.id),
        error=error,
    )


@require_http_methods(["GET", "POST"])
def endpoint_group_delete(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_group_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    group = _group_or_404(tenant, endpoint_group_id)
    return confirm_delete_page(
        request,
        tenant,
        nav=NAV,
        section_title="Endpoint groups",
        list_url=_url("endpoint_groups", tenant),
        confirm=lambda error: _confirm(tenant, group, error=error),
        delete=lambda: groups.endpoint_group_delete(
            user=request.user, tenant=tenant, group_id=group.id
        ),
        deleted_message=f"Deleted the endpoint group {group.name}.",
    )


@require_http_methods(["GET", "POST"])
def endpoint_group_members_add(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_group_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    group = _group_or_404(tenant, endpoint_group_id)
    members = set(group.endpoint_ids)
    candidates = [
        endpoint
        for endpoint in groups.mirrored_endpoints_list(tenant=tenant, type=group.type)
        if str(endpoint.pk) not in members
    ]
    form = MembersAddForm(
        request.POST if request.method == "POST" else None, candidates=candidates
    )
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        group=group,
        form=form,
        list_url=_url("endpoint_groups", tenant),
        detail_url=_url("endpoint_group_detail", tenant, group.id),
        action_url=_url("endpoint_group_members_add", tenant, group.id),
    )
    status = 200
    if form.is_bound and form.is_valid():
        try:
            context["outcome"] = groups.endpoint_group_endpoints_add(
                user=request.user,
                tenant=tenant,
                group_id=group.id,
                endpoint_ids=form.cleaned_data["endpoints"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "endpoints")
            status = exc.status or 502
        else:
            hostnames = {str(e.pk): e.hostname for e in candidates}
            context["added_hostnames"] = [
                hostnames.get(endpoint_id, endpoint_id)
                for endpoint_id in context["outcome"].added
            ]
    elif form.is_bound:
        status = 400
    return render_page(request, ADD_TEMPLATE, "add-members", context, status=status)


@require_POST
def endpoint_group_members_remove(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_group_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    group = _group_or_404(tenant, endpoint_group_id)
    form = MembersRemoveForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for e in form.errors.get("endpoints", []))
        return _detail_response(
            request, tenant, group, extra={"remove_message": errors}, status=400
        )
    try:
        outcome = groups.endpoint_group_endpoints_remove(
            user=request.user,
            tenant=tenant,
            group_id=group.id,
            endpoint_ids=form.cleaned_data["endpoints"],
        )
    except SophosError as exc:
        return _detail_response(
            request, tenant, group, extra={"remove_error": exc}, status=200
        )
    notice = f"Removed {len(outcome.removed)} endpoint(s) from the group."
    if outcome.not_found:
        notice += f" Not in the group: {', '.join(outcome.not_found)}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_url("endpoint_group_detail", tenant, group.id))
    refreshed = _group_or_404(tenant, endpoint_group_id)
    return _detail_response(request, tenant, refreshed, extra={"notice": notice})


@require_POST
def endpoint_group_member_remove(
    request: HtmxHttpRequest,
    tenant_id: uuid.UUID,
    endpoint_group_id: uuid.UUID,
    endpoint_id: uuid.UUID,
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    group = _group_or_404(tenant, endpoint_group_id)
    try:
        groups.endpoint_group_endpoint_remove(
            user=request.user,
            tenant=tenant,
            group_id=group.id,
            endpoint_id=str(endpoint_id),
        )
    except SophosError as exc:
        return _detail_response(
            request, tenant, group, extra={"remove_error": exc}, status=200
        )
    notice = "Removed the endpoint from the group."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_url("endpoint_group_detail", tenant, group.id))
    refreshed = _group_or_404(tenant, endpoint_group_id)
    return _detail_response(request, tenant, refreshed, extra={"notice": notice})


urlpatterns = [
    path("endpoint-groups/", endpoint_groups, name="endpoint_groups"),
    path(
        "endpoint-groups/new/",
        endpoint_group_create,
        name="endpoint_group_create",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/",
        endpoint_group_detail,
        name="endpoint_group_detail",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/edit/",
        endpoint_group_edit,
        name="endpoint_group_edit",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/delete/",
        endpoint_group_delete,
        name="endpoint_group_delete",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/members/add/",
        endpoint_group_members_add,
        name="endpoint_group_members_add",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/members/remove/",
        endpoint_group_members_remove,
        name="endpoint_group_members_remove",
    ),
    path(
        "endpoint-groups/<uuid:endpoint_group_id>/members/<uuid:endpoint_id>/remove/",
        endpoint_group_member_remove,
        name="endpoint_group_member_remove",
    ),
]
