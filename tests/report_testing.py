"""A hand-made degraded run for the steward report's tests: run data, two warehouses, docs and open data.

One stale source (offers, 32 days old), one failed check with a <script> in its message, two
warnings, and indicators that moved between the previous publication and this run's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from oref.config import Settings
from oref.quality.checks import CheckResult
from oref.quality.store import RunRecord, SourceStatus

RUN = "20250702T050000Z-beef"
PREVIOUS = "20250602T050000Z-cafe"
NBSP = "\u00a0"
SHA_NEW = "a" * 64
SHA_OLD = "b" * 64


def warehouse(path: Path, run_id: str, rows: list[tuple[str, str, str, str, float | None]]) -> None:
    """A warehouse with just what the report reads: quality.runs and marts.mart_indicators."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema quality")
        con.execute("create table quality.runs (run_id varchar, finished_at timestamp)")
        con.execute("insert into quality.runs values (?, now())", [run_id])
        con.execute("create schema marts")
        con.execute("create table marts.mart_indicators (indicator_code varchar, indicator_label varchar, "
                    "unit varchar, territory_level varchar, territory_code varchar, territory_name varchar, "
                    "period varchar, value double)")
        for code, label, unit, period, value in rows:
            con.execute("insert into marts.mart_indicators values (?, ?, ?, 'departement', '972', 'Martinique', ?, ?)",
                        [code, label, unit, period, value])
            # another territory: never compared
            con.execute("insert into marts.mart_indicators values (?, ?, ?, 'departement', '971', 'Guadeloupe', ?, ?)",
                        [code, label, unit, period, (value or 0) * 1000])
    finally:
        con.close()


def run_sources() -> list[SourceStatus]:
    return [
        SourceStatus("geo", "unchanged", "block", data_vintage="2025", landed_at="2025-05-02T05:00:00+00:00",
                     age_days=61.0, sha256=SHA_OLD, rows=34, files=1, previous_data_vintage="2025",
                     previous_sha256=SHA_OLD, previous_rows=34),
        SourceStatus("bmo", "landed", "use_last_good", data_vintage="2025", landed_at="2025-07-02T05:00:00+00:00",
                     age_days=0.1, sha256=SHA_NEW, rows=12_500, files=2, previous_data_vintage="2024",
                     previous_sha256=SHA_OLD, previous_rows=10_000),
        SourceStatus("offers", "stale", "use_last_good", message="HTTP 503 from api.francetravail.io (offres)",
                     data_vintage="2025-06", landed_at="2025-05-31T05:00:00+00:00", age_days=32.4, sha256=SHA_OLD,
                     rows=355, files=1, previous_data_vintage="2025-06", previous_sha256=SHA_OLD, previous_rows=355),
    ]


def run_checks() -> list[CheckResult]:
    return [
        CheckResult("offers", "fetch_and_land", "oref", "error", "fail",
                    "HTTP 503 <script>alert('x')</script> " + "très long message " * 40),
        CheckResult("bmo", "new_optional_column", "oref", "warn", "fail", "colonne ajoutée : zz_new"),
        CheckResult("warehouse", "indicator_drift", "oref", "warn", "fail", "urssaf_digital_headcount x3"),
        CheckResult("bmo", "row_count", "gx", "error", "pass", "12 500 lignes"),
    ]


def run_record(settings: Settings) -> RunRecord:
    return RunRecord(RUN, "2025-07-02T05:00:00+00:00", "2025-07-02T05:03:00+00:00", "972", "snapshot", "degraded",
                     sources_fetched=1, sources_unchanged=1, checks_passed=1, checks_failed=1, checks_warned=2,
                     reason="source(s) stale, last good files used: offers (HTTP 503)",
                     report_path=str(settings.reports_dir / f"quality-{RUN}.html"), sources_stale=1,
                     published_run_id=RUN)


def two_publications(settings: Settings) -> None:
    """This run published: the warehouse is its build, the previous publication is kept aside."""
    warehouse(settings.previous_warehouse_path, PREVIOUS, [
        ("bmo_projects", "Projets de recrutement", "projets", "2024", 1000.0),
        ("bmo_difficult_share", "Part de projets difficiles", "part", "2024", 0.25),
        ("urssaf_digital_headcount", "Effectifs salariés du numérique", "salariés", "2023", 4000.0),
        ("offers_count", "Offres d'emploi", "offres", "2025-06", 355.0),
    ])
    warehouse(settings.warehouse_path, RUN, [
        ("bmo_projects", "Projets de recrutement", "projets", "2025", 1_234_567.5),
        ("bmo_difficult_share", "Part de projets difficiles", "part", "2025", 0.3),
        ("urssaf_digital_headcount", "Effectifs salariés du numérique", "salariés", "2023", 4100.0),
        ("offers_count", "Offres d'emploi", "offres", "2025-06", 355.0),
    ])
    for path in (settings.data_dir / "docs" / RUN / "index.html",
                 settings.data_dir / "opendata" / RUN / "datapackage.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", "utf-8")
