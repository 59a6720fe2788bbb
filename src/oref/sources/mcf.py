"""Mon Compte Formation catalogue (Caisse des Dépôts, Opendatasoft explore v2.1).

Quirks handled here:
- bulk data comes from ``/exports/csv`` with a ``where`` filter on the scope's départements (the
  territory's and the comparison ones, ``code_departement in ("972", "971", ...)``, also for a
  région territory): ``/records`` stops at offset 10,000;
- the configured territory without offers fails the landing; a comparison département without
  offers is a ``warn`` check (``comparison_departements_present``) and the file still lands;
- the grain is one offer (``numero_formation``) per département, with sessions, hours and prices
  already aggregated (min / max / mean); the same offer appears once per département by design;
- text fields carry HTML (``<p>``, ``<br>``, ``&amp;``) and line breaks inside quoted fields: kept
  as published in ``raw``, stripped and decoded in staging;
- ``code_rncp`` and ``code_inventaire`` (RS) are numbers without their ``RNCP``/``RS`` prefix: staging
  adds the prefixed form that the RNCP export uses (``RNCP37674``), so the two join;
- ``type_referentiel`` is empty for offers without certification (bilans de compétences, VAE);
- up to five formacodes and three NSF codes per offer, in numbered columns;
- counts, hours and prices are written as decimals (``1036.0``); a negative or non-numeric value
  refuses the file, naming the offer and the column.
"""

from __future__ import annotations

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

DATASET_ID = "moncompteformation_catalogueformation"
EXPORT_URL = f"https://opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/{DATASET_ID}/exports/csv"

COLUMNS = [
    "date_extract", "nom_of", "siret", "numero_formation", "intitule_formation", "objectif_formation",
    "contenu_formation", "points_forts", "type_referentiel", "code_rncp", "code_inventaire",
    "intitule_certification", "code_certifinfo", "libelle_niveau_sortie_formation",
    "code_formacode_1", "code_formacode_2", "code_formacode_3", "code_formacode_4", "code_formacode_5",
    "libelle_code_formacode_principal", "code_nsf_1", "code_nsf_2", "code_nsf_3",
    "libelle_nsf_1", "libelle_nsf_2", "libelle_nsf_3", "nb_action", "nb_session_active",
    "nb_session_a_distance", "nombre_heures_total_min", "nombre_heures_total_max", "nombre_heures_total_mean",
    "frais_ttc_tot_min", "frais_ttc_tot_max", "frais_ttc_tot_mean", "nom_region", "code_region",
    "nom_departement", "code_departement",
]
NUMERIC_COLUMNS = [
    "nb_action", "nb_session_active", "nb_session_a_distance", "nombre_heures_total_min",
    "nombre_heures_total_max", "nombre_heures_total_mean", "frais_ttc_tot_min", "frais_ttc_tot_max",
    "frais_ttc_tot_mean",
]
TABLE = "raw.mcf_training_offers"


def landed_name(settings: Settings) -> str:
    # one logical file per scope: a 971 run must not be compared with a 972 landing, nor a run
    # without comparison départements with one that has them
    return f"catalogue_formation_{settings.scope_label}.csv"


def _read_csv(path: Path) -> str:
    # all_varchar: codes (NSF "326", formacodes, SIRET) stay text; quote/escape '"' with
    # strict_mode off lets DuckDB read the line breaks that Opendatasoft leaves inside quoted text.
    return (f"read_csv({sql_literal(path)}, delim=';', header=true, all_varchar=true, quote='\"', "
            "escape='\"', strict_mode=false)")


def validation_frame(path: Path) -> pd.DataFrame:
    """The offers' codes (text) and numeric twins ``<column>_value`` of the amounts, for the GX landing suite.

    Read with DuckDB; the long HTML texts are left out, the suite does not look at them.
    """
    import duckdb

    codes = ["numero_formation", "siret", "code_departement", "code_region", "date_extract", "type_referentiel",
             "code_rncp", "code_inventaire", "code_formacode_1"]
    numbers = [f'try_cast("{c}" as double) as "{c}_value"' for c in NUMERIC_COLUMNS]
    con = duckdb.connect()
    try:
        return con.sql(f"select {', '.join(codes + numbers)} from {_read_csv(path)}").df()
    finally:
        con.close()


