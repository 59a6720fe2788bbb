"""Sirene through the API Recherche d'entreprises: paging, 429 + Retry-After, siège elsewhere, load."""

from __future__ import annotations

import json

import pytest
from oref_testing import SourceHarness

from oref.config import Settings, Territory
from oref.errors import HttpError, SourceError
from oref.http import HttpClient
from oref.reference import naf_codes
from oref.replay import Fault
from oref.sources.sirene import SireneSource, check_page, scope_queries, search_params

SEARCH = "/recherche-entreprises.api.gouv.fr/search"


def test_search_parameters_use_dotted_naf_and_one_query_per_scope_territory() -> None:
    params = search_params({"region": "02"}, 3)
    assert params["region"] == "02" and "departement" not in params
    # the ict_services perimeter of the seed, dotted, in one parameter: 5 it_core codes + 12 others
    ict_services = naf_codes("ict_services")
    assert params["activite_principale"].split(",") == list(ict_services) and len(ict_services) == 17
    assert {"62.01Z", "61.10Z", "95.12Z"} <= set(ict_services) and "26.11Z" not in ict_services
    assert (params["per_page"], params["page"], params["limite_matching_etablissements"]) == ("25", "3", "100")
    assert search_params({"departement": "972"}, 1)["departement"] == "972"
    assert scope_queries(Settings(territory=Territory("departement", "972"))) == [
        {"departement": d} for d in ("972", "971", "973", "974", "976")]
    # a région keeps region= for itself; its own département is not queried again as a peer
    assert scope_queries(Settings(territory=Territory("region", "02"))) == [
        {"region": "02"}, *({"departement": d} for d in ("971", "973", "974", "976"))]
    assert scope_queries(Settings(territory=Territory("departement", "972"), comparison_departements=())) == [
        {"departement": "972"}]


def test_fetch_pages_retries_the_429_and_loads_972_with_its_peers(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir=".", max_retries=2)
        result = sources.fetch(settings, SireneSource())
        requests, sleeps = sources.requests, sources.sleeps
        # 972: 235 companies = 10 pages of 25, page 2 answered 429 once (Retry-After: 1), then 200;
        # 971: 261 companies = 11 pages; 973, 974, 976: one empty page each
        assert (result.status, result.rows, requests) == ("landed", 295 + 326, 11 + 11 + 3)
        assert result.message == ("621 establishments of 496 companies in 24 page(s) "
                                  "(972: 295; peers 971: 326, 973: 0, 974: 0, 976: 0)")
        assert result.files[0].endswith("search_972+971-973-974-976.jsonl")
        assert 1.0 in sleeps  # the Retry-After second was honoured
        coverage = [c for c in sources.checks if c.check_name == "comparison_departements_present"]
        assert [(c.severity, c.status, c.observed) for c in coverage] == [("warn", "fail", "973,974,976")]
        _, con = sources.load(settings, SireneSource())
        assert con.execute("select left(commune_code, 3), count(*), count(distinct siren), sum(is_siege::int) "
                           "from raw.sirene_establishments group by 1 order by 1").fetchall() == [
            ("971", 326, 261, 250), ("972", 295, 235, 215)]
        mtq = "from raw.sirene_establishments where commune_code like '972%'"
        # every row is an establishment of the scope, even when the siège is in Paris
        assert con.execute("select count(*) from raw.sirene_establishments where commune_code not like '972%' "
                           "and commune_code not like '971%'").fetchone() == (0,)
        assert con.execute(f"select count(*) {mtq} and siege_commune_code like '75%'").fetchone() == (26,)
        assert con.execute(f"select naf_code, count(*) {mtq} group by 1 order by 2 desc limit 1").fetchone() == (
            "62.01Z", 100)
        assert con.execute("select count(*), count(distinct siren) from raw.sirene_establishments "
                           "where commune_code like '971%'").fetchone() == (326, 261)

        assert sources.fetch(settings, SireneSource()).status == "unchanged"

        # OREF_COMPARISON=none: Guadeloupe alone, in its own logical file
        guadeloupe = sources.settings(server, "971", comparison=(), data_dir=".", max_retries=2)
        result = sources.fetch(guadeloupe, SireneSource())
        assert (result.rows, sources.requests) == (326, 11)
        assert result.files[0].endswith("search_971.jsonl")
        _, con = sources.load(guadeloupe, SireneSource())
        assert con.execute("select count(*), count(distinct siren) from raw.sirene_establishments "
                           "where commune_code like '971%'").fetchone() == (326, 261)
        assert con.execute("select count(*) from raw.sirene_establishments").fetchone() == (326,)


