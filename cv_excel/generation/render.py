"""Render a fill plan into a workbook, from a copy of the template package.

The template is read and checked once (:func:`prepare`); each workbook then
costs a copy of small in-memory structures, the edits of the changed parts and
one zip write. Everything the template carries and the plan does not touch —
styles, images, conditional formats, print settings, its own validations — is
kept byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cv_excel import __version__
from cv_excel.findings import Report
from cv_excel.generation.fingerprint import canonical, fingerprint
from cv_excel.generation.plan import FillPlan, Section
from cv_excel.generation.validations import validation_for
from cv_excel.generation.verify_template import template_names, verify_template
from cv_excel.spec.model import ClasseurSpec, Feuille, Tableau
from cv_excel.text import clean_value
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import Area
from cv_excel.xlsx.sheet import SheetXml
from cv_excel.xlsx.styles import StylesXml
from cv_excel.xlsx.workbook import WorkbookEditor

STYLES = "xl/styles.xml"
LISTES_SHEET = "Listes"


class ModeleInvalide(Exception):
    """The template does not satisfy its specification; ``report`` says why."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"Le modèle {report.file} n'est pas utilisable : "
                         f"{len(report.errors)} problème(s) bloquant(s).")


class CapaciteInsuffisante(Exception):
    """More items than rows in a named table of the template."""


@dataclass
class PreparedTemplate:
    spec: ClasseurSpec
    path: Path
    pkg: XlsxPackage
    names: dict[tuple[str, str], Area]
    sheets: dict[str, SheetXml]  # by sheet title
    styles: StylesXml


def prepare(path: Path, spec: ClasseurSpec) -> PreparedTemplate:
    """Check the template against its specification and parse it once."""
    report = verify_template(path, spec)
    if not report.valid:
        raise ModeleInvalide(report)
    pkg = XlsxPackage.from_path(path)
    by_title = {s.name: s for s in pkg.sheets()}
    sheets = {f.titre: SheetXml.parse(pkg.parts[by_title[f.titre].path]) for f in spec.feuilles}
    return PreparedTemplate(spec, Path(path), pkg, template_names(pkg, spec), sheets,
                            StylesXml(pkg.parts[STYLES]))


class _Renderer:
    """The state of one workbook being rendered."""

    def __init__(self, tpl: PreparedTemplate):
        self.tpl = tpl
        self.styles = tpl.styles.copy()
        self.prefilled: dict[str, Any] = {}

    def cell(self, sheet: SheetXml, address: str, role: str, value: Any = None,
             write: bool = False) -> None:
        """Style (and with ``write``, fill) one cell; texts are written in their normal
        form (:func:`~cv_excel.text.clean_text`), the form the fingerprint records."""
        locked = role != "saisie"
        style = self.styles.with_protection(_int(sheet.style(address)), locked)
        if write:
            sheet.set(address, value, style=str(style))
        else:
            sheet.set_style(address, str(style))

    def fill_feuille(self, feuille: Feuille, sheet: SheetXml, sheet_title: str,
                     values: dict[str, Any], tables: dict[str, Any]) -> None:
        validations: list[str] = []
        for champ in feuille.champs:
            area = self.tpl.names[(feuille.titre, champ.name)]
            address = area.cell()
            if champ.role == "prerempli":
                value = clean_value(values.get(champ.name))
                self.cell(sheet, address, "prerempli", value, write=True)
                self.prefilled[f"{sheet_title}|{champ.name}"] = value
            elif champ.role == "saisie":
                self.cell(sheet, address, "saisie", values.get(champ.name),
                          write=champ.name in values)
                validations.append(validation_for(champ, address, address))
            else:
                self.cell(sheet, address, "calcul")
        for tableau in feuille.tableaux:
            validations += self.fill_table(tableau, sheet, sheet_title,
                                           tables.get(tableau.name))
        sheet.add_validations(validations)
        sheet.protect()

    def fill_table(self, tableau: Tableau, sheet: SheetXml, sheet_title: str,
                   data: Any) -> list[str]:
        area = self.tpl.names[(sheet_title_of(tableau, self.tpl), tableau.name)]
        if tableau.lignes is not None:
            keys: list[str | None] = [ligne.key for ligne in tableau.lignes]
            rows = [(data or {}).get(k, {}) for k in keys]
        else:
            rows = list(data or [])
            if len(rows) > area.height:
                raise CapaciteInsuffisante(
                    f"Feuille « {sheet_title} » : la zone « {tableau.name} » du modèle compte "
                    f"{area.height} lignes pour {len(rows)} éléments : agrandissez-la dans le "
                    "modèle (Formules > Gestionnaire de noms).")
            keys = [None] * area.height
        has_prefill = any(c.role == "prerempli" for c in tableau.colonnes)
        validations = []
        for c, colonne in enumerate(tableau.colonnes):
            input_rows = []
            for r in range(area.height):
                address = area.cell(r, c)
                role = tableau.role_of(keys[r], colonne.name)
                value = clean_value(rows[r].get(colonne.name)) if r < len(rows) else None
                if role == "prerempli":
                    self.cell(sheet, address, role, value, write=True)
                    if r < len(rows) and (keys[r] is not None or _is_item(tableau, rows[r])):
                        key = keys[r] if keys[r] is not None else str(r + 1)
                        self.prefilled[f"{sheet_title}|{tableau.name}|{key}|{colonne.name}"] = \
                            value
                else:
                    # An input may come with a proposed value (e.g. last year's figure).
                    self.cell(sheet, address, role, value,
                              write=role == "saisie" and value is not None)
                    if role == "saisie":
                        input_rows.append(r)
            if input_rows:
                sqref = " ".join(_runs(area, c, input_rows))
                validations.append(validation_for(colonne, sqref, area.cell(input_rows[0], c)))
        if has_prefill and tableau.lignes is None:
            for r in range(len(rows), area.height):
                sheet.hide_row(area.min_row + r)
        return validations


