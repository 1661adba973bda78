"""Save an openpyxl workbook with its cells serialised as text, not element by element.

openpyxl builds an XML element per cell when it saves; for the consolidation's large
tables (25,000 actions × 16 columns at the national volume) that is most of their
time. Everything else of the workbook — styles, names, merges, validations,
conditional formats, charts, images, print setup — is still written by openpyxl
itself; only a sheet's ``<sheetData>`` is written here, producing the same XML as
openpyxl's own writer (the tests compare them byte for byte).

The text path covers the cells these outputs hold: values (text, number, boolean,
date), styles, row dimensions. A sheet holding anything else (a formula, rich text,
an error value, a comment, a hyperlink, ISO-8601 dates) is written by openpyxl's own
writer, whole.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import weakref
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.compat import safe_string
from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from cv_excel.spill import Spill

_MARKER = "cv-excel:sheetData"  # written by openpyxl where the rows go
_ROWS_PER_WRITE = 500


# Text content and attribute values escaped as ElementTree escapes them.
_cdata = escape
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def _attrib(text: str) -> str:
    return escape(text, _ATTRIBUTE_ENTITIES)


def _supported(ws) -> bool:
    """Whether every cell of ``ws`` is one the text path writes (see the module)."""
    if ws.parent.iso_dates:
        return False
    for cell in ws._cells.values():
        if cell._comment is not None or cell.hyperlink:
            return False
        kind, value = cell.data_type, cell._value
        if kind == "s" and value is not None and type(value) is not str:  # rich text
            return False
        if kind == "d" and getattr(value, "tzinfo", None) is not None:
            return False  # openpyxl refuses it, with its own message
        if kind not in ("n", "s", "b", "d"):  # formulas, errors
            return False
    return True


class _CellText:
    """The ``<c>`` elements of one workbook, as openpyxl's writer writes them (style ids
    and column letters remembered)."""

    def __init__(self, wb: Workbook):
        self._styles = wb._cell_styles
        self._epoch = wb.epoch
        self._letters: dict[int, str] = {}
        self._ids: dict[bytes, str] = {}

    def style(self, style) -> str:
        """The `` s="…"`` attribute of a style array (registered in the workbook)."""
        key = style.tobytes()
        known = self._ids.get(key)
        if known is None:
            known = self._ids[key] = f' s="{self._styles.add(style)}"'
        return known

    def xml(self, cell) -> str:
        """``cell`` as text; ``""`` where openpyxl writes nothing."""
        styled = cell.has_style
        if cell._value is None and not styled:
            return ""
        return self.value_xml(cell.row, cell.column, cell._value, cell.data_type,
                              self.style(cell._style) if styled else "")

    def value_xml(self, row: int, column: int, value, kind: str, style: str) -> str:
        letters = self._letters.get(column)
        if letters is None:
            letters = self._letters[column] = get_column_letter(column)
        start = f'<c r="{letters}{row}"{style}'
        if kind == "s":
            if value is None or value == "":
                return f'{start} t="inlineStr" />'
            stripped = value.strip()
            space = ' xml:space="preserve"' if stripped and stripped != value else ""
            return f"{start} t=\"inlineStr\"><is><t{space}>{_cdata(value)}</t></is></c>"
        if kind == "d":
            kind = "n"
            if value is not None:
                value = to_excel(value, self._epoch)
        if value is None or value == "":
            return f'{start} t="{kind}" />'
        text = _cdata(safe_string(value))
        return f'{start} t="{kind}"><v>{text}</v></c>' if text else f'{start} t="{kind}"><v /></c>'


# --- rows kept as text -----------------------------------------------------------------------
# A sheet's rows written as text when they are added, never as openpyxl cells: a table of
# 25,000 actions is a million cells, hundreds of megabytes as objects. They are merged
# with the sheet's cells when it is saved (:func:`save_workbook`); they cannot be read
# back from the worksheet.
_TEXT_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TEXT_TYPES = {str: "s", int: "n", float: "n", Decimal: "n", bool: "b", type(None): "n"}


class _TextRows:
    def __init__(self, wb: Workbook):
        self.cells = _CellText(wb)
        # row -> runs of adjacent cells: (first column, last column, rank of their XML in
        # ``self.xml``, an unnamed temporary file: a table's text is not kept in memory)
        self.rows: dict[int, list[tuple[int, int, int]]] = {}
        self.xml = Spill("cv_excel-lignes-")
        self.bounds: list[int] | None = None  # min col, min row, max col, max row

    def run(self, first: int, last: int, xml: str) -> tuple[int, int, int]:
        return first, last, self.xml.append(xml.encode("utf-8"))

    def text(self, rank: int) -> str:
        return self.xml[rank].decode("utf-8")

    def add(self, row: int, cells: list[tuple[int, Any, Any]]) -> None:
        runs = self.rows.setdefault(row, [])
        first = last = 0
        parts: list[str] = []
        for column, value, style in sorted(cells, key=lambda c: c[0]):
            if parts and column != last + 1:
                runs.append(self.run(first, last, "".join(parts)))
                parts = []
            if not parts:
                first = column
            last = column
            parts.append(self.cells.value_xml(row, column, value, _TEXT_TYPES[type(value)],
                                              self.cells.style(style)))
        if parts:
            runs.append(self.run(first, last, "".join(parts)))
        if not cells:
            return
        low, high = min(c[0] for c in cells), max(c[0] for c in cells)
        b = self.bounds
        if b is None:
            self.bounds = [low, row, high, row]
        else:
            b[0], b[1], b[2], b[3] = min(b[0], low), min(b[1], row), max(b[2], high), max(
                b[3], row)


def text_value(value) -> bool:
    """Whether :func:`add_text_cells` takes ``value``: a number, a boolean, None, or a text
    openpyxl would store as a plain text (neither formula-looking nor an error code). A
    text must already be in :func:`~cv_excel.text.clean_text`'s normal form (no character
    XML forbids): the caller's duty, as for every writer of these outputs."""
    if type(value) is str:
        return not value.startswith(("=", "#")) or len(value) < 2
    return type(value) in _TEXT_TYPES and not (type(value) is float
                                                and not math.isfinite(value))