def test_territory_without_establishments_fails_but_a_peer_without_only_warns(sources: SourceHarness) -> None:
    with sources.serve() as server, pytest.raises(SourceError) as info:
        # Mayotte has nothing in the snapshot, its peers 971 and 972 do
        sources.fetch(sources.settings(server, "976", data_dir="."), SireneSource())
    assert str(info.value).startswith("source 'sirene': no establishment for 976")
    assert not (sources.tmp_path / "landing" / "sirene").exists()


def test_emulator_refuses_more_than_25_per_page(sources: SourceHarness) -> None:
    with sources.serve() as server, HttpClient(sources.settings(server, "972")) as http, \
            pytest.raises(HttpError) as info:
        http.get_json("https://recherche-entreprises.api.gouv.fr/search",
                      params={"departement": "972", "per_page": "26"})
    assert "HTTP 400" in str(info.value)
    assert "Veuillez indiquer un paramètre `per_page` entre 1 et 25." in str(info.value)


def test_a_page_without_paging_keys_fails_naming_them(sources: SourceHarness) -> None:
    with sources.serve(faults={SEARCH: [Fault(200, body=b'{"results": []}')]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="."), SireneSource())
    assert str(info.value) == ("source 'sirene': page 1: missing key(s) ['total_results', 'page', 'per_page', "
                               "'total_pages'] | file: search_972+971-973-974-976.jsonl")
    assert not (sources.tmp_path / "landing" / "sirene").exists()


def test_an_establishment_without_siret_is_named() -> None:
    page = {"results": [{"siren": "300199650", "nom_complet": "X", "activite_principale": "62.01Z",
                         "matching_etablissements": [{"commune": "97209"}]}],
            "total_results": 1, "page": 1, "per_page": 25, "total_pages": 1}
    with pytest.raises(SourceError, match=r"page 1: establishment None of 300199650 lacks \['siret', "):
        check_page(page, page=1, file="search_972.jsonl")


def test_persistent_429_gives_up_with_the_status(sources: SourceHarness) -> None:
    faults = [Fault(429, {"Retry-After": "1"}) for _ in range(3)]
    with sources.serve(faults={SEARCH: faults}) as server, pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", max_retries=2), SireneSource())
    assert "page 1: " in str(info.value) and "gave up after 3 attempts: HTTP 429" in str(info.value)


