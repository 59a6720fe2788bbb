"""The refresh, step by step: fetch each source, build a new warehouse file, audit it, publish it.

The CLI and the Airflow DAG call these same functions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from oref.config import Settings
from oref.errors import OrefError, QualityGateError, SourceError
from oref.http import HttpClient
from oref.landing import LandingZone
from oref.opendata import after_publish
from oref.publish import PublishResult
from oref.publish import publish as publish_build
from oref.quality.checks import CheckResult, load_checks, save_checks
from oref.sources import SOURCE_NAMES, get_source
from oref.sources.base import FetchContext, FetchResult

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def new_run_id(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


@dataclass
class BuildResult:
    path: str
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: str
    territory: str
    source_mode: str
    started_at: str
    fetches: list[FetchResult] = field(default_factory=list)
    build: BuildResult | None = None
    published: PublishResult | None = None
    open_data: str | None = None  # data/opendata/<run_id>/ (oref.opendata)
    docs: str | None = None  # data/docs/<run_id>/ (dbt docs of the run)
    error: str | None = None
    finished_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.published is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- fetch -------------------------------------------------------------------------------------
def fetch_source(settings: Settings, name: str, run_id: str) -> FetchResult:
    """Fetch one source; raises ``SourceError`` (after recording its checks) when it fails."""
    source = get_source(name)
    landing = LandingZone(settings)
    with HttpClient(settings, rate_limits=source.rate_limits) as http:
        ctx = FetchContext(settings=settings, http=http, landing=landing, run_id=run_id)
        try:
            result = source.fetch(ctx)
        except SourceError as exc:
            ctx.checks.append(CheckResult(name, "fetch_and_land", "oref", "error", "fail", str(exc),
                                          target=exc.url or exc.file or ""))
            save_checks(settings.runs_dir, run_id, name, ctx.checks)
            raise
        ctx.checks.append(CheckResult(name, "fetch_and_land", "oref", "error", "pass", result.message))
        save_checks(settings.runs_dir, run_id, name, ctx.checks)
    result.checks_passed = sum(c.status == "pass" for c in ctx.checks)
    result.checks_failed = sum(c.status == "fail" for c in ctx.checks)
    return result


def fetch_all(settings: Settings, run_id: str, progress: Progress = print,
              names: tuple[str, ...] = SOURCE_NAMES) -> list[FetchResult]:
    """Fetch every source; one failing source does not stop the others."""
    results: list[FetchResult] = []
    for index, name in enumerate(names, 1):
        started = time.monotonic()
        progress(f"[fetch {index}/{len(names)}] {name} ...")
        try:
            result = fetch_source(settings, name, run_id)
        except SourceError as exc:
            result = FetchResult(name, "failed", message=str(exc))
        except OrefError as exc:  # pragma: no cover - defensive: any of our errors fails the source only
            result = FetchResult(name, "failed", message=f"{type(exc).__name__}: {exc}")
        results.append(result)
        progress(f"[fetch {index}/{len(names)}] {name}: {result.status} ({result.rows} rows, "
                 f"{time.monotonic() - started:.1f}s){' — ' + result.message if result.status == 'failed' else ''}")
    return results


# --- build -------------------------------------------------------------------------------------
def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


_DBT_PROGRESS = re.compile(r"(\d+ of \d+) (OK|PASS|FAIL|ERROR|WARN|SKIP)\s+(.*?)(?:\s\.{2,}|\s*\[|$)")


def dbt_vars(settings: Settings, run_id: str) -> dict[str, object]:
    return {"territory_kind": settings.territory.kind, "territory_code": settings.territory.code, "run_id": run_id,
            "comparison_departements": list(settings.comparison_departements)}


def run_dbt(settings: Settings, build_path: Path, run_id: str, args: list[str],
            progress: Progress = print) -> tuple[int, Path]:
    """Run a dbt command against the build file; returns (exit code, target path)."""
    target = settings.runs_dir / run_id / "dbt_target"
    env = {**os.environ, "OREF_DBT_DUCKDB_PATH": str(build_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_USE_COLORS": "false"}
    command = [
        _dbt_executable(), *args,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(settings.runs_dir / run_id / "dbt_logs"),
        "--vars", json.dumps(dbt_vars(settings, run_id)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=settings.dbt_project_dir)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.rstrip()
        tail = [*tail[-40:], line]
        # "12 of 140 OK created sql table model marts.x": show models as they are built and any
        # test that did not pass; passing tests are counted in the summary instead
        if m := _DBT_PROGRESS.search(line):
            counter, status, what = m.group(1), m.group(2), m.group(3).rstrip(" .")
            if status != "PASS":
                progress(f"    dbt {counter} {status} {what}")
    code = process.wait()
    if code not in (0, 1):  # 1 = tests failed or models errored: reported from run_results.json
        raise OrefError(f"dbt crashed (exit {code}):\n" + "\n".join(tail))
    if code == 1 and not (target / "run_results.json").exists():
        raise OrefError("dbt failed before running anything:\n" + "\n".join(tail))
    return code, target


def generate_docs(settings: Settings, build_path: Path, run_id: str, progress: Progress = print) -> Path:
    """``dbt docs generate --static`` into the run's target (index.html, static_index.html, catalog.json).

    dbt rewrites run_results.json with the compile results: the build's one is put back, since the
    quality checks and the run's record read it.
    """
    target = settings.runs_dir / run_id / "dbt_target"
    results = target / "run_results.json"
    kept = results.read_bytes() if results.exists() else None
    try:
        code, target = run_dbt(settings, build_path, run_id, ["docs", "generate", "--static"], progress)
    finally:
        if kept is not None:
            results.write_bytes(kept)
    if code != 0 or not (target / "catalog.json").exists():
        raise OrefError(f"dbt docs generate failed (exit {code}); see {settings.runs_dir / run_id / 'dbt_logs'}")
    return target


def dbt_check_results(target: Path) -> list[CheckResult]:
    """dbt's run_results.json as check results: tests, unit tests and model builds."""
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
            severity = "warn" if status == "warn" else "error"
            ok = status in ("pass", "success") or status == "warn"
            results.append(CheckResult("warehouse", f"dbt_{kind}:{name}", "dbt", severity,  # type: ignore[arg-type]
                                       "pass" if ok and status != "warn" else "fail",
                                       (item.get("message") or "") if not ok or status == "warn" else "",
                                       "" if failures is None else str(failures), unique_id))
        elif status in ("error", "fail"):
            results.append(CheckResult("warehouse", f"dbt_{kind}:{name}", "dbt", "error", "fail",
                                       item.get("message") or "", "", unique_id))
    return results


