"""``make bench-superset``: how fast Superset answers each chart of each dashboard.

Serves the published warehouse the way ``make up`` does (gunicorn, 2 threaded workers, Superset's
default in-process cache) from a throwaway Superset home, then calls the chart-data API
(``GET /api/v1/chart/<id>/data/``) 30 times per chart: uncached (``force=true``: DuckDB answers
every call) and cached (after warm-up calls, each worker's cache answers). Writes p50 and p95 per
chart to ``docs/benchmarks.md`` (between markers, so other benchmarks share the file) and the raw
timings to ``<data>/bench/superset-<timestamp>.json``. Target: uncached p95 at most 300 ms for the
Martinique warehouse on a 2-core machine. A benchmark, not a test: the machine's load moves it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from oref import superset_assets as sa
from oref.bench_noop import machine
from oref.config import PROJECT_ROOT, Settings
from oref.dashboards import catalog

CALLS = 30
WARM_UP = 4  # calls before the cached series: enough for both workers to hold the result
TARGET_P95_MS = 300.0
DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench-superset:begin -->", "<!-- bench-superset:end -->"


@dataclass
class ChartTiming:
    dashboard: str
    chart: str
    rows: int
    uncached_ms: list[float]
    cached_ms: list[float]

    @staticmethod
    def _pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> dict[str, float]:
        return {"uncached_p50": statistics.median(self.uncached_ms), "uncached_p95": self._pct(self.uncached_ms, 0.95),
                "cached_p50": statistics.median(self.cached_ms), "cached_p95": self._pct(self.cached_ms, 0.95)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _login(base: str, user: str, password: str) -> requests.Session:
    session = requests.Session()
    response = session.post(f"{base}/api/v1/security/login", timeout=60,
                            json={"username": user, "password": password, "provider": "db"})
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def _timed(session: requests.Session, url: str, params: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.get(url, params=params, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    rows = sum(int(result.get("rowcount") or 0) for result in response.json()["result"])
    return elapsed, rows


def measure(base: str, session: requests.Session, calls: int = CALLS) -> list[ChartTiming]:
    timings = []
    for dashboard in catalog.dashboards():
        response = session.get(f"{base}/api/v1/dashboard/{dashboard.slug}/charts", timeout=60)
        response.raise_for_status()
        for chart in sorted(response.json()["result"], key=lambda c: c["slice_name"]):
            url = f"{base}/api/v1/chart/{chart['id']}/data/"
            uncached, rows = zip(*(_timed(session, url, {"force": "true"}) for _ in range(calls)), strict=True)
            for _ in range(WARM_UP):
                _timed(session, url, {})
            cached = [_timed(session, url, {})[0] for _ in range(calls)]
            timings.append(ChartTiming(dashboard.slug, chart["slice_name"], rows[0], list(uncached), cached))
            print(f"  {dashboard.slug:28} {chart['slice_name'][:60]:60} "
                  f"{timings[-1].summary()['uncached_p95']:6.0f} ms", flush=True)
    return timings


def report(timings: list[ChartTiming], warehouse: Path, started: str) -> str:
    all_uncached = [ms for t in timings for ms in t.uncached_ms]
    all_cached = [ms for t in timings for ms in t.cached_ms]
    worst = max(timings, key=lambda t: t.summary()["uncached_p95"])
    verdict = "met" if worst.summary()["uncached_p95"] <= TARGET_P95_MS else "NOT met"
    lines = [
        BEGIN,
        "## Superset: chart-data latency (`make bench-superset`)",
        "",
        f"Measured {started} on {machine()}, on `{warehouse.name}` "
        f"({len(timings)} charts of {len({t.dashboard for t in timings})} dashboards), Superset served as by "
        f"`make up` (gunicorn, 2 gthread workers, in-process cache). {CALLS} calls per chart and series through "
        "`GET /api/v1/chart/<id>/data/`; uncached = `force=true` (DuckDB answers each call), cached = after "
        f"{WARM_UP} warm-up calls. Milliseconds, client side.",
        "",
        f"- All charts: uncached p50 {statistics.median(all_uncached):.0f} ms, p95 "
        f"{ChartTiming._pct(all_uncached, 0.95):.0f} ms; cached p50 {statistics.median(all_cached):.0f} ms, "
        f"p95 {ChartTiming._pct(all_cached, 0.95):.0f} ms.",
        f"- Slowest chart (uncached p95): {worst.chart} ({worst.dashboard}), "
        f"{worst.summary()['uncached_p95']:.0f} ms. Target, uncached p95 ≤ {TARGET_P95_MS:.0f} ms per chart: "
        f"**{verdict}**.",
        "",
        "| dashboard | chart | rows | uncached p50 | uncached p95 | cached p50 | cached p95 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        s = t.summary()
        lines.append(f"| {t.dashboard} | {t.chart} | {t.rows} | {s['uncached_p50']:.0f} | {s['uncached_p95']:.0f} "
                     f"| {s['cached_p50']:.0f} | {s['cached_p95']:.0f} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_doc(section: str, doc: Path = DOC) -> None:
    text = doc.read_text("utf-8") if doc.exists() else (
        "# Benchmarks\n\nMeasured by `make bench`; the figures move with the machine's load.\n\n")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oref.dashboards.bench")
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.warehouse_path.is_file():
        print(f"no published warehouse at {settings.warehouse_path}: run `make run` first", file=sys.stderr)
        return 1
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    user, password = "oref_bench", secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="oref-bench-superset-") as tmp:
        home = Path(tmp)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SUPERSET_", "FLASK_"))}
        env.update(SUPERSET_SECRET_KEY=secrets.token_urlsafe(48), SUPERSET_ADMIN_USER=user,
                   SUPERSET_ADMIN_PASSWORD=password, OREF_DATA_DIR=str(home / "data"))
        sa.bootstrap(settings.serving_path, settings.quality_path, home, env=env, warehouse=settings.warehouse_path)
        port = _free_port()
        log = (home / "server.log").open("wb")
        process = subprocess.Popen(sa.gunicorn_command("127.0.0.1", port), env=sa.superset_environment(home, env),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"{base}/health", timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                time.sleep(1)
            timings = measure(base, _login(base, user, password), args.calls)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()
    section = report(timings, settings.serving_path, started)
    write_doc(section)
    out = settings.data_dir / "bench" / f"superset-{started.replace(' ', 'T').replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([t.__dict__ for t in timings], indent=1, ensure_ascii=False), "utf-8")
    print(section)
    print(f"written to {DOC} and {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

