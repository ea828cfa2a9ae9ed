"""Forms of the fleet-wide pages: search, endpoint selections and job options."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sophos.services.fleet_ops import search

# The maximum number of endpoints one bulk job takes.
MAX_SELECTED_ENDPOINTS = 1000


class UUIDListField(forms.Field):
    """Several UUIDs posted under one name, such as ticked checkboxes."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[uuid.UUID]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        parsed = []
        for raw in values:
            try:
                parsed.append(uuid.UUID(str(raw)))
            except ValueError:
                raise ValidationError(
                    f"Invalid endpoint id {str(raw)[:40]!r}."
                ) from None
        return list(dict.fromkeys(parsed))

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError("Choose at least one endpoint.")
        if len(value) > MAX_SELECTED_ENDPOINTS:
            raise ValidationError(
                f"Choose at most {MAX_SELECTED_ENDPOINTS} endpoints per job."
            )


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        max_length=search.MAX_QUERY_LENGTH,
        min_length=search.MIN_QUERY_LENGTH,
        required=False,
        help_text=(
            "Hostname, IP address, MAC address, logged-on user, SHA-256 or alert text."
        ),
    )


class EndpointSelectionForm(forms.Form):
    endpoint_ids = UUIDListField()
    dry_run = forms.BooleanField(
        label="Dry run",
        required=False,
        help_text="Record what each endpoint would get, and change nothing.",
    )


class IsolationForm(EndpointSelectionForm):
    ACTIONS = (("isolate", "Isolate"), ("release", "Release from isolation"))

    action = forms.ChoiceField(choices=ACTIONS, initial="isolate")
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        help_text="Required. Sent to Sophos Central as the isolation comment.",
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise ValidationError("The reason is missing.")
        return reason


class IsolationFilterForm(forms.Form):
    ISOLATION_CHOICES = (
        ("", "Any"),
        ("isolated", "Isolated"),
        ("notIsolated", "Not isolated"),
    )

    q = forms.CharField(label="Hostname, IP or user", required=False, max_length=100)
    tenant = forms.UUIDField(label="Tenant", required=False)
    isolation = forms.ChoiceField(choices=ISOLATION_CHOICES, required=False)


class HygieneForm(forms.Form):
    days = forms.IntegerField(
        label="Not seen for (days)",
        min_value=1,
        max_value=3650,
        initial=30,
        help_text="Endpoints whose last contact is older than this.",
    )


class HygieneDeleteForm(EndpointSelectionForm):
    dry_run = forms.BooleanField(
        label="Dry run",
        required=False,
        initial=True,
        help_text="Check each endpoint and delete nothing. Untick to delete.",
    )
