"""django-q2 entry points of the tenant name pages: each takes ids."""

from __future__ import annotations

import logging

from sophos.client import background_calls
from sophos.services.tenants import tenants_rename_run

logger = logging.getLogger(__name__)


@background_calls()
def tenants_rename_run_task(job_id: int) -> str:
    logger.info("task tenants_rename_run job=%s", job_id)
    job = tenants_rename_run(job_id=job_id)
    return str(job.status)
