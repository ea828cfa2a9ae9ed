"""Endpoint migration jobs between tenants.

The receiving tenant creates a job and gets a token; the sending tenant
starts the job with that token and the endpoint ids. Both sides see the job
under the same id, so it is stored once per tenant.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sophos.simulator import clock, store
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.resources import json_body
from sophos.simulator.http import ApiError, SimResponse, json_response
from sophos.simulator.models import SimObject
from sophos.simulator.routing import Call, router

MIGRATION_KIND = "endpoint/v1/migrations"
MIGRATION_ENDPOINTS_KIND = "endpoint/v1/migrations/{migrationJobId}/endpoints"
# NOTE/sophos-api: the lifetime of a migration token is taken from Sophos's
# example (created to expires is seven days).
TOKEN_LIFETIME = timedelta(days=7)


def _endpoint_ids(body: dict[str, Any]) -> list[str]:
    raw = body["endpoints"]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "Invalid endpoints: send a list of endpoint ids.")
    return [str(item) for item in raw]


def _store_endpoints(tenant_id: str, job_id: str, endpoint_ids: list[str]) -> None:
    for endpoint_id in endpoint_ids:
        if store.find(MIGRATION_ENDPOINTS_KIND, tenant_id, endpoint_id, job_id):
            continue
        store.create(
            MIGRATION_ENDPOINTS_KIND,
            tenant_id,
            endpoint_id,
            {"id": endpoint_id, "status": "pending"},
            parent_id=job_id,
        )


@router.route("POST", "/endpoint/v1/migrations", "tenant")
def migration_create(call: Call) -> SimResponse:
    body = json_body(call, required=("fromTenant", "endpoints"))
    tenant = call.require_tenant()
    moment = clock.now()
    job_id = str(uuid.uuid4())
    job: dict[str, Any] = {
        "id": job_id,
        "token": secrets.token_urlsafe(48),
        "mode": "receiving",
        "fromTenant": {"id": str(body["fromTenant"])},
        "createdAt": clock.isoformat(moment),
        "expiresAt": clock.isoformat(moment + TOKEN_LIFETIME),
    }
    store.create(MIGRATION_KIND, tenant.id, job_id, job)
    _store_endpoints(tenant.id, job_id, _endpoint_ids(body))
    return json_response(201, job)


@router.route("PUT", "/endpoint/v1/migrations/{migrationJobId}", "tenant")
def migration_start(call: Call) -> SimResponse:
    body = json_body(call, required=("token", "endpoints"))
    job_id = call.params["migrationJobId"]
    receiving = SimObject.objects.filter(
        kind=MIGRATION_KIND, object_id=job_id, data__token=body["token"]
    ).first()
    if receiving is None:
        raise ApiError(404, f"Migration job {job_id} not found for this token.")
    if receiving.data["expiresAt"] <= clock.now_iso():
        raise ApiError(400, f"The token of migration job {job_id} has expired.")

    tenant = call.require_tenant()
    endpoint_ids = _endpoint_ids(body)
    missing = [
        endpoint_id
        for endpoint_id in endpoint_ids
        if store.find(ENDPOINT_KIND, tenant.id, endpoint_id) is None
    ]
    if missing:
        raise ApiError(400, f"Unknown endpoints in this tenant: {', '.join(missing)}.")
    job = {**receiving.data, "mode": "sending"}
    if store.find(MIGRATION_KIND, tenant.id, job_id) is None:
        store.create(MIGRATION_KIND, tenant.id, job_id, job)
    _store_endpoints(tenant.id, job_id, endpoint_ids)
    return json_response(200, job)
