"""Write a new workbook of plain values and a few styles straight as its XML parts.

For the outputs written by the thousand (the comptes rendus: one workbook per porteur).
A general library builds an object per cell and per format, then serialises them; here
each row is XML text as soon as it is written and the styles are a handful of keys, so
a workbook costs a few milliseconds. What it writes: values (texts always as texts,
through :func:`cv_excel.xlsx.sheet.cell_xml`, never a formula), fonts, solid fills, thin
borders, number formats, alignment with wrapping, the quote prefix, merged cells, column
widths, row heights, hidden grid lines, print area, page setup (paper, orientation,
fit to width, margins, centring), header and footer, manual page breaks, and the
document's author and creation date. Nothing else: no formula, no shared string table,
no theme.

Parts are zipped by :class:`cv_excel.xlsx.package.XlsxPackage` (fixed dates: the same
content gives the same bytes) and saved atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from cv_excel.text import clean_text
from cv_excel.xlsx.package import NS_MAIN, NS_PKG_REL, XlsxPackage
from cv_excel.xlsx.refs import index_to_col, quote_sheet
from cv_excel.xlsx.sheet import cell_xml
from cv_excel.xlsxio import looks_like_formula

_MAX_DIGIT_PX, _PADDING_PX = 7, 5  # Calibri 11: Excel's width units
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass(frozen=True)
class CellStyle:
    """Everything a cell of these outputs may carry; equal styles share one ``<xf>``."""

    font: str = "Calibri"
    size: float = 11
    bold: bool = False
    italic: bool = False
    color: str = "000000"  # RGB
    fill: str | None = None  # RGB of a solid fill
    border: str | None = None  # RGB of thin borders on the four sides
    num_format: str | None = None
    horizontal: str = "left"
    vertical: str = "top"
    wrap: bool = True
    quote_prefix: bool = False  # Excel keeps a formula-looking text as text when edited


@functools.lru_cache(maxsize=256)
def _quoted(style: CellStyle) -> CellStyle:
    return dataclasses.replace(style, quote_prefix=True)


_COLUMNS = ("", *(index_to_col(i) for i in range(1, 27)))


def column_width(chars: float) -> float:
    """The stored width of a column ``chars`` « 0 » wide, as Excel stores it."""
    pixels = int(chars * _MAX_DIGIT_PX + 0.5) + _PADDING_PX if chars >= 1 else int(
        chars * (_MAX_DIGIT_PX + _PADDING_PX) + 0.5)
    return int(pixels / _MAX_DIGIT_PX * 256) / 256


def _attr(text: str) -> str:
    """A text in a double-quoted attribute (the quoting Excel itself writes)."""
    return escape(text, {'"': "&quot;"})


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


class _Styles:
    """The workbook's styles: fonts, fills, borders, number formats and ``<xf>``."""

    def __init__(self) -> None:
        self._xfs: dict[CellStyle | None, int] = {None: 0}
        self._by_id: dict[int, tuple[str, CellStyle | None]] = {}
        self._fonts: dict[tuple, int] = {("Calibri", 11, False, False, "000000"): 0}
        self._fills: dict[str, int] = {}  # after the two fills every workbook has
        self._borders: dict[str, int] = {}  # after the empty border
        self._formats: dict[str, int] = {}

    def index(self, style: CellStyle | None) -> str:
        """The ``s`` attribute of a cell of ``style`` (looked up by identity first: a
        writer uses a few style objects for thousands of cells)."""
        known = self._by_id.get(id(style))
        if known is None:
            xf = self._xfs.get(style)
            if xf is None:
                xf = self._xfs[style] = len(self._xfs)
            known = self._by_id[id(style)] = (str(xf), style)  # the style kept alive
        return known[0]

    def xml(self) -> bytes:
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
        for style in list(self._xfs)[1:]:
            xfs.append(self._xf(style))
        fonts = "".join(_font_xml(*key) for key in self._fonts)
        fills = ('<fill><patternFill patternType="none"/></fill>'
                 '<fill><patternFill patternType="gray125"/></fill>'
                 + "".join(f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
                           '<bgColor indexed="64"/></patternFill></fill>'
                           for rgb in self._fills))
        borders = ("<border><left/><right/><top/><bottom/><diagonal/></border>" + "".join(
            "<border>" + "".join(f'<{side} style="thin"><color rgb="FF{rgb}"/></{side}>'
                                 for side in ("left", "right", "top", "bottom"))
            + "<diagonal/></border>" for rgb in self._borders))
        formats = "".join(f'<numFmt numFmtId="{i}" formatCode="{_attr(code)}"/>'
                          for code, i in self._formats.items())
        return (f'{_XML}<styleSheet xmlns="{NS_MAIN}">'
                + (f'<numFmts count="{len(self._formats)}">{formats}</numFmts>'
                   if self._formats else "")
                + f'<fonts count="{len(self._fonts)}">{fonts}</fonts>'
                f'<fills count="{len(self._fills) + 2}">{fills}</fills>'
                f'<borders count="{len(self._borders) + 1}">{borders}</borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
                'borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
                '</cellStyles><dxfs count="0"/><tableStyles count="0"/></styleSheet>'
                ).encode("utf-8")

    def _xf(self, s: CellStyle) -> str:
        font = self._fonts.setdefault((s.font, s.size, s.bold, s.italic, s.color),
                                      len(self._fonts))
        fill = self._fills.setdefault(s.fill, len(self._fills) + 2) if s.fill else 0
        border = self._borders.setdefault(s.border, len(self._borders) + 1) if s.border else 0
        fmt = self._formats.setdefault(s.num_format, len(self._formats) + 164
                                       ) if s.num_format else 0
        attrs = (f'numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" '
                 'xfId="0" applyFont="1" applyAlignment="1"'
                 + (' applyNumberFormat="1"' if fmt else "")
                 + (' applyFill="1"' if fill else "") + (' applyBorder="1"' if border else "")
                 + (' quotePrefix="1"' if s.quote_prefix else ""))
        wrap = ' wrapText="1"' if s.wrap else ""
        return (f'<xf {attrs}><alignment horizontal="{s.horizontal}" '
                f'vertical="{s.vertical}"{wrap}/></xf>')


