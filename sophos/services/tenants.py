"""Tenant customer names: the MSP's own name for each Sophos Central tenant.

A tenant's ``customer_name`` is the portal's mapping and is shown in place
of the Sophos name. A bulk job can rename tenants in Sophos Central to their
mapped names where the API allows it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django_q.tasks import async_task

from sophos import catalog
from sophos.errors import SophosError
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.services import jobs
from sophos.services.audit import audit_record, audited
from sophos.services.connections import client_for

logger = logging.getLogger(__name__)

RENAME_JOB_KIND = "tenants_rename"

# NOTE/sophos-api: the partner API in the catalog lists, creates and reads
# tenants but has no operation that changes a tenant's name. The rename job
# uses this operation once the catalog has it, and skips every tenant until
# then.
RENAME_OPERATION = "tenant_update"

RENAME_UNSUPPORTED_MESSAGE = (
    "Not renamed in Sophos Central: its partner API has no tenant rename "
    "operation. The portal shows the customer name instead."
)

User = AbstractBaseUser | AnonymousUser | None


def tenant_rename_supported() -> bool:
    """Return whether the catalog has an operation that renames a tenant."""
    try:
        catalog.get(RENAME_OPERATION)
    except catalog.UnknownOperation:
        return False
    return True


def tenant_customer_name_set(
    *, user: User, tenant_id: uuid.UUID, customer_name: str
) -> Tenant:
    """Set the portal's customer name of a tenant; empty removes it."""
    tenant = Tenant.objects.get(pk=tenant_id)
    customer_name = customer_name.strip()
    if tenant.customer_name == customer_name:
        return tenant
    parameters = {
        "customer_name": customer_name,
        "previous_customer_name": tenant.customer_name,
    }
    with audited(
        user=user,
        operation="tenant_customer_name_set",
        tenant_id=tenant.pk,
        tenant_name=tenant.name,
        parameters=parameters,
    ):
        tenant.customer_name = customer_name
        tenant.save(update_fields=["customer_name"])
    return tenant


def tenants_name_mismatched(*, tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    """Return the tenants whose customer name is set and is not the Sophos name."""
    return (
        tenants.exclude(customer_name="")
        .exclude(customer_name=F("name"))
        .order_by("name", "id")
    )


def tenants_rename_start(*, user: User, tenants: Iterable[Tenant]) -> Job:
    """Create a job that renames tenants in Sophos Central to their customer names.

    The job is queued once the surrounding transaction commits.
    """
    chosen = list(tenants)
    title = f"Rename {len(chosen)} tenant{'s' if len(chosen) != 1 else ''} in Sophos"
    job = jobs.job_create(
        kind=RENAME_JOB_KIND,
        title=title,
        user=user,
        items=[
            jobs.ItemSpec(target=str(t.pk), label=t.display_name, tenant_id=t.pk)
            for t in chosen
        ],
        parameters={"operation": RENAME_OPERATION},
    )
    audit_record(
        user=user,
        operation="tenants_rename_start",
        outcome=AuditEntry.Outcome.QUEUED,
        parameters={"tenants": [str(t.pk) for t in chosen]},
        job=job,
    )
    transaction.on_commit(
        lambda: async_task(
            "sophos.tasks_accounts.tenants_rename_run_task", job.pk, task_name=title
        )
    )
    return job


def tenants_rename_run(*, job_id: int) -> Job:
    """Run a queued rename job, one item a tenant."""
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    jobs.job_start(job=job)
    supported = tenant_rename_supported()
    for item in job.items.filter(status=JobItem.Status.QUEUED):
        job.refresh_from_db(fields=["status"])
        if job.status == Job.Status.CANCELLED:
            break
        _rename_item(job, item, supported=supported)
    return jobs.job_finish(job=job)


def _rename_item(job: Job, item: JobItem, *, supported: bool) -> None:
    if not jobs.job_item_start(item=item):
        return
    tenants = Tenant.objects.select_related("connection")
    target = tenants.filter(pk=item.tenant_id).first() if item.tenant_id else None
    if target is None:
        jobs.job_item_skip(item=item, message="The tenant is no longer in the mirror.")
        return
    new_name = target.customer_name
    if not new_name or new_name == target.name:
        jobs.job_item_skip(
            item=item, message="The Sophos name already matches the customer name."
        )
        return
    if not supported:
        jobs.job_item_skip(item=item, message=RENAME_UNSUPPORTED_MESSAGE)
        return

    try:
        _rename_in_sophos(job, target, new_name)
    except SophosError as exc:
        logger.warning("rename tenant %s failed: %s", target.pk, exc)
        jobs.job_item_fail(item=item, error=exc)
    else:
        jobs.job_item_succeed(item=item, message=f"Renamed to {new_name}.")


def _rename_in_sophos(job: Job, tenant: Tenant, new_name: str) -> None:
    parameters = {"name": new_name, "previous_name": tenant.name}
    with (
        audited(
            user=job.requested_by,
            operation="tenant_rename",
            tenant_id=tenant.pk,
            tenant_name=tenant.name,
            parameters=parameters,
            job=job,
        ) as audit,
        client_for(tenant.connection) as client,
    ):
        response = client.call(
            RENAME_OPERATION,
            path_params={"tenantId": str(tenant.pk)},
            json={"name": new_name},
        )
        audit.status_code = response.status
        audit.correlation_id = response.correlation_id
    # The mirror keeps the Sophos name until the next sync, so write it
    # through now.
    Tenant.objects.filter(pk=tenant.pk).update(name=new_name)


def tenants_named(*, tenants: QuerySet[Tenant], search: str = "") -> QuerySet[Tenant]:
    """Return ``tenants`` matching ``search`` in any of their names, by name."""
    if search:
        tenants = tenants.filter(
            Q(name__icontains=search)
            | Q(show_as__icontains=search)
            | Q(customer_name__icontains=search)
        )
    return tenants.order_by("name", "id")
