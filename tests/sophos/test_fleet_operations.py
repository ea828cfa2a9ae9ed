"""Every fleet operation, driven through a simulator fleet with faults.

The fleet has a tenant that returns 403 (``forbidden``), an endpoint that
Sophos does not know (``ghost``, mirrored only, so Sophos returns 404), and
runs each case a second time with random 429 responses that the client
retries. Each case lists the exact outcome of every item by role.

To add an operation, add ``Case`` rows to ``CASES``: ``parameters`` builds
the operation's input from the fleet, ``arrange`` prepares the simulator,
and ``expected`` maps each endpoint role to (status, message). A message
wrapped in ``Contains`` matches any message that contains it, for Sophos
errors whose text names the request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from sophos.models import AuditEntry, Endpoint, Job, JobItem, Tenant
from sophos.models_fleet import (
    DriftAcceptance,
    DriftCheck,
    DriftResult,
    ItemPush,
    ItemPushTarget,
    OnboardingRun,
)
from sophos.services import endpoints as endpoint_services
from sophos.services import exclusions, policies
from sophos.services.fleet_ops import base
from sophos.simulator import faults
from tests.portal.simulator_calls import record_writes

pytestmark = pytest.mark.django_db

# Roles of the fleet's endpoints, as item keys in the expectations.
FIRST = "first"
SECOND = "second"
GHOST = "ghost"
FORBIDDEN = "forbidden"
ROLES = (FIRST, SECOND, GHOST, FORBIDDEN)

SUCCEEDED = JobItem.Status.SUCCEEDED
FAILED = JobItem.Status.FAILED
SKIPPED = JobItem.Status.SKIPPED


@dataclass
class Fleet:
    owner: Any
    tenant: Tenant
    forbidden_tenant: Tenant
    endpoints: dict[str, Endpoint]

    def ids(self, *roles: str) -> list[str]:
        return [str(self.endpoints[role].pk) for role in roles]

    def hostname(self, role: str) -> str:
        return self.endpoints[role].hostname


class Contains(str):
    """An expected message that may be part of the item's message."""


Expected = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    parameters: Callable[[Fleet], dict[str, Any]]
    expected: Callable[[Fleet], Expected]
    dry_run: bool = False
    arrange: Callable[[Fleet], None] = lambda fleet: None
    # Job statuses allowed at the end; every case here has a failure.
    job_status: str = Job.Status.PARTIAL
    roles: tuple[str, ...] = field(default=ROLES)
    # The target of the item of each role: an endpoint id unless given.
    target: Callable[[Fleet, str], str] = lambda fleet, role: fleet.ids(role)[0]


def _all(fleet: Fleet) -> list[str]:
    return fleet.ids(*ROLES)


def _not_found(fleet: Fleet) -> tuple[str, str]:
    return FAILED, Contains(f"Endpoint {fleet.endpoints[GHOST].pk} not found.")


def _denied(fleet: Fleet) -> tuple[str, str]:
    return FAILED, Contains(f"Access to tenant {fleet.forbidden_tenant.pk} is denied.")


def _isolate_second(fleet: Fleet) -> None:
    endpoint_services.endpoint_isolate(
        user=fleet.owner,
        tenant=fleet.tenant,
        endpoint_id=fleet.endpoints[SECOND].pk,
        comment="Isolated before the test.",
    )


def _tamper_first_off(fleet: Fleet) -> None:
    endpoint_services.endpoint_tamper_protection_set(
        user=fleet.owner,
        tenant=fleet.tenant,
        endpoint_id=fleet.endpoints[FIRST].pk,
        enabled=False,
    )


def _isolation(reason: str = "Suspected ransomware") -> Callable[[Fleet], dict]:
    return lambda fleet: {"endpoint_ids": _all(fleet), "reason": reason}


