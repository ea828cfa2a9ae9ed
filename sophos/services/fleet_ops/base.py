"""The machinery every fleet operation shares: plan, run, dry run, retry.

An operation is a ``BulkOperation``: a ``plan`` function that turns the
request into job items (``ItemSpec``), and a ``run_item`` function that runs
one item and returns an ``ItemResult``. ``operation_start`` plans and queues
the job; the task ``sophos.tasks_fleet.fleet_job_run_task`` calls
``job_run``, which runs the items one by one, a tenant at a time:

- it re-checks before each tenant that the requester may still act on it, so
  a technician's job never touches a tenant taken from them meanwhile;
- it stops when the job is cancelled, and the rest of the items end skipped;
- a ``SophosError`` raised by ``run_item`` fails the item with Sophos's
  message and correlation id, and the job goes on with the next item;
- in a dry run (``Job.dry_run``) ``run_item`` gets ``context.dry_run`` and
  must send no write. It returns ``would("...")``, a skipped result.

An operation that works better a tenant at a time (one bulk request for all
of a tenant's items) also supplies ``prepare_tenant``, which runs before the
tenant's items and may end some of them or record their ``stage``.

Register an operation at the bottom of its module::

    register(BulkOperation(kind="isolation.isolate", title="Isolate endpoints",
                           plan=_plan, run_item=_run_item))

Its kind's first part names the module, which ``operation_get`` imports.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_q.tasks import async_task

from sophos.errors import SophosError
from sophos.models import AuditEntry, Endpoint, Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services.audit import audit_record
from sophos.services.jobs import ItemSpec, User

logger = logging.getLogger(__name__)

RUN_TASK = "sophos.tasks_fleet.fleet_job_run_task"
NOT_ACTIONABLE_MESSAGE = (
    "Skipped: the requester's role no longer allows changes to this tenant."
)
NOT_MIRRORED_MESSAGE = "Skipped: the tenant is no longer in the mirror."


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one item; ``data`` is merged into ``JobItem.data``."""

    status: str
    message: str
    correlation_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    stage: str | None = None


def succeeded(
    message: str, *, correlation_id: str = "", stage: str | None = None, **data: Any
) -> ItemResult:
    return ItemResult(
        JobItem.Status.SUCCEEDED, message, correlation_id, data, stage=stage
    )


def skipped(message: str, **data: Any) -> ItemResult:
    return ItemResult(JobItem.Status.SKIPPED, message, data=data)


def would(action: str, **data: Any) -> ItemResult:
    """Return the dry-run result of an item: skipped, saying what it would do.

    ``action`` reads after "Would", such as ``"isolate ws-01"``.
    """
    return ItemResult(JobItem.Status.SKIPPED, f"Would {action}", data=data)


def failed(message: str, *, correlation_id: str = "", **data: Any) -> ItemResult:
    return ItemResult(JobItem.Status.FAILED, message, correlation_id, data)


@dataclass(frozen=True)
class PlanRequest:
    """The input of ``plan``: the requester, their form input and their scope."""

    user: User
    parameters: Mapping[str, Any]
    # The tenants the requester may act on; plan only items among them.
    tenants: QuerySet[Tenant]


def plan_endpoints(
    request: PlanRequest,
    *,
    extra: Callable[[Endpoint], dict[str, Any]] | None = None,
) -> Iterable[ItemSpec]:
    """Plan one item for each endpoint in ``endpoint_ids`` of the parameters.

    Only endpoints of the requester's tenants are planned, ordered by tenant
    name, hostname and id. Each item keeps the hostname, plus what ``extra``
    returns for the endpoint.
    """
    ids = [str(pk) for pk in request.parameters.get("endpoint_ids", [])]
    endpoints = (
        Endpoint.objects.filter(pk__in=ids, tenant__in=request.tenants)
        .select_related("tenant")
        .order_by("tenant__name", "hostname", "id")
    )
    for endpoint in endpoints:
        yield ItemSpec(
            target=str(endpoint.pk),
            label=f"{endpoint.hostname} ({endpoint.tenant.display_name})",
            tenant_id=endpoint.tenant_id,
            data={"hostname": endpoint.hostname, **(extra(endpoint) if extra else {})},
        )


@dataclass
class ItemContext:
    """The input of ``run_item`` for one item."""

    job: Job
    item: JobItem
    # None for an item about no existing tenant.
    tenant: Tenant | None
    user: User
    parameters: Mapping[str, Any]
    dry_run: bool


@dataclass
class TenantContext:
    """The input of ``prepare_tenant``: one tenant's queued items of the job."""

    job: Job
    tenant: Tenant
    items: list[JobItem]
    user: User
    parameters: Mapping[str, Any]
    dry_run: bool


