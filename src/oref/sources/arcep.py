"""ARCEP FttH deployments by commune (observatory workbook listed by a data.gouv.fr dataset).

Quirks handled here:
- the dataset API lists one workbook per quarter, ``YYYYtQ-obs-hd-thd-deploiement-vf.xlsx``; the
  latest quarter (from the file name) is taken and recorded as the data vintage (``2025-T4``);
- sheet ``Communes`` opens with a title block: the header row is found by its ``Code commune``
  label, never by position;
- premises estimates are non-integer and often text with a decimal comma (``250164,8755``),
  sometimes with (narrow) no-break spaces as thousands separators: parsed to doubles, never
  truncated to integers;
- one column per quarter (``T4 2017`` ... ``T4 2025``) of FttH-connectable premises: melted to one
  row per commune x quarter while loading;
- the workbook is national (~35,000 communes): it is landed whole, and the load keeps the communes
  of the scope's départements (the configured territory's and the comparison ones,
  ``OREF_COMPARISON``); a comparison département absent from the workbook is a ``warn`` check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
from oref.sources.scope import coverage_check
from oref.sources.tabular import (
    ColumnSpec,
    cell_text,
    iter_sheet,
    map_columns,
    normalise_header,
    sheet_names,
    warn_new_columns,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DATASET_API = "https://www.data.gouv.fr/api/1/datasets/le-marche-du-haut-et-tres-haut-debit-fixe-deploiements/"
SHEET = "Communes"
LANDED_NAME = "obs_hd_thd_deploiement.xlsx"

STATIC_SPECS = [
    ColumnSpec("commune_code", r"code_commune"),
    ColumnSpec("commune_name", r"nom_commune"),
    ColumnSpec("department_code", r"code_departement"),
    ColumnSpec("premises", r"meilleure_estimation_des_locaux.*"),
    ColumnSpec("premises_source", r"source_retenue.*"),
    ColumnSpec("premises_under_construction", r"estimation_locaux_en_cours_de_construction.*"),
]
_QUARTER = re.compile(r"^t([1-4])_(20\d{2})$")  # normalised "T4 2025"
_FILE_QUARTER = re.compile(r"(20\d{2})t([1-4])-obs-hd-thd-deploiement", re.IGNORECASE)

def quarter_of_file(text: str) -> tuple[int, int] | None:
    """``2025t4-obs-hd-thd-deploiement-vf.xlsx`` -> ``(2025, 4)``."""
    m = _FILE_QUARTER.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def parse_decimal(value: object, *, file: str, column: str, commune: str | None) -> float | None:
    """A number written by ARCEP: a float cell, or text with a decimal comma (``250164,8755``)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if text in ("", "-"):
        return None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise SourceError("arcep", f"not a number for commune {commune}", file=file, column=column,
                          value=value) from None
    if number < 0:
        raise SourceError("arcep", f"negative count for commune {commune}", file=file, column=column, value=value)
    return number


CommuneRow = tuple[dict[str, Any], list[tuple[str, float | None]]]


def read_communes(path: Path, *, file: str, checks: list[CheckResult] | None = None) -> Iterator[CommuneRow]:
    """Stream sheet ``Communes``: (static columns, [(quarter 'YYYY-TQ', connectable), ...]) per commune.

    Fails naming the file and the column when a declared column is missing; a new one is a ``warn``.
    """
    names = sheet_names(path)
    if SHEET not in names:
        raise SourceError("arcep", f"no sheet {SHEET!r} among {names}", file=file)
    rows = iter_sheet(path, SHEET)
    header: tuple[object, ...] | None = None
    for index, row in enumerate(rows):
        if any(normalise_header(v) == "code_commune" for v in row if v is not None):
            header = row
            break
        if index >= 30:
            break
    if header is None:
        raise SourceError("arcep", f"no header row with 'Code commune' in the first 30 rows of sheet {SHEET!r}",
                          file=file)
    mapping, new = map_columns(header, STATIC_SPECS, source="arcep", file=f"{file} [{SHEET}]")
    quarters: list[tuple[int, str]] = []
    unexpected = []
    for label in new:
        m = _QUARTER.match(normalise_header(label))
        if m:
            quarters.append((list(header).index(label), f"{m.group(2)}-T{m.group(1)}"))
        else:
            unexpected.append(label)
    if unexpected:
        warn_new_columns("arcep", f"{file} [{SHEET}]", unexpected, checks)
    if not quarters:
        raise SourceError("arcep", f"no quarterly column ('T4 2025') in sheet {SHEET!r}", file=file)
    for row in rows:
        if row is None or all(v is None for v in row):
            continue
        code = cell_text(row[mapping["commune_code"]])
        if code is None:
            continue  # a notes line below the table
        static: dict[str, Any] = {name: cell_text(row[i]) if i < len(row) else None for name, i in mapping.items()}
        for column in ("premises", "premises_under_construction"):
            static[column] = parse_decimal(row[mapping[column]], file=file, column=column, commune=code)
        series = [(quarter, parse_decimal(row[i] if i < len(row) else None, file=file, column=quarter,
                                          commune=code)) for i, quarter in quarters]
        yield static, series


# premises are estimates: a commune may show slightly more connectable premises than estimated
PREMISES_TOLERANCE = 1.05


