"""Pushing an allowed or blocked item to many tenants, and undoing the push."""

from __future__ import annotations

import pytest

from portal.accounts.models import Role, TenantGroup
from sophos.models import AllowedBlockedItem, AuditEntry, Job, JobItem, Tenant
from sophos.models_fleet import ItemPush, ItemPushTarget
from sophos.services import exclusions
from sophos.services.exclusions import ItemProperties
from sophos.services.fleet_ops import push as push_service
from sophos.services.fleet_ops.push import PushRequest
from sophos.simulator.faults import set_faults
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    """Lift the per-minute call budget: these tests make many calls."""
    settings.SOPHOS_CALLS_PER_MINUTE = 0


SHA = "a" * 63 + "b"


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a call that queues a job, then run the job inline at commit."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = function(**kwargs)
        return result

    return run


def _push(run, user, tenants, *, kind="blocked", value=SHA, dry_run=False, **extra):
    request = PushRequest(
        kind=kind,
        item_type=extra.pop("item_type", "sha256"),
        value=value,
        comment="Ransomware sample",
        tenant_ids=[tenant.pk for tenant in tenants],
        **extra,
    )
    push = run(
        push_service.item_push_start, user=user, request=request, dry_run=dry_run
    )
    push.refresh_from_db()
    push.job.refresh_from_db()
    return push


def _outcomes(job):
    return {
        item.target_label: (item.status, item.message)
        for item in job.items.order_by("id")
    }


def _blocked_hashes(tenant):
    return [
        item.properties.sha256
        for item in exclusions.blocked_items_list(tenant=tenant).items
    ]


def test_value_clean_lowers_sha256():
    value = push_service.push_value_clean(
        kind="blocked", item_type="sha256", value=" " + SHA.upper() + " "
    )

    assert value == SHA


@pytest.mark.parametrize(
    "value",
    ["abc", "g" * 64, "a" * 65, ""],
)
def test_value_clean_rejects_bad_sha256(value):
    with pytest.raises(ValueError):
        push_service.push_value_clean(kind="blocked", item_type="sha256", value=value)


def test_value_clean_rejects_blocked_path():
    with pytest.raises(ValueError, match="always a SHA-256"):
        push_service.push_value_clean(kind="blocked", item_type="path", value="C:\\x")


def test_push_creates_and_records_ids(run, owner, tenants):
    push = _push(run, owner, tenants[:2])

    assert push.job.status == Job.Status.SUCCEEDED
    targets = list(push.targets.order_by("tenant__name"))
    assert [t.status for t in targets] == ["created", "created"]
    for target in targets:
        assert target.item_id
        assert SHA in _blocked_hashes(target.tenant)
        assert AllowedBlockedItem.objects.filter(
            tenant=target.tenant, item_id=target.item_id, sha256=SHA
        ).exists()
    audits = AuditEntry.objects.filter(operation="blocked_item_create")
    assert audits.count() == 2


def test_push_skips_tenant_with_item(run, owner, tenants):
    existing = exclusions.blocked_item_create(
        user=owner,
        tenant=tenants[0],
        properties=ItemProperties(sha256=SHA),
        comment="Blocked before",
    )

    push = _push(run, owner, tenants[:2])

    outcomes = _outcomes(push.job)
    status, message = outcomes[tenants[0].display_name]
    assert status == JobItem.Status.SKIPPED
    assert message.startswith(f"Already present as item {existing.id}")
    assert outcomes[tenants[1].display_name][0] == JobItem.Status.SUCCEEDED
    target = push.targets.get(tenant=tenants[0])
    assert target.status == ItemPushTarget.Status.ALREADY_PRESENT
    assert target.item_id == existing.id
    assert push.job.status == Job.Status.SUCCEEDED


