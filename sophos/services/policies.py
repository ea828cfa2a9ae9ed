"""Endpoint policies, their settings and assignments, read and changed live.

A policy's settings are a map keyed by setting key, each with a ``value`` and
optionally ``recommendedValue``, ``unit`` and ``format``. The settings
metadata operation names each key's type and description; where it is
missing, the type is read from the value itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sophos.errors import BadRequest, NotFound
from sophos.models import Endpoint, Tenant
from sophos.services.payloads import (
    actor_from,
    ids,
    integer,
    mapping,
    strings,
    text,
    timestamp,
)
from sophos.services.tenant_api import (
    User,
    audit_response,
    tenant_audit,
    tenant_call,
    tenant_items,
)

logger = logging.getLogger(__name__)

# NOTE/sophos-api: no operation lists the policy types; these are the types
# the Endpoint API documents for policies and base policies.
POLICY_TYPES: dict[str, str] = {
    "threat-protection": "Threat protection",
    "peripheral-control": "Peripheral control",
    "application-control": "Application control",
    "web-control": "Web control",
    "agent-updating": "Agent updating",
    "windows-firewall": "Windows firewall",
    "device-encryption": "Device encryption",
    "data-collection-and-investigation": "Data collection and investigation",
    "endpoint-dns-protection": "DNS protection",
    "server-threat-protection": "Server threat protection",
    "server-peripheral-control": "Server peripheral control",
    "server-application-control": "Server application control",
    "server-web-control": "Server web control",
    "server-agent-updating": "Server agent updating",
    "server-windows-firewall": "Server Windows firewall",
    "server-data-collection-and-investigation": (
        "Server data collection and investigation"
    ),
    "server-lockdown": "Server lockdown",
    "server-file-integrity-monitoring": "Server file integrity monitoring",
    "server-linux-runtime-detection": "Server Linux runtime detection",
}

# Kinds of setting value, which decide the form field that edits them.
BOOLEAN = "boolean"
INTEGER = "integer"
NUMBER = "number"
ENUM = "enum"
STRING = "string"
LIST = "list"
OTHER = "other"
EDITABLE_KINDS = {BOOLEAN, INTEGER, NUMBER, ENUM, STRING, LIST}

_METADATA_KINDS = {
    "boolean": BOOLEAN,
    "integer": INTEGER,
    "number": NUMBER,
    "string": STRING,
    "array": LIST,
    "enum": ENUM,
    "object": OTHER,
}


def value_text(value: Any) -> str:
    """Return a setting value as pages show it: On or Off, a comma-separated
    list, or the value as text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "On" if value else "Off"
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value) or "(none)"
    return str(value)


def policy_type_label(policy_type: str) -> str:
    return POLICY_TYPES.get(policy_type) or policy_type.replace("-", " ").capitalize()


@dataclass(frozen=True)
class SettingMetadata:
    key: str
    description: str
    type: str
    default_value: Any
    choices: list[str] = field(default_factory=list)
    # Empty when the reply does not name the policy type of the setting.
    policy_type: str = ""

    @property
    def policy_type_label(self) -> str:
        return policy_type_label(self.policy_type) if self.policy_type else ""

    @property
    def default_text(self) -> str:
        return value_text(self.default_value)


@dataclass(frozen=True)
class PolicySetting:
    """One setting of a policy, with its type and label from the metadata."""

    key: str
    label: str
    value: Any
    kind: str
    recommended_value: Any = None
    has_recommended: bool = False
    unit: str = ""
    format: str = ""
    description: str = ""
    choices: list[str] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        return self.kind in EDITABLE_KINDS

    @property
    def value_text(self) -> str:
        return value_text(self.value)

    @property
    def recommended_text(self) -> str:
        return value_text(self.recommended_value) if self.has_recommended else ""

    @property
    def is_recommended(self) -> bool:
        return self.has_recommended and self.value == self.recommended_value


