"""Development override of `published_warehouse` for the Superset end-to-end tests.

By default the tests use `published_warehouse` from tests/conftest.py: the warehouse of a real
pipeline run. Setting ``OREF_TEST_WAREHOUSE`` replaces it for quicker iterations:

- ``OREF_TEST_WAREHOUSE=/path/to/oref.duckdb``: an existing warehouse;
- ``OREF_TEST_WAREHOUSE=throwaway``: a throwaway DuckDB file holding only the two tables the
  dashboard reads, with the Martinique 2025 facts of the warehouse contract.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

_MART_INDICATORS_DDL = """
create table marts.mart_indicators (
    indicator_code varchar, indicator_label varchar, territory_code varchar,
    territory_level varchar, territory_name varchar, period varchar, value double,
    numerator double, denominator double, suppressed_count integer, unit varchar,
    source_vintage varchar
)
"""

_FCT_RECRUITMENT_NEEDS_DDL = """
create table marts.fct_recruitment_needs (
    survey_year integer, period varchar, region_code varchar, department_code varchar,
    basin_code varchar, basin_name varchar, occupation_code varchar, occupation_label varchar,
    is_digital boolean, recruitment_projects integer, difficult_projects integer,
    seasonal_projects integer, is_projects_suppressed boolean, is_difficult_suppressed boolean,
    is_seasonal_suppressed boolean, source_vintage varchar, run_id varchar
)
"""

_DIGITAL = "bmo_digital_recruitment_projects"
_DIGITAL_LABEL = "Projets de recrutement dans les métiers du numérique"
_TOTAL = "bmo_recruitment_projects_total"
_TOTAL_LABEL = "Projets de recrutement, tous métiers"

# (code, label, id, level, name, period, value, numerator, denominator, suppressed, unit)
_INDICATORS = [
    (_DIGITAL, _DIGITAL_LABEL, "972", "departement", "Martinique", "2025", 61, 61, None, 4, "projets"),
    (_TOTAL, _TOTAL_LABEL, "972", "departement", "Martinique", "2025", 13013, 13013, None, 0, "projets"),
    (_DIGITAL, _DIGITAL_LABEL, "02", "region", "Martinique", "2025", 61, 61, None, 4, "projets"),
    (_TOTAL, _TOTAL_LABEL, "02", "region", "Martinique", "2025", 13013, 13013, None, 0, "projets"),
    (_DIGITAL, _DIGITAL_LABEL, "0201", "bassin_bmo", "Centre", "2025", 41, 41, None, 2, "projets"),
    (_DIGITAL, _DIGITAL_LABEL, "0202", "bassin_bmo", "Nord", "2025", 20, 20, None, 2, "projets"),
]

# (basin, basin name, occupation code, label, digital, projects, difficult, seasonal)
_NEEDS = [
    ("0201", "Centre", "M1Z80", "Techniciens d'étude et de développement en informatique", True, 25, 10, 0),
    ("0201", "Centre", "M2Z90", "Ingénieurs et cadres d'étude, R&D en informatique", True, 16, 9, 0),
    ("0202", "Nord", "M1Z81", "Techniciens de production, d'exploitation, d'installation", True, 20, 8, 0),
    ("0202", "Nord", "M2Z91", "Chefs de projets informatiques", True, None, None, None),
    ("0201", "Centre", "T2A60", "Aides à domicile et aides ménagères", False, 640, 420, 30),
    ("0202", "Nord", "S1Z40", "Cuisiniers", False, 210, 120, 150),
]


def build_throwaway_warehouse(path: Path) -> Path:
    """Write a minimal DuckDB warehouse honouring the contract the dashboard relies on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "staging", "marts", "quality"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(_MART_INDICATORS_DDL)
        con.execute(_FCT_RECRUITMENT_NEEDS_DDL)
        con.executemany(
            "insert into marts.mart_indicators values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'BMO 2025')",
            _INDICATORS,
        )
        con.executemany(
            "insert into marts.fct_recruitment_needs values "
            "(2025, '2025', '02', '972', ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, 'BMO 2025', 'throwaway')",
            [(*row, row[5] is None, row[6] is None, row[7] is None) for row in _NEEDS],
        )
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
