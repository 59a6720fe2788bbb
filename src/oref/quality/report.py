"""The steward report of a run: one self-contained HTML page in French, and the same verdict for the terminal.

``write_report`` writes ``reports/quality-<run_id>.html`` and copies it to ``reports/latest.html``
(its links are relative to ``reports/``, so the copy's links work too). The page leads with the
verdict (published, degraded, blocked, failed or unchanged) and why; then one line per source
(fetched, unchanged, stale or failed, with its vintage, digest, rows and the change since the last
publication); the indicators of the configured territory that moved most since the previous
publication; the failed checks, then the warnings; links to the run's dbt docs and open-data
package. No script, no external request: inline CSS, readable at 1366 px and printable.

``render_verdict`` prints the same verdict for ``oref quality [RUN]``.

The report reads what the run recorded: the run's record and source states when the caller passes
them, else ``runs/<run_id>/quality.json`` (written by ``finish`` before the report), else the
fetch steps and the landing zone (a report written by the build, before ``finish``).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from oref.config import Settings
from oref.errors import OrefError
from oref.quality.checks import CheckResult
from oref.quality.store import TABLES, RunRecord, SourceStatus, load_record, record_path, schema_of

NBSP = "\u00a0"
LATEST_NAME = "latest.html"
MOVES_SHOWN = 10

# the run's verdict (quality.runs.status) as a steward reads it
STATUS_FR = {
    "published": "Publié",
    "degraded": "Publié en mode dégradé",
    "blocked": "Bloqué",
    "failed": "Échec",
    "unchanged": "Inchangé",
}
# what the verdict means, when the run recorded no reason
STATUS_MEANING_FR = {
    "published": "Aucune source ni aucun contrôle bloquant en échec ; l'entrepôt est publié.",
    "degraded": ("L'entrepôt est publié, mais au moins une source n'a pas pu être récupérée : "
                 "ses derniers fichiers valides ont été utilisés."),
    "blocked": "Une source ou un contrôle bloquant a empêché la publication ; l'entrepôt publié n'a pas changé.",
    "failed": "L'exécution s'est arrêtée sur une erreur ; l'entrepôt publié n'a pas changé.",
    "unchanged": ("Aucune source n'a livré de nouveau fichier, ni le code ni les réglages n'ont changé ; "
                  "rien n'a été reconstruit, l'entrepôt publié reste celui de la dernière publication."),
}
# per source and run (quality.source_status.status)
SOURCE_STATE_FR = {
    "landed": "récupérée",
    "unchanged": "inchangée",
    "stale": "périmée",
    "failed": "en échec",
    "skipped": "non récupérée",
}
UNIT_FR = {"part": "part (en %)", "points": "points de pourcentage", "variation": "variation sur un an (en %)"}
POLICY_FR = {"block": "bloque la publication", "use_last_good": "derniers fichiers valides"}


def report_path(settings: Settings, run_id: str) -> Path:
    return settings.reports_dir / f"quality-{run_id}.html"


def latest_report_path(settings: Settings) -> Path:
    return settings.reports_dir / LATEST_NAME


# --- French formats ----------------------------------------------------------------------------
def fr_number(value: float | int | None, decimals: int | None = None) -> str:
    """``1234567.891`` -> ``1 234 567,89`` (U+00A0 between thousands, decimal comma); ``—`` for none.

    Without ``decimals``: integers as such, other values with up to two decimals.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    strip = decimals is None
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


def fr_signed(value: float | int, decimals: int | None = None) -> str:
    text = fr_number(value, decimals)
    return text if text.startswith("-") or value == 0 else f"+{text}"


def fr_percent(ratio: float | None, decimals: int = 1) -> str:
    """A ratio as a French percentage: ``0.1234`` -> ``12,3 %``."""
    if ratio is None:
        return "—"
    return f"{fr_number(ratio * 100, decimals)}{NBSP}%"


def fr_signed_percent(ratio: float, decimals: int = 1) -> str:
    text = fr_percent(ratio, decimals)
    return text if text.startswith("-") or ratio == 0 else f"+{text}"


def fr_age(days: float | None) -> str:
    if days is None:
        return "âge inconnu"
    whole = int(days)
    if whole < 1:
        return "moins d'un jour"
    return f"{fr_number(whole)}{NBSP}jour" + ("s" if whole > 1 else "")


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def fr_datetime(value: str | None) -> str:
    """An ISO timestamp (UTC) as ``30 novembre 2026 à 21:14 UTC``; the text as given when it does not parse."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS_FR[moment.month - 1]} {moment.year} à {moment:%H:%M} UTC"


def fr_date(value: str | None) -> str:
    text = fr_datetime(value)
    return text.split(" à ")[0]


_STAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})T\d{6}Z$")


def fr_vintage(vintage: str | None) -> str:
    """A data vintage as published (``2025``, ``2025-T4``); an API extract's stamp as its date."""
    if not vintage:
        return "—"
    stamp = _STAMP.match(vintage)
    if stamp:
        year, month, day = (int(g) for g in stamp.groups())
        return f"extrait du {day:02d}/{month:02d}/{year}"
    return vintage


