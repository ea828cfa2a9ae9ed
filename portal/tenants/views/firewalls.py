"""Firewalls and firewall groups: list with sync status, detail, label and
group changes, delete, firmware check, upgrade and cancel. Every page reads
live from Sophos.

An upgrade of one firewall is sent at once; an upgrade of several runs as a
job whose progress the page polls. When that job finishes, the firmware
panel reloads with the job in its query string, so it shows the job's result
beside a fresh firmware check.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from portal import access
from portal.tenants.common import (
    Column,
    ConfirmDelete,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    live_table_page,
    render_page,
    sophos_error_text,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import Collection, User, collection_urls, confirm_delete_page
from portal.tenants.forms import firewalls as firewall_forms
from sophos.errors import NotFound, SophosError
from sophos.models import Job, Tenant
from sophos.services import firewalls, fleet
from sophos.services.firewalls import Firewall, FirewallGroup

logger = logging.getLogger(__name__)

NAV = "firewalls"
LIST_TEMPLATE = "tenants/firewalls.html"
DETAIL_TEMPLATE = "tenants/firewall_detail.html"
FIRMWARE_TEMPLATE = "tenants/firewall_firmware.html"
GROUP_TEMPLATE = "tenants/firewall_group_detail.html"


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _connected(firewall: Firewall) -> str:
    if firewall.connected is None:
        return "Unknown"
    return "Connected" if firewall.connected else "Disconnected"


FIREWALL_TABLE: Table[Firewall] = Table(
    columns=(
        Column("name", "Label", lambda row: row.name),
        Column("hostname", "Hostname", lambda row: row.hostname),
        Column("serial", "Serial number", lambda row: row.serial_number, mono=True),
        Column("model", "Model", lambda row: row.model),
        Column("firmware", "Firmware", lambda row: row.firmware_version),
        Column("group", "Group", lambda row: row.group_name),
        Column("connected", "Connection", _connected),
        Column("managing", "Management", lambda row: row.managing_status, code=True),
        Column("sync", "Configuration sync", lambda row: row.sync_label),
    ),
    default_sort="name",
    search=lambda row: (row.label, row.hostname, row.serial_number, row.model),
    search_help="Label, hostname, serial or model",
    filters=(
        Filter(
            "connected",
            "Connection",
            [("Connected", "Connected"), ("Disconnected", "Disconnected")],
            _connected,
        ),
    ),
)


def _group_choices(tenant: Tenant) -> list[tuple[str, str]]:
    groups = firewalls.firewall_groups_list(tenant=tenant).items
    return sorted(
        ((group.id, group.name) for group in groups),
        key=lambda choice: choice[1].casefold(),
    )


def _firewall_or_404(tenant: Tenant, firewall_id: str) -> Firewall:
    try:
        return firewalls.firewall_get(tenant=tenant, firewall_id=firewall_id)
    except NotFound:
        raise Http404("No firewall with this id in this tenant.") from None


# -- firewall list and detail --------------------------------------------------------


@require_GET
def firewalls_list(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    tenant = tenant_for(request, tenant_id)
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        list_url=_url("firewalls_list", tenant),
        check_url=_url("firewalls_firmware", tenant),
        cancel_url=_url("firewalls_firmware_cancel", tenant),
    )
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="firewalls-table",
        read=lambda: firewalls.firewalls_list(tenant=tenant),
        table=FIREWALL_TABLE,
        csv_name=f"firewalls-{tenant.pk}.csv",
        subject=f"firewalls of tenant {tenant.pk}",
        row_url=lambda row: _url("firewalls_detail", tenant, row.id),
    )


def _detail_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    firewall: Firewall,
    *,
    label_form: firewall_forms.FirewallLabelForm | None = None,
    group_form: firewall_forms.FirewallGroupMoveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(
        request,
        tenant,
        nav=NAV,
        firewall=firewall,
        connection=_connected(firewall),
        list_url=_url("firewalls_list", tenant),
        detail_url=_url("firewalls_detail", tenant, firewall.id),
        group_url=_url("firewalls_group", tenant, firewall.id),
        delete_url=_url("firewalls_delete", tenant, firewall.id),
        check_url=_url("firewalls_firmware", tenant),
    )
    if context["can_act"]:
        context["label_form"] = label_form or firewall_forms.FirewallLabelForm(
            initial={"label": firewall.label}
        )
        if group_form is None:
            try:
                groups = _group_choices(tenant)
            except SophosError as exc:
                logger.warning("firewall groups of %s failed: %s", tenant.pk, exc)
                groups = []
            group_form = firewall_forms.FirewallGroupMoveForm(
                initial={"group": firewall.group_id or firewalls.UNGROUPED},
                groups=groups,
            )
        context["group_form"] = group_form
    return render_page(
        request, DETAIL_TEMPLATE, "firewall-detail", context, status=status
    )


@require_http_methods(["GET", "POST"])
def firewall_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    firewall = _firewall_or_404(tenant, str(item_id))
    if not writing:
        return _detail_page(request, tenant, firewall)

    form = firewall_forms.FirewallLabelForm(request.POST)
    if form.is_valid():
        try:
            updated = firewalls.firewall_update(
                user=request.user,
                tenant=tenant,
                firewall_id=firewall.id,
                label=form.cleaned_data["label"],
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "label")
        else:
            messages.success(request, f"Saved the label {updated.name}.")
            return redirect(_url("firewalls_detail", tenant, firewall.id))
    return _detail_page(request, tenant, firewall, label_form=form, status=400)


@require_POST
def firewall_group_move(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    firewall = _firewall_or_404(tenant, str(item_id))
    groups = _group_choices(tenant)
    form = firewall_forms.FirewallGroupMoveForm(request.POST, groups=groups)
    if form.is_valid():
        target = form.cleaned_data["group"]
        try:
            firewalls.firewall_group_set(
                user=request.user,
                tenant=tenant,
                firewall_id=firewall.id,
                group_id=target,
            )
        except SophosError as exc:
            add_sophos_error(form, exc, "group")
        else:
            name = dict(groups).get(target, "no group")
            messages.success(request, f"Moved {firewall.name} to {name}.")
            return redirect(_url("firewalls_detail", tenant, firewall.id))
    return _detail_page(request, tenant, firewall, group_form=form, status=400)


def _confirm(
    tenant: Tenant, firewall: Firewall, *, error: SophosError | None = None
) -> ConfirmDelete:
    return ConfirmDelete(
        title=f"Delete the firewall {firewall.name}?",
        subject=f"the firewall {firewall.name} from Sophos Central",
        losses=[
            "Sophos Central stops managing and reporting on this firewall; the "
            "firewall itself keeps running with its configuration.",
            "Its group membership and scheduled firmware upgrades are dropped.",
            "To manage it again, it must be registered with Sophos Central anew "
            "from the firewall.",
        ],
        action_url=_url("firewalls_delete", tenant, firewall.id),
        cancel_url=_url("firewalls_detail", tenant, firewall.id),
        error=error,
    )


@require_http_methods(["GET", "POST"])
def firewall_delete(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    firewall = _firewall_or_404(tenant, str(item_id))
    return confirm_delete_page(
        request,
        tenant,
        nav=NAV,
        section_title="Firewalls",
        list_url=_url("firewalls_list", tenant),
        confirm=lambda error: _confirm(tenant, firewall, error=error),
        delete=lambda: firewalls.firewall_delete(
            user=request.user, tenant=tenant, firewall_id=firewall.id
        ),
        deleted_message=f"Deleted the firewall {firewall.name}.",
    )


# -- firmware ------------------------------------------------------------------------


def _firmware_context(
    request: HtmxHttpRequest, tenant: Tenant, chosen: list[str]
) -> dict[str, Any]:
    return tenant_context(
        request,
        tenant,
        nav=NAV,
        list_url=_url("firewalls_list", tenant),
        upgrade_url=_url("firewalls_firmware", tenant),
        cancel_url=_url("firewalls_firmware_cancel", tenant),
        chosen=chosen,
    )


@require_http_methods(["GET", "POST"])
def firewalls_firmware(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
    """Check the chosen firewalls' firmware (GET), or upgrade them (POST)."""
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    data = request.POST if writing else request.GET
    selection = firewall_forms.FirewallSelectionForm(data)
    if not selection.is_valid():
        context = _firmware_context(request, tenant, [])
        context["selection_errors"] = selection.errors.get("ids", [])
        return render_page(
            request, FIRMWARE_TEMPLATE, "firmware-panel", context, status=400
        )
    chosen: list[str] = selection.cleaned_data["ids"]
    context = _firmware_context(request, tenant, chosen)
    try:
        check = firewalls.firewalls_firmware_check(tenant=tenant, firewall_ids=chosen)
        names = {
            fw.id: fw.name
            for fw in firewalls.firewalls_list(tenant=tenant, with_sync=False).items
        }
    except SophosError as exc:
        logger.warning("firmware check in tenant %s failed: %s", tenant.pk, exc)
        context["error"] = exc
        return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)

    context["check"] = check
    context["names"] = names
    context["candidates"] = [
        (names.get(candidate.firewall_id, candidate.firewall_id), candidate)
        for candidate in check.firewalls
    ]
    form = firewall_forms.FirmwareUpgradeForm(
        request.POST if writing else None, check=check
    )
    context["form"] = form
    if not writing:
        _add_upgrade_job(request, tenant, context)
        return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)
    if not form.is_valid():
        return render_page(
            request, FIRMWARE_TEMPLATE, "firmware-panel", context, status=400
        )
    return _upgrade(request, tenant, form, context)


