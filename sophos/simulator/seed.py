"""A deterministic demo fleet and the credentials that reach it.

``seed_fleet`` wipes the simulator's state and writes one partner with many
tenants in several regions, their endpoints and open alerts, and thirteen
months of billing usage. It also writes a second partner with one tenant, so
tests can check that one partner's credential cannot reach the other's
tenants. Ids, names, secrets and shapes depend only on the seed. Timestamps
are relative to the simulator clock.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction

from sophos.simulator import clock
from sophos.simulator import vocabulary as words
from sophos.simulator.api.alerts import ALERT_KIND
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.partner import BILLING_KIND, billing_month_key
from sophos.simulator.models import (
    SimCallCounter,
    SimCredential,
    SimObject,
    SimPartner,
    SimTenant,
    SimToken,
)
from sophos.simulator.seed_configuration import (
    TenantFleet,
    new_uuid,
    write_partner_configuration,
    write_tenant_configuration,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
BILLING_MONTHS = 13


@dataclass(frozen=True)
class DemoCredential:
    """A client id and secret, and the partner that owns what they reach."""

    client_id: str
    client_secret: str
    partner_id: str


def seed_fleet(
    *,
    seed: int,
    tenants: int,
    max_endpoints: int,
    endpoints_per_tenant: int | None = None,
) -> DemoCredential:
    """Wipe the simulator's state and write a new fleet; return its credential.

    Each tenant gets between a few and ``max_endpoints`` endpoints, or exactly
    ``endpoints_per_tenant`` when that is given.
    """
    if tenants < 0 or max_endpoints < 0:
        raise ValueError("tenants and max_endpoints must be 0 or more")
    started = time.monotonic()
    with transaction.atomic():
        wipe()
        demo = _seed_partner(seed, tenants, max_endpoints, endpoints_per_tenant)
        _seed_other_partner(seed)
    elapsed = time.monotonic() - started
    logger.info(
        "Simulator seeded: seed %s, %s tenants, %s objects in %.1f s",
        seed,
        tenants,
        SimObject.objects.count(),
        elapsed,
    )
    return demo


def wipe() -> None:
    """Delete every partner, tenant, credential, token and object."""
    for model in (SimObject, SimToken, SimCallCounter, SimCredential, SimTenant):
        model.objects.all().delete()
    SimPartner.objects.all().delete()


def fleet_is_seeded() -> bool:
    return SimCredential.objects.filter(role=SimCredential.Role.DEMO).exists()


def ensure_seeded() -> DemoCredential:
    """Seed the fleet from the SIMULATOR_* settings unless it is already there."""
    if not fleet_is_seeded():
        return seed_fleet(
            seed=settings.SIMULATOR_SEED,
            tenants=settings.SIMULATOR_TENANTS,
            max_endpoints=settings.SIMULATOR_MAX_ENDPOINTS,
        )
    return demo_credential()


def _credential_of(role: str) -> DemoCredential:
    found = SimCredential.objects.filter(role=role).first()
    if found is None:
        raise LookupError(
            "The simulator has no seeded fleet: run manage.py simulator_seed."
        )
    return _as_demo(found)


def _as_demo(credential: SimCredential) -> DemoCredential:
    partner_id = credential.principal_id
    if credential.id_type == SimCredential.IdType.TENANT:
        partner_id = SimTenant.objects.get(id=credential.principal_id).partner_id
    return DemoCredential(credential.client_id, credential.client_secret, partner_id)


def demo_credential() -> DemoCredential:
    """Return the seeded partner credential, as stored."""
    return _credential_of(SimCredential.Role.DEMO)


def other_partner_credential() -> DemoCredential:
    """Return the credential of the second partner, which owns one tenant."""
    return _credential_of(SimCredential.Role.OTHER_PARTNER)


def register_credential(
    *,
    id_type: str,
    principal_id: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> DemoCredential:
    """Store an extra credential for a partner, organization or tenant."""
    if id_type not in SimCredential.IdType.values:
        raise ValueError(f"id_type {id_type!r} is invalid: use partner or tenant")
    credential = SimCredential.objects.create(
        client_id=client_id or str(uuid.uuid4()),
        client_secret=client_secret or secrets.token_hex(48),
        id_type=id_type,
        principal_id=principal_id,
        role=SimCredential.Role.EXTRA,
        created_at=clock.now(),
    )
    return _as_demo(credential)


def tenant_credential(tenant_id: str) -> DemoCredential:
    """Store and return a new credential scoped to one tenant."""
    if not SimTenant.objects.filter(id=tenant_id).exists():
        raise LookupError(f"Tenant {tenant_id} is not in the simulator.")
    return register_credential(id_type="tenant", principal_id=tenant_id)


# -- partners and credentials -------------------------------------------------


def _seed_partner(
    seed: int, tenants: int, max_endpoints: int, per_tenant: int | None
) -> DemoCredential:
    rng = random.Random(f"{seed}:partner")
    partner = SimPartner.objects.create(
        id=new_uuid(rng), name="Brightline Managed Services"
    )
    demo = _store_credential(rng, partner.id, SimCredential.Role.DEMO)

    writer = _BatchWriter()
    summaries = []
    for index in range(tenants):
        tenant_rng = random.Random(f"{seed}:tenant:{index}")
        region = _pick_region(tenant_rng, index)
        tenant = _make_tenant(tenant_rng, partner, index, region)
        count = _endpoint_count(tenant_rng, max_endpoints, per_tenant)
        fleet = _write_tenant_objects(tenant_rng, tenant, count, index, writer)
        configuration_rng = random.Random(f"{seed}:tenant:{index}:configuration")
        write_tenant_configuration(
            configuration_rng, tenant, fleet, writer, first=index == 0
        )
        summaries.append((tenant, fleet))
    _write_billing(random.Random(f"{seed}:billing"), partner, summaries, writer)
    write_partner_configuration(
        random.Random(f"{seed}:partner:configuration"), partner.id, writer
    )
    writer.flush()
    return demo


def _seed_other_partner(seed: int) -> None:
    rng = random.Random(f"{seed}:other-partner")
    partner = SimPartner.objects.create(id=new_uuid(rng), name="Northgate IT")
    _store_credential(rng, partner.id, SimCredential.Role.OTHER_PARTNER)
    tenant = _make_tenant(rng, partner, 0, "eu01")
    writer = _BatchWriter()
    fleet = _write_tenant_objects(rng, tenant, 3, 0, writer)
    write_tenant_configuration(rng, tenant, fleet, writer)
    writer.flush()


def _store_credential(rng: random.Random, partner_id: str, role: str) -> DemoCredential:
    credential = SimCredential.objects.create(
        client_id=new_uuid(rng),
        client_secret=f"{rng.getrandbits(384):096x}",
        id_type=SimCredential.IdType.PARTNER,
        principal_id=partner_id,
        role=role,
        created_at=clock.now(),
    )
    return DemoCredential(credential.client_id, credential.client_secret, partner_id)


# -- tenants --------------------------------------------------------------------


def _pick_region(rng: random.Random, index: int) -> str:
    if index < len(words.PINNED_REGIONS):
        return words.PINNED_REGIONS[index]
    regions = list(words.REGION_WEIGHTS)
    weights = list(words.REGION_WEIGHTS.values())
    return rng.choices(regions, weights)[0]


def _make_tenant(
    rng: random.Random, partner: SimPartner, index: int, region: str
) -> SimTenant:
    geography = words.GEOGRAPHY[region]
    first = rng.choice(words.COMPANY_WORDS)
    industry = rng.choice(words.INDUSTRIES)
    # The tenant's position keeps names unique in fleets larger than the
    # number of word pairs.
    show_as = f"{first} {industry}"
    if index >= len(words.COMPANY_WORDS):
        show_as = f"{show_as} {index // len(words.COMPANY_WORDS) + 1}"
    name = f"{show_as} {rng.choice(words.SUFFIXES[geography])}"
    tenant_id = new_uuid(rng)
    data = {
        "id": tenant_id,
        "showAs": show_as,
        "name": name,
        "dataGeography": geography,
        "dataRegion": region,
        "billingType": rng.choices(("usage", "term", "trial"), (7, 2, 1))[0],
        "partner": {"id": partner.id},
        "status": "active",
        "contact": _make_contact(rng, show_as, geography),
    }
    return SimTenant.objects.create(
        id=tenant_id, partner=partner, seq=index + 1, data_region=region, data=data
    )


def _make_contact(rng: random.Random, company: str, geography: str) -> dict[str, Any]:
    first = rng.choice(words.FIRST_NAMES)
    last = rng.choice(words.LAST_NAMES)
    domain = "".join(c for c in company.lower() if c.isalnum())[:24] + ".example"
    return {
        "firstName": first,
        "lastName": last,
        "email": f"{first.lower()}.{last.lower()}@{domain}",
        "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "address": {
            "address1": f"{rng.randint(1, 250)} {rng.choice(words.COMPANY_WORDS)} Road",
            "city": rng.choice(words.CITIES[geography]),
            "countryCode": geography,
            "postalCode": f"{rng.randint(10000, 99999)}",
        },
    }


def _endpoint_count(
    rng: random.Random, max_endpoints: int, per_tenant: int | None
) -> int:
    if per_tenant is not None:
        return per_tenant
    low = min(3, max_endpoints)
    # Most customers are small: squaring skews the draw toward ``low``.
    return low + int((max_endpoints - low) * rng.random() ** 2)


# -- endpoints and alerts ---------------------------------------------------------


def _write_tenant_objects(
    rng: random.Random,
    tenant: SimTenant,
    count: int,
    index: int,
    writer: _BatchWriter,
) -> TenantFleet:
    now = clock.now()
    prefix = "".join(c for c in tenant.data["showAs"].upper() if c.isalpha())[:5]
    groups = {name: new_uuid(rng) for name in (*words.ENDPOINT_GROUPS, "Servers")}
    summary = TenantFleet(groups=groups)
    alerts: list[dict[str, Any]] = []
    in_cloud = False
    for number in range(1, count + 1):
        endpoint = _make_endpoint(rng, tenant, prefix, number, groups, now)
        if index == 0 and "associatedPerson" in endpoint and not in_cloud:
            # The first tenant runs a virtual desktop in a public cloud, so
            # that even a small fleet has an endpoint with every field.
            endpoint.setdefault(
                "cloud",
                {
                    "provider": "azure",
                    "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, endpoint["id"])),
                },
            )
        in_cloud = in_cloud or "cloud" in endpoint
        if endpoint["type"] == "server":
            summary.servers += 1
        else:
            summary.computers += 1
        if "associatedPerson" in endpoint:
            summary.people.append(endpoint["associatedPerson"])
        summary.hosts.append((endpoint["id"], endpoint["hostname"]))
        writer.add(ENDPOINT_KIND, tenant.id, endpoint["id"], number, endpoint)
        alerts.extend(_alerts_for(rng, tenant, endpoint, now, every_kind=False))
    if index == 0 and count:
        # The first tenant shows every kind of alert, so even a tiny fleet
        # has each severity and each set of allowed actions.
        first = writer.first_endpoint(tenant.id)
        alerts.extend(_alerts_for(rng, tenant, first, now, every_kind=True))
    alerts.sort(key=lambda alert: alert["raisedAt"])
    for seq, alert in enumerate(alerts, start=1):
        writer.add(ALERT_KIND, tenant.id, alert["id"], seq, alert)
    return summary


def _make_endpoint(
    rng: random.Random,
    tenant: SimTenant,
    prefix: str,
    number: int,
    groups: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    server = rng.random() < 0.15
    os_info, platform = _pick_os(rng, server)
    health = rng.choices(("good", "suspicious", "bad", "unknown"), (76, 9, 8, 7))[0]
    hostname, group = _hostname_and_group(rng, prefix, number, server)

    endpoint: dict[str, Any] = {
        "id": new_uuid(rng),
        "type": "server" if server else "computer",
        "tenant": {"id": tenant.id},
        "hostname": hostname,
        "health": _make_health(rng, health, platform),
        "os": os_info,
        "ipv4Addresses": [
            f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{number % 250 + 2}"
        ],
        "ipv6Addresses": [f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"],
        "macAddresses": [":".join(f"{rng.getrandbits(8):02X}" for _ in range(6))],
        "group": {"id": groups[group], "name": group},
    }
    if not server:
        endpoint["associatedPerson"] = _associated_person(rng, prefix)

    tp_supported = platform != "linux"
    last_seen = _last_seen(rng, now)
    isolated = health == "bad" and rng.random() < 0.3
    endpoint.update(
        {
            "tamperProtectionSupported": tp_supported,
            "tamperProtectionEnabled": tp_supported and rng.random() > 0.1,
            "assignedProducts": _assigned_products(rng, server),
            "lastSeenAt": clock.isoformat(last_seen),
            "lastOsUpdateAt": clock.isoformat(now - timedelta(days=rng.randint(1, 60))),
            "lastAgentUpdateAt": clock.isoformat(
                now - timedelta(days=rng.randint(0, 20))
            ),
            "serialNumber": f"{rng.getrandbits(48):012X}",
            "encryption": _encryption(rng, server, platform),
            "lockdown": {"status": "notInstalled"},
            "online": now - last_seen < timedelta(minutes=15),
            "isolation": {
                "status": "isolated" if isolated else "notIsolated",
                "adminIsolated": isolated,
                "selfIsolated": False,
            },
            "cloned": False,
        }
    )

    if server and platform == "linux":
        endpoint["cloud"] = {
            "provider": "aws",
            "instanceId": f"i-{rng.getrandbits(64):017x}",
        }
    return endpoint


def _hostname_and_group(
    rng: random.Random, prefix: str, number: int, server: bool
) -> tuple[str, str]:
    if server:
        return f"{prefix}-SRV{number:03d}", "Servers"
    kind = "LT" if rng.random() < 0.5 else "WS"
    return f"{prefix}-{kind}{number:03d}", rng.choice(words.ENDPOINT_GROUPS)


def _associated_person(rng: random.Random, prefix: str) -> dict[str, str]:
    first = rng.choice(words.FIRST_NAMES)
    last = rng.choice(words.LAST_NAMES)
    return {
        "id": new_uuid(rng),
        "name": f"{first} {last}",
        "viaLogin": f"{prefix}\\{first[0].lower()}{last.lower()}",
    }


def _pick_os(rng: random.Random, server: bool) -> tuple[dict[str, Any], str]:
    choices: tuple[tuple[str, int, int, int], ...]
    if server:
        platform = "linux" if rng.random() < 0.2 else "windows"
        choices = words.LINUX_SERVERS if platform == "linux" else words.WINDOWS_SERVERS
    else:
        platform = "macOS" if rng.random() < 0.12 else "windows"
        choices = words.MAC_CLIENTS if platform == "macOS" else words.WINDOWS_CLIENTS
    name, major, minor, build = rng.choice(choices)
    return (
        {
            "isServer": server,
            "platform": platform,
            "name": name,
            "majorVersion": major,
            "minorVersion": minor,
            "build": build,
        },
        platform,
    )


def _make_health(rng: random.Random, overall: str, platform: str) -> dict[str, Any]:
    names = words.SERVICES_WINDOWS if platform == "windows" else words.SERVICES_OTHER
    threats = services = "good"
    if overall == "unknown":
        threats = services = "unknown"
    elif overall != "good":
        # One of the two parts explains the overall status.
        if rng.random() < 0.5:
            threats = overall
        else:
            services = overall
    stopped = rng.choice(names) if services in {"bad", "suspicious"} else None
    details = [
        {"name": name, "status": "stopped" if name == stopped else "running"}
        for name in names
    ]
    return {
        "overall": overall,
        "threats": {"status": threats},
        "services": {"status": services, "serviceDetails": details},
    }


def _last_seen(rng: random.Random, now: datetime) -> datetime:
    draw = rng.random()
    if draw < 0.6:
        return now - timedelta(seconds=rng.randint(10, 600))
    if draw < 0.94:
        return now - timedelta(hours=rng.uniform(1, 24 * 7))
    # A few endpoints have not been seen for weeks: stale machines.
    return now - timedelta(days=rng.uniform(31, 120))


def _assigned_products(rng: random.Random, server: bool) -> list[dict[str, str]]:
    version = f"2024.{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(1, 99)}"
    codes = ["coreAgent", "interceptX", "endpointProtection"]
    if server or rng.random() < 0.3:
        codes.append("xdr")
    return [{"code": code, "version": version, "status": "installed"} for code in codes]


def _encryption(rng: random.Random, server: bool, platform: str) -> dict[str, Any]:
    status = "notEncrypted"
    if not server and platform == "windows":
        status = "encrypted" if rng.random() < 0.8 else "notEncrypted"
    return {
        "volumes": [{"volumeId": new_uuid(rng), "status": status}],
        "overallStatus": status,
    }


# Alert kinds: type, category, severity, allowed actions, description.
_THREAT = (
    "Event::Endpoint::Threat::Detected",
    "malware",
    "high",
    ["clearThreat", "acknowledge"],
    "Malware detected: '{threat}' at '{path}'",
)
_CLEANUP = (
    "Event::Endpoint::Threat::CleanupFailed",
    "malware",
    "high",
    ["clearThreat", "acknowledge"],
    "Manual cleanup required: '{threat}' at '{path}'",
)
_PUA = (
    "Event::Endpoint::PUADetected",
    "pua",
    "medium",
    ["acknowledge", "cleanPua"],
    "PUA detected: '{pua}' at '{path}'",
)
_OUT_OF_DATE = (
    "Event::Endpoint::OutOfDate",
    "updating",
    "medium",
    ["acknowledge"],
    "{host} is out of date.",
)
_SERVICES = (
    "Event::Endpoint::ServiceNotRunning",
    "protection",
    "medium",
    ["acknowledge"],
    "One or more Sophos services are not running on {host}.",
)
_REBOOT = (
    "Event::Endpoint::UpdateRebootRequired",
    "updating",
    "low",
    ["acknowledge"],
    "Reboot required on {host} to finish an update.",
)
_APP_BLOCKED = (
    "Event::Endpoint::Application::Blocked",
    "applicationControl",
    "low",
    ["acknowledge"],
    "Controlled application blocked on {host}: {app}",
)
ALERT_TEMPLATES = (
    _THREAT,
    _CLEANUP,
    _PUA,
    _OUT_OF_DATE,
    _SERVICES,
    _REBOOT,
    _APP_BLOCKED,
)


def _alerts_for(
    rng: random.Random,
    tenant: SimTenant,
    endpoint: dict[str, Any],
    now: datetime,
    *,
    every_kind: bool,
) -> Iterator[dict[str, Any]]:
    if every_kind:
        chosen: list[tuple[Any, ...]] = list(ALERT_TEMPLATES)
    else:
        chosen = []
        health = endpoint["health"]
        if health["threats"]["status"] == "bad":
            chosen.append(rng.choice((_THREAT, _CLEANUP)))
        elif health["threats"]["status"] == "suspicious":
            chosen.append(_PUA)
        if health["services"]["status"] in {"bad", "suspicious"}:
            chosen.append(_SERVICES)
        if rng.random() < 0.04:
            chosen.append(rng.choice((_OUT_OF_DATE, _REBOOT, _APP_BLOCKED)))
    for kind, category, severity, actions, text in chosen:
        yield _make_alert(
            rng, tenant, endpoint, now, kind, category, severity, actions, text
        )


def _make_alert(
    rng: random.Random,
    tenant: SimTenant,
    endpoint: dict[str, Any],
    now: datetime,
    kind: str,
    category: str,
    severity: str,
    actions: list[str],
    text: str,
) -> dict[str, Any]:
    description = text.format(
        host=endpoint["hostname"],
        threat=rng.choice(words.THREAT_NAMES),
        pua=rng.choice(words.PUA_NAMES),
        path=rng.choice(words.FILE_PATHS),
        app=rng.choice(words.BLOCKED_APPS),
    )
    group = f"1,{kind},{rng.randint(100, 999)},".encode()
    alert: dict[str, Any] = {
        "id": new_uuid(rng),
        "allowedActions": list(actions),
        "category": category,
        "description": description,
        "groupKey": base64.b64encode(group).decode("ascii"),
        "managedAgent": {"id": endpoint["id"], "type": endpoint["type"]},
    }
    if "associatedPerson" in endpoint:
        alert["person"] = {"id": endpoint["associatedPerson"]["id"]}
    alert.update(
        {
            "product": "server" if endpoint["type"] == "server" else "endpoint",
            "raisedAt": clock.isoformat(
                now - timedelta(minutes=rng.randint(5, 20_000))
            ),
            "severity": severity,
            "tenant": {"id": tenant.id, "name": tenant.data["name"]},
            "type": kind,
        }
    )
    return alert


# -- billing --------------------------------------------------------------------

_PRODUCTS = (
    # code, sku, description, group, which count it bills
    (
        "CIXA-MSP",
        "CIXAMSP",
        "Central Intercept X Advanced - MSP Monthly",
        "User",
        "computers",
    ),
    (
        "SVRCIXA-MSP",
        "SVRCIXAMSP",
        "Central Intercept X Advanced for Server - MSP Monthly",
        "Server",
        "servers",
    ),
    (
        "MDRE-MSP",
        "MDREMSP",
        "Managed Detection and Response Essentials - MSP Monthly",
        "User",
        "computers",
    ),
)


def _billing_months(today: date) -> list[tuple[int, int]]:
    """Return the thirteen months before the current one, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(BILLING_MONTHS):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append((year, month))
    return list(reversed(months))


