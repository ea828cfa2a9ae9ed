"""Rules that check a policy setting's new value before it is sent.

A setting's rule comes from its kind (``policies.BOOLEAN`` and so on), its
key, its current value, its ``format`` and ``unit`` and the choices that the
settings metadata lists. Sophos Central's Endpoint API Postman collection
shows the value shapes by example only. A scheduled scan hour is "21:00",
scan days are lowercase weekday names, a scan start is an ISO 8601
date-time with ``"format": "date-time"``, and a key expiration is a number
with ``"unit": "hours"``. The collection documents no ranges, so the ranges
here are conservative choices.

``SettingRule.check`` returns the value to send, normalised (a time as
"09:05", days in week order), or raises ``InvalidSettingValue`` with a
message that names what was wrong and what to enter.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sophos.services import policies
from sophos.services.policies import PolicySetting

# Kinds that refine policies.STRING.
TIME = "time"
DATE_TIME = "date-time"

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
TEXT_MAX_LENGTH = 1000
# NOTE/sophos-api: the accepted years of a date-time setting are unverified;
# these bound a scan schedule's start to this century.
MIN_YEAR = 2000
MAX_YEAR = 2099
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_STORED_TIME = re.compile(r"\d{2}:\d{2}")
_TIME_KEY_ENDINGS = (".hour", ".time", "-time")

# NOTE/sophos-api: the API documents no range for numeric settings. These
# limits by unit are conservative guesses: a duration of at least one unit
# and at most a year of hours, a year of days, a week of minutes or a day of
# seconds. A value outside them that Sophos already stores stays valid.
_UNIT_RANGES: dict[str, tuple[int, int]] = {
    "second": (1, 86_400),
    "minute": (1, 10_080),
    "hour": (1, 8_760),
    "day": (1, 365),
    "percent": (0, 100),
}
# NOTE/sophos-api: a number without a unit is limited to what a signed
# 32-bit integer holds, and negative numbers are rejected.
_DEFAULT_RANGE = (0, 2_147_483_647)


class InvalidSettingValue(ValueError):
    """A setting value that Sophos Central would reject or misread."""


@dataclass(frozen=True)
class SettingRule:
    """Constraints on one setting's value: its kind, range and choices."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    # A list that must keep at least one entry, such as the scan days.
    required: bool = False

    @property
    def hint(self) -> str:
        """Return what to enter, as one sentence."""
        if self.kind == policies.BOOLEAN:
            return "Tick the box to turn the setting on."
        if self.kind == TIME:
            return "Enter a time of day as HH:MM, from 00:00 to 23:59."
        if self.kind == DATE_TIME:
            return (
                "Enter a date and time in UTC as YYYY-MM-DD HH:MM, "
                f"such as 2024-01-31 21:00, from year {MIN_YEAR} to {MAX_YEAR}."
            )
        if self.kind in {policies.INTEGER, policies.NUMBER}:
            whole = "a whole number" if self.kind == policies.INTEGER else "a number"
            unit = f" {self.unit}" if self.unit else ""
            return (
                f"Enter {whole} from {_number_text(self.minimum)} "
                f"to {_number_text(self.maximum)}{unit}."
            )
        if self.kind == policies.ENUM:
            return f"Choose one of: {', '.join(self.choices)}."
        if self.kind == policies.LIST and self.choices:
            some = "at least one of" if self.required else "any of"
            return f"Enter {some} {', '.join(self.choices)}, separated by commas."
        if self.kind == policies.LIST:
            return "Separate values with commas."
        return f"Enter at most {TEXT_MAX_LENGTH} characters."

    def check(self, value: Any) -> Any:
        """Return ``value`` as it is sent, or raise ``InvalidSettingValue``."""
        if self.kind == policies.BOOLEAN:
            return self._boolean(value)
        if self.kind == TIME:
            return self._time(value)
        if self.kind == DATE_TIME:
            return self._date_time(value)
        if self.kind in {policies.INTEGER, policies.NUMBER}:
            return self._number(value)
        if self.kind == policies.ENUM:
            return self._choice(value)
        if self.kind == policies.LIST:
            return self._list(value)
        return self._text(value)

    def _invalid(self, problem: str) -> InvalidSettingValue:
        return InvalidSettingValue(f"{problem} {self.hint}")

    def _boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._invalid(f"Invalid on or off value {value!r}.")
        return value

    def _time(self, value: Any) -> str:
        entered = str(value).strip()
        match = _TIME.fullmatch(entered)
        if match is None:
            raise self._invalid(f'Invalid time "{entered}".')
        hours, minutes = int(match[1]), int(match[2])
        if hours > 23 or minutes > 59:
            raise self._invalid(f'Invalid time "{entered}".')
        return f"{hours:02d}:{minutes:02d}"

    def _date_time(self, value: Any) -> str:
        entered = str(value).strip()
        moment = _parse_date_time(entered)
        if moment is None:
            raise self._invalid(f'Invalid date and time "{entered}".')
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise self._invalid(f"The year {moment.year} is out of range.")
        # Sophos Central sends date-time settings in UTC with milliseconds.
        utc = moment.astimezone(dt.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    def _number(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._invalid(f"Invalid number {value!r}.")
        if self.kind == policies.INTEGER and value != int(value):
            raise self._invalid(f"{_number_text(value)} is not a whole number.")
        if not math.isfinite(value):
            raise self._invalid(f"Invalid number {value}.")
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= value <= high:
            unit = f" {self.unit}" if self.unit else ""
            raise self._invalid(f"{_number_text(value)}{unit} is out of range.")
        return int(value) if self.kind == policies.INTEGER else value

    def _choice(self, value: Any) -> str:
        entered = str(value)
        if entered not in self.choices:
            raise self._invalid(f'Invalid value "{entered}".')
        return entered

    def _list(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._invalid("Invalid value: expected a list of words.")
        if self.required and not value:
            raise self._invalid("The list is empty.")
        if not self.choices:
            return list(value)
        by_folded = {choice.casefold(): choice for choice in self.choices}
        unknown = [item for item in value if item.casefold() not in by_folded]
        if unknown:
            listed = ", ".join(f'"{item}"' for item in unknown)
            raise self._invalid(f"Invalid entries: {listed}.")
        chosen = {by_folded[item.casefold()] for item in value}
        # Keep the order of the choices, which for days is the week's order.
        return [choice for choice in self.choices if choice in chosen]

    def _text(self, value: Any) -> str:
        entered = str(value)
        if len(entered) > TEXT_MAX_LENGTH:
            raise self._invalid(f"The text is {len(entered)} characters long.")
        return entered


def _number_text(value: float | None) -> str:
    if value is None:
        return "any"
    if float(value).is_integer():
        return str(int(value))
    return str(value)


def _parse_date_time(entered: str) -> dt.datetime | None:
    """Parse an ISO 8601 date and time; a time without an offset is UTC."""
    if len(entered) < len("YYYY-MM-DD HH:MM"):
        return None
    try:
        moment = dt.datetime.fromisoformat(entered.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _is_time(setting: PolicySetting) -> bool:
    if setting.format == "time" or setting.key.endswith(_TIME_KEY_ENDINGS):
        return True
    return isinstance(setting.value, str) and bool(
        _STORED_TIME.fullmatch(setting.value)
    )


def _is_date_time(setting: PolicySetting) -> bool:
    if setting.format == "date-time":
        return True
    value = setting.value
    return isinstance(value, str) and "T" in value and bool(_parse_date_time(value))


def _is_weekdays(setting: PolicySetting) -> bool:
    if setting.key.endswith(".days"):
        return True
    value = setting.value
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, str) and item.lower() in WEEKDAYS for item in value)
    )


def _unit_key(unit: str) -> str:
    folded = unit.strip().casefold()
    if folded in {"%", "percent", "percentage"}:
        return "percent"
    return folded.removesuffix("s")


def _number_rule(setting: PolicySetting) -> SettingRule:
    low: float
    high: float
    low, high = _UNIT_RANGES.get(_unit_key(setting.unit), _DEFAULT_RANGE)
    current = setting.value
    if isinstance(current, int | float) and not isinstance(current, bool):
        # Sophos Central already stores the current value, so the range
        # grows to include it.
        low, high = min(low, current), max(high, current)
    return SettingRule(kind=setting.kind, minimum=low, maximum=high, unit=setting.unit)


def setting_rule(setting: PolicySetting) -> SettingRule:
    """Return the rule that a new value of ``setting`` must follow."""
    if setting.kind in {policies.INTEGER, policies.NUMBER}:
        return _number_rule(setting)
    if setting.kind == policies.ENUM:
        return SettingRule(kind=policies.ENUM, choices=_choices(setting))
    if setting.kind == policies.LIST and _is_weekdays(setting):
        # NOTE/sophos-api: an empty day list is rejected because scheduled
        # scans need a day; whether Sophos Central accepts one is unverified.
        return SettingRule(kind=policies.LIST, choices=WEEKDAYS, required=True)
    if setting.kind == policies.LIST:
        return SettingRule(kind=policies.LIST, choices=tuple(setting.choices))
    if setting.kind == policies.STRING and _is_time(setting):
        return SettingRule(kind=TIME)
    if setting.kind == policies.STRING and _is_date_time(setting):
        return SettingRule(kind=DATE_TIME)
    return SettingRule(kind=setting.kind)


def _choices(setting: PolicySetting) -> tuple[str, ...]:
    choices = list(setting.choices)
    current = setting.value
    if current is not None and str(current) not in choices:
        # The value that Sophos Central already stores stays selectable.
        choices.insert(0, str(current))
    return tuple(choices)


def settings_check(
    settings: Sequence[PolicySetting], values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check new values by setting key.

    Returns the values to send, normalised, and an error message by key. A
    value equal to the setting's current value is not checked, because it is
    not sent.
    """
    checked: dict[str, Any] = {}
    errors: dict[str, str] = {}
    by_key = {setting.key: setting for setting in settings}
    for key, value in values.items():
        setting = by_key[key]
        if value == setting.value:
            checked[key] = value
            continue
        try:
            checked[key] = setting_rule(setting).check(value)
        except InvalidSettingValue as exc:
            errors[key] = str(exc)
    return checked, errors
