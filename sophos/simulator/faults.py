"""Fault knobs: latency, random 429 and 5xx, malformed bodies, rate limits.

The knobs are stored in the ``SimSettings`` row, so every process that serves
the simulator applies a change from its next request on.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from sophos.simulator import clock
from sophos.simulator.http import ApiError, SimResponse
from sophos.simulator.models import SimCallCounter, SimSettings

logger = logging.getLogger(__name__)

_random = random.Random()

SETTING_NAMES = frozenset(
    {
        "latency_ms",
        "rate_429",
        "retry_after_seconds",
        "rate_5xx",
        "malformed_rate",
        "token_lifetime_seconds",
        "forbidden_tenant_ids",
        "calls_per_minute",
        "calls_per_day",
        "alert_resolve_delay_seconds",
        "isolation_delay_seconds",
    }
)

WINDOWS = {"minute": 60, "day": 86_400}


def get_settings() -> SimSettings:
    found, _ = SimSettings.objects.get_or_create(id=1)
    return found


def set_faults(**knobs: Any) -> SimSettings:
    """Change the named knobs and keep the others; see ``SimSettings``."""
    unknown = set(knobs) - SETTING_NAMES
    if unknown:
        raise TypeError(
            f"unknown simulator settings: {sorted(unknown)}; "
            f"use {sorted(SETTING_NAMES)}"
        )
    if "forbidden_tenant_ids" in knobs:
        knobs["forbidden_tenant_ids"] = sorted(
            str(t) for t in knobs["forbidden_tenant_ids"]
        )
    current = get_settings()
    for name, value in knobs.items():
        setattr(current, name, value)
    current.save()
    logger.info("Simulator settings changed: %s", ", ".join(sorted(knobs)))
    return current


def reset_faults() -> SimSettings:
    """Turn every fault off and restore the default behaviour settings."""
    SimSettings.objects.filter(id=1).delete()
    SimCallCounter.objects.all().delete()
    return get_settings()


def seed_fault_random(seed: int) -> None:
    """Make the random 429, 5xx and malformed choices repeatable."""
    _random.seed(seed)


def token_lifetime(current: SimSettings) -> int:
    if current.token_lifetime_seconds is not None:
        return current.token_lifetime_seconds
    return int(settings.SIMULATOR_TOKEN_LIFETIME)


def inject_random_faults(current: SimSettings) -> SimResponse | None:
    """Sleep for the set latency, then maybe fail with a 429 or a 5xx."""
    if current.latency_ms:
        clock.sleep(current.latency_ms / 1000)
    if current.rate_429 and _random.random() < current.rate_429:
        raise ApiError(
            429,
            "Too many requests: retry after the time in Retry-After.",
            {"Retry-After": str(current.retry_after_seconds)},
        )
    if current.rate_5xx and _random.random() < current.rate_5xx:
        status = _random.choice((500, 502, 503))
        raise ApiError(
            status, "Injected server error: the service is unavailable, retry later."
        )
    return None


def count_call(current: SimSettings, client_id: str) -> None:
    """Count one call of a credential and raise 429 past a per-credential limit.

    Fixed windows are counted per minute and per UTC day; a rejected call
    counts too.
    """
    limits = {"minute": current.calls_per_minute, "day": current.calls_per_day}
    moment = clock.now().timestamp()
    for window, limit in limits.items():
        if not limit:
            continue
        length = WINDOWS[window]
        number = int(moment // length)
        used = _increment(client_id, window, number)
        if used > limit:
            wait = max(1, math.ceil((number + 1) * length - moment))
            raise ApiError(
                429,
                f"Rate limit of {limit} calls per {window} exceeded for this "
                f"credential; retry after {wait} seconds.",
                {"Retry-After": str(wait)},
            )


def _increment(client_id: str, window: str, number: int) -> int:
    keys = {"client_id": client_id, "window": window, "window_start": number}
    with transaction.atomic():
        updated = SimCallCounter.objects.filter(**keys).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    SimCallCounter.objects.create(count=1, **keys)
            except IntegrityError:
                SimCallCounter.objects.filter(**keys).update(count=F("count") + 1)
            SimCallCounter.objects.filter(
                client_id=client_id, window=window, window_start__lt=number
            ).delete()
        return SimCallCounter.objects.get(**keys).count


def maybe_malform(current: SimSettings, response: SimResponse) -> SimResponse:
    """Cut a successful JSON body in half at the set rate."""
    if not current.malformed_rate or not 200 <= response.status < 300:
        return response
    if _random.random() >= current.malformed_rate:
        return response
    response.body = response.body[: len(response.body) // 2]
    return response
