"""Endpoint migrations: the tenant's sending and receiving jobs, each job's
endpoint statuses, moving endpoints to another tenant as a job, and starting
a job that another tenant prepared to receive.

Sophos Central's API has no operation that deletes a migration job; a job
that is never started expires.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal import access
from portal.access import tenants_visible
from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.forms import migrations as migration_forms
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import migrations
from sophos.services.migrations import Migration, MigrationEndpoint

NAV = "migrations"
LIST_TEMPLATE = "tenants/migrations.html"
DETAIL_TEMPLATE = "tenants/migration_detail.html"
FORM_TEMPLATE = "tenants/migration_form.html"


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _tenant_names(request: HtmxHttpRequest) -> dict[str, str]:
    """Name the tenants this user may see; other tenants stay bare ids."""
    visible = tenants_visible(request.user)
    return {str(row.pk): row.display_name for row in visible}


MIGRATION_TABLE: Table[Migration] = Table(
    columns=(
        Column("id", "Job id", lambda row: row.id, mono=True),
        Column("mode", "Mode", lambda row: row.mode_label),
        Column("created", "Created", lambda row: row.created_at),
        Column("expires", "Token expires", lambda row: row.expires_at),
    ),
    default_sort="-created",
    filters=(
        Filter("mode", "Mode", list(migrations.MODES.items()), lambda row: row.mode),
    ),
)

ENDPOINT_TABLE: Table[MigrationEndpoint] = Table(
    columns=(
        Column("hostname", "Endpoint", lambda row: row.hostname or row.id),
        Column("status", "Status", lambda row: row.status, code=True),
        Column("id", "Endpoint id", lambda row: row.id, mono=True),
    ),
    default_sort="hostname",
    search=lambda row: (row.hostname, row.id, row.status),
    search_help="Hostname, id or status",
)


def _all_migrations(tenant: Tenant) -> list[Migration]:
    """Read the tenant's sending and receiving jobs, each once."""
    found: dict[str, Migration] = {}
    for mode in migrations.MODES:
        for item in migrations.migrations_list(tenant=tenant, mode=mode).items:
            found.setdefault(f"{item.mode}:{item.id}", item)
    return list(found.values())


@require_GET
def migrations_list(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        list_url=_url("migrations_list", tenant),
        create_url=_url("migrations_create", tenant),
        start_url=_url("migrations_start", tenant),
        tenant_names=_tenant_names(request),
    )
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="migrations-table",
        read=lambda: _all_migrations(tenant),
        table=MIGRATION_TABLE,
        csv_name=f"migrations-{tenant.pk}.csv",
        subject=f"migrations of tenant {tenant.pk}",
        row_url=lambda row: _url("migrations_detail", tenant, row.id),
    )


@require_GET
def migration_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    try:
        migration = migrations.migration_get(tenant=tenant, migration_id=str(item_id))
    except NotFound:
        raise Http404("No migration job with this id in this tenant.") from None
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        migration=migration,
        other_tenant=_tenant_names(request).get(migration.from_tenant_id, ""),
        list_url=_url("migrations_list", tenant),
        detail_url=_url("migrations_detail", tenant, migration.id),
    )
    return live_table_page(
        request,
        context,
        template=DETAIL_TEMPLATE,
        partial="endpoints-table",
        read=lambda: (
            migrations.migration_endpoints_list(
                tenant=tenant, migration_id=migration.id
            ).items
        ),
        table=ENDPOINT_TABLE,
        csv_name=f"migration-{migration.id}.csv",
        subject=f"migration {migration.id} endpoints",
    )


def _endpoint_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """Return the tenant's mirrored endpoints as form choices."""
    rows = tenant.endpoints.order_by("hostname").values_list("pk", "hostname", "type")
    return [(str(pk), f"{hostname} ({kind})") for pk, hostname, kind in rows]


def _receiving_choices(
    request: HtmxHttpRequest, tenant: Tenant
) -> list[tuple[str, str]]:
    """Return the tenants the user may change, besides this one, on the same
    connection, because one credential must reach both tenants."""
    candidates = access.tenants_actionable(request.user).filter(
        connection_id=tenant.connection_id
    )
    return [
        (str(row.pk), row.display_name)
        for row in candidates.exclude(pk=tenant.pk).order_by("name")
    ]


def _form_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    form: migration_forms.MigrationCreateForm | migration_forms.MigrationStartForm,
    *,
    heading: str,
    action_url: str,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        form=form,
        heading=heading,
        action_url=action_url,
        list_url=_url("migrations_list", tenant),
        **(extra or {}),
    )
    return render_page(request, FORM_TEMPLATE, "migration-form", context, status=status)


@require_http_methods(["GET", "POST"])
def migration_create(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    """Move endpoints of this tenant to another one, as a job."""
    tenant = tenant_for(request, tenant_id, write=True)
    choices = {
        "tenants": _receiving_choices(request, tenant),
        "endpoints": _endpoint_choices(tenant),
    }
    heading = f"Move endpoints from {tenant.display_name}"
    action_url = _url("migrations_create", tenant)
    if request.method != "POST":
        form = migration_forms.MigrationCreateForm(**choices)
        return _form_page(request, tenant, form, heading=heading, action_url=action_url)

    form = migration_forms.MigrationCreateForm(request.POST, **choices)
    if not form.is_valid():
        return _form_page(
            request, tenant, form, heading=heading, action_url=action_url, status=400
        )
    receiving = access.tenant_for(
        request, form.cleaned_data["receiving_tenant"], write=True
    )
    job = migrations.migration_job_start(
        user=request.user,
        sending_tenant=tenant,
        receiving_tenant=receiving,
        endpoint_ids=form.cleaned_data["endpoints"],
    )
    return _form_page(
        request,
        tenant,
        form,
        heading=heading,
        action_url=action_url,
        extra={"job": job, "receiving": receiving},
    )


@require_http_methods(["GET", "POST"])
def migration_start(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    """Send endpoints to a receiving job that another tenant created."""
    tenant = tenant_for(request, tenant_id, write=True)
    endpoints = _endpoint_choices(tenant)
    heading = f"Start a migration from {tenant.display_name}"
    action_url = _url("migrations_start", tenant)
    if request.method != "POST":
        form = migration_forms.MigrationStartForm(
            initial={"migration_id": request.GET.get("id", "")}, endpoints=endpoints
        )
        return _form_page(request, tenant, form, heading=heading, action_url=action_url)

    form = migration_forms.MigrationStartForm(request.POST, endpoints=endpoints)
    if form.is_valid():
        try:
            migration = migrations.migration_start(
                user=request.user,
                sending_tenant=tenant,
                migration_id=str(form.cleaned_data["migration_id"]),
                token=form.cleaned_data["token"],
                endpoint_ids=form.cleaned_data["endpoints"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc)
        else:
            count = len(form.cleaned_data["endpoints"])
            messages.success(
                request, f"Started sending {count} endpoint(s) to the receiving tenant."
            )
            return redirect(_url("migrations_detail", tenant, migration.id))
    return _form_page(
        request, tenant, form, heading=heading, action_url=action_url, status=400
    )


urlpatterns = [
    path("migrations/", migrations_list, name="migrations_list"),
    path("migrations/new/", migration_create, name="migrations_create"),
    path("migrations/start/", migration_start, name="migrations_start"),
    path("migrations/<uuid:item_id>/", migration_detail, name="migrations_detail"),
]
