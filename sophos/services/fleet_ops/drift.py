"""Policy drift: compare many tenants' policies with a baseline, and realign.

A baseline is the settings of one policy type, read from a tenant's policy
(its base policy or a named policy) or from a saved ``PolicyTemplate``.
``drift_check_start`` stores the baseline in a ``DriftCheck`` and queues the
job ``drift.compare``, one item a tenant. Each item reads the tenant's
policy of the same type (the base policy, or the policy with the same name)
and stores a ``DriftResult`` listing every baseline setting whose value
differs or is missing. Settings that are not in the baseline are not
compared.

A ``DriftAcceptance`` lets one tenant's deviation of one setting stand
until it expires. ``drift_realign_start`` queues ``drift.realign``: for each
chosen tenant it reads the policy again and sets the deviating settings
that are not accepted to the baseline's values.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sophos.errors import SophosError
from sophos.models import AuditEntry, Job, Tenant
from sophos.models_fleet import DriftAcceptance, DriftCheck, DriftResult, PolicyTemplate
from sophos.services import policies
from sophos.services.audit import audit_record
from sophos.services.fleet_ops import base
from sophos.services.fleet_ops.base import ItemContext, ItemResult, PlanRequest
from sophos.services.jobs import ItemSpec, User
from sophos.services.payloads import mapping, text
from sophos.services.tenant_api import (
    audit_response,
    tenant_audit,
    tenant_call,
    tenant_items,
)

logger = logging.getLogger(__name__)

COMPARE_KIND = "drift.compare"
REALIGN_KIND = "drift.realign"
MAX_REASON_LENGTH = 1000
# The maximum lifetime of an acceptance in days, so that every accepted
# deviation is reviewed at least once a year.
MAX_ACCEPTANCE_DAYS = 366


@dataclass(frozen=True)
class Baseline:
    """The settings every tenant's policy of one type is compared with."""

    policy_type: str
    # The name of the policy compared in each tenant, or "" for the base policy.
    policy_name: str
    settings: Mapping[str, Any]
    label: str
    tenant: Tenant | None = None
    template: PolicyTemplate | None = None

    @property
    def policy_label(self) -> str:
        return self.policy_name or "Base policy"


@dataclass(frozen=True)
class TenantPolicy:
    """The settings of one tenant's policy, as values by setting key."""

    id: str
    name: str
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class Deviation:
    """One baseline setting whose value in a tenant's policy differs."""

    key: str
    baseline: Any
    tenant: Any
    # False when the tenant's policy has no value for the setting.
    present: bool = True
    acceptance: DriftAcceptance | None = None

    @property
    def label(self) -> str:
        return policies.setting_label(self.key)

    @property
    def baseline_text(self) -> str:
        return policies.value_text(self.baseline)

    @property
    def tenant_text(self) -> str:
        return policies.value_text(self.tenant) if self.present else "(not set)"

    @property
    def accepted(self) -> bool:
        return self.acceptance is not None


@dataclass(frozen=True)
class TenantDrift:
    """A tenant's stored result, with its deviations marked accepted or not."""

    result: DriftResult
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def tenant(self) -> Tenant:
        return self.result.tenant

    @property
    def open_deviations(self) -> list[Deviation]:
        return [deviation for deviation in self.deviations if not deviation.accepted]

    @property
    def accepted_deviations(self) -> list[Deviation]:
        return [deviation for deviation in self.deviations if deviation.accepted]


# -- reading policies --------------------------------------------------------------


def _values(settings: Any) -> dict[str, Any]:
    return {
        str(key): mapping(entry).get("value")
        for key, entry in mapping(settings).items()
    }


