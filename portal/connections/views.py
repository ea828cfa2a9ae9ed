"""Owners' pages for the Sophos Central connections: list, add, edit, remove.

The client secret goes from the form to the service and nowhere else: the
edit form never shows it, and ``sensitive_post_parameters`` with
``sensitive_variables`` keep it and every local variable of these views out
of Django's error reports.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import (
    sensitive_post_parameters,
    sensitive_variables,
)
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import Capability, require
from portal.connections.forms import ConnectionForm, connection_initial
from portal.connections.warnings import expiry_snapshot_take
from sophos.models import Connection
from sophos.services import credentials


def _connection_or_404(connection_id: int) -> Connection:
    try:
        return Connection.objects.get(pk=connection_id)
    except Connection.DoesNotExist:
        raise Http404("No connection with this id.") from None


def _show_rejection(form: ConnectionForm, exc: credentials.ConnectionRejected) -> None:
    form.add_error(exc.field, exc.message)


@require_GET
@require(Capability.MANAGE_CONNECTIONS)
def connections_list(request: HttpRequest) -> HttpResponse:
    connections = Connection.objects.annotate(tenant_count=Count("tenants"))
    rows = [
        {
            "connection": connection,
            "expiry": credentials.credential_expiry(connection),
            "secret_readable": credentials.connection_secret_readable(
                connection=connection
            ),
            "tenants": connection.tenant_count,
        }
        for connection in connections.order_by("name")
    ]
    context: dict[str, Any] = {
        "rows": rows,
        "warning_days": credentials.EXPIRY_WARNING_DAYS,
        "lifetime_months": credentials.CREDENTIAL_LIFETIME_MONTHS,
        "section": "settings",
    }
    return render(request, "connections/list.html", context)


@sensitive_post_parameters("client_secret")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@require(Capability.MANAGE_CONNECTIONS)
def connection_add(request: HttpRequest) -> HttpResponse:
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connection = credentials.connection_create(
                user=request.user,
                name=data["name"],
                client_id=data["client_id"],
                client_secret=data["client_secret"],
                transport=data["transport"],
                credential_created_on=data["credential_created_on"],
            )
        except credentials.ConnectionRejected as exc:
            _show_rejection(form, exc)
        else:
            expiry_snapshot_take(request.session, request.user)
            messages.success(
                request,
                f"Connection {connection.name} added: Sophos Central accepted the "
                f"credential of {connection.get_kind_display().lower()} "
                f"{connection.principal_id}.",
            )
            return redirect("connections")

    context = {"form": form, "connection": None, "section": "settings"}
    return render(request, "connections/form.html", context)


@sensitive_post_parameters("client_secret")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@require(Capability.MANAGE_CONNECTIONS)
def connection_edit(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection_or_404(connection_id)
    form = ConnectionForm(
        request.POST or None,
        connection=connection,
        initial=connection_initial(connection),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            credentials.connection_update(
                user=request.user,
                connection=connection,
                name=data["name"],
                client_id=data["client_id"],
                client_secret=data["client_secret"],
                transport=data["transport"],
                credential_created_on=data["credential_created_on"],
            )
        except credentials.ConnectionRejected as exc:
            _show_rejection(form, exc)
        else:
            expiry_snapshot_take(request.session, request.user)
            messages.success(request, f"Connection {connection.name} saved.")
            return redirect("connections")

    context = {"form": form, "connection": connection, "section": "settings"}
    return render(request, "connections/form.html", context)


@require_http_methods(["GET", "POST"])
@require(Capability.MANAGE_CONNECTIONS)
def connection_remove(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection_or_404(connection_id)
    if request.method == "POST":
        name = connection.name
        tenants = credentials.connection_delete(
            user=request.user, connection=connection
        )
        expiry_snapshot_take(request.session, request.user)
        noun = "tenant" if tenants == 1 else "tenants"
        messages.success(
            request,
            f"Connection {name} removed, with its {tenants} {noun} in the "
            "portal's mirror. Sophos Central is unchanged.",
        )
        return redirect("connections")

    context = {
        "connection": connection,
        "tenants": connection.tenants.count(),
        "section": "settings",
    }
    return render(request, "connections/remove.html", context)
