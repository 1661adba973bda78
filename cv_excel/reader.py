"""Read a generated workbook back by its names: the third use of the spec.

Values come from python-calamine (fast, no formula evaluation needed: the
cached values the spreadsheet program saved are what the user saw); names and
sheet structure come from the package itself. Each value keeps its address,
so any later finding can point at the exact cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from cv_excel.spec.model import ClasseurSpec, Feuille, Tableau
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import Area


@dataclass
class Valeur:
    value: Any
    sheet: str
    cell: str


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


def _read_feuille(feuille: Feuille, titre: str, grid: _Grid, names: dict[str, Area],
                  missing: list) -> SectionLue:
    lue = SectionLue(titre)
    for champ in feuille.champs:
        area = names.get(champ.name)
        if area is None:
            missing.append((titre, champ.name))
            continue
        lue.values[champ.name] = Valeur(grid.get(area), titre, area.cell())
    for tableau in feuille.tableaux:
        area = names.get(tableau.name)
        if area is None:
            missing.append((titre, tableau.name))
            continue
        lue.tables[tableau.name], lue.table_keys[tableau.name] = _read_table(tableau, titre,
                                                                             grid, area)
    return lue


def _read_table(tableau: Tableau, titre: str, grid: _Grid,
                area: Area) -> tuple[list[dict[str, Valeur]], list[str]]:
    rows, keys = [], []
    for r in range(area.height):
        rows.append({col.name: Valeur(grid.get(area, r, c), titre, area.cell(r, c))
                     for c, col in enumerate(tableau.colonnes[: area.width])})
        keys.append(tableau.lignes[r].key if tableau.lignes and r < len(tableau.lignes)
                    else str(r + 1))
    return rows, keys


def read_workbook(path: Path | str, spec: ClasseurSpec, pkg: XlsxPackage | None = None,
                  book: CalamineWorkbook | None = None) -> ClasseurLu:
    """Every named value of the workbook, section by section.

    ``pkg`` and ``book`` (the parts and the calamine reader intake already opened on
    the checked bytes) avoid reading the file again.
    """
    if pkg is None or book is None:
        data = Path(path).read_bytes()
        pkg = pkg or XlsxPackage.from_bytes(data)
        book = book or CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = _names_by_sheet(pkg)
    sheet_titles = [s.name for s in pkg.sheets()]

    def grid(title: str) -> _Grid:
        return _Grid(book.get_sheet_by_name(title).to_python(skip_empty_area=False))

    missing: list[tuple[str, str]] = []
    single = {}
    for feuille in spec.feuilles:
        if not feuille.repetee and feuille.titre in names:
            single[feuille.key] = _read_feuille(feuille, feuille.titre, grid(feuille.titre),
                                                names[feuille.titre], missing)
    section = spec.section
    marker = section.champs[0].name
    sections = [
        _read_feuille(section, title, grid(title), names[title], missing)
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
