"""Forms of the directory user and user group pages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms

from portal.tenants.crud import ItemForm
from sophos.errors import SophosError

# Sophos Central limits names and free text; these are the portal's limits,
# generous for directory names and short enough to keep a page readable.
NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 255


class DirectoryUserForm(ItemForm):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="The display name Sophos Central shows, such as Jane Doe.",
    )
    first_name = forms.CharField(max_length=NAME_MAX_LENGTH, required=False)
    last_name = forms.CharField(max_length=NAME_MAX_LENGTH, required=False)
    email = forms.EmailField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        help_text="Must not be in use by another user of this tenant.",
    )
    exchange_login = forms.CharField(
        label="Exchange login",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        help_text="The user's Exchange logon name, such as DOMAIN\\jdoe.",
    )

    def error_field(self, error: SophosError) -> str | None:
        # Sophos rejects an email address in use with 409.
        return (
            "email" if error.status == 409 and self.cleaned_data.get("email") else None
        )


class DirectoryUserCreateForm(DirectoryUserForm):
    groups = forms.MultipleChoiceField(
        label="Groups",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Custom groups the new user joins.",
    )

    def __init__(
        self, *args: Any, groups: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["groups"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(groups)
        if not groups:
            del self.fields["groups"]


class UserGroupForm(ItemForm):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="Group names are unique within the tenant.",
    )
    description = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def error_field(self, error: SophosError) -> str | None:
        # Sophos rejects a group name in use with 409.
        return "name" if error.status == 409 else None


class UserGroupCreateForm(UserGroupForm):
    members = forms.MultipleChoiceField(
        label="Members",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Custom users who join the new group.",
    )

    def __init__(
        self, *args: Any, users: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(users)
        if not users:
            del self.fields["members"]


class ChoicesAddForm(forms.Form):
    """Pick items to add, among live choices (groups for a user, or users)."""

    ids = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(
        self,
        *args: Any,
        choices: Sequence[tuple[str, str]],
        label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["ids"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(choices)
        field.label = label
        field.error_messages["required"] = "Select at least one."


class SophosIdsField(forms.MultipleChoiceField):
    """Several Sophos ids (UUIDs) ticked in a table; any UUID is a valid choice,
    because Sophos reports the ids it cannot find."""

    def valid_value(self, value: str) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True

    def clean(self, value: Any) -> list[str]:
        cleaned: list[str] = super().clean(value)
        return list(dict.fromkeys(cleaned))


class SelectedRemoveForm(forms.Form):
    """The ticked rows of a membership table."""

    ids = SophosIdsField(error_messages={"required": "Select at least one to remove."})
