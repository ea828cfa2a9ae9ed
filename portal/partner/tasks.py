"""django-q2 entry points of the partner pages."""

from __future__ import annotations

import logging

from portal.partner.billing import billing_months_fetch_run

logger = logging.getLogger(__name__)


def billing_months_fetch_task(job_id: int) -> str:
    logger.info("task billing_months_fetch_run job=%s", job_id)
    return str(billing_months_fetch_run(job_id=job_id).status)
