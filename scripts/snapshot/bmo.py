"""bmo: the national workbook shape, real Antilles rows, synthetic elsewhere, and its dataset document.

France Travail publishes the BMO survey as one national workbook (2025: about 50,000 data rows, one
row per bassin x FAP2021 métier x département). Only the Guadeloupe (971) and Martinique (972) rows
of the real 2025 workbook are available here (``Base_open_data_BMO_2025_antilles.xlsx``), so the
bundled workbook is:

- every real 971 and 972 row, value for value and with the same cell types (941 rows);
- SYNTHETIC rows for every other département of the COG snapshot (metropolitan France, Corsica's 2A
  and 2B, Guyane, La Réunion and Mayotte), drawn from a seeded RNG (``SEED``), in the real layout:
  sheets ``Description_des_variables`` (copied from the real file) and ``BMO_2025_open_data``,
  header ``annee, Code métier BMO, ... BE25, NOMBE25, met, xmet, smet``.

How the synthetic rows are drawn (all facts other than the counts are real):

- bassins: about one per 150,000 inhabitants of the département (real populations from
  ``@etalab/decoupage-administratif``), at least one, named after the chef-lieu then the most
  populous communes (``BASSIN SAINT-ETIENNE``); codes follow the real numbering, région code x 100
  + a number within the région (Guadeloupe 101-116, Martinique 201-204 in the real file), so they
  are unique nationally: 4 digits in metropolitan France, 3 in the DROM;
- métiers: the 203 FAP2021 métiers of the real rows, codes, labels and families included; each
  weighs its share of the real Antilles projects, digital métiers four times more in metropolitan
  France (``DIGITAL_METRO_FACTOR``);
- counts: about 37 recruitment projects per 1,000 inhabitants, as in the real Antilles rows (and in
  the national survey); a bassin x métier cell is Poisson around its expected count (overdispersed)
  and the row exists only when the count is not 0; difficult (``xmet``) and seasonal (``smet``)
  projects are binomial draws from the métier's real rates, so ``xmet <= met`` and ``smet <= met``;
- statistical secrecy: any count below 5 is published as ``*``, the rule the real rows follow (no
  visible count below 5), which yields about the real share of secret cells.

Needs the real 2025 Antilles workbook (``<real-dir>/bmo``) and the real geography. Byte-reproducible:
one RNG per département and per bassin, fixed container dates.
"""

from __future__ import annotations

import hashlib
import math
import random
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from oref.reference import digital_fap2021_codes
from snapshot.common import (
    LICENCE_ETALAB,
    XLSX_MIME,
    Context,
    RealGeo,
    SnapshotFile,
    json_bytes,
    load_geo,
    poisson,
    workbook_bytes,
)

KEY = "bmo"
SEED = 2025
REQUIRES: tuple[str, ...] = ()
# the creator stamped inside the workbook when it was first generated: part of its bytes
WORKBOOK_CREATOR = "oref scripts/make_snapshot.py"

REAL_FILE = Path("bmo") / "Base_open_data_BMO_2025_antilles.xlsx"
# The complete national 2024 workbook, served byte for byte as the dataset's 2024 resource: a real
# second vintage (FAP2021 too; its columns are ordered differently and it holds 978, Saint-Martin).
REAL_FILE_2024 = Path("bmo") / "Base_open_data_BMO_2024.xlsx"
RESOURCE_ID_2024 = "4319f5e8-a8e6-476c-8da0-c0d3439ebb55"  # data.gouv.fr's stable id of the 2024 resource
FILE_URL_2024 = ("https://static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20240424-094500/"
                 "base_open_data_bmo_2024.xlsx")
REAL_DEPARTEMENTS = ("971", "972")
DATA_SHEET = "BMO_2025_open_data"
DESCRIPTION_SHEET = "Description_des_variables"
HEADER = ("annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG", "Dept",
          "NomDept", "BE25", "NOMBE25", "met", "xmet", "smet")
