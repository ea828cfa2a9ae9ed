"""Prepare the embedded demo: cache table, simulator fleet, login, first sync.

It also creates the schedules of the incremental sync and of the tamper
protection check.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from portal.env import local_secret
from sophos.models import Job, Tenant
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.notifications import tamper_check_schedule_ensure
from sophos.services.sync import sync_run, sync_schedule_ensure

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = (
        "Create the cache table, seed the embedded simulator when it is empty, "
        "create the demo owner and the simulator connection, sync the fleet "
        "the first time, and schedule the incremental sync. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from sophos.simulator.seed import fleet_is_seeded, seed_fleet

        call_command("createcachetable", verbosity=0)
        if not fleet_is_seeded():
            self.stdout.write("Seeding the simulator's demo fleet...")
            seed_fleet(
                seed=settings.SIMULATOR_SEED,
                tenants=settings.SIMULATOR_TENANTS,
                max_endpoints=settings.SIMULATOR_MAX_ENDPOINTS,
            )

        password = local_secret(settings.DATA_DIR / "demo_password", nbytes=12)
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"is_staff": True, "is_superuser": True},
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()

        connection = demo_connection_ensure()
        if not Tenant.objects.filter(last_synced_at__isnull=False).exists():
            self.stdout.write("Syncing the demo fleet for the first time...")
            job = job_create(
                kind="sync",
                title="First sync of the demo fleet",
                user=user,
                parameters={"connection_id": connection.pk},
            )
            job = sync_run(job_id=job.pk, inline=True)
            self.stdout.write(f"First sync: {job.get_status_display()}.")
        else:
            queued = Job.objects.filter(status=Job.Status.QUEUED).count()
            self.stdout.write(f"Fleet already synced; {queued} jobs queued.")

        schedule = sync_schedule_ensure()
        self.stdout.write(
            f"Incremental sync scheduled every {schedule.minutes} minutes."
        )
        check = tamper_check_schedule_ensure()
        self.stdout.write(
            f"Tamper protection check scheduled every {check.minutes} minutes."
        )

        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:{os.environ.get('PORTAL_PORT', '8000')}/ "
                f"as {DEMO_USERNAME!r} "
                f"with password {password!r}"
            )
        )
