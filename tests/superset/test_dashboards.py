"""The dashboards as their users see them: in headless Chromium, and through the chart-data API.

One Superset (the session's ``superset_server``, gunicorn as ``make up`` serves it) on the
warehouse of a real ``oref run`` for Martinique. A reader (role Lecteur) opens every analytic
dashboard and a steward the quality one; every chart must render, none may show an error, and a
screenshot of each dashboard is written under ``test-output/dashboards/`` (``OREF_TEST_OUTPUT``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from playwright.sync_api import Page, sync_playwright
from superset_testing import (
    HTTP_TIMEOUT,
    SupersetServer,
    SupersetUser,
    api_session,
    browser_login,
    launch_chromium,
)

from oref.dashboards import catalog
from oref.dashboards.model import Dashboard
from oref.reference import read_seed

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("OREF_TEST_OUTPUT") or REPO / "test-output") / "dashboards"
DASHBOARDS = {d.slug: d for d in catalog.dashboards()}
QUALITY = "qualite-donnees"
RENDER_TIMEOUT = 120  # seconds for a whole dashboard's charts, on 2 cores


def _expected_charts(dashboard: Dashboard) -> set[str]:
    return {chart.title for chart in dashboard.charts()}


def _wait_for_charts(page: Page, dashboard: Dashboard) -> dict[str, str]:
    """Wait until every chart of the dashboard has drawn something; returns chart name -> text."""
    expected = _expected_charts(dashboard)
    # a table counts as drawn only once its cells are there: the chart's header icons are svg too,
    # so "has an svg" alone passed a table whose rows had not arrived yet (seen in CI)
    tables = [chart.title for chart in dashboard.charts() if chart.viz_type in ("table", "pivot_table_v2")]
    deadline = time.monotonic() + RENDER_TIMEOUT
    drawn: dict[str, str] = {}
    while time.monotonic() < deadline:
        drawn = page.evaluate(
            """(tables) => Object.fromEntries([...document.querySelectorAll('[data-test="chart-grid-component"]')]
                .filter(e => !e.querySelector('[data-test="loading-indicator"], .loading'))
                .filter(e => tables.includes(e.getAttribute('data-test-chart-name'))
                    ? e.querySelector('tbody td')
                    : e.querySelector('canvas, svg') || (e.querySelector('.header-line, tbody td')
                        && e.innerText.trim() !== (e.getAttribute('data-test-chart-name') || '').trim()))
                .map(e => [e.getAttribute('data-test-chart-name'), e.innerText]))""",
            tables,
        )
        if expected <= set(drawn):
            return drawn
        time.sleep(1)
    missing = sorted(expected - set(drawn))
    pytest.fail(f"{dashboard.slug}: charts not drawn within {RENDER_TIMEOUT} s: {missing}")


def _open(page: Page, server: SupersetServer, dashboard: Dashboard) -> dict[str, str]:
    page.goto(f"{server.base_url}/superset/dashboard/{dashboard.slug}/")
    page.wait_for_selector('[data-test="chart-grid-component"]', timeout=RENDER_TIMEOUT * 1000)
    drawn = _wait_for_charts(page, dashboard)
    page.wait_for_timeout(1500)  # let the charts' animations end before the screenshot
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{dashboard.slug}.png"), full_page=True)
    errors = page.locator('.ant-alert-error, [data-test="alert"], .alert-danger').all_inner_texts()
    assert errors == [], f"{dashboard.slug}: {errors}"
    for name, text in drawn.items():
        for symptom in ("Erreur", "Error", "Unexpected", "Aucun résultat", "No results"):
            assert symptom not in text, f"{dashboard.slug} / {name}: {text[:300]}"
    return drawn


@pytest.fixture(scope="module")
def browser() -> Any:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def _page_for(browser: Any, server: SupersetServer, user: SupersetUser) -> Page:
    # tall enough for every chart of a dashboard to be in view: Superset draws charts lazily
    context = browser.new_context(viewport={"width": 1600, "height": 4200}, locale="fr-FR",
                                  service_workers="block")
    page = context.new_page()
    browser_login(page, server, user)
    return page


def test_a_reader_sees_every_analytic_dashboard_drawn(
    browser: Any, superset_server: SupersetServer, superset_users: dict[str, SupersetUser]
) -> None:
    page = _page_for(browser, superset_server, superset_users["lecteur"])
    # requests that reached another server (Superset 6.1's pip build still asks for its telemetry
    # pixel; the Content-Security-Policy stops it in the browser, so it never finishes)
    outside: list[str] = []
    page.on("requestfinished", lambda r: outside.append(r.url) if not r.url.startswith(
        ("data:", "blob:", superset_server.base_url)) else None)
    drawn = {slug: _open(page, superset_server, d) for slug, d in DASHBOARDS.items() if slug != QUALITY}

    # the headline of the socle dashboard: Martinique's BMO 2025 digital projects
    big_number = drawn["socle-formation"]["Projets de recrutement dans le numérique"]
    assert "61" in big_number.split() and "2025" in big_number, big_number
    # every header names the territory and says the data is the demonstration snapshot
    for text in (texts["Territoire et origine des données"] for texts in drawn.values()):
        assert "Territoire : Martinique (département 972)" in text and "snapshot" in text, text
    # the scorecard starts on the configured territory: préconisation 1 lists its 6 indicators once
    scorecard = drawn["pilotage-preconisations"]["Préconisation 1 : indicateurs"]
    assert scorecard.count("Effectifs salariés du numérique") == 1, scorecard
    # each indicator's definition is one click away: its name links to the catalogue page, and
    # hovering it shows the definition, formula, source and vintage
    page.goto(f"{superset_server.base_url}/superset/dashboard/pilotage-preconisations/")
    _wait_for_charts(page, DASHBOARDS["pilotage-preconisations"])
    link = page.locator('a[href="/oref/indicateurs#bmo_digital_recruitment_projects"]')
    assert link.count() == 1
    assert "Formule" in (link.get_attribute("title") or "") and "millésime 2025" in (link.get_attribute("title") or "")
    with page.context.expect_page() as opened:
        link.click()
    catalogue = opened.value
    catalogue.wait_for_load_state()
    assert catalogue.url.endswith("/oref/indicateurs#bmo_digital_recruitment_projects")
    assert "Somme des projets de recrutement" in catalogue.locator("#bmo_digital_recruitment_projects").inner_text()
    catalogue.close()
    # French numbers: a no-break space between thousands, a comma and a spaced percent sign
    filiere = drawn["filiere-numerique"]
    assert "1\u00a0893" in filiere["Effectifs salariés du numérique"], filiere["Effectifs salariés du numérique"]
    assert "76,5\u00a0%" in filiere["Concentration dans la zone Centre"]
    assert outside == [], f"the browser reached outside Superset: {outside[:5]}"
    page.context.close()


def test_the_catalogue_page_is_served_to_readers_only(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser]
) -> None:
    reader = api_session(superset_server, superset_users["lecteur"])
    page = reader.get(f"{superset_server.base_url}/oref/indicateurs", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.text.count("<section id=") == len(read_seed("indicator_catalogue"))
    assert 'id="arcep_ftth_coverage"' in page.text and "Locaux raccordables" in page.text
    anonymous = requests.get(f"{superset_server.base_url}/oref/indicateurs", timeout=HTTP_TIMEOUT,
                             allow_redirects=False)
    assert anonymous.status_code == 302 and "/login/" in anonymous.headers["Location"]


def test_a_reader_cannot_open_the_quality_dashboard(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser]
) -> None:
    reader = api_session(superset_server, superset_users["lecteur"])
    listed = reader.get(f"{superset_server.base_url}/api/v1/dashboard/", timeout=HTTP_TIMEOUT,
                        params={"q": "(page_size:100)"}).json()["result"]
    slugs = {d["slug"] for d in listed}
    assert slugs == set(DASHBOARDS) - {QUALITY}
    response = reader.get(f"{superset_server.base_url}/api/v1/dashboard/{QUALITY}", timeout=HTTP_TIMEOUT)
    assert response.status_code in (403, 404)


def test_a_steward_sees_the_quality_dashboard_drawn(
    browser: Any, superset_server: SupersetServer, superset_users: dict[str, SupersetUser]
) -> None:
    page = _page_for(browser, superset_server, superset_users["steward"])
    drawn = _open(page, superset_server, DASHBOARDS[QUALITY])
    verdict = drawn["Dernière exécution"]
    assert "Dernière exécution : publiée" in verdict and "lire le rapport" in verdict, verdict
    runs = drawn["Exécutions : publiées ou non, et pourquoi"]
    assert "publiée" in runs and "rapport" in runs
    assert "bmo" in drawn["Fraîcheur et millésime des sources (dernière exécution)"]
    page.context.close()


# --- The chart-data API ---------------------------------------------------------------------------


def _charts(session: requests.Session, server: SupersetServer, slug: str) -> list[dict[str, Any]]:
    response = session.get(f"{server.base_url}/api/v1/dashboard/{slug}/charts", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return list(response.json()["result"])


def _chart_data(session: requests.Session, server: SupersetServer, chart_id: int) -> list[dict[str, Any]]:
    response = session.get(f"{server.base_url}/api/v1/chart/{chart_id}/data/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text[:2000]
    return list(response.json()["result"])


@pytest.fixture(scope="module")
def admin(superset_server: SupersetServer) -> requests.Session:
    return api_session(superset_server, superset_server.admin)


@pytest.mark.parametrize("slug", sorted(DASHBOARDS))
def test_every_chart_returns_rows_and_none_is_truncated(
    admin: requests.Session, superset_server: SupersetServer, slug: str
) -> None:
    charts = _charts(admin, superset_server, slug)
    assert {c["slice_name"] for c in charts} == _expected_charts(DASHBOARDS[slug])
    for chart in charts:
        for result in _chart_data(admin, superset_server, chart["id"]):
            assert result["status"] == "success" and result["error"] is None, (chart["slice_name"], result)
            assert result["rowcount"] > 0, (chart["slice_name"], result.get("query"))
            # a chart's query never returns its row limit: nothing is cut before the browser
            limit = _row_limit(result.get("query") or "")
            assert limit is None or result["rowcount"] < limit, (chart["slice_name"], result["rowcount"], limit)


def _row_limit(sql: str) -> int | None:
    words = sql.replace(";", " ").split()
    for index, word in enumerate(words[:-1]):
        if word.upper() == "LIMIT" and words[index + 1].isdigit():
            return int(words[index + 1])
    return None


def _by_name(session: requests.Session, server: SupersetServer, slug: str) -> dict[str, int]:
    return {c["slice_name"]: c["id"] for c in _charts(session, server, slug)}


def test_the_big_number_and_the_bars_agree_with_the_warehouse(
    admin: requests.Session, superset_server: SupersetServer, published_warehouse: Path
) -> None:
    """Socle: the Big Number, the bars per métier and mart_indicators give Martinique the same 61."""
    charts = _by_name(admin, superset_server, "socle-formation")
    (big_number,) = _chart_data(admin, superset_server, charts["Projets de recrutement dans le numérique"])
    latest = max(big_number["data"], key=lambda row: row["period_date"])
    (bars,) = _chart_data(admin, superset_server, charts["Projets de recrutement par métier du numérique"])
    per_occupation = {row["occupation_display"]: row["projets"] for row in bars["data"]}
    with duckdb.connect(str(published_warehouse), read_only=True) as con:
        row = con.execute(
            "select value, suppressed_count from marts.mart_indicators where indicator_code = "
            "'bmo_digital_recruitment_projects' and territory_level = 'departement' and territory_code = '972' "
            "order by period desc limit 1"
        ).fetchone()
    assert row is not None
    assert latest["bmo_digital_recruitment_projects"] == row[0] == 61
    assert sum(v for v in per_occupation.values() if v is not None) == 61
    # the secret métiers are named, with no number rather than a 0
    secret = {name: value for name, value in per_occupation.items() if name.endswith("(secret)")}
    assert len(secret) == 2 and set(secret.values()) == {None}, per_occupation


def test_every_dataset_carries_the_publication_it_serves(
    admin: requests.Session, superset_server: SupersetServer, published_warehouse: Path
) -> None:
    """The import stamps each dataset with the run that built the served marts: a new publication
    changes the datasets, hence their changed_on, hence every chart-data cache key."""
    with duckdb.connect(str(published_warehouse), read_only=True) as con:
        (run_id,) = con.execute("select run_id from marts.dash_context").fetchone() or (None,)
    response = admin.get(f"{superset_server.base_url}/api/v1/dataset/", timeout=HTTP_TIMEOUT,
                         params={"q": "(columns:!(id,table_name,extra),page_size:100)"})
    assert response.status_code == 200, response.text
    datasets = response.json()["result"]
    assert len(datasets) >= 14
    for dataset in datasets:
        assert json.loads(dataset["extra"] or "{}").get("oref_publication") == run_id, dataset["table_name"]
