import pytest
from django import forms

from portal.tenants.forms.policies import PolicyEditForm, setting_field
from sophos.services import policies
from sophos.services.policies import PolicyDetail, PolicySetting


def _setting(key, value, kind, **extra):
    return PolicySetting(key=key, label=key, value=value, kind=kind, **extra)


def _policy(*settings, priority=5):
    return PolicyDetail(
        id="p-1",
        name="Strict",
        type="threat-protection",
        priority=priority,
        enabled=True,
        locked=False,
        updated_at=None,
        settings=list(settings),
    )


@pytest.mark.parametrize(
    ("setting", "field_class", "widget_class"),
    [
        (
            _setting("a", True, policies.BOOLEAN),
            forms.BooleanField,
            forms.CheckboxInput,
        ),
        (_setting("b", 24, policies.INTEGER), forms.IntegerField, forms.NumberInput),
        (_setting("c", 1.5, policies.NUMBER), forms.FloatField, forms.NumberInput),
        (
            _setting("d", "fast", policies.ENUM, choices=["fast", "slow"]),
            forms.ChoiceField,
            forms.Select,
        ),
        (_setting("e", "21:00", policies.STRING), forms.CharField, forms.TextInput),
        (_setting("f", ["mon"], policies.LIST), forms.CharField, forms.TextInput),
    ],
)
def test_setting_field_kinds(setting, field_class, widget_class):
    field = setting_field(setting)

    assert type(field) is field_class
    assert type(field.widget) is widget_class


def test_setting_field_keeps_unknown_enum_value():
    field = setting_field(_setting("d", "legacy", policies.ENUM, choices=["fast"]))

    assert list(field.choices) == [("legacy", "legacy"), ("fast", "fast")]


def test_setting_field_help_names_unit_and_recommended():
    setting = _setting(
        "endpoint.key-expiration",
        24,
        policies.INTEGER,
        unit="hours",
        recommended_value=48,
        has_recommended=True,
    )

    help_text = setting_field(setting).help_text

    assert "Key endpoint.key-expiration." in help_text
    assert "Unit: hours." in help_text
    assert "Recommended: 48." in help_text


def test_edit_form_changes_only_edited_values():
    policy = _policy(
        _setting("flag", False, policies.BOOLEAN),
        _setting("days", ["monday"], policies.LIST),
        _setting("hour", "21:00", policies.STRING),
        _setting("mode", "fast", policies.ENUM, choices=["fast", "slow"]),
    )
    data = {
        "name": "Strict",
        "enabled": "on",
        "priority": "5",
        "setting-flag": "on",
        "setting-days": "monday, friday",
        "setting-hour": "21:00",
        "setting-mode": "slow",
    }

    form = PolicyEditForm(data, policy=policy)

    assert form.is_valid(), form.errors
    assert form.changes() == {
        "settings": {"flag": True, "days": ["monday", "friday"], "mode": "slow"}
    }


def test_edit_form_rejects_enum_outside_choices():
    policy = _policy(_setting("mode", "fast", policies.ENUM, choices=["fast"]))

    form = PolicyEditForm(
        {"name": "Strict", "priority": "5", "setting-mode": "turbo"}, policy=policy
    )

    assert not form.is_valid()
    assert form.errors["setting-mode"] == [
        'Invalid value "turbo". Choose one of: fast.'
    ]


def test_edit_form_shows_structured_values_read_only():
    policy = _policy(_setting("rules", [{"id": 1}], policies.OTHER))

    form = PolicyEditForm(policy=policy)

    assert "setting-rules" not in form.fields
    assert [s.key for s in form.read_only] == ["rules"]


def test_edit_form_of_base_policy_has_settings_only():
    form = PolicyEditForm(
        policy=_policy(_setting("a", True, policies.BOOLEAN), priority=0)
    )

    assert set(form.fields) == {"setting-a"}


def _form_data(**settings):
    return {"name": "Strict", "enabled": "on", "priority": "5", **settings}


def test_edit_form_rejects_time_out_of_range():
    policy = _policy(
        _setting("endpoint.scans.scheduled.hour", "21:00", policies.STRING)
    )

    form = PolicyEditForm(
        _form_data(**{"setting-endpoint.scans.scheduled.hour": "25:99"}),
        policy=policy,
    )

    errors = form.errors["setting-endpoint.scans.scheduled.hour"]
    assert not form.is_valid()
    assert errors == [
        'Invalid time "25:99". Enter a time of day as HH:MM, from 00:00 to 23:59.'
    ]


def test_edit_form_rejects_hours_out_of_range():
    policy = _policy(
        _setting("key-expiration", 24, policies.INTEGER, unit="hours"),
    )

    form = PolicyEditForm(
        _form_data(**{"setting-key-expiration": "9000"}), policy=policy
    )

    assert not form.is_valid()
    assert form.errors["setting-key-expiration"] == [
        "9000 hours is out of range. Enter a whole number from 1 to 8760 hours."
    ]


def test_edit_form_rejects_text_in_number_field():
    policy = _policy(
        _setting("key-expiration", 24, policies.INTEGER, unit="hours"),
    )

    form = PolicyEditForm(
        _form_data(**{"setting-key-expiration": "soon"}), policy=policy
    )

    assert not form.is_valid()
    assert form.errors["setting-key-expiration"] == [
        "Invalid value. Enter a whole number from 1 to 8760 hours."
    ]


def test_edit_form_rejects_unknown_day():
    policy = _policy(_setting("scans.days", ["monday"], policies.LIST))

    form = PolicyEditForm(
        _form_data(**{"setting-scans.days": "monday, funday"}), policy=policy
    )

    assert not form.is_valid()
    assert 'Invalid entries: "funday".' in form.errors["setting-scans.days"][0]


def test_edit_form_keeps_unchanged_value_outside_range():
    policy = _policy(
        _setting("key-expiration", 50_000, policies.INTEGER, unit="hours"),
        _setting("hour", "21:00", policies.STRING),
    )

    form = PolicyEditForm(
        _form_data(**{"setting-key-expiration": "50000", "setting-hour": "7:30"}),
        policy=policy,
    )

    assert form.is_valid(), form.errors
    assert form.changes() == {"settings": {"hour": "07:30"}}


def test_edit_form_invalid_setting_blocks_other_changes():
    policy = _policy(_setting("hour", "21:00", policies.STRING))

    form = PolicyEditForm(
        {"name": "Renamed", "priority": "5", "setting-hour": "99:00"}, policy=policy
    )

    assert not form.is_valid()
    assert list(form.errors) == ["setting-hour"]


def test_setting_field_help_says_what_to_enter():
    field = setting_field(_setting("scans.hour", "21:00", policies.STRING))

    assert "Enter a time of day as HH:MM, from 00:00 to 23:59." in field.help_text
    assert field.widget.attrs["placeholder"] == "HH:MM"


def test_setting_field_number_input_has_range():
    field = setting_field(
        _setting("key-expiration", 24, policies.INTEGER, unit="hours")
    )

    assert field.widget.attrs["min"] == "1"
    assert field.widget.attrs["max"] == "8760"
