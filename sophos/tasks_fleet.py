"""django-q2 entry points of the fleet operations: each takes ids."""

from __future__ import annotations

import logging

from sophos.client import background_calls

logger = logging.getLogger(__name__)


@background_calls()
def fleet_job_run_task(job_id: int) -> str:
    from sophos.services.fleet_ops.base import job_run

    logger.info("task fleet_job_run job=%s", job_id)
    job = job_run(job_id=job_id)
    return str(job.status)


@background_calls()
def tamper_protection_check_task() -> str:
    from sophos.services.notifications import tamper_protection_check

    result = tamper_protection_check()
    logger.info("task tamper_protection_check items=%s", len(result.items))
    return str(len(result.items))
