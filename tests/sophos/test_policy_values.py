import pytest

from sophos.services import policies, policy_values
from sophos.services.policies import PolicySetting
from sophos.services.policy_values import InvalidSettingValue, setting_rule

HOUR = "endpoint.scans.scheduled.hour"
DAYS = "endpoint.scans.scheduled.days"
START = "endpoint.scans.scheduled.start-from"
EXPIRY = "endpoint.disk-encryption.key-expiration"


def _setting(key, value, kind, **extra):
    return PolicySetting(key=key, label=key, value=value, kind=kind, **extra)


def _check(setting, value):
    return setting_rule(setting).check(value)


# -- kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "kind"),
    [
        (_setting(HOUR, "21:00", policies.STRING), policy_values.TIME),
        (_setting("endpoint.x.window", "08:30", policies.STRING), policy_values.TIME),
        (
            _setting(START, "2020-05-13T21:00:01.000Z", policies.STRING),
            policy_values.DATE_TIME,
        ),
        (
            _setting("x", "", policies.STRING, format="date-time"),
            policy_values.DATE_TIME,
        ),
        (_setting("x.name", "Night", policies.STRING), policies.STRING),
        (_setting(EXPIRY, 24, policies.INTEGER, unit="hours"), policies.INTEGER),
    ],
)
def test_rule_kind_from_setting(setting, kind):
    assert setting_rule(setting).kind == kind


# -- times -----------------------------------------------------------------------


@pytest.mark.parametrize("entered", ["25:99", "24:00", "12:60", "9", "21:00:00", "ab"])
def test_time_rejects_invalid(entered):
    with pytest.raises(InvalidSettingValue) as caught:
        _check(_setting(HOUR, "21:00", policies.STRING), entered)

    message = str(caught.value)
    assert f'Invalid time "{entered}".' in message
    assert "HH:MM, from 00:00 to 23:59" in message


@pytest.mark.parametrize(
    ("entered", "sent"),
    [("00:00", "00:00"), ("23:59", "23:59"), ("9:05", "09:05"), (" 7:30 ", "07:30")],
)
def test_time_accepts_and_pads(entered, sent):
    assert _check(_setting(HOUR, "21:00", policies.STRING), entered) == sent


# -- date-times ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "sent"),
    [
        ("2024-01-31 21:00", "2024-01-31T21:00:00.000Z"),
        ("2024-01-31T21:00:01.5Z", "2024-01-31T21:00:01.500Z"),
        ("2024-01-31T23:00+02:00", "2024-01-31T21:00:00.000Z"),
    ],
)
def test_date_time_accepts_and_sends_utc(entered, sent):
    setting = _setting(START, "2020-05-13T21:00:01.000Z", policies.STRING)

    assert _check(setting, entered) == sent


@pytest.mark.parametrize("entered", ["tomorrow", "2024-01-31", "2024-13-01 10:00"])
def test_date_time_rejects_invalid(entered):
    setting = _setting(START, "2020-05-13T21:00:01.000Z", policies.STRING)

    with pytest.raises(InvalidSettingValue, match="Invalid date and time"):
        _check(setting, entered)


def test_date_time_rejects_far_year():
    setting = _setting(START, "2020-05-13T21:00:01.000Z", policies.STRING)

    with pytest.raises(InvalidSettingValue, match="The year 1999 is out of range"):
        _check(setting, "1999-12-31 23:00")


# -- numbers ---------------------------------------------------------------------


@pytest.mark.parametrize("entered", [0, 8761, -5])
def test_hours_out_of_range(entered):
    setting = _setting(EXPIRY, 24, policies.INTEGER, unit="hours")

    with pytest.raises(InvalidSettingValue) as caught:
        _check(setting, entered)

    message = str(caught.value)
    assert f"{entered} hours is out of range." in message
    assert "Enter a whole number from 1 to 8760 hours." in message


def test_hours_in_range():
    setting = _setting(EXPIRY, 24, policies.INTEGER, unit="hours")

    assert _check(setting, 48) == 48
    assert _check(setting, 8760) == 8760


def test_range_grows_to_current_value():
    setting = _setting(EXPIRY, 10_000, policies.INTEGER, unit="hours")

    rule = setting_rule(setting)

    assert rule.maximum == 10_000
    assert _check(setting, 9_000) == 9_000


