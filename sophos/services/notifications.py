"""Portal notifications, and the scheduled check for tamper protection off.

``tamper_protection_check`` reads the mirror for endpoints and tenants whose
tamper protection the sync saw off (``sophos.services.mirror_items``) and
that no earlier check notified. For those it creates one ``Notification`` a
tenant, sends one e-mail to ``ALERT_EMAILS`` and posts one webhook to
``TAMPER_WEBHOOK_URL``, then marks them notified. Tamper protection that is
on again and off later counts as newly off, because the sync clears the
marks when a sync finds it on. The webhook's JSON payload is described in
``docs/webhooks.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.models import Schedule

from sophos.models import Endpoint, Notification, Tenant

logger = logging.getLogger(__name__)

TAMPER_KIND = "tamper_protection.off"
WEBHOOK_VERSION = 1
SIGNATURE_HEADER = "X-Portal-Signature"
EVENT_HEADER = "X-Portal-Event"
WEBHOOK_TIMEOUT_SECONDS = 10.0
SCHEDULE_NAME = "Tamper protection check"
# The maximum number of items one e-mail lists; the webhook lists all.
EMAIL_ITEM_LIMIT = 200


@dataclass(frozen=True)
class TamperOffItem:
    """A tenant (``endpoint_id`` None) or an endpoint newly seen with it off."""

    tenant_id: uuid.UUID
    tenant_name: str
    endpoint_id: uuid.UUID | None
    hostname: str
    off_since: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id),
            "tenant_name": self.tenant_name,
            "endpoint_id": str(self.endpoint_id) if self.endpoint_id else None,
            "hostname": self.hostname,
            "off_since": self.off_since.isoformat() if self.off_since else None,
        }


@dataclass(frozen=True)
class TamperCheckResult:
    items: list[TamperOffItem]
    notifications: list[Notification]
    emailed: bool
    webhook_status: int | None


def tamper_protection_check(*, now: dt.datetime | None = None) -> TamperCheckResult:
    """Notify tamper protection newly seen off, once per time it goes off."""
    now = now or timezone.now()
    # NOTE: items are marked notified before the e-mail and webhook go out,
    # so a check that dies in between never sends them (at most once).
    with transaction.atomic():
        items = _newly_off(now)
        created = _notifications_create(items)
    if not items:
        logger.info("tamper protection check: nothing newly off")
        return TamperCheckResult([], [], emailed=False, webhook_status=None)

    logger.info("tamper protection check: %s items newly off", len(items))
    emailed = _email_send(items)
    status = webhook_send(
        event=TAMPER_KIND,
        detected_at=now,
        items=[item.as_json() for item in items],
    )
    return TamperCheckResult(items, created, emailed=emailed, webhook_status=status)


def _newly_off(now: dt.datetime) -> list[TamperOffItem]:
    """Return the items not yet notified and mark them notified at ``now``."""
    tenants = Tenant.objects.select_for_update().filter(
        global_tamper_protection_enabled=False,
        global_tamper_protection_off_since__isnull=False,
        global_tamper_protection_notified_at__isnull=True,
    )
    endpoints = (
        Endpoint.objects.select_for_update()
        .filter(
            tamper_protection_enabled=False,
            tamper_protection_off_since__isnull=False,
            tamper_protection_notified_at__isnull=True,
        )
        .select_related("tenant")
    )
    items = [
        TamperOffItem(
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            endpoint_id=None,
            hostname="",
            off_since=tenant.global_tamper_protection_off_since,
        )
        for tenant in tenants.order_by("name")
    ]
    items += [
        TamperOffItem(
            tenant_id=endpoint.tenant_id,
            tenant_name=endpoint.tenant.display_name,
            endpoint_id=endpoint.pk,
            hostname=endpoint.hostname,
            off_since=endpoint.tamper_protection_off_since,
        )
        for endpoint in endpoints.order_by("tenant__name", "hostname")
    ]
    tenant_ids = [item.tenant_id for item in items if item.endpoint_id is None]
    endpoint_ids = [item.endpoint_id for item in items if item.endpoint_id]
    Tenant.objects.filter(pk__in=tenant_ids).update(
        global_tamper_protection_notified_at=now
    )
    Endpoint.objects.filter(pk__in=endpoint_ids).update(
        tamper_protection_notified_at=now
    )
    return items


def _notifications_create(items: Sequence[TamperOffItem]) -> list[Notification]:
    by_tenant: dict[uuid.UUID, list[TamperOffItem]] = {}
    for item in items:
        by_tenant.setdefault(item.tenant_id, []).append(item)
    created = []
    for tenant_id, tenant_items in by_tenant.items():
        name = tenant_items[0].tenant_name
        hostnames = [item.hostname for item in tenant_items if item.endpoint_id]
        parts = []
        if len(hostnames) < len(tenant_items):
            parts.append("global tamper protection")
        if hostnames:
            count = len(hostnames)
            parts.append(f"{count} endpoint{'s' if count != 1 else ''}")
        created.append(
            Notification.objects.create(
                kind=TAMPER_KIND,
                tenant_id=tenant_id,
                title=f"Tamper protection off in {name}: {' and '.join(parts)}",
                message=", ".join(hostnames),
                payload={"items": [item.as_json() for item in tenant_items]},
            )
        )
    return created


def _email_send(items: Sequence[TamperOffItem]) -> bool:
    recipients = list(settings.ALERT_EMAILS)
    if not recipients:
        return False
    lines = [
        "Tamper protection was newly seen off by the portal's last sync:",
        "",
    ]
    for item in items[:EMAIL_ITEM_LIMIT]:
        where = item.hostname or "global setting of the tenant"
        since = item.off_since.isoformat() if item.off_since else "unknown"
        lines.append(f"- {item.tenant_name}: {where} (off since {since})")
    if len(items) > EMAIL_ITEM_LIMIT:
        lines.append(f"... and {len(items) - EMAIL_ITEM_LIMIT} more.")
    subject = f"Tamper protection off: {len(items)} new"
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except Exception:
        # Mail servers fail in many ways (smtplib, socket, TLS errors).
        logger.exception(
            "tamper protection e-mail to %s recipients failed", len(recipients)
        )
        return False
    return True


def webhook_signature(body: bytes, secret: str) -> str:
    """Return the HMAC-SHA256 signature header value of a webhook body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _webhook_client() -> httpx.Client:
    return httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False)


