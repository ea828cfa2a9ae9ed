"""The suite's second pass, on PostgreSQL and Redis, really uses both.

`make pytest` sets PORTAL_EXPECT_SCALED=1 for the pass that runs with
DATABASE_URL and REDIS_URL; without it these tests are skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.tasks import async_task, result

pytestmark = pytest.mark.skipif(
    os.environ.get("PORTAL_EXPECT_SCALED") != "1",
    reason="PORTAL_EXPECT_SCALED=1 is not set (make pytest sets it for the "
    "PostgreSQL and Redis pass)",
)

BASE_DIR = Path(settings.BASE_DIR)
CLUSTER_START_SECONDS = 60
TASK_RESULT_SECONDS = 60


def record_task_run(run_key: str, index: int) -> int:
    """Count one run of task `index` in the cache and return the worker's pid.

    The clusters started by the test below import this function by its
    dotted path.
    """
    counter = f"{run_key}:{index}"
    cache.add(counter, 0, timeout=600)
    cache.incr(counter)
    time.sleep(0.2)
    return os.getpid()


@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"
    user_model = get_user_model()
    username = f"scaled-{uuid.uuid4().hex[:8]}"

    user_model.objects.create_user(username=username, password="scaled-password-1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()

    assert version.startswith("PostgreSQL ")
    assert user_model.objects.filter(username=username).exists()


def test_cache_is_redis():
    assert isinstance(caches["default"], RedisCache)
    key = f"scaled-test:{uuid.uuid4().hex}"
    raw_client = redis.Redis.from_url(settings.REDIS_URL)

    cache.set(key, {"value": 1}, timeout=60)
    stored = cache.get(key)
    stored_in_redis = raw_client.exists(cache.make_key(key))
    cache.delete(key)
    raw_client.close()

    assert stored == {"value": 1}
    assert stored_in_redis == 1


def test_cache_incr_counts_atomically():
    # sophos/shared_state.py counts Sophos calls with add + incr.
    assert isinstance(caches["default"], RedisCache)
    key = f"scaled-test:{uuid.uuid4().hex}"

    cache.add(key, 0, timeout=60)
    first = cache.incr(key)
    second = cache.incr(key)
    cache.delete(key)

    assert first == 1
    assert second == 2


def test_broker_is_redis():
    assert "orm" not in settings.Q_CLUSTER
    list_key = f"scaled-test-{uuid.uuid4().hex}"
    broker = get_broker(list_key=list_key)

    broker.enqueue("payload")
    dequeued = broker.dequeue()
    remaining = broker.queue_size()
    broker.delete_queue()

    assert isinstance(broker, RedisBroker)
    assert broker.ping()
    assert dequeued == [(None, b"payload")]
    assert remaining == 0


def _test_database_url() -> str:
    """Return DATABASE_URL pointed at the test database pytest-django created."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _start_cluster(log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "Q_WORKERS": "1",
        "Q_SYNC": "false",
    }
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_running(log_path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + CLUSTER_START_SECONDS
    while time.monotonic() < deadline:
        if " running." in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"qcluster did not start:\n{log_path.read_text(errors='replace')}")


def _stop_cluster(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_qclusters_share_tasks_without_repeats(django_db_setup, monkeypatch, tmp_path):
    """Two `manage.py qcluster` processes split the tasks and run each once."""
    assert os.environ.get("DATABASE_URL"), "DATABASE_URL is not set"
    assert "orm" not in settings.Q_CLUSTER
    monkeypatch.setattr(Conf, "SYNC", False)
    run_key = f"scaled-test:{uuid.uuid4().hex}"
    task_count = 12
    log_paths = [tmp_path / "cluster-1.log", tmp_path / "cluster-2.log"]
    clusters = [_start_cluster(path) for path in log_paths]
    try:
        for path, process in zip(log_paths, clusters, strict=True):
            _wait_until_running(path, process)

        task_ids = [
            async_task(
                "tests.test_scaled_mode.record_task_run", run_key, index, cached=600
            )
            for index in range(task_count)
        ]
        worker_pids = [
            result(task_id, wait=TASK_RESULT_SECONDS * 1000, cached=True)
            for task_id in task_ids
        ]
    finally:
        for process in clusters:
            _stop_cluster(process)
    run_counts = [cache.get(f"{run_key}:{index}") for index in range(task_count)]
    logs = "\n".join(path.read_text(errors="replace") for path in log_paths)

    assert None not in worker_pids, logs
    assert run_counts == [1] * task_count
    assert len(set(worker_pids)) >= 2, logs
