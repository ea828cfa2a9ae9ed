"""Benchmark the sync and the mirror's pages at the pace of the Sophos API.

Run ``make bench`` or ``.venv/bin/python scripts/bench.py --help``. The run
seeds the embedded simulator with a fleet (1,000 tenants of 100 endpoints by
default) in a new SQLite file under a temporary directory, so it never
touches the portal's own data, and it ignores DATABASE_URL and REDIS_URL.

Rate limits are on in the simulator and in the client's shared limiter. The
simulator, the limiter and the client's retry waits run on one simulated
clock (``sophos.simulator.clock.ScaledClock``) that runs ``--speed`` times
faster than real time. The script prints Markdown:

- a full sync, then an incremental one: API calls against the minimum, 429
  responses, simulated sync time against the rate-limit floor, and the time
  the portal and the simulator spent working;
- server time (p50, p95) and SQL queries of the main pages, measured with
  Django's test client over the mirror of the whole fleet;
- peak memory of a full sync (tracemalloc) for several fleet shapes, each
  run in a child process of its own;
- each target, met or missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Settings that would send the benchmark to the user's own database or cache.
FOREIGN_SETTINGS = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "SQLITE_PATH",
)

SEED = 1
DEEP_ROWS = 20_000
CALL_KINDS = (
    "token",
    "whoami",
    "tenants",
    "endpoints",
    "alerts",
    "allowed and blocked items",
    "global tamper protection",
    "other",
)
# Lists a full pass reads besides endpoints and alerts, by catalog name.
FULL_PASS_LISTS = ("allowed_items_list", "blocked_items_list")

# The targets the run is checked against.
FLOOR_MARGIN = 1.10
PAGE_P95_MS = 50.0
MEMORY_MARGIN = 1.25

MemoryRun = tuple[int, int, dict[str, float]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tenants", type=int, default=1000, help="tenants in the fleet (1000)"
    )
    parser.add_argument(
        "--endpoints", type=int, default=100, help="endpoints a tenant (100)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=5.0,
        help="how many times faster than real time the simulated clock runs (5)",
    )
    parser.add_argument(
        "--requests", type=int, default=50, help="requests timed per page (50)"
    )
    parser.add_argument(
        "--memory-tenants", type=int, default=10, help="tenants a memory run (10)"
    )
    parser.add_argument(
        "--memory-endpoints",
        default="100,300,1000,3000",
        help="endpoints a tenant in the memory runs, comma-separated",
    )
    parser.add_argument(
        "--skip-memory", action="store_true", help="leave out the memory runs"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary data directory"
    )
    parser.add_argument("--memory-probe", nargs=2, type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def configure_environment(data_dir: Path) -> None:
    """Point the settings at a private SQLite file, then start Django."""
    for name in FOREIGN_SETTINGS:
        os.environ.pop(name, None)
    os.environ["PORTAL_MODE"] = "embedded"
    os.environ["PORTAL_DATA_DIR"] = str(data_dir)
    os.environ["SQLITE_PATH"] = str(data_dir / "bench.sqlite3")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


# -- counting what the client sends ------------------------------------------


def call_kind(path: str) -> str:
    if path.endswith("/oauth2/token"):
        return "token"
    if path.startswith("/whoami/"):
        return "whoami"
    if path.endswith("/v1/tenants"):
        return "tenants"
    if path.startswith("/endpoint/v1/endpoints"):
        return "endpoints"
    if path.startswith("/common/v1/alerts"):
        return "alerts"
    if path.endswith(("/allowed-items", "/blocked-items")):
        return "allowed and blocked items"
    if path == "/endpoint/v1/settings/tamper-protection":
        return "global tamper protection"
    return "other"


class CountingTransport(httpx.BaseTransport):
    """Count each request by kind, and the 429 responses, then pass it on."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        counts: Counter[str],
        simulated: SimulatedTime | None,
    ) -> None:
        self.inner = inner
        self.counts = counts
        self.simulated = simulated

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        kind = call_kind(request.url.path)
        self.counts[kind] += 1
        if kind == "token" and self.simulated is not None:
            self.simulated.token_fetched_at = self.simulated.now()
        if response.status_code == 429:
            self.counts["429"] += 1
        return response


