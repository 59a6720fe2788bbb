"""Pages oref adds to Superset (registered through ``BLUEPRINTS`` in superset_config.py).

- ``/oref/rapports/<run_id>``: the HTML quality report of a pipeline run,
  ``$OREF_DATA_DIR/reports/quality-<run_id>.html``, for the Steward and Admin roles only, so the
  "Qualité des données" dashboard can link to it. Anonymous users are sent to the login page;
  other roles get 403; a run id that is not a plain name (``..``, slashes, anything outside
  ``[A-Za-z0-9_.-]``) gets 404 without touching the file system.
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


@blueprint.route("/rapports/<run_id>")
def quality_report(run_id: str) -> Any:
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
    path = report_path(run_id)
    if path is None or not path.is_file():
        abort(404)
    # The report is static HTML written by the pipeline (inline style, no script); Talisman adds
    # superset_config.py's Content-Security-Policy to it like to every page.
    response = send_file(path, mimetype="text/html", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
