"""The portal's mirror of Sophos Central, its connections and its jobs."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models


class Connection(models.Model):
    """A Sophos Central API credential: partner, organization or tenant."""

    class Kind(models.TextChoices):
        PARTNER = "partner", "Partner"
        ORGANIZATION = "organization", "Organization"
        TENANT = "tenant", "Tenant"

    class Transport(models.TextChoices):
        LIVE = "live", "Sophos Central"
        SIMULATOR = "simulator", "Embedded simulator"

    name = models.CharField(max_length=100, unique=True)
    client_id = models.CharField(max_length=200)
    # The client secret, encrypted with PORTAL_ENCRYPTION_KEY (sophos.crypto).
    secret_encrypted = models.TextField()
    transport = models.CharField(
        max_length=20, choices=Transport.choices, default=Transport.LIVE
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    principal_id = models.CharField(max_length=64, blank=True)
    global_url = models.CharField(max_length=200, blank=True)
    credential_created_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    """A Sophos Central tenant as last seen by a sync."""

    id = models.UUIDField(primary_key=True)
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="tenants"
    )
    name = models.CharField(max_length=255)
    show_as = models.CharField(max_length=255, blank=True)
    data_region = models.CharField(max_length=20, blank=True)
    data_geography = models.CharField(max_length=20, blank=True)
    billing_type = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=40, blank=True)
    api_host = models.CharField(max_length=200)
    customer_name = models.CharField(max_length=255, blank=True)

    # Counters kept by the sync so the fleet overview reads one row a tenant.
    endpoints_total = models.PositiveIntegerField(default=0)
    endpoints_good = models.PositiveIntegerField(default=0)
    endpoints_suspicious = models.PositiveIntegerField(default=0)
    endpoints_bad = models.PositiveIntegerField(default=0)
    endpoints_unknown = models.PositiveIntegerField(default=0)
    tamper_off = models.PositiveIntegerField(default=0)
    alerts_high = models.PositiveIntegerField(default=0)
    alerts_medium = models.PositiveIntegerField(default=0)
    alerts_low = models.PositiveIntegerField(default=0)

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Never synced"
        OK = "ok", "Synced"
        FAILED = "failed", "Sync failed"
        FORBIDDEN = "forbidden", "Access denied"

    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, default=SyncStatus.NEVER
    )
    sync_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    # Sync state. A full pass lists everything and removes what Sophos no
    # longer lists. An incremental pass requests only the endpoints seen and
    # the alerts raised since the high-water marks, which are the newest
    # ``lastSeenAt`` and ``raisedAt`` mirrored so far, by Sophos's clock.
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    last_incremental_sync_at = models.DateTimeField(null=True, blank=True)
    endpoints_high_water = models.DateTimeField(null=True, blank=True)
    alerts_high_water = models.DateTimeField(null=True, blank=True)

    # Global tamper protection as the last sync read it (None: never read),
    # when the mirror first saw it off, and when that was notified.
    global_tamper_protection_enabled = models.BooleanField(null=True)
    global_tamper_protection_off_since = models.DateTimeField(null=True, blank=True)
    global_tamper_protection_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.customer_name or self.show_as or self.name

    @property
    def open_alerts(self) -> int:
        return self.alerts_high + self.alerts_medium + self.alerts_low


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="endpoints"
    )
    hostname = models.CharField(max_length=255)
    type = models.CharField(max_length=20)
    health = models.CharField(max_length=20, default="unknown")
    threats_status = models.CharField(max_length=20, blank=True)
    services_status = models.CharField(max_length=20, blank=True)
    os_name = models.CharField(max_length=200, blank=True)
    os_platform = models.CharField(max_length=40, blank=True)
    ipv4_addresses = models.JSONField(default=list)
    mac_addresses = models.JSONField(default=list)
    associated_person = models.CharField(max_length=255, blank=True)
    group_name = models.CharField(max_length=255, blank=True)
    tamper_protection_enabled = models.BooleanField(null=True)
    isolation_status = models.CharField(max_length=20, blank=True)
    online = models.BooleanField(null=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField()
    # When the mirror first saw tamper protection off (None while it is on or
    # unknown), and when the tamper protection check notified it.
    tamper_protection_off_since = models.DateTimeField(null=True, blank=True)
    tamper_protection_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hostname"]
        indexes = [
            models.Index(fields=["tenant", "hostname"]),
            models.Index(fields=["tenant", "health"]),
        ]

    def __str__(self) -> str:
        return self.hostname


class Alert(models.Model):
    id = models.UUIDField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(max_length=10)
    category = models.CharField(max_length=40)
    product = models.CharField(max_length=40, blank=True)
    type = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    allowed_actions = models.JSONField(default=list)
    managed_agent_id = models.CharField(max_length=64, blank=True)
    managed_agent_name = models.CharField(max_length=255, blank=True)
    raised_at = models.DateTimeField()
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["tenant", "-raised_at"]),
            models.Index(fields=["tenant", "severity"]),
            # The alert list's category filter and its list of categories.
            models.Index(fields=["tenant", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.type}"

    @property
    def endpoint_uuid(self) -> uuid.UUID | None:
        """Return the alert's managed agent id as an endpoint id, or None when
        it is not a UUID."""
        try:
            return uuid.UUID(self.managed_agent_id)
        except ValueError:
            return None


class Job(models.Model):
    """One slow operation with a row per item, read by the jobs page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        PARTIAL = "partial", "Finished with failures"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=255)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL
    )
    parameters = models.JSONField(default=dict, blank=True)
    # A dry run records what each item would do and sends no write.
    dry_run = models.BooleanField(default=False)
    # The job whose failed items this job runs again.
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # When any of the job's items last changed, or None for a job without
    # items. It is no database column, and only
    # sophos.services.jobs.jobs_activity_load sets it.
    last_item_change: dt.datetime | None

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class JobItem(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        # Ended by a cancel: never started, or left by a worker that stopped.
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    target = models.CharField(max_length=255)
    target_label = models.CharField(max_length=255, blank=True)
    tenant_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    message = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    # How far an item that takes several steps has come, such as "sent".
    stage = models.CharField(max_length=40, blank=True)
    # The operation's own input and output for the item, such as the ids of
    # objects it created.
    data = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.target}: {self.status}"