def test_landing_suite_passes_on_the_snapshot_and_blocks_an_undotted_naf_code(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir="ok", max_retries=2)
        assert sources.fetch(settings, SireneSource()).status == "landed"
    names = {c.check_name for c in sources.checks}
    assert {"siret_well_formed", "siret_unique", "naf_code_well_formed", "establishment_in_territory"} <= names
    assert all(c.status == "pass" for c in sources.checks if c.severity == "error")
    assert not [c for c in sources.checks if c.blocking]

    # URSSAF-style APE code without the dot: the page contract (keys present) lets it through
    establishment = {"siret": "30019965000015", "activite_principale": "6201Z", "commune": "97209",
                     "est_siege": True, "etat_administratif": "A", "date_creation": "1998-09-23",
                     "tranche_effectif_salarie": "00"}
    page = {"results": [{"siren": "300199650", "nom_complet": "X", "activite_principale": "62.01Z",
                         "matching_etablissements": [establishment]}],
            "total_results": 1, "page": 1, "per_page": 25, "total_pages": 1}
    body = json.dumps(page).encode("utf-8")
    with sources.serve(faults={SEARCH: [Fault(200, body=body)]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", data_dir="bad"), SireneSource())
    assert "landing suite sirene_landing failed (naf_code_well_formed:" in str(info.value)
    assert "'6201Z'" in str(info.value) and "quarantined:" in str(info.value)
    assert not (sources.tmp_path / "bad" / "landing" / "sirene").exists()
    assert list((sources.tmp_path / "bad" / "quarantine" / "sirene").glob("*/search_972+971-973-974-976.jsonl"))


def test_an_establishment_outside_the_scope_is_blocked_one_of_a_peer_is_not(sources: SourceHarness) -> None:
    def page(commune: str) -> bytes:
        establishment = {"siret": "30019965000015", "activite_principale": "62.01Z", "commune": commune,
                         "est_siege": True, "etat_administratif": "A", "date_creation": "1998-09-23",
                         "tranche_effectif_salarie": "00"}
        return json.dumps({"results": [{"siren": "300199650", "nom_complet": "X", "activite_principale": "62.01Z",
                                        "matching_etablissements": [establishment]}],
                           "total_results": 1, "page": 1, "per_page": 25, "total_pages": 1}).encode("utf-8")

    # a Guadeloupe establishment in the Martinique answer: 971 is a peer, so it is inside the scope
    with sources.serve(faults={SEARCH: [Fault(200, body=page("97101"))]}) as server:
        result = sources.fetch(sources.settings(server, "972", comparison=("971",), data_dir="peer"), SireneSource())
    assert result.status == "landed"
    with sources.serve(faults={SEARCH: [Fault(200, body=page("75056"))]}) as server, \
            pytest.raises(SourceError) as info:
        sources.fetch(sources.settings(server, "972", comparison=("971",), data_dir="paris"), SireneSource())
    assert "landing suite sirene_landing failed (establishment_in_territory:" in str(info.value)
    assert "'75'" in str(info.value)


def test_emulator_answers_an_empty_result_for_a_departement_without_companies(sources: SourceHarness) -> None:
    with sources.serve() as server, HttpClient(sources.settings(server, "973")) as http:
        document = http.get_json("https://recherche-entreprises.api.gouv.fr/search",
                                 params=search_params({"departement": "973"}, 1))
        guadeloupe = http.get_json("https://recherche-entreprises.api.gouv.fr/search",
                                   params={**search_params({"departement": "971"}, 1), "per_page": "1"})
    assert document == {"results": [], "total_results": 0, "page": 1, "per_page": 25, "total_pages": 0}
    assert guadeloupe["total_results"] == 261
    assert {e["departement"] for r in guadeloupe["results"] for e in r["matching_etablissements"]} == {"971"}


def test_invalid_json_and_a_redirect_loop_name_the_source_and_url(sources: SourceHarness) -> None:
    for fault, expected in ((Fault(200, body=b'{"results": [{"siren"'), "invalid JSON"),
                            (Fault(302, {"Location": SEARCH}), "redirect loop")):
        with sources.serve(faults={SEARCH: [fault] * 40}) as server, pytest.raises(SourceError) as info:
            sources.fetch(sources.settings(server, "972", data_dir="d"), SireneSource())
        assert str(info.value).startswith("source 'sirene': departement=972 page 1: ")
        assert expected in str(info.value)
        assert "url: https://recherche-entreprises.api.gouv.fr/search" in str(info.value)


def test_a_rerun_in_the_month_makes_no_request_unless_refresh(sources: SourceHarness) -> None:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir="d", max_retries=2)
        first = sources.fetch(settings, SireneSource())
        served = len(server.requests)
        second = sources.fetch(settings, SireneSource())
        assert (first.status, second.status) == ("landed", "unchanged")
        assert sources.requests == 0 and len(server.requests) == served
        assert second.message.startswith("the extract of ") and "`oref fetch --refresh sirene`" in second.message
        assert sources.fetch(settings, SireneSource(), refresh=True).status == "unchanged"
        assert sources.requests > 0
