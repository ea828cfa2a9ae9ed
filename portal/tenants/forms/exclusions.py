"""Forms of the exclusion pages: each checks its input before Sophos sees it."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from django import forms

from portal.tenants.crud import ItemForm
from sophos.errors import Conflict, SophosError
from sophos.services import exclusions

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
COMMENT_MAX_LENGTH = 500


def _comment(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="Comment",
        required=required,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the exclusion exists, for the next technician.",
    )


def _sha256_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="SHA-256",
        required=required,
        max_length=64,
        strip=True,
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
        help_text="64 hexadecimal characters.",
    )


def _clean_sha256(value: str) -> str:
    value = value.strip().lower()
    if value and not SHA256_PATTERN.match(value):
        raise forms.ValidationError(
            "Enter a SHA-256 hash: 64 hexadecimal characters (0-9, a-f)."
        )
    return value


# -- scanning exclusions -------------------------------------------------------------


class ScanningExclusionForm(ItemForm):
    type = forms.ChoiceField(label="Type", choices=exclusions.SCANNING_TYPES)
    value = forms.CharField(
        label="Value",
        max_length=1000,
        help_text=(
            "The path, process, website, PUA name, exploit or AMSI file the "
            "scanner skips, for example C:\\Program Files\\App\\ or "
            "www.example.com."
        ),
    )
    scan_mode = forms.ChoiceField(
        label="Scan mode",
        choices=exclusions.SCAN_MODES,
        required=False,
        help_text="For file and folder paths only: which scans skip the path.",
    )
    comment = _comment(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("type", "")
        value = cleaned.get("value", "")
        if kind == "web" and "://" in value:
            self.add_error(
                "value",
                "Enter the website without http:// or https://, "
                "for example www.example.com.",
            )
        if kind == "posixPath" and value and not value.startswith(("/", "*")):
            self.add_error(
                "value", "A macOS or Linux path starts with / or *, e.g. /opt/app/."
            )
        if kind in exclusions.SCAN_MODE_TYPES and not cleaned.get("scan_mode"):
            cleaned["scan_mode"] = "onDemandAndOnAccess"
        return cleaned

    def error_field(self, error: SophosError) -> str | None:
        return "value"


class ScanningExclusionUpdateForm(ItemForm):
    value = ScanningExclusionForm.base_fields["value"]
    scan_mode = ScanningExclusionForm.base_fields["scan_mode"]
    comment = _comment(required=False)

    def error_field(self, error: SophosError) -> str | None:
        return "value"


# -- allowed and blocked items -------------------------------------------------------


class AllowedItemForm(ItemForm):
    type = forms.ChoiceField(
        label="Allow by",
        choices=exclusions.ALLOWED_ITEM_TYPES,
        widget=forms.RadioSelect,
        initial="sha256",
    )
    sha256 = _sha256_field(required=False)
    path = forms.CharField(
        label="Path",
        required=False,
        max_length=1000,
        help_text="Needed for an item allowed by path, e.g. C:\\Tools\\app.exe.",
    )
    certificate_signer = forms.CharField(
        label="Certificate signer",
        required=False,
        max_length=500,
        help_text="Needed for an item allowed by signer, as the certificate names it.",
    )
    file_name = forms.CharField(label="File name", required=False, max_length=260)
    comment = _comment(required=True)
    origin_person_id = forms.UUIDField(
        label="Origin person id",
        required=False,
        help_text="The Sophos id of the user on whose computer the file was found.",
    )
    origin_endpoint_id = forms.UUIDField(
        label="Origin endpoint id",
        required=False,
        help_text="The Sophos id of the endpoint where the file was found.",
    )

    # The property each type matches on.
    PROPERTY_FIELDS = {
        "sha256": "sha256",
        "path": "path",
        "certificateSigner": "certificate_signer",
    }

    def clean_sha256(self) -> str:
        return _clean_sha256(self.cleaned_data.get("sha256", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        field = self.PROPERTY_FIELDS.get(cleaned.get("type", ""))
        if field and not cleaned.get(field) and field not in self.errors:
            label = self.fields[field].label
            self.add_error(field, f"Enter the {label} to allow by.")
        return cleaned

    def error_field(self, error: SophosError) -> str | None:
        # A 409 means the tenant already allows this file.
        if isinstance(error, Conflict):
            return self.PROPERTY_FIELDS.get(self.cleaned_data.get("type", ""))
        return None


class CommentForm(ItemForm):
    comment = _comment(required=True)

    def error_field(self, error: SophosError) -> str | None:
        return "comment"


class BlockedItemForm(ItemForm):
    sha256 = _sha256_field(required=True)
    file_name = forms.CharField(label="File name", required=False, max_length=260)
    path = forms.CharField(label="Path", required=False, max_length=1000)
    comment = _comment(required=True)

    def clean_sha256(self) -> str:
        return _clean_sha256(self.cleaned_data.get("sha256", ""))

    def error_field(self, error: SophosError) -> str | None:
        return "sha256" if isinstance(error, Conflict) else None


# -- isolation and intrusion prevention exclusions ---------------------------------


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", value) if part]


class PortListField(forms.CharField):
    """Port numbers separated by commas or spaces."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value) or ""
        ports = []
        for part in _split(text):
            if not part.isdigit() or not 1 <= int(part) <= 65535:
                raise forms.ValidationError(
                    f"{part!r} is not a port: enter numbers from 1 to 65535, "
                    "separated by commas."
                )
            ports.append(int(part))
        return ports

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(port) for port in value)
        return value