def sum_calls(counts: Counter[str]) -> int:
    return sum(counts[kind] for kind in CALL_KINDS)


def api_calls(counts: Counter[str]) -> int:
    """Count the calls the rate limit counts: all but token requests."""
    return sum_calls(counts) - counts["token"]


@dataclass
class SimulatedTime:
    """The one clock of the simulator, the limiter and the client's waits."""

    speed: float
    slept: float = 0.0
    # When the client last fetched a token, in simulated seconds.
    token_fetched_at: float | None = None
    clock: Any = field(init=False)

    def __post_init__(self) -> None:
        from sophos.simulator.clock import ScaledClock, set_clock

        self.clock = ScaledClock(self.speed)
        set_clock(self.clock)

    def now(self) -> float:
        return float(self.clock.now().timestamp())

    def sleep(self, seconds: float) -> None:
        self.slept += max(seconds, 0.0)
        self.clock.sleep(seconds)

    def wait_for_next_minute(self) -> None:
        self.sleep(60 - self.now() % 60)


def client_factory(
    counts: Counter[str], simulated: SimulatedTime | None
) -> Callable[[Any], Any]:
    """Return a ``client_for`` that counts calls and runs on the simulated clock.

    Without ``simulated`` the client has no rate limiter and runs on real time.
    """
    from django.conf import settings

    from sophos.client import NoRateLimit, SophosClient
    from sophos.crypto import decrypt_secret
    from sophos.shared_state import CacheRateLimiter, CacheTokenStore
    from sophos.simulator.transport import SimulatorTransport

    def build(connection: Any) -> SophosClient:
        transport = CountingTransport(SimulatorTransport(), counts, simulated)
        secret = decrypt_secret(connection.secret_encrypted)
        if simulated is None:
            return SophosClient(
                client_id=connection.client_id,
                client_secret=secret,
                transport=transport,
                token_store=CacheTokenStore(),
                rate_limiter=NoRateLimit(),
            )
        return SophosClient(
            client_id=connection.client_id,
            client_secret=secret,
            transport=transport,
            max_retries=settings.SOPHOS_MAX_RETRIES,
            token_store=CacheTokenStore(clock=simulated.now),
            rate_limiter=CacheRateLimiter(
                per_minute=settings.SOPHOS_CALLS_PER_MINUTE,
                per_day=settings.SOPHOS_CALLS_PER_DAY,
                clock=simulated.now,
                sleep=simulated.sleep,
            ),
            clock=simulated.now,
            sleep=simulated.sleep,
        )

    return build


# -- the fleet and the minimum number of calls -------------------------------


def seed(tenants: int, endpoints: int) -> Any:
    """Seed the simulator and return the portal's connection to it."""
    from sophos.services.connections import demo_connection_ensure
    from sophos.simulator.seed import seed_fleet

    seed_fleet(
        seed=SEED,
        tenants=tenants,
        max_endpoints=endpoints,
        endpoints_per_tenant=endpoints,
    )
    return demo_connection_ensure()


