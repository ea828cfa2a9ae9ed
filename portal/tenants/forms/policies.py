"""Forms of the policy pages, with the settings form built from a policy.

``PolicyEditForm`` makes one field per editable setting: a checkbox for a
boolean, a number input for a number, a select for a value with choices,
a text input for text and a comma-separated text input for a list. Each
changed value is then checked against its ``policy_values.SettingRule``
(a time within 00:00-23:59, a number within its range, days of the week),
so a form with one invalid value sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms

from sophos.services import policies, policy_values
from sophos.services.policies import (
    PolicyAssignment,
    PolicyDetail,
    PolicySetting,
)

NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 1000
# Sophos Central numbers priorities from 1, which is checked first. The base
# policy has priority 0.
MIN_PRIORITY = 1
MAX_PRIORITY = 1000
SETTING_PREFIX = "setting-"


def _policy_type_choices() -> list[tuple[str, str]]:
    return list(policies.POLICY_TYPES.items())


class PolicyTypeFilterForm(forms.Form):
    type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "Any type")] + _policy_type_choices(),
    )


class PolicyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH)
    type = forms.ChoiceField(
        label="Type",
        choices=_policy_type_choices(),
        help_text="The kind of protection the policy configures. A new policy "
        "starts with the type's recommended settings.",
    )
    priority = forms.IntegerField(
        label="Priority",
        required=False,
        min_value=MIN_PRIORITY,
        max_value=MAX_PRIORITY,
        help_text="1 is checked first. Leave empty to put the policy last.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)


class PolicyCloneForm(forms.Form):
    name = forms.CharField(
        label="Name of the copy",
        max_length=NAME_MAX_LENGTH,
        help_text="The copy gets the policy's settings and assignment.",
    )


def setting_field_name(key: str) -> str:
    return SETTING_PREFIX + key


def _help_text(setting: PolicySetting, rule: policy_values.SettingRule) -> str:
    parts = [f"Key {setting.key}."]
    if setting.unit:
        parts.append(f"Unit: {setting.unit}.")
    if setting.has_recommended:
        parts.append(f"Recommended: {setting.recommended_text}.")
    if setting.kind != policies.BOOLEAN:
        parts.append(rule.hint)
    return " ".join(parts)


def _number_attrs(rule: policy_values.SettingRule) -> dict[str, str]:
    attrs = {}
    if rule.minimum is not None:
        attrs["min"] = f"{rule.minimum:g}"
    if rule.maximum is not None:
        attrs["max"] = f"{rule.maximum:g}"
    return attrs


def setting_field(setting: PolicySetting) -> forms.Field:
    """Return the form field that edits one setting.

    The field parses the input; ``PolicyEditForm.clean`` checks the parsed
    value against the setting's rule.
    """
    rule = policy_values.setting_rule(setting)
    label = setting.label
    help_text = _help_text(setting, rule)
    # Django's own messages name no format, so these repeat the hint.
    messages = {
        "required": f"This setting needs a value. {rule.hint}",
        "invalid": f"Invalid value. {rule.hint}",
    }
    value = setting.value
    if setting.kind == policies.BOOLEAN:
        return forms.BooleanField(
            label=label, required=False, initial=bool(value), help_text=help_text
        )
    if setting.kind == policies.INTEGER:
        return forms.IntegerField(
            label=label,
            required=value is not None,
            initial=value,
            help_text=help_text,
            error_messages=messages,
            widget=forms.NumberInput(attrs=_number_attrs(rule)),
        )
    if setting.kind == policies.NUMBER:
        return forms.FloatField(
            label=label,
            required=value is not None,
            initial=value,
            help_text=help_text,
            error_messages=messages,
            widget=forms.NumberInput(attrs={**_number_attrs(rule), "step": "any"}),
        )
    if setting.kind == policies.ENUM:
        choices = [(choice, choice) for choice in rule.choices]
        return forms.ChoiceField(
            label=label,
            choices=choices,
            initial=value,
            help_text=help_text,
            error_messages={
                # Django fills in %(value)s, so a % in a choice is escaped.
                "invalid_choice": 'Invalid value "%(value)s". '
                + rule.hint.replace("%", "%%")
            },
        )
    if setting.kind == policies.LIST:
        return forms.CharField(
            label=label,
            required=False,
            max_length=TEXT_MAX_LENGTH,
            initial=", ".join(str(item) for item in value or []),
            help_text=help_text,
        )
    attrs = {}
    if rule.kind == policy_values.TIME:
        attrs = {"placeholder": "HH:MM", "inputmode": "numeric", "size": "5"}
    elif rule.kind == policy_values.DATE_TIME:
        attrs = {"placeholder": "YYYY-MM-DD HH:MM"}
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        initial="" if value is None else value,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


def _cleaned_setting(setting: PolicySetting, cleaned: Any) -> Any:
    if setting.kind == policies.LIST:
        return [part.strip() for part in str(cleaned or "").split(",") if part.strip()]
    if setting.kind in {policies.INTEGER, policies.NUMBER} and cleaned is None:
        return setting.value
    return cleaned


class PolicyEditForm(forms.Form):
    """A policy's name, state, priority and every editable setting.

    A base policy gets the settings only, because Sophos Central lets a base
    policy change nothing else.
    """

    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH)
    enabled = forms.BooleanField(label="Enabled", required=False)
    priority = forms.IntegerField(
        label="Priority",
        min_value=MIN_PRIORITY,
        max_value=MAX_PRIORITY,
        help_text="1 is checked first.",
    )

    def __init__(self, *args: Any, policy: PolicyDetail, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": policy.name,
                "enabled": policy.enabled,
                "priority": policy.priority,
            },
        )
        super().__init__(*args, **kwargs)
        self.policy = policy
        # The checked values of every editable setting, by key, after clean().
        self.setting_values: dict[str, Any] = {}
        if policy.is_base:
            for name in ("name", "enabled", "priority"):
                del self.fields[name]
        self.editable = [s for s in policy.settings if s.editable]
        self.read_only = [s for s in policy.settings if not s.editable]
        for setting in self.editable:
            self.fields[setting_field_name(setting.key)] = setting_field(setting)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parsed = {
            setting.key: _cleaned_setting(
                setting, cleaned[setting_field_name(setting.key)]
            )
            for setting in self.editable
            if setting_field_name(setting.key) in cleaned
        }
        checked, errors = policy_values.settings_check(self.editable, parsed)
        for key, message in errors.items():
            self.add_error(setting_field_name(key), message)
        self.setting_values = checked
        return cleaned

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[setting_field_name(s.key)] for s in self.editable]

    def policy_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in ("name", "enabled", "priority")
            if name in self.fields
        ]

    def changes(self) -> dict[str, Any]:
        """Return the changed fields as ``policy_update`` arguments."""
        changed: dict[str, Any] = {}
        for name in ("name", "enabled", "priority"):
            if name in self.fields and self.cleaned_data[name] != getattr(
                self.policy, name
            ):
                changed[name] = self.cleaned_data[name]
        settings = {}
        for setting in self.editable:
            value = self.setting_values[setting.key]
            if value != setting.value:
                settings[setting.key] = value
        if settings:
            changed["settings"] = settings
        return changed


def _choices(
    options: Iterable[tuple[str, str]], current: Sequence[str]
) -> list[tuple[str, str]]:
    """Return the options, plus any current id that the options lack, so
    saving the form keeps an assignment that the lists do not show."""
    choices = list(options)
    known = {value for value, _ in choices}
    choices.extend(
        (value, f"{value} (not listed)") for value in current if value not in known
    )
    return choices


class PolicyAssignmentForm(forms.Form):
    """Whom a policy applies to: users, user groups, endpoints, endpoint groups."""

    users = forms.MultipleChoiceField(
        label="Users", required=False, help_text="Directory users of the tenant."
    )
    user_groups = forms.MultipleChoiceField(
        label="User groups", required=False, help_text="Directory user groups."
    )
    endpoints = forms.MultipleChoiceField(
        label="Endpoints",
        required=False,
        help_text="Endpoints of the tenant, as last synced.",
    )
    endpoint_groups = forms.MultipleChoiceField(label="Endpoint groups", required=False)

    def __init__(
        self,
        *args: Any,
        current: PolicyAssignment,
        options: dict[str, Iterable[tuple[str, str]]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "users": current.users,
                "user_groups": current.user_groups,
                "endpoints": current.endpoints,
                "endpoint_groups": current.endpoint_groups,
            },
        )
        super().__init__(*args, **kwargs)
        for name in ("users", "user_groups", "endpoints", "endpoint_groups"):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = _choices(options.get(name, []), getattr(current, name))
            field.widget.attrs["size"] = 8

    def assignment(self) -> PolicyAssignment:
        data = self.cleaned_data
        return PolicyAssignment(
            users=list(data["users"]),
            user_groups=list(data["user_groups"]),
            endpoints=list(data["endpoints"]),
            endpoint_groups=list(data["endpoint_groups"]),
        )
