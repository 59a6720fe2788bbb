"""Pages: the quality report served to stewards, French login and 404 pages, no telemetry."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import sync_playwright
from superset_testing import (
    HTTP_TIMEOUT,
    SupersetServer,
    SupersetUser,
    api_session,
    browser_login,
    launch_chromium,
)

pytestmark = pytest.mark.slow

RUN_ID = "20260101T000000Z-test"
REPORT = "<!doctype html><html><body><h1>Rapport qualité du run de test</h1></body></html>"


@pytest.fixture(scope="module")
def report(superset_server: SupersetServer) -> str:
    """A quality report where the pipeline writes them, and a secret beside the reports folder."""
    reports = superset_server.data_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"quality-{RUN_ID}.html").write_text(REPORT, encoding="utf-8")
    (superset_server.data_dir / "quality-secret.html").write_text("NE PAS DIVULGUER", encoding="utf-8")
    return f"{superset_server.base_url}/oref/rapports/{RUN_ID}"


def test_report_is_served_to_a_steward(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], report: str
) -> None:
    steward = api_session(superset_server, superset_users["steward"])
    response = steward.get(report, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text == REPORT
    admin = api_session(superset_server, superset_server.admin)
    assert admin.get(report, timeout=HTTP_TIMEOUT).text == REPORT


@pytest.mark.parametrize("role", ["lecteur", "analyste"])
def test_report_is_refused_to_other_roles(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], report: str, role: str
) -> None:
    session = api_session(superset_server, superset_users[role])
    response = session.get(report, timeout=HTTP_TIMEOUT)
    assert response.status_code == 403
    assert "Rapport qualité" not in response.text and "réservés aux rôles Steward et Admin" in response.text


def test_report_asks_anonymous_users_to_log_in(report: str) -> None:
    response = requests.get(report, timeout=HTTP_TIMEOUT, allow_redirects=False)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    ["..%2Fquality-secret", "..", "%2E%2E%2Fquality-secret", "..%2F..%2Fdata%2Fquality-secret", "a..b", ".hidden"],
)
def test_report_paths_cannot_leave_the_reports_folder(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], report: str, path: str
) -> None:
    steward = api_session(superset_server, superset_users["steward"])
    response = steward.get(f"{superset_server.base_url}/oref/rapports/{path}", timeout=HTTP_TIMEOUT)
    assert response.status_code == 404, (path, response.status_code)
    assert "NE PAS DIVULGUER" not in response.text


@pytest.fixture(scope="module")
def run_files(superset_server: SupersetServer, report: str) -> str:
    """The open-data package and dbt docs of the test run, where the pipeline writes them."""
    opendata = superset_server.data_dir / "opendata" / RUN_ID
    opendata.mkdir(parents=True, exist_ok=True)
    (opendata / "datapackage.json").write_text('{"name": "oref-test"}', encoding="utf-8")
    docs = superset_server.data_dir / "docs" / RUN_ID
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.html").write_text("<html><body>dbt docs du run</body></html>", encoding="utf-8")
    return superset_server.base_url


def test_the_reports_links_to_docs_and_open_data_resolve_for_a_steward(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], run_files: str
) -> None:
    steward = api_session(superset_server, superset_users["steward"])
    # the report at /oref/rapports/<run> links ../docs/<run>/index.html and ../opendata/<run>/datapackage.json
    package = steward.get(f"{run_files}/oref/opendata/{RUN_ID}/datapackage.json", timeout=HTTP_TIMEOUT)
    assert package.status_code == 200 and package.json() == {"name": "oref-test"}
    docs = steward.get(f"{run_files}/oref/docs/{RUN_ID}/index.html", timeout=HTTP_TIMEOUT)
    assert docs.status_code == 200 and "dbt docs du run" in docs.text
    lecteur = api_session(superset_server, superset_users["lecteur"])
    refused = lecteur.get(f"{run_files}/oref/opendata/{RUN_ID}/datapackage.json", timeout=HTTP_TIMEOUT)
    assert refused.status_code == 403 and "oref-test" not in refused.text


@pytest.mark.parametrize(
    "path",
    [f"opendata/{RUN_ID}/..%2F..%2Fquality-secret.html", f"docs/{RUN_ID}/%2E%2E/%2E%2E/quality-secret.html",
     "opendata/..%2F/quality-secret.html", f"landing/{RUN_ID}/x", f"docs/{RUN_ID}/absent.html"],
)
def test_run_file_paths_cannot_leave_the_runs_folder(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], run_files: str, path: str
) -> None:
    steward = api_session(superset_server, superset_users["steward"])
    response = steward.get(f"{run_files}/oref/{path}", timeout=HTTP_TIMEOUT)
    assert response.status_code == 404, (path, response.status_code)
    assert "NE PAS DIVULGUER" not in response.text


def test_unknown_pages_get_a_french_404(superset_server: SupersetServer) -> None:
    response = requests.get(
        f"{superset_server.base_url}/pas/de/page/ici", headers={"Accept": "text/html"}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 404
    assert 'lang="fr"' in response.text and "Page introuvable" in response.text
    assert "fonts.googleapis" not in response.text
    api = requests.get(f"{superset_server.base_url}/api/v1/pas-de-route", timeout=HTTP_TIMEOUT)
    assert api.status_code == 404 and api.json()["errors"][0]["message"] == "Ressource introuvable."


def test_browser_login_and_404_in_french_and_no_telemetry(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser]
) -> None:
    """An English-speaking browser gets the French login page, the French 404 page and a French
    UI; the Scarf telemetry pixel of Superset's pip build is blocked before any network access."""
    base = superset_server.base_url
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(locale="en-US")
            page = context.new_page()
            outside: list[tuple[str, str | None]] = []
            page.on(
                "requestfailed",
                lambda request: outside.append((request.url, request.failure))
                if not request.url.startswith(base)
                else None,
            )
            answered: list[str] = []
            page.on(
                "response",
                lambda response: answered.append(response.url) if not response.url.startswith(base) else None,
            )
            page.goto(f"{base}/login/")
            page.wait_for_selector("#username")
            page.wait_for_load_state("networkidle")
            login_text = page.inner_text("body")
            assert "Se connecter" in login_text and "Mot de passe" in login_text, login_text
            assert "Sign in" not in login_text

            page.goto(f"{base}/pas-de-page/")
            assert "Page introuvable" in page.inner_text("body")

            browser_login(page, superset_server, superset_users["lecteur"])
            page.wait_for_load_state("networkidle")
            assert "Tableaux de bord" in page.inner_text("body")

            assert answered == [], answered  # nothing outside the server answered the browser
            scarf = [failure for url, failure in outside if "scarf.sh" in url]
            assert scarf, "the pip build of Superset 6.1 renders the Scarf pixel: it should be blocked"
            assert all(failure in ("csp", "net::ERR_BLOCKED_BY_CSP") for failure in scarf), outside
        finally:
            browser.close()
