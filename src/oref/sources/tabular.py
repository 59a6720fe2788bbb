"""Reading tabular files the way French open data publishes them.

- headers are matched by pattern after normalisation (accents, case, punctuation), never by
  position, because labels drift between vintages (``BE19``/``BE25``/``BE26``);
- workbooks are streamed with openpyxl in read-only mode, and the header row is found by its
  labels (INSEE puts a title block above it);
- every cell is kept as text: codes such as ``01`` or ``2A004`` and counts such as ``*`` must not
  be coerced.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from oref.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd

    from oref.quality.checks import CheckResult

log = logging.getLogger(__name__)


def normalise_header(label: object) -> str:
    """``"Code métier BMO"`` -> ``"code_metier_bmo"``."""
    text = unicodedata.normalize("NFKD", str(label or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def cell_text(value: object) -> str | None:
    """Cell value as text; integral floats lose their ``.0`` (Excel stores 201 as 201.0)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text if text != "" else None


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # canonical name in oref
    pattern: str  # regex on the normalised header
    required: bool = True


def map_columns(
    header: Sequence[object], specs: Sequence[ColumnSpec], *, source: str, file: str
) -> tuple[dict[str, int], list[str]]:
    """Map canonical names to column positions; fail naming every missing column.

    Returns the mapping and the list of header labels no spec claimed (new columns).
    """
    normalised = [normalise_header(h) for h in header]
    mapping: dict[str, int] = {}
    claimed: set[int] = set()
    for spec in specs:
        regex = re.compile(spec.pattern)
        hits = [i for i, label in enumerate(normalised) if regex.fullmatch(label) and i not in claimed]
        if hits:
            mapping[spec.name] = hits[0]
            claimed.add(hits[0])
    missing = [s for s in specs if s.required and s.name not in mapping]
    new = [str(header[i]) for i in range(len(header)) if i not in claimed and normalised[i]]
    if missing:
        described = ", ".join(f"{s.name} (header matching /{s.pattern}/)" for s in missing)
        raise SourceError(
            source,
            f"missing column(s): {described}; header found: {[str(h) for h in header if h is not None]}"
            + (f"; unexpected column(s): {new}" if new else ""),
            file=file,
        )
    return mapping, new


def find_header_row(
    rows: Iterable[Sequence[object]], must_contain: Sequence[str], *, max_scan: int = 30
) -> tuple[int, Sequence[object]] | None:
    """Index and content of the first row whose normalised labels include all ``must_contain``."""
    wanted = set(must_contain)
    for index, row in enumerate(rows):
        if index >= max_scan:
            return None
        labels = {normalise_header(v) for v in row if v is not None}
        if wanted <= labels:
            return index, row
    return None


def iter_sheet(path: Path, sheet_name: str) -> Iterator[tuple[object, ...]]:
    import openpyxl

    # a file object, not a path: openpyxl refuses paths without an .xlsx suffix (downloads have none)
    with path.open("rb") as stream:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        try:
            yield from workbook[sheet_name].iter_rows(values_only=True)
        finally:
            workbook.close()


def sheet_names(path: Path) -> list[str]:
    import openpyxl

    with path.open("rb") as stream:
        workbook = openpyxl.load_workbook(stream, read_only=True)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()


def read_sheet_table(
    path: Path,
    sheet: str,
    specs: Sequence[ColumnSpec],
    *,
    header_must_contain: Sequence[str],
    source: str,
    file: str,
) -> tuple[list[dict[str, str | None]], list[str], list[str]]:
    """Rows of a sheet as dicts of canonical name -> text, with the header found by its labels.

    Returns (rows, labels of unclaimed new columns, the header row as text).
    """
    rows = iter_sheet(path, sheet)
    buffered: list[tuple[object, ...]] = []
    header_row: Sequence[object] | None = None
    for row in rows:
        buffered.append(row)
        found = find_header_row([row], header_must_contain)
        if found is not None:
            header_row = row
            break
        if len(buffered) > 30:
            break
    if header_row is None:
        raise SourceError(
            source,
            f"no header row with columns {list(header_must_contain)} in the first 30 rows of sheet {sheet!r}",
            file=file,
        )
    mapping, new = map_columns(header_row, specs, source=source, file=file)
    out: list[dict[str, str | None]] = []
    for row in rows:
        if row is None or all(v is None for v in row):
            continue
        out.append({name: cell_text(row[i]) if i < len(row) else None for name, i in mapping.items()})
    return out, new, [str(h) if h is not None else "" for h in header_row]


def read_csv_header(stream: IO[str], delimiter: str) -> list[str]:
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        return next(reader)
    except StopIteration:
        return []


def check_csv_contract(
    path: Path, expected: Sequence[str], *, delimiter: str, source: str, file: str,
    optional_patterns: Sequence[str] = (), checks: list[CheckResult] | None = None,
) -> tuple[list[str], int]:
    """Check a CSV's header against the declared columns; return the header and the row count.

    A missing (or renamed) declared column is a ``SourceError`` naming it; a new column is a
    ``warn`` check appended to ``checks`` (the loads select the declared columns by name, so it is
    ignored), never a reason to refuse the file.
    """
    short: tuple[int, int] | None = None  # (line, fields) of the first row without the header's width
    rows = 0
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        header = read_csv_header(stream, delimiter)
        reader = csv.reader(stream, delimiter=delimiter)
        for record in reader:
            rows += 1
            if short is None and len(record) != len(header) and any(v.strip() for v in record):
                short = (reader.line_num + 1, len(record))
    if len(header) <= 1 and len(expected) > 1:
        # one column only: wrong delimiter, or not a CSV at all
        raise SourceError(source, f"expected {delimiter!r}-separated columns {list(expected)[:5]}..., "
                          f"got header {header[:3]}", file=file)
    missing = [c for c in expected if c not in header]
    patterns = [re.compile(p) for p in optional_patterns]
    new = [c for c in header if c not in expected and not any(p.fullmatch(c) for p in patterns)]
    if missing:
        raise SourceError(
            source,
            f"columns changed: missing {missing}" + (f"; new {new}" if new else ""),
            file=file, column=missing[0],
        )
    if short is not None:
        line, fields = short
        raise SourceError(source, f"line {line} has {fields} field(s), the header {len(header)}: a truncated or "
                          "malformed file", file=file, column=header[min(fields, len(header) - 1)])
    if new:
        warn_new_columns(source, file, new, checks)
    return header, rows


def warn_new_columns(source: str, file: str, new: Sequence[str], checks: list[CheckResult] | None) -> None:
    """Record a ``warn`` check (``no_unexpected_columns``) for columns a source does not declare."""
    from oref.sources.base import extra_columns_check

    check = extra_columns_check(source, file, [str(c) for c in new])
    log.warning("%s", check.message)
    if checks is not None:
        checks.append(check)


def rows_to_columns(rows: Sequence[Mapping[str, str | None]], names: Sequence[str]) -> dict[str, list[str | None]]:
    return {name: [r.get(name) for r in rows] for name in names}


def text_csv_frame(path: Path, delimiter: str = ",") -> pd.DataFrame:
    """A whole CSV as text columns (an empty field is NULL), read by DuckDB, for a GX landing suite."""
    import duckdb

    literal = "'" + str(path).replace("'", "''") + "'"
    con = duckdb.connect()
    try:
        return con.sql(f"select * from read_csv({literal}, delim='{delimiter}', quote='\"', header=true, "
                       "all_varchar=true)").df()
    finally:
        con.close()
