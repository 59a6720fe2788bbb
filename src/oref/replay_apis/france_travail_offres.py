"""Emulator of the France Travail OAuth2 token endpoint and of the Offres d'emploi v2 search.

Data: ``<snapshot>/api.francetravail.io/partenaire/offresdemploi/v2/offres/search.jsonl``, one offer
(``resultats[]`` item) per line. Behaviour reproduced:

- ``POST https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=/partenaire``,
  form body ``grant_type=client_credentials``, ``client_id``, ``client_secret``, ``scope`` (must
  include ``api_offresdemploiv2``) -> ``{access_token, token_type, expires_in, scope}``; only the
  test client below is accepted (401 ``invalid_client`` otherwise);
- tokens expire after ``expires_in`` seconds (``state["france_travail.token_lifetime"]``, default
  1499, lowered by tests); an unknown or expired token gets 401;
- ``GET https://api.francetravail.io/partenaire/offresdemploi/v2/offres/search`` filters
  ``departement``, ``region``, ``codeROME`` (comma lists) and ``minCreationDate``/``maxCreationDate``
  (both or neither, inclusive), pages with ``range=start-end``: at most 150 per call, 206 +
  ``Content-Range: offres 0-149/353`` while more remain, 200 when all are returned, 204 when none;
  at most 1,150 results per query (start <= 1000, end <= 1149, 400 beyond; the cap is
  ``state["france_travail.max_results"]`` so tests can exercise slicing on small data).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from oref.config import REPLAY_FRANCE_TRAVAIL_CLIENT
from oref.replay_apis import ReplayRequest, ReplayResponse

TOKEN_HOST = "entreprise.francetravail.fr"
TOKEN_PATH = "/connexion/oauth2/access_token"
API_HOST = "api.francetravail.io"
SEARCH_PATH = "/partenaire/offresdemploi/v2/offres/search"
DATA = "api.francetravail.io/partenaire/offresdemploi/v2/offres/search.jsonl"

# The only credentials the emulator accepts: test values, never real ones.
# test values accepted by this local emulator only (Settings uses them in snapshot mode)
TEST_CLIENT_ID, TEST_CLIENT_SECRET = REPLAY_FRANCE_TRAVAIL_CLIENT
REQUIRED_SCOPE = "api_offresdemploiv2"
PAGE_MAX = 150
_RANGE = re.compile(r"^(\d+)-(\d+)$")
_TOKENS = "france_travail.tokens"
_ISSUED = "france_travail.tokens_issued"


@cache
def _offers(path: Path, mtime: float) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as stream:
        return tuple(json.loads(line) for line in stream if line.strip())


def _json(status: int, document: object, headers: dict[str, str] | None = None) -> ReplayResponse:
    return ReplayResponse(status, json.dumps(document, ensure_ascii=False).encode("utf-8"), headers=headers or {})


def handle(request: ReplayRequest) -> ReplayResponse | None:
    if request.host == TOKEN_HOST and request.path == TOKEN_PATH:
        return _token(request)
    if request.host == API_HOST and request.path == SEARCH_PATH:
        return _search(request)
    return None


def _token(request: ReplayRequest) -> ReplayResponse:
    if request.method != "POST":
        return _json(405, {"error": "invalid_request", "error_description": "POST only"})
    if request.query.get("realm") != "/partenaire":
        return _json(400, {"error": "invalid_request", "error_description": "realm must be /partenaire"})
    form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()}
    if form.get("grant_type") != "client_credentials":
        return _json(400, {"error": "unsupported_grant_type"})
    if form.get("client_id") != TEST_CLIENT_ID or form.get("client_secret") != TEST_CLIENT_SECRET:
        return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    scope = form.get("scope", "")
    if REQUIRED_SCOPE not in scope.split():
        return _json(400, {"error": "invalid_scope", "error_description": f"scope must include {REQUIRED_SCOPE}"})
    lifetime = int(request.state.get("france_travail.token_lifetime", 1499))  # type: ignore[call-overload]
    issued = int(request.state.get(_ISSUED, 0)) + 1  # type: ignore[call-overload]
    request.state[_ISSUED] = issued
    token = hashlib.sha256(f"oref-replay-token-{issued}".encode()).hexdigest()[:32]
    tokens = request.state.setdefault(_TOKENS, {})
    assert isinstance(tokens, dict)
    tokens[token] = time.monotonic() + lifetime
    return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope})


def _search(request: ReplayRequest) -> ReplayResponse:
    tokens = request.state.get(_TOKENS, {})
    assert isinstance(tokens, dict)
    auth = request.headers.get("authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    if token not in tokens or tokens[token] < time.monotonic():
        return _json(401, {"message": "Invalid or expired access token"})
    query = request.query
    cap = int(request.state.get("france_travail.max_results", 1150))  # type: ignore[call-overload]
    m = _RANGE.match(query.get("range", "0-149"))
    if not m:
        return _json(400, {"codeErreur": "RANGE", "message": "Le paramètre range est invalide."})
    start, end = int(m.group(1)), int(m.group(2))
    if end < start or end - start + 1 > PAGE_MAX:
        return _json(400, {"message": f"La plage de résultats demandée ne doit pas excéder {PAGE_MAX}."})
    max_start = max(0, cap - PAGE_MAX)  # 1000 for the real cap of 1150
    if start > max_start or end > cap - 1:
        return _json(400, {"message": f"La position de début doit être inférieure ou égale à {max_start} "
                                      f"et la position de fin inférieure ou égale à {cap - 1}."})
    low, high = query.get("minCreationDate"), query.get("maxCreationDate")
    if bool(low) != bool(high):
        return _json(400, {"message": "minCreationDate et maxCreationDate doivent être renseignés ensemble."})
    data = request.snapshot_dir / DATA
    if not data.is_file():
        return _json(500, {"message": f"replay snapshot file missing: {DATA}"})

    def values(key: str) -> set[str]:
        return {v.strip() for v in query.get(key, "").split(",") if v.strip()}

    departements, regions, romes = values("departement"), values("region"), values("codeROME")
    matches = []
    for offer in _offers(data, data.stat().st_mtime):
        place = offer.get("lieuTravail") or {}
        departement = str(place.get("libelle", "")).split(" - ", 1)[0]
        if departements and departement not in departements:
            continue
        if regions and offer.get("_region") not in regions:
            continue
        if romes and offer.get("romeCode") not in romes:
            continue
        # ISO-8601 UTC strings of one format compare in time order
        if low and high and not low <= offer["dateCreation"] <= high:
            continue
        matches.append({k: v for k, v in offer.items() if not k.startswith("_")})
    total = len(matches)
    if total == 0:
        return ReplayResponse(204, b"")
    if start >= total:
        return _json(416, {"message": "La plage demandée est hors des résultats."})
    last = min(end, total - 1)
    body = {"resultats": matches[start: last + 1], "filtresPossibles": []}
    status = 200 if start == 0 and last == total - 1 else 206
    return _json(status, body, {"Content-Range": f"offres {start}-{last}/{total}", "Accept-Range": "offres 150"})
