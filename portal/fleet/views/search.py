from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from portal import access
from portal.access import Capability
from portal.fleet import forms
from portal.web.views import HtmxHttpRequest, _render
from sophos.services.fleet_ops import search

SECTION = "search"


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def search_page(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.SearchForm(request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        try:
            results = search.fleet_search(
                tenants=access.tenants_visible(request.user),
                query=form.cleaned_data["q"],
            )
        except ValueError as exc:
            form.add_error("q", str(exc))
    context = {"form": form, "results": results, "section": "fleet"}
    status = 400 if form.errors else 200
    return _render(
        request, "fleet_ops/search.html", "search-results", context, status=status
    )
