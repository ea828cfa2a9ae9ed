"""Policy drift: choose a baseline, compare the fleet, accept and realign.

The drift page starts a comparison against a tenant's policy or a saved
template. A check's page lists each tenant's deviations (setting, baseline
value, tenant value), with accepted deviations marked until they expire,
and queues a realignment of chosen tenants, as a dry run first if wanted.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import access
from portal.access import Capability
from portal.fleet.views.common import (
    deletable_template,
    job_started,
    template_from_form,
    templates_context,
)
from portal.fleet.views_push import TenantsField, tenant_label
from portal.tenants.common import sophos_error_text
from portal.web.views import HtmxHttpRequest, _render, job_finished_trigger
from sophos.errors import SophosError
from sophos.models import Tenant
from sophos.models_fleet import DriftCheck, PolicyTemplate
from sophos.services import jobs, policies
from sophos.services.fleet_ops import drift

logger = logging.getLogger(__name__)

SECTION = "drift"
PAGE_TEMPLATE = "fleet_ops/drift.html"
CHECK_TEMPLATE = "fleet_ops/drift_check.html"
ACCEPT_TEMPLATE = "fleet_ops/drift_accept.html"
TEMPLATES_TEMPLATE = "fleet_ops/drift_templates.html"
PAGE_SIZE = 20
DEFAULT_ACCEPTANCE_DAYS = 90

POLICY_TYPE_CHOICES = list(policies.POLICY_TYPES.items())


class TenantField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return tenant_label(obj)


class BaselineForm(forms.Form):
    source = forms.ChoiceField(
        label="Baseline",
        choices=[("policy", "A tenant's policy"), ("template", "A saved template")],
        initial="policy",
        widget=forms.RadioSelect,
    )
    tenant = TenantField(
        queryset=Tenant.objects.none(),
        required=False,
        help_text="The tenant whose policy is the baseline.",
    )
    policy_type = forms.ChoiceField(
        label="Policy type", choices=POLICY_TYPE_CHOICES, initial="threat-protection"
    )
    policy_id = forms.CharField(
        label="Policy",
        required=False,
        widget=forms.Select(choices=[("", "Base policy")]),
        help_text="The base policy is compared with every tenant's base policy; a "
        "named policy with each tenant's policy of the same name.",
    )
    template = forms.ModelChoiceField(
        queryset=PolicyTemplate.objects.all(),
        required=False,
        help_text="A template compares its own policy type.",
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tenant"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = tenants.order_by("name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == "template" and not cleaned.get("template"):
            self.add_error("template", "Choose a template.")
        if cleaned.get("source") == "policy" and not cleaned.get("tenant"):
            self.add_error("tenant", "Choose the baseline tenant.")
        return cleaned

    def policy_options(self, options: list[tuple[str, str]]) -> None:
        widget = self.fields["policy_id"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "Base policy"), *options]


class AcceptForm(forms.Form):
    reason = forms.CharField(
        max_length=drift.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the tenant may keep its own value, for whoever reads it later.",
    )
    expires_on = forms.DateField(
        label="Accepted until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"At most {drift.MAX_ACCEPTANCE_DAYS} days away. From that day "
        "the deviation shows as open again.",
    )

    def expires_at(self) -> dt.datetime:
        day: dt.date = self.cleaned_data["expires_on"]
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        return timezone.make_aware(end)


class PolicyTemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    tenant = TenantField(queryset=Tenant.objects.none())
    policy_type = forms.ChoiceField(label="Policy type", choices=POLICY_TYPE_CHOICES)
    policy_id = forms.CharField(
        label="Policy id",
        required=False,
        help_text="Empty for the base policy of the type.",
    )
    compare_by_name = forms.BooleanField(
        label="Compare each tenant's policy of the same name",
        required=False,
        help_text="Otherwise checks against the template compare base policies.",
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tenant"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = tenants.order_by("name")


class RealignForm(forms.Form):
    tenants = TenantsField(queryset=Tenant.objects.none())

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tenants"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = tenants


# -- the drift page --------------------------------------------------------------------


def _policy_choices(
    request: HtmxHttpRequest, tenant_id: str, policy_type: str
) -> tuple[list[tuple[str, str]], SophosError | None]:
    """Read the named policies of a visible tenant's type, live."""
    tenant = _tenant_in(access.tenants_visible(request.user), tenant_id)
    if tenant is None or policy_type not in policies.POLICY_TYPES:
        return [], None
    try:
        listed = policies.policies_list(tenant=tenant, policy_type=policy_type)
    except SophosError as exc:
        logger.warning("policies of tenant %s failed: %s", tenant.pk, exc)
        return [], exc
    named = [(p.id, p.name) for p in listed if not p.is_base and p.type == policy_type]
    return sorted(named, key=lambda option: option[1].casefold()), None


