"""The validation report of a run: one row per file, one row per finding (xlsx, JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from cv_excel.atomic import write_text_atomic
from cv_excel.xlsxio import save_workbook_atomic, set_text

if TYPE_CHECKING:
    from cv_excel.intake.run import ValidationRun

_FILLS = {"accepté": "C6EFCE", "accepté avec avertissements": "FFEB9C", "rejeté": "FFC7CE",
          "doublon": "D9D9D9", "écarté": "D9D9D9"}


def file_rows(run: ValidationRun) -> list[dict[str, Any]]:
    return [{
        "fichier": f.nom, "statut": f.statut, "type": f.type, "revue": f.revue,
        "destinataire": f.destinataire,
        "bloquants": sum(1 for x in f.findings if x.severity.value == "bloquant"),
        "avertissements": sum(1 for x in f.findings if x.severity.value == "avertissement"),
        "empreinte SHA-256": f.sha256, "archive": str(f.archive or ""),
        "copie annotée": str(f.annotee or ""), "classeur": f.classeur_id,
        "reçu le": f.recu_le, "réexamen": "oui" if f.reexamen else "",
        "détail technique": f.detail_technique,
    } for f in run.fichiers]


def finding_rows(run: ValidationRun) -> list[dict[str, Any]]:
    rows = []
    for f in run.fichiers:
        for x in f.findings:
            rows.append({"fichier": f.nom, "statut du fichier": f.statut,
                         "gravité": x.severity.value, "code": x.code, "feuille": x.sheet or "",
                         "cellule": x.cell or "", "champ": x.field or "",
                         "valeur trouvée": x.value or "", "message": x.message,
                         "conseil": x.hint})
    return rows


def write_reports(run: ValidationRun, folder: Path) -> tuple[Path, Path]:
    wb = Workbook()
    ws = wb.active
    ws.title = "Fichiers"
    _table(ws, file_rows(run), status_col="statut")
    _table(wb.create_sheet("Constats"), finding_rows(run), status_col="statut du fichier")
    xlsx = save_workbook_atomic(wb, folder / "rapport de validation.xlsx")
    payload = {
        "debut": run.debut.isoformat(timespec="seconds"),
        "fin": run.fin.isoformat(timespec="seconds") if run.fin else None,
        "fichiers": [{**row, "constats": [x.model_dump(mode="json") for x in f.findings]}
                     for row, f in zip(file_rows(run), run.fichiers, strict=True)],
    }
    js = write_text_atomic(folder / "rapport de validation.json",
                           json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    return xlsx, js


def _table(ws, rows: list[dict[str, Any]], status_col: str) -> None:
    if not rows:
        ws.append(["Aucun fichier."])
        return
    headers = list(rows[0])
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
    for r, row in enumerate(rows, start=2):
        for c, key in enumerate(headers, start=1):
            cell = set_text(ws.cell(row=r, column=c), row[key])
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        fill = _FILLS.get(row[status_col])
        if fill:
            ws.cell(row=r, column=headers.index(status_col) + 1).fill = PatternFill(
                "solid", fgColor=fill)
    for c, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = \
            60 if header in ("message", "conseil") else 22
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
