"""django-q2 entry points for the long actions of the tenant category pages.

Each takes a job id, runs its service and returns the job's final status.
"""

from __future__ import annotations

import logging

from sophos.client import background_calls

logger = logging.getLogger(__name__)


@background_calls()
def firmware_upgrade_job_run_task(job_id: int) -> str:
    from sophos.services.firewalls import firmware_upgrade_job_run

    logger.info("task firmware_upgrade_job_run job=%s", job_id)
    return str(firmware_upgrade_job_run(job_id=job_id).status)


@background_calls()
def migration_job_run_task(job_id: int) -> str:
    from sophos.services.migrations import migration_job_run

    logger.info("task migration_job_run job=%s", job_id)
    return str(migration_job_run(job_id=job_id).status)
