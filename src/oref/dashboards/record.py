"""Record each chart's query context from Superset's own front end.

A chart's ``query_context`` is the query its front-end plugin builds from its form data; the
chart-data API (``GET /api/v1/chart/<id>/data/``), cache warm-ups and the benchmark replay it.
Rather than re-implement every plugin's ``buildQuery`` in Python, this opens each chart in
Superset's Explore view in headless Chromium, catches the query the page sends, and stores it in
``superset/query_contexts.json`` with a digest of the form data it was recorded for. ``render``
then writes it into the chart's YAML; a chart whose form data changed has no query context until
it is recorded again, and ``python -m oref.dashboards check`` (a test) says so.

Usage, on a Superset serving the current bundle: ``make dashboards-record``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from oref.dashboards import catalog, render
from oref.dashboards.model import Chart

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
# Keys of the recorded form data that name this instance's objects, not the chart.
_INSTANCE_KEYS = ("slice_id", "dashboardId", "dashboards", "url_params", "force")


def normalise(query_context: dict[str, Any]) -> dict[str, Any]:
    """Drop what is specific to the Superset instance the query was recorded on."""
    context = json.loads(json.dumps(query_context))
    context["datasource"] = {"id": 0, "type": "table"}
    context["force"] = False
    form_data = context.get("form_data") or {}
    for key in _INSTANCE_KEYS:
        form_data.pop(key, None)
    form_data["datasource"] = "0__table"
    context["form_data"] = form_data
    return context


def _chart_ids(base: str, session: requests.Session) -> dict[str, int]:
    ids: dict[str, int] = {}
    page = 0
    while True:
        query = f"(columns:!(id,uuid),page:{page},page_size:100)"
        response = session.get(f"{base}/api/v1/chart/", params={"q": query}, timeout=60)
        response.raise_for_status()
        result = response.json()["result"]
        ids.update({str(item["uuid"]): int(item["id"]) for item in result})
        if len(result) < 100:
            return ids
        page += 1


def _api_session(base: str, user: str, password: str) -> requests.Session:
    session = requests.Session()
    response = session.post(f"{base}/api/v1/security/login", timeout=60,
                            json={"username": user, "password": password, "provider": "db"})
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def _capture_into(sink: list[dict[str, Any]]) -> Any:
    """A Playwright route handler that keeps the query contexts the page sends, and lets them through.

    Explore sends the chart's query to ``/api/v1/chart/data``; for a chart saved without a query
    context it also saves one (``PUT /api/v1/chart/<id>``), even when a control it validates (a
    deck.gl map style) keeps it from running the query.
    """
    def capture(route: Any) -> None:
        request = route.request
        body = request.post_data
        if body and request.method == "POST" and "/api/v1/chart/data" in request.url:
            sink.append(json.loads(body))
        elif body and request.method == "PUT":
            saved = json.loads(body).get("query_context")
            if saved:
                sink.append(json.loads(saved))
        route.continue_()

    return capture


def record_all(base: str, user: str, password_file: str, charts: list[Chart] | None = None,
               only: tuple[str, ...] = ()) -> int:
    """Record the query context of every chart of the catalogue; returns a process exit code."""
    from playwright.sync_api import sync_playwright

    password = Path(password_file).read_text("utf-8").strip()
    base = base.rstrip("/")
    wanted = charts or list({c.uuid: c for d in catalog.dashboards() for c in d.charts()}.values())
    if only:
        wanted = [chart for chart in wanted if chart.key in only]
    ids = _chart_ids(base, _api_session(base, user, password))
    recordings = render.load_recordings()
    failures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR",
                                   service_workers="block").new_page()
        page.goto(f"{base}/login/")
        page.wait_for_load_state("networkidle")
        page.fill("#username", user)
        page.fill("#password", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        for chart in wanted:
            if chart.uuid not in ids:
                failures.append(f"{chart.key}: not in this Superset (import the bundle first)")
                continue
            captured: list[dict[str, Any]] = []
            page.route("**/api/v1/chart/**", _capture_into(captured))
            page.goto(f"{base}/explore/?slice_id={ids[chart.uuid]}")
            deadline = time.monotonic() + 60
            while not any(c.get("result_type", "full") == "full" for c in captured) and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            page.unroute("**/api/v1/chart/**")
            full = [c for c in captured if c.get("result_type", "full") == "full"]
            if not full:
                failures.append(f"{chart.key}: Explore sent no chart-data query within 60 s")
                continue
            recordings[chart.uuid] = {"key": chart.key, "digest": render.params_digest(chart),
                                      "query_context": normalise(full[0])}
            print(f"recorded {chart.key}")
        browser.close()
    render.RECORDINGS.write_text(json.dumps(dict(sorted(recordings.items())), indent=1, ensure_ascii=False,
                                            sort_keys=True) + "\n", "utf-8")
    for failure in failures:
        print(f"not recorded: {failure}")
    return 1 if failures else 0
