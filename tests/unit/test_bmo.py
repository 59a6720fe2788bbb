"""BMO parsing on the real 2025 workbook (bundled in the snapshot) and the GX landing suite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oref.quality.gx_runner import run_suite
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


def test_real_workbook_rows_and_secret_cells(frame: pd.DataFrame) -> None:
    assert len(frame) == 941
    mtq = frame[frame.department_code == "972"]
    assert len(mtq) == 425
    assert (mtq.met == "*").sum() == 94
    assert mtq[mtq.met != "*"].met.astype(int).sum() == 13013
    # codes stay text: the région keeps its leading zero
    assert set(mtq.region_code) == {"02"}
    assert set(mtq.basin_code) == {"201", "202", "203", "204"}


def test_real_digital_rows_of_martinique(frame: pd.DataFrame) -> None:
    digital = frame[(frame.department_code == "972")
                    & frame.occupation_code.isin(["M1X80", "M1X81", "M2X90", "M2X91", "M2X92", "M2X93"])]
    assert len(digital) == 9
    visible = digital[digital.met != "*"].met.astype(int)
    assert visible.sum() == 61 and (digital.met == "*").sum() == 4


def test_landing_suite_passes_on_the_real_file(frame: pd.DataFrame) -> None:
    results = run_suite(SUITE, validation_frame(frame), source="bmo", target=WORKBOOK.name)
    assert len(results) == 20
    assert [r.check_name for r in results if r.status != "pass"] == []


def test_landing_suite_names_bad_values(frame: pd.DataFrame) -> None:
    broken = frame.head(50).copy()
    broken.loc[broken.index[0], "met"] = "n.d."  # neither a number nor the secret mark
    broken.loc[broken.index[1], ["met", "xmet"]] = ["3", "8"]  # more difficult projects than projects
    results = {r.check_name: r for r in run_suite(SUITE, validation_frame(broken), source="bmo", target="t.xlsx")}
    assert results["met_numeric_or_secret"].status == "fail"
    assert "'n.d.'" in results["met_numeric_or_secret"].message
    assert "'met'" in results["met_numeric_or_secret"].message
    assert results["difficult_not_above_projects"].status == "fail"
    assert results["difficult_not_above_projects"].observed == "1"
    assert results["xmet_numeric_or_secret"].status == "pass"


def test_survey_year_and_nomenclature() -> None:
    assert survey_year_of({"title": "Base open data BMO 2025", "url": "x.xlsx"}) == 2025
    assert survey_year_of({"title": "Notice", "url": "https://x/base_open_data_bmo_2019.zip"}) == 2019
    assert survey_year_of({"title": "Méthodologie 2025", "url": "methodo.pdf"}) is None
    assert nomenclature_version(2023) == "FAP2009" and nomenclature_version(2024) == "FAP2021"
