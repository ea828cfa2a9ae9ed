"""Scanning exclusions, allowed and blocked items, isolation and intrusion
prevention exclusions: list, add, view or edit, delete."""

from __future__ import annotations

from typing import Any

from portal.tenants.common import Column, Filter, Table
from portal.tenants.crud import Collection, User, collection_urls
from portal.tenants.forms import exclusions as exclusion_forms
from sophos.models import Tenant
from sophos.services import exclusions
from sophos.services.exclusions import (
    ApplicationItem,
    NetworkExclusion,
    ScanningExclusion,
)

# -- scanning exclusions -------------------------------------------------------------


def _scanning_create(
    user: User, tenant: Tenant, data: dict[str, Any]
) -> ScanningExclusion:
    return exclusions.scanning_exclusion_create(
        user=user,
        tenant=tenant,
        type=data["type"],
        value=data["value"],
        scan_mode=data.get("scan_mode", ""),
        comment=data["comment"],
    )


def _scanning_update(
    user: User, tenant: Tenant, item: ScanningExclusion, data: dict[str, Any]
) -> ScanningExclusion:
    return exclusions.scanning_exclusion_update(
        user=user,
        tenant=tenant,
        exclusion_id=item.id,
        type=item.type,
        value=data["value"],
        scan_mode=data.get("scan_mode") or item.scan_mode,
        comment=data["comment"],
    )


def _scanning_details(item: ScanningExclusion) -> list[tuple[str, object]]:
    return [
        ("Type", item.type_label),
        ("Value", item.value),
        ("Scan mode", item.scan_mode_label),
        ("Description", item.description),
        ("Comment", item.comment),
        ("Locked by the managing account", item.locked_by_managing_account),
        ("Id", item.id),
    ]


SCANNING = Collection[ScanningExclusion](
    key="scanning_exclusions",
    path="exclusions/scanning/",
    title="Scanning exclusions",
    noun="scanning exclusion",
    nav="scanning_exclusions",
    intro="Files, folders, processes, websites and applications that the "
    "scanner skips on every endpoint of this tenant.",
    table=Table(
        columns=(
            Column("value", "Value", lambda row: row.value, mono=True),
            Column("type", "Type", lambda row: row.type_label),
            Column("scan_mode", "Scan mode", lambda row: row.scan_mode_label),
            Column("comment", "Comment", lambda row: row.comment),
            Column(
                "locked",
                "Locked by managing account",
                lambda row: row.locked_by_managing_account,
            ),
        ),
        default_sort="value",
        search=lambda row: (row.value, row.comment, row.description),
        search_help="Value or comment",
        filters=(
            Filter("type", "Type", exclusions.SCANNING_TYPES, lambda row: row.type),
            Filter(
                "scan_mode", "Scan mode", exclusions.SCAN_MODES, lambda r: r.scan_mode
            ),
        ),
    ),
    list_items=lambda tenant: exclusions.scanning_exclusions_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.value,
    get_item=lambda tenant, item_id: exclusions.scanning_exclusion_get(
        tenant=tenant, exclusion_id=item_id
    ),
    details=_scanning_details,
    create_form=exclusion_forms.ScanningExclusionForm,
    create=_scanning_create,
    update_form=exclusion_forms.ScanningExclusionUpdateForm,
    update_initial=lambda item: {
        "value": item.value,
        "scan_mode": item.scan_mode,
        "comment": item.comment,
    },
    update=_scanning_update,
    delete=lambda user, tenant, item_id: exclusions.scanning_exclusion_delete(
        user=user, tenant=tenant, exclusion_id=item_id
    ),
    losses=lambda item: [
        f"Endpoints scan {item.value} again ({item.type_label.lower()}), "
        "which can block or slow down the software that uses it."
    ],
)


# -- allowed items -------------------------------------------------------------------


def _item_details(item: ApplicationItem) -> list[tuple[str, object]]:
    return [
        ("Type", item.type_label),
        ("SHA-256", item.properties.sha256),
        ("Path", item.properties.path),
        ("Certificate signer", item.properties.certificate_signer),
        ("File name", item.properties.file_name),
        ("Comment", item.comment),
        ("Created", item.created_at),
        ("Created by", item.created_by),
        ("Updated", item.updated_at),
        ("Origin person", item.origin_person or item.origin_person_id),
        ("Origin endpoint id", item.origin_endpoint_id),
        ("Id", item.id),
    ]


