"""Write-audit-publish: the warehouse and its serving file are swapped in together, and rolled back together."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from oref_testing import contract_warehouse

from oref.config import Settings
from oref.errors import PublishError
from oref.publish import clean_leftovers, publish, rollback, serving_of, smoke_check_serving, write_serving
from oref.quality.store import RunRecord, write_tables

SMOKE_TABLES = ("fct_recruitment_needs", "dim_territory")


def _indicator(value: float, run_id: str) -> dict[str, object]:
    return {"indicator_code": "bmo_digital_recruitment_projects", "indicator_label": "Projets", "territory_code": "972",
            "territory_level": "departement", "territory_name": "Martinique", "period": "2025", "value": value,
            "suppressed_count": 4, "unit": "projets", "source_vintage": "2025", "data_origin": "réel",
            "preconisation_code": 4,
            "comparison_group": "territoire", "run_id": run_id}


def _build(settings: Settings, run_id: str, value: float) -> Path:
    """builds/<run>/oref.duckdb with the smoke-checked marts, a raw and a staging table besides."""
    path = settings.build_dir / run_id / "oref.duckdb"
    path.parent.mkdir(parents=True)
    contract_warehouse(path, {"mart_indicators": [_indicator(value, run_id)]}, run_id=run_id)
    con = duckdb.connect(str(path))
    try:
        for table in SMOKE_TABLES:  # the smoke check counts them; their columns do not matter here
            con.execute(f"create table marts.{table} as select 1 as n")
        con.execute("create schema raw; create table raw.bmo_recruitment_needs as select 'secret' as cell")
        con.execute("create schema staging; create view staging.stg_bmo as select * from raw.bmo_recruitment_needs")
        con.execute("create schema reference; create table reference.sources as select 'bmo' as source_code")
    finally:
        con.close()
    return path


def _marts(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts' "
                                            "order by 1").fetchall()]
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def _columns(path: Path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select table_name, column_name, data_type from duckdb_columns() "
                           "where schema_name = 'marts' order by all").fetchall()
    finally:
        con.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_serving_file_holds_the_marts_tables_and_nothing_else(settings: Settings) -> None:
    build = _build(settings, "run-1", 61)
    serving = write_serving(build, serving_of(build))
    assert serving == build.with_name("serving.duckdb")
    assert _marts(serving) == _marts(build) and set(_marts(serving)) == {"mart_indicators", *SMOKE_TABLES}
    assert _columns(serving) == _columns(build)  # same column types (double, integer, varchar...)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_tables() union "
                                             "select schema_name from duckdb_views() where not internal").fetchall()}
    finally:
        con.close()
    assert schemas == {"marts"}  # raw, staging and reference are not in it: SQL Lab cannot reach them
    assert smoke_check_serving(serving) == 1
    assert [p.name for p in serving.parent.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_an_empty_mart_indicators_fails_the_serving_smoke_check(settings: Settings) -> None:
    build = _build(settings, "run-1", 61)
    con = duckdb.connect(str(build))
    con.execute("delete from marts.mart_indicators")
    con.close()
    with pytest.raises(PublishError, match=r"empty marts\.mart_indicators"):
        smoke_check_serving(write_serving(build, serving_of(build)))


def test_publish_swaps_both_files_and_rollback_restores_a_matching_serving_file(settings: Settings) -> None:
    first = _build(settings, "run-1", 61)
    write_serving(first, serving_of(first))
    result = publish(settings, first)
    assert result.serving == str(settings.serving_path) and not first.exists() and not first.parent.exists()
    assert _marts(settings.serving_path)["mart_indicators"][0][6] == 61

    second = _build(settings, "run-2", 70)  # no serving file yet: publish derives it from the build
    publish(settings, second)
    assert _marts(settings.serving_path) == _marts(settings.warehouse_path)
    assert _marts(settings.serving_path)["mart_indicators"][0][6] == 70

    before = settings.serving_path.stat().st_ino
    rolled = rollback(settings)
    assert rolled.serving == str(settings.serving_path)
    assert _marts(settings.warehouse_path)["mart_indicators"][0][6] == 61
    assert _marts(settings.serving_path) == _marts(settings.warehouse_path)  # consistent with the rollback
    assert settings.serving_path.stat().st_ino != before  # a new file renamed in, not rewritten in place


def test_a_build_that_failed_its_checks_is_refused(settings: Settings) -> None:
    build = _build(settings, "run-1", 61)
    con = duckdb.connect(str(build))
    write_tables(con, RunRecord("run-1", "2025-06-01 05:00:00", "2025-06-01 06:00:00", "972", "snapshot", "blocked",
                                reason="1 error-level check(s) failed"), [], [])
    con.close()
    with pytest.raises(PublishError, match=r"did not pass its quality checks .*1 error-level check"):
        publish(settings, build)
    assert not settings.warehouse_path.exists() and not settings.serving_path.exists()


def test_a_build_never_audited_is_refused(settings: Settings) -> None:
    """The build of a run killed before its audit (no quality.runs) is never published, even as the latest."""
    build = _build(settings, "run-killed", 61)
    con = duckdb.connect(str(build))
    con.execute("drop schema quality cascade")
    con.close()
    with pytest.raises(PublishError, match=r"records no audit \(no quality.runs row\).*killed"):
        publish(settings, build)
    assert not settings.warehouse_path.exists() and not settings.serving_path.exists()


def test_clean_leftovers_keeps_the_newest_builds_and_every_published_file(settings: Settings) -> None:
    for index, run_id in enumerate(("run-a", "run-b", "run-c")):
        (settings.build_dir / run_id).mkdir(parents=True)
        (settings.build_dir / run_id / "oref.duckdb").write_bytes(b"x")
        os.utime(settings.build_dir / run_id, (1_000_000 + index, 1_000_000 + index))
    published = [settings.warehouse_path, settings.serving_path, settings.previous_warehouse_path,
                 settings.quality_path]
    for path in published:
        path.write_bytes(b"published")
    tmp = [settings.warehouse_dir / ".serving.1a2b3c4d.tmp.duckdb", settings.warehouse_dir / "oref.previous.duckdb.tmp"]
    for path in tmp:
        path.write_bytes(b"half")
    removed = clean_leftovers(settings.with_(keep_builds=1), current_run_id="run-now")
    assert sorted(p.name for p in settings.build_dir.iterdir()) == ["run-c"]  # the newest one kept
    assert {p.name for p in removed} == {"run-a", "run-b", *(p.name for p in tmp)}
    assert all(p.read_bytes() == b"published" for p in published)
