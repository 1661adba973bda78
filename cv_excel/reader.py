"""Read a generated workbook back by its names: the third use of the spec.

Values come from python-calamine (fast, no formula evaluation needed: the
cached values the spreadsheet program saved are what the user saw); names and
sheet structure come from the package itself. Each value keeps its address,
so any later finding can point at the exact cell.

calamine builds a dense grid from A1 to the last cell of a sheet, so one stray
cell at ``XFD1048576`` would cost the whole machine: :func:`open_bounded` gives it
the original bytes only when every sheet's extent (scanned in the XML, see
:mod:`cv_excel.xlsx.extent`) is small, and otherwise a copy whose oversized
sheets keep only the box of their named areas — the only cells ever read.

Texts come back in the one normal form of :func:`cv_excel.text.clean_text`, and an
answer from a list in the list's own spelling (« oui » → « Oui »).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Tableau
from cv_excel.text import EXCEL_CELL_MAX, canonical_choice, clean_text
from cv_excel.xlsx.extent import (
    FAR_COL,
    FAR_ROW,
    GRID_MAX,
    SheetUnreadable,
    has_absurd_numbers,
    sheet_extent,
    trim_sheet,
    unstyle_absurd_numbers,
)
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import Area


@dataclass
class Valeur:
    value: Any
    sheet: str
    cell: str

    def __reduce__(self):
        """Pickled as its three fields (a validation sends every value read from a workbook
        to the process that records it: a third of the time of the default way)."""
        return Valeur, (self.value, self.sheet, self.cell)


@dataclass
class SectionLue:
    titre: str
    values: dict[str, Valeur] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Valeur]]] = field(default_factory=dict)
    table_keys: dict[str, list[str]] = field(default_factory=dict)  # row keys per table


@dataclass
class ClasseurLu:
    spec: ClasseurSpec
    sheets: list[str]
    single: dict[str, SectionLue]  # by feuille key
    sections: list[SectionLue]
    missing: list[tuple[str, str]] = field(default_factory=list)  # (sheet, name) not found

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.single.get("meta")
        return {k: v.value for k, v in meta.values.items()} if meta else {}


def _names_by_sheet(pkg: XlsxPackage) -> dict[str, dict[str, Area]]:
    """Sheet title → name → area; workbook-scoped names count for the sheet they point to."""
    sheets = pkg.sheets()
    result: dict[str, dict[str, Area]] = {s.name: {} for s in sheets}
    for n in pkg.defined_names():
        area = n.area
        if area is None or area.sheet not in result:
            continue
        if n.local_sheet is not None and sheets[n.local_sheet].name != area.sheet:
            continue
        if n.local_sheet is None and n.name in result[area.sheet]:
            continue  # a sheet-scoped name wins over a workbook-scoped one
        result[area.sheet][n.name] = area
    return result


class _Grid:
    def __init__(self, rows: list[list[Any]]):
        self.rows = rows

    def get(self, area: Area, r: int = 0, c: int = 0) -> Any:
        row, col = area.min_row + r - 1, area.min_col + c - 1
        if row < len(self.rows) and col < len(self.rows[row]):
            value = self.rows[row][col]
            return None if value == "" else value
        return None


def _normal(value: Any, champ: Champ, listes: dict[str, tuple[str | int, ...]]) -> Any:
    """A text in its normal form; a list answer in the list's spelling when it is one."""
    if isinstance(value, str):
        # Under EXCEL_CELL_MAX // 2 characters a text cannot exceed the limit: no counting.
        value = clean_text(value, None if len(value) <= EXCEL_CELL_MAX // 2 else EXCEL_CELL_MAX)
    if champ.kind == "liste" and champ.liste in listes and value is not None:
        choice = canonical_choice(value, listes[champ.liste])
        if choice is not None:
            return choice
    return value


def _read_feuille(feuille: Feuille, titre: str, grid: _Grid, names: dict[str, Area],
                  missing: list, listes: dict[str, tuple[str | int, ...]]) -> SectionLue:
    lue = SectionLue(titre)
    for champ in feuille.champs:
        area = names.get(champ.name)
        if area is None:
            missing.append((titre, champ.name))
            continue
        lue.values[champ.name] = Valeur(_normal(grid.get(area), champ, listes), titre,
                                        area.cell())
    for tableau in feuille.tableaux:
        area = names.get(tableau.name)
        if area is None:
            missing.append((titre, tableau.name))
            continue
        lue.tables[tableau.name], lue.table_keys[tableau.name] = _read_table(
            tableau, titre, grid, area, listes)
    return lue


def _read_table(tableau: Tableau, titre: str, grid: _Grid, area: Area,
                listes: dict[str, tuple[str | int, ...]]
                ) -> tuple[list[dict[str, Valeur]], list[str]]:
    rows, keys = [], []
    for r in range(area.height):
        rows.append({col.name: Valeur(_normal(grid.get(area, r, c), col, listes), titre,
                                      area.cell(r, c))
                     for c, col in enumerate(tableau.colonnes[: area.width])})
        keys.append(tableau.lignes[r].key if tableau.lignes and r < len(tableau.lignes)
                    else str(r + 1))
    return rows, keys


def _name_boxes(pkg: XlsxPackage) -> dict[str, tuple[int, int]]:
    """Sheet title → (last row, last column) of the defined names pointing into it."""
    boxes: dict[str, tuple[int, int]] = {}
    for n in pkg.defined_names():
        if n.area is not None:
            row, col = boxes.get(n.area.sheet, (0, 0))
            boxes[n.area.sheet] = (max(row, n.area.max_row), max(col, n.area.max_col))
    return boxes


def open_bounded(data: bytes, pkg: XlsxPackage | None = None, *, far_row: int = FAR_ROW,
                 far_col: int = FAR_COL, grid_max: int = GRID_MAX,
                 max_cells: int | None = None) -> CalamineWorkbook:
    """calamine on ``data``, never building a sheet grid bigger than what is read.

    A sheet whose extent stays within ``far_row`` × ``far_col`` and ``grid_max`` cells is
    read as it is (the normal case: calamine gets the original bytes). Any other is
    first cut down to the box of the names pointing into it (at most ``far_row`` ×
    ``far_col``): values, types and styles of the kept cells are unchanged. Raises
    :class:`SheetUnreadable` for a sheet whose cells the scan does not understand.
    """
    pkg = pkg if pkg is not None else XlsxPackage.from_bytes(data)
    trimmed: dict[str, bytes] = {}
    boxes: dict[str, tuple[int, int]] | None = None
    for sheet in pkg.sheets():
        if sheet.path not in pkg.parts:
            continue
        extent = sheet_extent(pkg, sheet.path, far_row, far_col, max_cells)
        if extent.problem is not None:
            raise SheetUnreadable(f"feuille « {sheet.name} » : {extent.problem}")
        if not extent.fits(far_row, far_col, grid_max):
            boxes = boxes if boxes is not None else _name_boxes(pkg)
            row, col = boxes.get(sheet.name, (0, 0))
            trimmed[sheet.path] = trim_sheet(pkg.parts[sheet.path], min(row, far_row),
                                             min(col, far_col))
        xml = trimmed.get(sheet.path, pkg.parts[sheet.path])
        if has_absurd_numbers(xml):
            trimmed[sheet.path] = unstyle_absurd_numbers(xml)
    if not trimmed:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, part in pkg.parts.items():
            zf.writestr(name, trimmed.get(name, part))
    return CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))


