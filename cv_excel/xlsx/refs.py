"""A1 references: parse and format ``'Feuille 1'!$B$3:$D$9``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def col_to_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


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
    first, _, last = ref.partition(":")
    m1 = _CELL.match(first)
    m2 = _CELL.match(last) if last else m1
    if not m1 or not m2:
        return None
    c1, r1 = col_to_index(m1.group(1)), int(m1.group(2))
    c2, r2 = col_to_index(m2.group(1)), int(m2.group(2))
    return Area(sheet, min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))


def split_address(address: str) -> tuple[int, int]:
    """``B12`` → (col 2, row 12)."""
    m = _CELL.match(address)
    if not m:
        raise ValueError(f"adresse de cellule invalide : {address!r}")
    return col_to_index(m.group(1)), int(m.group(2))