@pytest.mark.parametrize(
    ("unit", "low", "high"),
    [
        ("seconds", 1, 86_400),
        ("minutes", 1, 10_080),
        ("days", 1, 365),
        ("%", 0, 100),
        ("", 0, 2_147_483_647),
    ],
)
def test_range_by_unit(unit, low, high):
    rule = setting_rule(_setting("x", 5, policies.INTEGER, unit=unit))

    assert rule.minimum == low
    assert rule.maximum == high


def test_integer_rejects_fraction_and_bool():
    setting = _setting(EXPIRY, 24, policies.INTEGER, unit="hours")

    with pytest.raises(InvalidSettingValue, match="2.5 is not a whole number"):
        _check(setting, 2.5)
    with pytest.raises(InvalidSettingValue, match="Invalid number"):
        _check(setting, True)


def test_number_rejects_infinity():
    setting = _setting("x.ratio", 0.5, policies.NUMBER)

    with pytest.raises(InvalidSettingValue, match="Invalid number"):
        _check(setting, float("inf"))


# -- choices, lists, booleans, text ----------------------------------------------


def test_enum_rejects_unknown_value():
    setting = _setting("x.mode", "fast", policies.ENUM, choices=["fast", "slow"])

    with pytest.raises(InvalidSettingValue) as caught:
        _check(setting, "turbo")

    assert str(caught.value) == ('Invalid value "turbo". Choose one of: fast, slow.')


def test_enum_keeps_current_value_outside_choices():
    setting = _setting("x.mode", "legacy", policies.ENUM, choices=["fast"])

    assert setting_rule(setting).choices == ("legacy", "fast")


def test_days_rejects_unknown_day():
    setting = _setting(DAYS, ["monday"], policies.LIST)

    with pytest.raises(InvalidSettingValue) as caught:
        _check(setting, ["monday", "funday"])

    message = str(caught.value)
    assert 'Invalid entries: "funday".' in message
    assert "monday, tuesday" in message


def test_days_sorted_and_lowercased():
    setting = _setting(DAYS, ["monday"], policies.LIST)

    assert _check(setting, ["Sunday", "monday", "MONDAY"]) == ["monday", "sunday"]


def test_days_rejects_empty_list():
    setting = _setting(DAYS, ["monday"], policies.LIST)

    with pytest.raises(InvalidSettingValue, match="The list is empty"):
        _check(setting, [])


def test_list_with_metadata_choices():
    setting = _setting("x.kinds", ["a"], policies.LIST, choices=["a", "b"])

    assert _check(setting, ["b", "a"]) == ["a", "b"]
    with pytest.raises(InvalidSettingValue, match='Invalid entries: "c"'):
        _check(setting, ["c"])


def test_free_list_kept_as_entered():
    setting = _setting("x.paths", ["/tmp"], policies.LIST)

    assert _check(setting, ["/var", "/tmp"]) == ["/var", "/tmp"]


def test_boolean_rejects_text():
    setting = _setting("x.enabled", True, policies.BOOLEAN)

    with pytest.raises(InvalidSettingValue, match="Invalid on or off value"):
        _check(setting, "yes")


def test_text_rejects_long_value():
    setting = _setting("x.name", "Night", policies.STRING)

    with pytest.raises(InvalidSettingValue, match="1001 characters long"):
        _check(setting, "x" * 1001)


# -- settings_check --------------------------------------------------------------


def test_settings_check_skips_unchanged_values():
    expiry = _setting(EXPIRY, 50_000, policies.INTEGER, unit="hours")
    hour = _setting(HOUR, "21:00", policies.STRING)

    checked, errors = policy_values.settings_check(
        [expiry, hour], {EXPIRY: 50_000, HOUR: "25:99"}
    )

    assert checked == {EXPIRY: 50_000}
    assert list(errors) == [HOUR]


def test_array_setting_with_choices_is_list():
    metadata = policies.SettingMetadata(
        key="x.kinds", description="", type="array", default_value=[], choices=["a"]
    )

    setting = policies._setting_from("x.kinds", {"value": ["a"]}, metadata)

    assert setting.kind == policies.LIST
    assert setting.choices == ["a"]
