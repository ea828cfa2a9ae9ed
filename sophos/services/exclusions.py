"""A tenant's exclusion families, read and changed live in Sophos Central.

Scanning exclusions, allowed and blocked items, isolation and intrusion
prevention exclusions, and exploit mitigation (detected exploits,
categories, applications). Each function returns the dataclasses below;
writes go through ``sophos.services.resources`` and so the audit log.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sophos.models import Tenant
from sophos.services import resources
from sophos.services.labels import code_label
from sophos.services.resources import (
    Listing,
    User,
    flag,
    moment,
    number,
    numbers,
    section,
    strings,
    text,
)

# Enumerations of the request bodies, as (value, label).
SCANNING_TYPES = (
    ("path", "Windows file or folder"),
    ("posixPath", "macOS or Linux file or folder"),
    ("virtualPath", "Virtual path (Windows)"),
    ("process", "Process"),
    ("web", "Website"),
    ("pua", "Potentially unwanted application"),
    ("exploitMitigation", "Detected exploit"),
    ("amsi", "AMSI"),
    ("behavioral", "Behavioral"),
)
SCAN_MODES = (
    ("onDemandAndOnAccess", "On demand and on access"),
    ("onDemand", "On demand"),
    ("onAccess", "On access"),
)
# Scanning exclusion types that take a scan mode; Sophos applies the
# others in every scan.
# NOTE/sophos-api: which types accept scanMode is inferred from the
# Central console, which offers the choice only for file and folder paths.
SCAN_MODE_TYPES = frozenset({"path", "posixPath", "virtualPath"})
ALLOWED_ITEM_TYPES = (
    ("sha256", "SHA-256 hash"),
    ("path", "File path"),
    ("certificateSigner", "Certificate signer"),
)
BLOCKED_ITEM_TYPES = (("sha256", "SHA-256 hash"),)
DIRECTIONS = (("inbound", "Inbound"), ("outbound", "Outbound"), ("both", "Both"))
EXPLOIT_APPLICATION_TYPES = (("detected", "Detected"), ("custom", "Custom"))

# Exploit mitigation settings of an application or category, with labels.
# NOTE/sophos-api: the labels are inferred from the setting names; Sophos
# documents the names only.
MITIGATION_SETTINGS = (
    ("DEP", "Data execution prevention (DEP)"),
    ("ASLR", "Mandatory address space layout randomization (ASLR)"),
    ("BottomUpASLR", "Bottom-up ASLR"),
    ("NullPage", "Null page (null dereference protection)"),
    ("HeapSpray", "Heap spray allocation"),
    ("StackPivot", "Stack pivot"),
    ("StackExec", "Stack execution (MemProt)"),
    ("Caller", "Stack-based ROP mitigation (Caller)"),
    ("SEHOP", "Structured exception handler overwrite protection (SEHOP)"),
    ("IAF", "Import address table filtering (IAF)"),
    ("LoadLib", "Load library"),
    ("BannedAPI", "Banned API calls"),
    ("DeviceAndIoControl", "Device and I/O control"),
    ("Intruder", "Intruder"),
    ("KbdGuard", "Keyboard guard"),
    ("LockdownAutorun", "Application lockdown: autorun"),
    ("LockdownLoadImage", "Application lockdown: load image"),
    ("LockdownNewFile", "Application lockdown: new file"),
)
MITIGATION_LABELS = dict(MITIGATION_SETTINGS)


def _label(choices: Sequence[tuple[str, str]], value: str) -> str:
    return dict(choices).get(value) or code_label(value)


def mitigation_label(name: str) -> str:
    """Return the label of a mitigation setting, or its name split in words."""
    if name in MITIGATION_LABELS:
        return MITIGATION_LABELS[name]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


# -- scanning exclusions -------------------------------------------------------------


@dataclass(frozen=True)
class ScanningExclusion:
    id: str
    type: str
    value: str
    scan_mode: str
    description: str
    comment: str
    # True when the partner or enterprise account set it and the tenant
    # cannot change it.
    locked_by_managing_account: bool | None

    @property
    def type_label(self) -> str:
        return _label(SCANNING_TYPES, self.type)

    @property
    def scan_mode_label(self) -> str:
        return _label(SCAN_MODES, self.scan_mode)


def _scanning_exclusion(data: Mapping[str, Any]) -> ScanningExclusion:
    return ScanningExclusion(
        id=text(data, "id"),
        type=text(data, "type"),
        value=text(data, "value"),
        scan_mode=text(data, "scanMode"),
        description=text(data, "description"),
        comment=text(data, "comment"),
        locked_by_managing_account=flag(data, "lockedByManagingAccount"),
    )


def scanning_exclusions_list(
    *, tenant: Tenant, type: str = ""
) -> Listing[ScanningExclusion]:
    """Read the tenant's scanning exclusions, of one type if ``type`` is set."""
    return resources.resource_list(
        tenant=tenant,
        operation="scanning_exclusions_list",
        parse=_scanning_exclusion,
        params={"type": type} if type else None,
    )


