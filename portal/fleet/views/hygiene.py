from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_POST

from portal import access
from portal.access import Capability
from portal.fleet import forms
from portal.fleet.views.common import actionable_endpoints, operation_start
from portal.web.views import HtmxHttpRequest, _render
from sophos.services.fleet_ops import hygiene

SECTION = "hygiene"


def _context(
    request: HtmxHttpRequest,
    filters: forms.HygieneForm,
    form: forms.HygieneDeleteForm,
) -> dict[str, Any]:
    days = filters.cleaned_data["days"] if filters.is_valid() else 30
    visible = access.tenants_visible(request.user)
    actionable = set(
        access.tenants_actionable(request.user).values_list("pk", flat=True)
    )
    return {
        "filters": filters,
        "form": form,
        "days": days,
        "stale": hygiene.endpoints_stale(tenants=visible, days=days),
        "duplicates": hygiene.endpoints_duplicate(tenants=visible),
        "limit": hygiene.PREVIEW_LIMIT,
        "actionable": actionable,
        "can_act": bool(actionable),
        "section": SECTION,
    }


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def hygiene_page(request: HtmxHttpRequest) -> HttpResponse:
    data = request.GET if "days" in request.GET else {"days": "30"}
    filters = forms.HygieneForm(data)
    form = forms.HygieneDeleteForm(initial={"dry_run": True})
    context = _context(request, filters, form)
    return _render(request, "fleet_ops/hygiene.html", "hygiene-lists", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def hygiene_delete(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.HygieneDeleteForm(request.POST)
    if not form.is_valid():
        filters = forms.HygieneForm({"days": request.POST.get("days", "30")})
        context = _context(request, filters, form)
        return _render(
            request, "fleet_ops/hygiene.html", "hygiene-lists", context, status=400
        )
    endpoints = actionable_endpoints(request, form.cleaned_data["endpoint_ids"])
    parameters = hygiene.delete_parameters(
        endpoint_ids=[e.pk for e in endpoints],
        reason=f"Endpoint hygiene: {len(endpoints)} endpoints chosen",
    )
    return operation_start(
        request,
        kind=hygiene.DELETE,
        parameters=parameters,
        dry_run=form.cleaned_data["dry_run"],
    )
