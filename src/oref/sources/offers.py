"""France Travail job offers (API Offres d'emploi v2) for the digital occupations of the scope.

The scope is the configured territory (``departement=``, or ``region=`` for a région) and each
comparison département (``OREF_COMPARISON``, the DROM by default), queried in turn with
``departement=``. A comparison département without any offer (the API answers 204) is a ``warn``
check (``comparison_departements_present``); the territory without offers lands an empty result,
as before. Quirks handled here:
- OAuth2 client credentials: ``POST .../connexion/oauth2/access_token?realm=/partenaire`` with a form
  body; the token lives ``expires_in`` seconds (about 25 minutes): it is renewed a minute before it
  expires, and once more when the API answers 401 anyway;
- no credentials (``FRANCE_TRAVAIL_CLIENT_ID`` / ``FRANCE_TRAVAIL_CLIENT_SECRET``): the source is
  skipped with one clear line, never a crash, and ``load`` creates an empty table;
- paging with ``range=start-end`` (150 per call): 206 + ``Content-Range: offres 0-149/353`` while
  more remain, 200 when everything was returned, 204 when nothing matches;
- at most 1,150 results per query (start <= 1000, end <= 1149): queries are sliced by ROME code,
  and a slice still above the cap is split into creation-date windows, halved until each fits;
  the codes queried are the ``is_offers_query_code`` rows of the seed ``rome_digital_occupations``
  (ROME V3 parents: the API still files the digital offers under them);
- ``lieuTravail.libelle`` reads ``"972 - FORT DE FRANCE"`` and ``commune`` may be missing: the
  département is taken from the label's prefix; a label naming no département (``"France"``,
  ``"Hauts-de-France"``, ``"Principauté de Monaco"``, ``"Québec Canada"``: real labels of offers
  placed abroad or only in a région) gives none, while a bare ``"75"`` is the département;
- the responses of all slices are landed as one JSON-lines file (one response per line, with the
  slice that produced it); an offer returned by two slices keeps one row at load time.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from oref.config import Settings
from oref.errors import HttpError, SourceError
from oref.http import HttpClient
from oref.landing import LandingZone
from oref.reference import offers_query_rome_codes
from oref.sources.base import (
    FetchContext,
    FetchResult,
    Source,
    gx_gate,
    provenance_select,
    reuse_monthly_extract,
    sql_literal,
    table_rows,
)
from oref.sources.scope import coverage_check, describe_counts
from oref.sources.sirene import land_pages, scope_queries

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

log = logging.getLogger(__name__)

TOKEN_URL = "https://entreprise.francetravail.fr/connexion/oauth2/access_token"
SEARCH_URL = "https://api.francetravail.io/partenaire/offresdemploi/v2/offres/search"
SCOPE = "api_offresdemploiv2 o2dsoffre"
API_HOST = "api.francetravail.io"
PAGE_SIZE = 150
MAX_RESULTS = 1_150  # start <= 1000, end <= 1149
WINDOW_START = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_CONTENT_RANGE = re.compile(r"^\s*offres\s+(\d+)-(\d+)/(\d+)\s*$")
SKIP_MESSAGE = ("skipped: no France Travail API credentials (set FRANCE_TRAVAIL_CLIENT_ID and "
                "FRANCE_TRAVAIL_CLIENT_SECRET; register at francetravail.io)")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


def credentials_from_env(env: Mapping[str, str]) -> Credentials | None:
    """The API credentials, or None when either variable is unset or blank."""
    client_id = (env.get("FRANCE_TRAVAIL_CLIENT_ID") or "").strip()
    secret = (env.get("FRANCE_TRAVAIL_CLIENT_SECRET") or "").strip()
    return Credentials(client_id, secret) if client_id and secret else None


def post_form(http: HttpClient, url: str, params: Mapping[str, str], data: Mapping[str, str]) -> requests.Response:
    """A form POST through the one HTTP client (retries, throttle, snapshot routing)."""
    return http.post_form(url, data, params=params)


class TokenProvider:
    """An OAuth2 client-credentials token, renewed before it expires or when the API refuses it."""

    def __init__(self, http: HttpClient, credentials: Credentials, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._http = http
        self._credentials = credentials
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.issued = 0

    def token(self) -> str:
        if self._token is None or self._clock() >= self._expires_at:
            self._renew()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _renew(self) -> None:
        try:
            response = post_form(self._http, TOKEN_URL, {"realm": "/partenaire"}, {
                "grant_type": "client_credentials", "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret, "scope": SCOPE})
        except HttpError as exc:  # 4xx: refused credentials; the body says why
            raise SourceError("offers", f"token request refused: {exc}", url=TOKEN_URL) from exc
        if response.status_code != 200:
            detail = response.text[:200].replace("\n", " ")
            raise SourceError("offers", f"token request refused: HTTP {response.status_code} {detail}",
                              url=TOKEN_URL)
        document = json_document(response, TOKEN_URL)
        if not isinstance(document, dict) or not document.get("access_token"):
            raise SourceError("offers", "token answer without 'access_token'", url=TOKEN_URL,
                              value=response.content[:120].decode("utf-8", "replace"))
        try:
            lifetime = float(document.get("expires_in") or 0)
        except (TypeError, ValueError):
            raise SourceError("offers", "token answer with a non-numeric 'expires_in'", url=TOKEN_URL,
                              value=document.get("expires_in")) from None
        self._token = str(document["access_token"])
        # renew a minute early (or half-way through a short-lived token) so no call carries a dying token
        self._expires_at = self._clock() + lifetime - min(60.0, lifetime / 2)
        self.issued += 1


def json_document(response: requests.Response, url: str) -> Any:
    """The JSON of an API answer, or a ``SourceError`` naming the URL and what came instead."""
    try:
        return HttpClient.json_of(response, url)
    except HttpError as exc:
        raise SourceError("offers", str(exc), url=url) from exc


def parse_content_range(value: str | None) -> tuple[int, int, int]:
    """``offres 0-149/353`` -> ``(0, 149, 353)``."""
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        raise SourceError("offers", f"206 without a readable Content-Range header: {value!r}", url=SEARCH_URL)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class OffersClient:
    """Runs the sliced, paged searches of one territory and keeps every response."""

    def __init__(self, http: HttpClient, tokens: TokenProvider, territory: dict[str, str], *,
                 max_results: int = MAX_RESULTS) -> None:
        self.http = http
        self.tokens = tokens
        self.territory = territory
        self.max_results = max_results
        self.page_size = min(PAGE_SIZE, max_results)
        self.responses: list[dict[str, Any]] = []

    def get(self, params: dict[str, str]) -> requests.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.tokens.token()}", "Accept": "application/json"}
            try:
                return self.http.request(SEARCH_URL, params=params, headers=headers)
            except HttpError as exc:
                if exc.status == 401 and attempt == 1:
                    log.info("offers: token refused (401), renewing it once")
                    self.tokens.invalidate()
                    continue
                raise SourceError("offers", str(exc), url=SEARCH_URL) from exc
        raise AssertionError("unreachable")

    def collect(self, rome: str, window: tuple[dt.datetime, dt.datetime] | None = None) -> int:
        """Every offer of one ROME code (optionally one creation-date window); returns how many."""
        base = {**self.territory, "codeROME": rome}
        if window is not None:
            base |= {"minCreationDate": iso(window[0]), "maxCreationDate": iso(window[1])}
        start, got, total = 0, 0, None
        pending: list[dict[str, Any]] = []
        while total is None or start < total:
            params = {**base, "range": f"{start}-{start + self.page_size - 1}"}
            response = self.get(params)
            if response.status_code == 204:
                return 0
            if response.status_code == 206:
                _first, last, total = parse_content_range(response.headers.get("Content-Range"))
            elif response.status_code == 200:
                header = response.headers.get("Content-Range")
                _first, last, total = parse_content_range(header) if header else (start, -1, None)
            else:
                raise SourceError("offers", f"unexpected HTTP {response.status_code}", url=SEARCH_URL)
            if total is not None and total > self.max_results:
                return self._split(rome, window, total)
            body = json_document(response, SEARCH_URL)
            results = body.get("resultats") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise SourceError("offers", f"response without 'resultats' for {params}", url=SEARCH_URL)
            pending.append({"query": params, "status": response.status_code,
                            "content_range": response.headers.get("Content-Range"), "resultats": results})
            got += len(results)
            if response.status_code == 200 or total is None:
                break
            start = last + 1
        if total is not None and got != total:
            raise SourceError("offers", f"ROME {rome}: got {got} of {total} offers", url=SEARCH_URL)
        self.responses.extend(pending)
        return got

    def _split(self, rome: str, window: tuple[dt.datetime, dt.datetime] | None, total: int) -> int:
        low, high = window or (WINDOW_START, dt.datetime.now(dt.UTC).replace(microsecond=0))
        if high - low <= dt.timedelta(hours=1):
            raise SourceError("offers", f"ROME {rome}: {total} offers created between {iso(low)} and {iso(high)} "
                              f"exceed the API's {self.max_results} per query", url=SEARCH_URL)
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        log.info("offers: ROME %s has %d offers (> %d): splitting at %s", rome, total, self.max_results, iso(middle))
        # the API's bounds are inclusive: the right half starts one second later
        return (self.collect(rome, (low, middle))
                + self.collect(rome, (middle + dt.timedelta(seconds=1), high)))


RAW_DDL = (
    "create or replace table raw.offers_job_offers (offer_id varchar, title varchar, rome_code varchar, "
    "rome_label varchar, appellation_label varchar, created_at varchar, updated_at varchar, "
    "workplace_label varchar, commune_code varchar, postal_code varchar, department_code varchar, "
    "contract_type varchar, contract_nature varchar, experience_required varchar, qualification_code varchar, "
    "naf_code varchar, sector_label varchar, company_name varchar, salary_label varchar, "
    "is_short_of_candidates boolean, query_rome_code varchar, _source varchar, _source_url varchar, "
    "_file_sha256 varchar, _vintage varchar, _fetched_at timestamp, _run_id varchar)"
)


def landed_name(settings: Settings) -> str:
    # one logical file per scope (territory + comparison départements)
    return f"offres_{settings.scope_label}.jsonl"


_DEPARTEMENT = re.compile(r"^(?:\d{2}|2A|2B|97\d)$")
DEPARTEMENT_SQL = "[0-9]{2}|2A|2B|97[0-9]"  # the same, for regexp_full_match at load time


def label_prefix(offer: Mapping[str, Any]) -> str | None:
    """What precedes `` - `` in ``lieuTravail.libelle`` (``"972 - FORT DE FRANCE"``), or the whole label."""
    label = (offer.get("lieuTravail") or {}).get("libelle")
    return (str(label).split(" - ", 1)[0].strip() or None) if label else None


def offer_department(offer: Mapping[str, Any]) -> str | None:
    """The département of an offer: the label's prefix when it is one (``"France"`` is none)."""
    prefix = label_prefix(offer)
    return prefix if prefix and _DEPARTEMENT.match(prefix) else None


