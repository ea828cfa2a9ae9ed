"""Seeded configuration of each tenant and partner beyond endpoints and alerts.

Endpoint groups (matching the groups the endpoints name), directory users
(the endpoints' associated people) and user groups, roles and admins,
allowed and blocked items, exclusions, local sites and, for some tenants,
firewalls. Each function draws from the random generator it is given, so
the content depends only on the seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sophos.simulator import clock
from sophos.simulator import vocabulary as words
from sophos.simulator.api.directory import (
    GROUP_USERS_KIND,
    USER_GROUP_KIND,
    USER_GROUPS_KIND,
    USER_KIND,
)
from sophos.simulator.api.firewalls import FIREWALL_KIND
from sophos.simulator.api.groups import GROUP_KIND
from sophos.simulator.models import SimTenant

ALLOWED_KIND = "endpoint/v1/settings/allowed-items"
BLOCKED_KIND = "endpoint/v1/settings/blocked-items"
SCANNING_KIND = "endpoint/v1/settings/exclusions/scanning"
LOCAL_SITES_KIND = "endpoint/v1/settings/web-control/local-sites"
TENANT_ROLE_KIND = "common/v1/roles"
TENANT_ADMIN_KIND = "common/v1/admins"
FIREWALL_GROUP_KIND = "firewall/v1/firewall-groups"
PARTNER_ROLE_KIND = "partner/v1/roles"
PARTNER_ADMIN_KIND = "partner/v1/admins"

PREDEFINED_ROLES = ("Super Admin", "Admin", "Help Desk", "Read-only")


class ObjectWriter(Protocol):
    def add(
        self,
        kind: str,
        scope_id: str,
        object_id: str,
        seq: int,
        data: dict[str, Any],
        parent_id: str = "",
    ) -> None: ...


@dataclass
class TenantFleet:
    """The endpoint seeding's output for one tenant."""

    computers: int = 0
    servers: int = 0
    # Endpoint group name to id, as the endpoints' ``group`` fields use them.
    groups: dict[str, str] = field(default_factory=dict)
    # The endpoints' associated people: id, name and login.
    people: list[dict[str, str]] = field(default_factory=list)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(rng: random.Random, now: datetime, max_days: int) -> str:
    return clock.isoformat(now - timedelta(minutes=rng.randint(60, max_days * 1440)))


def _domain(tenant: SimTenant) -> str:
    email = str(tenant.data.get("contact", {}).get("email", "user@example.com"))
    return email.rsplit("@", 1)[-1]


def write_tenant_configuration(
    rng: random.Random, tenant: SimTenant, fleet: TenantFleet, writer: ObjectWriter
) -> None:
    """Write the configuration objects of one tenant."""
    now = clock.now()
    _write_endpoint_groups(tenant, fleet, writer, now)
    _write_directory(rng, tenant, fleet, writer, now)
    roles = _write_roles(rng, TENANT_ROLE_KIND, tenant.id, writer)
    _write_tenant_admin(rng, tenant, roles, writer, now)
    _write_exceptions(rng, tenant, writer, now)
    if rng.random() < 0.3:
        _write_firewalls(rng, tenant, writer, now)


def write_partner_configuration(
    rng: random.Random, partner_id: str, writer: ObjectWriter
) -> None:
    """Write the partner's roles and admins."""
    roles = _write_roles(rng, PARTNER_ROLE_KIND, partner_id, writer)
    for seq in range(1, 4):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        admin_id = new_uuid(rng)
        data = {
            "id": admin_id,
            "username": f"{first.lower()}.{last.lower()}@brightline.example",
            "profile": {
                "name": f"{first} {last}",
                "firstName": first,
                "lastName": last,
            },
            "active": True,
            "primary": seq == 1,
            "roleAssignments": [
                {
                    "id": new_uuid(rng),
                    "roleId": roles[0 if seq == 1 else 1],
                    "scope": {"type": "partner"},
                }
            ],
        }
        writer.add(PARTNER_ADMIN_KIND, partner_id, admin_id, seq, data)


