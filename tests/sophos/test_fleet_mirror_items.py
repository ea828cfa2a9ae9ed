"""The sync's mirror of allowed and blocked items and tamper protection state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sophos.models import AllowedBlockedItem, Endpoint, Tenant
from sophos.services import mirror_items
from sophos.services.connections import client_for
from sophos.services.exclusions import (
    ItemProperties,
    allowed_item_create,
    blocked_item_create,
)
from sophos.services.sync import tenant_sync
from tests.portal.simulator_calls import reject

pytestmark = pytest.mark.django_db

SHA = "A" * 64


def _sync(tenant):
    with client_for(tenant.connection) as client:
        tenant_sync(client=client, tenant=tenant)
    tenant.refresh_from_db()


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.order_by("name").first()


def test_sync_mirrors_allowed_and_blocked_items(tenant, owner):
    allowed_item_create(
        user=owner,
        tenant=tenant,
        type="sha256",
        properties=ItemProperties(sha256=SHA, file_name="tool.exe"),
        comment="Needed by accounting",
    )
    blocked_item_create(
        user=owner,
        tenant=tenant,
        properties=ItemProperties(sha256="b" * 64),
        comment="Known bad",
    )

    _sync(tenant)

    allowed = AllowedBlockedItem.objects.get(tenant=tenant, sha256=SHA.lower())
    assert allowed.kind == AllowedBlockedItem.Kind.ALLOWED
    assert allowed.file_name == "tool.exe"
    assert allowed.comment == "Needed by accounting"
    blocked = AllowedBlockedItem.objects.get(tenant=tenant, sha256="b" * 64)
    assert blocked.kind == AllowedBlockedItem.Kind.BLOCKED


def test_sync_removes_deleted_items(tenant):
    AllowedBlockedItem.objects.create(
        tenant=tenant,
        kind=AllowedBlockedItem.Kind.BLOCKED,
        item_id="gone",
        sha256="c" * 64,
        synced_at=timezone.now(),
    )

    _sync(tenant)

    assert not AllowedBlockedItem.objects.filter(item_id="gone").exists()


def test_sync_reads_global_tamper_protection(tenant):
    _sync(tenant)

    assert tenant.global_tamper_protection_enabled is not None


def test_global_tamper_off_since_kept_until_on(tenant):
    mirror_items.global_tamper_state_set(tenant=tenant, enabled=False)
    first = tenant.global_tamper_protection_off_since

    mirror_items.global_tamper_state_set(tenant=tenant, enabled=False)
    assert tenant.global_tamper_protection_off_since == first
    assert first is not None

    mirror_items.global_tamper_state_set(tenant=tenant, enabled=True)
    assert tenant.global_tamper_protection_off_since is None


def test_endpoint_off_since_set_once(tenant):
    endpoint = tenant.endpoints.order_by("hostname").first()
    Endpoint.objects.filter(pk=endpoint.pk).update(tamper_protection_enabled=False)
    start = timezone.now()

    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=start)
    later = start + dt.timedelta(hours=1)
    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=later)

    endpoint.refresh_from_db()
    assert endpoint.tamper_protection_off_since == start


def test_endpoint_off_since_cleared_when_on(tenant):
    endpoint = tenant.endpoints.order_by("hostname").first()
    Endpoint.objects.filter(pk=endpoint.pk).update(
        tamper_protection_enabled=True,
        tamper_protection_off_since=timezone.now(),
        tamper_protection_notified_at=timezone.now(),
    )

    mirror_items.endpoint_tamper_since_update(tenant=tenant, now=timezone.now())

    endpoint.refresh_from_db()
    assert endpoint.tamper_protection_off_since is None
    assert endpoint.tamper_protection_notified_at is None


def test_item_list_error_keeps_sync_ok(tenant, monkeypatch, caplog):
    AllowedBlockedItem.objects.create(
        tenant=tenant,
        kind=AllowedBlockedItem.Kind.ALLOWED,
        item_id="kept",
        sha256="d" * 64,
        synced_at=timezone.now(),
    )
    reject(monkeypatch, "GET", r"/settings/allowed-items$", 500, "Broken list.")

    _sync(tenant)

    assert tenant.sync_status == Tenant.SyncStatus.OK
    assert AllowedBlockedItem.objects.filter(item_id="kept").exists()
    assert any("allowed_items_list" in r.getMessage() for r in caplog.records)
