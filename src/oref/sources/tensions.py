"""DARES / France Travail "Les tensions sur le marché du travail": yearly workbook by FAP 228 x territory.

Quirks handled here:
- the file is served by a handler URL with a query string (``HTFile.ashx?MEDIAID=187108``) and no
  file name or extension: its kind is sniffed from the zip magic, and the MEDIAID changes every
  year (the URL below must be updated with each vintage);
- several sheets: a ``Sommaire`` (notes) sheet first, then one sheet per territorial level. They are
  found by NAME (``national``, ``région``, ``département`` after normalisation), never by position,
  because notes sheets come and go between vintages;
- a title block sits above the header row, which is found by its labels; labels are French with
  accents, apostrophes and ``œ`` (``Manque de main-d'œuvre disponible`` normalises to
  ``manque_de_main_d_uvre_disponible``: the ligature has no ASCII decomposition) and are mapped by
  pattern to stable names; a missing or an unknown column fails the landing, naming it and the sheet;
- footnote rows under the table (text in the first column, no FAP code) are skipped;
- small volumes (DOM): when a FAP x territory crossing lacks volume, ``Tension`` and the seven
  complementary indicators are empty, only the imputed tension is given and ``Croisement ou
  volumétrie suffisante`` is 0; kept as published (text in ``raw``), never filled with 0;
- the workbook covers every territory: the rows of the scope's départements (the configured
  territory's and the comparison ones, ``OREF_COMPARISON``) and of their régions are loaded, plus
  the national rows; the région of a département comes from the (stable since 2016) COG mapping
  ``oref.config.REGION_DEPARTEMENTS``. A comparison département absent from the workbook is a
  ``warn`` check at fetch time; the configured territory absent fails the load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from oref.config import REGION_DEPARTEMENTS, Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.sources.base import FetchContext, FetchResult, Source, Validated, fetch_file, gx_gate, provenance_select
from oref.sources.scope import coverage_check
from oref.sources.tabular import ColumnSpec, normalise_header, read_sheet_table, sheet_names, warn_new_columns

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# MEDIAID of the 2024 vintage (published 2026-02-04); the 2023 vintage was MEDIAID=183486
WORKBOOK_URL = "https://statistiques.francetravail.org/offres/Handlers/HTFile.ashx?MEDIAID=187108"
LANDED_NAME = "tensions_metiers.xlsx"

VALUE_SPECS = [
    ColumnSpec("tension", r"tension"),
    ColumnSpec("tension_valeurs_imputees_volumetrie_insuffisante",
               r"(tension_valeurs?_imputees?|indicateur_de_tension_impute)_?\w*"),
    ColumnSpec("tension_discret", r"tension_discret\w*"),
    ColumnSpec("intensite_d_embauches", r"intensite_d_embauches?"),
    ColumnSpec("lien_formation_emploi", r"lien_formation_emploi"),
    ColumnSpec("manque_de_main_d_oeuvre_disponible", r"manque_de_main_d_(?:oe|o)?uvre_disponible"),
    ColumnSpec("non_durabilite_de_l_emploi", r"non_durabilite_de_l_emploi"),
    ColumnSpec("conditions_de_travail_contraignantes", r"conditions_de_travail_contraignantes"),
    ColumnSpec("inadequation_geographique", r"inadequation_geographique"),
    ColumnSpec("non_attractivite_salariale", r"non_attractivite_salariale"),
    ColumnSpec("croisement_ou_volumetrie_suffisante", r"croisement_ou_volumetrie_suffisante"),
]
KEY_SPECS = [
    ColumnSpec("annee", r"annee"),
    ColumnSpec("code_fap_228", r"code_fap(?:_2021)?_228"),
    ColumnSpec("libelle_fap_228", r"(?:libelle|intitule)_fap(?:_2021)?_228"),
]
TERRITORY_SPECS = {
    "national": None,
    "region": ColumnSpec("territory_code", r"code_(?:region|reg)"),
    "departement": ColumnSpec("territory_code", r"code_(?:departement|dept?)"),
}
LEVELS = ("national", "region", "departement")
RAW_COLUMNS = ["annee", "territory_level", "territory_code", "code_fap_228", "libelle_fap_228",
               *(s.name for s in VALUE_SPECS), "sheet_name"]
NUMERIC = [s.name for s in VALUE_SPECS if s.name not in ("tension_discret", "croisement_ou_volumetrie_suffisante")]
# the seven complementary indicators ("composantes" of the tension), after the two tension columns
COMPONENTS = [c for c in NUMERIC if not c.startswith("tension")]
_FAP = re.compile(r"^[A-Z][0-9A-Z][A-Z][0-9]{2}$")  # M1X80, QDX01

# COG: région of each département (unchanged since the 2016 régions)
DEPARTEMENT_REGION = {d: r for r, ds in REGION_DEPARTEMENTS.items() for d in ds}


def sheet_level(name: str) -> str | None:
    """``"Tensions département"`` -> ``"departement"``; ``"Sommaire"`` -> None."""
    label = normalise_header(name)
    if "depart" in label:
        return "departement"
    if "region" in label:
        return "region"
    if "national" in label or "france" in label:
        return "national"
    return None


def find_sheets(names: Sequence[str], *, file: str) -> dict[str, str]:
    found: dict[str, list[str]] = {level: [] for level in LEVELS}
    for name in names:
        if (level := sheet_level(name)) is not None:
            found[level].append(name)
    problems = [f"{level}: {hits or 'none'}" for level, hits in found.items() if len(hits) != 1]
    if problems:
        raise SourceError("tensions", f"expected one sheet per level (national, région, département) among "
                          f"{list(names)}; got {'; '.join(problems)}", file=file)
    return {level: hits[0] for level, hits in found.items()}


def scope_codes(settings: Settings) -> tuple[set[str], set[str]]:
    """(région codes, département codes) whose rows are loaded: the scope's départements and their régions."""
    departements = set(settings.scope_departements)
    regions = {r for d in departements if (r := DEPARTEMENT_REGION.get(d))}
    if settings.territory.kind == "region":
        regions.add(settings.territory.code)
    return regions, departements


