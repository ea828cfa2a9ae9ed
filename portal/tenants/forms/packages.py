"""Forms of the package, installer and endpoint settings pages."""

from __future__ import annotations

from typing import Any

from django import forms

from sophos.services.packages import INSTALLER_PLATFORMS, INSTALLER_PRODUCTS

COMMENT_MAX_LENGTH = 500
TOKEN_MAX_LENGTH = 200
# Sophos Central documents no upper bound; these keep a typo from asking for
# a disk-filling journal.
MAX_JOURNAL_MB = 1_000_000
MAX_JOURNAL_PERCENT = 100


class PackageCommentForm(forms.Form):
    comment = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A note for other admins, such as which servers pin this package.",
    )


class SpecialPackageForm(forms.Form):
    token = forms.CharField(
        label="Special package token",
        max_length=TOKEN_MAX_LENGTH,
        help_text="The token Sophos support gave you. Adding a special package "
        "cannot be undone.",
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"].strip()
        if any(character in token for character in "/\\?#%") or ".." in token:
            raise forms.ValidationError(
                "A token has no slashes, question marks, hashes or percent signs."
            )
        return token


class InstallerFilterForm(forms.Form):
    platforms = forms.MultipleChoiceField(
        choices=list(INSTALLER_PLATFORMS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.MultipleChoiceField(
        choices=list(INSTALLER_PRODUCTS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Products the installer includes; none picks every licensed product.",
    )


class EventJournalForm(forms.Form):
    use_recommended = forms.BooleanField(
        label="Use the recommended limits", required=False
    )
    disk_limit_mb = forms.IntegerField(
        label="Disk space limit (MB)",
        required=False,
        min_value=1,
        max_value=MAX_JOURNAL_MB,
    )
    disk_limit_percent = forms.IntegerField(
        label="Disk space limit (% of the disk)",
        required=False,
        min_value=1,
        max_value=MAX_JOURNAL_PERCENT,
        help_text="When both limits are set, the lower one applies.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("use_recommended"):
            return cleaned
        if (
            cleaned.get("disk_limit_mb") is None
            and cleaned.get("disk_limit_percent") is None
        ):
            raise forms.ValidationError(
                "Give a limit in MB or as a percentage, or use the recommended limits."
            )
        return cleaned
