"""CONTRIBUTING.md's "Add an indicator" works: a toy indicator, added by touching only the files it lists.

On a copy of the dbt project and of the published warehouse: a catalogue row alone fails the dbt
test that matches the catalogue with the indicator models; with its rows computed in its family's
model, the toy indicator is built, tested and published in mart_indicators, and the generated
docs link it to that model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from oref_testing import REPO, OrefRun

from oref import dbt, indicator_docs
from oref.config import Settings

pytestmark = pytest.mark.slow

TOY = "bmo_toy_all_projects"
TOTAL = "bmo_recruitment_projects_total"  # the toy computes it again, under its own code
TOY_ROW = (f"{TOY},Projets de recrutement (jouet),Indicateur jouet des tests.,somme(met),projets,neutre,"
           "France Travail,bmo,département ; année,4,,,ind_bmo\n")
TOY_ROWS = """    union all
    {{ indicator_rows('""" + TOY + """', 'recruitment_aggregates',
        value=secret_aware_sum('total_projects', 'total_published_cells', 'total_suppressed_cells'),
        suppressed_count='total_suppressed_cells') }}
)"""


def _build(settings: Settings, warehouse: Path, select: str) -> list[dict[str, object]]:
    _, target = dbt.run(settings, warehouse, "toy", ["build", "--select", *select.split()], progress=lambda _: None)
    results: list[dict[str, object]] = json.loads((target / "run_results.json").read_text("utf-8"))["results"]
    return results


def test_a_toy_indicator_needs_only_the_files_the_recipe_lists(published_run: OrefRun, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(REPO / "dbt_project", project / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "dbt_packages", "logs"))
    (project / "docs").mkdir()
    warehouse = tmp_path / "build" / "oref.duckdb"  # the catalog name dbt's views use: oref
    warehouse.parent.mkdir()
    shutil.copy(published_run.warehouse, warehouse)
    settings = published_run.settings.with_(project_root=project, data_dir=tmp_path / "data")

    # 1. the catalogue row
    catalogue = project / "dbt_project" / "seeds" / "indicator_catalogue.csv"
    catalogue.write_text(catalogue.read_text("utf-8") + TOY_ROW, "utf-8")
    results = _build(settings, warehouse, "indicator_catalogue assert_indicator_catalogue_matches_the_indicator_models")
    failed = {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["status"] in ("fail", "error")}
    assert failed == {"assert_indicator_catalogue_matches_the_indicator_models": "fail"}  # no model computes it yet

    # 2. its rows, in its family's model
    model = project / "dbt_project" / "models" / "marts" / "indicators" / "ind_bmo.sql"
    text = model.read_text("utf-8")
    assert text.count("\n)\n\nselect * from recruitment_indicators") == 1
    model.write_text(text.replace("\n)\n\nselect * from recruitment_indicators",
                                  "\n" + TOY_ROWS + "\n\nselect * from recruitment_indicators"), "utf-8")
    # 3. its expected rows in the family's unit tests: the toy is the all-métiers total again
    tests = model.with_suffix(".yml")
    document = yaml.safe_load(tests.read_text("utf-8"))
    for unit_test in document["unit_tests"]:
        rows = unit_test["expect"]["rows"]
        rows += [{**row, "indicator_code": TOY} for row in rows if row["indicator_code"] == TOTAL]
    tests.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    results = _build(settings, warehouse, "indicator_catalogue+ ind_bmo+")
    assert [r["unique_id"] for r in results if r["status"] not in ("success", "pass")] == []
    assert any(r["unique_id"].endswith("assert_indicator_catalogue_matches_the_indicator_models") for r in results)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        toy = con.execute("select territory_level, territory_code, value from marts.mart_indicators "
                          "where indicator_code = ? order by all", [TOY]).fetchall()
        total = con.execute("select territory_level, territory_code, value from marts.mart_indicators "
                            "where indicator_code = ? order by all", [TOTAL]).fetchall()
        scorecard = con.execute("select latest_value from marts.mart_preconisation_scorecard where indicator_code = ? "
                                "and territory_level = 'departement' and territory_code = '972'", [TOY]).fetchone()
    finally:
        con.close()
    assert toy == total and ("departement", "972", 13013.0) in toy
    assert scorecard == (13013.0,)

    # 4. the docs, regenerated from the seeds, link it to its model
    doc = indicator_docs.generate(project / "dbt_project" / "seeds")
    assert f"### `{TOY}`" in doc
    assert "[`ind_bmo`](../dbt_project/models/marts/indicators/ind_bmo.sql)" in doc.split(f"### `{TOY}`")[1]
