"""The quality record of every run: ``quality.*`` tables, in the build file and in the quality store.

One schema, two places:

- the build file's ``quality.*`` tables, written by the build: a published warehouse carries its
  own audit and the history of the runs before it;
- the quality store, ``Settings.quality_path`` (in ``warehouse/``), rewritten at the end
  of every run whatever its outcome (``published``, ``degraded``, ``blocked``, ``failed``,
  ``unchanged``), with the whole history. Superset reads it read-only, so it is never opened
  read-write in place: each run writes a new file beside it and renames it over the old one
  (``os.replace``).

Tables: ``runs`` (one row per run: verdict, reason, report, as-of date, fingerprint),
``check_results`` (every check), ``source_files`` (every landed file the build used) and
``source_status`` (one row per run and source: landed, unchanged, stale, failed or skipped, its
failure policy, and the vintage, landing time, age, digest and rows of what the build used, beside
those of the previous publication). The steward report (``oref.quality.report``) and the quality
dashboard read them.

Each run's own rows are also kept as ``runs/<run_id>/quality.json``. When the store cannot be
read (truncated, corrupt), it is rebuilt from those files and from the published warehouse's
``quality.*`` tables; the unreadable file is kept aside and the run records a ``warn`` check
saying so.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from oref.config import Settings
from oref.durable import fsync_path
from oref.quality.checks import CheckResult

Progress = Callable[[str], None]
# published: this run's build is the published warehouse; degraded: published (or still current)
# with at least one source's last good files standing in for a failed fetch; blocked: a source or
# an error-level check stopped publication; failed: an error outside the checks; unchanged:
# nothing new (same fingerprint as the published warehouse), the run stopped early.
RunStatus = Literal["published", "degraded", "blocked", "failed", "unchanged"]
RUN_STATUSES: tuple[str, ...] = ("published", "degraded", "blocked", "failed", "unchanged")
# per run x source: landed (new file this run), unchanged (fetched or reused, nothing new), stale
# (fetch failed, last good files used), failed (fetch failed and the source blocks the run),
# skipped (not fetched: no credentials, or an as-of rebuild)
SourceState = Literal["landed", "unchanged", "stale", "failed", "skipped"]
SOURCE_STATES: tuple[str, ...] = ("landed", "unchanged", "stale", "failed", "skipped")

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": (
        ("run_id", "varchar"), ("started_at", "timestamp"), ("finished_at", "timestamp"), ("territory", "varchar"),
        ("source_mode", "varchar"), ("status", "varchar"), ("sources_fetched", "integer"),
        ("sources_unchanged", "integer"), ("sources_failed", "integer"), ("checks_passed", "integer"),
        ("checks_failed", "integer"), ("checks_warned", "integer"), ("oref_version", "varchar"),
        # why the run was not published (NULL when it was), and its HTML report
        ("reason", "varchar"), ("report_path", "varchar"),
        # sources whose last good files stood in for a failed fetch (degraded runs)
        ("sources_stale", "integer"),
        # an as-of rebuild: the files landed up to this instant (UTC); NULL for a current run
        ("as_of", "timestamp"),
        # what the build was made from (oref.fingerprint): the landed files used, the code, the settings
        ("fingerprint", "varchar"),
        # the run whose build is the published warehouse once this run ended (itself when it published)
        ("published_run_id", "varchar"),
    ),
    "source_status": (
        ("run_id", "varchar"), ("source", "varchar"), ("status", "varchar"), ("policy", "varchar"),
        ("message", "varchar"),
        # the files the build used for the source (its last good ones when stale): newest data vintage,
        # newest landing time, age of that landing in days at the end of the run, a digest (the file's
        # sha256, or for several files the sha256 of their sorted "name sha256" lines), total rows
        ("data_vintage", "varchar"), ("landed_at", "timestamp"), ("age_days", "double"), ("sha256", "varchar"),
        ("rows", "bigint"), ("files", "integer"),
        # the same in the previous publication (NULL on a first run)
        ("previous_data_vintage", "varchar"), ("previous_sha256", "varchar"), ("previous_rows", "bigint"),
    ),
    "check_results": (
        ("run_id", "varchar"), ("source", "varchar"), ("check_name", "varchar"), ("engine", "varchar"),
        ("severity", "varchar"), ("status", "varchar"), ("message", "varchar"), ("observed", "varchar"),
        ("target", "varchar"), ("checked_at", "timestamp"),
    ),
    "source_files": (
        ("run_id", "varchar"), ("source", "varchar"), ("name", "varchar"), ("vintage", "varchar"),
        ("data_vintage", "varchar"), ("url", "varchar"), ("fetched_at", "timestamp"), ("bytes", "bigint"),
        ("sha256", "varchar"), ("rows", "bigint"),
    ),
}

SCHEMA = "quality"


def schema_of(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """``"<catalog>".quality`` of ``database`` (default: the connection's own file).

    Always qualified by the catalog: DuckDB names a file's catalog after the file, and in a file
    whose catalog is also called ``quality`` a bare ``quality.runs`` is ambiguous (catalog or schema).
    """
    if database is None:
        row = con.execute("select current_database()").fetchone()
        database = str(row[0]) if row else "memory"
    return '"' + database.replace('"', '""') + f'".{SCHEMA}'


def create_tables(con: duckdb.DuckDBPyConnection) -> str:
    """Create the ``quality`` schema and tables if needed; returns the qualified schema."""
    schema = schema_of(con)
    con.execute(f"create schema if not exists {schema}")
    for table, columns in TABLES.items():
        con.execute(f"create table if not exists {schema}.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    return schema

REBUILT_CHECK = "quality_store_rebuilt"


@dataclass
class RunRecord:
    """One row of ``quality.runs``."""

    run_id: str
    started_at: str
    finished_at: str
    territory: str
    source_mode: str
    status: RunStatus
    sources_fetched: int = 0
    sources_unchanged: int = 0
    sources_failed: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    oref_version: str = ""
    reason: str | None = None
    report_path: str | None = None
    sources_stale: int = 0
    as_of: str | None = None
    fingerprint: str | None = None
    published_run_id: str | None = None


@dataclass
class SourceStatus:
    """One row of ``quality.source_status``: what happened to a source in a run, and what the build used."""

    source: str
    status: SourceState
    policy: str
    message: str = ""
    data_vintage: str | None = None
    landed_at: str | None = None
    age_days: float | None = None
    sha256: str | None = None
    rows: int | None = None
    files: int = 0
    previous_data_vintage: str | None = None
    previous_sha256: str | None = None
    previous_rows: int | None = None


@dataclass
class SourceFile:
    """One row of ``quality.source_files``: a landed file the run used."""

    source: str
    name: str
    vintage: str
    data_vintage: str | None
    url: str | None
    fetched_at: str
    bytes: int | None
    sha256: str
    rows: int | None


@dataclass
class StoreWrite:
    path: str
    runs: int
    rebuilt: bool = False
    messages: list[str] = field(default_factory=list)
    checks_added: list[CheckResult] = field(default_factory=list)  # recorded with the run's own checks


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ts(value: str | None) -> str | None:
    """An ISO timestamp as DuckDB's naive UTC ``timestamp`` text (``2025-06-01T05:00:00+00:00`` -> seconds)."""
    return value[:19] if value else None


def landed_files(settings: Settings, *, as_of: datetime | None = None) -> list[SourceFile]:
    """The latest landed file of every logical file of every source (landed up to ``as_of``): what a build loads."""
    from oref.landing import LandingZone
    from oref.sources import SOURCE_NAMES

    landing = LandingZone(settings, as_of=as_of)
    out: list[SourceFile] = []
    for name in SOURCE_NAMES:
        for landed in landing.latest_by_name(name).values():
            m = landed.manifest
            out.append(SourceFile(name, landed.name, landed.vintage, landed.data_vintage, m.get("url"),
                                  m["fetched_at"], m.get("bytes"), landed.sha256, m.get("rows")))
    return out


def _rows(record: RunRecord, checks: Iterable[CheckResult], files: Iterable[SourceFile],
          statuses: Iterable[SourceStatus]) -> dict[str, list[list[Any]]]:
    run = asdict(record)
    run["started_at"], run["finished_at"] = _ts(record.started_at), _ts(record.finished_at)
    run["as_of"] = _ts(record.as_of)
    state_columns = [c for c, _ in TABLES["source_status"]][1:]
    return {
        "runs": [[run[c] for c, _ in TABLES["runs"]]],
        "check_results": [[record.run_id, c.source, c.check_name, c.engine, c.severity, c.status, c.message,
                           c.observed, c.target, _ts(c.checked_at)] for c in checks],
        "source_files": [[record.run_id, f.source, f.name, f.vintage, f.data_vintage, f.url, _ts(f.fetched_at),
                          f.bytes, f.sha256, f.rows] for f in files],
        "source_status": [[record.run_id, *(_ts(v) if c == "landed_at" else v
                                            for c, v in ((c, asdict(s)[c]) for c in state_columns))]
                          for s in statuses],
    }


def write_tables(con: duckdb.DuckDBPyConnection, record: RunRecord, checks: Iterable[CheckResult],
                 files: Iterable[SourceFile], statuses: Iterable[SourceStatus] = ()) -> None:
    """Create the ``quality`` tables if needed and (re)write this run's rows in them."""
    schema = create_tables(con)
    for table, rows in _rows(record, checks, files, statuses).items():
        con.execute(f"delete from {schema}.{table} where run_id = ?", [record.run_id])
        if rows:
            marks = ", ".join("?" for _ in TABLES[table])
            con.executemany(f"insert into {schema}.{table} values ({marks})", rows)


def copy_history(con: duckdb.DuckDBPyConnection, database: str, *, except_run: str) -> int:
    """Copy every run but ``except_run`` from the attached ``database``'s quality tables; runs copied.

    Tables and columns missing there (a warehouse written before a column existed) are skipped or
    left NULL; a run recorded as ``built`` (what published runs once said) is a published one.
    """
    ours, theirs_schema = schema_of(con), schema_of(con, database)
    present = {t for (t,) in con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
        [database, SCHEMA]).fetchall()}
    for table, columns in TABLES.items():
        if table not in present:
            continue
        theirs = {c for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ?", [database, SCHEMA, table]).fetchall()}
        select = ", ".join(
            ("case when status = 'built' then 'published' else status end as status"
             if table == "runs" and c == "status" else c) if c in theirs else f"null::{t} as {c}"
            for c, t in columns)
        con.execute(f"insert into {ours}.{table} select {select} from {theirs_schema}.{table} "
                    f"where run_id <> ? and run_id not in (select distinct run_id from {ours}.{table})",
                    [except_run])
    row = con.execute(f"select count(*) from {ours}.runs").fetchone()
    return int(row[0]) if row else 0


def record_path(settings: Settings, run_id: str) -> Path:
    return settings.runs_dir / run_id / "quality.json"


def save_record(settings: Settings, record: RunRecord, checks: list[CheckResult], files: list[SourceFile],
                statuses: list[SourceStatus] | None = None) -> Path:
    path = record_path(settings, record.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"run": asdict(record), "check_results": [asdict(c) for c in checks],
                "source_files": [asdict(f) for f in files], "source_status": [asdict(s) for s in statuses or []]}
    # written aside and renamed: a run killed mid-write leaves the previous record or none, never half
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)
    return path


