"""The API console: send one Sophos Central request for a tenant or partner.

The page posts its form over htmx and swaps in the response. Choosing an
operation refreshes the request fields. Changing the tenant, connection,
method or path refreshes the preview of the host and ID header. Every view
also works as a plain page load.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import (
    AnyUser,
    Capability,
    has_capability,
    require,
    tenant_for,
    tenants_visible,
)
from portal.console.forms import ConsoleForm, path_param_field
from portal.web.views import HtmxHttpRequest, _render
from sophos import catalog
from sophos.client import Scope
from sophos.errors import SecretUnreadable
from sophos.models import Connection, Tenant
from sophos.services import console
from sophos.services.console import ConsoleInputError, ConsoleResult, ConsoleTarget

PAGE = "console/page.html"
GLOBAL_CONNECTION_KINDS = (Connection.Kind.PARTNER, Connection.Kind.ORGANIZATION)


@dataclass(frozen=True)
class Preview:
    """Destination of the request in the form, shown before it is sent."""

    scope: Scope
    operation: catalog.Operation | None
    target: ConsoleTarget | None
    problem: str


@require_http_methods(["GET", "POST"])
@login_required
@require(Capability.API_CONSOLE)
def console_page(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST" and "load" not in request.POST:
        return _console_send(request)

    # A plain GET, or the "Fill in" button of a browser without JavaScript.
    source = request.POST if request.method == "POST" else request.GET
    operation = _operation_or_none(source.get("operation", ""))
    form = ConsoleForm(initial=_initial(source, operation), operation=operation)
    return _render(request, PAGE, "console-form", _context(request, form))


@require_GET
@login_required
@require(Capability.API_CONSOLE)
def console_operation(request: HtmxHttpRequest) -> HttpResponse:
    """Return the request fields of the operation named by ``name``."""
    # The operation picker sends its own field, operation, and links send name.
    name = request.GET.get("name", request.GET.get("operation", ""))
    if not request.htmx:
        query = {key: request.GET.get(key, "") for key in ("tenant", "connection")}
        url = reverse("console") + "?" + urlencode({**query, "operation": name})
        return redirect(url)

    operation = _operation_or_none(name)
    form = ConsoleForm(
        initial=_initial(request.GET, operation, name=name), operation=operation
    )
    context = _context(request, form)
    if name and operation is None:
        context["operation_error"] = _unknown_operation_message(name)
    return _render(request, PAGE, "console-fields", context)


@require_GET
@login_required
@require(Capability.API_CONSOLE)
def console_preview(request: HtmxHttpRequest) -> HttpResponse:
    """Return the host and ID header preview for the fields in the query.

    The preview is a fragment of the console page, so it is returned alone
    for any request.
    """
    operation = _operation_or_none(request.GET.get("operation", ""))
    form = ConsoleForm(request.GET, operation=operation)
    context = {"preview": _preview(request, form)}
    return render(request, f"{PAGE}#console-preview", context)


def _console_send(request: HtmxHttpRequest) -> HttpResponse:
    operation = _operation_or_none(request.POST.get("operation", ""))
    form = ConsoleForm(request.POST, operation=operation)

    result: ConsoleResult | None = None
    send_error: SecretUnreadable | None = None
    if form.is_valid():
        try:
            result = _send(request, form)
        except ConsoleInputError as exc:
            form.add_input_error(exc.field, exc.parameter, exc.message)
        except SecretUnreadable as exc:
            send_error = exc

    context = _context(request, form)
    context["result"] = result
    context["send_error"] = send_error
    # Input errors, an unreadable client secret and Sophos error replies are
    # all shown in the result region, so the response is 200 and htmx swaps
    # it in.
    # htmx does not swap in the 403 and 404 responses of the access checks,
    # so static/js/htmx_errors.js shows their message above the page. The
    # form offers no choice that leads to either.
    return _render(request, PAGE, "console-result", context)


def _send(request: HtmxHttpRequest, form: ConsoleForm) -> ConsoleResult:
    inputs = form.service_input()
    prepared = console.console_prepare(**inputs)
    tenant, connection = _checked_targets(request, form, prepared)
    return console.console_request(
        user=request.user, tenant=tenant, connection=connection, **inputs
    )


def _checked_targets(
    request: HtmxHttpRequest,
    form: ConsoleForm,
    prepared: console.ConsoleRequest,
) -> tuple[Tenant | None, Connection | None]:
    """Return the tenant and connection, or raise 404 or 403 without access."""
    tenant_id: uuid.UUID | None = form.cleaned_data["tenant"]
    if prepared.scope == "tenant":
        if tenant_id is None:
            return None, None
        return tenant_for(request, tenant_id, write=prepared.writes), None

    if not has_capability(request.user, Capability.PARTNER_ADMIN):
        raise PermissionDenied(
            "Your role does not allow partner or organization API requests."
        )
    tenant = tenant_for(request, tenant_id) if tenant_id else None
    connection_id: int | None = form.cleaned_data["connection"]
    if connection_id is None:
        return tenant, _default_connection(prepared.scope, tenant)
    connection = Connection.objects.filter(
        pk=connection_id, kind__in=GLOBAL_CONNECTION_KINDS
    ).first()
    if connection is None:
        raise ConsoleInputError(
            f"No partner or organization connection has the id {connection_id}.",
            field="connection",
        )
    return tenant, connection


def _default_connection(scope: Scope, tenant: Tenant | None) -> Connection | None:
    """Return the tenant's connection, or the only connection of ``scope``."""
    if tenant is not None:
        return tenant.connection
    candidates = list(Connection.objects.filter(kind=scope)[:2])
    return candidates[0] if len(candidates) == 1 else None