class AddressListField(forms.CharField):
    """IP addresses or networks (CIDR) separated by commas or spaces."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        addresses = []
        for part in _split(text):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise forms.ValidationError(
                    f"{part!r} is not an IP address or network: enter addresses "
                    "such as 10.0.0.5 or 10.0.0.0/24, separated by commas."
                ) from None
            addresses.append(part)
        return addresses

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value


class NetworkExclusionForm(ItemForm):
    direction = forms.ChoiceField(label="Direction", choices=exclusions.DIRECTIONS)
    remote_addresses = AddressListField(
        label="Remote addresses",
        required=False,
        help_text="IP addresses or networks, e.g. 10.0.0.5, 10.1.0.0/16.",
    )
    local_ports = PortListField(
        label="Local ports", required=False, help_text="e.g. 443, 8443."
    )
    remote_ports = PortListField(label="Remote ports", required=False)
    comment = _comment(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        wanted = ("remote_addresses", "local_ports", "remote_ports")
        if not self.errors and not any(cleaned.get(name) for name in wanted):
            raise forms.ValidationError(
                "Enter at least one remote address, local port or remote port; "
                "an exclusion without them would let all traffic through."
            )
        return cleaned


# -- exploit mitigation --------------------------------------------------------------


class PathListField(forms.CharField):
    """One path per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value


class ExploitApplicationForm(ItemForm):
    paths = PathListField(
        label="Executable paths",
        max_length=4000,
        help_text=(
            "One path per line; Sophos path variables are allowed, e.g. "
            "$programfiles\\FooApp\\foo.exe."
        ),
    )

    def error_field(self, error: SophosError) -> str | None:
        return "paths"


class ExploitApplicationUpdateForm(ItemForm):
    paths = PathListField(
        label="Executable paths",
        required=False,
        max_length=4000,
        help_text="One path per line. Leave empty to keep the detected paths.",
    )
    protected = forms.BooleanField(
        label="Protect this application with exploit mitigation", required=False
    )
    settings = forms.MultipleChoiceField(
        label="Mitigations",
        required=False,
        choices=exclusions.MITIGATION_SETTINGS,
        widget=forms.CheckboxSelectMultiple,
        help_text="The checked mitigations apply while the application runs.",
    )
