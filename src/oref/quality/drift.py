"""Drift checks: the new build compared with the previous publication.

Two families of ``CheckResult`` (source ``warehouse`` or the source's name, engine ``oref``):

- ``raw_row_count_drift``: the rows of each ``raw.<source>_<entity>`` table, in total and, where
  the table has a département column, per département of the configured territory, moving beyond
  ``OREF_DRIFT_FACTOR`` (x3 or /3 by default), or falling to zero, or a table gone;
- ``indicator_value_drift``: for the configured territory, the latest value of each indicator of
  ``marts.mart_indicators`` moving beyond its factor: ``OREF_DRIFT_FACTORS`` (``code=5,other=2``)
  overrides ``OREF_DRIFT_FACTOR`` per indicator. A value that appears or vanishes (NULL: all
  cells secret) is not a drift; a value going from zero to non-zero, or back, is.

Severity ``warn`` by default (``OREF_DRIFT_SEVERITY=error`` makes a drift block the publication).
No published warehouse (the first run) means no check at all. Each family also records one
``pass`` when nothing drifted, so the report shows the comparison was made.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from oref.config import Settings
from oref.quality.checks import CheckResult

if TYPE_CHECKING:
    import duckdb

ROW_CHECK = "raw_row_count_drift"
INDICATOR_CHECK = "indicator_value_drift"
# the columns naming a row's département in the raw tables, as the sources spell them
DEPARTEMENT_COLUMNS = ("department_code", "code_departement", "departement_code", "departement", "dep")


def drift_checks(settings: Settings, build_path: Path, published_path: Path | None) -> list[CheckResult]:
    """Row counts per raw table (and département) and indicator values of the territory vs the publication."""
    if published_path is None or not Path(published_path).is_file():
        return []
    import duckdb

    checks: list[CheckResult] = []
    new = duckdb.connect(str(build_path), read_only=True)
    try:
        old = duckdb.connect(str(published_path), read_only=True)
        try:
            checks.extend(_row_checks(settings, new, old))
            checks.extend(_indicator_checks(settings, new, old))
        finally:
            old.close()
    finally:
        new.close()
    return checks


def _beyond(old: float, new: float, factor: float) -> bool:
    if old == new:
        return False
    if old == 0 or new == 0:
        return True
    ratio = new / old
    return ratio > factor or ratio < 1 / factor


def _ratio_text(old: float, new: float) -> str:
    if old == 0 or new == 0:
        return "from zero" if old == 0 else "to zero"
    ratio = new / old
    return f"x{ratio:.2f}" if ratio >= 1 else f"/{1 / ratio:.2f}"


# --- raw row counts --------------------------------------------------------------------------------
def _raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute("select table_name, column_name from information_schema.columns "
                       "where table_schema = 'raw' order by table_name, ordinal_position").fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(str(table), []).append(str(column))
    return tables


def _counts(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
            departements: tuple[str, ...]) -> dict[str, int]:
    """``{"": total}`` plus ``{département: rows}`` for the territory's départements when the table has one."""
    counts = {"": int(con.execute(f'select count(*) from raw."{table}"').fetchone()[0])}  # type: ignore[index]
    column = next((c for c in DEPARTEMENT_COLUMNS if c in columns), None)
    if column is not None:
        found = dict(con.execute(f'select "{column}"::varchar, count(*) from raw."{table}" '
                                 f'where "{column}"::varchar in (select unnest(?)) group by 1',
                                 [list(departements)]).fetchall())
        for departement in departements:
            counts[departement] = int(found.get(departement, 0))
    return counts


def _source_of(table: str) -> str:
    return table.split("_", 1)[0]


def _row_checks(settings: Settings, new: duckdb.DuckDBPyConnection,
                old: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    factor = settings.drift_factor
    severity = settings.drift_severity
    departements = settings.territory.departements
    before, after = _raw_tables(old), _raw_tables(new)
    checks: list[CheckResult] = []
    for table in sorted(before):
        target = f"raw.{table}"
        if table not in after:
            checks.append(CheckResult(_source_of(table), ROW_CHECK, "oref", severity, "fail",
                                      f"{target} was published last time and is not in this build", target=target))
            continue
        was = _counts(old, table, before[table], departements)
        now = _counts(new, table, after[table], departements)
        moved = [(scope, was[scope], now.get(scope, 0)) for scope in was
                 if _beyond(was[scope], now.get(scope, 0), factor)]
        if moved:
            described = "; ".join(
                f"{'all rows' if not scope else 'département ' + scope}: {a:,} -> {b:,} ({_ratio_text(a, b)})"
                for scope, a, b in moved)
            checks.append(CheckResult(_source_of(table), ROW_CHECK, "oref", severity, "fail",
                                      f"{target} rows moved beyond x{factor:g} since the last publication: "
                                      f"{described}", observed=str(now[""]), target=target))
    if not any(c.check_name == ROW_CHECK for c in checks):
        checks.append(CheckResult("warehouse", ROW_CHECK, "oref", severity, "pass",
                                  observed=str(len(before)), target="raw"))
    return checks


# --- indicator values ------------------------------------------------------------------------------
def _latest_values(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict[str, tuple[str, float | None]]:
    """indicator_code -> (latest period, value) of the territory."""
    import duckdb

    try:
        rows = con.execute(
            "select indicator_code, period, value from marts.mart_indicators "
            "where territory_level = ? and territory_code = ? "
            "qualify row_number() over (partition by indicator_code order by period desc) = 1",
            [level, code]).fetchall()
    except duckdb.Error:  # a warehouse without the mart (an older schema): nothing to compare
        return {}
    return {str(i): (str(p), None if v is None else float(v)) for i, p, v in rows}


def _indicator_checks(settings: Settings, new: duckdb.DuckDBPyConnection,
                      old: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    territory = settings.territory
    level = "region" if territory.kind == "region" else "departement"
    overrides = dict(settings.drift_factors)
    before = _latest_values(old, level, territory.code)
    after = _latest_values(new, level, territory.code)
    checks: list[CheckResult] = []
    compared = 0
    for code in sorted(set(before) & set(after)):
        (old_period, old_value), (new_period, new_value) = before[code], after[code]
        if old_value is None or new_value is None:
            continue
        compared += 1
        factor = overrides.get(code, settings.drift_factor)
        if _beyond(old_value, new_value, factor):
            checks.append(CheckResult(
                "warehouse", INDICATOR_CHECK, "oref", settings.drift_severity, "fail",
                f"{code} for {territory.label}: {old_value:g} ({old_period}) -> {new_value:g} ({new_period}), "
                f"{_ratio_text(old_value, new_value)}, beyond the factor {factor:g} since the last publication",
                observed=f"{new_value:g}", target=f"marts.mart_indicators.{code}"))
    if not checks and compared:
        checks.append(CheckResult("warehouse", INDICATOR_CHECK, "oref", settings.drift_severity, "pass",
                                  observed=str(compared), target="marts.mart_indicators"))
    return checks
