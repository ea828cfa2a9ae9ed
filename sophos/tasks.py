"""django-q2 entry points: each takes ids and calls one service."""

from __future__ import annotations

import logging

from sophos.services.sync import sync_run

logger = logging.getLogger(__name__)


def sync_run_task(job_id: int) -> str:
    logger.info("task sync_run job=%s", job_id)
    job = sync_run(job_id=job_id)
    return str(job.status)


def alerts_bulk_action_run_task(job_id: int) -> str:
    from sophos.services.alerts import alerts_bulk_action_run

    logger.info("task alerts_bulk_action_run job=%s", job_id)
    job = alerts_bulk_action_run(job_id=job_id)
    return str(job.status)
