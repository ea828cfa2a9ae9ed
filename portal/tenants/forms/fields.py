"""Form fields shared by the tenant category forms."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms


class UUIDListField(forms.MultipleChoiceField):
    """Several ids posted under one name (ticked checkboxes), each a UUID.

    The field has no fixed choices: the service or Sophos Central decides
    whether each id exists.
    """

    def __init__(self, *, max_items: int = 1000, **kwargs: Any) -> None:
        super().__init__(choices=(), **kwargs)
        self.max_items = max_items

    def valid_value(self, value: str) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True

    def clean(self, value: Any) -> list[str]:
        cleaned: list[str] = super().clean(value)
        if len(cleaned) > self.max_items:
            raise forms.ValidationError(
                f"Select at most {self.max_items}; {len(cleaned)} are selected."
            )
        # Keep the order of the page and drop repeats.
        return list(dict.fromkeys(str(uuid.UUID(item)) for item in cleaned))
