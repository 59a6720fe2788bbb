"""The refresh, one function per step: fetch, build, publish, export, then finish.

The CLI (``oref run`` and the one-step commands), the Airflow DAG (one task per step, through
``oref.airflow_support``) and the tests call these same functions, so every path that publishes
also exports the open-data package and the dbt docs, and every run ends in ``finish``, which
writes the run's quality report and its record in the quality store whatever the outcome
(published, blocked, failed).

Each step records what it did in ``runs/<run_id>/steps/<step>.json``. ``finish`` reads those
records, so it works the same after an in-process ``run`` and after Airflow tasks that ran in
separate processes. Running dbt lives in ``oref.dbt``; recording checks and the report in
``oref.quality``; the atomic swap in ``oref.publish``; the export in ``oref.opendata``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from oref import dbt
from oref.config import Settings
from oref.errors import OrefError, QualityGateError, SourceError
from oref.http import HttpClient
from oref.landing import LandingZone
from oref.opendata import PostPublish, after_publish
from oref.pause import pause_at
from oref.publish import PublishResult, clean_leftovers, serving_of, smoke_check_serving, write_serving
from oref.publish import publish as swap_in
from oref.quality.checks import CheckResult, load_checks, save_checks
from oref.quality.report import write_report
from oref.quality.store import RunRecord, StoreWrite, landed_files, now, readable, record_run, write_tables
from oref.quality.store import copy_history as copy_quality_history
from oref.sources import SOURCE_NAMES, get_source
from oref.sources.base import FetchContext, FetchResult

Progress = Callable[[str], None]


def new_run_id(moment: datetime | None = None) -> str:
    return f"{(moment or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


@dataclass
class BuildResult:
    path: str
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    failures: list[str] = field(default_factory=list)
    serving: str | None = None  # builds/<run_id>/serving.duckdb


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
    status: str | None = None  # published | blocked | failed, as recorded in quality.runs
    report: str | None = None  # the run's HTML quality report
    quality_store: str | None = None
    error: str | None = None
    finished_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.published is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- the run's step records ---------------------------------------------------------------------
def steps_dir(settings: Settings, run_id: str) -> Path:
    return settings.runs_dir / run_id / "steps"


def record_step(settings: Settings, run_id: str, step: str, status: str, started_at: str, **data: Any) -> None:
    """Write ``runs/<run_id>/steps/<step>.json``: one file per step, as Airflow runs steps in parallel."""
    directory = steps_dir(settings, run_id)
    directory.mkdir(parents=True, exist_ok=True)
    document = {"step": step, "status": status, "started_at": started_at, "finished_at": now(), **data}
    tmp = directory / f".{step}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n", "utf-8")
    tmp.replace(directory / f"{step}.json")


def read_steps(settings: Settings, run_id: str) -> dict[str, dict[str, Any]]:
    directory = steps_dir(settings, run_id)
    if not directory.is_dir():
        return {}
    return {path.stem: json.loads(path.read_text("utf-8")) for path in sorted(directory.glob("*.json"))}


def _fetches(steps: dict[str, dict[str, Any]]) -> list[FetchResult]:
    """The fetch steps' results in fetch order (the registry's), as the run summary lists them."""
    order = {name: index for index, name in enumerate(SOURCE_NAMES)}
    results = [FetchResult(**s["result"]) for name, s in steps.items() if name.startswith("fetch_")]
    return sorted(results, key=lambda r: order.get(r.source, len(order)))


# --- fetch --------------------------------------------------------------------------------------
def fetch_source(settings: Settings, name: str, run_id: str) -> FetchResult:
    """Fetch one source; raises ``SourceError`` (after recording its checks) when it fails."""
    started = now()
    source = get_source(name)
    landing = LandingZone(settings)
    with HttpClient(settings, rate_limits=source.rate_limits) as http:
        ctx = FetchContext(settings=settings, http=http, landing=landing, run_id=run_id)
        try:
            result = source.fetch(ctx)
        except OrefError as exc:
            target = (exc.url or exc.file or "") if isinstance(exc, SourceError) else ""
            ctx.checks.append(CheckResult(name, "fetch_and_land", "oref", "error", "fail", str(exc), target=target))
            save_checks(settings.runs_dir, run_id, name, ctx.checks)
            failed = FetchResult(name, "failed", message=str(exc), checks_failed=1)
            record_step(settings, run_id, f"fetch_{name}", "failed", started, result=asdict(failed),
                        source_mode=settings.source_mode)
            raise
        ctx.checks.append(CheckResult(name, "fetch_and_land", "oref", "error", "pass", result.message))
        save_checks(settings.runs_dir, run_id, name, ctx.checks)
    result.checks_passed = sum(c.status == "pass" for c in ctx.checks)
    result.checks_failed = sum(c.status == "fail" for c in ctx.checks)
    record_step(settings, run_id, f"fetch_{name}", result.status, started, result=asdict(result),
                source_mode=settings.source_mode)
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
        except OrefError as exc:
            result = FetchResult(name, "failed", message=str(exc))
        results.append(result)
        if index == 1:
            pause_at(settings, "fetch", run_id)  # fault injection for the crash tests (oref.pause)
        progress(f"[fetch {index}/{len(names)}] {name}: {result.status} ({result.rows} rows, "
                 f"{time.monotonic() - started:.1f}s){' — ' + result.message if result.status == 'failed' else ''}")
    return results


# --- build --------------------------------------------------------------------------------------
SERVING_CHECK = "serving_file_readable"


def build(settings: Settings, run_id: str, progress: Progress = print) -> BuildResult:
    """Load the latest landed files into a new build file, run dbt build and audit it.

    The audit is every check of the run (landing suites, dbt tests and unit tests, the serving
    file's smoke check). Raises ``QualityGateError`` when an error-level check failed: the build
    file stays in ``warehouse/builds/<run_id>/`` for debugging and nothing is published.
    """
    started = now()
    try:
        result = _build(settings, run_id, progress)
    except QualityGateError as exc:
        record_step(settings, run_id, "build", "blocked", started, message=str(exc))
        raise
    except Exception as exc:
        record_step(settings, run_id, "build", "failed", started, message=f"{type(exc).__name__}: {exc}")
        raise
    record_step(settings, run_id, "build", "built", started, result=asdict(result))
    return result


def _build(settings: Settings, run_id: str, progress: Progress) -> BuildResult:
    # builds/<run>/oref.duckdb: DuckDB names a file's catalog after its stem, and dbt's views refer to
    # it ("oref".raw.x); the build must carry the published name or staging views break once published
    path = settings.build_dir / run_id / "oref.duckdb"
    clean_leftovers(settings, run_id, progress)  # what killed runs left in warehouse/ (oref.publish)
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}.wal"), serving_of(path)):
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
    _, target = dbt.run(settings, path, run_id, ["build"], progress)
    pause_at(settings, "audit", run_id)  # fault injection for the crash tests (oref.pause)
    progress("[serving] marts -> serving.duckdb ...")
    save_checks(settings.runs_dir, run_id, "warehouse", [_serving_check(path)])
    result.serving = str(serving_of(path))
    checks = load_checks(settings.runs_dir, run_id) + dbt.check_results(target)
    result.checks_passed = sum(c.status == "pass" for c in checks)
    result.checks_failed = sum(c.blocking for c in checks)
    result.checks_warned = sum(c.status == "fail" and not c.blocking for c in checks)
    result.failures = [f"{c.source}/{c.check_name}: {c.message}" for c in checks if c.blocking]
    reason = (f"{len(result.failures)} error-level check(s) failed; not publishing:\n  "
              + "\n  ".join(result.failures[:20])) if result.failures else None
    # the warehouse carries its own audit; a file that passes is only ever read once published
    record = _run_record(settings, run_id, read_steps(settings, run_id), checks,
                         "blocked" if reason else "published", reason)
    con = duckdb.connect(str(path))
    try:
        write_tables(con, record, checks, landed_files(settings))
        _copy_history(con, settings, run_id)
    finally:
        con.close()
    write_report(settings, run_id, checks)
    if reason:
        raise QualityGateError(reason)
    progress("[dbt] docs generate ...")
    dbt.generate_docs(settings, path, run_id, progress)
    return result


def _serving_check(build_path: Path) -> CheckResult:
    """Write the build's serving file and open it as Superset will: an error-level check."""
    serving = serving_of(build_path)
    try:
        write_serving(build_path, serving)
        rows = smoke_check_serving(serving)
    except (OrefError, duckdb.Error) as exc:
        return CheckResult("warehouse", SERVING_CHECK, "oref", "error", "fail", str(exc), target=str(serving))
    return CheckResult("warehouse", SERVING_CHECK, "oref", "error", "pass",
                       f"marts only, {rows:,} rows in marts.mart_indicators", str(rows), str(serving))


def _copy_history(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> None:
    """Earlier runs, for stewards charting the history: from the quality store, else the published warehouse."""
    for source in (settings.quality_path, settings.warehouse_path):
        if source.is_file() and readable(source) is None:
            con.execute(f"attach '{str(source).replace(chr(39), chr(39) * 2)}' as history (read_only)")
            try:
                copy_quality_history(con, "history", except_run=run_id)
            finally:
                con.execute("detach history")
            return


# --- publish and export -------------------------------------------------------------------------
def run_id_of(build_path: Path) -> str | None:
    """``builds/<run_id>/oref.duckdb`` -> the run id; else the newest run the file records."""
    if build_path.name == "oref.duckdb" and build_path.parent.parent.name == "builds":
        return build_path.parent.name
    if not build_path.is_file():
        return None
    con = duckdb.connect(str(build_path), read_only=True)
    try:
        row = con.execute("select run_id from quality.runs order by finished_at desc limit 1").fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    return str(row[0]) if row else None


def published_run(settings: Settings) -> str | None:
    """The run that built the published warehouse (its newest ``quality.runs`` row)."""
    return run_id_of(settings.warehouse_path) if settings.warehouse_path.is_file() else None


def publish(settings: Settings, build_path: str | Path, progress: Progress = print) -> PublishResult:
    """Swap an audited build in as the published warehouse, with its serving file.

    Publishing is always followed by ``export`` (``run`` and ``oref publish`` call it; the DAG has an
    export task). A build already published by this run (an Airflow retry after the swap) is not an
    error: the build file is gone because it is the published warehouse.
    """
    build_file = Path(build_path)
    run_id = run_id_of(build_file)
    started = now()
    if not build_file.exists() and run_id is not None and published_run(settings) == run_id:
        progress(f"[publish] run {run_id} is already published")
        result = PublishResult(str(settings.warehouse_path), None, settings.warehouse_path.stat().st_size,
                               str(settings.serving_path))
    else:
        progress("[publish] atomic swap ...")
        try:
            result = swap_in(settings, build_file)
        except OrefError as exc:
            if run_id:
                record_step(settings, run_id, "publish", "failed", started, message=str(exc))
            raise
    if run_id:
        record_step(settings, run_id, "publish", "published", started, result=asdict(result))
    progress(f"[publish] {result.path} and {result.serving}")
    return result


def export(settings: Settings, run_id: str, progress: Progress = print) -> PostPublish:
    """Write the open-data package and the dbt docs of the published warehouse (built by ``run_id``),
    and re-import the dashboards of the data dir's Superset when it has one."""
    started = now()
    try:
        exported = after_publish(settings, run_id, progress)
    except OrefError as exc:
        record_step(settings, run_id, "export", "failed", started, message=str(exc))
        raise
    dashboards = refresh_dashboards(settings, progress)
    record_step(settings, run_id, "export", "exported", started, result=asdict(exported), dashboards=dashboards)
    return exported


def refresh_dashboards(settings: Settings, progress: Progress = print) -> str:
    """Re-import the dashboards of this data dir's Superset, if it has one (see superset_assets).

    The warehouse is published by now: dashboards already read the new marts. The import renews
    the datasets' publication stamp, which clears their chart caches; when it fails, the run says
    so and stays published.
    """
    from oref.superset_assets import SupersetBootstrapError, refresh_after_publish

    try:
        done = refresh_after_publish(settings, progress)
    except (SupersetBootstrapError, OSError) as exc:
        done = f"failed: {exc}"
        progress(f"[superset] dashboards not re-imported ({exc}); run `oref superset-import`")
    else:
        progress(f"[superset] {done}")
    return done


# --- finish -------------------------------------------------------------------------------------
def _run_record(settings: Settings, run_id: str, steps: dict[str, dict[str, Any]], checks: list[CheckResult],
                status: str, reason: str | None) -> RunRecord:
    from oref import __version__
    from oref.quality.report import report_path

    fetches = _fetches(steps)
    started = min((s["started_at"] for s in steps.values()), default=now())
    return RunRecord(
        run_id=run_id, started_at=started, finished_at=now(), territory=settings.territory.label,
        source_mode=settings.source_mode, status=status,  # type: ignore[arg-type]
        sources_fetched=sum(f.status == "landed" for f in fetches),
        sources_unchanged=sum(f.status == "unchanged" for f in fetches),
        sources_failed=sum(f.status == "failed" for f in fetches),
        checks_passed=sum(c.status == "pass" for c in checks), checks_failed=sum(c.blocking for c in checks),
        checks_warned=sum(c.status == "fail" and not c.blocking for c in checks), oref_version=__version__,
        reason=reason, report_path=str(report_path(settings, run_id).resolve()),
    )


def outcome(steps: dict[str, dict[str, Any]], error: str | None = None) -> tuple[str, str | None]:
    """(status, reason) of a run from its step records: published, blocked or failed."""
    publish_step, build_step = steps.get("publish", {}), steps.get("build", {})
    failed_sources = [f for f in _fetches(steps) if f.status == "failed"]
    if publish_step.get("status") == "published":
        return "published", None
    if failed_sources:
        return "blocked", "source(s) failed, publication blocked: " + "; ".join(f.message for f in failed_sources)
    if build_step.get("status") in ("blocked", "failed"):
        return str(build_step["status"]), str(build_step.get("message") or error or "")
    if publish_step.get("status") == "failed":
        return "failed", str(publish_step.get("message") or error or "")
    if build_step:
        return "failed", error or "the build passed its checks but was not published (no publish step ran)"
    return "failed", error or "the run stopped before its build (no build step ran)"


def finish(settings: Settings, run_id: str, progress: Progress = print, *, error: str | None = None) -> RunRecord:
    """End a run, whatever its outcome: write its quality report and its record in the quality store.

    ``error`` is the reason to record when the step records name none (an error outside the steps).
    """
    steps = read_steps(settings, run_id)
    status, reason = outcome(steps, error)
    checks = load_checks(settings.runs_dir, run_id)
    if "build" in steps:
        checks += dbt.check_results(dbt.target_dir(settings, run_id))
    export_step = steps.get("export", {})
    if export_step.get("status") == "failed":
        checks.append(CheckResult("warehouse", "open_data_export", "oref", "error", "fail",
                                  str(export_step.get("message") or "")))
    record = _run_record(settings, run_id, steps, checks, status, reason)
    written: StoreWrite = record_run(settings, record, checks, landed_files(settings), progress)
    # after the store: a store that had to be rebuilt adds a check the report must show
    write_report(settings, run_id, [*checks, *written.checks_added], status=status, reason=reason)
    progress(f"[quality] run {run_id} {status}; {written.runs} run(s) in {written.path}")
    return record


# --- the whole refresh --------------------------------------------------------------------------
def run(settings: Settings, run_id: str | None = None, progress: Progress = print) -> RunSummary:
    """Fetch, build, publish and export, then finish: ``oref run`` and the tests' shared run."""
    run_id = run_id or new_run_id()
    summary = RunSummary(run_id, settings.territory.label, settings.source_mode, now())
    progress(f"oref run {run_id}: territory {settings.territory.label}, sources {settings.source_mode}")
    try:
        summary.fetches = fetch_all(settings, run_id, progress)
        failed = [f for f in summary.fetches if f.status == "failed"]
        if failed:
            raise QualityGateError(
                "source(s) failed, publication blocked: " + "; ".join(f.message for f in failed))
        summary.build = build(settings, run_id, progress)
        summary.published = publish(settings, summary.build.path, progress)
        # the warehouse is published from here on: a failed export fails the run, not the publish
        exported = export(settings, run_id, progress)
        summary.docs = exported.docs
        summary.open_data = exported.open_data.path if exported.open_data else None
    except OrefError as exc:
        summary.error = str(exc)
    try:
        record = finish(settings, run_id, progress, error=summary.error)
        summary.status, summary.report = record.status, record.report_path
        summary.quality_store = str(settings.quality_path)
    except (OrefError, duckdb.Error, OSError) as exc:
        summary.error = "; ".join(filter(None, [summary.error, f"the quality store was not written: {exc}"]))
    summary.finished_at = now()
    path = settings.runs_dir / run_id / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return summary
