"""Forms of the endpoint detail page's actions."""

from __future__ import annotations

from django import forms


class IsolationForm(forms.Form):
    """Isolate an endpoint or release it, always with a reason."""

    ISOLATE = "isolate"
    RELEASE = "release"

    action = forms.ChoiceField(
        choices=[(ISOLATE, "Isolate"), (RELEASE, "Release from isolation")],
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(
        label="Comment",
        max_length=500,
        help_text="Why the endpoint is isolated or released. Sophos Central "
        "shows it with the isolation state.",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.cleaned_data["action"] == self.ISOLATE)


class TamperProtectionForm(forms.Form):
    """Turn tamper protection on or off for one endpoint."""

    enabled = forms.TypedChoiceField(
        choices=[("on", "Turn on"), ("off", "Turn off")],
        coerce=lambda value: value == "on",
        widget=forms.HiddenInput,
    )
