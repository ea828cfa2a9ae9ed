"""Billing months: fetched from Sophos on demand and kept once closed.

A month is closed once the next month has begun. Sophos does not change its
usage after that, so the portal keeps its rows in ``BillingMonth`` and never
requests it again. The open month is always read live. Missing months of the
trend chart are fetched by a job, one item per month.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from portal.partner.models import BillingMonth
from sophos.errors import NotFound, SophosError
from sophos.models import Connection, Job, JobItem
from sophos.services import billing, jobs
from sophos.services.billing import BillingReport
from sophos.services.partner_api import NoPartnerConnection, partner_connection

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None

FETCH_JOB_KIND = "billing_months_fetch"
TREND_MONTHS = 12


@dataclass(frozen=True)
class TrendPoint:
    """One month of the trend chart; ``total`` is None for a month not kept."""

    year: int
    month: int
    total: int | None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_closed(year: int, month: int, *, today: dt.date | None = None) -> bool:
    """Return whether the month has ended, so its usage no longer changes."""
    current = (today or timezone.localdate()).replace(day=1)
    return dt.date(year, month, 1) < current


def months_ending(year: int, month: int, count: int = TREND_MONTHS) -> list[dt.date]:
    """Return the first days of ``count`` months ending with year/month."""
    months = []
    first = dt.date(year, month, 1)
    for _ in range(count):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def _connection() -> Connection | None:
    """Return the partner connection whose months are kept, if there is one."""
    try:
        return partner_connection()
    except NoPartnerConnection:
        return None


def _report_from_kept(kept: BillingMonth) -> BillingReport:
    names = billing.tenant_names()
    rows = []
    for data in kept.rows:
        row = billing.row_from_dict(data)
        current = names.get(row.tenant_id)
        if current and current != row.tenant_name:
            row = billing.BillingRow(**{**row.__dict__, "tenant_name": current})
        rows.append(row)
    return billing.billing_report(year=kept.year, month=kept.month, rows=rows)


def billing_month_report(*, year: int, month: int) -> BillingReport:
    """Return a month's report, from the kept copy when there is one.

    Raises ``NotFound`` for a month without usage and ``NoPartnerConnection``
    without a partner credential.
    """
    connection = _connection()
    if connection is not None:
        kept = BillingMonth.objects.filter(
            connection=connection, year=year, month=month
        ).first()
        if kept is not None:
            return _report_from_kept(kept)

    report = billing.billing_usage(year=year, month=month)
    if connection is not None and month_closed(year, month):
        _keep(connection.pk, report)
    return report


def _keep(connection_id: int, report: BillingReport) -> None:
    try:
        with transaction.atomic():
            BillingMonth.objects.create(
                connection_id=connection_id,
                year=report.year,
                month=report.month,
                rows=[billing.row_to_dict(row) for row in report.rows],
            )
    except IntegrityError:
        # Another request kept the same month first; its rows are the same.
        logger.info(
            "billing month %04d-%02d was kept already", report.year, report.month
        )
    else:
        logger.info(
            "billing month %04d-%02d kept with %s rows",
            report.year,
            report.month,
            len(report.rows),
        )


def billing_trend(*, year: int, month: int) -> list[TrendPoint]:
    """Return the billable totals of the twelve months ending with year/month.

    The totals come from the kept months only. A month not kept has no total,
    and without a partner connection no month is kept.
    """
    months = months_ending(year, month)
    kept = {
        (row.year, row.month): row
        for row in BillingMonth.objects.filter(
            connection=_connection(),
            year__gte=months[0].year,
            year__lte=months[-1].year,
        )
    }
    points = []
    for first in months:
        row = kept.get((first.year, first.month))
        total = None
        if row is not None:
            total = sum(
                billing.row_from_dict(data).billable_quantity for data in row.rows
            )
        points.append(TrendPoint(year=first.year, month=first.month, total=total))
    return points


def missing_months(points: Iterable[TrendPoint]) -> list[TrendPoint]:
    """Return the closed months of a trend that are not kept yet."""
    return [
        point
        for point in points
        if point.total is None and month_closed(point.year, point.month)
    ]


def billing_months_fetch_start(*, user: User, months: Iterable[TrendPoint]) -> Job:
    """Queue a job that fetches and keeps each month, after commit."""
    chosen = list(months)
    title = f"Fetch {len(chosen)} billing month(s)"
    job = jobs.job_create(
        kind=FETCH_JOB_KIND,
        title=title,
        user=user,
        items=[
            jobs.ItemSpec(target=point.key, label=point.first_day.strftime("%B %Y"))
            for point in chosen
        ],
    )
    transaction.on_commit(
        lambda: async_task(
            "portal.partner.tasks.billing_months_fetch_task", job.pk, task_name=title
        )
    )
    return job


def billing_months_fetch_run(*, job_id: int) -> Job:
    """Fetch each month of the job; a month without usage is skipped."""
    job = Job.objects.get(pk=job_id)
    jobs.job_start(job=job)
    for item in job.items.filter(status=JobItem.Status.QUEUED).order_by("pk"):
        job.refresh_from_db(fields=["status"])
        if job.status == Job.Status.CANCELLED:
            break
        jobs.job_item_start(item=item)
        year, month = (int(part) for part in item.target.split("-"))
        try:
            report = billing_month_report(year=year, month=month)
        except NotFound:
            jobs.job_item_skip(item=item, message="Sophos Central has no usage.")
        except SophosError as exc:
            logger.warning("billing month %s fetch failed: %s", item.target, exc)
            jobs.job_item_fail(item=item, error=exc)
        else:
            jobs.job_item_succeed(
                item=item, message=f"{report.billable_total} billable units."
            )
    return jobs.job_finish(job=job)
