"""Customer onboarding: one form that sets up a tenant as a resumable job.

The form takes the customer name and the tenant, which is new under the
partner or an existing one. It takes directory users, typed or as a CSV of
name, email and group, user groups and endpoint groups. A baseline tenant's
policies are cloned and an exclusion template's exclusions created. A CSV
with any bad line is rejected whole, with every bad line named. A run's
page follows the job, offers to resume it after a failure, and shows the
new tenant's installer links.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import access
from portal.access import Capability
from portal.fleet.views.common import (
    deletable_template,
    template_from_form,
    templates_context,
)
from portal.fleet.views_drift import TenantField
from portal.tenants.common import sophos_error_text
from portal.web.views import HtmxHttpRequest, _render, job_finished_trigger
from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.models_fleet import ExclusionTemplate, OnboardingRun
from sophos.services import jobs, packages
from sophos.services.fleet_ops import exclusion_templates, onboarding
from sophos.services.fleet_ops.onboarding import (
    CsvInvalid,
    NewTenant,
    OnboardingRequest,
    UserRow,
)
from sophos.services.partner_tenants import (
    BILLING_TYPES,
    DATA_GEOGRAPHIES,
    DATA_REGIONS,
)

logger = logging.getLogger(__name__)

SECTION = "onboarding"
LIST_TEMPLATE = "fleet_ops/onboarding_list.html"
FORM_TEMPLATE = "fleet_ops/onboarding_form.html"
RUN_TEMPLATE = "fleet_ops/onboarding_run.html"
TEMPLATES_TEMPLATE = "fleet_ops/onboarding_templates.html"
PAGE_SIZE = 20
MAX_GROUPS = 200

NEW_TENANT_FIELDS = (
    "tenant_name",
    "contact_first_name",
    "contact_last_name",
    "contact_email",
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class OnboardingForm(forms.Form):
    customer_name = forms.CharField(
        max_length=255,
        help_text="The name the portal shows for this customer's tenant.",
    )
    tenant_mode = forms.ChoiceField(
        label="Tenant",
        choices=[
            ("new", "Create a tenant under the partner"),
            ("existing", "Set up an existing tenant"),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )
    existing_tenant = TenantField(
        label="Existing tenant",
        queryset=Tenant.objects.none(),
        required=False,
    )
    tenant_name = forms.CharField(
        label="Tenant name",
        max_length=255,
        required=False,
        help_text="The customer's legal name, as Sophos bills it.",
    )
    show_as = forms.CharField(label="Show as", max_length=255, required=False)
    billing_type = forms.ChoiceField(
        label="Billing", choices=list(BILLING_TYPES.items()), initial="trial"
    )
    data_geography = forms.ChoiceField(
        label="Data geography",
        required=False,
        choices=[("", "Choose by region instead"), *DATA_GEOGRAPHIES.items()],
    )
    data_region = forms.ChoiceField(
        label="Data region",
        required=False,
        choices=[("", "Any region of the geography"), *DATA_REGIONS.items()],
    )
    contact_first_name = forms.CharField(
        label="Contact first name", max_length=100, required=False
    )
    contact_last_name = forms.CharField(
        label="Contact last name", max_length=100, required=False
    )
    contact_email = forms.EmailField(label="Contact email", required=False)
    contact_phone = forms.CharField(
        label="Contact phone", max_length=40, required=False
    )
    users_text = forms.CharField(
        label="Directory users",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text="One user a line: name, email, group. The group may be empty.",
    )
    users_csv = forms.FileField(
        label="Directory users as a CSV file",
        required=False,
        help_text="Columns name, email, group, with an optional header line. A "
        "file with any bad line is rejected whole.",
    )
    user_groups = forms.CharField(
        label="More user groups",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One group name a line. The users' groups are created anyway.",
    )
    computer_groups = forms.CharField(
        label="Computer groups",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One group name a line.",
    )
    server_groups = forms.CharField(
        label="Server groups",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One group name a line.",
    )
    baseline_tenant = TenantField(
        label="Clone policies from",
        queryset=Tenant.objects.none(),
        required=False,
        help_text="The base policies' settings and the other policies of this "
        "tenant are copied. Policy assignments are not.",
    )
    exclusion_template = forms.ModelChoiceField(
        queryset=ExclusionTemplate.objects.all(),
        required=False,
        help_text="Every exclusion of the template is created in the tenant.",
    )

    def __init__(
        self,
        *args: Any,
        actionable: QuerySet[Tenant],
        visible: QuerySet[Tenant],
        may_create: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.may_create = may_create
        existing = self.fields["existing_tenant"]
        baseline = self.fields["baseline_tenant"]
        mode = self.fields["tenant_mode"]
        assert isinstance(existing, forms.ModelChoiceField)
        assert isinstance(baseline, forms.ModelChoiceField)
        assert isinstance(mode, forms.ChoiceField)
        existing.queryset = actionable.order_by("name")
        baseline.queryset = visible.order_by("name")
        if not may_create:
            mode.choices = [("existing", "Set up an existing tenant")]
            mode.initial = "existing"

    def clean_users_csv(self) -> list[UserRow]:
        upload: UploadedFile | None = self.cleaned_data.get("users_csv")
        if upload is None:
            return []
        if upload.size is not None and upload.size > onboarding.MAX_CSV_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {onboarding.MAX_CSV_BYTES // 1000} kB."
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text.") from exc
        try:
            return onboarding.users_csv_parse(text)
        except CsvInvalid as exc:
            raise forms.ValidationError(exc.errors) from exc

    def clean_users_text(self) -> list[UserRow]:
        try:
            return onboarding.users_csv_parse(self.cleaned_data["users_text"])
        except CsvInvalid as exc:
            raise forms.ValidationError(exc.errors) from exc

    def _groups(self, name: str) -> list[str]:
        names = list(dict.fromkeys(_lines(self.cleaned_data.get(name, ""))))
        if len(names) > MAX_GROUPS:
            self.add_error(name, f"At most {MAX_GROUPS} groups fit.")
        for group in names:
            if len(group) > onboarding.MAX_GROUP_LENGTH:
                self.add_error(
                    name,
                    f"The group {group[:40]!r} is longer than "
                    f"{onboarding.MAX_GROUP_LENGTH} characters.",
                )
        return names

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("user_groups", "computer_groups", "server_groups"):
            cleaned[name] = self._groups(name)
        typed = cleaned.get("users_text") or []
        uploaded = cleaned.get("users_csv") or []
        typed_emails = {row.email.casefold() for row in typed}
        for row in uploaded:
            if row.email.casefold() in typed_emails:
                self.add_error(
                    "users_csv",
                    f"Line {row.line}: the email {row.email} is also in the typed "
                    "users.",
                )
        if cleaned.get("tenant_mode") == "new":
            self._clean_new_tenant(cleaned)
        elif not cleaned.get("existing_tenant"):
            self.add_error("existing_tenant", "Choose the tenant to set up.")
        return cleaned

    def _clean_new_tenant(self, cleaned: dict[str, Any]) -> None:
        for name in NEW_TENANT_FIELDS:
            if not cleaned.get(name):
                self.add_error(name, "This field is required for a new tenant.")
        if not cleaned.get("data_geography") and not cleaned.get("data_region"):
            self.add_error(
                "data_geography", "Choose a data geography or a data region."
            )

    def onboarding_request(self) -> OnboardingRequest:
        data = self.cleaned_data
        new_tenant = None
        if data["tenant_mode"] == "new":
            new_tenant = NewTenant(
                name=data["tenant_name"].strip(),
                billing_type=data["billing_type"],
                contact_first_name=data["contact_first_name"].strip(),
                contact_last_name=data["contact_last_name"].strip(),
                contact_email=data["contact_email"],
                contact_phone=data["contact_phone"].strip(),
                show_as=data["show_as"].strip(),
                data_geography=data["data_geography"],
                data_region=data["data_region"],
            )
        existing = data.get("existing_tenant")
        baseline = data.get("baseline_tenant")
        template = data.get("exclusion_template")
        return OnboardingRequest(
            customer_name=data["customer_name"],
            new_tenant=new_tenant,
            existing_tenant_id=str(existing.pk) if existing and not new_tenant else "",
            users=[*data["users_text"], *data["users_csv"]],
            user_groups=data["user_groups"],
            endpoint_groups=[
                *(("computer", name) for name in data["computer_groups"]),
                *(("server", name) for name in data["server_groups"]),
            ],
            baseline_tenant_id=str(baseline.pk) if baseline else "",
            exclusion_template_id=template.pk if template else None,
        )


class ExclusionTemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    tenant = TenantField(
        queryset=Tenant.objects.none(),
        help_text="Its scanning, isolation and intrusion prevention exclusions "
        "and its allowed and blocked items are read now and saved.",
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tenant"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = tenants.order_by("name")


# -- runs -----------------------------------------------------------------------------


def _run_for(request: HtmxHttpRequest, run_id: int) -> OnboardingRun:
    run = (
        onboarding.onboarding_runs_visible(user=request.user).filter(pk=run_id).first()
    )
    if run is None:
        raise Http404("No such onboarding.")
    visible = access.tenants_visible(request.user)
    if run.tenant_id is not None and not visible.filter(pk=run.tenant_id).exists():
        raise Http404("No such onboarding.")
    return run


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def onboarding_list(request: HtmxHttpRequest) -> HttpResponse:
    visible = access.tenants_visible(request.user).values("pk")
    runs = onboarding.onboarding_runs_visible(user=request.user).filter(
        Q(tenant__isnull=True) | Q(tenant__in=visible)
    )
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    jobs.jobs_activity_load(jobs=[run.job for run in page if run.job])
    context = {
        "page": page,
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "section": SECTION,
    }
    return _render(request, LIST_TEMPLATE, "onboarding-table", context)


def _form(request: HtmxHttpRequest, *args: Any) -> OnboardingForm:
    return OnboardingForm(
        *args,
        actionable=access.tenants_actionable(request.user),
        visible=access.tenants_visible(request.user),
        may_create=access.has_capability(request.user, Capability.PARTNER_ADMIN),
    )


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def onboarding_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method != "POST":
        context = {"form": _form(request), "section": SECTION}
        return _render(request, FORM_TEMPLATE, "onboarding-form", context)

    form = _form(request, request.POST, request.FILES)
    if form.is_valid():
        try:
            run = onboarding.onboarding_start(
                user=request.user,
                request=form.onboarding_request(),
                dry_run=request.POST.get("action") != "run",
            )
        except SophosError as exc:
            form.add_error(None, sophos_error_text(exc))
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("fleet_ops:onboarding_run", run.pk)
    context = {"form": form, "section": SECTION}
    return _render(request, FORM_TEMPLATE, "onboarding-form", context, status=400)


def _installers(run: OnboardingRun) -> tuple[packages.Installers | None, Any]:
    """Read the tenant's installer links live once its run has finished."""
    if run.dry_run or run.tenant is None or run.job is None:
        return None, None
    if jobs.job_active(job=run.job):
        return None, None
    try:
        return packages.installers_list(tenant=run.tenant), None
    except SophosError as exc:
        logger.warning("installers of tenant %s failed: %s", run.tenant_id, exc)
        return None, exc


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def onboarding_run(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run = _run_for(request, run_id)
    job = run.job
    installers, error = _installers(run)
    items = job.items.order_by("id") if job is not None else []
    # A cancelled job has ended only once its worker has ended its item.
    ended = job is not None and not jobs.job_active(job=job)
    context = {
        "run": run,
        "job": job,
        "items": items,
        "summary": jobs.job_summary(items=job.items.all()) if job else None,
        "installers": installers,
        "installers_error": error,
        "job_ended": ended,
        "resumable": not run.dry_run
        and ended
        and job is not None
        and job.status != job.Status.SUCCEEDED,
        "polling": job is not None and not ended,
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "section": SECTION,
    }
    response = _render(request, RUN_TEMPLATE, "onboarding-run", context)
    if job is not None:
        job_finished_trigger(request, response, job)
    return response


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def onboarding_resume(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run = _run_for(request, run_id)
    try:
        onboarding.onboarding_resume(user=request.user, run=run)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("fleet_ops:onboarding_run", run.pk)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def onboarding_repeat(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Run for real the onboarding a dry run previewed."""
    preview = _run_for(request, run_id)
    if preview.request.get("new_tenant") and not access.has_capability(
        request.user, Capability.PARTNER_ADMIN
    ):
        raise PermissionDenied("Your role may not create tenants under the partner.")
    try:
        run = onboarding.onboarding_repeat(user=request.user, preview=preview)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("fleet_ops:onboarding_run", preview.pk)
    return redirect("fleet_ops:onboarding_run", run.pk)


# -- exclusion templates ------------------------------------------------------------


def _templates_context(
    request: HtmxHttpRequest, form: ExclusionTemplateForm
) -> dict[str, Any]:
    templates = ExclusionTemplate.objects.select_related("source_tenant")
    return templates_context(request, templates, form=form, section=SECTION)


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def onboarding_templates(request: HtmxHttpRequest) -> HttpResponse:
    form = ExclusionTemplateForm(tenants=access.tenants_visible(request.user))
    context = _templates_context(request, form)
    return _render(request, TEMPLATES_TEMPLATE, "templates-list", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def onboarding_template_create(request: HtmxHttpRequest) -> HttpResponse:
    """Save a tenant's exclusions, read live, as an exclusion template."""
    form = ExclusionTemplateForm(
        request.POST, tenants=access.tenants_visible(request.user)
    )
    template = template_from_form(
        form,
        lambda data: exclusion_templates.exclusion_template_create(
            user=request.user, name=data["name"], tenant=data["tenant"]
        ),
    )
    if template is not None:
        messages.success(
            request,
            f"Saved the exclusion template {template.name} with "
            f"{len(template.exclusions)} exclusions.",
        )
        return redirect("fleet_ops:onboarding_templates")

    context = _templates_context(request, form)
    return _render(request, TEMPLATES_TEMPLATE, "templates-list", context, status=400)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def onboarding_template_delete(
    request: HtmxHttpRequest, template_id: int
) -> HttpResponse:
    template = deletable_template(request, ExclusionTemplate, template_id)
    exclusion_templates.exclusion_template_delete(user=request.user, template=template)
    messages.success(request, f"Deleted the exclusion template {template.name}.")
    return redirect("fleet_ops:onboarding_templates")
