"""Forms of the user, tenant group, customer name and audit log pages."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import QuerySet

from portal.accounts.models import Role, TenantGroup
from sophos.models import Tenant
from sophos.services import labels

ROLE_HELP = {
    Role.OWNER: "Everything, including Sophos connections.",
    Role.ADMINISTRATOR: "Portal users and every action on every tenant.",
    Role.TECHNICIAN: "Read and act on the assigned tenants.",
    Role.READ_ONLY: "Read the assigned tenants, no changes.",
    Role.BILLING: "Billing usage reports, no tenant data.",
}


def _tenant_label(tenant: Tenant) -> str:
    if tenant.customer_name and tenant.customer_name != tenant.name:
        return f"{tenant.customer_name} ({tenant.name})"
    return tenant.name


# Django's form classes are generic only in django-stubs, not at run time.
if TYPE_CHECKING:
    TenantMultipleChoiceField = forms.ModelMultipleChoiceField[Tenant]
    TenantGroupModelForm = forms.ModelForm[TenantGroup]
else:
    TenantMultipleChoiceField = forms.ModelMultipleChoiceField
    TenantGroupModelForm = forms.ModelForm


class TenantChoiceField(TenantMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _tenant_label(obj)


class AccessForm(forms.Form):
    """Roles and tenant assignments, shared by the create and edit forms."""

    roles = forms.MultipleChoiceField(
        required=False,
        widget=forms.SelectMultiple(attrs={"size": len(Role.choices)}),
        help_text="A user's rights are the union of their roles. Hold Ctrl or "
        "Cmd to pick several.",
    )
    tenants = TenantChoiceField(
        queryset=Tenant.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Technicians and read-only users reach these tenants.",
    )
    groups = forms.ModelMultipleChoiceField(
        label="Tenant groups",
        queryset=TenantGroup.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Every tenant of an assigned group is reachable, also later "
        "additions.",
    )

    def __init__(
        self,
        *args: Any,
        grantable: set[str],
        tenants: QuerySet[Tenant],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        roles = self.fields["roles"]
        assert isinstance(roles, forms.MultipleChoiceField)
        roles.choices = [
            (value, f"{label}: {ROLE_HELP[Role(value)]}")
            for value, label in Role.choices
            if value in grantable
        ]
        tenant_field = self.fields["tenants"]
        assert isinstance(tenant_field, forms.ModelMultipleChoiceField)
        tenant_field.queryset = tenants.order_by("name", "id")
        group_field = self.fields["groups"]
        assert isinstance(group_field, forms.ModelMultipleChoiceField)
        group_field.queryset = TenantGroup.objects.all()


class UserCreateForm(AccessForm):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
    )
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = [
        "username",
        "email",
        "first_name",
        "last_name",
        "password1",
        "password2",
        "roles",
        "tenants",
        "groups",
    ]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        model = get_user_model()
        if model.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"The username {username!r} is taken.")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first = cleaned.get("password1")
        second = cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            model = get_user_model()
            candidate = model(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserEditForm(AccessForm):
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)

    field_order = ["email", "first_name", "last_name", "roles", "tenants", "groups"]


class TenantGroupForm(TenantGroupModelForm):
    tenants = TenantChoiceField(
        queryset=Tenant.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )

    class Meta:
        model = TenantGroup
        fields = ["name", "description", "tenants"]

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenants"]
        assert isinstance(tenant_field, forms.ModelMultipleChoiceField)
        tenant_field.queryset = tenants.order_by("name", "id")


class CustomerNameForm(forms.Form):
    customer_name = forms.CharField(
        label="Customer name",
        max_length=255,
        required=False,
        help_text="Your own name for this customer; empty uses the Sophos name.",
    )


class TenantRenameForm(forms.Form):
    """The tenants picked for a bulk rename to their customer names."""

    tenants = forms.ModelMultipleChoiceField(queryset=Tenant.objects.none())

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenants"]
        assert isinstance(tenant_field, forms.ModelMultipleChoiceField)
        tenant_field.queryset = tenants


class CustomerNameFilterForm(forms.Form):
    q = forms.CharField(label="Search tenants", required=False, max_length=100)
    page = forms.IntegerField(required=False, min_value=1)

    defaults = {"q": "", "page": 1}


class AuditFilterForm(forms.Form):
    """Filters of the audit log page and its CSV export."""

    user = forms.ChoiceField(label="User", required=False)
    tenant = forms.ChoiceField(label="Tenant", required=False)
    operation = forms.ChoiceField(label="Operation", required=False)
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="First day, inclusive.",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Last day, inclusive.",
    )
    page = forms.IntegerField(required=False, min_value=1)

    defaults: dict[str, Any] = {
        "user": "",
        "tenant": "",
        "operation": "",
        "since": None,
        "until": None,
        "page": 1,
    }

    def __init__(
        self,
        *args: Any,
        usernames: list[str],
        tenants: list[tuple[str, str]],
        operations: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_choices("user", [("", "Any user")] + [(u, u) for u in usernames])
        self._set_choices("tenant", [("", "Any tenant")] + tenants)
        operation_choices = [
            (code, labels.audit_operation_label(code, has_tenant=None))
            for code in operations
        ]
        operation_choices.sort(key=lambda choice: choice[1].lower())
        self._set_choices("operation", [("", "Any operation")] + operation_choices)

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since: datetime.date | None = cleaned.get("since")
        until: datetime.date | None = cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The last day is before the first day.")
        return cleaned