QUALITY_DDL = """
create schema if not exists quality;
create table if not exists quality.runs (
    run_id varchar, started_at timestamp, finished_at timestamp, territory varchar, source_mode varchar,
    status varchar, sources_fetched integer, sources_unchanged integer, sources_failed integer,
    checks_passed integer, checks_failed integer, checks_warned integer, oref_version varchar
);
create table if not exists quality.check_results (
    run_id varchar, source varchar, check_name varchar, engine varchar, severity varchar, status varchar,
    message varchar, observed varchar, target varchar, checked_at timestamp
);
create table if not exists quality.source_files (
    run_id varchar, source varchar, name varchar, vintage varchar, data_vintage varchar, url varchar,
    fetched_at timestamp, bytes bigint, sha256 varchar, rows bigint
);
"""


def _write_quality(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, started_at: str,
                   checks: list[CheckResult], fetches: list[FetchResult] | None) -> None:
    con.execute(QUALITY_DDL)
    # keep the history stewards chart: copy earlier runs from the published warehouse
    if settings.warehouse_path.exists():
        con.execute(f"attach '{settings.warehouse_path}' as published (read_only)")
        try:
            for table in ("runs", "check_results", "source_files"):
                exists = con.execute(
                    "select count(*) from duckdb_tables() where database_name = 'published' "
                    "and schema_name = 'quality' and table_name = ?", [table]).fetchone()
                if exists and exists[0]:
                    con.execute(f"insert into quality.{table} by name select * from published.quality.{table} "
                                "where run_id <> ?", [run_id])
        finally:
            con.execute("detach published")
    con.execute("delete from quality.check_results where run_id = ?", [run_id])
    con.executemany(
        "insert into quality.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, c.source, c.check_name, c.engine, c.severity, c.status, c.message, c.observed, c.target,
          c.checked_at[:19]] for c in checks],
    )
    landing = LandingZone(settings)
    con.execute("delete from quality.source_files where run_id = ?", [run_id])
    for name in SOURCE_NAMES:
        for landed in landing.latest_by_name(name).values():
            m = landed.manifest
            con.execute("insert into quality.source_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, name, landed.name, landed.vintage, landed.data_vintage, m.get("url"),
                         m["fetched_at"][:19], m.get("bytes"), landed.sha256, m.get("rows")])
    fetches = fetches or []
    con.execute("delete from quality.runs where run_id = ?", [run_id])
    con.execute(
        "insert into quality.runs values (?, ?, current_timestamp::timestamp, ?, ?, 'built', ?, ?, ?, ?, ?, ?, ?)",
        [run_id, started_at[:19], settings.territory.label, settings.source_mode,
         sum(f.status == "landed" for f in fetches), sum(f.status == "unchanged" for f in fetches),
         sum(f.status == "failed" for f in fetches), sum(c.status == "pass" for c in checks),
         sum(c.blocking for c in checks), sum(c.status == "fail" and not c.blocking for c in checks),
         _version()],
    )


def _version() -> str:
    from oref import __version__

    return __version__


