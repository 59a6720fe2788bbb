"""Header matching by pattern: BMO header drift across vintages."""

from __future__ import annotations

import pytest

from oref.errors import SourceError
from oref.sources.bmo import BMO_SPECS
from oref.sources.tabular import map_columns, normalise_header

HEADER_2025 = ["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG",
               "Dept", "NomDept", "BE25", "NOMBE25", "met", "xmet", "smet"]


def test_normalise_header() -> None:
    assert normalise_header("Code métier BMO") == "code_metier_bmo"
    assert normalise_header("Libellé de famille de métier") == "libelle_de_famille_de_metier"


@pytest.mark.parametrize("basin", ["BE25", "BE26", "BE19"])
def test_basin_column_is_found_whatever_the_year(basin: str) -> None:
    header = [basin if h == "BE25" else ("NOM" + basin if h == "NOMBE25" else h) for h in HEADER_2025]
    mapping, new = map_columns(header, BMO_SPECS, source="bmo", file="x.xlsx")
    assert header[mapping["basin_code"]] == basin
    assert header[mapping["basin_name"]] == "NOM" + basin
    assert new == []


def test_2019_spellings_map_to_the_same_columns() -> None:
    header = ["annee", "code métier BMO", "nom_metier BMO", "Famille_metier", "Libellé de famille de métier",
              "REG", "NOM_REG", "Dept", "NomDept", "BE19", "NOMBE19", "met", "xmet", "smet"]
    mapping, _ = map_columns(header, BMO_SPECS, source="bmo", file="bmo_2019.xlsx")
    assert header[mapping["family_label"]] == "Libellé de famille de métier"
    assert header[mapping["occupation_label"]] == "nom_metier BMO"


def test_missing_column_is_named_with_file_and_new_columns() -> None:
    header = [h for h in HEADER_2025 if h != "xmet"] + ["xmet_total"]
    with pytest.raises(SourceError) as excinfo:
        map_columns(header, BMO_SPECS, source="bmo", file="bmo_2025.xlsx")
    message = str(excinfo.value)
    assert "missing column(s): xmet" in message
    assert "unexpected column(s): ['xmet_total']" in message
    assert "file: bmo_2025.xlsx" in message and "source 'bmo'" in message