def minimum_calls() -> tuple[Counter[str], Counter[str]]:
    """Count the calls a full and an incremental sync need, at maximum page sizes.

    One token, one whoami (the client learns the partner id from it), the
    pages of the tenant list, and for each tenant at least one page of
    endpoints and one of alerts, even when a list is empty. A full pass also
    reads the allowed and blocked items (a page each at least) and the
    global tamper protection setting. An incremental sync finds no changes,
    so it needs one page of endpoints and one of alerts a tenant. The tokens
    a sync needs depend on how long it runs (``tokens_needed``).
    """
    from django.db.models import Count

    from sophos import catalog
    from sophos.client import MAX_PAGE_SIZE
    from sophos.simulator import store
    from sophos.simulator.api.alerts import ALERT_KIND
    from sophos.simulator.api.endpoints import ENDPOINT_KIND
    from sophos.simulator.models import SimObject, SimTenant
    from sophos.simulator.seed import demo_credential

    partner_id = demo_credential().partner_id
    tenant_ids = list(
        SimTenant.objects.filter(partner_id=partner_id).values_list("id", flat=True)
    )
    endpoint_size = MAX_PAGE_SIZE["/endpoint/v1/endpoints"]
    alert_size = MAX_PAGE_SIZE["/common/v1/alerts"]
    tenant_size = MAX_PAGE_SIZE["/partner/v1/tenants"]
    endpoints = dict(
        SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id__in=tenant_ids)
        .values_list("scope_id")
        .annotate(count=Count("pk"))
    )

    full: Counter[str] = Counter(
        whoami=1, tenants=max(1, math.ceil(len(tenant_ids) / tenant_size))
    )
    for tenant_id in tenant_ids:
        endpoint_pages = math.ceil(endpoints.get(tenant_id, 0) / endpoint_size)
        alerts = store.listed(ALERT_KIND, tenant_id).count()
        full["endpoints"] += max(1, endpoint_pages)
        full["alerts"] += max(1, math.ceil(alerts / alert_size))
        for name in FULL_PASS_LISTS:
            operation = catalog.get(name)
            items = store.listed(operation.path.lstrip("/"), tenant_id).count()
            pages = math.ceil(items / (operation.max_page_size or 50))
            full["allowed and blocked items"] += max(1, pages)
        full["global tamper protection"] += 1

    incremental: Counter[str] = Counter(
        whoami=1,
        tenants=full["tenants"],
        endpoints=len(tenant_ids),
        alerts=len(tenant_ids),
    )
    return full, incremental


def tokens_needed(valid_until: float | None, start: float, end: float) -> int:
    """Count the token requests that cover a sync from ``start`` to ``end``.

    A token is used until TOKEN_RENEW_MARGIN_SECONDS before it expires, and
    ``valid_until`` is that moment for the token cached at the start.
    """
    from sophos.client import TOKEN_RENEW_MARGIN_SECONDS
    from sophos.simulator.faults import get_settings, token_lifetime

    usable = token_lifetime(get_settings()) - TOKEN_RENEW_MARGIN_SECONDS
    needed = 0
    covered = valid_until if valid_until is not None else start
    if covered <= start:
        needed, covered = 1, start + usable
    while covered < end:
        needed, covered = needed + 1, covered + usable
    return needed


def token_valid_until(simulated: SimulatedTime) -> float | None:
    from sophos.client import TOKEN_RENEW_MARGIN_SECONDS
    from sophos.simulator.faults import get_settings, token_lifetime

    if simulated.token_fetched_at is None:
        return None
    lifetime = token_lifetime(get_settings())
    return simulated.token_fetched_at + lifetime - TOKEN_RENEW_MARGIN_SECONDS


# -- the syncs -----------------------------------------------------------------


@dataclass
class SyncResult:
    name: str
    minimum: Counter[str]
    counts: Counter[str]
    simulated_seconds: float
    real_seconds: float
    waited_real_seconds: float
    cpu_seconds: float
    job_status: str
    items_failed: int

    @property
    def working_seconds(self) -> float:
        return self.real_seconds - self.waited_real_seconds

    def floor_seconds(self, per_minute: int) -> float:
        return api_calls(self.minimum) / per_minute * 60


