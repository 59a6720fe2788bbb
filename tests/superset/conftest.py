"""Fixtures of the Superset tests: one Superset served like `make up` serves it, and its users.

- ``superset_server`` (session): bootstraps a Superset home on the ``published_warehouse`` (a real
  ``oref run``) and serves it with :func:`oref.superset_assets.gunicorn_command`, the command
  ``make up`` runs (gunicorn, 2 gthread workers), on a free loopback port. Its process group is
  killed at the end of the session. SQL Lab's timeout is short there
  (``superset_testing.SQLLAB_TIMEOUT_SECONDS``), so runaway queries end quickly.
- ``superset_users`` (session): one user per oref role, ``superset_users["analyste"]``…
- ``admin_api`` (session): a ``requests.Session`` logged in as the admin.

The helpers (``create_user``, ``api_session``, ``browser_login``, ``launch_chromium``, ``sql_lab``…)
live in ``superset_testing.py`` beside this file.

Setting ``OREF_TEST_WAREHOUSE`` replaces ``published_warehouse`` for quicker iterations:

- ``OREF_TEST_WAREHOUSE=/path/to/oref.duckdb``: an existing warehouse (its sibling
  serving.duckdb and quality.duckdb are used when present);
- ``OREF_TEST_WAREHOUSE=throwaway``: a throwaway DuckDB file holding one marts table with the
  Martinique 2025 facts of the warehouse contract and a raw table (enough for SQL Lab and roles).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from superset_testing import (
    ROLES,
    SupersetServer,
    SupersetUser,
    api_session,
    create_user,
    start_server,
    stop_server,
)


@pytest.fixture(scope="session")
def _server_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Started servers, killed at session teardown even if a fixture failed half-way."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop_server(process)


@pytest.fixture(scope="session")
def superset_server(
    published_warehouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _server_processes: list[subprocess.Popen[bytes]],
) -> SupersetServer:
    """The shared Superset (gunicorn, 2 gthread workers) on the published warehouse."""
    return start_server(tmp_path_factory.mktemp("superset_home"), published_warehouse, _server_processes)


@pytest.fixture(scope="session")
def superset_users(superset_server: SupersetServer) -> dict[str, SupersetUser]:
    """One user per oref role, by role: ``superset_users["analyste"]``…"""
    return {role: create_user(superset_server, f"test_{role}", role) for role in ROLES}


@pytest.fixture(scope="session")
def admin_api(superset_server: SupersetServer) -> requests.Session:
    return api_session(superset_server, superset_server.admin)


# --- Development override of the warehouse -----------------------------------------------------

_MART_INDICATORS_DDL = """
create table marts.mart_indicators (
    indicator_code varchar, indicator_label varchar, territory_code varchar,
    territory_level varchar, territory_name varchar, period varchar, value double,
    numerator double, denominator double, suppressed_count integer, unit varchar,
    source_vintage varchar
)
"""

_INDICATORS = [
    ("bmo_digital_recruitment_projects", "Projets de recrutement dans les métiers du numérique", "972",
     "departement", "Martinique", "2025", 61, 61, None, 4, "projets"),
    ("bmo_recruitment_projects_total", "Projets de recrutement, tous métiers", "972", "departement",
     "Martinique", "2025", 13013, 13013, None, 0, "projets"),
]


def build_throwaway_warehouse(path: Path) -> Path:
    """A minimal DuckDB warehouse: schemas raw, staging, marts and quality, one marts table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "staging", "marts", "quality"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(_MART_INDICATORS_DDL)
        con.executemany(
            "insert into marts.mart_indicators values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'BMO 2025')", _INDICATORS
        )
        con.execute("create table raw.secret as select 'raw data' as note")
    return path


if os.environ.get("OREF_TEST_WAREHOUSE"):

    @pytest.fixture(scope="session")
    def published_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
        """The warehouse named by OREF_TEST_WAREHOUSE, or the throwaway one."""
        configured = os.environ["OREF_TEST_WAREHOUSE"]
        if configured == "throwaway":
            return build_throwaway_warehouse(tmp_path_factory.mktemp("warehouse") / "oref.duckdb")
        path = Path(configured).absolute()
        if not path.is_file():
            pytest.fail(f"OREF_TEST_WAREHOUSE points to a missing file: {path}")
        return path
