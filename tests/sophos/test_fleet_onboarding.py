"""Customer onboarding: the users' CSV, the job's steps, dry run and resume."""

from __future__ import annotations

import pytest

from portal.accounts.models import Role
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.models_fleet import OnboardingRun
from sophos.services import directory, exclusions, groups, partner_tenants, policies
from sophos.services.exclusions import ItemProperties
from sophos.services.fleet_ops import exclusion_templates, onboarding
from sophos.services.fleet_ops.onboarding import (
    CsvInvalid,
    NewTenant,
    OnboardingRequest,
    UserRow,
)
from sophos.simulator.faults import set_faults
from sophos.simulator.transport import SimulatorTransport
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    """Lift the per-minute call budget: these tests make many calls."""
    settings.SOPHOS_CALLS_PER_MINUTE = 0


TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"
SHA = "c" * 64


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


@pytest.fixture
def baseline(owner, tenants):
    """Tenant 0 with a changed base policy and a custom policy."""
    tenant = tenants[0]
    base_policy = policies.base_policy_get(tenant=tenant, policy_type=TYPE)
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=base_policy.id, settings={MALWARE: False}
    )
    custom = policies.policy_create(
        user=owner, tenant=tenant, name="Onboarding laptops", type=TYPE
    )
    policies.policy_update(
        user=owner,
        tenant=tenant,
        policy_id=custom.id,
        settings={"endpoint.scans.scheduled.enabled": True},
    )
    return tenant


@pytest.fixture
def template(owner, baseline):
    exclusions.blocked_item_create(
        user=owner,
        tenant=baseline,
        properties=ItemProperties(sha256=SHA),
        comment="Known bad",
    )
    return exclusion_templates.exclusion_template_create(
        user=owner, name="Standard exclusions", tenant=baseline
    )


def _request(baseline=None, template=None, **fields):
    fields.setdefault("customer_name", "Acme Dental")
    fields.setdefault(
        "new_tenant",
        NewTenant(
            name="Acme Dental GmbH",
            billing_type="trial",
            contact_first_name="Ada",
            contact_last_name="Lovelace",
            contact_email="ada@acme.example",
            data_geography="DE",
        ),
    )
    fields.setdefault(
        "users",
        [
            UserRow(name="Ann Smith", email="ann@acme.example", group="Front desk"),
            UserRow(name="Bob Jones", email="bob@acme.example", group=""),
        ],
    )
    fields.setdefault("user_groups", ["Dentists"])
    fields.setdefault("endpoint_groups", [("computer", "Reception PCs")])
    return OnboardingRequest(
        baseline_tenant_id=str(baseline.pk) if baseline else "",
        exclusion_template_id=template.pk if template else None,
        **fields,
    )


def _start(run, user, request, dry_run=False):
    started = run(
        onboarding.onboarding_start, user=user, request=request, dry_run=dry_run
    )
    started.refresh_from_db()
    started.job.refresh_from_db()
    return started


def _outcomes(job):
    return {item.target: (item.status, item.message) for item in job.items.all()}


def _partner_tenants_named(name):
    listing = partner_tenants.partner_tenants_list()
    return [t for t in listing.items if t.name == name]


# The users' CSV


def test_csv_parse_skips_header_and_blanks():
    text = (
        "name,email,group\n\nAnn Smith,ann@acme.example,Front desk\nBob,bob@x.example\n"
    )

    rows = onboarding.users_csv_parse(text)

    assert rows == [
        UserRow("Ann Smith", "ann@acme.example", "Front desk", line=3),
        UserRow("Bob", "bob@x.example", "", line=4),
    ]


def test_csv_parse_lists_bad_lines():
    text = (
        "name,email,group\n"
        "Ann,ann@acme.example,Sales\n"
        "Bob,not-an-email,Sales\n"
        ",carl@acme.example,\n"
        "Dan,dan@acme.example,Sales,extra\n"
        "Ann Again,ANN@acme.example,\n"
    )

    with pytest.raises(CsvInvalid) as raised:
        onboarding.users_csv_parse(text)

    assert raised.value.errors == [
        "Line 3: the email address 'not-an-email' is invalid.",
        "Line 4: the name is missing.",
        "Line 5: expected name, email and group (group may be empty); found 4 columns.",
        "Line 6: the email ANN@acme.example is already on line 2.",
    ]


def test_csv_parse_limits_rows(monkeypatch):
    monkeypatch.setattr(onboarding, "MAX_USERS", 2)
    text = "a,a@x.example\nb,b@x.example\nc,c@x.example\n"

    with pytest.raises(CsvInvalid, match="at most 2"):
        onboarding.users_csv_parse(text)


# The job


