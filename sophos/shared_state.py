"""Token store and rate limiter shared by every process through Django's cache.

The embedded mode uses the database cache, so the web server and each
cluster worker reuse one token and stay inside one call budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.core.cache import cache

from sophos import client as client_module
from sophos.client import Clock, Sleep, Token

LOCK_SECONDS = 30


class CacheTokenStore:
    def __init__(self, *, clock: Clock = time.time, sleep: Sleep | None = None):
        self.clock = clock
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))

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

    def renewal_lock(self, key: str) -> AbstractContextManager[object]:
        return self._lock(f"sophos-token-lock:{key}")

    @contextmanager
    def _lock(self, name: str) -> Iterator[object]:
        # cache.add is atomic on the database and Redis caches, so one
        # process at a time holds the lock; it lapses after LOCK_SECONDS if
        # its holder dies.
        deadline = self.clock() + LOCK_SECONDS
        while not cache.add(name, 1, timeout=LOCK_SECONDS):
            if self.clock() > deadline:
                break
            self.sleep(0.05)
        try:
            yield None
        finally:
            cache.delete(name)


class CacheRateLimiter:
    """A fixed-window call budget per credential, counted in the cache.

    Each minute and each day is a window with its own counter, incremented
    atomically; a call that would exceed either waits for the next window.
    """

    def __init__(
        self,
        *,
        per_minute: int,
        per_day: int = 0,
        clock: Clock = time.time,
        sleep: Sleep | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self.sleep = sleep or (lambda seconds: client_module.pause(seconds))

    def acquire(self, key: str) -> None:
        while True:
            now = self.clock()
            wait = self._take(key, now)
            if wait <= 0:
                return
            self.sleep(wait)

    def _take(self, key: str, now: float) -> float:
        windows = [(60, self.per_minute), (86_400, self.per_day)]
        for length, limit in windows:
            if not limit:
                continue
            window = int(now // length)
            name = f"sophos-rate:{key}:{length}:{window}"
            cache.add(name, 0, timeout=length * 2)
            try:
                count = cache.incr(name)
            except ValueError:
                cache.set(name, 1, timeout=length * 2)
                count = 1
            if count > limit:
                return (window + 1) * length - now
        return 0.0
