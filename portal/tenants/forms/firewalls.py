"""Forms of the firewall and firewall group pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from portal.tenants.crud import ItemForm
from portal.tenants.forms.directory import SophosIdsField
from sophos.errors import SophosError
from sophos.services.firewalls import UNGROUPED, FirmwareCheck, UpgradeRequest

Choices = Sequence[tuple[str, str]]

LABEL_MAX_LENGTH = 100
# How far ahead an upgrade can be scheduled from the portal.
MAX_SCHEDULE_DAYS = 90


def _set_choices(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class FirewallLabelForm(forms.Form):
    label = forms.CharField(
        max_length=LABEL_MAX_LENGTH,
        help_text="The name Sophos Central shows; labels are unique per tenant.",
    )


class FirewallGroupMoveForm(forms.Form):
    group = forms.ChoiceField(label="Group")

    def __init__(self, *args: Any, groups: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "group", [(UNGROUPED, "No group"), *groups])


class FirewallSelectionForm(forms.Form):
    """The firewalls ticked in the list."""

    ids = SophosIdsField(error_messages={"required": "Select at least one firewall."})


class FirmwareUpgradeForm(forms.Form):
    """One firmware version per firewall, and an optional start time.

    The version fields are named ``version_<firewall id>`` and offer the
    versions the firmware check returned for that firewall.
    """

    upgrade_at = forms.DateTimeField(
        label="Start at (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty to upgrade as soon as each firewall picks up the "
        "request. Firewalls restart during the upgrade.",
    )

    def __init__(self, *args: Any, check: FirmwareCheck, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.firewall_ids: list[str] = []
        for candidate in check.firewalls:
            if not candidate.upgrade_to:
                continue
            self.firewall_ids.append(candidate.firewall_id)
            self.fields[f"version_{candidate.firewall_id}"] = forms.ChoiceField(
                label=f"Version for {candidate.serial_number or candidate.firewall_id}",
                choices=[("", "Do not upgrade")]
                + [(version, version) for version in candidate.upgrade_to],
                required=False,
                help_text=f"Now running {candidate.current_version or 'unknown'}.",
            )

    def clean_upgrade_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data["upgrade_at"]
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        now = timezone.now()
        if value < now:
            raise forms.ValidationError("Choose a time in the future.")
        if value > now + dt.timedelta(days=MAX_SCHEDULE_DAYS):
            raise forms.ValidationError(
                f"Choose a time within {MAX_SCHEDULE_DAYS} days."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.firewall_ids and not self.requests():
            raise forms.ValidationError("Choose a version for at least one firewall.")
        return cleaned

    def requests(self) -> list[UpgradeRequest]:
        """Return one upgrade request per firewall given a version."""
        upgrade_at = self.cleaned_data.get("upgrade_at")
        return [
            UpgradeRequest(
                firewall_id=firewall_id,
                version=self.cleaned_data[f"version_{firewall_id}"],
                upgrade_at=upgrade_at,
            )
            for firewall_id in self.firewall_ids
            if self.cleaned_data.get(f"version_{firewall_id}")
        ]


class FirewallGroupForm(ItemForm):
    name = forms.CharField(max_length=LABEL_MAX_LENGTH)
    firewalls = forms.MultipleChoiceField(
        label="Firewalls in the group",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A firewall is in one group at most: ticking it moves it here.",
    )

    def __init__(self, *args: Any, firewalls: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "firewalls", firewalls)

    def error_field(self, error: SophosError) -> str | None:
        return "name" if error.status == 409 else None


class FirewallGroupCreateForm(FirewallGroupForm):
    parent = forms.ChoiceField(label="Parent group", required=False)
    config_source = forms.ChoiceField(
        label="Import configuration from",
        required=False,
        help_text="The group takes this firewall's configuration, which Sophos "
        "Central then keeps in sync on every firewall of the group.",
    )

    def __init__(
        self,
        *args: Any,
        firewalls: Choices = (),
        groups: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, firewalls=firewalls, **kwargs)
        _set_choices(self, "parent", [("", "None (top level)"), *groups])
        _set_choices(self, "config_source", [("", "Do not import"), *firewalls])
