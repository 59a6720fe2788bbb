"""Emulator of ``GET https://recherche-entreprises.api.gouv.fr/search`` (API Recherche d'entreprises).

Data: ``<snapshot>/recherche-entreprises.api.gouv.fr/search.jsonl``, one ``results[]`` item per line
plus ``_etablissements`` (every establishment of the company). Behaviour reproduced:

- filters ``activite_principale`` (dotted NAF, comma list, on the company), ``departement`` and
  ``region`` (a company matches when one of its establishments is in the territory);
- ``matching_etablissements`` = the establishments in the territory, at most
  ``limite_matching_etablissements`` (default 10, max 100), as the real API does — the siège may be
  elsewhere (Paris) and is then not among them;
- ``page``/``per_page`` paging, ``per_page`` at most 25 (400 above), ``total_pages``; 400 without
  any search parameter, with the real message;
- scripted rate limit: the first request of page 2 answers ``429`` with ``Retry-After: 1`` (once
  per server), so that the client's retry is exercised on every snapshot run.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from oref.replay_apis import ReplayRequest, ReplayResponse

HOST = "recherche-entreprises.api.gouv.fr"
DATA = "recherche-entreprises.api.gouv.fr/search.jsonl"
MAX_PER_PAGE = 25
MAX_RESULTS = 10_000  # the API refuses pages beyond its 10,000th result
_THROTTLED = "recherche_entreprises.throttled_page_2"
_FILTERS = ("q", "activite_principale", "departement", "region", "code_postal", "code_commune",
            "section_activite_principale", "etat_administratif")


@cache
def _companies(path: Path, mtime: float) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as stream:
        return tuple(json.loads(line) for line in stream if line.strip())


def _error(status: int, message: str) -> ReplayResponse:
    return ReplayResponse(status, json.dumps({"erreur": message}, ensure_ascii=False).encode("utf-8"))


def _int(query: dict[str, str], key: str, default: int) -> int | None:
    try:
        return int(query.get(key, default))
    except ValueError:
        return None


def handle(request: ReplayRequest) -> ReplayResponse | None:
    if request.host != HOST or request.path.rstrip("/") != "/search":
        return None
    query = dict(request.query)
    if not any(query.get(k) for k in _FILTERS):
        return _error(400, "Veuillez indiquer au moins un paramètre de recherche.")
    page, per_page = _int(query, "page", 1), _int(query, "per_page", 10)
    limit = _int(query, "limite_matching_etablissements", 10)
    if page is None or page < 1:
        return _error(400, "Veuillez indiquer un paramètre `page` entier supérieur ou égal à 1.")
    if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
        return _error(400, f"Veuillez indiquer un paramètre `per_page` entre 1 et {MAX_PER_PAGE}.")
    if limit is None or not 1 <= limit <= 100:
        return _error(400, "Veuillez indiquer un paramètre `limite_matching_etablissements` entre 1 et 100.")
    if page * per_page > MAX_RESULTS:
        return _error(400, f"Le nombre de résultats est limité à {MAX_RESULTS}.")
    if page == 2 and not request.state.get(_THROTTLED):
        request.state[_THROTTLED] = True
        return ReplayResponse(429, b'{"erreur": "Trop de requetes"}', headers={"Retry-After": "1"})

    data = request.snapshot_dir / DATA
    if not data.is_file():
        return _error(500, f"replay snapshot file missing: {DATA}")
    nafs = {c.strip() for c in query.get("activite_principale", "").split(",") if c.strip()}
    departements = {c.strip() for c in query.get("departement", "").split(",") if c.strip()}
    regions = {c.strip() for c in query.get("region", "").split(",") if c.strip()}

    def in_territory(etablissement: dict[str, Any]) -> bool:
        return ((not departements or etablissement.get("departement") in departements)
                and (not regions or etablissement.get("region") in regions))

    matches = []
    for company in _companies(data, data.stat().st_mtime):
        if nafs and company.get("activite_principale") not in nafs:
            continue
        local = [e for e in company.get("_etablissements", []) if in_territory(e)]
        if not local:
            continue
        result = {k: v for k, v in company.items() if not k.startswith("_")}
        result["matching_etablissements"] = local[:limit]
        matches.append(result)
    total = len(matches)
    body = {
        "results": matches[(page - 1) * per_page: page * per_page],
        "total_results": total,
        "page": page,
        "per_page": per_page,
        "total_pages": math.ceil(total / per_page),
    }
    return ReplayResponse(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))
