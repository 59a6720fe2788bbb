"""What the ``oref_monthly_refresh`` Airflow DAG's tasks call, kept out of the DAG file.

The DAG file imports this module at parse time, and Airflow's dag-processor re-parses DAG files
every 30 s by default, so this module imports nothing but the standard library at the top: the heavy
``oref.pipeline`` (DuckDB, dbt, Great Expectations) is imported inside the step functions, when a
task runs. Nothing here imports Airflow, so the steps run and are tested without a metadata DB.

The steps return plain dicts because Airflow stores task return values as XCom in its metadata
database: small, JSON-serialisable values only (paths as strings, never DuckDB handles).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.errors import SourceError  # standard library only: cheap at parse time

if TYPE_CHECKING:
    from oref.config import Settings

log = logging.getLogger("oref.airflow")

# DuckDB lets one process at a time open a database file for writing, so every task that writes
# the warehouse or the quality store (build, publish, finish) takes the single slot of this Airflow
# pool; a second run or a backfill queues instead of failing on "Could not set lock on file" (or,
# for the quality store, instead of two runs rewriting it at once and one losing the other's row).
WRITER_POOL = "oref_duckdb_writer"
WRITER_POOL_SLOTS = 1
WRITER_POOL_DESCRIPTION = "oref: DuckDB has one writer; the tasks that write the warehouse queue here"

_UNSAFE_RUN_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_RUN_ID_LENGTH = 120


def sanitize_run_id(airflow_run_id: str) -> str:
    """Turn an Airflow run id into an oref run id: only ``[A-Za-z0-9_.-]``, safe in file names.

    Airflow's ids carry a timestamp with ``:`` and ``+`` (``scheduled__2025-06-02T05:00:00+00:00``),
    which are not portable in file and directory names; oref names build files and run reports
    after the run id. Leading dots are dropped so a run id can never be ``..`` or a hidden file.
    An over-long id is cut and given a short hash of the original, so two long ids sharing a
    prefix still differ.
    """
    cleaned = _UNSAFE_RUN_ID_CHARS.sub("_", airflow_run_id).lstrip(".")
    if not cleaned.strip("_.-"):
        raise ValueError(f"run id {airflow_run_id!r} has no usable character")
    if len(cleaned) > MAX_RUN_ID_LENGTH:
        digest = hashlib.sha256(airflow_run_id.encode("utf-8")).hexdigest()[:10]
        cleaned = f"{cleaned[: MAX_RUN_ID_LENGTH - 11]}-{digest}"
    return cleaned


def to_xcom(result: Any) -> dict[str, Any]:
    """A step result (a dataclass) as a JSON-safe dict: ``Path`` and dates become strings."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise TypeError(f"expected a dataclass instance, got {type(result).__name__}")
    payload: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(result), default=str))
    return payload


class PermanentSourceError(SourceError):
    """A source failed in a way a retry cannot cure (a 404, a 410, a refused token, a broken file).

    Airflow's ``RetryRule`` matches exceptions by class, not by attribute: ``fetch_step`` re-raises a
    ``SourceError`` whose ``permanent`` is true as this subclass, and the DAG's retry policy fails it
    at once. Transient ones (5xx, 429, timeouts, dropped connections) stay ``SourceError`` and are
    retried.
    """

    def __init__(self, error: SourceError) -> None:
        # keep the original's message verbatim (it names the source, the file, the URL, the status)
        Exception.__init__(self, str(error))
        self.source, self.url, self.file = error.source, error.url, error.file
        self.column, self.value, self._permanent = error.column, error.value, True


# A run whose logical date is older than this is a backfill of a past month (the schedule is
# monthly; a scheduled run late by a few days is still "now"): it rebuilds as of its data interval
# instead of fetching today's files.
AS_OF_AFTER = timedelta(days=32)


def as_of_for(logical_date: datetime | None, data_interval_end: datetime | None, run_type: str,
              now: datetime) -> datetime | None:
    """The as-of date a DAG run builds at: ``None`` (current data) unless it replays a past month.

    A backfill (``airflow backfill create``), or any run whose logical date is more than a schedule
    interval in the past, reproduces what that month would have published: it fetches nothing and
    builds from the files landed up to the end of its data interval (its logical date when the
    timetable has none).
    """
    if logical_date is None:
        return None
    if run_type != "backfill" and now - logical_date <= AS_OF_AFTER:
        return None
    return data_interval_end or logical_date


