"""Alert actions, taken live and written through to the mirror."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sophos.models import Alert, Tenant
from sophos.services.audit import audited
from sophos.services.connections import client_for
from sophos.services.sync import tenants_refresh_counters

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
