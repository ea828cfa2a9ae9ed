"""Forms of the admin and role pages, for tenants and for the partner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from portal.tenants.crud import ItemForm
from sophos.errors import SophosError
from sophos.services.tenant_admins import PRINCIPAL_TYPES

Choices = Sequence[tuple[str, str]]

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 255


def _set_choices(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class RoleForm(ItemForm):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="Role names are unique and may not be a predefined role's name.",
    )
    description = forms.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    permission_sets = forms.MultipleChoiceField(
        label="Permission sets",
        widget=forms.CheckboxSelectMultiple,
        help_text="What an admin with this role may do. Only the sets that "
        "Sophos allows in custom roles are offered.",
        error_messages={"required": "Choose at least one permission set."},
    )

    def __init__(
        self, *args: Any, permission_sets: Choices = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "permission_sets", permission_sets)

    def error_field(self, error: SophosError) -> str | None:
        # Sophos rejects a name in use, or a predefined role's name, with 409.
        return "name" if error.status == 409 else None


class RoleCreateForm(RoleForm):
    principal_type = forms.ChoiceField(
        label="For",
        choices=list(PRINCIPAL_TYPES.items()),
        initial="user",
        widget=forms.RadioSelect,
        help_text="People who sign in, or API credentials. It cannot be changed later.",
    )

    field_order = ["name", "description", "principal_type", "permission_sets"]


class TenantAdminCreateForm(ItemForm):
    user = forms.ChoiceField(
        label="Directory user",
        help_text="The admin signs in as this user of the tenant's directory.",
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role."},
    )

    def __init__(
        self,
        *args: Any,
        users: Choices = (),
        roles: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "user", [("", "Choose a user"), *users])
        _set_choices(self, "roles", roles)

    def error_field(self, error: SophosError) -> str | None:
        # Sophos rejects an unknown user or role with 404.
        return "user" if error.status == 404 else None


class RoleAssignForm(forms.Form):
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: Any, roles: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "role", [("", "Choose a role"), *roles])