def tenant_policy_read(
    *, tenant: Tenant, policy_type: str, policy_name: str = "", policy_id: str = ""
) -> TenantPolicy | None:
    """Read the settings of one policy of a tenant, live.

    With ``policy_id`` that policy is read. With ``policy_name`` it is the
    tenant's policy of ``policy_type`` with that name, or None when the
    tenant has none. Without either it is the base policy of ``policy_type``.
    """
    if policy_id:
        response = tenant_call(
            tenant, "policy_get", path_params={"policyId": policy_id}
        )
    elif policy_name:
        listed = tenant_items(
            tenant, "policies_list", params={"policyType": policy_type}
        )
        found = next(
            (
                item
                for item in listed
                if text(item.get("name")) == policy_name
                and text(item.get("type")) == policy_type
                and item.get("priority") != 0
            ),
            None,
        )
        if found is None:
            return None
        response = tenant_call(
            tenant, "policy_get", path_params={"policyId": text(found.get("id"))}
        )
    else:
        response = tenant_call(
            tenant, "base_policy_get", path_params={"policyType": policy_type}
        )
    data = mapping(response.data)
    return TenantPolicy(
        id=text(data.get("id")),
        name=text(data.get("name")),
        settings=_values(data.get("settings")),
    )


def baseline_from_policy(
    *, tenant: Tenant, policy_type: str, policy_id: str = ""
) -> Baseline:
    """Read a tenant's policy live as the baseline: ``policy_id`` or the base
    policy of ``policy_type``.

    Raises ``ValueError`` when the policy is not of ``policy_type``.
    """
    if policy_id:
        detail = policies.policy_get(tenant=tenant, policy_id=policy_id)
        if detail.type != policy_type:
            raise ValueError(
                f"Policy {detail.name!r} is a {detail.type_label} policy, "
                f"not {policies.policy_type_label(policy_type)}."
            )
        name = "" if detail.is_base else detail.name
    else:
        detail = policies.base_policy_get(tenant=tenant, policy_type=policy_type)
        name = ""
    settings = {setting.key: setting.value for setting in detail.settings}
    policy_label = name or "Base policy"
    return Baseline(
        policy_type=policy_type,
        policy_name=name,
        settings=settings,
        label=f"{policy_label} of {tenant.display_name}",
        tenant=tenant,
    )


def baseline_from_template(*, template: PolicyTemplate) -> Baseline:
    return Baseline(
        policy_type=template.policy_type,
        policy_name=template.policy_name,
        settings=dict(template.settings),
        label=f"Template {template.name}",
        template=template,
    )


# -- templates ---------------------------------------------------------------------


def policy_template_create(
    *,
    user: User,
    name: str,
    tenant: Tenant,
    policy_type: str,
    policy_id: str = "",
    compare_by_name: bool = False,
) -> PolicyTemplate:
    """Save a tenant's policy settings, read live, as a template.

    With ``compare_by_name``, drift checks against the template compare each
    tenant's policy with the same name, and otherwise its base policy.
    Raises ``ValueError`` for a name in use.
    """
    name = name.strip()
    if not name:
        raise ValueError("The template name is missing.")
    if PolicyTemplate.objects.filter(name=name).exists():
        raise ValueError(f"A template named {name!r} exists already.")
    baseline = baseline_from_policy(
        tenant=tenant, policy_type=policy_type, policy_id=policy_id
    )
    source_name = baseline.policy_name
    with transaction.atomic():
        template = PolicyTemplate.objects.create(
            name=name,
            policy_type=policy_type,
            policy_name=source_name if compare_by_name else "",
            settings=dict(baseline.settings),
            source_tenant=tenant,
            source_policy_name=source_name or "Base policy",
            created_by_id=_user_pk(user),
        )
        audit_record(
            user=user,
            operation="fleet.policy_template_create",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters={
                "name": name,
                "policy_type": policy_type,
                "policy_id": policy_id,
                "settings": len(template.settings),
            },
            message=f"Saved policy template {name}",
        )
    return template


def policy_template_delete(*, user: User, template: PolicyTemplate) -> None:
    with transaction.atomic():
        audit_record(
            user=user,
            operation="fleet.policy_template_delete",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            parameters={"name": template.name, "policy_type": template.policy_type},
            message=f"Deleted policy template {template.name}",
        )
        template.delete()


# -- checks ------------------------------------------------------------------------


