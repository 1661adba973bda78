"""The tableaux de bord par pilier (governance §1.2.2 and §2.1 of the contract).

One workbook per year, or per revue (« Revue n » in every title): a « Synthèse » sheet,
one sheet per pilier climbing the chain référent → pilote → coordonnateur → responsable,
each level with what it wrote (the référents' follow-up on objectif opérationnel rows,
the pilote's synthesis and traffic light on objectif stratégique rows, the
coordonnateur's on orientation rows, the responsable's view on the pilier row: the
traffic lights below it and the decisions still open), the open decisions of the pilier,
then « Décisions » (every decision and its follow-up), « Indicateurs » (the values year
by year and their trend) and the returns included.

Columns read left to right as a comité reads: who, the traffic light and the
avancement, the key figures, the texts, then the detail (notes, bénéficiaires, money).
The printed area stops after the texts; the detail stays on screen. Dark text on light
fills; a blank score is « non renseigné », never red.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.consolidation.aggregate import (
    NON_RENSEIGNE,
    RETOUR_MANQUANT,
    Ligne,
    annees_series,
    chiffres_par_objectif,
    debut_contrat,
    lignes_pilier,
    synthese,
    tendance,
)
from cv_excel.consolidation.mise_en_page import (
    GRIS,
    GRIS_FOND,
    font,
    height_for,
    line_count,
    rag_style,
)
from cv_excel.consolidation.physico_financier import (
    SuiviPhysicoFinancier,
    Totaux,
    suivi_physico_financier,
)
from cv_excel.consolidation.reporting import printable
from cv_excel.listes import FINANCEURS, PALIERS, PANIER
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import DecisionSuivie, DonneesAnnee, SuiviObjectif
from cv_excel.text import sheet_title
from cv_excel.xlsxio import save_workbook_atomic, set_text

NIVEAUX = {0: "Pilier", 1: "Orientation", 2: "Objectif stratégique", 3: "Objectif opérationnel"}
ROLES = {0: "Responsable", 1: "Coordonnateur", 2: "Pilote", 3: "Référent(s)"}
# Light fills, dark text: readable printed in black and white as on screen.
_FILLS = {0: "B4C6E7", 1: "D9E1F2", 2: "EEF3FA", 3: None}
_TEXT = "000000"
_HEAD_FILL = "404040"  # white bold text on dark grey: the only light-on-dark cells
_MONEY = '#,##0 "€"'
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_SIZE = 10
HEADER_ROW = 5
ABANDONNE = PANIER[1]

FEU = "Feu tricolore"
AVANCEMENT = "Avancement"
SYNTHESE = "Synthèse et principaux résultats"
DIFFICULTES = "Difficultés"
PROPOSITIONS = "Propositions d'arbitrage et actions correctrices"
SCORE = "Score moyen (0-100)"
STATUTS = ("Réalisées", "Partielles", "En cours", "Reportées", "Non réalisées", "Sans retour")

COLUMNS: tuple[tuple[str, int], ...] = (
    ("Niveau", 14), ("Code", 8), ("Intitulé", 36), ("Responsable de niveau", 22),
    (FEU, 11), (AVANCEMENT, 12),
    ("Actions programmées", 10), *((s, 9) for s in STATUTS), (SCORE, 10),
    ("Décisions ouvertes", 10),
    (SYNTHESE, 44), (DIFFICULTES, 36), (PROPOSITIONS, 36),
    # The detail, on screen (outside the printed area).
    *((f"Notes {p}", 8) for p in PALIERS),
    ("Bénéficiaires", 12), ("dont femmes", 11), ("dont hommes", 11), ("dont QPV", 11),
    *((f"Accordé – {f.libelle}", 14) for f in FINANCEURS), ("Total accordé", 14),
    # Suivi physico-financier (its own workbook has the detail and the alerts).
    ("Total versé", 14), ("Dépensé (bilans)", 14), ("Solde versé − dépensé", 14),
    ("Alertes financières", 10),
)
COL = {name: i for i, (name, _) in enumerate(COLUMNS, start=1)}
WIDTH = dict(COLUMNS)
LAST_PRINTED = COL[PROPOSITIONS]
_WRAPPED = {COL["Intitulé"], COL["Responsable de niveau"], COL[FEU], COL[AVANCEMENT],
            COL[SYNTHESE], COL[DIFFICULTES], COL[PROPOSITIONS]}
_TEXT_COLS = ("Intitulé", "Responsable de niveau", FEU, AVANCEMENT, SYNTHESE, DIFFICULTES,
              PROPOSITIONS)


def revue_texte(annee: int, revue: int | None) -> str:
    return f"{annee} — revue {revue}" if revue is not None else f"{annee} — suivi annuel"


def _texts(suivis: list[SuiviObjectif], attr: str, labels: dict[str, str]) -> str:
    parts = [(labels.get(s.referent_id, s.referent_id), getattr(s, attr)) for s in suivis]
    parts = [(who, text) for who, text in parts if text]
    if len(parts) == 1:
        return parts[0][1]
    return "\n".join(f"{who} : {text}" for who, text in parts)


def _level_texts(line: Ligne, labels: dict[str, str]) -> tuple[Any, Any, Any, Any, Any]:
    """Feu, avancement, synthèse, difficultés, propositions of one line, as its level wrote
    them; « retour manquant » where the level's return is expected and missing."""
    if line.niveau == 3:
        if line.manquant:
            return None, RETOUR_MANQUANT, None, None, None
        s = line.suivis
        return (None, _texts(s, "avancement", labels), _texts(s, "resultats", labels),
                _texts(s, "difficultes", labels), _texts(s, "propositions", labels))
    if line.niveau in (1, 2):
        if line.synthese is None:
            if not line.manquant:
                return None, None, None, None, None
            qui = "du pilote" if line.niveau == 2 else "du coordonnateur"
            return (RETOUR_MANQUANT, None, f"Retour {qui} manquant : les niveaux en dessous "
                    "restent affichés.", None, None)
        syn = line.synthese
        return (syn.rag or NON_RENSEIGNE, syn.avancement, syn.synthese, syn.difficultes,
                syn.propositions)
    if line.vue is not None:  # the pilier: the responsable's view
        return None, None, f"Vue du responsable — {line.vue.texte}", None, None
    return None, None, None, None, None