def validation_frame(responses: list[dict[str, Any]], scope: tuple[str, ...]) -> pd.DataFrame:
    """One row per offer of every response, as landed, for the ``offers_landing`` suite.

    ``department_code`` is the prefix of ``lieuTravail.libelle`` as written, so that the suite sees
    a label naming no département (the loader keeps it only when well-formed);
    ``outside_territory`` repeats it when it is a well-formed département outside the scope's.
    """
    import pandas as pd

    departements = set(scope)
    rows = []
    for number, response in enumerate(responses, start=1):
        query_rome = (response.get("query") or {}).get("codeROME")
        for offer in response["resultats"]:
            place = offer.get("lieuTravail") or {}
            department = label_prefix(offer)
            outside = department if department and _DEPARTEMENT.match(department) \
                and department not in departements else None
            rows.append({
                "response": number, "offer_id": offer.get("id"), "rome_code": offer.get("romeCode"),
                "query_rome_code": query_rome, "created_at": offer.get("dateCreation"),
                "commune_code": place.get("commune"), "department_code": department, "outside_territory": outside,
            })
    columns = ["response", "offer_id", "rome_code", "query_rome_code", "created_at", "commune_code",
               "department_code", "outside_territory"]
    return pd.DataFrame(rows, columns=columns, dtype="object")