def build(settings: Settings, run_id: str, progress: Progress = print,
          fetches: list[FetchResult] | None = None) -> BuildResult:
    """Load the latest landed files into a new build file, run dbt build and audit it.

    Raises ``QualityGateError`` when an error-level check failed (the build file stays in
    ``warehouse/builds/`` for debugging; nothing is published).
    """
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    # builds/<run>/oref.duckdb: DuckDB names a file's catalog after its stem, and dbt's views refer to
    # it ("oref".raw.x); the build must carry the published name or staging views break once published
    path = settings.build_dir / run_id / "oref.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}.wal")):
        leftover.unlink(missing_ok=True)
    result = BuildResult(str(path), run_id)
    landing = LandingZone(settings)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        for name in SOURCE_NAMES:
            progress(f"[load] {name} ...")
            try:
                counts = get_source(name).load(con, settings, landing, run_id)
            except duckdb.Error as exc:
                raise SourceError(name, f"loading into raw failed: {exc}") from exc
            result.rows.update(counts)
            progress(f"[load] {name}: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))
    finally:
        con.close()
    progress("[dbt] build (models, data tests, unit tests) ...")
    _, target = run_dbt(settings, path, run_id, ["build"], progress)
    checks = load_checks(settings.runs_dir, run_id) + dbt_check_results(target)
    con = duckdb.connect(str(path))
    try:
        _write_quality(con, settings, run_id, started_at, checks, fetches)
    finally:
        con.close()
    result.checks_passed = sum(c.status == "pass" for c in checks)
    result.checks_failed = sum(c.blocking for c in checks)
    result.checks_warned = sum(c.status == "fail" and not c.blocking for c in checks)
    result.failures = [f"{c.source}/{c.check_name}: {c.message}" for c in checks if c.blocking]
    write_report(settings, run_id, checks)
    if result.failures:
        raise QualityGateError(
            f"{len(result.failures)} error-level check(s) failed; not publishing:\n  "
            + "\n  ".join(result.failures[:20])
        )
    progress("[dbt] docs generate ...")
    generate_docs(settings, path, run_id, progress)
    return result


def write_report(settings: Settings, run_id: str, checks: list[CheckResult]) -> Path:
    """A plain HTML page per run for data stewards: what passed, what failed and why."""
    import html

    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / f"quality-{run_id}.html"
    rows = "\n".join(
        f"<tr class='{c.status}'><td>{html.escape(c.source)}</td><td>{html.escape(c.check_name)}</td>"
        f"<td>{c.engine}</td><td>{c.severity}</td><td>{'réussi' if c.status == 'pass' else 'échec'}</td>"
        f"<td>{html.escape(c.observed)}</td><td>{html.escape(c.message)}</td></tr>"
        for c in sorted(checks, key=lambda c: (c.status != "fail", c.source, c.check_name))
    )
    failed = sum(c.status == "fail" for c in checks)
    path.write_text(
        "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Qualité — exécution "
        f"{html.escape(run_id)}</title><style>body{{font-family:sans-serif}} td,th{{padding:2px 8px}}"
        " .fail{background:#fdd}</style>"
        f"<h1>Rapport qualité — exécution {html.escape(run_id)}</h1>"
        f"<p>Territoire {html.escape(settings.territory.label)} · mode {settings.source_mode} · "
        f"{len(checks)} contrôles, {failed} en échec</p>"
        "<table><tr><th>Source</th><th>Contrôle</th><th>Moteur</th><th>Sévérité</th><th>Résultat</th>"
        f"<th>Observé</th><th>Message</th></tr>{rows}</table></html>\n",
        "utf-8",
    )
    return path


def publish(settings: Settings, build_path: str | Path) -> PublishResult:
    return publish_build(settings, build_path)


# --- the whole refresh -------------------------------------------------------------------------
def run(settings: Settings, run_id: str | None = None, progress: Progress = print) -> RunSummary:
    run_id = run_id or new_run_id()
    summary = RunSummary(run_id, settings.territory.label, settings.source_mode,
                         datetime.now(UTC).isoformat(timespec="seconds"))
    progress(f"oref run {run_id}: territory {settings.territory.label}, sources {settings.source_mode}")
    summary.fetches = fetch_all(settings, run_id, progress)
    failed = [f for f in summary.fetches if f.status == "failed"]
    try:
        if failed:
            raise QualityGateError(
                "source(s) failed, publication blocked: " + "; ".join(f.message for f in failed))
        summary.build = build(settings, run_id, progress, summary.fetches)
        progress("[publish] atomic swap ...")
        summary.published = publish(settings, summary.build.path)
        # the warehouse is published from here on: a failed export fails the run, not the publish
        exported = after_publish(settings, run_id, progress)
        summary.docs = exported.docs
        summary.open_data = exported.open_data.path if exported.open_data else None
    except OrefError as exc:
        summary.error = str(exc)
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    record = settings.runs_dir / run_id / "summary.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return summary
