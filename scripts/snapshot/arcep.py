"""arcep: the FttH deployments observatory workbook and its data.gouv.fr dataset document.

Synthetic values in the real layout of ``2025t4-obs-hd-thd-deploiement-vf.xlsx``, sheet ``Communes``:
a title block above the header row, premises estimates as text with decimal commas
(``250164,8755``), then one column per quarter ``T4 2017`` ... ``T4 2025`` of FttH-connectable
premises. Only Guadeloupe (971) and Martinique (972) are written; every other département of the
national workbook is omitted. The Martinique totals are the real ones (ARCEP): Σ premises
250 164,8755 and Σ connectable 70 148 (T4 2021), 104 363, 132 149, 148 728, 171 283 (T4 2025);
their split by commune is invented (Centre more covered than the Nord).

Commune codes and names come from the COG file the geo generator wrote (hence ``REQUIRES``).
Byte-reproducible: fixed seed and container dates.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from snapshot.common import XLSX_MIME, Context, SnapshotFile, cog_communes, json_bytes, workbook_bytes

KEY = "arcep"
SEED = 2025
REQUIRES = ("geo",)  # places its rows in the communes of the COG file
# the creator stamped inside the workbook when it was first generated: part of its bytes
WORKBOOK_CREATOR = "oref scripts/make_snapshot.py"

SLUG = "le-marche-du-haut-et-tres-haut-debit-fixe-deploiements"
DATASET_ID = "5a0c1a3b88ee3868ce3a5f0b"  # stand-in id: the document is addressed by its slug
RESOURCE_ID = "f7b6a3d0-2c51-4d0e-9c55-0b8f3a3e2f41"
STAMP = "20260312-143000"
FILE_NAME = "2025t4-obs-hd-thd-deploiement-vf.xlsx"
FILE_URL = f"https://static.data.gouv.fr/resources/{SLUG}/{STAMP}/{FILE_NAME}"
DATASET_URL = f"https://www.data.gouv.fr/api/1/datasets/{SLUG}/"
LICENCE = "Licence Ouverte / Etalab 2.0"

QUARTERS = [(2017, 4)] + [(y, q) for y in range(2018, 2026) for q in (1, 2, 3, 4)]
# Real Martinique anchors (T4 of each year); earlier years are plausible, not real.
MTQ_PREMISES_TEN_THOUSANDTHS = 2_501_648_755  # 250 164,8755 premises
MTQ_ANCHORS = {2017: 12_480, 2018: 24_930, 2019: 38_210, 2020: 53_640, 2021: 70_148, 2022: 104_363,
               2023: 132_149, 2024: 148_728, 2025: 171_283}
GLP_PREMISES_TEN_THOUSANDTHS = 2_873_412_316
GLP_ANCHORS = {2017: 31_200, 2018: 58_400, 2019: 92_700, 2020: 131_500, 2021: 168_900, 2022: 197_300,
               2023: 216_800, 2024: 229_400, 2025: 238_650}

# Approximate populations (order of magnitude) of the larger communes; others get a random weight.
POPULATION = {
    "97209": 76_000, "97213": 40_000, "97222": 22_000, "97229": 19_500, "97207": 17_500, "97210": 16_500,
    "97224": 16_500, "97228": 15_500, "97221": 12_500, "97220": 12_000, "97230": 12_000, "97212": 10_000,
    "97101": 53_000, "97103": 31_000, "97113": 26_000, "97118": 24_000, "97117": 22_000, "97120": 15_000,
    "97107": 17_000, "97116": 16_500, "97115": 16_000, "97125": 12_000, "97128": 24_000, "97129": 17_000,
}
# Coverage at T4 2025 by arrondissement: the Centre (Fort-de-France) is better covered than the Nord.
RATE_2025 = {"9721": 0.80, "9723": 0.64, "9722": 0.52, "9724": 0.50, "9711": 0.80, "9712": 0.84}
# How early each area was deployed (share of its 2025 level reached at T4 2017).
EARLY = {"9721": 0.12, "9723": 0.06, "9722": 0.03, "9724": 0.03, "9711": 0.12, "9712": 0.14}


def communes(snapshot: Path) -> list[dict[str, str]]:
    by_departement = cog_communes(snapshot, ("971", "972"))
    return [*by_departement["971"], *by_departement["972"]]  # the COG file's order: by commune code


def split_exact(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def comma(value: int) -> str:
    """Ten-thousandths as ARCEP writes them: ``2501648755`` -> ``250164,8755``."""
    return f"{value // 10_000},{value % 10_000:04d}"


def department_rows(rng: random.Random, rows: list[dict[str, str]], premises_total: int,
                    anchors: dict[int, int]) -> list[list[Any]]:
    weights = [POPULATION.get(r["COM"], rng.lognormvariate(8.3, 0.6)) * rng.uniform(0.9, 1.1) for r in rows]
    premises = split_exact(premises_total, weights)  # ten-thousandths of a premise
    rates = [RATE_2025[r["ARR"]] * rng.uniform(0.9, 1.1) for r in rows]
    series: dict[tuple[int, int], list[int]] = {}
    for year, quarter in QUARTERS:
        t = (year - 2017) * 4 + quarter - 4  # 0 at T4 2017, 32 at T4 2025
        # department total: linear between the yearly T4 anchors
        lo, hi = anchors[year - 1 if quarter < 4 else year], anchors[year]
        total = hi if quarter == 4 or year == 2017 else round(lo + (hi - lo) * quarter / 4)
        shape = [EARLY[r["ARR"]] + (1 - EARLY[r["ARR"]]) * (t / 32) ** 1.3 for r in rows]
        series[(year, quarter)] = split_exact(total, [p * rate * s for p, rate, s in zip(premises, rates, shape,
                                                                                        strict=True)])
    out = []
    for i, r in enumerate(rows):
        under_construction = int(premises[i] * rng.uniform(0.004, 0.012))
        source = "IPE" if rng.random() < 0.7 else "Fichiers fonciers"
        out.append([r["COM"], r["LIBELLE"], r["DEP"], comma(premises[i]), source, comma(under_construction),
                    *(series[q][i] for q in QUARTERS)])
    return out


def build_workbook(snapshot: Path) -> bytes:
    rng = random.Random(SEED)
    rows = communes(snapshot)
    body = (department_rows(rng, [r for r in rows if r["DEP"] == "971"], GLP_PREMISES_TEN_THOUSANDTHS, GLP_ANCHORS)
            + department_rows(rng, [r for r in rows if r["DEP"] == "972"], MTQ_PREMISES_TEN_THOUSANDTHS,
                              MTQ_ANCHORS))
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Sommaire"
    notes["A1"] = "Observatoire des abonnements et déploiements du haut et très haut débit - T4 2025"
    notes["A3"] = "Extrait synthétique pour oref : départements 971 et 972 seulement."
    sheet = workbook.create_sheet("Communes")
    # ARCEP's sheet opens with a title block; the header row is found by its "Code commune" label.
    sheet["A1"] = "Déploiements FttH par commune"
    sheet["A2"] = "Nombre de locaux raccordables au FttH à la fin de chaque trimestre"
    sheet["A3"] = "Source : Arcep, opérateurs d'immeuble"
    header = ["Code commune", "Nom commune", "Code département", "Meilleure estimation des locaux à date",
              "Source retenue pour l'estimation des locaux", "Estimation locaux en cours de construction",
              *(f"T{q} {y}" for y, q in QUARTERS)]
    for column, label in enumerate(header, start=1):
        sheet.cell(row=5, column=column, value=label)
    for row_index, values in enumerate(body, start=6):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_index, column=column, value=value)
            if isinstance(value, str):
                cell.number_format = "@"
    workbook.create_sheet("FttH par Départements")["A1"] = "Omis dans cet extrait."
    return workbook_bytes(workbook, creator=WORKBOOK_CREATOR)


def dataset_document(workbook: bytes) -> dict[str, Any]:
    modified = "2026-03-12T14:30:00.000000+00:00"
    return {
        "id": DATASET_ID,
        "title": "Le marché du haut et très haut débit fixe (déploiements)",
        "slug": SLUG,
        "acronym": None,
        "description": "Observatoire trimestriel des déploiements du haut et très haut débit fixe (Arcep).",
        "license": "fr-lo",
        "frequency": "quarterly",
        "created_at": "2017-12-07T10:00:00.000000+00:00",
        "last_modified": modified,
        "last_update": modified,
        "page": f"https://www.data.gouv.fr/fr/datasets/{SLUG}/",
        "uri": DATASET_URL,
        "organization": {"name": "Arcep", "slug": "arcep",
                         "page": "https://www.data.gouv.fr/fr/organizations/arcep/"},
        "owner": None,
        "private": False,
        "archived": None,
        "deleted": None,
        "tags": ["fibre", "ftth", "haut-debit", "tres-haut-debit"],
        "resources": [{
            "id": RESOURCE_ID,
            "title": FILE_NAME,
            "description": "Déploiements FttH par commune, département et région au T4 2025.",
            "type": "main",
            "filetype": "file",
            "format": "xlsx",
            "url": FILE_URL,
            "latest": f"https://www.data.gouv.fr/api/1/datasets/r/{RESOURCE_ID}",
            "filesize": len(workbook),
            "mime": XLSX_MIME,
            "checksum": {"type": "sha1", "value": hashlib.sha1(workbook).hexdigest()},
            "created_at": modified,
            "last_modified": modified,
        }],
    }


def build(ctx: Context) -> list[SnapshotFile]:
    workbook = build_workbook(ctx.out)
    return [
        SnapshotFile(f"www.data.gouv.fr/api/1/datasets/{SLUG}/index.json", DATASET_URL, KEY, "derived-from-real",
                     "data.gouv.fr API v1 dataset document of the ARCEP deployments observatory (real slug and URL "
                     "shape; id, resource id and stamp are stand-ins); filesize and sha1 describe the bundled "
                     "workbook", LICENCE, json_bytes(dataset_document(workbook))),
        SnapshotFile(FILE_URL.removeprefix("https://"), FILE_URL, KEY, "synthetic",
                     "ARCEP observatory workbook, sheet Communes in the real layout (title block, premises as text "
                     "with decimal commas, one column per quarter T4 2017..T4 2025). Only 971 and 972 are present, "
                     "every other département is omitted. Martinique totals are real (premises 250164,8755; "
                     "connectable 171283 at T4 2025, 70148/104363/132149/148728 at T4 2021-2024); the split by "
                     "commune and all 971 values are invented", LICENCE, workbook),
    ]
