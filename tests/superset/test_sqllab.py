"""SQL Lab as an `Analyste` cannot crash or drain the server (issue 8, part 3).

Every statement below is refused with a message saying what was refused, and the server answers
a normal query right after each one. A runaway query stops at the (short, in tests) SQL Lab
timeout, "stop query" cancels a running query even when the stop request reaches the other
gunicorn worker, and a user's LIMIT is kept.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

import pytest
import requests
from superset_testing import (
    SQLLAB_TIMEOUT_SECONDS,
    SupersetServer,
    SupersetUser,
    api_session,
    database_id,
    error_messages,
    sql_lab,
)

pytestmark = pytest.mark.slow

# Reads forever: three copies of the indicators mart (tens of thousands of rows each) joined
# without a condition, counted. No table function, so it passes Superset's table-access check
# and really runs in DuckDB until something interrupts it.
RUNAWAY = "select count(*) from marts.mart_indicators a, marts.mart_indicators b, marts.mart_indicators c"

# (SQL, a fragment the refusal must contain)
REFUSALS = [
    ("select * from read_csv('/etc/passwd')", "la fonction read_csv() n'est pas autorisée"),
    ("select * from read_text('/etc/hostname')", "la fonction read_text() n'est pas autorisée"),
    ("select * from read_blob('/etc/hostname')", "la fonction read_blob() n'est pas autorisée"),
    ("select * from glob('/etc/*')", "la fonction glob() n'est pas autorisée"),
    ("select * from sqlite_scan('/tmp/x.db', 't')", "la fonction sqlite_scan() n'est pas autorisée"),
    ("attach '/etc/hostname' as other", "l'instruction ATTACH n'est pas autorisée"),
    ("copy (select 1) to '/tmp/oref-sqllab-copy.csv'", "l'instruction COPY n'est pas autorisée"),
    ("export database '/tmp/oref-sqllab-export'", "l'instruction EXPORT n'est pas autorisée"),
    ("install httpfs", "l'instruction INSTALL n'est pas autorisée"),
    ("load httpfs", "l'instruction LOAD n'est pas autorisée"),
    ("set enable_external_access = true", "l'instruction SET n'est pas autorisée"),
    ("set threads = 64", "l'instruction SET n'est pas autorisée"),
    ("set memory_limit = '100GB'", "l'instruction SET n'est pas autorisée"),
    # aborted the whole Superset process ("terminate called after throwing duckdb::PermissionException")
    ("call enable_logging(storage='file', storage_path='/tmp/oref-sqllab-log')", "l'instruction CALL"),
    ("select * from enable_logging(storage='file', storage_path='/tmp/oref-sqllab-log')", "enable_logging()"),
    ("create table marts.intruder as select 1 as x", "CREATE modifie des données"),
    ("create view marts.intruder as select 1 as x", "CREATE modifie des données"),
    ("drop table marts.mart_indicators", "DROP modifie des données"),
    ("alter table marts.mart_indicators add column x int", "ALTER modifie des données"),
    ("insert into marts.mart_indicators (indicator_code) values ('x')", "INSERT modifie des données"),
    ("update marts.mart_indicators set value = 0", "UPDATE modifie des données"),
    ("delete from marts.mart_indicators", "DELETE modifie des données"),
    ("select 1; delete from marts.mart_indicators", "DELETE modifie des données"),
]


@pytest.fixture(scope="module")
def analyste(superset_server: SupersetServer, superset_users: dict[str, SupersetUser]) -> requests.Session:
    return api_session(superset_server, superset_users["analyste"])


@pytest.fixture(scope="module")
def warehouse_id(superset_server: SupersetServer, analyste: requests.Session) -> int:
    return database_id(analyste, superset_server, "oref")


def assert_serves_normal_query(server: SupersetServer, session: requests.Session, database: int) -> None:
    response = sql_lab(session, server, database, "select count(*) as n from marts.mart_indicators")
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["n"] > 0
    assert server.process.poll() is None, server.log_tail()


@pytest.mark.parametrize(("sql", "expected"), REFUSALS, ids=[sql[:40] for sql, _ in REFUSALS])
def test_refused_with_a_message_and_the_server_keeps_serving(
    superset_server: SupersetServer, analyste: requests.Session, warehouse_id: int, sql: str, expected: str
) -> None:
    response = sql_lab(analyste, superset_server, warehouse_id, sql)
    assert response.status_code == 400, (sql, response.status_code, response.text)
    message = error_messages(response)
    assert message.startswith("Requête refusée"), message
    assert expected in message, message
    assert "root:" not in response.text
    assert_serves_normal_query(superset_server, analyste, warehouse_id)


def test_nothing_was_written_on_the_server(superset_server: SupersetServer) -> None:
    """After the refusals: no file written where they pointed, no table created."""
    from pathlib import Path

    for path in ("/tmp/oref-sqllab-copy.csv", "/tmp/oref-sqllab-export", "/tmp/oref-sqllab-log"):
        assert not Path(path).exists(), path
    assert "terminate called" not in superset_server.log_text()


def test_runaway_query_stops_at_the_timeout(
    superset_server: SupersetServer, analyste: requests.Session, warehouse_id: int
) -> None:
    started = time.monotonic()
    response = sql_lab(analyste, superset_server, warehouse_id, RUNAWAY)
    elapsed = time.monotonic() - started
    assert response.status_code >= 400, response.text
    assert f"a dépassé la durée maximale de {SQLLAB_TIMEOUT_SECONDS} s" in error_messages(response)
    assert SQLLAB_TIMEOUT_SECONDS - 1 <= elapsed < SQLLAB_TIMEOUT_SECONDS + 10, elapsed
    assert_serves_normal_query(superset_server, analyste, warehouse_id)


def _access_log_pids(server: SupersetServer, offset: int, path: str) -> list[str]:
    """Worker pids that served ``path`` (gunicorn's access log, from ``offset``)."""
    text = server.log_text()[offset:]
    return re.findall(rf'"POST {re.escape(path)} HTTP/1\.1" \d+ .* worker=<(\d+)>', text)


def test_stop_query_cancels_a_running_query_from_another_worker(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], warehouse_id: int
) -> None:
    """The stop request lands in whichever gunicorn worker accepts it; the running query's
    watchdog, in the other process, must see it. Tried until one stop crossed workers."""
    crossed = False
    for _ in range(8):
        offset = len(superset_server.log_text())
        runner = api_session(superset_server, superset_users["analyste"])
        client_id = secrets.token_hex(5)
        outcome: dict[str, object] = {}

        def run(session: requests.Session = runner, cid: str = client_id, out: dict[str, object] = outcome) -> None:
            started = time.monotonic()
            response = sql_lab(session, superset_server, warehouse_id, RUNAWAY, client_id=cid)
            out["elapsed"] = time.monotonic() - started
            out["response"] = response

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.5)  # the query is running
        stopper = api_session(superset_server, superset_users["analyste"])  # a new connection
        stop = stopper.post(
            f"{superset_server.base_url}/api/v1/query/stop", json={"client_id": client_id}, timeout=30
        )
        thread.join(timeout=60)
        assert stop.status_code == 200, stop.text
        response = outcome["response"]
        assert isinstance(response, requests.Response)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "stopped"
        assert float(str(outcome["elapsed"])) < SQLLAB_TIMEOUT_SECONDS - 1, outcome["elapsed"]
        time.sleep(0.5)  # the access log line of the execute request
        stop_pids = _access_log_pids(superset_server, offset, "/api/v1/query/stop")
        run_pids = _access_log_pids(superset_server, offset, "/api/v1/sqllab/execute/")
        assert stop_pids and run_pids, superset_server.log_tail()
        if stop_pids[-1] != run_pids[-1]:
            crossed = True
            break
    assert crossed, "every stop request reached the worker running the query; try again"
    assert_serves_normal_query(superset_server, api_session(superset_server, superset_users["analyste"]),
                               warehouse_id)


