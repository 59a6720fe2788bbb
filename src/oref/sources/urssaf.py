"""URSSAF establishments and salaried headcount by commune x APE (Opendatasoft explore v2.1).

Quirks handled here:
- bulk data comes from ``/exports/csv`` with a ``where`` filter on the scope (the territory's
  départements and the comparison ones, ``code_departement in ("972", "971", ...)``): ``/records``
  stops at offset 10,000 and would silently truncate a national pull;
- the configured territory without rows fails the landing; a comparison département without rows
  is a ``warn`` check (``comparison_departements_present``) and the file still lands;
- ``;``-separated, one column per year (``nombre_d_etablissements_2006`` ... ``_2025``,
  ``effectifs_salaries_2006`` ...): melted to one row per commune x APE x year while loading, with
  DuckDB's reader (a national file is 1.2 M rows: it never goes through pandas);
- blank cells mean "no data or secret" and stay NULL, never 0;
- APE codes have no dot (``6201Z``), Sirene writes ``62.01Z``: staging adds the dotted form.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.sources.base import (
    FetchContext,
    FetchResult,
    Source,
    Validated,
    fetch_file,
    gx_gate,
    ods_export_params,
    provenance_select,
    sql_literal,
    table_rows,
)
from oref.sources.scope import coverage_check, describe_counts
from oref.sources.tabular import check_csv_contract

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DATASET_ID = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last"
EXPORT_URL = f"https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/{DATASET_ID}/exports/csv"

ID_COLUMNS = [
    "region", "ancienne_region", "departement", "zone_d_emploi", "epci", "commune", "intitule_commune",
    "grand_secteur_d_activite", "secteur_na17", "secteur_na38", "secteur_na88", "ape", "code_region",
    "code_ancienne_region", "code_departement", "code_zone_d_emploi", "code_epci", "code_commune", "code_ape",
]
YEAR_PATTERNS = (r"nombre_d_etablissements_\d{4}", r"effectifs_salaries_\d{4}")
_YEAR_COLUMN = re.compile(r"^(nombre_d_etablissements|effectifs_salaries)_(\d{4})$")


def validation_frame(path: Path, header: list[str]) -> pd.DataFrame:
    """The scope's rows for the GX landing suite, read with DuckDB (codes as text, counts as numbers).

    ``establishments_min`` / ``headcount_min`` are the smallest yearly count of a row (blank cells
    ignored), ``establishments_latest`` the last year's count; ``commune_in_departement`` tells
    whether ``code_commune`` starts with ``code_departement``.
    """
    import duckdb

    def numbers(measure: str) -> list[str]:
        # oldest to latest year; a measure without any yearly column is all NULL
        years = sorted((m.group(2), c) for c in header if (m := _YEAR_COLUMN.match(c)) and m.group(1) == measure)
        return [f'try_cast("{c}" as double)' for _, c in years] or ["null::double"]

    establishments, headcount = numbers("nombre_d_etablissements"), numbers("effectifs_salaries")
    con = duckdb.connect()
    try:
        return con.sql(
            "select code_region, code_departement, code_zone_d_emploi, code_epci, code_commune, code_ape, "
            "starts_with(code_commune, code_departement) as commune_in_departement, "
            f"least({', '.join(establishments)}) as establishments_min, "
            f"least({', '.join(headcount)}) as headcount_min, "
            f"{establishments[-1]} as establishments_latest "
            f"from read_csv({sql_literal(path)}, delim=';', header=true, all_varchar=true)"
        ).df()
    finally:
        con.close()


def landed_name(settings: Settings) -> str:
    # one logical file per scope: a 971 run must not be compared with a 972 landing, nor a run
    # without comparison départements with one that has them
    return f"commune_ape_{settings.scope_label}.csv"


class UrssafSource(Source):
    name = "urssaf"

    def fetch(self, ctx: FetchContext) -> FetchResult:
        settings = ctx.settings
        params = ods_export_params(settings)
        file_label = f"{DATASET_ID}.csv"

        def validate(path: Path) -> Validated:
            header, _ = check_csv_contract(path, ID_COLUMNS, delimiter=";", source=self.name, file=file_label,
                                           optional_patterns=YEAR_PATTERNS, checks=ctx.checks)
            years = sorted({m.group(2) for c in header if (m := _YEAR_COLUMN.match(c))})
            if not years:
                raise SourceError(self.name, "no yearly columns (nombre_d_etablissements_YYYY)", file=file_label)
            by_departement = self._check_values(path, header, settings.scope_departements, file_label)
            if not any(by_departement.get(d) for d in settings.territory.departements):
                raise SourceError(self.name, f"the export has no rows for {settings.territory.label}",
                                  file=file_label)
            gx_gate(ctx, "urssaf_landing", validation_frame(path, header), source=self.name, target=file_label)
            return Validated(rows=sum(by_departement.values()), data_vintage=years[-1],
                             extra={"years": [years[0], years[-1]], "rows_by_departement": by_departement})

        outcome = fetch_file(ctx, source=self.name, name=landed_name(settings), url=EXPORT_URL, kind="csv",
                             validate=validate, params=params)
        manifest = outcome.landed.manifest
        counts = {str(k): int(v) for k, v in (manifest.get("rows_by_departement") or {}).items()}
        ctx.checks.append(coverage_check(self.name, settings, counts, target=file_label,
                                         what="commune x APE rows"))
        rows = int(manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"{rows} commune x APE rows ({describe_counts(settings, counts)})")

    @staticmethod
    def _check_values(path: Path, header: list[str], scope: tuple[str, ...], file_label: str) -> dict[str, int]:
        """Scope filter honoured, counts numeric and not negative (DuckDB, not pandas); rows per département."""
        import duckdb

        con = duckdb.connect()
        try:
            con.execute(f"create table f as select * from read_csv({sql_literal(path)}, delim=';', header=true, "
                        "all_varchar=true)")
            other = con.execute("select code_departement from f where code_departement is null "
                                "or not list_contains(?, code_departement) limit 1", [list(scope)]).fetchone()
            if other:
                raise SourceError("urssaf", f"row outside the requested départements {', '.join(scope)}",
                                  file=file_label, column="code_departement", value=other[0])
            for column in (c for c in header if _YEAR_COLUMN.match(c)):
                bad = con.execute(
                    f'select "{column}", code_commune, code_ape from f where "{column}" is not null and '
                    f'(try_cast("{column}" as double) is null or try_cast("{column}" as double) < 0) limit 1'
                ).fetchone()
                if bad:
                    raise SourceError("urssaf", f"non-numeric or negative count for commune {bad[1]} APE {bad[2]}",
                                      file=file_label, column=column, value=bad[0])
            return {str(d): int(n) for d, n in con.execute(
                "select code_departement, count(*) from f group by 1 order by 1").fetchall()}
        finally:
            con.close()

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        landed = landing.require(self.name, landed_name(settings))
        ids = ", ".join(ID_COLUMNS)
        # UNPIVOT ... INCLUDE NULLS keeps blank cells as NULL rows instead of dropping them,
        # so a blank (no data / secret) is distinguishable from a pair absent from the file.
        con.execute(
            f"""
            create or replace table raw.urssaf_establishments as
            with src as (
                select * from read_csv({sql_literal(landed.path)}, delim=';', header=true, all_varchar=true)
            ),
            long as (
                select * from src
                unpivot include nulls (
                    amount for measure in (columns('^(nombre_d_etablissements|effectifs_salaries)_[0-9]{{4}}$'))
                )
            ),
            typed as (
                select {ids},
                    cast(regexp_extract(measure, '([0-9]{{4}})$', 1) as integer) as year,
                    regexp_extract(measure, '^(.*)_[0-9]{{4}}$', 1) as measure,
                    cast(round(try_cast(amount as double)) as integer) as amount
                from long
            )
            select {ids}, year,
                max(amount) filter (where measure = 'nombre_d_etablissements') as establishments,
                max(amount) filter (where measure = 'effectifs_salaries') as headcount,
                {provenance_select(landed, run_id)}
            from typed
            group by all
            """
        )
        return {"raw.urssaf_establishments": table_rows(con, "raw.urssaf_establishments")}
