"""A tenant's managed firewalls, firewall groups and firmware upgrades.

Sophos Central has no operation that reads one firewall or one firewall
group, so the detail reads pick the item out of the list. A firmware upgrade
of several firewalls runs as a job with one item per firewall, so that the
page shows which upgrades were scheduled and which were rejected.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_q.tasks import async_task

from sophos.errors import NotFound, SophosError
from sophos.models import Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services.connections import client_for
from sophos.services.labels import code_label
from sophos.services.payloads import ids, timestamp
from sophos.services.resources import (
    Listing,
    User,
    correlation_id_of,
    flag,
    number,
    resource_create,
    resource_delete,
    resource_list,
    resource_update,
    resource_write,
    section,
    strings,
    target_for,
    text,
)

logger = logging.getLogger(__name__)

UPGRADE_JOB_KIND = "firewall_firmware_upgrade"
# The groupId filter value for firewalls in no group.
UNGROUPED = "ungrouped"
# NOTE/sophos-api: sync status values other than inSync are not documented;
# an unknown value is shown as the words of its code.
SYNC_STATUSES = {
    "inSync": "In sync",
    "outOfSync": "Out of sync",
    "syncing": "Syncing",
    "failed": "Sync failed",
}


@dataclass(frozen=True)
class Firewall:
    id: str
    label: str
    hostname: str
    serial_number: str
    model: str
    firmware_version: str
    group_id: str
    group_name: str
    cluster_mode: str
    cluster_status: str
    external_ipv4_addresses: tuple[str, ...]
    managing_status: str
    reporting_status: str
    connected: bool | None
    suspended: bool | None
    latitude: str
    longitude: str
    state_changed_at: dt.datetime | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    # Configuration sync status within its group; "" when ungrouped or unread.
    sync_status: str = ""

    @property
    def name(self) -> str:
        return self.label or self.hostname or self.serial_number or self.id

    @property
    def sync_label(self) -> str:
        return SYNC_STATUSES.get(self.sync_status) or code_label(self.sync_status)


@dataclass(frozen=True)
class FirewallGroup:
    id: str
    name: str
    parent_id: str
    locked_by_managing_account: bool
    firewall_count: int
    firewall_ids: tuple[str, ...]
    config_import_status: str
    config_import_percent: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class SyncStatus:
    firewall_id: str
    status: str
    last_updated_at: dt.datetime | None

    @property
    def label(self) -> str:
        return SYNC_STATUSES.get(self.status) or code_label(self.status)


@dataclass(frozen=True)
class FirmwareCandidate:
    """One firewall's current firmware and the versions it can upgrade to."""

    firewall_id: str
    serial_number: str
    current_version: str
    upgrade_to: tuple[str, ...]


@dataclass(frozen=True)
class FirmwareVersion:
    version: str
    size: str


@dataclass(frozen=True)
class FirmwareCheck:
    firewalls: tuple[FirmwareCandidate, ...]
    versions: tuple[FirmwareVersion, ...]

    def for_firewall(self, firewall_id: str) -> FirmwareCandidate | None:
        for candidate in self.firewalls:
            if candidate.firewall_id == firewall_id:
                return candidate
        return None


@dataclass(frozen=True)
class UpgradeRequest:
    firewall_id: str
    version: str
    # None upgrades as soon as the firewall picks the request up.
    upgrade_at: dt.datetime | None = None


@dataclass(frozen=True)
class UpgradeScheduled:
    firewall_id: str
    status: str
    correlation_id: str = ""


