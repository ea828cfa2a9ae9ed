"""Routes: (method, path pattern) to a handler, with the scope each needs.

A scope names the host that serves the route and the ID header it requires:

* ``token``: the token host, no bearer token.
* ``identity``: the global host, a bearer token and no ID header (whoami).
* ``partner``: the global host, a bearer token and ``X-Partner-ID``.
* ``organization``: the global host, a bearer token and ``X-Organization-ID``.
* ``tenant``: the tenant's regional host, a bearer token and ``X-Tenant-ID``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sophos.simulator.hosts import HostMap, HostRoles
from sophos.simulator.http import ApiError, SimRequest, SimResponse
from sophos.simulator.models import (
    SimCredential,
    SimPartner,
    SimSettings,
    SimTenant,
)

Scope = Literal["token", "identity", "partner", "organization", "tenant"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class Call:
    """A routed request with everything its handler needs."""

    request: SimRequest
    hosts: HostMap
    roles: HostRoles
    settings: SimSettings
    params: dict[str, str] = field(default_factory=dict)
    credential: SimCredential | None = None
    partner: SimPartner | None = None
    tenant: SimTenant | None = None

    def require_tenant(self) -> SimTenant:
        if self.tenant is None:
            raise RuntimeError("a tenant-scoped handler ran without a tenant")
        return self.tenant

    def require_partner(self) -> SimPartner:
        if self.partner is None:
            raise RuntimeError("a partner-scoped handler ran without a partner")
        return self.partner

    def require_credential(self) -> SimCredential:
        if self.credential is None:
            raise RuntimeError("an authenticated handler ran without a credential")
        return self.credential


Handler = Callable[[Call], SimResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    scope: Scope
    handler: Handler
    regex: re.Pattern[str]

    @property
    def rank(self) -> tuple[int, ...]:
        """Order routes so that a literal segment beats a placeholder.

        ``/partner/v1/roles/permission-sets`` must not be read as a role id,
        so among matching routes the one with a literal further left wins.
        """
        return tuple(
            1 if segment.startswith("{") else 0
            for segment in self.pattern.strip("/").split("/")
        )

    def serves(self, roles: HostRoles) -> bool:
        if self.scope == "token":
            return roles.token
        if self.scope == "tenant":
            return roles.region is not None
        return roles.global_api


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``/a/{name}/b`` so that ``{name}`` matches one path segment."""
    parts: list[str] = []
    position = 0
    for placeholder in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[position : placeholder.start()]))
        parts.append(f"(?P<{placeholder.group(1)}>[^/]+)")
        position = placeholder.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("^" + "".join(parts) + "/?$")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, scope: Scope, handler: Handler) -> None:
        """Register a handler; a second handler for one route is rejected."""
        method = method.upper()
        if self.has(method, pattern):
            raise ValueError(f"route {method} {pattern} is already registered")
        self.routes.append(
            Route(method, pattern, scope, handler, compile_pattern(pattern))
        )
        self.routes.sort(key=lambda route: route.rank)

    def has(self, method: str, pattern: str) -> bool:
        return any(
            r.method == method.upper() and r.pattern == pattern for r in self.routes
        )

    def route(
        self, method: str, pattern: str, scope: Scope
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of a route."""

        def register(handler: Handler) -> Handler:
            self.add(method, pattern, scope, handler)
            return handler

        return register

    def match(
        self, method: str, path: str, roles: HostRoles
    ) -> tuple[Route, dict[str, str]]:
        """Return the route for a request, or raise 404 or 405."""
        path_matched = False
        for candidate in self.routes:
            found = candidate.regex.match(path)
            if found is None or not candidate.serves(roles):
                continue
            path_matched = True
            if candidate.method == method:
                return candidate, found.groupdict()
        if path_matched:
            raise ApiError(405, f"Method {method} is not allowed on {path}.")
        raise ApiError(404, f"No API at {path} on this host.")


router = Router()
