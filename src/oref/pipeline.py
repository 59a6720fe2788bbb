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

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from oref import dbt
from oref.config import Settings
from oref.errors import OrefError, QualityGateError, SourceError
from oref.fingerprint import fingerprint, unchanged_since
from oref.http import HostLimiters, HttpClient
from oref.landing import LandedFile, LandingZone, vintage_key
from oref.opendata import PostPublish, after_publish
from oref.pause import pause_at
from oref.publish import PublishResult, clean_leftovers, serving_of, smoke_check_serving, write_serving
from oref.publish import publish as swap_in
from oref.quality.checks import CheckResult, checks_path, load_checks, save_checks
from oref.quality.report import write_report
from oref.quality.store import (
    RunRecord,
    SourceStatus,
    StoreWrite,
    landed_files,
    now,
    readable,
    record_run,
    schema_of,
    write_tables,
)
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
    fingerprint: str | None = None  # what the build is made from (oref.fingerprint)


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
    status: str | None = None  # published | degraded | blocked | failed | unchanged, as in quality.runs
    report: str | None = None  # the run's HTML quality report
    quality_store: str | None = None
    error: str | None = None
    finished_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "unchanged" or (self.error is None and self.published is not None)

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


# --- what each source contributes to a run -------------------------------------------------------
STALE_CHECK = "source_stale"


