"""The dbt project's structure, read from its files: layers, one yml per model, traceable indicators.

The same rules are dbt tests too (assert_layers_read_downward_only,
assert_indicator_catalogue_matches_the_indicator_models), which see the compiled graph and the
built tables; these checks need no build, so they run in `make check`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "dbt_project" / "models"
SEEDS = REPO / "dbt_project" / "seeds"
INDICATORS = MODELS / "marts" / "indicators"
REF = re.compile(r"ref\(\s*'(\w+)'\s*\)")


def _catalogue() -> list[dict[str, str]]:
    with (SEEDS / "indicator_catalogue.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _yml_models(path: Path) -> tuple[list[str], list[dict[str, object]]]:
    document = yaml.safe_load(path.read_text("utf-8")) or {}
    return [m["name"] for m in document.get("models") or []], list(document.get("unit_tests") or [])


def test_source_appears_in_staging_only_and_staging_reads_no_model() -> None:
    seeds = {p.stem for p in SEEDS.glob("*.csv")}
    for path in MODELS.rglob("*.sql"):
        text = path.read_text("utf-8")
        if path.parent.name == "staging":
            assert set(REF.findall(text)) <= seeds, path.name  # a staging model reads sources and seeds
        else:
            assert "source(" not in text, f"{path.relative_to(MODELS)} reads a source outside staging"


def test_the_indicator_models_read_facts_dimensions_and_marts_never_staging() -> None:
    for path in INDICATORS.glob("*.sql"):
        assert not [r for r in REF.findall(path.read_text("utf-8")) if r.startswith(("stg_", "int_"))], path.name


def test_every_model_has_its_yml_beside_it_with_its_unit_tests() -> None:
    for sql in MODELS.rglob("*.sql"):
        yml = sql.with_suffix(".yml")
        assert yml.is_file(), f"{sql.relative_to(MODELS)} has no {yml.name} beside it"
        models, unit_tests = _yml_models(yml)
        assert models == [sql.stem], yml.name
        assert all(t["model"] == sql.stem for t in unit_tests), f"{yml.name} holds another model's unit test"
    for yml in MODELS.rglob("*.yml"):
        if not yml.name.startswith("_"):
            assert yml.with_suffix(".sql").is_file(), f"{yml.relative_to(MODELS)} describes no model beside it"


def test_the_catalogue_names_the_model_of_every_indicator() -> None:
    macro = (REPO / "dbt_project" / "macros" / "indicators.sql").read_text("utf-8")
    listed = re.search(r"macro indicator_models\(\).*?return\(\[(.*?)\]\)", macro, re.S)
    assert listed is not None
    unioned = re.findall(r"'(\w+)'", listed.group(1))
    files = sorted(p.stem for p in INDICATORS.glob("ind_*.sql"))
    catalogue = _catalogue()
    assert sorted(unioned) == files == sorted({row["model"] for row in catalogue})
    sources = {p.stem: p.read_text("utf-8") for p in INDICATORS.glob("ind_*.sql")}
    for row in catalogue:
        code, model = row["indicator_code"], row["model"]
        assert model == "ind_" + code.split("_", 1)[0], f"{code}: the family prefix names the model"
        # the code is written once, in its model (a literal dbt cannot trace: the catalogue does);
        # ind_growth, which reads other families' rows by code, names each base code beside its model
        writers = [m for m, text in sources.items() if f"'{code}'" in text]
        readers = [m for m in writers if m != model and f"'{model}', '{code}'" in sources[m]]
        assert [m for m in writers if m not in readers] == [model], code
