"""RNCP / RS export: the snapshot zip, the accented member name, refused files, fetch + load for 972 and 971."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.errors import SourceError
from oref.sources.base import FetchResult
from oref.sources.rncp import FACETS, SLUG, RncpSource, check_values, export_date_of, extract_facets

DATASET_REL = Path("www.data.gouv.fr/api/1/datasets") / SLUG / "index.json"
ZIP_REL = Path("static.data.gouv.fr/resources") / SLUG / "20260830-020002" / "export-fiches-csv-2026-08-30.zip"
ZIP = SNAPSHOT / ZIP_REL
# the Rome, Nsf and Formacode members are the real rows of the 564 certifications (export of 2026-02-01)
RAW_COUNTS = {"raw.rncp_certifications": 564, "raw.rncp_certification_rome_codes": 1643,
              "raw.rncp_certification_nsf_codes": 849, "raw.rncp_certification_formacodes": 1224,
              "raw.rncp_skill_blocks": 1575}


class _LegacyZipInfo(zipfile.ZipInfo):
    """Writes the member name as UTF-8 bytes without the UTF-8 flag, as some Windows zip tools do."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's private hook, overridden
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def _members() -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(ZIP) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _snapshot_with(tmp_path: Path, members: list[tuple[str, bytes]] | None = None, *, raw: bytes | None = None,
                   legacy_names: bool = False) -> Path:
    """A copy of the RNCP snapshot whose zip is rebuilt from ``members`` (or replaced by ``raw``)."""
    snapshot = tmp_path / "snap"
    (snapshot / DATASET_REL).parent.mkdir(parents=True)
    shutil.copy(SNAPSHOT / DATASET_REL, snapshot / DATASET_REL)
    (snapshot / ZIP_REL).parent.mkdir(parents=True)
    if raw is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members or _members():
                info = (_LegacyZipInfo if legacy_names else zipfile.ZipInfo)(name, date_time=(2026, 8, 30, 2, 0, 2))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        raw = buffer.getvalue()
    (snapshot / ZIP_REL).write_bytes(raw)
    return snapshot


def _fetch(sources: SourceHarness, snapshot: Path = SNAPSHOT, code: str = "972") -> FetchResult:
    """Fetch the register for ``code`` from ``snapshot`` into data-<code>/ (no retry: a bad file fails at once)."""
    with sources.serve(snapshot) as server:
        return sources.fetch(sources.settings(server, code, snapshot=snapshot, data_dir=f"data-{code}",
                                              max_retries=0), RncpSource())


def test_snapshot_zip_facets_and_values(tmp_path: Path) -> None:
    facets, export_date = extract_facets(ZIP, tmp_path, file=ZIP.name)
    assert export_date == "2026-08-30"
    assert sorted(facets) == sorted(FACETS)  # Certificateurs is in the zip but not used
    assert check_values(facets, file=ZIP.name) == 564
    con = duckdb.connect()
    con.execute(f"create view s as select * from read_csv('{facets['standard']}', delim=';', header=true, "
                "all_varchar=true, quote='\"', escape='\"', strict_mode=false)")
    counts = con.execute(
        "select count(*) filter (where Actif = 'ACTIVE'), count(*) filter (where Numero_Fiche like 'RS%'), "
        "count(*) filter (where Nomenclature_Europe_Niveau = 'NIV7'), "
        "count(*) filter (where Nomenclature_Europe_Niveau = 'REPRISE') from s").fetchone()
    assert counts == (117, 23, 88, 6)
    active_digital = con.execute(
        "select Intitule, Nomenclature_Europe_Niveau from s where Actif = 'ACTIVE' and Intitule in "
        "('Développeur web et web mobile', 'Concepteur développeur d''''applications') order by 1").fetchall()
    # doubled apostrophes are the file's, repaired in staging
    assert active_digital == [("Concepteur développeur d''applications", "NIV6"),
                              ("Développeur web et web mobile", "NIV5")]
    multiline = con.execute("select Numero_Fiche from s where Intitule like '%' || chr(10) || '%'").fetchall()
    assert len(multiline) == 1


