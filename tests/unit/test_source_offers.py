"""France Travail Offres d'emploi v2: OAuth2 token (expiry, refresh), range paging, slicing, skip."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from oref.config import DEFAULT_COMPARISON, Settings, Territory
from oref.errors import SourceError
from oref.http import HttpClient
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.replay import Fault, ReplayServer
from oref.replay_apis.france_travail_offres import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from oref.sources.base import FetchContext, FetchResult
from oref.sources.offers import (
    SKIP_MESSAGE,
    Credentials,
    OffersClient,
    OffersSource,
    TokenProvider,
    credentials_from_env,
    parse_content_range,
)

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "data" / "snapshot"
SEARCH = "/api.francetravail.io/partenaire/offresdemploi/v2/offres/search"
ENV = {"FRANCE_TRAVAIL_CLIENT_ID": TEST_CLIENT_ID, "FRANCE_TRAVAIL_CLIENT_SECRET": TEST_CLIENT_SECRET}


def _settings(tmp_path: Path, server: ReplayServer, territory: Territory,
              comparison: tuple[str, ...] = DEFAULT_COMPARISON) -> Settings:
    return Settings(territory=territory, comparison_departements=comparison, data_dir=tmp_path,
                    source_mode="snapshot", replay_url=server.base_url, snapshot_dir=SNAPSHOT, backoff_base=0.01,
                    max_retries=1)


def _fetch(settings: Settings, source: OffersSource,
           checks: list[CheckResult] | None = None) -> tuple[FetchResult, int]:
    with HttpClient(settings, rate_limits=source.rate_limits, sleep=lambda _: None) as http:
        ctx = FetchContext(settings, http, LandingZone(settings), "run-1")
        try:
            return source.fetch(ctx), http.requests_made
        finally:
            if checks is not None:
                checks.extend(ctx.checks)


def _load(settings: Settings, source: OffersSource) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    source.load(con, settings, LandingZone(settings), "run-1")
    return con


def test_credentials_from_env() -> None:
    assert credentials_from_env(ENV) == Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    assert credentials_from_env({"FRANCE_TRAVAIL_CLIENT_ID": "x", "FRANCE_TRAVAIL_CLIENT_SECRET": "  "}) is None
    assert credentials_from_env({}) is None


def test_without_credentials_the_source_is_skipped_and_the_table_empty(tmp_path: Path) -> None:
    source = OffersSource(env={})
    settings = Settings(territory=Territory("departement", "972"), data_dir=tmp_path)
    with HttpClient(settings) as http:
        result = source.fetch(FetchContext(settings, http, LandingZone(settings), "run-1"))
        assert http.requests_made == 0
    assert (result.status, result.message) == ("skipped", SKIP_MESSAGE)
    assert SKIP_MESSAGE == ("skipped: no France Travail API credentials (set FRANCE_TRAVAIL_CLIENT_ID and "
                            "FRANCE_TRAVAIL_CLIENT_SECRET; register at francetravail.io)")
    con = _load(settings, source)
    assert con.execute("select count(*) from raw.offers_job_offers").fetchone() == (0,)


def test_fetch_and_load_972_with_its_peers_then_971_alone(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path, server, Territory("departement", "972"))
        checks: list[CheckResult] = []
        result, requests = _fetch(settings, OffersSource(env=ENV), checks)
        # one token + one search per ROME code and scope département (972 then the peers 971, 973, 974,
        # 976); every answer fits in one 200 response, or is a 204 (not a response landed)
        assert (result.status, result.rows, requests) == ("landed", 165 + 190, 1 + 13 * 5)
        assert result.message == ("355 offers in 26 response(s), 1 token(s) "
                                  "(972: 165; peers 971: 190, 973: 0, 974: 0, 976: 0)")
        assert result.files[0].endswith("offres_972+971-973-974-976.jsonl")
        coverage = [c for c in checks if c.check_name == "comparison_departements_present"]
        assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
        assert "no offers for comparison département(s) 973, 974, 976" in coverage[0].message
        con = _load(settings, OffersSource(env=ENV))
        assert con.execute("select department_code, count(*), count(distinct offer_id) "
                           "from raw.offers_job_offers group by 1 order by 1").fetchall() == [
            ("971", 190, 190), ("972", 165, 165)]
        assert con.execute("select count(*) from raw.offers_job_offers where rome_code = 'M1805' "
                           "and department_code = '972'").fetchone() == (47,)
        assert _fetch(settings, OffersSource(env=ENV))[0].status == "unchanged"

        # OREF_COMPARISON=none: Guadeloupe alone, in its own logical file
        guadeloupe = _settings(tmp_path, server, Territory("departement", "971"), comparison=())
        result, requests = _fetch(guadeloupe, OffersSource(env=ENV))
        assert (result.rows, requests) == (190, 14)
        assert result.files[0].endswith("offres_971.jsonl")
        con = _load(guadeloupe, OffersSource(env=ENV))
        assert con.execute("select department_code, count(*) from raw.offers_job_offers group by 1") \
            .fetchall() == [("971", 190)]


def test_slices_above_the_cap_are_split_by_creation_date(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server:
        server.state["france_travail.max_results"] = 20  # M1805 has 47 offers in 972: windows must be halved
        settings = _settings(tmp_path, server, Territory("departement", "972"), comparison=())
        result, requests = _fetch(settings, OffersSource(env=ENV, max_results=20))
        assert result.rows == 165 and requests > 14
        con = _load(settings, OffersSource(env=ENV))
        assert con.execute("select count(*), count(distinct offer_id) from raw.offers_job_offers").fetchone() \
            == (165, 165)


def test_range_paging_with_206_and_content_range(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server, HttpClient(_settings(tmp_path, server, Territory("departement", "972"))) \
            as http:
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


def test_emulator_answers_204_for_a_departement_without_offers(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server, HttpClient(_settings(tmp_path, server, Territory("departement", "976"))) \
            as http:
        tokens = TokenProvider(http, Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET))
        client = OffersClient(http, tokens, {"departement": "976"})
        assert client.collect("M1805") == 0 and client.responses == []
        response = client.get({"departement": "976", "codeROME": "M1805", "range": "0-149"})
        assert (response.status_code, response.content) == (204, b"")
        assert OffersClient(http, tokens, {"departement": "971"}).collect("M1805") > 0


def test_token_is_renewed_before_expiry_and_after_a_401(tmp_path: Path) -> None:
    now = [1000.0]
    with ReplayServer(SNAPSHOT) as server, HttpClient(_settings(tmp_path, server, Territory("departement", "972"))) \
            as http:
        tokens = TokenProvider(http, Credentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET), clock=lambda: now[0])
        first = tokens.token()
        now[0] += 1400  # still valid for 99 s, more than the one-minute margin
        assert tokens.token() == first and tokens.issued == 1
        now[0] += 60  # within the last minute of 1499 s: renewed
        assert tokens.token() != first and tokens.issued == 2

        # an expired token on the server side (lifetime 0) is refused with 401, renewed once, then accepted
        server.state["france_travail.token_lifetime"] = 0
        settings = _settings(tmp_path, server, Territory("departement", "972"), comparison=())
        with pytest.raises(SourceError, match=r"HTTP 401 .*Invalid or expired access token"):
            _fetch(settings, OffersSource(env=ENV))
        server.state["france_travail.token_lifetime"] = 1499
        server.add_fault(SEARCH, Fault(401, body=b'{"message": "Invalid or expired access token"}'))
        result, _ = _fetch(settings, OffersSource(env=ENV))
        assert result.rows == 165 and "2 token(s)" in result.message


def test_wrong_credentials_are_refused_with_the_reason(tmp_path: Path) -> None:
    env = {"FRANCE_TRAVAIL_CLIENT_ID": "someone", "FRANCE_TRAVAIL_CLIENT_SECRET": "wrong"}
    with ReplayServer(SNAPSHOT) as server, pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path, server, Territory("departement", "972")), OffersSource(env=env))
    assert str(info.value).startswith("source 'offers': token request refused: HTTP 401 "
                                      '{"error": "invalid_client", "error_description": "Client authentication '
                                      'failed"}')


def test_landing_suite_passes_on_the_snapshot_and_blocks_an_offer_outside_the_territory(tmp_path: Path) -> None:
    with ReplayServer(SNAPSHOT) as server:
        settings = _settings(tmp_path / "ok", server, Territory("departement", "972"))
        source = OffersSource(env=ENV)
        with HttpClient(settings, rate_limits=source.rate_limits, sleep=lambda _: None) as http:
            ctx = FetchContext(settings, http, LandingZone(settings), "run-1")
            assert source.fetch(ctx).status == "landed"
    names = {c.check_name for c in ctx.checks}
    assert {"offer_id_unique", "rome_code_well_formed", "created_at_present", "department_in_territory"} <= names
    assert all(c.status == "pass" for c in ctx.checks if c.severity == "error")
    assert not [c for c in ctx.checks if c.blocking]

    # an offer of a département outside the scope in a Martinique answer: paging and token logic have
    # no reason to notice it; a Guadeloupe one (a comparison peer) is inside the scope
    def body(label: str, commune: str) -> bytes:
        offer = {"id": "190X001", "intitule": "Développeur (H/F)", "romeCode": "M1805", "dateCreation":
                 "2026-11-16T12:41:50.000Z", "lieuTravail": {"libelle": label, "commune": commune}}
        return json.dumps({"resultats": [offer]}).encode("utf-8")

    with ReplayServer(SNAPSHOT, faults={SEARCH: [Fault(200, body=body("971 - POINTE-A-PITRE", "97120"))]}) \
            as server:
        result, _ = _fetch(_settings(tmp_path / "peer", server, Territory("departement", "972"),
                                     comparison=("971",)), OffersSource(env=ENV))
    assert result.status == "landed"
    with ReplayServer(SNAPSHOT, faults={SEARCH: [Fault(200, body=body("75 - PARIS 11", "75111"))]}) as server, \
            pytest.raises(SourceError) as info:
        _fetch(_settings(tmp_path / "bad", server, Territory("departement", "972")), OffersSource(env=ENV))
    assert "landing suite offers_landing failed (department_in_territory:" in str(info.value)
    assert "'75'" in str(info.value) and "quarantined:" in str(info.value)
    assert not (tmp_path / "bad" / "landing" / "offers").exists()
