"""The transport-independent request handler: ``handle(request)``."""

from __future__ import annotations

import logging

from sophos.simulator import api, faults
from sophos.simulator.auth import authenticate
from sophos.simulator.hosts import HostMap
from sophos.simulator.http import ApiError, SimRequest, SimResponse, error_response
from sophos.simulator.models import SimCredential, SimPartner, SimTenant
from sophos.simulator.routing import Call, router

logger = logging.getLogger(__name__)

# Importing the handler modules registers their routes.
ROUTE_MODULES = api.MODULES

_REAL_HOSTS = HostMap.real()


def handle(request: SimRequest, hosts: HostMap | None = None) -> SimResponse:
    """Handle one request as Sophos Central would, from the stored state.

    ``hosts`` maps the token, global and regional hosts to origins. The
    default is the real Sophos host names.
    """
    hosts = hosts or _REAL_HOSTS
    roles = hosts.roles(request.origin)
    if roles is None:
        return error_response(404, f"{request.origin} is not a simulator host.")
    current = faults.get_settings()
    try:
        route, params = router.match(request.method, request.path, roles)
        faults.inject_random_faults(current)
        call = Call(request, hosts, roles, current, params)
        if route.scope != "token":
            call.credential = authenticate(request)
            faults.count_call(current, call.credential.client_id)
        if route.scope in {"partner", "organization"}:
            call.partner = _resolve_partner(call, route.scope)
        elif route.scope == "tenant":
            call.tenant = _resolve_tenant(call)
        response = route.handler(call)
    except ApiError as exc:
        response = exc.response()
    except Exception:
        logger.exception(
            "Simulator handler failed: %s %s", request.method, request.path
        )
        response = error_response(500, "Internal Server Error.")
    logger.debug(
        "%s %s%s -> %s", request.method, request.origin, request.path, response.status
    )
    return faults.maybe_malform(current, response)


def _resolve_partner(call: Call, scope: str) -> SimPartner:
    header = "X-Partner-ID" if scope == "partner" else "X-Organization-ID"
    credential = call.require_credential()
    requested = call.request.header(header)
    if not requested:
        # NOTE/sophos-api: Sophos lists a missing ID header under 401
        # troubleshooting without saying which status it sends.
        raise ApiError(401, f"Missing {header} header.")
    if credential.id_type != scope or credential.principal_id != requested:
        raise ApiError(403, f"This credential may not act for {header} {requested}.")
    partner = SimPartner.objects.filter(id=requested, kind=scope).first()
    if partner is None:
        raise ApiError(403, f"This credential may not act for {header} {requested}.")
    return partner


def _resolve_tenant(call: Call) -> SimTenant:
    credential = call.require_credential()
    requested = call.request.header("X-Tenant-ID")
    if not requested:
        # NOTE/sophos-api: the status for a missing X-Tenant-ID is unverified.
        raise ApiError(401, "Missing X-Tenant-ID header.")
    tenant = SimTenant.objects.select_related("partner").filter(id=requested).first()
    # NOTE/sophos-api: an unknown tenant id gets 403 like a tenant of
    # another partner, so the response does not reveal which ids exist.
    if tenant is None or not _may_manage(credential, tenant):
        raise ApiError(403, f"This credential may not manage tenant {requested}.")
    if tenant.id in call.settings.forbidden_tenant_ids:
        raise ApiError(403, f"Access to tenant {requested} is denied.")
    if call.roles.region != tenant.data_region:
        # NOTE/sophos-api: the status for a tenant called on another region's
        # host is unverified. 403 makes clients stop rather than retry.
        raise ApiError(
            403,
            f"Tenant {requested} is served by region {tenant.data_region}, "
            f"not {call.roles.region}: use the tenant's apiHost.",
        )
    return tenant


def _may_manage(credential: SimCredential, tenant: SimTenant) -> bool:
    if credential.id_type == SimCredential.IdType.TENANT:
        return credential.principal_id == tenant.id
    return credential.principal_id == tenant.partner_id
