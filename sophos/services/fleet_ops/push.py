"""Push an allowed or a blocked item to many tenants, and undo the push.

``item_push_start`` records an ``ItemPush`` and queues the job
``push.create``, one item a tenant. Each item first reads the tenant's list
of items: a tenant that already has the item (or that Sophos rejects with
409) is skipped as "already present", and the push records that item's id
without owning it. Every item the push creates is recorded with its id in
``ItemPushTarget``, so ``item_push_undo_start`` (the job ``push.undo``)
deletes exactly the items this push created and leaves the others alone.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sophos.errors import Conflict, NotFound, SophosError
from sophos.models import AllowedBlockedItem, Job, Tenant
from sophos.models_fleet import ItemPush, ItemPushTarget
from sophos.services import exclusions
from sophos.services.exclusions import ApplicationItem, ItemProperties
from sophos.services.fleet_ops import base
from sophos.services.fleet_ops.base import ItemContext, ItemResult, PlanRequest
from sophos.services.jobs import ItemSpec, User

logger = logging.getLogger(__name__)

CREATE_KIND = "push.create"
UNDO_KIND = "push.undo"

SHA256_PATTERN = re.compile(r"[0-9a-fA-F]{64}")
# The allowed item types and the property each matches on. A blocked item is
# always a SHA-256.
ALLOWED_TYPES = {
    "sha256": "SHA-256 hash",
    "path": "File path",
    "certificateSigner": "Certificate signer",
}
MAX_VALUE_LENGTH = 1000
MAX_COMMENT_LENGTH = 255


@dataclass(frozen=True)
class PushRequest:
    """The item to push, and the tenants and tenant groups to push it to."""

    kind: str
    item_type: str
    value: str
    comment: str
    tenant_ids: Sequence[uuid.UUID | str] = ()
    group_ids: Sequence[int] = ()


def push_value_clean(*, kind: str, item_type: str, value: str) -> str:
    """Return the value to send, or raise ``ValueError`` saying what is wrong.

    A SHA-256 must be 64 hexadecimal characters and is sent in lower case.
    """
    value = value.strip()
    if kind not in ItemPush.Kind.values:
        raise ValueError(f"Invalid item kind {kind!r}: use allowed or blocked.")
    if kind == ItemPush.Kind.BLOCKED and item_type != "sha256":
        raise ValueError("A blocked item is always a SHA-256 hash.")
    if item_type not in ALLOWED_TYPES:
        raise ValueError(
            f"Invalid item type {item_type!r}: use {', '.join(ALLOWED_TYPES)}."
        )
    if not value:
        raise ValueError("The value is missing.")
    if len(value) > MAX_VALUE_LENGTH:
        raise ValueError(f"The value is longer than {MAX_VALUE_LENGTH} characters.")
    if item_type == "sha256":
        if not SHA256_PATTERN.fullmatch(value):
            raise ValueError(
                "A SHA-256 hash is 64 hexadecimal characters (0-9, a-f); "
                f"this value has {len(value)} characters."
            )
        value = value.lower()
    return value


def push_targets(
    *,
    tenants: QuerySet[Tenant],
    tenant_ids: Iterable[uuid.UUID | str],
    group_ids: Iterable[int],
) -> QuerySet[Tenant]:
    """Return the tenants among ``tenants`` that are chosen or in a chosen group.

    ``tenants`` is the requester's scope, so a group never widens it.
    """
    chosen = Q(pk__in=[str(pk) for pk in tenant_ids])
    groups = [int(pk) for pk in group_ids]
    if groups:
        chosen |= Q(portal_groups__in=groups)
    matching = tenants.filter(chosen).values("pk")
    return Tenant.objects.filter(pk__in=matching).order_by("name", "pk")


def item_label(push: ItemPush) -> str:
    """Name the pushed item in a title, with a SHA-256 shortened."""
    value = push.value
    if push.item_type == "sha256":
        value = f"{value[:12]}…"
    elif len(value) > 40:
        value = f"{value[:40]}…"
    return f"{push.get_kind_display().lower()} {value}"


def item_push_start(*, user: User, request: PushRequest, dry_run: bool) -> ItemPush:
    """Record a push and queue its job. A dry run only reads each tenant.

    Raises ``ValueError`` for an invalid value or when no chosen tenant is
    one the user may act on.
    """
    item_type = "sha256" if request.kind == ItemPush.Kind.BLOCKED else request.item_type
    value = push_value_clean(
        kind=request.kind, item_type=item_type, value=request.value
    )
    comment = request.comment.strip()
    if not comment:
        raise ValueError("The comment is missing: say why the item is pushed.")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValueError(f"The comment is longer than {MAX_COMMENT_LENGTH} characters.")

    with transaction.atomic():
        push = ItemPush.objects.create(
            kind=request.kind,
            item_type=item_type,
            value=value,
            comment=comment,
            tenant_ids=[str(pk) for pk in request.tenant_ids],
            group_ids=[int(pk) for pk in request.group_ids],
            dry_run=dry_run,
            requested_by_id=_user_pk(user),
        )
        job = base.operation_start(
            kind=CREATE_KIND,
            user=user,
            parameters={"push_id": push.pk},
            dry_run=dry_run,
            title=f"Push the {item_label(push)}",
        )
        if job.total == 0:
            # Rolls back the push and the job: nothing would be sent.
            raise ValueError("Choose at least one tenant that you may change.")
        push.job = job
        push.save(update_fields=["job"])
    return push


def item_push_undo_start(*, user: User, push: ItemPush) -> Job:
    """Queue the job that deletes the items this push created.

    Raises ``ValueError`` for a dry run or a push that created nothing that
    is still there.
    """
    if push.dry_run:
        raise ValueError("A dry run created nothing, so there is nothing to undo.")
    if not item_push_undoable(push=push).exists():
        raise ValueError("This push has no created item left to delete.")
    with transaction.atomic():
        job = base.operation_start(
            kind=UNDO_KIND,
            user=user,
            parameters={"push_id": push.pk},
            title=f"Undo the push of the {item_label(push)}",
        )
        push.undo_job = job
        push.save(update_fields=["undo_job"])
    return job


def item_push_undoable(*, push: ItemPush) -> QuerySet[ItemPushTarget]:
    """Return the push's targets whose created item an undo would delete."""
    return (
        push.targets.filter(
            status__in=[
                ItemPushTarget.Status.CREATED,
                ItemPushTarget.Status.UNDO_FAILED,
            ]
        )
        .exclude(item_id="")
        .select_related("tenant")
    )