def scanning_exclusion_get(*, tenant: Tenant, exclusion_id: str) -> ScanningExclusion:
    return resources.resource_get(
        tenant=tenant,
        operation="scanning_exclusion_get",
        parse=_scanning_exclusion,
        path_params={"exclusionId": exclusion_id},
    )


def _scanning_body(
    *, value: str, scan_mode: str, comment: str, type: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"value": value}
    if scan_mode and type in SCAN_MODE_TYPES:
        body["scanMode"] = scan_mode
    if comment:
        body["comment"] = comment
    return body


def scanning_exclusion_create(
    *,
    user: User,
    tenant: Tenant,
    type: str,
    value: str,
    scan_mode: str = "",
    comment: str = "",
) -> ScanningExclusion:
    body = {
        "type": type,
        **_scanning_body(value=value, scan_mode=scan_mode, comment=comment, type=type),
    }
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="scanning_exclusion_create",
        body=body,
        parse=_scanning_exclusion,
    )


def scanning_exclusion_update(
    *,
    user: User,
    tenant: Tenant,
    exclusion_id: str,
    type: str,
    value: str,
    scan_mode: str = "",
    comment: str = "",
) -> ScanningExclusion:
    """Change the value, scan mode and comment; the type cannot change."""
    body = _scanning_body(value=value, scan_mode=scan_mode, comment=comment, type=type)
    # An emptied comment is sent as "" so that Sophos clears it.
    body.setdefault("comment", "")
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="scanning_exclusion_update",
        path_params={"exclusionId": exclusion_id},
        body=body,
        parse=_scanning_exclusion,
    )


def scanning_exclusion_delete(*, user: User, tenant: Tenant, exclusion_id: str) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="scanning_exclusion_delete",
        path_params={"exclusionId": exclusion_id},
    )


# -- allowed and blocked items -------------------------------------------------------


@dataclass(frozen=True)
class ItemProperties:
    """The file an allowed or blocked item matches."""

    file_name: str = ""
    path: str = ""
    sha256: str = ""
    certificate_signer: str = ""


@dataclass(frozen=True)
class ApplicationItem:
    """An allowed or a blocked item."""

    id: str
    type: str
    properties: ItemProperties
    comment: str
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    created_by: str
    origin_person_id: str
    origin_person: str
    origin_endpoint_id: str

    @property
    def type_label(self) -> str:
        return _label(ALLOWED_ITEM_TYPES, self.type)

    @property
    def match(self) -> str:
        """The property the item matches on: the hash, path or signer."""
        properties = self.properties
        by_type = {
            "sha256": properties.sha256,
            "path": properties.path,
            "certificateSigner": properties.certificate_signer,
        }
        return by_type.get(self.type) or properties.sha256 or properties.path


def _application_item(data: Mapping[str, Any]) -> ApplicationItem:
    properties = section(data, "properties")
    origin_person = section(data, "originPerson")
    return ApplicationItem(
        id=text(data, "id"),
        type=text(data, "type"),
        properties=ItemProperties(
            file_name=text(properties, "fileName"),
            path=text(properties, "path"),
            sha256=text(properties, "sha256"),
            certificate_signer=text(properties, "certificateSigner"),
        ),
        comment=text(data, "comment"),
        created_at=moment(data, "createdAt"),
        updated_at=moment(data, "updatedAt"),
        created_by=text(section(data, "createdBy"), "name"),
        origin_person_id=text(origin_person, "id"),
        origin_person=text(origin_person, "name"),
        origin_endpoint_id=text(section(data, "originEndpoint"), "id"),
    )


def _properties_body(properties: ItemProperties) -> dict[str, str]:
    body = {
        "fileName": properties.file_name,
        "path": properties.path,
        "sha256": properties.sha256,
        "certificateSigner": properties.certificate_signer,
    }
    return {key: value for key, value in body.items() if value}


