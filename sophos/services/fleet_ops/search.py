"""Search the mirror of every tenant from one box.

A query matches endpoints by hostname, IPv4 address, MAC address or
logged-on user, allowed and blocked items by SHA-256 (or, for a query that
is no hash, by file name, path or comment), and open alerts by description
or type. Results come grouped by tenant, from the tenants the
caller passes in (the user's scope), and each kind stops at ``limit`` rows.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from sophos.models import Alert, AllowedBlockedItem, Endpoint, Tenant

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200
RESULT_LIMIT = 200
SHA256_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")
# Eight or more hex digits may be the start of a hash.
HASH_PREFIX_PATTERN = re.compile(r"^[0-9a-fA-F]{8,64}$")
MAC_PATTERN = re.compile(r"^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){2,5}$")


@dataclass
class TenantResults:
    """One tenant's matches."""

    tenant: Tenant
    endpoints: list[Endpoint] = field(default_factory=list)
    items: list[AllowedBlockedItem] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.endpoints) + len(self.items) + len(self.alerts)


@dataclass(frozen=True)
class SearchResults:
    query: str
    groups: list[TenantResults]
    # True when a kind of result reached the limit and more rows exist.
    truncated: bool

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)


def _mac_variants(query: str) -> list[str]:
    """Return the MAC address in the separators Sophos may report it with."""
    digits = re.sub(r"[^0-9a-fA-F]", "", query).upper()
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    return [":".join(pairs), "-".join(pairs), digits]


def fleet_search(
    *, tenants: QuerySet[Tenant], query: str, limit: int = RESULT_LIMIT
) -> SearchResults:
    """Search ``tenants`` for ``query``.

    Raises ``ValueError`` for a query shorter than ``MIN_QUERY_LENGTH`` or
    longer than ``MAX_QUERY_LENGTH``.
    """
    query = query.strip()
    if len(query) < MIN_QUERY_LENGTH:
        raise ValueError(f"Type at least {MIN_QUERY_LENGTH} characters to search.")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"Type at most {MAX_QUERY_LENGTH} characters to search.")

    endpoints = _endpoints(tenants, query)
    items = _items(tenants, query)
    alerts = _alerts(tenants, query)
    found_endpoints = list(endpoints[: limit + 1])
    found_items = list(items[: limit + 1])
    found_alerts = list(alerts[: limit + 1])
    truncated = any(
        len(rows) > limit for rows in (found_endpoints, found_items, found_alerts)
    )

    groups: dict[uuid.UUID, TenantResults] = {}

    def group(tenant: Tenant) -> TenantResults:
        return groups.setdefault(tenant.pk, TenantResults(tenant=tenant))

    for endpoint in found_endpoints[:limit]:
        group(endpoint.tenant).endpoints.append(endpoint)
    for item in found_items[:limit]:
        group(item.tenant).items.append(item)
    for alert in found_alerts[:limit]:
        group(alert.tenant).alerts.append(alert)
    ordered = sorted(groups.values(), key=lambda g: g.tenant.display_name.lower())
    return SearchResults(query=query, groups=ordered, truncated=truncated)


def _endpoints(tenants: QuerySet[Tenant], query: str) -> QuerySet[Endpoint]:
    # icontains on a JSON list matches its serialized text, so part of an
    # address finds the endpoint.
    match = (
        Q(hostname__icontains=query)
        | Q(ipv4_addresses__icontains=query)
        | Q(associated_person__icontains=query)
        | Q(mac_addresses__icontains=query)
    )
    if MAC_PATTERN.match(query):
        for variant in _mac_variants(query):
            match |= Q(mac_addresses__icontains=variant)
    return (
        Endpoint.objects.filter(tenant__in=tenants)
        .filter(match)
        .select_related("tenant")
        .order_by("tenant__name", "hostname", "id")
    )


def _items(tenants: QuerySet[Tenant], query: str) -> QuerySet[AllowedBlockedItem]:
    items = AllowedBlockedItem.objects.filter(tenant__in=tenants)
    if SHA256_PATTERN.match(query):
        items = items.filter(sha256=query.lower())
    elif HASH_PREFIX_PATTERN.match(query):
        items = items.filter(sha256__startswith=query.lower())
    else:
        items = items.filter(
            Q(file_name__icontains=query)
            | Q(path__icontains=query)
            | Q(comment__icontains=query)
        )
    return items.select_related("tenant").order_by("tenant__name", "kind", "id")


def _alerts(tenants: QuerySet[Tenant], query: str) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(tenant__in=tenants)
        .filter(Q(description__icontains=query) | Q(type__icontains=query))
        .select_related("tenant")
        .order_by("tenant__name", "-raised_at", "id")
    )
