"""Customer onboarding: a new tenant set up in one job, step by step.

``onboarding_start`` stores the request in an ``OnboardingRun`` and queues
the job ``onboarding.run`` with one item per step. The first step creates
the tenant under the partner (or takes an existing tenant) and records the
customer name (``Tenant.customer_name``). The next steps create its
directory user groups and users and its endpoint groups. Then the base
policies and policies of a baseline tenant are cloned, and the exclusions
of an exclusion template created.

Each step records the id of the object it created or found in
``OnboardingRun.created``. ``onboarding_resume`` runs every step again: a
recorded step is skipped, and an unrecorded one first looks its object up
by name (a user by email address) and creates it only when it is missing,
so a resumed run creates nothing twice.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet

from sophos.models import Job, Tenant
from sophos.models_fleet import ExclusionTemplate, OnboardingRun
from sophos.services import directory, groups, jobs, partner_tenants, policies
from sophos.services.fleet_ops import base, exclusion_templates
from sophos.services.fleet_ops.base import ItemContext, ItemResult, PlanRequest
from sophos.services.fleet_ops.drift import (
    base_policy_settings_set,
    settings_count,
    tenant_policy_read,
)
from sophos.services.jobs import ItemSpec, User
from sophos.services.partner_api import partner_connection
from sophos.services.partner_tenants import PartnerTenant, TenantContact
from sophos.services.tenants import tenant_customer_name_set

logger = logging.getLogger(__name__)

KIND = "onboarding.run"
MAX_USERS = 1000
MAX_CSV_BYTES = 1_000_000
MAX_NAME_LENGTH = 255
MAX_GROUP_LENGTH = 100
CSV_HEADER = ["name", "email", "group"]
TENANT_STEP = "tenant"


# -- the users' CSV ----------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """One directory user to create, and the user group to put them in."""

    name: str
    email: str
    group: str = ""
    # The line of the CSV it came from, or 0.
    line: int = 0


class CsvInvalid(ValueError):
    """A users' CSV with bad rows, each named in ``errors`` by line number."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _row_errors(line: int, row: list[str]) -> list[str]:
    if len(row) not in (2, 3):
        return [
            f"Line {line}: expected name, email and group (group may be empty); "
            f"found {len(row)} columns."
        ]
    name, email = row[0].strip(), row[1].strip()
    group = row[2].strip() if len(row) == 3 else ""
    errors = []
    if not name:
        errors.append(f"Line {line}: the name is missing.")
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(f"Line {line}: the name is longer than {MAX_NAME_LENGTH}.")
    try:
        validate_email(email)
    except ValidationError:
        errors.append(f"Line {line}: the email address {email!r} is invalid.")
    if len(group) > MAX_GROUP_LENGTH:
        errors.append(f"Line {line}: the group is longer than {MAX_GROUP_LENGTH}.")
    return errors