def webhook_send(
    *, event: str, detected_at: dt.datetime, items: list[dict[str, Any]]
) -> int | None:
    """Post the versioned event payload to ``TAMPER_WEBHOOK_URL``.

    Returns the response status, or None when no URL is set or the request
    failed (which is logged).
    """
    url = settings.TAMPER_WEBHOOK_URL
    if not url:
        return None
    payload = {
        "version": WEBHOOK_VERSION,
        "event": event,
        "detected_at": detected_at.isoformat(),
        "items": items,
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", EVENT_HEADER: event}
    if settings.TAMPER_WEBHOOK_SECRET:
        headers[SIGNATURE_HEADER] = webhook_signature(
            body, settings.TAMPER_WEBHOOK_SECRET
        )
    try:
        with _webhook_client() as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        logger.error("webhook %s with %s items failed: %s", event, len(items), exc)
        return None
    if response.status_code >= 400:
        logger.error(
            "webhook %s with %s items rejected with status %s",
            event,
            len(items),
            response.status_code,
        )
    else:
        logger.info("webhook %s sent with %s items", event, len(items))
    return response.status_code


def tamper_check_schedule_ensure() -> Schedule:
    """Create or update the django-q2 schedule of the tamper protection check."""
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "sophos.tasks_fleet.tamper_protection_check_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.TAMPER_CHECK_EVERY_MINUTES,
            "repeats": -1,
        },
    )
    return schedule


# -- reading notifications -----------------------------------------------------------


def notifications_visible(
    *, tenants: QuerySet[Tenant], every_tenant: bool
) -> QuerySet[Notification]:
    """Return the notifications about ``tenants``, newest first.

    Notifications about no tenant are visible only with ``every_tenant``.
    """
    scope = Q(tenant__in=tenants)
    if every_tenant:
        scope |= Q(tenant__isnull=True)
    return Notification.objects.filter(scope).select_related("tenant")


def notifications_unread(
    *, notifications: QuerySet[Notification], user_id: int
) -> QuerySet[Notification]:
    return notifications.exclude(read_by__pk=user_id)


def notifications_mark_read(
    *, notifications: QuerySet[Notification], user_id: int
) -> int:
    """Mark ``notifications`` read for the user and return how many were unread."""
    unread = list(notifications_unread(notifications=notifications, user_id=user_id))
    through = Notification.read_by.through
    through.objects.bulk_create(
        [through(notification_id=n.pk, user_id=user_id) for n in unread],
        ignore_conflicts=True,
    )
    return len(unread)