def _operation_or_none(name: str) -> catalog.Operation | None:
    if not name:
        return None
    try:
        return catalog.get(name)
    except catalog.UnknownOperation:
        return None


def _unknown_operation_message(name: str) -> str:
    try:
        catalog.get(name)
    except catalog.UnknownOperation as exc:
        return str(exc)
    return ""


def _initial(
    source: QueryDict, operation: catalog.Operation | None, *, name: str = ""
) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "tenant": source.get("tenant", ""),
        "connection": source.get("connection", ""),
        "operation": operation.name if operation else name,
        "method": "GET",
        "path": "",
        "query": "",
        "body": "",
    }
    if operation is not None:
        initial["method"] = operation.method
        initial["path"] = operation.path
        initial["body"] = console.body_skeleton(operation)
        for parameter in operation.path_params:
            initial[path_param_field(parameter)] = source.get(
                path_param_field(parameter), ""
            )
    return initial


def _context(request: HtmxHttpRequest, form: ConsoleForm) -> dict[str, Any]:
    user = request.user
    partner_admin = has_capability(user, Capability.PARTNER_ADMIN)
    return {
        "form": form,
        "operation": form.catalog_operation,
        "operation_groups": _operation_groups(),
        "tenants": tenants_visible(user).order_by("name"),
        "connections": _global_connections() if partner_admin else [],
        "can_write": has_capability(user, Capability.ACT_ON_TENANTS),
        "can_send_partner": partner_admin,
        "preview": _preview(request, form),
        "section": "console",
    }


def _operation_groups() -> list[tuple[str, list[catalog.Operation]]]:
    labels = catalog.categories()
    return [
        (labels[category], operations)
        for category, operations in catalog.by_category().items()
    ]


def _global_connections() -> list[Connection]:
    return list(
        Connection.objects.filter(kind__in=GLOBAL_CONNECTION_KINDS).order_by("name")
    )


def _preview(request: HtmxHttpRequest, form: ConsoleForm) -> Preview | None:
    """Return the scope, host and ID header of the request in the form."""
    operation = form.catalog_operation
    if operation is not None:
        scope: Scope = operation.scope
    else:
        path = str(form["path"].value() or "").strip()
        if not path.startswith("/"):
            return None
        method = str(form["method"].value() or "GET")
        scope, operation = console.console_scope(method=method, path=path)

    user = request.user
    tenant = _visible_tenant(user, form["tenant"].value())
    connection = None
    if scope != "tenant":
        if not has_capability(user, Capability.PARTNER_ADMIN):
            problem = "Your role does not allow partner or organization API requests."
            return Preview(scope, operation, None, problem)
        connection = _preview_connection(form["connection"].value(), scope, tenant)

    try:
        target = console.console_target(
            scope=scope, tenant=tenant, connection=connection
        )
    except ConsoleInputError as exc:
        return Preview(scope, operation, None, exc.message)
    return Preview(scope, operation, target, "")


def _visible_tenant(user: AnyUser, value: object) -> Tenant | None:
    try:
        tenant_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return tenants_visible(user).filter(pk=tenant_id).first()


def _preview_connection(
    value: object, scope: Scope, tenant: Tenant | None
) -> Connection | None:
    try:
        connection_id = int(str(value))
    except ValueError:
        return _default_connection(scope, tenant)
    return Connection.objects.filter(
        pk=connection_id, kind__in=GLOBAL_CONNECTION_KINDS
    ).first()
