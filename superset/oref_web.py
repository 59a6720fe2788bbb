"""Pages oref adds to Superset (registered through ``BLUEPRINTS`` in superset_config.py).

- ``/oref/indicateurs``: the indicator catalogue (``marts.dim_indicator`` of the served marts), one
  anchor per indicator code, for any logged-in user: the scorecard links each indicator there.
- ``/oref/rapports/<run_id>``: the HTML quality report of a pipeline run,
  ``$OREF_DATA_DIR/reports/quality-<run_id>.html``, for the Steward and Admin roles only, so the
  "Qualité des données" dashboard can link to it. Anonymous users are sent to the login page;
  other roles get 403; a run id that is not a plain name (``..``, slashes, anything outside
  ``[A-Za-z0-9_.-]``) gets 404 without touching the file system.
- ``/oref/docs/<run_id>/<file>`` and ``/oref/opendata/<run_id>/<file>``: the dbt docs and the
  open-data package of a run, which the quality report links to (``../docs/<run>/index.html`` from
  ``/oref/rapports/<run>``), for the same roles and with the same checks; a path leaving the run's
  directory gets 404.
- A French 404 page: Superset serves a static English one (which also loads Google Fonts).
- The language pack for the login page: Superset serves it only to users holding
  ``can_language_pack``, which the (empty) Public role does not, so the login page stayed in
  English. :func:`public_language_pack` serves the pack of a configured language to anyone: it
  is Superset's own static translation file, and the Public role stays empty.
- :func:`french_corrections`: compiles ``translations/`` beside this file (corrections to
  Superset's French catalogue) for ``BABEL_TRANSLATION_DIRECTORIES``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, send_file

REPORT_ROLES = frozenset({"Admin", "Steward"})
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

blueprint = Blueprint("oref", __name__, url_prefix="/oref")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def french_corrections(data_dir: Path) -> Path:
    """Compile ``translations/<lang>/LC_MESSAGES/messages.po`` to ``<data_dir>/translations``.

    Flask-Babel merges the catalogues of ``BABEL_TRANSLATION_DIRECTORIES`` in order, later ones
    overriding earlier ones. Compiled at each start (a few entries, milliseconds) so that no
    binary .mo file lives in git; several gunicorn workers may do it at once, hence the
    write-then-rename.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = data_dir / "translations"
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalog = read_po(source)
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        with partial.open("wb") as out:
            write_mo(out, catalog)
        os.replace(partial, mo)
    return target


def reports_dir() -> Path:
    """Where the pipeline writes its HTML reports (``oref.config.Settings.reports_dir``)."""
    return Path(os.environ.get("OREF_DATA_DIR") or "data").resolve() / "reports"


def report_path(run_id: str, directory: Path | None = None) -> Path | None:
    """The report file of ``run_id``, or None when the id could name anything else."""
    if not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        return None
    directory = (directory or reports_dir()).resolve()
    path = (directory / f"quality-{run_id}.html").resolve()
    # resolve() follows symlinks: a link placed in reports/ cannot point outside it.
    return path if path.parent == directory else None


def _stewards_only() -> Any:
    """A login redirect or a 403 page for who may not read run reports; None for who may."""
    from flask_login import current_user
    from superset.extensions import appbuilder

    if not current_user.is_authenticated:
        return redirect(appbuilder.get_url_for_login_with(request.full_path))
    if not REPORT_ROLES & {role.name for role in current_user.roles}:
        return _page(
            403,
            "Accès refusé",
            "Les rapports de qualité sont réservés aux rôles Steward et Admin.",
        )
    return None


RUN_FILES = ("docs", "opendata")  # directories of $OREF_DATA_DIR holding one sub-directory per run


def run_file_path(kind: str, run_id: str, name: str, data_dir: Path | None = None) -> Path | None:
    """``$OREF_DATA_DIR/<kind>/<run_id>/<name>``, or None when it would leave that directory."""
    if kind not in RUN_FILES or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        return None
    base = ((data_dir or reports_dir().parent) / kind / run_id).resolve()
    path = (base / name).resolve()
    return path if path.is_relative_to(base) and path != base else None


