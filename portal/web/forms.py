"""Forms that parse the portal's filter query strings and action posts.

A filter form never rejects a page: ``filter_values`` keeps each valid field
and replaces an invalid one with its default, so a stale or edited link
still shows a list.
"""

from __future__ import annotations

from typing import Any

from django import forms

from sophos.services import fleet
from sophos.services.labels import code_label


def filter_values(form: forms.Form, defaults: dict[str, Any]) -> dict[str, Any]:
    """Return the form's cleaned values, with ``defaults`` for invalid fields."""
    form.is_valid()
    values = dict(defaults)
    for name in defaults:
        value = form.cleaned_data.get(name)
        if value not in (None, ""):
            values[name] = value
    return values


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1)

    defaults = {"page": 1}


class TenantOverviewFilterForm(forms.Form):
    q = forms.CharField(label="Search tenants", required=False, max_length=100)
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in fleet.tenant_sort_keys()]
    )
    page = forms.IntegerField(required=False, min_value=1)

    defaults = {"q": "", "sort": fleet.TENANT_DEFAULT_SORT, "page": 1}


class EndpointFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Part of a hostname, an IPv4 address or a user name.",
    )
    health = forms.ChoiceField(
        label="Health",
        required=False,
        choices=[("", "Any health")]
        + [(value, code_label(value)) for value in fleet.ENDPOINT_HEALTH_VALUES],
    )
    type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "Any type")]
        + [(value, code_label(value)) for value in fleet.ENDPOINT_TYPE_VALUES],
    )
    page = forms.IntegerField(required=False, min_value=1)

    defaults = {"q": "", "health": "", "type": "", "page": 1}


class AlertFilterForm(forms.Form):
    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        choices=[("", "Any severity")]
        + [(value, code_label(value)) for value in fleet.ALERT_SEVERITY_VALUES],
    )
    category = forms.ChoiceField(label="Category", required=False)
    page = forms.IntegerField(required=False, min_value=1)

    defaults = {"severity": "", "category": "", "page": 1}

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", "Any category")] + [
            (code, code_label(code)) for code in categories
        ]


class AlertActionForm(forms.Form):
    """One action on one alert, limited to the alert's ``allowedActions``."""

    action = forms.ChoiceField()
    message = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args: Any, allowed_actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [(name, name) for name in allowed_actions]