def drift_check_start(*, user: User, baseline: Baseline) -> DriftCheck:
    """Store the baseline and queue the comparison of every tenant the user
    may act on. Raises ``ValueError`` for an empty baseline or no tenant."""
    if not baseline.settings:
        raise ValueError("The baseline has no settings to compare.")
    with transaction.atomic():
        check = DriftCheck.objects.create(
            policy_type=baseline.policy_type,
            policy_name=baseline.policy_name,
            baseline_label=baseline.label[:255],
            baseline_tenant=baseline.tenant,
            template=baseline.template,
            baseline_settings=dict(baseline.settings),
            requested_by_id=_user_pk(user),
        )
        type_label = policies.policy_type_label(baseline.policy_type)
        job = base.operation_start(
            kind=COMPARE_KIND,
            user=user,
            parameters={"check_id": check.pk},
            title=f"Compare {type_label} policies with {baseline.label}",
        )
        if job.total == 0:
            raise ValueError("There is no tenant that you may check.")
        check.job = job
        check.save(update_fields=["job"])
    return check


def drift_checks_visible(*, user: User) -> QuerySet[DriftCheck]:
    """Return the checks the user may read: all for those who see every
    tenant, otherwise the user's own."""
    # Imported here: portal.access imports the models of this package.
    from portal.access import sees_every_tenant

    checks = DriftCheck.objects.select_related("job", "requested_by")
    if user is None or not user.is_authenticated:
        return checks.none()
    if sees_every_tenant(user):
        return checks
    return checks.filter(requested_by__pk=user.pk)


def _deviations(
    baseline: Mapping[str, Any], settings: Mapping[str, Any]
) -> list[dict[str, Any]]:
    found = []
    for key in sorted(baseline):
        present = key in settings
        if present and settings[key] == baseline[key]:
            continue
        found.append(
            {
                "key": key,
                "baseline": baseline[key],
                "tenant": settings.get(key),
                "present": present,
            }
        )
    return found


def _check_of(parameters: Mapping[str, Any]) -> DriftCheck:
    return DriftCheck.objects.get(pk=parameters["check_id"])


def _plan_compare(request: PlanRequest) -> Iterable[ItemSpec]:
    tenants = request.tenants
    chosen = request.parameters.get("tenant_ids")
    if chosen:
        tenants = tenants.filter(pk__in=[str(pk) for pk in chosen])
    for tenant in tenants.order_by("name", "pk"):
        yield ItemSpec(
            target=str(tenant.pk), label=tenant.display_name, tenant_id=tenant.pk
        )


def _store(
    check: DriftCheck, tenant: Tenant, status: str, **fields: Any
) -> DriftResult:
    result, _ = DriftResult.objects.update_or_create(
        drift_check=check,
        tenant=tenant,
        defaults={"status": status, "checked_at": timezone.now(), **fields},
    )
    return result


def _not_found_message(check: DriftCheck) -> str:
    type_label = policies.policy_type_label(check.policy_type)
    return f"The tenant has no {type_label} policy named {check.policy_name!r}."


def _run_compare(context: ItemContext) -> ItemResult:
    check = _check_of(context.parameters)
    tenant = context.tenant
    if tenant is None:
        return base.skipped(base.NOT_MIRRORED_MESSAGE)
    try:
        policy = tenant_policy_read(
            tenant=tenant, policy_type=check.policy_type, policy_name=check.policy_name
        )
    except SophosError as exc:
        _store(
            check,
            tenant,
            DriftResult.Status.FAILED,
            message=str(exc),
            correlation_id=exc.correlation_id,
            deviations=[],
        )
        raise
    if policy is None:
        message = _not_found_message(check)
        _store(
            check, tenant, DriftResult.Status.MISSING, message=message, deviations=[]
        )
        return base.skipped(message)

    found = _deviations(check.baseline_settings, policy.settings)
    status = DriftResult.Status.DRIFTED if found else DriftResult.Status.MATCHING
    _store(
        check,
        tenant,
        status,
        policy_id=policy.id,
        deviations=found,
        message="",
        correlation_id="",
    )
    if not found:
        return base.succeeded("Matches the baseline.")
    keys = ", ".join(item["key"] for item in found)
    return base.succeeded(
        f"{settings_count(len(found))} {'deviates' if len(found) == 1 else 'deviate'}"
        f": {keys}.",
        result_deviations=len(found),
    )


# -- results and acceptances --------------------------------------------------------


