"""Billing months: fetched from Sophos on demand and kept in tables.

A month is closed once the next month has begun in every time zone. Sophos
does not change its usage after that, so a closed month is fetched once and
never requested again. The open month is kept as well, marked incomplete,
and fetched again when its copy is older than ``BILLING_OPEN_MONTH_MAX_AGE``
seconds, when it has closed since, or when a user asks for fresh figures.

The billing page reads a month's totals, one page of tenant totals and, on
demand, one tenant's products, so it costs the same for 10 tenants as for
1,000. Missing months of the trend chart are fetched by a job, one item per
month.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone
from django_q.tasks import async_task

from portal.partner.models import (
    ACCOUNT_ID_MAX_LENGTH,
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    BillingMonth,
    BillingTenantTotal,
    BillingUsage,
)
from sophos.errors import InvalidResponse, NotFound, SophosError
from sophos.models import Connection, Job, JobItem
from sophos.services import billing, jobs
from sophos.services.billing import BillingReport
from sophos.services.partner_api import NoPartnerConnection, partner_connection

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None

FETCH_JOB_KIND = "billing_months_fetch"
# The months the billing pages show and fetch. The last one leaves room for a
# link to the next month.
FIRST_MONTH = dt.date(2000, 1, 1)
LAST_MONTH = dt.date(9998, 12, 1)
TREND_MONTHS = 12
BATCH_SIZE = 500

# The name a tenant row shows: the mirrored tenant's current name (the
# customer name mapped in the portal first), else the name Sophos reported.
SHOWN_NAME = Coalesce(
    NullIf(F("tenant__customer_name"), Value("")),
    NullIf(F("tenant__show_as"), Value("")),
    NullIf(F("tenant__name"), Value("")),
    F("account_name"),
)

# Sort keys of the tenant totals. The account id breaks ties, so two pages
# never share a row.
TENANT_SORTS = {
    "name": (Lower("shown_name").asc(), F("account_id").asc()),
    "-name": (Lower("shown_name").desc(), F("account_id").desc()),
    "products": (F("products").asc(), F("account_id").asc()),
    "-products": (F("products").desc(), F("account_id").asc()),
    "billable": (F("billable_quantity").asc(), F("account_id").asc()),
    "-billable": (F("billable_quantity").desc(), F("account_id").asc()),
    "actual": (F("actual_quantity").asc(), F("account_id").asc()),
    "-actual": (F("actual_quantity").desc(), F("account_id").asc()),
}


@dataclass(frozen=True)
class TrendPoint:
    """One month of the trend chart; ``total`` is None for a month not kept."""

    year: int
    month: int
    total: int | None
    complete: bool = True
    # False for a month Sophos reported no usage for; its total is 0.
    has_usage: bool = True

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# NOTE/sophos-api: the time zone of Sophos billing months is undocumented. A
# month counts as closed once it has ended in every time zone, UTC-12 being the
# last, so it is never kept as final while Sophos may still count usage in it.
LAST_TIME_ZONE = dt.timezone(dt.timedelta(hours=-12))


def month_closed(year: int, month: int, *, now: dt.datetime | None = None) -> bool:
    """Return whether the month has ended in every time zone, so its usage no
    longer changes."""
    today = (now or timezone.now()).astimezone(LAST_TIME_ZONE).date()
    return dt.date(year, month, 1) < today.replace(day=1)


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


def month_outdated(kept: BillingMonth, *, now: dt.datetime | None = None) -> bool:
    """Return whether a kept month should be fetched again.

    A month fetched after it closed is final. A month fetched while open is
    outdated once it has closed or its copy is older than the configured age.
    """
    if kept.complete:
        return False
    if month_closed(kept.year, kept.month):
        return True
    age = (now or timezone.now()) - kept.fetched_at
    return age > dt.timedelta(seconds=settings.BILLING_OPEN_MONTH_MAX_AGE)


def billing_month_kept(*, year: int, month: int) -> BillingMonth | None:
    """Return the month as kept, without asking Sophos, or None."""
    return BillingMonth.objects.filter(
        connection=_connection(), year=year, month=month, has_usage=True
    ).first()


def billing_month_get(*, year: int, month: int, refresh: bool = False) -> BillingMonth:
    """Return the kept month, fetching it from Sophos when needed.

    ``refresh`` fetches an open month again however recent its copy is; a
    closed month is never fetched twice. Raises ``NotFound`` for a month
    without usage and ``NoPartnerConnection`` without a partner credential.
    """
    connection = partner_connection()
    kept = BillingMonth.objects.filter(
        connection=connection, year=year, month=month
    ).first()
    if kept is not None and (kept.complete or not (refresh or month_outdated(kept))):
        if not kept.has_usage:
            raise NotFound(
                f"Sophos Central reported no billing usage for {year}-{month:02d}.",
                status=404,
            )
        return kept

    # Whether the month had closed is decided before the fetch: figures read
    # while it was open stay incomplete even if it closes during the fetch.
    closed = month_closed(year, month)
    try:
        report = billing.billing_usage(year=year, month=month, connection=connection)
    except NotFound:
        if closed:
            _keep_no_usage(connection, year=year, month=month)
        raise
    _check_account_ids(report)
    return _keep(connection, report, replacing=kept, complete=closed)


def _keep_no_usage(connection: Connection, *, year: int, month: int) -> None:
    """Record that Sophos reported no usage for a closed month, so the chart
    stops offering to fetch it."""
    with transaction.atomic():
        kept = (
            BillingMonth.objects.select_for_update()
            .filter(connection=connection, year=year, month=month)
            .first()
        )
        if kept is not None:
            if kept.has_usage:
                # A copy with usage, kept while the month was open, stays.
                return
        else:
            try:
                with transaction.atomic():
                    BillingMonth.objects.create(
                        connection=connection,
                        year=year,
                        month=month,
                        complete=True,
                        has_usage=False,
                    )
            except IntegrityError:
                # Another request recorded the same month first.
                pass
    logger.info("billing month %04d-%02d has no usage", year, month)


def _check_account_ids(report: BillingReport) -> None:
    """Raise ``InvalidResponse`` for an account id too long to keep.

    Cutting it to fit could give two accounts the same id, so the month is
    not kept at all.
    """
    for total in report.totals_by_tenant:
        if len(total.tenant_id) > ACCOUNT_ID_MAX_LENGTH:
            raise InvalidResponse(
                f"Sophos Central returned billing usage for "
                f"{report.year}-{report.month:02d} with an account id longer than "
                f"{ACCOUNT_ID_MAX_LENGTH} characters ({total.tenant_id[:80]!r}), "
                "so it cannot be kept. Report the reply to Sophos support."
            )


def _tenant_id(account_id: str) -> uuid.UUID | None:
    """Return the account id as a tenant id, or None when it is no UUID."""
    try:
        return uuid.UUID(account_id)
    except ValueError:
        return None


def _replace(replacing: BillingMonth, values: dict[str, Any]) -> BillingMonth | None:
    """Empty the kept month and set its new totals, or return None if it is gone.

    The month keeps its id, so a page that read it just before reads the new
    rows, not an empty table. A second refresh waits for this one, on the row
    lock in PostgreSQL or for the write transaction in SQLite, and then
    replaces its rows in turn.
    """
    kept = BillingMonth.objects.select_for_update().filter(pk=replacing.pk).first()
    if kept is None:
        return None
    BillingUsage.objects.filter(billing_month=kept).delete()
    BillingTenantTotal.objects.filter(billing_month=kept).delete()
    for name, value in values.items():
        setattr(kept, name, value)
    kept.fetched_at = timezone.now()
    kept.save()
    return kept


def _keep(
    connection: Connection,
    report: BillingReport,
    *,
    replacing: BillingMonth | None,
    complete: bool,
) -> BillingMonth:
    """Store a fetched month, replacing an older copy in one transaction."""
    values = {
        "complete": complete,
        "billable_total": report.billable_total,
        "actual_total": sum(row.actual_quantity for row in report.rows),
        "tenant_count": len(report.totals_by_tenant),
        "row_count": len(report.rows),
        "product_totals": [list(item) for item in report.totals_by_product],
    }
    try:
        with transaction.atomic():
            kept = _replace(replacing, values) if replacing is not None else None
            if kept is None:
                kept = BillingMonth.objects.create(
                    connection=connection,
                    year=report.year,
                    month=report.month,
                    **values,
                )
            BillingTenantTotal.objects.bulk_create(
                (
                    BillingTenantTotal(
                        billing_month=kept,
                        account_id=total.tenant_id,
                        account_name=total.tenant_name[:NAME_MAX_LENGTH],
                        tenant_id=_tenant_id(total.tenant_id),
                        products=total.products,
                        billable_quantity=total.billable_quantity,
                        actual_quantity=total.actual_quantity,
                    )
                    for total in report.totals_by_tenant
                ),
                batch_size=BATCH_SIZE,
            )
            BillingUsage.objects.bulk_create(
                (
                    BillingUsage(
                        billing_month=kept,
                        account_id=row.tenant_id,
                        account_name=row.tenant_name[:NAME_MAX_LENGTH],
                        tenant_id=_tenant_id(row.tenant_id),
                        product_code=row.product_code[:CODE_MAX_LENGTH],
                        product_description=row.product_description[:NAME_MAX_LENGTH],
                        product_group=row.product_group[:CODE_MAX_LENGTH],
                        sku=row.sku[:CODE_MAX_LENGTH],
                        billable_quantity=row.billable_quantity,
                        actual_quantity=row.actual_quantity,
                    )
                    for row in report.rows
                ),
                batch_size=BATCH_SIZE,
            )
    except IntegrityError:
        # Another request stored the same month first, from the same Sophos data.
        logger.info(
            "billing month %04d-%02d was kept already", report.year, report.month
        )
        return BillingMonth.objects.get(
            connection=connection, year=report.year, month=report.month
        )
    logger.info(
        "billing month %04d-%02d kept with %s rows",
        report.year,
        report.month,
        len(report.rows),
    )
    return kept


def tenant_totals(
    kept: BillingMonth, *, search: str = "", sort: str = "name"
) -> QuerySet[BillingTenantTotal]:
    """Return the month's tenant totals, each with its ``shown_name``.

    ``search`` keeps the tenants whose shown name or account id contains it;
    ``sort`` is a key of ``TENANT_SORTS`` (name when unknown).
    """
    totals = kept.tenant_totals.annotate(shown_name=SHOWN_NAME)
    if search:
        totals = totals.filter(
            Q(shown_name__icontains=search) | Q(account_id__icontains=search)
        )
    return totals.order_by(*TENANT_SORTS.get(sort, TENANT_SORTS["name"]))


def tenant_total(kept: BillingMonth, account_id: str) -> BillingTenantTotal | None:
    """Return one tenant's total in the month, with its ``shown_name``."""
    return (
        kept.tenant_totals.annotate(shown_name=SHOWN_NAME)
        .filter(account_id=account_id)
        .first()
    )


