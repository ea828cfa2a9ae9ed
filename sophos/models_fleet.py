"""Records of the fleet operations that must outlive their jobs.

An item push stores the ids it created in each tenant, so that its undo
deletes exactly those. A drift check keeps the baseline it compared against
and each tenant's deviations, and an acceptance lets a deviation stay until
it expires. An onboarding run keeps the id of every object each step created,
so that a resumed run creates nothing twice. The templates are saved
baselines: policy settings and lists of exclusions.

``sophos.models`` imports this module, so the models belong to the sophos
app and its migrations.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone

from sophos.models import Job, Tenant

__all__ = [
    "DriftAcceptance",
    "DriftCheck",
    "DriftResult",
    "ExclusionTemplate",
    "ItemPush",
    "ItemPushTarget",
    "OnboardingRun",
    "PolicyTemplate",
]


class ItemPush(models.Model):
    """One allowed or blocked item sent to many tenants, or a dry run of it."""

    class Kind(models.TextChoices):
        BLOCKED = "blocked", "Blocked item"
        ALLOWED = "allowed", "Allowed item"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The allowed item's type: sha256, path or certificateSigner. Blocked
    # items are always sha256.
    item_type = models.CharField(max_length=40, default="sha256")
    # A SHA-256 is stored in lower case.
    value = models.TextField()
    comment = models.CharField(max_length=255)
    # The tenants and tenant groups as the requester chose them.
    tenant_ids = models.JSONField(default=list, blank=True)
    group_ids = models.JSONField(default=list, blank=True)
    dry_run = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The latest job that deletes what this push created.
    undo_job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ItemPushTarget(models.Model):
    """The outcome of a push in one tenant, with the id of the item it created."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        ALREADY_PRESENT = "already_present", "Already present"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed by undo"
        UNDO_FAILED = "undo_failed", "Undo failed"

    push = models.ForeignKey(ItemPush, on_delete=models.CASCADE, related_name="targets")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    # The id Sophos gave the item this push created. For an item that was
    # already present it is the id of that item, which undo leaves alone.
    item_id = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["push", "tenant__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["push", "tenant"], name="item_push_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.push_id} {self.tenant_id}: {self.status}"

    @property
    def undoable(self) -> bool:
        """True when undo deletes this target's item: this push created it."""
        return self.status in {self.Status.CREATED, self.Status.UNDO_FAILED} and bool(
            self.item_id
        )


class PolicyTemplate(models.Model):
    """Saved settings of one policy type, taken from a tenant's policy."""

    name = models.CharField(max_length=100, unique=True)
    policy_type = models.CharField(max_length=60)
    # The name of the policy compared in each tenant; empty for the base
    # policy of the type.
    policy_name = models.CharField(max_length=255, blank=True)
    # Setting key -> value, as Sophos sends ``settings[key].value``.
    settings = models.JSONField(default=dict)
    # The tenant the settings were read from; pages name it only to users
    # who may see it.
    source_tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_policy_name = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DriftCheck(models.Model):
    """One comparison of many tenants' policies with a baseline."""

    policy_type = models.CharField(max_length=60)
    # The policy compared in each tenant; empty for the base policy.
    policy_name = models.CharField(max_length=255, blank=True)
    # What the baseline is, such as "Base policy of Contoso" or a template.
    baseline_label = models.CharField(max_length=255)
    baseline_tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.ForeignKey(
        PolicyTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Setting key -> value of the baseline when the check started.
    baseline_settings = models.JSONField(default=dict)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.policy_type} against {self.baseline_label}"


class DriftResult(models.Model):
    """The comparison of one tenant's policy with a drift check's baseline."""

    class Status(models.TextChoices):
        MATCHING = "matching", "Matches the baseline"
        DRIFTED = "drifted", "Deviates"
        MISSING = "missing", "Policy not found"
        FAILED = "failed", "Could not be read"

    drift_check = models.ForeignKey(
        DriftCheck, on_delete=models.CASCADE, related_name="results"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    policy_id = models.CharField(max_length=64, blank=True)
    # [{"key", "baseline", "tenant", "present"}], one per deviating setting.
    deviations = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)
    realigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["drift_check", "tenant__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["drift_check", "tenant"], name="drift_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.status}"


class DriftAcceptance(models.Model):
    """A deviation from the baseline that may stand until it expires."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    policy_type = models.CharField(max_length=60)
    setting_key = models.CharField(max_length=255)
    reason = models.TextField()
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "policy_type", "setting_key"])]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.policy_type} {self.setting_key}"

    @property
    def active(self) -> bool:
        return self.expires_at > timezone.now()


class ExclusionTemplate(models.Model):
    """A saved list of exclusions, taken from a tenant's current exclusions."""

    name = models.CharField(max_length=100, unique=True)
    # [{"family": ..., ...}], the fields each family's create sends, as
    # ``sophos.services.fleet_ops.exclusion_templates`` describes.
    exclusions = models.JSONField(default=list)
    # The tenant the exclusions were read from; pages name it only to users
    # who may see it.
    source_tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OnboardingRun(models.Model):
    """One customer onboarding: the request and what each step created.

    ``created`` maps a step key (such as ``"user:ann@example.com"``) to the
    Sophos id of the object that step created or found, so a resumed run
    skips it.
    """

    customer_name = models.CharField(max_length=255)
    # Everything the form asked for, as the plan reads it.
    request = models.JSONField(default=dict)
    # The tenant the run created or was pointed at; None until it exists.
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The latest job that ran the steps.
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.customer_name