@blueprint.route("/<any(docs, opendata):kind>/<run_id>/<path:name>")
def run_file(kind: str, run_id: str, name: str) -> Any:
    refused = _stewards_only()
    if refused is not None:
        return refused
    path = run_file_path(kind, run_id, name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.route("/rapports/<run_id>")
def quality_report(run_id: str) -> Any:
    refused = _stewards_only()
    if refused is not None:
        return refused
    path = report_path(run_id)
    if path is None or not path.is_file():
        abort(404)
    # The report is static HTML written by the pipeline (inline style, no script); Talisman adds
    # superset_config.py's Content-Security-Policy to it like to every page.
    response = send_file(path, mimetype="text/html", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


CATALOGUE_SQL = """
select d.indicator_code, d.indicator_label, d.preconisation_code, d.preconisation_title, d.definition,
       d.formula, d.unit, d.direction, d.source_label, d.grain, d.target_value, d.target_label,
       s.source_vintage, s.latest_period_label
from marts.dim_indicator as d
left join marts.dash_scorecard as s
    on s.indicator_code = d.indicator_code and s.is_configured_territory
order by d.preconisation_code, d.indicator_label
"""
DIRECTIONS = {"hausse_favorable": "une hausse est favorable", "baisse_favorable": "une baisse est favorable",
              "neutre": "indicateur de contexte, sans sens favorable"}


@blueprint.route("/indicateurs")
def indicator_catalogue() -> Any:
    """The catalogue of the indicators, in French, read from the served marts."""
    from html import escape

    from flask_login import current_user
    from superset.extensions import appbuilder
    from superset.models.core import Database

    from superset import db

    if not current_user.is_authenticated:
        return redirect(appbuilder.get_url_for_login_with(request.full_path))
    database = db.session.query(Database).filter_by(database_name="oref").one_or_none()
    try:
        if database is None:
            raise LookupError("no database oref")
        frame = database.get_df(CATALOGUE_SQL, schema="marts")
    except Exception:  # an older warehouse without dim_indicator, or none published yet
        return _page(503, "Catalogue indisponible",
                     "Le catalogue des indicateurs n'est pas encore publié : lancez une exécution du pipeline.")
    def text(value: Any) -> str:
        return "—" if value is None or value != value else escape(str(value))  # NaN != NaN

    sections: list[str] = []
    current = None
    for row in frame.to_dict("records"):
        if row["preconisation_code"] != current:
            current = row["preconisation_code"]
            sections.append(f"<h2>{text(current)}. {text(row['preconisation_title'])}</h2>")
        target = "—" if row["target_value"] is None or row["target_value"] != row["target_value"] else (
            f"{text(row['target_label'])}")
        sections.append(
            f'<section id="{text(row["indicator_code"])}"><h3>{text(row["indicator_label"])}</h3><dl>'
            f"<dt>Définition</dt><dd>{text(row['definition'])}</dd>"
            f"<dt>Formule</dt><dd>{text(row['formula'])}</dd>"
            f"<dt>Unité</dt><dd>{text(row['unit'])} ; {escape(DIRECTIONS.get(row['direction'], row['direction']))}</dd>"
            f"<dt>Source</dt><dd>{text(row['source_label'])} — millésime {text(row['source_vintage'])}"
            f" (dernière période publiée : {text(row['latest_period_label'])})</dd>"
            f"<dt>Grain</dt><dd>{text(row['grain'])}</dd>"
            f"<dt>Cible</dt><dd>{target}</dd>"
            f"<dt>Code</dt><dd><code>{text(row['indicator_code'])}</code></dd></dl></section>"
        )
    body = "".join(sections)
    html = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Catalogue des indicateurs – oref</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;color:#1f2d3d;max-width:56rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}}h1{{color:#1985a0}}h2{{margin-top:2.5rem;border-bottom:1px solid #ddd}}
section{{padding:.5rem 1rem;margin:1rem 0;border-left:4px solid #e0e0e0}}section:target{{border-color:#1985a0;
background:#eef7fa}}dt{{font-weight:600;margin-top:.4rem}}dd{{margin:0 0 0 1rem}}a{{color:#1985a0}}</style></head>
<body><p><a href="/superset/dashboard/pilotage-preconisations/">← Pilotage des préconisations</a></p>
<h1>Catalogue des indicateurs</h1><p>Définition, formule, source et millésime de chaque indicateur publié par
l'entrepôt oref, par préconisation.</p>{body}</body></html>"""
    return Response(html, status=200, mimetype="text/html")


def _page(status: int, title: str, text: str) -> Response:
    html = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{title} – oref</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;color:#1f2d3d;display:flex;min-height:90vh;
align-items:center;justify-content:center;margin:0}}main{{max-width:36rem;padding:2rem}}
h1{{font-size:3rem;margin:0 0 1rem;color:#1985a0}}a{{color:#1985a0}}</style></head>
<body><main><h1>{status}</h1><h2>{title}</h2><p>{text}</p>
<p><a href="/superset/welcome/">Retour à l'accueil</a></p></main></body></html>"""
    return Response(html, status=status, mimetype="text/html")


_LANGUAGE_PACK = re.compile(r"/superset/language_pack/([a-z]{2,3}(?:_[A-Z]{2})?)/")


@blueprint.before_app_request
def public_language_pack() -> Any:
    match = _LANGUAGE_PACK.fullmatch(request.path)
    if request.method != "GET" or match is None:
        return None
    from flask import current_app
    from superset.translations.utils import DIR

    lang = match.group(1)
    path = Path(DIR) / lang / "LC_MESSAGES" / "messages.json"
    if lang not in (current_app.config.get("LANGUAGES") or {}) or not path.is_file():
        return None  # Superset answers as usual
    return send_file(path, mimetype="application/json", max_age=3600)


@blueprint.app_errorhandler(404)
def not_found(error: Exception) -> Any:
    """Superset's 404 for a browser is a static English page; the API keeps its JSON answer."""
    if "text/html" in request.accept_mimetypes and not request.path.startswith("/api/"):
        return _page(404, "Page introuvable", "La page demandée n'existe pas ou a été déplacée.")
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.views.base import json_error_response

    return json_error_response(
        [
            SupersetError(
                message="Ressource introuvable.",
                error_type=SupersetErrorType.GENERIC_BACKEND_ERROR,
                level=ErrorLevel.ERROR,
            )
        ],
        status=404,
    )
