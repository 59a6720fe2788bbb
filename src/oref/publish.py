"""Write-audit-publish: the build file becomes ``oref.duckdb`` by an atomic rename, or not at all.

Readers only ever open the published files read-only; the pipeline writes new files beside them in
``warehouse/builds/<run_id>/``. Publishing is ``os.replace`` on the same filesystem, so a reader
sees the old file or the new one, never half of one. The previous warehouse is kept as
``oref.previous.duckdb`` for ``oref rollback``.

Each build also has a serving file, ``serving.duckdb``: the tables of schema ``marts`` alone (same
names, column types and rows), which is all Superset opens, so raw, staging and reference tables
are out of SQL Lab's reach. It is swapped in right after the warehouse, and rewritten from the
warehouse on rollback, so the two always match.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oref.config import Settings
from oref.durable import fsync_path
from oref.errors import PublishError
from oref.pause import pause_at

# What must be readable in a build before it may replace the published warehouse.
SMOKE_QUERIES = {
    "marts.mart_indicators": "select count(*) from marts.mart_indicators",
    "marts.fct_recruitment_needs": "select count(*) from marts.fct_recruitment_needs",
    "marts.dim_territory": "select count(*) from marts.dim_territory",
}


SERVING_NAME = "serving.duckdb"
SERVING_SCHEMA = "marts"


@dataclass
class PublishResult:
    path: str
    previous: str | None
    bytes: int
    serving: str | None = None


def smoke_check(build_path: Path) -> dict[str, int]:
    """Open the build read-only, as Superset will, and count the rows dashboards rely on."""
    counts: dict[str, int] = {}
    con = duckdb.connect(str(build_path), read_only=True)
    try:
        for table, query in SMOKE_QUERIES.items():
            row = con.execute(query).fetchone()
            counts[table] = int(row[0]) if row else 0
    except duckdb.Error as exc:
        raise PublishError(f"build {build_path.name} is not readable as a warehouse: {exc}") from exc
    finally:
        con.close()
    empty = [t for t, n in counts.items() if n == 0]
    if empty:
        raise PublishError(f"build {build_path.name} has empty serving tables: {', '.join(empty)}")
    return counts


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def write_serving(warehouse: Path, target: Path) -> Path:
    """Write ``target``: the tables of schema ``marts`` of ``warehouse``, and nothing else.

    Written under a temporary name in ``target``'s directory and renamed, so an existing serving
    file (which Superset may hold open) is replaced whole.
    """
    tmp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp.duckdb")
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(f"attach '{_sql(warehouse)}' as source (read_only)")
            tables = [t for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'source' and schema_name = ? "
                "order by table_name", [SERVING_SCHEMA]).fetchall()]
            con.execute(f"create schema {SERVING_SCHEMA}")
            for table in tables:
                # create table as select keeps each column's type; views, if any, are not copied
                con.execute(f'create table {SERVING_SCHEMA}."{table}" as '
                            f'select * from source.{SERVING_SCHEMA}."{table}"')
            con.execute("detach source")
            con.execute("checkpoint")
        finally:
            con.close()
        fsync_path(tmp)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return target


def smoke_check_serving(serving: Path) -> int:
    """Open the serving file read-only, as Superset does: marts only, ``mart_indicators`` not empty."""
    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error as exc:
        raise PublishError(f"serving file {serving} cannot be opened read-only: {exc}") from exc
    try:
        schemas = {s for (s,) in con.execute(
            "select distinct schema_name from duckdb_tables() union select distinct schema_name "
            "from duckdb_views() where not internal").fetchall()}
        row = con.execute(f"select count(*) from {SERVING_SCHEMA}.mart_indicators").fetchone()
    except duckdb.Error as exc:
        raise PublishError(f"serving file {serving} is not readable: {exc}") from exc
    finally:
        con.close()
    if schemas != {SERVING_SCHEMA}:
        raise PublishError(f"serving file {serving} holds schemas {sorted(schemas)}, expected {SERVING_SCHEMA} only")
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise PublishError(f"serving file {serving} has an empty {SERVING_SCHEMA}.mart_indicators")
    return rows


def passed_its_gate(build: Path) -> None:
    """Refuse a build whose own audit blocked it (``quality.runs``), or that was never audited, e.g. the
    build of a run killed mid-build picked by ``oref publish`` as the latest one."""
    con = duckdb.connect(str(build), read_only=True)
    try:
        row = con.execute("select run_id, status, reason from quality.runs order by finished_at desc limit 1"
                          ).fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    if row is None:  # never audited: a run killed before its audit wrote quality.runs, or a file made by hand
        raise PublishError(f"build {build} records no audit (no quality.runs row): its run ended before the "
                           "audit (killed?) or it was not made by `oref build`; not publishing")
    if row[1] not in ("published", "degraded"):  # degraded: built from a stale source's last good files
        raise PublishError(f"build {build} of run {row[0]} did not pass its quality checks ({row[1]}): {row[2]}")


def serving_of(build: Path) -> Path:
    """The serving file written beside a build file (``builds/<run_id>/serving.duckdb``)."""
    return build.with_name(SERVING_NAME)


def publish(settings: Settings, build_path: Path | str) -> PublishResult:
    """Swap the build in as ``oref.duckdb`` and its serving file in as ``serving.duckdb``."""
    build = Path(build_path)
    if not build.is_file():
        raise PublishError(f"no build file at {build}")
    # fold the write-ahead log into the file before it moves: a .wal left behind would be lost
    con = duckdb.connect(str(build))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    if Path(f"{build}.wal").exists():
        raise PublishError(f"{build.name}.wal still exists after checkpoint; not publishing")
    smoke_check(build)
    passed_its_gate(build)
    serving = serving_of(build)
    if not serving.is_file():  # a build written elsewhere or by hand: derive its serving file now
        write_serving(build, serving)
    smoke_check_serving(serving)
    target = settings.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if build.stat().st_dev != target.parent.stat().st_dev:
        raise PublishError("the build directory must be on the warehouse's filesystem for an atomic swap")
    previous: Path | None = None
    if target.exists():
        previous = settings.previous_warehouse_path
        tmp_prev = previous.with_name(previous.name + ".tmp")
        shutil.copy2(target, tmp_prev)
        os.replace(tmp_prev, previous)
    fsync_path(build)
    fsync_path(serving)
    pause_at(settings, "publish", build.parent.name if build.parent.parent == settings.build_dir else None)
    os.replace(build, target)
    # right after the warehouse, on the same filesystem: readers of serving.duckdb see this run's
    # marts from here on
    os.replace(serving, settings.serving_path)
    fsync_path(target.parent)
    if build.parent != settings.build_dir:  # builds/<run>/ is empty now
        with contextlib.suppress(OSError):
            build.parent.rmdir()
    return PublishResult(str(target), str(previous) if previous else None, target.stat().st_size,
                         str(settings.serving_path))


def rollback(settings: Settings) -> PublishResult:
    """Put the previous warehouse back (the current one becomes the previous), and its serving file."""
    current, previous = settings.warehouse_path, settings.previous_warehouse_path
    if not previous.exists():
        raise PublishError(f"no previous warehouse to roll back to ({previous})")
    smoke_check(previous)
    swap = current.with_name(current.name + ".rollback")
    shutil.copy2(previous, swap)
    if current.exists():
        os.replace(current, previous)
    os.replace(swap, current)
    # the serving file must match the warehouse now published: rewrite it from that warehouse
    write_serving(current, settings.serving_path)
    return PublishResult(str(current), str(previous), current.stat().st_size, str(settings.serving_path))


# what a killed publish, rollback or serving write leaves in warehouse/: never a published name
_LEFTOVER_PATTERNS = (".*.tmp.duckdb", ".*.tmp.duckdb.wal", "*.previous.duckdb.tmp", "*.duckdb.rollback")


def clean_leftovers(settings: Settings, current_run_id: str | None = None,
                    progress: Callable[[str], None] | None = None) -> list[Path]:
    """Remove what killed runs left in ``warehouse/``; called with the run lock held, at a build's start.

    - ``builds/<run_id>/`` of other runs: a run that ended cleanly leaves none (publishing moves
      its file out) unless its build was blocked or it was killed. The newest ``keep_builds``
      (``OREF_KEEP_BUILDS``, default 3) stay for debugging, older ones go. No other run is building
      (the lock), so none of them is in use.
    - temporary files of an interrupted swap, rollback or serving write.

    The published ``oref.duckdb``, ``serving.duckdb``, ``oref.previous.duckdb`` and the quality
    store are never touched. Returns what was removed.
    """
    removed: list[Path] = []
    if settings.build_dir.is_dir():
        builds = sorted((d for d in settings.build_dir.iterdir() if d.is_dir() and d.name != current_run_id),
                        key=lambda d: d.stat().st_mtime, reverse=True)
        for old in builds[max(settings.keep_builds, 0):]:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    if settings.warehouse_dir.is_dir():
        for pattern in _LEFTOVER_PATTERNS:
            for leftover in settings.warehouse_dir.glob(pattern):
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    if removed and progress:
        progress(f"[clean] removed {len(removed)} leftover(s) of earlier runs: "
                 + ", ".join(str(p.relative_to(settings.warehouse_dir)) for p in removed))
    return removed