def test_a_users_limit_is_kept(superset_server: SupersetServer, analyste: requests.Session, warehouse_id: int) -> None:
    response = sql_lab(analyste, superset_server, warehouse_id, "select * from marts.mart_indicators limit 5")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 5
    executed = " ".join(body["query"]["executedSql"].split()).upper()
    assert executed.endswith("LIMIT 5"), executed
    # Without a LIMIT, SQL Lab's row limit (+1, to tell whether there were more rows) applies.
    response = sql_lab(analyste, superset_server, warehouse_id, "select * from marts.mart_indicators", limit=10)
    body = response.json()
    assert len(body["data"]) == 10
    assert " ".join(body["query"]["executedSql"].split()).upper().endswith("LIMIT 11")
    # A LIMIT above the row limit is capped.
    response = sql_lab(analyste, superset_server, warehouse_id, "select * from marts.mart_indicators limit 500",
                       limit=10)
    assert len(response.json()["data"]) == 10


def test_other_schemas_are_refused(
    superset_server: SupersetServer, analyste: requests.Session, warehouse_id: int
) -> None:
    for table in ("raw.bmo", "staging.stg_bmo__recruitment_projects", "quality.runs", "main.x"):
        response = sql_lab(analyste, superset_server, warehouse_id, f"select * from {table}")
        assert response.status_code >= 400, (table, response.text)
        assert "Accès refusé" in error_messages(response), error_messages(response)
