"""Small, shared Excel writing helpers: safe text and atomic saves.

Anything a porteur or the seed typed is written as *text*, never as a formula:
openpyxl turns a string starting with ``=`` into a formula, so such cells are
forced back to the string type. Texts go through :func:`cv_excel.text.clean_text`
(no XML-forbidden character, 32,767 UTF-16 units at most). CSV outputs get the
usual apostrophe prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.workbook import Workbook

from cv_excel.atomic import atomic_target
from cv_excel.text import clean_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def set_text(cell: Cell, value: Any) -> Cell:
    """Assign ``value``; a string is always stored as a string, never a formula.

    A string starting with ``= + - @`` keeps Excel's « quote prefix » flag, so Excel
    shows the same text and keeps it as text when the cell is edited.
    """
    if isinstance(value, str):
        value = clean_text(value)
        cell.value = value
        if looks_like_formula(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        elif cell.data_type == "e":  # « #N/A » typed by someone: a text, not an error value
            cell.data_type = "s"
        return cell
    cell.value = value
    return cell


def csv_safe(value: Any) -> Any:
    """Neutralise a value for CSV (spreadsheet programs evaluate ``=…`` on open)."""
    if looks_like_formula(value):
        return "'" + value
    return value


def save_workbook_atomic(wb: Workbook, path: Path) -> Path:
    """Save through a temporary file in the same folder, then rename over ``path``
    (cells serialised as text: :mod:`cv_excel.xlsx.openpyxl_save`)."""
    from cv_excel.xlsx.openpyxl_save import save_workbook

    with atomic_target(path) as tmp:
        save_workbook(wb, tmp)
    return Path(path)