def _is_item(tableau: Tableau, row: dict[str, Any]) -> bool:
    """A row of a capacity table is an item when one of its prefilled cells has a value
    (the reader applies the same rule, so both fingerprints cover the same cells)."""
    return any(clean_value(row.get(c.name)) not in (None, "") for c in tableau.colonnes
               if c.role == "prerempli")


def sheet_title_of(tableau: Tableau, tpl: PreparedTemplate) -> str:
    return next(f.titre for f in tpl.spec.feuilles if tableau in f.tableaux)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def _runs(area: Area, c: int, rows: list[int]) -> list[str]:
    """Contiguous row runs of one column as A1 ranges (``D30:D44 D46``)."""
    runs, start, prev = [], rows[0], rows[0]
    for r in rows[1:] + [None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        first = area.cell(start, c)
        last = area.cell(prev, c)
        runs.append(first if first == last else f"{first}:{last}")
        if r is not None:
            start = prev = r
    return runs


@dataclass
class Rendu:
    data: bytes  # the xlsx file
    empreinte: str  # fingerprint of the prefilled values
    preremplies: dict[str, str]  # canonical prefilled values, to name a tampered cell later


def render(tpl: PreparedTemplate, plan: FillPlan, classeur_id: str,
           generated_at: dt.datetime) -> Rendu:
    """The workbook of ``plan`` as xlsx bytes, with the fingerprint of its prefilled values."""
    spec = tpl.spec
    pkg = tpl.pkg.copy()
    editor = WorkbookEditor(pkg)
    _scope_names(editor, spec)
    r = _Renderer(tpl)
    written: dict[str, bytes] = {}  # final sheet title -> sheet part

    section_feuille = spec.section
    source = previous = editor.sheet(section_feuille.titre)
    for i, section in enumerate(plan.sections):
        if i:
            previous = editor.clone_sheet(source, section.titre, after=previous)
        written[section.titre] = _render_section(r, tpl, section_feuille, section)
    if plan.sections:
        editor.rename_sheet(source, plan.sections[0].titre)

    meta = spec.feuille("meta")
    for feuille in spec.feuilles:
        if feuille.repetee or feuille is meta:
            continue
        sheet = tpl.sheets[feuille.titre].copy()
        if feuille.key != "lisez_moi":
            sheet.unselect_tab()
        r.fill_feuille(feuille, sheet, feuille.titre, plan.values.get(feuille.key, {}), {})
        written[feuille.titre] = sheet.to_bytes()

    # The meta sheet carries the fingerprint of every other prefilled value: fill it last.
    empreinte = fingerprint(r.prefilled)
    preremplies = {k: canonical(v) for k, v in r.prefilled.items()}
    sheet = tpl.sheets[meta.titre].copy()
    sheet.unselect_tab()
    values = {**_meta_values(plan, classeur_id, generated_at), "meta_empreinte": empreinte}
    r.fill_feuille(meta, sheet, meta.titre, values, {})
    written[meta.titre] = sheet.to_bytes()
    editor.sheet(meta.titre).state = "veryHidden"

    # Lists stay readable by the drop-downs but out of sight, and locked.
    if any(s.name == LISTES_SHEET for s in editor.sheets):
        listes = editor.sheet(LISTES_SHEET)
        if listes.state == "visible":
            listes.state = "hidden"
        sheet = SheetXml.parse(pkg.parts[listes.path])
        sheet.protect()
        sheet.unselect_tab()
        written[LISTES_SHEET] = sheet.to_bytes()

    for s in editor.sheets:
        if s.name in written:
            pkg.parts[s.path] = written[s.name]
    pkg.parts[STYLES] = r.styles.to_bytes()
    editor.finish()
    return Rendu(pkg.to_bytes(), empreinte, preremplies)


def _scope_names(editor: WorkbookEditor, spec: ClasseurSpec) -> None:
    """Spec names a person made workbook-scoped in Excel become sheet-scoped again."""
    for feuille in spec.feuilles:
        own = {c.name for c in feuille.champs} | {t.name for t in feuille.tableaux}
        for n in editor.names:
            if n.sheet is None and n.name in own:
                n.sheet = editor.sheet(feuille.titre)


def _render_section(r: _Renderer, tpl: PreparedTemplate, feuille: Feuille,
                    section: Section) -> bytes:
    sheet = tpl.sheets[feuille.titre].copy()
    sheet.unselect_tab()
    r.fill_feuille(feuille, sheet, section.titre, section.values, section.tables)
    return sheet.to_bytes()


def _meta_values(plan: FillPlan, classeur_id: str, generated_at: dt.datetime) -> dict[str, Any]:
    return {
        "meta_classeur_id": classeur_id,
        "meta_type": plan.spec.kind,
        "meta_contrat": plan.contrat,
        "meta_annee": plan.annee,
        "meta_revue": plan.revue,
        "meta_destinataire_id": plan.destinataire_id,
        "meta_destinataire": plan.destinataire,
        # One « title=key » line per section (intake reads the titles back): a key keeps
        # to its line.
        "meta_sections": "\n".join(f"{s.titre}={' '.join(s.key.splitlines())}"
                                   for s in plan.sections),
        "meta_generateur": f"cv_excel {__version__}",
        "meta_genere_le": generated_at.isoformat(timespec="seconds"),
    }


__all__ = ["CapaciteInsuffisante", "ModeleInvalide", "PreparedTemplate", "Rendu",
           "prepare", "render"]
