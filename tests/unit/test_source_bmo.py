"""BMO through the data.gouv.fr dataset API: every year the dataset lists, zipped or not, with drifting
headers, fetched from the replay server and loaded into DuckDB (the national 2025 workbook itself:
test_bmo.py and test_bmo_national.py)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.sources.bmo import BmoSource

BMO_DATASET = SNAPSHOT / "www.data.gouv.fr" / "api" / "1" / "datasets" / "561fa564c751df4f2acdbb48" / "index.json"


def _older_vintage_zip(path: Path) -> None:
    """A 2019-style BMO workbook, zipped: other header spellings, BE19, FAP2009-era codes."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BMO_2019_open_data"
    sheet.append(["annee", "code métier BMO", "nom_metier BMO", "Famille_metier", "Libellé de famille de métier",
                  "REG", "NOM_REG", "Dept", "NomDept", "BE19", "NOMBE19", "met", "xmet", "smet"])
    sheet.append([2019, "M2Z90", "Ingénieurs informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 201, "MARTINIQUE CENTRE", "25", "12", "*"])
    sheet.append([2019, "M1Z80", "Techniciens informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 203, "MARTINIQUE SUD", "*", "*", "*"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Base_open_data_BMO_2019.xlsx", buffer.getvalue())


@pytest.mark.slow  # loads the national 2025 workbook besides the 2019 one
def test_bmo_lands_every_listed_year_zipped_or_not(sources: SourceHarness) -> None:
    snapshot = sources.tmp_path / "snap"
    for host in ("www.data.gouv.fr", "static.data.gouv.fr"):
        shutil.copytree(SNAPSHOT / host, snapshot / host)
    zip_path = snapshot / "static.data.gouv.fr" / "resources" / "bmo" / "bmo_2019.zip"
    zip_path.parent.mkdir(parents=True)
    _older_vintage_zip(zip_path)
    document = json.loads(BMO_DATASET.read_text("utf-8"))
    document["resources"].append({"id": "0000-2019", "title": "Base open data BMO 2019", "format": "zip",
                                  "url": "https://static.data.gouv.fr/resources/bmo/bmo_2019.zip"})
    (snapshot / BMO_DATASET.relative_to(SNAPSHOT)).write_text(json.dumps(document), "utf-8")
    with sources.serve(snapshot) as server:
        settings = sources.settings(server, "972", snapshot=snapshot, max_retries=0)
        result = sources.fetch(settings, BmoSource())
        _, con = sources.load(settings, BmoSource())
    # the national 2025 workbook, the real national 2024 one and the 2019 zip
    assert result.status == "landed" and result.rows == 52_776 + 53_443 + 2
    by_year = dict(con.execute("select survey_year, nomenclature_version || '/' || basin_column "
                               "from raw.bmo_recruitment_needs group by all").fetchall())
    assert by_year == {2019: "FAP2009/BE19", 2024: "FAP2021/BE24", 2025: "FAP2021/BE25"}
    # the secret mark stays text in raw; staging turns it into NULL + a flag
    assert con.execute("select met from raw.bmo_recruitment_needs where survey_year = 2019 "
                       "and basin_code = '203'").fetchone() == ("*",)