def acceptances_active(
    *, tenants: Iterable[Tenant] | QuerySet[Tenant], policy_type: str
) -> dict[tuple[uuid.UUID, str], DriftAcceptance]:
    """Map (tenant id, setting key) to the latest unexpired acceptance."""
    rows = DriftAcceptance.objects.filter(
        tenant__in=tenants,
        policy_type=policy_type,
        expires_at__gt=timezone.now(),
    ).order_by("expires_at")
    # Later rows win, so the acceptance that lasts longest is kept.
    return {(row.tenant_id, row.setting_key): row for row in rows}


def drift_results(*, check: DriftCheck, tenants: QuerySet[Tenant]) -> list[TenantDrift]:
    """Return the check's results for ``tenants``, deviations marked accepted."""
    results = list(
        check.results.filter(tenant__in=tenants.values("pk"))
        .select_related("tenant")
        .order_by("tenant__name")
    )
    accepted = acceptances_active(
        tenants=[result.tenant for result in results], policy_type=check.policy_type
    )
    drifts = []
    for result in results:
        deviations = [
            Deviation(
                key=str(item.get("key")),
                baseline=item.get("baseline"),
                tenant=item.get("tenant"),
                present=bool(item.get("present", True)),
                acceptance=accepted.get((result.tenant_id, str(item.get("key")))),
            )
            for item in result.deviations
            if isinstance(item, dict)
        ]
        drifts.append(TenantDrift(result=result, deviations=deviations))
    return drifts


def drift_accept(
    *,
    user: User,
    tenant: Tenant,
    policy_type: str,
    setting_key: str,
    reason: str,
    expires_at: dt.datetime,
) -> DriftAcceptance:
    """Let one tenant's deviation of one setting stand until ``expires_at``.

    Raises ``ValueError`` for a missing reason or an expiry in the past or
    more than ``MAX_ACCEPTANCE_DAYS`` away.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("The reason is missing: say why the deviation may stay.")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValueError(f"The reason is longer than {MAX_REASON_LENGTH} characters.")
    now = timezone.now()
    if expires_at <= now:
        raise ValueError("The expiry must be in the future.")
    if expires_at > now + dt.timedelta(days=MAX_ACCEPTANCE_DAYS):
        raise ValueError(
            f"The expiry must be within {MAX_ACCEPTANCE_DAYS} days from today."
        )
    with transaction.atomic():
        acceptance = DriftAcceptance.objects.create(
            tenant=tenant,
            policy_type=policy_type,
            setting_key=setting_key,
            reason=reason,
            expires_at=expires_at,
            accepted_by_id=_user_pk(user),
        )
        audit_record(
            user=user,
            operation="fleet.drift_accept",
            outcome=AuditEntry.Outcome.SUCCEEDED,
            tenant_id=tenant.pk,
            tenant_name=tenant.display_name,
            parameters={
                "policy_type": policy_type,
                "setting_key": setting_key,
                "reason": reason,
                "expires_at": expires_at.isoformat(),
            },
            message=f"Accepted the deviation of {setting_key}",
        )
    logger.info(
        "drift of %s %s in tenant %s accepted until %s",
        policy_type,
        setting_key,
        tenant.pk,
        expires_at,
    )
    return acceptance


# -- realignment -------------------------------------------------------------------


def drift_realign_start(
    *,
    user: User,
    check: DriftCheck,
    tenant_ids: Sequence[uuid.UUID | str],
    dry_run: bool,
) -> Job:
    """Queue the job that sets the chosen tenants' deviating settings to the
    baseline. Raises ``ValueError`` when no chosen tenant deviates and may be
    changed by the user."""
    type_label = policies.policy_type_label(check.policy_type)
    with transaction.atomic():
        job = base.operation_start(
            kind=REALIGN_KIND,
            user=user,
            parameters={
                "check_id": check.pk,
                "tenant_ids": [str(pk) for pk in tenant_ids],
            },
            dry_run=dry_run,
            title=f"Realign {type_label} policies with {check.baseline_label}",
        )
        if job.total == 0:
            # Rolls back the empty job, which would send nothing.
            raise ValueError(
                "Choose at least one deviating tenant that you may change."
            )
    return job


def _plan_realign(request: PlanRequest) -> Iterable[ItemSpec]:
    check = _check_of(request.parameters)
    chosen = [str(pk) for pk in request.parameters.get("tenant_ids", [])]
    results = (
        check.results.filter(
            tenant__in=request.tenants.filter(pk__in=chosen).values("pk"),
            status=DriftResult.Status.DRIFTED,
        )
        .select_related("tenant")
        .order_by("tenant__name")
    )
    for result in results:
        yield ItemSpec(
            target=str(result.tenant_id),
            label=result.tenant.display_name,
            tenant_id=result.tenant_id,
        )


def _settings_update(
    context: ItemContext,
    tenant: Tenant,
    check: DriftCheck,
    policy: TenantPolicy,
    changes: Mapping[str, Any],
) -> str:
    """Send the new values and return the response's correlation id."""
    if check.policy_name:
        updated = policies.policy_update(
            user=context.user, tenant=tenant, policy_id=policy.id, settings=changes
        )
        return updated.correlation_id
    return base_policy_settings_set(
        user=context.user,
        tenant=tenant,
        policy_type=check.policy_type,
        settings=changes,
        job_id=context.job.pk,
    )