def _row_values(line: Ligne, labels: dict[str, str], money: Totaux) -> list[Any]:
    c = line.chiffres
    feu, avancement, syn, diff, prop = _level_texts(line, labels)
    ouvertes = line.vue.decisions_ouvertes if line.vue is not None else len(line.decisions)
    return [
        NIVEAUX[line.niveau], line.code, line.titre, line.responsable, feu, avancement,
        c.actions, c.realisees, c.partielles, c.en_cours, c.reportees, c.non_realisees,
        c.sans_retour, NON_RENSEIGNE if c.score_moyen is None else c.score_moyen, ouvertes,
        syn, diff, prop,
        *(c.notes.get(p, 0) for p in PALIERS),
        c.benef_total, c.benef_femmes, c.benef_hommes, c.benef_qpv,
        *(c.accorde[f.key] for f in FINANCEURS), c.total_accorde,
        money.verse, money.depense, money.solde, money.alertes,
    ]


def _header(ws: Worksheet, title: str, donnees: DonneesAnnee, built: dt.datetime) -> None:
    set_text(ws["A1"], title).font = font(14, bold=True, color="1F4E78")
    included = [s for s in donnees.submissions if s.courante
                and (donnees.revue is None or s.type == "porteur" or s.revue == donnees.revue)]
    count = {k: sum(1 for s in included if s.type == k)
             for k in ("porteur", "referent", "pilote", "coordonnateur", "decisions")}
    last = max((s.recu_le for s in included), default="—")
    cascade = ""
    if count["pilote"] or count["coordonnateur"] or count["decisions"]:
        cascade = (f", {count['pilote']} synthèse(s) pilote, {count['coordonnateur']} "
                   f"synthèse(s) coordonnateur et {count['decisions']} relevé(s) de décisions")
    quand = revue_texte(donnees.annee, donnees.revue).replace(" — ", ", ")
    set_text(ws["A2"], f"Année {quand} — construit le {built:%d/%m/%Y à %H:%M} — retours "
                       f"inclus : {count['porteur']} bilan(s) porteur, {count['referent']} "
                       f"suivi(s) référent{cascade} acceptés (dernière réception : {last}) ; "
                       f"{len(donnees.bilans)} action(s) sur {len(donnees.actions)} ont un "
                       "bilan.").font = font(_SIZE)
    set_text(ws["A3"], "Lecture : feu tricolore donné par le pilote (objectif stratégique) ou "
                       "le coordonnateur (orientation) ; score moyen sur l'échelle EPT 0-100 "
                       "(vert ≥ 70, orange 40-69, rouge < 40) ; case vide ou « non "
                       "renseigné » = information non transmise, jamais en rouge ; « sans "
                       "retour » = action programmée sans bilan accepté ; « dépensé » = "
                       "subvention utilisée d'après les bilans acceptés, détail et alertes "
                       f"dans « Suivi physico-financier {donnees.annee} »."
             ).font = font(_SIZE, italic=True, color="404040")


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


