"""The steward report: verdict first, sources with their state and change, moved indicators, failures then warnings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_testing import NBSP, RUN, SHA_NEW, run_checks, run_record, run_sources, two_publications, warehouse

from oref.config import Settings
from oref.quality.checks import CheckResult
from oref.quality.report import Move, _move_rows, fr_number, fr_percent, fr_vintage, render_verdict, write_report
from oref.quality.store import record_run


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", source_mode="snapshot")


def test_french_numbers() -> None:
    assert fr_number(1_234_567.5) == f"1{NBSP}234{NBSP}567,5"
    assert fr_number(12_500) == f"12{NBSP}500"
    assert fr_number(-0.125, 1) == "-0,1"
    assert fr_percent(0.305) == f"30,5{NBSP}%"
    assert fr_number(None) == "—"
    assert fr_vintage("2025-T4") == "2025-T4"
    assert fr_vintage("20261130T213555Z") == "extrait du 30/11/2026"  # an API extract's vintage


def test_a_year_on_year_change_reads_as_a_signed_percentage_and_moves_in_points() -> None:
    move = Move("growth_arcep_ftth_coverage", "Évolution sur un an du taux de couverture FttH", "variation",
                "2025-T3", 0.145, "2025-T4", 0.152)
    row = _move_rows([move])
    assert f"+14,5{NBSP}%" in row and f"+15,2{NBSP}%" in row  # the two changes, signed
    assert f"+0,7{NBSP}pt" in row  # their difference, in points
    assert "variation sur un an (en %)" in row


def test_degraded_report(settings: Settings) -> None:
    two_publications(settings)
    path = write_report(settings, RUN, run_checks(), status="degraded", reason=run_record(settings).reason,
                        sources=run_sources(), record=run_record(settings))
    assert path == settings.reports_dir / f"quality-{RUN}.html"
    page = path.read_text("utf-8")

    # the verdict leads: the first heading, before any section
    first_heading = re.search(r"<h1>(.*?)</h1>", page)
    assert first_heading is not None and first_heading.group(1) == "Publié en mode dégradé"
    assert page.index("<h1>") < page.index("<h2")
    assert page.index("Publié en mode dégradé", page.index("<body")) < page.index("id='sources'")
    # why, in plain words, naming the stale source and its age; the recorded reason beside it
    why = re.search(r"<p class='why'>(.*?)</p>", page)
    assert why is not None
    assert why.group(1) == (
        "La source France Travail — offres d'emploi des métiers du numérique (API Offres d'emploi v2) n'a pas pu "
        f"être récupérée ; ses derniers fichiers valides, récupérés il y a 32{NBSP}jours, ont été utilisés. "
        "Les autres sources sont publiées à jour. Attention : 1 contrôle bloquant en échec (voir « Échecs »).")
    assert "source(s) stale, last good files used: offers (HTTP 503)" in page
    assert RUN in page and "972" in page and "Martinique" in page

    # the stale source's line: its state, the age of the files used and why
    stale_row = re.search(r"<tr class='stale'>(.*?)</tr>", page, re.S)
    assert stale_row is not None
    assert "périmée" in stale_row.group(1)
    assert f"derniers fichiers valides utilisés, récupérés il y a 32{NBSP}jours" in stale_row.group(1)
    assert "HTTP 503 from api.francetravail.io (offres)" in stale_row.group(1)
    # a stale or failed source comes first
    assert page.index("<tr class='stale'>") < page.index("<tr class='unchanged'>") < page.index("<tr class='landed'>")
    # vintage then -> now, rows delta and %, shortened digest with the full one in a title
    landed_row = re.search(r"<tr class='landed'>(.*?)</tr>", page, re.S)
    assert landed_row is not None
    assert "millésime 2024 → 2025" in landed_row.group(1)
    assert f"12{NBSP}500" in landed_row.group(1) and f"+2{NBSP}500" in landed_row.group(1)
    assert f"+25,0{NBSP}%" in landed_row.group(1)
    assert f"title='{SHA_NEW}'>{SHA_NEW[:12]}…" in landed_row.group(1)
    assert "récupérée" in landed_row.group(1)
    # the failure policy is said when it is not the default, or when it was applied
    assert "en cas d'échec" not in landed_row.group(1)
    assert "en cas d'échec : bloque la publication" in re.search(  # type: ignore[union-attr]
        r"<tr class='unchanged'>(.*?)</tr>", page, re.S).group(1)
    assert "en cas d'échec : derniers fichiers valides" in stale_row.group(1)
    assert "mêmes fichiers" in re.search(r"<tr class='unchanged'>(.*?)</tr>", page, re.S).group(1)  # type: ignore[union-attr]

    # the indicators that moved most, French numbers, the territory only (971's x1000 values never shown)
    moves = page[page.index("id='indicateurs'"):page.index("id='echecs'")]
    assert "3 indicateurs sur 4 ont changé" in moves
    assert f"1{NBSP}234{NBSP}567,5" in moves and f"1{NBSP}000" in moves
    assert f"25,0{NBSP}%" in moves and f"30,0{NBSP}%" in moves and f"+5,0{NBSP}pt" in moves
    assert f"+2,5{NBSP}%" in moves  # 4 000 -> 4 100
    assert moves.index("Projets de recrutement") < moves.index("Part de projets difficiles") < moves.index(
        "Effectifs salariés du numérique")
    assert "Offres d'emploi" not in moves  # unchanged
    assert "2024 → 2025" in moves
    assert "1234567000" not in moves.replace(NBSP, "")

    # failures, then warnings, each with source, check and message; messages escaped
    assert page.index("id='echecs'") < page.index("fetch_and_land") < page.index("id='avertissements'")
    assert page.index("id='avertissements'") < page.index("new_optional_column")
    assert page.index("id='avertissements'") < page.index("indicator_drift")
    assert "Échecs (1)" in page and "Avertissements (2)" in page
    assert "<script>" not in page
    assert "HTTP 503 &lt;script&gt;alert('x')&lt;/script&gt;" in page

    # links relative to reports/, to files that exist
    assert f"href='../docs/{RUN}/index.html'" in page
    assert f"href='../opendata/{RUN}/datapackage.json'" in page
    for href in re.findall(r"href='([^']+)'", page):
        assert (settings.reports_dir / href).resolve().is_file(), href

    # self-contained: no external request, no script; printable
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)
    assert "<script" not in page.lower()
    assert "@media print" in page

    # the stable path: the same page
    latest = settings.reports_dir / "latest.html"
    assert latest.read_text("utf-8") == page


def test_first_publication_and_build_time_report(settings: Settings) -> None:
    warehouse(settings.build_dir / RUN / "oref.duckdb", RUN, [("bmo_projects", "Projets", "projets", "2025", 5.0)])
    # written by the build, before finish: no verdict recorded yet, no latest.html
    path = write_report(settings, RUN, [CheckResult("bmo", "row_count", "gx", "error", "pass")], sources=[])
    page = path.read_text("utf-8")
    assert re.search(r"<h1>(.*?)</h1>", page).group(1) == "Construit, en attente de publication"  # type: ignore[union-attr]
    assert "Aucune publication précédente : rien à comparer." in page
    assert not (settings.reports_dir / "latest.html").exists()
    assert "Ni documentation dbt ni paquet open data" in page

    blocked = CheckResult("warehouse", "assert_every_indicator", "dbt", "error", "fail", "bmo_projects: no value")
    write_report(settings, RUN, [blocked], status="blocked", reason="1 error-level check(s) failed; not publishing",
                 sources=[])
    page = path.read_text("utf-8")
    assert re.search(r"<h1>(.*?)</h1>", page).group(1) == "Bloqué"  # type: ignore[union-attr]
    assert "1 contrôle bloquant en échec. L'entrepôt publié n'a pas changé." in page
    assert (settings.reports_dir / "latest.html").read_text("utf-8") == page


def test_published_then_export_failed(settings: Settings) -> None:
    two_publications(settings)
    export = CheckResult("warehouse", "open_data_export", "oref", "error", "fail", "no space left on device")
    page = write_report(settings, RUN, [export], status="published", sources=[]).read_text("utf-8")
    assert re.search(r"<h1>(.*?)</h1>", page).group(1) == "Publié"  # type: ignore[union-attr]
    assert "L'entrepôt est publié, mais 1 contrôle bloquant est en échec : voir « Échecs »." in page


def test_render_verdict(settings: Settings) -> None:
    two_publications(settings)
    record = run_record(settings)
    record_run(settings, record, run_checks(), [], progress=lambda _: None, statuses=run_sources())
    text = render_verdict(settings)  # default: the latest run in the quality store
    assert text == render_verdict(settings, RUN)
    lines = text.splitlines()
    assert lines[0].startswith("Publié en mode dégradé : la source France Travail — offres d'emploi")
    assert "32 jours" in lines[0]
    assert f"exécution {RUN} · territoire 972 · 2 juillet 2025 à 05:03 UTC" in text
    offers = next(line for line in lines if line.strip().startswith("offers"))
    assert "périmée" in offers and "millésime 2025-06" in offers and "il y a 32 jours" in offers
    assert "HTTP 503 from api.francetravail.io" in offers
    geo = next(line for line in lines if line.strip().startswith("geo"))
    assert "inchangée" in geo and "il y a 61 jours" in geo
    assert "Contrôles : 1 échec, 2 avertissements, 1 réussi" in text
    assert lines[-1] == f"Rapport : {settings.reports_dir / f'quality-{RUN}.html'}"
    assert NBSP not in text
    # the same from the quality store alone (the run's quality.json lost)
    (settings.runs_dir / RUN / "quality.json").unlink()
    assert render_verdict(settings, RUN) == text


def test_render_verdict_without_runs(settings: Settings) -> None:
    from oref.errors import OrefError

    with pytest.raises(OrefError, match="no run recorded yet"):
        render_verdict(settings)
    with pytest.raises(OrefError, match="'nope' is not recorded"):
        render_verdict(settings, "nope")
