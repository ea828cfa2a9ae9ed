import uuid

import pytest

from sophos.errors import NotFound
from sophos.models import Alert, Job, JobItem, Tenant
from sophos.services import alerts


@pytest.fixture
def tenant(synced_fleet):
    alert = next(a for a in Alert.objects.all() if "cleanPua" in a.allowed_actions)
    return Tenant.objects.get(pk=alert.tenant_id)


def test_alert_get_reads_live(tenant):
    mirrored = Alert.objects.filter(tenant=tenant).first()

    alert = alerts.alert_get(tenant=tenant, alert_id=mirrored.pk)

    assert alert.id == str(mirrored.pk)
    assert alert.allowed_actions == mirrored.allowed_actions
    assert alert.severity == mirrored.severity
    assert alert.raised_at is not None


def test_alert_get_unknown(tenant):
    with pytest.raises(NotFound):
        alerts.alert_get(tenant=tenant, alert_id=uuid.uuid4())


def test_bulk_action_skips_disallowed_alerts(
    tenant, owner, django_capture_on_commit_callbacks
):
    allowed = [a for a in tenant.alerts.all() if "cleanPua" in a.allowed_actions]
    refused = [a for a in tenant.alerts.all() if "cleanPua" not in a.allowed_actions]
    chosen = [allowed[0].pk, refused[0].pk]

    with django_capture_on_commit_callbacks(execute=True):
        job = alerts.alerts_bulk_action_start(
            user=owner, tenant=tenant, alert_ids=chosen, action="cleanPua"
        )

    job.refresh_from_db()
    items = {item.target: item for item in job.items.all()}
    assert job.status == Job.Status.SUCCEEDED
    assert job.title == f"Clean PUA on 2 alert(s) of {tenant.display_name}"
    assert job.done == 2
    assert items[str(allowed[0].pk)].status == JobItem.Status.SUCCEEDED
    assert items[str(refused[0].pk)].status == JobItem.Status.SKIPPED
    assert "not allowed" in items[str(refused[0].pk)].message
    assert not Alert.objects.filter(pk=allowed[0].pk).exists()


def test_bulk_action_fails_unknown_alert(
    tenant, owner, django_capture_on_commit_callbacks
):
    missing = uuid.uuid4()

    with django_capture_on_commit_callbacks(execute=True):
        job = alerts.alerts_bulk_action_start(
            user=owner, tenant=tenant, alert_ids=[missing], action="acknowledge"
        )

    job.refresh_from_db()
    item = job.items.get()
    assert job.status == Job.Status.FAILED
    assert item.status == JobItem.Status.FAILED
    assert item.correlation_id
