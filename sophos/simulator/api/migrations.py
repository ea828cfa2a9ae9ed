"""Endpoint migration jobs between tenants.

The receiving tenant creates a job that names the sending tenant and the
endpoints, and gets a token. The sending tenant starts the job with that
token. Both sides see the job under the same id, so it is stored once per
tenant. Starting the job moves the endpoints at once, so they leave the
sending tenant's endpoint list and join the receiving tenant's.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction

from sophos.simulator import clock, store, validation
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.routing import Call, router

MIGRATION_KIND = "endpoint/v1/migrations"
MIGRATION_ENDPOINTS_KIND = "endpoint/v1/migrations/{migrationJobId}/endpoints"
# NOTE/sophos-api: the lifetime of a migration token is taken from Sophos's
# example (created to expires is seven days).
TOKEN_LIFETIME = timedelta(days=7)


def _endpoint_ids(body: dict[str, Any]) -> list[str]:
    ids = validation.id_list(body, "endpoints")
    if not ids:
        raise validation.invalid("endpoints", "send at least one endpoint id.")
    return ids


def _store_endpoints(
    tenant_id: str, job_id: str, endpoint_ids: list[str], status: str
) -> None:
    for endpoint_id in endpoint_ids:
        row = store.find(MIGRATION_ENDPOINTS_KIND, tenant_id, endpoint_id, job_id)
        if row is not None:
            store.merge(row, {"status": status})
            continue
        store.create(
            MIGRATION_ENDPOINTS_KIND,
            tenant_id,
            endpoint_id,
            {"id": endpoint_id, "status": status},
            parent_id=job_id,
        )


def _unknown_endpoints(tenant_id: str, endpoint_ids: list[str]) -> list[str]:
    return [
        endpoint_id
        for endpoint_id in endpoint_ids
        if store.find(ENDPOINT_KIND, tenant_id, endpoint_id) is None
    ]


@router.route("POST", "/endpoint/v1/migrations", "tenant")
def migration_create(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    body = json_body(call)
    from_id = validation.text(body, "fromTenant")
    sender = SimTenant.objects.filter(id=from_id, partner_id=tenant.partner_id).first()
    if sender is None or sender.id == tenant.id:
        raise validation.invalid(
            "fromTenant", f"{from_id} is not another tenant of this partner."
        )
    endpoint_ids = _endpoint_ids(body)
    unknown = _unknown_endpoints(sender.id, endpoint_ids)
    if unknown:
        raise validation.invalid(
            "endpoints", f"tenant {sender.id} has no endpoint {', '.join(unknown)}."
        )
    moment = clock.now()
    job_id = str(uuid.uuid4())
    job: dict[str, Any] = {
        "id": job_id,
        "token": secrets.token_urlsafe(48),
        "mode": "receiving",
        "fromTenant": {"id": sender.id},
        "createdAt": clock.isoformat(moment),
        "expiresAt": clock.isoformat(moment + TOKEN_LIFETIME),
    }
    store.create(MIGRATION_KIND, tenant.id, job_id, job)
    _store_endpoints(tenant.id, job_id, endpoint_ids, "pending")
    return json_response(201, job)


@router.route("PUT", "/endpoint/v1/migrations/{migrationJobId}", "tenant")
def migration_start(call: Call) -> SimResponse:
    tenant = call.require_tenant()
    body = json_body(call)
    token = validation.text(body, "token")
    endpoint_ids = _endpoint_ids(body)
    job_id = call.params["migrationJobId"]
    receiving = SimObject.objects.filter(
        kind=MIGRATION_KIND, object_id=job_id, data__mode="receiving"
    ).first()
    if receiving is None:
        raise ApiError(404, f"Migration job {job_id} not found.")
    if not secrets.compare_digest(str(receiving.data["token"]), token):
        raise validation.invalid("token", f"it does not belong to job {job_id}.")
    if receiving.data["fromTenant"]["id"] != tenant.id:
        raise validation.invalid(
            "token",
            f"job {job_id} receives from tenant {receiving.data['fromTenant']['id']}.",
        )
    # NOTE/sophos-api: Sophos's collection shows 201 when the sending job is
    # created and 200 when it already exists. The operation catalog documents
    # 200, so both cases return 200 here.
    existing = store.find(MIGRATION_KIND, tenant.id, job_id)
    if existing is not None:
        return json_response(200, existing.data)
    if receiving.data["expiresAt"] <= clock.now_iso():
        raise validation.invalid("token", f"the token of job {job_id} has expired.")
    expected = set(
        store.listed(MIGRATION_ENDPOINTS_KIND, receiving.scope_id, job_id).values_list(
            "object_id", flat=True
        )
    )
    outside = [
        endpoint_id for endpoint_id in endpoint_ids if endpoint_id not in expected
    ]
    if outside:
        raise validation.invalid(
            "endpoints", f"job {job_id} does not receive {', '.join(outside)}."
        )
    unknown = _unknown_endpoints(tenant.id, endpoint_ids)
    if unknown:
        raise validation.invalid(
            "endpoints", f"this tenant has no endpoint {', '.join(unknown)}."
        )

    with transaction.atomic():
        job = {**receiving.data, "mode": "sending"}
        store.create(MIGRATION_KIND, tenant.id, job_id, job)
        _move_endpoints(tenant.id, receiving.scope_id, endpoint_ids)
        _store_endpoints(tenant.id, job_id, endpoint_ids, "succeeded")
        _store_endpoints(receiving.scope_id, job_id, endpoint_ids, "succeeded")
    return json_response(200, job)


def _move_endpoints(from_id: str, to_id: str, endpoint_ids: list[str]) -> None:
    """Move endpoints to another tenant, after that tenant's last endpoint."""
    for endpoint_id in endpoint_ids:
        row = store.find(ENDPOINT_KIND, from_id, endpoint_id)
        if row is None:
            continue
        data = {**row.data, "tenant": {"id": to_id}}
        # The endpoint leaves its group, which belongs to the sending tenant.
        data.pop("group", None)
        row.delete()
        store.create(ENDPOINT_KIND, to_id, endpoint_id, data)
