"""Helpers shared by the fleet-wide pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal import access
from portal.access import Capability
from portal.tenants.common import sophos_error_text
from sophos.errors import SophosError
from sophos.models import Endpoint, Job
from sophos.models_fleet import ExclusionTemplate, PolicyTemplate
from sophos.services.fleet_ops import base

# A template saved from one tenant for use across the fleet.
SavedTemplate = TypeVar("SavedTemplate", PolicyTemplate, ExclusionTemplate)


def actionable_endpoints(
    request: HttpRequest, endpoint_ids: Sequence[uuid.UUID]
) -> list[Endpoint]:
    """Return the chosen endpoints, or raise 403 if any is out of reach.

    An endpoint of a tenant the user may not change, or one no longer in
    the mirror, rejects the whole request, so nothing runs on a selection
    the user did not see.
    """
    tenants = access.tenants_actionable(request.user)
    endpoints = list(
        Endpoint.objects.filter(pk__in=endpoint_ids, tenant__in=tenants)
        .select_related("tenant")
        .order_by("tenant__name", "hostname")
    )
    if len(endpoints) != len(set(endpoint_ids)):
        raise PermissionDenied(
            "Some chosen endpoints are not in a tenant your role lets you change."
        )
    return endpoints


def job_started(request: HttpRequest, job: Job) -> HttpResponse:
    """Redirect to the new job's page, saying what was queued."""
    kind = "Dry run" if job.dry_run else "Job"
    messages.success(request, f"{kind} queued: {job.title}, {job.total} items.")
    return redirect("job_detail", job_id=job.pk)


def operation_start(
    request: HttpRequest,
    *,
    kind: str,
    parameters: dict[str, object],
    dry_run: bool,
) -> HttpResponse:
    job = base.operation_start(
        kind=kind, user=request.user, parameters=parameters, dry_run=dry_run
    )
    return job_started(request, job)


def template_deletable(request: HttpRequest, created_by_id: int | None) -> bool:
    """Return whether the user may delete a template: its creator, an owner or
    an administrator."""
    return access.sees_every_tenant(request.user) or (
        created_by_id is not None and created_by_id == request.user.pk
    )


def templates_context(
    request: HttpRequest,
    templates: Iterable[SavedTemplate],
    *,
    form: forms.Form,
    section: str,
) -> dict[str, Any]:
    """Return the context of a saved-templates page: each template with
    whether the user may delete it, and the form that saves one."""
    visible = set(access.tenants_visible(request.user).values_list("pk", flat=True))
    return {
        "templates": [
            (template, template_deletable(request, template.created_by_id))
            for template in templates
        ],
        "visible": visible,
        "form": form,
        "can_act": access.has_capability(request.user, Capability.ACT_ON_TENANTS),
        "section": section,
    }


def template_from_form(
    form: forms.Form, create: Callable[[dict[str, Any]], SavedTemplate]
) -> SavedTemplate | None:
    """Save a template from a valid form, or return None with the reason on
    the form when the form is invalid or Sophos or the service rejects it."""
    if not form.is_valid():
        return None
    try:
        return create(form.cleaned_data)
    except SophosError as exc:
        form.add_error(None, sophos_error_text(exc))
    except ValueError as exc:
        form.add_error(None, str(exc))
    return None


def deletable_template(
    request: HttpRequest, model: type[SavedTemplate], template_id: int
) -> SavedTemplate:
    """Return the template to delete, or raise 404 for an unknown id and 403
    for a user who may not delete it."""
    template = model.objects.filter(pk=template_id).first()
    if template is None:
        raise Http404("No such template.")
    if not template_deletable(request, template.created_by_id):
        raise PermissionDenied("Only its creator or an administrator may delete it.")
    return template