def _write_billing(
    rng: random.Random,
    partner: SimPartner,
    summaries: list[tuple[SimTenant, TenantFleet]],
    writer: _BatchWriter,
) -> None:
    edi_number = f"{rng.randint(1_000_000, 9_999_999)}"
    products_of = {
        tenant.id: [
            product
            for product in _PRODUCTS
            if getattr(counts, product[4])
            and (product[0] != "MDRE-MSP" or rng.random() < 0.2)
        ]
        for tenant, counts in summaries
    }
    account_numbers = {
        tenant.id: f"C{rng.getrandbits(56):014X}" for tenant, _ in summaries
    }
    months = _billing_months(clock.now().date())
    for age, (year, month) in enumerate(reversed(months)):
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        month_key = billing_month_key(year, month)
        seq = 0
        for tenant, counts in summaries:
            for code, sku, description, group, counted in products_of[tenant.id]:
                seq += 1
                # Fleets grow: older months bill slightly fewer seats.
                actual = max(1, round(getattr(counts, counted) * (1 - 0.015 * age)))
                row = {
                    "partnerAccountId": partner.id,
                    "partnerEdiAccountNumber": edi_number,
                    "partnerAccountName": partner.name,
                    "billingStartDate": start.isoformat(),
                    "billingEndDate": end.isoformat(),
                    "orderNumber": f"ORD-{year}{month:02d}-{seq:05d}",
                    "orderLineItemNumber": f"{seq:06d}",
                    "accountNumberOrSerialNumber": account_numbers[tenant.id],
                    "productDescription": description,
                    "productGroup": group,
                    "sku": sku,
                    "billableQuantity": actual,
                    "actualQuantity": actual,
                    "externalId": tenant.id,
                    "accountId": tenant.id,
                    "accountStatus": tenant.data["status"],
                    "productCode": code,
                }
                object_id = f"{month_key}:{tenant.id}:{code}"
                writer.add(BILLING_KIND, partner.id, object_id, seq, row, month_key)


