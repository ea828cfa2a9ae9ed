"""Pages stop waiting for a used-up call budget and show when to retry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sophos.client import interactive_calls
from sophos.models import Endpoint, Job
from sophos.services import sync
from sophos.shared_state import CacheRateLimiter
from sophos.simulator.faults import set_faults
from sophos.tasks import sync_run_task
from tests.portal.tenant_pages import simulator_tenant

pytestmark = pytest.mark.django_db

# The start of a minute, so a limiter at START + 10 has 50 s left in it.
START = 1_767_225_600.0

LIMIT_TEXT = (
    "The Sophos Central call limit of this credential is used up for now by "
    "syncs and jobs. Retry in 50 seconds."
)


class FakeClock:
    """Seconds since the epoch that move only when the limiter sleeps."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class RecordingLimiter:
    """A limiter that never waits and records the ``max_wait`` of each call."""

    def __init__(self) -> None:
        self.max_waits: list[float | None] = []

    def acquire(self, key: str, *, max_wait: float | None = None) -> float:
        self.max_waits.append(max_wait)
        return 0.0


@pytest.fixture
def clock():
    return FakeClock(START + 10)


@pytest.fixture
def used_up_budget(monkeypatch, clock, demo_connection):
    """Give every client a limiter of one call a minute, already spent."""
    limiter = CacheRateLimiter(per_minute=1, clock=clock, sleep=clock.sleep)
    limiter.acquire(demo_connection.client_id)
    monkeypatch.setattr(
        "sophos.services.connections._rate_limiter_for", lambda connection: limiter
    )
    return limiter


@pytest.fixture
def tenant(demo_connection):
    return simulator_tenant(demo_connection)


def _list_url(tenant):
    return reverse("tenants:scanning_exclusions_list", args=[tenant.pk])


def test_list_shows_used_up_budget_in_place(owner_client, tenant, used_up_budget):
    response = owner_client.get(_list_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert LIMIT_TEXT in html
    assert "No correlation id was returned" not in html


def test_page_does_not_wait_for_used_up_budget(
    owner_client, tenant, used_up_budget, clock
):
    owner_client.get(_list_url(tenant))

    assert clock.waits == []
    assert clock() == START + 10


def test_detail_page_explains_used_up_budget(
    owner_client, synced_fleet, used_up_budget
):
    endpoint = Endpoint.objects.order_by("hostname").first()
    url = reverse("tenants:endpoint_detail", args=[endpoint.tenant_id, endpoint.pk])

    response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "50"
    assert "The Sophos Central call limit is used up for now" in html
    assert LIMIT_TEXT in html


def test_longer_cap_lets_the_page_wait(
    owner_client, tenant, used_up_budget, clock, settings
):
    settings.SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS = 60

    response = owner_client.get(_list_url(tenant))

    assert response.status_code == 200
    assert clock.waits == [pytest.approx(50)]
    assert "call limit" not in response.content.decode()


def test_long_retry_after_is_shown_in_place(owner_client, tenant):
    set_faults(rate_429=1.0, retry_after_seconds=30)

    response = owner_client.get(_list_url(tenant))

    html = response.content.decode()
    assert "Sophos Central is rate-limiting this credential (429)" in html
    assert "Retry in 30 seconds." in html
    assert "Status 429" in html


def test_page_calls_get_the_cap(owner_client, tenant, monkeypatch):
    limiter = RecordingLimiter()
    monkeypatch.setattr(
        "sophos.services.connections._rate_limiter_for", lambda connection: limiter
    )

    owner_client.get(_list_url(tenant))

    assert limiter.max_waits
    assert set(limiter.max_waits) == {5.0}


def test_task_run_inside_a_request_is_not_capped(demo_connection, monkeypatch):
    limiter = RecordingLimiter()
    monkeypatch.setattr(
        "sophos.services.connections._rate_limiter_for", lambda connection: limiter
    )
    job = sync.sync_start(user=None)

    # django-q2's sync mode runs a task inline, inside the request's context.
    with interactive_calls(5):
        sync_run_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert limiter.max_waits
    assert set(limiter.max_waits) == {None}


def test_page_stops_retrying_5xx_at_the_cap(owner_client, tenant, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("sophos.client.pause", waits.append)
    set_faults(rate_5xx=1.0)

    response = owner_client.get(_list_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Injected server error: the service is unavailable" in html
    assert sum(waits) <= 5.0
    assert len(waits) < 4
