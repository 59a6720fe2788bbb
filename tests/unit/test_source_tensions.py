"""DARES tension workbook: the snapshot file (synthetic values, real shape) served by the replay server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from oref_testing import SNAPSHOT, SourceHarness

from oref.config import Settings, Territory
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.reference import digital_fap2021_codes
from oref.replay import Fault
from oref.sources.tabular import normalise_header
from oref.sources.tensions import DEPARTEMENT_REGION, TensionsSource, find_sheets, read_tensions, scope_codes

WORKBOOK = SNAPSHOT / "statistiques.francetravail.org" / "offres" / "Handlers" / "HTFile.ashx"
SERVED_PATH = "/statistiques.francetravail.org/offres/Handlers/HTFile.ashx"
DIGITAL = list(digital_fap2021_codes())
HEADER = ["Année", "Code FAP 228", "Libellé FAP 228", "Code département", "Tension",
          "Tension (valeurs imputées - volumétrie insuffisante)", "Tension discrétisée (1 à 5)",
          "Intensité d'embauches", "Lien formation-emploi", "Manque de main-d'œuvre disponible",
          "Non-durabilité de l'emploi", "Conditions de travail contraignantes", "Inadéquation géographique",
          "Non-attractivité salariale", "Croisement ou volumétrie suffisante"]


def test_snapshot_workbook_rows_and_imputed_dom_values() -> None:
    rows = read_tensions(WORKBOOK, file="HTFile.ashx")
    assert len(rows) == 322  # 46 FAP x (France + 3 régions + 3 départements); footnotes skipped
    mtq = [r for r in rows if r["territory_level"] == "departement" and r["territory_code"] == "972"]
    assert len(mtq) == 46
    # small DOM volumes: 26 of 46 crossings have no measured tension, only the imputed one
    imputed = [r for r in mtq if r["tension"] is None]
    assert len(imputed) == 26
    assert all(r["tension_valeurs_imputees_volumetrie_insuffisante"] is not None
               and r["croisement_ou_volumetrie_suffisante"] == "0" and r["intensite_d_embauches"] is None
               for r in imputed)
    digital = {r["code_fap_228"]: (r["tension"], r["tension_valeurs_imputees_volumetrie_insuffisante"],
                                   r["tension_discret"]) for r in mtq if r["code_fap_228"] in DIGITAL}
    assert digital["M2X90"] == ("1.13", "1.13", "5")
    assert digital["M1X80"] == (None, "0.66", "4")
    assert sorted(digital) == DIGITAL
    guadeloupe = [r for r in rows if r["territory_code"] == "971"]
    assert sum(r["tension"] is None for r in guadeloupe) == 29


def test_sheets_found_by_name_and_french_labels_mapped() -> None:
    names = ["Notes", "Tensions département", "Sommaire", "TENSIONS REGION", "Tension nationale"]
    assert find_sheets(names, file="f.xlsx") == {
        "national": "Tension nationale", "region": "TENSIONS REGION", "departement": "Tensions département"}
    # the œ ligature has no ASCII decomposition: the pattern accepts the label with and without it
    assert normalise_header("Manque de main-d'œuvre disponible") == "manque_de_main_d_uvre_disponible"
    with pytest.raises(SourceError) as excinfo:
        find_sheets(["Sommaire", "Départements", "Régions"], file="f.xlsx")
    assert str(excinfo.value) == (
        "source 'tensions': expected one sheet per level (national, région, département) among "
        "['Sommaire', 'Départements', 'Régions']; got national: none | file: f.xlsx")


def test_region_of_departement_and_scope_rows() -> None:
    assert len(DEPARTEMENT_REGION) == 101
    assert DEPARTEMENT_REGION["972"] == "02" and DEPARTEMENT_REGION["2A"] == "94"
    alone = Settings(territory=Territory("departement", "972"), comparison_departements=())
    assert scope_codes(alone) == ({"02"}, {"972"})
    assert scope_codes(alone.with_(territory=Territory("region", "01"))) == ({"01"}, {"971"})
    assert scope_codes(Settings(territory=Territory("departement", "75"))) == (
        {"11", "01", "02", "03", "04", "06"}, {"75", "971", "972", "973", "974", "976"})


def test_fetch_and_load_for_972_and_971_with_their_peers(sources: SourceHarness) -> None:
    with sources.serve() as server:
        for code, peer in (("972", "971"), ("971", "972")):
            settings = sources.settings(server, code, data_dir=code, max_retries=2)
            result = sources.fetch(settings, TensionsSource())
            assert result.status == "landed" and result.rows == 322
            assert result.message == "tensions 2024: 322 FAP x territory rows"
            # the workbook has 971, 972 and 75 only: the other DROM are a warning, not an error
            coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
            assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
            counts, con = sources.load(settings, TensionsSource())
            # national rows + the scope's régions and départements (Paris, in the workbook, is not in it)
            assert counts == {"raw.tensions_indicators": 46 * 5}
            by_level = dict(con.execute("select territory_level || ':' || territory_code, count(*) "
                                        "from raw.tensions_indicators group by 1").fetchall())
            assert by_level == {"national:FR": 46, "region:01": 46, "region:02": 46, f"departement:{code}": 46,
                                f"departement:{peer}": 46}
            assert con.execute("select distinct _vintage from raw.tensions_indicators").fetchall() == [("2024",)]


def test_without_comparison_only_the_territory_is_loaded(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", comparison=())
        sources.fetch(settings, TensionsSource())
    assert [c.status for c in sources.checks if c.check_name == "comparison_departements_present"] == ["pass"]
    counts, con = sources.load(settings, TensionsSource())
    assert counts == {"raw.tensions_indicators": 138}
    assert con.execute("select count(*) from raw.tensions_indicators where territory_code in ('971', '01')"
                       ).fetchone() == (0,)


def test_region_territory_and_absent_departement(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "reg:02")
        sources.fetch(settings, TensionsSource())
        counts, _ = sources.load(settings, TensionsSource())
        assert counts == {"raw.tensions_indicators": 46 * 5}
        with pytest.raises(SourceError) as excinfo:
            # Mayotte's peers (971, 972) are in the workbook, Mayotte is not
            sources.load(settings.with_(territory=Territory("departement", "976")), TensionsSource())
    assert str(excinfo.value) == ("source 'tensions': no departement rows for 976 in the workbook of 2024 | "
                                  "file: tensions_metiers.xlsx")


def test_429_then_success_honours_retry_after(sources: SourceHarness) -> None:
    with sources.serve(faults={SERVED_PATH: [Fault(429, {"Retry-After": "3"})]}) as server:
        result = sources.fetch(sources.settings(server, "972", max_retries=2), TensionsSource())
        assert server.requests.count(SERVED_PATH) == 2
    assert result.status == "landed" and result.rows == 322
    # the Retry-After seconds first; then, at most, the pause of the host's rate limit (1 request/s)
    assert sources.sleeps[0] == 3.0 and all(pause <= 1.0 for pause in sources.sleeps[1:])


def _workbook(path: Path, header: list[str]) -> Path:
    workbook = Workbook()
    workbook.active.title = "Sommaire"
    row = [2024, "M2X90", "Ingénieurs de l'informatique", "972", 1.1, 1.1, 5, 0.2, 0.1, 0.3, -0.4, 0.5, 0.0,
           0.7, 1]
    for title, code_label in (("National", None), ("Région", "Code région"), ("Département", "Code département")):
        ws = workbook.create_sheet(title)
        ws.append(["Les tensions sur le marché du travail"])
        labels = [h for h in header if h != "Code département"]
        ws.append([*labels[:3], *([code_label] if code_label else []), *labels[3:]])
        ws.append([*row[:3], *([row[3]] if code_label else []), *row[4:4 + len(labels) - 3]])
    workbook.save(path)
    return path


def test_missing_and_new_columns_fail_naming_them(tmp_path: Path) -> None:
    renamed = [("Indice d'attractivité salariale" if h == "Non-attractivité salariale" else h) for h in HEADER]
    with pytest.raises(SourceError) as excinfo:
        read_tensions(_workbook(tmp_path / "t.xlsx", renamed), file="t.xlsx")
    message = str(excinfo.value)
    assert message.startswith("source 'tensions': missing column(s): non_attractivite_salariale "
                              "(header matching /non_attractivite_salariale/)")
    assert message.endswith("; unexpected column(s): [\"Indice d'attractivité salariale\"] | "
                            "file: t.xlsx [National]")
    read_tensions(_workbook(tmp_path / "ok.xlsx", HEADER), file="ok.xlsx")
    # a new column is a warning: the rows are read by the declared columns
    checks: list[CheckResult] = []
    rows = read_tensions(_workbook(tmp_path / "new.xlsx", [*HEADER, "Part des offres durables"]), file="new.xlsx",
                         checks=checks)
    assert rows and [(c.check_name, c.severity, c.status, c.target) for c in checks][:1] == [(
        "no_unexpected_columns", "warn", "fail", "new.xlsx [National]")]
    assert checks[0].message == ("source 'tensions': new column(s) ['Part des offres durables'] in "
                                 "new.xlsx [National], not declared: ignored")


def test_landing_suite_passes_on_the_snapshot_and_blocks_a_duplicate_fap(sources: SourceHarness) -> None:
    with sources.serve() as server:
        assert sources.fetch(sources.settings(server, "972", data_dir="ok"), TensionsSource()).status == "landed"
    assert len([c for c in sources.checks if c.engine == "gx" and c.target == "tensions_metiers.xlsx"]) == 15
    # only the warning about the DROM the synthetic workbook lacks
    assert [(c.check_name, c.severity) for c in sources.checks if c.status != "pass"] == [
        ("comparison_departements_present", "warn")]

    # Martinique's M2X91 row relabelled M2X90: every value still passes oref's row checks, but the
    # département sheet now has two M2X90 rows for 972
    workbook = load_workbook(io.BytesIO(WORKBOOK.read_bytes()))
    sheet = workbook["Tensions département"]
    cells = [row[1] for row in sheet.iter_rows(min_row=5) if row[1].value == "M2X91" and str(row[3].value) == "972"]
    assert len(cells) == 1
    cells[0].value = "M2X90"
    body = io.BytesIO()
    workbook.save(body)
    with sources.serve(faults={SERVED_PATH: [Fault(200, body=body.getvalue())]}) as server:
        settings = sources.settings(server, "972", data_dir="broken")
        with pytest.raises(SourceError) as excinfo:
            sources.fetch(settings, TensionsSource())
    message = str(excinfo.value)
    assert "landing suite tensions_landing failed (fap_unique_per_territory:" in message
    assert "'code_fap_228': 'M2X90'" in message and "'territory_code': '972'" in message
    assert "quarantined:" in message
    assert LandingZone(settings).latest("tensions", "tensions_metiers.xlsx") is None
