"""The replay server imitates what the clients rely on: ODS where filters, data.gouv.fr redirects."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import requests

from oref.config import Settings, Territory
from oref.replay import ReplayServer, parse_ods_where

SNAPSHOT = Path(__file__).resolve().parents[2] / "data" / "snapshot"
URSSAF = ("/open.urssaf.fr/api/explore/v2.1/catalog/datasets/"
          "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last")


def test_ods_export_applies_where_and_delimiter() -> None:
    with ReplayServer(SNAPSHOT) as server:
        r = requests.get(f"{server.base_url}{URSSAF}/exports/csv",
                         params={"where": 'code_departement="971"', "delimiter": ";"}, timeout=10)
        r.raise_for_status()
        rows = list(csv.DictReader(io.StringIO(r.text), delimiter=";"))
        assert rows and {row["code_departement"] for row in rows} == {"971"}
        both = requests.get(f"{server.base_url}{URSSAF}/exports/csv",
                            params={"where": 'code_departement IN ("971","972")'}, timeout=10)
        assert len(both.text.splitlines()) > len(r.text.splitlines())
        bad = requests.get(f"{server.base_url}{URSSAF}/exports/csv", params={"where": "nonsense"}, timeout=10)
        assert bad.status_code == 400 and "unsupported where clause" in bad.text


def test_ods_records_refuse_offsets_past_10000() -> None:
    with ReplayServer(SNAPSHOT) as server:
        r = requests.get(f"{server.base_url}{URSSAF}/records", params={"offset": "9950", "limit": "100"}, timeout=10)
    assert r.status_code == 400 and "10000" in r.text


def test_datagouv_dataset_points_back_at_the_replay_server_and_redirects() -> None:
    with ReplayServer(SNAPSHOT) as server:
        doc = requests.get(f"{server.base_url}/www.data.gouv.fr/api/1/datasets/561fa564c751df4f2acdbb48/",
                           timeout=10).json()
        resource = doc["resources"][0]
        assert resource["latest"].startswith(server.base_url + "/www.data.gouv.fr/api/1/datasets/r/")
        r = requests.get(resource["latest"], timeout=10)
        assert r.history and r.history[0].status_code == 302
        assert r.content[:4] == b"PK\x03\x04"
        assert r.url == resource["url"]


def test_paths_cannot_escape_the_snapshot() -> None:
    with ReplayServer(SNAPSHOT) as server:
        r = requests.get(f"{server.base_url}/www.insee.fr/../../../pyproject.toml", timeout=10)
    assert r.status_code == 404


def test_where_parser() -> None:
    assert parse_ods_where('code_region="02" and code_ape IN ("6201Z", "6202A")') == [
        ("code_region", {"02"}), ("code_ape", {"6201Z", "6202A"})]
    # the form Settings.scope_ods_where sends: lower-case "in", quoted codes separated by ", "
    scope = Settings(territory=Territory("departement", "972")).scope_ods_where()
    assert parse_ods_where(scope) == [("code_departement", {"972", "971", "973", "974", "976"})]


def test_ods_export_of_the_scope_returns_every_departement_present() -> None:
    where = Settings(territory=Territory("departement", "972")).scope_ods_where()
    with ReplayServer(SNAPSHOT) as server:
        r = requests.get(f"{server.base_url}{URSSAF}/exports/csv", params={"where": where, "delimiter": ";"},
                         timeout=10)
    r.raise_for_status()
    rows = list(csv.DictReader(io.StringIO(r.text), delimiter=";"))
    # the snapshot holds 971 and 972 only: 973, 974 and 976 simply have no rows
    assert {row["code_departement"] for row in rows} == {"971", "972"}
