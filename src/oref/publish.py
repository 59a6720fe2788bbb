"""Write-audit-publish: the build file becomes ``oref.duckdb`` by an atomic rename, or not at all.

Readers (Superset, SQL Lab) only ever open the published file read-only; the pipeline writes a
new file beside it in ``warehouse/builds/``. Publishing is ``os.replace`` on the same filesystem,
so a reader sees the old file or the new one, never half of one. The previous warehouse is kept
as ``oref.previous.duckdb`` for ``oref rollback``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oref.config import Settings
from oref.errors import PublishError

# What must be readable in a build before it may replace the published warehouse.
SMOKE_QUERIES = {
    "marts.mart_indicators": "select count(*) from marts.mart_indicators",
    "marts.fct_recruitment_needs": "select count(*) from marts.fct_recruitment_needs",
    "marts.dim_territory": "select count(*) from marts.dim_territory",
}


@dataclass
class PublishResult:
    path: str
    previous: str | None
    bytes: int


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def publish(settings: Settings, build_path: Path | str) -> PublishResult:
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
    _fsync(build)
    os.replace(build, target)
    _fsync(target.parent)
    if build.parent != settings.build_dir:  # builds/<run>/ is empty now
        with contextlib.suppress(OSError):
            build.parent.rmdir()
    return PublishResult(str(target), str(previous) if previous else None, target.stat().st_size)


def rollback(settings: Settings) -> PublishResult:
    """Put the previous warehouse back (the current one becomes the previous)."""
    current, previous = settings.warehouse_path, settings.previous_warehouse_path
    if not previous.exists():
        raise PublishError(f"no previous warehouse to roll back to ({previous})")
    smoke_check(previous)
    swap = current.with_name(current.name + ".rollback")
    shutil.copy2(previous, swap)
    if current.exists():
        os.replace(current, previous)
    os.replace(swap, current)
    return PublishResult(str(current), str(previous), current.stat().st_size)
