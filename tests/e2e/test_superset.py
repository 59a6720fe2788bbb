"""Superset: import bundle, configuration, bootstrap, and the dashboard served from the warehouse.

The fast tests need no server. The `slow` ones bootstrap a Superset instance in a temporary
home on the `published_warehouse`, start it on loopback, and query it through its REST API;
the `services` one does the same with PostgreSQL metadata and a Redis cache.
"""

from __future__ import annotations

import io
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from oref import superset_assets as sa

DASHBOARD_SLUG = "besoins-recrutement-numerique"
DASHBOARD_TITLE = "Besoins en recrutement du numérique"
BIG_NUMBER = "Projets de recrutement dans le numérique"
BIG_NUMBER_METRIC = "Projets de recrutement"
ADMIN_USER = "oref_test_admin"
SERVER_START_TIMEOUT = 180
HTTP_TIMEOUT = 60
SUPERSET_PYTHON = sa.SUPERSET_VENV / "bin" / "python"

PG_DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
PG_TEST_DATABASE = "oref_superset_test"
REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


def _require_superset_venv() -> None:
    if not SUPERSET_PYTHON.is_file():
        pytest.fail(f"{sa.SUPERSET_VENV} is missing: run `cd superset && uv sync --frozen`")


def _superset_python(code: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> str:
    """Run a snippet in the Superset virtualenv and return its stdout."""
    _require_superset_venv()
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", code],
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _clean_environment() -> dict[str, str]:
    """The caller's environment without anything that configures Superset or Flask."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUPERSET_", "FLASK_")) and key != "OREF_DATA_DIR"
    }


def _load_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """Execute superset_config.py (standard library only) with the given environment."""
    for key in list(os.environ):
        if key.startswith("SUPERSET_") or key == "OREF_DATA_DIR":
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(sa.SUPERSET_CONFIG))


# --- Fast tests: no server -------------------------------------------------------------------


def test_duckdb_version_is_the_same_in_both_environments() -> None:
    """One DuckDB storage format: the pipeline and Superset pin and install the same version."""
    pins = []
    for pyproject in (sa.REPO_ROOT / "pyproject.toml", sa.SUPERSET_DIR / "pyproject.toml"):
        deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
        pins.append([dep.split("#")[0].strip() for dep in deps if dep.startswith("duckdb==")])
    assert pins[0] == pins[1] and len(pins[0]) == 1, pins

    superset_version = _superset_python("import duckdb; print(duckdb.__version__)").strip()
    main_python = sa.REPO_ROOT / ".venv" / "bin" / "python"
    interpreter = str(main_python) if main_python.is_file() else sys.executable
    main_version = subprocess.run(
        [interpreter, "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert superset_version == main_version == duckdb.__version__
    assert pins[0][0] == f"duckdb=={main_version}"


def test_bundle_has_one_root_and_the_warehouse_path(tmp_path: Path) -> None:
    warehouse = tmp_path / "published" / "oref.duckdb"
    bundle = sa.build_import_bundle(warehouse, tmp_path / "bundle.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        texts = {name: archive.read(name).decode() for name in names}
    assert {name.split("/")[0] for name in names} == {sa.BUNDLE_ROOT}
    assert all(name.endswith(".yaml") for name in names)
    relative = {name.split("/", 1)[1] for name in names}
    assert "metadata.yaml" in relative
    assert "databases/oref.yaml" in relative
    assert {path.split("/")[0] for path in relative} == {
        "metadata.yaml",
        "databases",
        "datasets",
        "charts",
        "dashboards",
    }
    assert not any(sa.WAREHOUSE_PLACEHOLDER in text for text in texts.values())
    database = texts[f"{sa.BUNDLE_ROOT}/databases/oref.yaml"]
    assert f"sqlalchemy_uri: duckdb:///{warehouse}\n" in database
    # Same inputs, same bytes.
    assert bundle.read_bytes() == sa.render_import_bundle(warehouse)


def test_bundle_skips_junk_files(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(sa.ASSETS_DIR, assets)
    for junk in (".DS_Store", "charts/.chart.yaml.swp", "charts/notes.txt", ".hidden/x.yaml"):
        (assets / junk).parent.mkdir(parents=True, exist_ok=True)
        (assets / junk).write_text("junk: true\n")
    (assets / "__pycache__").mkdir()
    (assets / "__pycache__" / "x.pyc").write_bytes(b"\0")
    with zipfile.ZipFile(io.BytesIO(sa.render_import_bundle(tmp_path / "w.duckdb", assets))) as archive:
        names = archive.namelist()
    expected = sorted(
        f"{sa.BUNDLE_ROOT}/{path.relative_to(sa.ASSETS_DIR).as_posix()}" for path in sa.ASSETS_DIR.rglob("*.yaml")
    )
    assert names == expected


def test_bundle_assets_are_consistent() -> None:
    """Every chart has a query_context, and points at a dataset of the bundle; French titles."""
    yaml = pytest.importorskip("yaml")

    def load(path: Path) -> dict[str, Any]:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8")))

    datasets = {load(p)["uuid"]: load(p) for p in (sa.ASSETS_DIR / "datasets").rglob("*.yaml")}
    charts = [load(p) for p in (sa.ASSETS_DIR / "charts").glob("*.yaml")]
    (dashboard,) = [load(p) for p in (sa.ASSETS_DIR / "dashboards").glob("*.yaml")]
    assert dashboard["dashboard_title"] == DASHBOARD_TITLE
    assert dashboard["slug"] == DASHBOARD_SLUG
    placed = {
        item["meta"]["uuid"]
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert placed == {chart["uuid"] for chart in charts}
    assert len(charts) >= 3
    for chart in charts:
        assert chart["dataset_uuid"] in datasets
        context = json.loads(chart["query_context"])
        assert context["queries"], chart["slice_name"]
    for dataset in datasets.values():
        assert dataset["schema"] == "marts" and dataset["sql"] is None


def test_bundle_rejects_unsafe_warehouse_paths(tmp_path: Path) -> None:
    for name in ("a?b.duckdb", "a#b.duckdb", "a%20b.duckdb", "a:b.duckdb", "a'b.duckdb"):
        with pytest.raises(ValueError, match="Unsupported character"):
            sa.render_import_bundle(tmp_path / name)


@pytest.mark.parametrize(
    "key",
    ["", "short-key", "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY"],
)
def test_config_refuses_missing_short_or_default_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    with pytest.raises(RuntimeError, match="SUPERSET_SECRET_KEY"):
        _load_config(monkeypatch, SUPERSET_SECRET_KEY=key)


def test_config_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    config = _load_config(monkeypatch, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48))
    expected_db = tmp_path.resolve() / "data" / "superset" / "superset.db"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected_db}?check_same_thread=false"
    assert config["CACHE_CONFIG"]["CACHE_TYPE"] == "SimpleCache"
    assert config["DATA_CACHE_CONFIG"]["CACHE_TYPE"] == "SimpleCache"
    assert "FILTER_STATE_CACHE_CONFIG" not in config  # Superset's metastore default stays
    assert config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert config["PREVENT_UNSAFE_DB_CONNECTIONS"] is True
    assert config["WTF_CSRF_ENABLED"] is True
    assert "superset.views.core.explore_json" not in config["WTF_CSRF_EXEMPT_LIST"]


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uri = "postgresql+psycopg2://superset@db.invalid/superset"
    config = _load_config(
        monkeypatch,
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(48),
        SUPERSET_DATABASE_URI=uri,
        SUPERSET_REDIS_URL="redis://127.0.0.1:6379/3",
        OREF_DATA_DIR=str(tmp_path / "elsewhere"),
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == uri
    assert config["DATA_DIR"] == str((tmp_path / "elsewhere" / "superset").resolve())
    for name in ("CACHE_CONFIG", "DATA_CACHE_CONFIG", "FILTER_STATE_CACHE_CONFIG"):
        assert config[name]["CACHE_TYPE"] == "RedisCache"
        assert config[name]["CACHE_REDIS_URL"] == "redis://127.0.0.1:6379/3"


# --- A running Superset -----------------------------------------------------------------------


@dataclass
class SupersetServer:
    base_url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started (it leads its own process group)."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def _server_process_groups() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Started servers, killed at module teardown even if a fixture failed half-way."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        _stop(process)


def _start_superset(
    home: Path,
    warehouse: Path,
    extra_env: Mapping[str, str],
    started: list[subprocess.Popen[bytes]],
) -> SupersetServer:
    _require_superset_venv()
    env = _clean_environment()
    env.update(
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(48),
        SUPERSET_ADMIN_USER=ADMIN_USER,
        SUPERSET_ADMIN_PASSWORD=secrets.token_urlsafe(24),
        OREF_DATA_DIR=str(home / "data"),
        **extra_env,
    )
    sa.bootstrap(warehouse, home, env=env)

    port = _free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(sa.SUPERSET_BIN), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
            env=sa.superset_environment(home, env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started.append(process)
    server = SupersetServer(f"http://127.0.0.1:{port}", home, env, process, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Superset exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.base_url}/health", timeout=5).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"Superset did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")


def _api(server: SupersetServer) -> requests.Session:
    """A session logged in as the admin through the REST API, with a CSRF token."""
    session = requests.Session()
    response = session.post(
        f"{server.base_url}/api/v1/security/login",
        json={
            "username": server.env["SUPERSET_ADMIN_USER"],
            "password": server.env["SUPERSET_ADMIN_PASSWORD"],
            "provider": "db",
            "refresh": False,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    csrf = session.get(f"{server.base_url}/api/v1/security/csrf_token/", timeout=HTTP_TIMEOUT)
    assert csrf.status_code == 200, csrf.text
    session.headers["X-CSRFToken"] = csrf.json()["result"]
    session.headers["Referer"] = server.base_url
    return session


def _dashboard_charts(server: SupersetServer, api: requests.Session) -> list[dict[str, Any]]:
    response = api.get(f"{server.base_url}/api/v1/dashboard/{DASHBOARD_SLUG}", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["dashboard_title"] == DASHBOARD_TITLE
    response = api.get(f"{server.base_url}/api/v1/dashboard/{DASHBOARD_SLUG}/charts", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return list(response.json()["result"])


def _chart_data(server: SupersetServer, api: requests.Session, chart_id: int) -> dict[str, Any]:
    response = api.get(f"{server.base_url}/api/v1/chart/{chart_id}/data/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    (result,) = response.json()["result"]
    return dict(result)


def _assert_every_chart_returns_rows(server: SupersetServer, api: requests.Session) -> None:
    charts = _dashboard_charts(server, api)
    assert len(charts) >= 3, [chart["slice_name"] for chart in charts]
    for chart in charts:
        result = _chart_data(server, api, chart["id"])
        assert result["status"] == "success", (chart["slice_name"], result)
        assert result["rowcount"] > 0, (chart["slice_name"], result.get("query"))


def _sql_lab(server: SupersetServer, api: requests.Session, sql: str) -> requests.Response:
    databases = api.get(
        f"{server.base_url}/api/v1/database/",
        params={"q": "(filters:!((col:database_name,opr:eq,value:oref)))"},
        timeout=HTTP_TIMEOUT,
    )
    assert databases.status_code == 200, databases.text
    (database,) = databases.json()["result"]
    return api.post(
        f"{server.base_url}/api/v1/sqllab/execute/",
        json={"database_id": database["id"], "sql": sql, "runAsync": False, "schema": "marts"},
        timeout=HTTP_TIMEOUT,
    )


@pytest.fixture(scope="module")
def superset_server(
    published_warehouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _server_process_groups: list[subprocess.Popen[bytes]],
) -> SupersetServer:
    home = tmp_path_factory.mktemp("superset_home")
    return _start_superset(home, published_warehouse, {}, _server_process_groups)


@pytest.fixture(scope="module")
def superset_api(superset_server: SupersetServer) -> requests.Session:
    return _api(superset_server)


@pytest.mark.slow
def test_every_dashboard_chart_returns_rows(superset_server: SupersetServer, superset_api: requests.Session) -> None:
    _assert_every_chart_returns_rows(superset_server, superset_api)


@pytest.mark.slow
def test_big_number_matches_the_warehouse(
    superset_server: SupersetServer, superset_api: requests.Session, published_warehouse: Path
) -> None:
    (chart,) = [
        chart for chart in _dashboard_charts(superset_server, superset_api) if chart["slice_name"] == BIG_NUMBER
    ]
    rows = _chart_data(superset_server, superset_api, chart["id"])["data"]
    latest = max(rows, key=lambda row: row["period_year"])
    with duckdb.connect(str(published_warehouse), read_only=True) as con:
        row = con.execute(
            """
            select list(distinct territory_code), sum(value)
            from marts.mart_indicators
            where indicator_code = 'bmo_digital_recruitment_projects'
              and territory_level = 'departement'
              and comparison_group = 'territoire'
              and substr(period, 1, 4) = (
                  select max(substr(period, 1, 4)) from marts.mart_indicators
                  where indicator_code = 'bmo_digital_recruitment_projects'
              )
            """
        ).fetchone()
    assert row is not None
    departments, expected = row
    assert latest[BIG_NUMBER_METRIC] == pytest.approx(expected)
    if departments == ["972"]:
        assert latest[BIG_NUMBER_METRIC] == 61


@pytest.mark.slow
def test_sql_lab_reads_the_warehouse_but_not_server_files(
    superset_server: SupersetServer, superset_api: requests.Session
) -> None:
    allowed = _sql_lab(superset_server, superset_api, "select count(*) as n from marts.mart_indicators")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"][0]["n"] > 0

    for sql in (
        "select * from read_csv('/etc/passwd')",
        "attach '/etc/hostname' as other",
        "set enable_external_access = true",
    ):
        refused = _sql_lab(superset_server, superset_api, sql)
        assert refused.status_code >= 400, (sql, refused.text)
        assert "root:" not in refused.text
        message = json.dumps(refused.json())
        assert "disabled by configuration" in message or "configuration has been locked" in message, (
            sql,
            message,
        )

    dml = _sql_lab(superset_server, superset_api, "create table marts.intruder as select 1 as x")
    assert dml.status_code >= 400
    assert "DML_NOT_ALLOWED_ERROR" in dml.text


@pytest.mark.slow
def test_bootstrap_again_overwrites_the_assets_and_follows_the_warehouse(
    superset_server: SupersetServer,
    published_warehouse: Path,
    tmp_path: Path,
) -> None:
    """A second bootstrap on the same home succeeds (existing admin, existing objects),
    overwrites changed charts, and repoints the database at a warehouse that moved."""
    moved = tmp_path / "moved" / "oref.duckdb"
    moved.parent.mkdir()
    moved.symlink_to(published_warehouse)
    assets = tmp_path / "assets"
    shutil.copytree(sa.ASSETS_DIR, assets)
    (table_chart,) = [p for p in (assets / "charts").glob("*.yaml") if "Indicateurs du recrutement" in p.read_text()]
    text = table_chart.read_text(encoding="utf-8")
    table_chart.write_text(
        re.sub(r"(?m)^description: .*(\n  .*)*$", "description: Description modifiée", text, count=1),
        encoding="utf-8",
    )
    sa.bootstrap(moved, superset_server.home, env=superset_server.env, assets_dir=assets)

    api = _api(superset_server)  # the admin password still works
    base = superset_server.base_url
    databases = api.get(
        f"{base}/api/v1/database/",
        params={"q": "(filters:!((col:database_name,opr:eq,value:oref)))"},
        timeout=HTTP_TIMEOUT,
    ).json()["result"]
    assert len(databases) == 1
    connection = api.get(f"{base}/api/v1/database/{databases[0]['id']}/connection", timeout=HTTP_TIMEOUT)
    assert connection.status_code == 200, connection.text
    assert connection.json()["result"]["sqlalchemy_uri"] == f"duckdb:///{moved}"

    dashboards = api.get(
        f"{base}/api/v1/dashboard/",
        params={"q": f"(filters:!((col:slug,opr:eq,value:{DASHBOARD_SLUG})))"},
        timeout=HTTP_TIMEOUT,
    ).json()
    assert dashboards["count"] == 1
    charts = {chart["slice_name"]: chart for chart in _dashboard_charts(superset_server, api)}
    assert len(charts) == len(list(sa.ASSETS_DIR.glob("charts/*.yaml")))
    table = api.get(f"{base}/api/v1/chart/{charts['Indicateurs du recrutement']['id']}", timeout=HTTP_TIMEOUT)
    assert table.json()["result"]["description"] == "Description modifiée"
    _assert_every_chart_returns_rows(superset_server, api)


@pytest.mark.slow
def test_superset_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    _require_superset_venv()
    env = _clean_environment()
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
    _server_process_groups: list[subprocess.Popen[bytes]],
) -> None:
    _require_superset_venv()
    _pg_admin("create")
    _redis_keys(delete=True)
    try:
        uri = "postgresql+psycopg2://{user}@{host}:{port}/".format(**PG_DSN) + PG_TEST_DATABASE
        server = _start_superset(
            tmp_path / "home",
            published_warehouse,
            {"SUPERSET_DATABASE_URI": uri, "SUPERSET_REDIS_URL": REDIS_TEST_URL},
            _server_process_groups,
        )
        try:
            _assert_every_chart_returns_rows(server, _api(server))
            assert not (server.home / "superset.db").exists()
            assert any(key.startswith("oref_superset_data_") for key in _redis_keys())
        finally:
            _stop(server.process)
    finally:
        _redis_keys(delete=True)
        _pg_admin("drop")