def _panel_url(tenant: Tenant, chosen: list[str], job: Job) -> str:
    """Return the firmware panel's URL for the chosen firewalls and their job."""
    query = urlencode({"ids": chosen, "job": job.pk}, doseq=True)
    return f"{_url('firewalls_firmware', tenant)}?{query}"


def _add_upgrade_job(
    request: HtmxHttpRequest, tenant: Tenant, context: dict[str, Any]
) -> None:
    """Add the upgrade job named by the ``job`` query parameter to the panel.

    A job that the user may not read, of another kind or of another tenant
    is left out, as is a malformed id.
    """
    raw = request.GET.get("job", "")
    if not raw.isdigit():
        return
    try:
        job = fleet.job_get(jobs=access.jobs_visible(request.user), job_id=int(raw))
    except Job.DoesNotExist:
        return
    if job.kind != firewalls.UPGRADE_JOB_KIND:
        return
    if job.parameters.get("tenant_id") != str(tenant.pk):
        return
    context["job"] = job
    context["refresh_url"] = _panel_url(tenant, context["chosen"], job)


def _upgrade(
    request: HtmxHttpRequest,
    tenant: Tenant,
    form: firewall_forms.FirmwareUpgradeForm,
    context: dict[str, Any],
) -> HttpResponse:
    upgrades = form.requests()
    if len(upgrades) > 1:
        job = firewalls.firmware_upgrade_job_start(
            user=request.user, tenant=tenant, requests=upgrades
        )
        context["job"] = job
        context["refresh_url"] = _panel_url(tenant, context["chosen"], job)
        return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)
    try:
        scheduled = firewalls.firewalls_firmware_upgrade(
            user=request.user, tenant=tenant, requests=upgrades
        )
    except SophosError as exc:
        add_sophos_error(form, exc)
        return render_page(
            request, FIRMWARE_TEMPLATE, "firmware-panel", context, status=400
        )
    status = scheduled[0].status if scheduled else "requested"
    name = context["names"].get(upgrades[0].firewall_id, upgrades[0].firewall_id)
    context["notice"] = (
        f"Upgrade of {name} to {upgrades[0].version}: {status}. "
        "Sophos Central reports progress on the firewall list."
    )
    return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)