def test_allowed_push_treats_409_as_present(run, owner, tenants, monkeypatch):
    # The list read misses the item, so the create meets Sophos's 409.
    monkeypatch.setattr(push_service, "_existing", lambda tenant, push: None)
    exclusions.allowed_item_create(
        user=owner,
        tenant=tenants[0],
        type="sha256",
        properties=ItemProperties(sha256=SHA),
        comment="Allowed before",
    )

    push = _push(run, owner, tenants[:1], kind="allowed")

    item = push.job.items.get()
    assert item.status == JobItem.Status.SKIPPED
    assert item.message.startswith("Already present")
    target = push.targets.get()
    assert target.status == ItemPushTarget.Status.ALREADY_PRESENT
    assert not target.undoable


def test_dry_run_sends_nothing(run, owner, tenants, monkeypatch):
    writes = record_writes(monkeypatch)

    push = _push(run, owner, tenants[:2], dry_run=True)

    assert writes == []
    assert push.dry_run is True
    assert push.job.dry_run is True
    assert {status for status, _ in _outcomes(push.job).values()} == {"skipped"}
    assert all(
        message.startswith("Would add the blocked item")
        for _, message in _outcomes(push.job).values()
    )
    assert not push.targets.exists()
    assert SHA not in _blocked_hashes(tenants[0])


def test_undo_deletes_only_created_items(run, owner, tenants):
    existing = exclusions.blocked_item_create(
        user=owner,
        tenant=tenants[0],
        properties=ItemProperties(sha256=SHA),
        comment="Blocked before",
    )
    push = _push(run, owner, tenants[:3])

    undo = run(push_service.item_push_undo_start, user=owner, push=push)

    undo.refresh_from_db()
    assert undo.status == Job.Status.SUCCEEDED
    assert undo.total == 2
    statuses = {t.tenant_id: t.status for t in push.targets.all()}
    assert statuses[tenants[0].pk] == ItemPushTarget.Status.ALREADY_PRESENT
    assert statuses[tenants[1].pk] == ItemPushTarget.Status.REMOVED
    assert statuses[tenants[2].pk] == ItemPushTarget.Status.REMOVED
    assert _blocked_hashes(tenants[0]).count(SHA) == 1
    kept = exclusions.blocked_items_list(tenant=tenants[0]).items
    assert existing.id in [item.id for item in kept]
    assert SHA not in _blocked_hashes(tenants[1])
    assert SHA not in _blocked_hashes(tenants[2])
    push.refresh_from_db()
    assert push.undo_job_id == undo.pk


def test_undo_of_deleted_item_is_skipped(run, owner, tenants, monkeypatch):
    push = _push(run, owner, tenants[:1])
    target = push.targets.get()
    # The simulator answers 200 to deleting an unknown item. A 404 is taken
    # as the item being gone all the same.
    reject(monkeypatch, "DELETE", "/blocked-items/", 404, "Blocked item not found.")

    undo = run(push_service.item_push_undo_start, user=owner, push=push)

    item = undo.items.get()
    assert item.status == JobItem.Status.SKIPPED
    assert "already deleted" in item.message
    target.refresh_from_db()
    assert target.status == ItemPushTarget.Status.REMOVED


def test_undo_rejects_dry_run(run, owner, tenants):
    push = _push(run, owner, tenants[:1], dry_run=True)

    with pytest.raises(ValueError, match="dry run"):
        push_service.item_push_undo_start(user=owner, push=push)


def test_undo_without_created_items_rejected(run, owner, tenants):
    push = _push(run, owner, tenants[:1])
    run(push_service.item_push_undo_start, user=owner, push=push)
    push.refresh_from_db()

    with pytest.raises(ValueError, match="no created item"):
        push_service.item_push_undo_start(user=owner, push=push)


def test_push_to_group_expands_members(run, owner, tenants):
    group = TenantGroup.objects.create(name="Dentists")
    group.tenants.add(tenants[1], tenants[2])

    push = _push(run, owner, [], group_ids=[group.pk])

    assert sorted(push.job.items.values_list("tenant_id", flat=True)) == sorted(
        [tenants[1].pk, tenants[2].pk]
    )