def _item_table(types: tuple[tuple[str, str], ...]) -> Table[ApplicationItem]:
    return Table(
        columns=(
            Column("match", "Item", lambda row: row.match, mono=True),
            Column("type", "Type", lambda row: row.type_label),
            Column("file_name", "File name", lambda row: row.properties.file_name),
            Column("comment", "Comment", lambda row: row.comment),
            Column("created_by", "Created by", lambda row: row.created_by),
            Column("created_at", "Created", lambda row: row.created_at),
        ),
        default_sort="-created_at",
        search=lambda row: (
            row.match,
            row.properties.file_name,
            row.properties.path,
            row.comment,
            row.created_by,
        ),
        search_help="Hash, path, file name or comment",
        filters=(Filter("type", "Type", types, lambda row: row.type),)
        if len(types) > 1
        else (),
    )


def _allowed_create(
    user: User, tenant: Tenant, data: dict[str, Any]
) -> ApplicationItem:
    origin_person = data.get("origin_person_id")
    origin_endpoint = data.get("origin_endpoint_id")
    return exclusions.allowed_item_create(
        user=user,
        tenant=tenant,
        type=data["type"],
        properties=exclusions.ItemProperties(
            file_name=data.get("file_name", ""),
            path=data.get("path", ""),
            sha256=data.get("sha256", ""),
            certificate_signer=data.get("certificate_signer", ""),
        ),
        comment=data["comment"],
        origin_person_id=str(origin_person) if origin_person else "",
        origin_endpoint_id=str(origin_endpoint) if origin_endpoint else "",
    )


ALLOWED = Collection[ApplicationItem](
    key="allowed_items",
    path="exclusions/allowed/",
    title="Allowed items",
    noun="allowed item",
    nav="allowed_items",
    intro="Applications that Sophos lets run on this tenant's endpoints even "
    "when it would otherwise detect or block them.",
    table=_item_table(exclusions.ALLOWED_ITEM_TYPES),
    list_items=lambda tenant: exclusions.allowed_items_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.match,
    get_item=lambda tenant, item_id: exclusions.allowed_item_get(
        tenant=tenant, item_id=item_id
    ),
    details=_item_details,
    create_form=exclusion_forms.AllowedItemForm,
    create=_allowed_create,
    update_form=exclusion_forms.CommentForm,
    update_initial=lambda item: {"comment": item.comment},
    update=lambda user, tenant, item, data: exclusions.allowed_item_update(
        user=user, tenant=tenant, item_id=item.id, comment=data["comment"]
    ),
    delete=lambda user, tenant, item_id: exclusions.allowed_item_delete(
        user=user, tenant=tenant, item_id=item_id
    ),
    losses=lambda item: [
        f"Sophos detects or blocks {item.properties.file_name or item.match} "
        "again wherever it runs on this tenant's endpoints."
    ],
)


# -- blocked items -------------------------------------------------------------------


BLOCKED = Collection[ApplicationItem](
    key="blocked_items",
    path="exclusions/blocked/",
    title="Blocked items",
    noun="blocked item",
    nav="blocked_items",
    intro="Files that Sophos blocks by their SHA-256 hash on every endpoint of "
    "this tenant.",
    table=_item_table(exclusions.BLOCKED_ITEM_TYPES),
    list_items=lambda tenant: exclusions.blocked_items_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.match,
    get_item=lambda tenant, item_id: exclusions.blocked_item_get(
        tenant=tenant, item_id=item_id
    ),
    details=_item_details,
    create_form=exclusion_forms.BlockedItemForm,
    create=lambda user, tenant, data: exclusions.blocked_item_create(
        user=user,
        tenant=tenant,
        properties=exclusions.ItemProperties(
            file_name=data.get("file_name", ""),
            path=data.get("path", ""),
            sha256=data["sha256"],
        ),
        comment=data["comment"],
    ),
    delete=lambda user, tenant, item_id: exclusions.blocked_item_delete(
        user=user, tenant=tenant, item_id=item_id
    ),
    losses=lambda item: [
        f"The file {item.properties.file_name or item.match} can run again on "
        "this tenant's endpoints unless another rule detects it."
    ],
)


# -- isolation and intrusion prevention exclusions ---------------------------------


def _network_table() -> Table[NetworkExclusion]:
    return Table(
        columns=(
            Column("direction", "Direction", lambda row: row.direction_label),
            Column(
                "remote_addresses",
                "Remote addresses",
                lambda row: row.remote_addresses,
                mono=True,
            ),
            Column("local_ports", "Local ports", lambda row: row.local_ports),
            Column("remote_ports", "Remote ports", lambda row: row.remote_ports),
            Column("comment", "Comment", lambda row: row.comment),
        ),
        default_sort="direction",
        search=lambda row: (
            *row.remote_addresses,
            *map(str, row.local_ports),
            *map(str, row.remote_ports),
            row.comment,
        ),
        search_help="Address, port or comment",
        filters=(
            Filter(
                "direction",
                "Direction",
                exclusions.DIRECTIONS,
                lambda row: row.direction,
            ),
        ),
    )