class AllowedBlockedItem(models.Model):
    """An allowed or a blocked item of a tenant, as last seen by a sync."""

    class Kind(models.TextChoices):
        ALLOWED = "allowed", "Allowed item"
        BLOCKED = "blocked", "Blocked item"

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="allowed_blocked_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    item_id = models.CharField(max_length=64)
    type = models.CharField(max_length=40, blank=True)
    # Lower case, so a search matches whatever case it is typed in.
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    path = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    certificate_signer = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["tenant", "kind", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "item_id"], name="allowed_blocked_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256 or self.path or self.item_id}"


class Notification(models.Model):
    """A message the portal shows in its header, such as tamper protection off."""

    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=255)
    message = models.TextField(blank=True)
    # None for a notification about no single tenant, which only owners and
    # administrators see.
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit entries are append-only and cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only and cannot be deleted.")


class AuditEntry(models.Model):
    """One write made through the portal, kept for good."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        QUEUED = "queued", "Queued"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept beside the key so the entry still names the person after the
    # user is deleted.
    username = models.CharField(max_length=150, blank=True)
    tenant_id = models.UUIDField(null=True, blank=True, db_index=True)
    tenant_name = models.CharField(max_length=255, blank=True)
    operation = models.CharField(max_length=100, db_index=True)
    parameters = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.operation}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError(
                "Audit entries are append-only and cannot be changed."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only and cannot be deleted.")


from sophos.models_fleet import *  # noqa: E402, F403  The fleet operations' records.