def parse_firewall(data: Mapping[str, Any]) -> Firewall:
    group = section(data, "group")
    cluster = section(data, "cluster")
    status = section(data, "status")
    location = section(data, "geoLocation")
    return Firewall(
        id=text(data, "id"),
        label=text(data, "name"),
        hostname=text(data, "hostname"),
        serial_number=text(data, "serialNumber"),
        model=text(data, "model"),
        firmware_version=text(data, "firmwareVersion"),
        group_id=text(group, "id"),
        group_name=text(group, "name"),
        cluster_mode=text(cluster, "mode"),
        cluster_status=text(cluster, "status"),
        external_ipv4_addresses=strings(data, "externalIpv4Addresses"),
        managing_status=text(status, "managing"),
        reporting_status=text(status, "reporting"),
        connected=flag(status, "connected"),
        suspended=flag(status, "suspended"),
        latitude=text(location, "latitude"),
        longitude=text(location, "longitude"),
        state_changed_at=timestamp(data.get("stateChangedAt")),
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def parse_group(data: Mapping[str, Any]) -> FirewallGroup:
    firewalls = section(data, "firewalls")
    listed = tuple(ids(firewalls.get("items")))
    config_import = section(data, "configImport")
    return FirewallGroup(
        id=text(data, "id"),
        name=text(data, "name"),
        parent_id=text(section(data, "parentGroup"), "id"),
        locked_by_managing_account=bool(flag(data, "lockedByManagingAccount")),
        firewall_count=number(firewalls, "total") or len(listed),
        firewall_ids=listed,
        config_import_status=text(config_import, "status"),
        config_import_percent=number(config_import, "percentComplete"),
        created_at=timestamp(data.get("createdAt")),
        updated_at=timestamp(data.get("updatedAt")),
    )


def parse_sync_status(data: Mapping[str, Any]) -> SyncStatus:
    return SyncStatus(
        firewall_id=text(section(data, "firewall"), "id"),
        status=text(data, "status"),
        last_updated_at=timestamp(data.get("lastUpdatedAt")),
    )


def _parse_check(data: Any) -> FirmwareCheck:
    body = data if isinstance(data, Mapping) else {}
    candidates = []
    for item in body.get("firewalls") or []:
        if not isinstance(item, Mapping):
            continue
        upgrade_to = item.get("upgradeToVersion")
        versions = (
            strings(item, "upgradeToVersion")
            if isinstance(upgrade_to, list)
            else ((text(item, "upgradeToVersion"),) if upgrade_to else ())
        )
        candidates.append(
            FirmwareCandidate(
                firewall_id=text(item, "id"),
                serial_number=text(item, "serialNumber"),
                current_version=text(item, "firmwareVersion"),
                upgrade_to=versions,
            )
        )
    versions_offered = [
        FirmwareVersion(version=text(item, "version"), size=text(item, "size"))
        for item in body.get("firmwareVersions") or []
        if isinstance(item, Mapping)
    ]
    return FirmwareCheck(firewalls=tuple(candidates), versions=tuple(versions_offered))


# Firewalls


def firewalls_list(
    *, tenant: Tenant, group_id: str = "", search: str = "", with_sync: bool = True
) -> Listing[Firewall]:
    """Read the tenant's firewalls, with each one's group sync status.

    ``group_id`` may be a group id or ``UNGROUPED``. The sync status costs
    one more call per group that has firewalls.
    """
    params: dict[str, str] = {}
    if group_id:
        params["groupId"] = group_id
    if search:
        params["search"] = search
    listing = resource_list(
        tenant=tenant, operation="firewalls_list", parse=parse_firewall, params=params
    )
    if not with_sync:
        return listing
    statuses: dict[str, str] = {}
    for grouped in sorted({fw.group_id for fw in listing.items if fw.group_id}):
        for status in firewall_group_sync_status_list(
            tenant=tenant, group_id=grouped
        ).items:
            statuses[status.firewall_id] = status.status
    items = [
        _with_sync(firewall, statuses.get(firewall.id, ""))
        for firewall in listing.items
    ]
    return Listing(items=items, truncated=listing.truncated)


def _with_sync(firewall: Firewall, status: str) -> Firewall:
    return Firewall(**{**firewall.__dict__, "sync_status": status})


def firewall_get(*, tenant: Tenant, firewall_id: str) -> Firewall:
    """Read one firewall from the list; raises ``NotFound`` when absent."""
    for firewall in firewalls_list(tenant=tenant).items:
        if firewall.id == firewall_id:
            return firewall
    raise NotFound(f"Firewall {firewall_id} was not found in this tenant.", status=404)


def firewall_update(
    *, user: User, tenant: Tenant, firewall_id: str, label: str
) -> Firewall:
    """Change a firewall's label; Sophos rejects with 409 a label in use."""
    return resource_update(
        user=user,
        tenant=tenant,
        operation="firewall_update",
        path_params={"firewallId": firewall_id},
        body={"name": label.strip()},
        parse=parse_firewall,
    )


def firewall_group_set(
    *, user: User, tenant: Tenant, firewall_id: str, group_id: str
) -> None:
    """Move a firewall into a group, or out of its group for "" or UNGROUPED."""
    current = firewall_get(tenant=tenant, firewall_id=firewall_id).group_id
    target = "" if group_id == UNGROUPED else group_id
    if current == target:
        return
    if target:
        firewall_group_update(
            user=user, tenant=tenant, group_id=target, assign=[firewall_id]
        )
    else:
        firewall_group_update(
            user=user, tenant=tenant, group_id=current, unassign=[firewall_id]
        )


def firewall_delete(*, user: User, tenant: Tenant, firewall_id: str) -> None:
    """Remove a firewall from management in Sophos Central."""
    resource_delete(
        user=user,
        tenant=tenant,
        operation="firewall_delete",
        path_params={"firewallId": firewall_id},
    )
    logger.info("firewall %s deleted in tenant %s", firewall_id, tenant.pk)


def firewalls_firmware_check(
    *, tenant: Tenant, firewall_ids: Iterable[str]
) -> FirmwareCheck:
    """Ask which firmware versions the firewalls can upgrade to.

    The check changes nothing, although Sophos serves it as a POST, so it
    is not written to the audit log.
    """
    chosen = [str(firewall_id) for firewall_id in firewall_ids]
    if not chosen:
        raise ValueError("Choose at least one firewall to check.")
    with client_for(tenant.connection) as client:
        response = client.call(
            "firewalls_firmware_check",
            tenant=target_for(client, tenant),
            json={"firewalls": chosen},
        )
    return _parse_check(response.data)


def _upgrade_body(requests: Iterable[UpgradeRequest]) -> dict[str, Any]:
    firewalls = []
    for request in requests:
        if not request.version:
            raise ValueError(
                f"Choose a firmware version for firewall {request.firewall_id}."
            )
        item: dict[str, Any] = {
            "id": request.firewall_id,
            "upgradeToVersion": request.version,
        }
        if request.upgrade_at is not None:
            when = request.upgrade_at.astimezone(dt.UTC)
            item["upgradeAt"] = when.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            )
        firewalls.append(item)
    if not firewalls:
        raise ValueError("Choose at least one firewall to upgrade.")
    return {"firewalls": firewalls}


