"""France Travail "Besoins en main-d'œuvre" (BMO) survey, through the data.gouv.fr dataset API.

Quirks handled here:
- the dataset API lists one workbook (xlsx, sometimes zipped) per survey year; the year is read
  from the resource title or file name;
- the data sheet is the one whose name contains ``open_data``; columns are matched by pattern
  because labels drift (``BE19``/``BE25``/``BE26``, ``Famille_met``/``Famille_metier``...);
- counts are stored as text and ``*`` marks statistical secrecy: kept as text in ``raw``, turned
  into NULL plus a suppressed flag in staging, never 0;
- FAP2009 until the 2023 survey, FAP2021 from 2024: recorded as ``nomenclature_version``;
- the workbook is national (2025: about 50,000 rows): the data sheet is streamed from its XML
  (``xlsx_stream``) in Arrow batches of text, loaded batch by batch into DuckDB without a pandas
  DataFrame; only the GX landing suite gets the whole sheet as a frame (about 0.5 s on 50,000 rows).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.sources.base import (
    FetchContext,
    FetchResult,
    FetchStatus,
    FileKind,
    Source,
    Validated,
    extra_columns_check,
    fetch_file,
    gx_gate,
    provenance_select,
    sql_literal,
    table_rows,
)
from oref.sources.tabular import ColumnSpec, cell_text, find_header_row, map_columns
from oref.sources.xlsx_stream import iter_rows, sheet_names

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

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
HEADER_MUST_CONTAIN = ["met", "xmet"]
BASIN_LABEL = re.compile(r"(?i)bea?\d{1,2}")
BATCH_ROWS = 5_000  # rows per Arrow batch: a few MB of Python strings at a time
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


@dataclass
class BmoSheet:
    """A BMO data sheet being streamed: its header facts and its rows in Arrow batches of text."""

    sheet: str
    basin_label: str  # the bassin column as the vintage spells it (BE19, BE25...)
    new_columns: list[str]  # header labels no canonical column claimed
    batches: Iterator[pa.Table]


@contextmanager
def open_bmo(path: Path, *, file: str, batch_rows: int = BATCH_ROWS) -> Iterator[BmoSheet]:
    """Open a BMO workbook (xlsx, or zip holding one) and stream its data sheet.

    The sheet is read from its XML (``xlsx_stream``) and cut into Arrow tables of at most
    ``batch_rows`` rows with one text column per canonical name: the whole sheet is never held as
    Python rows or a DataFrame. Fails naming the file and the missing columns on header drift.
    """
    import pyarrow as pa

    with tempfile.TemporaryDirectory() as tmp:
        workbook = _workbook_path(path, Path(tmp), file)
        names = sheet_names(workbook)
        data_sheets = [n for n in names if "open_data" in n.lower().replace(" ", "_")]
        if not data_sheets:
            raise SourceError("bmo", f"no data sheet (name containing 'open_data') among {names}", file=file)
        sheet = data_sheets[0]
        where = f"{file} [{sheet}]"
        rows = iter_rows(workbook, sheet)
        header: Sequence[object] | None = None
        for scanned, row in enumerate(rows):
            if find_header_row([row], HEADER_MUST_CONTAIN) is not None:
                header = row
                break
            if scanned >= 30:
                break
        if header is None:
            raise SourceError("bmo", f"no header row with columns {HEADER_MUST_CONTAIN} in the first 30 rows of "
                              f"sheet {sheet!r}", file=where)
        mapping, new = map_columns(header, BMO_SPECS, source="bmo", file=where)
        positions = [mapping[name] for name in RAW_COLUMNS]
        schema = pa.schema([(name, pa.string()) for name in RAW_COLUMNS])

        def batches() -> Iterator[pa.Table]:
            columns: list[list[str | None]] = [[] for _ in RAW_COLUMNS]
            for row in rows:
                if not row or all(v is None for v in row):
                    continue
                width = len(row)
                for values, i in zip(columns, positions, strict=True):
                    values.append(cell_text(row[i]) if i < width else None)
                if len(columns[0]) >= batch_rows:
                    yield pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema)
                    columns = [[] for _ in RAW_COLUMNS]
            if columns[0]:
                yield pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema)

        basin_label = next((str(h).strip() for h in header if h and BASIN_LABEL.fullmatch(str(h).strip())), "")
        yield BmoSheet(sheet, basin_label, new, batches())


def read_bmo_table(path: Path, *, file: str) -> tuple[pa.Table, str, list[str]]:
    """The whole data sheet as one Arrow table of text columns (a few MB for the national file)."""
    import pyarrow as pa

    with open_bmo(path, file=file) as opened:
        tables = list(opened.batches)
        schema = pa.schema([(name, pa.string()) for name in RAW_COLUMNS])
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        return table, opened.basin_label, opened.new_columns


def read_bmo(path: Path, *, file: str) -> tuple[pd.DataFrame, str, list[str]]:
    """Parse a BMO workbook: (frame of canonical text columns, basin column label, new columns)."""
    table, basin_label, new = read_bmo_table(path, file=file)
    return text_frame(table), basin_label, new


def text_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of text as a DataFrame of Python strings and None (what the GX suite expects)."""
    import pandas as pd

    return pd.DataFrame({name: table.column(name).to_pylist() for name in table.column_names}, dtype="object")