def _font_xml(name: str, size: float, bold: bool, italic: bool, color: str) -> str:
    return ("<font>" + ("<b/>" if bold else "") + ("<i/>" if italic else "")
            + f'<sz val="{_number(size)}"/><color rgb="FF{color}"/>'
            f'<name val="{_attr(name)}"/><family val="2"/></font>')


@dataclass
class PageSetup:
    """How a sheet prints (A4 portrait, one page wide, as many pages high as needed)."""

    paper: int = 9  # A4
    orientation: str = "portrait"
    fit_width: int | None = 1  # pages wide; None: no fitting (scale 100 %)
    fit_height: int = 0  # 0: as many as needed
    margins: tuple[float, float, float, float] = (0.5, 0.5, 0.75, 0.75)  # l, r, t, b (in)
    header_margin: float = 0.3
    footer_margin: float = 0.3
    center_horizontally: bool = True
    header: str = ""  # Excel's codes (&C, &P…), as typed in Excel
    footer: str = ""


class NewSheet:
    """One worksheet; rows are written top to bottom (cells of a row in any order)."""

    def __init__(self, book: NewWorkbook, name: str):
        self.book, self.name = book, name
        self.widths: dict[int, float] = {}
        self.page = PageSetup()
        self.print_area: tuple[int, int] | None = None  # (last row, last column), from A1
        self.breaks: list[int] = []  # a new page starts after each of these rows
        self.gridlines = False
        self._rows: list[str] = []
        self._row = 0  # the row being written
        self._cells: list[tuple[int, str]] = []
        self._col, self._in_order = 0, True  # the last column written in the row
        self._height: float | None = None
        self._merges: list[str] = []
        self._last_col = 1

    def write(self, row: int, col: int, value: Any, style: CellStyle | None = None) -> None:
        """Put ``value`` (number, date, text — never a formula) in a cell (from 1).

        A text is normalised (:func:`cv_excel.text.clean_text`); one that looks like a
        formula is written with the quote prefix, so Excel keeps it as text when the
        cell is edited."""
        if row != self._row:
            self._at(row)
        if col > self._last_col:
            self._last_col = col
        if col <= self._col:
            self._in_order = False
        self._col = col
        if type(value) is str:
            value = clean_text(value)
            if looks_like_formula(value):
                style = _quoted(style or CellStyle())
        ref = f"{_COLUMNS[col] if col < len(_COLUMNS) else index_to_col(col)}{row}"
        s = self.book.styles.index(style)
        self._cells.append((col, f'<c r="{ref}" s="{s}"/>' if value is None
                            else cell_xml(ref, s, value, clean=False)))

    def merge(self, row: int, first_col: int, last_col: int,
              style: CellStyle | None = None) -> None:
        """Merge a row's cells ``first_col``..``last_col``; the others get ``style`` (the
        borders of a merged area are drawn from each of its cells)."""
        for col in range(first_col + 1, last_col + 1):
            self.write(row, col, None, style)
        self._merges.append(f"{index_to_col(first_col)}{row}:{index_to_col(last_col)}{row}")

    def set_height(self, row: int, points: float) -> None:
        self._at(row)
        self._height = points

    def _at(self, row: int) -> None:
        if row != self._row:
            if row < self._row:
                raise ValueError(f"ligne {row} écrite après la ligne {self._row}")
            self._flush()
            self._row = row

    def _flush(self) -> None:
        if not self._row or (not self._cells and self._height is None):
            return
        cells = self._cells
        if not self._in_order:
            cells = sorted({c[0]: c for c in cells}.values())  # the last write of a cell
        ht = f' ht="{_number(self._height)}" customHeight="1"' if self._height else ""
        self._rows.append(f'<row r="{self._row}"{ht}>{"".join(c[1] for c in cells)}</row>')
        self._cells, self._height, self._col, self._in_order = [], None, 0, True

    def xml(self) -> bytes:
        self._flush()
        last_row = max(self._row, 1)
        p = self.page
        cols = "".join(f'<col min="{c}" max="{c}" width="{column_width(w)}" customWidth="1"/>'
                       for c, w in sorted(self.widths.items()))
        fit = ' fitToWidth="1"' if p.fit_width == 1 else (
            f' fitToWidth="{p.fit_width}"' if p.fit_width is not None else "")
        parts = [
            f'{_XML}<worksheet xmlns="{NS_MAIN}" xmlns:r="{_DOC}">',
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if p.fit_width is not None
            else "",
            f'<dimension ref="A1:{index_to_col(self._last_col)}{last_row}"/>',
            '<sheetViews><sheetView' + ("" if self.gridlines else ' showGridLines="0"')
            + (' tabSelected="1"' if self is self.book.sheets[0] else "")
            + ' workbookViewId="0"/></sheetViews>',
            '<sheetFormatPr defaultRowHeight="15"/>',
            f"<cols>{cols}</cols>" if cols else "",
            f'<sheetData>{"".join(self._rows)}</sheetData>',
            (f'<mergeCells count="{len(self._merges)}">'
             + "".join(f'<mergeCell ref="{m}"/>' for m in self._merges) + "</mergeCells>")
            if self._merges else "",
            '<printOptions horizontalCentered="1"/>' if p.center_horizontally else "",
            '<pageMargins left="{}" right="{}" top="{}" bottom="{}" header="{}" footer="{}"/>'
            .format(*map(_number, (*p.margins, p.header_margin, p.footer_margin))),
            f'<pageSetup paperSize="{p.paper}"{fit} fitToHeight="{p.fit_height}" '
            f'orientation="{p.orientation}"/>',
        ]
        if p.header or p.footer:
            parts.append("<headerFooter>"
                         + (f"<oddHeader>{escape(p.header)}</oddHeader>" if p.header else "")
                         + (f"<oddFooter>{escape(p.footer)}</oddFooter>" if p.footer else "")
                         + "</headerFooter>")
        if self.breaks:
            parts.append(f'<rowBreaks count="{len(self.breaks)}" '
                         f'manualBreakCount="{len(self.breaks)}">'
                         + "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in self.breaks)
                         + "</rowBreaks>")
        parts.append("</worksheet>")
        return "".join(parts).encode("utf-8")