def item_pushes_visible(*, user: User) -> QuerySet[ItemPush]:
    """Return the pushes the user may read: every push for those who see
    every tenant, otherwise the user's own."""
    # Imported here: portal.access imports the models of this package.
    from portal.access import sees_every_tenant

    pushes = ItemPush.objects.select_related("job", "undo_job", "requested_by")
    if user is None or not user.is_authenticated:
        return pushes.none()
    if sees_every_tenant(user):
        return pushes
    return pushes.filter(requested_by__pk=user.pk)


def _user_pk(user: User) -> Any:
    return user.pk if user is not None and user.is_authenticated else None


# -- the jobs ----------------------------------------------------------------------


def _push_of(parameters: Mapping[str, Any]) -> ItemPush:
    return ItemPush.objects.get(pk=parameters["push_id"])


def _plan_create(request: PlanRequest) -> Iterable[ItemSpec]:
    push = _push_of(request.parameters)
    tenants = push_targets(
        tenants=request.tenants, tenant_ids=push.tenant_ids, group_ids=push.group_ids
    )
    for tenant in tenants:
        yield ItemSpec(
            target=str(tenant.pk), label=tenant.display_name, tenant_id=tenant.pk
        )


def _matches(item: ApplicationItem, push: ItemPush) -> bool:
    properties = item.properties
    if push.item_type == "sha256":
        return properties.sha256.lower() == push.value
    if item.type != push.item_type:
        return False
    if push.item_type == "path":
        return properties.path == push.value
    return properties.certificate_signer == push.value


