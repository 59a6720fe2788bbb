"""Session fixtures: a real pipeline run on the bundled snapshot, served over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from oref_testing import OrefRun, oref


@pytest.fixture(scope="session")
def martinique_run(tmp_path_factory: pytest.TempPathFactory) -> OrefRun:
    """`oref run` for 972 on a fresh data directory (shared by the tests that only read it)."""
    result = oref(tmp_path_factory.mktemp("oref-972"), "run")
    assert result.returncode == 0, result.output
    return result


@pytest.fixture(scope="session")
def published_warehouse(martinique_run: OrefRun) -> Path:
    return martinique_run.warehouse
