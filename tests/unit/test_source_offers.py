"""France Travail Offres d'emploi v2: OAuth2 token (expiry, refresh), range paging, slicing, skip."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from oref_testing import SourceHarness

from oref.config import Settings, Territory
from oref.errors import SourceError
from oref.http import Download, HttpClient
from oref.landing import LandingZone
from oref.replay import Fault
from oref.replay_apis.france_travail_offres import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from oref.sources.base import sql_literal
from oref.sources.offers import (
    SEARCH_URL,
    SKIP_MESSAGE,
    Credentials,
    OffersClient,
    OffersSource,
    TokenProvider,
    credentials_from_env,
    landed_name,
    parse_content_range,
)

SEARCH = "/api.francetravail.io/partenaire/offresdemploi/v2/offres/search"
REPO = Path(__file__).resolve().parents[2]
ENV = {"FRANCE_TRAVAIL_CLIENT_ID": TEST_CLIENT_ID, "FRANCE_TRAVAIL_CLIENT_SECRET": TEST_CLIENT_SECRET}


def test_credentials_from_env() -> None:
    assert credentials_from_env(ENV) == Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    assert credentials_from_env({"FRANCE_TRAVAIL_CLIENT_ID": "x", "FRANCE_TRAVAIL_CLIENT_SECRET": "  "}) is None
    assert credentials_from_env({}) is None


def test_without_credentials_the_source_is_skipped_and_the_table_empty(sources: SourceHarness) -> None:
    source = OffersSource(env={})
    settings = Settings(territory=Territory("departement", "972"), data_dir=sources.tmp_path)
    result = sources.fetch(settings, source)
    assert sources.requests == 0
    assert (result.status, result.message) == ("skipped", SKIP_MESSAGE)
    assert SKIP_MESSAGE == ("skipped: no France Travail API credentials (set FRANCE_TRAVAIL_CLIENT_ID and "
                            "FRANCE_TRAVAIL_CLIENT_SECRET; register at francetravail.io)")
    _, con = sources.load(settings, source)
    assert con.execute("select count(*) from raw.offers_job_offers").fetchone() == (0,)


def test_fetch_and_load_972_with_its_peers_then_971_alone(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir=".")
        result = sources.fetch(settings, OffersSource(env=ENV))
        requests = sources.requests
        # one token + one search per ROME code and scope département (972 then the peers 971, 973, 974,
        # 976); every answer fits in one 200 response, or is a 204 (not a response landed)
        assert (result.status, result.rows, requests) == ("landed", 165 + 190, 1 + 13 * 5)
        assert result.message == ("355 offers in 26 response(s), 1 token(s) "
                                  "(972: 165; peers 971: 190, 973: 0, 974: 0, 976: 0)")
        assert result.files[0].endswith("offres_972+971-973-974-976.jsonl")
        coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
        assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
        assert "no offers for comparison département(s) 973, 974, 976" in coverage[0].message
        _, con = sources.load(settings, OffersSource(env=ENV))
        assert con.execute("select department_code, count(*), count(distinct offer_id) "
                           "from raw.offers_job_offers group by 1 order by 1").fetchall() == [
            ("971", 190, 190), ("972", 165, 165)]
        assert con.execute("select count(*) from raw.offers_job_offers where rome_code = 'M1805' "
                           "and department_code = '972'").fetchone() == (47,)
        assert sources.fetch(settings, OffersSource(env=ENV)).status == "unchanged"

        # OREF_COMPARISON=none: Guadeloupe alone, in its own logical file
        guadeloupe = sources.settings(server, "971", comparison=(), data_dir=".")
        result = sources.fetch(guadeloupe, OffersSource(env=ENV))
        assert (result.rows, sources.requests) == (190, 14)
        assert result.files[0].endswith("offres_971.jsonl")
        _, con = sources.load(guadeloupe, OffersSource(env=ENV))
        assert con.execute("select department_code, count(*) from raw.offers_job_offers group by 1") \
            .fetchall() == [("971", 190)]


def test_slices_above_the_cap_are_split_by_creation_date(sources: SourceHarness) -> None:
    with sources.serve() as server:
        server.state["france_travail.max_results"] = 20  # M1805 has 47 offers in 972: windows must be halved
        settings = sources.settings(server, "972", comparison=())
        result = sources.fetch(settings, OffersSource(env=ENV, max_results=20))
        assert result.rows == 165 and sources.requests > 14
        _, con = sources.load(settings, OffersSource(env=ENV))
        assert con.execute("select count(*), count(distinct offer_id) from raw.offers_job_offers").fetchone() \
            == (165, 165)


def test_range_paging_with_206_and_content_range(sources: SourceHarness) -> None:
    with sources.serve() as server, HttpClient(sources.settings(server, "972")) as http:
        client = OffersClient(http, TokenProvider(http, Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET)),
                              {"departement": "972"})
        client.page_size = 20  # 47 offers of M1805 -> 0-19 (206), 20-39 (206), 40-46 (206)
        assert client.collect("M1805") == 47
        assert [r["content_range"] for r in client.responses] == ["offres 0-19/47", "offres 20-39/47",
                                                                  "offres 40-46/47"]
        assert [r["status"] for r in client.responses] == [206, 206, 206]
        assert client.collect("M1803") == 1 and client.responses[-1]["status"] == 200
        # the cap: start beyond 1000 or end beyond 1149 is refused by the API
        response = http._session.get(f"{server.base_url}{SEARCH}", params={"range": "1010-1159"},
                                     headers={"Authorization": f"Bearer {client.tokens.token()}"})
        assert response.status_code == 400
        assert response.json()["message"] == ("La position de début doit être inférieure ou égale à 1000 et la "
                                              "position de fin inférieure ou égale à 1149.")
    with pytest.raises(SourceError, match=r"206 without a readable Content-Range header: 'items 0-1/2'"):
        parse_content_range("items 0-1/2")


def test_emulator_answers_204_for_a_departement_without_offers(sources: SourceHarness) -> None:
    with sources.serve() as server, HttpClient(sources.settings(server, "976")) as http:
        tokens = TokenProvider(http, Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET))
        client = OffersClient(http, tokens, {"departement": "976"})
        assert client.collect("M1805") == 0 and client.responses == []
        response = client.get({"departement": "976", "codeROME": "M1805", "range": "0-149"})
        assert (response.status_code, response.content) == (204, b"")
        assert OffersClient(http, tokens, {"departement": "971"}).collect("M1805") > 0


def test_token_is_renewed_before_expiry_and_after_a_401(sources: SourceHarness) -> None:
    now = [1000.0]
    with sources.serve() as server, HttpClient(sources.settings(server, "972")) as http:
        tokens = TokenProvider(http, Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET), clock=lambda: now[0])
        first = tokens.token()
        now[0] += 1400  # still valid for 99 s, more than the one-minute margin
        assert tokens.token() == first and tokens.issued == 1
        now[0] += 60  # within the last minute of 1499 s: renewed
        assert tokens.token() != first and tokens.issued == 2

        # an expired token on the server side (lifetime 0) is refused with 401, renewed once, then accepted
        server.state["france_travail.token_lifetime"] = 0
        settings = sources.settings(server, "972", comparison=())
        with pytest.raises(SourceError, match=r"HTTP 401 .*Invalid or expired access token"):
            sources.fetch(settings, OffersSource(env=ENV))
        server.state["france_travail.token_lifetime"] = 1499
        server.add_fault(SEARCH, Fault(401, body=b'{"message": "Invalid or expired access token"}'))
        result = sources.fetch(settings, OffersSource(env=ENV))
        assert result.rows == 165 and "2 token(s)" in result.message


def test_wrong_credentials_are_refused_with_the_reason(sources: SourceHarness) -> None:
    env = {"FRANCE_TRAVAIL_CLIENT_ID": "someone", "FRANCE_TRAVAIL_CLIENT_SECRET": "wrong"}
    with sources.serve() as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972"), OffersSource(env=env))
    assert str(info.value).startswith("source 'offers': token request refused: HTTP 401 "
                                      '{"error": "invalid_client", "error_description": "Client authentication '
                                      'failed"}')


def test_landing_suite_passes_on_the_snapshot_and_blocks_an_offer_outside_the_territory(
        sources: SourceHarness) -> None:
    with sources.serve() as server:
        assert sources.fetch(sources.settings(server, "972", data_dir="ok"), OffersSource(env=ENV)).status == "landed"
    names = {c.check_name for c in sources.checks}
    assert {"offer_id_unique", "rome_code_well_formed", "created_at_present", "department_in_territory"} <= names
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # an offer of a département outside the scope in a Martinique answer: paging and token logic have
    # no reason to notice it; a Guadeloupe one (a comparison peer) is inside the scope
    def body(label: str, commune: str) -> bytes:
        offer = {"id": "190X001", "intitule": "Développeur (H/F)", "romeCode": "M1805", "dateCreation":
                 "2026-11-16T12:41:50.000Z", "lieuTravail": {"libelle": label, "commune": commune}}
        return json.dumps({"resultats": [offer]}).encode("utf-8")

    with sources.serve(faults={SEARCH: [Fault(200, body=body("971 - POINTE-A-PITRE", "97120"))]}) as server:
        result = sources.fetch(sources.settings(server, "972", comparison=("971",), data_dir="peer"),
                               OffersSource(env=ENV))
    assert result.status == "landed"
    with sources.serve(faults={SEARCH: [Fault(200, body=body("75 - PARIS 11", "75111"))]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="bad"), OffersSource(env=ENV))
    assert "landing suite offers_landing failed (department_in_territory:" in str(info.value)
    assert "'75'" in str(info.value) and "quarantined:" in str(info.value)
    assert not (sources.tmp_path / "bad" / "landing" / "offers").exists()


def test_invalid_json_from_the_search_api_names_the_source_and_url(sources: SourceHarness) -> None:
    with sources.serve(faults={SEARCH: [Fault(200, body=b'{"resultats": [')] * 2}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="."), OffersSource(env=ENV))
    message = str(info.value)
    assert message.startswith("source 'offers': ") and "invalid JSON" in message
    assert "url: https://api.francetravail.io/partenaire/offresdemploi/v2/offres/search" in message
    assert not (sources.tmp_path / "landing" / "offers").exists()


def test_a_token_answer_that_is_not_json_names_the_token_url(sources: SourceHarness) -> None:
    token_path = "/entreprise.francetravail.fr/connexion/oauth2/access_token"
    with sources.serve(faults={token_path: [Fault(200, body=b"<html>maintenance</html>")] * 2}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="."), OffersSource(env=ENV))
    assert "invalid JSON" in str(info.value)
    assert "url: https://entreprise.francetravail.fr/connexion/oauth2/access_token" in str(info.value)


def test_a_redirect_loop_names_the_source_and_url(sources: SourceHarness) -> None:
    with sources.serve(faults={SEARCH: [Fault(302, {"Location": SEARCH})] * 40}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="."), OffersSource(env=ENV))
    assert "redirect loop" in str(info.value) and "url: https://api.francetravail.io/" in str(info.value)
    assert info.value.permanent


def test_a_rerun_in_the_month_reuses_its_extract_unless_refresh(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir=".")
        first = sources.fetch(settings, OffersSource(env=ENV))
        second = sources.fetch(settings, OffersSource(env=ENV))
        assert (first.status, second.status, sources.requests) == ("landed", "unchanged", 0)
        assert second.files == first.files and second.rows == first.rows == 355
        assert "was reused" in second.message and "--refresh offers" in second.message
        served = len(server.requests)
        refreshed = sources.fetch(settings, OffersSource(env=ENV), refresh=True)
        assert refreshed.status == "unchanged" and sources.requests == 1 + 13 * 5  # re-paged, same sha256
        assert len(server.requests) == served + 1 + 13 * 5


# --- the parser on real offers ---------------------------------------------------------------------------------------
REAL_OFFERS = Path(__file__).resolve().parents[1] / "fixtures" / "offers" / \
    "offres_search_database_administrator_2024-11-28_subset.json"


def _load_real_offers(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The real offers landed as the connector lands a response (one JSON line with its query), then loaded."""
    offers = json.loads(REAL_OFFERS.read_text("utf-8"))
    settings = Settings(territory=Territory("departement", "972"), data_dir=tmp_path)
    response = {"query": {"codeROME": "M1801", "departement": "972", "range": "0-149"}, "status": 200,
                "content_range": None, "resultats": offers}
    data = (json.dumps(response, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    incoming = tmp_path / "incoming.jsonl"
    incoming.write_bytes(data)
    zone = LandingZone(settings)
    zone.land("offers", landed_name(settings), Download(
        url=SEARCH_URL, final_url=SEARCH_URL, status=200, headers={}, path=incoming,
        sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), content_type="application/x-ndjson"),
        rows=len(offers), data_vintage=None, run_id="real")
    con = duckdb.connect()
    con.execute("create schema raw")
    assert OffersSource(env=ENV).load(con, settings, zone, "real") == {"raw.offers_job_offers": 123}
    return con


def test_the_parser_reads_every_field_of_real_offers(tmp_path: Path) -> None:
    """123 real offers of a France Travail search (tests/fixtures/offers/README.md), quirks included."""
    con = _load_real_offers(tmp_path)
    one = con.execute(
        "select title, rome_code, rome_label, appellation_label, created_at, updated_at, workplace_label, "
        "commune_code, postal_code, department_code, contract_type, contract_nature, experience_required, "
        "qualification_code, naf_code, sector_label, company_name, salary_label, is_short_of_candidates, "
        "query_rome_code from raw.offers_job_offers where offer_id = '184RJSK'").fetchone()
    assert one == (
        "Administrateur Systemes et réseaux (H/F)", "M1801",
        "Administrateur / Administratrice de systèmes d'information (SI)",
        "Administrateur / Administratrice systèmes et réseaux", "2024-11-27T00:09:48.963Z",
        "2024-11-27T11:52:04.337Z", "972 - FORT DE FRANCE", "97209", "97200", "972", "CDI", "Contrat travail", "D",
        "7", "62.03Z", "Gestion d'installations informatiques", "DEMASYS BUSINESS SERVICES",
        "Mensuel de 25000.0 Euros à 35000.0 Euros sur 12.0 mois", False, "M1801")
    # every creation and update instant parses as the UTC timestamp staging reads
    assert con.execute(
        "select count(*), count(try_cast(replace(created_at, 'Z', '') as timestamp)), "
        "count(try_cast(replace(updated_at, 'Z', '') as timestamp)), min(created_at)[:10], max(created_at)[:10] "
        "from raw.offers_job_offers").fetchone() == (123, 123, 123, "2024-09-11", "2024-11-28")
    assert dict(con.execute("select rome_code, count(*) from raw.offers_job_offers group by 1").fetchall()) == {
        "M1801": 57, "M1843": 22, "M1854": 18, "M1817": 8, "M1830": 8, "M1834": 7, "M1849": 3}
    assert dict(con.execute("select contract_type, count(*) from raw.offers_job_offers group by 1").fetchall()) \
        == {"CDI": 89, "CDD": 18, "MIS": 12, "LIB": 3, "FRA": 1}
    # the DROM offers, Martinique's four among them
    assert dict(con.execute("select department_code, count(*) from raw.offers_job_offers "
                            "where department_code like '97%' group by 1").fetchall()) == {
        "971": 3, "972": 4, "973": 4, "974": 2, "976": 1}
    assert con.execute("select list(offer_id order by offer_id) from raw.offers_job_offers "
                       "where department_code = '972'").fetchone() == (["184QRWD", "184RJSK", "7325063", "7812047"],)
    # "972 - Martinique": no commune; "France", a région or a country is no département; "75" alone is one
    assert con.execute("select commune_code, department_code from raw.offers_job_offers "
                       "where offer_id = '7812047'").fetchone() == (None, "972")
    rows = con.execute("select workplace_label, department_code from raw.offers_job_offers "
                       "where not regexp_matches(workplace_label, '^[0-9]{2,3} - ')").fetchall()
    assert {label: dep for label, dep in rows} == {
        "France": None, "Hauts-de-France": None, "Ile-de-France": None, "Québec Canada": None,
        "Principauté de Monaco": None, "Luxembourg (Frontalier)": None, "75": "75"}
    assert con.execute("select count(*) filter (where department_code is null), count(*) filter (where "
                       "commune_code is null), count(*) filter (where is_short_of_candidates) "
                       "from raw.offers_job_offers").fetchone() == (23, 31, 5)


def test_a_real_waiter_filed_under_a_digital_rome_code_matches_the_exclusion_seed(tmp_path: Path) -> None:
    """Fourteen real waiters ("Serveur H/F") carry M1843, administrateur de serveurs, a core digital code.

    fct_job_offers counts an offer as digital only when its title does not match a row of the seed
    offer_title_exclusions (its unit test runs the model on Martinique's four offers); here the
    seed's patterns, with DuckDB's regex engine as in the model, on every real title.
    """
    con = _load_real_offers(tmp_path)
    for table, seed in (("exclusions", "offer_title_exclusions"), ("rome", "rome_digital_occupations")):
        path = REPO / "dbt_project" / "seeds" / f"{seed}.csv"
        con.execute(f"create table {table} as select * from read_csv({sql_literal(path)}, header=true, "
                    "all_varchar=true)")
    con.execute("""
        create table classified as
        select o.offer_id, o.title, o.rome_code, o.department_code, r.is_core_digital = 'true' as by_rome,
            exists (select 1 from exclusions as x where regexp_matches(lower(o.title), x.title_pattern)
                    and (x.unless_pattern is null or not regexp_matches(lower(o.title), x.unless_pattern))) as excluded
        from raw.offers_job_offers as o left join rome as r on o.rome_code = r.rome_code""")
    # every code of the search is a core digital occupation: by its ROME code alone every offer was digital
    assert con.execute("select count(*) filter (where by_rome) from classified").fetchone() == (123,)
    excluded = con.execute("select rome_code, count(*), count(*) filter (where regexp_matches(lower(title), "
                           "'^(h/f |joyo - )?serveu?r')) from classified where excluded group by 1").fetchall()
    assert excluded == [("M1843", 14, 14)]
    assert con.execute("select offer_id, title from classified where excluded and department_code = '972'"
                       ).fetchall() == [("7325063", "SERVEUR H/F")]
    # server administrators keep their code: their title names the trade in IT terms
    kept = con.execute("select count(*) from classified where rome_code = 'M1843' and not excluded").fetchone()
    assert kept == (8,)
    assert con.execute("select count(*) from classified where by_rome and not excluded").fetchone() == (109,)
