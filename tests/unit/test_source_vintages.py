"""Vintage guards across sources: a publisher serving an older data vintage, at the same URL or at a
new one, lands it (the landing zone keeps everything) but the build keeps reading the newer one, with a
``warn`` check ``older_vintage_not_used`` naming source, file and both vintages. Also: a new optional
column is a warning, a missing one an error naming it; an all-secret BMO file is refused."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from oref_testing import SNAPSHOT, SourceHarness, small_bmo_workbook

from oref.errors import SourceError
from oref.landing import LandingZone
from oref.sources.arcep import ArcepSource
from oref.sources.base import OLDER_VINTAGE_CHECK, Source
from oref.sources.bmo import BmoSource
from oref.sources.mcf import McfSource
from oref.sources.rncp import RncpSource
from oref.sources.urssaf import UrssafSource

DATAGOUV = Path("www.data.gouv.fr/api/1/datasets")
BMO_INDEX = DATAGOUV / "561fa564c751df4f2acdbb48" / "index.json"
BMO_XLSX = Path("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20250423-101500/"
                "base_open_data_bmo_2025.xlsx")
ARCEP_INDEX = DATAGOUV / "le-marche-du-haut-et-tres-haut-debit-fixe-deploiements" / "index.json"
ARCEP_XLSX = Path("static.data.gouv.fr/resources/le-marche-du-haut-et-tres-haut-debit-fixe-deploiements/"
                  "20260312-143000/2025t4-obs-hd-thd-deploiement-vf.xlsx")
RNCP_SLUG = "repertoire-national-des-certifications-professionnelles-et-repertoire-specifique"
RNCP_INDEX = DATAGOUV / RNCP_SLUG / "index.json"
RNCP_ZIP = Path(f"static.data.gouv.fr/resources/{RNCP_SLUG}/20260830-020002/export-fiches-csv-2026-08-30.zip")
URSSAF_CSV = Path("open.urssaf.fr/api/explore/v2.1/catalog/datasets/"
                  "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last/exports/csv")
MCF_CSV = Path("opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/moncompteformation_catalogueformation/"
               "exports/csv")


# --- mutations of the snapshot ---------------------------------------------------------------------
def bmo_workbook(path: Path, year: int, *, met: str = "25") -> None:
    """A small BMO workbook of ``year`` (FAP2021 codes; Martinique and Guadeloupe rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(small_bmo_workbook(year, met))


def bmo_snapshot(root: Path, year: int, *, met: str = "25", new_url: bool = False) -> Path:
    """The BMO dataset document and a small workbook of data ``year`` under the 2025 title."""
    (root / BMO_INDEX).parent.mkdir(parents=True, exist_ok=True)
    document = json.loads((SNAPSHOT / BMO_INDEX).read_text("utf-8"))
    # the 2025 resource alone (the bundled document also lists the real 2024 workbook)
    document["resources"] = [r for r in document["resources"] if r["title"].endswith("2025")]
    target = BMO_XLSX
    if new_url:
        target = Path("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20261001-090000/"
                      "base_open_data_bmo_2025_v2.xlsx")
        document["resources"] = [{"id": "bmo-2025-v2", "title": "Base open data BMO 2025 (mise à jour)",
                                  "format": "xlsx", "url": f"https://{target}"}]
    (root / BMO_INDEX).write_text(json.dumps(document), "utf-8")
    bmo_workbook(root / target, year, met=met)
    return root


def urssaf_snapshot(root: Path, *, drop_year: str | None = None, add_column: str | None = None) -> Path:
    lines = list(csv.reader(io.StringIO((SNAPSHOT / URSSAF_CSV).read_text("utf-8-sig")), delimiter=";"))
    keep = [i for i, h in enumerate(lines[0]) if not (drop_year and h.endswith(f"_{drop_year}"))]
    rows = [[cells[i] for i in keep] for cells in lines]
    if add_column:
        rows = [[*r, add_column if n == 0 else "1"] for n, r in enumerate(rows)]
    (root / URSSAF_CSV).parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    (root / URSSAF_CSV).write_text(out.getvalue(), "utf-8")
    meta = Path(f"{URSSAF_CSV.parent.parent}.json")
    shutil.copy(SNAPSHOT / meta, root / meta)
    return root


def arcep_snapshot(root: Path, *, new_url: bool = False) -> Path:
    """The ARCEP workbook without its last quarter (T4 2025): data of 2025-T3."""
    (root / ARCEP_INDEX).parent.mkdir(parents=True, exist_ok=True)
    document = json.loads((SNAPSHOT / ARCEP_INDEX).read_text("utf-8"))
    target = ARCEP_XLSX
    if new_url:
        target = ARCEP_XLSX.with_name("2025t3-obs-hd-thd-deploiement-vf.xlsx")
        document["resources"] = [{"id": "arcep-t3", "title": target.name, "format": "xlsx",
                                  "url": f"https://{target}"}]
    (root / ARCEP_INDEX).write_text(json.dumps(document), "utf-8")
    book = openpyxl.load_workbook(SNAPSHOT / ARCEP_XLSX)
    sheet = book["Communes"]
    sheet.delete_cols(sheet.max_column)
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    book.save(root / target)
    return root


def rncp_snapshot(root: Path, *, new_url: bool = False) -> Path:
    """The RNCP export whose members are dated 2026-08-29 (an older export), at the same or a new URL."""
    (root / RNCP_INDEX).parent.mkdir(parents=True, exist_ok=True)
    document = json.loads((SNAPSHOT / RNCP_INDEX).read_text("utf-8"))
    target = RNCP_ZIP
    if new_url:
        target = Path(str(RNCP_ZIP).replace("20260830-020002", "20260829-020002").replace("08-30", "08-29"))
        document["resources"] = [r for r in document["resources"] if "2026-08-30" not in r["title"]]
    (root / RNCP_INDEX).write_text(json.dumps(document), "utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(SNAPSHOT / RNCP_ZIP) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename.replace("2026_08_30", "2026_08_29"), source.read(info))
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    (root / target).write_bytes(buffer.getvalue())
    return root


# --- the guard -------------------------------------------------------------------------------------
def _older_vintage(sources: SourceHarness, source: Source, good: Path, older: Path, name: str,
                   vintages: tuple[str, str], **changes: object) -> None:
    with sources.serve(good) as server:
        settings = sources.settings(server, "972", snapshot=good, **changes)
        first = sources.fetch(settings, source)
    assert first.status == "landed"
    with sources.serve(older) as server:
        settings = sources.settings(server, "972", snapshot=older, **changes)
        second = sources.fetch(settings, source, run_id="run-2")
    newer, old = vintages
    assert second.status == "unchanged" and second.files == first.files
    warned = [c for c in sources.checks if c.check_name == OLDER_VINTAGE_CHECK]
    assert [(c.source, c.severity, c.status, c.observed, c.target) for c in warned] == [
        (source.name, "warn", "fail", old, name)]
    assert f"serves data vintage {old} of {name}, older than the vintage {newer} already landed" in warned[0].message
    landing = LandingZone(settings)
    kept = landing.files(source.name, name)
    assert [f.data_vintage for f in kept] == [newer, old]  # kept...
    assert landing.latest(source.name, name).data_vintage == newer  # ...but not used
    # served again next month: not landed twice, still named
    with sources.serve(older) as server:
        third = sources.fetch(sources.settings(server, "972", snapshot=older, **changes), source, run_id="run-3")
    assert third.status == "unchanged" and len(LandingZone(settings).files(source.name, name)) == 2
    assert [c.check_name for c in sources.checks].count(OLDER_VINTAGE_CHECK) == 1


@pytest.mark.parametrize("new_url", [False, True], ids=["same-url", "new-url"])
def test_bmo_older_survey_year_is_kept_not_used(sources: SourceHarness, new_url: bool) -> None:
    good = bmo_snapshot(sources.tmp_path / "good", 2025)
    older = bmo_snapshot(sources.tmp_path / "older", 2024, new_url=new_url)
    _older_vintage(sources, BmoSource(), good, older, "bmo_2025.xlsx", ("2025", "2024"))


@pytest.mark.parametrize("new_url", [False, True], ids=["same-url", "new-url"])
def test_arcep_older_quarter_is_kept_not_used(sources: SourceHarness, new_url: bool) -> None:
    good = sources.snapshot_copy(ARCEP_INDEX, ARCEP_XLSX)
    older = arcep_snapshot(sources.tmp_path / "older", new_url=new_url)
    _older_vintage(sources, ArcepSource(), good, older, "obs_hd_thd_deploiement.xlsx", ("2025-T4", "2025-T3"))


@pytest.mark.parametrize("new_url", [False, True], ids=["same-url", "new-url"])
def test_rncp_older_export_is_kept_not_used(sources: SourceHarness, new_url: bool) -> None:
    good = sources.snapshot_copy(RNCP_INDEX, RNCP_ZIP)
    older = rncp_snapshot(sources.tmp_path / "older", new_url=new_url)
    _older_vintage(sources, RncpSource(), good, older, "export_fiches_csv.zip", ("2026-08-30", "2026-08-29"))


@pytest.mark.parametrize("new_url", [False, True], ids=["same-url", "new-url"])
def test_urssaf_older_year_is_kept_not_used(sources: SourceHarness, new_url: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    good = urssaf_snapshot(sources.tmp_path / "good")
    older = urssaf_snapshot(sources.tmp_path / "older", drop_year="2025")
    if new_url:  # the dataset moved: the same file served under another dataset id
        import oref.sources.urssaf as urssaf

        moved = Path(str(URSSAF_CSV).replace("commune-x-ape-last", "commune-x-ape-v2"))
        (older / moved).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(older / URSSAF_CSV, older / moved)
        original = urssaf.EXPORT_URL
        with sources.serve(good) as server:
            assert sources.fetch(sources.settings(server, "972", snapshot=good), UrssafSource()).status == "landed"
        monkeypatch.setattr(urssaf, "EXPORT_URL", original.replace("commune-x-ape-last", "commune-x-ape-v2"))
        with sources.serve(older) as server:
            second = sources.fetch(sources.settings(server, "972", snapshot=older), UrssafSource(), run_id="r2")
        assert second.status == "unchanged"
        assert [(c.check_name, c.observed) for c in sources.checks if c.check_name == OLDER_VINTAGE_CHECK] == [
            (OLDER_VINTAGE_CHECK, "2024")]
        assert "commune-x-ape-v2/exports/csv serves data vintage 2024" in sources.checks[-1].message or any(
            "commune-x-ape-v2" in c.message for c in sources.checks if c.check_name == OLDER_VINTAGE_CHECK)
        return
    _older_vintage(sources, UrssafSource(), good, older, "commune_ape_972+971-973-974-976.csv", ("2025", "2024"))


# --- columns ---------------------------------------------------------------------------------------
def test_urssaf_new_column_is_a_warning_and_the_file_lands(sources: SourceHarness) -> None:
    snapshot = urssaf_snapshot(sources.tmp_path / "snap", add_column="taux_de_croissance")
    with sources.serve(snapshot) as server:
        settings = sources.settings(server, "972", snapshot=snapshot)
        assert sources.fetch(settings, UrssafSource()).status == "landed"
        tables, _ = sources.load(settings, UrssafSource())
    warned = [c for c in sources.checks if c.check_name == "no_unexpected_columns"]
    assert [(c.severity, c.status, c.observed) for c in warned] == [("warn", "fail", "taux_de_croissance")]
    assert "new column(s) ['taux_de_croissance']" in warned[0].message
    assert tables["raw.urssaf_establishments"] > 0


def test_mcf_missing_column_is_an_error_naming_it(sources: SourceHarness) -> None:
    snapshot = sources.snapshot_copy(MCF_CSV)
    text = (snapshot / MCF_CSV).read_text("utf-8")
    (snapshot / MCF_CSV).write_text(text.replace(";intitule_formation;", ";titre_formation;", 1), "utf-8")
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot), McfSource())
    assert str(info.value).startswith("source 'mcf': columns changed: missing ['intitule_formation']; "
                                      "new ['titre_formation']")
    assert "column: 'intitule_formation'" in str(info.value)


# --- an all-secret file ----------------------------------------------------------------------------
def test_bmo_all_secret_for_the_territory_is_refused_naming_file_and_column(sources: SourceHarness) -> None:
    snapshot = bmo_snapshot(sources.tmp_path / "secret", 2025, met="*")
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot), BmoSource())
    message = str(info.value)
    assert message.startswith("source 'bmo': all 2 rows of 972 are secret")
    assert "file: base_open_data_bmo_2025.xlsx" in message and "column: 'met'" in message
    assert not (sources.tmp_path / "data" / "landing" / "bmo").exists()


def test_bmo_whose_digital_rows_alone_are_secret_lands(sources: SourceHarness) -> None:
    # a small territory: every digital cell secret, but the file has other figures for it
    snapshot = bmo_snapshot(sources.tmp_path / "digital-secret", 2025, met="*")
    book = openpyxl.load_workbook(snapshot / BMO_XLSX)
    book.active.append([2025, "A0Z40", "Agriculteurs", "A", "Agriculture", "02", "Martinique", "972", "x", 201,
                        "B", "40", "10", "5"])
    book.save(snapshot / BMO_XLSX)
    with sources.serve(snapshot) as server:
        result = sources.fetch(sources.settings(server, "972", snapshot=snapshot), BmoSource())
    assert result.status == "landed" and result.rows == 4