def run_sync(
    name: str,
    simulated: SimulatedTime | None,
    minimum: Counter[str],
    *,
    incremental: bool,
) -> SyncResult:
    """Run a sync job inline, starting at a window boundary, and measure it."""
    from sophos.models import JobItem
    from sophos.services import sync
    from sophos.services.jobs import job_create

    counts: Counter[str] = Counter()
    parameters: dict[str, object] = {"mode": "incremental"} if incremental else {}
    job = job_create(kind="sync", title=name, user=None, parameters=parameters)
    valid_until = None
    if simulated is not None:
        simulated.wait_for_next_minute()
        valid_until = token_valid_until(simulated)
    slept_before = simulated.slept if simulated else 0.0
    started_simulated = simulated.now() if simulated else 0.0
    started_cpu = time.process_time()
    started = time.perf_counter()

    with mock.patch.object(sync, "client_for", client_factory(counts, simulated)):
        job = sync.sync_run(job_id=job.pk, inline=True)

    real = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    if simulated is None:
        simulated_seconds, waited = real, 0.0
    else:
        simulated_seconds = simulated.now() - started_simulated
        waited = (simulated.slept - slept_before) / simulated.speed
        minimum = minimum.copy()
        minimum["token"] = tokens_needed(
            valid_until, started_simulated, simulated.now()
        )
    failed = job.items.filter(status=JobItem.Status.FAILED).count()
    return SyncResult(
        name=name,
        minimum=minimum,
        counts=counts,
        simulated_seconds=simulated_seconds,
        real_seconds=real,
        waited_real_seconds=waited,
        cpu_seconds=cpu,
        job_status=job.status,
        items_failed=failed,
    )


