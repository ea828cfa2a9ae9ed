"""Seeded configuration of each tenant and partner beyond endpoints and alerts.

Each tenant gets endpoint groups (matching the groups the endpoints name),
directory users (the endpoints' associated people) and user groups, roles
and admins. It also gets allowed and blocked items, exclusions, local sites,
detected exploits, exploit mitigation applications and peripherals. The
first tenant and some others get firewalls. Each function draws from the
random generator it is given, so the content depends only on the seed.
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
from sophos.simulator.api.admins import PARTNER, TENANT
from sophos.simulator.api.directory import (
    GROUP_USERS_KIND,
    USER_GROUP_KIND,
    USER_GROUPS_KIND,
    USER_KIND,
)
from sophos.simulator.api.exclusions import (
    ALLOWED_KIND,
    BLOCKED_KIND,
    LOCAL_SITES_KIND,
    SCANNING_KIND,
    scanning_description,
)
from sophos.simulator.api.exploit_mitigation import (
    APPLICATION_KIND,
    DETECTED_EXPLOIT_KIND,
    default_modifications,
)
from sophos.simulator.api.firewalls import FIREWALL_GROUP_KIND, FIREWALL_KIND
from sophos.simulator.api.groups import GROUP_KIND
from sophos.simulator.models import SimTenant

TENANT_ROLE_KIND = TENANT.role_kind
TENANT_ADMIN_KIND = TENANT.admin_kind
PARTNER_ROLE_KIND = PARTNER.role_kind
PARTNER_ADMIN_KIND = PARTNER.admin_kind
PERIPHERAL_KIND = "endpoint/v1/settings/peripheral-control/peripherals"

# Predefined roles and the permission set each grants.
PREDEFINED_ROLES = (
    ("Super Admin", "central_super_admin"),
    ("Admin", "central_admin"),
    ("Help Desk", "central_helpdesk"),
    ("Read-only", "central_read_only"),
)
# Applications that Sophos Central detects on endpoints: name, category, path.
DETECTED_APPLICATIONS = (
    ("Google Chrome", "browsers", "$programfiles\\Google\\Chrome\\chrome.exe"),
    ("Mozilla Firefox", "browsers", "$programfiles\\Mozilla Firefox\\firefox.exe"),
    ("Microsoft Word", "office", "$programfiles\\Microsoft Office\\WINWORD.EXE"),
    ("Adobe Acrobat Reader", "other", "$programfiles\\Adobe\\Acrobat\\Acrobat.exe"),
    ("VLC media player", "media", "$programfiles\\VideoLAN\\VLC\\vlc.exe"),
)
# Peripherals: type, category, model, model id prefix.
PERIPHERALS = (
    ("storage", "removableStorage", "SanDisk Ultra USB 3.0", "USB-0781-5581"),
    ("storage", "removableStorage", "Kingston DataTraveler 3.0", "USB-0951-1666"),
    ("wireless", "network", "Intel Wi-Fi 6 AX201", "PCI-8086-A0F0"),
    ("bluetooth", "network", "Intel Wireless Bluetooth", "USB-8087-0026"),
    ("mobile", "mobileDevice", "Apple iPhone", "USB-05AC-12A8"),
)


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
    # The endpoints as (id, hostname), in seeding order.
    hosts: list[tuple[str, str]] = field(default_factory=list)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(rng: random.Random, now: datetime, max_days: int) -> str:
    return clock.isoformat(now - timedelta(minutes=rng.randint(60, max_days * 1440)))


def _domain(tenant: SimTenant) -> str:
    email = str(tenant.data.get("contact", {}).get("email", "user@example.com"))
    return email.rsplit("@", 1)[-1]


def write_tenant_configuration(
    rng: random.Random,
    tenant: SimTenant,
    fleet: TenantFleet,
    writer: ObjectWriter,
    *,
    first: bool = False,
) -> None:
    """Write the configuration objects of one tenant.

    The ``first`` tenant of a fleet always gets firewalls, so that even a
    small fleet has each kind of object.
    """
    now = clock.now()
    _write_endpoint_groups(tenant, fleet, writer, now)
    _write_directory(rng, tenant, fleet, writer, now)
    roles = _write_roles(rng, TENANT_ROLE_KIND, tenant.id, writer)
    _write_tenant_admin(rng, tenant, roles, writer, now, len(fleet.people) + 1)
    _write_exceptions(rng, tenant, writer, now)
    if rng.random() < 0.3 or first:
        _write_firewalls(rng, tenant, writer, now, clustered=first)
    endpoint_rng = random.Random(rng.getrandbits(64))
    _write_exploit_mitigation(endpoint_rng, tenant, fleet, writer, now, first=first)
    _write_peripherals(endpoint_rng, tenant, fleet, writer, now, first=first)


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
    moment = clock.isoformat(clock.now() - timedelta(days=700))
    for seq, (name, permission_set) in enumerate(PREDEFINED_ROLES, start=1):
        role_id = new_uuid(rng)
        data = {
            "id": role_id,
            "name": name,
            "description": f"Predefined {name} role",
            "type": "predefined",
            "principalType": "user",
            "permissionSets": [permission_set],
            "createdAt": moment,
            "updatedAt": moment,
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
    user_seq: int,
) -> None:
    """Write the tenant's contact as a directory user and as its Super Admin."""
    contact = tenant.data.get("contact", {})
    first, last = contact.get("firstName", "Alex"), contact.get("lastName", "Admin")
    email = contact.get("email", "")
    user_id = new_uuid(rng)
    user = {
        "id": user_id,
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "email": email,
        "domain": _domain(tenant),
        "exchangeLogin": email.split("@", 1)[0],
        "tenant": {"id": tenant.id, "name": tenant.data["name"]},
        "source": {"type": "custom"},
        "createdAt": _stamp(rng, now, 700),
        "updatedAt": _stamp(rng, now, 60),
    }
    writer.add(USER_KIND, tenant.id, user_id, user_seq, user)
    admin_id = new_uuid(rng)
    data = {
        "id": admin_id,
        "tenant": {"id": tenant.id},
        "users": [{"id": user_id, "name": user["name"]}],
        "profile": {
            "name": user["name"],
            "firstName": first,
            "lastName": last,
            "email": email,
        },
        "roleAssignments": [{"id": new_uuid(rng), "roleId": roles[0]}],
        "createdAt": user["createdAt"],
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
                "description": scanning_description(kind, value, "onDemandAndOnAccess"),
                "comment": "Requested by the customer",
                "lockedByManagingAccount": False,
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


def _tenant_actor(rng: random.Random, tenant: SimTenant) -> dict[str, Any]:
    contact = tenant.data.get("contact", {})
    name = f"{contact.get('firstName', 'Alex')} {contact.get('lastName', 'Admin')}"
    return {
        "id": new_uuid(rng),
        "type": "user",
        "name": name,
        "accountType": "tenant",
        "accountId": tenant.id,
    }


def _write_firewalls(
    rng: random.Random,
    tenant: SimTenant,
    writer: ObjectWriter,
    now: datetime,
    *,
    clustered: bool = False,
) -> None:
    """Write a group of one or two firewalls.

    With ``clustered`` the group contains a high-availability pair, and a third
    firewall waits outside any group for its management to be approved.
    """
    group_id = new_uuid(rng)
    count = 3 if clustered else rng.randint(1, 2)
    firewall_ids = [new_uuid(rng) for _ in range(count)]
    serials = [f"C0{rng.getrandbits(52):013X}" for _ in firewall_ids]
    creator = _tenant_actor(rng, tenant)
    prefix = "".join(c for c in tenant.data["showAs"].upper() if c.isalpha())[:5]
    for seq, firewall_id in enumerate(firewall_ids, start=1):
        pending = clustered and seq == 3
        data: dict[str, Any] = {
            "id": firewall_id,
            "tenant": {"id": tenant.id},
            "serialNumber": serials[seq - 1],
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
                "managing": "approvalPending" if pending else "approved",
                "reporting": "approvalPending" if pending else "approved",
                "connected": pending or rng.random() < 0.9,
                "suspended": False,
            },
            "stateChangedAt": _stamp(rng, now, 30),
            "capabilities": [] if pending else ["sdwanGroup"],
            "geoLocation": {
                "latitude": f"{rng.uniform(-60, 60):.2f}",
                "longitude": f"{rng.uniform(-150, 150):.2f}",
            },
            "createdBy": creator,
            "createdAt": _stamp(rng, now, 500),
            "updatedBy": creator,
            "updatedAt": _stamp(rng, now, 30),
        }
        if not pending:
            data["group"] = {"id": group_id, "name": "Head office"}
        if clustered and seq < 3:
            peer = 2 - seq
            data["cluster"] = {
                "id": group_id,
                "mode": "activePassive",
                "status": "primary" if seq == 1 else "auxiliary",
                "peers": {"id": firewall_ids[peer], "serialNumber": serials[peer]},
            }
        writer.add(FIREWALL_KIND, tenant.id, firewall_id, seq, data)
    group = {
        "id": group_id,
        "name": "Head office",
        "tenant": {"id": tenant.id},
        "lockedByManagingAccount": False,
        "createdBy": creator,
        "createdAt": _stamp(rng, now, 500),
        "updatedBy": creator,
        "updatedAt": _stamp(rng, now, 30),
    }
    writer.add(FIREWALL_GROUP_KIND, tenant.id, group_id, 1, group)


