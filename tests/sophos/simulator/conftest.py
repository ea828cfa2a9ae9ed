"""Fixtures for the simulator's tests: a small seeded fleet and an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sim_helpers import (
    FLEET_ENDPOINTS,
    FLEET_SEED,
    FLEET_TENANTS,
    Api,
    fetch_token,
)

from sophos.simulator import clock
from sophos.simulator.faults import reset_faults
from sophos.simulator.models import SimTenant
from sophos.simulator.seed import DemoCredential, seed_fleet
from sophos.simulator.transport import SimulatorTransport


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Restore the real clock after a test that replaced it."""
    yield
    clock.reset_clock()


@pytest.fixture
def fleet(db: None) -> DemoCredential:
    """Seed four tenants with seven endpoints each and no faults."""
    reset_faults()
    return seed_fleet(
        seed=FLEET_SEED,
        tenants=FLEET_TENANTS,
        max_endpoints=20,
        endpoints_per_tenant=FLEET_ENDPOINTS,
    )


@pytest.fixture
def transport() -> SimulatorTransport:
    return SimulatorTransport(record=True)


@pytest.fixture
def sim_client(transport: SimulatorTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport) as opened:
        yield opened


@pytest.fixture
def api(fleet: DemoCredential, sim_client: httpx.Client) -> Api:
    return Api(sim_client, fetch_token(sim_client, fleet), fleet.partner_id)


@pytest.fixture
def first_tenant(fleet: DemoCredential) -> SimTenant:
    return SimTenant.objects.filter(partner_id=fleet.partner_id).order_by("seq")[0]