def tenant_usage(kept: BillingMonth, account_id: str) -> list[BillingUsage]:
    """Return one tenant's usage rows in the month, sorted by product."""
    return list(kept.usage.filter(account_id=account_id).order_by("product_code", "pk"))


def usage_rows(kept: BillingMonth) -> Iterable[BillingUsage]:
    """Yield every usage row of the month by tenant name, each with its
    ``shown_name``, reading them in batches."""
    return (
        kept.usage.annotate(shown_name=SHOWN_NAME)
        .order_by(Lower("shown_name"), "account_id", "product_code", "pk")
        .iterator(chunk_size=1000)
    )


def billing_trend(*, year: int, month: int) -> list[TrendPoint]:
    """Return the billable totals of the twelve months ending with year/month.

    The totals come from the kept months only. A month not kept has no total,
    and without a partner connection no month is kept.
    """
    months = months_ending(year, month)
    kept = {
        (row["year"], row["month"]): row
        for row in BillingMonth.objects.filter(
            connection=_connection(),
            year__gte=months[0].year,
            year__lte=months[-1].year,
        ).values("year", "month", "billable_total", "complete", "has_usage")
    }
    points = []
    for first in months:
        row = kept.get((first.year, first.month))
        points.append(
            TrendPoint(
                year=first.year,
                month=first.month,
                total=None if row is None else row["billable_total"],
                complete=True if row is None else row["complete"],
                has_usage=True if row is None else row["has_usage"],
            )
        )
    return points