@require_POST
def firewalls_firmware_cancel(
    request: HtmxHttpRequest, tenant_id: uuid.UUID
) -> HttpResponse:
    tenant = tenant_for(request, tenant_id, write=True)
    selection = firewall_forms.FirewallSelectionForm(request.POST)
    if not selection.is_valid():
        context = _firmware_context(request, tenant, [])
        context["selection_errors"] = selection.errors.get("ids", [])
        return render_page(
            request, FIRMWARE_TEMPLATE, "firmware-panel", context, status=400
        )
    chosen = selection.cleaned_data["ids"]
    context = _firmware_context(request, tenant, chosen)
    try:
        firewalls.firewalls_firmware_upgrade_cancel(
            user=request.user, tenant=tenant, firewall_ids=chosen
        )
    except SophosError as exc:
        context["error"] = exc
        context["error_text"] = sophos_error_text(exc)
        return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)
    context["notice"] = (
        f"Cancelled the scheduled firmware upgrades of {len(chosen)} firewall(s)."
    )
    return render_page(request, FIRMWARE_TEMPLATE, "firmware-panel", context)


# -- firewall groups -----------------------------------------------------------------


def _firewall_choices(tenant: Tenant) -> list[tuple[str, str]]:
    items = firewalls.firewalls_list(tenant=tenant, with_sync=False).items
    return sorted(
        ((fw.id, f"{fw.name} ({fw.serial_number})") for fw in items),
        key=lambda choice: choice[1].casefold(),
    )


def _group_create(user: User, tenant: Tenant, data: dict[str, Any]) -> FirewallGroup:
    return firewalls.firewall_group_create(
        user=user,
        tenant=tenant,
        name=data["name"],
        parent_id=data.get("parent") or "",
        firewall_ids=data["firewalls"],
        config_source_id=data.get("config_source") or "",
    )


