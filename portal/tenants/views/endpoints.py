"""The endpoint detail page and its actions.

The page reads the endpoint live. Each action posts to its own URL. An htmx
request gets back only the panel that changed. Any other request is
redirected to the page, or gets the page with the error when Sophos rejects
the action.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.tenants.common import (
    ConfirmDelete,
    HtmxHttpRequest,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.forms.endpoints import IsolationForm, TamperProtectionForm
from sophos.errors import Conflict, NotFound, SophosError
from sophos.models import Tenant
from sophos.services import endpoints, groups, policies

logger = logging.getLogger(__name__)

TEMPLATE = "tenants/endpoint_detail.html"
CONFIRM_TEMPLATE = "tenants/confirm_delete.html"
NAV = "endpoints"

CONFLICT_TEXT = (
    "An isolation change of this endpoint is still in progress. Wait a minute "
    "and try again."
)


def _detail_url(tenant: Tenant, endpoint_id: uuid.UUID | str) -> str:
    return reverse("tenants:endpoint_detail", args=[tenant.pk, endpoint_id])


def _endpoint_or_404(
    tenant: Tenant, endpoint_id: uuid.UUID
) -> endpoints.EndpointDetail:
    try:
        return endpoints.endpoint_get(tenant=tenant, endpoint_id=endpoint_id)
    except NotFound:
        raise Http404("No endpoint with this id in this tenant.") from None


def _page_context(
    request: HtmxHttpRequest, tenant: Tenant, endpoint: endpoints.EndpointDetail
) -> dict[str, Any]:
    """Return the whole page's context; the groups and policies are read too,
    and a failure there is shown in their section only."""
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        endpoint=endpoint,
        endpoint_id=endpoint.id,
        isolation=endpoint.isolation,
        tamper_enabled=endpoint.tamper_protection_enabled,
        tamper_supported=endpoint.tamper_protection_supported,
        list_url=reverse("tenant_endpoints", args=[tenant.pk]),
    )
    context["isolation_form"] = IsolationForm(
        initial={
            "action": (
                IsolationForm.RELEASE
                if endpoint.isolation.enabled
                else IsolationForm.ISOLATE
            )
        }
    )
    try:
        member_of = groups.endpoint_groups_of_endpoint(
            tenant=tenant, endpoint_id=endpoint.id
        )
        context["groups"] = member_of
    except SophosError as exc:
        logger.warning("endpoint %s groups failed: %s", endpoint.id, exc)
        context["groups_error"] = exc
        member_of = []
    group_ids = {group.id for group in member_of}
    if endpoint.group_id:
        group_ids.add(endpoint.group_id)
    try:
        context["applied_policies"] = policies.policies_of_endpoint(
            tenant=tenant,
            endpoint_id=endpoint.id,
            group_ids=group_ids,
            person_id=endpoint.associated_person_id,
        )
    except SophosError as exc:
        logger.warning("endpoint %s policies failed: %s", endpoint.id, exc)
        context["policies_error"] = exc
    return context


@require_GET
def endpoint_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    endpoint = _endpoint_or_404(tenant, endpoint_id)
    context = _page_context(request, tenant, endpoint)
    return render_page(request, TEMPLATE, "endpoint-detail", context)


def _action_response(
    request: HtmxHttpRequest,
    tenant: Tenant,
    endpoint_id: uuid.UUID,
    partial: str,
    panel: dict[str, Any],
) -> HttpResponse:
    """Return the changed panel to htmx, or the page with the panel's error.

    The caller redirects a successful non-htmx action before this point.
    """
    if request.htmx:
        context = tenant_context(request, tenant, nav=NAV, **panel)
        return render_page(request, TEMPLATE, partial, context)
    endpoint = _endpoint_or_404(tenant, endpoint_id)
    context = _page_context(request, tenant, endpoint)
    context.update(panel)
    errors = [value for key, value in panel.items() if key.endswith("_error")]
    status = (errors[0].status or 502) if errors else 200
    return render_page(request, TEMPLATE, "endpoint-detail", context, status=status)


@require_POST
def endpoint_isolation(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    form = IsolationForm(request.POST)
    panel: dict[str, Any] = {"isolation_form": form, "endpoint_id": endpoint_id}
    if not form.is_valid():
        panel["isolation"] = _endpoint_or_404(tenant, endpoint_id).isolation
        return _isolation_invalid(request, tenant, endpoint_id, panel)

    change = endpoints.endpoint_isolate if form.enabled else endpoints.endpoint_release
    try:
        isolation = change(
            user=request.user,
            tenant=tenant,
            endpoint_id=endpoint_id,
            comment=form.cleaned_data["comment"],
        )
    except SophosError as exc:
        panel["isolation_error"] = exc
        panel["isolation_error_text"] = (
            CONFLICT_TEXT if isinstance(exc, Conflict) else ""
        )
        if request.htmx:
            panel["isolation"] = _endpoint_or_404(tenant, endpoint_id).isolation
        return _action_response(request, tenant, endpoint_id, "isolation-panel", panel)

    verb = "Isolated" if isolation.enabled else "Released"
    if not request.htmx:
        messages.success(request, f"{verb} the endpoint.")
        return redirect(_detail_url(tenant, endpoint_id))
    panel["isolation"] = isolation
    panel["isolation_notice"] = f"{verb} the endpoint."
    panel["isolation_form"] = IsolationForm(
        initial={
            "action": IsolationForm.RELEASE
            if isolation.enabled
            else IsolationForm.ISOLATE
        }
    )
    return _action_response(request, tenant, endpoint_id, "isolation-panel", panel)


def _isolation_invalid(
    request: HtmxHttpRequest,
    tenant: Tenant,
    endpoint_id: uuid.UUID,
    panel: dict[str, Any],
) -> HttpResponse:
    if request.htmx:
        context = tenant_context(request, tenant, nav=NAV, **panel)
        return render_page(request, TEMPLATE, "isolation-panel", context)
    endpoint = _endpoint_or_404(tenant, endpoint_id)
    context = _page_context(request, tenant, endpoint)
    context.update(panel)
    return render_page(request, TEMPLATE, "endpoint-detail", context, status=400)


def _requested(
    request: HtmxHttpRequest,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    start: Any,
    done: str,
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    panel: dict[str, Any] = {"endpoint_id": endpoint_id}
    try:
        requested = start(user=request.user, tenant=tenant, endpoint_id=endpoint_id)
    except SophosError as exc:
        panel["actions_error"] = exc
        return _action_response(request, tenant, endpoint_id, "actions-panel", panel)
    if not request.htmx:
        messages.success(request, f"{done} Status: {requested.status}.")
        return redirect(_detail_url(tenant, endpoint_id))
    panel["actions_notice"] = f"{done} Status: {requested.status}."
    return _action_response(request, tenant, endpoint_id, "actions-panel", panel)


@require_POST
def endpoint_scan(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    return _requested(
        request,
        tenant_id,
        endpoint_id,
        endpoints.endpoint_scan_start,
        "Scan requested.",
    )


@require_POST
def endpoint_update_check(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    return _requested(
        request,
        tenant_id,
        endpoint_id,
        endpoints.endpoint_update_check_start,
        "Update check requested.",
    )


@require_POST
def endpoint_tamper_protection(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    form = TamperProtectionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose on or off.", status=400, content_type="text/plain")
    enabled: bool = form.cleaned_data["enabled"]
    panel: dict[str, Any] = {"endpoint_id": endpoint_id}
    try:
        state = endpoints.endpoint_tamper_protection_set(
            user=request.user, tenant=tenant, endpoint_id=endpoint_id, enabled=enabled
        )
    except SophosError as exc:
        panel["tamper_error"] = exc
        panel["tamper_enabled"] = not enabled
        return _action_response(request, tenant, endpoint_id, "tamper-panel", panel)
    done = f"Tamper protection turned {'on' if state.enabled else 'off'}."
    if not request.htmx:
        messages.success(request, done)
        return redirect(_detail_url(tenant, endpoint_id))
    panel["tamper_notice"] = done
    panel["tamper_enabled"] = state.enabled
    return _action_response(request, tenant, endpoint_id, "tamper-panel", panel)


@require_POST
def endpoint_tamper_password(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    """Generate a new tamper protection password and show it in this response
    only: it is not stored, logged or put in a redirect."""
    tenant = tenant_for(request, tenant_id, write=True)
    panel: dict[str, Any] = {"endpoint_id": endpoint_id}
    try:
        result = endpoints.endpoint_tamper_password_regenerate(
            user=request.user, tenant=tenant, endpoint_id=endpoint_id
        )
    except SophosError as exc:
        panel["tamper_error"] = exc
    else:
        panel["new_password"] = result.password
        panel["tamper_notice"] = "Generated a new tamper protection password."
    if request.htmx:
        try:
            detail = _endpoint_or_404(tenant, endpoint_id)
        except SophosError:
            # The new password is already in force; it must still be shown
            # even when the endpoint cannot be read again.
            panel["tamper_enabled"] = True
        else:
            panel["tamper_enabled"] = detail.tamper_protection_enabled
        response = render_page(
            request,
            TEMPLATE,
            "tamper-panel",
            tenant_context(request, tenant, nav=NAV, **panel),
        )
    else:
        response = _action_response(request, tenant, endpoint_id, "tamper-panel", panel)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def endpoint_delete(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    endpoint = _endpoint_or_404(tenant, endpoint_id)
    confirm = _confirm(tenant, endpoint)
    if request.method == "POST":
        try:
            endpoints.endpoint_delete(
                user=request.user, tenant=tenant, endpoint_id=endpoint_id
            )
        except SophosError as exc:
            confirm = _confirm(tenant, endpoint, error=exc)
            status = 200 if request.htmx else (exc.status or 502)
            return _confirm_page(request, tenant, confirm, status=status)
        messages.success(request, f"Deleted the endpoint {endpoint.hostname}.")
        list_url = reverse("tenant_endpoints", args=[tenant.pk])
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": list_url})
        return redirect(list_url)
    return _confirm_page(request, tenant, confirm)


def _confirm(
    tenant: Tenant,
    endpoint: endpoints.EndpointDetail,
    *,
    error: SophosError | None = None,
) -> ConfirmDelete:
    return ConfirmDelete(
        title=f"Delete the endpoint {endpoint.hostname}?",
        subject=f"the endpoint {endpoint.hostname}",
        losses=[
            "The endpoint leaves Sophos Central and its list of endpoints.",
            "It comes back only when Sophos software is installed on it again.",
            "Its alerts, events and group membership are no longer shown.",
        ],
        action_url=reverse("tenants:endpoint_delete", args=[tenant.pk, endpoint.id]),
        cancel_url=_detail_url(tenant, endpoint.id),
        error=error,
    )


def _confirm_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    confirm: ConfirmDelete,
    *,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        confirm=confirm,
        section_title="Endpoints",
        list_url=reverse("tenant_endpoints", args=[tenant.pk]),
    )
    return render_page(
        request, CONFIRM_TEMPLATE, "confirm-panel", context, status=status
    )


urlpatterns = [
    path(
        "endpoints/<uuid:endpoint_id>/",
        endpoint_detail,
        name="endpoint_detail",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/isolation/",
        endpoint_isolation,
        name="endpoint_isolation",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/scan/",
        endpoint_scan,
        name="endpoint_scan",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/update-check/",
        endpoint_update_check,
        name="endpoint_update_check",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/tamper-protection/",
        endpoint_tamper_protection,
        name="endpoint_tamper_protection",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/tamper-protection/password/",
        endpoint_tamper_password,
        name="endpoint_tamper_password",
    ),
    path(
        "endpoints/<uuid:endpoint_id>/delete/",
        endpoint_delete,
        name="endpoint_delete",
    ),
]