def _existing(tenant: Tenant, push: ItemPush) -> ApplicationItem | None:
    if push.kind == ItemPush.Kind.BLOCKED:
        listing = exclusions.blocked_items_list(tenant=tenant)
    else:
        listing = exclusions.allowed_items_list(tenant=tenant)
    return next((item for item in listing.items if _matches(item, push)), None)


def _create(context: ItemContext, tenant: Tenant, push: ItemPush) -> ApplicationItem:
    properties = ItemProperties(
        sha256=push.value if push.item_type == "sha256" else "",
        path=push.value if push.item_type == "path" else "",
        certificate_signer=push.value if push.item_type == "certificateSigner" else "",
    )
    if push.kind == ItemPush.Kind.BLOCKED:
        return exclusions.blocked_item_create(
            user=context.user,
            tenant=tenant,
            properties=properties,
            comment=push.comment,
        )
    return exclusions.allowed_item_create(
        user=context.user,
        tenant=tenant,
        type=push.item_type,
        properties=properties,
        comment=push.comment,
    )


def _record(
    push: ItemPush,
    tenant: Tenant,
    status: str,
    *,
    item_id: str = "",
    message: str = "",
    correlation_id: str = "",
) -> None:
    ItemPushTarget.objects.update_or_create(
        push=push,
        tenant=tenant,
        defaults={
            "status": status,
            "item_id": item_id,
            "message": message,
            "correlation_id": correlation_id,
        },
    )


def _already_present(push: ItemPush, tenant: Tenant, item_id: str) -> ItemResult:
    message = (
        f"Already present as item {item_id}; this push did not create it, "
        "so undo leaves it."
        if item_id
        else "Already present; this push did not create it, so undo leaves it."
    )
    if not push.dry_run:
        _record(
            push,
            tenant,
            ItemPushTarget.Status.ALREADY_PRESENT,
            item_id=item_id,
            message=message,
        )
    return base.skipped(message, result_item_id=item_id)


def _root_job(job: Job) -> Job:
    while job.retry_of is not None:
        job = job.retry_of
    return job


def _push_for_item(context: ItemContext) -> ItemPush:
    """Return the push that records this item.

    The job page can run a finished dry run for real with the dry run's
    parameters. The real items of such a job are recorded on a push of
    their own, shared by its retries, so that it can be undone.
    """
    push = _push_of(context.parameters)
    if not push.dry_run or context.dry_run:
        return push
    root = _root_job(context.job)
    real, created = ItemPush.objects.get_or_create(
        job=root,
        dry_run=False,
        defaults={
            "kind": push.kind,
            "item_type": push.item_type,
            "value": push.value,
            "comment": push.comment,
            "tenant_ids": push.tenant_ids,
            "group_ids": push.group_ids,
            "requested_by_id": root.requested_by_id,
        },
    )
    if created:
        logger.info("job %s runs dry-run push %s as push %s", root.pk, push.pk, real.pk)
    return real


def _run_create(context: ItemContext) -> ItemResult:
    push = _push_for_item(context)
    tenant = context.tenant
    if tenant is None:
        return base.skipped(base.NOT_MIRRORED_MESSAGE)
    done = ItemPushTarget.objects.filter(
        push=push,
        tenant=tenant,
        status__in=[
            ItemPushTarget.Status.CREATED,
            ItemPushTarget.Status.ALREADY_PRESENT,
        ],
    ).first()
    if done is not None:
        return base.skipped(f"Already done by this push: {done.get_status_display()}.")

    try:
        existing = _existing(tenant, push)
        if existing is not None:
            return _already_present(push, tenant, existing.id)
        if context.dry_run:
            return base.would(f"add the {item_label(push)}")
        created = _create(context, tenant, push)
    except Conflict as exc:
        logger.info("push %s tenant %s: already present (%s)", push.pk, tenant.pk, exc)
        return _already_present(push, tenant, "")
    except SophosError as exc:
        if not context.dry_run:
            _record(
                push,
                tenant,
                ItemPushTarget.Status.FAILED,
                message=str(exc),
                correlation_id=exc.correlation_id,
            )
        raise

    _record(push, tenant, ItemPushTarget.Status.CREATED, item_id=created.id)
    _mirror_add(tenant, push, created)
    return base.succeeded(f"Created item {created.id}.", result_item_id=created.id)


