"""The copy sent back to a porteur: their own workbook, each faulty cell
highlighted and commented, and a first sheet listing what to fix in plain French.

It is a *copy* made from the archived bytes; the received file is never touched.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from cv_excel.findings import Finding, Severity
from cv_excel.xlsxio import save_workbook_atomic, set_text

SHEET = "À corriger"
_RED = PatternFill("solid", fgColor="FF7C80")
_ORANGE = PatternFill("solid", fgColor="FFC000")
AUTHOR = "Direction Politique de la Ville"


def annotate(data: bytes, findings: list[Finding], target: Path, nom: str) -> Path:
    wb = load_workbook(io.BytesIO(data))
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, cell), items in by_cell.items():
        c = wb[sheet][cell]
        blocking = any(f.severity is Severity.BLOQUANT for f in items)
        c.fill = _RED if blocking else _ORANGE
        text = "\n\n".join(f"{'À corriger' if f.severity is Severity.BLOQUANT else 'À vérifier'}"
                           f" : {f.message}\n→ {f.hint}" for f in items)
        c.comment = Comment(text, AUTHOR, width=320, height=160)
    ws = wb.create_sheet(SHEET, 0)
    _summary(ws, findings, nom)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    return save_workbook_atomic(wb, target)


def _summary(ws, findings: list[Finding], nom: str) -> None:
    blocking = [f for f in findings if f.severity is Severity.BLOQUANT]
    ws["A1"] = "Votre classeur doit être corrigé" if blocking else \
        "Votre classeur est accepté ; quelques points sont à vérifier"
    ws["A1"].font = Font(bold=True, size=14, color="C00000" if blocking else "9C5700")
    set_text(ws["A2"], f"Fichier reçu : {nom}. Les cellules concernées sont colorées "
                       "(rouge : à corriger, orange : à vérifier) et portent un commentaire. "
                       "Corrigez-les dans ce classeur, enregistrez-le et renvoyez-le.")
    ws["A2"].alignment = Alignment(wrap_text=True)
    ws.merge_cells("A2:E2")
    ws.row_dimensions[2].height = 45
    headers = ("Gravité", "Où", "Ce qui ne va pas", "Comment corriger", "Valeur trouvée")
    ws.append([])
    ws.append(headers)
    for cell in ws[4]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
    for f in sorted(findings, key=lambda f: (f.severity is not Severity.BLOQUANT,
                                             f.sheet or "", f.cell or "")):
        row = ws.max_row + 1
        where = f"{f.sheet}, cellule {f.cell}" if f.sheet and f.cell else (f.sheet or
                                                                          "classeur")
        values = ("À corriger" if f.severity is Severity.BLOQUANT else "À vérifier",
                  where, f.message, f.hint, f.value or "")
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(-(-len(text) // 50) for text in (f.message, f.hint, " "))
        ws.row_dimensions[row].height = 15 * lines
        if f.sheet and f.cell:
            link = ws.cell(row=row, column=2)
            link.hyperlink = f"#'{f.sheet}'!{f.cell}"
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDE", (12, 28, 55, 55, 20), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