def _known(cls: type, item: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``item`` that ``cls`` (a dataclass) has: records written by an older oref still load."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in item.items() if k in names}


def load_record(path: Path) -> tuple[RunRecord, list[CheckResult], list[SourceFile], list[SourceStatus]]:
    """A run's ``quality.json``: its record, checks, files and source states."""
    document = json.loads(path.read_text("utf-8"))
    return (RunRecord(**_known(RunRecord, document["run"])),
            [CheckResult(**_known(CheckResult, c)) for c in document["check_results"]],
            [SourceFile(**_known(SourceFile, f)) for f in document["source_files"]],
            [SourceStatus(**_known(SourceStatus, s)) for s in document.get("source_status") or []])


def readable(path: Path) -> str | None:
    """None when ``path`` opens read-only as a quality store, else why it does not."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.Error, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        schema = schema_of(con)
        for table in TABLES:
            # every column of every row: a truncated file can still answer count(*) from its metadata
            con.execute(f"select count(*), bit_xor(hash(t)) from {schema}.{table} t").fetchone()
    except duckdb.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        con.close()
    return None


def record_run(settings: Settings, record: RunRecord, checks: list[CheckResult], files: list[SourceFile],
               progress: Progress = print, statuses: list[SourceStatus] | None = None) -> StoreWrite:
    """Save the run's record and rewrite the quality store with it (see the module docstring)."""
    store = settings.quality_path
    store.parent.mkdir(parents=True, exist_ok=True)
    result = StoreWrite(str(store), 0)
    problem = readable(store) if store.exists() else None
    if problem is not None:
        kept = store.with_name(f"{store.stem}.unreadable-{record.run_id}.duckdb")
        os.replace(store, kept)
        result.rebuilt = True
        result.messages.append(
            f"{store} could not be read ({problem.splitlines()[0]}): rebuilt from the run records in "
            f"{settings.runs_dir} and the published warehouse; the unreadable file is kept as {kept.name}")
        result.checks_added.append(CheckResult("warehouse", REBUILT_CHECK, "oref", "warn", "fail",
                                               result.messages[-1], target=str(store)))
        checks = [*checks, *result.checks_added]
    save_record(settings, record, checks, files, statuses)
    tmp = store.with_name(f".{store.stem}.{secrets.token_hex(4)}.tmp.duckdb")
    try:
        con = duckdb.connect(str(tmp))
        try:
            write_tables(con, record, checks, files, statuses or [])
            if store.exists():
                con.execute(f"attach '{_sql(store)}' as previous (read_only)")
                try:
                    copy_history(con, "previous", except_run=record.run_id)
                finally:
                    con.execute("detach previous")
            else:
                _rebuild(con, settings, record.run_id)
            row = con.execute(f"select count(*) from {schema_of(con)}.runs").fetchone()
            result.runs = int(row[0]) if row else 0
            con.execute("checkpoint")
        finally:
            con.close()
        fsync_path(tmp)
        os.replace(tmp, store)
        fsync_path(store.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    for message in result.messages:
        progress(f"[quality] {message}")
    return result


def _rebuild(con: duckdb.DuckDBPyConnection, settings: Settings, current: str) -> None:
    """The history without a store: every run's saved record, then the published warehouse's tables."""
    for path in sorted(settings.runs_dir.glob("*/quality.json")):
        if path.parent.name == current:
            continue
        try:
            record, checks, files, statuses = load_record(path)
        except (OSError, ValueError, TypeError, KeyError):
            continue  # a record from an interrupted write: that run stays out of the history
        write_tables(con, record, checks, files, statuses)
    if settings.warehouse_path.is_file():
        with contextlib.suppress(duckdb.Error):
            con.execute(f"attach '{_sql(settings.warehouse_path)}' as published (read_only)")
            try:
                copy_history(con, "published", except_run=current)
            finally:
                con.execute("detach published")


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


