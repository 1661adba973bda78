"""Check that a template carries everything its specification names.

The Direction may restyle a template in Excel (fonts, colours, column widths,
moving a block): what matters is that every defined name of the spec still
points at a cell, or a rectangle of the right size, of the right sheet. The
generator finds cells only through :func:`template_names`, which resolves names
exactly as the checks here do, so a template that verifies clean is a template
the generator reads the way the verifier did.

Rules worth knowing:

* a name must be sheet-scoped to its sheet, but a *workbook*-scoped name that
  points at the right sheet is accepted (Excel's name manager creates
  workbook-scoped names by default); a sheet-scoped name wins over it;
* a field name may point at one cell, or at exactly one merged range (Excel
  names the whole merged range when a person selects a merged cell); the field
  is then its top-left cell;
* list names are workbook-scoped and their values must equal the spec's.

Nothing here raises on a bad file: every problem is a ``TPL_`` finding.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET

from cv_excel.findings import Finding, Report, make_finding
from cv_excel.spec import SPECS
from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Tableau
from cv_excel.xlsx.package import NS_MAIN, DefinedName, SheetEntry, XlsxPackage
from cv_excel.xlsx.refs import Area, parse_area

LISTES = "Listes"
META_TITRE = "cv_meta"


# --- what the spec asks for -------------------------------------------------------------------
@dataclass(frozen=True)
class Cible:
    """One name the spec requires on one sheet: a field or a table."""

    feuille: Feuille
    name: str
    champ: Champ | None = None
    tableau: Tableau | None = None

    @property
    def label(self) -> str:
        return self.champ.label if self.champ else self.tableau.label  # type: ignore[union-attr]


def cibles(spec: ClasseurSpec) -> list[Cible]:
    out = []
    for f in spec.feuilles:
        out += [Cible(f, c.name, champ=c) for c in f.champs]
        out += [Cible(f, t.name, tableau=t) for t in f.tableaux]
    return out


# --- what the file has ------------------------------------------------------------------------
class _Template:
    """Lazily parsed view of the template package."""

    def __init__(self, pkg: XlsxPackage, path: Path | None = None):
        self.pkg = pkg
        self.path = path

    @cached_property
    def sheets(self) -> list[SheetEntry]:
        return self.pkg.sheets()

    @cached_property
    def by_title(self) -> dict[str, SheetEntry]:
        return {s.name: s for s in self.sheets}

    @cached_property
    def names(self) -> list[DefinedName]:
        return self.pkg.defined_names()

    def named(self, name: str) -> list[DefinedName]:
        key = name.casefold()  # Excel names are case-insensitive
        return [n for n in self.names if n.name.casefold() == key]

    def merges(self, title: str) -> set[Area]:
        cache = self.__dict__.setdefault("_merges_cache", {})
        if title not in cache:
            cache[title] = self._read_merges(title)
        return cache[title]

    def _read_merges(self, title: str) -> set[Area]:
        entry = self.by_title.get(title)
        data = self.pkg.parts.get(entry.path) if entry else None
        if not data:
            return set()
        try:
            root = SafeET.fromstring(data)
        except Exception:  # noqa: BLE001 - an unreadable sheet has no usable merges
            return set()
        found = set()
        for el in root.iter(f"{{{NS_MAIN}}}mergeCell"):
            area = parse_area(f"'x'!{el.attrib.get('ref', '')}")
            if area is not None:
                found.add(Area(title, area.min_col, area.min_row, area.max_col, area.max_row))
        return found

    @cached_property
    def calamine(self) -> Any:
        from python_calamine import CalamineWorkbook

        if self.path is not None:
            return CalamineWorkbook.from_path(str(self.path))
        return CalamineWorkbook.from_filelike(io.BytesIO(self.pkg.to_bytes()))

    def values(self, area: Area) -> list[Any]:
        """Cell values of an area, row by row ("" for an empty cell)."""
        rows = self._rows(area.sheet)
        out = []
        for r in range(area.min_row, area.max_row + 1):
            row = rows[r - 1] if r - 1 < len(rows) else []
            for c in range(area.min_col, area.max_col + 1):
                out.append(row[c - 1] if c - 1 < len(row) else "")
        return out

    def _rows(self, title: str) -> list[list[Any]]:
        cache = self.__dict__.setdefault("_rows_cache", {})
        if title not in cache:
            sheet = self.calamine.get_sheet_by_name(title)
            cache[title] = sheet.to_python(skip_empty_area=False)
        return cache[title]


# --- resolution, shared with the generator ------------------------------------------------
@dataclass(frozen=True)
class _Resolution:
    area: Area | None
    problem: tuple[str, dict[str, Any]] | None  # (code, context) when the name is unusable
    ref: str = ""


def _resolve(tpl: _Template, cible: Cible) -> _Resolution:
    """Find the definition of one spec name, as the generator will read it."""
    entry = tpl.by_title.get(cible.feuille.titre)
    defs = tpl.named(cible.name)
    local = [d for d in defs if entry is not None and d.local_sheet == entry.index]
    glob = [d for d in defs if d.local_sheet is None]
    if len(local) > 1 or (not local and len(glob) > 1):
        return _Resolution(None, ("TPL_NOM_EN_DOUBLE", {"count": len(local) or len(glob)}),
                           (local or glob)[0].text)
    chosen = local[0] if local else (glob[0] if glob else None)
    if chosen is None:
        if defs:  # defined, but scoped to another sheet
            other = _title_of(tpl, defs[0].local_sheet)
            return _Resolution(None, ("TPL_NOM_MAUVAISE_FEUILLE", {"found": other}),
                               defs[0].text)
        return _Resolution(None, ("TPL_NOM_ABSENT", {}))
    area = _area(chosen)
    if area is None:
        return _Resolution(None, ("TPL_NOM_MAL_FORME", {}), chosen.text)
    if area.sheet != cible.feuille.titre:
        return _Resolution(None, ("TPL_NOM_MAUVAISE_FEUILLE", {"found": area.sheet}),
                           chosen.text)
    if local and any(_area(g) is not None and _area(g) != area and _area(g).sheet == area.sheet
                     for g in glob):  # a workbook-scoped twin that says something else
        return _Resolution(None, ("TPL_NOM_EN_DOUBLE", {"count": 1 + len(glob)}),
                           chosen.text)
    if cible.champ is not None and not area.is_cell:
        if area in tpl.merges(area.sheet):
            area = Area(area.sheet, area.min_col, area.min_row, area.min_col, area.min_row)
        else:
            return _Resolution(area, ("TPL_CELLULE_ATTENDUE", {}), chosen.text)
    return _Resolution(area, None, chosen.text)


def _area(name: DefinedName) -> Area | None:
    if "#REF!" in name.text.upper():
        return None
    return name.area


def _title_of(tpl: _Template, index: int | None) -> str:
    return next((s.name for s in tpl.sheets if s.index == index), "?")


def template_names(pkg: XlsxPackage, spec: ClasseurSpec) -> dict[tuple[str, str], Area]:
    """(sheet titre, name) → Area for every spec name the template defines usably.

    Sheet-scoped names first, else an accepted workbook-scoped name on the right
    sheet; a field named by its merged range is its top-left cell. Names with a
    problem are left out: run :func:`verify_template` first.
    """
    tpl = _Template(pkg)
    out = {}
    for cible in cibles(spec):
        res = _resolve(tpl, cible)
        if res.area is not None and res.problem is None:
            out[(cible.feuille.titre, cible.name)] = res.area
    return out


# --- checks -----------------------------------------------------------------------------------
def verify_template(path: Path | str, spec: ClasseurSpec | None = None) -> Report:
    """Check a template against its specification (detected when not given)."""
    path = Path(path)
    report = Report(file=str(path))
    tpl = _open(path, report)
    if tpl is None:
        return report
    if spec is None:
        spec = _detect_spec(tpl)
        if spec is None:
            report.extend([_finding("TPL_MODELE_INCONNU", path)])
            return report
    report.extend(_check_sheets(tpl, spec, path))
    resolved = {c: _resolve(tpl, c) for c in cibles(spec) if c.feuille.titre in tpl.by_title}
    report.extend(_check_names(resolved, path))
    report.extend(_check_sizes(resolved, path))
    report.extend(_check_overlaps(resolved, path))
    report.extend(_check_lists(tpl, spec, path))
    report.extend(_check_version(tpl, spec, resolved, path))
    return report


def _finding(code: str, path: Path, *, value: Any = None, **context: Any) -> Finding:
    return make_finding(code, value=value, file=path.name, **context)


def _open(path: Path, report: Report) -> _Template | None:
    try:
        pkg = XlsxPackage.from_path(path)
        tpl = _Template(pkg, path)
        tpl.sheets  # noqa: B018 - parse the workbook part now, inside the guard
        tpl.names  # noqa: B018
        return tpl
    except FileNotFoundError:
        detail = "fichier introuvable"
    except (zipfile.BadZipFile, KeyError):
        detail = "ce n'est pas un classeur .xlsx"
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes a finding
        detail = f"contenu illisible ({type(exc).__name__})"
    report.extend([_finding("TPL_FICHIER_ILLISIBLE", path, detail=detail)])
    return None


def _detect_spec(tpl: _Template) -> ClasseurSpec | None:
    """The spec named by ``meta_modele`` in cv_meta, else the one whose sheets are all here."""
    for spec in SPECS.values():
        cible = next((c for c in cibles(spec) if c.name == "meta_modele"), None)
        if cible is None or cible.feuille.titre not in tpl.by_title:
            continue
        res = _resolve(tpl, cible)
        if res.area is None or res.problem is not None:
            continue
        try:
            modele = str(tpl.values(res.area)[0]).strip()
        except Exception:  # noqa: BLE001 - fall back on the sheet titles
            continue
        match = [s for s in SPECS.values() if s.modele == modele]
        if match:
            return match[0]
    for spec in SPECS.values():
        if all(f.titre in tpl.by_title for f in spec.feuilles):
            return spec
    return None


def _check_sheets(tpl: _Template, spec: ClasseurSpec, path: Path) -> Iterator[Finding]:
    for titre in [*(f.titre for f in spec.feuilles), *([LISTES] if spec.listes else [])]:
        if titre not in tpl.by_title:
            yield _finding("TPL_FEUILLE_ABSENTE", path, sheet=titre)


def _check_names(resolved: dict[Cible, _Resolution], path: Path) -> Iterator[Finding]:
    for cible, res in resolved.items():
        if res.problem is None or res.problem[0] == "TPL_CELLULE_ATTENDUE":
            continue
        code, context = res.problem
        yield _finding(code, path, value=res.ref or None, sheet=cible.feuille.titre,
                       field=cible.name, label=cible.label, **context)


def _check_sizes(resolved: dict[Cible, _Resolution], path: Path) -> Iterator[Finding]:
    for cible, res in resolved.items():
        area = res.area
        if area is None:
            continue
        where = {"sheet": cible.feuille.titre, "cell": area.sqref(), "field": cible.name,
                 "label": cible.label}
        if res.problem and res.problem[0] == "TPL_CELLULE_ATTENDUE":
            yield _finding("TPL_CELLULE_ATTENDUE", path, value=res.ref, **where)
            continue
        tableau = cible.tableau
        if tableau is None:
            continue
        if area.width != len(tableau.colonnes):
            yield _finding("TPL_TABLEAU_LARGEUR", path, value=res.ref, expected=len(
                tableau.colonnes), found=area.width, **where)
        if tableau.lignes is not None and area.height != len(tableau.lignes):
            yield _finding("TPL_TABLEAU_HAUTEUR", path, value=res.ref,
                           expected=len(tableau.lignes), found=area.height, **where)
        elif tableau.lignes is None and area.height < tableau.min_capacite:
            yield _finding("TPL_TABLEAU_CAPACITE", path, value=res.ref,
                           expected=tableau.min_capacite, found=area.height, **where)


def _check_overlaps(resolved: dict[Cible, _Resolution], path: Path) -> Iterator[Finding]:
    placed = [(c, r.area) for c, r in resolved.items() if r.area is not None]
    for i, (a, area_a) in enumerate(placed):
        for b, area_b in placed[i + 1:]:
            if area_a.sheet == area_b.sheet and _intersect(area_a, area_b):
                yield _finding("TPL_NOMS_SUPERPOSES", path, value=resolved[b].ref,
                               sheet=a.feuille.titre, cell=area_b.sqref(), field=b.name,
                               other=a.name, label=b.label)


def _intersect(a: Area, b: Area) -> bool:
    return (a.min_col <= b.max_col and b.min_col <= a.max_col
            and a.min_row <= b.max_row and b.min_row <= a.max_row)


def _check_lists(tpl: _Template, spec: ClasseurSpec, path: Path) -> Iterator[Finding]:
    for name, expected in spec.listes.items():
        defs = [d for d in tpl.named(name) if d.local_sheet is None]
        if not defs:
            yield _finding("TPL_LISTE_ABSENTE", path, sheet=LISTES, field=name)
            continue
        area = _area(defs[0])
        if area is None or len(defs) > 1 or area.sheet not in tpl.by_title:
            yield _finding("TPL_NOM_MAL_FORME", path, value=defs[0].text, sheet=LISTES,
                           field=name, label="liste de valeurs")
            continue
        try:
            found = [_normal(v) for v in tpl.values(area)]
        except Exception as exc:  # noqa: BLE001 - unreadable values are a finding too
            found = [f"illisible ({type(exc).__name__})"]
        if found != [_normal(v) for v in expected]:
            yield _finding("TPL_LISTE_DIFFERENTE", path, value=" ; ".join(map(str, found)),
                           sheet=area.sheet, cell=area.sqref(), field=name,
                           expected=" ; ".join(str(v) for v in expected))


def _normal(value: Any) -> Any:
    """Numbers compare as numbers (Excel stores 20 as 20.0), texts as texts."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _check_version(tpl: _Template, spec: ClasseurSpec, resolved: dict[Cible, _Resolution],
                   path: Path) -> Iterator[Finding]:
    res = next((r for c, r in resolved.items() if c.name == "meta_spec_version"), None)
    if res is None or res.area is None or res.problem is not None:
        return  # missing or broken: already reported by the name checks
    try:
        value = tpl.values(res.area)[0]
    except Exception:  # noqa: BLE001
        value = ""
    found = str(_normal(value)).strip()
    if found != spec.version:
        yield _finding("TPL_VERSION_INCOMPATIBLE", path, value=found, sheet=res.area.sheet,
                       cell=res.area.sqref(), field="meta_spec_version", expected=spec.version)


__all__ = ["Cible", "cibles", "template_names", "verify_template"]
