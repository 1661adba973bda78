"""Render the Console sheet to ``docs/console.png`` for the README (run by hand, not in tests).

Runs a few actions of the console on the demo working folder (fake book, no Excel),
builds a copy of the console pre-filled with what they wrote, converts it to PDF
with LibreOffice and the first page to PNG with pdftoppm.

    python scripts/screenshot_console.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cv_excel.demo import run_demo_cycle  # noqa: E402
from cv_excel.excel import console as cx  # noqa: E402
from cv_excel.excel.build import build_console  # noqa: E402
from cv_excel.office import convert  # noqa: E402

SHOWN_ROOT = r"C:\PolitiqueVille\demo"


class _Range:
    def __init__(self, cells: dict, sheet: str, address: str):
        self.cells, self.sheet, self.address = cells, sheet, address

    def _grid(self):
        first, last = self.address.split(":")
        (c1, r1), (c2, r2) = (re.fullmatch(r"([A-Z]+)(\d+)", a).groups() for a in (first, last))
        return [[f"{chr(c)}{r}" for c in range(ord(c1), ord(c2) + 1)]
                for r in range(int(r1), int(r2) + 1)]

    @property
    def value(self):
        if ":" not in self.address:
            return self.cells.get((self.sheet, self.address))
        return [[self.cells.get((self.sheet, a)) for a in row] for row in self._grid()]

    @value.setter
    def value(self, value):
        if ":" not in self.address:
            self.cells[(self.sheet, self.address)] = value
            return
        for row, values in zip(self._grid(), value, strict=True):
            for a, v in zip(row, values, strict=True):
                self.cells[(self.sheet, a)] = v


class _Book:
    """Just enough of an xlwings Book for run_action (see tests/test_console.py)."""

    def __init__(self, folder: Path):
        self.fullname = str(folder / f"{cx.CONSOLE_NAME}.xlsm")
        self.cells: dict = {}
        self.sheets = self

    def __getitem__(self, sheet: str):
        book = self

        class _Sheet:
            def __getitem__(self, address: str):
                return _Range(book.cells, sheet, address)

        return _Sheet()


def _shown(value, root: Path):
    if isinstance(value, str):
        value = value.replace(str(root), SHOWN_ROOT)
        value = re.sub(r"(?<=PolitiqueVille)[^\n]*", lambda m: m.group(0).replace("/", "\\"),
                       value)
    return value


def main() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = run_demo_cycle(tmp / "demo").dossier
        book = _Book(tmp)
        book.sheets[cx.SHEET_PARAMS][cx.CELL_DOSSIER].value = str(root)
        for action in ("generer", "valider", "consolider", "relances"):
            cx.run_action(book, action)
        book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = 2031
        cx.run_action(book, "generer")  # an error line in the history
        book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = 2019
        cx.run_action(book, "ouvrir")
        valeurs = {k: _shown(v, root) for k, v in book.cells.items()}
        console = build_console(tmp / "console", valeurs=valeurs)
        pdf = convert(console, tmp / "pdf")
        out = REPO / "docs" / "console"
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1",
                        "-singlefile", str(pdf), str(out)], check=True)
    return out.with_suffix(".png")


if __name__ == "__main__":
    print(main())
