"""The standing cast: a seeded simulator fleet, its mirror, and portal users.

The test database gets a small simulator fleet once per session; each test
runs in a transaction that is rolled back, so changes never leak.
"""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.management import call_command
from django_q.conf import Conf

TEST_SEED = 7
TEST_TENANTS = 4
TEST_MAX_ENDPOINTS = 40

_real_handle_request = httpx.HTTPTransport.handle_request


def _loopback_only(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    host = urlsplit(str(request.url)).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise RuntimeError(
            f"Tests must not reach the network: {request.method} {request.url}. "
            "Use the simulator transport or httpx.MockTransport."
        )
    return _real_handle_request(self, request)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Fail loudly on any real request that is not to the loopback interface."""
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", _loopback_only)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache_per_test(settings, monkeypatch):
    """Give each test its own cache key prefix.

    The database cache is rolled back with each test, but Redis keeps keys,
    so without a prefix a token or a call count would leak between tests.
    ``cache.clear()`` is no option: on Redis it would empty the task queue.
    """
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        caches = {name: dict(options) for name, options in settings.CACHES.items()}
        prefix = f"test-{uuid.uuid4().hex}"
        caches["default"]["KEY_PREFIX"] = prefix
        settings.CACHES = caches
        # Clusters that a test starts read the same prefix from the
        # environment, so they share the test's cache entries.
        monkeypatch.setenv("CACHE_KEY_PREFIX", prefix)


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _no_client_waits(monkeypatch):
    """Retry waits and rate-limit waits take no real time in tests."""
    monkeypatch.setattr("sophos.client.pause", lambda seconds: None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from sophos.simulator.seed import seed_fleet

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
        seed_fleet(
            seed=TEST_SEED, tenants=TEST_TENANTS, max_endpoints=TEST_MAX_ENDPOINTS
        )
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()


def _end_other_sessions() -> None:
    """End other sessions on the PostgreSQL test database so it can be dropped.

    A cluster or a live-server thread that a test started may still hold a
    connection when the session ends.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def shared_database(transactional_db):
    """Commit data so other threads read it, and seed the fleet again after."""
    from django.core.cache import cache

    from sophos.simulator.seed import seed_fleet

    yield
    cache.clear()
    seed_fleet(seed=TEST_SEED, tenants=TEST_TENANTS, max_endpoints=TEST_MAX_ENDPOINTS)


@pytest.fixture
def demo_connection(db):
    from sophos.services.connections import demo_connection_ensure

    return demo_connection_ensure()


@pytest.fixture
def synced_fleet(demo_connection):
    """The demo connection with its fleet mirrored by a real sync."""
    from sophos.services.jobs import job_create
    from sophos.services.sync import sync_run

    job = job_create(kind="sync", title="Test sync", user=None)
    sync_run(job_id=job.pk)
    return demo_connection


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser(
        username="owner", password="owner-password-1"
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
