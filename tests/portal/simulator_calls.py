"""Helpers for page tests: make the simulator reject one route, record writes.

``reject`` replies to one method and path pattern with a Sophos error body, built
by the simulator's own ``error_response``, so pages meet the same JSON, status
and correlation id a real rejection carries. ``record_writes`` lists every
non-GET request that reaches the simulator, ``record_requests`` every URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import httpx
import pytest

from sophos.simulator.http import error_response
from sophos.simulator.transport import SimulatorTransport


@dataclass
class Rejection:
    """The rejections sent, with their correlation ids."""

    correlation_ids: list[str] = field(default_factory=list)

    @property
    def correlation_id(self) -> str:
        assert self.correlation_ids, "the rejected route was never called"
        return self.correlation_ids[-1]


def reject(
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path_pattern: str,
    status: int,
    message: str,
) -> Rejection:
    """Reply to ``method`` requests whose path matches ``path_pattern`` (a regular
    expression searched in the path) with ``status`` and ``message``."""
    sent = Rejection()
    real_handle = SimulatorTransport.handle_request
    pattern = re.compile(path_pattern)

    def handle(self: SimulatorTransport, request: httpx.Request) -> httpx.Response:
        if request.method == method and pattern.search(request.url.path):
            reply = error_response(status, message)
            sent.correlation_ids.append(json.loads(reply.body)["correlationId"])
            return httpx.Response(
                reply.status, headers=reply.headers, content=reply.body, request=request
            )
        return real_handle(self, request)

    monkeypatch.setattr(SimulatorTransport, "handle_request", handle)
    return sent


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[httpx.URL]:
    """Return a list that gets the URL of every request to the simulator."""
    urls: list[httpx.URL] = []
    real_handle = SimulatorTransport.handle_request

    def handle(self: SimulatorTransport, request: httpx.Request) -> httpx.Response:
        urls.append(request.url)
        return real_handle(self, request)

    monkeypatch.setattr(SimulatorTransport, "handle_request", handle)
    return urls


def record_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return a list that gets "METHOD path" of every write to the simulator."""
    writes: list[str] = []
    real_handle = SimulatorTransport.handle_request

    def handle(self: SimulatorTransport, request: httpx.Request) -> httpx.Response:
        token = request.url.path.endswith("/oauth2/token")
        if request.method not in {"GET", "HEAD"} and not token:
            writes.append(f"{request.method} {request.url.path}")
        return real_handle(self, request)

    monkeypatch.setattr(SimulatorTransport, "handle_request", handle)
    return writes