def _write_exploit_mitigation(
    rng: random.Random,
    tenant: SimTenant,
    fleet: TenantFleet,
    writer: ObjectWriter,
    now: datetime,
    *,
    first: bool,
) -> None:
    """Write the applications Sophos detected and the exploits it stopped."""
    detected = rng.sample(
        DETECTED_APPLICATIONS, rng.randint(2, len(DETECTED_APPLICATIONS))
    )
    for seq, (name, category, path) in enumerate(detected, start=1):
        application_id = new_uuid(rng)
        application = {
            "id": application_id,
            "name": name,
            "paths": [path],
            "category": category,
            "type": "detected",
            "modifications": default_modifications(),
        }
        writer.add(APPLICATION_KIND, tenant.id, application_id, seq, application)

    if not fleet.hosts:
        return
    count = rng.randint(2, 3) if first else rng.randint(0, 2)
    for seq in range(1, count + 1):
        endpoint_id, hostname = rng.choice(fleet.hosts)
        exploit_id = new_uuid(rng)
        first_seen = now - timedelta(minutes=rng.randint(2 * 1440, 90 * 1440))
        last_seen = first_seen + timedelta(minutes=rng.randint(10, 1440))
        data: dict[str, Any] = {
            "id": exploit_id,
            "thumbprint": f"{rng.getrandbits(160):040x}",
            "count": rng.randint(1, 40),
            "description": rng.choice(
                (
                    "HeapSpray in WINWORD.EXE",
                    "StackPivot in AcroRd32.exe",
                    "LoadLib in chrome.exe",
                    "Lockdown in EXCEL.EXE",
                )
            ),
            "firstSeenAt": clock.isoformat(first_seen),
            "lastSeenAt": clock.isoformat(last_seen),
            "lastEndpoint": {"id": endpoint_id, "hostname": hostname},
        }
        if fleet.people:
            person = rng.choice(fleet.people)
            data["lastUser"] = {"id": person["id"], "name": person["name"]}
        writer.add(DETECTED_EXPLOIT_KIND, tenant.id, exploit_id, seq, data)