def _plan_undo(request: PlanRequest) -> Iterable[ItemSpec]:
    push = _push_of(request.parameters)
    scope = request.tenants.values("pk")
    for target in item_push_undoable(push=push).filter(tenant__in=scope):
        yield ItemSpec(
            target=str(target.tenant_id),
            label=target.tenant.display_name,
            tenant_id=target.tenant_id,
            data={"item_id": target.item_id},
        )


def _delete(context: ItemContext, tenant: Tenant, push: ItemPush, item_id: str) -> None:
    if push.kind == ItemPush.Kind.BLOCKED:
        exclusions.blocked_item_delete(
            user=context.user, tenant=tenant, item_id=item_id
        )
    else:
        exclusions.allowed_item_delete(
            user=context.user, tenant=tenant, item_id=item_id
        )


def _run_undo(context: ItemContext) -> ItemResult:
    push = _push_of(context.parameters)
    tenant = context.tenant
    if tenant is None:
        return base.skipped(base.NOT_MIRRORED_MESSAGE)
    target = ItemPushTarget.objects.filter(push=push, tenant=tenant).first()
    if target is None or not target.undoable:
        return base.skipped("Nothing to undo: this push created no item here.")
    if context.dry_run:
        return base.would(f"delete item {target.item_id}")

    try:
        _delete(context, tenant, push, target.item_id)
    except NotFound:
        _undo_record(target, ItemPushTarget.Status.REMOVED, "Already deleted.")
        _mirror_remove(tenant, push, target.item_id)
        return base.skipped(
            f"Item {target.item_id} was already deleted in Sophos Central."
        )
    except SophosError as exc:
        _undo_record(
            target, ItemPushTarget.Status.UNDO_FAILED, str(exc), exc.correlation_id
        )
        raise
    _undo_record(target, ItemPushTarget.Status.REMOVED, "Deleted by undo.")
    _mirror_remove(tenant, push, target.item_id)
    return base.succeeded(f"Deleted item {target.item_id}.")


def _undo_record(
    target: ItemPushTarget, status: str, message: str, correlation_id: str = ""
) -> None:
    target.status = status
    target.message = message
    target.correlation_id = correlation_id
    target.save(update_fields=["status", "message", "correlation_id", "updated_at"])


# The mirror of allowed and blocked items, which cross-tenant search reads,
# follows what a push creates and deletes without waiting for a sync.


def _mirror_add(tenant: Tenant, push: ItemPush, item: ApplicationItem) -> None:
    AllowedBlockedItem.objects.update_or_create(
        tenant=tenant,
        kind=push.kind,
        item_id=item.id,
        defaults={
            "type": item.type or push.item_type,
            "sha256": item.properties.sha256.lower(),
            "path": item.properties.path,
            "file_name": item.properties.file_name,
            "certificate_signer": item.properties.certificate_signer,
            "comment": item.comment,
            "synced_at": timezone.now(),
        },
    )


def _mirror_remove(tenant: Tenant, push: ItemPush, item_id: str) -> None:
    AllowedBlockedItem.objects.filter(
        tenant=tenant, kind=push.kind, item_id=item_id
    ).delete()


base.register(
    base.BulkOperation(
        kind=CREATE_KIND,
        title="Push an item to tenants",
        plan=_plan_create,
        run_item=_run_create,
    )
)
base.register(
    base.BulkOperation(
        kind=UNDO_KIND,
        title="Undo an item push",
        plan=_plan_undo,
        run_item=_run_undo,
    )
)
