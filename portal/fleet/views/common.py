"""Helpers shared by the fleet-wide pages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal import access
from sophos.models import Endpoint, Job
from sophos.services.fleet_ops import base


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
