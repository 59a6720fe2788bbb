"""Generate the bundled snapshot of the INSEE, France Travail (BMO) and URSSAF sources.

The snapshot is what the replay server (``oref.replay``) serves on loopback at the real URL paths,
so that the whole pipeline runs offline and reproducibly. Layout: ``data/snapshot/<host>/<url path>``
(a URL path ending with ``/`` is stored as ``<path>/index.json``), plus ``data/snapshot/MANIFEST.json``.

Three kinds of files (recorded per file in the manifest):

- ``derived-from-real``: real facts re-shaped into the real publisher's format (INSEE COG, EPCI and
  populations files rebuilt from ``@etalab/decoupage-administratif``, PCAP seeded; the URSSAF
  dataset document);
- ``synthetic``: invented values in the real schema (URSSAF establishments and headcount by
  commune x APE), drawn from a seeded RNG.

The BMO files (the national workbook: real 971 + 972 rows, synthetic rows elsewhere, and its
data.gouv.fr dataset document) are written by ``scripts/snapshot_bmo.py``, which ``main`` calls.

Only these scripts read the real input folder; the committed snapshot is self-contained. Running it
twice gives byte-identical files (fixed seed, fixed timestamps inside the xlsx/zip containers,
sorted output), which the unit tests rely on through the sha256 recorded in the manifest.

Usage: ``python scripts/make_snapshot.py --real-dir ../shared/data/real``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import random
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter
from snapshot_manifest import manifest_entry, merge_manifest  # scripts/ is on sys.path when run

SEED = 972
GENERATED_BY = "scripts/make_snapshot.py"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "snapshot"

# Every timestamp written inside a container is this one, so regeneration is byte-identical.
FIXED_DATETIME = dt.datetime(2025, 1, 1, 0, 0, 0)
ZIP_DATE_TIME = (2025, 1, 1, 0, 0, 0)

LICENCE_ETALAB = "Licence Ouverte / Etalab 2.0"

# --------------------------------------------------------------------------------------------------
# Output bookkeeping
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotFile:
    path: str  # relative to data/snapshot, POSIX separators
    url: str  # the real https URL the file stands for
    source: str  # geo | bmo | urssaf
    kind: str  # real | derived-from-real | synthetic
    description: str
    licence: str
    data: bytes


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str) -> bytes:
    out = io.StringIO()
    # csv default quoting (minimal): fields are quoted only when they contain the delimiter, a quote
    # or a newline, as both INSEE and Opendatasoft do. LF endings, like the replay server's filtered
    # exports, so a filtered and an unfiltered response look alike.
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _deterministic_zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A deflated zip whose entries all carry the fixed date: zipfile would otherwise stamp 'now'."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _workbook_bytes(workbook: Workbook) -> bytes:
    """Serialise an openpyxl workbook deterministically.

    ``Workbook.save`` overwrites ``properties.modified`` with the current time and zipfile stamps
    entries with the current time, so the workbook is written through ``ExcelWriter`` (which keeps
    the properties as set) and its parts are then re-zipped with the fixed date.
    """
    workbook.properties.created = FIXED_DATETIME
    workbook.properties.modified = FIXED_DATETIME
    workbook.properties.creator = "oref scripts/make_snapshot.py"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return _deterministic_zip(members)


# --------------------------------------------------------------------------------------------------
# Real inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RealGeo:
    communes: list[dict[str, Any]]
    epci: list[dict[str, Any]]
    departements: list[dict[str, Any]]
    regions: list[dict[str, Any]]


def load_geo(real_dir: Path) -> RealGeo:
    base = real_dir / "geo" / "decoupage-administratif"

    def read(name: str) -> list[dict[str, Any]]:
        return json.loads((base / f"{name}.json").read_text(encoding="utf-8"))

    return RealGeo(read("communes"), read("epci"), read("departements"), read("regions"))


# The COG files cover France (metropole + DROM) only: the collectivités d'outre-mer (975, 977, 978,
# 984-989) are published by INSEE in separate files (v_comer_*), so they are left out here too.
_COG_ZONES = ("metro", "drom")

# --------------------------------------------------------------------------------------------------
# 1. INSEE COG 2025 (derived from real)
# --------------------------------------------------------------------------------------------------

COG_BASE_URL = "https://www.insee.fr/fr/statistiques/fichier/8377162"
COG_DIR = "www.insee.fr/fr/statistiques/fichier/8377162"

# TNCC (type de nom en clair) -> article that INSEE removes from NCC/NCCENR (LIBELLE keeps it).
# 0 = no article, name starting with a consonant; 1 = no article, name starting with a vowel.
_ARTICLES = {2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}

_TYPECOM = {
    "commune-actuelle": "COM",
    "commune-associee": "COMA",
    "commune-deleguee": "COMD",
    "arrondissement-municipal": "ARM",
}
# INSEE lists a code's COM row before the COMA/COMD rows sharing it (a commune nouvelle and its
# chef-lieu commune déléguée have the same code).
_TYPECOM_ORDER = {"COM": 0, "COMA": 1, "COMD": 2, "ARM": 3}

_COG_COMMUNE_HEADER = ["TYPECOM", "COM", "REG", "DEP", "CTCD", "ARR", "TNCC", "NCC", "NCCENR", "LIBELLE", "CAN",
                       "COMPARENT"]


def tncc_of(entry: dict[str, Any]) -> int:
    """INSEE's TNCC. ``typeLiaison`` in decoupage-administratif *is* INSEE's TNCC; derive it only when absent."""
    if entry.get("typeLiaison") is not None:
        return int(entry["typeLiaison"])
    name = str(entry["nom"])
    for tncc, article in _ARTICLES.items():
        if name.startswith(article):
            return tncc
    return 1 if name[:1].upper() in "AEIOUYÉÈÊÎÔH" else 0


def strip_article(name: str, tncc: int) -> str:
    article = _ARTICLES.get(tncc)
    return name[len(article):] if article and name.startswith(article) else name


def ncc_of(name: str) -> str:
    """Upper case without diacritics, hyphens and apostrophes as spaces (INSEE's NCC)."""
    text = name.replace("Œ", "OE").replace("œ", "oe").replace("Æ", "AE").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.upper().replace("-", " ").replace("'", " ")
    return " ".join(text.split())


def ctcd_of(dep: str, commune_code: str, lyon_members: set[str]) -> str:
    """Code of the collectivity holding the departmental powers.

    ``<dep>D`` (conseil départemental) in the general case; the collectivities that replaced or
    merged départements carry their own code; the DROM are written with their 3-digit code.
    """
    if dep in ("2A", "2B"):
        return "20R"  # Collectivité de Corse
    if dep in ("67", "68"):
        return "6AE"  # Collectivité européenne d'Alsace
    if dep == "75":
        return "75C"  # Ville de Paris
    if dep == "69":
        return "69M" if commune_code in lyon_members else "69D"  # Métropole de Lyon / Rhône
    if dep.startswith("97"):
        return dep
    return f"{dep}D"


def build_cog(geo: RealGeo) -> list[SnapshotFile]:
    lyon_members = {m["code"] for e in geo.epci if e["type"] == "MET69" for m in e["membres"]}
    rows: list[list[str]] = []
    for entry in geo.communes:
        if entry["zone"] not in _COG_ZONES:
            continue
        typecom = _TYPECOM[entry["type"]]
        tncc = tncc_of(entry)
        bare = strip_article(entry["nom"], tncc)
        code = entry["code"]
        if typecom == "COM":
            reg, dep = entry["region"], entry["departement"]
            geo_cols = [reg, dep, ctcd_of(dep, code, lyon_members), entry.get("arrondissement", "")]
            parent = ""
        elif typecom == "ARM":
            reg, dep = entry["region"], entry["departement"]
            geo_cols = [reg, dep, ctcd_of(dep, entry["commune"], lyon_members), entry.get("arrondissement", "")]
            parent = entry["commune"]
        else:
            # INSEE leaves the administrative attachment of associated/delegated communes empty:
            # it is the parent's.
            geo_cols = ["", "", "", ""]
            parent = entry["chefLieu"]
        rows.append([typecom, code, *geo_cols, str(tncc), ncc_of(bare), bare, entry["nom"], "", parent])
    rows.sort(key=lambda r: (r[1], _TYPECOM_ORDER[r[0]]))

    departements = sorted((d for d in geo.departements if d["zone"] in _COG_ZONES), key=lambda d: d["code"])
    dep_rows = []
    for d in departements:
        tncc = tncc_of(d)
        bare = strip_article(d["nom"], tncc)
        dep_rows.append([d["code"], d["region"], d.get("chefLieu", ""), str(tncc), ncc_of(bare), bare, d["nom"]])

    regions = sorted((r for r in geo.regions if r["zone"] in _COG_ZONES), key=lambda r: r["code"])
    reg_rows = []
    for r in regions:
        tncc = tncc_of(r)
        bare = strip_article(r["nom"], tncc)
        reg_rows.append([r["code"], r.get("chefLieu", ""), str(tncc), ncc_of(bare), bare, r["nom"]])

    provenance = ("rebuilt from @etalab/decoupage-administratif 6.0.0 (INSEE facts, COG 2026 vintage) in the "
                  "v_*_2025.csv format; France métropolitaine + DROM, COM excluded")
    return [
        SnapshotFile(f"{COG_DIR}/v_commune_2025.csv", f"{COG_BASE_URL}/v_commune_2025.csv", "geo",
                     "derived-from-real",
                     f"INSEE COG communes (COM, COMA, COMD, ARM); CAN left empty (not in the input); {provenance}",
                     LICENCE_ETALAB, _csv_bytes(_COG_COMMUNE_HEADER, rows, delimiter=",")),
        SnapshotFile(f"{COG_DIR}/v_departement_2025.csv", f"{COG_BASE_URL}/v_departement_2025.csv", "geo",
                     "derived-from-real", f"INSEE COG départements; {provenance}", LICENCE_ETALAB,
                     _csv_bytes(["DEP", "REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"], dep_rows,
                                delimiter=",")),
        SnapshotFile(f"{COG_DIR}/v_region_2025.csv", f"{COG_BASE_URL}/v_region_2025.csv", "geo",
                     "derived-from-real", f"INSEE COG régions; {provenance}", LICENCE_ETALAB,
                     _csv_bytes(["REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"], reg_rows, delimiter=",")),
    ]


# --------------------------------------------------------------------------------------------------
# 2. INSEE EPCI composition (derived from real)
# --------------------------------------------------------------------------------------------------

EPCI_NAME = "Intercommunalite_Metropole_au_01-01-2025"
EPCI_URL = f"https://www.insee.fr/fr/statistiques/fichier/2510634/{EPCI_NAME}.zip"
EPCI_PATH = f"www.insee.fr/fr/statistiques/fichier/2510634/{EPCI_NAME}.zip"
NO_EPCI_CODE = "ZZZZZZZZZ"  # INSEE's code for the few island communes outside any EPCI
NO_EPCI_LABEL = "Sans objet"
HEADER_ROW = 6  # below INSEE's five-row title block


def _title_block(ws: Any, subtitle: str) -> None:
    # INSEE's sheets open with five rows of titles; the column header is on row 6.
    ws["A1"] = "Intercommunalités au 1er janvier 2025"
    ws["A2"] = subtitle
    ws["A4"] = "Source : Insee, Code officiel géographique au 1er janvier 2025"


def _write_text_row(ws: Any, row: int, values: Sequence[object]) -> None:
    # ws.cell() by index: ws.append() + ws.max_row would rescan every cell at each row (quadratic).
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.number_format = "@"  # codes such as 01 or 2A004 are text cells, as in INSEE's file


def build_epci(geo: RealGeo) -> list[SnapshotFile]:
    communes = sorted((c for c in geo.communes if c["type"] == "commune-actuelle" and c["zone"] in _COG_ZONES),
                      key=lambda c: c["code"])
    epci_of: dict[str, dict[str, Any]] = {}
    for epci in geo.epci:
        for member in epci["membres"]:
            epci_of[member["code"]] = epci

    workbook = Workbook()
    sheet_epci = workbook.active
    sheet_epci.title = "EPCI"
    _title_block(sheet_epci, "Liste des intercommunalités au 1er janvier 2025")
    _write_text_row(sheet_epci, HEADER_ROW, ["EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM"])
    for row, epci in enumerate(sorted(geo.epci, key=lambda e: e["code"]), start=HEADER_ROW + 1):
        _write_text_row(sheet_epci, row, [epci["code"], epci["nom"], epci["type"], len(epci["membres"])])

    sheet_comp = workbook.create_sheet("Composition_communale")
    _title_block(sheet_comp, "Découpage des communes en intercommunalités au 1er janvier 2025")
    _write_text_row(sheet_comp, HEADER_ROW, ["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"])
    for row, commune in enumerate(communes, start=HEADER_ROW + 1):
        epci = epci_of.get(commune["code"])
        code, label = (epci["code"], epci["nom"]) if epci else (NO_EPCI_CODE, NO_EPCI_LABEL)
        _write_text_row(sheet_comp, row, [commune["code"], commune["nom"], code, label, commune["departement"],
                                          commune["region"]])

    xlsx = _workbook_bytes(workbook)
    archive = _deterministic_zip([(f"{EPCI_NAME}.xlsx", xlsx)])
    return [SnapshotFile(
        EPCI_PATH, EPCI_URL, "geo", "derived-from-real",
        "INSEE EPCI composition workbook (sheets EPCI and Composition_communale, header on row 6), zipped; "
        "rebuilt from @etalab/decoupage-administratif 6.0.0 epci.json/communes.json (INSEE facts, COG 2026 "
        "vintage); NATURE_EPCI is the package's EPCI type",
        LICENCE_ETALAB, archive)]


# --------------------------------------------------------------------------------------------------
# 2b. INSEE populations légales 2022 en vigueur au 1er janvier 2025 (derived from real)
# --------------------------------------------------------------------------------------------------

POP_URL = "https://www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip"
POP_PATH = "www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip"
POP_COMMUNE_HEADER = ["REG", "Région", "DEP", "CODARR", "CODCAN", "CODCOM", "COM", "PMUN", "PCAP", "PTOT"]
POP_DEPARTEMENT_HEADER = ["REG", "Région", "DEP", "Département", "NBARR", "NBCAN", "NBCOM", "PMUN", "PTOT"]
# INSEE's populations légales cover France except Mayotte (its census follows another calendar).
POP_EXCLUDED_DEPARTEMENTS = ("976",)


def _codcom(dep: str, code: str) -> str:
    """The commune number within its département: 3 characters, 2 for the DROM (97209 -> 09)."""
    return code[len(dep):]


def build_populations(geo: RealGeo) -> list[SnapshotFile]:
    region_name = {r["code"]: r["nom"] for r in geo.regions}
    departement_name = {d["code"]: d["nom"] for d in geo.departements}
    communes = sorted((c for c in geo.communes if c["type"] == "commune-actuelle" and c["zone"] in _COG_ZONES
                       and c["departement"] not in POP_EXCLUDED_DEPARTEMENTS), key=lambda c: c["code"])
    rows: list[list[str]] = []
    per_dep: dict[str, list[int]] = {}
    for commune in communes:
        dep, code = commune["departement"], commune["code"]
        pmun = int(commune.get("population") or 0)
        # PCAP (population comptée à part: students, boarders, people without a fixed address
        # counted elsewhere) is not in the input: a seeded 0-3 % of PMUN, one RNG per commune.
        pcap = round(pmun * random.Random(f"{SEED}:pcap:{code}").uniform(0.0, 0.03))
        arrondissement = str(commune.get("arrondissement") or "")
        rows.append([commune["region"], region_name[commune["region"]], dep, arrondissement[len(dep):], "",
                     _codcom(dep, code), commune["nom"], str(pmun), str(pcap), str(pmun + pcap)])
        totals = per_dep.setdefault(dep, [0, 0, 0])
        totals[0] += 1
        totals[1] += pmun
        totals[2] += pmun + pcap
    dep_rows = []
    for d in sorted(geo.departements, key=lambda d: d["code"]):
        if d["code"] not in per_dep:
            continue
        count, pmun, ptot = per_dep[d["code"]]
        dep_rows.append([d["region"], region_name[d["region"]], d["code"], departement_name[d["code"]], "", "",
                         str(count), str(pmun), str(ptot)])
    archive = _deterministic_zip([
        ("donnees_communes.csv", _csv_bytes(POP_COMMUNE_HEADER, rows, delimiter=";")),
        ("donnees_departements.csv", _csv_bytes(POP_DEPARTEMENT_HEADER, dep_rows, delimiter=";")),
    ])
    return [SnapshotFile(
        POP_PATH, POP_URL, "geo", "derived-from-real",
        "INSEE populations légales 2022 en vigueur au 1er janvier 2025 (France hors Mayotte), zip of ';' CSVs "
        "donnees_communes.csv and donnees_departements.csv; PMUN is the real population of "
        "@etalab/decoupage-administratif 6.0.0 communes.json, PCAP is SYNTHETIC (seeded 0-3 % of PMUN), "
        "PTOT = PMUN + PCAP; CODCAN and the département file's NBARR/NBCAN are left empty (not in the input)",
        LICENCE_ETALAB, archive)]


# --------------------------------------------------------------------------------------------------
# 3. France Travail BMO via data.gouv.fr: scripts/snapshot_bmo.py (national workbook, called by main)
# --------------------------------------------------------------------------------------------------

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --------------------------------------------------------------------------------------------------
# 4. URSSAF establishments and salaried headcount by commune x APE (synthetic values, real schema)
# --------------------------------------------------------------------------------------------------

URSSAF_DATASET_ID = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last"
URSSAF_BASE_URL = f"https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/{URSSAF_DATASET_ID}"
URSSAF_DIR = f"open.urssaf.fr/api/explore/v2.1/catalog/datasets/{URSSAF_DATASET_ID}"
URSSAF_YEARS = list(range(2006, 2026))
URSSAF_DEPARTEMENTS = ("971", "972")

URSSAF_ID_COLUMNS = [
    "region", "ancienne_region", "departement", "zone_d_emploi", "epci", "commune", "intitule_commune",
    "grand_secteur_d_activite", "secteur_na17", "secteur_na38", "secteur_na88", "ape", "code_region",
    "code_ancienne_region", "code_departement", "code_zone_d_emploi", "code_epci", "code_commune", "code_ape",
]
URSSAF_HEADER = [
    *URSSAF_ID_COLUMNS,
    *(f"nombre_d_etablissements_{y}" for y in URSSAF_YEARS),
    *(f"effectifs_salaries_{y}" for y in URSSAF_YEARS),
]

# NA88 division -> (label, NA38, NA17, grand secteur), NAF rév. 2 wording.
_GS_INDUSTRIE, _GS_CONSTRUCTION, _GS_COMMERCE, _GS_SERVICES = (
    "GS1 Industrie", "GS3 Construction", "GS4 Commerce", "GS5 Services")
_NA17_JZ = "JZ Information et communication"
_NA17_OQ = "OQ Administration publique, enseignement, santé humaine et action sociale"
_NA38_GZ = "GZ Commerce ; réparation d'automobiles et de motocycles"
_NA38_MA = ("MA Activités juridiques, comptables, de gestion, d'architecture, d'ingénierie, de contrôle et "
            "d'analyses techniques")
_NA17_MN = "MN Activités scientifiques et techniques ; services administratifs et de soutien"
_DIVISIONS: dict[str, tuple[str, str, str, str]] = {
    "10": ("Industries alimentaires",
           "CA Fabrication de denrées alimentaires, de boissons et de produits à base de tabac",
           "C1 Fabrication de denrées alimentaires, de boissons et de produits à base de tabac", _GS_INDUSTRIE),
    "26": ("Fabrication de produits informatiques, électroniques et optiques",
           "CI Fabrication de produits informatiques, électroniques et optiques",
           "C3 Fabrication d'équipements électriques, électroniques, informatiques ; fabrication de machines",
           _GS_INDUSTRIE),
    "41": ("Construction de bâtiments", "FZ Construction", "FZ Construction", _GS_CONSTRUCTION),
    "43": ("Travaux de construction spécialisés", "FZ Construction", "FZ Construction", _GS_CONSTRUCTION),
    "45": ("Commerce et réparation d'automobiles et de motocycles", _NA38_GZ, _NA38_GZ, _GS_COMMERCE),
    "46": ("Commerce de gros, à l'exception des automobiles et des motocycles", _NA38_GZ, _NA38_GZ, _GS_COMMERCE),
    "47": ("Commerce de détail, à l'exception des automobiles et des motocycles", _NA38_GZ, _NA38_GZ,
           _GS_COMMERCE),
    "49": ("Transports terrestres et transport par conduites", "HZ Transports et entreposage",
           "HZ Transports et entreposage", _GS_SERVICES),
    "55": ("Hébergement", "IZ Hébergement et restauration", "IZ Hébergement et restauration", _GS_SERVICES),
    "56": ("Restauration", "IZ Hébergement et restauration", "IZ Hébergement et restauration", _GS_SERVICES),
    "58": ("Édition", "JA Édition, audiovisuel et diffusion", _NA17_JZ, _GS_SERVICES),
    "61": ("Télécommunications", "JB Télécommunications", _NA17_JZ, _GS_SERVICES),
    "62": ("Programmation, conseil et autres activités informatiques",
           "JC Activités informatiques et services d'information", _NA17_JZ, _GS_SERVICES),
    "63": ("Services d'information", "JC Activités informatiques et services d'information", _NA17_JZ,
           _GS_SERVICES),
    "69": ("Activités juridiques et comptables", _NA38_MA, _NA17_MN, _GS_SERVICES),
    "71": ("Activités d'architecture et d'ingénierie ; activités de contrôle et analyses techniques", _NA38_MA,
           _NA17_MN, _GS_SERVICES),
    "85": ("Enseignement", "PZ Enseignement", _NA17_OQ, _GS_SERVICES),
    "86": ("Activités pour la santé humaine", "QA Activités pour la santé humaine", _NA17_OQ, _GS_SERVICES),
    "88": ("Action sociale sans hébergement",
           "QB Hébergement médico-social et social et action sociale sans hébergement", _NA17_OQ, _GS_SERVICES),
    "95": ("Réparation d'ordinateurs et de biens personnels et domestiques", "SZ Autres activités de services",
           "RU Autres activités de services", _GS_SERVICES),
    "96": ("Autres services personnels", "SZ Autres activités de services", "RU Autres activités de services",
           _GS_SERVICES),
}


@dataclass(frozen=True)
class Ape:
    code: str
    label: str
    establishments_972: float  # expected number of establishments in Martinique in 2025
    size: float  # average salaried headcount per establishment
    growth: float  # yearly growth rate of the number of establishments
    kind: str  # office | tourism | general: how establishments spread over communes
    everywhere: bool = False  # every commune has at least one (so every commune has a row)

    @property
    def division(self) -> str:
        return self.code[:2]


# The digital block first (OECD ICT sector), then common activities for context. The expected
# counts are calibrated so that Martinique's ict_services perimeter (5821Z..9512Z) has about 400
# establishments and 2,000 salaried jobs in 2025; telecom operators are few but large.
APES: tuple[Ape, ...] = (
    Ape("6201Z", "Programmation informatique", 95, 4.5, 0.05, "office"),
    Ape("6202A", "Conseil en systèmes et logiciels informatiques", 85, 3.5, 0.05, "office"),
    Ape("6202B", "Tierce maintenance de systèmes et d'applications informatiques", 12, 6.0, 0.03, "office"),
    Ape("6203Z", "Gestion d'installations informatiques", 8, 7.0, 0.03, "office"),
    Ape("6209Z", "Autres activités informatiques", 60, 2.5, 0.06, "office"),
    Ape("5821Z", "Édition de jeux électroniques", 3, 2.0, 0.06, "office"),
    Ape("5829A", "Édition de logiciels système et de réseau", 3, 4.0, 0.04, "office"),
    Ape("5829B", "Édition de logiciels outils de développement et de langages", 2, 3.0, 0.04, "office"),
    Ape("5829C", "Édition de logiciels applicatifs", 10, 5.0, 0.05, "office"),
    Ape("6110Z", "Télécommunications filaires", 10, 30.0, -0.01, "office"),
    Ape("6120Z", "Télécommunications sans fil", 12, 18.0, 0.01, "office"),
    Ape("6130Z", "Télécommunications par satellite", 2, 4.0, 0.02, "office"),
    Ape("6190Z", "Autres activités de télécommunication", 25, 5.0, 0.04, "office"),
    Ape("6311Z", "Traitement de données, hébergement et activités connexes", 18, 6.0, 0.05, "office"),
    Ape("6312Z", "Portails Internet", 8, 2.5, 0.07, "office"),
    Ape("9511Z", "Réparation d'ordinateurs et d'équipements périphériques", 30, 2.5, 0.00, "office"),
    Ape("9512Z", "Réparation d'équipements de communication", 15, 3.0, 0.02, "office"),
    Ape("2620Z", "Fabrication d'ordinateurs et d'équipements périphériques", 2, 5.0, 0.00, "office"),
    Ape("4651Z", "Commerce de gros d'ordinateurs, d'équipements informatiques périphériques et de logiciels",
        20, 6.0, 0.01, "office"),
    Ape("4652Z", "Commerce de gros de composants et d'équipements électroniques et de télécommunication",
        12, 5.0, 0.01, "office"),
    Ape("4711D", "Supermarchés", 25, 40.0, 0.01, "general"),
    Ape("5610A", "Restauration traditionnelle", 600, 4.0, 0.02, "tourism", everywhere=True),
    Ape("4120A", "Construction de maisons individuelles", 40, 4.0, 0.00, "general"),
    Ape("8621Z", "Activité des médecins généralistes", 120, 1.5, 0.00, "general"),
    Ape("4520A", "Entretien et réparation de véhicules automobiles légers", 200, 3.0, 0.01, "general"),
    Ape("5510Z", "Hôtels et hébergement similaire", 50, 15.0, 0.00, "tourism"),
    Ape("4941A", "Transports routiers de fret interurbains", 110, 5.0, 0.01, "general"),
    Ape("6920Z", "Activités comptables", 70, 6.0, 0.02, "office"),
    Ape("7112B", "Ingénierie, études techniques", 90, 4.0, 0.02, "office"),
    Ape("8559A", "Formation continue d'adultes", 110, 5.0, 0.03, "office"),
    Ape("4773Z", "Commerce de détail de produits pharmaceutiques en magasin spécialisé", 90, 5.0, 0.00,
        "general"),
    Ape("1071C", "Boulangerie et boulangerie-pâtisserie", 120, 6.0, 0.01, "general"),
    Ape("4321A", "Travaux d'installation électrique dans tous locaux", 150, 3.0, 0.02, "general"),
    Ape("8810A", "Aide à domicile", 60, 20.0, 0.03, "general"),
    Ape("9602A", "Coiffure", 160, 2.0, 0.01, "general"),
)
ICT_SERVICES = ("5821Z", "5829A", "5829B", "5829C", "6110Z", "6120Z", "6130Z", "6190Z", "6201Z", "6202A",
                "6202B", "6203Z", "6209Z", "6311Z", "6312Z", "9511Z", "9512Z")

# Guadeloupe is a little larger than Martinique (about 384,000 inhabitants against 350,000).
_DEPARTEMENT_SCALE = {"971": 1.08, "972": 1.0}

# Where activity concentrates beyond what population explains: the business districts (Fort-de-France
# and Le Lamentin in Martinique; Jarry in Baie-Mahault, Les Abymes and Pointe-à-Pitre in
# Guadeloupe) for office activities, the seaside resorts for tourism.
_HUBS = {
    "97209": 4.0, "97213": 4.5, "97229": 1.5,
    "97101": 3.5, "97103": 5.0, "97120": 3.5, "97113": 1.3,
}
_RESORTS = {
    "97231": 4.0, "97226": 3.5, "97206": 3.0, "97227": 3.0, "97217": 2.0, "97225": 1.5,
    "97113": 4.0, "97128": 3.5, "97125": 3.5, "97114": 2.5, "97107": 1.5, "97120": 1.5,
}

# Zones d'emploi: stable invented codes and names (the real ZE2020 list is not in the inputs).
# Each zone groups whole EPCI, or communes of an EPCI (Martinique's CAP Nord spans two coasts).
_ZONE_NAMES = {
    "0101": "Pointe-à-Pitre", "0102": "Basse-Terre", "0103": "Marie-Galante",
    "0201": "Fort-de-France", "0202": "La Trinité", "0203": "Le Marin", "0204": "Saint-Pierre",
}
_ZONE_BY_EPCI = {
    "200018653": "0101", "200044691": "0101", "200041507": "0101",  # CAP Excellence, Nord Grande-Terre, Riviéra
    "249710062": "0102", "249710070": "0102",  # Nord Basse-Terre, Grand Sud Caraïbe
    "249710047": "0103",  # Marie-Galante
    "249720061": "0201",  # CACEM
    "200041788": "0202",  # CAP Nord (Atlantic side; the Caribbean side is listed below)
    "249720053": "0203",  # Espace Sud
}
_ZONE_BY_COMMUNE = {c: "0204" for c in ("97204", "97205", "97208", "97218", "97219", "97225", "97233", "97234")}

_REGION_CODE = {"971": "01", "972": "02"}


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation: Knuth's method underflows for large means
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(frozen=True)
class Series:
    establishments: list[int | None]
    headcount: list[int | None]


def _simulate_pair(rng: random.Random, ape: Ape, lam: float) -> Series | None:
    """Yearly series of one commune x APE pair, or None when the pair never had an establishment.

    The number of establishments follows a smooth exponential trend (APE growth, plus a per-pair
    deviation) with a little autocorrelated noise; years before the pair appears are blank. The
    headcount is the number of establishments times a pair-specific average size.
    """
    level = _poisson(rng, lam)
    if level == 0 and ape.everywhere:
        level = 1
    years = len(URSSAF_YEARS)
    if level == 0:
        # A pair can have existed and closed since: one establishment for a few years, then 0.
        if rng.random() >= 1 - math.exp(-0.5 * lam):
            return None
        opened = rng.randint(0, years - 8)
        closed = rng.randint(opened + 2, years - 1)
        counts: list[float | None] = [None] * opened + [1.0] * (closed - opened) + [0.0] * (years - closed)
    else:
        growth = ape.growth + rng.gauss(0, 0.02)
        # The pair appears when its trend first reaches about one establishment. Small pairs may
        # also appear late (a newcomer where the activity was absent); a large one is never made
        # to appear out of nothing, which would put a jump from blank to dozens in the series.
        if growth > 0.005:
            start = 2025 - math.log(level / 0.6) / growth + rng.uniform(-3, 3)
        else:
            start = rng.uniform(1990, 2030) if level <= 2 else 1990.0
        if level <= 2 and rng.random() < 0.2:
            start = max(start, rng.uniform(2008, 2025))
        opened = min(max(0, round(start) - URSSAF_YEARS[0]), years - 1)
        counts = [None] * opened
        noise = 0.0
        for index in range(opened, years):
            noise = 0.6 * noise + rng.gauss(0, 0.05)
            trend = level * math.exp(growth * (URSSAF_YEARS[index] - 2025))
            counts.append(max(0.0, trend * (1 + noise)))
        counts[opened] = max(1.0, counts[opened] or 0.0)

    establishments = [None if c is None else round(c) for c in counts]
    if establishments[opened] == 0:
        establishments[opened] = 1
    size = ape.size * math.exp(rng.gauss(0, 0.45))
    headcount: list[int | None] = []
    drift = 0.0
    for count in establishments:
        drift = 0.7 * drift + rng.gauss(0, 0.08)
        headcount.append(None if count is None else max(0, round(count * size * math.exp(drift))))
    # Statistical secrecy: a few small pairs have their headcount withheld where 1 or 2 establishments
    # could be identified. Blank, never 0.
    if max(c or 0 for c in establishments) <= 2 and rng.random() < 0.05:
        headcount = [None if c in (1, 2) else h for c, h in zip(establishments, headcount, strict=True)]
    return Series(establishments, headcount)


def _commune_weights(ape: Ape, communes: Sequence[dict[str, Any]]) -> list[float]:
    weights = []
    for commune in communes:
        weight = float(commune.get("population") or 1) ** 1.15
        if ape.kind == "office":
            weight *= _HUBS.get(commune["code"], 1.0)
        elif ape.kind == "tourism":
            weight *= _RESORTS.get(commune["code"], 1.0)
        else:
            weight *= math.sqrt(_HUBS.get(commune["code"], 1.0))
        weights.append(weight)
    total = sum(weights)
    return [w / total for w in weights]


def build_urssaf_rows(geo: RealGeo) -> list[list[str]]:
    departement_name = {d["code"]: d["nom"] for d in geo.departements}
    region_name = {r["code"]: r["nom"] for r in geo.regions}
    epci_of = {m["code"]: e for e in geo.epci for m in e["membres"]}
    rows: list[list[str]] = []
    for dep in URSSAF_DEPARTEMENTS:
        communes = sorted((c for c in geo.communes if c["type"] == "commune-actuelle" and c["departement"] == dep),
                          key=lambda c: c["code"])
        reg = _REGION_CODE[dep]
        for ape in APES:
            label, na38, na17, sector = _DIVISIONS[ape.division]
            weights = _commune_weights(ape, communes)
            for commune, weight in zip(communes, weights, strict=True):
                # One RNG per pair, seeded by its key: a pair's values do not depend on the others,
                # so adding an APE or a commune leaves every existing row unchanged.
                rng = random.Random(f"{SEED}:{commune['code']}:{ape.code}")
                series = _simulate_pair(rng, ape, ape.establishments_972 * _DEPARTEMENT_SCALE[dep] * weight)
                if series is None or not any(series.establishments):
                    continue
                epci = epci_of[commune["code"]]
                zone = _ZONE_BY_COMMUNE.get(commune["code"], _ZONE_BY_EPCI[epci["code"]])
                ids = [
                    region_name[reg], region_name[reg], departement_name[dep], _ZONE_NAMES[zone], epci["nom"],
                    commune["nom"], f"{commune['code']} {commune['nom']}", sector, na17, na38,
                    f"{ape.division} {label}", f"{ape.code} {ape.label}", reg, reg, dep, zone, epci["code"],
                    commune["code"], ape.code,
                ]
                values = ["" if v is None else str(v) for v in (*series.establishments, *series.headcount)]
                rows.append(ids + values)
    rows.sort(key=lambda r: (r[URSSAF_ID_COLUMNS.index("code_commune")], r[URSSAF_ID_COLUMNS.index("code_ape")]))
    return rows


def _urssaf_fields() -> list[dict[str, Any]]:
    labels = {
        "region": "Région", "ancienne_region": "Ancienne région", "departement": "Département",
        "zone_d_emploi": "Zone d'emploi", "epci": "EPCI", "commune": "Commune",
        "intitule_commune": "Intitulé commune", "grand_secteur_d_activite": "Grand secteur d'activité",
        "secteur_na17": "Secteur NA17", "secteur_na38": "Secteur NA38", "secteur_na88": "Secteur NA88",
        "ape": "APE", "code_region": "Code région", "code_ancienne_region": "Code ancienne région",
        "code_departement": "Code département", "code_zone_d_emploi": "Code zone d'emploi",
        "code_epci": "Code EPCI", "code_commune": "Code commune", "code_ape": "Code APE",
    }
    fields: list[dict[str, Any]] = [
        {"name": name, "label": labels[name], "type": "text", "description": None, "annotations": {}}
        for name in URSSAF_ID_COLUMNS
    ]
    for prefix, label in (("nombre_d_etablissements", "Nombre d'établissements"),
                          ("effectifs_salaries", "Effectifs salariés")):
        fields.extend({"name": f"{prefix}_{y}", "label": f"{label} {y}", "type": "int", "description": None,
                       "annotations": {}} for y in URSSAF_YEARS)
    return fields


def build_urssaf(geo: RealGeo) -> list[SnapshotFile]:
    rows = build_urssaf_rows(geo)
    document = {
        "dataset_id": URSSAF_DATASET_ID,
        "has_records": True,
        "data_visible": True,
        "visibility": "domain",
        "features": ["analyze"],
        "attachments": [],
        "alternative_exports": [],
        "metas": {
            "default": {
                "title": "Nombre d'établissements employeurs et effectifs salariés du secteur privé, par commune x APE",
                "description": ("Nombre d'établissements employeurs et effectifs salariés en fin d'année du "
                                "secteur privé, par commune et code APE, depuis 2006 (champ : régime général)."),
                "publisher": "Urssaf",
                "license": "ODbL",
                "license_url": "https://opendatacommons.org/licenses/odbl/",
                "language": "fr",
                "territory": ["France"],
                "modified": "2025-06-02T08:00:00+00:00",
                "data_processed": "2025-06-02T08:00:00+00:00",
                "metadata_processed": "2025-06-02T08:00:00+00:00",
                # the number of rows of the bundled export (Guadeloupe and Martinique only)
                "records_count": len(rows),
            }
        },
        "fields": _urssaf_fields(),
    }
    synthetic_note = (f"values are SYNTHETIC (seeded RNG, seed {SEED}) in the real schema; geography (communes, "
                      "EPCI, départements, régions) is real, zones d'emploi are invented")
    return [
        SnapshotFile(f"{URSSAF_DIR}/exports/csv", f"{URSSAF_BASE_URL}/exports/csv", "urssaf", "synthetic",
                     "Urssaf establishments and salaried headcount by commune x APE, 2006-2025, wide ';' CSV "
                     f"export for 971 and 972 and 35 APE codes; {synthetic_note}",
                     "synthetic values (no third-party data); schema of the Urssaf open dataset (ODbL)",
                     _csv_bytes(URSSAF_HEADER, rows, delimiter=";")),
        SnapshotFile(f"{URSSAF_DIR}.json", URSSAF_BASE_URL, "urssaf", "derived-from-real",
                     "Opendatasoft explore v2.1 dataset document (real dataset id, schema, licence and publisher); "
                     "records_count is the row count of the bundled export", "ODbL", _json_bytes(document)),
    ]


# --------------------------------------------------------------------------------------------------
# Manifest and main
# --------------------------------------------------------------------------------------------------


def manifest_entries(files: Sequence[SnapshotFile]) -> list[dict[str, Any]]:
    return [
        manifest_entry(f.path, f.data, url=f.url, source=f.source, kind=f.kind, description=f.description,
                       licence=f.licence, generated_by=GENERATED_BY, seed=SEED)
        for f in sorted(files, key=lambda f: f.path)
    ]


def build_all(real_dir: Path) -> list[SnapshotFile]:
    geo = load_geo(real_dir)
    return [*build_cog(geo), *build_epci(geo), *build_populations(geo), *build_urssaf(geo)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real-dir", type=Path, required=True,
                        help="folder of the real input files (e.g. ../shared/data/real)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="snapshot folder (default: data/snapshot)")
    args = parser.parse_args(argv)
    real_dir: Path = args.real_dir.resolve()
    out: Path = args.out.resolve()
    files = build_all(real_dir)
    for f in files:
        target = out / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.data)
        print(f"{len(f.data):>10,}  {f.kind:<18} {f.path}")
    merge_manifest(out, manifest_entries(files), GENERATED_BY)
    print(f"wrote {len(files)} files and MANIFEST.json under {out}")
    # the BMO national workbook has its own generator (and its own manifest entries and seed)
    import snapshot_bmo

    snapshot_bmo.write(real_dir, out)


if __name__ == "__main__":
    main()
