"""Shared fixtures.

- ``published_run`` (session): one real ``oref run`` for 972 on the bundled snapshot, served over
  loopback HTTP, on a fresh data directory. Every test that only reads its results shares it: the
  warehouse, the serving file, the quality store, the open-data package, the dbt docs.
- ``published_warehouse`` (session): that run's published ``oref.duckdb``.
- ``sources`` (per test): the one harness of the source tests (settings, replay server, fetch,
  load), see ``oref_testing.SourceHarness``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oref_testing import OrefRun, SourceHarness, oref


@pytest.fixture(scope="session")
def published_run(tmp_path_factory: pytest.TempPathFactory) -> OrefRun:
    """`oref run` for 972 on a fresh data directory; ``.data_dir``, ``.warehouse``, ``.serving``, ``.quality_store``."""
    result = oref(tmp_path_factory.mktemp("oref-972"), "run")
    assert result.returncode == 0, result.output
    return result


@pytest.fixture(scope="session")
def published_warehouse(published_run: OrefRun) -> Path:
    return published_run.warehouse


@pytest.fixture
def sources(tmp_path: Path) -> SourceHarness:
    return SourceHarness(tmp_path)


# `make test` runs on three pytest-xdist workers with --dist loadgroup. The session fixtures are per
# worker, so every test reading the shared run or the shared Superset goes to one worker (one
# `oref run`, one Superset); the tests that copy the published data directory and run the pipeline
# again on the copy (crashes, degraded and no-op reruns) to a second, which builds its own shared
# run; the Airflow tests, which run whole DAGs of their own, to a third. The other tests are spread
# over all three. Much of each group's time is waiting (browsers, servers, subprocesses), which is
# why three workers beat two on a two-core machine.
_SHARED_RUN_FIXTURES = frozenset({"published_run", "published_warehouse", "superset_server", "superset_users",
                                  "admin_api"})
_RERUN_MODULES = ("tests/e2e/test_crash.py", "tests/e2e/test_degraded.py", "tests/e2e/test_noop.py",
                  "tests/e2e/test_publication.py", "tests/e2e/test_walking_skeleton.py",
                  "tests/e2e/test_history.py")


# tryfirst: pytest-xdist's own hook turns the xdist_group marks into node-id suffixes, and must see
# them; pytest 9.2 ignores those suffixes altogether (hence pytest<9.2 in pyproject.toml).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.nodeid.startswith(_RERUN_MODULES):
            item.add_marker(pytest.mark.xdist_group("reruns"))
        elif fixtures & _SHARED_RUN_FIXTURES or "tests/superset/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("shared_run"))
        elif item.nodeid.startswith("tests/integration/"):
            item.add_marker(pytest.mark.xdist_group("airflow"))
