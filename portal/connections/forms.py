from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from sophos.models import Connection
from sophos.services.credentials import (
    CREDENTIAL_LIFETIME_MONTHS,
    connection_secret_readable,
)


class ConnectionForm(forms.Form):
    """A Sophos Central API credential: partner, organization or tenant."""

    name = forms.CharField(max_length=100)
    transport = forms.ChoiceField(label="Sophos Central service")
    client_id = forms.CharField(label="Client ID", max_length=200)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
    )
    credential_created_on = forms.DateField(
        label="Credential created on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=(
            "The day the credential was created in Sophos Central; it expires "
            f"{CREDENTIAL_LIFETIME_MONTHS} months later."
        ),
    )

    def __init__(
        self, *args: Any, connection: Connection | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        choices = [(Connection.Transport.LIVE, Connection.Transport.LIVE.label)]
        if not settings.PRODUCTION:
            choices.append(
                (Connection.Transport.SIMULATOR, Connection.Transport.SIMULATOR.label)
            )
        transport_field = self.fields["transport"]
        assert isinstance(transport_field, forms.ChoiceField)
        transport_field.choices = choices

        if connection is None:
            self.fields["credential_created_on"].initial = timezone.localdate()
        else:
            secret = self.fields["client_secret"]
            secret.required = False
            secret.help_text = "Leave blank to keep the stored secret."
            if not connection_secret_readable(connection=connection):
                secret.help_text = (
                    "The stored secret cannot be decrypted with the current "
                    "PORTAL_ENCRYPTION_KEY: enter it again, or restore the "
                    "previous key."
                )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = Connection.objects.filter(name=name)
        if self.connection is not None:
            others = others.exclude(pk=self.connection.pk)
        if others.exists():
            raise forms.ValidationError(
                "Another connection has this name: choose a different one."
            )
        return name

    def clean_credential_created_on(self) -> Any:
        created_on = self.cleaned_data["credential_created_on"]
        if created_on and created_on > timezone.localdate():
            raise forms.ValidationError("The creation date cannot be in the future.")
        return created_on


def connection_initial(connection: Connection) -> dict[str, Any]:
    """Return the edit form's initial values; the secret is never among them."""
    return {
        "name": connection.name,
        "transport": connection.transport,
        "client_id": connection.client_id,
        "credential_created_on": connection.credential_created_on,
    }
