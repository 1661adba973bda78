"""The COPIL pack: per pilier and revue, a workbook to print (and its PDF) for the comité
de pilotage (issue « A COPIL pack people can read »).

A cover sheet (contract, pilier, revue, date, responsable and its view, contents, the
orientations, the decisions open at pilier or orientation level, a legend), then ONE
SHEET PER OBJECTIF STRATÉGIQUE — a sheet starts a new page, so every objectif
stratégique has its own A4 page(s): its pilote and traffic light, the avancement of its
objectifs opérationnels, key figures, indicator trends, the pilote's synthesis,
difficulties and proposals, its open decisions.

Print rules: A4 portrait, one page wide, print area set, no font under 8 pt, long texts
wrapped with row heights computed from their length (a very long text goes on several
rows), nothing cut. A blank is « non renseigné », in grey, never red. No chart: the
figures are written, so every label is there in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.consolidation.aggregate import (
    NON_RENSEIGNE,
    RETOUR_MANQUANT,
    Ligne,
    annees_series,
    debut_contrat,
    decisions_ouvertes,
    lignes_pilier,
    tendance,
)
from cv_excel.consolidation.dashboard import en_retard
from cv_excel.consolidation.mise_en_page import (
    GRIS,
    GRIS_FOND,
    chunks,
    font,
    height_for,
    line_count,
    rag_style,
)
from cv_excel.listes import PANIER
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import DecisionSuivie, DonneesAnnee
from cv_excel.text import sheet_title
from cv_excel.xlsxio import save_workbook_atomic, set_text

GRID = 14  # columns of every sheet; blocks span several of them
GRID_WIDTH = 5.25  # 14 × 5.25 units: an A4 portrait page at 100 % even when LibreOffice
# replaces Calibri by the wider DejaVu Sans (its column unit is then ~7 pt, not ~5.3)
BODY = 9  # points
SMALL = 8  # the smallest size used anywhere
_MONEY = '#,##0 "€"'
_NUMBER = "#,##0.##"
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = "D9E1F2"  # light fill, dark text
_TITLE_COLOR = "1F4E78"
_SECTION_FILL = "1F4E78"
COUVERTURE = "Couverture"
MAX_ANNEES = 4  # indicator years shown on a page (the tableau de bord has them all)
LEGENDE = (
    ("Case vide ou « non renseigné »", "information non transmise : ce n'est jamais un "
     "mauvais résultat, elle n'est pas colorée en rouge."),
    ("« retour manquant »", "le pilote ou le coordonnateur n'a pas rendu sa synthèse pour "
     "cette revue ; les niveaux en dessous restent affichés."),
    ("Feu tricolore", "donné par le pilote (objectif stratégique) ou le coordonnateur "
     "(orientation) : Vert = dans la trajectoire, Orange = à surveiller, Rouge = à "
     "corriger."),
    ("Score moyen", "indicateur de résultat unique des actions, échelle EPT 0-100, moyenne "
     "des bilans notés."),
    ("Tendance", "dernière valeur de l'indicateur comparée à la précédente (ou à la valeur "
     "de référence) ; écart de moins de 1 % : stable."),
    ("(à confirmer)", "valeur déduite par le projet, à confirmer par la Direction."),
)


def pack_name(annee: int, revue: int | None, pilier: str) -> str:
    quand = f"{annee} revue {revue}" if revue is not None else str(annee)
    return f"Pack COPIL {quand} - Pilier {pilier}.xlsx"


def _num(value: Any) -> Any:
    return NON_RENSEIGNE if value is None or value == "" else value


# The printable height of an A4 portrait page with these margins, in points, less a
# safety margin: row heights are all set here, so the page breaks can be foreseen.
PAGE_HEIGHT = 842 - 2 * 0.6 * 72 - 15


@dataclass
class _Page:
    """Writes blocks one under the other on a grid of :data:`GRID` columns; a section
    whose title would end a page alone starts the next page."""

    ws: Worksheet
    row: int = 1
    used: float = 0  # height already used on the current printed page

    def __post_init__(self) -> None:
        for col in range(1, GRID + 1):
            self.ws.column_dimensions[get_column_letter(col)].width = GRID_WIDTH
        self.ws.sheet_view.showGridLines = False

    # --- cells -----------------------------------------------------------------------------
    def _cell(self, col: int, span: int, value: Any, size: float = BODY, bold: bool = False,
              italic: bool = False, color: str = "000000", fill: str | None = None,
              border: bool = False, fmt: str | None = None, align: str = "left",
              blank: str = NON_RENSEIGNE):
        """``blank``: what an empty value shows (« non renseigné »; in narrow number
        columns nothing, which the legend reads the same)."""
        if span > 1:
            self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row,
                                end_column=col + span - 1)
        if value is None or value == "":
            value, italic, color = (blank or None), True, GRIS
        cell = set_text(self.ws.cell(row=self.row, column=col), value)
        cell.font = font(size, bold=bold, italic=italic, color=color)
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal=align)
        if fmt and isinstance(value, (int, float, Decimal)):
            cell.number_format = fmt
        for c in range(col, col + span):
            target = self.ws.cell(row=self.row, column=c)
            if fill:
                target.fill = PatternFill("solid", fgColor=fill)
            if border:
                target.border = _BORDER
        return cell

    def _height(self, cells: Sequence[tuple[Any, int, float]], minimum: float = 0) -> None:
        height = max([height_for(line_count(v, span * GRID_WIDTH, size), size)
                      for v, span, size in cells] + [minimum])
        self.ws.row_dimensions[self.row].height = height
        if self.used + height > PAGE_HEIGHT:  # this row starts a new page
            self.used = 0
        self.used += height

    def skip(self, rows: int = 1) -> None:
        for _ in range(rows):
            self._height([], minimum=8)
            self.row += 1

    def keep_with_next(self, needed: float) -> None:
        """Start a new page here unless ``needed`` points still fit on this one."""
        if self.used and self.used + needed > PAGE_HEIGHT:
            self.ws.row_breaks.append(Break(id=self.row - 1))
            self.used = 0

    # --- blocks ----------------------------------------------------------------------------
    def line(self, text: str, size: float = BODY, bold: bool = False, italic: bool = False,
             color: str = "000000") -> None:
        """One text across the page (cut into several rows when very long)."""
        for piece in chunks(text, GRID * GRID_WIDTH, size):
            self._cell(1, GRID, piece, size, bold, italic, color)
            self._height([(piece, GRID, size)])
            self.row += 1

    def section(self, text: str, keep: float = 70) -> None:
        """A section title, kept on the same page as ``keep`` points of what follows."""
        self.keep_with_next(8 + height_for(1, 11) + keep)
        self.skip()
        self._cell(1, GRID, text, 11, bold=True, color="FFFFFF", fill=_SECTION_FILL)
        self._height([(text, GRID, 11)])
        self.row += 1

    def paragraph(self, text: str | None, missing: str = NON_RENSEIGNE) -> None:
        if not text:
            self._cell(1, GRID, missing, BODY, italic=True, color=GRIS, border=True)
            self._height([(missing, GRID, BODY)])
            self.row += 1
            return
        for piece in chunks(text, GRID * GRID_WIDTH, BODY):
            self._cell(1, GRID, piece, BODY, border=True)
            self._height([(piece, GRID, BODY)])
            self.row += 1

    def pairs(self, items: Sequence[tuple[str, Any, str | None]], label_span: int = 4,
              value_span: int = 3) -> list[Any]:
        """Label / value pairs, two per row; returns the value cells."""
        out = []
        per_row = GRID // (label_span + value_span)
        for start in range(0, len(items), per_row):
            cells = []
            col = 1
            for label, value, fmt in items[start:start + per_row]:
                self._cell(col, label_span, label, BODY, bold=True, fill=_HEAD_FILL,
                           border=True)
                out.append(self._cell(col + label_span, value_span, value, BODY,
                                      border=True, fmt=fmt, align="left"))
                cells += [(label, label_span, BODY), (value, value_span, BODY)]
                col += label_span + value_span
            self._height(cells)
            self.row += 1
        return out

    def table(self, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[Any]],
              formats: Sequence[str | None] | None = None,
              greyed: Sequence[bool] | None = None,
              blanks: Sequence[str] | None = None) -> list[list[Any]]:
        """A header and its rows, each column spanning its grid columns; returns the cells."""
        assert sum(span for _, span in columns) == GRID
        col = 1
        for label, span in columns:
            self._cell(col, span, label, BODY, bold=True, fill=_HEAD_FILL, border=True,
                       align="center")
            col += span
        self._height([(label, span, BODY) for label, span in columns])
        self.row += 1
        out = []
        for i, values in enumerate(rows):
            grey = bool(greyed and greyed[i])
            col, cells = 1, []
            for j, ((_, span), value) in enumerate(zip(columns, values, strict=True)):
                fmt = formats[j] if formats else None
                cells.append(self._cell(col, span, value, BODY, border=True, fmt=fmt,
                                        italic=grey, color=GRIS if grey else "000000",
                                        fill=GRIS_FOND if grey else None,
                                        blank=blanks[j] if blanks else NON_RENSEIGNE))
                col += span
            self._height([(v, span, BODY) for (_, span), v in zip(columns, values,
                                                                  strict=True)])
            out.append(cells)
            self.row += 1
        return out

    def finish(self, footer: str) -> None:
        ws = self.ws
        ws.print_area = f"A1:{get_column_letter(GRID)}{max(self.row - 1, 1)}"
        ws.page_setup.orientation = "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.center.text = f"{footer} — page &P / &N"
        ws.oddFooter.center.size = SMALL
        ws.print_options.horizontalCentered = True


def _decisions_table(page: _Page, decisions: list[DecisionSuivie], today: dt.date,
                     ref: Referentiel) -> None:
    if not decisions:
        page.paragraph(None, "Aucune décision ouverte.")
        return
    cells = page.table(
        [("Numéro", 2), ("Code", 1), ("Décision", 5), ("Responsable", 2), ("Échéance", 2),
         ("Statut", 2)],
        [[d.numero, d.code, d.decision, d.responsable,
          d.echeance.strftime("%d/%m/%Y") + (" (en retard)" if en_retard(d, today) else "")
          if d.echeance else None, d.statut] for d in decisions])
    for d, row in zip(decisions, cells, strict=True):
        if en_retard(d, today):
            row[4].fill = PatternFill("solid", fgColor="FFC7CE")
            row[4].font = font(BODY, bold=True, color="9C0006")


def _rag_line(page: _Page, line: Ligne, revue: int | None) -> None:
    syn = line.synthese
    rag = syn.rag if syn else (RETOUR_MANQUANT if line.manquant else None)
    avancement = syn.avancement if syn else (RETOUR_MANQUANT if line.manquant else None)
    cells = page.pairs([("Feu tricolore", rag or NON_RENSEIGNE, None),
                        ("Avancement", avancement, None)])
    rag_style(cells[0], rag)
    if avancement == RETOUR_MANQUANT:
        rag_style(cells[1], RETOUR_MANQUANT)


def _strategique(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel, lines: list[Ligne],
                 i: int, orientation: Ligne, pilier: Ligne, revue_libelle: str,
                 today: dt.date, footer: str) -> None:
    line = lines[i]
    oos = []
    for below in lines[i + 1:]:
        if below.niveau <= 2:
            break
        oos.append(below)
    page = _Page(ws)
    page.line(f"Objectif stratégique {line.code}", 16, bold=True, color=_TITLE_COLOR)
    page.line(line.titre, 12, bold=True)
    page.line(f"Pilier {pilier.code} : {pilier.titre} — orientation {orientation.code} : "
              f"{orientation.titre}", BODY, italic=True, color="404040")
    page.line(f"{revue_libelle} — {ref.contrat.libelle}", BODY, italic=True, color="404040")
    page.skip()
    page.pairs([("Pilote", line.responsable, None)], label_span=4, value_span=10)
    _rag_line(page, line, donnees.revue)
    missing = RETOUR_MANQUANT + " (synthèse du pilote non rendue)" if line.manquant else \
        NON_RENSEIGNE
    syn = line.synthese

    page.section("Synthèse du pilote")
    page.paragraph(syn.synthese if syn else None, missing)

    page.section("Avancement des objectifs opérationnels")
    rows = []
    for oo in oos:
        avancement = RETOUR_MANQUANT if oo.manquant else " ; ".join(
            s.avancement for s in oo.suivis if s.avancement) or None
        rows.append([oo.code, oo.titre, oo.responsable, avancement, oo.chiffres.actions,
                     oo.chiffres.score_moyen])
    cells = page.table([("Code", 1), ("Objectif opérationnel", 4), ("Référent(s)", 3),
                        ("Avancement", 2), ("Actions", 2), ("Score moyen", 2)], rows,
                       formats=[None, None, None, None, "0", "0.0"])
    for row, values in zip(cells, rows, strict=True):
        if values[3] == RETOUR_MANQUANT:
            rag_style(row[3], RETOUR_MANQUANT)

    page.section("Chiffres clés")
    c = line.chiffres
    page.pairs([
        ("Actions programmées", c.actions, "0"), ("Réalisées", c.realisees, "0"),
        ("Partiellement réalisées", c.partielles, "0"), ("En cours", c.en_cours, "0"),
        ("Reportées", c.reportees, "0"), ("Non réalisées", c.non_realisees, "0"),
        ("Sans bilan", c.sans_retour, "0"),
        ("Score moyen (0-100)", c.score_moyen, "0.0"),
        ("Bénéficiaires", c.benef_total, "#,##0"),
        ("Montant accordé", c.total_accorde, _MONEY),
    ])

    page.section("Indicateurs : valeurs et tendances")
    codes = [oo.code for oo in oos]
    series = [s for s in donnees.series if s.code in codes]
    series.sort(key=lambda s: (codes.index(s.code), s.libelle))
    if not series:
        page.paragraph(None, "Aucune valeur d'indicateur déclarée par les référents.")
    else:
        years = annees_series(donnees.series, donnees.annee,
                              debut_contrat(ref))[-MAX_ANNEES:]
        label_span = GRID - 1 - 2 - len(years) - 1 - 2
        columns = [("Code", 1), ("Indicateur", label_span), ("Unité", 2),
                   *((str(y), 1) for y in years), ("Cible", 1), ("Tendance", 2)]
        page.table(columns, [
            [s.code, s.libelle + (" (abandonné)" if s.panier == PANIER[1] else "")
             + (" (nouveau)" if s.propose else ""), s.unite,
             *(s.valeurs.get(y) for y in years), s.valeur_cible, tendance(s, donnees.annee)]
            for s in series],
            formats=[None, None, None, *(_NUMBER for _ in years), _NUMBER, None],
            greyed=[s.panier == PANIER[1] for s in series],
            blanks=[NON_RENSEIGNE, NON_RENSEIGNE, "", *("" for _ in years), "",
                    NON_RENSEIGNE])

    page.section("Difficultés")
    page.paragraph(syn.difficultes if syn else None, missing)
    page.section("Propositions d'arbitrage et actions correctrices")
    page.paragraph(syn.propositions if syn else None, missing)
    page.section("Décisions ouvertes")
    _decisions_table(page, decisions_ouvertes(donnees, {line.code, *codes}), today, ref)
    page.finish(footer)


def _couverture(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel, lines: list[Ligne],
                sheets: dict[str, str], revue_libelle: str, now: dt.datetime,
                footer: str) -> None:
    pilier = lines[0]
    page = _Page(ws)
    page.line(ref.contrat.libelle, 12, bold=True, color="404040")
    page.skip()
    page.line("Comité de pilotage — pack de la revue", 14, bold=True, color=_TITLE_COLOR)
    page.line(f"Pilier {pilier.code} : {pilier.titre}", 18, bold=True, color=_TITLE_COLOR)
    page.line(revue_libelle, 12, bold=True)
    page.skip()
    page.pairs([("Responsable du pilier", pilier.responsable, None),
                ("Édité le", now.strftime("%d/%m/%Y"), None)], label_span=4, value_span=10)
    if pilier.vue is not None:
        page.pairs([("Vue du responsable", pilier.vue.texte, None)], label_span=4,
                   value_span=10)

    page.section("Sommaire : une page par objectif stratégique")
    strategiques = [x for x in lines if x.niveau == 2]
    rows = [[sheets[x.code], x.code, x.titre, x.responsable,
             x.rag or (RETOUR_MANQUANT if x.manquant else None)] for x in strategiques]
    cells = page.table([("Feuille", 2), ("Code", 1), ("Intitulé", 6), ("Pilote", 3),
                        ("Feu", 2)], rows)
    for row, x in zip(cells, strategiques, strict=True):
        row[0].hyperlink = f"#'{sheets[x.code]}'!A1"
        rag_style(row[4], x.rag or (RETOUR_MANQUANT if x.manquant else None))

    page.section("Orientations (synthèse des coordonnateurs)")
    orientations = [x for x in lines if x.niveau == 1]
    rows = [[x.code, x.titre, x.responsable, x.rag or (RETOUR_MANQUANT if x.manquant
                                                       else None),
             x.synthese.avancement if x.synthese else None] for x in orientations]
    cells = page.table([("Code", 1), ("Intitulé", 6), ("Coordonnateur", 3), ("Feu", 2),
                        ("Avancement", 2)], rows)
    for row, x in zip(cells, orientations, strict=True):
        rag_style(row[3], x.rag or (RETOUR_MANQUANT if x.manquant else None))
    for x in orientations:
        if x.synthese and x.synthese.synthese:
            page.line(f"{x.code} — synthèse du coordonnateur", BODY, bold=True)
            page.paragraph(x.synthese.synthese)

    page.section("Décisions ouvertes du pilier et des orientations")
    codes = {pilier.code, *(x.code for x in orientations)}
    _decisions_table(page, decisions_ouvertes(donnees, codes, pilier=pilier.code),
                     now.date(), ref)

    page.section("Légende")
    for label, text in LEGENDE:
        page.pairs([(label, text, None)], label_span=4, value_span=10)
    page.finish(footer)


def write_pack_copil(donnees: DonneesAnnee, ref: Referentiel, pilier_code: str, path: Path,
                     *, revue_libelle: str, now: dt.datetime) -> Path:
    """The COPIL pack of one pilier: a cover sheet, then one sheet (one or more printed
    A4 pages) per objectif stratégique. ``revue_libelle``: « Revue 2 (15/06/2019) »."""
    lines = lignes_pilier(ref, donnees, pilier_code)
    pilier = lines[0]
    footer = f"Pack COPIL {donnees.annee} — pilier {pilier.code}"
    wb = Workbook()
    cover = wb.active
    cover.title = COUVERTURE
    sheets: dict[str, str] = {}
    orientation = pilier
    for i, line in enumerate(lines):
        if line.niveau == 1:
            orientation = line
        if line.niveau != 2:
            continue
        name = sheet_title(f"OS {line.code}")
        sheets[line.code] = name
        _strategique(wb.create_sheet(name), donnees, ref, lines, i, orientation, pilier,
                     revue_libelle, now.date(), f"{footer} — {revue_libelle}")
    _couverture(cover, donnees, ref, lines, sheets, revue_libelle, now,
                f"{footer} — {revue_libelle}")
    return save_workbook_atomic(wb, path)


def pdf_pack(paths: list[Path], outdir: Path) -> list[Path]:
    """The PDFs of the packs, in one LibreOffice run
    (:class:`~cv_excel.office.LibreOfficeAbsent` when it is not installed)."""
    from cv_excel.office import convert_many

    return convert_many(list(paths), outdir)