def test_rome_nsf_and_formacode_members_are_real_rows_of_the_2026_02_01_export() -> None:
    """France Compétences' own rows for the snapshot's certifications: every field quoted, CRLF, real codes."""
    with zipfile.ZipFile(ZIP) as archive:
        member = {facet: archive.read(f"export_fiches_CSV_{facet}_2026_08_30.csv").decode("utf-8")
                  for facet in ("Standard", "Rome", "Nsf", "Formacode")}
    assert member["Rome"].startswith('"Numero_Fiche";"Codes_Rome_Code";"Codes_Rome_Libelle"\r\n')
    # RNCP37873 (titre professionnel concepteur développeur d'applications) as the real export lists it
    assert '"RNCP37873";"M1805";"Études et développement informatique"\r\n' in member["Rome"]
    assert '"RNCP37873";"326t";"326t : Programmation, mise en place de logiciels"\r\n' in member["Nsf"]
    assert ('"RNCP37873";"31067";"Développement informatique"\r\n"RNCP37873";"31036";"Administration base de '
            'données"\r\n"RNCP37873";"31010";"Architecture web"\r\n') in member["Formacode"]
    # an RS fiche: no ROME code, its real NSF codes and formacodes
    assert '"RS6301";' not in member["Rome"]
    assert '"RS6301";"30812";"Langage Python"\r\n' in member["Formacode"]
    # every number of the facets is a fiche of Standard, and every fiche has a formacode and an NSF code
    standard = {row[1] for row in list(csv.reader(io.StringIO(member["Standard"]), delimiter=";"))[1:]}
    numbers = {facet: {line.split(";", 1)[0].strip('"') for line in member[facet].splitlines()[1:]}
               for facet in ("Rome", "Nsf", "Formacode")}
    assert len(standard) == 564
    assert numbers["Nsf"] == numbers["Formacode"] == standard
    assert numbers["Rome"] < standard and all(n.startswith("RNCP") for n in numbers["Rome"])
    entry = next(e for e in json.loads((SNAPSHOT / "MANIFEST.json").read_text("utf-8"))["files"]
                 if e["path"] == ZIP_REL.as_posix())
    assert entry["kind"] == "derived-from-real"
    assert entry["members"] == {f"export_fiches_CSV_{facet}_2026_08_30.csv": kind for facet, kind in (
        ("Blocs_De_Compétences", "synthetic"), ("Certificateurs", "synthetic"), ("Formacode", "real"),
        ("Nsf", "real"), ("Rome", "real"), ("Standard", "synthetic"))}


@pytest.mark.skipif(not os.environ.get("OREF_REAL_DIR"), reason="set OREF_REAL_DIR to the folder of the real "
                    "inputs (rncp/export_fiches_CSV_*_2026_02_01.csv) to compare the members with the real files")
def test_real_members_are_byte_subsets_of_the_real_files() -> None:
    real = Path(os.environ["OREF_REAL_DIR"]) / "rncp"
    with zipfile.ZipFile(ZIP) as archive:
        for facet in ("Rome", "Nsf", "Formacode"):
            lines = archive.read(f"export_fiches_CSV_{facet}_2026_08_30.csv").split(b"\r\n")
            real_lines = (real / f"export_fiches_CSV_{facet}_2026_02_01.csv").read_bytes().split(b"\r\n")
            assert lines[0] == real_lines[0]
            kept = {line.split(b";", 1)[0] for line in lines[1:] if line}
            # exactly the real lines of the kept numbers, in the real file's order
            assert [line for line in lines[1:] if line] == [
                line for line in real_lines[1:] if line and line.split(b";", 1)[0] in kept], facet


def test_latest_csv_export_is_picked_from_the_dataset_document() -> None:
    document = json.loads((SNAPSHOT / DATASET_REL).read_text("utf-8"))
    dates = sorted(d for r in document["resources"] if (d := export_date_of(r)))
    assert dates == ["2026-08-28", "2026-08-29", "2026-08-30"]  # the XML exports are skipped
    assert export_date_of({"format": "zip", "title": "Export XML 2026-08-30",
                           "url": "https://x/export-fiches-xml-2026-08-30.zip"}) is None


def test_accented_member_name_without_utf8_flag_is_repaired(tmp_path: Path) -> None:
    snapshot = _snapshot_with(tmp_path, legacy_names=True)
    with zipfile.ZipFile(snapshot / ZIP_REL) as archive:
        names = archive.namelist()
    # what Python (and most readers) see: the UTF-8 bytes decoded as cp437
    assert "export_fiches_CSV_Blocs_De_Comp├⌐tences_2026_08_30.csv" in names
    facets, _ = extract_facets(snapshot / ZIP_REL, tmp_path, file="zip")
    assert facets["blocs_de_competences"].stat().st_size > 0


