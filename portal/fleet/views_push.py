"""Push an allowed or a blocked item to many tenants, follow it, and undo it.

The form sends a dry run (each tenant is read, nothing is written) or the
push itself. A dry run's page offers to run the same push for real. A
push's page offers to undo it, which deletes exactly the items the push
created and leaves the items that were already present.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import access
from portal.access import Capability
from portal.accounts.models import TenantGroup
from portal.web.views import HtmxHttpRequest, _render, job_finished_trigger
from sophos.models import JobItem, Tenant
from sophos.models_fleet import ItemPush, ItemPushTarget
from sophos.services import jobs
from sophos.services.fleet_ops import push as push_service
from sophos.services.fleet_ops.push import PushRequest

logger = logging.getLogger(__name__)

LIST_TEMPLATE = "fleet_ops/push_list.html"
FORM_TEMPLATE = "fleet_ops/push_form.html"
DETAIL_TEMPLATE = "fleet_ops/push_detail.html"
UNDO_TEMPLATE = "fleet_ops/push_undo.html"
PAGE_SIZE = 25
SECTION = "push"


def tenant_label(tenant: Tenant) -> str:
    if tenant.customer_name and tenant.customer_name != tenant.name:
        return f"{tenant.customer_name} ({tenant.name})"
    return tenant.name


class TenantsField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Tenants to choose from, labelled with their customer names."""

    def label_from_instance(self, obj: Any) -> str:
        return tenant_label(obj)


def groups_reaching(tenants: QuerySet[Tenant]) -> QuerySet[TenantGroup]:
    """Return the tenant groups with at least one tenant among ``tenants``."""
    return TenantGroup.objects.filter(tenants__in=tenants.values("pk")).distinct()


