"""Test helpers, imported by the conftest files and the tests.

- ``oref``: run the real ``oref`` command in snapshot mode (it serves the snapshot itself);
- ``SourceHarness``: fetch and load one source as the pipeline does, against the snapshot served
  on loopback (the harness of every source test);
- ``contract_warehouse``: a DuckDB file whose marts tables are created from the dbt contracts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.config import DEFAULT_COMPARISON, Settings, Territory

if TYPE_CHECKING:
    import duckdb

    from oref.quality.checks import CheckResult
    from oref.replay import Fault, ReplayServer
    from oref.sources.base import FetchResult, Source

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "data" / "snapshot"
OREF = Path(sys.executable).with_name("oref")


@dataclass
class OrefRun:
    data_dir: Path
    returncode: int
    output: str

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"OREF_DATA_DIR": str(self.data_dir), "OREF_SOURCE_MODE": "snapshot"})

    @property
    def warehouse(self) -> Path:
        return self.settings.warehouse_path

    @property
    def serving(self) -> Path:
        return self.settings.serving_path

    @property
    def quality_store(self) -> Path:
        return self.settings.quality_path


def oref(data_dir: Path, *args: str, territory: str = "972", snapshot_dir: Path | None = None,
         extra_env: dict[str, str] | None = None, timeout: int = 900) -> OrefRun:
    """Run the real `oref` command in snapshot mode (it serves the snapshot on 127.0.0.1 itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OREF_", "AIRFLOW"))}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_SOURCE_MODE": "snapshot", "OREF_TERRITORY": territory})
    if snapshot_dir is not None:
        env["OREF_SNAPSHOT_DIR"] = str(snapshot_dir)
    env.update(extra_env or {})
    proc = subprocess.run([str(OREF), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    return OrefRun(data_dir, proc.returncode, proc.stdout + proc.stderr)


# --- the source harness --------------------------------------------------------------------------
@dataclass
class SourceHarness:
    """Fetch and load one source as the pipeline does, against the snapshot served on loopback.

    ``serve()`` starts the replay server (the bundled snapshot, or a modified copy, with optional
    faults); ``settings(server, "972")`` points a data directory under the test's tmp_path at it;
    ``fetch`` runs the source's fetch (checks kept in ``checks`` even when it raises, sleeps
    recorded in ``sleeps`` instead of slept); ``load`` loads what landed into a fresh DuckDB
    ``raw`` schema.
    """

    tmp_path: Path
    checks: list[CheckResult] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    requests: int = 0

    @contextmanager
    def serve(self, snapshot: Path = SNAPSHOT,
              faults: Mapping[str, list[Fault]] | None = None) -> Iterator[ReplayServer]:
        from oref.replay import ReplayServer

        with ReplayServer(snapshot, faults=dict(faults) if faults else None) as server:
            yield server

    def settings(self, server: ReplayServer, territory: str | Territory = "972", *,
                 comparison: tuple[str, ...] = DEFAULT_COMPARISON, data_dir: str | Path = "data",
                 snapshot: Path = SNAPSHOT, **changes: Any) -> Settings:
        base = Settings(
            territory=territory if isinstance(territory, Territory) else Territory.parse(territory),
            comparison_departements=comparison, data_dir=self.tmp_path / data_dir, source_mode="snapshot",
            replay_url=server.base_url, snapshot_dir=snapshot, max_retries=1, backoff_base=0.01)
        return base.with_(**changes) if changes else base

    def fetch(self, settings: Settings, source: Source, *, run_id: str = "run-1",
              refresh: bool = False) -> FetchResult:
        from oref.http import HttpClient
        from oref.landing import LandingZone
        from oref.sources.base import FetchContext

        self.checks, self.sleeps = [], []
        with HttpClient(settings, rate_limits=source.rate_limits, sleep=self.sleeps.append) as http:
            ctx = FetchContext(settings, http, LandingZone(settings), run_id, refresh=refresh)
            try:
                return source.fetch(ctx)
            finally:
                self.checks = ctx.checks
                self.requests = http.requests_made

    def load(self, settings: Settings, source: Source, *,
             run_id: str = "run-1") -> tuple[dict[str, int], duckdb.DuckDBPyConnection]:
        import duckdb

        from oref.landing import LandingZone

        con = duckdb.connect()
        con.execute("create schema raw")
        return source.load(con, settings, LandingZone(settings), run_id), con

    def snapshot_copy(self, *paths: Path | str) -> Path:
        """A writable copy of some files of the bundled snapshot (all of it when none is named)."""
        target = self.tmp_path / "snapshot"
        if not paths:
            shutil.copytree(SNAPSHOT, target, dirs_exist_ok=True)
        for path in paths:
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(SNAPSHOT / path, target / path)
        return target


# --- test warehouses built from the dbt model contracts -------------------------------------------
@cache
def _contracts() -> dict[str, tuple[Path, list[dict[str, Any]]]]:
    """Every model of the dbt project -> (its yml, its declared columns), read once per session."""
    import yaml

    found: dict[str, tuple[Path, list[dict[str, Any]]]] = {}
    for path in sorted((REPO / "dbt_project" / "models").rglob("*.yml")):
        for node in (yaml.safe_load(path.read_text("utf-8")) or {}).get("models") or []:
            found[node["name"]] = (path, list(node.get("columns") or []))
    return found


def model_contract(model: str) -> list[tuple[str, str, bool]]:
    """(column, data type, not null) of a dbt model, read from its yml (its enforced contract)."""
    if model not in _contracts():
        raise AssertionError(f"no yml declares the model {model}")
    path, declared = _contracts()[model]
    columns = [(c["name"], c.get("data_type"), any(k.get("type") == "not_null" for k in c.get("constraints") or []))
               for c in declared]
    if not columns or not all(t for _, t, _ in columns):
        raise AssertionError(f"{model} has no complete contract (data_type of every column) in {path}")
    return [(name, str(dtype), required) for name, dtype, required in columns]


def contract_warehouse(path: Path, tables: dict[str, list[dict[str, object]]], *, run_id: str,
                       finished_at: str = "2025-06-01 05:21:07") -> Path:
    """A DuckDB file with ``marts.<model>`` tables created from the models' contracts, and ``quality.*``.

    ``tables`` maps a marts model to its rows (dicts; a column left out is NULL, and a NOT NULL
    column left out fails the insert as in a real build). The run ``run_id`` is recorded in
    ``quality.runs`` as the published warehouse's, after an older one.
    """
    import duckdb

    from oref.quality.store import RunRecord, write_tables

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        for model, rows in tables.items():
            contract = model_contract(model)
            con.execute(f"create table marts.{model} (" + ", ".join(
                f"{name} {dtype}{' not null' if required else ''}" for name, dtype, required in contract) + ")")
            names = [name for name, _, _ in contract]
            unknown = {k for row in rows for k in row} - set(names)
            if unknown:
                raise AssertionError(f"{model} has no column(s) {sorted(unknown)} in its contract")
            con.executemany(f"insert into marts.{model} values ({', '.join('?' for _ in names)})",
                            [[row.get(name) for name in names] for row in rows])
        for rid, finished in (("20250501T050000Z-0000", "2025-05-01 05:20:00"), (run_id, finished_at)):
            write_tables(con, RunRecord(rid, finished[:10] + " 05:00:00", finished, "972", "snapshot", "published"),
                         [], [])
    finally:
        con.close()
    return path


def small_bmo_workbook(year: int = 2025, met: str = "25") -> bytes:
    """A small BMO workbook of ``year``: digital métiers (FAP2021), two Martinique rows and one
    Guadeloupe row; ``met="*"`` makes every row secret."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = f"BMO_{year}_open_data"
    sheet.append(["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG",
                  "Dept", "NomDept", "BE25", "NOMBE25", "met", "xmet", "smet"])
    for dept, basin, code in (("972", 201, "M1X80"), ("972", 203, "M2X90"), ("971", 101, "M1X80")):
        sheet.append([year, code, "Informatique", "M", "Informatique", "02", "Martinique", dept, "x", basin, "B",
                      met, "*" if met == "*" else "12", "*"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