SURVEY_YEAR = 2025

DATASET_ID = "561fa564c751df4f2acdbb48"
RESOURCE_ID = "54478315-aafd-4070-b8df-a5647297e0c0"
FILE_URL = ("https://static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20250423-101500/"
            "base_open_data_bmo_2025.xlsx")
DATASET_URL = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_ID}/"

# The COG files cover France (metropole + DROM); the BMO survey does too.
ZONES = ("metro", "drom")
INHABITANTS_PER_BASSIN = 150_000
PROJECTS_PER_INHABITANT = 0.037  # real Antilles rows: 13,013 visible in 972 (360,630 inhabitants)
# Calibrated so that the whole file has about the real national size (50,076 rows in 2025) and the
# real shares of secret cells (Antilles rows: met 22 %, xmet 47 %, smet 72 %).
PROJECTS_PER_ESTABLISHMENT = 4.0  # extrapolated projects behind one recruiting establishment
CELL_NOISE = 1.3  # log-sd of a bassin x métier cell around the métier's share
X_NOISE = 0.7  # log-sd of a cell's difficult rate around the métier's rate
S_NOISE = 1.3  # log-sd of a cell's seasonal rate (seasonal work concentrates in a few places)
# Digital métiers (seed digital_fap2021) weigh 0.5 % of the real Antilles projects; IT jobs
# concentrate in large metropolitan labour markets, so outside the DROM their weight is multiplied
# by this factor (a synthetic assumption, not a measured figure): about 1.8 % nationally.
DIGITAL = digital_fap2021_codes()
DIGITAL_METRO_FACTOR = 4.0
SECRET_BELOW = 5  # no visible count below 5 in the real rows
SECRET_IMPUTED = 2.5  # what a secret cell weighs when the real métier mix is estimated


@dataclass(frozen=True)
class Occupation:
    code: str
    label: str
    family_code: str
    family_label: str
    weight: float  # share of the projects
    difficult_rate: float
    seasonal_rate: float


@dataclass(frozen=True)
class Bassin:
    code: int
    name: str
    region_code: str
    region_name: str
    departement_code: str
    departement_name: str
    population: float


# --------------------------------------------------------------------------------------------------
# Real inputs
# --------------------------------------------------------------------------------------------------


def read_real(real_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[str, Any]]]:
    """The real data rows (as typed by the workbook) and the description sheet's cells."""
    import openpyxl

    with (real_dir / REAL_FILE).open("rb") as stream:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        try:
            rows = list(workbook[DATA_SHEET].iter_rows(values_only=True))
            description = [(cell.coordinate, cell.value) for row in workbook[DESCRIPTION_SHEET].iter_rows()
                           for cell in row if getattr(cell, "value", None) is not None]
        finally:
            workbook.close()
    if tuple(rows[0]) != HEADER:
        raise SystemExit(f"unexpected header in {REAL_FILE}: {rows[0]}")
    data = [tuple(r) for r in rows[1:] if r and any(v is not None for v in r)]
    if {r[7] for r in data} != set(REAL_DEPARTEMENTS):
        raise SystemExit(f"{REAL_FILE} should hold exactly the départements {REAL_DEPARTEMENTS}")
    return data, description


def _visible(value: object) -> int | None:
    return None if value == "*" else int(str(value))