def read_workbook(path: Path | str, spec: ClasseurSpec, pkg: XlsxPackage | None = None,
                  book: CalamineWorkbook | None = None) -> ClasseurLu:
    """Every named value of the workbook, section by section.

    ``pkg`` and ``book`` (the parts and the calamine reader intake already opened on
    the checked bytes, with :func:`open_bounded`) avoid reading the file again.
    """
    if pkg is None or book is None:
        data = Path(path).read_bytes()
        pkg = pkg or XlsxPackage.from_bytes(data)
        book = book or open_bounded(data, pkg)
    names = _names_by_sheet(pkg)
    sheet_titles = [s.name for s in pkg.sheets()]

    def grid(title: str) -> _Grid:
        return _Grid(book.get_sheet_by_name(title).to_python(skip_empty_area=False))

    missing: list[tuple[str, str]] = []
    single = {}
    for feuille in spec.feuilles:
        if not feuille.repetee and feuille.titre in names:
            single[feuille.key] = _read_feuille(feuille, feuille.titre, grid(feuille.titre),
                                                names[feuille.titre], missing, spec.listes)
    section = spec.section
    marker = section.champs[0].name
    sections = [
        _read_feuille(section, title, grid(title), names[title], missing, spec.listes)
        for title in sheet_titles if marker in names.get(title, {})
    ]
    return ClasseurLu(spec, sheet_titles, single, sections, missing)


def prefilled_values(lu: ClasseurLu) -> dict[str, Any]:
    """The prefilled cells as read, keyed as the generator keyed them for the fingerprint."""
    return {k: v.value for k, v in prefilled_cells(lu).items()}


def prefilled_cells(lu: ClasseurLu) -> dict[str, Valeur]:
    """The prefilled cells with their places (« feuille|nom[|ligne|colonne] » → Valeur)."""
    cells: dict[str, Valeur] = {}
    for key, part in lu.single.items():
        if key == "meta":
            continue
        _collect(lu.spec.feuille(key), part, cells)
    for part in lu.sections:
        _collect(lu.spec.section, part, cells)
    return cells


def _collect(feuille: Feuille, part: SectionLue, cells: dict[str, Valeur]) -> None:
    for champ in feuille.champs:
        if champ.role == "prerempli" and champ.name in part.values:
            cells[f"{part.titre}|{champ.name}"] = part.values[champ.name]
    for tableau in feuille.tableaux:
        rows = part.tables.get(tableau.name, [])
        keys = part.table_keys.get(tableau.name, [])
        for row, key in zip(rows, keys, strict=True):
            for col in tableau.colonnes:
                if tableau.role_of(key if tableau.lignes else None, col.name) != "prerempli":
                    continue
                if tableau.lignes is None and not any(
                        row[c.name].value not in (None, "") for c in tableau.colonnes
                        if c.role == "prerempli"):
                    continue
                cells[f"{part.titre}|{tableau.name}|{key}|{col.name}"] = row[col.name]