def sync_table(results: list[SyncResult], per_minute: int, speed: float) -> list[str]:
    lines = [
        "| | " + " | ".join(r.name for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row(
        "calls made / minimum",
        [f"{sum_calls(r.counts):,} / {sum_calls(r.minimum):,}" for r in results],
    )
    for kind in CALL_KINDS:
        row(
            f"&nbsp;&nbsp;{kind}",
            [f"{r.counts[kind]:,} / {r.minimum[kind]:,}" for r in results],
        )
    row("429 responses", [f"{r.counts['429']:,}" for r in results])
    row("job", [f"{r.job_status}, {r.items_failed} items failed" for r in results])
    row("sync time, simulated", [f"{r.simulated_seconds:,.0f} s" for r in results])
    row(
        f"rate-limit floor: minimum calls but the token / {per_minute} a minute",
        [f"{r.floor_seconds(per_minute):,.0f} s" for r in results],
    )
    row(
        "sync time / floor",
        [f"{r.simulated_seconds / r.floor_seconds(per_minute):.3f}" for r in results],
    )
    row(f"real time at x{speed:g}", [f"{r.real_seconds:,.0f} s" for r in results])
    row(
        "real time working, not waiting for the limiter",
        [f"{r.working_seconds:,.0f} s" for r in results],
    )
    row(
        f"working time a call, real (a call's share at the limit: "
        f"{60_000 / per_minute:,.0f} ms)",
        [f"{1000 * r.working_seconds / sum_calls(r.counts):,.0f} ms" for r in results],
    )
    row(
        "CPU time a call, portal and simulator",
        [f"{1000 * r.cpu_seconds / sum_calls(r.counts):,.0f} ms" for r in results],
    )
    return lines


# -- memory ---------------------------------------------------------------------


def memory_probe(tenants: int, endpoints: int) -> dict[str, float]:
    """Seed a fleet and return the peak traced memory of one full sync."""
    from django.core.cache import cache

    seed(tenants, endpoints)
    cache.clear()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = run_sync("memory", None, Counter(), incremental=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "peak_mib": peak / 2**20,
        "maxrss_mib": max_rss_mib(),
        "calls": sum_calls(result.counts),
    }


def memory_runs(args: argparse.Namespace) -> list[MemoryRun]:
    sizes = [int(n) for n in args.memory_endpoints.split(",") if n.strip()]
    shapes = [(args.memory_tenants, size) for size in sizes]
    shapes.append((args.memory_tenants * 3, sizes[0]))
    runs = []
    for tenants, endpoints in shapes:
        command = [sys.executable, __file__, "--memory-probe", str(tenants)]
        command.append(str(endpoints))
        output = subprocess.run(  # noqa: S603
            command, check=True, capture_output=True, text=True
        ).stdout
        runs.append((tenants, endpoints, json.loads(output.strip().splitlines()[-1])))
    return runs


def memory_table(runs: list[MemoryRun]) -> list[str]:
    lines = [
        "| tenants | endpoints a tenant | endpoints in the fleet | API calls "
        "| peak traced memory of the sync | max RSS of the process |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for tenants, endpoints, probe in runs:
        lines.append(
            f"| {tenants:,} | {endpoints:,} | {tenants * endpoints:,} "
            f"| {probe['calls']:,.0f} | {probe['peak_mib']:.1f} MiB "
            f"| {probe['maxrss_mib']:.0f} MiB |"
        )
    return lines


def max_rss_mib() -> float:
    """Return this process's peak resident memory.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child started by a large
    parent would report the parent's peak; ``VmHWM`` starts afresh.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- pages ----------------------------------------------------------------------


def add_deep_tenant(connection: Any) -> Any:
    """Add a mirror-only tenant with DEEP_ROWS endpoints and as many alerts.

    It shows what the first and the last page of a very long list cost.
    """
    from django.utils import timezone

    from sophos.models import Alert, Endpoint, Tenant

    now = timezone.now()
    tenant = Tenant.objects.create(
        id=uuid.uuid4(),
        connection=connection,
        name="Deep Lists Bench Ltd",
        api_host="https://api-eu01.central.sophos.com",
        endpoints_total=DEEP_ROWS,
        endpoints_good=DEEP_ROWS,
        alerts_high=DEEP_ROWS,
        sync_status=Tenant.SyncStatus.OK,
        last_synced_at=now,
    )
    endpoints = (
        Endpoint(
            id=uuid.uuid4(),
            tenant=tenant,
            hostname=f"deep-{number:06d}",
            type="computer",
            health="good",
            synced_at=now,
        )
        for number in range(DEEP_ROWS)
    )
    Endpoint.objects.bulk_create(endpoints, batch_size=1000)
    alerts = (
        Alert(
            id=uuid.uuid4(),
            tenant=tenant,
            severity="high",
            category=f"category-{number % 7}",
            raised_at=now - dt.timedelta(seconds=number),
            synced_at=now,
        )
        for number in range(DEEP_ROWS)
    )
    Alert.objects.bulk_create(alerts, batch_size=1000)
    return tenant


def last_page_url(client: Any, url: str) -> str:
    """Follow the pagination's "Next" links to the last page."""
    for _ in range(DEEP_ROWS):
        html = client.get(url).content.decode()
        found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        if not found:
            return url
        url = url.split("?")[0] + found.group(1).replace("&amp;", "&")
    raise RuntimeError(f"{url} still has a next page after {DEEP_ROWS} pages")


@dataclass
class PageResult:
    name: str
    status: int
    queries: int
    p50_ms: float
    p95_ms: float
    cpu_p95_ms: float


def time_page(client: Any, name: str, url: str, requests: int) -> PageResult:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Read it now: the next request clears the connection's query log.
    query_count = len(queries)

    durations, cpu = [], []
    for _ in range(requests):
        started_cpu = time.process_time()
        started = time.perf_counter()
        client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return PageResult(
        name=name,
        status=response.status_code,
        queries=query_count,
        p50_ms=statistics.median(durations),
        p95_ms=percentile_95(durations),
        cpu_p95_ms=percentile_95(cpu),
    )


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def page_results(connection: Any, requests: int) -> list[PageResult]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from sophos.models import Tenant

    deep = add_deep_tenant(connection)
    typical = Tenant.objects.exclude(pk=deep.pk).order_by("name").first()
    assert typical is not None
    # The client logs in with force_login, so nobody needs the password.
    user = get_user_model().objects.create_superuser("bench", password=uuid.uuid4().hex)
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    deep_endpoints = reverse("tenant_endpoints", args=[deep.pk])
    deep_alerts = reverse("tenant_alerts", args=[deep.pk])
    pages = [
        ("fleet overview", reverse("fleet")),
        ("fleet overview, by open alerts", reverse("fleet") + "?sort=-alerts"),
        ("fleet overview, last page", reverse("fleet") + "?page=21"),
        ("endpoints of a tenant", reverse("tenant_endpoints", args=[typical.pk])),
        (f"endpoints, {DEEP_ROWS:,} rows, first page", deep_endpoints),
        (
            f"endpoints, {DEEP_ROWS:,} rows, last page",
            last_page_url(client, deep_endpoints),
        ),
        ("alerts of a tenant", reverse("tenant_alerts", args=[typical.pk])),
        (f"alerts, {DEEP_ROWS:,} rows, first page", deep_alerts),
        (
            f"alerts, {DEEP_ROWS:,} rows, last page",
            last_page_url(client, deep_alerts),
        ),
        (
            "billing, last month (kept after the first request)",
            reverse("billing_month", args=[month.year, month.month]),
        ),
        (
            "billing, last page of tenants by billable units",
            reverse("billing_month", args=[month.year, month.month])
            + "?sort=-billable&page=20",
        ),
        (
            "billing products of a tenant",
            reverse(
                "billing_tenant_usage",
                args=[month.year, month.month, str(typical.pk)],
            ),
        ),
    ]
    return [time_page(client, name, url, requests) for name, url in pages]


def pages_table(results: list[PageResult]) -> list[str]:
    lines = [
        "| page | status | SQL queries | p50 | p95 | CPU p95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.status} | {result.queries} "
            f"| {result.p50_ms:.1f} ms | {result.p95_ms:.1f} ms "
            f"| {result.cpu_p95_ms:.1f} ms |"
        )
    return lines


# -- targets --------------------------------------------------------------------


def targets_table(
    syncs: list[SyncResult],
    per_minute: int,
    pages: list[PageResult],
    memory: list[MemoryRun],
) -> list[str]:
    ratios = [s.simulated_seconds / s.floor_seconds(per_minute) for s in syncs]
    checks = [
        (
            "calls made == minimum",
            all(sum_calls(s.counts) == sum_calls(s.minimum) for s in syncs),
            ", ".join(
                f"{s.name} {sum_calls(s.counts):,} / {sum_calls(s.minimum):,}"
                for s in syncs
            ),
        ),
        (
            "no 429 with the limiter on",
            all(s.counts["429"] == 0 for s in syncs),
            ", ".join(f"{s.name} {s.counts['429']}" for s in syncs),
        ),
        (
            f"sync time within {FLOOR_MARGIN - 1:.0%} of the floor",
            all(ratio <= FLOOR_MARGIN for ratio in ratios),
            ", ".join(
                f"{s.name} x{ratio:.3f}" for s, ratio in zip(syncs, ratios, strict=True)
            ),
        ),
    ]
    if memory:
        checks.append(memory_check(memory))
    first_of_kind: dict[str, int] = {}
    for page in pages:
        first_of_kind.setdefault(page.name.split(",")[0], page.queries)
    checks.append(
        (
            f"same query count for a typical and a {DEEP_ROWS:,}-row tenant",
            all(p.queries == first_of_kind[p.name.split(",")[0]] for p in pages),
            ", ".join(f"{name}: {count}" for name, count in first_of_kind.items()),
        )
    )
    slowest = max(pages, key=lambda p: p.p95_ms)
    checks.append(
        (
            f"every page's p95 under {PAGE_P95_MS:.0f} ms",
            slowest.p95_ms < PAGE_P95_MS,
            f"slowest: {slowest.name}, {slowest.p95_ms:.1f} ms "
            f"(CPU {slowest.cpu_p95_ms:.1f} ms)",
        )
    )
    lines = ["| target | result | measured |", "|---|---|---|"]
    for name, met, measured in checks:
        lines.append(f"| {name} | {'met' if met else 'MISSED'} | {measured} |")
    return lines


def memory_check(runs: list[MemoryRun]) -> tuple[str, bool, str]:
    """Compare the peaks of fleets that differ in size beyond one API page."""
    from sophos.client import MAX_PAGE_SIZE

    page = MAX_PAGE_SIZE["/endpoint/v1/endpoints"]
    peaks = {
        (tenants, endpoints): probe["peak_mib"] for tenants, endpoints, probe in runs
    }
    tenants = runs[0][0]
    pairs = [((tenants, runs[0][1]), (runs[-1][0], runs[-1][1]))]
    beyond_page = sorted(e for t, e in peaks if t == tenants and e >= 2 * page)
    if len(beyond_page) >= 2:
        pairs.append(((tenants, beyond_page[0]), (tenants, beyond_page[-1])))
    ratios = [peaks[large] / peaks[small] for small, large in pairs]
    measured = ", ".join(
        f"{large[0] * large[1]:,} vs {small[0] * small[1]:,} endpoints: x{ratio:.2f}"
        for (small, large), ratio in zip(pairs, ratios, strict=True)
    )
    return (
        f"peak memory within {MEMORY_MARGIN - 1:.0%} when the fleet grows",
        all(ratio <= MEMORY_MARGIN for ratio in ratios),
        measured,
    )


# -- the machine ----------------------------------------------------------------


def machine_lines() -> list[str]:
    import django

    cpu = platform.processor() or platform.machine()
    memory = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    meminfo = Path("/proc/meminfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores",
        f"- RAM: {memory}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, Django {django.get_version()}, "
        f"SQLite {sqlite3.sqlite_version}",
    ]


def load_average() -> str:
    minute, five_minutes, fifteen_minutes = os.getloadavg()
    return f"{minute:.1f}, {five_minutes:.1f}, {fifteen_minutes:.1f}"


@contextmanager
def data_directory(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"\nData kept in {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def benchmark(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.core.cache import cache

    from sophos.simulator.clock import reset_clock
    from sophos.simulator.faults import reset_faults, set_faults

    per_minute = settings.SOPHOS_CALLS_PER_MINUTE
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    print(f"Command: `{command}`\n\n## Machine\n")
    print("\n".join(machine_lines()))
    print(f"- Load average at the start (1, 5, 15 min): {load_average()}")

    started = time.perf_counter()
    connection = seed(args.tenants, args.endpoints)
    seeded = time.perf_counter() - started
    full_minimum, incremental_minimum = minimum_calls()
    print(
        f"\n## Fleet\n\n{args.tenants:,} tenants x {args.endpoints} endpoints, "
        f"seeded in {seeded:.0f} s. Limits: {per_minute} calls a minute and "
        f"{settings.SOPHOS_CALLS_PER_DAY:,} a day, in the simulator and in the "
        f"client; simulated clock x{args.speed:g}."
    )

    # Connecting made calls on the real clock; the syncs start afresh.
    cache.clear()
    reset_faults()
    set_faults(calls_per_minute=per_minute, calls_per_day=settings.SOPHOS_CALLS_PER_DAY)
    simulated = SimulatedTime(args.speed)
    syncs = [
        run_sync("full sync", simulated, full_minimum, incremental=False),
        run_sync("incremental sync", simulated, incremental_minimum, incremental=True),
    ]
    rss_after_syncs = max_rss_mib()
    print("\n## Sync\n")
    print("\n".join(sync_table(syncs, per_minute, args.speed)))
    print(f"\nMax RSS of the process after both syncs: {rss_after_syncs:.0f} MiB.")

    reset_clock()
    reset_faults()
    with mock.patch.object(settings, "SOPHOS_CALLS_PER_MINUTE", 0):
        pages = page_results(connection, args.requests)
    print(
        f"\n## Pages\n\n{args.requests} requests a page through Django's test "
        f"client after one warm-up request, over the mirror of {args.tenants:,} "
        f"tenants plus one tenant of {DEEP_ROWS:,} endpoints and "
        f"{DEEP_ROWS:,} alerts.\n"
    )
    print("\n".join(pages_table(pages)))

    memory: list[MemoryRun] = []
    if not args.skip_memory:
        memory = memory_runs(args)
        print("\n## Memory\n\nA full sync in a fresh process a row, without limits.\n")
        print("\n".join(memory_table(memory)))

    print("\n## Targets\n")
    print("\n".join(targets_table(syncs, per_minute, pages, memory)))
    print(f"\nLoad average at the end (1, 5, 15 min): {load_average()}")


def main() -> None:
    args = parse_args()
    with data_directory(args.keep and not args.memory_probe) as data_dir:
        configure_environment(data_dir)
        if args.memory_probe:
            print(json.dumps(memory_probe(*args.memory_probe)))
            return
        benchmark(args)


if __name__ == "__main__":
    main()
