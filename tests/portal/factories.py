"""Small factories for mirror rows used by the portal page tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.accounts.models import TenantAssignment, TenantGroup, UserRole
from sophos.models import Alert, Connection, Endpoint, Job, JobItem, Tenant

_sequence = itertools.count(1)


def make_user(
    roles: Iterable[str] = (),
    tenants: Iterable[Tenant] = (),
    groups: Iterable[TenantGroup] = (),
    **fields: Any,
):
    """Create a user with ``roles``, assigned ``tenants`` and tenant ``groups``."""
    number = next(_sequence)
    fields.setdefault("username", f"tech{number}")
    user = get_user_model().objects.create_user(password="tech-password-1", **fields)
    for role in roles:
        UserRole.objects.create(user=user, role=role)
    for tenant in tenants:
        TenantAssignment.objects.create(user=user, tenant=tenant)
    for group in groups:
        TenantAssignment.objects.create(user=user, group=group)
    return user


def make_connection(**fields: Any) -> Connection:
    number = next(_sequence)
    fields.setdefault("name", f"Connection {number}")
    fields.setdefault("client_id", f"client-{number}")
    fields.setdefault("secret_encrypted", "not-a-real-secret")
    fields.setdefault("kind", Connection.Kind.PARTNER)
    return Connection.objects.create(**fields)


def make_tenant(connection: Connection | None = None, **fields: Any) -> Tenant:
    number = next(_sequence)
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Tenant {number:04d}")
    fields.setdefault("api_host", "https://api-eu01.central.sophos.com")
    fields.setdefault("data_region", "eu01")
    return Tenant.objects.create(connection=connection or make_connection(), **fields)


def make_endpoint(tenant: Tenant, **fields: Any) -> Endpoint:
    number = next(_sequence)
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("hostname", f"host-{number:04d}")
    fields.setdefault("type", "computer")
    fields.setdefault("health", "good")
    fields.setdefault("synced_at", timezone.now())
    return Endpoint.objects.create(tenant=tenant, **fields)


def make_alert(tenant: Tenant, **fields: Any) -> Alert:
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("severity", "high")
    fields.setdefault("category", "malware")
    fields.setdefault("type", "Event::Endpoint::Threat::Detected")
    fields.setdefault("description", "Malware detected: 'EICAR-AV-Test'")
    fields.setdefault("allowed_actions", ["acknowledge", "cleanVirus"])
    fields.setdefault("raised_at", timezone.now())
    fields.setdefault("synced_at", timezone.now())
    return Alert.objects.create(tenant=tenant, **fields)


def make_job(items: int = 0, **fields: Any) -> Job:
    fields.setdefault("kind", "sync")
    fields.setdefault("title", "Sync tenants, endpoints and alerts")
    job = Job.objects.create(total=items, **fields)
    for number in range(items):
        JobItem.objects.create(job=job, target=f"tenant-{number}")
    return job