GROUPS = Collection[FirewallGroup](
    key="firewall_groups",
    path="firewall-groups/",
    title="Firewall groups",
    noun="firewall group",
    nav="firewall_groups",
    intro="Groups share one configuration, which Sophos Central keeps in sync on "
    "each of their firewalls.",
    table=Table(
        columns=(
            Column("name", "Name", lambda row: row.name),
            Column(
                "firewalls", "Firewalls", lambda row: row.firewall_count, numeric=True
            ),
            Column(
                "config_import",
                "Configuration import",
                lambda row: row.config_import_status,
            ),
            Column(
                "locked",
                "Locked by managing account",
                lambda row: row.locked_by_managing_account,
            ),
            Column("updated", "Updated", lambda row: row.updated_at),
        ),
        default_sort="name",
        search=lambda row: (row.name,),
        search_help="Name",
    ),
    list_items=lambda tenant: firewalls.firewall_groups_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name,
    get_item=lambda tenant, item_id: firewalls.firewall_group_get(
        tenant=tenant, group_id=item_id
    ),
    create_form=firewall_forms.FirewallGroupCreateForm,
    form_kwargs=lambda tenant: {
        "firewalls": _firewall_choices(tenant),
        "groups": _group_choices(tenant),
    },
    create=_group_create,
    delete=lambda user, tenant, item_id: firewalls.firewall_group_delete(
        user=user, tenant=tenant, group_id=item_id
    ),
    losses=lambda item: [
        f"Its {item.firewall_count} firewall(s) stay managed, in no group, and "
        "keep their current configuration.",
        "Sophos Central stops keeping their configuration in sync.",
    ],
)


def _group_or_404(tenant: Tenant, group_id: str) -> FirewallGroup:
    try:
        return firewalls.firewall_group_get(tenant=tenant, group_id=group_id)
    except NotFound:
        raise Http404("No firewall group with this id in this tenant.") from None


@require_http_methods(["GET", "POST"])
def firewall_group_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    group = _group_or_404(tenant, str(item_id))
    context = tenant_context(
        request,
        tenant,
        nav=GROUPS.nav,
        collection=GROUPS,
        group=group,
        list_url=GROUPS.url("list", tenant),
        detail_url=GROUPS.url("detail", tenant, group.id),
        delete_url=GROUPS.url("delete", tenant, group.id),
    )
    status = 200
    form = None
    if context["can_act"]:
        choices = _firewall_choices(tenant)
        if writing:
            form = firewall_forms.FirewallGroupForm(request.POST, firewalls=choices)
        else:
            form = firewall_forms.FirewallGroupForm(
                initial={"name": group.name, "firewalls": list(group.firewall_ids)},
                firewalls=choices,
            )
    if writing and form is not None:
        if form.is_valid():
            members = set(group.firewall_ids)
            chosen = set(form.cleaned_data["firewalls"])
            try:
                firewalls.firewall_group_update(
                    user=request.user,
                    tenant=tenant,
                    group_id=group.id,
                    name=form.cleaned_data["name"],
                    assign=sorted(chosen - members),
                    unassign=sorted(members - chosen),
                )
            except SophosError as exc:
                add_sophos_error(form, exc, form.error_field(exc))
            else:
                messages.success(request, f"Saved the firewall group {group.name}.")
                return redirect(GROUPS.url("detail", tenant, group.id))
        status = 400
    context["form"] = form
    try:
        statuses = firewalls.firewall_group_sync_status_list(
            tenant=tenant, group_id=group.id
        ).items
        names = {
            fw.id: fw.name
            for fw in firewalls.firewalls_list(tenant=tenant, with_sync=False).items
        }
    except SophosError as exc:
        logger.warning("sync status of group %s failed: %s", group.id, exc)
        context["sync_error"] = exc
    else:
        context["sync_rows"] = [
            {"name": names.get(item.firewall_id, item.firewall_id), "status": item}
            for item in statuses
        ]
        context["member_names"] = [names.get(fw, fw) for fw in group.firewall_ids]
    return render_page(request, GROUP_TEMPLATE, "group-sync", context, status=status)


urlpatterns = [
    path("firewalls/", firewalls_list, name="firewalls_list"),
    path("firewalls/firmware/", firewalls_firmware, name="firewalls_firmware"),
    path(
        "firewalls/firmware/cancel/",
        firewalls_firmware_cancel,
        name="firewalls_firmware_cancel",
    ),
    path("firewalls/<uuid:item_id>/", firewall_detail, name="firewalls_detail"),
    path(
        "firewalls/<uuid:item_id>/group/", firewall_group_move, name="firewalls_group"
    ),
    path("firewalls/<uuid:item_id>/delete/", firewall_delete, name="firewalls_delete"),
    *[
        pattern
        for pattern in collection_urls(GROUPS)
        if pattern.name != "firewall_groups_detail"
    ],
    path(
        "firewall-groups/<uuid:item_id>/",
        firewall_group_detail,
        name="firewall_groups_detail",
    ),
]
