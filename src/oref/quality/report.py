"""The HTML quality report of a run, for data stewards: what passed, what failed and why."""

from __future__ import annotations

import html
from pathlib import Path

from oref.config import Settings
from oref.quality.checks import CheckResult

# the run's outcome as a steward reads it (quality.runs.status)
STATUS_FR = {"published": "publiée", "blocked": "bloquée", "failed": "en échec"}


def report_path(settings: Settings, run_id: str) -> Path:
    return settings.reports_dir / f"quality-{run_id}.html"


def write_report(settings: Settings, run_id: str, checks: list[CheckResult], *, status: str | None = None,
                 reason: str | None = None) -> Path:
    """Write ``reports/quality-<run_id>.html``: failures first, then every passed check."""
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = report_path(settings, run_id)
    rows = "\n".join(
        f"<tr class='{c.status}'><td>{html.escape(c.source)}</td><td>{html.escape(c.check_name)}</td>"
        f"<td>{c.engine}</td><td>{c.severity}</td><td>{'réussi' if c.status == 'pass' else 'échec'}</td>"
        f"<td>{html.escape(c.observed)}</td><td>{html.escape(c.message)}</td></tr>"
        for c in sorted(checks, key=lambda c: (c.status != "fail", c.source, c.check_name))
    )
    failed = sum(c.status == "fail" for c in checks)
    outcome = ""
    if status:
        outcome = f"<p>Exécution {STATUS_FR.get(status, html.escape(status))}"
        outcome += f" : {html.escape(reason)}</p>" if reason else "</p>"
    path.write_text(
        "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Qualité — exécution "
        f"{html.escape(run_id)}</title><style>body{{font-family:sans-serif}} td,th{{padding:2px 8px}}"
        " .fail{background:#fdd}</style>"
        f"<h1>Rapport qualité — exécution {html.escape(run_id)}</h1>"
        f"<p>Territoire {html.escape(settings.territory.label)} · mode {settings.source_mode} · "
        f"{len(checks)} contrôles, {failed} en échec</p>{outcome}"
        "<table><tr><th>Source</th><th>Contrôle</th><th>Moteur</th><th>Sévérité</th><th>Résultat</th>"
        f"<th>Observé</th><th>Message</th></tr>{rows}</table></html>\n",
        "utf-8",
    )
    return path
