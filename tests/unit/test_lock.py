"""The run lock (oref.lock): one writer per data directory, an OS lock a killed holder cannot leave behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from oref_testing import REPO, oref

from oref.config import Settings
from oref.lock import LOCK_NAME, RunLocked, read_holder, run_lock

HOLD = """
import sys, time
from pathlib import Path
from oref.config import Settings
from oref.lock import run_lock
with run_lock(Settings(data_dir=Path(sys.argv[1])), "run", run_id="holder-run"):
    print("held", flush=True)
    time.sleep(120)
"""


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    """A process holding the lock of ``data_dir`` (returns once it holds it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    if proc.stdout:
        proc.stdout.close()


def test_a_second_command_exits_at_once_naming_the_holder(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        started = time.monotonic()
        second = oref(tmp_path, "run", timeout=60)
        elapsed = time.monotonic() - started
        assert second.returncode == 1, second.output
        assert f"PID {holder.pid} on host {socket.gethostname()}" in second.output
        assert "started 20" in second.output and "oref run, run holder-run" in second.output
        assert elapsed < 20, f"the second run waited {elapsed:.1f}s"
        # it did nothing: no run directory, no landing
        assert not (tmp_path / "runs").exists() and not (tmp_path / "landing").exists()
        # in-process too, for every writing command
        with pytest.raises(RunLocked) as raised, run_lock(Settings(data_dir=tmp_path), "build"):
            pass
        assert raised.value.holder is not None and raised.value.holder["pid"] == holder.pid
    finally:
        _stop(holder)


def test_a_holder_killed_with_sigkill_is_taken_over(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    _stop(holder)
    # the file still names the dead holder: its presence is not what locks
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == holder.pid
    result = oref(tmp_path, "export", timeout=60)
    assert f"taken over from PID {holder.pid} (no longer running)" in result.output, result.output
    # export itself then finds nothing published: its own message, not the lock's
    assert result.returncode == 1 and "no published warehouse" in result.output
    assert read_holder(Settings(data_dir=tmp_path)) is None  # a clean exit leaves no holder details


def test_the_lock_is_reentrant_and_names_its_holder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    said: list[str] = []
    with run_lock(settings, "run", run_id="r1", progress=said.append) as outer:
        assert outer.taken_over_from is None and said == []
        holder = read_holder(settings)
        assert holder is not None and holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert holder["command"] == "run" and holder["run_id"] == "r1"
        with run_lock(settings, "build"):  # the steps of `oref run` take it again
            assert read_holder(settings) == holder
        assert read_holder(settings) == holder
    assert read_holder(settings) is None
    with run_lock(settings, "fetch"):  # released: taken again at once
        pass


def test_an_airflow_step_queues_for_the_lock_a_hand_started_run_holds(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from oref import airflow_support

    holder = _holder(tmp_path)
    settings = Settings(data_dir=tmp_path)
    monkeypatch.setattr(airflow_support, "STEP_LOCK_WAIT_SECONDS", 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(RunLocked) as raised, airflow_support.step_lock(settings, "build", "dag-run"):
            pass
        assert time.monotonic() - started >= 0.5  # it queued before giving up
        assert f"PID {holder.pid}" in str(raised.value)
    finally:
        _stop(holder)
    # the holder gone, the step takes the lock and names itself in it
    with airflow_support.step_lock(settings, "build", "dag-run"):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["command"] == "airflow build"