def _head_cells(ws: Worksheet, row: int, names: list[str], widths: list[float] | None = None
                ) -> None:
    for col, name in enumerate(names, start=1):
        cell = set_text(ws.cell(row=row, column=col), name)
        cell.font = font(_SIZE, bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=_HEAD_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = _BORDER
        if widths is not None:
            ws.column_dimensions[get_column_letter(col)].width = widths[col - 1]
    ws.row_dimensions[row].height = max(
        height_for(line_count(n, ws.column_dimensions[get_column_letter(c)].width or 10,
                              _SIZE), _SIZE) for c, n in enumerate(names, start=1))


def _table(ws: Worksheet, lines: list[Ligne], labels: dict[str, str],
           money: list[Totaux]) -> tuple[int, int]:
    _head_cells(ws, HEADER_ROW, [n for n, _ in COLUMNS], [w for _, w in COLUMNS])
    first = HEADER_ROW + 1
    for r, (line, sums) in enumerate(zip(lines, money, strict=True), start=first):
        values = _row_values(line, labels, sums)
        fill = _FILLS.get(line.niveau)
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=r, column=col), value)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=col in _WRAPPED, vertical="top")
            if (isinstance(value, (int, float, Decimal)) and col != COL["Alertes financières"]
                    and col >= COL[f"Accordé – {FINANCEURS[0].libelle}"]):
                cell.number_format = _MONEY
            cell.font = font(_SIZE, bold=line.niveau < 3, color=_TEXT)
            if fill:
                cell.fill = PatternFill("solid", fgColor=fill)
            if value == NON_RENSEIGNE and col == COL[SCORE]:
                cell.font = font(_SIZE, italic=True, color=GRIS)
            if col in (COL[FEU], COL[AVANCEMENT]) and value is not None and (
                    col == COL[FEU] or value == RETOUR_MANQUANT):
                rag_style(cell, value)
        if line.niveau >= 2:
            ws.row_dimensions[r].outlineLevel = line.niveau - 1
        texts = dict(zip((n for n, _ in COLUMNS), values, strict=True))
        ws.row_dimensions[r].height = max(
            height_for(line_count(texts[n], WIDTH[n], _SIZE), _SIZE) for n in _TEXT_COLS)
    last = first + len(lines) - 1
    ws.freeze_panes = ws.cell(row=first, column=COL["Responsable de niveau"])
    _traffic_lights(ws, first, last)
    return first, last


def _traffic_lights(ws: Worksheet, first: int, last: int) -> None:
    """The score's colours apply to numbers only: « non renseigné » stays grey."""
    score = get_column_letter(COL[SCORE])
    rng, x = f"{score}{first}:{score}{last}", f"{score}{first}"
    for test, fill, color in ((f"{x}>=70", "C6EFCE", "006100"),
                              (f"{x}>=40,{x}<70", "FFEB9C", "7F6000"),
                              (f"{x}<40", "FFC7CE", "9C0006")):
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f"AND(ISNUMBER({x}),{test})"], stopIfTrue=True,
            fill=PatternFill("solid", fgColor=fill, bgColor=fill), font=Font(color=color)))
    for name in ("Sans retour", "Alertes financières", "Décisions ouvertes"):
        letter = get_column_letter(COL[name])
        ws.conditional_formatting.add(f"{letter}{first}:{letter}{last}", CellIsRule(
            operator="greaterThan", formula=["0"], fill=PatternFill(
                "solid", fgColor="FFEB9C", bgColor="FFEB9C"), font=Font(color="7F6000")))


# --- charts ----------------------------------------------------------------------------------
def _axis_font(size: int = 9) -> RichText:
    props = CharacterProperties(sz=size * 100)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props,
                                 r=[])])