def test_fetch_and_load_are_the_same_national_register_for_972_and_971(sources: SourceHarness) -> None:
    result = _fetch(sources)
    assert (result.status, result.rows) == ("landed", 564)
    assert "export of 2026-08-30" in result.message
    with sources.serve() as server:
        counts, con = sources.load(sources.settings(server, "972", data_dir="data-972"), RncpSource())
    assert counts == RAW_COUNTS
    assert con.execute("select distinct _vintage from raw.rncp_certifications").fetchall() == [("2026-08-30",)]
    assert _fetch(sources, code="971").rows == 564
    with sources.serve() as server:
        assert sources.load(sources.settings(server, "971", data_dir="data-971"), RncpSource())[0] == RAW_COUNTS
    assert _fetch(sources, code="971").status == "unchanged"


def test_unknown_level_is_refused_naming_fiche_column_and_value(sources: SourceHarness) -> None:
    members = [(name, data.replace(b";NIV7;Niveau 7;", b";NIV9;Niveau 9;", 1) if "Standard" in name else data)
               for name, data in _members()]
    snapshot = _snapshot_with(sources.tmp_path, members)
    with pytest.raises(SourceError) as excinfo:
        _fetch(sources, snapshot)
    assert excinfo.value.column == "Nomenclature_Europe_Niveau" and excinfo.value.value == "NIV9"
    assert "level is not NIV3..NIV8, REPRISE or empty (fiche RNCP" in str(excinfo.value)
    assert "file: export-fiches-csv-2026-08-30.zip [standard]" in str(excinfo.value)


def test_missing_facet_is_refused_listing_the_members(sources: SourceHarness) -> None:
    members = [(name, data) for name, data in _members() if "_Rome_" not in name]
    snapshot = _snapshot_with(sources.tmp_path, members)
    with pytest.raises(SourceError) as excinfo:
        _fetch(sources, snapshot)
    assert "facet(s) ['rome'] not found in the zip (members: ['export_fiches_CSV_Standard_2026_08_30.csv'" \
        in str(excinfo.value)


def test_html_page_instead_of_the_zip_is_refused(sources: SourceHarness) -> None:
    page = b"<!DOCTYPE html><html><head><title>Maintenance data.gouv.fr</title></head><body></body></html>"
    snapshot = _snapshot_with(sources.tmp_path, raw=page)
    with pytest.raises(SourceError) as excinfo:
        _fetch(sources, snapshot)
    assert "expected a zip file but the server sent an HTML page titled 'Maintenance data.gouv.fr'" \
        in str(excinfo.value)


def test_landing_suite_passes_on_the_snapshot_and_blocks_a_duplicated_id_fiche(sources: SourceHarness) -> None:
    assert _fetch(sources, code="971").status == "landed"
    gx = [c for c in sources.checks if c.engine == "gx"]
    assert {"numero_fiche_unique", "id_fiche_unique", "level_known", "actif_known"} <= {c.check_name for c in gx}
    assert all(c.target == "export-fiches-csv-2026-08-30.zip [standard]" for c in gx)
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # two fiches sharing one Id_Fiche: numbers, levels, status and dates all pass oref's own checks
    shared: list[str] = []

    def duplicate_id(data: bytes) -> bytes:
        lines = data.decode("utf-8").split("\n")
        first, second = lines[1].split(";"), lines[2].split(";")  # two single-line fiches
        shared.append(first[0])
        second[0] = first[0]  # Id_Fiche is the first column
        lines[2] = ";".join(second)
        return "\n".join(lines).encode("utf-8")

    members = [(name, duplicate_id(data) if "Standard" in name else data) for name, data in _members()]
    snapshot = _snapshot_with(sources.tmp_path, members)
    with pytest.raises(SourceError) as excinfo:
        _fetch(sources, snapshot)
    message = str(excinfo.value)
    assert "landing suite rncp_landing failed (id_fiche_unique:" in message
    assert f"'{shared[0]}'" in message
    assert "file: export-fiches-csv-2026-08-30.zip [standard]" in message and "quarantined:" in message
    assert not (sources.tmp_path / "data-972" / "landing" / "rncp").exists()