def firewalls_firmware_upgrade(
    *, user: User, tenant: Tenant, requests: Iterable[UpgradeRequest]
) -> list[UpgradeScheduled]:
    """Start or schedule firmware upgrades; returns each firewall's status."""
    response = resource_write(
        user=user,
        tenant=tenant,
        operation="firewalls_firmware_upgrade",
        body=_upgrade_body(requests),
    )
    data = response.data if isinstance(response.data, Mapping) else {}
    correlation_id = correlation_id_of(response)
    return [
        UpgradeScheduled(
            firewall_id=text(item, "id"),
            status=text(item, "status"),
            correlation_id=correlation_id,
        )
        for item in data.get("firewalls") or []
        if isinstance(item, Mapping)
    ]


def firewalls_firmware_upgrade_cancel(
    *, user: User, tenant: Tenant, firewall_ids: Iterable[str]
) -> None:
    """Cancel the scheduled firmware upgrades of the firewalls."""
    chosen = [str(firewall_id) for firewall_id in firewall_ids]
    if not chosen:
        raise ValueError("Choose at least one firewall whose upgrade to cancel.")
    resource_write(
        user=user,
        tenant=tenant,
        operation="firewalls_firmware_upgrade_cancel",
        params={"ids": chosen},
    )


# The firmware upgrade job


def firmware_upgrade_job_start(
    *, user: User, tenant: Tenant, requests: Iterable[UpgradeRequest]
) -> Job:
    """Queue one upgrade per firewall as a job; the task runs after commit."""
    chosen = list(requests)
    _upgrade_body(chosen)
    job = jobs.job_create(
        kind=UPGRADE_JOB_KIND,
        title=f"Firmware upgrade of {len(chosen)} firewall(s) in {tenant.display_name}",
        user=user,
        items=[
            jobs.ItemSpec(
                target=request.firewall_id,
                label=request.version,
                tenant_id=tenant.pk,
            )
            for request in chosen
        ],
        parameters={
            "tenant_id": str(tenant.pk),
            "upgrades": [
                {
                    "firewall_id": request.firewall_id,
                    "version": request.version,
                    "upgrade_at": (
                        request.upgrade_at.isoformat() if request.upgrade_at else ""
                    ),
                }
                for request in chosen
            ],
        },
    )
    transaction.on_commit(
        lambda: async_task(
            "sophos.tasks_tenant_actions.firmware_upgrade_job_run_task",
            job.pk,
            task_name=job.title,
        )
    )
    return job