CASES = [
    Case(
        name="isolate",
        kind="isolation.isolate",
        arrange=_isolate_second,
        parameters=_isolation(),
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, "Isolated."),
            SECOND: (SKIPPED, "Already isolated."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
    ),
    Case(
        name="isolate-dry-run",
        kind="isolation.isolate",
        dry_run=True,
        arrange=_isolate_second,
        parameters=_isolation(),
        expected=lambda fleet: {
            FIRST: (SKIPPED, f"Would isolate {fleet.hostname(FIRST)}"),
            SECOND: (SKIPPED, "Already isolated."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
        job_status=Job.Status.FAILED,
    ),
    Case(
        name="release",
        kind="isolation.release",
        arrange=_isolate_second,
        parameters=_isolation("Cleaned"),
        expected=lambda fleet: {
            FIRST: (SKIPPED, "Already not isolated."),
            SECOND: (SUCCEEDED, "Released."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
    ),
    Case(
        name="tamper-enable",
        kind="tamper.enable",
        arrange=_tamper_first_off,
        parameters=lambda fleet: {"endpoint_ids": _all(fleet)},
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, "Tamper protection on."),
            SECOND: (SKIPPED, "Already on."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
    ),
    Case(
        name="tamper-enable-dry-run",
        kind="tamper.enable",
        dry_run=True,
        arrange=_tamper_first_off,
        parameters=lambda fleet: {"endpoint_ids": _all(fleet)},
        expected=lambda fleet: {
            FIRST: (
                SKIPPED,
                f"Would turn tamper protection on for {fleet.hostname(FIRST)}",
            ),
            SECOND: (SKIPPED, "Already on."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
        job_status=Job.Status.FAILED,
    ),
    Case(
        name="hygiene-delete",
        kind="hygiene.delete",
        parameters=lambda fleet: {"endpoint_ids": _all(fleet), "reason": "Stale"},
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, "Deleted."),
            SECOND: (SUCCEEDED, "Deleted."),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
    ),
    Case(
        name="hygiene-delete-dry-run",
        kind="hygiene.delete",
        dry_run=True,
        parameters=lambda fleet: {"endpoint_ids": _all(fleet), "reason": "Stale"},
        expected=lambda fleet: {
            FIRST: (SKIPPED, f"Would delete {fleet.hostname(FIRST)}"),
            SECOND: (SKIPPED, f"Would delete {fleet.hostname(SECOND)}"),
            GHOST: _not_found(fleet),
            FORBIDDEN: _denied(fleet),
        },
        job_status=Job.Status.FAILED,
    ),
]


# Operations with one item a tenant: the roles name tenants. FIRST is the
# fleet's tenant, SECOND another tenant, GHOST a mirrored tenant that Sophos
# no longer lets the partner manage, and FORBIDDEN the tenant that returns 403.

GHOST_TENANT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000ff")
PUSH_SHA = "e" * 64
DRIFT_TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"
ONBOARDING_EMAIL = "fleet-test-user@example.com"
BAD_HASH = "not-a-hash"


def _tenant_of(fleet: Fleet, role: str) -> Tenant:
    if role == FIRST:
        return fleet.tenant
    if role == FORBIDDEN:
        return fleet.forbidden_tenant
    if role == SECOND:
        others = Tenant.objects.exclude(
            pk__in=[fleet.tenant.pk, fleet.forbidden_tenant.pk, GHOST_TENANT_ID]
        )
        return others.order_by("name").first()
    ghost, _ = Tenant.objects.get_or_create(
        id=GHOST_TENANT_ID,
        defaults={
            "connection": fleet.tenant.connection,
            "name": "Ghost tenant",
            "api_host": fleet.tenant.api_host,
            "data_region": fleet.tenant.data_region,
        },
    )
    return ghost


def _tenant_target(fleet: Fleet, role: str) -> str:
    return str(_tenant_of(fleet, role).pk)


def _tenant_ids(fleet: Fleet) -> list[str]:
    return [_tenant_target(fleet, role) for role in ROLES]


def _ghost_denied(fleet: Fleet) -> tuple[str, str]:
    return FAILED, Contains(f"This credential may not manage tenant {GHOST_TENANT_ID}")


def _tenant_denied(fleet: Fleet) -> tuple[str, str]:
    return _denied(fleet)


def _block_in_second(fleet: Fleet) -> None:
    exclusions.blocked_item_create(
        user=fleet.owner,
        tenant=_tenant_of(fleet, SECOND),
        properties=exclusions.ItemProperties(sha256=PUSH_SHA),
        comment="Blocked before the test.",
    )


def _push(dry_run: bool) -> Callable[[Fleet], dict[str, Any]]:
    def parameters(fleet: Fleet) -> dict[str, Any]:
        push = ItemPush.objects.create(
            kind=ItemPush.Kind.BLOCKED,
            value=PUSH_SHA,
            comment="Fleet test",
            tenant_ids=_tenant_ids(fleet),
            dry_run=dry_run,
        )
        return {"push_id": push.pk}

    return parameters


def _pushed_everywhere(fleet: Fleet) -> None:
    created = exclusions.blocked_item_create(
        user=fleet.owner,
        tenant=fleet.tenant,
        properties=exclusions.ItemProperties(sha256=PUSH_SHA),
        comment="Pushed",
    )
    push = ItemPush.objects.create(
        kind=ItemPush.Kind.BLOCKED, value=PUSH_SHA, comment="Pushed"
    )
    ids = {FIRST: created.id, GHOST: str(uuid.uuid4()), FORBIDDEN: str(uuid.uuid4())}
    for role, item_id in ids.items():
        ItemPushTarget.objects.create(
            push=push,
            tenant=_tenant_of(fleet, role),
            status=ItemPushTarget.Status.CREATED,
            item_id=item_id,
        )


def _latest_push(fleet: Fleet) -> dict[str, Any]:
    return {"push_id": ItemPush.objects.latest("pk").pk}


def _base_malware(fleet: Fleet, role: str, value: bool) -> None:
    tenant = _tenant_of(fleet, role)
    base_policy = policies.base_policy_get(tenant=tenant, policy_type=DRIFT_TYPE)
    policies.policy_update(
        user=fleet.owner,
        tenant=tenant,
        policy_id=base_policy.id,
        settings={MALWARE: value},
    )


def _drift_check(fleet: Fleet) -> DriftCheck:
    return DriftCheck.objects.create(
        policy_type=DRIFT_TYPE,
        baseline_label="Fleet test baseline",
        baseline_settings={MALWARE: True},
    )


def _second_drifts(fleet: Fleet) -> None:
    _base_malware(fleet, FIRST, True)
    _base_malware(fleet, SECOND, False)


def _compare(fleet: Fleet) -> dict[str, Any]:
    return {"check_id": _drift_check(fleet).pk, "tenant_ids": _tenant_ids(fleet)}


def _all_drifted(fleet: Fleet) -> None:
    """Every tenant deviated when last checked; SECOND's deviation is accepted."""
    _base_malware(fleet, FIRST, False)
    _base_malware(fleet, SECOND, False)
    check = _drift_check(fleet)
    for role in ROLES:
        DriftResult.objects.create(
            drift_check=check,
            tenant=_tenant_of(fleet, role),
            status=DriftResult.Status.DRIFTED,
            deviations=[
                {"key": MALWARE, "baseline": True, "tenant": False, "present": True}
            ],
        )
    DriftAcceptance.objects.create(
        tenant=_tenant_of(fleet, SECOND),
        policy_type=DRIFT_TYPE,
        setting_key=MALWARE,
        reason="Lab tenant",
        expires_at=timezone.now() + dt.timedelta(days=7),
    )


def _realign(fleet: Fleet) -> dict[str, Any]:
    check = DriftCheck.objects.latest("pk")
    return {"check_id": check.pk, "tenant_ids": _tenant_ids(fleet)}


# Onboarding has one item a step: FIRST is the tenant step, SECOND a user
# and GHOST an allowed item that Sophos rejects as invalid.
ONBOARDING_TARGETS = {
    FIRST: "tenant",
    SECOND: f"user:{ONBOARDING_EMAIL}",
    GHOST: f"exclusion:allowed:sha256:{BAD_HASH}",
}


def _onboarding(
    dry_run: bool, forbidden: bool = False
) -> Callable[[Fleet], dict[str, Any]]:
    def parameters(fleet: Fleet) -> dict[str, Any]:
        tenant = fleet.forbidden_tenant if forbidden else fleet.tenant
        request = {
            "customer_name": "Fleet test customer",
            "new_tenant": None,
            "existing_tenant_id": str(tenant.pk),
            "existing_tenant_name": tenant.name,
            "users": [{"name": "Fleet User", "email": ONBOARDING_EMAIL, "group": ""}],
            "user_groups": [],
            "endpoint_groups": [],
            "baseline_tenant_id": "",
            "baseline_policies": [],
            "exclusions": [
                {
                    "family": "allowed",
                    "type": "sha256",
                    "value": BAD_HASH,
                    "comment": "Invalid on purpose",
                }
            ],
        }
        run = OnboardingRun.objects.create(
            customer_name="Fleet test customer",
            request=request,
            tenant=tenant,
            dry_run=dry_run,
        )
        return {"run_id": run.pk}

    return parameters


def _onboarding_target(fleet: Fleet, role: str) -> str:
    return ONBOARDING_TARGETS[role]


def _set_up(fleet: Fleet, tenant: Tenant) -> tuple[str, str]:
    return (
        SUCCEEDED,
        f"Set up the existing tenant {tenant.name}; customer name recorded.",
    )


CASES += [
    Case(
        name="push",
        kind="push.create",
        arrange=_block_in_second,
        parameters=_push(dry_run=False),
        target=_tenant_target,
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, Contains("Created item ")),
            SECOND: (SKIPPED, Contains("Already present as item ")),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
    ),
    Case(
        name="push-dry-run",
        kind="push.create",
        dry_run=True,
        arrange=_block_in_second,
        parameters=_push(dry_run=True),
        target=_tenant_target,
        expected=lambda fleet: {
            FIRST: (SKIPPED, f"Would add the blocked item {PUSH_SHA[:12]}…"),
            SECOND: (SKIPPED, Contains("Already present as item ")),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
        job_status=Job.Status.FAILED,
    ),
    Case(
        name="push-undo",
        kind="push.undo",
        arrange=_pushed_everywhere,
        parameters=_latest_push,
        target=_tenant_target,
        roles=(FIRST, GHOST, FORBIDDEN),
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, Contains("Deleted item ")),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
    ),
    Case(
        name="drift-compare",
        kind="drift.compare",
        arrange=_second_drifts,
        parameters=_compare,
        target=_tenant_target,
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, "Matches the baseline."),
            SECOND: (SUCCEEDED, f"1 setting deviates: {MALWARE}."),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
    ),
    Case(
        name="drift-realign",
        kind="drift.realign",
        arrange=_all_drifted,
        parameters=_realign,
        target=_tenant_target,
        expected=lambda fleet: {
            FIRST: (SUCCEEDED, f"Set 1 setting to the baseline: {MALWARE}."),
            SECOND: (
                SKIPPED,
                "Nothing to change: no open deviation. 1 accepted deviation stays.",
            ),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
    ),
    Case(
        name="drift-realign-dry-run",
        kind="drift.realign",
        dry_run=True,
        arrange=_all_drifted,
        parameters=_realign,
        target=_tenant_target,
        expected=lambda fleet: {
            FIRST: (SKIPPED, f"Would set 1 setting to the baseline: {MALWARE}."),
            SECOND: (
                SKIPPED,
                "Nothing to change: no open deviation. 1 accepted deviation stays.",
            ),
            GHOST: _ghost_denied(fleet),
            FORBIDDEN: _tenant_denied(fleet),
        },
        job_status=Job.Status.FAILED,
    ),
    Case(
        name="onboarding",
        kind="onboarding.run",
        parameters=_onboarding(dry_run=False),
        target=_onboarding_target,
        roles=(FIRST, SECOND, GHOST),
        expected=lambda fleet: {
            FIRST: _set_up(fleet, fleet.tenant),
            SECOND: (SUCCEEDED, Contains("Created user ")),
            GHOST: (FAILED, Contains("64 hexadecimal characters")),
        },
    ),
    Case(
        name="onboarding-dry-run",
        kind="onboarding.run",
        dry_run=True,
        parameters=_onboarding(dry_run=True),
        target=_onboarding_target,
        roles=(FIRST, SECOND, GHOST),
        expected=lambda fleet: {
            FIRST: (SKIPPED, "Would record the customer name Fleet test customer"),
            SECOND: (SKIPPED, f"Would create the user {ONBOARDING_EMAIL}"),
            GHOST: (SKIPPED, f"Would create the allowed item {BAD_HASH}"),
        },
        job_status=Job.Status.SUCCEEDED,
    ),
    Case(
        name="onboarding-forbidden-tenant",
        kind="onboarding.run",
        parameters=_onboarding(dry_run=False, forbidden=True),
        target=_onboarding_target,
        roles=(FIRST, SECOND, GHOST),
        expected=lambda fleet: {
            FIRST: _set_up(fleet, fleet.forbidden_tenant),
            SECOND: _denied(fleet),
            GHOST: _denied(fleet),
        },
    ),
]


@pytest.fixture
def fleet(synced_fleet, owner, settings) -> Fleet:
    settings.SOPHOS_MAX_RETRIES = 12
    faults.set_faults(isolation_delay_seconds=0)
    tenants = list(Tenant.objects.filter(endpoints_total__gte=2).order_by("name"))
    tenant, forbidden_tenant = tenants[0], tenants[1]
    usable = tenant.endpoints.filter(
        tamper_protection_enabled=True, isolation_status="notIsolated"
    ).order_by("hostname")
    first, second = usable[0], usable[1]
    ghost = Endpoint.objects.create(
        id=uuid.uuid4(),
        tenant=tenant,
        hostname="ghost-01",
        type="computer",
        synced_at=timezone.now(),
    )
    return Fleet(
        owner=owner,
        tenant=tenant,
        forbidden_tenant=forbidden_tenant,
        endpoints={
            FIRST: first,
            SECOND: second,
            GHOST: ghost,
            FORBIDDEN: forbidden_tenant.endpoints.order_by("hostname").first(),
        },
    )


def _matches(message: str, expected: str) -> bool:
    if isinstance(expected, Contains):
        return expected in message
    return message == expected


@pytest.mark.parametrize("rate_429", [0.0, 0.4], ids=["no-429", "429"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fleet_operation_outcomes(
    case, rate_429, fleet, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    case.arrange(fleet)
    faults.set_faults(
        forbidden_tenant_ids=[fleet.forbidden_tenant.pk], rate_429=rate_429
    )
    # With seed 3 the first random draw is 0.24, so the first request gets a 429.
    faults.seed_fault_random(3)
    writes = record_writes(monkeypatch)
    audited_before = AuditEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        job = base.operation_start(
            kind=case.kind,
            user=fleet.owner,
            parameters=case.parameters(fleet),
            dry_run=case.dry_run,
        )

    job.refresh_from_db()
    items = {item.target: item for item in job.items.all()}
    expected = case.expected(fleet)
    assert len(items) == len(case.roles)
    for role in case.roles:
        item = items[case.target(fleet, role)]
        status, message = expected[role]
        assert item.status == status, (role, item.message)
        assert _matches(item.message, message), (role, item.message)
        if status == FAILED:
            assert item.correlation_id, role
    assert job.status == case.job_status
    assert job.done == len(case.roles)
    retried = [
        r
        for r in caplog.records
        if "429" in r.getMessage() and "retry" in r.getMessage()
    ]
    assert bool(retried) == bool(rate_429)
    if case.dry_run:
        assert writes == []
        # Only the entry that records the queued job.
        assert AuditEntry.objects.count() == audited_before + 1
