"""Helpers for the tests of the tenant category pages.

The pages read live from the simulator, so a tenant only needs its mirror
row; ``simulator_tenant`` creates it from the simulator's tenant list
without running a sync.
"""

from __future__ import annotations

import re

from portal.accounts.models import Role
from sophos.models import AuditEntry, Connection, Tenant
from sophos.services.connections import client_for
from tests.portal.factories import make_user

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def simulator_tenant(connection: Connection, index: int = 0) -> Tenant:
    """Mirror the ``index``-th simulator tenant (by name) of ``connection``."""
    with client_for(connection) as client:
        infos = sorted(client.tenants(), key=lambda info: info.name)
    info = infos[index]
    tenant, _ = Tenant.objects.update_or_create(
        id=info.id,
        defaults={
            "connection": connection,
            "name": info.name,
            "show_as": info.show_as,
            "api_host": info.api_host,
            "data_region": info.data_region,
        },
    )
    return tenant


def login_reader(client, tenant: Tenant):
    """Log ``client`` in as a read-only user assigned ``tenant``."""
    user = make_user(roles=[Role.READ_ONLY], tenants=[tenant])
    client.force_login(user)
    return client


def login_technician(client, tenant: Tenant):
    user = make_user(roles=[Role.TECHNICIAN], tenants=[tenant])
    client.force_login(user)
    return client


def last_audit(operation: str) -> AuditEntry:
    return AuditEntry.objects.filter(operation=operation).latest("pk")


def shown_correlation_ids(html: str) -> list[str]:
    return re.findall(rf"correlation id (?:<code>)?({UUID_PATTERN})", html, re.I)