def _write_peripherals(
    rng: random.Random,
    tenant: SimTenant,
    fleet: TenantFleet,
    writer: ObjectWriter,
    now: datetime,
    *,
    first: bool,
) -> None:
    """Write the peripherals that peripheral control saw on the endpoints."""
    if not fleet.hosts:
        return
    count = len(PERIPHERALS) if first else rng.randint(0, 3)
    for seq, (kind, category, model, model_id) in enumerate(
        PERIPHERALS[:count], start=1
    ):
        _endpoint_id, hostname = rng.choice(fleet.hosts)
        login = rng.choice(fleet.people)["viaLogin"] if fleet.people else "SYSTEM"
        first_seen = now - timedelta(minutes=rng.randint(2 * 1440, 200 * 1440))
        last_seen = first_seen + timedelta(minutes=rng.randint(60, 1440 * 30))
        peripheral_id = new_uuid(rng)
        data = {
            "id": peripheral_id,
            "type": kind,
            "category": category,
            "model": model,
            "modelId": f"{model_id}-{rng.getrandbits(24):06X}",
            "instanceId": f"INS:{model_id}-{rng.getrandbits(32):08X}",
            "lastEndpointHostname": hostname,
            "lastUsedBy": login,
            "lastActionTaken": rng.choice(("allowed", "blocked", "readOnly")),
            "firstSeenAt": clock.isoformat(first_seen),
            "lastSeenAt": clock.isoformat(min(last_seen, now)),
        }
        writer.add(PERIPHERAL_KIND, tenant.id, peripheral_id, seq, data)