class PushForm(forms.Form):
    kind = forms.ChoiceField(
        label="Item",
        choices=ItemPush.Kind.choices,
        initial=ItemPush.Kind.BLOCKED,
        widget=forms.RadioSelect,
        help_text="A blocked item stops the file from running; an allowed item "
        "exempts it from detection.",
    )
    item_type = forms.ChoiceField(
        label="Match on",
        choices=list(push_service.ALLOWED_TYPES.items()),
        initial="sha256",
        help_text="Blocked items always match on the SHA-256 hash.",
    )
    value = forms.CharField(
        max_length=push_service.MAX_VALUE_LENGTH,
        help_text="A SHA-256 hash is 64 hexadecimal characters; a path or a "
        "certificate signer is matched exactly as typed.",
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )
    comment = forms.CharField(
        max_length=push_service.MAX_COMMENT_LENGTH,
        help_text="Why the item is pushed; Sophos Central shows it beside the item.",
    )
    tenants = TenantsField(
        queryset=Tenant.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Hold Ctrl or Cmd to pick several.",
    )
    groups = forms.ModelMultipleChoiceField(
        label="Tenant groups",
        queryset=TenantGroup.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Every tenant of a group that you may change receives the item.",
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenants"]
        group_field = self.fields["groups"]
        assert isinstance(tenant_field, forms.ModelMultipleChoiceField)
        assert isinstance(group_field, forms.ModelMultipleChoiceField)
        tenant_field.queryset = tenants.order_by("name")
        group_field.queryset = groups_reaching(tenants).order_by("name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("tenants") and not cleaned.get("groups"):
            raise forms.ValidationError("Choose at least one tenant or tenant group.")
        kind = cleaned.get("kind", "")
        if kind == ItemPush.Kind.BLOCKED:
            cleaned["item_type"] = "sha256"
        if "value" in cleaned and kind:
            try:
                cleaned["value"] = push_service.push_value_clean(
                    kind=kind,
                    item_type=cleaned.get("item_type", ""),
                    value=cleaned["value"],
                )
            except ValueError as exc:
                self.add_error("value", str(exc))
        return cleaned

    def push_request(self) -> PushRequest:
        data = self.cleaned_data
        return PushRequest(
            kind=data["kind"],
            item_type=data["item_type"],
            value=data["value"],
            comment=data["comment"],
            tenant_ids=[tenant.pk for tenant in data["tenants"]],
            group_ids=[group.pk for group in data["groups"]],
        )


def _push_for(request: HtmxHttpRequest, push_id: int) -> ItemPush:
    push = (
        push_service.item_pushes_visible(user=request.user).filter(pk=push_id).first()
    )
    if push is None:
        raise Http404("No such push.")
    return push


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def push_list(request: HtmxHttpRequest) -> HttpResponse:
    pushes = push_service.item_pushes_visible(user=request.user)
    page = Paginator(pushes, PAGE_SIZE).get_page(request.GET.get("page"))
    jobs.jobs_activity_load(
        jobs=[job for push in page for job in (push.job, push.undo_job) if job]
    )
    context = {
        "page": page,
        "section": SECTION,
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
    }
    return _render(request, LIST_TEMPLATE, "push-table", context)


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def push_create(request: HtmxHttpRequest) -> HttpResponse:
    tenants = access.tenants_actionable(request.user)
    if request.method != "POST":
        form = PushForm(tenants=tenants)
        return _render(request, FORM_TEMPLATE, "push-form", _form_context(form))

    form = PushForm(request.POST, tenants=tenants)
    dry_run = request.POST.get("action") != "push"
    if not form.is_valid():
        return _render(
            request, FORM_TEMPLATE, "push-form", _form_context(form), status=400
        )
    try:
        push = push_service.item_push_start(
            user=request.user, request=form.push_request(), dry_run=dry_run
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return _render(
            request, FORM_TEMPLATE, "push-form", _form_context(form), status=400
        )
    return redirect("fleet_ops:push_detail", push.pk)


def _form_context(form: PushForm) -> dict[str, Any]:
    return {"form": form, "section": SECTION}


@dataclass(frozen=True)
class TenantRow:
    """One tenant of a push: its job item and what the push recorded there."""

    item: JobItem
    target: ItemPushTarget | None


def _rows(push: ItemPush, visible: QuerySet[Tenant]) -> list[TenantRow]:
    if push.job is None:
        return []
    items = push.job.items.filter(tenant_id__in=visible.values("pk")).order_by("id")
    targets = {target.tenant_id: target for target in push.targets.all()}
    return [
        TenantRow(
            item=item, target=targets.get(item.tenant_id) if item.tenant_id else None
        )
        for item in items
    ]


@require_GET
@login_required
@access.require(Capability.VIEW_TENANTS)
def push_detail(request: HtmxHttpRequest, push_id: int) -> HttpResponse:
    push = _push_for(request, push_id)
    visible = access.tenants_visible(request.user)
    job = push.job
    summary = jobs.job_summary(items=job.items.all()) if job is not None else None
    # A cancelled job has ended only once its worker has ended its item.
    ended = job is None or not jobs.job_active(job=job)
    undo_ended = push.undo_job is None or not jobs.job_active(job=push.undo_job)
    polling = not (ended and undo_ended)
    can_act = access.has_capability(request.user, Capability.ACT_ON_TENANTS)
    context = {
        "push": push,
        "job": job,
        "job_ended": job is not None and ended,
        "summary": summary,
        "rows": _rows(push, visible),
        "undoable": push_service.item_push_undoable(push=push)
        .filter(tenant__in=visible.values("pk"))
        .count(),
        "polling": polling,
        "can_act": can_act,
        "section": SECTION,
    }
    response = _render(request, DETAIL_TEMPLATE, "push-detail", context)
    last_job = push.undo_job or job
    if not polling and last_job is not None:
        job_finished_trigger(request, response, last_job)
    return response


@require_POST
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def push_run(request: HtmxHttpRequest, push_id: int) -> HttpResponse:
    """Run a dry run's push for real, with the same item and targets."""
    preview = _push_for(request, push_id)
    if not preview.dry_run:
        messages.error(request, "This push has run already.")
        return redirect("fleet_ops:push_detail", preview.pk)
    push_request = PushRequest(
        kind=preview.kind,
        item_type=preview.item_type,
        value=preview.value,
        comment=preview.comment,
        tenant_ids=preview.tenant_ids,
        group_ids=preview.group_ids,
    )
    try:
        push = push_service.item_push_start(
            user=request.user, request=push_request, dry_run=False
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("fleet_ops:push_detail", preview.pk)
    return redirect("fleet_ops:push_detail", push.pk)


@require_http_methods(["GET", "POST"])
@login_required
@access.require(Capability.ACT_ON_TENANTS)
def push_undo(request: HtmxHttpRequest, push_id: int) -> HttpResponse:
    """Confirm, then queue the job that deletes what the push created."""
    push = _push_for(request, push_id)
    actionable = access.tenants_actionable(request.user).values("pk")
    undoable = push_service.item_push_undoable(push=push).filter(tenant__in=actionable)
    if request.method == "POST":
        try:
            push_service.item_push_undo_start(user=request.user, push=push)
        except ValueError as exc:
            messages.error(request, str(exc))
        return redirect("fleet_ops:push_detail", push.pk)

    kept = push.targets.filter(
        status=ItemPushTarget.Status.ALREADY_PRESENT, tenant__in=actionable
    ).select_related("tenant")
    context = {
        "push": push,
        "undoable": list(undoable),
        "kept": list(kept),
        "detail_url": reverse("fleet_ops:push_detail", args=[push.pk]),
        "section": SECTION,
    }
    return _render(request, UNDO_TEMPLATE, "push-undo", context)