def _network_details(item: NetworkExclusion) -> list[tuple[str, object]]:
    return [
        ("Direction", item.direction_label),
        ("Remote addresses", ", ".join(item.remote_addresses)),
        ("Local ports", ", ".join(map(str, item.local_ports))),
        ("Remote ports", ", ".join(map(str, item.remote_ports))),
        ("Comment", item.comment),
        ("Id", item.id),
    ]


def _network_initial(item: NetworkExclusion) -> dict[str, Any]:
    return {
        "direction": item.direction,
        "remote_addresses": list(item.remote_addresses),
        "local_ports": list(item.local_ports),
        "remote_ports": list(item.remote_ports),
        "comment": item.comment,
    }


def _rule(data: dict[str, Any]) -> exclusions.NetworkRule:
    return exclusions.NetworkRule(
        direction=data["direction"],
        local_ports=data["local_ports"],
        remote_ports=data["remote_ports"],
        remote_addresses=data["remote_addresses"],
        comment=data["comment"],
    )


ISOLATION = Collection[NetworkExclusion](
    key="isolation_exclusions",
    path="exclusions/isolation/",
    title="Isolation exclusions",
    noun="isolation exclusion",
    nav="isolation_exclusions",
    intro="Network traffic that an isolated endpoint may still send and "
    "receive, for example to a remediation server.",
    table=_network_table(),
    list_items=lambda tenant: exclusions.isolation_exclusions_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.summary,
    get_item=lambda tenant, item_id: exclusions.isolation_exclusion_get(
        tenant=tenant, exclusion_id=item_id
    ),
    details=_network_details,
    create_form=exclusion_forms.NetworkExclusionForm,
    create=lambda user, tenant, data: exclusions.isolation_exclusion_create(
        user=user, tenant=tenant, rule=_rule(data)
    ),
    update_form=exclusion_forms.NetworkExclusionForm,
    update_initial=_network_initial,
    update=lambda user, tenant, item, data: exclusions.isolation_exclusion_update(
        user=user, tenant=tenant, exclusion_id=item.id, rule=_rule(data)
    ),
    delete=lambda user, tenant, item_id: exclusions.isolation_exclusion_delete(
        user=user, tenant=tenant, exclusion_id=item_id
    ),
    losses=lambda item: [
        f"Isolated endpoints can no longer reach {item.summary}; a remote "
        "session that relies on it stops when the endpoint is isolated."
    ],
)

INTRUSION_PREVENTION = Collection[NetworkExclusion](
    key="intrusion_prevention_exclusions",
    path="exclusions/intrusion-prevention/",
    title="Intrusion prevention exclusions",
    noun="intrusion prevention exclusion",
    nav="intrusion_prevention_exclusions",
    intro="Network traffic that intrusion prevention does not inspect.",
    table=_network_table(),
    list_items=lambda tenant: exclusions.intrusion_prevention_exclusions_list(
        tenant=tenant
    ),
    item_id=lambda item: item.id,
    item_label=lambda item: item.summary,
    get_item=lambda tenant, item_id: exclusions.intrusion_prevention_exclusion_get(
        tenant=tenant, exclusion_id=item_id
    ),
    details=_network_details,
    create_form=exclusion_forms.NetworkExclusionForm,
    create=lambda user, tenant, data: exclusions.intrusion_prevention_exclusion_create(
        user=user, tenant=tenant, rule=_rule(data)
    ),
    update_form=exclusion_forms.NetworkExclusionForm,
    update_initial=_network_initial,
    update=lambda user, tenant, item, data: (
        exclusions.intrusion_prevention_exclusion_update(
            user=user, tenant=tenant, exclusion_id=item.id, rule=_rule(data)
        )
    ),
    delete=lambda user, tenant, item_id: (
        exclusions.intrusion_prevention_exclusion_delete(
            user=user, tenant=tenant, exclusion_id=item_id
        )
    ),
    losses=lambda item: [
        f"Intrusion prevention inspects {item.summary} again and may block it."
    ],
)


urlpatterns = [
    *collection_urls(SCANNING),
    *collection_urls(ALLOWED),
    *collection_urls(BLOCKED),
    *collection_urls(ISOLATION),
    *collection_urls(INTRUSION_PREVENTION),
]