def _tenant_in(tenants: QuerySet[Tenant], tenant_id: str) -> Tenant | None:
    """Return the tenant of ``tenant_id`` among ``tenants``, or None."""
    try:
        pk = uuid.UUID(tenant_id)
    except ValueError:
        return None
    return tenants.filter(pk=pk).first()


def _page_context(request: HtmxHttpRequest, form: BaselineForm) -> dict[str, Any]:
    checks = drift.drift_checks_visible(user=request.user)
    page = Paginator(checks, PAGE_SIZE).get_page(request.GET.get("page"))
    jobs.jobs_activity_load(jobs=[check.job for check in page if check.job])
    return {
        "form": form,
        "page": page,
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "section": SECTION,
    }


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def drift_page(request: HtmxHttpRequest) -> HttpResponse:
    tenants = access.tenants_visible(request.user)
    form = BaselineForm(initial=request.GET.dict(), tenants=tenants)
    options, error = _policy_choices(
        request, request.GET.get("tenant", ""), request.GET.get("policy_type", "")
    )
    form.policy_options(options)
    context = _page_context(request, form)
    context["policy_error"] = error
    return _render(request, PAGE_TEMPLATE, "drift-checks", context)


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def drift_policies(request: HtmxHttpRequest) -> HttpResponse:
    """Return the policy choice of the baseline form for a tenant and type."""
    tenants = access.tenants_visible(request.user)
    form = BaselineForm(tenants=tenants)
    options, error = _policy_choices(
        request, request.GET.get("tenant", ""), request.GET.get("policy_type", "")
    )
    form.policy_options(options)
    context = {"form": form, "policy_error": error}
    return _render(request, PAGE_TEMPLATE, "policy-choice", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def drift_start(request: HtmxHttpRequest) -> HttpResponse:
    tenants = access.tenants_visible(request.user)
    form = BaselineForm(request.POST, tenants=tenants)
    if form.is_valid():
        try:
            check = drift.drift_check_start(user=request.user, baseline=_baseline(form))
        except SophosError as exc:
            form.add_error(None, sophos_error_text(exc))
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("fleet_ops:drift_check", check.pk)
    options, _ = _policy_choices(
        request, request.POST.get("tenant", ""), request.POST.get("policy_type", "")
    )
    form.policy_options(options)
    return _render(
        request, PAGE_TEMPLATE, "drift-checks", _page_context(request, form), status=400
    )


def _baseline(form: BaselineForm) -> drift.Baseline:
    data = form.cleaned_data
    if data["source"] == "template":
        return drift.baseline_from_template(template=data["template"])
    return drift.baseline_from_policy(
        tenant=data["tenant"],
        policy_type=data["policy_type"],
        policy_id=data["policy_id"].strip(),
    )


# -- one check ----------------------------------------------------------------------


def _check_for(request: HtmxHttpRequest, check_id: int) -> DriftCheck:
    check = drift.drift_checks_visible(user=request.user).filter(pk=check_id).first()
    if check is None:
        raise Http404("No such drift check.")
    return check


def _check_context(request: HtmxHttpRequest, check: DriftCheck) -> dict[str, Any]:
    visible = access.tenants_visible(request.user)
    actionable = set(
        access.tenants_actionable(request.user).values_list("pk", flat=True)
    )
    rows = drift.drift_results(check=check, tenants=visible)
    job = check.job
    return {
        "check": check,
        "job": job,
        "rows": rows,
        "drifted": sum(1 for row in rows if row.open_deviations),
        "actionable": actionable,
        "can_act": bool(actionable)
        and access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "polling": job is not None and jobs.job_active(job=job),
        "type_label": policies.policy_type_label(check.policy_type),
        "baseline": [
            (key, policies.value_text(value))
            for key, value in sorted(check.baseline_settings.items())
        ],
        "section": SECTION,
    }


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def drift_check(request: HtmxHttpRequest, check_id: int) -> HttpResponse:
    check = _check_for(request, check_id)
    response = _render(
        request, CHECK_TEMPLATE, "drift-results", _check_context(request, check)
    )
    if check.job is not None:
        job_finished_trigger(request, response, check.job)
    return response


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def drift_accept(request: HtmxHttpRequest, check_id: int) -> HttpResponse:
    """Accept one tenant's deviation of one setting, with a reason and expiry."""
    check = _check_for(request, check_id)
    posted = request.method == "POST"
    data = request.POST if posted else request.GET
    actionable = access.tenants_actionable(request.user)
    tenant = _tenant_in(actionable, data.get("tenant", ""))
    key = data.get("key", "")
    if tenant is None or key not in check.baseline_settings:
        raise Http404("No such deviation.")

    default_day = timezone.localdate() + dt.timedelta(days=DEFAULT_ACCEPTANCE_DAYS)
    form = AcceptForm(
        request.POST if posted else None, initial={"expires_on": default_day}
    )
    if posted and form.is_valid():
        try:
            drift.drift_accept(
                user=request.user,
                tenant=tenant,
                policy_type=check.policy_type,
                setting_key=key,
                reason=form.cleaned_data["reason"],
                expires_at=form.expires_at(),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Accepted the deviation of {key} in {tenant.display_name}."
            )
            return redirect("fleet_ops:drift_check", check.pk)

    context = {
        "check": check,
        "tenant": tenant,
        "key": key,
        "label": policies.setting_label(key),
        "baseline_value": policies.value_text(check.baseline_settings[key]),
        "form": form,
        "section": SECTION,
    }
    status = 400 if posted else 200
    return _render(request, ACCEPT_TEMPLATE, "accept-form", context, status=status)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def drift_realign(request: HtmxHttpRequest, check_id: int) -> HttpResponse:
    check = _check_for(request, check_id)
    form = RealignForm(request.POST, tenants=access.tenants_actionable(request.user))
    if not form.is_valid():
        messages.error(request, "Choose at least one tenant to realign.")
        return redirect("fleet_ops:drift_check", check.pk)
    try:
        job = drift.drift_realign_start(
            user=request.user,
            check=check,
            tenant_ids=[tenant.pk for tenant in form.cleaned_data["tenants"]],
            dry_run=request.POST.get("action") != "realign",
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("fleet_ops:drift_check", check.pk)
    return job_started(request, job)


# -- templates ----------------------------------------------------------------------


def _templates_context(
    request: HtmxHttpRequest, form: PolicyTemplateForm
) -> dict[str, Any]:
    templates = PolicyTemplate.objects.select_related("source_tenant")
    return templates_context(request, templates, form=form, section=SECTION)


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def drift_templates(request: HtmxHttpRequest) -> HttpResponse:
    form = PolicyTemplateForm(tenants=access.tenants_visible(request.user))
    context = _templates_context(request, form)
    return _render(request, TEMPLATES_TEMPLATE, "templates-list", context)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def drift_template_create(request: HtmxHttpRequest) -> HttpResponse:
    """Save a tenant's policy, read live, as a policy template."""
    tenants = access.tenants_visible(request.user)
    form = PolicyTemplateForm(request.POST, tenants=tenants)
    template = template_from_form(
        form,
        lambda data: drift.policy_template_create(
            user=request.user,
            name=data["name"],
            tenant=data["tenant"],
            policy_type=data["policy_type"],
            policy_id=data["policy_id"].strip(),
            compare_by_name=data["compare_by_name"],
        ),
    )
    if template is not None:
        messages.success(request, f"Saved the policy template {template.name}.")
        return redirect("fleet_ops:drift_templates")

    context = _templates_context(request, form)
    return _render(request, TEMPLATES_TEMPLATE, "templates-list", context, status=400)


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def drift_template_delete(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    template = deletable_template(request, PolicyTemplate, template_id)
    drift.policy_template_delete(user=request.user, template=template)
    messages.success(request, f"Deleted the policy template {template.name}.")
    return redirect(reverse("fleet_ops:drift_templates"))
