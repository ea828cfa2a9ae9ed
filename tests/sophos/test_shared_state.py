"""The token store and rate limiter that processes share through the cache."""

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection

from sophos.client import SophosClient
from sophos.errors import RateLimitReached
from sophos.shared_state import CacheRateLimiter, CacheTokenStore
from sophos.simulator.clock import FrozenClock, use_clock
from sophos.simulator.faults import reset_faults, set_faults
from sophos.simulator.seed import demo_credential
from sophos.simulator.transport import SimulatorTransport

# 2026-01-01T00:00:00Z, the start of a minute and of a day.
EPOCH_MINUTE = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class FakeClock:
    """Seconds since the epoch that move only when a limiter sleeps."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock, **budget) -> CacheRateLimiter:
    return CacheRateLimiter(clock=clock, sleep=clock.sleep, **budget)


@pytest.mark.django_db
def test_shared_limiters_keep_the_minute_budget():
    clock = FakeClock(EPOCH_MINUTE + 10)
    first = limiter(clock, per_minute=7)
    second = limiter(clock, per_minute=7)
    granted: list[float] = []

    for call in range(35):
        (first if call % 2 else second).acquire("credential")
        granted.append(clock())

    per_window = Counter(int(moment // 60) for moment in granted)
    assert max(per_window.values()) == 7
    assert len(per_window) == 5
    assert clock() - (EPOCH_MINUTE + 10) == pytest.approx(4 * 60 - 10)


@pytest.mark.django_db
def test_limiter_budget_is_per_credential():
    clock = FakeClock(EPOCH_MINUTE + 10)
    shared = limiter(clock, per_minute=2)

    for key in ("one", "one", "two", "two"):
        shared.acquire(key)

    assert clock.waits == []


@pytest.mark.django_db
def test_limiter_waits_out_the_window_guard():
    clock = FakeClock(EPOCH_MINUTE + 59.5)

    limiter(clock, per_minute=100).acquire("credential")

    assert clock.waits == [pytest.approx(0.5)]
    assert clock() == pytest.approx(EPOCH_MINUTE + 60)


@pytest.mark.django_db
def test_limiter_waits_for_the_next_day():
    clock = FakeClock(EPOCH_MINUTE + 10)
    daily = limiter(clock, per_minute=100, per_day=3)

    for _ in range(4):
        daily.acquire("credential")

    assert clock.waits == [pytest.approx(86_400 - 10)]


@pytest.mark.django_db
def test_limiter_raises_when_wait_passes_max_wait():
    clock = FakeClock(EPOCH_MINUTE + 10)
    shared = limiter(clock, per_minute=1)
    shared.acquire("credential")

    with pytest.raises(RateLimitReached) as caught:
        shared.acquire("credential", max_wait=5)

    minute_key = f"sophos-rate:credential:60:{int(clock() // 60)}"
    assert caught.value.retry_after == pytest.approx(50)
    assert clock.waits == []
    assert cache.get(minute_key) == 1


@pytest.mark.django_db
def test_limiter_returns_the_seconds_it_waited():
    clock = FakeClock(EPOCH_MINUTE + 57)
    shared = limiter(clock, per_minute=1)
    shared.acquire("credential")

    waited = shared.acquire("credential", max_wait=5)

    assert waited == pytest.approx(3)
    assert clock.waits == [pytest.approx(3)]


@pytest.mark.django_db
def test_rejected_call_keeps_its_minute_slot():
    clock = FakeClock(EPOCH_MINUTE + 10)
    daily = limiter(clock, per_minute=100, per_day=2)
    daily.acquire("credential")
    daily.acquire("credential")

    wait = daily._take("credential", clock())

    minute_key = f"sophos-rate:credential:60:{int(clock() // 60)}"
    assert wait == pytest.approx(86_400 - 10)
    assert cache.get(minute_key) == 2


@pytest.mark.django_db
def test_shared_limiters_avoid_simulator_429():
    reset_faults()
    sim_clock = FrozenClock(datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC))
    credential = demo_credential()

    def make_client() -> SophosClient:
        def clock() -> float:
            return sim_clock.now().timestamp()

        return SophosClient(
            client_id=credential.client_id,
            client_secret=credential.client_secret,
            transport=SimulatorTransport(),
            token_store=CacheTokenStore(clock=clock),
            rate_limiter=CacheRateLimiter(
                per_minute=5, clock=clock, sleep=sim_clock.sleep
            ),
            clock=clock,
            sleep=sim_clock.sleep,
        )

    with use_clock(sim_clock):
        set_faults(calls_per_minute=5)
        clients = [make_client(), make_client()]
        for call in range(16):
            clients[call % 2].request("GET", "/whoami/v1", scope=None)
        reset_faults()

    assert [client.rate_limited_responses for client in clients] == [0, 0]
    assert sum(client.calls_made for client in clients) == 16
    assert sim_clock.now() >= datetime(2026, 1, 1, 0, 3, tzinfo=UTC)


class BudgetUsed(Exception):
    pass


def test_concurrent_limiters_grant_exact_budget(shared_database):
    granted: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        def stop(seconds: float) -> None:
            raise BudgetUsed

        frozen = CacheRateLimiter(
            per_minute=12, clock=lambda: EPOCH_MINUTE + 10, sleep=stop
        )
        try:
            while True:
                frozen.acquire("credential")
                granted.append(1)
        except BudgetUsed:
            pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(granted) == 12


@pytest.mark.django_db
def test_token_store_shares_one_token():
    transport = SimulatorTransport(record=True)
    credential = demo_credential()
    clients = [
        SophosClient(
            client_id=credential.client_id,
            client_secret=credential.client_secret,
            transport=transport,
            token_store=CacheTokenStore(),
        )
        for _ in range(2)
    ]

    tokens = {client.access_token() for client in clients}

    token_calls = [call for call in transport.calls if "oauth2" in call.url]
    assert len(tokens) == 1
    assert len(token_calls) == 1