@dataclass(frozen=True)
class PolicyAssignment:
    """Whom a policy applies to: ids of users, groups and endpoints."""

    users: list[str] = field(default_factory=list)
    user_groups: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    endpoint_groups: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.users or self.user_groups or self.endpoints or self.endpoint_groups
        )

    def as_body(self) -> dict[str, list[str]]:
        """Return the ``appliesTo`` object that Sophos Central accepts."""
        return {
            # The users and userGroups arrays of ids are documented by the
            # Update policy request of the Endpoint API collection.
            "users": list(self.users),
            "userGroups": list(self.user_groups),
            # NOTE/sophos-api: unverified. The collection is silent on
            # endpoints; these keys follow the vendor's own integration.
            "endpoints": list(self.endpoints),
            "endpointGroups": list(self.endpoint_groups),
        }


@dataclass(frozen=True)
class PolicySummary:
    id: str
    name: str
    type: str
    priority: int
    enabled: bool
    locked: bool
    updated_at: dt.datetime | None

    @property
    def type_label(self) -> str:
        return policy_type_label(self.type)

    @property
    def is_base(self) -> bool:
        # Sophos Central gives each type's base policy priority 0.
        return self.priority == 0


@dataclass(frozen=True)
class PolicyDetail(PolicySummary):
    settings: list[PolicySetting] = field(default_factory=list)
    applies_to: PolicyAssignment = field(default_factory=PolicyAssignment)
    disable_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    created_by: str = ""
    updated_by: str = ""
    correlation_id: str = ""

    def setting(self, key: str) -> PolicySetting | None:
        return next((s for s in self.settings if s.key == key), None)


@dataclass(frozen=True)
class SettingComparison:
    key: str
    label: str
    policy: PolicySetting | None
    base: PolicySetting | None

    @property
    def differs(self) -> bool:
        if self.policy is None or self.base is None:
            return True
        return bool(self.policy.value != self.base.value)


@dataclass(frozen=True)
class PolicyComparison:
    policy: PolicyDetail
    base: PolicyDetail
    rows: list[SettingComparison]

    @property
    def differences(self) -> int:
        return sum(row.differs for row in self.rows)


@dataclass(frozen=True)
class AppliedPolicy:
    """A policy that applies to an endpoint, and the reason it does."""

    policy: PolicySummary
    reason: str


# -- reading ----------------------------------------------------------------------


def setting_label(key: str) -> str:
    """Make a label from a setting key, such as "Scans scheduled days"."""
    words = key.split(".", 1)[1] if key.startswith(("endpoint.", "server.")) else key
    return words.replace(".", " ").replace("-", " ").capitalize()


def _kind_of(value: Any, metadata: SettingMetadata | None) -> str:
    if metadata is not None:
        if metadata.choices:
            # An array setting with choices takes several of them.
            return LIST if isinstance(value, list) else ENUM
        if metadata.type in _METADATA_KINDS:
            return _METADATA_KINDS[metadata.type]
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return LIST
    return OTHER


def _setting_from(
    key: str, data: Mapping[str, Any], metadata: SettingMetadata | None
) -> PolicySetting:
    value = data.get("value")
    description = metadata.description if metadata else ""
    label = description[:1].upper() + description[1:] if description else ""
    return PolicySetting(
        key=key,
        label=label or setting_label(key),
        value=value,
        kind=_kind_of(value, metadata),
        recommended_value=data.get("recommendedValue"),
        has_recommended="recommendedValue" in data,
        unit=text(data.get("unit")),
        format=text(data.get("format")),
        description=description,
        choices=list(metadata.choices) if metadata else [],
    )


def _summary_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": text(data.get("id")),
        "name": text(data.get("name")),
        "type": text(data.get("type")),
        "priority": integer(data.get("priority")),
        "enabled": data.get("enabled") is not False,
        "locked": data.get("lockedByManagingAccount") is True,
        "updated_at": timestamp(data.get("updatedAt")),
    }


