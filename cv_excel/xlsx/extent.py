"""What a worksheet would cost to read, found in its XML before any parser builds a grid.

calamine builds a dense grid from the first to the last cell of a sheet: one
stray (even empty) cell at ``XFD1048576`` makes it allocate 17 billion cells and
the process dies. openpyxl, sparse for cells, expands every merged or
hyperlinked range cell by cell. So every worksheet part is scanned here first,
on its bytes, without a DOM: how many cells, rows and covered cells, the last
row and column, and the cells holding a value far beyond any template.

Two scans give the same answer. The fast one (a few regular expressions, no loop
in Python) serves the sheets Excel, LibreOffice and openpyxl write: no namespace
prefix, every cell with its ``r="A1"`` first, in double quotes; it costs well
under a millisecond for a generated workbook. Anything else — cells without
``r`` (OOXML allows it: the position follows the previous cell), prefixes,
duplicated attributes — and any sheet reaching beyond the far limits goes
through the exact token walk, which places every cell as calamine does and
keeps the far values. A sheet the walk does not fully understand gets a
``problem`` (in French) and is never given to a parser.

:func:`trim_sheet` keeps only the cells inside a box: the bytes of each kept
cell are copied unchanged (its ``r`` made explicit), so a reader sees the same
values, types and styles as in the original.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, mul, sub
from typing import TYPE_CHECKING

from cv_excel.xlsx.refs import cell_address, col_to_index

if TYPE_CHECKING:
    from cv_excel.xlsx.package import XlsxPackage

EXCEL_ROWS, EXCEL_COLS = 1_048_576, 16_384
FAR_ROW, FAR_COL = 5_000, 200  # beyond: no template goes there
GRID_MAX = 100_000  # cells of one sheet grid read as they are; beyond, trimmed first
FAR_KEPT = 20  # far cells kept (with their value) per sheet

_N = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_ATTRS = rb"""(?:\s+[^\s=/>"']+\s*=\s*(?:"[^"]*"|'[^']*'))*"""
_ATTR = re.compile(rb"""\s+([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LOOSE = re.compile(rb"<(/?)(" + _N + rb")(row|c|sheetData)(?=[\s/>])")
_START = re.compile(rb"<(" + _N + rb")(row|c|sheetData)(" + _ATTRS + rb")\s*(/?)>")
_CELL_END = re.compile(rb"</" + _N + rb"c\s*>")
_CELL_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
_ROW_REF = re.compile(rb"[0-9]{1,7}")
_DIMENSION = re.compile(rb"(<" + _N + rb"dimension\s+ref\s*=\s*[\"'])[^\"']*([\"'])")
_RANGE = re.compile(r"\$?([A-Z]{1,3})?\$?([0-9]{1,7})?(?::\$?([A-Z]{1,3})?\$?([0-9]{1,7})?)?")

# The fast scan: unprefixed tags, every cell with its r first, attributes in double
# quotes (what Excel, LibreOffice and openpyxl write). Each cell's attribute list is one
# '>'-separated segment of ``joined``; byte counts prove there is no second r and no
# value cut by a '>' (which could hide one).
_FAST_CELL = re.compile(rb"<c(?=[\s/>])([^>]*)>")
_FAST_ROWS = re.compile(rb'> r="[A-Z]{1,3}([0-9]{1,7})"')
_FAST_COLS = re.compile(rb'> r="([A-Z]{1,3})[0-9]')
_CUT_VALUE = re.compile(rb'="[^">]*+(?:>|\Z)')
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
_FAST_MERGE = re.compile(rb'<mergeCell ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"')
_DELIMS = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_COVERS = tuple((word, re.compile(word + rb"(" + _ATTRS + rb")\s*/?>"))
                for word in (b"mergeCell", b"hyperlink"))

_V = re.compile(rb"<" + _N + rb"v(?:\s[^>]*)?>([^<]*)<")
_T = re.compile(rb"<" + _N + rb"t(?:\s[^>]*)?>([^<]*)<")
_F = re.compile(rb"<" + _N + rb"f(?:\s[^>]*)?>([^<]*)<")
_SI = re.compile(rb"<" + _N + rb"si[\s>].*?</" + _N + rb"si\s*>|<" + _N + rb"si\s*/>", re.S)


@dataclass(frozen=True)
class FarCell:
    """A cell holding a value far beyond any template."""

    address: str  # A1, or L1C1 beyond the last cell of Excel
    value: str  # what it shows (for a shared string: its index, see ``shared``)
    shared: bool = False
    excel: bool = True  # an address Excel (and openpyxl) can reach


@dataclass
class SheetExtent:
    cells: int = 0  # <c> elements (an upper bound when ``counted_only``)
    rows: int = 0  # <row> elements
    covered: int = 0  # cells openpyxl creates for merged and hyperlinked ranges
    max_row: int = 0
    max_col: int = 0
    far: list[FarCell] = field(default_factory=list)  # first valued far cells
    far_count: int = 0  # every valued far cell
    problem: str | None = None  # what the walk did not understand, in French
    counted_only: bool = False  # too many cells: counted, not walked
    implicit: bool = False  # some cell or row without r: placed here, not left to a reader

    @property
    def area(self) -> int:
        """Cells of the dense grid from A1 to the last cell."""
        return self.max_row * self.max_col

    def fits(self, max_row: int = FAR_ROW, max_col: int = FAR_COL,
             max_area: int = GRID_MAX) -> bool:
        """True when the sheet can be read as it is (every cell explicitly placed, close)."""
        return (self.problem is None and not self.counted_only and not self.implicit
                and self.max_row <= max_row and self.max_col <= max_col
                and self.area <= max_area)


def count_cells(xml: bytes) -> tuple[int, int]:
    """(cells, rows) counted without parsing; never less than the real numbers."""
    cells = rows = 0
    for d in _DELIMS:
        cells += xml.count(b"<c" + d) + xml.count(b":c" + d)
        rows += xml.count(b"<row" + d) + xml.count(b":row" + d)
    return cells, rows


def count_shared_strings(xml: bytes) -> int:
    """Entries of a shared strings part, counted without parsing (never fewer)."""
    return sum(xml.count(b"<si" + d) + xml.count(b":si" + d) for d in _DELIMS)


def scan_sheet(xml: bytes, far_row: int = FAR_ROW, far_col: int = FAR_COL,
               max_cells: int | None = None, keep: int = FAR_KEPT) -> SheetExtent:
    """Cells, rows, extent and far values of one worksheet part.

    With ``max_cells``, a sheet with more cells is only counted (``counted_only``).
    """
    extent = _fast(xml)
    if extent is None or extent.max_row > far_row or extent.max_col > far_col:
        cells, rows = (extent.cells, extent.rows) if extent else count_cells(xml)
        if max_cells is not None and cells > max_cells:
            return SheetExtent(cells=cells, rows=rows, counted_only=True)
        extent = _walk_scan(xml, far_row, far_col, keep)
    extent.covered = _covered(xml)
    return extent


def sheet_extent(pkg: XlsxPackage, part: str, far_row: int = FAR_ROW, far_col: int = FAR_COL,
                 max_cells: int | None = None) -> SheetExtent:
    """:func:`scan_sheet` of one part of ``pkg``, scanned once while its bytes are unchanged
    (the file checks and the reader share it)."""
    return pkg._memo(f"extent|{part}|{far_row}|{far_col}|{max_cells}", part,
                     lambda xml: scan_sheet(xml, far_row, far_col, max_cells))


def _fast(xml: bytes) -> SheetExtent | None:
    """The extent from the r of every cell; None unless every cell has it, written first."""
    if _PREFIXED.search(xml):
        return None
    cells = _FAST_CELL.findall(xml)
    n = len(cells)
    if not n:
        return SheetExtent(rows=xml.count(b"<row"))
    joined = b">" + b">".join(cells)
    rows = _FAST_ROWS.findall(joined)
    if (len(rows) != n or joined.count(b"r=") != n or b"'" in joined or b" =" in joined
            or b"= " in joined or b"\t" in joined or b"\n" in joined or b"\r" in joined
            or _CUT_VALUE.search(joined)):
        return None  # a cell without r or with a second one, odd quoting: walk it
    # Right-justified, the longest and greatest reference sorts last (no loop in Python).
    last_row = max(map(bytes.rjust, rows, repeat(7)))
    last_col = max(map(bytes.rjust, _FAST_COLS.findall(joined), repeat(3)))
    return SheetExtent(cells=n, rows=xml.count(b"<row"), max_row=int(last_row),
                       max_col=col_to_index(last_col.strip().decode()))


def _covered(xml: bytes) -> int:
    """Cells of the merged and hyperlinked ranges (openpyxl creates each one)."""
    total = 0
    for word, pattern in _COVERS:
        start = xml.find(word)
        if start < 0:
            continue
        if word == b"mergeCell":
            found = _FAST_MERGE.findall(xml, start)
            if len(found) == xml.count(b"mergeCell", start) - xml.count(b"mergeCells", start):
                total += _merged_size(found)
                continue
        for m in pattern.finditer(xml, start):
            try:
                ref = _attrs(m.group(1)).get(b"ref")
            except SheetUnreadable:
                continue  # not well-formed: no XML parser goes further
            if ref:
                total += _range_size(ref.decode("ascii", "replace"))
    return total


def _merged_size(found: list[tuple[bytes, bytes, bytes, bytes]]) -> int:
    """Cells of ``A1:B2``-style ranges, summed without a loop in Python."""
    if not found:
        return 0
    c1, r1, c2, r2 = zip(*found, strict=True)
    index = {c: col_to_index(c.decode()) for c in {*c1, *c2}}.__getitem__
    heights = map(abs, map(sub, map(int, r2), map(int, r1)))
    widths = map(abs, map(sub, map(index, c2), map(index, c1)))
    return sum(map(mul, map(add, heights, repeat(1)), map(add, widths, repeat(1))))


def _range_size(ref: str) -> int:
    ref = ref.strip()
    m = _RANGE.fullmatch(ref)
    if not ref or not m:
        return 0
    c1, r1, c2, r2 = m.groups()
    if ":" not in ref:
        c2, r2 = c1, r1
    cols = abs(col_to_index(c2) - col_to_index(c1)) + 1 if c1 and c2 else EXCEL_COLS
    rows = abs(int(r2) - int(r1)) + 1 if r1 and r2 else EXCEL_ROWS
    return cols * rows


# --- the exact walk --------------------------------------------------------------------

class SheetUnreadable(ValueError):
    """The worksheet XML holds cells the walk does not understand."""


@dataclass
class _Cell:
    start: int  # the cell element, in the original bytes
    end: int
    name_end: int  # where attributes start (to insert an r)
    row: int
    col: int
    has_r: bool
    prefix: bytes
    kind: bytes  # the t attribute
    content: bytes


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1)
        if name in out:
            raise SheetUnreadable(f"attribut « {name.decode('ascii', 'replace')} » en double")
        out[name] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def _walk(xml: bytes) -> Iterator[_Cell | tuple[str, int]]:
    """Every cell with its position, as calamine would place it; raises SheetUnreadable."""
    pos, row, col, in_data, in_row, seen_data = 0, 0, 0, False, False, False
    while (m := _LOOSE.search(xml, pos)) is not None:
        closing, prefix, tag = m.group(1), m.group(2), m.group(3)
        if closing:
            end = xml.find(b">", m.end())
            if end < 0:
                raise SheetUnreadable("balise de fin incomplète")
            if tag == b"row" and in_row:
                in_row = False
            elif tag == b"sheetData" and in_data and not in_row:
                in_data = False
                yield ("end", m.start())
            else:
                raise SheetUnreadable(f"balise « {tag.decode()} » fermée hors de sa place")
            pos = end + 1
            continue
        s = _START.match(xml, m.start())
        if s is None:
            raise SheetUnreadable(f"balise « {tag.decode()} » illisible")
        attrs, empty = _attrs(s.group(3)), bool(s.group(4))
        if tag == b"sheetData":
            if seen_data or in_data:
                raise SheetUnreadable("zone de cellules en double")
            seen_data = True
            if not empty:
                in_data = True
                yield ("start", s.end())
        elif tag == b"row":
            if not in_data or in_row:
                raise SheetUnreadable("ligne hors de la zone de cellules")
            r = attrs.get(b"r")
            if r is None:
                row += 1
            elif _ROW_REF.fullmatch(r):
                row = int(r)
            else:
                raise SheetUnreadable(f"numéro de ligne « {r.decode('ascii', 'replace')} »")
            col, in_row = 0, not empty
        else:  # a cell
            if not in_row:
                raise SheetUnreadable("cellule hors d'une ligne")
            r = attrs.get(b"r")
            if r is None:
                col += 1
                cell_row = row
            elif (ref := _CELL_REF.fullmatch(r)) is not None:
                col, cell_row = col_to_index(ref.group(1).decode()), int(ref.group(2))
            else:
                raise SheetUnreadable(f"adresse de cellule « {r.decode('ascii', 'replace')} »")
            if empty:
                end, content = s.end(), b""
            else:
                close = _CELL_END.search(xml, s.end())
                if close is None:
                    raise SheetUnreadable("cellule non fermée")
                content, end = xml[s.end():close.start()], close.end()
                if _LOOSE.search(content):
                    raise SheetUnreadable("cellule dans une cellule")
            yield _Cell(m.start(), end, m.start() + 1 + len(prefix) + 1, cell_row, col,
                        r is not None, prefix, attrs.get(b"t", b""), content)
            pos = end
            continue
        pos = s.end()
    if in_data or in_row:
        raise SheetUnreadable("zone de cellules non fermée")


def _walk_scan(xml: bytes, far_row: int, far_col: int, keep: int) -> SheetExtent:
    extent = SheetExtent()
    try:
        for item in _walk(xml):
            if not isinstance(item, _Cell):
                continue
            extent.cells += 1
            extent.implicit = extent.implicit or not item.has_r
            extent.max_row = max(extent.max_row, item.row)
            extent.max_col = max(extent.max_col, item.col)
            if item.row > far_row or item.col > far_col:
                value, shared = _cell_value(item.kind, item.content)
                if value:
                    extent.far_count += 1
                    if len(extent.far) < keep:
                        extent.far.append(FarCell(
                            _address(item.col, item.row), value, shared,
                            item.col <= EXCEL_COLS and item.row <= EXCEL_ROWS))
    except SheetUnreadable as exc:
        extent.problem = str(exc)
    extent.rows = count_cells(xml)[1]
    return extent


def _address(col: int, row: int) -> str:
    if col > EXCEL_COLS or row > EXCEL_ROWS:  # beyond Excel: in French R1C1 notation
        return f"L{row}C{col}"
    return cell_address(col, row)


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _cell_value(kind: bytes, content: bytes) -> tuple[str, bool]:
    """What the cell shows (a shared string as its index), '' when it shows nothing."""
    if kind == b"inlineStr":
        return "".join(_text(t) for t in _T.findall(content)).strip(), False
    v = _V.search(content)
    if v is not None and v.group(1).strip():
        return _text(v.group(1)).strip(), kind == b"s"
    f = _F.search(content)
    if f is not None and f.group(1).strip():
        return "=" + _text(f.group(1)).strip(), False
    return "", False


def shared_string(sst: bytes, index: int) -> str | None:
    """Text of one shared string (tags dropped), None when there is no such entry."""
    for i, m in enumerate(_SI.finditer(sst)):
        if i == index:
            return "".join(_text(t) for t in _T.findall(m.group(0)))
    return None


# --- trimming --------------------------------------------------------------------------

def trim_sheet(xml: bytes, max_row: int, max_col: int) -> bytes:
    """The worksheet with only the cells of A1:(max_row, max_col); raises SheetUnreadable.

    Kept cells keep their bytes (an ``r`` is added where the position was implicit),
    each under a plain ``<row r="n">``; everything outside ``<sheetData>`` is unchanged
    but the ``<dimension>``.
    """
    start = end = -1
    out: list[bytes] = []
    current, row_prefix = 0, b""
    for item in _walk(xml):
        if not isinstance(item, _Cell):
            if item[0] == "start":
                start = item[1]
            else:
                end = item[1]
            continue
        if item.row > max_row or item.col > max_col:
            continue
        if item.row != current:
            if current:
                out.append(b"</" + row_prefix + b"row>")
            row_prefix, current = item.prefix, item.row
            out.append(b"<" + row_prefix + b'row r="%d">' % current)
        address = cell_address(item.col, item.row).encode()
        if item.has_r:
            out.append(xml[item.start:item.end])
        else:
            out.append(xml[item.start:item.name_end] + b' r="' + address + b'"'
                       + xml[item.name_end:item.end])
    if current:
        out.append(b"</" + row_prefix + b"row>")
    if start < 0:
        return xml  # no cells at all
    head = _DIMENSION.sub(lambda m: m.group(1) + b"A1:" + cell_address(
        max(max_col, 1), max(max_row, 1)).encode() + m.group(2), xml[:start], count=1)
    return head + b"".join(out) + xml[end:]


# A number no date can be: calamine (through chrono) panics turning it into a date when the
# cell is styled as one. Far beyond Excel's last date (2 958 465 = 31/12/9999) either way.
_ABSURD_NUMBER = rb"-?[0-9]{10,}(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|-?[0-9.]+[eE]\+?[0-9]{2,}"
_HAS_ABSURD = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>(?:" + _ABSURD_NUMBER + rb")<")
_STYLED_ABSURD = re.compile(
    rb"(<c\b[^>]*?)\s+s=\"[0-9]+\"([^>]*>(?:(?!</c>).)*?<v>(?:" + _ABSURD_NUMBER + rb")</v>)",
    re.S)
_TYPED = re.compile(rb"\st=\"(?!n\")")


def has_absurd_numbers(xml: bytes) -> bool:
    return _HAS_ABSURD.search(xml) is not None


def unstyle_absurd_numbers(xml: bytes) -> bytes:
    """The sheet with the style removed from number cells no date can hold, so a reader
    sees a plain number (which the date check then refuses in French) instead of
    crashing on an impossible date. Other cells are unchanged."""
    def drop_style(m: re.Match) -> bytes:
        if _TYPED.search(m.group(1)) or _TYPED.search(m.group(2).split(b">", 1)[0]):
            return m.group(0)  # a text, boolean or error cell: its value is no number
        return m.group(1) + m.group(2)

    return _STYLED_ABSURD.sub(drop_style, xml)
