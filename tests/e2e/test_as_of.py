"""As-of rebuilds: the files landed up to a date, nothing landed after it.

The landing zone holds the BMO 2024 workbook, landed in March 2025, and the 2025 one (the bundled
snapshot's), landed today. A build as of 2025-06-30 reads the 2024 vintage only; a current build
reads both. The build's as-of limit reaches every source's ``load`` through ``LandingZone``, and
``quality.runs.as_of`` records it.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import openpyxl
from oref_testing import SNAPSHOT, oref

from oref.config import Settings
from oref.landing import LandingZone, utc_stamp
from oref.pipeline import source_states
from oref.quality.store import landed_files, schema_of
from oref.sources.bmo import BmoSource

BMO_2025 = (SNAPSHOT / "static.data.gouv.fr" / "resources" / "enquete-besoins-en-main-doeuvre-bmo" / "20250423-101500"
            / "base_open_data_bmo_2025.xlsx")
AS_OF = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def _bmo_2024() -> bytes:
    """A small BMO 2024 workbook: two Martinique rows, FAP2021 codes, bassins BE24."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BMO_2024_open_data"
    sheet.append(["annee", "code métier BMO", "nom_metier BMO", "Famille_metier", "Libellé de famille de métier",
                  "REG", "NOM_REG", "Dept", "NomDept", "BE24", "NOMBE24", "met", "xmet", "smet"])
    sheet.append([2024, "M2X90", "Ingénieurs informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 201, "MARTINIQUE CENTRE", "31", "12", "*"])
    sheet.append([2024, "M1X80", "Techniciens informatique", "M", "Informatique", "02", "Martinique", "972",
                  "Martinique", 203, "MARTINIQUE SUD", "*", "*", "*"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _land(settings: Settings, name: str, content: bytes, fetched_at: datetime, survey_year: int, rows: int) -> None:
    """A BMO file as a fetch at ``fetched_at`` leaves it: the file and its manifest (see LandingZone.land)."""
    directory = settings.landing_dir / "bmo" / utc_stamp(fetched_at)
    directory.mkdir(parents=True)
    (directory / name).write_bytes(content)
    manifest = {"source": "bmo", "name": name, "url": f"https://static.data.gouv.fr/{name}",
                "fetched_at": fetched_at.isoformat(timespec="seconds"), "vintage": directory.name,
                "data_vintage": str(survey_year), "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(), "rows": rows, "run_id": "test",
                "survey_year": survey_year, "basin_column": f"BE{survey_year % 100}"}
    (directory / f"{name}.manifest.json").write_text(json.dumps(manifest), "utf-8")


def _years(settings: Settings, landing: LandingZone) -> dict[int, int]:
    con = duckdb.connect()
    try:
        con.execute("create schema raw")
        BmoSource().load(con, settings, landing, "as-of-test")
        return dict(con.execute("select survey_year, count(*) from raw.bmo_recruitment_needs group by all").fetchall())
    finally:
        con.close()


def test_a_build_as_of_a_date_before_the_2025_bmo_landed_reads_the_2024_vintage(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", source_mode="snapshot")
    _land(settings, "bmo_2024.xlsx", _bmo_2024(), datetime(2025, 3, 15, 5, 0, tzinfo=UTC), 2024, 2)
    _land(settings, "bmo_2025.xlsx", BMO_2025.read_bytes(), datetime.now(UTC), 2025, 52_776)

    assert _years(settings, LandingZone(settings, as_of=AS_OF)) == {2024: 2}
    assert _years(settings, LandingZone(settings)) == {2024: 2, 2025: 52_776}
    # what the run records: the files used, and the source's newest vintage
    assert [(f.name, f.data_vintage) for f in landed_files(settings, as_of=AS_OF) if f.source == "bmo"] == [
        ("bmo_2024.xlsx", "2024")]
    [bmo] = [s for s in source_states(settings, "as-of-test", {}, as_of=AS_OF) if s.source == "bmo"]
    assert (bmo.status, bmo.data_vintage, bmo.rows, bmo.files) == ("skipped", "2024", 2, 1)
    assert bmo.landed_at == "2025-03-15T05:00:00+00:00" and "as-of rebuild" in bmo.message
    [now] = [s for s in source_states(settings, "now", {}) if s.source == "bmo"]
    assert (now.data_vintage, now.rows, now.files) == ("2025", 52_778, 2)


def test_oref_build_as_of_records_its_date_and_names_what_is_missing(tmp_path: Path) -> None:
    """Through the command: a build as of a day nothing had landed yet fails naming the source, and is recorded."""
    data_dir = tmp_path / "data"
    run = oref(data_dir, "build", "--as-of", "2025-06-30", "--run-id", "asof-1")
    assert run.returncode == 1, run.output
    assert "[as-of] building from the files landed up to 2025-06-30T23:59:59+00:00" in run.output
    assert "oref build: build: source 'geo'" in run.output and "nothing landed" in run.output
    assert "Traceback" not in run.output and "verdict: failed" in run.output
    settings = Settings(data_dir=data_dir, source_mode="snapshot")
    con = duckdb.connect(str(settings.quality_path), read_only=True)
    try:
        row = con.execute(f"select status, as_of::varchar from {schema_of(con)}.runs "
                          "where run_id = 'asof-1'").fetchone()
    finally:
        con.close()
    assert row == ("failed", "2025-06-30 23:59:59")


def test_oref_run_as_of_does_not_fetch(tmp_path: Path) -> None:
    run = oref(tmp_path / "data", "run", "--as-of", "2025-06-30", "--run-id", "asof-run")
    assert run.returncode == 1, run.output
    assert "[fetch" not in run.output and "replay server" not in run.output  # nothing asked of any source
    assert "build: source 'geo'" in run.output and "nothing landed" in run.output
    assert "verdict: failed" in run.output and "Traceback" not in run.output


def test_refresh_names_only_known_sources(tmp_path: Path) -> None:
    run = oref(tmp_path / "data", "fetch", "geo", "--refresh", "ofers")
    assert run.returncode == 1
    assert "oref fetch: unknown source(s): ofers; known: " in run.output and "offers" in run.output
