"""docs/indicators.md is generated from the catalogue seeds and cannot drift from them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from oref import indicator_docs as gen

REPO = Path(__file__).resolve().parents[2]

CATALOGUE_HEADER = ["indicator_code", "label_fr", "definition_fr", "formula_fr", "unit", "direction", "source_fr",
                    "source_codes", "grain_fr", "preconisation_code", "target_value", "target_fr", "model"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    _write(tmp_path / "indicator_catalogue.csv", CATALOGUE_HEADER, [
        ["ftth_coverage", "Couverture FttH", "Part des locaux raccordables\nà la fibre.", "raccordables / locaux",
         "part", "hausse_favorable", "Arcep, déploiements FttH", "arcep;geo", "commune ; trimestre", "3", "1",
         "100 % des locaux raccordables", "ind_arcep"],
        ["bmo_projects", "Projets de recrutement | numérique", "Somme des projets « met ».", "somme(met)",
         "projets", "neutre", "France Travail, BMO", "bmo", "bassin BMO ; année", "4", "", "", "ind_bmo"],
        ["bmo_difficult_share", "Part des projets difficiles", "xmet / met.", "somme(xmet) / somme(met)", "part",
         "baisse_favorable", "France Travail, BMO", "bmo", "bassin BMO ; année", "4", "", "", "ind_bmo"],
        ["orphan_indicator", "Indicateur orphelin", "Sans préconisation.", "", "unités", "neutre", "Aucune", "",
         "département", "9", "", "", ""],
    ])
    _write(tmp_path / "preconisations.csv", ["preconisation_code", "title_fr", "description_fr"], [
        ["4", "Renforcer le socle de formation", "Suivre les besoins des employeurs."],
        ["3", "Rôle moteur des collectivités", "Suivre le territoire connecté."],
        ["5", "Se préparer aux enjeux de demain", "IA, cybersécurité, données."],
    ])
    return tmp_path


def test_committed_doc_matches_the_committed_seeds() -> None:
    committed = (REPO / "docs" / "indicators.md").read_text("utf-8")
    assert committed == gen.generate(REPO / "dbt_project" / "seeds"), (
        "docs/indicators.md is out of date with the catalogue seeds: run `make docs` and commit it")


def test_committed_doc_lists_every_catalogue_indicator() -> None:
    text = (REPO / "docs" / "indicators.md").read_text("utf-8")
    with (REPO / "dbt_project" / "seeds" / "indicator_catalogue.csv").open(encoding="utf-8") as handle:
        codes = [row["indicator_code"] for row in csv.DictReader(handle)]
    assert codes
    for code in codes:
        assert f"### `{code}`" in text


def test_committed_doc_links_each_indicator_to_an_existing_model() -> None:
    text = (REPO / "docs" / "indicators.md").read_text("utf-8")
    with (REPO / "dbt_project" / "seeds" / "indicator_catalogue.csv").open(encoding="utf-8") as handle:
        models = {row["indicator_code"]: row["model"] for row in csv.DictReader(handle)}
    for code, model in models.items():
        section = text[text.index(f"### `{code}`"):]
        link = re.search(r"\*\*Calcul\.\*\* Modèle dbt \[`(\w+)`\]\(([^)]+)\)", section)
        assert link is not None and link.group(1) == model, code
        target = (REPO / "docs" / link.group(2)).resolve()
        assert target.is_file() and f"'{code}'" in target.read_text("utf-8"), (code, target)


def test_sections_tables_and_definitions(seeds: Path) -> None:
    text = gen.generate(seeds)
    assert text == gen.generate(seeds)  # deterministic
    # préconisations in numeric order, orphans last
    order = [text.index(h) for h in ("## Préconisation 3 — Rôle moteur des collectivités",
                                     "## Préconisation 4 — Renforcer le socle de formation",
                                     "## Préconisation 5 — Se préparer aux enjeux de demain",
                                     "## Indicateurs sans préconisation connue (9)")]
    assert order == sorted(order)
    assert "Suivre le territoire connecté." in text
    assert ("| [`ftth_coverage`](#ftth_coverage) | Couverture FttH | part | ↑ hausse favorable | "
            "Arcep, déploiements FttH | commune ; trimestre | 100 % des locaux raccordables (valeur cible : 1) |"
            ) in text
    # a pipe inside a label is escaped, an empty target is a dash
    assert ("| [`bmo_projects`](#bmo_projects) | Projets de recrutement \\| numérique | projets | neutre (suivi) | "
            "France Travail, BMO | bassin BMO ; année | — |") in text
    assert "| ↓ baisse favorable |" in text
    # catalogue order within a section, the table before the definitions
    section4 = text[text.index("## Préconisation 4"):text.index("## Préconisation 5")]
    assert section4.index("[`bmo_projects`]") < section4.index("[`bmo_difficult_share`]")
    assert section4.index("| code | libellé | unité | sens | source | grain | cible |") < section4.index(
        "### `bmo_projects`")
    # définition (newlines folded) and formule under the table
    assert "**Définition.** Part des locaux raccordables à la fibre." in text
    assert "**Formule.** somme(xmet) / somme(met)" in text
    assert "**Sources (pipeline).** `arcep`, `geo`" in text
    assert "**Calcul.** Modèle dbt [`ind_arcep`](../dbt_project/models/marts/indicators/ind_arcep.sql)." in text
    assert text.count("**Calcul.**") == 3  # the orphan names no model
    assert "Aucun indicateur n'est encore défini pour cette préconisation." in text  # préconisation 5
    assert "4 indicateurs suivent les 3 préconisations" in text


def test_check_mode_detects_a_stale_doc(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "indicators.md"
    assert gen.main(["--seeds", str(seeds), "--output", str(out)]) == 0
    assert gen.main(["--seeds", str(seeds), "--output", str(out), "--check"]) == 0
    out.write_text(out.read_text("utf-8").replace("Couverture FttH", "Couverture"), "utf-8")
    assert gen.main(["--seeds", str(seeds), "--output", str(out), "--check"]) == 1


def test_old_catalogue_columns_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "indicator_catalogue.csv",
           ["indicator_code", "label_fr", "definition_fr", "unit", "direction", "source", "preconisation"],
           [["x", "X", "d", "u", "neutre", "s", "1"]])
    _write(tmp_path / "preconisations.csv", ["preconisation_code", "title_fr", "description_fr"], [["1", "t", "d"]])
    with pytest.raises(SystemExit, match="formula_fr"):
        gen.generate(tmp_path)
