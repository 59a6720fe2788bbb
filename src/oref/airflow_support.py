"""What the ``oref_monthly_refresh`` Airflow DAG's tasks call, kept out of the DAG file.

The DAG file imports this module at parse time, and Airflow's dag-processor re-parses DAG files
every 30 s by default, so this module imports nothing but the standard library at the top: the heavy
``oref.pipeline`` (DuckDB, dbt, Great Expectations) is imported inside the step functions, when a
task runs. Nothing here imports Airflow, so the steps run and are tested without a metadata DB.

The steps return plain dicts because Airflow stores task return values as XCom in its metadata
database: small, JSON-serialisable values only (paths as strings, never DuckDB handles).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

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


def fetch_step(source: str, airflow_run_id: str) -> dict[str, Any]:
    """Fetch and land one source; raise ``SourceError`` if it failed.

    Each source is its own task, so one failing source fails only its task: the others still
    land, and the build (which needs every source) does not run.
    """
    from oref.config import Settings
    from oref.errors import SourceError
    from oref.pipeline import fetch_source

    settings = Settings.from_env()
    # Every task of a DAG run derives the same oref run id, which is how build finds the checks
    # the fetch tasks recorded under runs/<run id>/.
    result = fetch_source(settings, source, run_id=sanitize_run_id(airflow_run_id))
    if result.status == "failed":
        # fetch_source raises on failure; a "failed" result returned instead must still fail the
        # task, or the build would run on a partial landing zone.
        raise SourceError(source, result.message or "fetch reported status 'failed'")
    return to_xcom(result)


def build_step(airflow_run_id: str) -> dict[str, Any]:
    """Build a new warehouse file from the landing zone and audit it; ``path`` names the file.

    Raises ``QualityGateError`` when an error-level check failed: that build is not published.
    The fetch tasks' results reach the run's record through their step files, not through XCom.
    """
    from oref.config import Settings
    from oref.pipeline import build

    return to_xcom(build(Settings.from_env(), run_id=sanitize_run_id(airflow_run_id)))


def publish_step(build_path: str) -> dict[str, Any]:
    """Swap the audited build in as the published warehouse (and its serving file)."""
    from oref.config import Settings
    from oref.pipeline import publish

    return to_xcom(publish(Settings.from_env(), build_path))


def export_step(airflow_run_id: str) -> dict[str, Any]:
    """Write the open-data package and the dbt docs of what was just published, as ``oref run`` does."""
    from oref.config import Settings
    from oref.pipeline import export

    return to_xcom(export(Settings.from_env(), sanitize_run_id(airflow_run_id)))


def finish_step(airflow_run_id: str) -> dict[str, Any]:
    """Record the run in the quality store and write its report, whatever happened to the other tasks."""
    from oref.config import Settings
    from oref.pipeline import finish

    return to_xcom(finish(Settings.from_env(), sanitize_run_id(airflow_run_id)))
