"""tensions: the DARES / France Travail "Les tensions sur le marché du travail" workbook.

One file, SYNTHETIC values in the real shape, at the real URL path (the query string ``MEDIAID=187108``
is not part of the path; the replay server ignores it when locating the file):
``statistiques.francetravail.org/offres/Handlers/HTFile.ashx``.

Shape (the real workbook's, as parsed by public code): a ``Sommaire`` sheet first, then one sheet per
territorial level (national, régions, départements) with a title block above a header row of French
labels ("Code FAP 228", "Tension", "Manque de main-d'œuvre disponible"...), then a footnote row.
FAP 228 codes and labels are the real FAP2021 ones as printed in the BMO 2025 workbook of the
snapshot (written by the bmo generator, hence ``REQUIRES``): the digital métiers of the seed
digital_fap2021 plus 40 others drawn with the seed. Territories: France, régions 01 and 02 (and 11
to show filtering), départements 971, 972 (and 75). A one-département région has the same values
at both levels, as in the real file.
Small DOM volumes: most DOM crossings lack volume, so their ``Tension`` is empty and only the
imputed column is filled (flag ``Croisement ou volumétrie suffisante`` = 0).

Byte-reproducible: seeded RNG, fixed workbook properties and zip timestamps.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from oref.reference import digital_fap2021_codes
from snapshot.bmo import FILE_URL as BMO_FILE_URL
from snapshot.common import Context, SnapshotFile, workbook_bytes

KEY = "tensions"
SEED = 2024
REQUIRES = ("bmo",)  # reads the FAP codes and labels of the BMO workbook the bmo generator wrote
# the creator stamped inside the workbook when it was first generated: part of its bytes
WORKBOOK_CREATOR = "oref scripts/snapshot_tensions.py"
URL = "https://statistiques.francetravail.org/offres/Handlers/HTFile.ashx?MEDIAID=187108"
PATH = "statistiques.francetravail.org/offres/Handlers/HTFile.ashx"
YEAR = 2024
DIGITAL = digital_fap2021_codes()
INDICATORS = ("Intensité d'embauches", "Lien formation-emploi", "Manque de main-d'œuvre disponible",
              "Non-durabilité de l'emploi", "Conditions de travail contraignantes", "Inadéquation géographique",
              "Non-attractivité salariale")
VALUE_LABELS = ("Tension", "Tension (valeurs imputées - volumétrie insuffisante)", "Tension discrétisée (1 à 5)",
                *INDICATORS, "Croisement ou volumétrie suffisante")
REGIONS = (("01", 0.65), ("02", 0.7), ("11", 0.05))  # code, share of crossings lacking volume
DEPARTEMENTS = (("971", "01"), ("972", "02"), ("75", "11"))


def fap_codes(rng: random.Random, bmo_workbook: Path) -> list[tuple[str, str]]:
    from oref.sources.bmo import read_bmo

    frame, _, _ = read_bmo(bmo_workbook, file=bmo_workbook.name)
    labels = dict(zip(frame.occupation_code, frame.occupation_label, strict=True))
    others = rng.sample(sorted(c for c in labels if c not in DIGITAL), 40)
    return [(c, labels[c]) for c in sorted([*DIGITAL, *others])]


def discretise(value: float) -> int:
    # quintiles of a standardised score: 1 = very low tension ... 5 = very high
    return 1 + sum(value >= cut for cut in (-0.84, -0.25, 0.25, 0.84))


def indicator_row(rng: random.Random, base: float, missing_share: float) -> list[object]:
    """The value columns of one FAP x territory crossing, around a base standardised tension."""
    imputed = round(base + rng.gauss(0, 0.35), 2)
    indicators = [round(rng.gauss(base * 0.5, 0.8), 2) for _ in INDICATORS]
    if rng.random() < missing_share:
        # too few offers/jobseekers in the crossing: no measured tension, only the imputed one
        return [None, imputed, discretise(imputed), *([None] * len(INDICATORS)), 0]
    return [imputed, imputed, discretise(imputed), *indicators, 1]


def data_sheet(workbook: Workbook, title: str, level_label: str, code_label: str | None,
               rows: Sequence[Sequence[object]]) -> None:
    ws = workbook.create_sheet(title)
    ws.append([f"Les tensions sur le marché du travail en {YEAR} — {level_label}"])
    ws.append(["Source : Dares, France Travail ; calculs Dares. Indicateurs centrés-réduits."])
    ws.append([])
    ws.append(["Année", "Code FAP 228", "Libellé FAP 228", *([code_label] if code_label else []), *VALUE_LABELS])
    for row in rows:
        ws.append(list(row))
    ws.append([])
    ws.append(["Note : lorsque la volumétrie est insuffisante, la tension est imputée (colonne dédiée) et les "
               "indicateurs complémentaires ne sont pas diffusés."])


def build_workbook(bmo_workbook: Path) -> bytes:
    rng = random.Random(SEED)
    faps = fap_codes(rng, bmo_workbook)
    # national standardised tension: digital métiers run high, as in the published DARES results
    national = {c: round(rng.gauss(1.3 if c in DIGITAL else 0.0, 0.3 if c in DIGITAL else 0.9), 2) for c, _ in faps}
    workbook = Workbook()
    sommaire = workbook.active
    sommaire.title = "Sommaire"
    for line in (f"Les tensions sur le marché du travail en {YEAR}", "",
                 "Données synthétiques (oref) dans la forme du classeur Dares / France Travail.",
                 "Tensions national : une ligne par FAP 228.",
                 "Tensions région : une ligne par FAP 228 et région.",
                 "Tensions département : une ligne par FAP 228 et département.",
                 "Indicateur principal : 30 % offres/demandeurs, 20 % taux d'écoulement, 50 % part des projets "
                 "de recrutement jugés difficiles (BMO)."):
        sommaire.append([line])
    national_rows = []
    for code, label in faps:
        values = indicator_row(rng, national[code], 0.0)
        national_rows.append([YEAR, code, label, *values])
    regional: dict[str, list[list[object]]] = {}
    for region, missing in REGIONS:
        shrink = 0.55 if region in ("01", "02") else 0.9
        regional[region] = [[YEAR, code, label, region, *indicator_row(rng, national[code] * shrink, missing)]
                            for code, label in faps]
    departmental = []
    for dep, region in DEPARTEMENTS:
        for row in regional[region]:
            # a one-département région (DROM) publishes the same values at both levels; Paris differs
            values = list(row[4:]) if region != "11" else indicator_row(rng, national[str(row[1])], 0.1)
            departmental.append([YEAR, row[1], row[2], dep, *values])
    data_sheet(workbook, "Tensions national", "France entière (hors Mayotte)", None, national_rows)
    data_sheet(workbook, "Tensions région", "régions", "Code région",
               [r for region, _ in REGIONS for r in regional[region]])
    data_sheet(workbook, "Tensions département", "départements", "Code département", departmental)
    return workbook_bytes(workbook, creator=WORKBOOK_CREATOR)


def build(ctx: Context) -> list[SnapshotFile]:
    data = build_workbook(ctx.out / BMO_FILE_URL.removeprefix("https://"))
    return [SnapshotFile(
        PATH, URL, KEY, "synthetic",
        "DARES / France Travail 'Les tensions sur le marché du travail' 2024 workbook: SYNTHETIC values in the "
        "real shape (Sommaire + national, région and département sheets, title block, French labels, footnote); "
        "real FAP 228 codes/labels (from the BMO 2025 workbook); France, régions 01/02/11, départements "
        "971/972/75; DOM crossings mostly imputed",
        "Licence Ouverte / Etalab 2.0", data)]