def test_onboarding_creates_everything(run, owner, baseline, template):
    started = _start(run, owner, _request(baseline, template))

    job = started.job
    assert job.status == Job.Status.SUCCEEDED, _outcomes(job)
    tenant = started.tenant
    assert tenant is not None
    assert tenant.customer_name == "Acme Dental"
    assert tenant.name == "Acme Dental GmbH"
    assert len(_partner_tenants_named("Acme Dental GmbH")) == 1

    users = {u.email: u for u in directory.users_list(tenant=tenant).items}
    assert set(users) == {"ann@acme.example", "bob@acme.example"}
    group_names = {g.name: g for g in directory.user_groups_list(tenant=tenant).items}
    assert set(group_names) == {"Dentists", "Front desk"}
    assert users["ann@acme.example"].group_ids == (group_names["Front desk"].id,)
    endpoint_groups = groups.endpoint_groups_list(tenant=tenant)
    assert [(g.type, g.name) for g in endpoint_groups] == [
        ("computer", "Reception PCs")
    ]
    base_policy = policies.base_policy_get(tenant=tenant, policy_type=TYPE)
    assert base_policy.setting(MALWARE).value is False
    custom = [
        p
        for p in policies.policies_list(tenant=tenant)
        if p.name == "Onboarding laptops"
    ]
    assert len(custom) == 1
    detail = policies.policy_get(tenant=tenant, policy_id=custom[0].id)
    assert detail.setting("endpoint.scans.scheduled.enabled").value is True
    blocked = [
        i.properties.sha256 for i in exclusions.blocked_items_list(tenant=tenant).items
    ]
    assert SHA in blocked
    assert sorted(blocked) == sorted(
        e["value"] for e in template.exclusions if e["family"] == "blocked"
    )

    assert started.created["tenant"] == str(tenant.pk)
    assert started.created["user:ann@acme.example"] == users["ann@acme.example"].id
    assert f"exclusion:blocked::{SHA}" in started.created
    assert AuditEntry.objects.filter(operation="tenant_create").count() == 1
    assert AuditEntry.objects.filter(
        operation="tenant_customer_name_set", tenant_id=tenant.pk
    ).exists()


def test_onboarding_job_items_per_step(run, owner, baseline, template):
    started = _start(run, owner, _request(baseline, template))

    targets = list(started.job.items.order_by("id").values_list("target", flat=True))
    assert targets[:6] == [
        "tenant",
        "user_group:dentists",
        "user_group:front desk",
        "user:ann@acme.example",
        "user:bob@acme.example",
        "endpoint_group:computer:reception pcs",
    ]
    assert f"base_policy:{TYPE}" in targets
    assert f"policy:{TYPE}:Onboarding laptops" in targets
    assert targets[-1] == f"exclusion:blocked::{SHA}"


def test_dry_run_sends_nothing(run, owner, baseline, template, monkeypatch):
    writes = record_writes(monkeypatch)

    started = _start(run, owner, _request(baseline, template), dry_run=True)

    assert writes == []
    assert started.dry_run is True
    assert started.created == {}
    assert started.tenant is None
    outcomes = _outcomes(started.job)
    assert outcomes["tenant"] == (
        JobItem.Status.SKIPPED,
        "Would create the tenant Acme Dental GmbH",
    )
    assert outcomes["user:ann@acme.example"] == (
        JobItem.Status.SKIPPED,
        "Would create the user ann@acme.example",
    )
    assert {status for status, _ in outcomes.values()} == {JobItem.Status.SKIPPED}
    assert _partner_tenants_named("Acme Dental GmbH") == []


def test_dry_run_of_existing_tenant_reads_it(run, owner, tenants, monkeypatch):
    directory.user_create(
        user=owner, tenant=tenants[1], name="Ann", email="ann@acme.example"
    )
    writes = record_writes(monkeypatch)
    request = _request(new_tenant=None, existing_tenant_id=str(tenants[1].pk))

    started = _start(run, owner, request, dry_run=True)

    assert writes == []
    outcomes = _outcomes(started.job)
    status, message = outcomes["user:ann@acme.example"]
    assert status == JobItem.Status.SKIPPED
    assert message.startswith("Already present: user ")
    assert (
        outcomes["user:bob@acme.example"][1] == "Would create the user bob@acme.example"
    )
    tenants[1].refresh_from_db()
    assert tenants[1].customer_name != "Acme Dental"


def test_repeat_of_dry_run_runs_it(run, owner, baseline):
    preview = _start(run, owner, _request(baseline), dry_run=True)

    started = run(onboarding.onboarding_repeat, user=owner, preview=preview)

    started.refresh_from_db()
    assert started.dry_run is False
    assert started.job.status == Job.Status.SUCCEEDED
    assert started.tenant.customer_name == "Acme Dental"


