"""Small, shared Excel writing helpers: safe text and atomic saves.

Anything a porteur or the seed typed is written as *text*, never as a formula:
openpyxl turns a string starting with ``=`` into a formula, so such cells are
forced back to the string type. CSV outputs get the usual apostrophe prefix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.workbook import Workbook

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def set_text(cell: Cell, value: Any) -> Cell:
    """Assign ``value``; a string is always stored as a string, never a formula."""
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def csv_safe(value: Any) -> Any:
    """Neutralise a value for CSV (spreadsheet programs evaluate ``=…`` on open)."""
    if looks_like_formula(value):
        return "'" + value
    return value


def save_workbook_atomic(wb: Workbook, path: Path) -> Path:
    """Save through a temporary file in the same folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
