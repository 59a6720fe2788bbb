"""The geo source: INSEE populations légales (the bundled ensemble.zip, the commune-code rule, failures),
the zones d'emploi 2020 and the commune -> BMO bassin table (every DROM commune in exactly one of each;
the re-export's lost zeros), and a full fetch + load through the replay server (972, 971 and Mayotte,
which the populations file leaves out)."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.replay import Fault
from oref.sources.base import FetchResult
from oref.sources.geo import (
    GeoSource,
    bassin_commune_code,
    commune_code_of,
    iter_bassins,
    iter_populations,
    parse_count,
    populations_member,
    read_populations,
    read_zones_emploi,
)
from oref.sources.tabular import iter_sheet

POPULATIONS_ZIP = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "8680726" / "ensemble.zip"
ZONES_ZIP = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "4652957" / "ZE2020_au_01-01-2023.zip"
BASSINS_CSV = SNAPSHOT / "statistiques.francetravail.org" / "bmo" / "static" / "France_Travail_Bassin_Emploi_2021.csv"
COG_COMMUNES = SNAPSHOT / "www.insee.fr" / "fr" / "statistiques" / "fichier" / "8377162" / "v_commune_2025.csv"
BMO_2025 = (SNAPSHOT / "static.data.gouv.fr" / "resources" / "enquete-besoins-en-main-doeuvre-bmo" / "20250423-101500"
            / "base_open_data_bmo_2025.xlsx")
DROM = ("971", "972", "973", "974", "976")
HEADER = "REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT"
# Fort-de-France's population in @etalab/decoupage-administratif communes.json, the generator's input
FORT_DE_FRANCE_PMUN = 75506


def _zip(tmp_path: Path, communes: str, *, first: tuple[str, str] | None = None) -> Path:
    path = tmp_path / "ensemble.zip"
    with zipfile.ZipFile(path, "w") as archive:
        if first:
            archive.writestr(*first)
        archive.writestr("donnees_communes.csv", communes.encode("utf-8"))
    return path


def test_snapshot_populations_of_the_antilles() -> None:
    rows = {r["commune_code"]: r for r in iter_populations(POPULATIONS_ZIP)}
    fort_de_france = rows["97209"]
    assert (fort_de_france["dep"], fort_de_france["codcom"], fort_de_france["com"]) == ("972", "09", "Fort-de-France")
    assert fort_de_france["pmun"] == FORT_DE_FRANCE_PMUN
    assert fort_de_france["ptot"] == fort_de_france["pmun"] + fort_de_france["pcap"]
    with_population = Counter(r["dep"] for r in rows.values() if r["pmun"] is not None and r["pmun"] > 0)
    assert (with_population["972"], with_population["971"]) == (34, 32)
    assert sorted(c for c in rows if c.startswith("972")) == [f"972{n:02d}" for n in range(1, 35)]
    assert sum(r["pmun"] for r in rows.values() if r["dep"] == "972") == 360630
    assert sum(r["pmun"] for r in rows.values() if r["dep"] == "971") == 384160
    assert "01001" in rows and "2A004" in rows
    summary = read_populations(POPULATIONS_ZIP)
    assert (summary.rows, summary.member, summary.ptot_mismatches) == (34858, "donnees_communes.csv", 0)
    assert "976" not in summary.departements and len(summary.departements) == 100
    assert "06" not in summary.regions


def test_commune_code_follows_the_dom_rule() -> None:
    assert commune_code_of("972", "09") == "97209"
    assert commune_code_of("971", "32") == "97132"
    assert commune_code_of("01", "001") == "01001"
    assert commune_code_of("2A", "004") == "2A004"
    assert commune_code_of(" 2b ", "033") == "2B033"
    # never padded: a 3-digit number in a DROM, or a short one in metropolitan France, is refused
    with pytest.raises(ValueError, match="commune number '009' is not 2 digits for département '972'"):
        commune_code_of("972", "009")
    with pytest.raises(ValueError, match="commune number '1' is not 3 digits for département '01'"):
        commune_code_of("01", "1")
    with pytest.raises(ValueError, match="malformed département code '1'"):
        commune_code_of("1", "001")


def test_thousands_separators_and_other_members(tmp_path: Path) -> None:
    assert parse_count("12 345") == 12345
    assert parse_count("1\u00a0234\u202f567") == 1234567
    with pytest.raises(ValueError, match="not an integer: '12,5'"):
        parse_count("12,5")
    # the communes member is found by name even when another CSV comes first in the zip
    path = _zip(tmp_path, f"{HEADER}\n02;Martinique;972;1;;09;Fort-de-France;75\u00a0506;802;76 308\n",
                first=("donnees_departements.csv", "REG;DEP\n02;972\n"))
    with zipfile.ZipFile(path) as archive:
        assert populations_member(archive) == "donnees_communes.csv"
    (row,) = iter_populations(path)
    assert (row["commune_code"], row["pmun"], row["pcap"], row["ptot"]) == ("97209", 75506, 802, 76308)


def test_missing_pmun_names_the_column_and_the_file(tmp_path: Path) -> None:
    header = HEADER.replace(";PMUN", "")
    path = _zip(tmp_path, f"{header}\n02;Martinique;972;1;;09;Fort-de-France;802;1\n")
    with pytest.raises(SourceError) as info:
        read_populations(path)
    assert str(info.value) == ("source 'geo': columns changed: missing ['PMUN'] | file: ensemble.zip "
                               "[donnees_communes.csv] | column: 'PMUN'")


def test_padded_dom_code_and_bad_count_are_named(tmp_path: Path) -> None:
    path = _zip(tmp_path, f"{HEADER}\n02;Martinique;972;1;;009;Fort-de-France;75506;802;76308\n")
    with pytest.raises(SourceError) as info:
        read_populations(path)
    assert str(info.value) == ("source 'geo': line 2: commune number '009' is not 2 digits for département "
                               "'972' | file: ensemble.zip [donnees_communes.csv] | column: 'CODCOM' | value: '009'")
    path = _zip(tmp_path, f"{HEADER}\n02;Martinique;972;1;;09;Fort-de-France;n.d.;802;76308\n")
    with pytest.raises(SourceError) as info:
        read_populations(path)
    assert "column: 'PMUN' | value: 'n.d.'" in str(info.value)


@pytest.fixture(scope="module")
def landed_972(tmp_path_factory: pytest.TempPathFactory) -> tuple[SourceHarness, FetchResult, list[CheckResult]]:
    """One fetch of the national geo files for 972 (their landing suites run once for the module)."""
    harness = SourceHarness(tmp_path_factory.mktemp("geo"))
    with harness.serve() as server:
        result = harness.fetch(harness.settings(server, "972"), GeoSource())
    return harness, result, harness.checks


def _from_landed(sources: SourceHarness, landed: SourceHarness) -> None:
    """Start from the landing zone of ``landed``: only a file that changes is downloaded and checked again."""
    shutil.copytree(landed.tmp_path / "data", sources.tmp_path / "data")


@pytest.mark.slow  # fetches and checks the national COG and populations files
def test_fetch_and_load_for_972_971_and_mayotte(
        landed_972: tuple[SourceHarness, FetchResult, list[CheckResult]]) -> None:
    sources, result, checks = landed_972
    assert result.status == "landed"
    with sources.serve() as server:
        counts, con = sources.load(sources.settings(server, "972"), GeoSource())
        assert counts["raw.geo_populations"] == 34858
        assert (counts["raw.geo_employment_zones"], counts["raw.geo_employment_zone_communes"],
                counts["raw.geo_basin_communes"]) == (306, 34945, 37498)
        # the bassins table as published: the commune code without its zero, dep 97 for the DROM
        assert con.execute("select reg, dep, codgeo, codbe, _vintage from raw.geo_basin_communes "
                           "where codgeo in ('1001', '97209') order by codgeo").fetchall() == [
            ("84", "1", "1001", "8437", "2021"), ("2", "97", "97209", "201", "2021")]
        assert con.execute("select ze2020, libze2020, _vintage from raw.geo_employment_zone_communes "
                           "where codgeo = '97209'").fetchone() == ("0202", "Le Centre agglomération", "2020")
        assert {c.check_name: c.status for c in checks if c.engine == "oref"} == {
            "territory_has_populations": "pass", "ptot_is_pmun_plus_pcap": "pass"}
        fort_de_france = con.execute(
            "select dep, codcom, com, pmun, ptot - pcap, _vintage, _source_url from raw.geo_populations "
            "where commune_code = '97209'").fetchone()
        assert fort_de_france == ("972", "09", "Fort-de-France", FORT_DE_FRANCE_PMUN, FORT_DE_FRANCE_PMUN, "2022",
                                  "https://www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip")
        per_dep = dict(con.execute(
            "select dep, count(*) from raw.geo_populations where pmun is not null and dep in ('971', '972') "
            "group by dep").fetchall())
        assert per_dep == {"971": 32, "972": 34}
        # codes built by the SQL rule are the COG's: every 971/972 commune joins
        joined = con.execute(
            "select count(*) from raw.geo_communes c join raw.geo_populations p on p.commune_code = c.com "
            "where c.typecom = 'COM' and c.dep in ('971', '972')").fetchone()
        assert joined == (66,)
        assert con.execute("select count(*) from raw.geo_populations where commune_code in ('01001', '2A004')"
                           ).fetchone() == (2,)

        guadeloupe = sources.settings(server, "971")
        assert sources.fetch(guadeloupe, GeoSource()).status == "unchanged"  # national files, already landed
        assert sources.load(guadeloupe, GeoSource())[0]["raw.geo_populations"] == 34858

        # Mayotte: not in the populations légales; the fetch and load work, with a warning
        mayotte_settings = sources.settings(server, "976")
        sources.fetch(mayotte_settings, GeoSource())
        warning = next(c for c in sources.checks if c.check_name == "territory_has_populations")
        assert (warning.severity, warning.status, warning.observed) == ("warn", "fail", "0")
        assert warning.message == ("no populations for territory 976 in ensemble.zip (INSEE's populations légales "
                                   "exclude Mayotte): its communes get NULL populations")
        _, con = sources.load(mayotte_settings, GeoSource())
        mayotte = con.execute(
            "select count(*), count(p.pmun) from raw.geo_communes c left join raw.geo_populations p "
            "on p.commune_code = c.com where c.typecom = 'COM' and c.dep = '976'").fetchone()
        assert mayotte == (17, 0)


@pytest.mark.slow  # fetches and checks the national COG and populations files
def test_truncated_populations_zip_is_quarantined(
        sources: SourceHarness, landed_972: tuple[SourceHarness, FetchResult, list[CheckResult]]) -> None:
    body = POPULATIONS_ZIP.read_bytes()[:5000]
    faults = {"/www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip": [Fault(200, body=body)]}
    _from_landed(sources, landed_972[0])
    with sources.serve(faults=faults) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972"), GeoSource())
    assert "corrupt or truncated zip file" in str(info.value)
    assert "quarantined:" in str(info.value)


COMMUNES_PATH = "/www.insee.fr/fr/statistiques/fichier/8377162/v_commune_2025.csv"
POPULATIONS_PATH = "/www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip"


@pytest.mark.slow  # fetches and checks the national COG and populations files
def test_landing_suites_pass_on_the_snapshot_and_block_bad_rows(
        sources: SourceHarness, landed_972: tuple[SourceHarness, FetchResult, list[CheckResult]]) -> None:
    landed, result, checks = landed_972
    assert result.status == "landed"
    suites = Counter(c.target for c in checks if c.engine == "gx")
    assert suites == {"v_commune_2025.csv": 14, "ensemble.zip [donnees_communes.csv]": 13,
                      "ZE2020_au_01-01-2023.zip [Composition_communale]": 10,
                      "France_Travail_Bassin_Emploi_2021.csv": 6}
    assert [c.check_name for c in checks if c.status != "pass"] == []

    # Fort-de-France with fewer inhabitants in total than in its municipal population: the rows
    # still parse (only a warn check compares PTOT with PMUN + PCAP), the landing suite blocks them
    with zipfile.ZipFile(POPULATIONS_ZIP) as archive:
        communes = archive.read("donnees_communes.csv").decode("utf-8")
    line = "02;Martinique;972;1;;09;Fort-de-France;75506;802;76308\n"
    assert line in communes
    bad_populations = _zip(sources.tmp_path, communes.replace(line, line.replace(";76308", ";75000")))
    faults = {POPULATIONS_PATH: [Fault(200, body=bad_populations.read_bytes())]}
    _from_landed(sources, landed)  # the COG and EPCI files are unchanged: only the populations are checked
    with sources.serve(faults=faults) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972"), GeoSource())
    message = str(info.value)
    assert "landing suite geo_populations_landing failed (ptot_not_below_pmun: 1 unexpected value(s)" in message
    assert "75000" in message and "quarantined:" in message

    # a commune code with a letter O for a zero: the COG file only has a column contract in Python
    text = (SNAPSHOT / COMMUNES_PATH.lstrip("/")).read_text("utf-8")
    assert text.count("COM,97209,") == 1
    faults = {COMMUNES_PATH: [Fault(200, body=text.replace("COM,97209,", "COM,972O9,").encode("utf-8"))]}
    with sources.serve(faults=faults) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972"), GeoSource())
    message = str(info.value)
    assert "landing suite geo_communes_landing failed (com_well_formed: 1 unexpected value(s) in column 'COM', " \
           "e.g. '972O9')" in message
    assert "quarantined:" in message
    # the files landed by the first run stay the latest
    with sources.serve() as server:
        latest = LandingZone(sources.settings(server, "972")).latest_by_name("geo")
    assert latest["populations.zip"].sha256 == hashlib.sha256(POPULATIONS_ZIP.read_bytes()).hexdigest()
    assert latest["communes.csv"].sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- zones d'emploi 2020 and BMO bassins ---------------------------------------------------------


def _drom_communes() -> dict[str, str]:
    with COG_COMMUNES.open(encoding="utf-8", newline="") as stream:
        return {r["COM"]: r["DEP"] for r in csv.DictReader(stream) if r["TYPECOM"] == "COM" and r["DEP"] in DROM}


def _bassin_rows(text: str) -> list[str]:
    """Commune codes of a bassins CSV as written (before any check), rebuilt like the reader does."""
    return [bassin_commune_code(r["codgeo"], r["dep"]) for r in csv.DictReader(io.StringIO(text))]


def test_every_drom_commune_is_in_exactly_one_zone_demploi_and_one_bassin() -> None:
    """On the real files of the snapshot: counted on the rows as published, so a commune missing or
    listed twice in either file fails here (the readers also refuse a duplicate outright)."""
    communes = _drom_communes()
    assert Counter(communes.values()) == {"971": 32, "972": 34, "973": 22, "974": 24, "976": 17}
    _, composition = read_zones_emploi(ZONES_ZIP)
    in_zones = Counter(str(r["codgeo"]) for r in composition)
    in_bassins = Counter(_bassin_rows(BASSINS_CSV.read_text("utf-8-sig")))
    assert {c: (in_zones[c], in_bassins[c]) for c in communes if (in_zones[c], in_bassins[c]) != (1, 1)} == {}

    zone_of = {str(r["codgeo"]): str(r["ze2020"]) for r in composition}
    assert {zone_of[c] for c in communes if communes[c] == "972"} == {f"020{n}" for n in range(1, 7)}
    bassin_of = {r["commune_code"]: r["basin_code"] for r in iter_bassins(BASSINS_CSV)}
    assert Counter(bassin_of[c] for c in communes if communes[c] == "972") == {
        "201": 4, "202": 10, "203": 12, "204": 8}
    assert Counter(bassin_of[c] for c in communes if communes[c] == "971") == {
        "101": 17, "102": 8, "103": 3, "105": 4}


def test_bassin_codes_against_the_bmo_2025_workbook() -> None:
    """Martinique's bassins are the survey's (201-204); Guadeloupe's Marie-Galante is 103 in the 2021
    table but 116 in BMO 2025 (and the Îles du Nord, no longer 971 communes, 102 against 113):
    the mismatch docs/sources.md and dim_territory describe."""
    rows = iter_sheet(BMO_2025, "BMO_2025_open_data")
    header = [str(h) for h in next(rows)]
    dept, bassin = header.index("Dept"), header.index("BE25")
    survey: dict[str, set[str]] = {"971": set(), "972": set()}
    for row in rows:
        if str(row[dept]) in survey:
            survey[str(row[dept])].add(str(row[bassin]).removesuffix(".0"))
    communes = _drom_communes()
    table: dict[str, set[str]] = {"971": set(), "972": set()}
    for row in iter_bassins(BASSINS_CSV):
        if communes.get(row["commune_code"]) in table:
            table[communes[row["commune_code"]]].add(row["basin_code"])
    assert table["972"] == survey["972"] == {"201", "202", "203", "204"}
    assert survey["971"] - table["971"] == {"113", "116"}
    assert table["971"] - survey["971"] == {"103"}


def test_bassin_commune_code_restores_the_lost_zeros() -> None:
    assert bassin_commune_code("1001", "1") == "01001"
    assert bassin_commune_code("97209", "97") == "97209"
    assert bassin_commune_code("2A004", "2A") == "2A004"
    assert bassin_commune_code("63113", "63") == "63113"
    with pytest.raises(ValueError, match="is not in département '97'"):
        bassin_commune_code("9720", "97")
    with pytest.raises(ValueError, match="malformed commune code '972'"):
        bassin_commune_code("972", "97")


def test_bassins_refuse_a_commune_listed_twice_and_a_bad_code(tmp_path: Path) -> None:
    header = "\ufeffreg,dep,codgeo,codbe,libbe\r\n"
    path = tmp_path / "bassins.csv"
    path.write_text(header + "2,97,97209,201,MARTINIQUE CENTRE\r\n1,1,1001,8405,BOURG\r\n"
                    "2,97,97209,202,MARTINIQUE NORD ATLANTIQUE\r\n", "utf-8")
    with pytest.raises(SourceError) as info:
        list(iter_bassins(path))
    assert str(info.value) == ("source 'geo': line 4: commune listed twice | file: "
                               "France_Travail_Bassin_Emploi_2021.csv | column: 'codgeo' | value: '97209'")
    path.write_text(header + "2,97,97209,2O1,MARTINIQUE CENTRE\r\n", "utf-8")
    with pytest.raises(SourceError, match="malformed bassin code"):
        list(iter_bassins(path))


def _zones_zip(tmp_path: Path, communes: list[tuple[str, str]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    zones = workbook.active
    zones.title = "ZE2020"
    zones.append(["Zones d'emploi 2020"])
    for _ in range(4):
        zones.append([])
    zones.append(["ZE2020", "LIBZE2020", "NB_COM"])
    zones.append(["0202", "Le Centre agglomération", 4])
    composition = workbook.create_sheet("Composition_communale")
    for _ in range(5):
        composition.append([])
    composition.append(["CODGEO", "LIBGEO", "ZE2020", "LIBZE2020", "ZE2020_PARTIE_REG", "DEP", "REG"])
    for code, zone in communes:
        composition.append([code, "Commune", zone, "Le Centre agglomération", None, "972", "02"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "ZE2020_au_01-01-2023.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ZE2020_au_01-01-2023.xlsx", buffer.getvalue())
    return path


def test_zones_emploi_refuse_a_commune_listed_twice_or_an_unknown_zone(tmp_path: Path) -> None:
    zones, composition = read_zones_emploi(_zones_zip(tmp_path, [("97209", "0202"), ("97213", "0202")]))
    assert (len(zones), [r["codgeo"] for r in composition]) == (1, ["97209", "97213"])
    with pytest.raises(SourceError) as info:
        read_zones_emploi(_zones_zip(tmp_path, [("97209", "0202"), ("97209", "0202")]))
    assert "commune listed twice" in str(info.value) and "value: '97209'" in str(info.value)
    with pytest.raises(SourceError, match="in a zone missing from the ZE2020 sheet"):
        read_zones_emploi(_zones_zip(tmp_path, [("97209", "0299")]))
