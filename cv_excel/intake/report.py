"""The validation report of a run: one row per file, one row per finding (xlsx, JSON).

Both are written in one pass over the run's files, a file at a time (the xlsx in
openpyxl's write-only mode, the JSON entry by entry): the report of 10,000 files
costs no more memory than the report of ten.

The xlsx carries no clock time but the run's start (document properties; zip entries
dated :data:`~cv_excel.xlsx.package.ZIP_DATE`): the same run gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from cv_excel.atomic import atomic_target
from cv_excel.xlsx.package import ZIP_DATE
from cv_excel.xlsxio import set_text

if TYPE_CHECKING:
    from cv_excel.intake.run import FichierTraite, ValidationRun

_FILLS = {"accepté": "C6EFCE", "accepté avec avertissements": "FFEB9C", "rejeté": "FFC7CE",
          "doublon": "D9D9D9", "écarté": "D9D9D9"}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_WRAP = Alignment(wrap_text=True, vertical="top")
_STATUS_FILLS = {status: PatternFill("solid", fgColor=color) for status, color in _FILLS.items()}


def file_row(f: FichierTraite) -> dict[str, Any]:
    return {
        "fichier": f.nom, "statut": f.statut, "type": f.type, "revue": f.revue,
        "destinataire": f.destinataire,
        "bloquants": sum(1 for x in f.findings if x.severity.value == "bloquant"),
        "avertissements": sum(1 for x in f.findings if x.severity.value == "avertissement"),
        "empreinte SHA-256": f.sha256, "archive": str(f.archive or ""),
        "copie annotée": str(f.annotee or ""), "classeur": f.classeur_id,
        "reçu le": f.recu_le, "réexamen": "oui" if f.reexamen else "",
        "détail technique": f.detail_technique,
    }


def finding_rows_of(f: FichierTraite) -> list[dict[str, Any]]:
    return [{"fichier": f.nom, "statut du fichier": f.statut,
             "gravité": x.severity.value, "code": x.code, "feuille": x.sheet or "",
             "cellule": x.cell or "", "champ": x.field or "",
             "valeur trouvée": x.value or "", "message": x.message,
             "conseil": x.hint} for x in f.findings]


def file_rows(run: ValidationRun) -> list[dict[str, Any]]:
    return [file_row(f) for f in run.fichiers]


def finding_rows(run: ValidationRun) -> list[dict[str, Any]]:
    return [row for f in run.fichiers for row in finding_rows_of(f)]


def write_reports(run: ValidationRun, folder: Path) -> tuple[Path, Path]:
    wb = Workbook(write_only=True)
    fichiers = _Table(wb.create_sheet("Fichiers"), status_col="statut")
    constats = _Table(wb.create_sheet("Constats"), status_col="statut du fichier")
    target = folder / "rapport de validation.json"
    with atomic_target(target) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as out:
        entries = _JsonList(out, run)
        for f in run.fichiers:
            row = file_row(f)
            fichiers.add(row)
            for finding in finding_rows_of(f):
                constats.add(finding)
            entries.add({**row, "constats": [x.model_dump(mode="json") for x in f.findings]})
        entries.close()
    fichiers.close()
    constats.close()
    xlsx = _save(wb, folder / "rapport de validation.xlsx", run.debut)
    return xlsx, target


def _save(wb: Workbook, path: Path, when: dt.datetime) -> Path:
    """Save ``wb`` atomically, dated ``when`` (created and modified), nothing else dated."""
    stamp = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    wb.properties.created = wb.properties.modified = stamp
    with atomic_target(path) as tmp:
        # openpyxl's save_workbook, without its clock (it dates the file and the entries)
        ExcelWriter(wb, _UndatedZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return path


class _UndatedZip(zipfile.ZipFile):
    """A zip whose entries are dated ZIP_DATE, not with the time they were written."""

    def _undated(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._undated(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # A write-only sheet, from its temporary file: streamed, never loaded whole.
        info = self._undated(arcname or os.path.basename(filename))
        if compress_type is not None:
            info.compress_type = compress_type
        info.file_size = os.path.getsize(filename)
        with open(filename, "rb") as src, self.open(info, "w") as dest:
            shutil.copyfileobj(src, dest, 1 << 20)


class _JsonList:
    """``json.dumps(payload, ensure_ascii=False, indent=1)`` of the report, written one
    file's entry at a time."""

    def __init__(self, out: TextIO, run: ValidationRun):
        self.out = out
        self.n = 0
        debut = json.dumps(run.debut.isoformat(timespec="seconds"))
        fin = json.dumps(run.fin.isoformat(timespec="seconds") if run.fin else None)
        out.write(f'{{\n "debut": {debut},\n "fin": {fin},\n "fichiers": [')

    def add(self, entry: dict[str, Any]) -> None:
        text = json.dumps(entry, ensure_ascii=False, indent=1)
        self.out.write((",\n" if self.n else "\n") + "  " + text.replace("\n", "\n  "))
        self.n += 1

    def close(self) -> None:
        self.out.write("\n ]\n}\n" if self.n else "]\n}\n")


class _Table:
    """A sheet of the report: a header row, then one row per item, written as they come."""

    def __init__(self, ws, status_col: str):
        self.ws = ws
        self.status_col = status_col
        self.headers: list[str] | None = None
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        ws = self.ws
        if self.headers is None:  # layout first: write-only sheets take it before any row
            self.headers = list(row)
            for c, header in enumerate(self.headers, start=1):
                ws.column_dimensions[get_column_letter(c)].width = \
                    60 if header in ("message", "conseil") else 22
            ws.freeze_panes = "A2"
            header_cells = []
            for header in self.headers:
                cell = WriteOnlyCell(ws, value=header)
                cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
                header_cells.append(cell)
            ws.append(header_cells)
        cells = []
        for key in self.headers:
            cell = set_text(WriteOnlyCell(ws), row[key])
            cell.alignment = _WRAP
            if key == self.status_col and (fill := _STATUS_FILLS.get(row[key])) is not None:
                cell.fill = fill
            cells.append(cell)
        ws.append(cells)
        self.rows += 1

    def close(self) -> None:
        if self.headers is None:
            self.ws.append(["Aucun fichier."])
            return
        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.headers))}{self.rows + 1}"
