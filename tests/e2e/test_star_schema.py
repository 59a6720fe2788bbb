"""The star schema, the préconisation scorecard and the comparison territories of a real run.

Every value checked here is recomputed independently from the bundled snapshot files (csv,
json, openpyxl), not read back from another model of the warehouse.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from oref_testing import REPO, OrefRun

pytestmark = pytest.mark.slow

SNAPSHOT = REPO / "data" / "snapshot"
SEEDS = REPO / "dbt_project" / "seeds"
URSSAF_CSV = SNAPSHOT / ("open.urssaf.fr/api/explore/v2.1/catalog/datasets/"
                         "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last/exports/csv")
OFFERS_JSONL = SNAPSHOT / "api.francetravail.io/partenaire/offresdemploi/v2/offres/search.jsonl"
PEERS = ("971", "972")


def query(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def value(warehouse: Path, code: str, territory: str, level: str, period: str) -> tuple[float | None, float | None,
                                                                                       float | None]:
    rows = query(warehouse, "select value, numerator, denominator from marts.mart_indicators where indicator_code = ? "
                 "and territory_code = ? and territory_level = ? and period = ?", [code, territory, level, period])
    assert len(rows) == 1, f"{code} {level} {territory} {period}: {rows}"
    return rows[0]


def test_every_catalogue_indicator_has_a_latest_value_for_972_and_971(published_run: OrefRun) -> None:
    catalogue = {row["indicator_code"] for row in seed("indicator_catalogue")}
    assert len(catalogue) >= 15
    for territory in PEERS:
        rows = query(published_run.warehouse,
                     "select indicator_code, latest_value from marts.mart_preconisation_scorecard "
                     "where territory_level = 'departement' and territory_code = ?", [territory])
        found = {code for code, latest in rows if latest is not None}
        # a year-on-year change over secret cells is NULL, never a number (BMO's digital projects,
        # secret cells in 2024 and 2025; Urssaf's blank cells every year): its latest row says so
        secret_changes = {code for code, note in query(
            published_run.warehouse,
            "select indicator_code, arg_max(value_note, period) from marts.mart_indicators "
            "where territory_level = 'departement' and territory_code = ? and indicator_code like 'growth_%' "
            "group by indicator_code", [territory])
            if note and note.startswith("variation non calculée : cellules sous secret statistique")}
        missing = catalogue - found - secret_changes
        assert missing == set(), f"{territory}: no latest value for {sorted(missing)}"


def test_scorecard_has_three_indicators_per_preconisation(published_run: OrefRun) -> None:
    for territory in PEERS:
        rows = query(published_run.warehouse,
                     "select preconisation_code, count(distinct indicator_code) "
                     "from marts.mart_preconisation_scorecard "
                     "where territory_level = 'departement' and territory_code = ? group by 1", [territory])
        per_preconisation = dict(rows)
        assert sorted(per_preconisation) == [1, 2, 3, 4, 5]
        assert min(per_preconisation.values()) >= 3, per_preconisation


def test_comparison_territories_and_france_are_published(published_run: OrefRun) -> None:
    groups = dict(query(published_run.warehouse,
                        "select territory_code, comparison_group from marts.dim_territory "
                        "where territory_level in ('departement', 'pays')"))
    assert groups["972"] == "territoire"
    assert groups["FR"] == "france"
    for peer in ("971", "973", "974", "976"):
        assert groups[peer] == "comparaison"
    # BMO is national: every DROM and France entière have its indicators, 972 one of them
    bmo = dict(query(published_run.warehouse,
                     "select territory_code, value from marts.mart_indicators where indicator_code = "
                     "'bmo_digital_recruitment_projects' and period = '2025' "
                     "and territory_level in ('departement', 'pays')"))
    assert set(bmo) >= {"971", "972", "973", "974", "976", "FR"}
    # a DROM whose every digital cell is secret has NULL (unknown), never 0
    assert bmo["972"] == 61
    assert bmo["FR"] > sum(bmo[d] or 0 for d in ("971", "972", "973", "974", "976"))


def test_bmo_contract_values_are_unchanged(published_run: OrefRun) -> None:
    warehouse = published_run.warehouse
    assert value(warehouse, "bmo_digital_recruitment_projects", "972", "departement", "2025")[0] == 61
    assert value(warehouse, "bmo_recruitment_projects_total", "972", "departement", "2025")[0] == 13013
    share, numerator, denominator = value(warehouse, "bmo_digital_difficult_share", "972", "departement", "2025")
    assert (numerator, denominator) == (36, 53) and share == pytest.approx(36 / 53)
    assert value(warehouse, "bmo_digital_recruitment_projects", "971", "departement", "2025")[0] == 36


def test_urssaf_digital_share_matches_the_snapshot_csv(published_run: OrefRun) -> None:
    """Part du numérique dans l'emploi salarié privé, recomputed from the wide Urssaf CSV."""
    perimeters = {row["code_naf_compact"]: row["perimeter"] for row in seed("naf_digital_perimeters")}
    digital = {code for code, perimeter in perimeters.items() if perimeter in ("it_core", "ict_services")}
    totals: Counter[str] = Counter()
    with URSSAF_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            cell = row["effectifs_salaries_2025"]
            if row["code_departement"] != "972" or cell == "":
                continue
            totals["all"] += int(float(cell))
            if row["code_ape"] in digital:
                totals["digital"] += int(float(cell))
    share, numerator, denominator = value(published_run.warehouse, "urssaf_digital_headcount_share", "972",
                                          "departement", "2025")
    assert (numerator, denominator) == (totals["digital"], totals["all"])
    assert share == pytest.approx(totals["digital"] / totals["all"])
    assert numerator == 1893  # the skeleton's contract value


