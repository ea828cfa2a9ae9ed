"""Token store and rate limiter shared by every process through Django's cache.

The embedded mode uses the database cache and the scaled mode Redis, so the
web server and every cluster worker reuse one token per credential and stay
inside one call budget together.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.core.cache import cache

from sophos import client as client_module
from sophos.client import Clock, Sleep, Token
from sophos.errors import RateLimitReached

logger = logging.getLogger(__name__)

LOCK_SECONDS = 30
LOCK_POLL_SECONDS = 0.005

MINUTE = 60
DAY = 86_400

# A call is not sent in the last GUARD_SECONDS of a window: the server counts
# the call when it arrives, which may already be in the next window, where it
# would exceed that window's budget.
GUARD_SECONDS = 1.0


@contextmanager
def cache_lock(name: str, *, timeout: float = LOCK_SECONDS) -> Iterator[None]:
    """Hold a lock named ``name`` that every process sharing the cache sees.

    ``cache.add`` is atomic on the database and Redis caches, so one process at
    a time holds the lock. A lock whose holder died lapses after ``timeout``
    seconds. The wait uses real time, whatever clock the caller runs on,
    because the holder releases it in real time.

    NOTE: on PostgreSQL with the database cache, ``add`` over a lapsed entry is
    a plain UPDATE, so two processes can both take a lock whose holder died.
    Redis and SQLite (IMMEDIATE transactions) give it to one process only.
    """
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + timeout
    while not cache.add(name, owner, timeout=int(timeout) + 1):
        if time.monotonic() > deadline:
            logger.warning(
                "cache lock %s held for over %s s, taking it over", name, timeout
            )
            cache.set(name, owner, timeout=int(timeout) + 1)
            break
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        if cache.get(name) == owner:
            cache.delete(name)


class CacheTokenStore:
    """Tokens kept in the cache until they expire by ``clock``."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock

    def _key(self, key: str) -> str:
        return f"sophos-token:{key}"

    def get(self, key: str) -> Token | None:
        value = cache.get(self._key(key))
        if not isinstance(value, dict):
            return None
        return Token(access_token=value["t"], expires_at=value["e"])

    def set(self, key: str, token: Token) -> None:
        timeout = max(1, int(token.expires_at - self.clock()))
        cache.set(
            self._key(key),
            {"t": token.access_token, "e": token.expires_at},
            timeout=timeout,
        )

    def delete(self, key: str) -> None:
        cache.delete(self._key(key))

    def renewal_lock(self, key: str) -> AbstractContextManager[None]:
        return cache_lock(f"sophos-token-lock:{key}")


class CacheRateLimiter:
    """A fixed-window call budget per credential, counted in the cache.

    Each minute and each day since the epoch, by ``clock``, is a window with
    its own counter. A call that would exceed either budget waits for the next
    window, or raises ``RateLimitReached`` when that is longer than the
    caller's ``max_wait``. No call starts in the last ``guard_seconds`` of a
    window.
    Both windows are checked and counted under one cache lock, because the
    database cache's ``incr`` is a read and a write that two processes could
    interleave. The lock also keeps a call rejected by the day budget from
    using up a slot of the minute budget.

    The embedded simulator counts fixed windows on the same boundaries
    (``sophos.simulator.faults.count_call``), so a client whose limiter and
    simulator share one clock never receives a 429.
    NOTE/sophos-api: whether Sophos Central counts fixed or sliding windows is
    not documented; with sliding windows a burst across a window boundary can
    still receive a 429, which the client retries after ``Retry-After``.
    """

    def __init__(
        self,
        *,
        per_minute: int,
        per_day: int = 0,
        clock: Clock = time.time,
        sleep: Sleep | None = None,
        guard_seconds: float = GUARD_SECONDS,
    ) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self.sleep = sleep or (lambda seconds: client_module.pause(seconds))
        self.guard_seconds = guard_seconds

    def acquire(self, key: str, *, max_wait: float | None = None) -> float:
        """Count one call of ``key`` and return the seconds slept first.

        Raises ``RateLimitReached`` when the wait would pass ``max_wait``.
        """
        waited = 0.0
        while True:
            wait = self._take(key, self.clock())
            if wait <= 0:
                return waited
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimitReached(retry_after=wait)
            self.sleep(wait)
            waited += wait

    def _budgets(self) -> list[tuple[int, int]]:
        windows = [(MINUTE, self.per_minute), (DAY, self.per_day)]
        return [(length, limit) for length, limit in windows if limit > 0]

    def _take(self, key: str, now: float) -> float:
        """Count one call and return 0, or return the seconds to wait first."""
        budgets = self._budgets()
        if not budgets:
            return 0.0
        shortest = budgets[0][0]
        left_in_window = (now // shortest + 1) * shortest - now
        if left_in_window <= self.guard_seconds:
            return left_in_window

        names = {
            length: f"sophos-rate:{key}:{length}:{int(now // length)}"
            for length, _ in budgets
        }
        with cache_lock(f"sophos-rate-lock:{key}"):
            counts = cache.get_many(list(names.values()))
            for length, limit in budgets:
                if counts.get(names[length], 0) >= limit:
                    return (now // length + 1) * length - now
            for length, _ in budgets:
                name = names[length]
                # A window's counter outlives the window, so a process whose
                # clock lags a little still finds it.
                cache.set(name, counts.get(name, 0) + 1, timeout=length + MINUTE)
        return 0.0
