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

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from sophos.models import AuditEntry, Endpoint, Job, JobItem, Tenant
from sophos.services import endpoints as endpoint_services
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
        item = items[str(fleet.endpoints[role].pk)]
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
