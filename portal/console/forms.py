"""The API console form.

The form only parses the fields; ``sophos.services.console`` checks the
method, path, query string and body, so the same rules hold for any caller.
"""

from __future__ import annotations

from typing import Any

from django import forms

from sophos import catalog
from sophos.services.console import ALLOWED_METHODS, MAX_PATH_LENGTH

PATH_PARAM_PREFIX = "param_"
MAX_BODY_CHARS = 100_000


def path_param_field(name: str) -> str:
    """Return the form field name of the path parameter ``name``."""
    return f"{PATH_PARAM_PREFIX}{name}"


class ConsoleForm(forms.Form):
    """One console request; the path parameter fields follow the operation."""

    tenant = forms.UUIDField(label="Tenant", required=False)
    connection = forms.IntegerField(
        label="Partner or organization connection", required=False, min_value=1
    )
    operation = forms.CharField(label="Operation", required=False, max_length=100)
    method = forms.CharField(label="Method", required=False, max_length=10)
    path = forms.CharField(label="Path", required=False, max_length=MAX_PATH_LENGTH)
    query = forms.CharField(
        label="Query string",
        required=False,
        max_length=4000,
        help_text="name=value pairs joined by &, for example pageSize=10&view=full.",
    )
    body = forms.CharField(
        label="JSON body",
        required=False,
        max_length=MAX_BODY_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )

    methods = ALLOWED_METHODS

    def __init__(
        self, *args: Any, operation: catalog.Operation | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.catalog_operation = operation
        for name in operation.path_params if operation else ():
            self.fields[path_param_field(name)] = forms.CharField(
                label=name, required=False, max_length=200
            )

    @property
    def path_param_fields(self) -> list[forms.BoundField]:
        """Return the bound path parameter fields, in path order."""
        names = self.catalog_operation.path_params if self.catalog_operation else ()
        return [self[path_param_field(name)] for name in names]

    def path_params(self) -> dict[str, str]:
        """Return the cleaned path parameter values by parameter name."""
        names = self.catalog_operation.path_params if self.catalog_operation else ()
        return {
            name: self.cleaned_data.get(path_param_field(name)) or "" for name in names
        }

    def service_input(self) -> dict[str, Any]:
        """Return the keyword arguments of ``console_prepare`` from clean data."""
        data = self.cleaned_data
        return {
            "method": data["method"] or "",
            "path": data["path"] or "",
            "query": data["query"] or "",
            "body": data["body"] or "",
            "operation": data["operation"] or "",
            "path_params": self.path_params(),
        }

    def add_input_error(self, field: str, parameter: str, message: str) -> None:
        """Attach a service input error to the matching form field."""
        if field == "path_params" and parameter:
            self.add_error(path_param_field(parameter), message)
        elif field in self.fields:
            self.add_error(field, message)
        else:
            self.add_error(None, message)