def test_technician_push_limited_to_scope(run, tenants):
    group = TenantGroup.objects.create(name="Mixed")
    group.tenants.add(tenants[0], tenants[1])
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])

    push = _push(run, technician, [tenants[2]], group_ids=[group.pk])

    assert list(push.job.items.values_list("tenant_id", flat=True)) == [tenants[0].pk]
    assert SHA not in _blocked_hashes(tenants[1])
    assert SHA not in _blocked_hashes(tenants[2])


def test_technician_without_scope_rejected(run, tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])

    with pytest.raises(ValueError, match="at least one tenant"):
        _push(run, technician, [tenants[1]])

    assert not ItemPush.objects.exists()
    assert not Job.objects.filter(kind=push_service.CREATE_KIND).exists()


def test_task_rechecks_scope(tenants, owner, django_capture_on_commit_callbacks):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    request = PushRequest(
        kind="blocked",
        item_type="sha256",
        value=SHA,
        comment="Sample",
        tenant_ids=[tenants[0].pk],
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        push = push_service.item_push_start(
            user=technician, request=request, dry_run=False
        )
    technician.tenant_assignments.all().delete()

    for callback in callbacks:
        callback()

    item = push.job.items.get()
    item.refresh_from_db()
    assert item.status == JobItem.Status.SKIPPED
    assert "no longer allows" in item.message
    assert SHA not in _blocked_hashes(tenants[0])


def test_forbidden_tenant_fails_its_item(run, owner, tenants):
    set_faults(forbidden_tenant_ids=[str(tenants[1].pk)])

    push = _push(run, owner, tenants[:2])

    assert push.job.status == Job.Status.PARTIAL
    failed = push.job.items.get(tenant_id=tenants[1].pk)
    assert failed.status == JobItem.Status.FAILED
    assert failed.correlation_id
    target = push.targets.get(tenant=tenants[1])
    assert target.status == ItemPushTarget.Status.FAILED
    assert not target.undoable


def test_retry_pushes_to_failed_tenant(run, owner, tenants):
    from sophos.services.fleet_ops import base

    set_faults(forbidden_tenant_ids=[str(tenants[1].pk)])
    push = _push(run, owner, tenants[:2])
    set_faults(forbidden_tenant_ids=[])

    retry = run(base.operation_retry, job=push.job, user=owner)

    retry.refresh_from_db()
    assert retry.status == Job.Status.SUCCEEDED
    assert retry.total == 1
    target = push.targets.get(tenant=tenants[1])
    assert target.status == ItemPushTarget.Status.CREATED
    assert SHA in _blocked_hashes(tenants[1])


def test_pushes_visible_to_requester_only(run, owner, tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    mine = _push(run, technician, [tenants[0]])
    _push(run, owner, [tenants[1]], value="b" * 64)

    visible = push_service.item_pushes_visible(user=technician)

    assert list(visible) == [mine]
    assert push_service.item_pushes_visible(user=owner).count() == 2


def test_repeated_dry_run_records_own_push(run, owner, tenants):
    from sophos.services.fleet_ops import base

    preview = _push(run, owner, tenants[:2], dry_run=True)

    # As the job page's button runs a finished dry run for real.
    job = run(
        base.operation_start,
        kind=preview.job.kind,
        user=owner,
        parameters=dict(preview.job.parameters),
        dry_run=False,
    )

    real = ItemPush.objects.get(dry_run=False)
    assert real.job_id == job.pk
    assert real.value == preview.value
    assert not preview.targets.exists()
    assert real.targets.filter(status=ItemPushTarget.Status.CREATED).count() == 2
    undo = run(push_service.item_push_undo_start, user=owner, push=real)
    undo.refresh_from_db()
    assert undo.status == Job.Status.SUCCEEDED
    assert SHA not in _blocked_hashes(tenants[0])
