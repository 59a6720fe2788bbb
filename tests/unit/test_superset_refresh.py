"""After a publication, the refresh re-imports the dashboards of an existing Superset only."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import pytest

from oref import superset_assets as sa
from oref.config import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"OREF_DATA_DIR": str(tmp_path)})


def test_no_superset_home_no_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OREF_SUPERSET_REFRESH", raising=False)
    assert sa.refresh_after_publish(_settings(tmp_path)).startswith("skipped (no Superset home")


def test_refresh_can_be_switched_off(tmp_path: Path) -> None:
    (tmp_path / "superset").mkdir()
    settings = Settings.from_env({"OREF_DATA_DIR": str(tmp_path), "OREF_SUPERSET_REFRESH": "0"})
    assert sa.refresh_after_publish(settings) == "skipped (OREF_SUPERSET_REFRESH=0)"


def test_the_bundle_stamps_every_dataset_with_the_served_run(tmp_path: Path) -> None:
    served = tmp_path / "serving.duckdb"
    with duckdb.connect(str(served)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dash_context as select '20261130T000000Z-abcd' as run_id")
    bundle = sa.render_import_bundle(served, tmp_path / "quality_store.duckdb")
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        datasets = [archive.read(n).decode() for n in archive.namelist() if "/datasets/" in n]
    assert len(datasets) >= 14
    assert all('"oref_publication": "20261130T000000Z-abcd"' in text for text in datasets)
    assert not any(sa.PUBLICATION_PLACEHOLDER in text for text in datasets)
