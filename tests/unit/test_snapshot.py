"""The bundled snapshot (data/snapshot) is complete, intact and says what the pipeline relies on.

Reads the committed files only. The expected numbers are exact: they come from the real geography
and from the seeded generator (scripts/snapshot, `make snapshot`), so any drift is a failure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from oref.reference import naf_codes

SNAPSHOT = Path(__file__).resolve().parents[2] / "data" / "snapshot"
COG_DIR = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "8377162"
EPCI_ZIP = (SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "2510634"
            / "Intercommunalite_Metropole_au_01-01-2025.zip")
POPULATIONS_ZIP = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "8680726" / "ensemble.zip"
URSSAF_DATASET = (SNAPSHOT / "open.urssaf.fr" / "api" / "explore" / "v2.1" / "catalog" / "datasets"
                  / "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last")
URSSAF_CSV = URSSAF_DATASET / "exports" / "csv"
URSSAF_DOC = URSSAF_DATASET.with_name(URSSAF_DATASET.name + ".json")
BMO_DOC = SNAPSHOT / "www.data.gouv.fr" / "api" / "1" / "datasets" / "561fa564c751df4f2acdbb48" / "index.json"
BMO_XLSX = (SNAPSHOT / "static.data.gouv.fr" / "resources" / "enquete-besoins-en-main-doeuvre-bmo"
            / "20250423-101500" / "base_open_data_bmo_2025.xlsx")

YEARS = range(2006, 2026)
URSSAF_HEADER = [
    "region", "ancienne_region", "departement", "zone_d_emploi", "epci", "commune", "intitule_commune",
    "grand_secteur_d_activite", "secteur_na17", "secteur_na38", "secteur_na88", "ape", "code_region",
    "code_ancienne_region", "code_departement", "code_zone_d_emploi", "code_epci", "code_commune", "code_ape",
    *(f"nombre_d_etablissements_{y}" for y in YEARS),
    *(f"effectifs_salaries_{y}" for y in YEARS),
]
ICT_SERVICES = set(naf_codes("ict_services", dotted=False))  # URSSAF writes APE codes undotted


def _manifest() -> dict:
    return json.loads((SNAPSHOT / "MANIFEST.json").read_text(encoding="utf-8"))


def _csv_rows(path: Path, delimiter: str) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream, delimiter=delimiter)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def urssaf() -> tuple[list[str], list[dict[str, str]]]:
    return _csv_rows(URSSAF_CSV, ";")


@pytest.fixture(scope="module")
def composition() -> list[tuple[object, ...]]:
    with zipfile.ZipFile(EPCI_ZIP) as archive:
        assert archive.namelist() == ["Intercommunalite_Metropole_au_01-01-2025.xlsx"]
        data = archive.read("Intercommunalite_Metropole_au_01-01-2025.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        assert workbook.sheetnames == ["EPCI", "Composition_communale"]
        epci_rows = list(workbook["EPCI"].iter_rows(values_only=True))
        assert epci_rows[5] == ("EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM")
        rows = list(workbook["Composition_communale"].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert rows[0][0] == "Intercommunalités au 1er janvier 2025"
    assert rows[5] == ("CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG")
    return rows[6:]


def test_manifest_matches_the_files() -> None:
    manifest = _manifest()
    all_paths = [entry["path"] for entry in manifest["files"]]
    assert all_paths == sorted(all_paths)
    on_disk = sorted(str(p.relative_to(SNAPSHOT)) for p in SNAPSHOT.rglob("*") if p.is_file())
    assert on_disk == sorted([*all_paths, "MANIFEST.json"])  # every file described, nothing stray
    for entry in manifest["files"]:
        data = (SNAPSHOT / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["bytes"], entry["path"]
        assert entry["url"].startswith("https://")
        assert entry["kind"] in {"real", "derived-from-real", "synthetic"}
        # the source key names the file's generator: scripts/snapshot/<key>.py
        assert entry["generated_by"] == f"scripts/snapshot/{entry['source']}.py", entry["path"]
    geo = [e for e in manifest["files"] if e["source"] in ("geo", "urssaf")]
    assert {e["seed"] for e in geo} == {972} and len(geo) == 9
    kinds = Counter(entry["kind"] for entry in geo)
    # the zones d'emploi workbook and the bassins table are the real files (the latter a re-export)
    assert kinds == {"derived-from-real": 6, "synthetic": 1, "real": 2}
    bassins = next(e for e in geo if e["path"].endswith("France_Travail_Bassin_Emploi_2021.csv"))
    assert "RE-EXPORT" in bassins["description"]


def test_cog_counts_the_antilles_communes() -> None:
    header, rows = _csv_rows(COG_DIR / "v_commune_2025.csv", ",")
    assert header == ["TYPECOM", "COM", "REG", "DEP", "CTCD", "ARR", "TNCC", "NCC", "NCCENR", "LIBELLE", "CAN",
                      "COMPARENT"]
    current = [r for r in rows if r["TYPECOM"] == "COM"]
    per_dep = Counter(r["DEP"] for r in current)
    assert per_dep["972"] == 34
    assert per_dep["971"] == 32
    assert len(current) == 34875
    fort_de_france = next(r for r in current if r["COM"] == "97209")
    assert (fort_de_france["REG"], fort_de_france["LIBELLE"], fort_de_france["NCC"]) == (
        "02", "Fort-de-France", "FORT DE FRANCE")
    les_abymes = next(r for r in current if r["COM"] == "97101")
    assert (les_abymes["TNCC"], les_abymes["NCCENR"], les_abymes["LIBELLE"]) == ("4", "Abymes", "Les Abymes")
    assert any(r["COM"] == "2A004" for r in current)  # Corsican codes stay text


def test_cog_departements_and_regions() -> None:
    _, departements = _csv_rows(COG_DIR / "v_departement_2025.csv", ",")
    _, regions = _csv_rows(COG_DIR / "v_region_2025.csv", ",")
    assert len(departements) == 101
    assert len(regions) == 18
    martinique = next(d for d in departements if d["DEP"] == "972")
    assert (martinique["REG"], martinique["CHEFLIEU"]) == ("02", "97209")


def test_epci_composition_of_martinique(composition: list[tuple[object, ...]]) -> None:
    martinique = [row for row in composition if row[4] == "972"]
    assert sorted(str(row[0]) for row in martinique) == [f"972{n:02d}" for n in range(1, 35)]
    assert Counter(row[2] for row in martinique) == {"249720061": 4, "200041788": 18, "249720053": 12}
    assert all(isinstance(value, str) for row in composition for value in row)
    outside = sorted(str(row[0]) for row in composition if row[2] == "ZZZZZZZZZ")
    assert outside == ["22016", "29083", "29155", "85113"]


def test_populations_cover_france_except_mayotte() -> None:
    with zipfile.ZipFile(POPULATIONS_ZIP) as archive:
        assert archive.namelist() == ["donnees_communes.csv", "donnees_departements.csv"]
        text = archive.read("donnees_communes.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert list(rows[0]) == ["REG", "Région", "DEP", "CODARR", "CODCAN", "CODCOM", "COM", "PMUN", "PCAP", "PTOT"]
    assert len(rows) == 34858  # the 34,875 COG communes but Mayotte's 17
    per_dep = Counter(r["DEP"] for r in rows)
    assert (per_dep["972"], per_dep["971"], per_dep["976"], len(per_dep)) == (34, 32, 0, 100)
    assert all(int(r["PTOT"]) == int(r["PMUN"]) + int(r["PCAP"]) for r in rows)
    assert sum(int(r["PMUN"]) for r in rows if r["DEP"] == "972") == 360630


def test_bmo_dataset_document_describes_the_bundled_workbooks() -> None:
    document = json.loads(BMO_DOC.read_text(encoding="utf-8"))
    # newest first, as data.gouv.fr lists them: 2025, then the real national 2024 workbook
    latest, previous = document["resources"]
    for resource, stamp, year, resource_id in (
            (latest, "20250423-101500", 2025, "54478315-aafd-4070-b8df-a5647297e0c0"),
            (previous, "20240424-094500", 2024, "4319f5e8-a8e6-476c-8da0-c0d3439ebb55")):
        url = f"https://static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/{stamp}/" \
              f"base_open_data_bmo_{year}.xlsx"
        workbook = (SNAPSHOT / url.removeprefix("https://")).read_bytes()
        assert (resource["id"], resource["url"], resource["title"]) == (resource_id, url, f"Base open data BMO {year}")
        assert resource["filesize"] == len(workbook)
        assert resource["checksum"] == {"type": "sha1", "value": hashlib.sha1(workbook).hexdigest()}
    assert BMO_XLSX.read_bytes() == (SNAPSHOT / latest["url"].removeprefix("https://")).read_bytes()


def test_urssaf_header_and_territories(urssaf: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = urssaf
    assert header == URSSAF_HEADER
    assert Counter(r["code_departement"] for r in rows) == {"971": 559, "972": 502}
    assert {(r["code_departement"], r["code_region"]) for r in rows} == {("971", "01"), ("972", "02")}
    # every commune of the COG in 971 and 972 has at least one row, with its own EPCI code
    _, cog = _csv_rows(COG_DIR / "v_commune_2025.csv", ",")
    antilles = {r["COM"] for r in cog if r["TYPECOM"] == "COM" and r["DEP"] in ("971", "972")}
    assert {r["code_commune"] for r in rows} == antilles
    assert {r["code_epci"] for r in rows if r["code_departement"] == "972"} == {"249720061", "200041788", "249720053"}
    document = json.loads(URSSAF_DOC.read_text(encoding="utf-8"))
    assert document["metas"]["default"]["records_count"] == len(rows)
    assert [f["name"] for f in document["fields"]] == URSSAF_HEADER


def test_urssaf_values_are_counts_or_blanks(urssaf: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = urssaf
    counts = [c for c in header if c.startswith(("nombre_d_etablissements_", "effectifs_salaries_"))]
    assert all(r[c] == "" or (r[c].isdigit()) for r in rows for c in counts)
    # Years before a pair appears are blank, not 0.
    assert sum(r["nombre_d_etablissements_2006"] == "" for r in rows) == 459
    assert sum(r["nombre_d_etablissements_2006"] == "0" for r in rows) == 0
    assert sum(r["nombre_d_etablissements_2006"] == "" and r["nombre_d_etablissements_2025"] not in ("", "0")
               for r in rows) == 304
    # A few headcount cells are withheld (statistical secrecy) while the establishments are known.
    assert sum(r[f"effectifs_salaries_{y}"] == "" and r[f"nombre_d_etablissements_{y}"] != ""
               for r in rows for y in YEARS) == 322
    # Every row exists: at least one year with an establishment.
    assert all(any(r[f"nombre_d_etablissements_{y}"] not in ("", "0") for y in YEARS) for r in rows)


def test_urssaf_digital_totals_2025(urssaf: tuple[list[str], list[dict[str, str]]]) -> None:
    _, rows = urssaf

    def total(dep: str, column: str, communes: set[str] | None = None) -> int:
        return sum(int(r[column] or 0) for r in rows if r["code_departement"] == dep and r["code_ape"] in ICT_SERVICES
                   and (communes is None or r["code_commune"] in communes))

    assert total("972", "nombre_d_etablissements_2025") == 375
    assert total("972", "effectifs_salaries_2025") == 1893
    assert total("971", "nombre_d_etablissements_2025") == 403
    assert total("971", "effectifs_salaries_2025") == 2057
    # the business districts hold most of the digital establishments
    assert total("972", "nombre_d_etablissements_2025", {"97209", "97213"}) * 2 > 375
    assert total("971", "nombre_d_etablissements_2025", {"97101", "97103", "97120"}) * 2 > 403
