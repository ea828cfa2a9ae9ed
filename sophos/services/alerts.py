"""Alerts: live reads, and actions on one or many written through to the mirror."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django_q.tasks import async_task

from sophos.errors import SophosError
from sophos.models import Alert, Endpoint, Job, JobItem, Tenant
from sophos.services.audit import audited
from sophos.services.connections import client_for
from sophos.services.jobs import (
    ItemSpec,
    job_create,
    job_finish,
    job_item_fail,
    job_item_skip,
    job_item_start,
    job_item_succeed,
    job_start,
)
from sophos.services.labels import code_label
from sophos.services.payloads import mapping, strings, text, timestamp
from sophos.services.sync import tenants_refresh_counters
from sophos.services.tenant_api import tenant_call

logger = logging.getLogger(__name__)

# NOTE/sophos-api: which actions resolve an alert is assumed: these remove
# it from the open list once the action completes.
RESOLVING_ACTIONS = {
    "acknowledge",
    "cleanPua",
    "cleanVirus",
    "authPua",
    "clearThreat",
    "clearHmpa",
}


class ActionNotAllowed(ValueError):
    """The action is not among the alert's allowedActions."""


@dataclass(frozen=True)
class AlertActionResult:
    action: str
    status: str
    result: str
    correlation_id: str
    resolved: bool


def alert_action_perform(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    tenant_id: uuid.UUID,
    alert_id: uuid.UUID,
    action: str,
    message: str | None = None,
) -> AlertActionResult:
    """Take an allowed action on an alert and update the mirror."""
    tenant = Tenant.objects.get(pk=tenant_id)
    alert = Alert.objects.filter(pk=alert_id, tenant=tenant).first()
    if alert is not None and action not in alert.allowed_actions:
        allowed = ", ".join(alert.allowed_actions) or "none"
        raise ActionNotAllowed(
            f"Action {action!r} is not allowed on this alert; allowed: {allowed}."
        )

    with (
        audited(
            user=user,
            operation="alert_action_perform",
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters={"alert_id": alert_id, "action": action, "message": message},
        ) as audit,
        client_for(tenant.connection) as client,
    ):
        target = client.tenant_target(str(tenant.pk), tenant.api_host)
        response = client.alert_action(target, str(alert_id), action, message)
        audit.status_code = response.status
        audit.correlation_id = response.correlation_id
    data = response.data if isinstance(response.data, dict) else {}
    status = str(data.get("status") or "requested")
    resolved = action in RESOLVING_ACTIONS and status == "completed"
    if resolved and alert is not None:
        alert.delete()
        tenants_refresh_counters([tenant])
    logger.info(
        "alert %s tenant %s action %s by %s: %s",
        alert_id,
        tenant_id,
        action,
        getattr(user, "pk", None),
        status,
    )
    return AlertActionResult(
        action=action,
        status=status,
        result=str(data.get("result") or ""),
        correlation_id=response.correlation_id,
        resolved=resolved,
    )


@dataclass(frozen=True)
class AlertDetail:
    """One open alert as Sophos Central reports it now."""

    id: str
    severity: str
    category: str
    product: str
    type: str
    description: str
    allowed_actions: list[str]
    group_key: str
    raised_at: dt.datetime | None
    managed_agent_id: str
    managed_agent_type: str
    managed_agent_name: str
    person_id: str
    tenant_name: str


def alert_get(*, tenant: Tenant, alert_id: uuid.UUID | str) -> AlertDetail:
    """Read one alert live; raises ``NotFound`` once it is resolved."""
    response = tenant_call(tenant, "alert_get", path_params={"alertId": str(alert_id)})
    data = mapping(response.data)
    agent = mapping(data.get("managedAgent"))
    agent_id = text(agent.get("id"))
    return AlertDetail(
        id=text(data.get("id")) or str(alert_id),
        severity=text(data.get("severity")),
        category=text(data.get("category")),
        product=text(data.get("product")),
        type=text(data.get("type")),
        description=text(data.get("description")),
        allowed_actions=strings(data.get("allowedActions")),
        group_key=text(data.get("groupKey")),
        raised_at=timestamp(data.get("raisedAt")),
        managed_agent_id=agent_id,
        managed_agent_type=text(agent.get("type")),
        managed_agent_name=text(agent.get("name")) or _mirrored_hostname(agent_id),
        person_id=text(mapping(data.get("person")).get("id")),
        tenant_name=text(mapping(data.get("tenant")).get("name")),
    )