def _write_endpoint_groups(
    tenant: SimTenant, fleet: TenantFleet, writer: ObjectWriter, now: datetime
) -> None:
    moment = clock.isoformat(now - timedelta(days=90))
    for seq, (name, group_id) in enumerate(fleet.groups.items(), start=1):
        data = {
            "id": group_id,
            "name": name,
            "description": f"{name} of {tenant.data['showAs']}",
            "type": "server" if name == "Servers" else "computer",
            "tenant": {"id": tenant.id},
            "createdAt": moment,
            "updatedAt": moment,
        }
        writer.add(GROUP_KIND, tenant.id, group_id, seq, data)


def _write_directory(
    rng: random.Random,
    tenant: SimTenant,
    fleet: TenantFleet,
    writer: ObjectWriter,
    now: datetime,
) -> None:
    domain = _domain(tenant)
    tenant_ref = {"id": tenant.id, "name": tenant.data["name"]}
    users: list[dict[str, Any]] = []
    for seq, person in enumerate(fleet.people, start=1):
        first, _, last = person["name"].partition(" ")
        user: dict[str, Any] = {
            "id": person["id"],
            "name": person["name"],
            "firstName": first,
            "lastName": last,
            "email": f"{first.lower()}.{last.lower()}.{seq}@{domain}",
            "domain": domain,
            "exchangeLogin": person["viaLogin"],
            "tenant": tenant_ref,
            "source": {"type": "custom"},
            "createdAt": _stamp(rng, now, 400),
            "updatedAt": _stamp(rng, now, 30),
        }
        users.append(user)
        writer.add(USER_KIND, tenant.id, user["id"], seq, user)

    for seq, name in enumerate(("Finance team", "Managers"), start=1):
        group_id = new_uuid(rng)
        group = {
            "id": group_id,
            "name": name,
            "description": f"{name} at {tenant.data['showAs']}",
            "domain": domain,
            "source": {"type": "custom"},
            "tenant": tenant_ref,
            "createdAt": _stamp(rng, now, 400),
            "updatedAt": _stamp(rng, now, 30),
        }
        writer.add(USER_GROUP_KIND, tenant.id, group_id, seq, group)
        members = rng.sample(users, min(len(users), 3))
        for member_seq, user in enumerate(members, start=1):
            member = {"id": user["id"], "name": user["name"]}
            writer.add(
                GROUP_USERS_KIND, tenant.id, user["id"], member_seq, member, group_id
            )
            membership = {"id": group_id, "name": name}
            writer.add(
                USER_GROUPS_KIND, tenant.id, group_id, seq, membership, user["id"]
            )


def _write_roles(
    rng: random.Random, kind: str, scope_id: str, writer: ObjectWriter
) -> list[str]:
    role_ids = []
    for seq, name in enumerate(PREDEFINED_ROLES, start=1):
        role_id = new_uuid(rng)
        data = {
            "id": role_id,
            "name": name,
            "description": f"Predefined {name} role",
            "type": "predefined",
            "principalType": "user",
            "permissionSets": [name],
        }
        writer.add(kind, scope_id, role_id, seq, data)
        role_ids.append(role_id)
    return role_ids


def _write_tenant_admin(
    rng: random.Random,
    tenant: SimTenant,
    roles: list[str],
    writer: ObjectWriter,
    now: datetime,
) -> None:
    contact = tenant.data.get("contact", {})
    first, last = contact.get("firstName", "Alex"), contact.get("lastName", "Admin")
    admin_id = new_uuid(rng)
    data = {
        "id": admin_id,
        "tenant": {"id": tenant.id},
        "profile": {
            "name": f"{first} {last}",
            "firstName": first,
            "lastName": last,
            "email": contact.get("email", ""),
        },
        "roleAssignments": [{"id": new_uuid(rng), "roleId": roles[0]}],
        "createdAt": _stamp(rng, now, 700),
        "updatedAt": _stamp(rng, now, 60),
    }
    writer.add(TENANT_ADMIN_KIND, tenant.id, admin_id, 1, data)


