"""Sirene establishments of the ICT-services sector, through the API Recherche d'entreprises.

``GET https://recherche-entreprises.api.gouv.fr/search?activite_principale=58.21Z,...&departement=972``
(``region=02`` for a région), paged with ``page``/``per_page``, once per territory of the scope: the
configured territory, then each comparison département (``OREF_COMPARISON``, the DROM by default)
with ``departement=``. Quirks handled here:

- NAF codes are dotted (``62.01Z``), unlike URSSAF's APE codes;
- ``per_page`` is at most 25 (400 above): paging runs until ``total_pages``; the API limits a
  query to 10,000 results, so a bigger result set fails loudly instead of being truncated;
- 7 requests per second, 429 beyond: the per-host rate limit and the ``Retry-After`` handling of
  the one HTTP client cover it (the replay emulator answers one 429 to prove it);
- geographic filters match a company when *any* of its establishments is in the territory: the
  head office (``siege``) may be in Paris, so establishments are counted from
  ``matching_etablissements``, never from ``siege``;
- ``matching_etablissements`` holds 10 establishments by default: ``limite_matching_etablissements``
  is raised to its maximum (100);
- the configured territory without any establishment fails the fetch; a comparison département
  with none (the API answers ``total_results: 0``) is a ``warn`` check
  (``comparison_departements_present``) and the rest still lands;
- the pages of every query are landed together as one JSON-lines file (one page per line, with the
  ``query`` that produced it) through ``land_pages``, this module's multi-request variant of
  ``fetch_file``: skip when unchanged, validate, land or quarantine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from oref.config import Settings
from oref.errors import HttpError, SourceError
from oref.http import Download
from oref.landing import LandedFile, LandingZone
from oref.reference import naf_codes
from oref.sources.base import (
    FetchContext,
    FetchResult,
    FileOutcome,
    Source,
    gx_gate,
    provenance_select,
    reuse_monthly_extract,
    sql_literal,
    table_rows,
)
from oref.sources.scope import comparison_peers, coverage_check, describe_counts

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

log = logging.getLogger(__name__)

SEARCH_URL = "https://recherche-entreprises.api.gouv.fr/search"
HOST = "recherche-entreprises.api.gouv.fr"
PER_PAGE = 25  # the API's maximum
MAX_RESULTS = 10_000
# The companies fetched: the ict_services NAF perimeter of the seed naf_digital_perimeters, dotted
# as the API writes them; one ``activite_principale`` list, so one query per territory.
PERIMETER = "ict_services"
PAGE_KEYS = ("results", "total_results", "page", "per_page", "total_pages")
COMPANY_KEYS = ("siren", "nom_complet", "activite_principale", "matching_etablissements")
ESTABLISHMENT_KEYS = ("siret", "activite_principale", "commune", "est_siege", "etat_administratif",
                      "date_creation", "tranche_effectif_salarie")


def scope_queries(settings: Settings) -> list[dict[str, str]]:
    """The geographic filter of each query: the territory (``region=`` for a région), then each peer."""
    territory = settings.territory
    own = {"region": territory.code} if territory.kind == "region" else {"departement": territory.code}
    return [own, *({"departement": d} for d in comparison_peers(settings))]


def search_params(geo: Mapping[str, str], page: int) -> dict[str, str]:
    return {"activite_principale": ",".join(naf_codes(PERIMETER)), **geo, "limite_matching_etablissements": "100",
            "per_page": str(PER_PAGE), "page": str(page)}


def landed_name(settings: Settings) -> str:
    # one logical file per scope: a 971 run must not be compared with a 972 landing, nor a run
    # without comparison départements with one that has them
    return f"search_{settings.scope_label}.jsonl"


def check_page(document: Any, *, page: int, file: str) -> None:
    """The declared shape of one page: fails naming the page and the missing key."""
    if not isinstance(document, Mapping):
        raise SourceError("sirene", f"page {page} is not a JSON object", file=file)
    missing = [k for k in PAGE_KEYS if k not in document]
    if missing:
        raise SourceError("sirene", f"page {page}: missing key(s) {missing}", file=file)
    if not isinstance(document["results"], list) or not all(isinstance(c, Mapping) for c in document["results"]):
        raise SourceError("sirene", f"page {page}: 'results' is not a list of companies", file=file,
                          value=str(document["results"])[:80])
    for key in ("total_results", "total_pages"):
        if not isinstance(document[key], int) or document[key] < 0:
            raise SourceError("sirene", f"page {page}: {key} is not a count", file=file, column=key,
                              value=document[key])
    for company in document["results"]:
        gone = [k for k in COMPANY_KEYS if k not in company]
        if gone:
            raise SourceError("sirene", f"page {page}: result {company.get('siren')} lacks {gone}", file=file)
        for establishment in company["matching_etablissements"]:
            absent = [k for k in ESTABLISHMENT_KEYS if k not in establishment]
            if absent:
                raise SourceError("sirene", f"page {page}: establishment {establishment.get('siret')} of "
                                  f"{company['siren']} lacks {absent}", file=file)


def land_pages(ctx: FetchContext, *, source: str, name: str, pages: list[dict[str, Any]],
               request: str, rows: int, data_vintage: str | None,
               validate: Callable[[], None] | None = None) -> FileOutcome:
    """``fetch_file`` for a multi-request download: write the pages as JSON lines, then land them.

    The lines are written with sorted keys so that an unchanged result set has the same SHA-256 and
    is not landed twice. ``validate`` (the landing suite) runs only on a changed result set, as in
    ``fetch_file``; a ``SourceError`` from it moves the pages to the quarantine folder.
    """
    incoming = ctx.landing.root / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile("wb", prefix=".pages-", dir=incoming, delete=False) as tmp:
        for page in pages:
            line = (json.dumps(page, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
            digest.update(line)
            tmp.write(line)
        size = tmp.tell()
    sha256 = digest.hexdigest()
    latest = ctx.landing.latest(source, name)
    ctx.record_landing_problems()
    if latest is not None and latest.sha256 == sha256:
        Path(tmp.name).unlink(missing_ok=True)
        log.info("%s: %s unchanged (same sha256)", source, name)
        return FileOutcome("unchanged", latest)
    download = Download(url=request, final_url=request, status=200, headers={}, path=Path(tmp.name),
                        sha256=sha256, bytes=size, content_type="application/x-ndjson")
    if validate is not None:
        try:
            validate()
        except SourceError as exc:
            where = ctx.landing.quarantine(source, name, download, str(exc), ctx.run_id)
            exc.args = (f"{exc.args[0]} | quarantined: {where}" if where else exc.args[0],)
            raise
    landed = ctx.landing.land(source, name, download, rows=rows, data_vintage=data_vintage, run_id=ctx.run_id,
                              extra={"request": request, "pages": len(pages)})
    return FileOutcome("landed", landed)


def department_of(commune: str | None) -> str | None:
    """The département of a commune code: ``97209`` -> ``972``, ``2A004`` -> ``2A``, ``75056`` -> ``75``."""
    if not commune:
        return None
    return commune[:3] if commune.startswith("97") else commune[:2]


def validation_frame(pages: list[dict[str, Any]], scope: tuple[str, ...]) -> pd.DataFrame:
    """One row per matching establishment, as landed, for the ``sirene_landing`` suite.

    Twins: ``siret_siren`` (the SIRET's first nine digits) and ``outside_territory`` (the
    establishment's département when it is not one of the scope's départements, else empty).
    """
    import pandas as pd

    departements = set(scope)
    rows = []
    for number, page in enumerate(pages, start=1):
        for company in page["results"]:
            for e in company["matching_etablissements"]:
                siret = None if e.get("siret") is None else str(e["siret"])
                commune = None if e.get("commune") is None else str(e["commune"])
                department = department_of(commune)
                rows.append({
                    "page": number, "siren": company.get("siren"), "siret": siret,
                    "siret_siren": siret[:9] if siret else None, "company_naf": company.get("activite_principale"),
                    "naf_code": e.get("activite_principale"), "commune_code": commune,
                    "outside_territory": department if department not in departements else None,
                    "etat_administratif": e.get("etat_administratif"), "est_siege": e.get("est_siege"),
                    "date_creation": e.get("date_creation"),
                })
    columns = ["page", "siren", "siret", "siret_siren", "company_naf", "naf_code", "commune_code", "outside_territory",
               "etat_administratif", "est_siege", "date_creation"]
    return pd.DataFrame(rows, columns=columns, dtype="object")


class SireneSource(Source):
    name = "sirene"
    series = "monthly"  # the register as of the day: each month's extract is one period
    rate_limits: ClassVar[dict[str, float]] = {HOST: 7}  # the API answers 429 beyond 7 requests per second

    def fetch(self, ctx: FetchContext) -> FetchResult:
        settings = ctx.settings
        name = landed_name(settings)
        reused = reuse_monthly_extract(ctx, self.name, name)
        if reused is not None:
            return reused
        queries = scope_queries(settings)
        pages: list[dict[str, Any]] = []
        companies = 0
        for number, geo in enumerate(queries):
            query_pages = self._collect(ctx, geo, name)
            if number == 0 and not any(c["matching_etablissements"] for p in query_pages for c in p["results"]):
                raise SourceError(self.name, f"no establishment for {settings.territory.label}", url=SEARCH_URL)
            companies += sum(len(p["results"]) for p in query_pages)
            pages.extend({**p, "query": dict(geo)} for p in query_pages)
        counts: dict[str, int] = {}
        for p in pages:
            for c in p["results"]:
                for e in c["matching_etablissements"]:
                    department = department_of(None if e.get("commune") is None else str(e["commune"])) or "?"
                    counts[department] = counts.get(department, 0) + 1
        ctx.checks.append(coverage_check(self.name, settings, counts, target=name, what="establishments"))
        establishments = sum(counts.values())
        base = sorted((k, v) for k, v in search_params({}, 1).items() if k != "page")
        request = SEARCH_URL + "?" + "&".join(
            [f"{k}={v}" for k, v in base] + [f"{k}={v}" for geo in queries for k, v in geo.items()])

        def validate() -> None:
            gx_gate(ctx, "sirene_landing", validation_frame(pages, settings.scope_departements), source=self.name,
                    target=name)

        outcome = land_pages(ctx, source=self.name, name=name, pages=pages, request=request, rows=establishments,
                             data_vintage=None, validate=validate)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], establishments,
                           f"{establishments} establishments of {companies} companies in {len(pages)} page(s) "
                           f"({describe_counts(settings, counts)})")

    def _collect(self, ctx: FetchContext, geo: Mapping[str, str], name: str) -> list[dict[str, Any]]:
        """Every page of one query (one territory), checked against its ``total_results``."""
        where = ", ".join(f"{k}={v}" for k, v in geo.items())
        pages: list[dict[str, Any]] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            params = search_params(geo, page)
            try:
                document = ctx.http.get_json(SEARCH_URL, params=params)
            except HttpError as exc:
                raise SourceError(self.name, f"{where} page {page}: {exc}", url=SEARCH_URL, file=name) from exc
            check_page(document, page=page, file=name)
            if page == 1:
                total_pages = int(document["total_pages"])
                if int(document["total_results"]) > MAX_RESULTS:
                    raise SourceError(self.name, f"{where}: {document['total_results']} results exceed the API's "
                                      f"{MAX_RESULTS}: slice the query (by NAF code or commune)", url=SEARCH_URL)
            pages.append(document)
            page += 1
        expected = int(pages[0]["total_results"]) if pages else 0
        companies = sum(len(p["results"]) for p in pages)
        if companies != expected:
            raise SourceError(self.name, f"{where}: the pages returned {companies} of {expected} companies (the "
                              "result set changed while paging?)", url=SEARCH_URL, file=name)
        return pages

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        name = landed_name(settings)
        landing.require(self.name, name)  # fails naming the source when nothing has landed
        # every month's extract, one period each (the month it landed)
        con.execute("create or replace table raw.sirene_establishments as " + " union all ".join(
            f"({self._select(landed, run_id)})" for landed in self.landed_files(landing, name)))
        return {"raw.sirene_establishments": table_rows(con, "raw.sirene_establishments")}

    @staticmethod
    def _select(landed: LandedFile, run_id: str) -> str:
        # DuckDB's JSON reader unnests pages -> companies -> matching establishments; a company seen on
        # two pages (result set shifting while paging) keeps one row per SIRET.
        return f"""
            with pages as (
                select json from read_ndjson_objects({sql_literal(landed.path)})
            ),
            companies as (
                select unnest(json_extract(json, '$.results[*]')) as c from pages
            ),
            establishments as (
                select c, unnest(json_extract(c, '$.matching_etablissements[*]')) as e from companies
            )
            select
                json_extract_string(c, '$.siren') as siren,
                json_extract_string(e, '$.siret') as siret,
                json_extract_string(c, '$.nom_complet') as company_name,
                json_extract_string(c, '$.activite_principale') as company_naf,
                json_extract_string(c, '$.categorie_entreprise') as company_category,
                json_extract_string(c, '$.nature_juridique') as legal_form,
                json_extract_string(e, '$.activite_principale') as naf_code,
                json_extract_string(e, '$.commune') as commune_code,
                json_extract_string(e, '$.libelle_commune') as commune_label,
                json_extract_string(e, '$.code_postal') as postal_code,
                json_extract_string(e, '$.tranche_effectif_salarie') as tranche_effectif_salarie,
                json_extract_string(e, '$.annee_tranche_effectif_salarie') as tranche_effectif_year,
                json_extract_string(e, '$.date_creation') as date_creation,
                json_extract_string(e, '$.date_fermeture') as date_fermeture,
                json_extract_string(e, '$.etat_administratif') as etat_administratif,
                cast(json_extract(e, '$.est_siege') as boolean) as is_siege,
                json_extract_string(c, '$.siege.commune') as siege_commune_code,
                {provenance_select(landed, run_id)}
            from establishments
            qualify row_number() over (partition by json_extract_string(e, '$.siret')) = 1
            """