def base_policy_settings_set(
    *,
    user: User,
    tenant: Tenant,
    policy_type: str,
    settings: Mapping[str, Any],
    job_id: int | None = None,
) -> str:
    """Set settings of a tenant's base policy and return the correlation id.

    ``settings`` maps setting keys to their new values, and the other
    settings keep theirs.
    """
    body = {key: {"value": value} for key, value in settings.items()}
    operation = "base_policy_settings_update"
    with tenant_audit(
        user, tenant, operation, policyType=policy_type, settings=body, job_id=job_id
    ) as audit:
        response = tenant_call(
            tenant, operation, path_params={"policyType": policy_type}, json=body
        )
        audit_response(audit, response)
    logger.info(
        "%s tenant %s type %s: %s settings",
        operation,
        tenant.pk,
        policy_type,
        len(body),
    )
    return response.correlation_id


def _run_realign(context: ItemContext) -> ItemResult:
    check = _check_of(context.parameters)
    tenant = context.tenant
    if tenant is None:
        return base.skipped(base.NOT_MIRRORED_MESSAGE)
    policy = tenant_policy_read(
        tenant=tenant, policy_type=check.policy_type, policy_name=check.policy_name
    )
    if policy is None:
        return base.skipped(_not_found_message(check))

    found = _deviations(check.baseline_settings, policy.settings)
    accepted = acceptances_active(tenants=[tenant], policy_type=check.policy_type)
    changes = {
        item["key"]: item["baseline"]
        for item in found
        if (tenant.pk, item["key"]) not in accepted
    }
    kept = len(found) - len(changes)
    kept_note = (
        f" {kept} accepted deviation{'s stay' if kept != 1 else ' stays'}."
        if kept
        else ""
    )
    if not changes:
        return base.skipped(f"Nothing to change: no open deviation.{kept_note}")
    keys = ", ".join(sorted(changes))
    if context.dry_run:
        return base.would(
            f"set {settings_count(len(changes))} to the baseline: {keys}.{kept_note}"
        )

    correlation_id = _settings_update(context, tenant, check, policy, changes)
    remaining = [item for item in found if item["key"] not in changes]
    DriftResult.objects.filter(drift_check=check, tenant=tenant).update(
        status=DriftResult.Status.DRIFTED if remaining else DriftResult.Status.MATCHING,
        deviations=remaining,
        realigned_at=timezone.now(),
    )
    return base.succeeded(
        f"Set {settings_count(len(changes))} to the baseline: {keys}.{kept_note}",
        correlation_id=correlation_id,
    )


def settings_count(count: int) -> str:
    """Return "1 setting" or "N settings"."""
    return f"{count} setting" if count == 1 else f"{count} settings"


def _user_pk(user: User) -> Any:
    return user.pk if user is not None and user.is_authenticated else None


base.register(
    base.BulkOperation(
        kind=COMPARE_KIND,
        title="Compare policies with a baseline",
        plan=_plan_compare,
        run_item=_run_compare,
    )
)
base.register(
    base.BulkOperation(
        kind=REALIGN_KIND,
        title="Realign policies with a baseline",
        plan=_plan_realign,
        run_item=_run_realign,
    )
)
