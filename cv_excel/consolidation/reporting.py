"""Reporting for the financeurs: the Département (Annexe 2) and the État (BOP 147).

Each function takes the consolidated data (:class:`DonneesAnnee`), writes one
workbook atomically and returns its path. Every figure is written as a value
(not a formula) so that the workbook reads the same in any program and can be
checked cell by cell; every text typed by a porteur goes through ``set_text``.
The small layout helpers at the top are shared with :mod:`.completude`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.listes import DISPOSITIFS_DEPARTEMENT, FINANCEURS, SOUS_THEMES_ANCT, THEMES_ANCT
from cv_excel.listes import theme_of as _theme_of_sous_theme
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee
from cv_excel.xlsxio import save_workbook_atomic, set_text

ZERO = Decimal(0)
EUROS = '#,##0.00 "€"'
ENTIER = "#,##0"
POURCENT = "0.0 %"
DATE = "dd/mm/yyyy"

_TITLE = Font(bold=True, size=14, color="1F4E78")
_SUBTITLE = Font(italic=True, color="595959")
_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
_TOTAL_FONT = Font(bold=True)
_TOTAL_FILL = PatternFill("solid", fgColor="D9E1F2")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEAD_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")

NON_RATTACHE = "Objectif non rattaché au référentiel"
THEME_NON_RENSEIGNE = "Thème non renseigné"
DISPOSITIF_NON_PRECISE = "Dispositif non précisé"


# --- layout helpers (shared) -----------------------------------------------------------------
def put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None):
    """Write one cell; text always stays text (see :func:`set_text`)."""
    cell = set_text(ws.cell(row=row, column=col), value)
    if fmt and not isinstance(value, str):
        cell.number_format = fmt
    return cell


def title(ws: Worksheet, text: str, subtitle: str | None = None) -> None:
    put(ws, 1, 1, text).font = _TITLE
    if subtitle:
        put(ws, 2, 1, subtitle).font = _SUBTITLE


def header(ws: Worksheet, row: int, labels: Sequence[str], widths: Sequence[float]) -> None:
    for col, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = put(ws, row, col, label)
        cell.font, cell.fill, cell.alignment, cell.border = (_HEAD_FONT, _HEAD_FILL,
                                                             _HEAD_ALIGN, _BORDER)
        ws.column_dimensions[get_column_letter(col)].width = width
    fit_height(ws, row, labels, widths)


def fit_height(ws: Worksheet, row: int, labels: Sequence[Any], widths: Sequence[float]) -> None:
    """Tall enough for the wrapped labels: LibreOffice does not grow a styled row itself."""
    lines = max(math.ceil(len(str(t)) / max(w - 2, 1)) for t, w in zip(labels, widths,
                                                                       strict=True))
    ws.row_dimensions[row].height = 15 * max(lines, 1) + 3


def body_row(ws: Worksheet, row: int, values: Sequence[Any], formats: Sequence[str | None],
             total: bool = False) -> None:
    for col, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
        cell = put(ws, row, col, value, fmt)
        cell.border, cell.alignment = _BORDER, _WRAP
        if total:
            cell.font, cell.fill = _TOTAL_FONT, _TOTAL_FILL


def table(ws: Worksheet, top: int, columns: Sequence[tuple[str, float, str | None]],
          rows: Iterable[Sequence[Any]], total: Sequence[Any] | None = None,
          autofilter: bool = True) -> int:
    """Header at ``top``, one line per row, optional total line; returns the last row."""
    labels, widths, formats = zip(*columns, strict=True)
    header(ws, top, labels, widths)
    row = top
    for row, values in enumerate(rows, start=top + 1):
        body_row(ws, row, values, formats)
    if autofilter and row > top:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{row}"
    if total is not None:
        row += 1
        body_row(ws, row, total, formats, total=True)
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    return row


def printable(ws: Worksheet) -> None:
    """Landscape, one page wide: the sheets are printed for the comité de pilotage."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


# --- vocabulary ------------------------------------------------------------------------------
def objectif_label(ref: Referentiel, code: str) -> str:
    try:
        return f"{code} — {ref.objectif(code).titre}"
    except StopIteration:
        return code


