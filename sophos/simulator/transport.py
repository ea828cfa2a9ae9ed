"""An httpx transport that serves Sophos Central's host names in-process."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx

from sophos.simulator.core import handle
from sophos.simulator.hosts import HostMap, normalize_origin
from sophos.simulator.http import SimRequest


@dataclass(frozen=True)
class RecordedCall:
    method: str
    url: str
    status: int


class SimulatorTransport(httpx.BaseTransport):
    """Serve requests to the simulator's hosts; raise ConnectError for others.

    No request leaves the process. With ``record=True`` every handled
    request is appended to ``calls``.
    """

    def __init__(self, hosts: HostMap | None = None, *, record: bool = False) -> None:
        self.hosts = hosts or HostMap.real()
        self.record = record
        self.calls: list[RecordedCall] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = normalize_origin(str(request.url))
        if self.hosts.roles(origin) is None:
            raise httpx.ConnectError(
                f"The Sophos Central simulator does not serve {origin}; it serves "
                f"{', '.join(self.hosts.origins())}.",
                request=request,
            )
        query = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
        sim_request = SimRequest(
            method=request.method,
            origin=origin,
            path=request.url.path,
            headers=dict(request.headers),
            query=query,
            body=request.read(),
        )
        sim_response = handle(sim_request, self.hosts)
        if self.record:
            self.calls.append(
                RecordedCall(request.method, str(request.url), sim_response.status)
            )
        return httpx.Response(
            sim_response.status,
            headers=sim_response.headers,
            content=sim_response.body,
            request=request,
        )