def test_resume_creates_nothing_twice(run, owner, baseline, template, monkeypatch):
    real_handle = SimulatorTransport.handle_request
    rejection = reject(
        monkeypatch, "POST", r"/common/v1/directory/users$", 400, "Directory is busy."
    )
    started = _start(run, owner, _request(baseline, template))
    assert started.job.status == Job.Status.PARTIAL
    failed = started.job.items.filter(status=JobItem.Status.FAILED)
    assert sorted(failed.values_list("target", flat=True)) == [
        "user:ann@acme.example",
        "user:bob@acme.example",
    ]
    assert failed.first().correlation_id == rejection.correlation_ids[0]
    monkeypatch.setattr(SimulatorTransport, "handle_request", real_handle)
    writes = record_writes(monkeypatch)

    job = run(onboarding.onboarding_resume, user=owner, run=started)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert writes == ["POST /common/v1/directory/users"] * 2
    outcomes = _outcomes(job)
    assert outcomes["tenant"][0] == JobItem.Status.SKIPPED
    assert outcomes["tenant"][1].startswith("Already done:")
    assert outcomes["user:ann@acme.example"][0] == JobItem.Status.SUCCEEDED
    assert len(_partner_tenants_named("Acme Dental GmbH")) == 1
    started.refresh_from_db()
    assert len(directory.users_list(tenant=started.tenant).items) == 2


def test_resume_finds_unrecorded_objects(run, owner, baseline, template, monkeypatch):
    started = _start(run, owner, _request(baseline, template))
    # As if the run had stopped after creating these but before recording them.
    lost = ["tenant", "endpoint_group:computer:reception pcs", "user:bob@acme.example"]
    started.created = {k: v for k, v in started.created.items() if k not in lost}
    started.save(update_fields=["created"])
    writes = record_writes(monkeypatch)

    job = run(onboarding.onboarding_resume, user=owner, run=started)

    job.refresh_from_db()
    outcomes = _outcomes(job)
    assert outcomes["tenant"][1].startswith(
        "Found the existing tenant Acme Dental GmbH"
    )
    assert outcomes["endpoint_group:computer:reception pcs"][1].startswith(
        "Already present: endpoint group"
    )
    assert outcomes["user:bob@acme.example"][1].startswith("Already present: user")
    assert writes == []
    assert len(_partner_tenants_named("Acme Dental GmbH")) == 1
    started.refresh_from_db()
    assert set(lost) <= set(started.created)


def test_resume_rejected_while_running(run, owner, baseline):
    started = _start(run, owner, _request(baseline))
    started.job.status = Job.Status.RUNNING
    started.job.save(update_fields=["status"])

    with pytest.raises(ValueError, match="still running"):
        onboarding.onboarding_resume(user=owner, run=started)


def test_forbidden_tenant_fails_steps(run, owner, tenants):
    set_faults(forbidden_tenant_ids=[str(tenants[1].pk)])
    request = _request(
        new_tenant=None, existing_tenant_id=str(tenants[1].pk), user_groups=[]
    )

    started = _start(run, owner, request)

    assert started.job.status == Job.Status.PARTIAL
    outcomes = _outcomes(started.job)
    assert outcomes["tenant"][0] == JobItem.Status.SUCCEEDED
    failed = started.job.items.get(target="user:bob@acme.example")
    assert failed.status == JobItem.Status.FAILED
    assert failed.correlation_id


# Scope


def test_technician_cannot_create_tenant(tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])

    with pytest.raises(ValueError, match="may not create tenants"):
        onboarding.onboarding_start(user=technician, request=_request(), dry_run=False)

    assert not OnboardingRun.objects.exists()


