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
