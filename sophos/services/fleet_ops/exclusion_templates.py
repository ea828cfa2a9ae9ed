"""Exclusion templates: a tenant's exclusions saved to be created elsewhere.

A template is a list of entries, one per exclusion, each a JSON object with
a ``family`` and the fields that family's create sends:

- ``scanning``: ``type``, ``value``, ``scan_mode``, ``comment``
- ``allowed``: ``type`` (sha256, path or certificateSigner), ``value``,
  ``comment``
- ``blocked``: ``value`` (a SHA-256), ``comment``
- ``isolation`` and ``intrusion_prevention``: ``direction``,
  ``local_ports``, ``remote_ports``, ``remote_addresses``, ``comment``

``exclusion_find`` looks an entry up in a tenant by what it matches, so a
resumed onboarding finds an exclusion it created before instead of creating
it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from sophos.models import AuditEntry, Tenant
from sophos.models_fleet import ExclusionTemplate
from sophos.services import exclusions
from sophos.services.audit import audit_record
from sophos.services.exclusions import (
    ApplicationItem,
    ItemProperties,
    NetworkExclusion,
    NetworkRule,
)
from sophos.services.jobs import User

logger = logging.getLogger(__name__)

FAMILIES = {
    "scanning": "Scanning exclusion",
    "allowed": "Allowed item",
    "blocked": "Blocked item",
    "isolation": "Isolation exclusion",
    "intrusion_prevention": "Intrusion prevention exclusion",
}
NETWORK_FAMILIES = ("isolation", "intrusion_prevention")

Entry = Mapping[str, Any]


def _item_value(item: ApplicationItem) -> str:
    if item.type == "sha256":
        return item.properties.sha256.lower()
    return item.match


def _network_entry(family: str, row: NetworkExclusion) -> dict[str, Any]:
    return {
        "family": family,
        "direction": row.direction,
        "local_ports": sorted(row.local_ports),
        "remote_ports": sorted(row.remote_ports),
        "remote_addresses": sorted(row.remote_addresses),
        "comment": row.comment,
    }


def exclusions_read(*, tenant: Tenant) -> list[dict[str, Any]]:
    """Read every exclusion family of a tenant live, as template entries."""
    entries: list[dict[str, Any]] = []
    for scanning in exclusions.scanning_exclusions_list(tenant=tenant).items:
        entries.append(
            {
                "family": "scanning",
                "type": scanning.type,
                "value": scanning.value,
                "scan_mode": scanning.scan_mode,
                "comment": scanning.comment,
            }
        )
    for item in exclusions.allowed_items_list(tenant=tenant).items:
        entries.append(
            {
                "family": "allowed",
                "type": item.type,
                "value": _item_value(item),
                "comment": item.comment,
            }
        )
    for item in exclusions.blocked_items_list(tenant=tenant).items:
        entries.append(
            {
                "family": "blocked",
                "value": item.properties.sha256.lower(),
                "comment": item.comment,
            }
        )
    for row in exclusions.isolation_exclusions_list(tenant=tenant).items:
        entries.append(_network_entry("isolation", row))
    for row in exclusions.intrusion_prevention_exclusions_list(tenant=tenant).items:
        entries.append(_network_entry("intrusion_prevention", row))
    return entries


def exclusion_template_create(
    *, user: User, name: str, tenant: Tenant
) -> ExclusionTemplate:
    """Save a tenant's current exclusions, read live, as a template.

    Raises ``ValueError`` for a missing or used name.
    """
    name = name.strip()
    if not name:
        raise ValueError("The template name is missing.")
    if ExclusionTemplate.objects.filter(name=name).exists():
        raise ValueError(f"A template named {name!r} exists already.")
    entries = exclusions_read(tenant=tenant)
    with transaction.atomic():
        template = ExclusionTemplate.objects.create(
            name=name,
            exclusions=entries,
            source_tenant=tenant,
            created_by_id=user.pk
            if user is not None and user.is_authenticated
            else None,
        )
        audit_record(
            user=user,
            operation="fleet.exclusion_template_create",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters={"name": name, "exclusions": len(entries)},
            message=f"Saved exclusion template {name}",
        )
    return template


def exclusion_template_delete(*, user: User, template: ExclusionTemplate) -> None:
    with transaction.atomic():
        audit_record(
            user=user,
            operation="fleet.exclusion_template_delete",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters={"name": template.name},
            message=f"Deleted exclusion template {template.name}",
        )
        template.delete()


def exclusion_label(entry: Entry) -> str:
    """Describe an entry in a job item, such as "Allowed item C:\\Tools\\a.exe"."""
    family = FAMILIES.get(str(entry.get("family")), str(entry.get("family")))
    if entry.get("family") in NETWORK_FAMILIES:
        rule = _rule(entry)
        return f"{family} {rule.direction or 'any'} {_network_summary(rule)}".strip()
    return f"{family} {entry.get('value', '')}"


def exclusion_key(entry: Entry) -> str:
    """Return a key that names the entry among a template's entries."""
    family = str(entry.get("family"))
    if family in NETWORK_FAMILIES:
        rule = _rule(entry)
        return f"{family}:{rule.direction}:{_network_summary(rule)}"
    return f"{family}:{entry.get('type', '')}:{entry.get('value', '')}"