def _number(value: str | None, *, column: str, file: str, code: str | None) -> None:
    if value is None:
        return
    try:
        float(value.replace(",", "."))
    except ValueError:
        raise SourceError("tensions", f"non-numeric value for FAP {code}", file=file, column=column,
                          value=value) from None


def _check_row(row: dict[str, str | None], *, file: str) -> None:
    code = row["code_fap_228"]
    if code is None or not _FAP.match(code):
        raise SourceError("tensions", "malformed FAP 228 code", file=file, column="code_fap_228", value=code)
    if row["annee"] is None or not re.fullmatch(r"20\d{2}", row["annee"]):
        raise SourceError("tensions", f"malformed year for FAP {code}", file=file, column="annee",
                          value=row["annee"])
    if row["tension_discret"] is not None and row["tension_discret"] not in ("1", "2", "3", "4", "5"):
        raise SourceError("tensions", f"discretised tension outside 1-5 for FAP {code}", file=file,
                          column="tension_discret", value=row["tension_discret"])
    flag = row["croisement_ou_volumetrie_suffisante"]
    if flag is not None and flag.lower() not in ("0", "1", "oui", "non"):
        raise SourceError("tensions", f"volume flag neither 0/1 nor oui/non for FAP {code}", file=file,
                          column="croisement_ou_volumetrie_suffisante", value=flag)
    for column in NUMERIC:
        _number(row[column], column=column, file=file, code=code)


def read_tensions(path: Path, *, file: str, checks: list[CheckResult] | None = None) -> list[dict[str, str | None]]:
    """Every data row of the three level sheets, as canonical text columns (``RAW_COLUMNS``)."""
    sheets = find_sheets(sheet_names(path), file=file)
    out: list[dict[str, str | None]] = []
    for level in LEVELS:
        sheet = sheets[level]
        territory = TERRITORY_SPECS[level]
        specs = [*KEY_SPECS, *([territory] if territory else []), *VALUE_SPECS]
        where = f"{file} [{sheet}]"
        rows, new, _ = read_sheet_table(path, sheet, specs, header_must_contain=["code_fap_228", "tension"],
                                        source="tensions", file=where)
        if new:
            # a renamed indicator fails as a missing required column (map_columns); a new one is ignored
            warn_new_columns("tensions", where, new, checks)
        kept = 0
        for row in rows:
            values = [row[s.name] for s in VALUE_SPECS]
            if row["code_fap_228"] is None and all(v is None for v in values):
                continue  # footnote ("Note : ...", "Lecture : ...") under the table
            _check_row(row, file=where)
            code = row.get("territory_code")
            if code is not None and code.isdigit() and len(code) == 1:
                code = code.zfill(2)  # "1" written as a number for région 01
            out.append({**row, "territory_level": level, "territory_code": code or "FR", "sheet_name": sheet})
            kept += 1
        if kept == 0:
            raise SourceError("tensions", "the sheet has no data rows", file=where)
    return out


