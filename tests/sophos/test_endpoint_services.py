import pytest

from sophos.errors import BadRequest, Conflict, NotFound
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.services import endpoints
from sophos.simulator.faults import set_faults


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def endpoint(tenant):
    return (
        Endpoint.objects.filter(
            tenant=tenant,
            isolation_status="notIsolated",
            tamper_protection_enabled=True,
            os_platform="windows",
        )
        .order_by("hostname")
        .first()
    )


def test_endpoint_get_reads_health_and_isolation(tenant, endpoint):
    detail = endpoints.endpoint_get(tenant=tenant, endpoint_id=endpoint.pk)

    assert detail.id == str(endpoint.pk)
    assert detail.hostname == endpoint.hostname
    assert detail.health == endpoint.health
    assert detail.services
    assert all(service.name and service.status for service in detail.services)
    assert detail.assigned_products
    assert detail.isolation.enabled is False
    assert detail.isolation.last_enabled_by is None


def test_endpoint_get_unknown_id(tenant):
    with pytest.raises(NotFound):
        endpoints.endpoint_get(
            tenant=tenant, endpoint_id="00000000-0000-4000-8000-000000000000"
        )


def test_endpoint_isolate_writes_mirror_and_audit(tenant, endpoint, owner):
    isolation = endpoints.endpoint_isolate(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk, comment="Ransomware"
    )

    endpoint.refresh_from_db()
    assert isolation.enabled is True
    assert isolation.comment == "Ransomware"
    assert isolation.last_enabled_by is not None
    assert endpoint.isolation_status == "isolated"
    entry = AuditEntry.objects.get(operation="endpoint_isolation_update")
    assert entry.outcome == "succeeded"
    assert entry.parameters["comment"] == "Ransomware"
    assert entry.username == "owner"


def test_endpoint_isolate_twice_conflicts(tenant, endpoint, owner):
    set_faults(isolation_delay_seconds=600)
    endpoints.endpoint_isolate(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk, comment="First"
    )

    with pytest.raises(Conflict) as caught:
        endpoints.endpoint_release(
            user=owner, tenant=tenant, endpoint_id=endpoint.pk, comment="Too soon"
        )

    assert caught.value.correlation_id
    endpoint.refresh_from_db()
    assert endpoint.isolation_status == "isolated"


def test_endpoint_release_not_isolated_is_rejected(tenant, endpoint, owner):
    with pytest.raises(BadRequest):
        endpoints.endpoint_release(
            user=owner, tenant=tenant, endpoint_id=endpoint.pk, comment="Clean"
        )

    entry = AuditEntry.objects.get(operation="endpoint_isolation_update")
    assert entry.outcome == "failed"
    assert entry.correlation_id


def test_endpoint_scan_and_update_check(tenant, endpoint, owner):
    scan = endpoints.endpoint_scan_start(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk
    )
    check = endpoints.endpoint_update_check_start(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk
    )

    assert scan.status == "requested"
    assert scan.id
    assert check.status == "requested"
    operations = set(AuditEntry.objects.values_list("operation", flat=True))
    assert operations == {"endpoint_scan_start", "endpoint_update_check_start"}


def test_endpoint_tamper_protection_off_updates_counters(tenant, endpoint, owner):
    before = tenant.tamper_off

    state = endpoints.endpoint_tamper_protection_set(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk, enabled=False
    )

    endpoint.refresh_from_db()
    tenant.refresh_from_db()
    assert state.enabled is False
    assert endpoint.tamper_protection_enabled is False
    assert tenant.tamper_off == before + 1


def test_endpoint_tamper_password_is_not_audited(tenant, endpoint, owner, caplog):
    caplog.set_level("DEBUG")

    result = endpoints.endpoint_tamper_password_regenerate(
        user=owner, tenant=tenant, endpoint_id=endpoint.pk
    )

    assert len(result.password) >= 8
    assert result.password not in repr(result)
    entry = AuditEntry.objects.get(operation="endpoint_tamper_protection_update")
    assert result.password not in str(entry.parameters)
    assert "password" in entry.parameters["change"]
    assert result.password not in caplog.text


def test_endpoint_delete_removes_mirror_row(tenant, endpoint, owner):
    total = tenant.endpoints_total

    endpoints.endpoint_delete(user=owner, tenant=tenant, endpoint_id=endpoint.pk)

    tenant.refresh_from_db()
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert tenant.endpoints_total == total - 1
    with pytest.raises(NotFound):
        endpoints.endpoint_get(tenant=tenant, endpoint_id=endpoint.pk)
