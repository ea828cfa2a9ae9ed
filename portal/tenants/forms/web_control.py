"""Forms of the web control pages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from portal.tenants.crud import ItemForm
from sophos.errors import SophosError
from sophos.services.web_control import WebCategory

MAX_TAGS = 20
TAG_MAX_LENGTH = 50
# A host name, an IPv4 address or network, or a URL without spaces.
WEBSITE_PATTERN = re.compile(r"^[^\s]+$")


def _comment() -> forms.CharField:
    return forms.CharField(
        label="Comment",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LocalSiteForm(ItemForm):
    url = forms.CharField(
        label="Website",
        max_length=2048,
        help_text=(
            "A domain, URL or IP address, e.g. intranet.example.com or "
            "https://www.example.com/app."
        ),
    )
    category_id = forms.TypedChoiceField(
        label="Category",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="The web category this tenant gives the site. Saving a site "
        "without a category keeps the category it has.",
    )
    tags = forms.CharField(
        label="Tags",
        required=False,
        max_length=1000,
        help_text="Tags that web control policies can allow or block, "
        "separated by commas.",
    )
    comment = _comment()

    def __init__(
        self,
        *args: Any,
        categories: Sequence[WebCategory] = (),
        categories_error: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "No category")] + [
            (category.id, category.title)
            for category in sorted(categories, key=lambda c: c.title.casefold())
        ]
        if categories_error:
            field.help_text = (
                f"Sophos did not return the web categories ({categories_error}); "
                "use tags, or reload the page to try again."
            )

    def clean_url(self) -> str:
        value: str = self.cleaned_data["url"].strip()
        if not WEBSITE_PATTERN.match(value):
            raise forms.ValidationError("Enter a website without spaces.")
        return value

    def clean_tags(self) -> list[str]:
        raw: str = self.cleaned_data.get("tags", "")
        tags = []
        for tag in (part.strip() for part in raw.split(",")):
            if not tag or tag in tags:
                continue
            if len(tag) > TAG_MAX_LENGTH:
                raise forms.ValidationError(
                    f"The tag {tag!r} is too long: use at most {TAG_MAX_LENGTH} "
                    "characters."
                )
            tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"Enter at most {MAX_TAGS} tags.")
        return tags

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # NOTE/sophos-api: Sophos is assumed to need a category or a tag; a
        # local site with neither changes nothing.
        has_category = cleaned.get("category_id") is not None
        if not self.errors and not has_category and not cleaned.get("tags"):
            raise forms.ValidationError("Choose a category or enter a tag.")
        return cleaned

    def error_field(self, error: SophosError) -> str | None:
        return "url"


class TlsDecryptionForm(forms.Form):
    """One checkbox per web category: decrypt its HTTPS traffic or not."""

    def __init__(
        self,
        *args: Any,
        categories: Sequence[WebCategory],
        decryption: Mapping[int, bool],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for category in sorted(categories, key=lambda c: c.title.casefold()):
            self.fields[self.field_name(category.id)] = forms.BooleanField(
                label=category.title,
                required=False,
                initial=decryption.get(category.id, False),
            )

    @staticmethod
    def field_name(category_id: int) -> str:
        return f"category_{category_id}"

    def decryption(self) -> dict[int, bool]:
        """Return each category id with whether it is now decrypted."""
        return {
            int(name.removeprefix("category_")): bool(value)
            for name, value in self.cleaned_data.items()
            if name.startswith("category_")
        }


class TlsExcludedWebsiteForm(forms.Form):
    value = forms.CharField(
        label="Website",
        max_length=2048,
        help_text="A domain or IP address whose HTTPS traffic is never "
        "decrypted, e.g. bank.example.com or 10.50.100.100.",
    )
    comment = _comment()

    def clean_value(self) -> str:
        value: str = self.cleaned_data["value"].strip()
        if not WEBSITE_PATTERN.match(value):
            raise forms.ValidationError("Enter a website without spaces.")
        return value


class TlsExcludedWebsiteRemoveForm(forms.Form):
    value = forms.CharField(max_length=2048)