def _assignment_from(value: Any) -> PolicyAssignment:
    data = mapping(value)
    return PolicyAssignment(
        users=ids(data.get("users")),
        user_groups=ids(data.get("userGroups")),
        endpoints=ids(data.get("endpoints")),
        endpoint_groups=ids(data.get("endpointGroups")),
    )


def _actor_label(value: Any) -> str:
    actor = actor_from(value)
    return actor.get("name") or actor.get("id", "") if actor else ""


def _detail_from(
    data: Mapping[str, Any],
    metadata: Mapping[str, SettingMetadata],
    correlation_id: str = "",
) -> PolicyDetail:
    settings = mapping(data.get("settings"))
    return PolicyDetail(
        **_summary_fields(data),
        settings=[
            _setting_from(key, mapping(settings[key]), metadata.get(key))
            for key in sorted(settings)
        ],
        applies_to=_assignment_from(data.get("appliesTo")),
        disable_at=timestamp(data.get("disableAt")),
        created_at=timestamp(data.get("createdAt")),
        created_by=_actor_label(data.get("createdBy")),
        updated_by=_actor_label(data.get("updatedBy")),
        correlation_id=correlation_id,
    )


def policies_list(*, tenant: Tenant, policy_type: str = "") -> list[PolicySummary]:
    """Read the tenant's policies, base policies included, optionally of a type."""
    params = {"policyType": policy_type} if policy_type else {}
    items = tenant_items(tenant, "policies_list", params=params)
    return [PolicySummary(**_summary_fields(item)) for item in items]


def policy_settings_metadata_list(
    *, tenant: Tenant, policy_type: str = ""
) -> list[SettingMetadata]:
    """Read the settings metadata, of every policy type or of one."""
    params = {"policyType": policy_type} if policy_type else None
    data = mapping(
        tenant_call(tenant, "policy_settings_metadata_get", params=params).data
    )
    found: list[SettingMetadata] = []
    for group in map(mapping, data.get("items") or []):
        group_type = text(group.get("policyType")) or policy_type
        if policy_type and group_type != policy_type:
            continue
        for item in map(mapping, group.get("items") or []):
            key = text(item.get("name"))
            if not key:
                continue
            choices = item.get("enum") or item.get("allowedValues") or []
            found.append(
                SettingMetadata(
                    key=key,
                    description=text(item.get("description")),
                    type=text(item.get("type")),
                    default_value=item.get("defaultValue"),
                    choices=strings(choices),
                    policy_type=group_type,
                )
            )
    return found


def policy_settings_metadata_get(
    *, tenant: Tenant, policy_type: str
) -> dict[str, SettingMetadata]:
    """Read the settings metadata of one policy type, keyed by setting key."""
    listed = policy_settings_metadata_list(tenant=tenant, policy_type=policy_type)
    return {metadata.key: metadata for metadata in listed}


def _metadata_or_empty(tenant: Tenant, policy_type: str) -> dict[str, SettingMetadata]:
    """Read the metadata for labels; a page still renders without it."""
    try:
        return policy_settings_metadata_get(tenant=tenant, policy_type=policy_type)
    except (BadRequest, NotFound) as exc:
        logger.warning(
            "policy settings metadata for %s in tenant %s failed: %s",
            policy_type,
            tenant.pk,
            exc,
        )
        return {}


def policy_get(*, tenant: Tenant, policy_id: str) -> PolicyDetail:
    """Read one policy with its settings, labelled from the metadata."""
    response = tenant_call(tenant, "policy_get", path_params={"policyId": policy_id})
    data = mapping(response.data)
    metadata = _metadata_or_empty(tenant, text(data.get("type")))
    return _detail_from(data, metadata)


def base_policy_get(*, tenant: Tenant, policy_type: str) -> PolicyDetail:
    """Read the base policy of one policy type."""
    response = tenant_call(
        tenant, "base_policy_get", path_params={"policyType": policy_type}
    )
    return _detail_from(mapping(response.data), _metadata_or_empty(tenant, policy_type))


