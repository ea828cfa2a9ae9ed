"""The simulator's state: partners, tenants, credentials, tokens and objects.

Every process that opens the portal's database shares this state, and it is
kept across restarts. Objects that the API serves as JSON (endpoints, alerts,
billing rows and, later, policies, exclusions and the rest) live in one
generic table, ``SimObject``, keyed by kind and owner, so a new API needs no
new table.
"""

from __future__ import annotations

from django.db import models


class SimPartner(models.Model):
    """A partner or organization account that owns tenants."""

    class Kind(models.TextChoices):
        PARTNER = "partner", "Partner"
        ORGANIZATION = "organization", "Organization"

    id = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PARTNER)
    name = models.CharField(max_length=255)

    def __str__(self) -> str:
        return self.name


class SimTenant(models.Model):
    """A tenant; ``data`` is its API JSON except ``apiHost``.

    ``apiHost`` is rendered from the serving host map on every response, so
    the same rows serve both the real host names and loopback ports.
    """

    id = models.CharField(max_length=64, primary_key=True)
    partner = models.ForeignKey(
        SimPartner, on_delete=models.CASCADE, related_name="tenants"
    )
    seq = models.BigIntegerField()
    data_region = models.CharField(max_length=20)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["partner", "seq"])]

    def __str__(self) -> str:
        return str(self.data.get("name", self.id))


class SimCredential(models.Model):
    """An API client id and secret, and the account it signs in as."""

    class IdType(models.TextChoices):
        PARTNER = "partner", "Partner"
        ORGANIZATION = "organization", "Organization"
        TENANT = "tenant", "Tenant"

    class Role(models.TextChoices):
        DEMO = "demo", "Demo partner credential"
        OTHER_PARTNER = "other-partner", "Credential of the other partner"
        EXTRA = "extra", "Registered by a test or a benchmark"

    client_id = models.CharField(max_length=64, primary_key=True)
    client_secret = models.CharField(max_length=200)
    id_type = models.CharField(max_length=20, choices=IdType.choices)
    # The whoami id: a partner, organization or tenant id.
    principal_id = models.CharField(max_length=64)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EXTRA)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.id_type} {self.principal_id}"


class SimToken(models.Model):
    """An issued access or refresh token, stored as its SHA-256 digest."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access token"
        REFRESH = "refresh", "Refresh token"

    digest = models.CharField(max_length=64, primary_key=True)
    credential = models.ForeignKey(
        SimCredential, on_delete=models.CASCADE, related_name="tokens"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} token of {self.credential_id}"


class SimObject(models.Model):
    """One JSON object served by an API, such as an endpoint or an alert.

    ``kind`` is the collection's path template without the leading slash,
    such as ``endpoint/v1/endpoints``. ``scope_id`` is the owner named by the
    request's ID header: a tenant id for tenant APIs, a partner id for
    partner APIs. ``parent_id`` names the enclosing object of a nested
    collection (an alert for its actions, a billing month such as ``2026-05``
    for usage rows) and is empty otherwise.
    ``seq`` orders a collection and is the key that key-based paging resumes
    from, so a page is one index range scan.
    """

    kind = models.CharField(max_length=200)
    scope_id = models.CharField(max_length=64)
    parent_id = models.CharField(max_length=64, default="", blank=True)
    object_id = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    data = models.JSONField(default=dict)
    # Resolved alerts and other objects that leave listings at a set time;
    # null keeps the object listed.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope_id", "parent_id", "object_id"],
                name="simobject_unique_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "scope_id", "parent_id", "seq"],
                name="simobject_paging",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class SimSettings(models.Model):
    """Fault knobs and behaviour settings; a single row with ``id=1``.

    Rates are probabilities from 0 to 1. Zero turns a knob off.
    """

    latency_ms = models.PositiveIntegerField(default=0)
    rate_429 = models.FloatField(default=0.0)
    retry_after_seconds = models.PositiveIntegerField(default=1)
    rate_5xx = models.FloatField(default=0.0)
    malformed_rate = models.FloatField(default=0.0)
    # Null uses settings.SIMULATOR_TOKEN_LIFETIME.
    token_lifetime_seconds = models.PositiveIntegerField(null=True, blank=True)
    forbidden_tenant_ids = models.JSONField(default=list, blank=True)
    calls_per_minute = models.PositiveIntegerField(default=0)
    calls_per_day = models.PositiveIntegerField(default=0)
    # Seconds between an alert action and the alert leaving the open list.
    alert_resolve_delay_seconds = models.FloatField(default=0.0)
    # Seconds after an isolation change during which another change gets 409.
    isolation_delay_seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return "Simulator settings"


class SimCallCounter(models.Model):
    """Calls made by one credential in one rate-limit window."""

    client_id = models.CharField(max_length=64)
    window = models.CharField(max_length=10)
    # Window number: epoch seconds divided by the window's length.
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "window", "window_start"],
                name="simcallcounter_unique_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.window} {self.window_start}: {self.count}"