@dataclass(frozen=True)
class BulkOperation:
    """One fleet operation: how to plan its items and run one of them."""

    # "<module>.<action>", stored as Job.kind.
    kind: str
    # The job's title, such as "Isolate endpoints".
    title: str
    plan: Callable[[PlanRequest], Iterable[ItemSpec]]
    run_item: Callable[[ItemContext], ItemResult]
    prepare_tenant: Callable[[TenantContext], None] | None = None


_registry: dict[str, BulkOperation] = {}


def register(operation: BulkOperation) -> BulkOperation:
    """Add an operation to the registry under its kind."""
    if "." not in operation.kind:
        raise ValueError(
            f"Invalid operation kind {operation.kind!r}: use <module>.<action>."
        )
    _registry[operation.kind] = operation
    return operation


def operation_get(kind: str) -> BulkOperation | None:
    """Return the registered operation of ``kind``, importing its module."""
    if kind not in _registry and "." in kind:
        module = kind.split(".", 1)[0]
        try:
            importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError:
            return None
    return _registry.get(kind)


def operation_start(
    *,
    kind: str,
    user: User,
    parameters: Mapping[str, Any],
    dry_run: bool = False,
    title: str = "",
) -> Job:
    """Plan the operation's items, create its job and queue it after commit.

    Items are planned only among the tenants ``user`` may act on. Raises
    ``ValueError`` for an unknown kind.
    """
    operation = operation_get(kind)
    if operation is None:
        raise ValueError(f"Unknown fleet operation {kind!r}.")
    request = PlanRequest(
        user=user, parameters=parameters, tenants=_actionable_tenants(user)
    )
    specs = list(operation.plan(request))
    title = title or operation.title
    if dry_run:
        title = f"Dry run: {title}"
    with transaction.atomic():
        job = jobs.job_create(
            kind=kind,
            title=title[:255],
            user=user,
            items=specs,
            parameters=dict(parameters),
            dry_run=dry_run,
        )
        audit_record(
            user=user,
            operation=f"fleet.{kind}",
            outcome=AuditEntry.Outcome.QUEUED,
            parameters={**parameters, "dry_run": dry_run, "items": len(specs)},
            message=f"Queued job {job.pk}: {job.title}",
            job=job,
        )
        job_queue(job=job)
    logger.info(
        "fleet operation %s queued as job %s with %s items (dry run: %s)",
        kind,
        job.pk,
        len(specs),
        dry_run,
    )
    return job


def job_queue(*, job: Job) -> None:
    """Queue the job's run once the surrounding transaction commits."""
    job_id = job.pk
    name = job.title[:100]
    transaction.on_commit(lambda: async_task(RUN_TASK, job_id, task_name=name))


def job_retryable(*, job: Job) -> bool:
    """Return whether ``job_retry`` can run the job's failed or cancelled
    items again, in one query.

    A job that a worker may still change, or that has a retry a worker may
    still change, cannot be retried yet.
    """
    if not job.finished or jobs.job_open(job=job) or operation_get(job.kind) is None:
        return False
    open_retries = Job.objects.filter(jobs.OPEN_JOBS, retry_of=OuterRef("pk"))
    return (
        Job.objects.filter(pk=job.pk, items__status__in=jobs.RETRIED_ITEM_STATUSES)
        .exclude(Exists(open_retries))
        .exists()
    )


def operation_retry(*, job: Job, user: User) -> Job | None:
    """Queue a new job with the failed items of a finished job.

    Returns None when the job is not a fleet operation, is unfinished, has an
    open retry, or has no failed item.
    """
    with transaction.atomic():
        # The row lock makes a second retry request wait for this one and
        # then find its retry, so a double submit creates one retry.
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job_retryable(job=job):
            return None
        retry = jobs.job_retry(job=job, user=user)
        if retry is not None:
            job_queue(job=retry)
    return retry


def job_run(*, job_id: int) -> Job:
    """Run a queued fleet job item by item and finish it.

    A job that is not queued any more (cancelled before it ran, or started
    by an earlier delivery of the task) is finished if it can be, and
    otherwise returned unchanged.
    """
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    operation = operation_get(job.kind)
    if operation is None:
        logger.error("job %s has the unknown fleet operation %s", job.pk, job.kind)
        return jobs.job_finish(job=job, error=f"Unknown operation {job.kind}.")
    if not jobs.job_start(job=job):
        logger.warning("fleet job %s is %s, so it is not run", job.pk, job.status)
        return jobs.job_finish_when_done(job_id=job.pk) or job

    try:
        _run_items(job, operation)
    except Exception as exc:
        # A bug, not a Sophos error. The open items fail with the message.
        logger.exception("fleet job %s stopped with an internal error", job.pk)
        return jobs.job_finish(job=job, error=f"Internal error: {exc}")
    if jobs.job_cancelled(job_id=job.pk):
        job.items.filter(status=JobItem.Status.QUEUED).update(
            status=JobItem.Status.CANCELLED, message=jobs.CANCELLED_MESSAGE
        )
    finished = jobs.job_finish_when_done(job_id=job.pk)
    return finished or Job.objects.get(pk=job.pk)


