"""Stream the rows of a large xlsx sheet straight from its XML, in constant memory.

openpyxl's read-only mode streams too, but builds a cell object per value: on the national BMO
workbook (about 50,000 rows x 14 columns) it takes about 9 s where this reader takes about 2.5 s,
and a workbook is read twice per run (validated at fetch, then loaded). The XML is parsed
incrementally with the C expat parser (``iterparse``) and every finished row is dropped, so memory
does not grow with the sheet.

Values are returned as openpyxl's ``values_only`` rows would give them: shared and inline strings
as ``str`` (rich-text runs joined, phonetic runs left out), numbers as ``int`` when written
without a decimal point or exponent and ``float`` otherwise, booleans as ``bool``; error and
formula-string cells as their text. Number formats are not applied (a date stays its serial
number): callers read codes and counts, never dates. The unit tests compare this reader with
openpyxl cell for cell on the bundled BMO workbook.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _CELL, _VALUE, _INLINE, _TEXT, _RUN = (f"{_MAIN}{t}" for t in ("row", "c", "v", "is", "t", "r"))
_SHARED_ITEM, _SHEET_DATA = f"{_MAIN}si", f"{_MAIN}sheetData"

CellValue = str | int | float | bool | None


def _part(base: str, target: str) -> str:
    """Zip member name of a relationship target (relative to ``base``'s folder, or absolute)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``Id -> (type, member name)`` of a part's relationships."""
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if rels not in archive.namelist():
        return {}
    out: dict[str, tuple[str, str]] = {}
    with archive.open(rels) as stream:
        for _, element in iterparse(stream):
            if element.tag == f"{_PKG_REL}Relationship":
                out[element.get("Id", "")] = (element.get("Type", ""), _part(part, element.get("Target", "")))
    return out


def _workbook_part(archive: zipfile.ZipFile) -> str:
    for kind, member in _relationships(archive, "").values():
        if kind.endswith("/officeDocument"):
            return member
    return "xl/workbook.xml"


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> zip member of its XML, in workbook order."""
    with zipfile.ZipFile(path) as archive:
        workbook = _workbook_part(archive)
        rels = _relationships(archive, workbook)
        out: dict[str, str] = {}
        with archive.open(workbook) as stream:
            for _, element in iterparse(stream):
                if element.tag == f"{_MAIN}sheet":
                    target = rels.get(element.get(f"{_REL}id", ""))
                    if target is not None:
                        out[element.get("name", "")] = target[1]
        return out


def sheet_names(path: Path) -> list[str]:
    return list(sheet_parts(path))


def _text(element: Element) -> str:
    """The text of a shared-string item or an inline string: plain ``<t>`` or rich-text runs ``<r><t>``."""
    parts = []
    for child in element:
        if child.tag == _TEXT:
            parts.append(child.text or "")
        elif child.tag == _RUN:
            parts.extend(t.text or "" for t in child if t.tag == _TEXT)
    return "".join(parts)  # phonetic runs (<rPh>) are left out, as Excel and openpyxl do


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    workbook = _workbook_part(archive)
    members = [m for kind, m in _relationships(archive, workbook).values() if kind.endswith("/sharedStrings")]
    if not members or members[0] not in archive.namelist():
        return []
    strings: list[str] = []
    with archive.open(members[0]) as stream:
        for _, element in iterparse(stream):
            if element.tag == _SHARED_ITEM:
                strings.append(_text(element))
                element.clear()
    return strings


def _column(reference: str) -> int:
    """``"C12"`` -> 2 (0-based column)."""
    number = 0
    for char in reference:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number - 1


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


def _value(cell: Element, shared: list[str]) -> CellValue:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        return _text(inline) if inline is not None else None
    value = cell.find(_VALUE)
    text = value.text if value is not None else None
    if text is None:
        return None
    if kind == "s":
        return shared[int(text)]
    if kind == "n":
        return _number(text)
    if kind == "b":
        return text.strip() == "1"
    return text  # "str" (formula result), "e" (error such as #N/A), "d" (ISO date)


def _rows(stream: IO[bytes], shared: list[str]) -> Iterator[tuple[CellValue, ...]]:
    sheet_data: Element | None = None
    expected = 1  # the next row number: a gap in the numbering is yielded as empty rows
    row: list[CellValue] = []
    for event, element in iterparse(stream, events=("start", "end")):
        if event == "start":
            if element.tag == _SHEET_DATA:
                sheet_data = element
            continue
        if element.tag == _CELL:
            reference = element.get("r")
            index = _column(reference) if reference else len(row)
            if index > len(row):
                row.extend([None] * (index - len(row)))
            row.append(_value(element, shared))
        elif element.tag == _ROW:
            number = int(element.get("r") or expected)
            while expected < number:
                yield ()
                expected += 1
            yield tuple(row)
            expected = number + 1
            row = []
            if sheet_data is not None:
                sheet_data.clear()  # drop the finished rows: memory stays flat


def iter_rows(path: Path, sheet: str) -> Iterator[tuple[CellValue, ...]]:
    """The rows of ``sheet``, values only; ``KeyError`` naming the sheets when it is absent."""
    parts = sheet_parts(path)
    if sheet not in parts:
        raise KeyError(f"no sheet {sheet!r} among {list(parts)}")
    with zipfile.ZipFile(path) as archive:
        shared = _shared_strings(archive)
        with archive.open(parts[sheet]) as stream:
            yield from _rows(stream, shared)
