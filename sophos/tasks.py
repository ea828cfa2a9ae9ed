"""django-q2 entry points: each takes ids and calls one service."""

from __future__ import annotations

import logging

from sophos.client import background_calls
from sophos.services.sync import sync_item_run, sync_run, sync_scheduled

logger = logging.getLogger(__name__)


@background_calls()
def sync_run_task(job_id: int) -> str:
    logger.info("task sync_run job=%s", job_id)
    job = sync_run(job_id=job_id)
    return str(job.status)


@background_calls()
def sync_item_task(item_id: int) -> str:
    logger.info("task sync_item_run item=%s", item_id)
    item = sync_item_run(item_id=item_id)
    return str(item.status)


@background_calls()
def sync_scheduled_task() -> str:
    job = sync_scheduled()
    logger.info("task sync_scheduled job=%s", job.pk if job else "-")
    return str(job.pk) if job else "skipped"


@background_calls()
def alerts_bulk_action_run_task(job_id: int) -> str:
    from sophos.services.alerts import alerts_bulk_action_run

    logger.info("task alerts_bulk_action_run job=%s", job_id)
    job = alerts_bulk_action_run(job_id=job_id)
    return str(job.status)
