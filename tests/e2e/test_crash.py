"""`kill -9` at each stage of a run, and two runs at once, on a copy of the shared published data directory.

One chain in one data directory, to keep it cheap: a run killed during its fetches (while it holds
the lock, a second `oref run` is refused naming it), then killed during `dbt build`, during the
audit and during the publish swap (each a new `oref run --force`); then ONE recovery run, a plain
`oref run`, which must succeed with no manual step.
Runs stop at exact points through the fault-injection hook ``OREF_PAUSE_AT`` (oref.pause).

After each kill: the published warehouse and serving file are byte-identical (sha256) and open;
no process of the killed run (dbt above all) is left running.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from oref_testing import OREF, REPO, OrefRun, oref

from oref.config import Settings


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OREF_", "AIRFLOW"))}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_SOURCE_MODE": "snapshot", "OREF_TERRITORY": "972",
                "OREF_SUPERSET_REFRESH": "0", **extra})
    return env


def _processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live processes whose command line mentions ``text`` (the data dir: dbt's --target-path names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append((int(entry.name), cmdline[:200]))
    return found


def _published(settings: Settings) -> dict[str, str]:
    return {p.name: _sha256(p) for p in (settings.warehouse_path, settings.serving_path)}


def _opens(settings: Settings) -> int:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        row = con.execute("select count(*) from marts.mart_indicators").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


class PausedRun:
    """`oref run --force` stopped by OREF_PAUSE_AT=<point>: started, waited for, killed with SIGKILL."""

    def __init__(self, data_dir: Path, point: str) -> None:
        self.data_dir, self.point = data_dir, point
        self.log = data_dir.parent / f"run-paused-at-{point}.log"
        with self.log.open("w") as out:
            # not a new session: only the oref process is killed, its dbt child must die with it
            self.proc = subprocess.Popen([str(OREF), "run", "--force"], cwd=REPO, stdout=out,
                                         stderr=subprocess.STDOUT, env=_env(data_dir, OREF_PAUSE_AT=point))

    def wait_paused(self, timeout: float = 400) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            markers = list((self.data_dir / "runs").glob(f"*/paused-at-{self.point}"))
            if markers:
                return markers[0]
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended (exit {self.proc.returncode}) before pausing at {self.point}:\n"
                            + self.log.read_text()[-3000:])
            time.sleep(0.3)
        self.proc.kill()
        pytest.fail(f"the run did not pause at {self.point} within {timeout}s:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(30) == -signal.SIGKILL


def _no_process_left(data_dir: Path, point: str) -> None:
    deadline = time.monotonic() + 10  # the kernel delivers the parent-death signal at once; allow for load
    while (left := _processes_mentioning(str(data_dir))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"processes outlived the run killed at {point}: {left}"


def test_kill_9_at_each_stage_then_one_recovery_run(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    settings = OrefRun(data_dir, 0, "").settings
    before = _published(settings)
    rows = _opens(settings)
    killed: list[int] = []

    # 1. during the fetches; meanwhile a second run is refused at once, naming the holder
    first = PausedRun(data_dir, "fetch")
    first.wait_paused()
    started = time.monotonic()
    second = oref(data_dir, "run", timeout=120)
    assert second.returncode == 1, second.output
    assert f"PID {first.proc.pid} on host {socket.gethostname()}" in second.output
    assert "started 20" in second.output and time.monotonic() - started < 30
    first.kill()
    killed.append(first.proc.pid)
    _no_process_left(data_dir, "fetch")
    assert _published(settings) == before and _opens(settings) == rows

    # 2-4. during dbt build (dbt is running: it must die with the run), the audit, the publish swap
    build_runs: list[str] = []
    for point in ("dbt", "audit", "publish"):
        paused = PausedRun(data_dir, point)
        marker = paused.wait_paused()
        run_id = marker.parent.name
        if point == "dbt":
            assert _processes_mentioning(f"runs/{run_id}/dbt_target"), "dbt should be running at this point"
        paused.kill()
        killed.append(paused.proc.pid)
        _no_process_left(data_dir, point)
        assert _published(settings) == before, f"the published files changed after a kill at {point}"
        assert _opens(settings) == rows
        assert (settings.build_dir / run_id).is_dir()  # its build is left behind, cleaned by a later run
        build_runs.append(run_id)

    # 5. one recovery run, no manual step: plain `oref run`, as cron or the operator would start it.
    # The publish-killed run built and audited after the dbt and audit kills, so building works
    # again; nothing new landed, so the recovery run finds the published fingerprint and stops
    # there. It takes the dead holder's lock over and cleans the dead runs' builds, keeping the
    # newest (OREF_KEEP_BUILDS=1).
    recovered = oref(data_dir, "run", extra_env={"OREF_KEEP_BUILDS": "1", "OREF_SUPERSET_REFRESH": "0"}, timeout=600)
    assert recovered.returncode == 0, recovered.output
    assert f"taken over from PID {killed[-1]} (no longer running)" in recovered.output
    assert "[clean] removed" in recovered.output
    assert "not rebuilt" in recovered.output and "verdict: unchanged" in recovered.output
    leftovers = sorted(p.name for p in settings.build_dir.iterdir()) if settings.build_dir.is_dir() else []
    assert leftovers == [build_runs[-1]], leftovers  # the publish-killed run's build; the older ones are gone
    assert not list(settings.warehouse_dir.glob("*.tmp*")) and not list(settings.warehouse_dir.glob(".*tmp*"))
    assert _published(settings) == before and _opens(settings) == rows
    con = duckdb.connect(str(settings.quality_path), read_only=True)
    try:
        status = con.execute("select status from quality.runs order by finished_at desc limit 1").fetchone()
    finally:
        con.close()
    assert status == ("unchanged",)
