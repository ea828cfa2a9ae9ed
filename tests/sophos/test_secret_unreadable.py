"""Services and jobs when a connection's stored client secret cannot be read.

The secrets are encrypted with one PORTAL_ENCRYPTION_KEY and the services
run with another, as after a key change.
"""

from __future__ import annotations

import logging

import pytest

from sophos.errors import SecretUnreadable, SophosError
from sophos.models import Job, JobItem, Tenant
from sophos.models_fleet import ItemPushTarget
from sophos.services import jobs
from sophos.services.connections import client_for
from sophos.services.fleet_ops import push as push_service
from sophos.services.fleet_ops.push import PushRequest
from sophos.services.sync import sync_item_run, sync_run
from sophos.simulator.seed import demo_credential
from tests.portal.factories import make_connection

pytestmark = pytest.mark.django_db

OLD_KEY = "the key the secrets were saved with"
NEW_KEY = "a key that cannot decrypt them"


@pytest.fixture
def old_key(settings):
    settings.PORTAL_ENCRYPTION_KEY = OLD_KEY


@pytest.fixture
def connection(old_key, synced_fleet, settings):
    """The synced demo connection, read after PORTAL_ENCRYPTION_KEY changed."""
    settings.SOPHOS_CALLS_PER_MINUTE = 0
    settings.PORTAL_ENCRYPTION_KEY = NEW_KEY
    return synced_fleet


def _expected_message(connection):
    return (
        f'The stored client secret of connection "{connection.name}" cannot be '
        "decrypted with the current PORTAL_ENCRYPTION_KEY. Restore the previous "
        "key, or have an owner enter the client secret again on the "
        "connection's page."
    )


def _assert_nothing_secret(text, connection):
    assert demo_credential().client_secret not in text
    assert connection.secret_encrypted not in text
    assert OLD_KEY not in text
    assert NEW_KEY not in text


def test_client_for_names_the_connection(connection):
    with pytest.raises(SecretUnreadable) as raised:
        client_for(connection)

    error = raised.value
    assert isinstance(error, SophosError)
    assert error.retryable is False
    assert error.status is None
    assert error.correlation_id == ""
    assert error.connection_id == connection.pk
    assert error.connection_name == connection.name
    assert str(error) == _expected_message(connection)
    assert error.__cause__ is None
    assert error.__suppress_context__ is True
    _assert_nothing_secret(str(error), connection)


def test_corrupt_secret_is_unreadable(db):
    connection = make_connection(name="Broken", secret_encrypted="not-fernet")

    with pytest.raises(SecretUnreadable, match='connection "Broken"'):
        client_for(connection)


def test_fleet_job_fails_items_with_the_message(
    connection, owner, django_capture_on_commit_callbacks, caplog
):
    tenants = list(Tenant.objects.filter(connection=connection).order_by("name"))
    request = PushRequest(
        kind="blocked",
        item_type="sha256",
        value="a" * 64,
        comment="Ransomware sample",
        tenant_ids=[tenant.pk for tenant in tenants[:2]],
    )

    with (
        caplog.at_level(logging.DEBUG),
        django_capture_on_commit_callbacks(execute=True),
    ):
        push = push_service.item_push_start(user=owner, request=request, dry_run=False)

    push.job.refresh_from_db()
    items = list(push.job.items.order_by("id"))
    assert push.job.status == Job.Status.FAILED
    assert push.job.error == ""
    assert [item.status for item in items] == [JobItem.Status.FAILED] * 2
    for item in items:
        assert item.message == _expected_message(connection)
    targets = push.targets.all()
    assert {target.status for target in targets} == {ItemPushTarget.Status.FAILED}
    _assert_nothing_secret(caplog.text, connection)


def test_sync_marks_the_tenants_failed(connection, caplog):
    job = jobs.job_create(kind="sync", title="Sync", user=None)

    with caplog.at_level(logging.DEBUG):
        job = sync_run(job_id=job.pk, inline=True)

    item = job.items.get()
    assert job.status == Job.Status.FAILED
    assert item.target == f"connection:{connection.pk}"
    assert item.status == JobItem.Status.FAILED
    assert item.message == _expected_message(connection)
    tenants = Tenant.objects.filter(connection=connection)
    assert {tenant.sync_status for tenant in tenants} == {Tenant.SyncStatus.FAILED}
    assert {tenant.sync_error for tenant in tenants} == {_expected_message(connection)}
    _assert_nothing_secret(caplog.text, connection)


def test_sync_of_some_tenants_marks_only_those(connection):
    tenants = list(Tenant.objects.filter(connection=connection).order_by("name"))
    chosen = tenants[0]
    job = jobs.job_create(
        kind="sync",
        title="Sync",
        user=None,
        parameters={"tenant_ids": [str(chosen.pk)]},
    )

    sync_run(job_id=job.pk, inline=True)

    chosen.refresh_from_db()
    assert chosen.sync_status == Tenant.SyncStatus.FAILED
    for other in tenants[1:]:
        other.refresh_from_db()
        assert other.sync_status != Tenant.SyncStatus.FAILED


def test_sync_item_fails_its_tenant_with_the_message(connection):
    tenant = Tenant.objects.filter(connection=connection).order_by("name").first()
    job = jobs.job_create(kind="sync", title="Sync", user=None)
    jobs.job_start(job=job)
    (item,) = jobs.job_items_add(
        job=job,
        items=[
            jobs.ItemSpec(
                target=str(tenant.pk), label=tenant.display_name, tenant_id=tenant.pk
            )
        ],
    )

    item = sync_item_run(item_id=item.pk)

    item.refresh_from_db()
    tenant.refresh_from_db()
    assert item.status == JobItem.Status.FAILED
    assert item.message == _expected_message(connection)
    assert tenant.sync_status == Tenant.SyncStatus.FAILED
    assert tenant.sync_error == _expected_message(connection)
