"""The steward report in Debian's Chromium: fits 1366 px with no horizontal scroll, on screen and in print.

The report is built from hand-made run data (a degraded run: one stale source, a long failure
message, warnings, moved indicators), so the test needs no full run. Screenshots and a PDF go to
``test-output/report/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oref_testing import OrefRun
from report_testing import RUN, run_checks, run_record, run_sources, two_publications

from oref.config import PROJECT_ROOT, Settings
from oref.quality.checks import CheckResult
from oref.quality.report import render_verdict, write_report
from oref.sources import SOURCE_NAMES

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: uv sync --group dev")
from superset.superset_testing import launch_chromium  # noqa: E402

pytestmark = pytest.mark.slow
OUT = PROJECT_ROOT / "test-output" / "report"
WIDTH = 1366
A4_WIDTH = 794  # A4 at 96 px per inch, what print layout lays out on


def _report(tmp_path: Path) -> Path:
    settings = Settings(data_dir=tmp_path / "data", source_mode="snapshot")
    two_publications(settings)
    # a long unbroken token (a path) and many checks: nothing may widen the page
    checks = [*run_checks(), CheckResult("urssaf", "header_" + "x" * 180, "oref", "warn", "fail",
                                      "/data/landing/urssaf/" + "y" * 300 + ".csv", observed="z" * 200)]
    write_report(settings, RUN, checks, status="degraded", reason=f"{run_record(settings).reason} ; " + "détail " * 60,
                 sources=run_sources(), record=run_record(settings))
    return settings.reports_dir / "latest.html"


def test_report_fits_the_screen_and_the_page(tmp_path: Path) -> None:
    page_path = _report(tmp_path)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 768})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            assert page.locator("h1, h2").first.inner_text() == "Publié en mode dégradé"
            # the verdict is on the first screen
            box = page.locator("h1").bounding_box()
            assert box is not None and box["y"] + box["height"] < 768
            page.screenshot(path=str(OUT / "quality-report.png"), full_page=True)
            page.screenshot(path=str(OUT / "quality-report-first-screen.png"))
            # self-contained: the page itself and nothing else
            assert requests == [page_path.as_uri()]

            page.emulate_media(media="print")
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
            assert page.evaluate("document.documentElement.scrollWidth") <= A4_WIDTH
            page.screenshot(path=str(OUT / "quality-report-print.png"), full_page=True)
            pdf = page.pdf(path=str(OUT / "quality-report.pdf"), format="A4")
            assert pdf.startswith(b"%PDF")
        finally:
            browser.close()


def test_report_of_a_real_run(published_run: OrefRun) -> None:
    """The shared `oref run`: latest.html is its report, says Publié, lists every source, links what exists."""
    settings = published_run.settings
    latest = settings.reports_dir / "latest.html"
    run_id = render_verdict(settings).split("exécution ", 1)[1].split(" ", 1)[0]
    assert latest.read_text("utf-8") == (settings.reports_dir / f"quality-{run_id}.html").read_text("utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 768})
            page.goto(latest.as_uri())
            assert page.locator("h1, h2").first.inner_text() == "Publié"
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            states = page.locator("#sources ~ table").first.locator("tbody tr .state").all_inner_texts()
            assert len(states) == len(SOURCE_NAMES) and set(states) == {"récupérée"}, states
            hrefs = page.locator("ul.links a").evaluate_all("links => links.map(a => a.href)")
            assert [h.rsplit("/", 2)[-2:] for h in hrefs] == [[run_id, "index.html"], [run_id, "datapackage.json"]]
            for href in hrefs:
                assert Path(href.removeprefix("file://")).is_file(), href
            page.screenshot(path=str(OUT / "quality-report-real-run.png"), full_page=True)
        finally:
            browser.close()