def _digest(files: list[tuple[str, str]]) -> str | None:
    """One file's sha256, or for several the sha256 of their sorted "name sha256" lines."""
    if not files:
        return None
    if len(files) == 1:
        return files[0][1]
    lines = "".join(f"{name} {sha}\n" for name, sha in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _newest_vintage(vintages: list[str]) -> str | None:
    """The newest data vintage (``oref.landing.vintage_key`` order; text order when one cannot be read)."""
    if not vintages:
        return None
    keys = [vintage_key(v) for v in vintages]
    if all(k is not None for k in keys) and len({k[0] for k in keys if k is not None}) == 1:
        return max(zip(vintages, keys, strict=True), key=lambda item: item[1] or ())[0]
    return max(vintages)


def previous_publication(settings: Settings, run_id: str) -> dict[str, tuple[str | None, str | None, int | None]]:
    """Per source, (data vintage, digest, rows) of the files the previous publication was built from.

    Read from the published warehouse's own ``quality`` tables: its newest published (or degraded)
    run other than ``run_id``. Empty on a first run or when the warehouse cannot be read.
    """
    if not settings.warehouse_path.is_file():
        return {}
    try:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.Error:
        return {}
    try:
        schema = schema_of(con)
        row = con.execute(f"select run_id from {schema}.runs where run_id <> ? and status in "
                          "('published', 'degraded', 'built') order by finished_at desc limit 1", [run_id]).fetchone()
        if row is None:
            return {}
        rows = con.execute(f"select source, name, data_vintage, sha256, rows from {schema}.source_files "
                           "where run_id = ?", [row[0]]).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    by_source: dict[str, list[tuple[str, str | None, str, int | None]]] = {}
    for source, name, vintage, sha, count in rows:
        by_source.setdefault(source, []).append((name, vintage, sha, count))
    return {source: (_newest_vintage([v for _, v, _, _ in files if v]), _digest([(n, s) for n, _, s, _ in files]),
                     sum(int(c or 0) for _, _, _, c in files))
            for source, files in by_source.items()}


def policy_of(settings: Settings, name: str) -> str:
    """What a failed fetch of ``name`` does: its declared ``on_failure``, or ``block`` when the
    operator lists it in ``OREF_BLOCK_ON_FAILURE``."""
    return "block" if name in settings.block_on_failure else get_source(name).on_failure


def source_states(settings: Settings, run_id: str, steps: dict[str, dict[str, Any]] | None = None, *,
                  as_of: datetime | None = None, moment: datetime | None = None) -> list[SourceStatus]:
    """What each source contributes to the run, from its fetch step record and the landing zone.

    landed / unchanged / skipped: as the fetch said (skipped too when no fetch ran: ``oref build``
    alone, an as-of rebuild). A failed fetch is ``stale`` when the source's policy is
    ``use_last_good`` and it has landed files (the build reads them), else ``failed`` (it blocks).
    The files described are those the build reads (landed up to ``as_of``).
    """
    steps = read_steps(settings, run_id) if steps is None else steps
    landing = LandingZone(settings, as_of=as_of)
    previous = previous_publication(settings, run_id)
    at = moment or datetime.now(UTC)
    states: list[SourceStatus] = []
    for name in SOURCE_NAMES:
        policy = policy_of(settings, name)
        files: list[LandedFile] = list(landing.latest_by_name(name).values())
        step = steps.get(f"fetch_{name}")
        fetched = FetchResult(**step["result"]) if step and "result" in step else None
        if fetched is None:
            status, message = "skipped", "not fetched in this run" + (" (as-of rebuild)" if as_of else "")
        elif fetched.status == "failed":
            usable = policy == "use_last_good" and bool(files)
            status, message = ("stale" if usable else "failed"), fetched.message
            if not usable:
                message += (" (the source's policy is to block)" if policy == "block"
                            else " (no landed file to fall back on)")
        else:
            status, message = fetched.status, fetched.message
        landed_at = max((f.fetched_at for f in files), default=None)
        before = previous.get(name, (None, None, None))
        states.append(SourceStatus(
            name, status, policy, message,  # type: ignore[arg-type]
            data_vintage=_newest_vintage([f.data_vintage for f in files]),
            landed_at=landed_at.isoformat(timespec="seconds") if landed_at else None,
            age_days=round((at - landed_at).total_seconds() / 86400, 2) if landed_at else None,
            sha256=_digest([(f.name, f.sha256) for f in files]),
            rows=sum(int(f.manifest.get("rows") or 0) for f in files) if files else None, files=len(files),
            previous_data_vintage=before[0], previous_sha256=before[1], previous_rows=before[2]))
    return states


def stale_note(state: SourceStatus) -> str:
    """``offers (data vintage 2025-05, landed 2025-05-02T05:01:00+00:00, 31.0 days old): HTTP 503 ...``"""
    return (f"{state.source} (data vintage {state.data_vintage}, landed {state.landed_at}, "
            f"{state.age_days} days old): {state.message}")


def degraded_reason(stale: list[SourceStatus]) -> str:
    return (f"{len(stale)} source(s) stale, their last good files used: "
            + "; ".join(stale_note(s) for s in stale))


def _accept_stale(settings: Settings, run_id: str, stale: list[SourceStatus]) -> None:
    """A stale source's failed fetch checks no longer block: rewritten as warnings, with one more
    warning naming the source, the reason, and the vintage and age of the files used instead."""
    for state in stale:
        path = checks_path(settings.runs_dir, run_id, state.source)
        checks = [CheckResult(**item) for item in json.loads(path.read_text("utf-8"))] if path.is_file() else []
        for check in checks:
            if check.blocking:
                check.severity = "warn"
        checks = [c for c in checks if c.check_name != STALE_CHECK]
        checks.append(CheckResult(state.source, STALE_CHECK, "oref", "warn", "fail",
                                  f"source '{state.source}' failed ({state.message}); the build uses its last good "
                                  f"files: data vintage {state.data_vintage}, landed {state.landed_at}, "
                                  f"{state.age_days} days old", observed=str(state.data_vintage),
                                  target=str(settings.landing_dir / state.source)))
        save_checks(settings.runs_dir, run_id, state.source, checks)


# --- fetch --------------------------------------------------------------------------------------
def fetch_source(settings: Settings, name: str, run_id: str, *, refresh: bool = False,
                 limiters: HostLimiters | None = None) -> FetchResult:
    """Fetch one source; raises ``SourceError`` (after recording its checks) when it fails.
    ``limiters``: the per-host pacing shared with the sources fetched at the same time."""
    started = now()
    source = get_source(name)
    landing = LandingZone(settings)
    with HttpClient(settings, rate_limits=source.rate_limits, shared_limiters=limiters) as http:
        ctx = FetchContext(settings=settings, http=http, landing=landing, run_id=run_id, refresh=refresh)
        try:
            result = source.fetch(ctx)
        except (OrefError, OSError) as exc:  # OSError: a landing that cannot be written (full disk)
            target = (exc.url or exc.file or "") if isinstance(exc, SourceError) else ""
            message = str(exc) if isinstance(exc, OrefError) else f"source '{name}': {describe_failure('fetch', exc)}"
            ctx.checks.append(CheckResult(name, "fetch_and_land", "oref", "error", "fail", message, target=target))
            save_checks(settings.runs_dir, run_id, name, ctx.checks)
            failed = FetchResult(name, "failed", message=message, checks_failed=1)
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
              names: tuple[str, ...] = SOURCE_NAMES, *, refresh: tuple[str, ...] = ()) -> list[FetchResult]:
    """Fetch every source, ``settings.fetch_workers`` at a time (``OREF_FETCH_WORKERS``); one failing
    source does not stop the others. Each host keeps its rate limit across the sources fetched at
    once (``HostLimiters``), so the wall time is about the slowest source's, not the sum. Results
    come back in ``names`` order. ``refresh``: sources whose monthly API extract is fetched anew
    even when this month's has landed (``--refresh SOURCE``)."""
    limiters = HostLimiters()
    total = len(names)

    def one(name: str) -> tuple[FetchResult, float]:
        started = time.monotonic()
        try:
            result = fetch_source(settings, name, run_id, refresh=name in refresh, limiters=limiters)
        except (OrefError, OSError) as exc:
            result = FetchResult(name, "failed", message=str(exc) if isinstance(exc, OrefError)
                                 else f"source '{name}': {describe_failure('fetch', exc)}")
        return result, time.monotonic() - started

    by_name: dict[str, FetchResult] = {}
    # the paced API sources (they mostly wait for their rate limit) start first, so that their waits
    # overlap the parsing of the big files, which holds the interpreter
    order = sorted(enumerate(names, 1), key=lambda item: not get_source(item[1]).rate_limits)
    with ThreadPoolExecutor(max_workers=settings.fetch_workers, thread_name_prefix="fetch") as pool:
        futures = {}
        for index, name in order:
            progress(f"[fetch {index}/{total}] {name} ...")
            futures[pool.submit(one, name)] = (index, name)
        for future in as_completed(futures):
            index, name = futures[future]
            result, seconds = future.result()
            by_name[name] = result
            progress(f"[fetch {index}/{total}] {name}: {result.status} ({result.rows} rows, {seconds:.1f}s)"
                     f"{' — ' + result.message if result.status == 'failed' else ''}")
            if len(by_name) == 1:
                pause_at(settings, "fetch", run_id)  # fault injection for the crash tests (oref.pause)
    return [by_name[name] for name in names]