class McfSource(Source):
    name = "mcf"
    series = "monthly"  # the catalogue is a picture of the day: each month's extract is one period

    def fetch(self, ctx: FetchContext) -> FetchResult:
        settings = ctx.settings
        params = ods_export_params(settings)
        file_label = f"{DATASET_ID}.csv"

        def validate(path: Path) -> Validated:
            check_csv_contract(path, COLUMNS, delimiter=";", source=self.name, file=file_label, checks=ctx.checks)
            by_departement, extract_date = self._check_values(path, settings.scope_departements, file_label)
            if not any(by_departement.get(d) for d in settings.territory.departements):
                raise SourceError(self.name, f"the export has no rows for {settings.territory.label}",
                                  file=file_label)
            gx_gate(ctx, "mcf_landing", validation_frame(path), source=self.name, target=file_label)
            return Validated(rows=sum(by_departement.values()), data_vintage=extract_date,
                             extra={"rows_by_departement": by_departement})

        outcome = fetch_file(ctx, source=self.name, name=landed_name(settings), url=EXPORT_URL, kind="csv",
                             validate=validate, params=params)
        manifest = outcome.landed.manifest
        counts = {str(k): int(v) for k, v in (manifest.get("rows_by_departement") or {}).items()}
        ctx.checks.append(coverage_check(self.name, settings, counts, target=file_label, what="training offers"))
        rows = int(manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"{rows} training offers ({describe_counts(settings, counts)})")

    @staticmethod
    def _check_values(path: Path, scope: tuple[str, ...], file_label: str) -> tuple[dict[str, int], str | None]:
        """Scope honoured, keys present and unique, amounts numeric and not negative (DuckDB, not pandas).

        Returns the offers per département and the latest ``date_extract``.
        """
        import duckdb

        con = duckdb.connect()
        try:
            con.execute(f"create table f as select * from {_read_csv(path)}")
            other = con.execute("select code_departement from f where code_departement is null "
                                "or not list_contains(?, code_departement) limit 1", [list(scope)]).fetchone()
            if other:
                raise SourceError("mcf", f"row outside the requested départements {', '.join(scope)}",
                                  file=file_label, column="code_departement", value=other[0])
            missing = con.execute("select nom_of from f where numero_formation is null limit 1").fetchone()
            if missing:
                raise SourceError("mcf", f"offer without numero_formation (provider {missing[0]!r})",
                                  file=file_label, column="numero_formation")
            # an offer repeats once per département by design (a région export lists it for each)
            duplicate = con.execute("select numero_formation, code_departement from f group by all "
                                    "having count(*) > 1 limit 1").fetchone()
            if duplicate:
                raise SourceError("mcf", f"offer listed twice for département {duplicate[1]}", file=file_label,
                                  column="numero_formation", value=duplicate[0])
            for column in NUMERIC_COLUMNS:
                bad = con.execute(
                    f'select "{column}", numero_formation from f where "{column}" is not null and '
                    f'(try_cast("{column}" as double) is null or try_cast("{column}" as double) < 0) limit 1'
                ).fetchone()
                if bad:
                    raise SourceError("mcf", f"non-numeric or negative value for offer {bad[1]}",
                                      file=file_label, column=column, value=bad[0])
            row = con.execute("select max(date_extract) from f").fetchone()
            by_departement = {str(d): int(n) for d, n in con.execute(
                "select code_departement, count(*) from f group by 1 order by 1").fetchall()}
            return by_departement, row[0] if row else None
        finally:
            con.close()

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        name = landed_name(settings)
        landing.require(self.name, name)  # fails naming the source when nothing has landed
        columns = ", ".join(f'"{c}"' for c in COLUMNS)
        # every month's extract, one period each (its date_extract): kept as published (HTML and
        # all): staging cleans, so the raw table can be compared with the files
        extracts = self.landed_files(landing, name)
        con.execute(f"create or replace table {TABLE} as " + " union all ".join(
            f"select {columns}, {provenance_select(landed, run_id)} from {_read_csv(landed.path)}"
            for landed in extracts))
        return {TABLE: table_rows(con, TABLE)}