def pilier_label(ref: Referentiel, code_oo: str) -> str:
    try:
        code = ref.pilier_of(code_oo)
    except StopIteration:
        return NON_RATTACHE
    pilier = next(p for p in ref.piliers if p.code == code)
    return f"{pilier.code} — {pilier.titre}"


def theme_label(action: ActionProgrammee) -> str:
    if action.theme_anct:
        return action.theme_anct
    if action.sous_theme_anct in SOUS_THEMES_ANCT:
        return _theme_of_sous_theme(action.sous_theme_anct)
    return THEME_NON_RENSEIGNE


def accorde(action: ActionProgrammee, key: str) -> Decimal:
    return action.accorde.get(key) or ZERO


def _n(value: int | None) -> int | None:
    return value if value is None else int(value)


# --- Département : Annexe 2 ------------------------------------------------------------------
def write_reporting_departement(annees: dict[int, DonneesAnnee], ref: Referentiel,
                                path: Path) -> Path:
    """The Département's follow-up, as Annexe 2 of the contract presents it.

    « Synthèse Annexe 2 »: actions with an amount accordé by the Département, by
    dispositif (rows) × year (number of actions, amount), with totals over the
    years given. « Actions »: every such action with its bilan when accepted.
    """
    years = sorted(annees)
    funded = {y: [a for a in annees[y].actions if accorde(a, "departement") > 0] for y in years}
    wb = new_workbook()
    _annexe2_sheet(wb.create_sheet("Synthèse Annexe 2"), funded, ref)
    _departement_actions_sheet(wb.create_sheet("Actions"), funded, annees, ref)
    return save_workbook_atomic(wb, path)


def _annexe2_sheet(ws: Worksheet, funded: dict[int, list[ActionProgrammee]],
                   ref: Referentiel) -> None:
    years = list(funded)
    periode = f"{years[0]} à {years[-1]}" if years else "aucune année"
    title(ws, "Actions financées par le Département du Val-de-Marne — synthèse (Annexe 2)",
          f"{ref.contrat.libelle} — années {periode} — nombre d'actions et montants accordés "
          "par le Département (euros)")
    dispositifs = list(DISPOSITIFS_DEPARTEMENT)
    if any(not a.departement_dispositif for acts in funded.values() for a in acts):
        dispositifs.append(DISPOSITIF_NON_PRECISE)
    top = 4
    put(ws, top, 1, "Dispositif départemental")
    ws.merge_cells(start_row=top, end_row=top + 1, start_column=1, end_column=1)
    ws.column_dimensions["A"].width = 48
    for i, label in enumerate([*years, f"Total {periode}"]):
        col = 2 + 2 * i
        put(ws, top, col, label)
        ws.merge_cells(start_row=top, end_row=top, start_column=col, end_column=col + 1)
        put(ws, top + 1, col, "Nombre d'actions")
        put(ws, top + 1, col + 1, "Montant accordé")
        ws.column_dimensions[get_column_letter(col)].width = 11
        ws.column_dimensions[get_column_letter(col + 1)].width = 15
        fit_height(ws, top + 1, ["Nombre d'actions"], [11])
    last_col = 3 + 2 * len(years)
    for r in (top, top + 1):
        for c in range(1, last_col + 1):
            cell = ws.cell(row=r, column=c)
            cell.font, cell.fill, cell.alignment, cell.border = (_HEAD_FONT, _HEAD_FILL,
                                                                 _HEAD_ALIGN, _BORDER)
    formats = [None] + [ENTIER, EUROS] * (len(years) + 1)
    row = top + 1
    for dispositif in [*dispositifs, None]:
        row += 1
        values: list[Any] = ["Total" if dispositif is None else dispositif]
        count_all, amount_all = 0, ZERO
        for y in years:
            acts = [a for a in funded[y]
                    if dispositif is None
                    or (a.departement_dispositif or DISPOSITIF_NON_PRECISE) == dispositif]
            amount = sum((accorde(a, "departement") for a in acts), ZERO)
            values += [len(acts), amount]
            count_all, amount_all = count_all + len(acts), amount_all + amount
        values += [count_all, amount_all]
        body_row(ws, row, values, formats, total=dispositif is None)
    put(ws, row + 2, 1, "Actions retenues : celles dont le montant accordé par le Département "
        "est supérieur à 0 dans la programmation de l'année. Le détail figure dans la "
        "feuille « Actions ».").font = _SUBTITLE
    ws.freeze_panes = ws.cell(row=top + 2, column=2)
    printable(ws)


