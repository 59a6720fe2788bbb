"""The bundled BMO workbooks have the national shape (~50,000 rows each) and the source handles them.

The dataset lists two vintages: 2025 (real Antilles rows, synthetic elsewhere) and the real national
2024 workbook, byte for byte, whose columns come in another order (``REG`` before ``Dept``,
``BE24``) and which holds Saint-Martin (978). Both land and load; the tests below read each
vintage through its own view (``bmo_2025``, ``bmo_2024``).

The workbook is fetched from the replay server on loopback and loaded into DuckDB through the real
source code (``BmoSource.fetch`` then ``BmoSource.load``); every expected number is computed
independently from the workbook with openpyxl, except the real Antilles figures, which are the
published ones (972: 61 digital projects with 4 secret cells, 13,013 in all; 971: 36 with 4).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass

import duckdb
import openpyxl
import pandas as pd
import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.quality.checks import CheckResult
from oref.reference import digital_fap2021_codes
from oref.sources.base import FetchResult
from oref.sources.bmo import BmoSource
from oref.sources.xlsx_stream import iter_rows

WORKBOOK_PATH = ("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20250423-101500/"
                 "base_open_data_bmo_2025.xlsx")
WORKBOOK = SNAPSHOT / WORKBOOK_PATH
WORKBOOK_2024 = SNAPSHOT / ("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20240424-094500/"
                            "base_open_data_bmo_2024.xlsx")
COG = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "8377162"
DIGITAL = digital_fap2021_codes()
# every test here reads or loads the whole national workbook (about 50,000 rows, tens of seconds):
# `make test` runs them, `make check` does not
pytestmark = pytest.mark.slow

HEADER = ("annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG", "Dept",
          "NomDept", "BE25", "NOMBE25", "met", "xmet", "smet")


def _trimmed(row: tuple[object, ...]) -> tuple[object, ...]:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


@pytest.fixture(scope="module")
def sheets() -> dict[str, list[tuple[object, ...]]]:
    """Every row of both sheets, read by openpyxl (the independent reader)."""
    book = openpyxl.load_workbook(WORKBOOK, read_only=True, data_only=True)
    try:
        return {name: [_trimmed(tuple(r)) for r in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    finally:
        book.close()


@pytest.fixture(scope="module")
def rows(sheets: dict[str, list[tuple[object, ...]]]) -> list[tuple[object, ...]]:
    data = sheets["BMO_2025_open_data"]
    assert data[0] == HEADER
    return [r for r in data[1:] if r]


@dataclass
class Landed:
    result: FetchResult
    checks: list[CheckResult]
    con: duckdb.DuckDBPyConnection


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    sources = SourceHarness(tmp_path_factory.mktemp("bmo_national"))
    with sources.serve() as server:
        settings = sources.settings(server, "972", max_retries=0)
        result = sources.fetch(settings, BmoSource())

    class NoDataFrame(pd.DataFrame):
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the BMO load must not build a pandas DataFrame of the sheet")

    # the load streams the sheet into DuckDB: building any DataFrame on the way fails the test
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pd, "DataFrame", NoDataFrame)
        _, con = sources.load(settings, BmoSource())
    for year in (2024, 2025):
        con.execute(f"create view bmo_{year} as select * from raw.bmo_recruitment_needs where survey_year = {year}")
    return Landed(result, sources.checks, con)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> tuple[object, ...]:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return tuple(row)


def test_every_row_of_the_workbook_is_loaded(landed: Landed, rows: list[tuple[object, ...]]) -> None:
    assert 45_000 <= len(rows) <= 55_000  # the real national 2025 workbook has 50,076 rows
    assert landed.result.status == "landed" and landed.result.rows == len(rows) + 53_443
    assert _one(landed.con, "select count(*) from bmo_2025") == (len(rows),)
    # every cell arrives as the workbook's text, stripped (a real label ends with a no-break space):
    # the whole table equals openpyxl's reading
    expected = Counter(tuple("" if v is None else str(v).strip() for v in r) for r in rows)
    loaded = Counter(tuple("" if v is None else v for v in r) for r in landed.con.execute(
        "select survey_year::varchar, occupation_code, occupation_label, family_code, family_label, region_code, "
        "region_name, department_code, department_name, basin_code, basin_name, met, xmet, smet "
        "from bmo_2025").fetchall())
    assert loaded == expected


def test_national_totals_match_an_independent_count(landed: Landed, rows: list[tuple[object, ...]]) -> None:
    visible = [int(str(r[11])) for r in rows if r[11] != "*"]
    secret = sum(1 for r in rows if r[11] == "*")
    assert _one(landed.con, "select sum(try_cast(met as integer)), count(*) filter (where met = '*'), "
                "count(*) filter (where met <> '*' and try_cast(met as integer) is null) "
                "from bmo_2025") == (sum(visible), secret, 0)
    # about the real share of secret cells (Antilles rows: 22 % of met, 47 % of xmet, 72 % of smet)
    for column, low, high in ((11, 0.15, 0.30), (12, 0.35, 0.60), (13, 0.60, 0.85)):
        share = sum(1 for r in rows if r[column] == "*") / len(rows)
        assert low <= share <= high, (HEADER[column], share)


@pytest.mark.parametrize(("department", "digital", "suppressed", "total"),
                         [("972", 61, 4, 13013), ("971", 36, 4, None)])
def test_real_antilles_figures_survive(landed: Landed, department: str, digital: int, suppressed: int,
                                       total: int | None) -> None:
    marks = ", ".join("?" for _ in DIGITAL)
    assert _one(landed.con, "select sum(try_cast(met as integer)), count(*) filter (where met = '*') "
                "from bmo_2025 "
                f"where department_code = ? and occupation_code in ({marks})",
                [department, *DIGITAL]) == (digital, suppressed)
    if total is not None:
        assert _one(landed.con, "select sum(try_cast(met as integer)) from bmo_2025 "
                    "where department_code = ?", [department]) == (total,)


def test_every_cog_departement_has_bassins_with_the_cog_names(landed: Landed) -> None:
    with (COG / "v_departement_2025.csv").open(encoding="utf-8") as stream:
        departements = {d["DEP"]: (d["REG"], d["LIBELLE"]) for d in csv.DictReader(stream)}
    with (COG / "v_region_2025.csv").open(encoding="utf-8") as stream:
        regions = {r["REG"]: r["LIBELLE"] for r in csv.DictReader(stream)}
    found = landed.con.execute("select distinct department_code, region_code, department_name, region_name "
                               "from bmo_2025").fetchall()
    assert {d for d, *_ in found} == set(departements)  # 101, with 2A, 2B and 976
    assert all(departements[d] == (reg, name) and regions[reg] == reg_name for d, reg, name, reg_name in found)
    per_department = dict(landed.con.execute(
        "select department_code, count(*) from bmo_2025 group by 1").fetchall())
    assert min(per_department[d] for d in ("2A", "2B", "976", "973", "974")) >= 100
    # a bassin code belongs to one département, and is unique nationally
    assert _one(landed.con, "select count(*) from (select basin_code from bmo_2025 "
                "group by basin_code having count(distinct department_code) > 1)") == (0,)
    assert _one(landed.con, "select count(*) from (select survey_year, basin_code, occupation_code "
                "from bmo_2025 group by all having count(*) > 1)") == (0,)
    assert set(landed.con.execute("select distinct basin_code from bmo_2025 "
                                  "where department_code = '972'").fetchall()) == {("201",), ("202",), ("203",),
                                                                                    ("204",)}


def test_the_real_2024_vintage_lands_beside_2025(landed: Landed) -> None:
    """The real national 2024 workbook: its published figures, read through the real source code."""
    assert _one(landed.con, "select count(*), count(distinct department_code), min(nomenclature_version), "
                "max(nomenclature_version), min(basin_column) from bmo_2024") == (53_443, 102, "FAP2021", "FAP2021",
                                                                                 "BE24")
    marks = ", ".join("?" for _ in DIGITAL)
    # Martinique 2024: 56 digital projects with 3 secret cells, 13,711 projects in all
    assert _one(landed.con, "select sum(try_cast(met as integer)) filter (where occupation_code in "
                f"({marks})), count(*) filter (where met = '*' and occupation_code in ({marks})), "
                "sum(try_cast(met as integer)) from bmo_2024 where department_code = '972'",
                [*DIGITAL, *DIGITAL]) == (56, 3, 13_711)
    # Saint-Martin (978) is surveyed in France Travail's Guadeloupe région (01), bassin Îles du Nord
    assert landed.con.execute("select distinct region_code, basin_code, basin_name from bmo_2024 "
                              "where department_code = '978'").fetchall() == [("01", "104", "BASSIN ILES DU NORD")]
    assert _one(landed.con, "select sum(try_cast(met as integer)) from bmo_2024") == (2_751_069,)


def test_the_landing_suite_passed_on_the_whole_file(landed: Landed) -> None:
    gx = [c for c in landed.checks if c.engine == "gx"]
    assert len(gx) == 42 and all(c.status == "pass" for c in gx)  # 21 expectations, once per vintage
    assert not [c for c in landed.checks if c.blocking]


def test_the_stream_reader_agrees_with_openpyxl(sheets: dict[str, list[tuple[object, ...]]]) -> None:
    for name, expected in sheets.items():
        assert [_trimmed(r) for r in iter_rows(WORKBOOK, name)] == expected, name


def test_manifest_says_which_rows_are_real_and_which_synthetic() -> None:
    manifest = json.loads((SNAPSHOT / "MANIFEST.json").read_text("utf-8"))
    entry = next(e for e in manifest["files"] if e["path"] == WORKBOOK_PATH)
    data = WORKBOOK.read_bytes()
    assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert (entry["kind"], entry["generated_by"], entry["seed"]) == ("derived-from-real", "scripts/snapshot/bmo.py",
                                                                     2025)
    assert "REAL rows" in entry["description"] and "(971) and Martinique (972)" in entry["description"]
    assert "SYNTHETIC rows" in entry["description"] and "seed 2025" in entry["description"]
