"""Mon Compte Formation catalogue: the snapshot export, its quirks, a refused file, fetch + load of the scope."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.errors import SourceError
from oref.replay import Fault
from oref.sources.base import sql_literal
from oref.sources.mcf import COLUMNS, EXPORT_URL, McfSource
from oref.sources.tabular import check_csv_contract

EXPORT_REL = Path(EXPORT_URL.removeprefix("https://"))
EXPORT = SNAPSHOT / EXPORT_REL
RNCP_ZIP = (SNAPSHOT / "static.data.gouv.fr" / "resources"
            / "repertoire-national-des-certifications-professionnelles-et-repertoire-specifique"
            / "20260830-020002" / "export-fiches-csv-2026-08-30.zip")


def test_snapshot_export_has_the_declared_columns_and_offers_of_both_departements() -> None:
    header, rows = check_csv_contract(EXPORT, COLUMNS, delimiter=";", source="mcf", file="csv")
    assert header == COLUMNS
    assert rows == 502  # csv records, not lines: some texts break over several lines
    con = duckdb.connect()
    con.execute(f"create view f as select * from read_csv({sql_literal(EXPORT)}, delim=';', header=true, "
                "all_varchar=true, quote='\"', escape='\"', strict_mode=false)")
    by_dep = con.execute(
        "select code_departement, count(*), count(*) filter (where code_nsf_1 = '326'), "
        "count(*) filter (where code_nsf_1 = '326' and libelle_niveau_sortie_formation like 'Niveau 7%'), "
        "count(*) filter (where type_referentiel is null), "
        "count(*) filter (where nb_session_active = nb_session_a_distance and nb_session_active <> '0') "
        "from f group by 1 order by 1").fetchall()
    # (dep, offers, NSF 326, digital Bac+5, without certification, remote-only)
    # code_nsf_1 is the first of the certification's real NSF groups: 326 is often second (114 326, 320 326)
    assert by_dep == [("971", 264, 28, 2, 22, 2), ("972", 238, 25, 3, 15, 4)]


def test_certification_codes_are_bare_numbers_found_in_the_rncp_export(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(RNCP_ZIP) as archive:
        standard = archive.read("export_fiches_CSV_Standard_2026_08_30.csv")
    (tmp_path / "standard.csv").write_bytes(standard)
    con = duckdb.connect()
    con.execute(f"create view f as select * from read_csv({sql_literal(EXPORT)}, delim=';', header=true, "
                "all_varchar=true, quote='\"', escape='\"', strict_mode=false)")
    con.execute(f"create view s as select * from read_csv({sql_literal(tmp_path / 'standard.csv')}, delim=';', "
                "header=true, all_varchar=true, quote='\"', escape='\"', strict_mode=false)")
    assert con.execute("select count(*) from f where code_rncp like 'RNCP%' or code_inventaire like 'RS%'"
                       ).fetchone() == (0,)
    found = con.execute("select count(*), count(*) filter (where 'RNCP' || code_rncp in "
                        "(select Numero_Fiche from s)) from f where code_rncp is not null").fetchone()
    # four offers cite RNCP39999, absent from the snapshot's export: the staging join keeps them unmatched
    assert found == (347, 343)


def test_fetch_and_load_972_with_its_peers_then_971_alone_keep_html_and_multiline_text(
        sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972")
        result = sources.fetch(settings, McfSource())
        # Martinique's 238 offers and, for comparison, Guadeloupe's 264 (the other DROM have none)
        assert (result.status, result.rows) == ("landed", 502)
        assert result.message == "502 training offers (972: 238; peers 971: 264, 973: 0, 974: 0, 976: 0)"
        assert result.files[0].endswith("catalogue_formation_972+971-973-974-976.csv")
        coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
        assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
        again = sources.fetch(settings, McfSource(), run_id="run-2")
        assert again.status == "unchanged"
        # the warning is repeated from the manifest when nothing new lands
        assert [c.observed for c in sources.checks if c.check_name == "comparison_departements_present"] == [
            "973,974,976"]
        counts, con = sources.load(settings, McfSource())
        assert counts == {"raw.mcf_training_offers": 502}
        rows = con.execute(
            "select code_departement, min(code_region), max(_vintage), "
            "count(*) filter (where contenu_formation like '%&amp;%'), "
            "count(*) filter (where contenu_formation like '%' || chr(10) || '%') from raw.mcf_training_offers "
            "group by 1 order by 1"
        ).fetchall()
        # raw keeps the catalogue's HTML and line breaks (staging strips them); vintage = date_extract
        assert rows == [("971", "01", "2026-08-30", 264, 33), ("972", "02", "2026-08-30", 238, 33)]

        # OREF_COMPARISON=none: Guadeloupe alone, in its own logical file
        settings_971 = sources.settings(server, "971", comparison=(), data_dir="data-971")
        result_971 = sources.fetch(settings_971, McfSource())
        assert result_971.rows == 264 and result_971.files[0].endswith("catalogue_formation_971.csv")
        assert [(c.status, c.message) for c in sources.checks
                if c.check_name == "comparison_departements_present"] \
            == [("pass", "no comparison département configured (OREF_COMPARISON=none)")]
        counts, con = sources.load(settings_971, McfSource())
        assert counts == {"raw.mcf_training_offers": 264}
        assert con.execute("select distinct nom_departement from raw.mcf_training_offers").fetchall() == [
            ("Guadeloupe",)]


def test_renamed_column_is_refused_naming_it_and_the_file(sources: SourceHarness) -> None:
    snapshot = sources.snapshot_copy(EXPORT_REL)
    path = snapshot / EXPORT_REL
    text = path.read_text("utf-8")
    path.write_text(text.replace(";code_rncp;", ";code_rncp_v2;", 1), "utf-8")
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as excinfo:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot), McfSource())
    message = str(excinfo.value)
    assert message.startswith("source 'mcf': columns changed: missing ['code_rncp']; new ['code_rncp_v2']")
    assert "file: moncompteformation_catalogueformation.csv" in message
    assert "quarantined:" in message
    assert not (sources.tmp_path / "data" / "landing" / "mcf").exists()


def test_negative_price_is_refused_naming_offer_column_and_value(sources: SourceHarness) -> None:
    snapshot = sources.snapshot_copy(EXPORT_REL)
    path = snapshot / EXPORT_REL
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    header = rows[0]
    target = next(r for r in rows[1:] if r[header.index("code_departement")] == "972")
    offer = target[header.index("numero_formation")]
    target[header.index("frais_ttc_tot_min")] = "-150.0"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, delimiter=";", lineterminator="\n").writerows(rows)
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as excinfo:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot), McfSource())
    assert excinfo.value.column == "frais_ttc_tot_min" and excinfo.value.value == "-150.0"
    assert f"non-numeric or negative value for offer {offer}" in str(excinfo.value)


def test_429_then_success_lands_the_export(sources: SourceHarness) -> None:
    faults = {"/" + str(EXPORT_REL): [Fault(429, {"Retry-After": "0"})]}
    with sources.serve(faults=faults) as server:
        result = sources.fetch(sources.settings(server, "972", max_retries=2), McfSource())
        assert server.requests.count("/" + str(EXPORT_REL)) == 2
    assert (result.status, result.rows) == ("landed", 502)


def test_region_territory_filters_on_its_departements(sources: SourceHarness) -> None:
    with sources.serve() as server:
        alone = sources.fetch(sources.settings(server, "reg:01", comparison=(), data_dir="alone"), McfSource())
        with_peers = sources.fetch(sources.settings(server, "reg:01", data_dir="peers"), McfSource())
    # région 01 is Guadeloupe alone: the same 264 offers as the département export
    assert (alone.status, alone.rows) == ("landed", 264)
    assert alone.files[0].endswith("catalogue_formation_reg01.csv")
    # its own département (971) is not repeated among the peers
    assert with_peers.rows == 264 + 238
    assert with_peers.files[0].endswith("catalogue_formation_reg01+972-973-974-976.csv")


def test_territory_without_offers_fails_and_a_row_outside_the_scope_is_refused(sources: SourceHarness) -> None:
    with sources.serve() as server, pytest.raises(SourceError) as excinfo:
        sources.fetch(sources.settings(server, "973"), McfSource())
    assert str(excinfo.value).startswith("source 'mcf': the export has no rows for 973 | file: ")

    snapshot = sources.snapshot_copy(EXPORT_REL)
    path = snapshot / EXPORT_REL
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    header = rows[0]
    rows[1][header.index("code_departement")] = "75"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, delimiter=";", lineterminator="\n").writerows(rows)
    # the replay server honours the where filter: serve the edited file whole, as a broken export would
    body = path.read_bytes()
    with sources.serve(snapshot, faults={"/" + str(EXPORT_REL): [Fault(200, body=body)]}) as server, \
            pytest.raises(SourceError) as excinfo:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot, data_dir="outside"), McfSource())
    assert "row outside the requested départements 972, 971, 973, 974, 976" in str(excinfo.value)
    assert excinfo.value.column == "code_departement" and excinfo.value.value == "75"


def test_landing_suite_passes_on_the_snapshot_and_blocks_a_prefixed_rncp_code(sources: SourceHarness) -> None:
    with sources.serve() as server:
        result = sources.fetch(sources.settings(server, "972"), McfSource())
    assert result.status == "landed"
    gx = [c for c in sources.checks if c.engine == "gx"]
    assert {"code_rncp_bare_number", "offer_unique_per_departement", "fees_min_not_above_max"} <= {
        c.check_name for c in gx}
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # the RNCP export's prefixed spelling: the staging join would then build 'RNCPRNCP37674'
    snapshot = sources.snapshot_copy(EXPORT_REL)
    path = snapshot / EXPORT_REL
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    header = rows[0]
    target = next(r for r in rows[1:] if r[header.index("code_departement")] == "972"
                  and r[header.index("code_rncp")])
    code = "RNCP" + target[header.index("code_rncp")]
    target[header.index("code_rncp")] = code
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, delimiter=";", lineterminator="\n").writerows(rows)
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as excinfo:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot, data_dir="bad"), McfSource())
    message = str(excinfo.value)
    assert "landing suite mcf_landing failed (code_rncp_bare_number:" in message
    assert f"'{code}'" in message and "quarantined:" in message
    assert not (sources.tmp_path / "bad" / "landing" / "mcf").exists()
