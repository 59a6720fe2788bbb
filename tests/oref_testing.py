"""Test helpers: run the real `oref` command in snapshot mode (imported by conftest and tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OREF = Path(sys.executable).with_name("oref")


@dataclass
class OrefRun:
    data_dir: Path
    returncode: int
    output: str

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "oref.duckdb"


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


# --- test warehouses built from the dbt model contracts -------------------------------------------
def model_contract(model: str) -> list[tuple[str, str, bool]]:
    """(column, data type, not null) of a dbt model, read from its yml (its enforced contract)."""
    import yaml

    for path in sorted((REPO / "dbt_project" / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text("utf-8")) or {}
        for node in document.get("models") or []:
            if node.get("name") == model:
                columns = [(c["name"], c["data_type"], any(k.get("type") == "not_null"
                                                           for k in c.get("constraints") or []))
                           for c in node.get("columns") or []]
                if not columns or not all(t for _, t, _ in columns):
                    raise AssertionError(f"{model} has no complete contract (data_type of every column) in {path}")
                return columns
    raise AssertionError(f"no yml declares the model {model}")


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