_DEP_COLUMNS = (
    ("Année", 8, None), ("N° d'action", 11, None), ("Porteur", 28, None),
    ("Intitulé de l'action", 36, None), ("Objectif opérationnel", 36, None),
    ("Dispositif départemental", 26, None), ("Montant accordé par le Département", 16, EUROS),
    ("Territoire", 14, None), ("Réalisation (bilan)", 16, None), ("Note (0 à 100)", 9, None),
    ("Bénéficiaires", 12, ENTIER), ("dont femmes", 10, ENTIER), ("dont hommes", 10, ENTIER),
    ("dont QPV", 10, ENTIER), ("Principaux résultats", 60, None),
)


def _departement_actions_sheet(ws: Worksheet, funded: dict[int, list[ActionProgrammee]],
                               annees: dict[int, DonneesAnnee], ref: Referentiel) -> None:
    title(ws, "Actions financées par le Département du Val-de-Marne",
          "Une ligne par action ; les colonnes du bilan restent vides tant qu'aucun bilan "
          "n'a été accepté.")
    rows = []
    for y, acts in funded.items():
        for a in sorted(acts, key=lambda a: a.numero):
            b = annees[y].bilans.get(a.numero)
            rows.append([
                y, a.numero, a.porteur_raison_sociale, a.intitule,
                objectif_label(ref, a.objectif_operationnel),
                a.departement_dispositif or DISPOSITIF_NON_PRECISE, accorde(a, "departement"),
                a.territoire, *_bilan_values(b), b.resultats if b else None])
    total = sum((r[6] for r in rows), ZERO)
    table(ws, 4, _DEP_COLUMNS, rows,
          total=["Total", None, f"{len(rows)} actions", None, None, None, total,
                 *[None] * 8])
    printable(ws)


def _bilan_values(b: BilanAction | None) -> list[Any]:
    if b is None:
        return [None] * 6
    return [b.realisation, _n(b.score), _n(b.benef_total), _n(b.benef_femmes),
            _n(b.benef_hommes), _n(b.benef_qpv)]


# --- État : BOP 147 and the rapport annuel -------------------------------------------------
def write_reporting_etat(donnees: DonneesAnnee, ref: Referentiel, path: Path) -> Path:
    """What the État (préfecture, ANCT) asks for the year.

    « Actions BOP 147 »: the actions funded on the politique de la ville credits,
    with their indicateur unique, note and bénéficiaires. The three other sheets
    feed the rapport annuel (décret 2015-1118): financements by pilier and by
    thème ANCT, and bénéficiaires by sex (from the accepted bilans), over all the
    actions of the year.
    """
    wb = new_workbook()
    _bop147_sheet(wb.create_sheet("Actions BOP 147"), donnees, ref)
    _financements_sheet(wb.create_sheet("Financements par pilier"), donnees, "Pilier",
                        lambda a: pilier_label(ref, a.objectif_operationnel),
                        [f"{p.code} — {p.titre}" for p in ref.piliers], ref)
    _financements_sheet(wb.create_sheet("Financements par thème"), donnees, "Thème ANCT",
                        theme_label, list(THEMES_ANCT.values()), ref)
    _sexe_sheet(wb.create_sheet("Bénéficiaires par sexe"), donnees, ref)
    return save_workbook_atomic(wb, path)


_BOP_COLUMNS = (
    ("N° d'action", 11, None), ("Porteur", 28, None), ("Intitulé de l'action", 36, None),
    ("Objectif opérationnel", 34, None), ("Pilier", 24, None), ("Thème ANCT", 22, None),
    ("Sous-thème ANCT", 26, None), ("Indicateur de résultat unique", 34, None),
    ("Note (0 à 100)", 9, None), ("Bénéficiaires", 12, ENTIER), ("dont femmes", 10, ENTIER),
    ("dont hommes", 10, ENTIER), ("dont QPV", 10, ENTIER), ("Montant BOP 147", 15, EUROS),
    ("Autres financements", 15, EUROS), ("Total accordé", 15, EUROS),
)


