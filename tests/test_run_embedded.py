"""scripts/run-embedded: the port check and stopping on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run-embedded"


def _stub_python(tmp_path: Path) -> Path:
    """Write a python stand-in that runs ``-c`` code and otherwise sleeps.

    Each sleeping process records its pid, so the test can check that the
    script stopped it.
    """
    stub = tmp_path / "python"
    stub.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi\n'
        f"echo $$ >> {tmp_path / 'pids'}\n"
        "exec sleep 300\n"
    )
    stub.chmod(0o755)
    return stub


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_busy_port_stops_before_starting(tmp_path):
    stub = _stub_python(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PORTAL_PYTHON": str(stub), "PORTAL_PORT": str(port)}

        result = subprocess.run(  # noqa: S603 (the repository's own script)
            [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
        )

    assert result.returncode != 0
    assert (
        f"Port {port} on 127.0.0.1 is in use: stop the other server or set "
        "PORTAL_PORT=<free port>." in result.stderr
    )
    assert "Portal:" not in result.stdout
    assert not (tmp_path / "pids").exists()


def test_check_port_passes_on_free_port(tmp_path):
    stub = _stub_python(tmp_path)
    env = {**os.environ, "PORTAL_PYTHON": str(stub), "PORTAL_PORT": str(_free_port())}

    result = subprocess.run(  # noqa: S603 (the repository's own script)
        [str(SCRIPT), "--check-port"], env=env, capture_output=True, timeout=30
    )

    assert result.returncode == 0
    assert not (tmp_path / "pids").exists()


def test_sigterm_stops_server_and_cluster(tmp_path):
    stub = _stub_python(tmp_path)
    pids_file = tmp_path / "pids"
    env = {**os.environ, "PORTAL_PYTHON": str(stub), "PORTAL_PORT": str(_free_port())}
    script = subprocess.Popen(  # noqa: S603 (the repository's own script)
        [str(SCRIPT)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if pids_file.exists() and len(pids_file.read_text().split()) == 2:
            break
        time.sleep(0.1)
    pids = [int(pid) for pid in pids_file.read_text().split()]

    script.send_signal(signal.SIGTERM)
    status = script.wait(timeout=20)

    assert len(pids) == 2
    assert status != 0
    assert [pid for pid in pids if _running(pid)] == []