def users_csv_parse(text: str) -> list[UserRow]:
    """Read users from CSV lines of name, email and group.

    A first line ``name,email,group`` is a header and is skipped, and so are
    blank lines. Raises ``CsvInvalid`` listing every bad line, so nothing is
    created from a file with any bad row.
    """
    rows: list[UserRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise CsvInvalid([f"Line {reader.line_num}: unreadable CSV: {exc}."]) from exc
    for line, row in enumerate(lines, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if not rows and not errors and [c.strip().lower() for c in row] == CSV_HEADER:
            continue
        row_errors = _row_errors(line, row)
        if row_errors:
            errors.extend(row_errors)
            continue
        email = row[1].strip()
        first = seen.get(email.casefold())
        if first is not None:
            errors.append(f"Line {line}: the email {email} is already on line {first}.")
            continue
        seen[email.casefold()] = line
        group = row[2].strip() if len(row) == 3 else ""
        rows.append(UserRow(name=row[0].strip(), email=email, group=group, line=line))
    if len(rows) > MAX_USERS:
        errors.append(f"The file has {len(rows)} users; at most {MAX_USERS} fit.")
    if errors:
        raise CsvInvalid(errors)
    return rows


# -- the request -------------------------------------------------------------------


@dataclass(frozen=True)
class NewTenant:
    """The tenant to create under the partner."""

    name: str
    billing_type: str
    contact_first_name: str
    contact_last_name: str
    contact_email: str
    contact_phone: str = ""
    show_as: str = ""
    data_geography: str = ""
    data_region: str = ""


@dataclass(frozen=True)
class OnboardingRequest:
    """The input of the onboarding form."""

    customer_name: str
    # The tenant to create, or None to set up ``existing_tenant_id``.
    new_tenant: NewTenant | None = None
    existing_tenant_id: str = ""
    users: Sequence[UserRow] = ()
    user_groups: Sequence[str] = ()
    # (type, name) with type "computer" or "server".
    endpoint_groups: Sequence[tuple[str, str]] = ()
    baseline_tenant_id: str = ""
    exclusion_template_id: int | None = None


@dataclass(frozen=True)
class Step:
    """One item of the onboarding job."""

    key: str
    label: str
    # The dry run's message for the step, after "Would".
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)


def _fold(name: str) -> str:
    return name.strip().casefold()


def onboarding_steps(request: Mapping[str, Any]) -> list[Step]:
    """Return the steps of a stored request, in the order they run."""
    steps = [_tenant_step(request)]
    groups_by_key: dict[str, str] = {}
    for name in [*request.get("user_groups", []), *_user_groups(request)]:
        groups_by_key.setdefault(_fold(name), name.strip())
    for key, name in groups_by_key.items():
        steps.append(
            Step(
                f"user_group:{key}",
                f"User group {name}",
                f"create the user group {name}",
                {"name": name},
            )
        )
    for user in request.get("users", []):
        steps.append(
            Step(
                f"user:{_fold(user['email'])}",
                f"User {user['name']} <{user['email']}>",
                f"create the user {user['email']}",
                user,
            )
        )
    for group_type, name in request.get("endpoint_groups", []):
        type_label = groups.GROUP_TYPES.get(group_type, group_type)
        steps.append(
            Step(
                f"endpoint_group:{group_type}:{_fold(name)}",
                f"{type_label} group {name}",
                f"create the {type_label.lower()} group {name}",
                {"type": group_type, "name": name},
            )
        )
    steps.extend(_policy_steps(request))
    for entry in request.get("exclusions", []):
        label = exclusion_templates.exclusion_label(entry)
        steps.append(
            Step(
                f"exclusion:{exclusion_templates.exclusion_key(entry)}",
                label,
                f"create the {label[:1].lower()}{label[1:]}",
                entry,
            )
        )
    return steps


def _tenant_step(request: Mapping[str, Any]) -> Step:
    new = request.get("new_tenant")
    if new:
        return Step(
            TENANT_STEP,
            f"Tenant {new['name']}",
            f"create the tenant {new['name']} and record the customer name",
        )
    return Step(
        TENANT_STEP,
        f"Tenant {request.get('existing_tenant_name', '')}".strip(),
        "record the customer name of the existing tenant",
    )


def _user_groups(request: Mapping[str, Any]) -> list[str]:
    return [user["group"] for user in request.get("users", []) if user.get("group")]


def _policy_steps(request: Mapping[str, Any]) -> list[Step]:
    steps = []
    for policy in request.get("baseline_policies", []):
        type_label = policies.policy_type_label(policy["type"])
        if policy["base"]:
            steps.append(
                Step(
                    f"base_policy:{policy['type']}",
                    f"Base policy: {type_label}",
                    f"set the {type_label} base policy to the baseline's settings",
                    policy,
                )
            )
        else:
            steps.append(
                Step(
                    f"policy:{policy['type']}:{policy['name']}",
                    f"Policy {policy['name']} ({type_label})",
                    f"create the {type_label} policy {policy['name']}",
                    policy,
                )
            )
    return steps


def _request_data(
    request: OnboardingRequest,
    tenant: Tenant | None,
    baseline: Tenant | None,
    template: ExclusionTemplate | None,
) -> dict[str, Any]:
    """Store the request with snapshots of the baseline's policy list and the
    template's exclusions, so a resumed run plans the same steps."""
    data: dict[str, Any] = {
        "customer_name": request.customer_name.strip(),
        "new_tenant": asdict(request.new_tenant) if request.new_tenant else None,
        "existing_tenant_id": str(tenant.pk) if tenant else "",
        "existing_tenant_name": tenant.name if tenant else "",
        "users": [
            {"name": row.name, "email": row.email, "group": row.group}
            for row in request.users
        ],
        "user_groups": [name.strip() for name in request.user_groups if name.strip()],
        "endpoint_groups": [
            [group_type, name.strip()]
            for group_type, name in request.endpoint_groups
            if name.strip()
        ],
        "baseline_tenant_id": str(baseline.pk) if baseline else "",
        "baseline_tenant_name": baseline.name if baseline else "",
        "baseline_policies": [],
        "exclusion_template": template.name if template else "",
        "exclusions": list(template.exclusions) if template else [],
    }
    if baseline is not None:
        data["baseline_policies"] = [
            {
                "id": policy.id,
                "name": policy.name,
                "type": policy.type,
                "base": policy.is_base,
            }
            for policy in policies.policies_list(tenant=baseline)
        ]
    return data


def onboarding_start(
    *, user: User, request: OnboardingRequest, dry_run: bool
) -> OnboardingRun:
    """Check the request against the user's rights, store it and queue its job.

    Reads the baseline tenant's policy list live. Raises ``ValueError`` for
    a request the user may not make, and ``SophosError`` when the baseline
    cannot be read.
    """
    # Imported here: portal.access imports the models of this package.
    from portal.access import (
        Capability,
        has_capability,
        tenants_actionable,
        tenants_visible,
    )

    if user is None or not user.is_authenticated:
        raise ValueError("Log in to onboard a customer.")
    if not request.customer_name.strip():
        raise ValueError("The customer name is missing.")
    tenant = None
    if request.new_tenant is not None:
        if not has_capability(user, Capability.PARTNER_ADMIN):
            raise ValueError("Your role may not create tenants under the partner.")
    else:
        if request.existing_tenant_id:
            scope = tenants_actionable(user)
            tenant = scope.filter(pk=request.existing_tenant_id).first()
        if tenant is None:
            raise ValueError("Choose an existing tenant that you may change.")
    baseline = None
    if request.baseline_tenant_id:
        baseline = tenants_visible(user).filter(pk=request.baseline_tenant_id).first()
        if baseline is None:
            raise ValueError("The baseline tenant is not one you may see.")
    template = None
    if request.exclusion_template_id is not None:
        template = ExclusionTemplate.objects.filter(
            pk=request.exclusion_template_id
        ).first()
        if template is None:
            raise ValueError("The exclusion template no longer exists.")

    data = _request_data(request, tenant, baseline, template)
    with transaction.atomic():
        run = OnboardingRun.objects.create(
            customer_name=data["customer_name"],
            request=data,
            tenant=tenant,
            dry_run=dry_run,
            requested_by_id=user.pk if user.is_authenticated else None,
        )
        _queue(run, user, f"Onboard {run.customer_name}")
    return run


def onboarding_resume(*, user: User, run: OnboardingRun) -> Job:
    """Run every step of a run again, skipping the steps already done.

    Raises ``ValueError`` for a dry run or while a job of the run is unfinished.
    """
    if run.dry_run:
        raise ValueError("A dry run cannot be resumed: start the onboarding instead.")
    # A cancelled job still runs until its worker has ended its item.
    if run.job is not None and jobs.job_active(job=run.job):
        raise ValueError("The onboarding is still running.")
    with transaction.atomic():
        return _queue(run, user, f"Resume onboarding {run.customer_name}")


def onboarding_repeat(*, user: User, preview: OnboardingRun) -> OnboardingRun:
    """Start for real the onboarding a dry run previewed, with its request."""
    if not preview.dry_run:
        raise ValueError("This onboarding has run already: resume it instead.")
    with transaction.atomic():
        run = OnboardingRun.objects.create(
            customer_name=preview.customer_name,
            request=preview.request,
            tenant=preview.tenant if not preview.request.get("new_tenant") else None,
            requested_by_id=user.pk
            if user is not None and user.is_authenticated
            else None,
        )
        _queue(run, user, f"Onboard {run.customer_name}")
    return run


def _queue(run: OnboardingRun, user: User, title: str) -> Job:
    job = base.operation_start(
        kind=KIND,
        user=user,
        parameters={"run_id": run.pk},
        dry_run=run.dry_run,
        title=title,
    )
    run.job = job
    run.save(update_fields=["job"])
    return job


def onboarding_runs_visible(*, user: User) -> QuerySet[OnboardingRun]:
    """Return the runs the user may read: all for those who see every tenant,
    otherwise the user's own."""
    from portal.access import sees_every_tenant

    runs = OnboardingRun.objects.select_related("job", "tenant", "requested_by")
    if user is None or not user.is_authenticated:
        return runs.none()
    if sees_every_tenant(user):
        return runs
    return runs.filter(requested_by__pk=user.pk)


# -- the job -----------------------------------------------------------------------


def _plan(request: PlanRequest) -> Iterable[ItemSpec]:
    run = OnboardingRun.objects.get(pk=request.parameters["run_id"])
    for step in onboarding_steps(run.request):
        yield ItemSpec(
            target=step.key[:255], label=step.label[:255], data={"step": step.key}
        )


def _remember(run: OnboardingRun, key: str, object_id: str) -> None:
    """Record the id a step created or found, unless this is a dry run."""
    if run.dry_run:
        return
    with transaction.atomic():
        fresh = OnboardingRun.objects.select_for_update().get(pk=run.pk)
        fresh.created = {**fresh.created, key: object_id}
        fresh.save(update_fields=["created"])
    run.created = fresh.created


def _root_job(job: Job) -> Job:
    while job.retry_of is not None:
        job = job.retry_of
    return job


def _run_for_item(context: ItemContext) -> OnboardingRun:
    """Return the run that records this item.

    The job page can run a finished dry run for real with the dry run's
    parameters. Such a job records its steps on a run of its own, found
    again by its retries through ``request["repeat_of_job"]``.
    """
    run = OnboardingRun.objects.select_related("tenant").get(
        pk=context.parameters["run_id"]
    )
    if not run.dry_run or context.dry_run:
        return run
    root = _root_job(context.job)
    found = (
        OnboardingRun.objects.select_related("tenant")
        .filter(dry_run=False, request__repeat_of_job=root.pk)
        .first()
    )
    if found is not None:
        return found
    new_tenant = bool(run.request.get("new_tenant"))
    real = OnboardingRun.objects.create(
        customer_name=run.customer_name,
        request={**run.request, "repeat_of_job": root.pk},
        tenant=None if new_tenant else run.tenant,
        requested_by_id=root.requested_by_id,
        job=context.job,
    )
    logger.info("job %s runs dry-run onboarding %s as %s", root.pk, run.pk, real.pk)
    return real


def _run_step(context: ItemContext) -> ItemResult:
    run = _run_for_item(context)
    key = str(context.item.data.get("step", context.item.target))
    steps = {step.key: step for step in onboarding_steps(run.request)}
    step = steps.get(key)
    if step is None:
        return base.failed(f"Unknown onboarding step {key!r}.")
    if key in run.created:
        return base.skipped(f"Already done: {run.created[key]}.")
    if key == TENANT_STEP:
        return _tenant_run(context, run)

    tenant = run.tenant
    if tenant is None:
        if context.dry_run:
            return base.would(step.action)
        return base.failed(
            "Not run: the tenant does not exist yet. Resume once the tenant step "
            "has succeeded."
        )
    if not _actionable(context.user, tenant):
        return base.skipped(base.NOT_ACTIONABLE_MESSAGE)
    handler = STEP_HANDLERS[key.split(":", 1)[0]]
    return handler(context, run, tenant, step)


def _actionable(user: User, tenant: Tenant) -> bool:
    from portal.access import tenants_actionable

    return user is not None and tenants_actionable(user).filter(pk=tenant.pk).exists()


def _tenant_run(context: ItemContext, run: OnboardingRun) -> ItemResult:
    from portal.access import Capability, has_capability

    new = run.request.get("new_tenant")
    user = context.user
    if not new:
        tenant = run.tenant
        if tenant is None or not _actionable(user, tenant):
            return base.skipped(base.NOT_ACTIONABLE_MESSAGE)
        if context.dry_run:
            return base.would(f"record the customer name {run.customer_name}")
        tenant_customer_name_set(
            user=user, tenant_id=tenant.pk, customer_name=run.customer_name
        )
        _remember(run, TENANT_STEP, str(tenant.pk))
        return base.succeeded(
            f"Set up the existing tenant {tenant.name}; customer name recorded."
        )

    if user is None or not has_capability(user, Capability.PARTNER_ADMIN):
        return base.skipped(
            "Skipped: the requester's role no longer allows creating tenants."
        )
    found = _partner_tenant_named(new["name"])
    if found is not None:
        tenant = _mirror_row(found)
        message = (
            f"Found the existing tenant {found.name} ({found.id}); not created again."
        )
    elif context.dry_run:
        return base.would(f"create the tenant {new['name']}")
    else:
        created = partner_tenants.partner_tenant_create(
            user=user,
            name=new["name"],
            contact=TenantContact(
                first_name=new["contact_first_name"],
                last_name=new["contact_last_name"],
                email=new["contact_email"],
                phone=new.get("contact_phone", ""),
            ),
            billing_type=new["billing_type"],
            show_as=new.get("show_as", ""),
            data_geography=new.get("data_geography", ""),
            data_region=new.get("data_region", ""),
        )
        tenant = created.mirror or _mirror_row(created)
        message = f"Created the tenant {created.name} ({created.id})."

    # A dry run keeps the tenant it found too, so that its later steps can
    # read what the tenant has already.
    OnboardingRun.objects.filter(pk=run.pk).update(tenant=tenant)
    run.tenant = tenant
    if context.dry_run:
        return base.skipped(f"{message} Would record the customer name.")
    tenant_customer_name_set(
        user=user, tenant_id=tenant.pk, customer_name=run.customer_name
    )
    _remember(run, TENANT_STEP, str(tenant.pk))
    return base.succeeded(
        f"{message} Customer name recorded.", tenant_id=str(tenant.pk)
    )


def _partner_tenant_named(name: str) -> PartnerTenant | None:
    listing = partner_tenants.partner_tenants_list()
    return next((t for t in listing.items if _fold(t.name) == _fold(name)), None)


def _mirror_row(found: PartnerTenant) -> Tenant:
    """Return the mirror row of a partner tenant, creating it if no sync has."""
    if found.mirror is not None:
        return found.mirror
    row, _ = Tenant.objects.update_or_create(
        id=uuid.UUID(found.id),
        defaults={
            "connection": partner_connection(),
            "name": found.name or found.id,
            "show_as": found.show_as,
            "data_region": found.data_region,
            "data_geography": found.data_geography,
            "billing_type": found.billing_type,
            "status": found.status,
            "api_host": found.api_host,
        },
    )
    return row


def _present(run: OnboardingRun, key: str, object_id: str, what: str) -> ItemResult:
    _remember(run, key, object_id)
    return base.skipped(f"Already present: {what} {object_id}; not created again.")


def _user_group_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    name = str(step.payload["name"])
    listing = directory.user_groups_list(tenant=tenant, search=name)
    found = next((g for g in listing.items if _fold(g.name) == _fold(name)), None)
    if found is not None:
        return _present(run, step.key, found.id, "user group")
    if context.dry_run:
        return base.would(step.action)
    created = directory.user_group_create(user=context.user, tenant=tenant, name=name)
    _remember(run, step.key, created.id)
    return base.succeeded(f"Created user group {created.id}.")


def _user_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    email = str(step.payload["email"])
    listing = directory.users_list(tenant=tenant, search=email)
    found = next((u for u in listing.items if _fold(u.email) == _fold(email)), None)
    if found is not None:
        return _present(run, step.key, found.id, "user")
    group = str(step.payload.get("group") or "")
    group_ids = []
    if group:
        group_id = run.created.get(f"user_group:{_fold(group)}")
        if group_id is None:
            if context.dry_run:
                return base.would(f"{step.action} in the user group {group}")
            return base.failed(
                f"Not run: the user group {group} has not been created. Resume "
                "once its step has succeeded."
            )
        group_ids.append(str(group_id))
    if context.dry_run:
        return base.would(step.action)
    created = directory.user_create(
        user=context.user,
        tenant=tenant,
        name=str(step.payload["name"]),
        email=email,
        group_ids=group_ids,
    )
    _remember(run, step.key, created.id)
    return base.succeeded(f"Created user {created.id}.")


def _endpoint_group_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    group_type, name = str(step.payload["type"]), str(step.payload["name"])
    existing = groups.endpoint_groups_list(tenant=tenant, group_type=group_type)
    found = next((g for g in existing if _fold(g.name) == _fold(name)), None)
    if found is not None:
        return _present(run, step.key, found.id, "endpoint group")
    if context.dry_run:
        return base.would(step.action)
    created = groups.endpoint_group_create(
        user=context.user, tenant=tenant, name=name, type=group_type
    )
    _remember(run, step.key, created.id)
    return base.succeeded(f"Created endpoint group {created.id}.")


BASELINE_HIDDEN_MESSAGE = (
    "Skipped: the requester's role no longer allows reading the baseline tenant."
)


def _baseline_tenant(run: OnboardingRun, user: User) -> Tenant | None:
    """Return the baseline tenant if the requester may still read it."""
    from portal.access import tenants_visible

    if user is None:
        return None
    visible = tenants_visible(user)
    return visible.filter(pk=run.request["baseline_tenant_id"]).first()


def _changes(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in baseline.items()
        if key not in current or current[key] != value
    }


def _base_policy_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    policy_type = str(step.payload["type"])
    baseline = _baseline_tenant(run, context.user)
    if baseline is None:
        return base.skipped(BASELINE_HIDDEN_MESSAGE)
    source = tenant_policy_read(tenant=baseline, policy_type=policy_type)
    current = tenant_policy_read(tenant=tenant, policy_type=policy_type)
    assert source is not None and current is not None
    changes = _changes(source.settings, current.settings)
    if not changes:
        _remember(run, step.key, current.id)
        return base.skipped("Already matches the baseline's base policy.")
    if context.dry_run:
        return base.would(f"set {settings_count(len(changes))} of the base policy")
    correlation_id = base_policy_settings_set(
        user=context.user,
        tenant=tenant,
        policy_type=policy_type,
        settings=changes,
        job_id=context.job.pk,
    )
    _remember(run, step.key, current.id)
    return base.succeeded(
        f"Set {settings_count(len(changes))} of the base policy.",
        correlation_id=correlation_id,
    )


def _policy_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    # NOTE/sophos-api: assignments (appliesTo) and priorities are not copied,
    # because the ids of users, groups and endpoints differ between tenants.
    policy_type, name = str(step.payload["type"]), str(step.payload["name"])
    baseline = _baseline_tenant(run, context.user)
    if baseline is None:
        return base.skipped(BASELINE_HIDDEN_MESSAGE)
    source = tenant_policy_read(
        tenant=baseline,
        policy_type=policy_type,
        policy_id=str(step.payload["id"]),
    )
    assert source is not None
    current = tenant_policy_read(
        tenant=tenant, policy_type=policy_type, policy_name=name
    )

    if current is not None:
        changes = _changes(source.settings, current.settings)
        if not changes:
            return _present(run, step.key, current.id, "policy")
        if context.dry_run:
            return base.would(
                f"set {settings_count(len(changes))} of the policy {name}"
            )
        policy_id, verb = current.id, "Found"
    else:
        if context.dry_run:
            return base.would(step.action)
        created = policies.policy_create(
            user=context.user, tenant=tenant, name=name, type=policy_type
        )
        defaults = {setting.key: setting.value for setting in created.settings}
        changes = _changes(source.settings, defaults)
        policy_id, verb = created.id, "Created"

    if changes:
        policies.policy_update(
            user=context.user, tenant=tenant, policy_id=policy_id, settings=changes
        )
    _remember(run, step.key, policy_id)
    return base.succeeded(
        f"{verb} policy {policy_id} and set {settings_count(len(changes))} to "
        "the baseline's values."
    )


def _exclusion_run(
    context: ItemContext, run: OnboardingRun, tenant: Tenant, step: Step
) -> ItemResult:
    found = exclusion_templates.exclusion_find(tenant=tenant, entry=step.payload)
    if found is not None:
        return _present(run, step.key, found, "exclusion")
    if context.dry_run:
        return base.would(step.action)
    created = exclusion_templates.exclusion_create(
        user=context.user, tenant=tenant, entry=step.payload
    )
    _remember(run, step.key, created)
    return base.succeeded(f"Created exclusion {created}.")


STEP_HANDLERS = {
    "user_group": _user_group_run,
    "user": _user_run,
    "endpoint_group": _endpoint_group_run,
    "base_policy": _base_policy_run,
    "policy": _policy_run,
    "exclusion": _exclusion_run,
}

base.register(
    base.BulkOperation(
        kind=KIND, title="Onboard a customer", plan=_plan, run_item=_run_step
    )
)