# --- build --------------------------------------------------------------------------------------
SERVING_CHECK = "serving_file_readable"


def describe_failure(step: str, exc: BaseException) -> str:
    """One line naming the step, the problem and the path: ``build: no space left on device writing /...``."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"{step}: {exc.strerror[:1].lower()}{exc.strerror[1:]}{where}"
    if isinstance(exc, OrefError | duckdb.IOException):  # DuckDB's text names the file: 'IO Error: ... "<path>"'
        return f"{step}: {exc}"
    return f"{step}: {type(exc).__name__}: {exc}"


def build(settings: Settings, run_id: str, progress: Progress = print, *,
          as_of: datetime | None = None) -> BuildResult:
    """Load the landed files into a new build file, run dbt build and audit it.

    First decides from the run's fetch records (``source_states``): a failed source whose policy is
    ``use_last_good`` and which has landed files is *stale*, its last good files are used and its
    failed fetch checks become warnings (the run is then ``degraded``); a failed source that blocks,
    or has nothing landed, blocks the build. ``as_of``: build from the files landed up to that
    instant (``oref build --as-of``).

    The audit is every check of the run (landing suites, dbt tests and unit tests, the serving
    file's smoke check). Raises ``QualityGateError`` when an error-level check failed: the build
    file stays in ``warehouse/builds/<run_id>/`` for debugging and nothing is published.
    """
    started = now()
    as_of_text = as_of.isoformat(timespec="seconds") if as_of else None
    states: list[SourceStatus] = []
    try:
        states = source_states(settings, run_id, as_of=as_of)
        result = _build(settings, run_id, progress, states, as_of)
    except QualityGateError as exc:
        record_step(settings, run_id, "build", "blocked", started, message=str(exc), as_of=as_of_text,
                    sources=[asdict(s) for s in states])
        raise
    except Exception as exc:
        record_step(settings, run_id, "build", "failed", started, message=describe_failure("build", exc),
                    as_of=as_of_text, sources=[asdict(s) for s in states])
        raise
    stale = [s for s in states if s.status == "stale"]
    record_step(settings, run_id, "build", "built", started, result=asdict(result), as_of=as_of_text,
                sources=[asdict(s) for s in states], stale=[s.source for s in stale],
                reason=degraded_reason(stale) if stale else None)
    return result


def _build(settings: Settings, run_id: str, progress: Progress, states: list[SourceStatus],
           as_of: datetime | None) -> BuildResult:
    blockers = [s for s in states if s.status == "failed"]
    if blockers:
        raise QualityGateError("source(s) failed, publication blocked: " + "; ".join(s.message for s in blockers))
    stale = [s for s in states if s.status == "stale"]
    if stale:
        _accept_stale(settings, run_id, stale)
        progress(f"[sources] {degraded_reason(stale)}")
    if as_of is not None:
        progress(f"[as-of] building from the files landed up to {as_of.isoformat(timespec='seconds')}")
    # builds/<run>/oref.duckdb: DuckDB names a file's catalog after its stem, and dbt's views refer to
    # it ("oref".raw.x); the build must carry the published name or staging views break once published
    path = settings.build_dir / run_id / "oref.duckdb"
    clean_leftovers(settings, run_id, progress)  # what killed runs left in warehouse/ (oref.publish)
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}.wal"), serving_of(path)):
        leftover.unlink(missing_ok=True)
    result = BuildResult(str(path), run_id, fingerprint=fingerprint(settings, as_of))
    landing = LandingZone(settings, as_of=as_of)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        for name in SOURCE_NAMES:
            progress(f"[load] {name} ...")
            try:
                counts = get_source(name).load(con, settings, landing, run_id)
            except duckdb.IOException:
                raise  # the build file cannot be written (a full disk): not the source's fault
            except duckdb.Error as exc:
                raise SourceError(name, f"loading into raw failed: {exc}") from exc
            result.rows.update(counts)
            progress(f"[load] {name}: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))
    finally:
        con.close()
    # unreadable manifests or manifest-less files met while choosing the files to load: warnings
    save_checks(settings.runs_dir, run_id, "landing", landing.drain_problems())
    progress("[dbt] build (models, data tests, unit tests) ...")
    _, target = dbt.run(settings, path, run_id, ["build"], progress)
    pause_at(settings, "audit", run_id)  # fault injection for the crash tests (oref.pause)
    progress("[serving] marts -> serving.duckdb ...")
    save_checks(settings.runs_dir, run_id, "warehouse", [_serving_check(path)])
    save_checks(settings.runs_dir, run_id, "drift", _drift_checks(settings, path))
    result.serving = str(serving_of(path))
    checks = load_checks(settings.runs_dir, run_id) + dbt.check_results(target)
    result.checks_passed = sum(c.status == "pass" for c in checks)
    result.checks_failed = sum(c.blocking for c in checks)
    result.checks_warned = sum(c.status == "fail" and not c.blocking for c in checks)
    result.failures = [f"{c.source}/{c.check_name}: {c.message}" for c in checks if c.blocking]
    reason = (f"{len(result.failures)} error-level check(s) failed; not publishing:\n  "
              + "\n  ".join(result.failures[:20])) if result.failures else None
    # the warehouse carries its own audit; a file that passes is only ever read once published
    status = "blocked" if reason else "degraded" if stale else "published"
    record = _run_record(settings, run_id, read_steps(settings, run_id), checks, status,
                         reason or (degraded_reason(stale) if stale else None), fingerprint=result.fingerprint,
                         states=states, as_of=as_of.isoformat(timespec="seconds") if as_of else None)
    record.published_run_id = None if reason else run_id
    con = duckdb.connect(str(path))
    try:
        write_tables(con, record, checks, landed_files(settings, as_of=as_of), states)
        _copy_history(con, settings, run_id)
    finally:
        con.close()
    write_report(settings, run_id, checks, sources=states)
    if reason:
        raise QualityGateError(reason)
    progress("[dbt] docs generate ...")
    dbt.generate_docs(settings, path, run_id, progress)
    return result


def _drift_checks(settings: Settings, build_path: Path) -> list[CheckResult]:
    """Row counts and indicator values against the previous publication (``oref.quality.drift``)."""
    from oref.quality.drift import drift_checks

    published = settings.warehouse_path if settings.warehouse_path.is_file() else None
    try:
        return drift_checks(settings, build_path, published)
    except duckdb.Error as exc:  # a published warehouse that cannot be compared: say so, do not block
        return [CheckResult("warehouse", "drift_compared", "oref", "warn", "fail",
                            f"drift checks skipped: {type(exc).__name__}: {exc}", target=str(published))]


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
                status: str, reason: str | None, *, fingerprint: str | None = None,
                states: list[SourceStatus] | None = None, as_of: str | None = None) -> RunRecord:
    from oref import __version__
    from oref.quality.report import report_path

    fetches = _fetches(steps)
    started = min((s["started_at"] for s in steps.values()), default=now())
    return RunRecord(
        run_id=run_id, started_at=started, finished_at=now(), territory=settings.territory.label,
        source_mode=settings.source_mode, status=status,  # type: ignore[arg-type]
        sources_fetched=sum(f.status == "landed" for f in fetches),
        sources_unchanged=sum(f.status == "unchanged" for f in fetches),
        sources_failed=(sum(s.status == "failed" for s in states) if states is not None
                        else sum(f.status == "failed" for f in fetches)),
        sources_stale=sum(s.status == "stale" for s in states or []), as_of=as_of,
        checks_passed=sum(c.status == "pass" for c in checks), checks_failed=sum(c.blocking for c in checks),
        checks_warned=sum(c.status == "fail" and not c.blocking for c in checks), oref_version=__version__,
        reason=reason, report_path=str(report_path(settings, run_id).resolve()),
        fingerprint=fingerprint or (steps.get("build", {}).get("result") or {}).get("fingerprint")
        or steps.get("unchanged", {}).get("fingerprint"),
    )


def outcome(steps: dict[str, dict[str, Any]], error: str | None = None) -> tuple[str, str | None]:
    """(status, reason) of a run from its step records: published, degraded, blocked, failed or unchanged."""
    publish_step, build_step = steps.get("publish", {}), steps.get("build", {})
    if steps.get("unchanged", {}).get("status") == "unchanged":  # nothing new: not rebuilt (oref.fingerprint)
        return "unchanged", f"nothing new since run {steps['unchanged'].get('published_run_id')}: not rebuilt"
    failed_sources = [f for f in _fetches(steps) if f.status == "failed"]
    if publish_step.get("status") == "published":
        # the build decided which failed sources were stale (their last good files used)
        if build_step.get("stale"):
            return "degraded", str(build_step.get("reason") or "")
        return "published", None
    if build_step.get("status") in ("blocked", "failed"):
        return str(build_step["status"]), str(build_step.get("message") or error or "")
    if failed_sources and not build_step:  # no build ran to fall back on last good files
        return "blocked", "source(s) failed, publication blocked: " + "; ".join(f.message for f in failed_sources)
    if publish_step.get("status") == "failed":
        return "failed", str(publish_step.get("message") or error or "")
    if build_step.get("as_of") and build_step.get("status") in ("built", "published", "degraded"):
        # an as-of rebuild (an Airflow backfill) is audited and kept, never swapped in over today's
        verdict = "degraded" if build_step.get("stale") else "published"
        return verdict, (f"as-of rebuild (files landed up to {build_step['as_of']}): audited and kept in "
                         "warehouse/builds/, not swapped in over the published warehouse")
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
    build_step = steps.get("build", {})
    as_of_text = build_step.get("as_of")
    as_of = datetime.fromisoformat(as_of_text) if as_of_text else None
    # the build's view of the sources (with the previous publication as it was before this run's)
    states = ([SourceStatus(**s) for s in build_step["sources"]] if build_step.get("sources")
              else source_states(settings, run_id, steps, as_of=as_of))
    record = _run_record(settings, run_id, steps, checks, status, reason, states=states, as_of=as_of_text)
    record.published_run_id = published_run(settings)
    written: StoreWrite = record_run(settings, record, checks, landed_files(settings, as_of=as_of), progress,
                                     statuses=states)
    # after the store: a store that had to be rebuilt adds a check the report must show
    write_report(settings, run_id, [*checks, *written.checks_added], status=status, reason=reason)
    progress(f"[quality] run {run_id} {status}; {written.runs} run(s) in {written.path}")
    write_summary(settings, summary_of(settings, run_id, record, steps))  # `oref run` rewrites it, fuller
    if status in ("blocked", "degraded", "failed"):
        from oref.alerts import send_alert

        problem = send_alert(settings, record)
        if problem:
            progress(f"[alert] not sent: {problem}")
    return record


def write_summary(settings: Settings, summary: RunSummary) -> Path:
    """``runs/<run_id>/summary.json``, written aside and renamed."""
    path = settings.runs_dir / summary.run_id / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".summary.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    tmp.replace(path)
    return path


def summary_of(settings: Settings, run_id: str, record: RunRecord,
               steps: dict[str, dict[str, Any]]) -> RunSummary:
    """A run's summary from its step records: what ``finish`` writes for Airflow runs and one-step commands."""
    summary = RunSummary(run_id, settings.territory.label, settings.source_mode, record.started_at,
                         fetches=_fetches(steps), status=record.status, report=record.report_path,
                         quality_store=str(settings.quality_path), finished_at=record.finished_at)
    build_result = steps.get("build", {}).get("result")
    if build_result:
        summary.build = BuildResult(**{k: v for k, v in build_result.items()
                                       if k in BuildResult.__dataclass_fields__})
    publish_result = steps.get("publish", {}).get("result")
    if publish_result:
        summary.published = PublishResult(**publish_result)
    export_result = steps.get("export", {}).get("result") or {}
    summary.docs = export_result.get("docs")
    summary.open_data = (export_result.get("open_data") or {}).get("path")
    if record.status not in ("published", "degraded", "unchanged"):
        summary.error = record.reason
    return summary


# --- the whole refresh --------------------------------------------------------------------------
class _NothingNew(Exception):
    """The run stops after its fetches: nothing new since the published run (recorded by ``_stop_if_unchanged``)."""


def _stop_if_unchanged(settings: Settings, run_id: str, fetches: list[FetchResult], progress: Progress) -> bool:
    """Nothing landed and the fingerprint is the published run's: record the ``unchanged`` step, say so."""
    started = now()
    same = unchanged_since(settings, [f.status for f in fetches])
    if same is None:
        return False
    published_run_id, digest = same
    progress(f"nothing new since run {published_run_id}: not rebuilt (`oref run --force` rebuilds anyway)")
    record_step(settings, run_id, "unchanged", "unchanged", started, published_run_id=published_run_id,
                fingerprint=digest)
    return True


def run(settings: Settings, run_id: str | None = None, progress: Progress = print, *,
        force: bool = False, as_of: datetime | None = None, refresh: tuple[str, ...] = ()) -> RunSummary:
    """Fetch, build, publish and export, then finish: ``oref run`` and the tests' shared run.

    After the fetches, a run with nothing new (``oref.fingerprint.unchanged_since``) stops there with
    status ``unchanged``; ``force`` rebuilds anyway. A failed source does not stop the run by itself:
    the build decides (stale sources, see ``build``). ``as_of``: no fetch, a rebuild from the files
    landed up to that instant, published. ``refresh``: the sources whose monthly extract is fetched
    anew. An OS or DuckDB error (a full disk) ends the run with a message naming the step and path.
    """
    run_id = run_id or new_run_id()
    summary = RunSummary(run_id, settings.territory.label, settings.source_mode, now())
    progress(f"oref run {run_id}: territory {settings.territory.label}, sources {settings.source_mode}")
    clean_leftovers(settings, run_id, progress)  # builds of killed runs, even when this one builds nothing
    step = "fetch"
    try:
        if as_of is None:
            summary.fetches = fetch_all(settings, run_id, progress, refresh=refresh)
            if not force and _stop_if_unchanged(settings, run_id, summary.fetches, progress):
                raise _NothingNew
        step = "build"
        summary.build = build(settings, run_id, progress, as_of=as_of)
        step = "publish"
        summary.published = publish(settings, summary.build.path, progress)
        # the warehouse is published from here on: a failed export fails the run, not the publish
        step = "export"
        exported = export(settings, run_id, progress)
        summary.docs = exported.docs
        summary.open_data = exported.open_data.path if exported.open_data else None
    except _NothingNew:
        pass
    except OrefError as exc:
        summary.error = describe_failure(step, exc)
    except (OSError, duckdb.Error) as exc:  # a full disk, a file that cannot be written
        summary.error = describe_failure(step, exc)
        progress(f"oref run: {summary.error}")
    try:
        record = finish(settings, run_id, progress, error=summary.error)
        summary.status, summary.report = record.status, record.report_path
        summary.quality_store = str(settings.quality_path)
    except (OrefError, duckdb.Error, OSError) as exc:
        summary.error = "; ".join(filter(None, [summary.error, f"the quality store was not written: "
                                                f"{describe_failure('finish', exc)}"]))
    summary.finished_at = now()
    try:
        write_summary(settings, summary)
    except OSError as exc:
        summary.error = "; ".join(filter(None, [summary.error, describe_failure("finish", exc)]))
    return summary