def _bar(title: str, ws: Worksheet, cats_col: int, cols: list[int], rows: list[int],
         stacked: bool = False, y_title: str = "") -> BarChart:
    """Horizontal bars, every category labelled (no label skipped), tall enough for all."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.y_axis.title = y_title
    chart.width = 18
    chart.height = max(7.5, 0.6 * len(rows) + 3.5)
    chart.visible_cells_only = False  # its data sit in hidden helper columns
    if stacked:
        chart.grouping, chart.overlap = "stacked", 100
    chart.x_axis.tickLblSkip = chart.x_axis.tickMarkSkip = 1
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.txPr = chart.y_axis.txPr = _axis_font()
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
            value = ws.cell(row=r, column=col).value
            ws.cell(row=HEADER_ROW + i, column=origin + j,
                    value=value if isinstance(value, (int, float, Decimal)) else None)
    for c in range(origin, origin + len(cols) + 1):
        ws.column_dimensions[get_column_letter(c)].hidden = True
    cats = Reference(ws, min_col=origin, min_row=HEADER_ROW + 1,
                     max_row=HEADER_ROW + len(rows))
    data = Reference(ws, min_col=origin + 1, max_col=origin + len(cols), min_row=HEADER_ROW,
                     max_row=HEADER_ROW + len(rows))
    return cats, data


def _chart_rows(chart: BarChart) -> int:
    return math.ceil(chart.height / 0.53) + 2  # rows of the default 15 pt height


def _place(ws: Worksheet, charts: list[BarChart], row: int) -> int:
    """Charts one under the other from ``row`` (column C); returns the row after them."""
    for chart in charts:
        ws.add_chart(chart, f"C{row}")
        row += _chart_rows(chart)
    return row


def _realisation(title: str, ws: Worksheet, rows: list[int]) -> BarChart:
    return _bar(title, ws, COL["Code"], [COL[s] for s in STATUTS], rows, stacked=True)


def _charts(ws: Worksheet, lines: list[Ligne], first: int, anchor_row: int) -> int:
    rows_oo = [first + i for i, line in enumerate(lines) if line.niveau == 3]
    rows_os = [first + i for i, line in enumerate(lines) if line.niveau == 2]
    score = _bar("Score moyen par objectif opérationnel (0-100, vide : non renseigné)", ws,
                 COL["Code"], [COL[SCORE]], rows_oo)
    score.y_axis.scaling.min, score.y_axis.scaling.max = 0, 100
    real = _realisation("Réalisation des actions par objectif stratégique", ws, rows_os)
    return _place(ws, [score, real], anchor_row)


# --- decisions -------------------------------------------------------------------------------
def niveau_of(ref: Referentiel, code: str) -> str:
    """« Objectif stratégique A11 »: the level a decision is about."""
    for niveau, items in ((0, ref.piliers), (1, ref.orientations),
                          (2, ref.objectifs_strategiques), (3, ref.objectifs_operationnels)):
        if any(i.code == code for i in items):
            return f"{NIVEAUX[niveau]} {code}"
    return code


def en_retard(d: DecisionSuivie, today: dt.date) -> bool:
    return d.ouverte and d.echeance is not None and d.echeance < today


def _decisions_block(ws: Worksheet, row: int, decisions: list[DecisionSuivie],
                     ref: Referentiel, today: dt.date) -> int:
    """The pilier's open decisions under its table: they come back at every revue until
    they are closed. Returns the row after the block."""
    title = set_text(ws.cell(row=row, column=1),
                     f"Décisions ouvertes du pilier ({len(decisions)}) : elles reviennent à "
                     "chaque revue jusqu'à leur clôture.")
    title.font = font(12, bold=True, color="1F4E78")
    row += 1
    if not decisions:
        set_text(ws.cell(row=row, column=1), "Aucune décision ouverte.").font = font(_SIZE)
        return row + 2
    names = ["Numéro", "Code", "Décision", "Responsable", "Échéance", "Statut",
             "Ouverte à la revue"]
    _head_cells(ws, row, names)
    for d in decisions:
        row += 1
        values = [d.numero, d.code, d.decision, d.responsable, d.echeance, d.statut,
                  revue_texte(d.ouverte_annee, d.ouverte_revue)]
        late = en_retard(d, today)
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.font, cell.border = font(_SIZE), _BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            if late and col == 5:
                cell.fill = PatternFill("solid", fgColor="FFC7CE")
                cell.font = font(_SIZE, bold=True, color="9C0006")
        widths = [ws.column_dimensions[get_column_letter(c)].width or 10 for c in range(1, 8)]
        ws.row_dimensions[row].height = max(height_for(line_count(v, w, _SIZE), _SIZE)
                                            for v, w in zip(values, widths, strict=True))
    return row + 2


DECISIONS_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Numéro", 15), ("Pilier", 7), ("Niveau", 22), ("Décision", 50), ("Type", 14),
    ("Responsable", 24), ("Échéance", 11), ("Statut", 11), ("En retard", 10),
    ("Ouverte à la revue", 15), ("Dernière mise à jour", 15), ("Commentaire", 40),
)


def _decisions_sheet(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
                     today: dt.date, titre: str) -> None:
    set_text(ws["A1"], titre).font = font(14, bold=True, color="1F4E78")
    set_text(ws["A2"], "Les décisions ouvertes d'abord (« en retard » : échéance passée au "
                       f"{today:%d/%m/%Y}), puis les décisions closes.").font = font(
        _SIZE, italic=True, color="404040")
    head = 4
    _head_cells(ws, head, [n for n, _ in DECISIONS_COLUMNS], [w for _, w in DECISIONS_COLUMNS])
    ordered = sorted(donnees.decisions, key=lambda d: (not d.ouverte, d.numero))
    row = head
    for d in ordered:
        row += 1
        late = en_retard(d, today)
        values = [d.numero, d.pilier, niveau_of(ref, d.code), d.decision, d.type,
                  d.responsable, d.echeance, d.statut, "en retard" if late else None,
                  revue_texte(d.ouverte_annee, d.ouverte_revue),
                  revue_texte(d.maj_annee, d.maj_revue), d.commentaire]
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = font(_SIZE, color=_TEXT if d.ouverte else GRIS)
            if isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            if late and col in (7, 9):
                cell.fill = PatternFill("solid", fgColor="FFC7CE")
                cell.font = font(_SIZE, bold=True, color="9C0006")
        ws.row_dimensions[row].height = max(
            height_for(line_count(v, w, _SIZE), _SIZE)
            for v, (_, w) in zip(values, DECISIONS_COLUMNS, strict=True))
    if not ordered:
        set_text(ws.cell(row=head + 1, column=1),
                 "Aucune décision enregistrée (relevé de décisions).").font = font(_SIZE)
    else:
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(DECISIONS_COLUMNS))}{row}"
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    printable(ws, header_row=head)


# --- indicators ------------------------------------------------------------------------------
def _indicateurs_sheet(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
                       titre: str) -> None:
    set_text(ws["A1"], titre).font = font(14, bold=True, color="1F4E78")
    set_text(ws["A2"], "Valeur déclarée par le référent chaque année (la dernière revue de "
                       "l'année) ; tendance : dernière valeur comparée à la précédente, ou à "
                       "la valeur de référence (écart de moins de 1 % : stable) ; en gris : "
                       "indicateur abandonné du panier.").font = font(
        _SIZE, italic=True, color="404040")
    years = annees_series(donnees.series, donnees.annee, debut_contrat(ref))
    columns = [("Objectif opérationnel", 12), ("Indicateur", 50), ("Unité", 10),
               ("Valeur de référence", 11), ("Année de référence", 10), ("Cible", 11),
               *((str(y), 10) for y in years), ("Panier", 11), ("Nouveau (proposé)", 10),
               ("Tendance", 13)]
    head = 4
    _head_cells(ws, head, [n for n, _ in columns], [w for _, w in columns])
    order = {code: i for i, code in enumerate(ref.codes_oo())}
    series = sorted(donnees.series, key=lambda s: (order.get(s.code, len(order)), s.code))
    row = head
    for s in series:
        row += 1
        dropped = s.panier == ABANDONNE
        values = [s.code, s.libelle, s.unite, s.valeur_reference, s.annee_reference,
                  s.valeur_cible, *(s.valeurs.get(y) for y in years), s.panier,
                  "oui" if s.propose else None, tendance(s, donnees.annee)]
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=col == 2, vertical="top")
            cell.font = font(_SIZE, italic=dropped, color=GRIS if dropped else _TEXT)
            if dropped:
                cell.fill = PatternFill("solid", fgColor=GRIS_FOND)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.##"
        if values[-1] == NON_RENSEIGNE:
            ws.cell(row=row, column=len(values)).font = font(_SIZE, italic=True, color=GRIS)
        ws.row_dimensions[row].height = height_for(line_count(s.libelle, 50, _SIZE), _SIZE)
    if not series:
        set_text(ws.cell(row=head + 1, column=1),
                 "Aucune valeur d'indicateur déclarée par les référents.").font = font(_SIZE)
    else:
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(columns))}{row}"
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    printable(ws, header_row=head)


# --- returns ---------------------------------------------------------------------------------
TYPES = {"porteur": "Porteur", "referent": "Référent", "pilote": "Pilote",
         "coordonnateur": "Coordonnateur", "decisions": "Relevé de décisions"}


def _retours(ws: Worksheet, donnees: DonneesAnnee) -> None:
    headers = ["Fichier", "Type", "Revue", "Destinataire", "Reçu le", "Statut", "En vigueur"]
    widths = [60, 13, 9, 40, 20, 26, 10]
    _head_cells(ws, 1, headers, widths)
    first = ws.max_row + 1  # read once: ws.max_row scans every cell of the sheet
    for row, s in enumerate(sorted(donnees.submissions, key=lambda s: s.recu_le), start=first):
        for col, value in enumerate((s.nom, TYPES.get(s.type, s.type), s.revue,
                                     s.destinataire, s.recu_le, s.statut,
                                     "oui" if s.courante else "non"), start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.font, cell.alignment = font(_SIZE), Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    printable(ws, header_row=1)


def _print_setup(ws: Worksheet, last_row: int) -> None:
    """A3 landscape, one page wide, up to the texts: the detail columns stay on screen."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{get_column_letter(LAST_PRINTED)}{last_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4


