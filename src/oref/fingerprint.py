"""What a build is made from, as one digest: nothing changed, nothing rebuilt.

A build's output depends on three things, and its fingerprint is the sha256 of all three:

- the landed files it reads: per source, the file of each logical name a build would load
  (``LandingZone.latest_by_name``, up to ``as_of`` for an as-of rebuild), or for a monthly source
  each month's extract (``LandingZone.monthly``), by content (sha256);
- the code and the models: every ``src/oref/**/*.py``, the dbt project's models, macros, seeds,
  tests, snapshots, analyses, ``dbt_project.yml``, ``profiles.yml`` and ``packages.yml``, the
  expectation suites (``expectations/*.json``), hashed by content in sorted path order, plus the
  versions of duckdb, dbt-core and dbt-duckdb; computed once per process;
- the settings that change the output: territory, comparison scope, source mode, as-of date.

The build records it in ``quality.runs.fingerprint``. ``oref run`` compares the fingerprint of what
it would build, after its fetches, with the published run's: equal (and no source landed a new
file), the run stops early with status ``unchanged`` (``--force`` rebuilds anyway).
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from oref.config import Settings
from oref.landing import LandingZone
from oref.sources import SOURCE_NAMES, get_source

# under dbt_project/: what dbt reads to build (not target/, logs/ or dbt_packages/, which it writes)
DBT_INPUTS: tuple[str, ...] = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
DBT_FILES: tuple[str, ...] = ("dbt_project.yml", "profiles.yml", "packages.yml")
PACKAGES: tuple[str, ...] = ("duckdb", "dbt-core", "dbt-duckdb")


def _code_files(project_root: Path) -> list[Path]:
    root = project_root
    files = [p for p in (root / "src" / "oref").rglob("*.py") if "__pycache__" not in p.parts]
    dbt_dir = root / "dbt_project"
    for folder in DBT_INPUTS:
        if (dbt_dir / folder).is_dir():
            files += [p for p in (dbt_dir / folder).rglob("*") if p.is_file()]
    files += [dbt_dir / name for name in DBT_FILES if (dbt_dir / name).is_file()]
    files += sorted((root / "expectations").glob("*.json"))
    return sorted(set(files))


@functools.cache
def code_digest(project_root: Path) -> str:
    """sha256 over the code, the dbt project and the expectation suites (path and content), and the
    versions of the packages that build; cached for the process (the code does not change under it)."""
    digest = hashlib.sha256()
    for path in _code_files(project_root):
        digest.update(path.relative_to(project_root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    return digest.hexdigest()


def landed_inputs(settings: Settings, as_of: datetime | None = None) -> dict[str, dict[str, str]]:
    """Per source, ``{logical name: sha256}`` of the landed files a build would read (for a source
    read as a series, the sha256 of each period's file, oldest first, joined by ``+``)."""
    landing = LandingZone(settings, as_of=as_of)
    inputs: dict[str, dict[str, str]] = {}
    for name in SOURCE_NAMES:
        source = get_source(name)
        inputs[name] = {logical: "+".join(f.sha256 for f in source.landed_files(landing, logical))
                        for logical in sorted(landing.latest_by_name(name))}
    return inputs


def output_settings(settings: Settings, as_of: datetime | None = None) -> dict[str, Any]:
    """The settings that change what a build produces (not paths, timeouts or credentials)."""
    return {
        "territory": settings.territory.label,
        "comparison": list(settings.comparison_departements),
        "source_mode": settings.source_mode,
        "as_of": as_of.isoformat() if as_of is not None else None,
    }


def components(settings: Settings, as_of: datetime | None = None) -> dict[str, Any]:
    """The fingerprint's parts, readable: what a changed fingerprint can be traced back to."""
    return {"code": code_digest(settings.project_root), "settings": output_settings(settings, as_of),
            "landed": landed_inputs(settings, as_of)}


def fingerprint(settings: Settings, as_of: datetime | None = None) -> str:
    """sha256 of what a build made now (or as of ``as_of``) would be made from."""
    canonical = json.dumps(components(settings, as_of), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def published_fingerprint(settings: Settings) -> tuple[str, str | None] | None:
    """(run id, fingerprint) of the run that built the published warehouse; None when nothing is published.

    The fingerprint is None when that run recorded none (a warehouse built before fingerprints).
    """
    path = settings.warehouse_path
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        # the warehouse's own run is its newest quality.runs row that published it
        row = con.execute("select run_id, fingerprint from quality.runs where status in ('published', 'degraded') "
                          "order by finished_at desc limit 1").fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    return (str(row[0]), str(row[1]) if row[1] else None) if row else None


def unchanged_since(settings: Settings, fetch_statuses: list[str]) -> tuple[str, str] | None:
    """(published run id, fingerprint) when a build now would be made from exactly what the published
    warehouse was: no fetch landed a new file or failed, and the fingerprints are equal. Else None."""
    if any(status in ("landed", "failed") for status in fetch_statuses):
        return None
    published = published_fingerprint(settings)
    if published is None or published[1] is None:
        return None
    current = fingerprint(settings)
    return (published[0], current) if current == published[1] else None