def _log_fetch(settings: Any, source: str, run_id: str, result: Any = None) -> None:
    """One log line per landed file (URL, bytes, vintage, sha256) and per check (name, status, message)."""
    from oref.quality.checks import checks_path
    from oref.quality.store import landed_files

    if result is not None:
        log.info("fetch %s: %s, %d file(s), %d rows: %s", source, result.status, len(result.files), result.rows,
                 result.message)
    try:
        files = [f for f in landed_files(settings) if f.source == source]
    except (OSError, ValueError) as exc:  # a damaged manifest must not hide the fetch's own outcome
        log.warning("fetch %s: the landing zone's manifests could not be read: %s", source, exc)
        files = []
    for f in files:
        log.info("fetch %s: file %s url=%s bytes=%s vintage=%s data_vintage=%s rows=%s sha256=%s",
                 source, f.name, f.url, f.bytes, f.vintage, f.data_vintage, f.rows, f.sha256)
    path = checks_path(settings.runs_dir, run_id, source)
    checks = json.loads(path.read_text("utf-8")) if path.is_file() else []
    for c in checks:
        log.info("fetch %s: check %s [%s/%s] %s: %s%s", source, c.get("check_name"), c.get("engine"),
                 c.get("severity"), str(c.get("status", "")).upper(), c.get("message"),
                 f" ({c['target']})" if c.get("target") else "")


# A step that writes the warehouse or the quality store holds the data directory's run lock
# (oref.lock), as the CLI's commands do, so an `oref run` started by hand and a DAG run never
# write at once. The step queues for it (an hour at most) rather than failing: the other holder
# is a run that will end. The fetches only land files (atomically) and run in parallel: no lock.
STEP_LOCK_WAIT_SECONDS = 3600.0


def step_lock(settings: Settings, step: str, run_id: str | None) -> contextlib.AbstractContextManager[Any]:
    from oref.lock import run_lock

    return run_lock(settings, f"airflow {step}", run_id=run_id, wait=STEP_LOCK_WAIT_SECONDS, progress=log.info)


def fetch_step(source: str, airflow_run_id: str) -> dict[str, Any]:
    """Fetch and land one source; raise ``SourceError`` (``PermanentSourceError``) if it failed.

    Each source is its own task, so one failing source fails only its task: the others still
    land, and the build reads each source's state from the step records (a ``use_last_good``
    source that failed is built from its last good files, a ``block`` source blocks the build).
    """
    from oref.config import Settings
    from oref.pipeline import fetch_source

    settings = Settings.from_env()
    # Every task of a DAG run derives the same oref run id, which is how build finds the checks
    # the fetch tasks recorded under runs/<run id>/.
    run_id = sanitize_run_id(airflow_run_id)
    try:
        result = fetch_source(settings, source, run_id=run_id)
    except SourceError as exc:
        _log_fetch(settings, source, run_id)
        if exc.permanent:
            log.error("fetch %s failed permanently, not retried: %s", source, exc)
            raise PermanentSourceError(exc) from exc
        log.warning("fetch %s failed, transient (retried while retries remain): %s", source, exc)
        raise
    _log_fetch(settings, source, run_id, result)
    if result.status == "failed":
        # fetch_source raises on failure; a "failed" result returned instead must still fail the
        # task, so the step's state in the UI matches its record.
        raise SourceError(source, result.message or "fetch reported status 'failed'")
    return to_xcom(result)


def skip_fetch_step(source: str, airflow_run_id: str, as_of: datetime) -> None:
    """Record a fetch that a backfill does not make: the build reads the files landed up to ``as_of``."""
    from oref.config import Settings
    from oref.pipeline import record_step
    from oref.quality.store import now
    from oref.sources.base import FetchResult

    message = f"not fetched: the run rebuilds as of {as_of.isoformat()}"
    result = FetchResult(source, "skipped", message=message)
    record_step(Settings.from_env(), sanitize_run_id(airflow_run_id), f"fetch_{source}", "skipped", now(),
                result=dataclasses.asdict(result), as_of=as_of.isoformat())
    log.info("fetch %s: %s", source, message)


def build_step(airflow_run_id: str, as_of: datetime | None = None) -> dict[str, Any]:
    """Build a new warehouse file from the landing zone and audit it; ``path`` names the file.

    It runs whatever the fetches' states (trigger rule ``all_done``): ``pipeline.build`` reads each
    source's state from the fetch step records, builds a failed ``use_last_good`` source from its
    last good files (a degraded run) and raises ``QualityGateError`` when a ``block`` source failed
    or an error-level check failed: that build is not published. ``as_of`` (a backfill) builds from
    the files landed up to that date.
    """
    from oref.config import Settings
    from oref.pipeline import build

    settings = Settings.from_env()
    run_id = sanitize_run_id(airflow_run_id)
    with step_lock(settings, "build", run_id):
        if as_of is None:
            return to_xcom(build(settings, run_id=run_id))
        log.info("build %s as of %s (a backfill: the files landed up to then)", run_id, as_of.isoformat())
        return to_xcom(build(settings, run_id=run_id, as_of=as_of))  # type: ignore[call-arg,unused-ignore]


def stale_sources(airflow_run_id: str) -> list[str]:
    """The sources the run's build took from their last good files (its step record's ``stale``)."""
    from oref.config import Settings
    from oref.pipeline import read_steps

    build = read_steps(Settings.from_env(), sanitize_run_id(airflow_run_id)).get("build", {})
    return [str(name) for name in build.get("stale") or []]