def test_ftth_coverage_matches_the_real_martinique_totals(published_run: OrefRun) -> None:
    """ARCEP's real Martinique totals, T4 2025: 171,283 connectable premises of 250,164.8755."""
    coverage, connectable, premises = value(published_run.warehouse, "arcep_ftth_coverage", "972", "departement",
                                            "2025-T4")
    assert connectable == 171283
    assert premises == pytest.approx(250164.8755)
    assert coverage == pytest.approx(171283 / 250164.8755)
    gap = value(published_run.warehouse, "arcep_ftth_zone_gap", "972", "departement", "2025-T4")[0]
    zones = dict(query(published_run.warehouse,
                       "select territory_code, value from marts.mart_indicators where indicator_code = "
                       "'arcep_ftth_coverage' and territory_level = 'zone' and period = '2025-T4' "
                       "and territory_code like '972-%'"))
    assert set(zones) == {"972-centre", "972-nord", "972-sud"}
    assert gap == pytest.approx(100 * (max(zones.values()) - min(zones.values())))


def test_growth_of_ftth_coverage_and_the_secret_bmo_change(published_run: OrefRun) -> None:
    """Year-on-year changes for 972: FttH coverage, T4 2025 against T4 2024 (ARCEP's real totals,
    171,283 and 148,728 connectable premises of the same 250,164.8755); BMO's digital projects,
    secret cells both years in the real workbooks (2024: 3, 2025: 4), have no change but a reason."""
    growth, change, previous = value(published_run.warehouse, "growth_arcep_ftth_coverage", "972", "departement",
                                     "2025-T4")
    assert previous == pytest.approx(148728 / 250164.8755)
    assert change == pytest.approx((171283 - 148728) / 250164.8755)
    assert growth == pytest.approx(171283 / 148728 - 1)
    bmo = query(published_run.warehouse,
                "select value, suppressed_count, value_note from marts.mart_indicators "
                "where indicator_code = 'growth_bmo_digital_recruitment_projects' "
                "and territory_level = 'departement' and territory_code = '972' and period = '2025'")
    assert bmo == [(None, 7, "variation non calculée : cellules sous secret statistique (2024 : 3, 2025 : 4)")]


def test_digital_job_offers_match_the_snapshot(published_run: OrefRun) -> None:
    digital_rome = {row["rome_code"] for row in seed("rome_digital_occupations")
                    if row["is_core_digital"].lower() == "true"}
    counts: Counter[str] = Counter()
    with OFFERS_JSONL.open(encoding="utf-8") as handle:
        for line in handle:
            offer = json.loads(line)
            commune = (offer.get("lieuTravail") or {}).get("commune") or ""
            if offer.get("romeCode") in digital_rome:
                counts[commune[:3]] += 1
    rows = dict(query(published_run.warehouse,
                      "select territory_code, value from marts.mart_indicators where indicator_code = "
                      "'offers_digital_job_offers' and territory_level = 'departement'"))
    for territory in PEERS:
        assert rows[territory] == counts[territory], territory


def test_skills_gap_ratio_is_training_over_job_offers(published_run: OrefRun) -> None:
    rows = query(published_run.warehouse,
                 "select sum(supply_training_offers) filter (where is_emerging), "
                 "sum(demand_job_offers) filter (where is_emerging) from marts.mart_skills_gap "
                 "where territory_level = 'departement' and territory_code = '972'")
    supply, demand = rows[0]
    ratio, numerator, denominator = query(
        published_run.warehouse,
        "select value, numerator, denominator from marts.mart_indicators where indicator_code = "
        "'skills_emerging_supply_demand_ratio' and territory_level = 'departement' and territory_code = '972'")[0]
    assert (numerator, denominator) == (supply, demand)
    assert demand > 0 and ratio == pytest.approx(supply / demand)


def test_every_fact_row_carries_its_vintage_and_run(published_run: OrefRun) -> None:
    runs_of_mart = query(published_run.warehouse, "select list(distinct run_id) from marts.mart_indicators")[0][0]
    assert len(runs_of_mart) == 1 and runs_of_mart[0].startswith("20")
    facts = ["fct_employment", "fct_enterprises", "fct_recruitment_needs", "fct_job_offers", "fct_training_offer",
             "fct_certifications", "fct_ftth_coverage", "fct_labour_tension"]
    for fact in facts:
        count, without_vintage, runs = query(
            published_run.warehouse,
            f"select count(*), count(*) filter (where source_vintage is null), list(distinct run_id) "
            f"from marts.{fact}")[0]
        assert count > 0, fact
        assert without_vintage == 0, fact
        assert runs == runs_of_mart, fact