def _mirrored_hostname(endpoint_id: str) -> str:
    try:
        key = uuid.UUID(endpoint_id)
    except ValueError:
        return ""
    hostname = Endpoint.objects.filter(pk=key).values_list("hostname", flat=True)
    return hostname.first() or ""


BULK_ACTION_KIND = "alert_bulk_action"


def alerts_bulk_action_start(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    tenant: Tenant,
    alert_ids: list[uuid.UUID],
    action: str,
    message: str | None = None,
) -> Job:
    """Create a job that takes one action on each alert, and queue it.

    The job runs once the surrounding transaction commits; each alert is one
    job item.
    """
    labels = dict(
        Alert.objects.filter(tenant=tenant, pk__in=alert_ids).values_list(
            "id", "description"
        )
    )
    title = (
        f"{code_label(action)} on {len(alert_ids)} alert(s) of {tenant.display_name}"
    )
    job = job_create(
        kind=BULK_ACTION_KIND,
        title=title[:255],
        user=user,
        items=[
            ItemSpec(
                target=str(alert_id),
                label=(labels.get(alert_id) or str(alert_id))[:255],
                tenant_id=tenant.pk,
            )
            for alert_id in alert_ids
        ],
        parameters={"tenant_id": str(tenant.pk), "action": action, "message": message},
    )
    transaction.on_commit(
        lambda: async_task(
            "sophos.tasks.alerts_bulk_action_run_task", job.pk, task_name=title
        )
    )
    logger.info(
        "alert bulk action %s queued as job %s for %s alerts of tenant %s",
        action,
        job.pk,
        len(alert_ids),
        tenant.pk,
    )
    return job


def alerts_bulk_action_run(*, job_id: int) -> Job:
    """Run a queued bulk alert action, one item per alert.

    An alert whose live ``allowedActions`` lack the action is skipped, not
    failed; an alert that Sophos Central no longer has fails with its error.
    """
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    tenant = Tenant.objects.get(pk=job.parameters["tenant_id"])
    action = str(job.parameters["action"])
    message = job.parameters.get("message") or None
    job_start(job=job)
    for item in job.items.filter(status=JobItem.Status.QUEUED).order_by("id"):
        job.refresh_from_db(fields=["status"])
        if job.status == Job.Status.CANCELLED:
            break
        _bulk_item_run(job, item, tenant, action, message)
    return job_finish(job=job)


def _bulk_item_run(
    job: Job, item: JobItem, tenant: Tenant, action: str, message: str | None
) -> None:
    if not job_item_start(item=item):
        return
    try:
        alert = alert_get(tenant=tenant, alert_id=item.target)
        if action not in alert.allowed_actions:
            allowed = ", ".join(alert.allowed_actions) or "none"
            job_item_skip(
                item=item,
                message=f"Action {action} is not allowed on this alert; "
                f"allowed: {allowed}.",
            )
            return
        result = alert_action_perform(
            user=job.requested_by,
            tenant_id=tenant.pk,
            alert_id=uuid.UUID(item.target),
            action=action,
            message=message,
        )
    except ActionNotAllowed as exc:
        job_item_skip(item=item, message=str(exc))
    except SophosError as exc:
        logger.warning("alert %s bulk %s failed: %s", item.target, action, exc)
        job_item_fail(item=item, error=exc)
    else:
        outcome = f"{result.action}: {result.status}"
        if result.resolved:
            outcome += ", resolved"
        job_item_succeed(item=item, message=outcome)
