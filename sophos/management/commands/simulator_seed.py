"""``manage.py simulator_seed``: wipe the simulator and seed a new fleet."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import seed_fleet


class Command(BaseCommand):
    help = (
        "Delete the simulator's state and seed a deterministic demo fleet. "
        "Defaults come from SIMULATOR_SEED, SIMULATOR_TENANTS and "
        "SIMULATOR_MAX_ENDPOINTS."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed of the fleet."
        )
        parser.add_argument(
            "--tenants", type=int, default=None, help="Number of partner tenants."
        )
        parser.add_argument(
            "--max-endpoints",
            type=int,
            default=None,
            help="Largest number of endpoints a tenant gets.",
        )
        parser.add_argument(
            "--endpoints-per-tenant",
            type=int,
            default=None,
            help="Give every tenant exactly this many endpoints.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = _pick(options["seed"], settings.SIMULATOR_SEED)
        tenants = _pick(options["tenants"], settings.SIMULATOR_TENANTS)
        max_endpoints = _pick(
            options["max_endpoints"], settings.SIMULATOR_MAX_ENDPOINTS
        )
        per_tenant = options["endpoints_per_tenant"]
        for name, value in (
            ("--tenants", tenants),
            ("--max-endpoints", max_endpoints),
            ("--endpoints-per-tenant", per_tenant),
        ):
            if value is not None and value < 0:
                raise CommandError(f"{name} {value} is invalid: use 0 or more.")

        credential = seed_fleet(
            seed=seed,
            tenants=tenants,
            max_endpoints=max_endpoints,
            endpoints_per_tenant=per_tenant,
        )
        self.stdout.write(
            f"Seeded {SimTenant.objects.count()} tenants and "
            f"{SimObject.objects.filter(kind=ENDPOINT_KIND).count()} endpoints "
            f"(seed {seed})."
        )
        self.stdout.write(f"SOPHOS_CLIENT_ID={credential.client_id}")
        self.stdout.write(f"SOPHOS_CLIENT_SECRET={credential.client_secret}")


def _pick(value: int | None, default: int) -> int:
    return default if value is None else value