def missing_months(points: Iterable[TrendPoint]) -> list[TrendPoint]:
    """Return the closed months of a trend that are not kept, or were kept
    before they closed."""
    return [
        point
        for point in points
        if (point.total is None or not point.complete)
        and month_closed(point.year, point.month)
        and point.first_day >= FIRST_MONTH
    ]


def billing_months_fetch_start(*, user: User, months: Iterable[TrendPoint]) -> Job:
    """Queue a job that fetches and keeps each month, after commit.

    An unfinished job of the same user that fetches every one of the months
    is returned instead, so a second click starts no second job.
    """
    chosen = list(months)
    unfinished = _unfinished_fetch_job(user, {point.key for point in chosen})
    if unfinished is not None:
        return unfinished
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


def _unfinished_fetch_job(user: User, keys: set[str]) -> Job | None:
    """Return the user's unfinished fetch job that covers every month key.

    A job older than the task timeout is ignored, as its task has been
    stopped even if the job was never marked finished.
    """
    if user is None or not user.is_authenticated:
        return None
    timeout = settings.Q_CLUSTER["timeout"]
    assert isinstance(timeout, int)
    alive_since = timezone.now() - dt.timedelta(seconds=timeout)
    candidates = Job.objects.filter(
        kind=FETCH_JOB_KIND,
        requested_by__pk=user.pk,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        created_at__gte=alive_since,
    ).order_by("-pk")
    for job in candidates:
        if keys <= set(job.items.values_list("target", flat=True)):
            return job
    return None


