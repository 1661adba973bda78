"""A1 references: parse and format ``'Feuille 1'!$B$3:$D$9``."""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def col_to_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


# The references of a template's names and cells recur in every workbook made from it:
# these pure conversions are remembered (bounded, short texts only) rather than redone
# for every file.
@functools.lru_cache(maxsize=16384)
def index_to_col(index: int) -> str:
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_address(col: int, row: int) -> str:
    return f"{index_to_col(col)}{row}"


@dataclass(frozen=True)
class Area:
    """A rectangle of one sheet; 1-based inclusive bounds."""

    sheet: str
    min_col: int
    min_row: int
    max_col: int
    max_row: int

    @property
    def width(self) -> int:
        return self.max_col - self.min_col + 1

    @property
    def height(self) -> int:
        return self.max_row - self.min_row + 1

    @property
    def is_cell(self) -> bool:
        return self.width == 1 and self.height == 1

    def cell(self, row_offset: int = 0, col_offset: int = 0) -> str:
        """A1 address (no sheet) of one cell of the area, offsets from the top-left."""
        return cell_address(self.min_col + col_offset, self.min_row + row_offset)

    def cells(self) -> list[str]:
        return [cell_address(c, r) for r in range(self.min_row, self.max_row + 1)
                for c in range(self.min_col, self.max_col + 1)]

    def sqref(self) -> str:
        first, last = self.cell(), cell_address(self.max_col, self.max_row)
        return first if first == last else f"{first}:{last}"

    def formula(self) -> str:
        """The reference as written in a defined name (absolute, quoted sheet)."""
        a = f"${index_to_col(self.min_col)}${self.min_row}"
        if not self.is_cell:
            a += f":${index_to_col(self.max_col)}${self.max_row}"
        return f"{quote_sheet(self.sheet)}!{a}"


