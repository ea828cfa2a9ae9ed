"""The bulk action form of the alert list."""

from __future__ import annotations

from django import forms

from portal.tenants.forms.fields import UUIDListField
from sophos.services.labels import ALERT_ACTION_LABELS

MAX_BULK_ALERTS = 500


class AlertBulkActionForm(forms.Form):
    """One action for every selected alert, each checked against its own
    allowed actions when the job runs."""

    alerts = UUIDListField(
        label="Alerts",
        max_items=MAX_BULK_ALERTS,
        error_messages={"required": "Select at least one alert."},
    )
    action = forms.ChoiceField(
        label="Action",
        choices=[("", "Choose an action")] + list(ALERT_ACTION_LABELS.items()),
        help_text="Alerts that do not allow this action are skipped.",
    )
    message = forms.CharField(
        label="Message",
        required=False,
        max_length=1000,
        help_text="Sent with the messaging actions; the others ignore it.",
    )
