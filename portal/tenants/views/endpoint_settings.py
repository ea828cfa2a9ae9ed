"""Tenant-wide endpoint settings: peripherals seen by peripheral control, the
event journal disk limits, and global tamper protection (read-only, because
the API only reads it)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    render_page,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import Collection, collection_urls
from portal.tenants.forms import packages as package_forms
from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.services import tenant_settings
from sophos.services.labels import code_label
from sophos.services.tenant_settings import EventJournalSettings, Peripheral

logger = logging.getLogger(__name__)

JOURNAL_TEMPLATE = "tenants/event_journal.html"
TAMPER_TEMPLATE = "tenants/global_tamper_protection.html"


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _peripheral_details(item: Peripheral) -> list[tuple[str, object]]:
    return [
        ("Type", item.type_label),
        ("Category", code_label(item.category)),
        ("Model", item.model),
        ("Model id", item.model_id),
        ("Instance id", item.instance_id),
        ("Last endpoint", item.last_endpoint_hostname),
        ("Last used by", item.last_used_by),
        ("Last action", code_label(item.last_action)),
        ("First seen", item.first_seen_at),
        ("Last seen", item.last_seen_at),
        ("Id", item.id),
    ]


PERIPHERALS = Collection[Peripheral](
    key="peripherals",
    path="peripherals/",
    title="Peripherals",
    noun="peripheral",
    nav="peripherals",
    intro="Devices that peripheral control saw on this tenant's endpoints, and "
    "what it last did with them.",
    table=Table(
        columns=(
            Column("model", "Model", lambda row: row.model or row.model_id),
            Column("type", "Type", lambda row: row.type_label),
            Column("endpoint", "Last endpoint", lambda row: row.last_endpoint_hostname),
            Column("user", "Last used by", lambda row: row.last_used_by),
            Column("action", "Last action", lambda row: row.last_action, code=True),
            Column("last_seen", "Last seen", lambda row: row.last_seen_at),
        ),
        default_sort="-last_seen",
        search=lambda row: (row.model, row.model_id, row.last_endpoint_hostname),
        search_help="Model or endpoint",
        filters=(
            Filter(
                "type",
                "Type",
                list(tenant_settings.PERIPHERAL_TYPES.items()),
                lambda row: row.type,
            ),
        ),
    ),
    list_items=lambda tenant: tenant_settings.peripherals_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.model or item.id,
    get_item=lambda tenant, item_id: tenant_settings.peripheral_get(
        tenant=tenant, peripheral_id=item_id
    ),
    details=_peripheral_details,
)


# -- event journal -------------------------------------------------------------------


def _journal_form(
    settings: EventJournalSettings | None,
) -> package_forms.EventJournalForm:
    if settings is None:
        return package_forms.EventJournalForm()
    return package_forms.EventJournalForm(
        initial={
            "use_recommended": settings.use_recommended,
            "disk_limit_mb": settings.disk_limit_mb,
            "disk_limit_percent": settings.disk_limit_percent or None,
        }
    )


def _journal_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    *,
    bound: tuple[str, package_forms.EventJournalForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    sections = []
    for endpoint_type, label in tenant_settings.EVENT_JOURNAL_ENDPOINT_TYPES.items():
        section: dict[str, Any] = {
            "endpoint_type": endpoint_type,
            "label": label,
            "action_url": _url("event_journal_update", tenant, endpoint_type),
            "settings": None,
        }
        try:
            section["settings"] = tenant_settings.event_journal_settings_get(
                tenant=tenant, endpoint_type=endpoint_type
            )
        except SophosError as exc:
            logger.warning("event journal of tenant %s failed: %s", tenant.pk, exc)
            section["error"] = exc
        if bound is not None and bound[0] == endpoint_type:
            section["form"] = bound[1]
        else:
            section["form"] = _journal_form(section["settings"])
        sections.append(section)
    context = tenant_context(request, tenant, nav="event_journal", sections=sections)
    return render_page(
        request, JOURNAL_TEMPLATE, "journal-settings", context, status=status
    )


@require_GET
def event_journal(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    return _journal_page(request, tenant)


@require_POST
def event_journal_update(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, endpoint_type: str
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    if endpoint_type not in tenant_settings.EVENT_JOURNAL_ENDPOINT_TYPES:
        raise Http404("No such endpoint type.")
    form = package_forms.EventJournalForm(request.POST)
    if not form.is_valid():
        return _journal_page(request, tenant, bound=(endpoint_type, form), status=400)
    try:
        tenant_settings.event_journal_settings_update(
            user=request.user,
            tenant=tenant,
            endpoint_type=endpoint_type,
            use_recommended=form.cleaned_data["use_recommended"],
            disk_limit_mb=form.cleaned_data["disk_limit_mb"],
            disk_limit_percent=form.cleaned_data["disk_limit_percent"],
        )
    except SophosError as exc:
        add_sophos_error(form, exc)
        return _journal_page(request, tenant, bound=(endpoint_type, form), status=400)
    label = tenant_settings.EVENT_JOURNAL_ENDPOINT_TYPES[endpoint_type]
    messages.success(request, f"Saved the event journal limits for {label.lower()}.")
    return redirect(_url("event_journal", tenant))


# -- global tamper protection --------------------------------------------------------


@require_GET
def global_tamper_protection(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    context = tenant_context(request, tenant, nav="global_tamper_protection")
    try:
        context["setting"] = tenant_settings.global_tamper_protection_get(tenant=tenant)
    except SophosError as exc:
        logger.warning("tamper protection of tenant %s failed: %s", tenant.pk, exc)
        context["error"] = exc
    return render_page(request, TAMPER_TEMPLATE, "tamper-setting", context)


urlpatterns = [
    *collection_urls(PERIPHERALS),
    path("event-journal/", event_journal, name="event_journal"),
    path(
        "event-journal/<str:endpoint_type>/",
        event_journal_update,
        name="event_journal_update",
    ),
    path(
        "tamper-protection/",
        global_tamper_protection,
        name="global_tamper_protection",
    ),
]
