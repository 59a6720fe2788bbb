"""The walking skeleton's acceptance, end to end through the real `oref` command.

Each run fetches the bundled snapshot over loopback HTTP, runs GX and dbt, and publishes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from oref_testing import REPO, OrefRun, oref

pytestmark = pytest.mark.slow

BMO_SNAPSHOT = ("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20250423-101500/"
                "base_open_data_bmo_2025.xlsx")


def indicator(warehouse: Path, code: str, territory: str, period: str = "2025") -> tuple[float, int | None]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select value, suppressed_count from marts.mart_indicators "
            "where indicator_code = ? and territory_code = ? and period = ?", [code, territory, period]
        ).fetchone()
    finally:
        con.close()
    assert row is not None, f"no {code} for {territory}/{period}"
    return row[0], row[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marts_snapshot(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select indicator_code, territory_code, territory_level, period, value, numerator, denominator, "
            "suppressed_count, source_vintage from marts.mart_indicators order by all").fetchall()
    finally:
        con.close()


def test_martinique_bmo_indicators(published_run: OrefRun) -> None:
    wh = published_run.warehouse
    assert indicator(wh, "bmo_digital_recruitment_projects", "972") == (61, 4)
    assert indicator(wh, "bmo_digital_suppressed_cells", "972")[0] == 4
    assert indicator(wh, "bmo_recruitment_projects_total", "972")[0] == 13013


def test_published_schemas_are_the_analyst_names(published_run: OrefRun) -> None:
    con = duckdb.connect(str(published_run.warehouse), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas() "
                                             "where database_name = 'oref'").fetchall()}
        runs = con.execute("select status, sources_failed from quality.runs").fetchall()
    finally:
        con.close()
    assert {"raw", "staging", "marts", "quality"} <= schemas
    assert not [s for s in schemas if s.startswith("main_")]
    assert runs == [("published", 0)]


def test_run_summary_is_printed(published_run: OrefRun) -> None:
    out = published_run.output
    for source in ("geo", "bmo", "urssaf"):
        assert f"  {source} " in out
    assert "published:" in out and "checks:" in out


def test_html_error_page_fails_the_source_and_keeps_the_warehouse(published_run: OrefRun,
                                                                   tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    # a fresh landing zone, so the BMO file must be fetched again and cannot be "unchanged"
    shutil.rmtree(data_dir / "landing" / "bmo")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(REPO / "data" / "snapshot", snapshot)
    (snapshot / BMO_SNAPSHOT).write_text(
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
        "<body>Maintenance en cours</body></html>", "utf-8")
    warehouse = data_dir / "warehouse" / "oref.duckdb"
    before = sha256(warehouse)
    run = oref(data_dir, "run", snapshot_dir=snapshot)
    assert run.returncode == 1
    assert "source 'bmo'" in run.output
    assert "HTML page titled '503 Service Unavailable'" in run.output
    assert "published: nothing" in run.output
    assert sha256(warehouse) == before
    assert list((data_dir / "quarantine" / "bmo").rglob("*.reason.json"))