class NewWorkbook:
    """A workbook made of :class:`NewSheet`; :meth:`save` writes it atomically."""

    def __init__(self, author: str = "cv_excel", created: dt.datetime | None = None):
        self.author, self.created = author, created
        self.sheets: list[NewSheet] = []
        self.styles = _Styles()

    def add_sheet(self, name: str) -> NewSheet:
        sheet = NewSheet(self, name)
        self.sheets.append(sheet)
        return sheet

    def parts(self) -> dict[str, bytes]:
        n = len(self.sheets)
        sheets = "".join(f'<sheet name="{_attr(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self.sheets, start=1))
        names = "".join(
            f'<definedName name="_xlnm.Print_Area" localSheetId="{i}">'
            f"{escape(quote_sheet(s.name))}!$A$1:${index_to_col(s.print_area[1])}$"
            f"{s.print_area[0]}</definedName>"
            for i, s in enumerate(self.sheets) if s.print_area)
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_DOC}/worksheet" '
                       f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
        created = self.created or dt.datetime(1980, 1, 1)
        if created.tzinfo is not None:
            created = created.astimezone(dt.UTC)
        parts = {
            "[Content_Types].xml": (
                f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                'ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                          f'ContentType="{_TYPES}.worksheet+xml"/>' for i in range(1, n + 1))
                + f'<Override PartName="/xl/styles.xml" ContentType="{_TYPES}.styles+xml"/>'
                '<Override PartName="/docProps/core.xml" ContentType="application/'
                'vnd.openxmlformats-package.core-properties+xml"/>'
                '<Override PartName="/docProps/app.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>'),
            "_rels/.rels": (
                f'{_XML}<Relationships xmlns="{NS_PKG_REL}">'
                f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" '
                'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.'
                'openxmlformats.org/package/2006/relationships/metadata/core-properties" '
                f'Target="docProps/core.xml"/><Relationship Id="rId3" Type="{_DOC}/'
                'extended-properties" Target="docProps/app.xml"/></Relationships>'),
            "docProps/app.xml": (
                f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                '2006/extended-properties"><Application>cv_excel</Application></Properties>'),
            "docProps/core.xml": (
                f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
                'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
                'elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://'
                f'www.w3.org/2001/XMLSchema-instance"><dc:creator>{escape(self.author)}'
                f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
                f'{created:%Y-%m-%dT%H:%M:%SZ}</dcterms:created></cp:coreProperties>'),
            "xl/workbook.xml": (
                f'{_XML}<workbook xmlns="{NS_MAIN}" xmlns:r="{_DOC}"><workbookPr/>'
                f'<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>'
                + (f"<definedNames>{names}</definedNames>" if names else "")
                + '<calcPr calcId="191029"/></workbook>'),
            "xl/_rels/workbook.xml.rels": (
                f'{_XML}<Relationships xmlns="{NS_PKG_REL}">{rels}'
                f'<Relationship Id="rId{n + 1}" Type="{_DOC}/styles" '
                'Target="styles.xml"/></Relationships>'),
        }
        out = {k: v.encode("utf-8") for k, v in parts.items()}
        for i, sheet in enumerate(self.sheets, start=1):
            out[f"xl/worksheets/sheet{i}.xml"] = sheet.xml()
        out["xl/styles.xml"] = self.styles.xml()  # after the sheets: every style is known
        return out

    def save(self, path: Path | str) -> Path:
        """Written atomically; zlib's fastest level (these files are small)."""
        return XlsxPackage(self.parts()).save(path, compresslevel=1)

