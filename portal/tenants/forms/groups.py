"""Forms of the endpoint group pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from portal.tenants.forms.fields import UUIDListField
from sophos.models import Endpoint
from sophos.services.groups import GROUP_TYPES

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 500


class GroupEditForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        help_text="Shown in Sophos Central and in the endpoint list.",
    )
    description = forms.CharField(
        label="Description",
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GroupCreateForm(GroupEditForm):
    type = forms.ChoiceField(
        label="Type",
        choices=list(GROUP_TYPES.items()),
        help_text="A computer group takes computers only, a server group servers "
        "only. The type cannot be changed later.",
    )

    field_order = ["name", "type", "description"]


def _endpoint_label(endpoint: Endpoint) -> str:
    details = [endpoint.os_name] if endpoint.os_name else []
    if endpoint.group_name:
        details.append(f"now in {endpoint.group_name}")
    if not details:
        return endpoint.hostname
    return f"{endpoint.hostname} ({', '.join(details)})"


class MembersAddForm(forms.Form):
    """Pick mirrored endpoints of the group's type to add to it."""

    endpoints = forms.MultipleChoiceField(
        label="Endpoints",
        widget=forms.CheckboxSelectMultiple,
        help_text="Endpoints of the group's type, as last synced. Sophos Central "
        "moves an endpoint that is in another group.",
    )

    def __init__(
        self, *args: Any, candidates: Iterable[Endpoint], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["endpoints"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (str(endpoint.pk), _endpoint_label(endpoint)) for endpoint in candidates
        ]


class MembersRemoveForm(forms.Form):
    """The member ids ticked on a group's page."""

    endpoints = UUIDListField(
        label="Members",
        error_messages={"required": "Select at least one endpoint to remove."},
    )