def validation_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The landed frame plus numeric twins of the counts, for the ``xmet <= met`` expectation."""
    import pandas as pd

    out = frame.copy()
    for column in ("met", "xmet", "smet"):
        out[f"{column}_visible"] = pd.to_numeric(out[column].where(out[column] != "*"), errors="coerce")
    return out


def survey_year_in(frame: pd.DataFrame, default: int) -> int:
    """The survey year the rows say (their latest ``annee``), or ``default`` when none is readable."""
    import pandas as pd

    years = pd.to_numeric(frame["survey_year"], errors="coerce").dropna()
    return int(years.max()) if len(years) else default


def digital_occupation_codes() -> frozenset[str]:
    """The digital métiers in both nomenclatures BMO used (FAP2009 until 2023, FAP2021 from 2024)."""
    from oref.reference import digital_fap2021_codes, read_seed

    return frozenset(digital_fap2021_codes()) | {row["occupation_code"] for row in read_seed("digital_fap2009")}


def check_territory_not_all_secret(frame: pd.DataFrame, settings: Settings, *, file: str, url: str) -> None:
    """Refuse a workbook in which every row of the territory is secret (``met`` = ``*``).

    Such a file carries no figure at all for the territory: better keep the last good one. A small
    territory whose digital métiers alone are all secret is real data, and lands: its indicators say
    "secret", never 0.
    """
    rows = frame[frame["department_code"].isin(settings.territory.departements)]
    if len(rows) and bool((rows["met"].fillna("*") == "*").all()):
        raise SourceError("bmo", f"all {len(rows)} rows of {settings.territory.label} are secret: the file "
                          "carries no BMO figure for the territory", url=url, file=file, column="met", value="*")


class BmoSource(Source):
    name = "bmo"

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
            year = survey_year_of(resource) or 0  # resources without a year were filtered out above
            url = str(resource.get("latest") or resource["url"])
            file_label = str(resource["url"]).rsplit("/", 1)[-1]
            kind: FileKind = "zip" if str(resource.get("format")).lower() == "zip" else "xlsx"

            def validate(path: Path, year: int = year, file_label: str = file_label, url: str = url) -> Validated:
                table, basin_label, new = read_bmo_table(path, file=file_label)
                if table.num_rows == 0:
                    raise SourceError(self.name, "the data sheet has no rows", file=file_label)
                # the suite runs on the whole sheet: about 0.5 s for the national file (50,000 rows)
                frame = text_frame(table)
                del table
                unexpected = [extra_columns_check(self.name, file_label, new)] if new else []
                gx_gate(ctx, "bmo_landing", validation_frame(frame), source=self.name, target=file_label,
                        extra=unexpected)
                # the data's own year, not the resource title's: a publisher serving last year's
                # workbook under this year's title is an older vintage (kept, not used)
                data_year = survey_year_in(frame, year)
                if data_year != year:
                    ctx.checks.append(CheckResult(
                        self.name, "survey_year_matches_title", "oref", "warn", "fail",
                        f"source 'bmo': the resource is titled {year} but its annee column says {data_year}",
                        str(data_year), file_label))
                check_territory_not_all_secret(frame, ctx.settings, file=file_label, url=url)
                return Validated(rows=len(frame), data_vintage=str(data_year),
                                 extra={"basin_column": basin_label, "survey_year": data_year,
                                        "nomenclature_version": nomenclature_version(data_year)})

            outcome = fetch_file(ctx, source=self.name, name=f"bmo_{year}.{kind}", url=url, kind=kind,
                                 validate=validate)
            statuses.append(outcome.status)
            landed.append(str(outcome.landed.path))
            rows += int(outcome.landed.manifest.get("rows") or 0)
        status: FetchStatus = "landed" if "landed" in statuses else "unchanged"
        return FetchResult(self.name, status, landed, rows, f"{statuses.count('landed')} workbook(s) landed")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        latest = landing.latest_by_name(self.name)
        if not latest:
            raise SourceError(self.name, "nothing landed: run the fetch first")
        con.execute(
            "create or replace table raw.bmo_recruitment_needs ("
            "survey_year integer, occupation_code varchar, occupation_label varchar, family_code varchar, "
            "family_label varchar, region_code varchar, region_name varchar, department_code varchar, "
            "department_name varchar, basin_code varchar, basin_name varchar, met varchar, xmet varchar, "
            "smet varchar, nomenclature_version varchar, basin_column varchar, _source varchar, "
            "_source_url varchar, _file_sha256 varchar, _vintage varchar, _fetched_at timestamp, _run_id varchar)"
        )
        for name in sorted(latest):
            landed = latest[name]
            year = int(landed.manifest.get("survey_year") or landed.data_vintage)
            # streamed: each Arrow batch goes straight into DuckDB, no DataFrame of the whole sheet
            with open_bmo(landed.path, file=name) as opened:
                for batch in opened.batches:
                    con.register("bmo_batch", batch)
                    try:
                        con.execute(
                            "insert into raw.bmo_recruitment_needs select try_cast(survey_year as integer), "
                            "occupation_code, occupation_label, family_code, family_label, lpad(region_code, 2, '0'), "
                            "region_name, department_code, department_name, basin_code, basin_name, met, xmet, smet, "
                            f"{sql_literal(nomenclature_version(year))}, {sql_literal(opened.basin_label)}, "
                            f"{provenance_select(landed, run_id)} from bmo_batch"
                        )
                    finally:
                        con.unregister("bmo_batch")
        return {"raw.bmo_recruitment_needs": table_rows(con, "raw.bmo_recruitment_needs")}
