"""`make up` starts Airflow and Superset, and Ctrl-C or `make down` stops them, leaving no process.

Runs ``scripts/up.sh`` (what ``make up`` runs) in a new session on a fresh data directory and free
ports, waits for both health endpoints, stops it, then asserts through ``/proc`` that no process of
its session, nor of the sessions it started Airflow and Superset in, is left. Once with SIGINT to
its process group (what a terminal's Ctrl-C sends), once with ``scripts/down.sh`` (``make down``).

It takes minutes (two starts of ``airflow standalone`` and gunicorn; about 2 to 8 minutes on a busy
2-core machine), so it runs with the service tests, in ``make test-services``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 600  # seconds for both servers to answer their health endpoint
STOP_TIMEOUT = 60  # seconds for every process to be gone once asked to stop

# two starts in a row can outlast pytest-timeout's default on a busy machine
pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(2 * READY_TIMEOUT + 600)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sessions_alive(sids: set[int]) -> dict[int, str]:
    """pid -> command line of every live process whose session id is in ``sids`` (from /proc)."""
    alive = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces: split after its ')'
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) in sids:
            alive[int(entry.name)] = cmdline[:160]
    return alive


def _read_pid(path: Path) -> int:
    return int(path.read_text().strip())


def _start(data_dir: Path, airflow_port: int, superset_port: int) -> tuple[subprocess.Popen[bytes], set[int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OREF_", "SUPERSET_"))}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_AIRFLOW_PORT": str(airflow_port),
                "OREF_SUPERSET_PORT": str(superset_port), "OREF_SOURCE_MODE": "snapshot",
                # a fresh data dir has no Superset metadata yet: one worker creates its tables (two
                # would race on SQLite: "table ab_permission already exists")
                "OREF_SUPERSET_WORKERS": "1"})
    log = (data_dir.parent / "up.log").open("ab")
    proc = subprocess.Popen([str(REPO_ROOT / "scripts" / "up.sh")], cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    started = time.monotonic()
    urls = [f"http://127.0.0.1:{airflow_port}/api/v2/monitor/health", f"http://127.0.0.1:{superset_port}/health"]
    ready: set[str] = set()
    while len(ready) < len(urls):
        if proc.poll() is not None:
            pytest.fail(f"up.sh exited {proc.returncode} before both servers were ready:\n"
                        f"{(data_dir.parent / 'up.log').read_text()[-3000:]}")
        if time.monotonic() - started > READY_TIMEOUT:
            os.killpg(proc.pid, signal.SIGTERM)
            pytest.fail(f"not ready after {READY_TIMEOUT} s: {sorted(set(urls) - ready)}")
        for url in set(urls) - ready:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    ready.add(url)
            except requests.RequestException:
                pass
        time.sleep(2)
    run_dir = data_dir / "run"
    sids = {proc.pid, _read_pid(run_dir / "airflow.pid"), _read_pid(run_dir / "superset.pid")}
    print(f"up.sh ready in {time.monotonic() - started:.0f} s")
    return proc, sids


def _assert_all_gone(proc: subprocess.Popen[bytes], sids: set[int], how: str) -> None:
    started = time.monotonic()
    while (left := _sessions_alive(sids)) and time.monotonic() - started < STOP_TIMEOUT:
        time.sleep(1)
    if left:
        for pid in left:  # leave the machine clean before failing
            os.kill(pid, signal.SIGKILL)
    assert left == {}, f"still running {STOP_TIMEOUT} s after {how}: {left}"
    proc.wait(timeout=10)
    print(f"{how}: everything stopped in {time.monotonic() - started:.0f} s")


def test_ctrl_c_and_make_down_stop_airflow_and_superset_leaving_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    airflow_port, superset_port = _free_port(), _free_port()

    proc, sids = _start(data_dir, airflow_port, superset_port)
    assert len(sids) == 3 and len(_sessions_alive(sids)) > 3  # Airflow's parts and gunicorn's workers
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
    _assert_all_gone(proc, sids, "Ctrl-C")
    assert proc.returncode == 130

    proc, sids = _start(data_dir, airflow_port, superset_port)
    down = subprocess.run([str(REPO_ROOT / "scripts" / "down.sh")], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, "OREF_DATA_DIR": str(data_dir)}, timeout=STOP_TIMEOUT + 60,
                          check=False)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stdout + down.stderr
    _assert_all_gone(proc, sids, "make down")
    assert not (data_dir / "run" / "up.pid").exists()
