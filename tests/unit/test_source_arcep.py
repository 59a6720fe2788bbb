"""ARCEP FttH workbook: parsing the snapshot workbook, decimal commas, header contract, fetch + load."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from oref_testing import SNAPSHOT, SourceHarness

from oref.errors import SourceError
from oref.quality.checks import CheckResult
from oref.replay import Fault
from oref.sources.arcep import ArcepSource, parse_decimal, quarter_of_file, read_communes

WORKBOOK = (SNAPSHOT / "static.data.gouv.fr" / "resources" / "le-marche-du-haut-et-tres-haut-debit-fixe-deploiements"
            / "20260312-143000" / "2025t4-obs-hd-thd-deploiement-vf.xlsx")


def test_martinique_totals_match_arcep() -> None:
    mtq = [(s, dict(q)) for s, q in read_communes(WORKBOOK, file=WORKBOOK.name) if s["department_code"] == "972"]
    assert len(mtq) == 34
    premises = sum(s["premises"] for s, _ in mtq)
    assert premises == pytest.approx(250164.8755, abs=1e-6)
    expected = {"2021-T4": 70148, "2022-T4": 104363, "2023-T4": 132149, "2024-T4": 148728, "2025-T4": 171283}
    for quarter, total in expected.items():
        assert round(sum(q[quarter] for _, q in mtq)) == total
    assert round(171283 / premises, 2) == 0.68
    # the Centre (Fort-de-France) is better covered than the Nord (Grand'Rivière)
    rate = {s["commune_code"]: q["2025-T4"] / s["premises"] for s, q in mtq}
    assert rate["97209"] > rate["97211"]


def test_decimal_comma_and_quarter_quirks() -> None:
    assert parse_decimal("250164,8755", file="f", column="premises", commune="97209") == pytest.approx(250164.8755)
    assert parse_decimal("1\u202f234,5", file="f", column="premises", commune="97209") == 1234.5
    assert parse_decimal(12.0, file="f", column="premises", commune="97209") == 12.0
    assert parse_decimal(None, file="f", column="premises", commune="97209") is None
    with pytest.raises(SourceError) as info:
        parse_decimal("n.d.", file="f.xlsx", column="2025-T4", commune="97209")
    assert str(info.value) == ("source 'arcep': not a number for commune 97209 | file: f.xlsx | column: '2025-T4' "
                               "| value: 'n.d.'")
    assert quarter_of_file("https://x/20260312/2025t4-obs-hd-thd-deploiement-vf.xlsx") == (2025, 4)
    assert quarter_of_file("notice.pdf") is None


def _workbook(tmp_path: Path, header: list[str]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Communes"
    sheet["A1"] = "Déploiements FttH par commune"
    sheet.append([])
    sheet.append(header)
    sheet.append(["97209", "Fort-de-France", "972", "60000,5", "IPE", "300,25", 1000, 2000])
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    return path


def test_missing_and_new_columns_are_named(tmp_path: Path) -> None:
    good = ["Code commune", "Nom commune", "Code département", "Meilleure estimation des locaux à date",
            "Source retenue pour l'estimation des locaux", "Estimation locaux en cours de construction",
            "T3 2025", "T4 2025"]
    rows = list(read_communes(_workbook(tmp_path, good), file="ok.xlsx"))
    assert rows[0][0]["premises"] == 60000.5 and rows[0][1] == [("2025-T3", 1000.0), ("2025-T4", 2000.0)]
    renamed = [*good[:4], "Source", *good[5:]]
    with pytest.raises(SourceError, match=r"missing column\(s\): premises_source .*file: bad.xlsx \[Communes\]"):
        list(read_communes(_workbook(tmp_path, renamed), file="bad.xlsx"))
    extra = [*good[:6], "Taux FttH", *good[6:]]
    checks: list[CheckResult] = []
    assert len(list(read_communes(_workbook(tmp_path, extra), file="new.xlsx", checks=checks))) == len(rows)
    assert [(c.check_name, c.severity, c.status, c.message) for c in checks] == [
        ("no_unexpected_columns", "warn", "fail",
         "source 'arcep': new column(s) ['Taux FttH'] in new.xlsx [Communes], not declared: ignored")]


def test_fetch_and_load_972_with_its_peers_then_971_and_a_region_alone(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972")
        assert sources.fetch(settings, ArcepSource()).status == "landed"
        counts, con = sources.load(settings, ArcepSource())
        # Martinique's 34 communes and, for comparison, Guadeloupe's 32 (the other DROM are not in the snapshot)
        assert counts == {"raw.arcep_ftth_communes": 66, "raw.arcep_ftth_quarterly": 66 * 33}
        coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
        assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
        total = con.execute("select round(sum(connectable)) from raw.arcep_ftth_quarterly "
                            "where quarter = '2025-T4' and commune_code like '972%'").fetchone()
        premises = con.execute("select round(sum(premises)), min(_vintage) from raw.arcep_ftth_communes "
                               "where department_code = '972'").fetchone()
        assert total == (171283,) and premises == (250165, "2025-T4")
        assert con.execute("select count(*) from raw.arcep_ftth_communes where department_code = '971'"
                           ).fetchone() == (32,)
        alone = sources.settings(server, "971", comparison=())
        assert sources.fetch(alone, ArcepSource()).status == "unchanged"  # one national workbook, already landed
        counts, _ = sources.load(alone, ArcepSource())
        assert counts == {"raw.arcep_ftth_communes": 32, "raw.arcep_ftth_quarterly": 32 * 33}
        region = sources.settings(server, "reg:02", comparison=())
        sources.fetch(region, ArcepSource())
        assert sources.load(region, ArcepSource())[0]["raw.arcep_ftth_communes"] == 34


def test_html_page_instead_of_workbook_is_quarantined(sources: SourceHarness) -> None:
    page = b"<!doctype html><html><head><title>Maintenance</title></head></html>"
    with sources.serve(faults={"/static.data.gouv.fr/resources/le-marche": [Fault(200, body=page)]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972"), ArcepSource())
    assert "expected a xlsx file but the server sent an HTML page titled 'Maintenance'" in str(info.value)
    assert "quarantined:" in str(info.value)


def test_landing_suite_passes_on_the_snapshot_and_blocks_a_malformed_commune_code(sources: SourceHarness) -> None:
    with sources.serve() as server:
        assert sources.fetch(sources.settings(server, "972", data_dir="ok"), ArcepSource()).status == "landed"
    names = {c.check_name for c in sources.checks}
    assert {"commune_code_well_formed", "connectable_not_negative", "connectable_within_premises"} <= names
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # a commune code with a letter O for a zero: parse_decimal and the header contract let it through
    workbook = load_workbook(WORKBOOK)
    sheet = workbook["Communes"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "97209")
    cell.value = "972O9"
    broken = sources.tmp_path / "broken.xlsx"
    workbook.save(broken)
    fault = Fault(200, body=broken.read_bytes())
    with sources.serve(faults={"/static.data.gouv.fr/resources/le-marche": [fault]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="bad"), ArcepSource())
    assert "landing suite arcep_landing failed (commune_code_well_formed:" in str(info.value)
    assert "'972O9'" in str(info.value) and "quarantined:" in str(info.value)
    assert not (sources.tmp_path / "bad" / "landing" / "arcep").exists()
