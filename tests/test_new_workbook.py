"""The direct XML writer of new workbooks (used by the comptes rendus), read back by
openpyxl: values, styles, merges, print setup; never a formula."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cv_excel.text import clean_text
from cv_excel.xlsx.new_workbook import CellStyle, NewWorkbook, PageSetup, column_width

BOLD_EUROS = CellStyle(size=9, bold=True, fill="D9E1F2", border="808080",
                       num_format='#,##0.00 "€"', horizontal="right")


def _book() -> NewWorkbook:
    book = NewWorkbook("cv_excel", dt.datetime(2020, 3, 2, 10, 0, tzinfo=dt.UTC))
    ws = book.add_sheet("Action l'été (1)")
    ws.widths = {1: 36, 2: 12}
    ws.write(1, 1, "Titre", CellStyle(size=14, bold=True))
    ws.merge(1, 1, 3, CellStyle(size=14, bold=True))
    ws.set_height(1, 21)
    ws.write(2, 2, Decimal("1234.50"), BOLD_EUROS)
    ws.write(2, 1, "=1+1 (texte du porteur)", CellStyle(italic=True))
    ws.write(2, 3, -0.25)
    ws.write(3, 1, "ligne\r\nsuivante\x00")
    ws.write(3, 1, "écrite deux fois")  # the last write of a cell wins
    ws.print_area = (3, 3)
    ws.breaks = [2]
    ws.page = PageSetup(header="&C&8Compte rendu <1>", footer="&Cpage &P / &N")
    book.add_sheet("Seconde « \"B\" » &").write(1, 1, 7)
    return book


def test_values_styles_merges_and_print_setup_read_back(tmp_path):
    path = _book().save(tmp_path / "a.xlsx")
    wb = load_workbook(path)
    ws = wb["Action l'été (1)"]
    assert [ws["A1"].value, ws["B2"].value, ws["C2"].value] == ["Titre", 1234.5, -0.25]
    assert ws["A3"].value == "écrite deux fois"
    assert ws["A1"].font.b and ws["A1"].font.sz == 14 and ws["A1"].alignment.wrap_text
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:C1"]
    assert ws.row_dimensions[1].height == 21
    assert ws.column_dimensions["A"].width == column_width(36) == 36.7109375
    euros = ws["B2"]
    assert euros.number_format == '#,##0.00 "€"' and euros.fill.fgColor.rgb == "FFD9E1F2"
    assert euros.border.left.style == "thin" and euros.alignment.horizontal == "right"
    formula = ws["A2"]  # a text, never a formula, kept so by Excel when edited
    assert formula.data_type == "s" and formula.value == "=1+1 (texte du porteur)"
    assert formula.quotePrefix and formula.font.i
    assert ws.print_area == "'Action l''été (1)'!$A$1:$C$3"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToHeight) == 0
    assert ws.oddHeader.center.text == "Compte rendu <1>" and ws.oddHeader.center.size == 8
    assert [b.id for b in ws.row_breaks.brk] == [2]
    assert not ws.sheet_view.showGridLines
    assert wb["Seconde « \"B\" » &"]["A1"].value == 7
    assert wb.properties.creator == "cv_excel"
    assert wb.properties.created == dt.datetime(2020, 3, 2, 10, 0)


def test_same_content_same_bytes(tmp_path):
    a = _book().save(tmp_path / "a.xlsx").read_bytes()
    assert a == _book().save(tmp_path / "b.xlsx").read_bytes()


def test_rows_are_written_top_to_bottom():
    ws = NewWorkbook().add_sheet("F")
    ws.write(5, 1, "x")
    with pytest.raises(ValueError):
        ws.write(4, 1, "y")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_back_as_its_normal_form(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("t") / "t.xlsx"
    book = NewWorkbook()
    book.add_sheet("F").write(1, 1, text)
    value = load_workbook(book.save(path))["F"]["A1"].value
    assert (value or "") == clean_text(text)