def validation_frame(rows: Sequence[dict[str, str | None]]) -> pd.DataFrame:
    """The parsed rows (``RAW_COLUMNS`` as text) plus what the GX landing suite needs.

    ``tension_discret_value`` and ``tension_imputed_value`` are numeric twins; ``component_scores``
    joins the seven indicators with ``;`` (empty when left empty) so one expectation names any
    non-numeric one.
    """
    import pandas as pd

    frame = pd.DataFrame([[r.get(c) for c in RAW_COLUMNS] for r in rows], columns=RAW_COLUMNS, dtype="object")
    frame["tension_discret_value"] = pd.to_numeric(frame["tension_discret"], errors="coerce")
    imputed = frame["tension_valeurs_imputees_volumetrie_insuffisante"].str.replace(",", ".", regex=False)
    frame["tension_imputed_value"] = pd.to_numeric(imputed, errors="coerce")
    frame["component_scores"] = frame[COMPONENTS].fillna("").astype(str).agg(";".join, axis=1)
    return frame


class TensionsSource(Source):
    name = "tensions"
    series = "yearly"  # one workbook a year at one URL: each year landed is one period
    rate_limits: ClassVar[dict[str, float]] = {"statistiques.francetravail.org": 1.0}  # one workbook: be polite

    def fetch(self, ctx: FetchContext) -> FetchResult:
        def validate(path: Path) -> Validated:
            rows = read_tensions(path, file=LANDED_NAME, checks=ctx.checks)
            gx_gate(ctx, "tensions_landing", validation_frame(rows), source=self.name, target=LANDED_NAME)
            years = sorted({str(r["annee"]) for r in rows})
            by_level = {level: sum(r["territory_level"] == level for r in rows) for level in LEVELS}
            by_departement: dict[str, int] = {}
            for r in rows:
                if r["territory_level"] == "departement":
                    code = str(r["territory_code"])
                    by_departement[code] = by_departement.get(code, 0) + 1
            return Validated(rows=len(rows), data_vintage=years[-1],
                             extra={"years": years, "rows_by_level": by_level,
                                    "rows_by_departement": dict(sorted(by_departement.items()))})

        outcome = fetch_file(ctx, source=self.name, name=LANDED_NAME, url=WORKBOOK_URL, kind="xlsx",
                             validate=validate)
        manifest = outcome.landed.manifest
        if "rows_by_departement" in manifest:  # absent from files landed before comparisons existed
            counts = {str(k): int(v) for k, v in manifest["rows_by_departement"].items()}
            ctx.checks.append(coverage_check(self.name, ctx.settings, counts, target=LANDED_NAME,
                                             what="département rows"))
        rows = int(manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"tensions {manifest.get('data_vintage') or outcome.landed.data_vintage}: "
                           f"{rows} FAP x territory rows")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        import pandas as pd

        landing.require(self.name, LANDED_NAME)  # fails naming the source when nothing has landed
        regions, departements = scope_codes(settings)
        wanted = {"national": None, "region": regions, "departement": departements}
        level = "region" if settings.territory.kind == "region" else "departement"
        columns = ", ".join(f"{c} varchar" for c in RAW_COLUMNS)
        con.execute(f"create or replace table raw.tensions_indicators ({columns}, _source varchar, "
                    "_source_url varchar, _file_sha256 varchar, _vintage varchar, _fetched_at timestamp, "
                    "_run_id varchar)")
        # one workbook per year at one URL: every year landed is one period (a small file: a
        # few hundred rows in scope, held as a frame)
        for landed in self.landed_files(landing, LANDED_NAME):
            rows = []
            for r in read_tensions(landed.path, file=LANDED_NAME):
                codes = wanted[str(r["territory_level"])]
                if codes is None or r["territory_code"] in codes:
                    rows.append(r)
            if not any(r["territory_level"] == level and r["territory_code"] == settings.territory.code
                       for r in rows):
                raise SourceError(self.name, f"no {level} rows for {settings.territory.label} in the workbook "
                                  f"of {landed.data_vintage}", file=LANDED_NAME)
            frame = pd.DataFrame([[r.get(c) for c in RAW_COLUMNS] for r in rows], columns=RAW_COLUMNS,
                                 dtype="object")
            con.register("tensions_frame", frame)
            try:
                con.execute(f"insert into raw.tensions_indicators select {', '.join(RAW_COLUMNS)}, "
                            f"{provenance_select(landed, run_id)} from tensions_frame")
            finally:
                con.unregister("tensions_frame")
        row = con.execute("select count(*) from raw.tensions_indicators").fetchone()
        return {"raw.tensions_indicators": int(row[0]) if row else 0}
