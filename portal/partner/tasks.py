"""django-q2 entry points of the partner pages."""

from __future__ import annotations

import logging

from portal.partner.billing import billing_months_fetch_run
from sophos.client import background_calls

logger = logging.getLogger(__name__)


@background_calls()
def billing_months_fetch_task(job_id: int) -> str:
    logger.info("task billing_months_fetch_run job=%s", job_id)
    return str(billing_months_fetch_run(job_id=job_id).status)