def test_technician_cannot_onboard_other_tenant(tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    request = _request(new_tenant=None, existing_tenant_id=str(tenants[1].pk))

    with pytest.raises(ValueError, match="existing tenant that you may change"):
        onboarding.onboarding_start(user=technician, request=request, dry_run=False)


def test_technician_baseline_must_be_visible(tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    request = _request(
        baseline=tenants[1], new_tenant=None, existing_tenant_id=str(tenants[0].pk)
    )

    with pytest.raises(ValueError, match="baseline tenant"):
        onboarding.onboarding_start(user=technician, request=request, dry_run=False)


def test_task_rechecks_scope(tenants, monkeypatch, django_capture_on_commit_callbacks):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[1]])
    request = _request(new_tenant=None, existing_tenant_id=str(tenants[1].pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = onboarding.onboarding_start(
            user=technician, request=request, dry_run=False
        )
    technician.tenant_assignments.all().delete()
    writes = record_writes(monkeypatch)

    for callback in callbacks:
        callback()

    assert writes == []
    statuses = set(started.job.items.values_list("status", flat=True))
    assert statuses == {JobItem.Status.SKIPPED}
    tenants[1].refresh_from_db()
    assert tenants[1].customer_name != "Acme Dental"


def test_runs_visible_to_requester(run, owner, tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[1]])
    request = _request(new_tenant=None, existing_tenant_id=str(tenants[1].pk))
    mine = _start(run, technician, request, dry_run=True)
    _start(run, owner, request, dry_run=True)

    assert list(onboarding.onboarding_runs_visible(user=technician)) == [mine]
    assert onboarding.onboarding_runs_visible(user=owner).count() == 2


# Exclusion templates


def test_exclusion_template_reads_every_family(owner, tenants):
    exclusions.allowed_item_create(
        user=owner,
        tenant=tenants[2],
        type="path",
        properties=ItemProperties(path="C:\\Tools\\tool.exe"),
        comment="Admin tool",
    )
    exclusions.isolation_exclusion_create(
        user=owner,
        tenant=tenants[2],
        rule=exclusions.NetworkRule(
            direction="outbound", remote_addresses=["10.0.0.5"], remote_ports=[443]
        ),
    )

    template = exclusion_templates.exclusion_template_create(
        user=owner, name="From tenant 2", tenant=tenants[2]
    )

    families = {entry["family"] for entry in template.exclusions}
    assert {"allowed", "isolation"} <= families
    allowed = [
        e for e in template.exclusions if e.get("value") == "C:\\Tools\\tool.exe"
    ]
    assert allowed == [
        {
            "family": "allowed",
            "type": "path",
            "value": "C:\\Tools\\tool.exe",
            "comment": "Admin tool",
        }
    ]
    assert AuditEntry.objects.filter(
        operation="fleet.exclusion_template_create"
    ).exists()


def test_exclusion_find_matches_created(owner, tenants):
    entry = {
        "family": "isolation",
        "direction": "outbound",
        "local_ports": [],
        "remote_ports": [443],
        "remote_addresses": ["10.0.0.9"],
        "comment": "Proxy",
    }
    assert exclusion_templates.exclusion_find(tenant=tenants[3], entry=entry) is None

    created = exclusion_templates.exclusion_create(
        user=owner, tenant=tenants[3], entry=entry
    )

    assert exclusion_templates.exclusion_find(tenant=tenants[3], entry=entry) == created


def test_task_rechecks_baseline_scope(
    tenants, owner, monkeypatch, django_capture_on_commit_callbacks
):
    base_policy = policies.base_policy_get(tenant=tenants[0], policy_type=TYPE)
    policies.policy_update(
        user=owner,
        tenant=tenants[0],
        policy_id=base_policy.id,
        settings={MALWARE: False},
    )
    technician = make_user(roles=[Role.TECHNICIAN], tenants=tenants[:2])
    request = _request(
        baseline=tenants[0],
        new_tenant=None,
        existing_tenant_id=str(tenants[1].pk),
        users=[],
        user_groups=[],
        endpoint_groups=[],
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = onboarding.onboarding_start(
            user=technician, request=request, dry_run=False
        )
    technician.tenant_assignments.filter(tenant=tenants[0]).delete()

    for callback in callbacks:
        callback()

    item = started.job.items.get(target=f"base_policy:{TYPE}")
    assert item.status == JobItem.Status.SKIPPED
    assert item.message == onboarding.BASELINE_HIDDEN_MESSAGE
    current = policies.base_policy_get(tenant=tenants[1], policy_type=TYPE)
    assert current.setting(MALWARE).value is True


def test_repeated_dry_run_records_own_run(run, owner, baseline):
    from sophos.services.fleet_ops import base

    preview = _start(run, owner, _request(baseline), dry_run=True)

    # As the job page's button runs a finished dry run for real.
    job = run(
        base.operation_start,
        kind=preview.job.kind,
        user=owner,
        parameters=dict(preview.job.parameters),
        dry_run=False,
    )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    real = OnboardingRun.objects.get(dry_run=False)
    assert real.request["repeat_of_job"] == job.pk
    assert real.tenant.customer_name == "Acme Dental"
    assert "tenant" in real.created
    preview.refresh_from_db()
    assert preview.created == {}
    resumed = run(onboarding.onboarding_resume, user=owner, run=real)
    resumed.refresh_from_db()
    assert len(_partner_tenants_named("Acme Dental GmbH")) == 1
    assert set(resumed.items.values_list("status", flat=True)) == {
        JobItem.Status.SKIPPED
    }
