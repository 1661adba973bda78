"""The copy sent back to a porteur: their own workbook, each faulty cell
highlighted and commented, and a first sheet listing what to fix in plain French.

It is a *copy* made from the archived bytes; the received file is never touched.

The copy is made by editing the few XML parts of the received package that change,
as generation does (:mod:`cv_excel.xlsx`): the faulty sheets (a style — the cell's
own plus a red or orange fill — and a note on each faulty cell), their notes and
drawings, the styles, the workbook part (the new first sheet « À corriger », active,
and every sheet-scoped name moved by one place) and its relationships. Everything
else — values, formulas, validations, protections, images — is copied byte for byte,
about forty times faster than an openpyxl load and save. A workbook whose structure
this does not expect is annotated the former way (:func:`_annotate_openpyxl`), and
the log says so: a rejected file always gets its annotated copy.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from cv_excel.atomic import write_bytes_atomic
from cv_excel.findings import Finding, Severity
from cv_excel.text import clean_text
from cv_excel.xlsx.comments import add_notes
from cv_excel.xlsx.package import (
    CONTENT_TYPES,
    NS_MAIN,
    NS_REL,
    WORKBOOK,
    WORKBOOK_RELS,
    XlsxPackage,
    check_xml,
    read_rels,
    rels_path,
    resolve_target,
)
from cv_excel.xlsx.refs import col_to_index
from cv_excel.xlsx.sheet import SheetXml, cell_xml, without_tab_selected
from cv_excel.xlsx.styles import StylesXml
from cv_excel.xlsx.workbook import APP, REL_WORKSHEET, prepend_sheet
from cv_excel.xlsxio import looks_like_formula, save_workbook_atomic, set_text

log = logging.getLogger(__name__)

SHEET = "À corriger"
RED, ORANGE = "FF7C80", "FFC000"  # blocking, warning
_RED = PatternFill("solid", fgColor=RED)
_ORANGE = PatternFill("solid", fgColor=ORANGE)
AUTHOR = "Direction Politique de la Ville"
HEADERS = ("Gravité", "Où", "Ce qui ne va pas", "Comment corriger", "Valeur trouvée")
WIDTHS = (12, 28, 55, 55, 20)
NOTE_WIDTH, NOTE_HEIGHT = 320, 160  # pixels
ROW_HEIGHT_MAX = 409  # points: Excel's tallest row
REL_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_ADDRESS = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def annotate(data: bytes, findings: list[Finding], target: Path, nom: str) -> Path:
    """Write the annotated copy of the received workbook ``data`` (file name ``nom``)
    to ``target``, atomically; returns ``target``."""
    try:
        copy = annotated_bytes(data, findings, nom)
    except Exception as exc:
        log.warning("Copie annotée de « %s » : structure de classeur inattendue (%s) ; "
                    "la copie est faite par openpyxl.", nom, exc, exc_info=True)
        return _annotate_openpyxl(data, findings, target, nom)
    return write_bytes_atomic(target, copy)


# --- what the porteur reads (both ways) -------------------------------------------------
def _blocking(items: list[Finding]) -> bool:
    return any(f.severity is Severity.BLOQUANT for f in items)


def _label(f: Finding) -> str:
    return "À corriger" if f.severity is Severity.BLOQUANT else "À vérifier"


def _note(items: list[Finding]) -> str:
    return "\n\n".join(f"{_label(f)} : {f.message}\n→ {f.hint}" for f in items)


def _title(findings: list[Finding]) -> str:
    return "Votre classeur doit être corrigé" if _blocking(findings) else \
        "Votre classeur est accepté ; quelques points sont à vérifier"


def _intro(nom: str) -> str:
    return (f"Fichier reçu : {nom}. Les cellules concernées sont colorées "
            "(rouge : à corriger, orange : à vérifier) et portent un commentaire. "
            "Corrigez-les dans ce classeur, enregistrez-le et renvoyez-le.")


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity is not Severity.BLOQUANT,
                                           f.sheet or "", f.cell or ""))


def _values(f: Finding) -> tuple[str, str, str, str, str]:
    where = f"{f.sheet}, cellule {f.cell}" if f.sheet and f.cell else (f.sheet or "classeur")
    return _label(f), where, f.message, f.hint, f.value or ""


def _lines(f: Finding) -> int:
    return max(-(-len(text) // 50) for text in (f.message, f.hint, " "))


# --- the XML way ------------------------------------------------------------------------
def annotated_bytes(data: bytes, findings: list[Finding], nom: str) -> bytes:
    """The annotated copy of ``data`` as xlsx bytes, made by editing its XML parts.
    Raises on a structure it does not expect (the caller falls back to openpyxl)."""
    pkg = XlsxPackage.from_bytes(data)
    rels = {r["Id"]: r for r in read_rels(pkg.parts.get(WORKBOOK_RELS))}
    styles_rel = [r for r in rels.values() if r["Type"] == REL_STYLES]
    if len(styles_rel) != 1:
        raise ValueError("classeur sans feuille de styles")
    styles_part = resolve_target(WORKBOOK, styles_rel[0]["Target"])
    styles = StylesXml(pkg.parts[styles_part])
    entries = pkg.sheets()
    worksheets = {e.name for e in entries if rels[e.rid]["Type"] == REL_WORKSHEET}
    located = _located(findings, worksheets)
    fills = {True: styles.add_fill("FF" + RED), False: styles.add_fill("FF" + ORANGE)}
    written = [WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES, styles_part]
    for entry in entries:
        if entry.name not in located:
            pkg.parts[entry.path] = without_tab_selected(pkg.parts[entry.path])
            continue
        sheet = SheetXml.parse(pkg.parts[entry.path])
        notes = {}
        for address, items in _on_shown_cells(sheet, located[entry.name]).items():
            style = sheet.effective_style(address)
            filled = styles.with_fill(int(style) if style is not None else None,
                                      fills[_blocking(items)])
            sheet.set_style(address, str(filled))
            notes[address] = _note(items)
        written += add_notes(pkg, entry.path, sheet, notes, AUTHOR, NOTE_WIDTH, NOTE_HEIGHT)
        sheet.head = without_tab_selected(sheet.head)
        pkg.parts[entry.path] = sheet.to_bytes()
        written += [entry.path, rels_path(entry.path)]
    title = _free_title([e.name for e in entries])
    quoted = "'" + title.replace("'", "''") + "'"
    written.append(prepend_sheet(pkg, title, _summary_xml(findings, nom, styles),
                                 {"_xlnm.Print_Titles": f"{quoted}!$4:$4"}))
    pkg.parts[styles_part] = styles.to_bytes()
    for part in dict.fromkeys(written + ([APP] if APP in pkg.parts else [])):
        check_xml(pkg.parts[part])  # every part written is well-formed XML
    return pkg.to_bytes()


def _address(cell: str) -> str | None:
    """``B12`` (also ``$b$12``) as ``B12``; None for what is not one cell of a sheet."""
    m = _ADDRESS.fullmatch(cell.strip())
    if m is None:
        return None
    col, row = col_to_index(m.group(1)), int(m.group(2))
    if not (1 <= col <= 16_384 and 1 <= row <= 1_048_576):
        return None
    return f"{m.group(1).upper()}{row}"


def _located(findings: list[Finding], worksheets: set[str]
             ) -> dict[str, dict[str, list[Finding]]]:
    """Findings on one cell of a worksheet of the workbook: sheet → cell → findings."""
    located: dict[str, dict[str, list[Finding]]] = {}
    for f in findings:
        address = _address(f.cell) if f.sheet in worksheets and f.cell else None
        if address is not None:
            located.setdefault(f.sheet, {}).setdefault(address, []).append(f)
    return located


def _on_shown_cells(sheet: SheetXml, cells: dict[str, list[Finding]]
                    ) -> dict[str, list[Finding]]:
    """A finding inside a merged range goes to the range's top-left cell, the one shown."""
    shown: dict[str, list[Finding]] = {}
    for address, items in cells.items():
        shown.setdefault(sheet.merged_origin(address), []).extend(items)
    return shown