def _bop147_sheet(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    title(ws, f"Actions financées par l'État (BOP 147) — {donnees.annee}",
          f"{ref.contrat.libelle} — montants accordés (euros) ; note et bénéficiaires d'après "
          "les bilans acceptés.")
    rows = []
    for a in sorted(donnees.actions, key=lambda a: a.numero):
        etat = accorde(a, "etat")
        if etat <= 0:
            continue
        b = donnees.bilans.get(a.numero)
        _, score, *benef = _bilan_values(b)
        rows.append([a.numero, a.porteur_raison_sociale, a.intitule,
                     objectif_label(ref, a.objectif_operationnel),
                     pilier_label(ref, a.objectif_operationnel), theme_label(a),
                     a.sous_theme_anct, a.indicateur, score, *benef, etat,
                     a.total_accorde - etat, a.total_accorde])
    total = ["Total", f"{len(rows)} actions", *[None] * 7,
             *[sum(r[c] or 0 for r in rows) for c in range(9, 13)],
             *[sum((r[c] for r in rows), ZERO) for c in range(13, 16)]]
    table(ws, 4, _BOP_COLUMNS, rows, total=total)
    printable(ws)


def _financements_sheet(ws: Worksheet, donnees: DonneesAnnee, label: str, key_of,
                        order: list[str], ref: Referentiel) -> None:
    title(ws, f"Financements {donnees.annee} par {label.split()[0].lower()} et par financeur",
          f"{ref.contrat.libelle} — toutes les actions programmées en {donnees.annee}, "
          "montants accordés (euros).")
    groups: dict[str, list[ActionProgrammee]] = {k: [] for k in order}
    for a in donnees.actions:
        groups.setdefault(key_of(a), []).append(a)
    columns = [(label, 40, None), ("Nombre d'actions", 10, ENTIER),
               *[(f.libelle, 15, EUROS) for f in FINANCEURS], ("Total", 15, EUROS)]

    def line(name: str, acts: list[ActionProgrammee]) -> list[Any]:
        amounts = [sum((accorde(a, f.key) for a in acts), ZERO) for f in FINANCEURS]
        return [name, len(acts), *amounts, sum(amounts, ZERO)]

    rows = [line(k, acts) for k, acts in groups.items()]
    table(ws, 4, columns, rows, total=line("Total", donnees.actions), autofilter=False)
    printable(ws)


@dataclass
class _Sexe:
    actions: int = 0
    bilans: int = 0
    values: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])  # tot, F, H, NV, QPV

    def add(self, b: BilanAction | None) -> None:
        self.actions += 1
        if b is None:
            return
        self.bilans += 1
        total, femmes, hommes = b.benef_total or 0, b.benef_femmes or 0, b.benef_hommes or 0
        for i, v in enumerate((total, femmes, hommes, total - femmes - hommes,
                               b.benef_qpv or 0)):
            self.values[i] += int(v)

    def row(self, name: str) -> list[Any]:
        femmes, hommes = self.values[1], self.values[2]
        part = femmes / (femmes + hommes) if femmes + hommes else None
        return [name, self.actions, self.bilans, *self.values, part]


def _sexe_sheet(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    groups = {f"{p.code} — {p.titre}": _Sexe() for p in ref.piliers}
    total = _Sexe()
    for a in donnees.actions:
        b = donnees.bilans.get(a.numero)
        groups.setdefault(pilier_label(ref, a.objectif_operationnel), _Sexe()).add(b)
        total.add(b)
    title(ws, f"Bénéficiaires {donnees.annee} par sexe et par pilier",
          f"{total.bilans} actions sur {total.actions} ont un bilan accepté : les "
          "bénéficiaires des autres actions ne sont pas comptés (décret n° 2015-1118, "
          "données présentées par sexe).")
    columns = [("Pilier", 40, None), ("Nombre d'actions", 10, ENTIER),
               ("Actions avec bilan accepté", 12, ENTIER), ("Bénéficiaires", 12, ENTIER),
               ("Femmes", 10, ENTIER), ("Hommes", 10, ENTIER),
               ("Non ventilé par sexe", 12, ENTIER), ("dont habitants des QPV", 12, ENTIER),
               ("Part des femmes (parmi les ventilés)", 14, POURCENT)]
    table(ws, 4, columns, [g.row(k) for k, g in groups.items()], total=total.row("Total"),
          autofilter=False)
    printable(ws)