def write_tableaux_de_bord(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                           built: dt.datetime | None = None,
                           suivi: SuiviPhysicoFinancier | None = None) -> Path:
    """The tableaux de bord of the year, or of the revue ``donnees.revue``: synthèse, one
    sheet per pilier, decisions, indicators, returns included."""
    built = built or dt.datetime.now().astimezone()
    today = built.date()
    suivi = suivi or suivi_physico_financier(donnees, ref)
    per_oo = suivi.par_objectif()
    labels = {r.id: r.libelle for r in ref.referents}
    quand = (f"{donnees.annee} — Revue {donnees.revue}" if donnees.revue is not None
             else str(donnees.annee))
    wb = Workbook()
    ws = wb.active
    ws.title = "Synthèse"
    _header(ws, f"Tableau de bord {quand} — {ref.contrat.libelle}", donnees, built)
    chiffres = chiffres_par_objectif(donnees)  # one pass over the year, every pilier
    lines = synthese(ref, donnees, chiffres)
    money = [suivi.par_pilier.get(p.code, Totaux()) for p in ref.piliers]
    total = Totaux()
    for t in money:
        total.merge(t)
    first, last = _table(ws, lines, labels, [*money, total])
    rows = list(range(first, last))  # the piliers, without the total line
    accorde = _bar("Montants accordés par pilier et financeur", ws, COL["Code"],
                   [COL[f"Accordé – {f.libelle}"] for f in FINANCEURS], rows, stacked=True)
    real = _realisation("Réalisation des actions par pilier", ws, rows)
    end = _place(ws, [real, accorde], last + 3)
    _print_setup(ws, end)
    for p in ref.piliers:
        sheet = wb.create_sheet(sheet_title(f"Pilier {p.code}"))
        _header(sheet, f"Tableau de bord {quand} — pilier {p.code} : {p.titre}", donnees,
                built)
        plines = lignes_pilier(ref, donnees, p.code, chiffres)
        first, last = _table(sheet, plines, labels, _money(plines, per_oo))
        sheet.sheet_properties.outlinePr.summaryBelow = False
        open_ = sorted((d for d in donnees.decisions if d.ouverte and d.pilier == p.code),
                       key=lambda d: d.numero)
        after = _decisions_block(sheet, last + 2, open_, ref, today)
        end = _charts(sheet, plines, first, after + 1)
        _print_setup(sheet, end)
    _decisions_sheet(wb.create_sheet("Décisions"), donnees, ref, today,
                     f"Décisions des revues — {quand}")
    _indicateurs_sheet(wb.create_sheet("Indicateurs"), donnees, ref,
                       f"Indicateurs des objectifs opérationnels — suivi jusqu'en "
                       f"{donnees.annee}")
    _retours(wb.create_sheet("Retours inclus"), donnees)
    return save_workbook_atomic(wb, path)
