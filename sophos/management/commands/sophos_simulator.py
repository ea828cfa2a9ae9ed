"""``manage.py sophos_simulator``: serve the simulator over HTTP on loopback."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sophos.simulator.seed import DemoCredential, ensure_seeded
from sophos.simulator.server import SimulatorServer


def describe(server: SimulatorServer, credential: DemoCredential) -> list[str]:
    """Return the lines that tell a client where and how to connect."""
    lines = [f"SOPHOS_TOKEN_URL={server.hosts.token_url}"]
    lines.append(f"SOPHOS_GLOBAL_URL={server.hosts.global_origin}")
    lines.append(f"SOPHOS_CLIENT_ID={credential.client_id}")
    lines.append(f"SOPHOS_CLIENT_SECRET={credential.client_secret}")
    for region, origin in server.hosts.regions.items():
        lines.append(f"region {region}: {origin}")
    return lines


class Command(BaseCommand):
    help = (
        "Serve the Sophos Central simulator: token and global APIs on --port, "
        "region i on --port + 1 + i. Seeds the demo fleet first when the "
        "store is empty."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8700, help="Port of the token and global APIs."
        )
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address to bind; the default keeps the simulator on loopback.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 0 < port < 65_000:
            raise CommandError(f"--port {port} is invalid: use 1 to 64999.")
        credential = ensure_seeded()
        try:
            server = SimulatorServer(port, host=options["host"])
        except OSError as exc:
            raise CommandError(
                f"Cannot bind ports {port} and up on {options['host']}: {exc}"
            ) from exc
        for line in describe(server, credential):
            self.stdout.write(line)
        self.stdout.flush()
        server.start()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the simulator.")
        finally:
            server.stop()