def _exception_items(
    rng: random.Random, now: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    creator = {"id": new_uuid(rng), "name": "Partner administrator"}
    for _ in range(rng.randint(0, 2)):
        digest = f"{rng.getrandbits(256):064x}"
        yield (
            ALLOWED_KIND,
            {
                "type": "sha256",
                "properties": {"sha256": digest},
                "comment": "Line-of-business application",
                "createdBy": creator,
            },
        )
    for _ in range(rng.randint(0, 2)):
        digest = f"{rng.getrandbits(256):064x}"
        yield (
            BLOCKED_KIND,
            {
                "type": "sha256",
                "properties": {"sha256": digest, "fileName": "invoice.exe"},
                "comment": "Blocked after a phishing campaign",
                "createdBy": creator,
            },
        )
    for value, kind in rng.sample(
        (
            ("C:\\Program Files\\Accounting\\", "path"),
            ("C:\\Backup\\*.vhdx", "path"),
            ("sqlservr.exe", "process"),
            ("intranet.local", "web"),
        ),
        rng.randint(1, 3),
    ):
        yield (
            SCANNING_KIND,
            {
                "value": value,
                "type": kind,
                "scanMode": "onDemandAndOnAccess",
                "comment": "Requested by the customer",
            },
        )
    for _ in range(rng.randint(0, 2)):
        yield (
            LOCAL_SITES_KIND,
            {
                "url": f"https://{rng.choice(('intranet', 'erp', 'crm'))}.local",
                "tags": ["internal"],
                "comment": "Internal business application",
            },
        )


def _write_exceptions(
    rng: random.Random, tenant: SimTenant, writer: ObjectWriter, now: datetime
) -> None:
    seqs: dict[str, int] = {}
    for kind, body in _exception_items(rng, now):
        seqs[kind] = seqs.get(kind, 0) + 1
        moment = _stamp(rng, now, 300)
        data = {"id": new_uuid(rng), **body, "createdAt": moment, "updatedAt": moment}
        writer.add(kind, tenant.id, data["id"], seqs[kind], data)


def _write_firewalls(
    rng: random.Random, tenant: SimTenant, writer: ObjectWriter, now: datetime
) -> None:
    group_id = new_uuid(rng)
    firewall_ids = [new_uuid(rng) for _ in range(rng.randint(1, 2))]
    prefix = "".join(c for c in tenant.data["showAs"].upper() if c.isalpha())[:5]
    for seq, firewall_id in enumerate(firewall_ids, start=1):
        data = {
            "id": firewall_id,
            "tenant": {"id": tenant.id},
            "serialNumber": f"C0{rng.getrandbits(52):013X}",
            "group": {"id": group_id, "name": "Head office"},
            "hostname": f"{prefix}-FW{seq:02d}",
            "name": f"{tenant.data['showAs']} firewall {seq}",
            "externalIpv4Addresses": [
                f"203.0.113.{rng.randint(1, 254)}",
            ],
            "firmwareVersion": rng.choice(
                ("SFOS 20.0.2 MR-2-Build378", "SFOS 21.0.0 GA-Build169")
            ),
            "model": rng.choice(("XGS 2100", "XGS 136", "XGS 3300")),
            "status": {
                "managing": "approved",
                "reporting": "approved",
                "connected": rng.random() < 0.9,
                "suspended": False,
            },
            "stateChangedAt": _stamp(rng, now, 30),
            "capabilities": [],
            "createdAt": _stamp(rng, now, 500),
            "updatedAt": _stamp(rng, now, 30),
        }
        writer.add(FIREWALL_KIND, tenant.id, firewall_id, seq, data)
    group = {
        "id": group_id,
        "name": "Head office",
        "tenant": {"id": tenant.id},
        "lockedByManagingAccount": False,
        "firewalls": {
            "total": len(firewall_ids),
            "itemsCount": len(firewall_ids),
            "items": [{"id": firewall_id} for firewall_id in firewall_ids],
        },
        "createdAt": _stamp(rng, now, 500),
        "updatedAt": _stamp(rng, now, 30),
    }
    writer.add(FIREWALL_GROUP_KIND, tenant.id, group_id, 1, group)