def occupations(real_rows: Sequence[tuple[Any, ...]]) -> list[Occupation]:
    """The métiers of the real rows, weighted by their real projects, with their real rates.

    A secret cell counts as ``SECRET_IMPUTED`` (it is below 5), so the rates are not biased upwards
    by leaving out the small difficult or seasonal counts.
    """
    met: dict[str, float] = defaultdict(float)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # Σmet (visible), Σxmet, Σsmet
    labels: dict[str, tuple[str, str, str]] = {}
    for row in real_rows:
        code = str(row[1])
        labels.setdefault(code, (str(row[2]), str(row[3]), str(row[4])))
        m = _visible(row[11])
        met[code] += SECRET_IMPUTED if m is None else m
        if m is not None:
            x, s = _visible(row[12]), _visible(row[13])
            sums[code][0] += m
            sums[code][1] += SECRET_IMPUTED if x is None else x
            sums[code][2] += SECRET_IMPUTED if s is None else s
    total = sum(met.values())
    visible = sum(v[0] for v in sums.values())
    all_x = sum(v[1] for v in sums.values()) / visible
    all_s = sum(v[2] for v in sums.values()) / visible
    prior = 30.0  # projects' worth of shrinkage towards the overall rate for thinly observed métiers
    out = []
    for code in sorted(labels):
        m_sum, x_sum, s_sum = sums[code]
        label, family_code, family_label = labels[code]
        out.append(Occupation(code, label, family_code, family_label, met[code] / total,
                              (x_sum + prior * all_x) / (m_sum + prior), (s_sum + prior * all_s) / (m_sum + prior)))
    return out


def _upper_ascii(name: str) -> str:
    """``Saint-Étienne`` -> ``SAINT-ETIENNE``, as the real bassin names are written."""
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return text.replace("œ", "oe").replace("Œ", "OE").upper()


def bassins(geo: RealGeo) -> list[Bassin]:
    """The synthetic bassins of every COG département but the real ones, numbered within their région."""
    region_name = {r["code"]: r["nom"] for r in geo.regions}
    communes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for commune in geo.communes:
        if commune["type"] == "commune-actuelle" and commune["zone"] in ZONES:
            communes[commune["departement"]].append(commune)
    numbers: dict[str, int] = defaultdict(int)
    out: list[Bassin] = []
    for dep in sorted((d for d in geo.departements if d["zone"] in ZONES), key=lambda d: d["code"]):
        code, region = dep["code"], dep["region"]
        if code in REAL_DEPARTEMENTS:
            continue
        rng = random.Random(f"{SEED}:departement:{code}")
        members = communes[code]
        population = sum(int(c.get("population") or 0) for c in members)
        by_size = sorted(members, key=lambda c: (-int(c.get("population") or 0), c["code"]))
        seats = [c for c in members if c["code"] == dep.get("chefLieu")]
        seats += [c for c in by_size if c["code"] != dep.get("chefLieu")]
        count = max(1, min(len(seats), round(population / INHABITANTS_PER_BASSIN)))
        weights = [max(1, int(c.get("population") or 0)) ** 0.7 * rng.uniform(0.8, 1.25) for c in seats[:count]]
        for seat, weight in zip(seats[:count], weights, strict=True):
            numbers[region] += 1
            if numbers[region] > 99:
                raise SystemExit(f"région {region}: more than 99 bassins, the numbering would overflow")
            out.append(Bassin(int(region) * 100 + numbers[region], f"BASSIN {_upper_ascii(seat['nom'])}", region,
                              region_name[region], code, dep["nom"], population * weight / sum(weights)))
    return out


# --------------------------------------------------------------------------------------------------
# Synthetic counts
# --------------------------------------------------------------------------------------------------


def _binomial(rng: random.Random, n: int, p: float) -> int:
    p = min(1.0, max(0.0, p))
    if n <= 60:
        return sum(1 for _ in range(n) if rng.random() < p)
    return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def _published(count: int) -> str:
    return "*" if count < SECRET_BELOW else str(count)


def _projects(rng: random.Random, establishments: int) -> int:
    """Projects of ``establishments`` recruiting establishments (each weighs ``PROJECTS_PER_ESTABLISHMENT``)."""
    shape = 1.5
    scale = PROJECTS_PER_ESTABLISHMENT / shape
    if establishments > 100:  # normal approximation of the sum
        mean = establishments * PROJECTS_PER_ESTABLISHMENT
        return max(establishments, round(rng.gauss(mean, math.sqrt(establishments * shape) * scale)))
    return sum(max(1, round(rng.gammavariate(shape, scale))) for _ in range(establishments))


