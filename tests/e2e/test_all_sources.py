"""Every source lands from the snapshot and every raw table has rows."""

from __future__ import annotations

import json

import duckdb
import pytest
from oref_testing import OrefRun, oref

from oref.sources import SOURCE_NAMES

pytestmark = pytest.mark.slow


def test_ten_sources_are_registered() -> None:
    assert set(SOURCE_NAMES) == {"geo", "bmo", "urssaf", "rome", "rncp", "mcf", "tensions", "arcep", "sirene",
                                 "offers"}


def test_every_source_landed_through_the_snapshot(published_run: OrefRun) -> None:
    listing = oref(published_run.data_dir, "sources", "--json")
    assert listing.returncode == 0, listing.output
    rows = {r["source"]: r for r in json.loads(listing.output[listing.output.index("["):])}
    assert set(rows) == set(SOURCE_NAMES)
    for name, row in rows.items():
        assert row["status"] == "landed", (name, row)
        assert row["mode"] == "snapshot"
        assert row["rows"] > 0, name
        assert row["last_fetch"] and row["data_vintage"]


def test_every_raw_table_has_rows_for_martinique(published_run: OrefRun) -> None:
    con = duckdb.connect(str(published_run.warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' order by 1").fetchall()]
        empty = [t for t in tables if con.execute(f"select count(*) from raw.{t}").fetchone()[0] == 0]
        offers_972 = con.execute(
            "select count(*) from raw.offers_job_offers where department_code = '972'"
        ).fetchone() if "offers_job_offers" in tables else (0,)
    finally:
        con.close()
    assert len(tables) >= 20
    assert empty == []
    assert offers_972[0] > 0  # through the replay server's OAuth flow, with its test client
