"""Forms of the partner pages: tenant creation, partner admins, billing."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms

from portal.partner.billing import FIRST_MONTH, LAST_MONTH
from sophos.services.partner_admins import ASSIGNMENT_SCOPES
from sophos.services.partner_tenants import (
    BILLING_TYPES,
    DATA_GEOGRAPHIES,
    DATA_REGIONS,
)

Choices = Sequence[tuple[str, str]]

NAME_MAX_LENGTH = 100
FIELD_MAX_LENGTH = 100


def _set_choices(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class BillingMonthForm(forms.Form):
    """The ``<input type="month">`` picker, which submits ``YYYY-MM``."""

    error_message = "Enter a month as YYYY-MM, for example 2025-01."

    month = forms.CharField(
        label="Month",
        max_length=7,
        error_messages={"required": error_message, "max_length": error_message},
    )

    def clean_month(self) -> datetime.date:
        raw: str = self.cleaned_data["month"]
        try:
            month = datetime.datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(self.error_message) from None
        if not FIRST_MONTH <= month <= LAST_MONTH:
            raise forms.ValidationError(
                f"{raw} is out of range. Pick a month from "
                f"{FIRST_MONTH:%B %Y} to {LAST_MONTH:%B %Y}."
            )
        return month


class TenantCreateForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="The customer's legal name, as Sophos bills it.",
    )
    show_as = forms.CharField(
        label="Show as",
        max_length=NAME_MAX_LENGTH,
        required=False,
        help_text="A shorter name Sophos Central shows; the name when empty.",
    )
    data_geography = forms.ChoiceField(
        label="Data geography",
        required=False,
        choices=[("", "Choose by region instead"), *DATA_GEOGRAPHIES.items()],
        help_text="Where Sophos keeps the tenant's data. Give a geography or a region.",
    )
    data_region = forms.ChoiceField(
        label="Data region",
        required=False,
        choices=[("", "Any region of the geography"), *DATA_REGIONS.items()],
    )
    billing_type = forms.ChoiceField(
        label="Billing",
        choices=list(BILLING_TYPES.items()),
        widget=forms.RadioSelect,
        initial="trial",
        help_text="A trial tenant can be converted to usage billing in Sophos "
        "Central later.",
    )
    first_name = forms.CharField(
        label="Contact first name", max_length=FIELD_MAX_LENGTH
    )
    last_name = forms.CharField(label="Contact last name", max_length=FIELD_MAX_LENGTH)
    email = forms.EmailField(label="Contact email", max_length=254)
    phone = forms.CharField(label="Contact phone", max_length=40, required=False)
    address1 = forms.CharField(
        label="Street address", max_length=FIELD_MAX_LENGTH, required=False
    )
    city = forms.CharField(max_length=FIELD_MAX_LENGTH, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    country_code = forms.CharField(
        label="Country code",
        max_length=2,
        min_length=2,
        required=False,
        help_text="Two letters, ISO 3166, such as US or DE.",
    )

    def clean_country_code(self) -> str:
        value: str = self.cleaned_data["country_code"].strip().upper()
        if value and not value.isalpha():
            raise forms.ValidationError("Enter two letters, such as US or DE.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        geography = cleaned.get("data_geography")
        region = cleaned.get("data_region")
        if not geography and not region:
            self.add_error(
                "data_geography", "Choose a data geography or a data region."
            )
        return cleaned


class PartnerAdminCreateForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        help_text="Sophos Central sends the invitation to this address, which "
        "becomes the admin's sign-in name.",
    )
    first_name = forms.CharField(max_length=FIELD_MAX_LENGTH)
    last_name = forms.CharField(max_length=FIELD_MAX_LENGTH)
    role = forms.ChoiceField(required=False, label="Role")
    scope_type = forms.ChoiceField(
        label="Role applies to",
        choices=list(ASSIGNMENT_SCOPES.items()),
        initial="partner",
        widget=forms.RadioSelect,
    )
    tenant = forms.ChoiceField(label="Tenant", required=False)

    def __init__(
        self, *args: Any, roles: Choices = (), tenants: Choices = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "role", [("", "No role for now"), *roles])
        _set_choices(self, "tenant", [("", "Choose a tenant"), *tenants])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope_type") == "tenant" and not cleaned.get("tenant"):
            self.add_error("tenant", "Choose the tenant the role applies to.")
        return cleaned


class PartnerRoleAssignForm(forms.Form):
    role = forms.ChoiceField(label="Role")
    scope_type = forms.ChoiceField(
        label="Applies to",
        choices=list(ASSIGNMENT_SCOPES.items()),
        initial="partner",
        widget=forms.RadioSelect,
    )
    tenant = forms.ChoiceField(label="Tenant", required=False)

    def __init__(
        self, *args: Any, roles: Choices = (), tenants: Choices = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "role", [("", "Choose a role"), *roles])
        _set_choices(self, "tenant", [("", "Choose a tenant"), *tenants])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope_type") == "tenant" and not cleaned.get("tenant"):
            self.add_error("tenant", "Choose the tenant the role applies to.")
        return cleaned
