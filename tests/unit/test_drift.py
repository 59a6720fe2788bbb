"""Drift checks against the previous publication: raw row counts per source and département, and the
territory's indicator values moving beyond a factor (oref.quality.drift)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from oref_testing import contract_warehouse

from oref.config import ConfigError, Settings, Territory, parse_drift_factors
from oref.quality.drift import INDICATOR_CHECK, ROW_CHECK, drift_checks


def _indicator(code: str, value: float | None, period: str = "2025", territory: str = "972") -> dict[str, object]:
    return {"indicator_code": code, "indicator_label": code, "territory_code": territory,
            "territory_level": "departement", "territory_name": territory, "period": period, "value": value,
            "unit": "nombre", "run_id": "r", "suppressed_count": 0,
            "source_vintage": "2025", "data_origin": "réel", "preconisation_code": 1,
            "comparison_group": "territoire"}


def _warehouse(path: Path, indicators: list[dict[str, object]], urssaf: dict[str, int], arcep_rows: int) -> Path:
    contract_warehouse(path, {"mart_indicators": indicators}, run_id="20250601T050000Z-0000")
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        con.execute("create table raw.urssaf_establishments (code_departement varchar, ape varchar)")
        for departement, rows in urssaf.items():
            if rows:
                con.executemany("insert into raw.urssaf_establishments values (?, '6201Z')", [[departement]] * rows)
        con.execute("create table raw.arcep_ftth (commune_code varchar)")
        if arcep_rows:
            con.executemany("insert into raw.arcep_ftth values (?)", [["97209"]] * arcep_rows)
    finally:
        con.close()
    return path


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return _warehouse(tmp_path / "published.duckdb",
                      [_indicator("urssaf_digital_establishments", 100.0),
                       _indicator("bmo_digital_projects", 40.0),
                       _indicator("offers_digital", 10.0, "2025-05"),
                       _indicator("urssaf_digital_establishments", 5.0, territory="971")],
                      {"972": 30, "971": 30}, 10)


def test_no_published_warehouse_means_no_drift_check(tmp_path: Path) -> None:
    build = _warehouse(tmp_path / "build.duckdb", [_indicator("urssaf_digital_establishments", 100.0)], {"972": 3}, 1)
    assert drift_checks(Settings(), build, None) == []
    assert drift_checks(Settings(), build, tmp_path / "missing.duckdb") == []


def test_nothing_moved_records_one_pass_per_family(tmp_path: Path, published: Path) -> None:
    build = _warehouse(tmp_path / "build.duckdb",
                       [_indicator("urssaf_digital_establishments", 120.0), _indicator("bmo_digital_projects", 20.0),
                        _indicator("offers_digital", 25.0, "2025-06")], {"972": 32, "971": 28}, 11)
    checks = drift_checks(Settings(), build, published)
    assert [(c.check_name, c.status, c.severity, c.observed) for c in checks] == [
        (ROW_CHECK, "pass", "warn", "2"), (INDICATOR_CHECK, "pass", "warn", "3")]


def test_rows_and_values_beyond_the_factor_are_warnings_naming_what_moved(tmp_path: Path, published: Path) -> None:
    build = _warehouse(tmp_path / "build.duckdb",
                       [_indicator("urssaf_digital_establishments", 1000.0),  # x10
                        _indicator("bmo_digital_projects", 40.0, "2024"), _indicator("bmo_digital_projects", 10.0),
                        _indicator("offers_digital", None, "2025-06"),  # all secret: not a drift
                        _indicator("urssaf_digital_establishments", 500.0, territory="971")],  # not the territory
                       {"972": 3, "971": 30}, 10)
    checks = drift_checks(Settings(), build, published)
    failed = {(c.check_name, c.target): c for c in checks if c.status == "fail"}
    assert sorted(failed) == [(INDICATOR_CHECK, "marts.mart_indicators.bmo_digital_projects"),
                              (INDICATOR_CHECK, "marts.mart_indicators.urssaf_digital_establishments"),
                              (ROW_CHECK, "raw.urssaf_establishments")]
    assert all(c.severity == "warn" for c in checks)
    rows = failed[(ROW_CHECK, "raw.urssaf_establishments")]
    assert rows.source == "urssaf"
    assert rows.message == ("raw.urssaf_establishments rows moved beyond x3 since the last publication: "
                            "département 972: 30 -> 3 (/10.00)")
    assert failed[(INDICATOR_CHECK, "marts.mart_indicators.urssaf_digital_establishments")].message == (
        "urssaf_digital_establishments for 972: 100 (2025) -> 1000 (2025), x10.00, beyond the factor 3 "
        "since the last publication")
    assert "40 (2025) -> 10 (2025), /4.00" in failed[(INDICATOR_CHECK, "marts.mart_indicators.bmo_digital_projects")
                                                     ].message


def test_per_indicator_factor_and_error_severity(tmp_path: Path, published: Path) -> None:
    build = _warehouse(tmp_path / "build.duckdb",
                       [_indicator("urssaf_digital_establishments", 1000.0), _indicator("bmo_digital_projects", 10.0),
                        _indicator("offers_digital", 10.0, "2025-06")], {"972": 30, "971": 30}, 0)
    settings = Settings(territory=Territory("departement", "972"), drift_severity="error",
                        drift_factors=parse_drift_factors("urssaf_digital_establishments=20"))
    failed = [c for c in drift_checks(settings, build, published) if c.status == "fail"]
    assert [(c.check_name, c.target, c.severity, c.blocking) for c in failed] == [
        (ROW_CHECK, "raw.arcep_ftth", "error", True),
        (INDICATOR_CHECK, "marts.mart_indicators.bmo_digital_projects", "error", True)]
    assert "all rows: 10 -> 0 (to zero)" in failed[0].message


def test_drift_settings_from_the_environment() -> None:
    settings = Settings.from_env({"OREF_DRIFT_FACTOR": "4", "OREF_DRIFT_SEVERITY": "ERROR",
                                  "OREF_DRIFT_FACTORS": "a=5, b=2.5"})
    assert (settings.drift_factor, settings.drift_severity, settings.drift_factors) == (
        4.0, "error", (("a", 5.0), ("b", 2.5)))
    assert Settings.from_env({}).drift_severity == "warn"
    with pytest.raises(ConfigError, match="OREF_DRIFT_SEVERITY"):
        Settings.from_env({"OREF_DRIFT_SEVERITY": "fatal"})
    with pytest.raises(ConfigError, match="'a=1' is not indicator_code=factor"):
        parse_drift_factors("a=1")
