"""Stage 2: is it one of our workbooks, the right version, contrat, year and
recipient, with its sheets and named areas intact?"""

from __future__ import annotations

from typing import Any

from python_calamine import CalamineWorkbook

from cv_excel.findings import Finding, make_finding
from cv_excel.intake.checks.fichier import LIMITES, Limites
from cv_excel.intake.context import IntakeContext
from cv_excel.reader import ClasseurLu, open_bounded, read_workbook
from cv_excel.spec import SPECS, ClasseurSpec
from cv_excel.spec.common import META
from cv_excel.xlsx.package import XlsxPackage


def read_meta(pkg: XlsxPackage, book: CalamineWorkbook) -> dict[str, Any] | None:
    """The ``cv_meta`` values by name, or None when the workbook has no metadata."""
    sheets = {s.name: s for s in pkg.sheets()}
    if META.titre not in sheets:
        return None
    index = sheets[META.titre].index
    areas = {n.name: n.area for n in pkg.defined_names()
             if n.name.startswith("meta_") and n.area is not None
             and n.area.sheet == META.titre and n.local_sheet in (None, index)}
    if "meta_type" not in areas:
        return None
    rows = book.get_sheet_by_name(META.titre).to_python(skip_empty_area=False)
    meta = {}
    for name, area in areas.items():
        r, c = area.min_row - 1, area.min_col - 1
        value = rows[r][c] if r < len(rows) and c < len(rows[r]) else ""
        meta[name] = None if value == "" else value
    return meta


def meta_text(value: Any) -> str:
    """A metadata value as text (« 2019 » read back as 2019.0 is « 2019 »)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def identify(name: str, pkg: XlsxPackage, book: CalamineWorkbook, ctx: IntakeContext
             ) -> tuple[list[Finding], ClasseurSpec | None, dict[str, Any]]:
    """Which specification the workbook follows; stop-worthy problems are blocking."""
    meta = read_meta(pkg, book)
    if meta is None:
        return [make_finding("CLS_INCONNU", file=name)], None, {}
    kind = meta_text(meta.get("meta_type"))
    spec = SPECS.get(kind)
    if spec is None:
        return [make_finding("CLS_TYPE", file=name, value=kind)], None, meta
    version = meta_text(meta.get("meta_spec_version"))
    if version != spec.version:
        return [make_finding("CLS_VERSION", file=name, value=version,
                             expected=spec.version)], None, meta
    findings = []
    contrat = meta_text(meta.get("meta_contrat"))
    if contrat != ctx.contrat:
        findings.append(make_finding("CLS_CONTRAT", file=name, value=contrat,
                                     expected=ctx.contrat))
    annee = meta_text(meta.get("meta_annee"))
    if annee != str(ctx.annee):
        findings.append(make_finding("CLS_ANNEE", file=name, value=annee, expected=ctx.annee))
    classeur_id = meta_text(meta.get("meta_classeur_id"))
    entry = ctx.registre.get(classeur_id)
    if entry is None:
        findings.append(make_finding("CLS_NON_GENERE", file=name, value=classeur_id))
    elif entry["destinataire_id"] != meta_text(meta.get("meta_destinataire_id")):
        findings.append(make_finding("CLS_DESTINATAIRE", file=name,
                                     value=meta_text(meta.get("meta_destinataire")),
                                     expected=entry["destinataire"]))
    return findings, spec, meta


def check_structure(name: str, lu: ClasseurLu, meta: dict[str, Any]) -> list[Finding]:
    """Sheets present, named areas intact, sections as sent."""
    findings = []
    for feuille in lu.spec.feuilles:
        if not feuille.repetee and feuille.titre not in lu.sheets:
            findings.append(make_finding("CLS_FEUILLE_ABSENTE", file=name, sheet=feuille.titre))
    for sheet, field in lu.missing:
        if sheet in lu.sheets:
            findings.append(make_finding("CLS_NOM_ABSENT", file=name, sheet=sheet, field=field))
    expected = [line.split("=", 1)[0] for line in meta_text(meta.get("meta_sections")).splitlines()
                if line]
    found = [s.titre for s in lu.sections]
    if expected != found:
        findings.append(make_finding("CLS_SECTIONS", file=name, value=", ".join(found) or "—",
                                     expected=", ".join(expected) or "—"))
    return findings


_NOT_A_REVUE = object()


def revue_number(value: Any) -> Any:
    """``meta_revue`` read back: None when empty (an annual workbook), the revue number
    (a whole number from 1), else a marker that it is not a revue number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return _NOT_A_REVUE
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return _NOT_A_REVUE
        value = int(value)
    if isinstance(value, float):
        if not value.is_integer():
            return _NOT_A_REVUE
        value = int(value)
    if not isinstance(value, int) or value < 1:
        return _NOT_A_REVUE
    return value


def _revue_label(revue: Any) -> str:
    return "bilan annuel, sans revue" if revue is None else f"revue {revue}"


def check_revue(name: str, lu: ClasseurLu, entry: dict[str, Any] | None) -> list[Finding]:
    """The revue the workbook says it belongs to (``meta_revue``, hidden sheet) is the one
    it was generated for: the register entry is the reference. A workbook missing from
    the register (already reported) must at least carry a revue number or nothing."""
    meta = lu.single.get("meta")
    valeur = meta.values.get("meta_revue") if meta is not None else None
    if valeur is None:  # the name is missing: the structure check reports it
        return []
    found = revue_number(valeur.value)
    if entry is not None:
        expected = revue_number(entry.get("revue"))
        if found == expected and found is not _NOT_A_REVUE:
            return []
        wanted = _revue_label(expected)
    elif found is _NOT_A_REVUE:
        wanted = "un numéro de revue (1, 2, 3…) ou rien pour un bilan annuel"
    else:
        return []
    shown = meta_text(valeur.value) or "vide"
    return [make_finding("CLS_REVUE", file=name, sheet=valeur.sheet, cell=valeur.cell,
                         field="meta_revue", value=shown, expected=wanted)]


def open_book(data: bytes, pkg: XlsxPackage | None = None, limites: Limites = LIMITES
              ) -> CalamineWorkbook:
    """calamine on the checked bytes, never building a sheet grid larger than what is
    read (see :func:`cv_excel.reader.open_bounded`). Pass the package :func:`check_file`
    returned: the sheets' scan is then shared and the file not inflated twice."""
    return open_bounded(data, pkg, far_row=limites.ligne_max, far_col=limites.colonne_max,
                        grid_max=limites.grille_max, max_cells=limites.cellules_max)


def read(name: str, pkg: XlsxPackage, book: CalamineWorkbook, spec: ClasseurSpec
         ) -> ClasseurLu:
    return read_workbook(name, spec, pkg=pkg, book=book)
