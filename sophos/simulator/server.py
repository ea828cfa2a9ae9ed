"""The simulator over HTTP: token and global APIs on one port, a port a region.

Each port runs a ``ThreadingHTTPServer`` whose handler turns the request into
a ``SimRequest`` for ``handle``, so the HTTP server and the in-process
transport return the same responses from the same stored state.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from sophos.simulator.core import handle
from sophos.simulator.hosts import REGIONS, HostMap
from sophos.simulator.http import SimRequest

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: _SimulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        try:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.send_error(413, "Request body too large")
                return
            body = self.rfile.read(length) if length else b""
            request = SimRequest(
                method=self.command,
                origin=self.server.origin,
                path=parts.path,
                headers={k: v for k, v in self.headers.items()},
                query=parse_qsl(parts.query, keep_blank_values=True),
                body=body,
            )
            sim_response = handle(request, self.server.hosts)
            self.send_response(sim_response.status)
            for name, value in sim_response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(sim_response.body)))
            self.end_headers()
            self.wfile.write(sim_response.body)
        finally:
            # Each request runs in a new thread with its own connection,
            # unless the server shares a test's connection.
            if not self.server.connections_override:
                connections.close_all()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        logger.info("%s %s", self.server.origin, format % args)


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        connections_override: dict[str, BaseDatabaseWrapper],
    ) -> None:
        super().__init__(address, _Handler)
        self.hosts = HostMap.loopback(0)
        self.connections_override = connections_override
        host, port = self.server_address[:2]
        self.origin = f"http://{host!s}:{port}"

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        for alias, connection in self.connections_override.items():
            connections[alias] = connection
        super().process_request_thread(request, client_address)


class SimulatorServer:
    """Bind one port for token and global APIs and one port per region.

    ``port=0`` binds free ports chosen by the system; otherwise region ``i``
    of ``regions`` listens on ``port + 1 + i``. ``connections_override`` makes
    every request thread use the given database connections, as Django's
    live server does, so a test's uncommitted fleet is visible to the server.
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        regions: tuple[str, ...] = REGIONS,
        connections_override: dict[str, BaseDatabaseWrapper] | None = None,
    ) -> None:
        override = connections_override or {}
        self.servers: dict[str, _SimulatorHTTPServer] = {}
        try:
            self.servers["global"] = _SimulatorHTTPServer((host, port), override)
            for index, region in enumerate(regions):
                region_port = port + 1 + index if port else 0
                self.servers[region] = _SimulatorHTTPServer(
                    (host, region_port), override
                )
        except OSError:
            for bound in self.servers.values():
                bound.server_close()
            raise
        base = self.servers["global"].origin
        self.hosts = HostMap(
            token_origin=base,
            global_origin=base,
            regions={r: self.servers[r].origin for r in regions},
        )
        for server in self.servers.values():
            server.hosts = self.hosts
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Serve every port from background threads."""
        for name, server in self.servers.items():
            # A short poll interval lets stop() return quickly for ten ports.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"simulator-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        logger.info("Simulator serving on %s", self.hosts.global_origin)

    def stop(self) -> None:
        """Stop serving, if started, and release every port."""
        for server in self.servers.values():
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        logger.info("Simulator stopped")