def billing_months_fetch_run(*, job_id: int) -> Job:
    """Fetch each month of the job; a month without usage is skipped.

    A job that is not queued any more (cancelled before it ran, or started by
    an earlier delivery of the task) is finished if it can be, and otherwise
    returned unchanged.
    """
    job = Job.objects.get(pk=job_id)
    if not jobs.job_start(job=job):
        logger.warning("billing job %s is %s, so it is not run", job.pk, job.status)
        return jobs.job_finish_when_done(job_id=job.pk) or job

    try:
        _fetch_items(job)
    except Exception as exc:
        # A bug, not a Sophos error. The open items fail with the message.
        logger.exception("billing job %s stopped with an internal error", job.pk)
        return jobs.job_finish(job=job, error=f"Internal error: {exc}")
    return jobs.job_finish(job=job)


def _fetch_items(job: Job) -> None:
    for item in job.items.filter(status=JobItem.Status.QUEUED).order_by("pk"):
        job.refresh_from_db(fields=["status"])
        if job.status == Job.Status.CANCELLED:
            break
        if not jobs.job_item_start(item=item):
            continue
        year, month = (int(part) for part in item.target.split("-"))
        try:
            kept = billing_month_get(year=year, month=month)
        except NotFound:
            jobs.job_item_skip(item=item, message="Sophos Central has no usage.")
        except SophosError as exc:
            logger.warning("billing month %s fetch failed: %s", item.target, exc)
            jobs.job_item_fail(item=item, error=exc)
        else:
            jobs.job_item_succeed(
                item=item, message=f"{kept.billable_total} billable units."
            )