def validation_frame(communes: Iterable[tuple[dict[str, Any], list[tuple[str, float | None]]]]) -> pd.DataFrame:
    """One row per commune of the whole (national) workbook, for the ``arcep_landing`` suite.

    The quarterly columns change every quarter, so the suite sees numeric summaries of them:
    ``connectable_latest`` (the last quarter), ``connectable_min``/``connectable_max`` over all
    quarters, ``quarters_reported`` (numeric cells) and ``premises_ceiling`` (premises x 1.05).
    """
    import pandas as pd

    rows = []
    for static, series in communes:
        values = [v for _, v in series if v is not None]
        premises = static["premises"]
        rows.append({
            **static,
            "quarters": len(series),
            "quarters_reported": len(values),
            "connectable_latest": series[-1][1],
            "connectable_min": min(values) if values else None,
            "connectable_max": max(values) if values else None,
            "premises_ceiling": premises * PREMISES_TOLERANCE if premises is not None else None,
        })
    columns = [s.name for s in STATIC_SPECS] + ["quarters", "quarters_reported", "connectable_latest",
                                                "connectable_min", "connectable_max", "premises_ceiling"]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = ["premises", "premises_under_construction", "connectable_latest", "connectable_min", "connectable_max",
               "premises_ceiling"]
    return frame.astype({c: "float64" for c in numeric})


class ArcepSource(Source):
    name = "arcep"

    def fetch(self, ctx: FetchContext) -> FetchResult:
        try:
            dataset = ctx.http.get_json(DATASET_API)
        except Exception as exc:
            raise SourceError(self.name, f"dataset API failed: {exc}", url=DATASET_API) from exc
        candidates = [(q, r) for r in dataset.get("resources", [])
                      if (q := quarter_of_file(str(r.get("url") or r.get("title") or "")))
                      and str(r.get("format", "")).lower() == "xlsx"]
        if not candidates:
            raise SourceError(self.name, "the dataset lists no YYYYtQ-obs-hd-thd-deploiement workbook",
                              url=DATASET_API)
        (year, quarter), resource = max(candidates, key=lambda c: c[0])
        url = str(resource["url"])
        file_label = url.rsplit("/", 1)[-1]
        vintage = f"{year}-T{quarter}"

        def validate(path: Path) -> Validated:
            parsed = list(read_communes(path, file=file_label, checks=ctx.checks))
            communes = len(parsed)
            last_quarter = parsed[-1][1][-1][0] if parsed else None
            if communes == 0:
                raise SourceError(self.name, f"sheet {SHEET!r} has no commune rows", file=file_label)
            if last_quarter != vintage:
                # the data's own last quarter is the vintage: an older one is kept but not used
                ctx.checks.append(CheckResult(
                    self.name, "quarter_matches_file_name", "oref", "warn", "fail",
                    f"source 'arcep': the last quarterly column is {last_quarter}, the file name says {vintage}",
                    str(last_quarter), file_label))
            gx_gate(ctx, "arcep_landing", validation_frame(parsed), source=self.name, target=file_label)
            by_departement: dict[str, int] = {}
            for static, _ in parsed:
                code = str(static["department_code"])
                by_departement[code] = by_departement.get(code, 0) + 1
            return Validated(rows=communes, data_vintage=last_quarter, extra={
                "file_name": file_label, "communes_by_departement": dict(sorted(by_departement.items()))})

        outcome = fetch_file(ctx, source=self.name, name=LANDED_NAME, url=url, kind="xlsx", validate=validate)
        manifest = outcome.landed.manifest
        if "communes_by_departement" in manifest:  # absent from files landed before comparisons existed
            counts = {str(k): int(v) for k, v in manifest["communes_by_departement"].items()}
            ctx.checks.append(coverage_check(self.name, ctx.settings, counts, target=LANDED_NAME, what="communes"))
        rows = int(manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"{rows} communes, quarters up to {vintage}")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        import pandas as pd

        landed = landing.require(self.name, LANDED_NAME)
        departements = set(settings.scope_departements)
        statics: list[dict[str, Any]] = []
        quarterly: dict[str, list[Any]] = {"commune_code": [], "quarter": [], "connectable": []}
        for static, series in read_communes(landed.path, file=landed.name):
            if static["department_code"] not in departements:
                continue
            statics.append(static)
            for quarter, value in series:
                quarterly["commune_code"].append(static["commune_code"])
                quarterly["quarter"].append(quarter)
                quarterly["connectable"].append(value)
        provenance = provenance_select(landed, run_id)
        con.execute(
            "create or replace table raw.arcep_ftth_communes (commune_code varchar, commune_name varchar, "
            "department_code varchar, premises double, premises_source varchar, "
            "premises_under_construction double, data_quarter varchar, _source varchar, _source_url varchar, "
            "_file_sha256 varchar, _vintage varchar, _fetched_at timestamp, _run_id varchar)"
        )
        con.execute(
            "create or replace table raw.arcep_ftth_quarterly (commune_code varchar, quarter varchar, "
            "connectable double, _source varchar, _source_url varchar, _file_sha256 varchar, _vintage varchar, "
            "_fetched_at timestamp, _run_id varchar)"
        )
        if statics:
            communes = pd.DataFrame(statics, columns=[s.name for s in STATIC_SPECS])
            series_frame = pd.DataFrame(quarterly).astype({"connectable": "float64"})
            con.register("arcep_communes", communes)
            con.register("arcep_quarterly", series_frame)
            con.execute(
                "insert into raw.arcep_ftth_communes select commune_code, commune_name, department_code, "
                "cast(premises as double), premises_source, cast(premises_under_construction as double), "
                f"'{landed.data_vintage}', {provenance} from arcep_communes"
            )
            con.execute(f"insert into raw.arcep_ftth_quarterly select commune_code, quarter, connectable, "
                        f"{provenance} from arcep_quarterly")
            con.unregister("arcep_communes")
            con.unregister("arcep_quarterly")
        counts = {}
        for table in ("raw.arcep_ftth_communes", "raw.arcep_ftth_quarterly"):
            counts[table] = table_rows(con, table)
        return counts
