from __future__ import annotations

from django import forms


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\s*\d{6,8}\s*$",
        error_messages={"invalid": "Enter the 6-digit code your app shows."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"]
        return token.strip()


class RequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Require two-factor login for every user",
        required=False,
        help_text=(
            "Users without an authenticator app are logged out and must set one "
            "up at their next login."
        ),
    )