def allowed_items_list(*, tenant: Tenant) -> Listing[ApplicationItem]:
    return resources.resource_list(
        tenant=tenant, operation="allowed_items_list", parse=_application_item
    )


def allowed_item_get(*, tenant: Tenant, item_id: str) -> ApplicationItem:
    return resources.resource_get(
        tenant=tenant,
        operation="allowed_item_get",
        parse=_application_item,
        path_params={"allowedItemId": item_id},
    )


def allowed_item_create(
    *,
    user: User,
    tenant: Tenant,
    type: str,
    properties: ItemProperties,
    comment: str,
    origin_person_id: str = "",
    origin_endpoint_id: str = "",
) -> ApplicationItem:
    """Allow a file by hash, path or certificate signer.

    Sophos returns 409 (``Conflict``) when the tenant already allows it.
    """
    body: dict[str, Any] = {
        "type": type,
        "properties": _properties_body(properties),
        "comment": comment,
    }
    if origin_person_id:
        body["originPersonId"] = origin_person_id
    if origin_endpoint_id:
        body["originEndpointId"] = origin_endpoint_id
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="allowed_item_create",
        body=body,
        parse=_application_item,
    )


def allowed_item_update(
    *, user: User, tenant: Tenant, item_id: str, comment: str
) -> ApplicationItem:
    """Change the comment, the one field Sophos lets an allowed item change."""
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="allowed_item_update",
        path_params={"allowedItemId": item_id},
        body={"comment": comment},
        parse=_application_item,
    )


def allowed_item_delete(*, user: User, tenant: Tenant, item_id: str) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="allowed_item_delete",
        path_params={"allowedItemId": item_id},
    )


def blocked_items_list(*, tenant: Tenant) -> Listing[ApplicationItem]:
    return resources.resource_list(
        tenant=tenant, operation="blocked_items_list", parse=_application_item
    )


def blocked_item_get(*, tenant: Tenant, item_id: str) -> ApplicationItem:
    return resources.resource_get(
        tenant=tenant,
        operation="blocked_item_get",
        parse=_application_item,
        path_params={"blockedItemId": item_id},
    )


def blocked_item_create(
    *, user: User, tenant: Tenant, properties: ItemProperties, comment: str
) -> ApplicationItem:
    """Block a file by its SHA-256 hash, the only type Sophos accepts."""
    body = {
        "type": "sha256",
        "properties": _properties_body(properties),
        "comment": comment,
    }
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="blocked_item_create",
        body=body,
        parse=_application_item,
    )


def blocked_item_delete(*, user: User, tenant: Tenant, item_id: str) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="blocked_item_delete",
        path_params={"blockedItemId": item_id},
    )


# -- isolation and intrusion prevention exclusions ---------------------------------


@dataclass(frozen=True)
class NetworkExclusion:
    """Traffic that isolation or intrusion prevention lets through."""

    id: str
    # "isolation" or "intrusionPrevention".
    type: str
    direction: str
    local_ports: tuple[int, ...]
    remote_ports: tuple[int, ...]
    remote_addresses: tuple[str, ...]
    comment: str

    @property
    def direction_label(self) -> str:
        return _label(DIRECTIONS, self.direction)

    @property
    def summary(self) -> str:
        """A short description of the traffic, for headings."""
        parts = [self.direction_label.lower() or "any direction"]
        if self.remote_addresses:
            parts.append("to " + ", ".join(self.remote_addresses))
        if self.local_ports:
            parts.append("local ports " + ", ".join(map(str, self.local_ports)))
        if self.remote_ports:
            parts.append("remote ports " + ", ".join(map(str, self.remote_ports)))
        return " ".join(parts)


@dataclass(frozen=True)
class NetworkRule:
    """The fields of a network exclusion, as a create or an update sends them."""

    direction: str = ""
    local_ports: Sequence[int] = ()
    remote_ports: Sequence[int] = ()
    remote_addresses: Sequence[str] = ()
    comment: str = ""

    def body(self, *, clearing: bool) -> dict[str, Any]:
        """Return the request body; ``clearing`` sends empty fields too, so an
        update can remove ports, addresses or the comment."""
        body: dict[str, Any] = {
            "direction": self.direction,
            "localPorts": list(self.local_ports),
            "remotePorts": list(self.remote_ports),
            "remoteAddresses": list(self.remote_addresses),
            "comment": self.comment,
        }
        if not self.direction:
            del body["direction"]
        if clearing:
            return body
        return {key: value for key, value in body.items() if value}


