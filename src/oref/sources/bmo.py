"""France Travail "Besoins en main-d'œuvre" (BMO) survey, through the data.gouv.fr dataset API.

Quirks handled here:
- the dataset API lists one workbook (xlsx, sometimes zipped) per survey year; the year is read
  from the resource title or file name;
- the data sheet is the one whose name contains ``open_data``; columns are matched by pattern
  because labels drift (``BE19``/``BE25``/``BE26``, ``Famille_met``/``Famille_metier``...);
- counts are stored as text and ``*`` marks statistical secrecy: kept as text in ``raw``, turned
  into NULL plus a suppressed flag in staging, never 0;
- FAP2009 until the 2023 survey, FAP2021 from 2024: recorded as ``nomenclature_version``.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.sources.base import (
    FetchContext,
    FetchResult,
    Source,
    Validated,
    fetch_file,
    gx_gate,
    provenance_select,
    table_rows,
)
from oref.sources.tabular import ColumnSpec, read_sheet_table, sheet_names

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DATASET_ID = "561fa564c751df4f2acdbb48"
DATASET_API = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_ID}/"

BMO_SPECS = [
    ColumnSpec("survey_year", r"annee"),
    ColumnSpec("occupation_code", r"code_metier(_bmo)?"),
    ColumnSpec("occupation_label", r"(nom|lbl|libelle)_metier(_bmo)?"),
    ColumnSpec("family_code", r"famille_met(ier)?"),
    ColumnSpec("family_label", r"(lbl_fam_met|libelle_de_famille_de_metier|lbl_famille_met(ier)?)"),
    ColumnSpec("region_code", r"reg"),
    ColumnSpec("region_name", r"nom_?reg"),
    ColumnSpec("department_code", r"dept?"),
    ColumnSpec("department_name", r"nom_?dept?"),
    ColumnSpec("basin_code", r"bea?\d{1,2}"),
    ColumnSpec("basin_name", r"nombe\d{1,2}"),
    ColumnSpec("met", r"met"),
    ColumnSpec("xmet", r"xmet"),
    ColumnSpec("smet", r"smet"),
]
RAW_COLUMNS = [s.name for s in BMO_SPECS]
_YEAR = re.compile(r"(20\d{2})")


def survey_year_of(resource: dict[str, Any]) -> int | None:
    """The survey year of a dataset resource, from its title or file name."""
    for text in (resource.get("title") or "", resource.get("url") or ""):
        if "bmo" in text.lower() and (m := _YEAR.search(text)):
            return int(m.group(1))
    return None


def nomenclature_version(year: int) -> str:
    # BMO switched from FAP2009 to FAP2021 with the 2024 survey; the two are not comparable.
    return "FAP2021" if year >= 2024 else "FAP2009"


def _workbook_path(path: Path, workdir: Path, file: str) -> Path:
    """The xlsx itself, or the xlsx inside a zip (some vintages are zipped)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "[Content_Types].xml" in names:
            return path  # an xlsx is itself a zip container
        members = [n for n in names if n.lower().endswith(".xlsx")]
        if not members:
            raise SourceError("bmo", f"no .xlsx in zip (members: {names})", file=file)
        return Path(archive.extract(members[0], workdir))


def read_bmo(path: Path, *, file: str) -> tuple[pd.DataFrame, str, list[str]]:
    """Parse a BMO workbook: (frame of canonical text columns, basin column label, new columns)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        workbook = _workbook_path(path, Path(tmp), file)
        names = sheet_names(workbook)
        data_sheets = [n for n in names if "open_data" in n.lower().replace(" ", "_")]
        if not data_sheets:
            raise SourceError("bmo", f"no data sheet (name containing 'open_data') among {names}", file=file)
        rows, new, header = read_sheet_table(workbook, data_sheets[0], BMO_SPECS,
                                             header_must_contain=["met", "xmet"], source="bmo",
                                             file=f"{file} [{data_sheets[0]}]")
    basin_label = next((str(h) for h in header if h and re.fullmatch(r"(?i)bea?\d{1,2}", str(h).strip())), "")
    frame = pd.DataFrame(rows, columns=RAW_COLUMNS, dtype="object")
    return frame, basin_label, new


def validation_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The landed frame plus numeric twins of the counts, for the ``xmet <= met`` expectation."""
    import pandas as pd

    out = frame.copy()
    for column in ("met", "xmet", "smet"):
        out[f"{column}_visible"] = pd.to_numeric(out[column].where(out[column] != "*"), errors="coerce")
    return out