def _esc(value: object) -> str:
    """Text content, escaped."""
    return html.escape("" if value is None else str(value), quote=False)


def _attr(value: object) -> str:
    """An attribute value (the page quotes attributes with ')."""
    return html.escape("" if value is None else str(value), quote=True)


# --- what the report is made of ----------------------------------------------------------------
@dataclass
class Move:
    """One indicator of the configured territory, in the previous publication and in this build."""

    code: str
    label: str
    unit: str
    old_period: str | None
    old_value: float | None
    new_period: str | None
    new_value: float | None

    @property
    def change(self) -> float | None:
        if self.old_value is None or self.new_value is None:
            return None
        return self.new_value - self.old_value

    @property
    def relative(self) -> float | None:
        """(new - old) / |old|; infinite for a value that appears or leaves 0, None when unknown."""
        if self.old_value is None or self.new_value is None:
            return math.inf if (self.old_value is None) != (self.new_value is None) else None
        if self.old_value == 0:
            return 0.0 if self.new_value == 0 else math.inf
        return (self.new_value - self.old_value) / abs(self.old_value)


@dataclass
class Moves:
    """The comparison of this build's indicators with the previous publication's."""

    moves: list[Move]
    compared: int = 0  # indicators compared
    changed: int = 0  # of which moved
    note: str | None = None  # why there is no comparison
    territory_name: str | None = None


@dataclass
class ReportData:
    run_id: str
    status: str | None
    reason: str | None
    record: RunRecord | None
    sources: list[SourceStatus]
    checks: list[CheckResult]
    moves: Moves
    links: list[tuple[str, str]]  # (label, href relative to reports/)


def _read_record(settings: Settings, run_id: str) -> tuple[RunRecord | None, list[SourceStatus]]:
    path = record_path(settings, run_id)
    if not path.is_file():
        return None, []
    try:
        record, _, _, statuses = load_record(path)
    except (OSError, ValueError, TypeError, KeyError):
        return None, []
    return record, statuses


def _digest(files: list[tuple[str, str]]) -> str | None:
    """The digest of a source's (name, sha256) files: the file's own, or the sha256 of sorted "name sha256" lines."""
    if not files:
        return None
    if len(files) == 1:
        return files[0][1]
    return hashlib.sha256("\n".join(sorted(f"{n} {h}" for n, h in files)).encode()).hexdigest()


def sources_from_steps(settings: Settings, run_id: str) -> list[SourceStatus]:
    """Each source's state from the run's fetch steps and the landing zone: a report written before ``finish``."""
    from oref.quality.store import landed_files
    from oref.sources import SOURCE_NAMES

    fetched: dict[str, dict[str, object]] = {}
    steps = settings.runs_dir / run_id / "steps"
    for path in sorted(steps.glob("fetch_*.json")) if steps.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            result = json.loads(path.read_text("utf-8")).get("result") or {}
            if result.get("source"):
                fetched[str(result["source"])] = result
    try:
        files = landed_files(settings)
    except (OSError, ValueError, KeyError):
        files = []
    out: list[SourceStatus] = []
    for name in SOURCE_NAMES:
        mine = [f for f in files if f.source == name]
        result = fetched.get(name, {})
        state = str(result.get("status") or "skipped")
        if state not in SOURCE_STATE_FR:
            state = "failed" if state.startswith("fail") else "skipped"
        vintages = [f.data_vintage or f.vintage for f in mine]
        latest = max((f.fetched_at for f in mine), default=None)
        age = None
        if latest:
            with contextlib.suppress(ValueError):
                landed = datetime.fromisoformat(latest)
                landed = landed if landed.tzinfo else landed.replace(tzinfo=UTC)
                age = (datetime.now(UTC) - landed).total_seconds() / 86400
        rows = [f.rows for f in mine if f.rows is not None]
        out.append(SourceStatus(
            source=name, status=state, policy="", message=str(result.get("message") or ""),  # type: ignore[arg-type]
            data_vintage=max(vintages) if vintages else None, landed_at=latest, age_days=age,
            sha256=_digest([(f.name, f.sha256) for f in mine]), rows=sum(rows) if rows else None,
            files=len(mine)))
    return out


