"""geo: the INSEE COG 2025, the EPCI composition workbook, the populations légales (derived from real),
the zones d'emploi 2020 and the commune -> BMO bassin table (real).

Real facts from ``@etalab/decoupage-administratif`` (``<real-dir>/geo/decoupage-administratif``)
re-shaped into INSEE's file formats: ``v_commune_2025.csv``, ``v_departement_2025.csv`` and
``v_region_2025.csv``; the zipped EPCI workbook (title block, header on row 6); the zipped
populations CSVs, whose PCAP column is synthetic (seeded per commune). Copied byte for byte from
``<real-dir>/nomenclatures``: INSEE's ``ZE2020_au_01-01-2023.xlsx`` (served zipped, as INSEE serves
it) and ``France_Travail_Bassin_Emploi_2021.csv`` (a re-export of France Travail's bassins).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from snapshot.common import (
    LICENCE_ETALAB,
    ZIP_DATE_TIME,
    Context,
    RealGeo,
    SnapshotFile,
    csv_bytes,
    deterministic_zip,
    load_geo,
    workbook_bytes,
)

KEY = "geo"
SEED = 972
REQUIRES: tuple[str, ...] = ()
# the creator stamped inside the EPCI workbook when it was first generated: part of its bytes
WORKBOOK_CREATOR = "oref scripts/make_snapshot.py"


def build(ctx: Context) -> list[SnapshotFile]:
    geo = load_geo(ctx.real_dir)
    return [*build_cog(geo), *build_epci(geo), *build_populations(geo), *build_nomenclatures(ctx)]


# The COG files cover France (metropole + DROM) only: the collectivités d'outre-mer (975, 977, 978,
# 984-989) are published by INSEE in separate files (v_comer_*), so they are left out here too.
_COG_ZONES = ("metro", "drom")

# --- the COG 2025 -------------------------------------------------------------------------------

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
                     LICENCE_ETALAB, csv_bytes(_COG_COMMUNE_HEADER, rows, delimiter=",")),
        SnapshotFile(f"{COG_DIR}/v_departement_2025.csv", f"{COG_BASE_URL}/v_departement_2025.csv", "geo",
                     "derived-from-real", f"INSEE COG départements; {provenance}", LICENCE_ETALAB,
                     csv_bytes(["DEP", "REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"], dep_rows,
                                delimiter=",")),
        SnapshotFile(f"{COG_DIR}/v_region_2025.csv", f"{COG_BASE_URL}/v_region_2025.csv", "geo",
                     "derived-from-real", f"INSEE COG régions; {provenance}", LICENCE_ETALAB,
                     csv_bytes(["REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"], reg_rows, delimiter=",")),
    ]


# --- the EPCI composition -------------------------------------------------------------------------

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

    xlsx = workbook_bytes(workbook, creator=WORKBOOK_CREATOR)
    archive = deterministic_zip([(f"{EPCI_NAME}.xlsx", xlsx)])
    return [SnapshotFile(
        EPCI_PATH, EPCI_URL, "geo", "derived-from-real",
        "INSEE EPCI composition workbook (sheets EPCI and Composition_communale, header on row 6), zipped; "
        "rebuilt from @etalab/decoupage-administratif 6.0.0 epci.json/communes.json (INSEE facts, COG 2026 "
        "vintage); NATURE_EPCI is the package's EPCI type",
        LICENCE_ETALAB, archive)]


# --- the populations légales 2022 en vigueur au 1er janvier 2025 -----------------------------------

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
    archive = deterministic_zip([
        ("donnees_communes.csv", csv_bytes(POP_COMMUNE_HEADER, rows, delimiter=";")),
        ("donnees_departements.csv", csv_bytes(POP_DEPARTEMENT_HEADER, dep_rows, delimiter=";")),
    ])
    return [SnapshotFile(
        POP_PATH, POP_URL, "geo", "derived-from-real",
        "INSEE populations légales 2022 en vigueur au 1er janvier 2025 (France hors Mayotte), zip of ';' CSVs "
        "donnees_communes.csv and donnees_departements.csv; PMUN is the real population of "
        "@etalab/decoupage-administratif 6.0.0 communes.json, PCAP is SYNTHETIC (seeded 0-3 % of PMUN), "
        "PTOT = PMUN + PCAP; CODCAN and the département file's NBARR/NBCAN are left empty (not in the input)",
        LICENCE_ETALAB, archive)]


# --- the zones d'emploi 2020 and the commune -> BMO bassin table (real files) ---------------------

ZE_NAME = "ZE2020_au_01-01-2023"
ZE_URL = f"https://www.insee.fr/fr/statistiques/fichier/4652957/{ZE_NAME}.zip"
ZE_PATH = f"www.insee.fr/fr/statistiques/fichier/4652957/{ZE_NAME}.zip"
BASSINS_NAME = "France_Travail_Bassin_Emploi_2021.csv"
BASSINS_URL = f"https://statistiques.francetravail.org/bmo/static/{BASSINS_NAME}"
BASSINS_PATH = f"statistiques.francetravail.org/bmo/static/{BASSINS_NAME}"


def build_nomenclatures(ctx: Context) -> list[SnapshotFile]:
    folder = ctx.real_dir / "nomenclatures"
    workbook = (folder / f"{ZE_NAME}.xlsx").read_bytes()
    bassins = (folder / BASSINS_NAME).read_bytes()
    return [
        SnapshotFile(
            ZE_PATH, ZE_URL, "geo", "real",
            "INSEE zones d'emploi 2020, composition communale au 01/01/2023 (sheets ZE2020, "
            "Composition_communale, Variables, Documentation; header on row 6): the real workbook, byte for "
            "byte (re-saved once by a third party, INSEE layout kept), inside a zip written by the generator "
            f"(INSEE serves {ZE_NAME}.zip holding {ZE_NAME}.xlsx; its own zip bytes were not kept; entry date "
            f"{'-'.join(str(v) for v in ZIP_DATE_TIME[:3])}); 34,945 communes",
            LICENCE_ETALAB, deterministic_zip([(f"{ZE_NAME}.xlsx", workbook)])),
        SnapshotFile(
            BASSINS_PATH, BASSINS_URL, "geo", "real",
            "commune -> BMO bassin d'emploi 2021 (reg,dep,codgeo,codbe,libbe; UTF-8 with BOM, CRLF), all France "
            "incl. DROM: the real file byte for byte, but a RE-EXPORT by a third party, not France Travail's "
            "original publication; where it was published is not recorded, the URL is the "
            "one oref assumes. Quirks kept: leading zeros lost (reg 1, codgeo 1001), dep 97 for every DROM, "
            "some labels damaged (mojibake, a spreadsheet formula)",
            LICENCE_ETALAB, bassins),
    ]
