"""Running dbt against a build file, and reading what it did.

dbt runs as a child process (``dbt build``, ``dbt docs generate``) with the run's vars and its own
target directory under ``runs/<run_id>/``; on Linux the child dies with its parent (``PR_SET_PDEATHSIG``),
so a run killed with ``kill -9`` leaves no dbt behind; ``check_results`` turns its ``run_results.json`` into
the run's check results (tests, unit tests and failed model builds).
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from oref.config import Settings
from oref.errors import OrefError
from oref.pause import pause_at
from oref.quality.checks import CheckResult

Progress = Callable[[str], None]

# "12 of 140 OK created sql table model marts.x"
_PROGRESS = re.compile(r"(\d+ of \d+) (OK|PASS|FAIL|ERROR|WARN|SKIP)\s+(.*?)(?:\s\.{2,}|\s*\[|$)")


def executable() -> str:
    """The ``dbt`` of this interpreter's environment (the locked one), else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_vars(settings: Settings, run_id: str) -> dict[str, object]:
    """Every var the project reads; its macros fail when one is missing (no defaults in dbt)."""
    return {
        "territory_kind": settings.territory.kind,
        "territory_code": settings.territory.code,
        "comparison_departements": list(settings.comparison_departements),
        "run_id": run_id,
        "source_mode": settings.source_mode,
    }


def target_dir(settings: Settings, run_id: str) -> Path:
    """Where the run's dbt artefacts go (manifest, run_results, catalog, docs)."""
    return settings.runs_dir / run_id / "dbt_target"


def log_dir(settings: Settings, run_id: str) -> Path:
    return settings.runs_dir / run_id / "dbt_logs"


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """In the dbt child, before exec: ask Linux to SIGKILL it when its parent dies.

    A run killed with ``kill -9`` cannot stop its dbt; without this, dbt would keep writing into
    the dead run's build file. Elsewhere than Linux this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run(settings: Settings, build_path: Path, run_id: str, args: list[str],
        progress: Progress = print) -> tuple[int, Path]:
    """Run a dbt command against the build file; returns (exit code, target path).

    Exit code 1 means tests failed or models errored: that is reported from run_results.json.
    Anything else, or a 1 before anything ran, raises ``OrefError`` with the tail of dbt's output.
    """
    target = target_dir(settings, run_id)
    env = {**os.environ, "OREF_DBT_DUCKDB_PATH": str(build_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_USE_COLORS": "false"}
    command = [
        executable(), *args,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(log_dir(settings, run_id)),
        "--vars", json.dumps(dbt_vars(settings, run_id)),
    ]
    die_with_us = functools.partial(_die_with_parent, os.getpid())
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=settings.dbt_project_dir, preexec_fn=die_with_us)
    assert process.stdout is not None
    tail: list[str] = []
    try:
        for line in process.stdout:
            line = line.rstrip()
            tail = [*tail[-40:], line]
            # show models as they are built and any test that did not pass; passing tests are counted
            # in the run's summary instead
            if m := _PROGRESS.search(line):
                counter, status, what = m.group(1), m.group(2), m.group(3).rstrip(" .")
                if status != "PASS":
                    progress(f"    dbt {counter} {status} {what}")
                if args[0] == "build":
                    pause_at(settings, "dbt", run_id)  # fault injection for the crash tests (oref.pause)
        code = process.wait()
    finally:
        # an exception here (Ctrl-C, a failing progress callback) must not leave dbt running
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    if code not in (0, 1):
        raise OrefError(f"dbt crashed (exit {code}):\n" + "\n".join(tail))
    if code == 1 and not (target / "run_results.json").exists():
        raise OrefError("dbt failed before running anything:\n" + "\n".join(tail))
    return code, target


def generate_docs(settings: Settings, build_path: Path, run_id: str, progress: Progress = print) -> Path:
    """``dbt docs generate --static`` into the run's target (index.html, static_index.html, catalog.json).

    dbt rewrites run_results.json with the compile results: the build's one is put back, since the
    quality checks and the run's record read it.
    """
    results = target_dir(settings, run_id) / "run_results.json"
    kept = results.read_bytes() if results.exists() else None
    try:
        code, target = run(settings, build_path, run_id, ["docs", "generate", "--static"], progress)
    finally:
        if kept is not None:
            results.write_bytes(kept)
    if code != 0 or not (target / "catalog.json").exists():
        raise OrefError(f"dbt docs generate failed (exit {code}); see {log_dir(settings, run_id)}")
    return target


def check_results(target: Path) -> list[CheckResult]:
    """dbt's run_results.json as check results: tests, unit tests and model builds that failed."""
    path = target / "run_results.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text("utf-8"))
    results: list[CheckResult] = []
    for item in data.get("results", []):
        unique_id: str = item["unique_id"]
        kind = unique_id.split(".", 1)[0]
        status = item.get("status")
        failures = item.get("failures")
        name = unique_id.split(".", 2)[-1]
        if kind in ("test", "unit_test"):
            # a test configured with severity warn reports "warn": recorded as a failed warning
            severity = "warn" if status == "warn" else "error"
            passed = status in ("pass", "success")
            results.append(CheckResult("warehouse", f"dbt_{kind}:{name}", "dbt", severity,  # type: ignore[arg-type]
                                       "pass" if passed else "fail",
                                       "" if passed else (item.get("message") or ""),
                                       "" if failures is None else str(failures), unique_id))
        elif status in ("error", "fail"):
            results.append(CheckResult("warehouse", f"dbt_{kind}:{name}", "dbt", "error", "fail",
                                       item.get("message") or "", "", unique_id))
    return results
