"""Airflow metadata databases for the DAG tests, each in its own throw-away ``AIRFLOW_HOME``.

Airflow reads its configuration (``AIRFLOW_HOME``, the metadata DB URL, the DAGs folder) once,
when ``airflow`` is first imported, and keeps module-level engines afterwards. So this process
never imports Airflow: every Airflow step runs in a fresh interpreter with the environment built
here. That keeps a developer's own ``~/airflow`` and ``AIRFLOW__*`` variables out of the tests,
and lets the SQLite and the PostgreSQL variants run in one pytest session.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from oref.airflow_support import WRITER_POOL, WRITER_POOL_DESCRIPTION, WRITER_POOL_SLOTS

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"

# One airflow CLI call imports Airflow (~10 s here); db migrate on an empty DB takes a few more.
AIRFLOW_CLI_TIMEOUT = 300

POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
POSTGRES_TEST_DB = "oref_airflow_test"


@dataclass(frozen=True)
class AirflowEnv:
    """A migrated Airflow metadata DB and the environment that points a child process at it."""

    home: Path
    env: Mapping[str, str]

    def run(
        self,
        args: list[str],
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = AIRFLOW_CLI_TIMEOUT,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python <args>`` with this environment (plus ``extra_env``); output captured."""
        return subprocess.run(
            [sys.executable, *args],
            env={**self.env, **(extra_env or {})},
            cwd=cwd or REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command and fail the test with its output if it fails."""
        proc = self.run(["-m", "airflow", *args])
        if proc.returncode != 0:
            pytest.fail(
                f"`airflow {' '.join(args)}` exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
            )
        return proc


def airflow_environment(home: Path, sql_alchemy_conn: str) -> dict[str, str]:
    """The parent's environment minus any Airflow or oref setting, plus the test's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "OREF_", "_AIRFLOW"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
            # No anonymous usage report from throw-away installations.
            "SCARF_ANALYTICS": "false",
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        }
    )
    return env


def bootstrap(home: Path, sql_alchemy_conn: str) -> AirflowEnv:
    """Migrate a metadata DB and create the writer pool, as `make up` does for a real install."""
    home.mkdir(parents=True, exist_ok=True)
    airflow = AirflowEnv(home=home, env=airflow_environment(home, sql_alchemy_conn))
    airflow.airflow("db", "migrate")
    # dag.test() runs tasks without checking pools, but the scheduler leaves a task whose pool does
    # not exist queued forever; creating it here keeps the test install the same as a real one.
    airflow.airflow("pools", "set", WRITER_POOL, str(WRITER_POOL_SLOTS), WRITER_POOL_DESCRIPTION)
    return airflow


@pytest.fixture(scope="session")
def airflow_sqlite(tmp_path_factory: pytest.TempPathFactory) -> AirflowEnv:
    """Airflow on a SQLite metadata DB in a temporary AIRFLOW_HOME (what a laptop or CI needs)."""
    home = tmp_path_factory.mktemp("airflow_home")
    return bootstrap(home, f"sqlite:///{home / 'airflow.db'}")


@pytest.fixture(scope="session")
def airflow_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowEnv]:
    """Airflow on PostgreSQL, as in production; the database is created and dropped here."""
    missing = [m for m in ("psycopg2", "asyncpg") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed: Airflow needs psycopg2 for its PostgreSQL "
            "metadata DB and asyncpg for its async engine; add `psycopg2-binary` and `asyncpg` "
            "to pyproject.toml to run this test"
        )
    import psycopg2
    from psycopg2 import sql

    try:
        admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 as user postgres ({exc}); start it to run")
    admin.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    db = sql.Identifier(POSTGRES_TEST_DB)
    with admin.cursor() as cur:
        # WITH (FORCE): a previous run killed mid-test may have left sessions open.
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(db))
        cur.execute(sql.SQL("create database {}").format(db))
    try:
        home = tmp_path_factory.mktemp("airflow_home_pg")
        yield bootstrap(home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{POSTGRES_TEST_DB}")
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("drop database if exists {} with (force)").format(db))
        admin.close()
