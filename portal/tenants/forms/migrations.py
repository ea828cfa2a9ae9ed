"""Forms of the endpoint migration pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

Choices = Sequence[tuple[str, str]]

# A migration token is a long opaque string; this bounds what a form takes.
TOKEN_MAX_LENGTH = 2000
# The maximum number of endpoints one migration job from the portal moves.
MAX_ENDPOINTS = 1000


def _set_choices(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class EndpointsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def clean(self, value: Any) -> list[str]:
        cleaned: list[str] = super().clean(value)
        if len(cleaned) > MAX_ENDPOINTS:
            raise forms.ValidationError(
                f"Choose at most {MAX_ENDPOINTS} endpoints; {len(cleaned)} are chosen."
            )
        return cleaned


class MigrationCreateForm(forms.Form):
    """Move endpoints of this tenant (sending) to another tenant (receiving)."""

    receiving_tenant = forms.ChoiceField(
        label="Move to tenant",
        help_text="You need the right to change both tenants.",
    )
    endpoints = EndpointsField(
        label="Endpoints to move",
        error_messages={"required": "Choose at least one endpoint."},
    )

    def __init__(
        self,
        *args: Any,
        tenants: Choices = (),
        endpoints: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "receiving_tenant", [("", "Choose a tenant"), *tenants])
        _set_choices(self, "endpoints", endpoints)


class MigrationStartForm(forms.Form):
    """Start, on this (sending) tenant, a job another tenant created to receive."""

    migration_id = forms.UUIDField(
        label="Migration job id",
        help_text="The id of the job the receiving tenant created.",
    )
    token = forms.CharField(
        max_length=TOKEN_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The token the receiving tenant's job returned.",
    )
    endpoints = EndpointsField(
        label="Endpoints to send",
        error_messages={"required": "Choose at least one endpoint."},
    )

    def __init__(self, *args: Any, endpoints: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "endpoints", endpoints)