def synthetic_rows(bassin: Bassin, jobs: Sequence[Occupation]) -> list[tuple[Any, ...]]:
    """The rows of one bassin: one RNG per bassin, so a bassin's rows do not depend on the others."""
    rng = random.Random(f"{SEED}:bassin:{bassin.code}")
    volume = bassin.population * PROJECTS_PER_INHABITANT * math.exp(rng.gauss(0, 0.2))
    rows: list[tuple[Any, ...]] = []
    metropolitan = not bassin.departement_code.startswith("97")
    for job in jobs:
        weight = job.weight * (DIGITAL_METRO_FACTOR if metropolitan and job.code in DIGITAL else 1.0)
        expected = volume * weight * math.exp(rng.gauss(0, CELL_NOISE) - CELL_NOISE**2 / 2)
        met = _projects(rng, poisson(rng, expected / PROJECTS_PER_ESTABLISHMENT))
        if met == 0:
            continue  # no establishment of the bassin plans to recruit: the survey has no row
        difficult = _binomial(rng, met, job.difficult_rate * math.exp(rng.gauss(0, X_NOISE) - X_NOISE**2 / 2))
        seasonal = _binomial(rng, met, job.seasonal_rate * math.exp(rng.gauss(0, S_NOISE) - S_NOISE**2 / 2))
        rows.append((SURVEY_YEAR, job.code, job.label, job.family_code, job.family_label, bassin.region_code,
                     bassin.region_name, bassin.departement_code, bassin.departement_name, bassin.code, bassin.name,
                     _published(met), _published(difficult), _published(seasonal)))
    return rows


def _order(row: tuple[Any, ...]) -> tuple[str, str, int]:
    # the real file is sorted by métier, then département, then bassin
    return (str(row[1]), str(row[7]), int(row[9]))


