"""URSSAF (wide years melted, blanks stay NULL), fetched from the replay server and loaded into DuckDB."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from oref_testing import SNAPSHOT, SourceHarness

from oref.config import Settings
from oref.errors import SourceError
from oref.replay import Fault
from oref.sources.urssaf import UrssafSource

URSSAF_CSV = (SNAPSHOT / "open.urssaf.fr" / "api" / "explore" / "v2.1" / "catalog" / "datasets"
              / "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last" / "exports" / "csv")


def _expected_urssaf(department: str, year: str) -> tuple[int, int, int]:
    """Independent computation from the snapshot CSV: (rows, establishments, blank headcount cells)."""
    with URSSAF_CSV.open(encoding="utf-8") as stream:
        rows = [r for r in csv.DictReader(stream, delimiter=";") if r["code_departement"] == department]
    est = sum(int(r[f"nombre_d_etablissements_{year}"]) for r in rows if r[f"nombre_d_etablissements_{year}"])
    blanks = sum(1 for r in rows if r[f"effectifs_salaries_{year}"] == "")
    return len(rows), est, blanks


@pytest.mark.parametrize(("territory", "peer"), [("972", "971"), ("971", "972")])
def test_urssaf_export_lands_the_territory_and_its_peers_melted_with_blanks_null(
        sources: SourceHarness, territory: str, peer: str) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, territory, max_retries=0)
        result = sources.fetch(settings, UrssafSource())
        assert result.status == "landed"
        _, con = sources.load(settings, UrssafSource())
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
    coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
    assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
    assert "no commune x APE rows for comparison département(s) 973, 974, 976" in coverage[0].message


def test_urssaf_without_comparison_lands_the_territory_only(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", comparison=Settings.from_env(
            {"OREF_COMPARISON": "none"}).comparison_departements)
        result = sources.fetch(settings, UrssafSource())
        _, con = sources.load(settings, UrssafSource())
    assert result.rows == _expected_urssaf("972", "2025")[0]
    assert result.files[0].endswith("commune_ape_972.csv")
    assert con.execute("select distinct code_departement from raw.urssaf_establishments").fetchall() == [("972",)]
    coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
    assert [(c.severity, c.status) for c in coverage] == [("warn", "pass")]


def test_urssaf_region_territory_filters_on_its_departements(sources: SourceHarness) -> None:
    with sources.serve() as server:
        result = sources.fetch(sources.settings(server, "reg:02"), UrssafSource())
    assert result.rows == _expected_urssaf("972", "2025")[0] + _expected_urssaf("971", "2025")[0]
    assert result.files[0].endswith("commune_ape_reg02+971-973-974-976.csv")


def test_urssaf_territory_without_rows_fails_but_peers_without_rows_only_warn(sources: SourceHarness) -> None:
    # Mayotte configured: the export holds its peers 971 and 972, not Mayotte itself
    with sources.serve() as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "976"), UrssafSource())
    assert str(info.value).startswith("source 'urssaf': the export has no rows for 976 | file: ")
    assert not (sources.tmp_path / "data" / "landing" / "urssaf").exists()


def test_urssaf_row_outside_the_scope_is_refused(sources: SourceHarness) -> None:
    lines = URSSAF_CSV.read_text("utf-8").splitlines()
    header = lines[0].split(";")
    cells = next(line.split(";") for line in lines[1:] if line.split(";")[header.index("code_departement")] == "972")
    cells[header.index("code_departement")] = "75"
    body = "\n".join([lines[0], ";".join(cells)]).encode("utf-8") + b"\n"
    served = "/" + str(URSSAF_CSV.relative_to(SNAPSHOT))
    with sources.serve(faults={served: [Fault(200, body=body)]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", max_retries=0), UrssafSource())
    assert "row outside the requested départements 972, 971, 973, 974, 976" in str(info.value)
    assert info.value.column == "code_departement" and info.value.value == "75"


def test_urssaf_negative_count_is_refused_naming_column_and_value(sources: SourceHarness) -> None:
    snapshot = sources.tmp_path / "snap"
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
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot, max_retries=0), UrssafSource())
    message = str(info.value)
    assert "non-numeric or negative count" in message
    assert "column: 'effectifs_salaries_2024'" in message and "value: '-3'" in message
    assert "quarantined:" in message


def test_urssaf_landing_suite_passes_on_the_snapshot_and_blocks_a_dotted_ape_code(sources: SourceHarness) -> None:
    with sources.serve() as server:
        assert sources.fetch(sources.settings(server, "972", data_dir="ok"), UrssafSource()).status == "landed"
    gx = [c for c in sources.checks if c.engine == "gx"]
    assert {"code_ape_well_formed", "commune_ape_unique", "headcount_not_negative"} <= {c.check_name for c in gx}
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # Sirene's dotted spelling of an APE code: numeric counts and the territory filter let it through
    snapshot = sources.tmp_path / "snap"
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
    with sources.serve(snapshot) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", snapshot=snapshot, data_dir="bad"), UrssafSource())
    message = str(info.value)
    assert "landing suite urssaf_landing failed (code_ape_well_formed:" in message
    assert f"'{ape[:2]}.{ape[2:]}'" in message and "quarantined:" in message
    assert not (sources.tmp_path / "bad" / "landing" / "urssaf").exists()
