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
from sophos.services.fleet_ops import tamper

SECTION = "tamper"


def _context(
    request: HtmxHttpRequest, form: forms.EndpointSelectionForm
) -> dict[str, Any]:
    visible = access.tenants_visible(request.user)
    actionable = set(
        access.tenants_actionable(request.user).values_list("pk", flat=True)
    )
    context: dict[str, Any] = {
        "tenants_off": tamper.tenants_global_tamper_off(tenants=visible),
        "endpoints_off": tamper.endpoints_tamper_off(tenants=visible),
        "actionable": actionable,
        "can_act": bool(actionable),
        "central_url": tamper.CENTRAL_TAMPER_SETTINGS_URL,
        "form": form,
        "section": SECTION,
    }
    return context


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def tamper_board(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.EndpointSelectionForm()
    context = _context(request, form)
    return _render(request, "fleet_ops/tamper.html", "tamper-endpoints", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def tamper_enable(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.EndpointSelectionForm(request.POST)
    if not form.is_valid():
        context = _context(request, form)
        return _render(
            request, "fleet_ops/tamper.html", "tamper-endpoints", context, status=400
        )
    endpoints = actionable_endpoints(request, form.cleaned_data["endpoint_ids"])
    return operation_start(
        request,
        kind=tamper.ENABLE,
        parameters=tamper.tamper_enable_parameters(
            endpoint_ids=[e.pk for e in endpoints]
        ),
        dry_run=form.cleaned_data["dry_run"],
    )