def policy_compare(*, tenant: Tenant, policy_id: str) -> PolicyComparison:
    """Compare a policy's settings with the base policy of its type."""
    policy = policy_get(tenant=tenant, policy_id=policy_id)
    base = base_policy_get(tenant=tenant, policy_type=policy.type)
    keys = sorted({s.key for s in policy.settings} | {s.key for s in base.settings})
    rows = []
    for key in keys:
        mine, theirs = policy.setting(key), base.setting(key)
        known = mine or theirs
        label = known.label if known else setting_label(key)
        rows.append(SettingComparison(key=key, label=label, policy=mine, base=theirs))
    return PolicyComparison(policy=policy, base=base, rows=rows)


def policies_of_endpoint(
    *,
    tenant: Tenant,
    endpoint_id: uuid.UUID | str,
    group_ids: Iterable[str] = (),
    person_id: str = "",
) -> list[AppliedPolicy]:
    """Derive the policies that apply to an endpoint from their ``appliesTo``.

    For each policy type, the enabled policy with the lowest priority number
    that names the endpoint, one of its groups or its associated person
    applies. Where no policy of a type names them, the type's base policy
    applies.
    """
    # NOTE/sophos-api: no operation returns an endpoint's policies, so they
    # are derived here. User group membership is not followed, so a policy
    # assigned only to a user group of the endpoint's user is not shown.
    endpoint = str(endpoint_id)
    groups = set(group_ids)
    chosen: dict[str, AppliedPolicy] = {}
    bases: dict[str, PolicySummary] = {}
    items = tenant_items(tenant, "policies_list")
    ordered = sorted(items, key=lambda item: integer(item.get("priority")))
    for item in ordered:
        policy = PolicySummary(**_summary_fields(item))
        if policy.is_base:
            bases.setdefault(policy.type, policy)
            continue
        if not policy.enabled or policy.type in chosen:
            continue
        reason = _assignment_reason(
            _assignment_from(item.get("appliesTo")), endpoint, groups, person_id
        )
        if reason:
            chosen[policy.type] = AppliedPolicy(policy=policy, reason=reason)
    for policy_type, base in bases.items():
        chosen.setdefault(
            policy_type,
            AppliedPolicy(policy=base, reason="Base policy: no other policy names it."),
        )
    return sorted(chosen.values(), key=lambda applied: applied.policy.type_label)


def _assignment_reason(
    applies_to: PolicyAssignment, endpoint: str, groups: set[str], person_id: str
) -> str:
    if endpoint in applies_to.endpoints:
        return "Assigned to this endpoint."
    if groups & set(applies_to.endpoint_groups):
        return "Assigned to the endpoint's group."
    if person_id and person_id in applies_to.users:
        return "Assigned to the endpoint's user."
    return ""


@dataclass(frozen=True)
class AssignmentOptions:
    """The users, groups and endpoints a policy can be assigned to, as
    ``(id, label)`` pairs."""

    users: list[tuple[str, str]]
    user_groups: list[tuple[str, str]]
    endpoints: list[tuple[str, str]]
    endpoint_groups: list[tuple[str, str]]


def _named(items: Iterable[Mapping[str, Any]], *extra: str) -> list[tuple[str, str]]:
    options = []
    for item in items:
        identifier = text(item.get("id"))
        label = text(item.get("name")) or identifier
        details = [text(item.get(key)) for key in extra if text(item.get(key))]
        if details:
            label = f"{label} ({', '.join(details)})"
        if identifier:
            options.append((identifier, label))
    return sorted(options, key=lambda option: option[1].casefold())