# -- batch writing ----------------------------------------------------------------


class _BatchWriter:
    """Collect rows and insert them in batches with ``executemany``.

    Plain parameterised INSERTs skip the ORM's per-field preparation, which
    is most of the cost of ``bulk_create`` for a 100,000-endpoint fleet.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[str, str, str, str, int, str]] = []
        self.first_endpoints: dict[str, dict[str, Any]] = {}

    def add(
        self,
        kind: str,
        scope_id: str,
        object_id: str,
        seq: int,
        data: dict[str, Any],
        parent_id: str = "",
    ) -> None:
        if kind == ENDPOINT_KIND:
            self.first_endpoints.setdefault(scope_id, data)
        row = (kind, scope_id, parent_id, object_id, seq, json.dumps(data))
        self.pending.append(row)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def first_endpoint(self, tenant_id: str) -> dict[str, Any]:
        return self.first_endpoints[tenant_id]

    def flush(self) -> None:
        if not self.pending:
            return
        connection = connections[router.db_for_write(SimObject)]
        data_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
        table = connection.ops.quote_name(SimObject._meta.db_table)
        # Only the model's table name and a fixed cast are formatted in, and
        # every value is a parameter.
        sql = (
            f"INSERT INTO {table} (kind, scope_id, parent_id, object_id, seq, data) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, %s, {data_value})"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, self.pending)
        self.pending = []