def firmware_upgrade_job_run(*, job_id: int) -> Job:
    """Schedule each firewall's upgrade in turn and record its outcome."""
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    tenant = Tenant.objects.get(pk=uuid.UUID(str(job.parameters["tenant_id"])))
    by_firewall = {
        str(upgrade["firewall_id"]): upgrade for upgrade in job.parameters["upgrades"]
    }
    jobs.job_start(job=job)
    for item in job.items.filter(status=JobItem.Status.QUEUED).order_by("pk"):
        job.refresh_from_db(fields=["status"])
        if job.status == Job.Status.CANCELLED:
            break
        if not jobs.job_item_start(item=item):
            continue
        upgrade = by_firewall.get(item.target, {})
        upgrade_at = str(upgrade.get("upgrade_at") or "")
        request = UpgradeRequest(
            firewall_id=item.target,
            version=str(upgrade.get("version") or ""),
            upgrade_at=dt.datetime.fromisoformat(upgrade_at) if upgrade_at else None,
        )
        try:
            scheduled = firewalls_firmware_upgrade(
                user=job.requested_by, tenant=tenant, requests=[request]
            )
        except (SophosError, ValueError) as exc:
            logger.warning(
                "firmware upgrade of firewall %s in tenant %s failed: %s",
                item.target,
                tenant.pk,
                exc,
            )
            jobs.job_item_fail(item=item, error=exc)
            continue
        status = scheduled[0].status if scheduled else "requested"
        jobs.job_item_succeed(item=item, message=f"Upgrade {status}.")
    return jobs.job_finish(job=job)


# Firewall groups


def firewall_groups_list(*, tenant: Tenant, search: str = "") -> Listing[FirewallGroup]:
    """Read the tenant's firewall groups, subgroups included."""
    params: dict[str, Any] = {"recurseSubgroups": True}
    if search:
        params["search"] = search
    return resource_list(
        tenant=tenant,
        operation="firewall_groups_list",
        parse=parse_group,
        params=params,
    )


def firewall_group_get(*, tenant: Tenant, group_id: str) -> FirewallGroup:
    """Read one group from the list; raises ``NotFound`` when absent."""
    for group in firewall_groups_list(tenant=tenant).items:
        if group.id == group_id:
            return group
    raise NotFound(
        f"Firewall group {group_id} was not found in this tenant.", status=404
    )


def firewall_group_create(
    *,
    user: User,
    tenant: Tenant,
    name: str,
    parent_id: str = "",
    firewall_ids: Iterable[str] = (),
    config_source_id: str = "",
) -> FirewallGroup:
    """Create a group, optionally importing one firewall's configuration."""
    body: dict[str, Any] = {"name": name.strip()}
    assigned = [str(firewall_id) for firewall_id in firewall_ids]
    if assigned:
        body["assignFirewalls"] = assigned
    if parent_id:
        body["parentGroupId"] = parent_id
    if config_source_id:
        body["configImportSourceFirewallId"] = config_source_id
    group = resource_create(
        user=user,
        tenant=tenant,
        operation="firewall_group_create",
        body=body,
        parse=parse_group,
    )
    logger.info("firewall group %s created in tenant %s", group.id, tenant.pk)
    return group


def firewall_group_update(
    *,
    user: User,
    tenant: Tenant,
    group_id: str,
    name: str = "",
    assign: Iterable[str] = (),
    unassign: Iterable[str] = (),
) -> FirewallGroup:
    """Rename a group, or assign and unassign firewalls."""
    body: dict[str, Any] = {}
    if name.strip():
        body["name"] = name.strip()
    assigned = [str(firewall_id) for firewall_id in assign]
    unassigned = [str(firewall_id) for firewall_id in unassign]
    if assigned:
        body["assignFirewalls"] = assigned
    if unassigned:
        body["unassignFirewalls"] = unassigned
    if not body:
        raise ValueError("Nothing to change: give a name or firewalls to move.")
    return resource_update(
        user=user,
        tenant=tenant,
        operation="firewall_group_update",
        path_params={"groupId": group_id},
        body=body,
        parse=parse_group,
    )


def firewall_group_delete(*, user: User, tenant: Tenant, group_id: str) -> None:
    """Delete a group; its firewalls stay managed, in no group."""
    resource_delete(
        user=user,
        tenant=tenant,
        operation="firewall_group_delete",
        path_params={"groupId": group_id},
    )
    logger.info("firewall group %s deleted in tenant %s", group_id, tenant.pk)


def firewall_group_sync_status_list(
    *, tenant: Tenant, group_id: str
) -> Listing[SyncStatus]:
    """Read the configuration sync status of each firewall in a group."""
    return resource_list(
        tenant=tenant,
        operation="firewall_group_sync_status_list",
        parse=parse_sync_status,
        path_params={"groupId": group_id},
    )