def _free_title(titles: list[str]) -> str:
    """« À corriger », or « À corriger (2) »… when the workbook has one already (an
    annotated copy sent back as it was)."""
    taken = {t.casefold() for t in titles}
    title, n = SHEET, 1
    while title.casefold() in taken:
        n += 1
        title = f"{SHEET} ({n})"
    return title


class _SummaryStyles:
    """The styles of the summary sheet, added to the workbook's own."""

    def __init__(self, styles: StylesXml, blocking: bool):
        self.styles = styles
        self.title = self._xf(styles.add_font(bold=True, size=14,
                                              rgb="FFC00000" if blocking else "FF9C5700"))
        self.intro = self._xf(wrap=True)
        self.header = self._xf(styles.add_font(bold=True, rgb="FFFFFFFF"),
                               styles.add_fill("FF1F4E78"))
        link_font = styles.add_font(rgb="FF0563C1", underline=True)
        self.body = {quote: self._xf(wrap=True, top=True, quote=quote) for quote in (False, True)}
        self.link = {quote: self._xf(link_font, wrap=True, top=True, quote=quote)
                     for quote in (False, True)}

    def _xf(self, font: int = 0, fill: int = 0, wrap: bool = False, top: bool = False,
            quote: bool = False) -> str:
        attrs = f'numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
        attrs += ' applyFont="1"' if font else ""
        attrs += ' applyFill="1"' if fill else ""
        # A text starting with = + - @ stays a text when the porteur edits it.
        attrs += ' quotePrefix="1"' if quote else ""
        if not (wrap or top):
            return str(self.styles.add_xf(f"<xf {attrs}/>".encode()))
        alignment = ('wrapText="1"' if wrap else "") + (' vertical="top"' if top else "")
        return str(self.styles.add_xf(
            f'<xf {attrs} applyAlignment="1"><alignment {alignment.strip()}/></xf>'.encode()))


