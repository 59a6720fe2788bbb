"""What a real run publishes beside the warehouse: the serving file, the quality store, the raw vocabulary."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml
from oref_testing import OREF, REPO, OrefRun, oref

from oref.quality.store import schema_of
from oref.sources import SOURCE_NAMES

pytestmark = pytest.mark.slow


def _tables(path: Path, schema: str) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select table_name, column_name, data_type from duckdb_columns() "
                           "where schema_name = ? order by table_name, column_index", [schema]).fetchall()
    finally:
        con.close()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append((column, dtype))
    return tables


def test_the_serving_file_is_the_marts_of_the_warehouse_and_nothing_else(published_run: OrefRun) -> None:
    serving, warehouse = published_run.serving, published_run.warehouse
    marts = _tables(warehouse, "marts")
    assert _tables(serving, "marts") == marts and "mart_indicators" in marts  # names and column types
    con = duckdb.connect(str(serving), read_only=True)
    try:
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_tables() union "
                                             "select schema_name from duckdb_views() where not internal").fetchall()}
        con.execute(f"attach '{warehouse}' as published (read_only)")
        for table in marts:  # the same rows, both ways
            assert con.execute(f"select count(*) from (select * from marts.{table} except all "
                               f"select * from published.marts.{table})").fetchone() == (0,), table
            assert con.execute(f"select count(*) from (select * from published.marts.{table} except all "
                               f"select * from marts.{table})").fetchone() == (0,), table
    finally:
        con.close()
    assert schemas == {"marts"}  # raw, staging, indicators, reference and quality stay out of SQL Lab's reach


def test_the_quality_store_records_the_published_run(published_run: OrefRun) -> None:
    con = duckdb.connect(str(published_run.quality_store), read_only=True)
    try:
        schema = schema_of(con)
        runs = con.execute(f"select run_id, status, reason, report_path, sources_failed, checks_failed "
                           f"from {schema}.runs").fetchall()
        checks = con.execute(f"select count(*), count(*) filter (where check_name = 'serving_file_readable' "
                             f"and status = 'pass') from {schema}.check_results").fetchone()
        files = con.execute(f"select count(distinct source) from {schema}.source_files").fetchone()
    finally:
        con.close()
    [(run_id, status, reason, report, failed_sources, failed_checks)] = runs
    assert (status, reason, failed_sources, failed_checks) == ("published", None, 0, 0)
    assert Path(report).is_absolute() and Path(report).is_file() and run_id in report
    assert checks is not None and checks[0] > 500 and checks[1] == 1
    assert files == (len(SOURCE_NAMES),)
    assert f"run {run_id} published" in published_run.output


def test_every_raw_table_is_named_after_its_source_key(published_run: OrefRun) -> None:
    expected = set()
    for key in SOURCE_NAMES:
        document = yaml.safe_load((REPO / "dbt_project" / "models" / "staging" / f"_{key}__sources.yml").read_text())
        expected |= {t["identifier"] for t in document["sources"][0]["tables"]}
    assert set(_tables(published_run.warehouse, "raw")) == expected


def test_a_blocked_run_is_recorded_beside_the_published_one(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    # every source fails, and geo has no landed file to fall back on: the run is blocked before its
    # build (the others' last good files would do), and still recorded with its reason
    shutil.rmtree(data_dir / "landing" / "geo")
    blocked = oref(data_dir, "run", extra_env={"OREF_HTTP_MAX_RETRIES": "0", "OREF_REPLAY_URL": "http://127.0.0.1:9"})
    assert blocked.returncode == 1 and "published: nothing" in blocked.output and "verdict: blocked" in blocked.output
    con = duckdb.connect(str(blocked.quality_store), read_only=True)
    try:
        runs = con.execute(f"select status, reason from {schema_of(con)}.runs order by started_at").fetchall()
    finally:
        con.close()
    assert [s for s, _ in runs] == ["published", "blocked"]
    assert runs[1][1].startswith("source(s) failed, publication blocked: source 'geo'")
    assert runs[1][1].endswith("(no landed file to fall back on)") and "source 'bmo'" not in runs[1][1]
    # the published files are the first run's, untouched
    assert blocked.warehouse.read_bytes() == published_run.warehouse.read_bytes()
    assert blocked.serving.read_bytes() == published_run.serving.read_bytes()


def _oref_with_file_size_limit(data_dir: Path, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """`oref ARGS` whose writes fail past ``limit`` bytes per file (EFBIG, SIGXFSZ ignored): a disk
    filling up, without filling the machine's."""
    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OREF_", "AIRFLOW"))}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_SOURCE_MODE": "snapshot"})
    return subprocess.run([str(OREF), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                          preexec_fn=limit_writes)


def test_a_full_disk_during_the_build_is_named_not_a_traceback(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    warehouse = (data_dir / "warehouse" / "oref.duckdb").read_bytes()
    # 256 KiB per file: the step records and checks fit, the build's DuckDB file does not
    proc = _oref_with_file_size_limit(data_dir, 256 * 1024, "build", "--run-id", "disk-full")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    build_file = data_dir / "warehouse" / "builds" / "disk-full" / "oref.duckdb"
    [line] = [line for line in output.splitlines() if line.startswith("oref build: build: ")]
    assert "File too large" in line and str(build_file) in line, line
    assert "verdict: failed" in output or "the run was not recorded: finish: " in output
    step = json.loads((data_dir / "runs" / "disk-full" / "steps" / "build.json").read_text("utf-8"))
    assert step["status"] == "failed" and str(build_file) in step["message"]
    assert (data_dir / "warehouse" / "oref.duckdb").read_bytes() == warehouse
