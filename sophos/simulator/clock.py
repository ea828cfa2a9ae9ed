"""The simulator's source of time.

Every timestamp, token expiry, rate-limit window and injected delay in the
simulator reads this module, so a test or a benchmark can freeze time or run
it faster than real time with ``set_clock``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class Clock:
    """Real time: ``now`` is the system's UTC time and ``sleep`` blocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FrozenClock(Clock):
    """Time that moves only when ``advance`` (or ``sleep``) is called."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))


class ScaledClock(Clock):
    """Time that runs ``speed`` times faster than real time from ``start``."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self._start = start or datetime.now(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


_clock: Clock = Clock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> None:
    """Replace the simulator's clock for every thread of this process."""
    global _clock
    _clock = clock


def reset_clock() -> None:
    set_clock(Clock())


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Run a block with ``clock``, then restore the clock that was in use."""
    previous = get_clock()
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def now() -> datetime:
    return _clock.now()


def sleep(seconds: float) -> None:
    _clock.sleep(seconds)


def isoformat(moment: datetime) -> str:
    """Format a time as Sophos does: UTC, milliseconds and a ``Z`` suffix."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return isoformat(now())
