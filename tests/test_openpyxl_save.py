"""Saving openpyxl workbooks with cells serialised as text: every part the same bytes as
openpyxl's own save (any cell values, styles, rows), and openpyxl's own writer for the
sheets the text path does not cover."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from cv_excel.xlsx.openpyxl_save import save_workbook

_CORE = "docProps/core.xml"  # the save's own date


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != _CORE}


def _both(wb: Workbook, tmp_path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    wb.save(tmp_path / "openpyxl.xlsx")
    save_workbook(wb, tmp_path / "texte.xlsx")
    return _parts(tmp_path / "openpyxl.xlsx"), _parts(tmp_path / "texte.xlsx")


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    ["\n", "&", "<", ">", '"', " ", "=", "]", "\t", "\r"]), max_size=30)
_VALUE = st.one_of(
    st.none(), _TEXT, st.integers(-10**15, 10**15),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9,
                max_value=10**9),
    st.booleans(), st.dates(min_value=dt.date(1900, 3, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)))
_STYLE = st.sampled_from([None, "gras", "euros", "bordure", "rempli", "date"])


def _apply(cell, style: str | None) -> None:
    if style == "gras":
        cell.font = Font(bold=True, color="1F4E78")
    elif style == "euros":
        cell.number_format = '#,##0.00 "€"'
    elif style == "bordure":
        thin = Side(style="thin", color="A6A6A6")
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif style == "rempli":
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
    elif style == "date":
        cell.number_format = "dd/mm/yyyy"


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.tuples(st.integers(1, 30), st.integers(1, 12), _VALUE, _STYLE),
                      max_size=60),
       heights=st.dictionaries(st.integers(1, 40), st.floats(5, 200), max_size=5),
       hidden=st.sets(st.integers(1, 40), max_size=3))
def test_any_cells_give_the_same_parts_as_openpyxl(tmp_path_factory, cells, heights, hidden):
    wb = Workbook()
    ws = wb.active
    ws.title = "Données"
    other = wb.create_sheet("Seconde")
    for row, col, value, style in cells:
        cell = ws.cell(row=row, column=col, value=value)
        _apply(cell, style)
        other.cell(row=col, column=row, value=value)
    for row, height in heights.items():
        ws.row_dimensions[row].height = height
    for row in hidden:
        ws.row_dimensions[row].hidden = True
    ours, theirs = _both(wb, tmp_path_factory.mktemp("s"))
    assert ours == theirs


def test_merges_names_validations_and_print_setup_are_openpyxl_s(tmp_path):
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Titre"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:D1")
    ws.append(["Code", "Montant", "Date"])
    for i in range(50):
        ws.append([f"OO-{i}", Decimal(i) / 4, dt.date(2019, 1, 1 + i % 28)])
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = "A2:C52"
    ws.print_title_rows = "2:2"
    dv = DataValidation(type="list", formula1='"Oui,Non"')
    dv.add("D3:D52")
    ws.add_data_validation(dv)
    wb.defined_names["montants"] = DefinedName("montants", attr_text="Sheet!$B$3:$B$52")
    ours, theirs = _both(wb, tmp_path)
    assert ours == theirs
    back = load_workbook(tmp_path / "texte.xlsx")
    assert back.active["B7"].value == 1 and back.active.merged_cells.ranges


def test_a_sheet_with_a_formula_or_a_comment_is_written_by_openpyxl(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 2, 3, "=A1+A2"
    second = wb.create_sheet("Notes")
    second["B2"] = "à relire"
    second["B2"].comment = Comment("Une note", "cv_excel")
    ours, theirs = _both(wb, tmp_path)
    assert ours == theirs
    back = load_workbook(tmp_path / "texte.xlsx")
    assert back.active["A3"].value == "=A1+A2"
    assert back["Notes"]["B2"].comment.text == "Une note"


def test_a_read_only_workbook_is_refused(tmp_path):
    Workbook().save(tmp_path / "a.xlsx")
    wb = load_workbook(tmp_path / "a.xlsx", read_only=True)
    try:
        save_workbook(wb, tmp_path / "b.xlsx")
    except TypeError as exc:
        assert "lecture seule" in str(exc)
    else:
        raise AssertionError("read-only workbook saved")


# --- rows kept as text ----------------------------------------------------------------------
def _cells(path) -> dict[str, dict]:
    """Every sheet's cells as a reader sees them (values, types, styles), its dimension,
    panes and filter."""
    wb = load_workbook(path)
    return {ws.title: ({c.coordinate: (c.value, c.data_type, c.number_format, repr(c.font),
                                       repr(c.fill), repr(c.border), repr(c.alignment),
                                       c.quotePrefix)
                        for row in ws.iter_rows() for c in row
                        if c.value is not None or c.has_style},
                       ws.dimensions, ws.freeze_panes, ws.auto_filter.ref)
            for ws in wb.worksheets}


_BODY = st.one_of(_VALUE, st.sampled_from(["=1+1", "+33 1 23", "-5 %", "@x", "#N/A", "#",
                                           "=", "a\x00b", "x" * 40000]))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(_BODY, min_size=4, max_size=4), max_size=12),
       total=st.booleans())
def test_a_table_kept_as_text_reads_as_the_same_cells(tmp_path_factory, rows, total):
    from cv_excel.consolidation.reporting import EUROS, table, title

    columns = [("Texte", 20, None), ("Montant", 12, EUROS), ("Date", 12, None),
               ("Autre", 10, "0.0 %")]
    saved = []
    for as_text in (False, True):
        wb = Workbook()
        ws = wb.active
        title(ws, "Titre", "Sous-titre")
        last = table(ws, 4, columns, rows, total=["Total", 1, None, None] if total else None,
                     as_text=as_text)
        ws.cell(row=last + 2, column=1, value="Après le tableau")
        path = tmp_path_factory.mktemp("t") / f"{as_text}.xlsx"
        save_workbook(wb, path)
        with zipfile.ZipFile(path) as z:  # what a reader in read-only mode sizes by
            dimension = re.search(rb'<dimension ref="[^"]*"', z.read("xl/worksheets/sheet1.xml"))
        saved.append((_cells(path), dimension.group(0)))
    assert saved[0] == saved[1]


def test_a_cell_written_twice_or_a_formula_beside_text_rows_is_refused(tmp_path):
    from openpyxl.styles.cell_style import StyleArray

    from cv_excel.xlsx.openpyxl_save import add_text_cells

    wb = Workbook()
    ws = wb.active
    add_text_cells(ws, 2, [(1, "texte", StyleArray()), (2, 3, StyleArray())])
    ws["A2"] = "cellule"
    with pytest.raises(ValueError, match="deux fois"):
        save_workbook(wb, tmp_path / "a.xlsx")
    del ws["A2"]
    ws["B3"] = "=1+1"
    with pytest.raises(ValueError, match="formule"):
        save_workbook(wb, tmp_path / "b.xlsx")


def test_an_error_code_typed_as_text_stays_text(tmp_path):
    from cv_excel.xlsxio import set_text

    wb = Workbook()
    for row, text in enumerate(["#N/A", "#DIV/0!", "#REF!", "=1+1"], start=1):
        set_text(wb.active.cell(row=row, column=1), text)
    save_workbook(wb, tmp_path / "a.xlsx")
    back = load_workbook(tmp_path / "a.xlsx").active
    assert [(c.value, c.data_type) for (c,) in back.iter_rows()] == [
        ("#N/A", "s"), ("#DIV/0!", "s"), ("#REF!", "s"), ("=1+1", "s")]
