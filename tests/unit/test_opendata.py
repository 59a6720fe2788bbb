"""The open-data package of a publish: CSV + Parquet + a datapackage.json that frictionless validates."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import frictionless
import pytest
from oref_testing import OrefRun, contract_warehouse

from oref.config import Settings
from oref.opendata import (
    ExportedTable,
    OpenDataError,
    _export_table,
    after_publish,
    export_open_data,
    field_type,
    latest,
    publish_dbt_docs,
)

RUN_ID = "20250601T050000Z-ab12"

_BMO = ("bmo_digital_recruitment_projects", "Projets de recrutement dans les métiers du numérique", "projets", 4)
_SHARE = ("bmo_digital_difficult_share", "Part des projets de recrutement numériques jugés difficiles", "part", 4)
_HEADCOUNT = ("urssaf_digital_headcount", "Effectifs salariés du numérique", "salariés", 1)


def _indicator(code: tuple[str, str, str, int], territory: str, level: str, name: str, period: str,
               value: float | None, suppressed: int, vintage: str | None, numerator: float | None = None,
               denominator: float | None = None) -> dict[str, object]:
    return {"indicator_code": code[0], "indicator_label": code[1], "territory_code": territory,
            "territory_level": level, "territory_name": name, "period": period, "value": value,
            "numerator": numerator, "denominator": denominator, "suppressed_count": suppressed, "unit": code[2],
            "source_vintage": vintage, "data_origin": "synthétique" if code == _HEADCOUNT else "réel",
            "preconisation_code": code[3], "comparison_group": "territoire", "run_id": RUN_ID}


INDICATOR_ROWS = [
    _indicator(_BMO, "972", "departement", "Martinique", "2025", 61.0, 4, "2025"),
    _indicator(_BMO, "201", "bassin_bmo", "MARTINIQUE CENTRE", "2025", 35.0, 1, "2025"),
    # every digital cell of the bassin is secret: the value is unknown, not 0
    _indicator(_BMO, "203", "bassin_bmo", "MARTINIQUE SUD", "2025", None, 2, "2025"),
    _indicator(_SHARE, "972", "departement", "Martinique", "2025", 0.6136363636363636, 2, "2025", 27.0, 44.0),
    _indicator(_HEADCOUNT, "97213", "commune", "Le Lamentin", "2024", 412.0, 0, "2024"),
    _indicator(_HEADCOUNT, "97222", "commune", "Le François", "2024", None, 1, None),
    _indicator(_HEADCOUNT, "97227", "commune", "Rivière-Salée", "2024", 18.0, 0, "2024"),
    # the same territory code at two levels: région 02 of the DROM and (elsewhere) a département 02
    _indicator(_HEADCOUNT, "02", "region", "Martinique", "2024", 3120.0, 3, "2024"),
    _indicator(_HEADCOUNT, "02", "departement", "Aisne", "2024", 1975.0, 0, "2024"),
]

SCORECARD_ROWS = [
    {"preconisation_code": 4, "preconisation_title": "Renforcer le socle de formation",
     "indicator_code": _BMO[0], "indicator_label": _BMO[1], "unit": "projets", "direction": "hausse_favorable",
     "territory_code": "972", "territory_level": "departement", "territory_name": "Martinique",
     "comparison_group": "territoire", "latest_period": "2025", "latest_value": 61.0, "previous_period": "2024",
     "previous_value": 54.0, "value_change": 7.0, "trend": "hausse", "status": "favorable",
     "suppressed_count": 4, "source_vintage": "2025", "run_id": RUN_ID},
    {"preconisation_code": 3, "preconisation_title": "Rôle moteur des collectivités",
     "indicator_code": "arcep_ftth_coverage", "indicator_label": "Taux de couverture en fibre optique (FttH)",
     "unit": "part", "direction": "hausse_favorable", "territory_code": "972", "territory_level": "departement",
     "territory_name": "Martinique", "comparison_group": "territoire", "latest_period": "2025-T4",
     "latest_value": 0.6847, "trend": "non_disponible", "target_value": 1.0,
     "target_label": "sous l'objectif, « en retard »", "target_status": "non_atteinte",
     "status": "non_disponible", "suppressed_count": 0, "source_vintage": "2025-T4", "run_id": RUN_ID},
]


def _source(code: str, title: str, publisher: str, licence: str, licence_url: str, homepage: str, vintage: str,
            fetched_at: str) -> dict[str, object]:
    return {"source_code": code, "title_fr": title, "publisher": publisher, "licence_code": licence,
            "licence_url": licence_url, "homepage_url": homepage, "source_vintage": vintage,
            "fetched_at": fetched_at, "file_count": 1, "row_count": 10, "is_loaded": True}


SOURCES = [
    _source("bmo", "France Travail — enquête « Besoins en main-d'œuvre » (BMO)", "France Travail", "etalab-2.0",
            "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            "https://www.data.gouv.fr/fr/datasets/enquete-besoins-en-main-doeuvre-bmo/", "2025",
            "2025-05-30 08:00:00"),
    _source("urssaf", "Urssaf — établissements employeurs et effectifs salariés, par commune et APE", "Urssaf",
            "ODbL-1.0", "https://opendatacommons.org/licenses/odbl/1-0/", "https://open.urssaf.fr/", "2024",
            "2025-05-30 08:00:05"),
]


def _warehouse(path: Path, *, sources: list[dict[str, object]] = SOURCES, scorecard: bool = True,
               indicators: bool = True, run_id: str = RUN_ID) -> None:
    """A published warehouse with the three marts the export reads, built from their dbt contracts."""
    tables: dict[str, list[dict[str, object]]] = {"dim_source": sources}
    if indicators:
        tables["mart_indicators"] = INDICATOR_ROWS
    if scorecard:
        tables["mart_preconisation_scorecard"] = SCORECARD_ROWS
    contract_warehouse(path, tables, run_id=run_id)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    _warehouse(s.warehouse_path)
    return s


def _report_errors(report: frictionless.Report) -> str:
    return "\n".join(f"{t}: {n}" for t, n in report.flatten(["type", "note"]))


def test_package_validates_and_matches_the_warehouse(settings: Settings) -> None:
    package = export_open_data(settings, RUN_ID)
    out = settings.data_dir / "opendata" / RUN_ID
    assert Path(package.path) == out
    assert sorted(p.name for p in out.iterdir()) == [
        "datapackage.json", "indicateurs.csv", "indicateurs.parquet",
        "tableau_de_bord_preconisations.csv", "tableau_de_bord_preconisations.parquet"]
    assert (settings.data_dir / "opendata" / "LATEST").read_text("utf-8") == RUN_ID + "\n"
    assert latest(settings.data_dir / "opendata") == RUN_ID
    assert [p.name for p in (settings.data_dir / "opendata").iterdir() if p.name.startswith(".")] == []

    report = frictionless.validate(package.descriptor)
    assert report.valid, _report_errors(report)

    descriptor = json.loads(Path(package.descriptor).read_text("utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    ind = resources["indicateurs"]
    assert ind["schema"]["primaryKey"] == ["indicator_code", "territory_level", "territory_code", "period"]
    types = {f["name"]: f["type"] for f in ind["schema"]["fields"]}
    assert types == {"indicator_code": "string", "indicator_label": "string", "territory_code": "string",
                     "territory_level": "string", "territory_name": "string", "period": "string",
                     "value": "number", "numerator": "number", "denominator": "number",
                     "suppressed_count": "integer", "unit": "string", "source_vintage": "string",
                     "series_definition": "string", "value_note": "string", "data_origin": "string",
                     "data_origin_note": "string", "preconisation_code": "integer", "comparison_group": "string",
                     "run_id": "string"}
    required = {f["name"] for f in ind["schema"]["fields"] if f.get("constraints", {}).get("required")}
    assert "value" not in required and {"suppressed_count", "territory_code", "preconisation_code"} <= required
    for r in descriptor["resources"]:
        data = (out / r["path"]).read_bytes()
        assert r["bytes"] == len(data)
        assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert ind["encoding"] == "utf-8" and ind["mediatype"] == "text/csv" and ind["rows"] == len(INDICATOR_ROWS)
    assert resources["indicateurs_parquet"]["format"] == "parquet"

    score = {f["name"]: f["type"] for f in resources["tableau_de_bord_preconisations"]["schema"]["fields"]}
    assert (score["preconisation_code"], score["latest_value"], score["trend"]) == ("integer", "number", "string")

    # the Parquet files hold the warehouse's rows and values
    con = duckdb.connect()
    try:
        rows = con.execute(f"select count(*) from '{out / 'indicateurs.parquet'}'").fetchone()
        assert rows == (len(INDICATOR_ROWS),)
        value = con.execute(f"select value, suppressed_count from '{out / 'indicateurs.parquet'}' "
                            "where territory_code = '972' and indicator_code = 'bmo_digital_difficult_share'"
                            ).fetchone()
        assert value == (0.6136363636363636, 2)
        secret = con.execute(f"select value from '{out / 'indicateurs.parquet'}' where territory_code = '203'"
                             ).fetchone()
        assert secret == (None,)
        assert con.execute(f"select count(*) from '{out / 'tableau_de_bord_preconisations.parquet'}'"
                           ).fetchone() == (2,)
    finally:
        con.close()

    # the CSV: UTF-8, '.' decimals, NULL as an empty cell (never 0), a deterministic order by the key
    with (out / "indicateurs.csv").open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert len(csv_rows) == len(INDICATOR_ROWS)
    keys = [(r["indicator_code"], r["territory_level"], r["territory_code"], r["period"]) for r in csv_rows]
    assert keys == sorted(keys)
    by_code = {(r["indicator_code"], r["territory_level"], r["territory_code"]): r for r in csv_rows}
    assert by_code[("bmo_digital_recruitment_projects", "bassin_bmo", "203")]["value"] == ""
    assert by_code[("bmo_digital_difficult_share", "departement", "972")]["value"] == "0.6136363636363636"
    assert by_code[("urssaf_digital_headcount", "commune", "97227")]["territory_name"] == "Rivière-Salée"
    assert by_code[("urssaf_digital_headcount", "commune", "97222")]["source_vintage"] == ""
    with (out / "tableau_de_bord_preconisations.csv").open(encoding="utf-8", newline="") as handle:
        score_rows = list(csv.DictReader(handle))
    # sorted by its key (indicator_code, territory_level, territory_code)
    assert [r["indicator_code"] for r in score_rows] == ["arcep_ftth_coverage", "bmo_digital_recruitment_projects"]
    assert score_rows[0]["target_label"] == "sous l'objectif, « en retard »"
    assert score_rows[0]["previous_value"] == "" and score_rows[1]["previous_value"] == "54.0"
    assert resources["tableau_de_bord_preconisations"]["schema"]["primaryKey"] == [
        "indicator_code", "territory_level", "territory_code"]

    # package metadata: French title, sources with their licences and vintages, ODbL because of URSSAF
    assert descriptor["licenses"][0]["name"] == "ODbL-1.0" and package.licence == "ODbL-1.0"
    assert "Martinique (972)" in descriptor["title"]
    assert descriptor["created"] == "2025-06-01T05:21:07Z" and descriptor["version"] == RUN_ID
    sources = {s["name"]: s for s in descriptor["sources"]}
    assert sources["urssaf"]["licenses"][0]["name"] == "ODbL-1.0"
    assert sources["bmo"]["licenses"][0]["name"] == "etalab-2.0"
    assert sources["bmo"]["version"] == "2025" and sources["bmo"]["path"].startswith("https://www.data.gouv.fr/")
    assert "Urssaf" in descriptor["description"]


def test_a_value_changed_after_export_fails_validation_by_hash(settings: Settings) -> None:
    package = export_open_data(settings, RUN_ID)
    path = Path(package.path) / "indicateurs.csv"
    text = path.read_text("utf-8")
    assert ",412.0," in text
    path.write_text(text.replace(",412.0,", ",413.0,"), "utf-8")  # same size: only the hash can tell
    report = frictionless.validate(package.descriptor)
    assert not report.valid
    assert {t for t, in report.flatten(["type"])} == {"hash-count"}


def test_a_corrupted_parquet_file_fails_validation(settings: Settings) -> None:
    package = export_open_data(settings, RUN_ID)
    path = Path(package.path) / "indicateurs.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = frictionless.validate(package.descriptor)
    assert not report.valid
    assert "hash-count" in {t for t, in report.flatten(["type"])}


def test_licence_is_etalab_without_an_odbl_source(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    _warehouse(s.warehouse_path, sources=[SOURCES[0]])
    package = export_open_data(s, RUN_ID)
    descriptor = json.loads(Path(package.descriptor).read_text("utf-8"))
    assert package.licence == "etalab-2.0"
    assert [lic["name"] for lic in descriptor["licenses"]] == ["etalab-2.0"]
    assert frictionless.validate(package.descriptor).valid


def test_licence_is_odbl_when_any_source_is_odbl(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    odbl_only_as_label = {**SOURCES[1], "licence_code": "ODbL"}  # a label rather than the SPDX id
    _warehouse(s.warehouse_path, sources=[SOURCES[0], odbl_only_as_label])
    package = export_open_data(s, RUN_ID)
    descriptor = json.loads(Path(package.descriptor).read_text("utf-8"))
    assert package.licence == "ODbL-1.0"
    assert descriptor["licenses"] == [{
        "name": "ODbL-1.0", "title": "Open Data Commons Open Database License (ODbL) 1.0",
        "path": "https://opendatacommons.org/licenses/odbl/1-0/"}]


def test_export_is_deterministic_and_replaces_the_run(settings: Settings) -> None:
    first = export_open_data(settings, RUN_ID)
    csv_bytes = (Path(first.path) / "indicateurs.csv").read_bytes()
    parquet_bytes = (Path(first.path) / "indicateurs.parquet").read_bytes()
    second = export_open_data(settings, RUN_ID)
    assert (Path(second.path) / "indicateurs.csv").read_bytes() == csv_bytes
    assert (Path(second.path) / "indicateurs.parquet").read_bytes() == parquet_bytes
    assert sorted(p.name for p in (settings.data_dir / "opendata").iterdir()) == sorted(["LATEST", RUN_ID])


def test_column_descriptions_come_from_the_runs_dbt_manifest(settings: Settings) -> None:
    target = settings.runs_dir / RUN_ID / "dbt_target"
    target.mkdir(parents=True)
    manifest = {"nodes": {"model.oref.mart_indicators": {
        "resource_type": "model", "name": "mart_indicators", "description": "Table de service des indicateurs.",
        "columns": {"value": {"name": "value", "description": "Valeur de l'indicateur,\n  vide si inconnue."}}}}}
    (target / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    package = export_open_data(settings, RUN_ID)
    descriptor = json.loads(Path(package.descriptor).read_text("utf-8"))
    ind = next(r for r in descriptor["resources"] if r["name"] == "indicateurs")
    fields = {f["name"]: f for f in ind["schema"]["fields"]}
    assert fields["value"]["description"] == "Valeur de l'indicateur, vide si inconnue."
    assert ind["description"] == "Table de service des indicateurs."


def test_missing_indicators_fail_and_leave_nothing_half_written(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    _warehouse(s.warehouse_path, indicators=False)
    with pytest.raises(OpenDataError, match=r"marts\.mart_indicators is not in the published warehouse"):
        export_open_data(s, RUN_ID)
    assert list((s.data_dir / "opendata").iterdir()) == []
    with pytest.raises(OpenDataError, match=r"the warehouse IS published .* open-data export of run"):
        after_publish(s, RUN_ID, progress=lambda _: None)


def test_a_warehouse_built_by_another_run_is_refused(settings: Settings) -> None:
    with pytest.raises(OpenDataError, match="built by run 20250601T050000Z-ab12, not 20250701T050000Z-cd34"):
        export_open_data(settings, "20250701T050000Z-cd34")


def test_a_missing_scorecard_fails_the_export(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    s.warehouse_dir.mkdir(parents=True)
    _warehouse(s.warehouse_path, scorecard=False)
    with pytest.raises(OpenDataError, match=r"mart_preconisation_scorecard is not in the published warehouse"):
        export_open_data(s, RUN_ID)
    assert latest(s.data_dir / "opendata") is None


def test_a_duplicated_key_is_refused_before_anything_is_written(settings: Settings) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("insert into marts.mart_indicators "
                    "select * from marts.mart_indicators where territory_code = '201'")
    finally:
        con.close()
    with pytest.raises(OpenDataError, match=r"key \(indicator_code, territory_level, territory_code, period\) "
                                            r"is not unique: \('bmo_digital_recruitment_projects', 'bassin_bmo', "
                                            r"'201', '2025'\)"):
        export_open_data(settings, RUN_ID)
    assert list((settings.data_dir / "opendata").iterdir()) == []


def test_dbt_docs_are_copied_per_run(settings: Settings) -> None:
    assert publish_dbt_docs(settings, RUN_ID) is None  # no docs generated for this run
    target = settings.runs_dir / RUN_ID / "dbt_target"
    target.mkdir(parents=True)
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json", "run_results.json"):
        (target / name).write_text(f"<{name}>", "utf-8")
    docs = publish_dbt_docs(settings, RUN_ID)
    assert docs == settings.data_dir / "docs" / RUN_ID
    assert sorted(p.name for p in docs.iterdir()) == ["catalog.json", "index.html", "manifest.json",
                                                      "static_index.html"]
    assert latest(settings.data_dir / "docs") == RUN_ID


@pytest.mark.parametrize(("duckdb_type", "expected"), [
    ("VARCHAR", "string"), ("INTEGER", "integer"), ("BIGINT", "integer"), ("HUGEINT", "integer"),
    ("DOUBLE", "number"), ("DECIMAL(18,3)", "number"), ("DATE", "date"), ("TIMESTAMP", "datetime"),
    ("TIMESTAMP WITH TIME ZONE", "datetime"), ("BOOLEAN", "boolean"), ("VARCHAR[]", "array"),
    ("STRUCT(a INTEGER)", "object"),
])
def test_duckdb_types_map_to_table_schema(duckdb_type: str, expected: str) -> None:
    assert field_type(duckdb_type) == expected


def test_csv_cells_are_iso_datetimes_json_lists_and_empty_nulls(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute("create schema marts; "
                    "create table marts.t (k integer, seen_at timestamp, tags varchar[], ok boolean)")
        con.execute("insert into marts.t values (2, timestamp '2025-06-01 05:12:30', [], null), "
                    "(1, timestamp '2025-06-01 05:12:30.25', ['fibre', 'réseaux'], false)")
        fields, rows = _export_table(con, ExportedTable("marts.t", "t", "T", ("k",)), tmp_path, {})
    finally:
        con.close()
    assert rows == 2 and [f["type"] for f in fields] == ["integer", "datetime", "array", "boolean"]
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as handle:
        cells = list(csv.DictReader(handle))
    assert [r["seen_at"] for r in cells] == ["2025-06-01T05:12:30.250000", "2025-06-01T05:12:30"]  # sorted by key
    assert json.loads(cells[0]["tags"]) == ["fibre", "réseaux"] and cells[1]["ok"] == ""


def test_an_unmappable_type_is_an_error() -> None:
    with pytest.raises(OpenDataError, match="BLOB"):
        field_type("BLOB")


@pytest.mark.slow
def test_a_real_run_publishes_a_valid_package_and_its_docs(published_run: OrefRun) -> None:
    """`oref run` on the snapshot (the session's shared run): the hook exported what it published."""
    data = published_run.data_dir
    run_id = latest(data / "opendata")
    assert run_id is not None and latest(data / "docs") == run_id
    assert f"open data: {data / 'opendata' / run_id}" in published_run.output
    assert {"index.html", "static_index.html", "manifest.json", "catalog.json"} <= {
        p.name for p in (data / "docs" / run_id).iterdir()}
    descriptor = data / "opendata" / run_id / "datapackage.json"
    report = frictionless.validate(str(descriptor))
    assert report.valid, _report_errors(report)
    package = json.loads(descriptor.read_text("utf-8"))
    assert package["licenses"][0]["name"] == "ODbL-1.0"  # the URSSAF source is ODbL
    con = duckdb.connect(str(published_run.warehouse), read_only=True)
    try:
        parquet = f"'{descriptor.parent / 'indicateurs.parquet'}'"
        assert con.execute(f"select count(*) from {parquet}").fetchone() == con.execute(
            "select count(*) from marts.mart_indicators").fetchone()
        # the same rows, value for value, both ways
        assert con.execute(f"select count(*) from (select * from marts.mart_indicators except all "
                           f"select * from {parquet})").fetchone() == (0,)
        assert con.execute(f"select count(*) from (select * from {parquet} except all "
                           "select * from marts.mart_indicators)").fetchone() == (0,)
        bmo = con.execute("select value from marts.mart_indicators where indicator_code = "
                          "'bmo_digital_recruitment_projects' and territory_level = 'departement' "
                          "and territory_code = '972' and period = '2025'").fetchone()
    finally:
        con.close()
    with (descriptor.parent / "indicateurs.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["indicator_code"] == "bmo_digital_recruitment_projects"
                and r["territory_level"] == "departement" and r["territory_code"] == "972" and r["period"] == "2025"]
    assert bmo is not None and [float(r["value"]) for r in rows] == [bmo[0]]