def _network_exclusion(data: Mapping[str, Any]) -> NetworkExclusion:
    return NetworkExclusion(
        id=text(data, "id"),
        type=text(data, "type"),
        direction=text(data, "direction"),
        local_ports=numbers(data, "localPorts"),
        remote_ports=numbers(data, "remotePorts"),
        remote_addresses=strings(data, "remoteAddresses"),
        comment=text(data, "comment"),
    )


def isolation_exclusions_list(*, tenant: Tenant) -> Listing[NetworkExclusion]:
    return resources.resource_list(
        tenant=tenant, operation="isolation_exclusions_list", parse=_network_exclusion
    )


def isolation_exclusion_get(*, tenant: Tenant, exclusion_id: str) -> NetworkExclusion:
    return resources.resource_get(
        tenant=tenant,
        operation="isolation_exclusion_get",
        parse=_network_exclusion,
        path_params={"exclusionId": exclusion_id},
    )


def isolation_exclusion_create(
    *, user: User, tenant: Tenant, rule: NetworkRule
) -> NetworkExclusion:
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="isolation_exclusion_create",
        body=rule.body(clearing=False),
        parse=_network_exclusion,
    )


def isolation_exclusion_update(
    *, user: User, tenant: Tenant, exclusion_id: str, rule: NetworkRule
) -> NetworkExclusion:
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="isolation_exclusion_update",
        path_params={"exclusionId": exclusion_id},
        body=rule.body(clearing=True),
        parse=_network_exclusion,
    )


def isolation_exclusion_delete(
    *, user: User, tenant: Tenant, exclusion_id: str
) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="isolation_exclusion_delete",
        path_params={"exclusionId": exclusion_id},
    )


def intrusion_prevention_exclusions_list(
    *, tenant: Tenant
) -> Listing[NetworkExclusion]:
    return resources.resource_list(
        tenant=tenant,
        operation="intrusion_prevention_exclusions_list",
        parse=_network_exclusion,
    )


def intrusion_prevention_exclusion_get(
    *, tenant: Tenant, exclusion_id: str
) -> NetworkExclusion:
    return resources.resource_get(
        tenant=tenant,
        operation="intrusion_prevention_exclusion_get",
        parse=_network_exclusion,
        path_params={"exclusionId": exclusion_id},
    )


def intrusion_prevention_exclusion_create(
    *, user: User, tenant: Tenant, rule: NetworkRule
) -> NetworkExclusion:
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="intrusion_prevention_exclusion_create",
        body=rule.body(clearing=False),
        parse=_network_exclusion,
    )


def intrusion_prevention_exclusion_update(
    *, user: User, tenant: Tenant, exclusion_id: str, rule: NetworkRule
) -> NetworkExclusion:
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="intrusion_prevention_exclusion_update",
        path_params={"exclusionId": exclusion_id},
        body=rule.body(clearing=True),
        parse=_network_exclusion,
    )


def intrusion_prevention_exclusion_delete(
    *, user: User, tenant: Tenant, exclusion_id: str
) -> None:
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="intrusion_prevention_exclusion_delete",
        path_params={"exclusionId": exclusion_id},
    )


# -- exploit mitigation --------------------------------------------------------------


@dataclass(frozen=True)
class DetectedExploit:
    id: str
    thumbprint: str
    count: int | None
    description: str
    first_seen_at: datetime.datetime | None
    last_seen_at: datetime.datetime | None
    last_user: str
    last_endpoint_id: str
    last_endpoint: str


def _detected_exploit(data: Mapping[str, Any]) -> DetectedExploit:
    last_endpoint = section(data, "lastEndpoint")
    return DetectedExploit(
        id=text(data, "id"),
        thumbprint=text(data, "thumbprint"),
        count=number(data, "count"),
        description=text(data, "description"),
        first_seen_at=moment(data, "firstSeenAt"),
        last_seen_at=moment(data, "lastSeenAt"),
        last_user=text(section(data, "lastUser"), "name"),
        last_endpoint_id=text(last_endpoint, "id"),
        last_endpoint=text(last_endpoint, "hostname"),
    )


def detected_exploits_list(*, tenant: Tenant) -> Listing[DetectedExploit]:
    return resources.resource_list(
        tenant=tenant, operation="detected_exploits_list", parse=_detected_exploit
    )


