from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from portal import access
from portal.access import Capability
from portal.fleet import forms
from portal.fleet.views.common import actionable_endpoints, operation_start
from portal.web.views import HtmxHttpRequest, _render
from sophos.models import Endpoint, Tenant
from sophos.services.fleet_ops import isolation

SECTION = "isolation"

# The maximum number of endpoints the picker lists; filters narrow the rest.
PICKER_LIMIT = 300
KINDS = {"isolate": isolation.ISOLATE, "release": isolation.RELEASE}


def _picker(
    request: HtmxHttpRequest, filters: forms.IsolationFilterForm
) -> dict[str, Any]:
    visible = access.tenants_visible(request.user)
    endpoints = Endpoint.objects.filter(tenant__in=visible).select_related("tenant")
    if filters.is_valid():
        values = filters.cleaned_data
        if values["q"]:
            query = values["q"]
            endpoints = endpoints.filter(
                Q(hostname__icontains=query)
                | Q(ipv4_addresses__icontains=query)
                | Q(associated_person__icontains=query)
            )
        if values["tenant"]:
            endpoints = endpoints.filter(tenant_id=values["tenant"])
        if values["isolation"]:
            endpoints = endpoints.filter(isolation_status=values["isolation"])
    ordered = endpoints.order_by("tenant__name", "hostname", "id")
    rows = list(ordered[: PICKER_LIMIT + 1])
    actionable = set(
        access.tenants_actionable(request.user).values_list("pk", flat=True)
    )
    return {
        "filters": filters,
        "tenants": visible.order_by("name"),
        "endpoints": rows[:PICKER_LIMIT],
        "truncated": len(rows) > PICKER_LIMIT,
        "limit": PICKER_LIMIT,
        "actionable": actionable,
        "can_act": bool(actionable),
        "section": SECTION,
    }


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def isolation_page(request: HtmxHttpRequest) -> HttpResponse:
    filters = forms.IsolationFilterForm(request.GET)
    context = _picker(request, filters)
    context["form"] = forms.IsolationForm(initial={"action": "isolate"})
    return _render(request, "fleet_ops/isolation.html", "isolation-picker", context)


def _invalid(request: HtmxHttpRequest, form: forms.IsolationForm) -> HttpResponse:
    context = _picker(request, forms.IsolationFilterForm({}))
    context["form"] = form
    return render(request, "fleet_ops/isolation.html", context, status=400)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def isolation_preview(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.IsolationForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    endpoints = actionable_endpoints(request, form.cleaned_data["endpoint_ids"])
    tenant_ids = {endpoint.tenant_id for endpoint in endpoints}
    tenants = Tenant.objects.filter(pk__in=tenant_ids).select_related("connection")
    context: dict[str, Any] = {
        "form": form,
        "action": form.cleaned_data["action"],
        "endpoints": endpoints,
        "previews": isolation.isolation_exclusions_preview(
            tenants=tenants.order_by("name")
        ),
        "section": SECTION,
    }
    return render(request, "fleet_ops/isolation_preview.html", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def isolation_start(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.IsolationForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    endpoints = actionable_endpoints(request, form.cleaned_data["endpoint_ids"])
    parameters = isolation.isolation_start_parameters(
        endpoint_ids=[e.pk for e in endpoints], reason=form.cleaned_data["reason"]
    )
    return operation_start(
        request,
        kind=KINDS[form.cleaned_data["action"]],
        parameters=parameters,
        dry_run=form.cleaned_data["dry_run"],
    )
