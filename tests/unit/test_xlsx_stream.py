"""The streaming xlsx reader gives what openpyxl gives, on the cell kinds open-data workbooks use.

(The national BMO workbook is compared cell for cell in test_bmo_national.py.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from oref.sources.xlsx_stream import iter_rows, sheet_names, sheet_parts


def _trimmed(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """openpyxl pads every row to the sheet's width; the stream stops at the last cell written."""
    out = []
    for row in rows:
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        out.append(tuple(values))
    return out


def test_cell_kinds_gaps_and_sheet_order_match_openpyxl(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes["B2"] = "avant"
    data = book.create_sheet("BMO_2025_open_data")
    data["A1"], data["C1"], data["D1"] = "code", 1.5, 2.5e-7
    data["A3"], data["B3"] = True, "Fonctions d'encadrement é"  # row 2 is missing from the XML
    data["D5"], data["E5"] = 2025, "02"  # codes written as text keep their leading zero
    data["A6"] = CellRichText(["Ouvriers ", TextBlock(InlineFont(b=True), "qualifiés")])  # rich text run
    data["B6"] = "=1+1"  # a formula without a cached value: None, as openpyxl's data_only reads it
    data["AA7"] = "*"  # column letters past Z
    path = tmp_path / "kinds.xlsx"
    book.save(path)

    assert sheet_names(path) == ["Notes", "BMO_2025_open_data"]
    assert sheet_parts(path)["BMO_2025_open_data"] == "xl/worksheets/sheet2.xml"
    reference = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for sheet in sheet_names(path):
        expected = _trimmed(list(reference[sheet].iter_rows(values_only=True)))
        assert _trimmed(list(iter_rows(path, sheet))) == expected, sheet
    reference.close()
    rows = list(iter_rows(path, "BMO_2025_open_data"))
    assert rows[1] == () and rows[4][3:] == (2025, "02") and rows[5][0] == "Ouvriers qualifiés"
    assert isinstance(rows[0][2], float) and isinstance(rows[4][3], int) and rows[6][26] == "*"


def test_inline_strings_and_a_missing_sheet(tmp_path: Path) -> None:
    # some producers (and the real Antilles extract) write inline strings, not a shared-string table
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>met</t></is></c><c r="B1" t="n"><v>12</v></c>'
             '<c r="C1" t="e"><v>#N/A</v></c></row>'
             '<row r="2"><c t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c><c t="b"><v>0</v></c></row>'
             '</sheetData></worksheet>')
    path = tmp_path / "inline.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="/xl/workbook.xml"/>'
                         '</Relationships>')
        archive.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                         '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                         '<sheets><sheet name="Données" sheetId="1" r:id="rId7"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.'
                         'org/officeDocument/2006/relationships/worksheet" Target="sheets/data.xml"/></Relationships>')
        archive.writestr("xl/sheets/data.xml", sheet)
    assert list(iter_rows(path, "Données")) == [("met", 12, "#N/A"), ("ab", False)]
    with pytest.raises(KeyError, match=r"no sheet 'Feuil1' among \['Données'\]"):
        list(iter_rows(path, "Feuil1"))
