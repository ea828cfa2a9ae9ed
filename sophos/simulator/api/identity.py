"""The OAuth2 token endpoint and whoami."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

from sophos.simulator import faults
from sophos.simulator.auth import find_refresh_credential, issue_tokens
from sophos.simulator.hosts import TOKEN_PATH
from sophos.simulator.http import SimRequest, SimResponse, json_response
from sophos.simulator.models import SimCredential, SimTenant
from sophos.simulator.routing import Call, router


def _oauth_error(status: int, code: str, message: str) -> SimResponse:
    """Build the token service's own error body, unlike the APIs' one."""
    body = {"errorCode": code, "message": message, "trackingId": str(uuid.uuid4())}
    return json_response(status, body)


def _form(request: SimRequest) -> dict[str, str]:
    content_type = (request.header("Content-Type") or "").lower()
    text = request.body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            loaded: Any = json.loads(text or "{}")
        except json.JSONDecodeError:
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {str(k): str(v) for k, v in loaded.items()}
    return dict(parse_qsl(text, keep_blank_values=True))


@router.route("POST", TOKEN_PATH, "token")
def token(call: Call) -> SimResponse:
    form = _form(call.request)
    grant = form.get("grant_type", "")
    if grant == "refresh_token":
        credential = find_refresh_credential(form.get("refresh_token", ""))
        if credential is None:
            # NOTE/sophos-api: the error code for a bad refresh token is unverified.
            return _oauth_error(401, "oauth.invalid_refresh_token", "Unauthorized")
    elif grant == "client_credentials":
        credential = SimCredential.objects.filter(
            client_id=form.get("client_id", "")
        ).first()
        if credential is None:
            return _oauth_error(401, "oauth.invalid_client_id", "Unauthorized")
        if credential.client_secret != form.get("client_secret", ""):
            return _oauth_error(401, "oauth.invalid_client_secret", "Unauthorized")
    else:
        # NOTE/sophos-api: status and code for an unsupported grant are unverified.
        return _oauth_error(
            400, "oauth.unsupported_grant_type", "Unsupported grant_type"
        )
    if not credential.enabled:
        return _oauth_error(401, "oauth.client_disabled", "Unauthorized")

    lifetime = faults.token_lifetime(call.settings)
    access, refresh = issue_tokens(credential, lifetime)
    return json_response(
        200,
        {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "message": "OK",
            "errorCode": "success",
            "expires_in": lifetime,
            "trackingId": str(uuid.uuid4()),
        },
    )


@router.route("GET", "/whoami/v1", "identity")
def whoami(call: Call) -> SimResponse:
    credential = call.require_credential()
    hosts: dict[str, str] = {"global": call.hosts.global_origin}
    if credential.id_type == SimCredential.IdType.TENANT:
        tenant = SimTenant.objects.filter(id=credential.principal_id).first()
        if tenant is not None:
            hosts["dataRegion"] = call.hosts.region_origin(tenant.data_region)
    return json_response(
        200,
        {
            "id": credential.principal_id,
            "idType": credential.id_type,
            "apiHosts": hosts,
        },
    )
