"""A running Superset: bootstrapping again, refusing to start without a key, gunicorn, and the
service-backed variant (PostgreSQL metadata, Redis cache)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from superset_testing import (
    HTTP_TIMEOUT,
    SUPERSET_PYTHON,
    SupersetServer,
    api_session,
    clean_environment,
    database_id,
    published_files,
    require_superset_venv,
    sql_lab,
    start_server,
    stop_server,
)

from oref import superset_assets as sa

PG_DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
PG_TEST_DATABASE = "oref_superset_test"
REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.slow
def test_served_by_gunicorn_with_two_workers(superset_server: SupersetServer) -> None:
    """The server is gunicorn's master with its threaded workers, not Flask's development server."""
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(superset_server.process.pid)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(children) == 2, children
    for pid in [str(superset_server.process.pid), *children]:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[1].endswith(b"/gunicorn") and b"gthread" in argv and b"superset.app:create_app()" in argv, argv
    assert "Booting worker with pid" in superset_server.log_text()
    assert "development server" not in superset_server.log_text().lower()


@pytest.mark.slow
def test_bootstrap_again_overwrites_the_assets_and_follows_the_files(
    superset_server: SupersetServer,
    published_warehouse: Path,
    tmp_path: Path,
) -> None:
    """A second bootstrap on the same home succeeds (existing admin, existing objects and roles),
    overwrites a changed chart, and repoints the database at a warehouse that moved."""
    moved = tmp_path / "moved" / "oref.duckdb"
    moved.parent.mkdir()
    moved.symlink_to(superset_server.files.warehouse)
    assets = tmp_path / "assets"
    shutil.copytree(sa.ASSETS_DIR, assets)
    chart_file = sorted((assets / "charts").glob("*.yaml"))[0]
    chart_name = re.search(r"(?m)^slice_name: (.*)$", chart_file.read_text(encoding="utf-8"))
    assert chart_name
    text = re.sub(r"(?m)^description: .*(\n  .*)*$", "", chart_file.read_text(encoding="utf-8"))
    chart_file.write_text(text + "description: Description modifiée\n", encoding="utf-8")
    files = sa.bootstrap(
        moved.with_name("serving.duckdb"),
        moved.with_name("no-quality-yet.duckdb"),  # stands in as an empty file
        superset_server.home,
        env=superset_server.env,
        assets_dir=assets,
        warehouse=moved,
    )
    assert files.warehouse == moved

    admin = api_session(superset_server, superset_server.admin)  # the admin password still works
    base = superset_server.base_url
    oref_id = database_id(admin, superset_server, "oref")
    connection = admin.get(f"{base}/api/v1/database/{oref_id}/connection", timeout=HTTP_TIMEOUT)
    assert connection.status_code == 200, connection.text
    assert connection.json()["result"]["sqlalchemy_uri"] == f"duckdb:///{moved}"
    found = admin.get(
        f"{base}/api/v1/chart/",
        params={"q": f"(filters:!((col:slice_name,opr:eq,value:'{chart_name.group(1).strip()}')))"},
        timeout=HTTP_TIMEOUT,
    ).json()
    assert found["count"] == 1, found
    chart = admin.get(f"{base}/api/v1/chart/{found['result'][0]['id']}", timeout=HTTP_TIMEOUT).json()["result"]
    assert chart["description"] == "Description modifiée"
    response = sql_lab(admin, superset_server, oref_id, "select count(*) as n from marts.mart_indicators")
    assert response.status_code == 200 and response.json()["data"][0]["n"] > 0, response.text

    # Back to the session's files, for the other tests.
    published = published_files(published_warehouse)
    sa.bootstrap(
        published.serving_path,
        published.quality_path,
        superset_server.home,
        env=superset_server.env,
        warehouse=published_warehouse,
    )


@pytest.mark.slow
def test_superset_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    require_superset_venv()
    env = clean_environment()
    env.update(SUPERSET_CONFIG_PATH=str(sa.SUPERSET_CONFIG), SUPERSET_HOME=str(tmp_path))
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", "from superset.app import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "RuntimeError: SUPERSET_SECRET_KEY is not set" in result.stderr, result.stderr[-3000:]
    assert not (tmp_path / "superset.db").exists()


# --- Service-backed variant: PostgreSQL metadata, Redis cache ---------------------------------

_PG_ADMIN = """
import sys, psycopg2
con = psycopg2.connect(host={host!r}, port={port}, user={user!r}, dbname="postgres")
con.autocommit = True
cur = con.cursor()
cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", ({db!r},))
cur.execute('drop database if exists "{db}"')
if sys.argv[1:] == ["create"]:
    cur.execute('create database "{db}"')
"""

_REDIS_KEYS = """
import sys, redis
client = redis.Redis.from_url({url!r})
keys = list(client.scan_iter("oref_superset_*"))
if sys.argv[1:] == ["delete"] and keys:
    client.delete(*keys)
print(json.dumps([key.decode() for key in keys]))
"""


def _pg_admin(action: str) -> None:
    code = _PG_ADMIN.format(db=PG_TEST_DATABASE, **PG_DSN)
    subprocess.run([str(SUPERSET_PYTHON), "-c", code, action], check=True, timeout=60)


def _redis_keys(delete: bool = False) -> list[str]:
    code = "import json\n" + _REDIS_KEYS.format(url=REDIS_TEST_URL)
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", code, *(["delete"] if delete else [])],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return list(json.loads(result.stdout))


@pytest.mark.slow
@pytest.mark.services
def test_superset_on_postgres_metadata_and_redis_cache(
    published_warehouse: Path,
    tmp_path: Path,
    _server_processes: list[subprocess.Popen[bytes]],
) -> None:
    """The same bootstrap and gunicorn on PostgreSQL metadata: charts are cached in Redis, SQL Lab
    answers, and a stop request is shared by both workers through the database and the flag."""
    require_superset_venv()
    _pg_admin("create")
    _redis_keys(delete=True)
    try:
        uri = "postgresql+psycopg2://{user}@{host}:{port}/".format(**PG_DSN) + PG_TEST_DATABASE
        server = start_server(
            tmp_path / "home",
            published_warehouse,
            _server_processes,
            {"SUPERSET_DATABASE_URI": uri, "SUPERSET_REDIS_URL": REDIS_TEST_URL},
        )
        try:
            admin = api_session(server, server.admin)
            charts = admin.get(f"{server.base_url}/api/v1/chart/", params={"q": "(page_size:5)"},
                               timeout=HTTP_TIMEOUT).json()["result"]
            assert charts
            for chart in charts:
                response = admin.get(f"{server.base_url}/api/v1/chart/{chart['id']}/data/", timeout=HTTP_TIMEOUT)
                assert response.status_code == 200, (chart["slice_name"], response.text[:500])
            oref_id = database_id(admin, server, "oref")
            response = sql_lab(admin, server, oref_id, "select count(*) as n from marts.mart_indicators")
            assert response.status_code == 200 and response.json()["data"][0]["n"] > 0
            assert not (server.home / "superset.db").exists()
            assert any(key.startswith("oref_superset_data_") for key in _redis_keys())
            assert requests.get(f"{server.base_url}/api/v1/chart/", timeout=HTTP_TIMEOUT).status_code == 401
        finally:
            stop_server(server.process)
    finally:
        _redis_keys(delete=True)
        _pg_admin("drop")
