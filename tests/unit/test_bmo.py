"""BMO parsing on the bundled 2025 workbook (national shape: real 971 + 972 rows, synthetic elsewhere)
and the GX landing suite."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from oref.errors import SourceError
from oref.quality.gx_runner import run_suite
from oref.reference import digital_fap2021_codes
from oref.sources.bmo import nomenclature_version, read_bmo, survey_year_of, validation_frame

REPO = Path(__file__).resolve().parents[2]
WORKBOOK = (REPO / "data" / "snapshot" / "static.data.gouv.fr" / "resources" / "enquete-besoins-en-main-doeuvre-bmo"
            / "20250423-101500" / "base_open_data_bmo_2025.xlsx")
SUITE = REPO / "expectations" / "bmo_landing.json"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    parsed, basin_label, new = read_bmo(WORKBOOK, file=WORKBOOK.name)
    assert basin_label == "BE25" and new == []
    return parsed


@pytest.mark.slow  # parses the national workbook (the module's frame)
def test_real_workbook_rows_and_secret_cells(frame: pd.DataFrame) -> None:
    # the real Antilles rows are all there, among the synthetic rows of the other départements
    assert len(frame[frame.department_code.isin(["971", "972"])]) == 941
    assert frame.department_code.nunique() == 101
    mtq = frame[frame.department_code == "972"]
    assert len(mtq) == 425
    assert (mtq.met == "*").sum() == 94
    assert mtq[mtq.met != "*"].met.astype(int).sum() == 13013
    # codes stay text: the région keeps its leading zero
    assert set(mtq.region_code) == {"02"}
    assert set(mtq.basin_code) == {"201", "202", "203", "204"}


@pytest.mark.slow  # parses the national workbook (the module's frame)
def test_real_digital_rows_of_martinique(frame: pd.DataFrame) -> None:
    digital = frame[(frame.department_code == "972")
                    & frame.occupation_code.isin(digital_fap2021_codes())]
    assert len(digital) == 9
    visible = digital[digital.met != "*"].met.astype(int)
    assert visible.sum() == 61 and (digital.met == "*").sum() == 4


@pytest.mark.slow  # parses the national workbook (the module's frame)
def test_landing_suite_passes_on_the_national_file(frame: pd.DataFrame) -> None:
    results = run_suite(SUITE, validation_frame(frame), source="bmo", target=WORKBOOK.name)
    assert len(results) == 21
    assert [r.check_name for r in results if r.status != "pass"] == []


@pytest.mark.slow  # parses the national workbook (the module's frame)
def test_landing_suite_names_bad_values(frame: pd.DataFrame) -> None:
    broken = frame.head(50).copy()
    broken.loc[broken.index[0], "met"] = "n.d."  # neither a number nor the secret mark
    broken.loc[broken.index[1], ["met", "xmet"]] = ["3", "8"]  # more difficult projects than projects
    broken.loc[broken.index[3]] = broken.loc[broken.index[2]]  # one bassin x métier x département twice
    results = {r.check_name: r for r in run_suite(SUITE, validation_frame(broken), source="bmo", target="t.xlsx")}
    assert results["met_numeric_or_secret"].status == "fail"
    assert "'n.d.'" in results["met_numeric_or_secret"].message
    assert "'met'" in results["met_numeric_or_secret"].message
    assert results["difficult_not_above_projects"].status == "fail"
    assert results["difficult_not_above_projects"].observed == "1"
    assert results["xmet_numeric_or_secret"].status == "pass"
    duplicated = results["bassin_metier_departement_unique"]
    assert duplicated.status == "fail" and duplicated.observed == "2"
    assert f"'basin_code': '{broken.iloc[2].basin_code}'" in duplicated.message


def test_survey_year_and_nomenclature() -> None:
    assert survey_year_of({"title": "Base open data BMO 2025", "url": "x.xlsx"}) == 2025
    assert survey_year_of({"title": "Notice", "url": "https://x/base_open_data_bmo_2019.zip"}) == 2019
    assert survey_year_of({"title": "Méthodologie 2025", "url": "methodo.pdf"}) is None
    assert nomenclature_version(2023) == "FAP2009" and nomenclature_version(2024) == "FAP2021"


def _workbook(path: Path, header: list[str], sheet: str = "BMO_2025_open_data") -> Path:
    book = openpyxl.Workbook()
    data = book.active
    data.title = sheet
    data.append(["Enquête BMO 2025"])  # a title row above the header, as some vintages have
    data.append(header)
    data.append([2025, "M1X80", "Techniciens", "A", "Fonctions administratives", "02", "Martinique", "972",
                 "Martinique", 201, "MARTINIQUE CENTRE", "10", "9", "*"][: len(header)])
    book.save(path)
    return path


HEADER_2025 = ["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG", "Dept",
               "NomDept", "BE25", "NOMBE25", "met", "xmet", "smet"]


def test_header_found_below_a_title_and_drift_named(tmp_path: Path) -> None:
    parsed, basin_label, new = read_bmo(_workbook(tmp_path / "ok.xlsx", [*HEADER_2025, "commentaire"]), file="ok.xlsx")
    assert basin_label == "BE25" and new == ["commentaire"]
    assert parsed.iloc[0].to_dict()["basin_code"] == "201" and parsed.iloc[0].to_dict()["smet"] == "*"

    drifted = [h for h in HEADER_2025 if h != "NOMBE25"]
    with pytest.raises(SourceError) as info:
        read_bmo(_workbook(tmp_path / "drift.xlsx", drifted), file="drift.xlsx")
    message = str(info.value)
    assert "missing column(s): basin_name (header matching /nombe\\d{1,2}/)" in message
    assert "file: drift.xlsx [BMO_2025_open_data]" in message

    with pytest.raises(SourceError, match=r"no header row with columns \['met', 'xmet'\]"):
        read_bmo(_workbook(tmp_path / "nox.xlsx", [h for h in HEADER_2025 if h != "xmet"]), file="nox.xlsx")
    with pytest.raises(SourceError, match=r"no data sheet \(name containing 'open_data'\) among \['Feuil1'\]"):
        read_bmo(_workbook(tmp_path / "sheet.xlsx", HEADER_2025, sheet="Feuil1"), file="sheet.xlsx")