def _run_items(job: Job, operation: BulkOperation) -> None:
    user = job.requested_by
    actionable = set(_actionable_tenants(user).values_list("pk", flat=True))
    queued = job.items.filter(status=JobItem.Status.QUEUED).order_by("id")
    for tenant_id, items in _by_tenant(list(queued)):
        if jobs.job_cancelled(job_id=job.pk):
            return
        tenant = _tenant(tenant_id)
        if tenant_id is not None and (tenant is None or tenant_id not in actionable):
            message = NOT_MIRRORED_MESSAGE if tenant is None else NOT_ACTIONABLE_MESSAGE
            for item in items:
                jobs.job_item_skip(item=item, message=message)
            continue
        if tenant is not None and operation.prepare_tenant is not None:
            _prepare(job, operation.prepare_tenant, tenant, items)
        for item in items:
            if jobs.job_cancelled(job_id=job.pk):
                return
            _run_one(job, operation, tenant, item)


def _by_tenant(
    items: Sequence[JobItem],
) -> list[tuple[uuid.UUID | None, list[JobItem]]]:
    """Group items by tenant, tenants in the order their first item came."""
    groups: dict[uuid.UUID | None, list[JobItem]] = {}
    for item in items:
        groups.setdefault(item.tenant_id, []).append(item)
    return list(groups.items())


def _tenant(tenant_id: uuid.UUID | None) -> Tenant | None:
    if tenant_id is None:
        return None
    return Tenant.objects.select_related("connection").filter(pk=tenant_id).first()


def _actionable_tenants(user: User) -> QuerySet[Tenant]:
    # Imported here: portal.access imports the models of this package.
    from portal.access import tenants_actionable

    if user is None:
        return Tenant.objects.none()
    return tenants_actionable(user)


def _prepare(
    job: Job,
    prepare: Callable[[TenantContext], None],
    tenant: Tenant,
    items: list[JobItem],
) -> None:
    context = TenantContext(
        job=job,
        tenant=tenant,
        items=items,
        user=job.requested_by,
        parameters=job.parameters,
        dry_run=job.dry_run,
    )
    try:
        prepare(context)
    except SophosError as exc:
        logger.warning("fleet job %s tenant %s failed: %s", job.pk, tenant.pk, exc)
        for item in items:
            jobs.job_item_fail(item=item, error=exc)


def _run_one(
    job: Job, operation: BulkOperation, tenant: Tenant | None, item: JobItem
) -> None:
    claimed = jobs.job_item_claim(item_id=item.pk)
    if claimed is None:
        # prepare_tenant ended the item, or another delivery runs it.
        return
    context = ItemContext(
        job=job,
        item=claimed,
        tenant=tenant,
        user=job.requested_by,
        parameters=job.parameters,
        dry_run=job.dry_run,
    )
    try:
        result = operation.run_item(context)
    except SophosError as exc:
        logger.warning("fleet job %s item %s failed: %s", job.pk, item.target, exc)
        jobs.job_item_fail(item=claimed, error=exc)
        return
    if job.dry_run and result.status == JobItem.Status.SUCCEEDED:
        logger.error(
            "fleet job %s: %s reported a change in a dry run", job.pk, job.kind
        )
        result = failed("Internal error: the dry run reported a change.")
    _item_result(claimed, result)


def _item_result(item: JobItem, result: ItemResult) -> None:
    if result.status == JobItem.Status.SUCCEEDED:
        jobs.job_item_succeed(
            item=item,
            message=result.message,
            correlation_id=result.correlation_id,
            data=result.data,
            stage=result.stage,
        )
    elif result.status == JobItem.Status.SKIPPED:
        jobs.job_item_skip(
            item=item, message=result.message, data=result.data, stage=result.stage
        )
    else:
        jobs.job_item_fail(
            item=item,
            error=result.message,
            correlation_id=result.correlation_id,
            data=result.data,
            stage=result.stage,
        )


def item_end(*, item: JobItem, result: ItemResult) -> None:
    """End an item from ``prepare_tenant`` the way ``run_item`` results do."""
    _item_result(item, result)
