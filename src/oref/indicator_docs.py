"""Write docs/indicators.md, the analysts' guide to the indicators, from the catalogue seeds.

    python -m oref.indicator_docs            # (re)write docs/indicators.md  (= make docs)
    python -m oref.indicator_docs --check    # exit 1 if docs/indicators.md is out of date

Reads ``dbt_project/seeds/indicator_catalogue.csv``, ``dbt_project/seeds/preconisations.csv`` and
``dbt_project/seeds/snapshot_data_origin.csv`` (what is real in the demonstration snapshot). The
output depends on nothing but these files (no date, no run id), so it is committed and a unit test
checks that it matches the seeds. Each indicator links to the dbt model that computes
it (the catalogue's ``model`` column, ``dbt_project/models/marts/indicators/<model>.sql``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from pathlib import Path

from oref.config import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
OUTPUT = PROJECT_ROOT / "docs" / "indicators.md"
# where the indicator models are, relative to docs/ (the links of the generated page)
MODELS_LINK = "../dbt_project/models/marts/indicators"

CATALOGUE_COLUMNS = ("indicator_code", "label_fr", "definition_fr", "formula_fr", "unit", "direction", "source_fr",
                     "source_codes", "grain_fr", "preconisation_code", "target_value", "target_fr", "model")
PRECONISATION_COLUMNS = ("preconisation_code", "title_fr", "description_fr")

DIRECTIONS = {
    "hausse_favorable": "↑ hausse favorable",
    "baisse_favorable": "↓ baisse favorable",
    "neutre": "neutre (suivi)",
}


def _read(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|") or "—"


def _para(text: str) -> str:
    return " ".join(text.split())


def _code_key(code: str) -> tuple[int, str]:
    return (int(code), "") if code.isdigit() else (sys.maxsize, code)


def _target(row: dict[str, str]) -> str:
    value, text = row["target_value"], row["target_fr"]
    if value and text:
        return f"{text} (valeur cible : {value})"
    return text or value


ORIGIN_COLUMNS = ("source_code", "indicator_codes", "periods", "departements", "territory_levels", "origin",
                  "note_fr")


def _origin_scope(rule: dict[str, str], others: list[dict[str, str]]) -> str:
    """Where a rule of snapshot_data_origin applies, in French ("2025, départements 971, 972"); a
    broader rule that more precise ones override says so ("2025, autres départements")."""
    parts = []
    if rule["periods"]:
        parts.append(", ".join(rule["periods"].split(";")))
    if rule["departements"]:
        parts.append("départements " + ", ".join(rule["departements"].split(";")))
    elif parts and any(o["departements"] for o in others):
        parts.append("autres départements")
    if rule["territory_levels"]:
        parts.append("niveaux " + ", ".join(rule["territory_levels"].split(";")))
    if not parts:
        return "autres cas" if others else "toutes périodes, tous territoires"
    return ", ".join(parts)


def _origin_lines(code: str, sources: list[str], origins: list[dict[str, str]]) -> list[str]:
    """Per source of an indicator, what the demonstration snapshot holds: real or synthetic, where."""
    lines = []
    for source in sources:
        rules = [r for r in origins if r["source_code"] == source
                 and (not r["indicator_codes"] or code in r["indicator_codes"].split(";"))]
        # the most precise rules first, as mart_indicators applies them
        rules.sort(key=lambda r: -sum(bool(r[k]) for k in ("periods", "departements", "territory_levels")))
        for rule in rules:
            others = [o for o in rules if o is not rule and (not rule["periods"] or not o["periods"]
                                                             or o["periods"] == rule["periods"])]
            lines.append(f"- `{source}`, {_origin_scope(rule, others)} : **{rule['origin']}** — "
                         f"{_para(rule['note_fr'])}")
    return lines


def render(catalogue: list[dict[str, str]], preconisations: list[dict[str, str]],
           origins: list[dict[str, str]] | None = None) -> str:
    """The Markdown document (deterministic: the same seeds give the same bytes)."""
    origins = origins or []
    known = {p["preconisation_code"] for p in preconisations}
    by_preco: dict[str, list[dict[str, str]]] = {}
    for row in catalogue:
        by_preco.setdefault(row["preconisation_code"], []).append(row)
    lines = [
        "<!-- Généré par `python -m oref.indicator_docs` à partir de dbt_project/seeds/indicator_catalogue.csv",
        "     et dbt_project/seeds/preconisations.csv : ne pas modifier à la main, lancer `make docs`. -->",
        "",
        "# Indicateurs de l'observatoire",
        "",
        f"{len(catalogue)} indicateurs suivent les {len(preconisations)} préconisations de l'observatoire. "
        "Ils sont publiés dans la table `marts.mart_indicators` de l'entrepôt (une ligne par indicateur × "
        "territoire × période) et, à chaque mise à jour, en données ouvertes sous `data/opendata/<exécution>/` "
        "(`indicateurs.csv`, `indicateurs.parquet`, `datapackage.json`).",
        "",
        "Une valeur vide est inconnue (cellules sous secret statistique, ratio sans dénominateur), jamais "
        "zéro ; la colonne `suppressed_count` donne le nombre de cellules sous secret. Le code d'un "
        "indicateur est stable : c'est lui qu'il faut utiliser dans les requêtes.",
        "",
        "Réel ou synthétique : la colonne `data_origin` de `mart_indicators` (et des données ouvertes) dit, "
        "ligne par ligne, si le chiffre est réel. Avec les vraies sources (mode live), il l'est toujours. "
        "Le jeu de démonstration livré avec le projet (mode snapshot) mêle des fichiers réels (BMO 2024, "
        "lignes BMO 2025 de la Guadeloupe et de la Martinique, référentiels) et des valeurs synthétiques "
        "générées dans la forme réelle des sources : pour chaque indicateur, la rubrique « Jeu de "
        "démonstration » ci-dessous dit quelles périodes et quels territoires sont réels (seed "
        "`snapshot_data_origin`). Un chiffre synthétique n'est jamais un chiffre officiel.",
        "",
        "Sens : « hausse favorable » quand une valeur plus élevée rapproche de l'objectif de la préconisation, "
        "« baisse favorable » dans le cas contraire, « neutre » pour un indicateur de contexte.",
        "",
        "Chaque indicateur renvoie au modèle dbt qui le calcule (`dbt_project/models/marts/indicators/`, un "
        "modèle par famille, nommé d'après le préfixe du code) ; ses tests unitaires sont dans le fichier "
        "`.yml` du même nom.",
        "",
    ]
    sections = [(p["preconisation_code"], p["title_fr"], p["description_fr"])
                for p in sorted(preconisations, key=lambda p: _code_key(p["preconisation_code"]))]
    orphans = sorted((c for c in by_preco if c not in known), key=_code_key)
    sections += [(code, "Indicateurs sans préconisation connue", "") for code in orphans]
    for code, title, description in sections:
        rows = by_preco.get(code, [])
        heading = f"Préconisation {code} — {title}" if code in known else f"{title} ({code or 'vide'})"
        lines += [f"## {heading}", ""]
        if description:
            lines += [_para(description), ""]
        if not rows:
            lines += ["Aucun indicateur n'est encore défini pour cette préconisation.", ""]
            continue
        lines += ["| code | libellé | unité | sens | source | grain | cible |",
                  "|---|---|---|---|---|---|---|"]
        for row in rows:
            lines.append("| " + " | ".join([
                f"[`{row['indicator_code']}`](#{row['indicator_code']})", _cell(row["label_fr"]), _cell(row["unit"]),
                _cell(DIRECTIONS.get(row["direction"], row["direction"])), _cell(row["source_fr"]),
                _cell(row["grain_fr"]), _cell(_target(row)),
            ]) + " |")
        lines.append("")
        for row in rows:
            lines += [
                f'<a id="{row["indicator_code"]}"></a>',
                f"### `{row['indicator_code']}` — {_para(row['label_fr'])}",
                "",
                f"**Définition.** {_para(row['definition_fr']) or '—'}",
                "",
                f"**Formule.** {_para(row['formula_fr']) or '—'}",
                "",
            ]
            sources = [s.strip() for s in row["source_codes"].split(";") if s.strip()]
            if sources:
                lines += ["**Sources (pipeline).** " + ", ".join(f"`{s}`" for s in sources), ""]
            if sources and origins:
                lines += ["**Jeu de démonstration (mode snapshot).**", "",
                          *_origin_lines(row["indicator_code"], sources, origins), ""]
            if row["model"]:
                lines += [f"**Calcul.** Modèle dbt [`{row['model']}`]({MODELS_LINK}/{row['model']}.sql).", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def generate(seeds: Path = SEEDS) -> str:
    catalogue = _read(seeds / "indicator_catalogue.csv", CATALOGUE_COLUMNS)
    preconisations = _read(seeds / "preconisations.csv", PRECONISATION_COLUMNS)
    origin_seed = seeds / "snapshot_data_origin.csv"
    origins = _read(origin_seed, ORIGIN_COLUMNS) if origin_seed.exists() else []
    return render(catalogue, preconisations, origins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="directory of the seed CSV files")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is not up to date")
    args = parser.parse_args(argv)
    text = generate(args.seeds)
    if args.check:
        current = args.output.read_text("utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, "utf-8")
    print(f"wrote {args.output} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
