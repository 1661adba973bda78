"""The tableaux de bord par pilier (governance §1.2.2 and §2.1 of the contract).

One workbook: a « Synthèse » sheet, one sheet per pilier climbing the chain
référent → pilote → coordonnateur → responsable, and the list of the returns
included. Traffic lights (conditional formats) on the mean score and on the
missing returns, native Excel charts, outline levels to fold the tree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.consolidation.aggregate import Ligne, lignes_pilier, synthese
from cv_excel.consolidation.physico_financier import (
    SuiviPhysicoFinancier,
    Totaux,
    suivi_physico_financier,
)
from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import DonneesAnnee, SuiviObjectif
from cv_excel.text import sheet_title
from cv_excel.xlsxio import save_workbook_atomic, set_text

NIVEAUX = {0: "Pilier", 1: "Orientation", 2: "Objectif stratégique", 3: "Objectif opérationnel"}
ROLES = {0: "Responsable", 1: "Coordonnateur", 2: "Pilote", 3: "Référent(s)"}
_FILLS = {0: "1F4E78", 1: "2E75B6", 2: "BDD7EE", 3: None}
_FONT_WHITE = {0, 1}
_MONEY = '#,##0 "€"'
_THIN = Side(style="thin", color="BFBFBF")
HEADER_ROW = 5

COLUMNS: tuple[tuple[str, int], ...] = (
    ("Niveau", 19), ("Code", 8), ("Intitulé", 42), ("Responsable de niveau", 28),
    ("Actions programmées", 11), ("Réalisées", 10), ("Partielles", 10),
    ("Non réalisées", 10), ("Sans retour", 10), ("Score moyen (0-100)", 11),
    *((f"Notes {p}", 8) for p in PALIERS),
    ("Bénéficiaires", 12), ("dont femmes", 11), ("dont hommes", 11), ("dont QPV", 11),
    *((f"Accordé – {f.libelle}", 14) for f in FINANCEURS), ("Total accordé", 14),
    # Suivi physico-financier (its own workbook has the detail and the alerts).
    ("Total versé", 14), ("Dépensé (bilans)", 14), ("Solde versé − dépensé", 14),
    ("Alertes financières", 10),
    ("Avancement (référent)", 16), ("Principaux résultats", 45), ("Difficultés", 45),
    ("Propositions d'arbitrage et actions correctrices", 45),
)
COL = {name: i for i, (name, _) in enumerate(COLUMNS, start=1)}


def _texts(suivis: list[SuiviObjectif], attr: str, labels: dict[str, str]) -> str:
    parts = [(labels.get(s.referent_id, s.referent_id), getattr(s, attr)) for s in suivis]
    parts = [(who, text) for who, text in parts if text]
    if len(parts) == 1:
        return parts[0][1]
    return "\n".join(f"{who} : {text}" for who, text in parts)


def _row_values(line: Ligne, labels: dict[str, str], money: Totaux) -> list[Any]:
    c = line.chiffres
    return [
        NIVEAUX[line.niveau], line.code, line.titre, line.responsable, c.actions, c.realisees,
        c.partielles, c.non_realisees, c.sans_retour, c.score_moyen,
        *(c.notes.get(p, 0) for p in PALIERS),
        c.benef_total, c.benef_femmes, c.benef_hommes, c.benef_qpv,
        *(c.accorde[f.key] for f in FINANCEURS), c.total_accorde,
        money.verse, money.depense, money.solde, money.alertes,
        _texts(line.suivis, "avancement", labels), _texts(line.suivis, "resultats", labels),
        _texts(line.suivis, "difficultes", labels), _texts(line.suivis, "propositions", labels),
    ]


def _header(ws: Worksheet, title: str, donnees: DonneesAnnee, built: dt.datetime) -> None:
    set_text(ws["A1"], title)
    ws["A1"].font = Font(bold=True, size=14, color="1F4E78")
    included = [s for s in donnees.submissions if s.courante]
    porteurs = sum(1 for s in included if s.type == "porteur")
    referents = sum(1 for s in included if s.type == "referent")
    last = max((s.recu_le for s in included), default="—")
    ws["A2"] = (f"Année {donnees.annee} — construit le {built:%d/%m/%Y à %H:%M} — retours "
                f"inclus : {porteurs} bilan(s) porteur et {referents} suivi(s) référent "
                f"acceptés (dernière réception : {last}) ; {len(donnees.bilans)} action(s) "
                f"sur {len(donnees.actions)} ont un bilan.")
    ws["A3"] = ("Lecture : score moyen sur l'échelle EPT 0-100 (vert ≥ 70, orange 40-69, "
                "rouge < 40) ; « sans retour » = action programmée sans bilan accepté ; "
                "« dépensé » = subvention utilisée d'après les bilans acceptés, détail et "
                f"alertes dans « Suivi physico-financier {donnees.annee} ».")
    ws["A3"].font = Font(italic=True, color="595959")


def _money(lines: list[Ligne], per_oo: dict[str, Totaux]) -> list[Totaux]:
    """The physico-financier sums of each line: an objectif opérationnel's own, and for
    every other line those of the objectifs opérationnels listed below it."""
    out = []
    for i, line in enumerate(lines):
        t = Totaux()
        if line.niveau == 3:
            t.merge(per_oo.get(line.code, Totaux()))
        for below in lines[i + 1:]:
            if below.niveau <= line.niveau:
                break
            if below.niveau == 3:
                t.merge(per_oo.get(below.code, Totaux()))
        out.append(t)
    return out


def _table(ws: Worksheet, lines: list[Ligne], labels: dict[str, str],
           money: list[Totaux]) -> tuple[int, int]:
    for col, (name, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="404040")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[HEADER_ROW].height = 45
    first = HEADER_ROW + 1
    for r, (line, sums) in enumerate(zip(lines, money, strict=True), start=first):
        for col, value in enumerate(_row_values(line, labels, sums), start=1):
            cell = set_text(ws.cell(row=r, column=col), value)
            cell.border = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
            cell.alignment = Alignment(wrap_text=col in (3, 4) or col >= COL["Avancement "
                                       "(référent)"], vertical="top")
            if (isinstance(value, (int, float, Decimal)) and col != COL["Alertes financières"]
                    and col >= COL["Accordé – État (BOP 147)"]):
                cell.number_format = _MONEY
            fill = _FILLS.get(line.niveau)
            if fill:
                cell.fill = PatternFill("solid", fgColor=fill)
                cell.font = Font(bold=line.niveau < 3,
                                 color="FFFFFF" if line.niveau in _FONT_WHITE else "000000")
        if line.niveau >= 2:
            ws.row_dimensions[r].outlineLevel = line.niveau - 1
        ws.row_dimensions[r].height = 15 * max(
            -(-len(line.titre) // 40), -(-len(line.responsable) // 26), 1)
    last = first + len(lines) - 1
    ws.freeze_panes = ws.cell(row=first, column=COL["Responsable de niveau"])
    _traffic_lights(ws, first, last)
    return first, last


def _traffic_lights(ws: Worksheet, first: int, last: int) -> None:
    score = get_column_letter(COL["Score moyen (0-100)"])
    rng = f"{score}{first}:{score}{last}"
    ws.conditional_formatting.add(rng, CellIsRule(operator="greaterThanOrEqual",
                                                  formula=["70"], fill=PatternFill(
                                                      "solid", fgColor="C6EFCE")))
    ws.conditional_formatting.add(rng, CellIsRule(operator="between", formula=["40", "69.99"],
                                                  fill=PatternFill("solid", fgColor="FFEB9C")))
    ws.conditional_formatting.add(rng, CellIsRule(operator="lessThan", formula=["40"],
                                                  fill=PatternFill("solid", fgColor="FFC7CE")))
    for name in ("Sans retour", "Alertes financières"):
        letter = get_column_letter(COL[name])
        ws.conditional_formatting.add(f"{letter}{first}:{letter}{last}", CellIsRule(
            operator="greaterThan", formula=["0"], fill=PatternFill("solid", fgColor="FFEB9C")))


def _bar(title: str, ws: Worksheet, cats_col: int, cols: list[int], rows: list[int],
         stacked: bool = False, y_title: str = "") -> BarChart:
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.y_axis.title = y_title
    chart.height, chart.width = 9, 18
    chart.visible_cells_only = False  # its data sit in hidden helper columns
    if stacked:
        chart.grouping, chart.overlap = "stacked", 100
    # Charts read contiguous ranges: the chosen rows are copied into a hidden block.
    cats = _helper_block(ws, cats_col, cols, rows)
    chart.add_data(cats[1], titles_from_data=True)
    chart.set_categories(cats[0])
    return chart


def _helper_block(ws: Worksheet, cats_col: int, cols: list[int], rows: list[int]
                  ) -> tuple[Reference, Reference]:
    """Copy categories and series of ``rows`` into a contiguous block to the right."""
    origin = len(COLUMNS) + 3
    while ws.cell(row=HEADER_ROW, column=origin).value is not None:
        origin += len(cols) + 2
    ws.cell(row=HEADER_ROW, column=origin, value="Graphique")
    for j, col in enumerate(cols, start=1):
        ws.cell(row=HEADER_ROW, column=origin + j,
                value=ws.cell(row=HEADER_ROW, column=col).value)
    for i, r in enumerate(rows, start=1):
        ws.cell(row=HEADER_ROW + i, column=origin, value=ws.cell(row=r, column=cats_col).value)
        for j, col in enumerate(cols, start=1):
            ws.cell(row=HEADER_ROW + i, column=origin + j,
                    value=ws.cell(row=r, column=col).value or 0)
    for c in range(origin, origin + len(cols) + 1):
        ws.column_dimensions[get_column_letter(c)].hidden = True
    cats = Reference(ws, min_col=origin, min_row=HEADER_ROW + 1,
                     max_row=HEADER_ROW + len(rows))
    data = Reference(ws, min_col=origin + 1, max_col=origin + len(cols), min_row=HEADER_ROW,
                     max_row=HEADER_ROW + len(rows))
    return cats, data


def _charts(ws: Worksheet, lines: list[Ligne], first: int, anchor_row: int) -> None:
    rows_oo = [first + i for i, line in enumerate(lines) if line.niveau == 3]
    rows_os = [first + i for i, line in enumerate(lines) if line.niveau == 2]
    score = _bar("Score moyen par objectif opérationnel (0-100)", ws, COL["Code"],
                 [COL["Score moyen (0-100)"]], rows_oo)
    score.y_axis.scaling.min, score.y_axis.scaling.max = 0, 100
    ws.add_chart(score, f"C{anchor_row}")
    real = _bar("Réalisation des actions par objectif stratégique", ws, COL["Code"],
                [COL["Réalisées"], COL["Partielles"], COL["Non réalisées"], COL["Sans retour"]],
                rows_os, stacked=True)
    ws.add_chart(real, f"H{anchor_row}")


def _retours(ws: Worksheet, donnees: DonneesAnnee) -> None:
    headers = ("Fichier", "Type", "Destinataire", "Reçu le", "Statut", "En vigueur")
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="404040")
    for s in sorted(donnees.submissions, key=lambda s: s.recu_le):
        row = ws.max_row + 1
        for col, value in enumerate((s.nom, "Porteur" if s.type == "porteur" else "Référent"
                                     if s.type == "referent" else s.type, s.destinataire,
                                     s.recu_le, s.statut, "oui" if s.courante else "non"),
                                    start=1):
            set_text(ws.cell(row=row, column=col), value)
    for letter, width in zip("ABCDEF", (60, 10, 40, 20, 26, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _print_setup(ws: Worksheet) -> None:
    """A3 landscape, one page wide: the COPIL prints the whole table with its charts."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def write_tableaux_de_bord(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                           built: dt.datetime | None = None,
                           suivi: SuiviPhysicoFinancier | None = None) -> Path:
    """The year's tableaux de bord: synthèse, one sheet per pilier, returns included."""
    built = built or dt.datetime.now().astimezone()
    suivi = suivi or suivi_physico_financier(donnees, ref)
    per_oo = suivi.par_objectif()
    labels = {r.id: r.libelle for r in ref.referents}
    wb = Workbook()
    ws = wb.active
    ws.title = "Synthèse"
    _header(ws, f"Tableau de bord {donnees.annee} — {ref.contrat.libelle}", donnees, built)
    lines = synthese(ref, donnees)
    money = [suivi.par_pilier.get(p.code, Totaux()) for p in ref.piliers]
    total = Totaux()
    for t in money:
        total.merge(t)
    first, last = _table(ws, lines, labels, [*money, total])
    rows = list(range(first, last))  # the piliers, without the total line
    accorde = _bar("Montants accordés par pilier et financeur", ws, COL["Code"],
                   [COL[f"Accordé – {f.libelle}"] for f in FINANCEURS], rows, stacked=True)
    ws.add_chart(accorde, f"C{last + 3}")
    real = _bar("Réalisation des actions par pilier", ws, COL["Code"],
                [COL["Réalisées"], COL["Partielles"], COL["Non réalisées"], COL["Sans retour"]],
                rows, stacked=True)
    ws.add_chart(real, f"H{last + 3}")
    _print_setup(ws)
    for p in ref.piliers:
        sheet = wb.create_sheet(sheet_title(f"Pilier {p.code}"))
        _header(sheet, f"Tableau de bord {donnees.annee} — pilier {p.code} : {p.titre}",
                donnees, built)
        plines = lignes_pilier(ref, donnees, p.code)
        first, last = _table(sheet, plines, labels, _money(plines, per_oo))
        sheet.sheet_properties.outlinePr.summaryBelow = False
        _charts(sheet, plines, first, last + 3)
        _print_setup(sheet)
    _retours(wb.create_sheet("Retours inclus"), donnees)
    return save_workbook_atomic(wb, path)
