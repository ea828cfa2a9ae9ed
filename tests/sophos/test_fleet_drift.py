"""Policy drift: compare tenants' policies with a baseline, accept, realign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.models import Role
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.models_fleet import DriftAcceptance, DriftResult
from sophos.services import policies
from sophos.services.fleet_ops import drift
from sophos.simulator.faults import set_faults
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    """Lift the per-minute call budget: these tests make many calls."""
    settings.SOPHOS_CALLS_PER_MINUTE = 0


TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"
SCHEDULED = "endpoint.scans.scheduled.enabled"


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


def _base_set(owner, tenant, **values):
    base_policy = policies.base_policy_get(tenant=tenant, policy_type=TYPE)
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=base_policy.id, settings=values
    )


def _base_value(tenant, key):
    base_policy = policies.base_policy_get(tenant=tenant, policy_type=TYPE)
    return base_policy.setting(key).value


def _check(run, owner, tenants, baseline_tenant=None):
    baseline = drift.baseline_from_policy(
        tenant=baseline_tenant or tenants[0], policy_type=TYPE
    )
    check = run(drift.drift_check_start, user=owner, baseline=baseline)
    check.refresh_from_db()
    check.job.refresh_from_db()
    return check


def test_compare_finds_deviations(run, owner, tenants):
    _base_set(owner, tenants[1], **{MALWARE: False, SCHEDULED: True})

    check = _check(run, owner, tenants)

    assert check.job.status == Job.Status.SUCCEEDED
    assert check.job.total == len(tenants)
    results = {r.tenant_id: r for r in check.results.all()}
    assert results[tenants[0].pk].status == DriftResult.Status.MATCHING
    drifted = results[tenants[1].pk]
    assert drifted.status == DriftResult.Status.DRIFTED
    assert drifted.deviations == [
        {"key": MALWARE, "baseline": True, "tenant": False, "present": True},
        {"key": SCHEDULED, "baseline": False, "tenant": True, "present": True},
    ]
    item = check.job.items.get(tenant_id=tenants[1].pk)
    assert item.message == f"2 settings deviate: {MALWARE}, {SCHEDULED}."


def test_compare_named_policy_missing_is_skipped(run, owner, tenants):
    created = policies.policy_create(
        user=owner, tenant=tenants[0], name="Laptops strict", type=TYPE
    )
    policies.policy_update(
        user=owner, tenant=tenants[0], policy_id=created.id, settings={MALWARE: False}
    )
    policies.policy_create(
        user=owner, tenant=tenants[1], name="Laptops strict", type=TYPE
    )
    baseline = drift.baseline_from_policy(
        tenant=tenants[0], policy_type=TYPE, policy_id=created.id
    )

    check = run(drift.drift_check_start, user=owner, baseline=baseline)

    check.refresh_from_db()
    assert check.policy_name == "Laptops strict"
    results = {r.tenant_id: r for r in check.results.all()}
    assert results[tenants[1].pk].status == DriftResult.Status.DRIFTED
    assert results[tenants[2].pk].status == DriftResult.Status.MISSING
    item = check.job.items.get(tenant_id=tenants[2].pk)
    assert item.status == JobItem.Status.SKIPPED
    assert "no Threat protection policy named 'Laptops strict'" in item.message


def test_compare_forbidden_tenant_fails(run, owner, tenants):
    set_faults(forbidden_tenant_ids=[str(tenants[2].pk)])

    check = _check(run, owner, tenants)

    assert check.job.status == Job.Status.PARTIAL
    item = check.job.items.get(tenant_id=tenants[2].pk)
    assert item.status == JobItem.Status.FAILED
    assert item.correlation_id
    result = check.results.get(tenant=tenants[2])
    assert result.status == DriftResult.Status.FAILED
    assert result.correlation_id == item.correlation_id


def test_template_baseline(run, owner, tenants):
    _base_set(owner, tenants[0], **{SCHEDULED: True})
    template = drift.policy_template_create(
        user=owner, name="Scans on", tenant=tenants[0], policy_type=TYPE
    )
    _base_set(owner, tenants[0], **{SCHEDULED: False})

    check = run(
        drift.drift_check_start,
        user=owner,
        baseline=drift.baseline_from_template(template=template),
    )

    check.refresh_from_db()
    assert template.settings[SCHEDULED] is True
    assert check.template == template
    statuses = set(check.results.values_list("status", flat=True))
    assert statuses == {DriftResult.Status.DRIFTED}
    assert AuditEntry.objects.filter(operation="fleet.policy_template_create").exists()


def test_template_name_must_be_unique(owner, tenants):
    drift.policy_template_create(
        user=owner, name="Standard", tenant=tenants[0], policy_type=TYPE
    )

    with pytest.raises(ValueError, match="exists already"):
        drift.policy_template_create(
            user=owner, name="Standard", tenant=tenants[0], policy_type=TYPE
        )


def test_accepted_deviation_is_marked(run, owner, tenants):
    _base_set(owner, tenants[1], **{MALWARE: False, SCHEDULED: True})
    check = _check(run, owner, tenants)

    drift.drift_accept(
        user=owner,
        tenant=tenants[1],
        policy_type=TYPE,
        setting_key=SCHEDULED,
        reason="Nightly scans for the lab machines",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    rows = drift.drift_results(check=check, tenants=Tenant.objects.all())
    row = next(r for r in rows if r.tenant == tenants[1])
    assert [d.key for d in row.open_deviations] == [MALWARE]
    assert [d.key for d in row.accepted_deviations] == [SCHEDULED]
    assert row.accepted_deviations[0].acceptance.reason.startswith("Nightly")
    assert AuditEntry.objects.filter(operation="fleet.drift_accept").count() == 1


def test_expired_acceptance_is_open_again(run, owner, tenants):
    _base_set(owner, tenants[1], **{SCHEDULED: True})
    check = _check(run, owner, tenants)
    DriftAcceptance.objects.create(
        tenant=tenants[1],
        policy_type=TYPE,
        setting_key=SCHEDULED,
        reason="Expired",
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )

    rows = drift.drift_results(check=check, tenants=Tenant.objects.all())

    row = next(r for r in rows if r.tenant == tenants[1])
    assert [d.key for d in row.open_deviations] == [SCHEDULED]


@pytest.mark.parametrize(
    ("reason", "days", "message"),
    [
        ("", 5, "reason is missing"),
        ("Lab", -1, "in the future"),
        ("Lab", 400, "within 366 days"),
    ],
)
def test_accept_rejects_bad_input(owner, tenants, reason, days, message):
    with pytest.raises(ValueError, match=message):
        drift.drift_accept(
            user=owner,
            tenant=tenants[0],
            policy_type=TYPE,
            setting_key=MALWARE,
            reason=reason,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )


def test_realign_dry_run_sends_nothing(run, owner, tenants, monkeypatch):
    _base_set(owner, tenants[1], **{MALWARE: False})
    check = _check(run, owner, tenants)
    writes = record_writes(monkeypatch)

    job = run(
        drift.drift_realign_start,
        user=owner,
        check=check,
        tenant_ids=[tenants[1].pk],
        dry_run=True,
    )

    job.refresh_from_db()
    assert writes == []
    item = job.items.get()
    assert item.status == JobItem.Status.SKIPPED
    assert item.message == f"Would set 1 setting to the baseline: {MALWARE}."
    assert _base_value(tenants[1], MALWARE) is False


def test_realign_sets_open_deviations_only(run, owner, tenants):
    _base_set(owner, tenants[1], **{MALWARE: False, SCHEDULED: True})
    check = _check(run, owner, tenants)
    drift.drift_accept(
        user=owner,
        tenant=tenants[1],
        policy_type=TYPE,
        setting_key=SCHEDULED,
        reason="Lab",
        expires_at=timezone.now() + dt.timedelta(days=3),
    )

    job = run(
        drift.drift_realign_start,
        user=owner,
        check=check,
        tenant_ids=[tenants[0].pk, tenants[1].pk],
        dry_run=False,
    )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.total == 1
    item = job.items.get()
    assert item.message == (
        f"Set 1 setting to the baseline: {MALWARE}. 1 accepted deviation stays."
    )
    assert _base_value(tenants[1], MALWARE) is True
    assert _base_value(tenants[1], SCHEDULED) is True
    result = check.results.get(tenant=tenants[1])
    assert [d["key"] for d in result.deviations] == [SCHEDULED]
    assert result.realigned_at is not None
    audit = AuditEntry.objects.get(operation="base_policy_settings_update")
    assert audit.tenant_id == tenants[1].pk


def test_realign_named_policy(run, owner, tenants):
    source = policies.policy_create(
        user=owner, tenant=tenants[0], name="Servers", type=TYPE
    )
    target = policies.policy_create(
        user=owner, tenant=tenants[1], name="Servers", type=TYPE
    )
    policies.policy_update(
        user=owner, tenant=tenants[1], policy_id=target.id, settings={MALWARE: False}
    )
    baseline = drift.baseline_from_policy(
        tenant=tenants[0], policy_type=TYPE, policy_id=source.id
    )
    check = run(drift.drift_check_start, user=owner, baseline=baseline)

    job = run(
        drift.drift_realign_start,
        user=owner,
        check=check,
        tenant_ids=[tenants[1].pk],
        dry_run=False,
    )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    detail = policies.policy_get(tenant=tenants[1], policy_id=target.id)
    assert detail.setting(MALWARE).value is True


def test_technician_compares_and_realigns_own_tenants(run, owner, tenants):
    _base_set(owner, tenants[1], **{MALWARE: False})
    _base_set(owner, tenants[2], **{MALWARE: False})
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[1]])
    baseline = drift.baseline_from_policy(tenant=tenants[0], policy_type=TYPE)

    check = run(drift.drift_check_start, user=technician, baseline=baseline)

    assert list(check.job.items.values_list("tenant_id", flat=True)) == [tenants[1].pk]
    with pytest.raises(ValueError, match="at least one deviating tenant"):
        drift.drift_realign_start(
            user=technician, check=check, tenant_ids=[tenants[2].pk], dry_run=False
        )
    assert _base_value(tenants[2], MALWARE) is False


def test_realign_rechecks_scope_in_task(
    owner, tenants, run, django_capture_on_commit_callbacks
):
    _base_set(owner, tenants[1], **{MALWARE: False})
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[1]])
    check = run(
        drift.drift_check_start,
        user=technician,
        baseline=drift.baseline_from_policy(tenant=tenants[0], policy_type=TYPE),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = drift.drift_realign_start(
            user=technician, check=check, tenant_ids=[tenants[1].pk], dry_run=False
        )
    technician.tenant_assignments.all().delete()

    for callback in callbacks:
        callback()

    item = job.items.get()
    assert item.status == JobItem.Status.SKIPPED
    assert _base_value(tenants[1], MALWARE) is False


def test_checks_visible_to_requester(run, owner, tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[1]])
    mine = _check(run, technician, tenants)
    _check(run, owner, tenants)

    assert list(drift.drift_checks_visible(user=technician)) == [mine]
    assert drift.drift_checks_visible(user=owner).count() == 2