def national_rows(real_rows: Sequence[tuple[Any, ...]], geo: RealGeo) -> list[tuple[Any, ...]]:
    jobs = occupations(real_rows)
    rows = list(real_rows)
    for bassin in bassins(geo):
        rows.extend(synthetic_rows(bassin, jobs))
    return sorted(rows, key=_order)


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def build_workbook(rows: Sequence[tuple[Any, ...]], description: Sequence[tuple[str, Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(DESCRIPTION_SHEET)
    cells = dict(description)
    last_row = max(int("".join(ch for ch in coordinate if ch.isdigit())) for coordinate in cells)
    for number in range(1, last_row + 1):
        sheet.append([cells.get(f"{column}{number}") for column in "ABC"])
    data = workbook.create_sheet(DATA_SHEET)
    data.append(list(HEADER))
    for row in rows:
        data.append(list(row))
    return workbook_bytes(workbook, creator=WORKBOOK_CREATOR)


def _resource(resource_id: str, year: int, url: str, workbook: bytes, modified: str) -> dict[str, Any]:
    return {
        "id": resource_id,
        "title": f"Base open data BMO {year}",
        "description": f"Base de données BMO {year} : projets de recrutement par métier, bassin et département.",
        "type": "main",
        "filetype": "file",
        "format": "xlsx",
        "url": url,
        "latest": f"https://www.data.gouv.fr/api/1/datasets/r/{resource_id}",
        "filesize": len(workbook),
        "mime": XLSX_MIME,
        "checksum": {"type": "sha1", "value": hashlib.sha1(workbook).hexdigest()},
        "created_at": modified,
        "last_modified": modified,
    }


def dataset_document(workbook: bytes, workbook_2024: bytes) -> dict[str, Any]:
    slug = "enquete-besoins-en-main-doeuvre-bmo"
    resource_modified = "2025-04-23T10:15:00.000000+00:00"
    return {
        "id": DATASET_ID,
        "title": "Enquête Besoins en Main-d'Œuvre (BMO)",
        "slug": slug,
        "acronym": "BMO",
        "description": ("L'enquête Besoins en Main-d'Œuvre (BMO) de France Travail mesure chaque année les "
                        "intentions de recrutement des employeurs, par métier et par bassin d'emploi."),
        "license": "fr-lo",
        "frequency": "annual",
        "created_at": "2015-10-15T09:00:00.000000+00:00",
        "last_modified": resource_modified,
        "last_update": resource_modified,
        "page": f"https://www.data.gouv.fr/fr/datasets/{slug}/",
        "uri": DATASET_URL,
        "organization": {
            "name": "France Travail",
            "slug": "france-travail",
            "page": "https://www.data.gouv.fr/fr/organizations/france-travail/",
        },
        "owner": None,
        "private": False,
        "archived": None,
        "deleted": None,
        "tags": ["besoins-en-main-d-oeuvre", "bmo", "emploi", "recrutement"],
        "temporal_coverage": {"start": "2024-01-01", "end": "2025-12-31"},
        # newest first, as data.gouv.fr lists them: the connector lands them in any order
        "resources": [
            _resource(RESOURCE_ID, SURVEY_YEAR, FILE_URL, workbook, resource_modified),
            _resource(RESOURCE_ID_2024, 2024, FILE_URL_2024, workbook_2024, "2024-04-24T09:45:00.000000+00:00"),
        ],
    }


def build(ctx: Context) -> list[SnapshotFile]:
    geo = load_geo(ctx.real_dir)
    real_rows, description = read_real(ctx.real_dir)
    rows = national_rows(real_rows, geo)
    workbook = build_workbook(rows, description)
    synthetic = len(rows) - len(real_rows)
    departements = sorted({str(r[7]) for r in rows})
    workbook_2024 = (ctx.real_dir / REAL_FILE_2024).read_bytes()
    return [
        SnapshotFile(f"www.data.gouv.fr/api/1/datasets/{DATASET_ID}/index.json", DATASET_URL, "bmo",
                     "derived-from-real",
                     "data.gouv.fr API v1 dataset document of the BMO dataset (real ids and URLs); the resource's "
                     "filesizes and sha1 describe the bundled workbooks (2025 and 2024)", LICENCE_ETALAB,
                     json_bytes(dataset_document(workbook, workbook_2024))),
        SnapshotFile(FILE_URL_2024.removeprefix("https://"), FILE_URL_2024, "bmo", "real",
                     "France Travail BMO 2024 open-data workbook, the complete national file as published, byte for "
                     "byte (sheet BMO_2024_open_data, 53,443 data rows, FAP2021 métiers, bassin columns BE24/NOMBE24, "
                     "REG before Dept, Saint-Martin (978) included). REAL: every figure. The resource URL's "
                     "timestamp folder is illustrative; the stable resource id is data.gouv.fr's",
                     LICENCE_ETALAB, workbook_2024),
        SnapshotFile(FILE_URL.removeprefix("https://"), FILE_URL, "bmo", "derived-from-real",
                     f"France Travail BMO 2025 open-data workbook in the real national shape (sheets "
                     f"{DESCRIPTION_SHEET} and {DATA_SHEET}, header {', '.join(HEADER)}), {len(rows)} data rows "
                     f"for {len(departements)} départements. REAL rows: the {len(real_rows)} rows of Guadeloupe "
                     f"(971) and Martinique (972), values and cell types copied from the real 2025 workbook. "
                     f"SYNTHETIC rows: the {synthetic} rows of every other département (metropolitan France "
                     f"including 2A and 2B, 973, 974 and 976), bassins, counts and secret cells generated by "
                     f"scripts/snapshot/bmo.py with seed {SEED} (real région/département codes and names, real FAP2021 "
                     "métiers; invented bassins and counts)",
                     "Licence Ouverte / Open Licence (fr-lo) for the real rows; synthetic rows: no third-party data",
                     workbook),
    ]