def detected_exploit_get(*, tenant: Tenant, exploit_id: str) -> DetectedExploit:
    return resources.resource_get(
        tenant=tenant,
        operation="detected_exploit_get",
        parse=_detected_exploit,
        path_params={"detectedExploitId": exploit_id},
    )


@dataclass(frozen=True)
class MitigationSetting:
    name: str
    enabled: bool

    @property
    def label(self) -> str:
        return mitigation_label(self.name)


def _settings(data: Mapping[str, Any]) -> tuple[MitigationSetting, ...]:
    return tuple(
        MitigationSetting(name=str(name), enabled=value)
        for name, value in data.items()
        if isinstance(value, bool)
    )


@dataclass(frozen=True)
class ExploitCategory:
    """A kind of application and the mitigations Sophos applies to it."""

    id: str
    name: str
    settings: tuple[MitigationSetting, ...]

    @property
    def enabled_count(self) -> int:
        return sum(1 for setting in self.settings if setting.enabled)


def _exploit_category(data: Mapping[str, Any]) -> ExploitCategory:
    return ExploitCategory(
        id=text(data, "id"),
        name=text(data, "name"),
        settings=_settings(section(data, "settings")),
    )


def exploit_categories_list(*, tenant: Tenant) -> Listing[ExploitCategory]:
    return resources.resource_list(
        tenant=tenant,
        operation="exploit_mitigation_categories_list",
        parse=_exploit_category,
    )


@dataclass(frozen=True)
class ExploitApplication:
    """An application that exploit mitigation protects, and how."""

    id: str
    name: str
    paths: tuple[str, ...]
    category: str
    # "detected" (found by Sophos on the endpoints) or "custom" (added).
    type: str
    # None when the application has no modifications of its own.
    protected: bool | None
    settings: tuple[MitigationSetting, ...]

    @property
    def label(self) -> str:
        return self.name or (self.paths[0] if self.paths else self.id)

    @property
    def type_label(self) -> str:
        return _label(EXPLOIT_APPLICATION_TYPES, self.type)


def _exploit_application(data: Mapping[str, Any]) -> ExploitApplication:
    modifications = section(data, "modifications")
    return ExploitApplication(
        id=text(data, "id"),
        name=text(data, "name"),
        paths=strings(data, "paths"),
        category=text(data, "category"),
        type=text(data, "type"),
        protected=flag(modifications, "protected"),
        settings=_settings(section(modifications, "settings")),
    )


def exploit_applications_list(
    *, tenant: Tenant, type: str = ""
) -> Listing[ExploitApplication]:
    return resources.resource_list(
        tenant=tenant,
        operation="exploit_mitigation_applications_list",
        parse=_exploit_application,
        params={"type": type} if type else None,
    )


def exploit_application_get(
    *, tenant: Tenant, application_id: str
) -> ExploitApplication:
    return resources.resource_get(
        tenant=tenant,
        operation="exploit_mitigation_application_get",
        parse=_exploit_application,
        path_params={"exploitMitigationApplicationId": application_id},
    )


def exploit_application_create(
    *, user: User, tenant: Tenant, paths: Sequence[str]
) -> ExploitApplication:
    """Add a custom application by the paths of its executables."""
    return resources.resource_create(
        user=user,
        tenant=tenant,
        operation="exploit_mitigation_application_create",
        body={"paths": list(paths)},
        parse=_exploit_application,
    )


def exploit_application_update(
    *,
    user: User,
    tenant: Tenant,
    application_id: str,
    paths: Sequence[str],
    protected: bool,
    settings: Mapping[str, bool],
) -> ExploitApplication:
    """Change an application's paths, protection and mitigation settings.

    A detected application keeps the paths Sophos found, so an empty
    ``paths`` leaves them out of the request.
    """
    body: dict[str, Any] = {
        "modifications": {"protected": protected, "settings": dict(settings)}
    }
    if paths:
        body["paths"] = list(paths)
    return resources.resource_update(
        user=user,
        tenant=tenant,
        operation="exploit_mitigation_application_update",
        path_params={"exploitMitigationApplicationId": application_id},
        body=body,
        parse=_exploit_application,
    )


def exploit_application_delete(
    *, user: User, tenant: Tenant, application_id: str
) -> None:
    """Delete an application; Sophos returns 409 (``Conflict``) for one it
    detected itself, which can only be changed."""
    resources.resource_delete(
        user=user,
        tenant=tenant,
        operation="exploit_mitigation_application_delete",
        path_params={"exploitMitigationApplicationId": application_id},
    )