def quote_sheet(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not _CELL.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def parse_area(text: str) -> Area | None:
    """``'Ma feuille'!$A$1:$B$2`` → Area; None when it is not one plain rectangle."""
    return _parse_area_known(text) if len(text) <= 100 else _parse_area(text)


@functools.lru_cache(maxsize=16384)
def _parse_area_known(text: str) -> Area | None:
    return _parse_area(text)


def _parse_area(text: str) -> Area | None:
    text = text.strip()
    if text.startswith("="):
        text = text[1:]
    if "!" not in text or "," in text:
        return None
    sheet_part, _, ref = text.rpartition("!")
    if sheet_part.startswith("'") and sheet_part.endswith("'"):
        sheet = sheet_part[1:-1].replace("''", "'")
    elif "'" in sheet_part or not sheet_part:
        return None
    else:
        sheet = sheet_part
    bounds = _bounds(ref) if len(ref) <= 40 else _bounds.__wrapped__(ref)
    return None if bounds is None else Area(sheet, *bounds)


# A name's sheet differs from workbook to workbook (sheets named after actions), its
# rectangle recurs: the rectangle is parsed once.
@functools.lru_cache(maxsize=16384)
def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    first, _, last = ref.partition(":")
    m1 = _CELL.match(first)
    m2 = _CELL.match(last) if last else m1
    if not m1 or not m2:
        return None
    c1, r1 = col_to_index(m1.group(1)), int(m1.group(2))
    c2, r2 = col_to_index(m2.group(1)), int(m2.group(2))
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def split_address(address: str) -> tuple[int, int]:
    """``B12`` → (col 2, row 12)."""
    m = _CELL.match(address)
    if not m:
        raise ValueError(f"adresse de cellule invalide : {address!r}")
    return col_to_index(m.group(1)), int(m.group(2))


# --- inserting rows -------------------------------------------------------------------------
class RowShift:
    """Rows inserted in one sheet, as Excel's « insert rows » places them.

    Built from ``(last, count)`` pairs: ``count`` rows are inserted right after row
    ``last`` (old numbering), so every row below ``last`` moves down. Several pairs may be
    given at once (several tables of one sheet growing): they are all expressed in the
    numbering of the sheet before any insertion, and applied in one pass.

    A *range* ending on ``last`` grows with the inserted rows (the table it covers, a sum
    over its column, a validation or conditional format of its rows); a single cell or a
    range ending above does not move, one starting below moves whole.
    """

    def __init__(self, inserts: list[tuple[int, int]] | tuple[tuple[int, int], ...] = ()):
        merged: dict[int, int] = {}
        for last, count in inserts:
            if count > 0:
                merged[last] = max(merged.get(last, 0), count)
        self.inserts: tuple[tuple[int, int], ...] = tuple(sorted(merged.items()))
        self._lasts = [last for last, _ in self.inserts]
        self._before: list[int] = []  # rows inserted above the row after each ``last``
        total = 0
        for _, count in self.inserts:
            total += count
            self._before.append(total)
        self._after = dict(self.inserts)

    def __bool__(self) -> bool:
        return bool(self.inserts)

    def __repr__(self) -> str:
        return f"RowShift({list(self.inserts)!r})"

    @property
    def total(self) -> int:
        return self._before[-1] if self._before else 0

    def row(self, row: int) -> int:
        """Where an existing row goes."""
        i = bisect_left(self._lasts, row)  # inserts strictly above ``row``
        return row + (self._before[i - 1] if i else 0)

    def grown(self, row: int) -> int:
        """Rows inserted right after ``row`` (0 for most rows)."""
        return self._after.get(row, 0)

    def span(self, first: int, last: int, grow: bool = True) -> tuple[int, int]:
        """Where the rows ``first..last`` of a range go; with ``grow`` a range ending on
        an insertion point takes the inserted rows in."""
        return self.row(first), self.row(last) + (self.grown(last) if grow else 0)

    def new_rows(self) -> list[tuple[int, int, int]]:
        """``(model row, first new row, count)`` of each insertion, in the new numbering:
        the inserted rows copy the row above them."""
        return [(last, self.row(last) + 1, count) for last, count in self.inserts]

    def area(self, area: Area, grow: bool = False) -> Area:
        first, last = self.span(area.min_row, area.max_row, grow)
        return Area(area.sheet, area.min_col, first, area.max_col, last)

    def brk(self, index: int) -> int:
        """A row page break (``<brk id>``: after row ``index``) stays above its row."""
        return self.row(index + 1) - 1


# A reference inside a formula: optional sheet, then a cell, a range of cells or a range
# of rows. Text constants and bracketed parts (external books, structured references)
# are matched first, so nothing inside them is ever taken for a reference.
_FORMULA_TOKEN = re.compile(
    r"""(?P<skip>"(?:[^"]|"")*"|\[[^\]]*\](?:'(?:[^']|'')*'|[\w.]*)(?:!\$?[\w$:]*)?)
    |(?<![\w.$'\]])
    (?:(?P<sheet>'(?:[^']|'')+'|[^\W\d][\w.]*)!)?
    (?:(?P<c1>\$?[A-Z]{1,3})(?P<r1>\$?\d{1,7})(?::(?P<c2>\$?[A-Z]{1,3})(?P<r2>\$?\d{1,7}))?
      |(?P<q1>\$?\d{1,7}):(?P<q2>\$?\d{1,7}))
    (?![\w(!])""",
    re.X,
)
_SQREF_ITEM = re.compile(r"(\$?[A-Z]{1,3})?(\$?\d{1,7})?(?::(\$?[A-Z]{1,3})?(\$?\d{1,7})?)?")


def _moved(text: str, row: int) -> str:
    return ("$" if text.startswith("$") else "") + str(row)


def _sheet_key(text: str) -> str:
    if text.startswith("'"):
        text = text[1:-1].replace("''", "'")
    return text.casefold()


def shift_formula(formula: str, local: RowShift | None = None,
                  sheets: dict[str, RowShift] | None = None) -> str:
    """``formula`` with its references moved as the rows they point at.

    ``local`` moves the references without a sheet (a formula of the sheet that grows);
    ``sheets`` (casefolded sheet title → shift) the references naming a sheet. A range
    of several rows ending on an insertion point grows (``SUM(B3:B9)`` takes the rows
    inserted after row 9); a single cell never does.
    """
    sheets = sheets or {}

    def repl(m: re.Match) -> str:
        if m.group("skip") is not None:
            return m.group(0)
        sheet = m.group("sheet")
        shift = local if sheet is None else sheets.get(_sheet_key(sheet))
        if not shift:
            return m.group(0)
        prefix = f"{sheet}!" if sheet is not None else ""
        if m.group("q1") is not None:
            q1, q2 = m.group("q1"), m.group("q2")
            a, b = int(q1.lstrip("$")), int(q2.lstrip("$"))
            na, nb = shift.span(a, b, grow=a < b)
            return f"{prefix}{_moved(q1, na)}:{_moved(q2, nb)}"
        c1, r1 = m.group("c1"), m.group("r1")
        if m.group("c2") is None:
            return f"{prefix}{c1}{_moved(r1, shift.row(int(r1.lstrip('$'))))}"
        c2, r2 = m.group("c2"), m.group("r2")
        a, b = int(r1.lstrip("$")), int(r2.lstrip("$"))
        na, nb = shift.span(a, b, grow=a < b)
        return f"{prefix}{c1}{_moved(r1, na)}:{c2}{_moved(r2, nb)}"

    return _FORMULA_TOKEN.sub(repl, formula)


def shift_sqref(sqref: str, shift: RowShift, grow: bool = True) -> str:
    """A space-separated list of cells and ranges (``A1 B3:D9``) moved by ``shift``.

    With ``grow`` (formats and validations: what Excel copies from the row above into
    inserted rows), a cell or range ending on an insertion point takes the new rows in."""
    if not shift:
        return sqref
    out = []
    for item in sqref.split():
        m = _SQREF_ITEM.fullmatch(item)
        if m is None or (m.group(2) is None and m.group(4) is None):
            out.append(item)  # whole columns, or something else: rows do not matter
            continue
        c1, r1, c2, r2 = m.groups()
        if ":" in item and (r1 is None or r2 is None):
            out.append(item)
            continue
        a = int(r1.lstrip("$"))
        b = int(r2.lstrip("$")) if r2 is not None else a
        na, nb = shift.span(a, b, grow)
        first = f"{c1 or ''}{_moved(r1, na)}"
        if r2 is None and na == nb:
            out.append(first)
        else:
            last = f"{c2 if c2 is not None else c1 or ''}{_moved(r2 or r1, nb)}"
            out.append(f"{first}:{last}")
    return " ".join(out)