def _last_run(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute("select run_id from quality.runs order by finished_at desc nulls last limit 1").fetchone()
    except duckdb.Error:
        return None
    return str(row[0]) if row else None


def _warehouses(settings: Settings, run_id: str) -> tuple[Path | None, Path | None, str | None]:
    """(this run's warehouse, the previous publication's, why there is nothing to compare)."""
    build = settings.build_dir / run_id / "oref.duckdb"
    current = settings.warehouse_path
    published_by = None
    if current.is_file():
        with contextlib.suppress(duckdb.Error, OSError):
            con = duckdb.connect(str(current), read_only=True)
            try:
                published_by = _last_run(con)
            finally:
                con.close()
    if published_by == run_id:  # published by this run: the previous publication was kept aside
        previous = settings.previous_warehouse_path
        return current, previous if previous.is_file() else None, None
    if build.is_file():
        return build, current if current.is_file() else None, None
    return None, current if current.is_file() else None, "cette exécution n'a pas construit d'entrepôt"


def _catalogue_labels(settings: Settings) -> dict[str, str]:
    from oref.reference import read_seed

    try:
        return {row["indicator_code"]: row["label_fr"] for row in read_seed("indicator_catalogue", settings.seeds_dir)}
    except (OSError, KeyError):
        return {}


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as {alias} (read_only)")


_LATEST_SQL = """
select indicator_code, any_value(indicator_label), any_value(unit), max(territory_name),
       arg_max(period, period), arg_max(value, period)
from {db}.marts.mart_indicators
where territory_level = ? and territory_code = ?
group by indicator_code
"""


def indicator_moves(settings: Settings, new: Path | None, old: Path | None, *, note: str | None = None) -> Moves:
    """Each indicator's latest value for the configured territory, here and in the previous publication.

    The latest period on each side: a new vintage shows as a move from last year's value to this
    year's, a revision as a move of the same period. Ordered by relative change, largest first.
    """
    if new is None:
        return Moves([], note=note or "cette exécution n'a pas construit d'entrepôt")
    level = "region" if settings.territory.kind == "region" else "departement"
    params = [level, settings.territory.code]
    con = duckdb.connect()
    try:
        _attach(con, new, "new_wh")
        new_rows = con.execute(_LATEST_SQL.format(db="new_wh"), params).fetchall()
        old_rows: list[tuple[object, ...]] = []
        if old is not None:
            _attach(con, old, "old_wh")
            old_rows = con.execute(_LATEST_SQL.format(db="old_wh"), params).fetchall()
    except duckdb.Error as exc:
        return Moves([], note=f"comparaison impossible : {str(exc).splitlines()[0]}")
    finally:
        con.close()
    labels = _catalogue_labels(settings)
    territory_name = next((str(r[3]) for r in new_rows if r[3]), None)
    if old is None:
        return Moves([], compared=len(new_rows), note="aucune publication précédente : rien à comparer",
                      territory_name=territory_name)
    olds = {str(r[0]): r for r in old_rows}
    news = {str(r[0]): r for r in new_rows}
    moves: list[Move] = []
    for code in sorted(set(olds) | set(news)):
        n, o = news.get(code), olds.get(code)
        either = n or o
        assert either is not None
        label = str(either[1] or labels.get(code) or code)
        moves.append(Move(code, label, str(either[2] or ""),
                          str(o[4]) if o else None, _float(o[5]) if o else None,
                          str(n[4]) if n else None, _float(n[5]) if n else None))
    changed = [m for m in moves if (m.old_value, m.old_period) != (m.new_value, m.new_period)]
    changed.sort(key=lambda m: (-(abs(m.relative) if m.relative is not None else -1.0), m.code))
    return Moves(changed, compared=len(moves), changed=len(changed), territory_name=territory_name)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _links(settings: Settings, run_id: str) -> list[tuple[str, str]]:
    """Links relative to ``reports/`` (so ``latest.html`` beside it links the same files)."""
    candidates = [
        ("Documentation dbt de l'exécution", settings.data_dir / "docs" / run_id / "index.html"),
        ("Paquet open data (datapackage.json)", settings.data_dir / "opendata" / run_id / "datapackage.json"),
    ]
    out = []
    for label, path in candidates:
        if path.is_file():
            out.append((label, os.path.relpath(path, settings.reports_dir).replace(os.sep, "/")))
    return out


def gather(settings: Settings, run_id: str, checks: list[CheckResult], *, status: str | None = None,
           reason: str | None = None, sources: list[SourceStatus] | None = None,
           record: RunRecord | None = None) -> ReportData:
    """Everything the report shows, from what is given and what the run left on disk."""
    saved_record, saved_sources = _read_record(settings, run_id)
    if record is None and saved_record is not None and (status is None or saved_record.status == status):
        record = saved_record
    if sources is None:
        sources = saved_sources or sources_from_steps(settings, run_id)
    if record is not None:
        status = status or record.status
        reason = reason if reason is not None else record.reason
    new, old, note = _warehouses(settings, run_id)
    if status == "unchanged":
        new, note = None, "rien n'a été reconstruit : les indicateurs publiés n'ont pas changé"
    moves = indicator_moves(settings, new, old, note=note)
    return ReportData(run_id, status, reason, record, sources, checks, moves, _links(settings, run_id))


# --- the verdict in words ------------------------------------------------------------------------
def _failures(checks: Iterable[CheckResult]) -> list[CheckResult]:
    return sorted((c for c in checks if c.status == "fail" and c.severity == "error"),
                  key=lambda c: (c.source, c.check_name))


def _warnings(checks: Iterable[CheckResult]) -> list[CheckResult]:
    return sorted((c for c in checks if c.status == "fail" and c.severity != "error"),
                  key=lambda c: (c.source, c.check_name))


def source_title(code: str) -> str:
    from oref.reference import source_metadata

    try:
        return source_metadata(code).title
    except KeyError:
        return code


def verdict_title(data: ReportData) -> str:
    if data.status is None:
        return "Bloqué" if _failures(data.checks) else "Construit, en attente de publication"
    return STATUS_FR.get(data.status, data.status)


def verdict_why(data: ReportData) -> str:
    """Why, in plain French words, from the run's states and checks (the recorded reason is shown beside)."""
    stale = [s for s in data.sources if s.status == "stale"]
    failed = [s for s in data.sources if s.status == "failed"]
    failures = _failures(data.checks)
    if data.status is None:
        if failures:
            return f"{_count(len(failures), 'contrôle bloquant')} en échec : la construction ne sera pas publiée."
        return "La construction a passé ses contrôles ; la publication n'a pas encore eu lieu."
    after = (f" Attention : {_count(len(failures), 'contrôle bloquant')} en échec "
             "(voir « Échecs »)." if failures else "")
    if data.status == "published" and failures:
        # published, then a later step failed (the open-data export): the warehouse is the new one
        return (f"L'entrepôt est publié, mais {_count(len(failures), 'contrôle bloquant')} "
                f"{'est' if len(failures) == 1 else 'sont'} en échec : voir « Échecs ».")
    if data.status == "degraded" and stale:
        if len(stale) == 1:
            return (f"La source {source_title(stale[0].source)} n'a pas pu être récupérée ; ses derniers fichiers "
                    f"valides, récupérés il y a {fr_age(stale[0].age_days)}, ont été utilisés. "
                    "Les autres sources sont publiées à jour." + after)
        names = ", ".join(f"{source_title(s.source)} (récupérés il y a {fr_age(s.age_days)})" for s in stale)
        return (f"{len(stale)} sources n'ont pas pu être récupérées ; leurs derniers fichiers valides ont été "
                f"utilisés : {names}. Les autres sources sont publiées à jour." + after)
    if data.status == "blocked":
        parts = []
        if failed:
            parts.append(f"{'la source' if len(failed) == 1 else 'les sources'} "
                         + ", ".join(source_title(s.source) for s in failed)
                         + (" est en échec et bloque" if len(failed) == 1 else " sont en échec et bloquent")
                         + " la publication")
        if failures:
            parts.append(f"{_count(len(failures), 'contrôle bloquant')} en échec")
        if parts:
            text = " ; ".join(parts)
            return text[0].upper() + text[1:] + ". L'entrepôt publié n'a pas changé."
    return STATUS_MEANING_FR.get(data.status, "")


def _count(n: int, noun: str) -> str:
    """``3 contrôles réussis``; in French 0 and 1 take the singular."""
    if n in (0, 1):
        return f"{n} {noun}"
    # "non récupérée" -> "non récupérées", "en échec" -> "en échec": the adverb and the prepositions
    # stay, and so does the noun a preposition governs
    out: list[str] = []
    previous = ""
    for word in noun.split(" "):
        keep = word in ("non", "en", "de", "à") or previous in ("en", "de", "à") or word.endswith(("s", "x"))
        out.append(word if keep else f"{word}s")
        previous = word
    return f"{fr_number(n)} " + " ".join(out)


# --- HTML ----------------------------------------------------------------------------------------
CSS = """
:root{--ok:#1b6e3a;--ok-bg:#e6f4ea;--warn:#8a4b00;--warn-bg:#fff3e0;--bad:#a61b1b;--bad-bg:#fdecea;
--muted:#555;--line:#d8d8d8;--same:#3d4f66;--same-bg:#eef2f7}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1d1d1d;background:#fff}
main{max-width:1240px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:30px;margin:0 0 6px;line-height:1.2}
h2{font-size:20px;margin:32px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.verdict{border-left:8px solid var(--same);background:var(--same-bg);padding:16px 20px;border-radius:4px}
.verdict.published{border-color:var(--ok);background:var(--ok-bg)}
.verdict.degraded,.verdict.pending{border-color:var(--warn);background:var(--warn-bg)}
.verdict.blocked,.verdict.failed{border-color:var(--bad);background:var(--bad-bg)}
.verdict.published h1{color:var(--ok)} .verdict.degraded h1{color:var(--warn)}
.verdict.blocked h1,.verdict.failed h1{color:var(--bad)}
.why{font-size:17px;margin:4px 0 8px}
.detail{margin:8px 0 0;font-size:.87em;color:var(--muted);white-space:pre-wrap;overflow-wrap:anywhere}
.facts{display:flex;flex-wrap:wrap;gap:4px 24px;margin:10px 0 0;padding:0;list-style:none;font-size:.93em}
.facts b{font-weight:600}
.counts{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 0}
.pill{display:inline-block;padding:2px 10px;border-radius:12px;font-size:.87em;font-weight:600;
border:1px solid currentColor;white-space:nowrap}
.pill.bad{color:var(--bad);background:#fff} .pill.warn{color:var(--warn);background:#fff}
.pill.ok{color:var(--ok);background:#fff} .pill.same{color:var(--same);background:#fff}
table{width:100%;border-collapse:collapse;table-layout:fixed;font-size:.93em}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:normal}
th{background:#f4f4f4;font-weight:600;font-size:.93em;overflow-wrap:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.state{font-weight:600}
.state.landed{color:var(--ok)} .state.unchanged{color:var(--same)} .state.stale{color:var(--warn)}
.state.failed{color:var(--bad)} .state.skipped{color:var(--muted)}
tr.stale td{background:var(--warn-bg)} tr.failed td{background:var(--bad-bg)}
.sub{display:block;color:var(--muted);font-size:.88em}
code,.sha{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.88em}
.sha{white-space:nowrap}
.sub code{font-size:1em}
.msg{white-space:pre-wrap}
.note{color:var(--muted);font-style:italic}
ul.links{padding-left:20px}
details{margin-top:10px} summary{cursor:pointer;color:var(--muted)}
footer{margin-top:36px;color:var(--muted);font-size:.85em}
@media print{
@page{size:A4;margin:12mm}
body{font-size:10pt;background:#fff}
main{max-width:none;padding:0}
h1{font-size:20pt} h2{font-size:13pt;margin-top:16pt;break-after:avoid}
table{font-size:8.5pt} th,td{padding:3pt 4pt} .why{font-size:11pt}
tr{break-inside:avoid}
.verdict,tr.stale td,tr.failed td,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit}
ul.links a::after{content:" (" attr(href) ")";font-size:8pt;color:var(--muted);overflow-wrap:anywhere}
details>summary{display:none}
}
"""


def _verdict_class(data: ReportData) -> str:
    if data.status is None:
        return "blocked" if _failures(data.checks) else "pending"
    return data.status


def _sha_cell(sha: str | None) -> str:
    if not sha:
        return "—"
    return f"<span class='sha' title='{_attr(sha)}'>{_esc(sha[:12])}…</span>"


def _rows_cell(s: SourceStatus) -> str:
    text = fr_number(s.rows)
    if s.rows is None or s.previous_rows is None:
        return text
    delta = s.rows - s.previous_rows
    if delta == 0:
        return f"{text}<span class='sub'>inchangé</span>"
    rel = f" ; {fr_signed_percent(delta / s.previous_rows)}" if s.previous_rows else ""
    return f"{text}<span class='sub'>{fr_signed(delta)}{rel}</span>"


def _change_cell(s: SourceStatus) -> str:
    """The change since the last publication: vintage then -> now, digest."""
    if s.previous_data_vintage is None and s.previous_sha256 is None and s.previous_rows is None:
        return "<span class='note'>pas de publication précédente</span>"
    parts = []
    if s.previous_data_vintage != s.data_vintage:
        parts.append(f"millésime {_esc(fr_vintage(s.previous_data_vintage))} → {_esc(fr_vintage(s.data_vintage))}")
    else:
        parts.append(f"même millésime ({_esc(fr_vintage(s.data_vintage))})")
    if s.previous_sha256 and s.sha256:
        parts.append("mêmes fichiers" if s.previous_sha256 == s.sha256 else
                     f"fichiers changés (avant {_sha_cell(s.previous_sha256)})")
    return "<br>".join(parts)


def _state_cell(s: SourceStatus) -> str:
    label = SOURCE_STATE_FR.get(s.status, s.status)
    out = f"<span class='state {_attr(s.status)}'>{_esc(label)}</span>"
    if s.status == "stale":
        out += (f"<span class='sub'>derniers fichiers valides utilisés, récupérés il y a {_esc(fr_age(s.age_days))}"
                "</span>")
    elif s.landed_at and s.status in ("landed", "unchanged"):
        out += f"<span class='sub'>récupérée le {_esc(fr_date(s.landed_at))}</span>"
    if s.policy == "block" or (s.policy and s.status in ("stale", "failed")):  # the default goes unsaid
        out += f"<span class='sub'>en cas d'échec : {_esc(POLICY_FR.get(s.policy, s.policy))}</span>"
    return out


def _source_rows(sources: list[SourceStatus]) -> str:
    order = {"failed": 0, "stale": 1}
    rows = []
    for s in sorted(sources, key=lambda s: order.get(s.status, 2)):
        message = (f"<span class='sub msg'>{_esc(s.message)}</span>" if s.message and s.status in
                   ("stale", "failed", "skipped") else "")
        rows.append(
            f"<tr class='{_attr(s.status)}'><td><b>{_esc(source_title(s.source))}</b>"
            f"<span class='sub'><code>{_esc(s.source)}</code></span>{message}</td>"
            f"<td>{_state_cell(s)}</td><td>{_esc(fr_vintage(s.data_vintage))}</td>"
            f"<td>{_sha_cell(s.sha256)}<span class='sub'>{_count(s.files, 'fichier') if s.files else ''}</span></td>"
            f"<td class='num'>{_rows_cell(s)}</td><td>{_change_cell(s)}</td></tr>")
    return "\n".join(rows)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "part":
        return fr_percent(value)
    if unit == "variation":
        return fr_signed_percent(value)
    return fr_number(round(value, 2 if abs(value) < 100 else 1))


def _move_rows(moves: list[Move]) -> str:
    rows = []
    for m in moves[:MOVES_SHOWN]:
        rel = m.relative
        if m.old_value is None or m.new_value is None:
            change = "nouvelle valeur" if m.old_value is None else "valeur disparue"
        else:
            delta = m.new_value - m.old_value
            # a share or a change moves in percentage points
            abs_text = (fr_signed(round(delta * 100, 1), 1) + f"{NBSP}pt" if m.unit in ("part", "variation")
                        else fr_signed(round(delta, 2 if abs(delta) < 100 else 1)))
            rel_text = ("" if rel is None or math.isinf(rel) or m.old_value == 0
                        else f" ({fr_signed_percent(rel)})")
            change = abs_text + rel_text
        periods = (f"{_esc(m.old_period or '—')} → {_esc(m.new_period or '—')}"
                   if m.old_period != m.new_period else _esc(m.new_period or "—"))
        rows.append(
            f"<tr><td>{_esc(m.label)}<span class='sub'><code>{_esc(m.code)}</code>"
            f"{' · ' + _esc(UNIT_FR.get(m.unit, m.unit)) if m.unit else ''}</span></td>"
            f"<td>{periods}</td><td class='num'>{_value(m.old_value, m.unit)}</td>"
            f"<td class='num'>{_value(m.new_value, m.unit)}</td><td class='num'>{change}</td></tr>")
    return "\n".join(rows)


def _check_rows(checks: list[CheckResult]) -> str:
    return "\n".join(
        f"<tr><td><b>{_esc(source_title(c.source) if c.source != 'warehouse' else 'Entrepôt')}</b>"
        f"<span class='sub'><code>{_esc(c.source)}</code></span></td>"
        f"<td><code>{_esc(c.check_name)}</code><span class='sub'>{_esc(c.engine)}</span></td>"
        f"<td class='msg'>{_esc(c.message) or '—'}"
        + (f"<span class='sub'>observé : {_esc(c.observed)}</span>" if c.observed else "")
        + (f"<span class='sub'>cible : {_esc(c.target)}</span>" if c.target else "")
        + "</td></tr>"
        for c in checks)


_CHECK_HEAD = ("<table><colgroup><col style='width:20%'><col style='width:24%'><col></colgroup>"
               "<thead><tr><th>Source</th><th>Contrôle</th><th>Message</th></tr></thead><tbody>")


def render_html(settings: Settings, data: ReportData) -> str:
    failures, warnings = _failures(data.checks), _warnings(data.checks)
    passed = [c for c in data.checks if c.status == "pass"]
    record = data.record
    facts = [("Exécution", f"<code>{_esc(data.run_id)}</code>"),
             ("Territoire", _esc(settings.territory.label + (f" — {data.moves.territory_name}"
                                                              if data.moves.territory_name else "")))]
    if record is not None:
        facts.append(("Date", _esc(fr_datetime(record.finished_at))))
        if record.as_of:
            facts.append(("Reconstruction à la date du", _esc(fr_datetime(record.as_of))))
        if record.published_run_id and record.published_run_id != data.run_id:
            facts.append(("Entrepôt publié", f"exécution <code>{_esc(record.published_run_id)}</code>"))
    else:
        facts.append(("Date", _esc(fr_datetime(datetime.now(UTC).isoformat(timespec="seconds")))))
    facts.append(("Sources", _esc("données réelles" if settings.source_mode == "live" else
                                  f"instantané ({settings.source_mode})")))
    detail = (f"<p class='detail'>Détail : {_esc(data.reason)}</p>" if data.reason else "")
    title = verdict_title(data)
    counts = (f"<span class='pill {'bad' if failures else 'ok'}'>{_count(len(failures), 'échec')}</span>"
              f"<span class='pill {'warn' if warnings else 'ok'}'>{_count(len(warnings), 'avertissement')}</span>"
              f"<span class='pill same'>{_count(len(passed), 'contrôle réussi')}</span>")
    for state, css in (("failed", "bad"), ("stale", "warn"), ("landed", "ok"), ("unchanged", "same"),
                       ("skipped", "same")):
        n = sum(s.status == state for s in data.sources)
        if n:
            counts += f"<span class='pill {css}'>{_count(n, 'source ' + SOURCE_STATE_FR[state])}</span>"

    parts = [
        "<!doctype html>\n<html lang='fr'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_esc(title)} — rapport qualité {_esc(data.run_id)}</title><style>{CSS}</style></head>",
        "<body><main>",
        f"<section class='verdict {_attr(_verdict_class(data))}' id='verdict'><h1>{_esc(title)}</h1>",
        f"<p class='why'>{_esc(verdict_why(data))}</p>{detail}",
        "<ul class='facts'>" + "".join(f"<li><b>{k}{NBSP}:</b> {v}</li>" for k, v in facts) + "</ul>",
        f"<div class='counts'>{counts}</div></section>",
    ]
    # sources
    parts.append("<h2 id='sources'>Sources</h2>")
    if data.sources:
        parts.append(
            "<table><colgroup><col style='width:24%'><col style='width:17%'><col style='width:11%'>"
            "<col style='width:14%'><col style='width:12%'><col></colgroup><thead><tr><th>Source</th>"
            "<th>État</th><th>Millésime</th><th>Empreinte (sha256)</th><th class='num'>Lignes</th>"
            "<th>Depuis la dernière publication</th></tr></thead><tbody>"
            + _source_rows(data.sources) + "</tbody></table>")
    else:
        parts.append("<p class='note'>Aucune source n'a été récupérée ni chargée par cette exécution.</p>")
    # indicators
    parts.append("<h2 id='indicateurs'>Indicateurs qui ont le plus bougé</h2>")
    moves = data.moves
    since = ("depuis la publication précédente" if data.status in ("published", "degraded")
             else "par rapport à l'entrepôt publié (cette construction n'est pas publiée)")
    if moves.note:
        parts.append(f"<p class='note'>{_esc(moves.note[0].upper() + moves.note[1:])}.</p>")
    elif not moves.moves:
        parts.append(f"<p>Aucun des {fr_number(moves.compared)} indicateurs du territoire n'a changé {since}.</p>")
    else:
        shown = min(len(moves.moves), MOVES_SHOWN)
        parts.append(
            f"<p>{_count(moves.changed, 'indicateur')} sur {fr_number(moves.compared)} "
            f"{'a' if moves.changed <= 1 else 'ont'} changé {since} (dernière "
            f"période de chaque indicateur, territoire {_esc(settings.territory.label)}) ; "
            f"{'le' if shown == 1 else f'les {shown}'} plus fort{'s' if shown > 1 else ''} "
            f"en valeur relative{NBSP}:</p>"
            "<table><colgroup><col style='width:38%'><col style='width:13%'><col style='width:15%'>"
            "<col style='width:15%'><col></colgroup><thead><tr><th>Indicateur</th><th>Période</th>"
            "<th class='num'>Avant</th><th class='num'>Maintenant</th><th class='num'>Évolution</th></tr>"
            "</thead><tbody>" + _move_rows(moves.moves) + "</tbody></table>")
    # checks
    parts.append(f"<h2 id='echecs'>Échecs ({fr_number(len(failures))})</h2>")
    parts.append(_CHECK_HEAD + _check_rows(failures) + "</tbody></table>" if failures
                 else "<p>Aucun contrôle bloquant en échec.</p>")
    parts.append(f"<h2 id='avertissements'>Avertissements ({fr_number(len(warnings))})</h2>")
    parts.append(_CHECK_HEAD + _check_rows(warnings) + "</tbody></table>" if warnings
                 else "<p>Aucun avertissement.</p>")
    if passed:
        parts.append(f"<details><summary>{_count(len(passed), 'contrôle réussi')}</summary>"
                     + _CHECK_HEAD + _check_rows(sorted(passed, key=lambda c: (c.source, c.check_name)))
                     + "</tbody></table></details>")
    # links
    parts.append("<h2 id='liens'>Documentation et données</h2>")
    if data.links:
        parts.append("<ul class='links'>" + "".join(f"<li><a href='{_attr(href)}'>{_esc(label)}</a></li>"
                                                    for label, href in data.links) + "</ul>")
    else:
        parts.append("<p class='note'>Ni documentation dbt ni paquet open data pour cette exécution "
                     "(ils sont produits à la publication).</p>")
    parts.append(f"<footer>Rapport qualité oref · exécution {_esc(data.run_id)} · écrit le "
                 f"{_esc(fr_datetime(datetime.now(UTC).isoformat(timespec='seconds')))}</footer>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def write_report(settings: Settings, run_id: str, checks: list[CheckResult], *, status: str | None = None,
                 reason: str | None = None, sources: list[SourceStatus] | None = None,
                 record: RunRecord | None = None) -> Path:
    """Write ``reports/quality-<run_id>.html`` and, for a finished run (``status`` given), ``reports/latest.html``.

    ``sources`` and ``record`` default to the run's ``quality.json``, else its fetch steps and the
    landing zone.
    """
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    data = gather(settings, run_id, checks, status=status, reason=reason, sources=sources, record=record)
    text = render_html(settings, data)
    path = report_path(settings, run_id)
    _write_atomic(path, text)
    if data.status is not None:
        _write_atomic(latest_report_path(settings), text)
    return path


# --- the terminal --------------------------------------------------------------------------------
def _latest_run_id(settings: Settings) -> str | None:
    store = settings.quality_path
    if store.is_file():
        with contextlib.suppress(duckdb.Error, OSError):
            con = duckdb.connect(str(store), read_only=True)
            try:
                row = con.execute(f"select run_id from {schema_of(con)}.runs "
                                  "order by finished_at desc nulls last, run_id desc limit 1").fetchone()
                if row:
                    return str(row[0])
            finally:
                con.close()
    records = sorted(settings.runs_dir.glob("*/quality.json")) if settings.runs_dir.is_dir() else []
    return records[-1].parent.name if records else None


def _from_store(settings: Settings, run_id: str) -> tuple[RunRecord, list[CheckResult], list[SourceStatus]] | None:
    store = settings.quality_path
    if not store.is_file():
        return None
    try:
        con = duckdb.connect(str(store), read_only=True)
    except (duckdb.Error, OSError):
        return None
    try:
        schema = schema_of(con)

        def rows(table: str, *, skip_run_id: bool) -> list[dict[str, Any]]:
            columns = [c for c, _ in TABLES[table]][1 if skip_run_id else 0:]
            found = con.execute(f"select {', '.join(columns)} from {schema}.{table} where run_id = ?",
                                [run_id]).fetchall()
            # the store's timestamps are naive UTC; the dataclasses hold ISO text
            return [{c: (v.isoformat() if isinstance(v, datetime) else v) for c, v in zip(columns, r, strict=True)}
                    for r in found]

        runs = rows("runs", skip_run_id=False)
        if not runs:
            return None
        record = RunRecord(**runs[0])
        checks = []
        for r in rows("check_results", skip_run_id=True):
            texts: dict[str, Any] = {k: "" if v is None else v for k, v in r.items()}
            checks.append(CheckResult(**texts))
        sources = [SourceStatus(**r) for r in rows("source_status", skip_run_id=True)]
        return record, checks, sources
    except duckdb.Error:
        return None
    finally:
        con.close()


def render_verdict(settings: Settings, run_id: str | None = None) -> str:
    """The run's verdict for the terminal (``oref quality [RUN]``), in French; default: the latest run."""
    run_id = run_id or _latest_run_id(settings)
    if run_id is None:
        raise OrefError(f"no run recorded yet in {settings.quality_path} nor in {settings.runs_dir}: "
                        "run `oref run` first")
    loaded: tuple[RunRecord, list[CheckResult], list[SourceStatus]] | None = None
    path = record_path(settings, run_id)
    if path.is_file():
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            record, checks, _, sources = load_record(path)
            loaded = record, checks, sources
    if loaded is None:
        loaded = _from_store(settings, run_id)
    if loaded is None:
        raise OrefError(f"run {run_id!r} is not recorded in {settings.quality_path} nor in {path}")
    record, checks, sources = loaded
    if not sources:
        sources = sources_from_steps(settings, run_id)
    data = ReportData(run_id, record.status, record.reason, record, sources, checks, Moves([]), [])
    failures, warnings = _failures(checks), _warnings(checks)
    why = verdict_why(data)
    lines = [f"{verdict_title(data)} : {why[:1].lower() + why[1:]}"]
    if record.reason:
        lines.append(f"  détail : {record.reason.splitlines()[0]}")
    context = f"exécution {run_id} · territoire {record.territory} · {fr_datetime(record.finished_at)}"
    if record.as_of:
        context += f" · reconstruction à la date du {fr_datetime(record.as_of)}"
    lines.append(context)
    width = max((len(s.source) for s in sources), default=0)
    state_width = max((len(SOURCE_STATE_FR.get(s.status, s.status)) for s in sources), default=0)
    vintage_width = max((len(fr_vintage(s.data_vintage)) for s in sources), default=0)
    for s in sources:
        state = SOURCE_STATE_FR.get(s.status, s.status)
        vintage = fr_vintage(s.data_vintage)
        line = (f"  {s.source:<{width}}  {state:<{state_width}}  millésime {vintage:<{vintage_width}}"
                f"  récupérée il y a {fr_age(s.age_days)}")
        if s.status in ("stale", "failed") and s.message:
            line += f"  ({s.message.splitlines()[0]})"
        lines.append(line.replace(NBSP, " "))
    lines.append(f"Contrôles : {_count(len(failures), 'échec')}, {_count(len(warnings), 'avertissement')}, "
                 f"{_count(sum(c.status == 'pass' for c in checks), 'réussi')}")
    report = Path(record.report_path) if record.report_path else report_path(settings, run_id)
    lines.append(f"Rapport : {report}")
    return "\n".join(line.replace(NBSP, " ") for line in lines)