def add_text_cells(ws, row: int, cells: list[tuple[int, Any, Any]]) -> None:
    """Keep styled cells of one row of ``ws`` as text: (column, value, openpyxl style
    array) each, to be written as openpyxl would write those cells (see
    :func:`text_value` for the values)."""
    rows = _TEXT_ROWS.get(ws)
    if rows is None:
        rows = _TEXT_ROWS[ws] = _TextRows(ws.parent)
    rows.add(row, cells)


def _rows(ws) -> Iterator[str]:
    """Every ``<row>`` of ``ws``, in order, as openpyxl's writer writes them (its cells
    and its rows kept as text)."""
    cells = _CellText(ws.parent)
    text = _TEXT_ROWS.get(ws)
    text_rows = text.rows if text is not None else {}
    by_row: dict[int, list] = {}
    for (row, _col), cell in sorted(ws._cells.items()):
        by_row.setdefault(row, []).append(cell)
    numbers = set(by_row) | ws.row_dimensions.keys() | text_rows.keys()
    dims = ws.row_dimensions
    for number in sorted(numbers):
        attrs = {"r": f"{number}"}
        attrs.update(dims.get(number, {}))
        head = "".join(f' {k}="{_attrib(str(v))}"' for k, v in attrs.items())
        own = [(c.column, c.column, x) for c in by_row.pop(number, ()) if (x := cells.xml(c))]
        kept = [(a, b, text.text(rank)) for a, b, rank in text_rows.get(number, ())]
        if own and kept:
            if any(a <= c <= b for c, _, _ in own for a, b, _ in kept):
                raise ValueError(f"cellule écrite deux fois à la ligne {number}")
            merged = sorted([*own, *kept])
        else:
            merged = own or kept
        yield f"<row{head}>{''.join([x for _, _, x in merged])}</row>"


def _dimension(ws, head: bytes) -> bytes:
    """The sheet's ``<dimension>`` covering its rows kept as text too."""
    text = _TEXT_ROWS.get(ws)
    if text is None or text.bounds is None:
        return head
    b = list(text.bounds)
    if ws._cells:
        b = [min(b[0], ws.min_column), min(b[1], ws.min_row), max(b[2], ws.max_column),
             max(b[3], ws.max_row)]
    ref = (f"{get_column_letter(b[0])}{b[1]}:{get_column_letter(b[2])}{b[3]}").encode()
    return _DIMENSION.sub(b'<dimension ref="' + ref + b'" />', head, count=1)


_DIMENSION = re.compile(rb'<dimension ref="[^"]*" ?/>')


class _RowsLater(WorksheetWriter):
    """openpyxl's sheet writer, with a marker where the rows go."""

    def write_rows(self):
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            xf.write(_MARKER)
        self.xf.send(None)


class _Writer(ExcelWriter):
    def write_worksheet(self, ws):
        if self.workbook.write_only or not _supported(ws):
            if ws in _TEXT_ROWS:
                raise ValueError(f"la feuille « {ws.title} » a des lignes écrites en texte et "
                                 "des cellules que seul openpyxl écrit (formule, note…)")
            return super().write_worksheet(ws)
        from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing

        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _RowsLater(ws)
        writer.write()
        ws._rels = writer._rels
        head, tail = Path(writer.out).read_bytes().split(
            f"<sheetData>{_MARKER}</sheetData>".encode(), 1)
        head = _dimension(ws, head)
        with self._archive.open(ws.path[1:], "w") as part:
            part.write(head + b"<sheetData>")
            batch: list[str] = []
            for row in _rows(ws):
                batch.append(row)
                if len(batch) == _ROWS_PER_WRITE:
                    part.write("".join(batch).encode("utf-8"))
                    batch.clear()
            part.write("".join(batch).encode("utf-8"))
            part.write(b"</sheetData>" + tail)
        self.manifest.append(ws)
        writer.cleanup()


def save_workbook(wb: Workbook, path: Path | str) -> None:
    """``wb.save(path)``, with the sheets' cells serialised as text (see the module)."""
    if wb.read_only:
        raise TypeError("un classeur ouvert en lecture seule ne s'enregistre pas")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
        _Writer(wb, archive).save()