def _network_summary(rule: NetworkRule) -> str:
    parts = [
        ",".join(rule.remote_addresses),
        ",".join(map(str, rule.local_ports)),
        ",".join(map(str, rule.remote_ports)),
    ]
    return "/".join(parts)


def _rule(entry: Entry) -> NetworkRule:
    return NetworkRule(
        direction=str(entry.get("direction") or ""),
        local_ports=tuple(sorted(int(p) for p in entry.get("local_ports") or [])),
        remote_ports=tuple(sorted(int(p) for p in entry.get("remote_ports") or [])),
        remote_addresses=tuple(
            sorted(str(a) for a in entry.get("remote_addresses") or [])
        ),
        comment=str(entry.get("comment") or ""),
    )


def _same_rule(row: NetworkExclusion, rule: NetworkRule) -> bool:
    return (
        row.direction == rule.direction
        and sorted(row.local_ports) == list(rule.local_ports)
        and sorted(row.remote_ports) == list(rule.remote_ports)
        and sorted(row.remote_addresses) == list(rule.remote_addresses)
    )


def exclusion_find(*, tenant: Tenant, entry: Entry) -> str | None:
    """Return the id of the tenant's exclusion that matches ``entry``, or None."""
    family = entry.get("family")
    value = str(entry.get("value", ""))
    if family == "scanning":
        rows = exclusions.scanning_exclusions_list(tenant=tenant).items
        return next(
            (r.id for r in rows if r.type == entry.get("type") and r.value == value),
            None,
        )
    if family in ("allowed", "blocked"):
        if family == "allowed":
            items = exclusions.allowed_items_list(tenant=tenant).items
            item_type = str(entry.get("type"))
        else:
            items = exclusions.blocked_items_list(tenant=tenant).items
            item_type = "sha256"
        wanted = value.lower() if item_type == "sha256" else value
        return next(
            (
                item.id
                for item in items
                if item.type == item_type and _item_value(item) == wanted
            ),
            None,
        )
    if family in NETWORK_FAMILIES:
        rule = _rule(entry)
        listing = (
            exclusions.isolation_exclusions_list(tenant=tenant)
            if family == "isolation"
            else exclusions.intrusion_prevention_exclusions_list(tenant=tenant)
        )
        return next((row.id for row in listing.items if _same_rule(row, rule)), None)
    raise ValueError(f"Unknown exclusion family {family!r}.")


def _properties(item_type: str, value: str) -> ItemProperties:
    if item_type == "sha256":
        return ItemProperties(sha256=value)
    if item_type == "path":
        return ItemProperties(path=value)
    return ItemProperties(certificate_signer=value)


def exclusion_create(*, user: User, tenant: Tenant, entry: Entry) -> str:
    """Create the entry's exclusion in the tenant and return its id."""
    family = entry.get("family")
    value = str(entry.get("value", ""))
    comment = str(entry.get("comment") or "")
    if family == "scanning":
        return exclusions.scanning_exclusion_create(
            user=user,
            tenant=tenant,
            type=str(entry.get("type")),
            value=value,
            scan_mode=str(entry.get("scan_mode") or ""),
            comment=comment,
        ).id
    if family == "allowed":
        item_type = str(entry.get("type"))
        return exclusions.allowed_item_create(
            user=user,
            tenant=tenant,
            type=item_type,
            properties=_properties(item_type, value),
            comment=comment,
        ).id
    if family == "blocked":
        return exclusions.blocked_item_create(
            user=user,
            tenant=tenant,
            properties=ItemProperties(sha256=value),
            comment=comment,
        ).id
    if family == "isolation":
        return exclusions.isolation_exclusion_create(
            user=user, tenant=tenant, rule=_rule(entry)
        ).id
    if family == "intrusion_prevention":
        return exclusions.intrusion_prevention_exclusion_create(
            user=user, tenant=tenant, rule=_rule(entry)
        ).id
    raise ValueError(f"Unknown exclusion family {family!r}.")
