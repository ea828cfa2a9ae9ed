"""Fixtures for tests that share the database with other processes or threads.

These tests commit for real (``transactional_db``), and Django empties every
table afterwards; the fixture seeds the simulator fleet again so the tests
that follow find it as the session left it.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import TEST_MAX_ENDPOINTS, TEST_SEED, TEST_TENANTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def committed_db(transactional_db):
    from sophos.simulator.seed import seed_fleet

    seed_fleet(seed=TEST_SEED, tenants=TEST_TENANTS, max_endpoints=TEST_MAX_ENDPOINTS)
    yield
    seed_fleet(seed=TEST_SEED, tenants=TEST_TENANTS, max_endpoints=TEST_MAX_ENDPOINTS)


def _database_env() -> dict[str, str]:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": str(params["NAME"])}
    user = params["USER"]
    password = params["PASSWORD"]
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or "5432"
    return {
        "DATABASE_URL": f"postgresql://{user}:{password}@{host}:{port}/{params['NAME']}"
    }


@pytest.fixture
def cluster(committed_db):
    """A real ``manage.py qcluster`` process working on the test database."""
    env = {
        **os.environ,
        **_database_env(),
        "PORTAL_DATA_DIR": str(settings.DATA_DIR),
        "Q_WORKERS": "1",
        "Q_SYNC": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
