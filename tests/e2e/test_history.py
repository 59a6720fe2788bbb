"""Real history: a monthly extract becomes one period, kept in the landing zone and rebuilt from it.

On a copy of the shared published run, the Mon Compte Formation catalogue is served once more with
its extraction date one month later (same offers). The run lands it, rebuilds, and the warehouse
gains exactly one period of the catalogue's indicators; every row published before is still there,
unchanged. The BMO indicators hold both real survey years, 2024 and 2025.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from oref_testing import SNAPSHOT, OrefRun, oref

MCF_EXPORT = Path("opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/"
                  "moncompteformation_catalogueformation/exports/csv")
ROWS = ("select indicator_code, territory_level, territory_code, period, value, suppressed_count, "
        "series_definition, value_note, source_vintage from marts.mart_indicators")


def _next_month(date: str) -> str:
    year, month = int(date[:4]), int(date[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-15"


def _rows(warehouse: Path) -> set[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return set(con.execute(ROWS).fetchall())
    finally:
        con.close()


def test_one_more_monthly_extract_adds_one_period_and_changes_nothing_else(published_run: OrefRun,
                                                                           tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    before = _rows(published_run.warehouse)

    # the same catalogue, extracted a month later
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT, snapshot)
    export = snapshot / MCF_EXPORT
    data = export.read_bytes()
    old_date = data.split(b"\n", 2)[1].split(b";", 1)[0].decode()
    new_date = _next_month(old_date)
    # every record starts with its date_extract; nothing else changes, byte for byte
    changed = data.replace(f"\n{old_date};".encode(), f"\n{new_date};".encode())
    assert changed.count(f"\n{new_date};".encode()) == data.count(f"\n{old_date};".encode()) > 100
    export.write_bytes(changed)

    rerun = oref(data_dir, "run", snapshot_dir=snapshot, timeout=900)
    assert rerun.returncode == 0, rerun.output
    assert "  mcf        landed" in rerun.output and "  bmo        unchanged" in rerun.output, rerun.output

    after = _rows(rerun.warehouse)
    old_period, new_period = old_date[:7], new_date[:7]
    # every row published before is still there, unchanged, except the skills ratios' vintage,
    # which names the catalogue extraction they read (now the new one)
    lost = {r for r in before - after if not str(r[0]).startswith("skills_")}
    assert lost == set(), sorted(lost)[:5]
    added = after - before
    added_mcf = {r for r in added if str(r[0]).startswith("mcf_")}
    assert {r for r in added - added_mcf if not str(r[0]).startswith("skills_")} == set()
    # one new period of every catalogue indicator, for every territory that had the old one, same values
    old_mcf = {r[:3] + r[4:6] for r in before if str(r[0]).startswith("mcf_") and r[3] == old_period}
    assert old_mcf and {r[3] for r in added_mcf} == {new_period}
    assert {r[:3] + r[4:6] for r in added_mcf} == old_mcf
    # both periods are in the landing zone and the warehouse
    con = duckdb.connect(str(rerun.warehouse), read_only=True)
    try:
        periods = con.execute("select distinct period from marts.mart_indicators where indicator_code like 'mcf_%' "
                              "order by 1").fetchall()
        scorecard = con.execute(
            "select latest_period, previous_period from marts.mart_preconisation_scorecard "
            "where indicator_code = 'mcf_digital_training_offers' and territory_code = '972'").fetchone()
    finally:
        con.close()
    assert periods == [(old_period,), (new_period,)]
    assert scorecard == (new_period, old_period)


def test_bmo_publishes_both_real_survey_years(published_run: OrefRun) -> None:
    con = duckdb.connect(str(published_run.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select indicator_code, period, value, suppressed_count, series_definition from marts.mart_indicators "
            "where territory_code = '972' and territory_level = 'departement' and indicator_code in "
            "('bmo_digital_recruitment_projects', 'bmo_recruitment_projects_total') order by 1, 2").fetchall()
        scorecard = con.execute(
            "select previous_period, previous_value, latest_period, latest_value, trend, status "
            "from marts.mart_preconisation_scorecard where territory_code = '972' "
            "and indicator_code = 'bmo_digital_recruitment_projects'").fetchone()
    finally:
        con.close()
    assert rows == [
        ("bmo_digital_recruitment_projects", "2024", 56.0, 3, "FAP2021"),
        ("bmo_digital_recruitment_projects", "2025", 61.0, 4, "FAP2021"),
        ("bmo_recruitment_projects_total", "2024", 13_711.0, 92, "FAP2021"),
        ("bmo_recruitment_projects_total", "2025", 13_013.0, 94, "FAP2021"),
    ]
    assert scorecard == ("2024", 56.0, "2025", 61.0, "hausse", "favorable")
