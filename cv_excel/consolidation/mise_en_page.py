"""Printing helpers shared by the tableau de bord and the COPIL pack: colours readable in
print (dark text on light fills), the traffic-light cells, and row heights computed from
the texts, because neither Excel nor LibreOffice grows a row whose height is set and a
row left to them is not always grown on opening: a long text would be cut on paper.

The estimate is deliberately generous: it assumes a wide font (LibreOffice replaces
Calibri by DejaVu Sans when Carlito is missing), so a row may be a little taller than
needed on screen, never too short on paper.
"""

from __future__ import annotations

import functools
import math
import textwrap
from typing import Any

from openpyxl.styles import Font, PatternFill

from cv_excel.consolidation.aggregate import NON_RENSEIGNE, RETOUR_MANQUANT

POLICE = "Calibri"
TAILLE = 10  # body text of the printed sheets, in points (never under 8)
TAILLE_MIN = 8
_PX_PER_UNIT = 7  # one column width unit: the width of « 0 » in Calibri 11, in pixels
_CHAR_FACTOR = 1.0  # an average character, in « 0 » of Calibri 11 (generous for DejaVu)
_LINE_FACTOR = 1.25  # line height / font size (Calibri 1.22, DejaVu Sans 1.17)
MAX_ROW_HEIGHT = 400.0  # Excel refuses more than 409 points

# Dark text on light fills (contrast for print and photocopies).
RAG_STYLES: dict[str, tuple[str, str]] = {  # word -> (fill, font colour)
    "Vert": ("C6EFCE", "006100"),
    "Orange": ("FFEB9C", "7F6000"),
    "Rouge": ("FFC7CE", "9C0006"),
    RETOUR_MANQUANT: ("FCE4D6", "833C0B"),
    NON_RENSEIGNE: ("F2F2F2", "595959"),
}
GRIS = "4D4D4D"  # dropped indicators, « non renseigné » (italic; readable on every fill)
GRIS_FOND = "F2F2F2"


def font(size: float = TAILLE, bold: bool = False, italic: bool = False,
         color: str = "000000") -> Font:
    """Every font of the printed sheets goes through here: a size is always set."""
    return Font(name=POLICE, size=max(size, TAILLE_MIN), bold=bold, italic=italic, color=color)


def chars_per_line(width: float, size: float = TAILLE) -> int:
    """How many characters a column ``width`` (Excel units) surely holds per line."""
    usable_px = max(width * _PX_PER_UNIT - 6, _PX_PER_UNIT)
    return max(int(usable_px / (_PX_PER_UNIT * _CHAR_FACTOR * size / 11)), 1)


def wrap(text: Any, width: float, size: float = TAILLE) -> list[str]:
    """The lines ``text`` takes in a column ``width`` (a paragraph per line break)."""
    if text is None or text == "":
        return [""]
    n = chars_per_line(width, size)
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        lines += textwrap.wrap(paragraph, n, break_long_words=True) or [""]
    return lines


def line_count(text: Any, width: float, size: float = TAILLE) -> int:
    """How many lines :func:`wrap` gives; one, without wrapping, for a short single line
    (most cells: wrapping every label made the row heights a third of a compte rendu)."""
    if text is None:
        return 1
    text = str(text)
    if len(text) <= chars_per_line(width, size) and "\n" not in text and "\t" not in text:
        return 1
    if len(text) <= _CACHED_TEXT:
        return _wrapped_count(text, width, size)
    return len(wrap(text, width, size))


_CACHED_TEXT = 400  # the labels of the forms, repeated on every sheet: counted once


@functools.lru_cache(maxsize=4096)
def _wrapped_count(text: str, width: float, size: float) -> int:
    return len(wrap(text, width, size))


def height_for(lines: int, size: float = TAILLE) -> float:
    """Row height in points for ``lines`` lines at ``size`` points."""
    return min(math.ceil(lines * size * _LINE_FACTOR) + 4, MAX_ROW_HEIGHT)


def chunks(text: Any, width: float, size: float = TAILLE) -> list[str]:
    """``text`` cut between lines into pieces that each fit one row of
    :data:`MAX_ROW_HEIGHT`: a very long text goes on several rows, nothing is cut."""
    if (isinstance(text, str) and len(text) <= chars_per_line(width, size)
            and text == text.strip() and not _WRAP_SPACES.intersection(text)):
        return [text]  # one short line: what wrapping gives, without wrapping (most texts)
    return _wrapped_chunks(text, width, size)


_WRAP_SPACES = frozenset("\t\n\r\x0b\x0c")  # textwrap's whitespace, but the space


def _wrapped_chunks(text: Any, width: float, size: float) -> list[str]:
    per_row = max(int((MAX_ROW_HEIGHT - 4) / (size * _LINE_FACTOR)) - 1, 1)
    lines: list[tuple[str, bool]] = []  # (line, last line of its paragraph)
    for paragraph in ("" if text is None else str(text)).split("\n"):
        wrapped = wrap(paragraph, width, size)
        lines += [(line, i == len(wrapped) - 1) for i, line in enumerate(wrapped)]
    pieces = []
    for start in range(0, len(lines), per_row):
        piece = ""
        for line, end in lines[start:start + per_row]:
            piece += line + ("\n" if end else " ")
        pieces.append(piece.rstrip())
    return pieces or [""]


def rag_style(cell, word: str | None) -> None:
    """A traffic-light cell: the word, on its light colour, in dark text."""
    fill, color = RAG_STYLES.get(word or NON_RENSEIGNE, RAG_STYLES[NON_RENSEIGNE])
    cell.fill = PatternFill("solid", fgColor=fill)
    size = cell.font.sz if cell.font is not None and cell.font.sz else TAILLE
    cell.font = font(size, bold=word in ("Vert", "Orange", "Rouge"), color=color,
                     italic=word not in ("Vert", "Orange", "Rouge"))