class OffersSource(Source):
    name = "offers"
    series = "monthly"  # the offers online on the day: each month's extract is one period
    rate_limits: ClassVar[dict[str, float]] = {API_HOST: 3}  # sources disagree (3 or 10 per second): the lower one

    def __init__(self, *, env: Mapping[str, str] | None = None, max_results: int = MAX_RESULTS) -> None:
        # ``env`` overrides the credentials of the settings (tests); by default they come from Settings
        self._env = env
        self.max_results = max_results

    def fetch(self, ctx: FetchContext) -> FetchResult:
        credentials = credentials_from_env(self._env if self._env is not None else {
            "FRANCE_TRAVAIL_CLIENT_ID": ctx.settings.france_travail_client_id or "",
            "FRANCE_TRAVAIL_CLIENT_SECRET": ctx.settings.france_travail_client_secret or "",
        })
        if credentials is None:
            log.warning("offers: %s", SKIP_MESSAGE)
            return FetchResult(self.name, "skipped", message=SKIP_MESSAGE)
        settings = ctx.settings
        reused = reuse_monthly_extract(ctx, self.name, landed_name(settings))
        if reused is not None:
            return reused
        queries = scope_queries(settings)
        tokens = TokenProvider(ctx.http, credentials)
        responses: list[dict[str, Any]] = []
        offers = 0
        for geo in queries:  # the territory, then each comparison département: one token for all
            client = OffersClient(ctx.http, tokens, geo, max_results=self.max_results)
            offers += sum(client.collect(rome) for rome in offers_query_rome_codes())
            responses.extend(client.responses)
        counts: dict[str, int] = {}
        for response in responses:
            for offer in response["resultats"]:
                department = offer_department(offer) or "?"
                counts[department] = counts.get(department, 0) + 1
        name = landed_name(settings)
        ctx.checks.append(coverage_check(self.name, settings, counts, target=name, what="offers"))
        request = SEARCH_URL + "?" + "&".join(f"{k}={v}" for geo in queries for k, v in geo.items()) \
            + "&codeROME=" + ",".join(offers_query_rome_codes())

        def validate() -> None:
            gx_gate(ctx, "offers_landing", validation_frame(responses, settings.scope_departements),
                    source=self.name, target=name)

        outcome = land_pages(ctx, source=self.name, name=name, pages=responses,
                             request=request, rows=offers, data_vintage=None, validate=validate)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], offers,
                           f"{offers} offers in {len(responses)} response(s), {tokens.issued} token(s) "
                           f"({describe_counts(settings, counts)})")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        con.execute(RAW_DDL)
        # every month's extract, one period each (the month it landed)
        extracts = self.landed_files(landing, landed_name(settings))
        if not extracts:
            # skipped (no credentials) or never fetched: an empty table keeps the models buildable
            log.warning("offers: nothing landed for %s, raw.offers_job_offers is empty", settings.territory.label)
            return {"raw.offers_job_offers": 0}
        for landed in extracts:
            con.execute(
                f"""
                insert into raw.offers_job_offers
                with responses as (
                    select json from read_ndjson_objects({sql_literal(landed.path)})
                ),
                offers as (
                    select
                        json_extract_string(json, '$.query.codeROME') as query_rome,
                        unnest(json_extract(json, '$.resultats[*]')) as o
                    from responses
                )
                select
                    json_extract_string(o, '$.id'),
                    json_extract_string(o, '$.intitule'),
                    json_extract_string(o, '$.romeCode'),
                    json_extract_string(o, '$.romeLibelle'),
                    json_extract_string(o, '$.appellationlibelle'),
                    json_extract_string(o, '$.dateCreation'),
                    json_extract_string(o, '$.dateActualisation'),
                    json_extract_string(o, '$.lieuTravail.libelle'),
                    json_extract_string(o, '$.lieuTravail.commune'),
                    json_extract_string(o, '$.lieuTravail.codePostal'),
                    -- "972 - FORT DE FRANCE": the département is the label's prefix (commune may be
                    -- missing); "France", a région or a country is no département
                    case when regexp_full_match(trim(split_part(json_extract_string(o, '$.lieuTravail.libelle'),
                                                                ' - ', 1)), '{DEPARTEMENT_SQL}')
                        then trim(split_part(json_extract_string(o, '$.lieuTravail.libelle'), ' - ', 1)) end,
                    json_extract_string(o, '$.typeContrat'),
                    json_extract_string(o, '$.natureContrat'),
                    json_extract_string(o, '$.experienceExige'),
                    json_extract_string(o, '$.qualificationCode'),
                    json_extract_string(o, '$.codeNAF'),
                    json_extract_string(o, '$.secteurActiviteLibelle'),
                    json_extract_string(o, '$.entreprise.nom'),
                    json_extract_string(o, '$.salaire.libelle'),
                    cast(json_extract(o, '$.offresManqueCandidats') as boolean),
                    query_rome,
                    {provenance_select(landed, run_id)}
                from offers
                qualify row_number() over (partition by json_extract_string(o, '$.id')) = 1
                """
            )
        return {"raw.offers_job_offers": table_rows(con, "raw.offers_job_offers")}