def asset_extra(built: dict[str, Any], airflow_run_id: str, stale: list[str] | None = None) -> dict[str, Any]:
    """What the published Asset event carries: the run, its verdict and the row counts it loaded.

    The verdict is ``degraded`` when the build used a stale source's last good files (``stale``),
    else ``published``.
    """
    rows = {str(k): int(v) for k, v in (built.get("rows") or {}).items()}
    return {
        "run_id": sanitize_run_id(airflow_run_id),
        "airflow_run_id": airflow_run_id,
        "verdict": "degraded" if stale else "published",
        "stale_sources": sorted(stale or []),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "checks_failed": int(built.get("checks_failed") or 0),
        "checks_warned": int(built.get("checks_warned") or 0),
    }


def publish_step(build_path: str) -> dict[str, Any]:
    """Swap the audited build in as the published warehouse (and its serving file)."""
    from oref.config import Settings
    from oref.pipeline import publish, run_id_of

    settings = Settings.from_env()
    with step_lock(settings, "publish", run_id_of(Path(build_path))):
        return to_xcom(publish(settings, build_path))


def export_step(airflow_run_id: str) -> dict[str, Any]:
    """Write the open-data package and the dbt docs of what was just published, as ``oref run`` does.

    The dashboards are not re-imported here: under Airflow that is the ``oref_superset_refresh``
    DAG's job, scheduled on the published Asset (``oref run`` still re-imports them itself).
    """
    from oref.config import Settings
    from oref.pipeline import export

    settings = dataclasses.replace(Settings.from_env(), superset_refresh=False)
    run_id = sanitize_run_id(airflow_run_id)
    with step_lock(settings, "export", run_id):
        return to_xcom(export(settings, run_id))


def finish_step(airflow_run_id: str) -> dict[str, Any]:
    """Record the run in the quality store and write its report (and the run's summary.json),
    whatever happened to the other tasks."""
    from oref.config import Settings
    from oref.pipeline import finish

    # Under Airflow the DAG's notifier (oref.airflow_alerts) sends the run's one alert, also when
    # finish never runs (a timed-out run): finish itself must not send a second one.
    settings = dataclasses.replace(Settings.from_env(), alert_webhook_url=None)
    run_id = sanitize_run_id(airflow_run_id)
    with step_lock(settings, "finish", run_id):
        return to_xcom(finish(settings, run_id))


# --- the oref_superset_refresh DAG ---------------------------------------------------------------
def superset_url() -> str:
    """The Superset whose caches the refresh warms: ``OREF_SUPERSET_URL``, else ``make up``'s."""
    from oref.config import Settings

    return Settings.from_env().superset_url


def reimport_dashboards_step() -> str:
    """Re-import the dashboards into the data dir's Superset home (new publication stamp: new caches)."""
    from oref.config import Settings
    from oref.superset_assets import import_dashboards

    settings = Settings.from_env()
    home = settings.data_dir / "superset"
    if not home.is_dir():
        message = f"skipped: no Superset home at {home} (`oref superset-import` creates it)"
    else:
        import_dashboards(settings, log.info)
        message = f"dashboards re-imported into {home}"
    log.info("superset: %s", message)
    return message


def warm_caches_step(timeout: float = 60.0) -> dict[str, Any]:
    """Request every dashboard chart's data once through Superset's API, so readers hit warm caches.

    When no Superset answers at ``superset_url()``, the import alone stands: logged, not a failure.
    """
    import requests

    from oref.config import Settings
    from oref.superset_assets import data_dir_environment

    base = superset_url()
    try:
        requests.get(f"{base}/health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        log.info("superset: no server answering at %s (%s); caches not warmed", base, type(exc).__name__)
        return {"url": base, "warmed": 0, "failed": 0, "skipped": f"no Superset at {base}"}
    env = data_dir_environment(Settings.from_env().data_dir)
    session = requests.Session()
    login = session.post(f"{base}/api/v1/security/login", timeout=timeout,
                         json={"username": env["SUPERSET_ADMIN_USER"], "password": env["SUPERSET_ADMIN_PASSWORD"],
                               "provider": "db"})
    login.raise_for_status()
    session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    warmed, failed = 0, []
    dashboards = session.get(f"{base}/api/v1/dashboard/", timeout=timeout, params={"q": "(page_size:100)"})
    dashboards.raise_for_status()
    for dashboard in dashboards.json()["result"]:
        charts = session.get(f"{base}/api/v1/dashboard/{dashboard['id']}/charts", timeout=timeout)
        charts.raise_for_status()
        for chart in charts.json()["result"]:
            response = session.get(f"{base}/api/v1/chart/{chart['id']}/data/", timeout=timeout)
            if response.ok:
                warmed += 1
            else:
                failed.append(f"{chart.get('slice_name')}: HTTP {response.status_code}")
    log.info("superset: %d chart(s) warmed at %s; %d failed %s", warmed, base, len(failed), failed[:10])
    return {"url": base, "warmed": warmed, "failed": len(failed), "failures": failed[:20]}