class BmoSource(Source):
    name = "bmo"
    title = "France Travail — enquête Besoins en main-d'œuvre (BMO)"
    licence = "Licence Ouverte / Etalab (fr-lo)"
    cadence = "annuelle (avril)"

    def fetch(self, ctx: FetchContext) -> FetchResult:
        try:
            dataset = ctx.http.get_json(DATASET_API)
        except Exception as exc:
            raise SourceError(self.name, f"dataset API failed: {exc}", url=DATASET_API) from exc
        resources = [r for r in dataset.get("resources", []) if survey_year_of(r)
                     and str(r.get("format", "")).lower() in ("xlsx", "zip")]
        if not resources:
            raise SourceError(self.name, "the dataset lists no BMO workbook (xlsx or zip)", url=DATASET_API)
        landed, statuses, rows = [], [], 0
        for resource in sorted(resources, key=lambda r: survey_year_of(r) or 0):
            year = survey_year_of(resource)
            assert year is not None
            url = str(resource.get("latest") or resource["url"])
            file_label = str(resource["url"]).rsplit("/", 1)[-1]
            kind = "zip" if str(resource.get("format")).lower() == "zip" else "xlsx"

            def validate(path: Path, year: int = year, file_label: str = file_label) -> Validated:
                frame, basin_label, new = read_bmo(path, file=file_label)
                if frame.empty:
                    raise SourceError(self.name, "the data sheet has no rows", file=file_label)
                unexpected = [CheckResult(self.name, "no_unexpected_columns", "oref", "warn", "fail",
                                          f"unexpected column(s) ignored: {new}", str(new), file_label)] if new else []
                gx_gate(ctx, "bmo_landing", validation_frame(frame), source=self.name, target=file_label,
                        extra=unexpected)
                return Validated(rows=len(frame), data_vintage=str(year),
                                 extra={"basin_column": basin_label, "survey_year": year,
                                        "nomenclature_version": nomenclature_version(year)})

            outcome = fetch_file(ctx, source=self.name, name=f"bmo_{year}.{kind}", url=url, kind=kind,
                                 validate=validate)
            statuses.append(outcome.status)
            landed.append(str(outcome.landed.path))
            rows += int(outcome.landed.manifest.get("rows") or 0)
        status = "landed" if "landed" in statuses else "unchanged"
        return FetchResult(self.name, status, landed, rows, f"{statuses.count('landed')} workbook(s) landed")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        latest = landing.latest_by_name(self.name)
        if not latest:
            raise SourceError(self.name, "nothing landed: run the fetch first")
        con.execute(
            "create or replace table raw.france_travail_bmo ("
            "survey_year integer, occupation_code varchar, occupation_label varchar, family_code varchar, "
            "family_label varchar, region_code varchar, region_name varchar, department_code varchar, "
            "department_name varchar, basin_code varchar, basin_name varchar, met varchar, xmet varchar, "
            "smet varchar, nomenclature_version varchar, basin_column varchar, _source varchar, "
            "_source_url varchar, _file_sha256 varchar, _vintage varchar, _fetched_at timestamp, _run_id varchar)"
        )
        for name in sorted(latest):
            landed = latest[name]
            frame, basin_label, _ = read_bmo(landed.path, file=name)
            year = int(landed.manifest.get("survey_year") or landed.data_vintage)
            con.register("bmo_frame", frame)
            con.execute(
                "insert into raw.france_travail_bmo select try_cast(survey_year as integer), occupation_code, "
                "occupation_label, family_code, family_label, lpad(region_code, 2, '0'), region_name, "
                "department_code, department_name, basin_code, basin_name, met, xmet, smet, "
                f"'{nomenclature_version(year)}', '{basin_label}', {provenance_select(landed, run_id)} "
                "from bmo_frame"
            )
            con.unregister("bmo_frame")
        return {"raw.france_travail_bmo": table_rows(con, "raw.france_travail_bmo")}