def _summary_xml(findings: list[Finding], nom: str, styles: StylesXml) -> bytes:
    """The worksheet « À corriger »: what to fix, one finding a row, a link to each
    faulty cell; printed landscape on A4, one page wide, its header row repeated."""
    s = _SummaryStyles(styles, _blocking(findings))
    rows = [f'<row r="1">{cell_xml("A1", s.title, _title(findings))}</row>',
            f'<row r="2" ht="45" customHeight="1">{cell_xml("A2", s.intro, _intro(nom))}</row>',
            '<row r="4">' + "".join(cell_xml(f"{col}4", s.header, text)
                                    for col, text in zip("ABCDE", HEADERS, strict=True))
            + "</row>"]
    links = []
    for number, f in enumerate(_ordered(findings), start=5):
        linked = bool(f.sheet and f.cell)
        cells = []
        for col, value in zip("ABCDE", _values(f), strict=True):
            quote = looks_like_formula(clean_text(value))
            style = s.link[quote] if col == "B" and linked else s.body[quote]
            cells.append(cell_xml(f"{col}{number}", style, value))
        height = min(ROW_HEIGHT_MAX, 15 * _lines(f))
        rows.append(f'<row r="{number}" ht="{height}" customHeight="1">{"".join(cells)}</row>')
        if linked:
            place = clean_text("'" + f.sheet.replace("'", "''") + "'!" + f.cell)
            links.append(f'<hyperlink ref="B{number}" location={quoteattr(place)}/>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(WIDTHS, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="4" topLeftCell="A5" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A5" sqref="A5"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{cols}</cols><sheetData>{''.join(rows)}</sheetData>"
            '<mergeCells count="1"><mergeCell ref="A2:E2"/></mergeCells>'
            + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
            + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
              'footer="0.3"/>'
              '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
              "</worksheet>").encode("utf-8")


# --- the openpyxl way (a structure the XML way does not expect) -------------------------
def _annotate_openpyxl(data: bytes, findings: list[Finding], target: Path, nom: str) -> Path:
    wb = load_workbook(io.BytesIO(data))
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, cell), items in by_cell.items():
        c = wb[sheet][cell]
        c.fill = _RED if _blocking(items) else _ORANGE
        c.comment = Comment(_note(items), AUTHOR, width=NOTE_WIDTH, height=NOTE_HEIGHT)
    ws = wb.create_sheet(SHEET, 0)
    _summary(ws, findings, nom)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    return save_workbook_atomic(wb, target)


def _summary(ws, findings: list[Finding], nom: str) -> None:
    ws["A1"] = _title(findings)
    ws["A1"].font = Font(bold=True, size=14, color="C00000" if _blocking(findings) else "9C5700")
    set_text(ws["A2"], _intro(nom))
    ws["A2"].alignment = Alignment(wrap_text=True)
    ws.merge_cells("A2:E2")
    ws.row_dimensions[2].height = 45
    ws.append([])
    ws.append(HEADERS)
    for cell in ws[4]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
    for f in _ordered(findings):
        row = ws.max_row + 1
        for col, value in enumerate(_values(f), start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * _lines(f)
        if f.sheet and f.cell:
            link = ws.cell(row=row, column=2)
            link.hyperlink = f"#'{f.sheet}'!{f.cell}"
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDE", WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