def policy_assignment_options(*, tenant: Tenant) -> AssignmentOptions:
    """Read the directory users and groups and the endpoint groups live, and
    the endpoints from the mirror."""
    endpoints = Endpoint.objects.filter(tenant=tenant).order_by("hostname", "id")
    return AssignmentOptions(
        users=_named(tenant_items(tenant, "users_list"), "email"),
        user_groups=_named(tenant_items(tenant, "user_groups_list")),
        endpoints=[(str(e.pk), f"{e.hostname} ({e.type})") for e in endpoints],
        endpoint_groups=_named(tenant_items(tenant, "endpoint_groups_list"), "type"),
    )


# -- changing ---------------------------------------------------------------------


def _settings_body(settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: {"value": value} for key, value in settings.items()}


def _changed(
    user: User,
    tenant: Tenant,
    operation: str,
    *,
    path_params: Mapping[str, str] | None = None,
    json: Any = None,
    **audit_parameters: Any,
) -> tuple[Mapping[str, Any], str]:
    with tenant_audit(
        user, tenant, operation, **(path_params or {}), **audit_parameters
    ) as audit:
        response = tenant_call(tenant, operation, path_params=path_params, json=json)
        audit_response(audit, response)
    logger.info(
        "%s tenant %s %s by %s",
        operation,
        tenant.pk,
        path_params or "",
        getattr(user, "pk", None),
    )
    return mapping(response.data), response.correlation_id


def policy_create(
    *,
    user: User,
    tenant: Tenant,
    name: str,
    type: str,
    priority: int | None = None,
    enabled: bool = True,
) -> PolicyDetail:
    """Create a policy of one type with the type's default settings."""
    body: dict[str, Any] = {"name": name, "type": type, "enabled": enabled}
    if priority is not None:
        body["priority"] = priority
    data, correlation_id = _changed(user, tenant, "policy_create", json=body, **body)
    return _detail_from(data, {}, correlation_id)


def policy_update(
    *,
    user: User,
    tenant: Tenant,
    policy_id: str,
    name: str | None = None,
    enabled: bool | None = None,
    priority: int | None = None,
    settings: Mapping[str, Any] | None = None,
    applies_to: PolicyAssignment | None = None,
) -> PolicyDetail:
    """Change a policy; only the arguments given are sent.

    ``settings`` maps setting keys to their new values. Sophos Central lets
    a base policy change its settings only.
    """
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if enabled is not None:
        body["enabled"] = enabled
    if priority is not None:
        body["priority"] = priority
    if settings:
        body["settings"] = _settings_body(settings)
    if applies_to is not None:
        body["appliesTo"] = applies_to.as_body()
    if not body:
        raise ValueError("Nothing to change: pass at least one field.")
    data, correlation_id = _changed(
        user,
        tenant,
        "policy_update",
        path_params={"policyId": policy_id},
        json=body,
        **body,
    )
    return _detail_from(data, {}, correlation_id)


def policy_delete(*, user: User, tenant: Tenant, policy_id: str) -> None:
    """Delete a policy; its endpoints fall back to other policies."""
    _changed(user, tenant, "policy_delete", path_params={"policyId": policy_id})


def policy_clone(
    *, user: User, tenant: Tenant, policy_id: str, name: str
) -> PolicyDetail:
    """Copy a policy under a new name and return the copy."""
    data, correlation_id = _changed(
        user,
        tenant,
        "policy_clone",
        path_params={"policyId": policy_id},
        json={"name": name},
        name=name,
    )
    return _detail_from(data, {}, correlation_id)


def policy_setting_reset(
    *, user: User, tenant: Tenant, policy_id: str, key: str
) -> None:
    """Reset one setting of a policy to its recommended value."""
    _changed(
        user,
        tenant,
        "policy_setting_reset",
        path_params={"policyId": policy_id, "settingKey": key},
    )


def policy_settings_reset(*, user: User, tenant: Tenant, policy_id: str) -> None:
    """Reset every setting of a policy to its recommended value."""
    _changed(user, tenant, "policy_settings_reset", path_params={"policyId": policy_id})
