"""ROME 4.0 CSV export: the real v4.60 fiches file in the bundled zip, served by the replay server."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.errors import SourceError
from oref.landing import LandingZone
from oref.replay import Fault
from oref.sources.rome import RomeSource, check_occupations, extract_members, rome_version

ZIP = (SNAPSHOT / "static.data.gouv.fr" / "resources" / "repertoire-operationnel-des-metiers-et-des-emplois-rome"
       / "20250402-093000" / "refromecsv.zip")
DATASET_DIR = "www.data.gouv.fr/api/1/datasets/58da857388ee384902e505f5"


def test_real_v460_fiches(tmp_path: Path) -> None:
    files = extract_members(ZIP, tmp_path, file="RefRomeCsv.zip")
    assert files.version == "4.60"
    counts = check_occupations(files.occupations, file="x")
    # the real v4.60 file: 1 584 fiches, 170 tagged digital, rolled up on 532 V3 parents
    assert counts == {"rows": 1584, "digital_fiches": 170, "v3_parents": 532}


def test_new_v4_codes_roll_up_to_their_v3_parent(tmp_path: Path) -> None:
    files = extract_members(ZIP, tmp_path, file="RefRomeCsv.zip")
    con = duckdb.connect()
    rows = dict(con.execute(f"select code_rome, code_rome_parent from read_csv('{files.occupations}', "
                            "all_varchar=true) where code_rome in ('M1801', 'M1805', 'M1855', 'M1894')").fetchall())
    assert rows == {"M1801": "M1801", "M1805": "M1805", "M1855": "M1805", "M1894": "M1801"}
    assert rome_version("unix_referentiel_appellation_v461_utf8.csv") == "4.61"
    assert rome_version("unix_referentiel_code_rome_utf8.csv") is None


def test_fetch_and_load_for_972_and_971(sources: SourceHarness) -> None:
    with sources.serve() as server:
        for code in ("972", "971"):
            settings = sources.settings(server, code, data_dir=code, max_retries=0)
            result = sources.fetch(settings, RomeSource())
            assert result.status == "landed" and result.rows == 1584
            assert result.message == "ROME 4.60: 1584 fiches, 170 digital"
            counts, con = sources.load(settings, RomeSource())
            # the referential is national: the same rows whatever the territory
            assert counts == {"raw.rome_occupations": 1584, "raw.rome_appellations": 364}
            digital = con.execute("select count(*), count(distinct code_rome_parent) from raw.rome_occupations "
                                  "where transition_num = 'O'").fetchone()
            assert digital == (170, 43)
            assert con.execute("select distinct rome_version, _vintage from raw.rome_occupations").fetchall() == [
                ("4.60", "4.60")]
            # an empty quoted field is NULL, not ''
            assert con.execute("select count(*) from raw.rome_occupations where transition_num is null"
                               ).fetchone() == (222,)
        # the stable data.gouv.fr link was followed through its 302 to the static file
        assert any(p.endswith("/refromecsv.zip") for p in server.requests)
        # a second fetch of the same file is recognised as unchanged
        again = sources.fetch(sources.settings(server, "972", data_dir="972"), RomeSource(), run_id="run-2")
        assert again.status == "unchanged"


def test_parent_that_is_not_a_fiche_is_rejected_and_quarantined(sources: SourceHarness) -> None:
    snapshot = sources.tmp_path / "snap"
    shutil.copytree(SNAPSHOT / DATASET_DIR, snapshot / DATASET_DIR)
    target = snapshot / ZIP.relative_to(SNAPSHOT)
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(ZIP) as src:
        text = src.read("unix_referentiel_code_rome_v460_utf8.csv").decode()
    # the first fiche whose parent is M1805 now names a parent that is no fiche of the file
    broken = text.replace('"N","N","M1805"\n', '"N","N","M9999"\n', 1)
    assert broken != text
    with zipfile.ZipFile(target, "w") as dst:
        dst.writestr("unix_referentiel_code_rome_v460_utf8.csv", broken)
    with sources.serve(snapshot) as server:
        settings = sources.settings(server, "972", snapshot=snapshot, max_retries=0)
        with pytest.raises(SourceError) as excinfo:
            sources.fetch(settings, RomeSource())
    message = str(excinfo.value)
    assert message.startswith("source 'rome': parent code that is not a V3 fiche of the file (fiche M18")
    assert "file: RefRomeCsv.zip:unix_referentiel_code_rome_v460_utf8.csv" in message
    assert "column: 'code_rome_parent' | value: 'M9999'" in message
    assert "quarantined:" in message
    assert LandingZone(settings).latest("rome", "RefRomeCsv.zip") is None


def test_missing_column_names_it_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "unix_referentiel_code_rome_v460_utf8.csv"
    path.write_text('"code_rome","code_fiche_metier","code_ogr","libelle_rome","transition_eco",'
                    '"transition_demo","emploi_reglemente","emploi_cadre","code_rome_parent","transition_ia"\n'
                    '"M1805","567","494","Développeur","Emploi Blanc","N","N","O","M1805","O"\n', "utf-8")
    with pytest.raises(SourceError) as excinfo:
        check_occupations(path, file="RefRomeCsv.zip:unix_referentiel_code_rome_v460_utf8.csv")
    assert str(excinfo.value) == (
        "source 'rome': columns changed: missing ['transition_num']; new ['transition_ia'] | "
        "file: RefRomeCsv.zip:unix_referentiel_code_rome_v460_utf8.csv | column: 'transition_num'")


def test_landing_suite_passes_on_the_snapshot_and_blocks_a_malformed_ogr_code(sources: SourceHarness) -> None:
    with sources.serve() as server:
        assert sources.fetch(sources.settings(server, "972", data_dir="ok"), RomeSource()).status == "landed"
    gx = [c for c in sources.checks if c.engine == "gx"]
    assert len(gx) == 15 and {c.target for c in gx} == {"RefRomeCsv.zip:unix_referentiel_code_rome_v460_utf8.csv"}
    assert [c.check_name for c in sources.checks if c.status != "pass"] == []

    # a letter in an OGR code: no Python check looks at code_ogr, the GX suite does
    with zipfile.ZipFile(ZIP) as src:
        text = src.read("unix_referentiel_code_rome_v460_utf8.csv").decode()
    broken = text.replace('"A1201","19","7",', '"A1201","19","7x",', 1)
    assert broken != text
    body = sources.tmp_path / "refromecsv.zip"
    with zipfile.ZipFile(body, "w") as dst:
        dst.writestr("unix_referentiel_code_rome_v460_utf8.csv", broken)
    static_path = "/" + ZIP.relative_to(SNAPSHOT).as_posix()
    with sources.serve(faults={static_path: [Fault(200, body=body.read_bytes())]}) as server:
        settings = sources.settings(server, "972", data_dir="broken", max_retries=0)
        with pytest.raises(SourceError) as excinfo:
            sources.fetch(settings, RomeSource())
    message = str(excinfo.value)
    assert "landing suite rome_landing failed (code_ogr_well_formed:" in message
    assert "'7x'" in message and "quarantined:" in message
    assert LandingZone(settings).latest("rome", "RefRomeCsv.zip") is None
