"""Parsing of query parameters that several APIs share."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sophos.simulator import clock
from sophos.simulator.http import ApiError, SimRequest

# ISO 8601 durations such as -P1D, -PT2H or P1DT30M, relative to now.
_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_time(
    request: SimRequest, name: str, *, allow_naive: bool = False
) -> str | None:
    """Read a UTC time or a duration relative to now, in stored text form.

    A time without a zone is rejected with 400 unless ``allow_naive`` is set,
    when it is taken as UTC.
    """
    raw = request.query_last(name)
    if raw is None or raw.strip() == "":
        return None
    return parse_time_text(raw, name, allow_naive=allow_naive)


def parse_time_text(raw: str, name: str, *, allow_naive: bool = False) -> str:
    """Read one time or duration value; ``name`` is the field for messages."""
    raw = raw.strip()
    duration = _DURATION.match(raw)
    if duration and raw.lstrip("+-") != "P":
        parts = {
            k: int(v) for k, v in duration.groupdict().items() if v and k != "sign"
        }
        delta = timedelta(**parts)
        if duration.group("sign") == "-":
            delta = -delta
        return clock.isoformat(clock.now() + delta)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400,
            f"Invalid {name} {raw!r}: use an ISO 8601 UTC time such as "
            "2026-01-31T12:00:00.000Z or a duration such as -P1D.",
        ) from None
    if moment.tzinfo is None:
        if not allow_naive:
            raise ApiError(
                400, f"Invalid {name} {raw!r}: add the time zone, for example Z."
            )
        moment = moment.replace(tzinfo=UTC)
    return clock.isoformat(moment)


def parse_choices(request: SimRequest, name: str, allowed: set[str]) -> list[str]:
    """Read an array parameter and reject values outside ``allowed``."""
    values = request.query_list(name)
    invalid = [v for v in values if v not in allowed]
    if invalid:
        raise ApiError(
            400,
            f"Invalid {name} value {invalid[0]!r}: use one of "
            f"{', '.join(sorted(allowed))}.",
        )
    return values
