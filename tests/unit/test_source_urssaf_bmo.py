"""URSSAF (wide years melted, blanks stay NULL) and BMO (every year the dataset lists, zipped or not,
with drifting headers), fetched from the replay server and loaded into DuckDB."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from oref.config import DEFAULT_COMPARISON, Settings, Territory
from oref.errors import SourceError
from oref.http import HttpClient
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.replay import Fault, ReplayServer
from oref.sources.base import FetchContext, FetchResult, Source
from oref.sources.bmo import BmoSource
from oref.sources.urssaf import UrssafSource

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "data" / "snapshot"
URSSAF_CSV = (SNAPSHOT / "open.urssaf.fr" / "api" / "explore" / "v2.1" / "catalog" / "datasets"
              / "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last" / "exports" / "csv")
BMO_DATASET = SNAPSHOT / "www.data.gouv.fr" / "api" / "1" / "datasets" / "561fa564c751df4f2acdbb48" / "index.json"


def _settings(tmp_path: Path, server: ReplayServer, territory: str = "972", snapshot: Path = SNAPSHOT,
              comparison: tuple[str, ...] = DEFAULT_COMPARISON) -> Settings:
    return Settings(territory=Territory.parse(territory), comparison_departements=comparison,
                    data_dir=tmp_path / "data", source_mode="snapshot", replay_url=server.base_url,
                    snapshot_dir=snapshot, max_retries=0, backoff_base=0.01)


def _fetch(settings: Settings, source: Source, checks: list[CheckResult] | None = None) -> FetchResult:
    with HttpClient(settings) as http:
        ctx = FetchContext(settings, http, LandingZone(settings), "run-1")
        try:
            return source.fetch(ctx)
        finally:
            if checks is not None:
                checks.extend(ctx.checks)


def _load(settings: Settings, source: Source) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    source.load(con, settings, LandingZone(settings), "run-1")
    return con


def _expected_urssaf(department: str, year: str) -> tuple[int, int, int]:
    """Independent computation from the snapshot CSV: (rows, establishments, blank headcount cells)."""
    with URSSAF_CSV.open(encoding="utf-8") as stream:
        rows = [r for r in csv.DictReader(stream, delimiter=";") if r["code_departement"] == department]
    est = sum(int(r[f"nombre_d_etablissements_{year}"]) for r in rows if r[f"nombre_d_etablissements_{year}"])
    blanks = sum(1 for r in rows if r[f"effectifs_salaries_{year}"] == "")
    return len(rows), est, blanks


@pytest.mark.parametrize(("territory", "peer"), [("972", "971"), ("971", "972")])
def test_urssaf_export_lands_the_territory_and_its_peers_melted_with_blanks_null(
        tmp_path: Path, territory: str, peer: str) -> None:
    checks: list[CheckResult] = []
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path, server, territory)
        result = _fetch(settings, UrssafSource(), checks)
        assert result.status == "landed"
        con = _load(settings, UrssafSource())
    own, peer_rows = _expected_urssaf(territory, "2025"), _expected_urssaf(peer, "2025")
    assert result.rows == own[0] + peer_rows[0]
    assert result.files[0].endswith(f"commune_ape_{territory}+{peer}-973-974-976.csv")
    # one export for the whole scope, territory first
    request = json.loads(Path(result.files[0] + ".manifest.json").read_text("utf-8"))["request"]
    assert f'where=code_departement in ("{territory}", "{peer}", "973", "974", "976")' in request
    # 20 yearly columns per wide row: 2006..2025
    by_dep = dict(con.execute("select code_departement, count(*) from raw.urssaf_establishments group by 1"
                              ).fetchall())
    assert by_dep == {territory: own[0] * 20, peer: peer_rows[0] * 20}
    for department, (_, establishments, blank_headcount) in ((territory, own), (peer, peer_rows)):
        got = con.execute("select sum(establishments), count(*) filter (where headcount is null) "
                          "from raw.urssaf_establishments where year = 2025 and code_departement = ?",
                          [department]).fetchone()
        assert got == (establishments, blank_headcount)
        assert blank_headcount > 0  # blanks exist and were not turned into 0
    # the snapshot has no row for the other DROM: a warning naming them, not an error
    coverage = [c for c in checks if c.check_name == "comparison_departements_present"]
    assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
    assert "no commune x APE rows for comparison département(s) 973, 974, 976" in coverage[0].message


def test_urssaf_without_comparison_lands_the_territory_only(tmp_path: Path) -> None:
    checks: list[CheckResult] = []
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path, server, "972", comparison=Settings.from_env(
            {"OREF_COMPARISON": "none"}).comparison_departements)
        result = _fetch(settings, UrssafSource(), checks)
        con = _load(settings, UrssafSource())
    assert result.rows == _expected_urssaf("972", "2025")[0]
    assert result.files[0].endswith("commune_ape_972.csv")
    assert con.execute("select distinct code_departement from raw.urssaf_establishments").fetchall() == [("972",)]
    coverage = [c for c in checks if c.check_name == "comparison_departements_present"]
    assert [(c.severity, c.status) for c in coverage] == [("warn", "pass")]


def test_urssaf_region_territory_filters_on_its_departements(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path, server, "reg:02")
        result = _fetch(settings, UrssafSource())
    assert result.rows == _expected_urssaf("972", "2025")[0] + _expected_urssaf("971", "2025")[0]
    assert result.files[0].endswith("commune_ape_reg02+971-973-974-976.csv")


def test_urssaf_territory_without_rows_fails_but_peers_without_rows_only_warn(tmp_path: Path) -> None:
    # Mayotte configured: the export holds its peers 971 and 972, not Mayotte itself
    with ReplayServer(SNAPSHOT) as server, pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path, server, "976"), UrssafSource())
    assert str(info.value).startswith("source 'urssaf': the export has no rows for 976 | file: ")
    assert not (tmp_path / "data" / "landing" / "urssaf").exists()


def test_urssaf_row_outside_the_scope_is_refused(tmp_path: Path) -> None:
    lines = URSSAF_CSV.read_text("utf-8").splitlines()
    header = lines[0].split(";")
    cells = next(line.split(";") for line in lines[1:] if line.split(";")[header.index("code_departement")] == "972")
    cells[header.index("code_departement")] = "75"
    body = "\n".join([lines[0], ";".join(cells)]).encode("utf-8") + b"\n"
    served = "/" + str(URSSAF_CSV.relative_to(SNAPSHOT))
    with ReplayServer(SNAPSHOT, faults={served: [Fault(200, body=body)]}) as server, \
            pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path, server), UrssafSource())
    assert "row outside the requested départements 972, 971, 973, 974, 976" in str(info.value)
    assert info.value.column == "code_departement" and info.value.value == "75"


def test_urssaf_negative_count_is_refused_naming_column_and_value(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    shutil.copytree(SNAPSHOT / "open.urssaf.fr", snapshot / "open.urssaf.fr")
    target = snapshot / URSSAF_CSV.relative_to(SNAPSHOT)
    text = target.read_text("utf-8").splitlines()
    header = text[0].split(";")
    column = header.index("effectifs_salaries_2024")
    for i, line in enumerate(text[1:], 1):
        cells = line.split(";")
        if cells[header.index("code_departement")] == "972" and cells[column]:
            cells[column] = "-3"
            text[i] = ";".join(cells)
            break
    target.write_text("\n".join(text) + "\n", "utf-8")
    with ReplayServer(snapshot) as server, pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path, server, snapshot=snapshot), UrssafSource())
    message = str(info.value)
    assert "non-numeric or negative count" in message
    assert "column: 'effectifs_salaries_2024'" in message and "value: '-3'" in message
    assert "quarantined:" in message


def _older_vintage_zip(path: Path) -> None:
    """A 2019-style BMO workbook, zipped: other header spellings, BE19, FAP2009-era codes."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BMO_2019_open_data"
    sheet.append(["annee", "code métier BMO", "nom_metier BMO", "Famille_metier", "Libellé de famille de métier",
                  "REG", "NOM_REG", "Dept", "NomDept", "BE19", "NOMBE19", "met", "xmet", "smet"])
    sheet.append([2019, "M2Z90", "Ingénieurs informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 201, "MARTINIQUE CENTRE", "25", "12", "*"])
    sheet.append([2019, "M1Z80", "Techniciens informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 203, "MARTINIQUE SUD", "*", "*", "*"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Base_open_data_BMO_2019.xlsx", buffer.getvalue())


def test_bmo_lands_every_listed_year_zipped_or_not(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    for host in ("www.data.gouv.fr", "static.data.gouv.fr"):
        shutil.copytree(SNAPSHOT / host, snapshot / host)
    zip_path = snapshot / "static.data.gouv.fr" / "resources" / "bmo" / "bmo_2019.zip"
    zip_path.parent.mkdir(parents=True)
    _older_vintage_zip(zip_path)
    document = json.loads(BMO_DATASET.read_text("utf-8"))
    document["resources"].append({"id": "0000-2019", "title": "Base open data BMO 2019", "format": "zip",
                                  "url": "https://static.data.gouv.fr/resources/bmo/bmo_2019.zip"})
    (snapshot / BMO_DATASET.relative_to(SNAPSHOT)).write_text(json.dumps(document), "utf-8")
    with ReplayServer(snapshot) as server:
        settings = _settings(tmp_path, server, snapshot=snapshot)
        result = _fetch(settings, BmoSource())
        con = _load(settings, BmoSource())
    assert result.status == "landed" and result.rows == 52_776 + 2  # the national 2025 workbook + the 2019 one
    by_year = dict(con.execute("select survey_year, nomenclature_version || '/' || basin_column "
                               "from raw.bmo_recruitment_needs group by all").fetchall())
    assert by_year == {2019: "FAP2009/BE19", 2025: "FAP2021/BE25"}
    # the secret mark stays text in raw; staging turns it into NULL + a flag
    assert con.execute("select met from raw.bmo_recruitment_needs where survey_year = 2019 "
                       "and basin_code = '203'").fetchone() == ("*",)


def test_urssaf_landing_suite_passes_on_the_snapshot_and_blocks_a_dotted_ape_code(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path / "ok", server)
        with HttpClient(settings) as http:
            ctx = FetchContext(settings, http, LandingZone(settings), "run-1")
            assert UrssafSource().fetch(ctx).status == "landed"
    gx = [c for c in ctx.checks if c.engine == "gx"]
    assert {"code_ape_well_formed", "commune_ape_unique", "headcount_not_negative"} <= {c.check_name for c in gx}
    assert all(c.status == "pass" for c in ctx.checks if c.severity == "error")
    assert not [c for c in ctx.checks if c.blocking]

    # Sirene's dotted spelling of an APE code: numeric counts and the territory filter let it through
    snapshot = tmp_path / "snap"
    shutil.copytree(SNAPSHOT / "open.urssaf.fr", snapshot / "open.urssaf.fr")
    target = snapshot / URSSAF_CSV.relative_to(SNAPSHOT)
    text = target.read_text("utf-8").splitlines()
    header = text[0].split(";")
    for i, line in enumerate(text[1:], 1):
        cells = line.split(";")
        if cells[header.index("code_departement")] == "972":
            ape = cells[header.index("code_ape")]
            cells[header.index("code_ape")] = f"{ape[:2]}.{ape[2:]}"
            text[i] = ";".join(cells)
            break
    target.write_text("\n".join(text) + "\n", "utf-8")
    with ReplayServer(snapshot) as server, pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path / "bad", server, snapshot=snapshot), UrssafSource())
    message = str(info.value)
    assert "landing suite urssaf_landing failed (code_ape_well_formed:" in message
    assert f"'{ape[:2]}.{ape[2:]}'" in message and "quarantined:" in message
    assert not (tmp_path / "bad" / "data" / "landing" / "urssaf").exists()
