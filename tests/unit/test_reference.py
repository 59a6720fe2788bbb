"""oref.reference reads the dbt seeds: the perimeters and source metadata that Python code uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oref.config import PROJECT_ROOT
from oref.quality.gx_runner import load_suite
from oref.reference import (
    digital_fap2021_codes,
    digital_rome_codes,
    naf_codes,
    naf_perimeters,
    offers_query_rome_codes,
    source_codes,
    source_metadata,
)
from oref.sources import SOURCE_NAMES, get_source


def test_naf_perimeters_are_nested_and_in_both_forms() -> None:
    it_core, ict_services, ict_oecd = (set(naf_codes(p)) for p in ("it_core", "ict_services", "ict_oecd"))
    assert it_core < ict_services < ict_oecd
    assert (len(it_core), len(ict_services), len(ict_oecd)) == (5, 17, 25)
    assert "62.01Z" in it_core and "61.10Z" in ict_services - it_core and "26.11Z" in ict_oecd - ict_services
    assert [c.replace(".", "") for c in naf_codes("ict_services")] == list(naf_codes("ict_services", dotted=False))


def test_python_and_dbt_nest_the_perimeters_in_the_same_order() -> None:
    macro = (PROJECT_ROOT / "dbt_project" / "macros" / "naf_perimeters.sql").read_text("utf-8")
    listed = re.search(r"return\(\[([^\]]*)\]\)", macro)
    assert listed is not None
    assert tuple(re.findall(r"'(\w+)'", listed.group(1))) == naf_perimeters() == ("it_core", "ict_services",
                                                                                    "ict_oecd")


def test_digital_occupations() -> None:
    fap = digital_fap2021_codes()  # the six digital métiers of the FAP2021 (families M1X8x and M2X9x)
    assert len(fap) == 6 and all(code[:3] in ("M1X", "M2X") for code in fap) and "M2X90" in fap
    queried = offers_query_rome_codes()
    assert len(queried) == 13 and {"M1805", "I1307", "M1403"} <= set(queried)
    assert set(queried) <= set(digital_rome_codes())  # every queried code is a core digital occupation
    assert len(digital_rome_codes()) == 117 and len(digital_rome_codes(core_only=False)) == 174


def test_every_registered_source_has_its_metadata_in_the_seed() -> None:
    assert source_codes() == SOURCE_NAMES
    for name in SOURCE_NAMES:
        source, meta = get_source(name), source_metadata(name)
        assert (source.title, source.licence, source.cadence) == (meta.title, meta.licence_label, meta.cadence)
        assert meta.licence_code in {"etalab-1.0", "etalab-2.0", "ODbL-1.0"}, name
    assert source_metadata("urssaf").licence_code == "ODbL-1.0"
    assert get_source("bmo").licence == "Licence Ouverte / Open Licence (fr-lo)"


def test_a_landing_suite_reads_a_perimeter_from_the_seeds(tmp_path: Path) -> None:
    suite = load_suite(PROJECT_ROOT / "expectations" / "sirene_landing.json")
    in_perimeter = next(e for e in suite["expectations"] if e["meta"]["name"] == "company_naf_in_perimeter")
    assert in_perimeter["kwargs"]["value_set"] == list(naf_codes("ict_services"))
    (tmp_path / "bad.json").write_text('{"expectations": [{"kwargs": {"value_set": {"$reference": "open"}}}]}')
    with pytest.raises(ValueError, match="unknown \\$reference 'open'"):
        load_suite(tmp_path / "bad.json")
