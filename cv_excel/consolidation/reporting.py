"""Reporting for the financeurs: the Département (Annexe 2) and the État (BOP 147).

Each function takes the consolidated data (:class:`DonneesAnnee`), writes one
workbook atomically and returns its path. Every figure is written as a value
(not a formula) so that the workbook reads the same in any program and can be
checked cell by cell; every text typed by a porteur goes through ``set_text``.
The small layout helpers at the top are shared with :mod:`.completude`.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.listes import DISPOSITIFS_DEPARTEMENT, FINANCEURS, SOUS_THEMES_ANCT, THEMES_ANCT
from cv_excel.listes import theme_of as _theme_of_sous_theme
from cv_excel.referentiel.models import Referentiel
from cv_excel.spill import SpilledList
from cv_excel.store.models import (
    ActionProgrammee,
    BilanAction,
    Cellule,
    DonneesAnnee,
    par_numero,
)
from cv_excel.text import clean_text
from cv_excel.xlsx.openpyxl_save import add_text_cells, text_value
from cv_excel.xlsxio import looks_like_formula, save_workbook_atomic, set_text

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


# The style of a table's body cell, per workbook: made once per (number format, total
# line, quote prefix), then copied. openpyxl hashes every style it is given, which made
# the tables of 25,000 actions most of their workbook's time.
_BODY_STYLES: weakref.WeakKeyDictionary[Workbook, dict[tuple, Any]] = (
    weakref.WeakKeyDictionary())


def body_row(ws: Worksheet, row: int, values: Sequence[Any], formats: Sequence[str | None],
             total: bool = False, as_text: bool = False) -> None:
    """One line of a table. ``as_text``: its cells kept as text until the workbook is
    saved (:mod:`cv_excel.xlsx.openpyxl_save`: a fraction of the memory and time of
    openpyxl cells), for the tables nothing reads back from the sheet."""
    styles = _BODY_STYLES.setdefault(ws.parent, {})
    kept: list[tuple[int, Any, Any]] = []
    for col, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
        if isinstance(value, str):
            value = clean_text(value)
        elif fmt is None and isinstance(value, dt.date):  # a date shown as one, not a serial
            fmt = DATE
        key = (fmt if fmt and not isinstance(value, str) else None, total,
               looks_like_formula(value))
        style = styles.get(key)
        if style is None:
            style = styles[key] = _body_style(ws, key)
        if as_text and text_value(value):
            kept.append((col, value, style))
        else:
            set_text(ws.cell(row=row, column=col), value)._style = copy(style)
    if kept:
        add_text_cells(ws, row, kept)


def _body_style(ws: Worksheet, key: tuple[str | None, bool, bool]):
    """The style array of a body cell (number format, total line, quote prefix)."""
    fmt, total, quote = key
    cell = Cell(ws)  # a model, not placed in the sheet
    cell.quotePrefix = quote
    if fmt:
        cell.number_format = fmt
    cell.border, cell.alignment = _BORDER, _WRAP
    if total:
        cell.font, cell.fill = _TOTAL_FONT, _TOTAL_FILL
    return copy(cell._style)


def table(ws: Worksheet, top: int, columns: Sequence[tuple[str, float, str | None]],
          rows: Iterable[Sequence[Any]],
          total: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
          autofilter: bool = True,
          as_text: bool | Callable[[Sequence[Any]], bool] = False) -> int:
    """Header at ``top``, one line per row, optional total line; returns the last row
    (``as_text``: see :func:`body_row`; a function of the row's values: for the rows it
    accepts, the others keep openpyxl cells, to be styled afterwards). ``total`` may be a
    function, called once the rows are written: rows made as they are written (a
    generator, nothing kept) can be counted and summed on the way."""
    labels, widths, formats = zip(*columns, strict=True)
    header(ws, top, labels, widths)
    row = top
    for row, values in enumerate(rows, start=top + 1):
        body_row(ws, row, values, formats,
                 as_text=as_text(values) if callable(as_text) else as_text)
    if autofilter and row > top:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{row}"
    if total is not None:
        row += 1
        body_row(ws, row, total() if callable(total) else total, formats, total=True,
                 as_text=as_text is True)
    ws.freeze_panes = f"A{top + 1}"
    return row


def printable(ws: Worksheet, header_row: int | None = None, landscape: bool = True) -> None:
    """A4, one page wide (landscape unless said otherwise): the sheets are printed for the
    comité de pilotage; the table's header row, when given, repeats on every page."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"


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


def theme_label(action: ActionProgrammee | Cellule) -> str:
    if action.theme_anct:
        return action.theme_anct
    if action.sous_theme_anct in SOUS_THEMES_ANCT:
        return _theme_of_sous_theme(action.sous_theme_anct)
    return THEME_NON_RENSEIGNE


def accorde(action: ActionProgrammee, key: str) -> Decimal:
    return action.accorde.get(key) or ZERO


@dataclass
class Financements:
    """A group of actions counted and their amounts accordés summed by financeur, from the
    year's cells (:class:`Cellule`, counted by the database): a group is never a list of
    actions, nor the year read again."""

    actions: int = 0
    montants: dict[str, Decimal] = field(
        default_factory=lambda: {f.key: ZERO for f in FINANCEURS})
    total_accorde: Decimal = ZERO  # every financeur of the programmation's actions

    def add_cellule(self, cell: Cellule) -> Financements:
        """A group of actions counted together (see :class:`Cellule`)."""
        self.actions += cell.actions
        for f in FINANCEURS:
            self.montants[f.key] += cell.accorde.get(f.key) or ZERO
        self.total_accorde += sum(cell.accorde.values(), ZERO)
        return self

    def amounts(self) -> list[Decimal]:
        """Each financeur's sum, in FINANCEURS order, then their total."""
        amounts = list(self.montants.values())
        return [*amounts, sum(amounts, ZERO)]


def _n(value: int | None) -> int | None:
    return value if value is None else int(value)


# --- Département : Annexe 2 ------------------------------------------------------------------
# Annexe 2 of the contract (« bilan des projets soutenus par le Département », 2015-2018):
# dispositif → year, or (first, last) year of a period → (number of actions, euros). The
# contract gives the équipements de proximité for the whole period only, not year by year.
ANNEXE2_PERIODE = (2015, 2018)
ANNEXE2: dict[str, dict[int | tuple[int, int], tuple[int, int]]] = {
    "Encouragement des initiatives de proximité": {
        2015: (5, 12_500), 2016: (3, 9_500), 2017: (8, 13_500), 2018: (11, 16_800),
        ANNEXE2_PERIODE: (27, 52_300)},
    "Soutien aux équipements de proximité": {ANNEXE2_PERIODE: (3, 393_763)},
}
FICTIF = "Donnée fictive de démonstration"
_FICTIF_FONT = Font(bold=True, color="C00000")
_FICTIF_FILL = PatternFill("solid", fgColor="FCE4D6")


class PeriodeInvalide(ValueError):
    """A period the Département report cannot cover; the message is French."""


def _annees_texte(years: Iterable[int]) -> str:
    """« 2010 à 2014, 2016 »: runs of consecutive years shortened."""
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]} à {r[-1]}" for r in runs)


def periode_departement(programmees: Iterable[int], de: int | None = None,
                        a: int | None = None, jusqua: int | None = None) -> list[int]:
    """The years of the Département report, ``de`` to ``a`` both included.

    ``programmees`` are the years that have a programmation. By default the period
    starts at the first of them and ends at the last one not after ``jusqua`` (the
    consolidated year). Every year of the period must have a programmation: a year
    without one would read as « 0 action » in the report.
    """
    known = sorted(set(programmees))
    if not known:
        raise PeriodeInvalide("Aucune programmation enregistrée : le reporting Département n'a "
                              "aucune année à présenter.")
    if a is None:
        a = max((y for y in known if jusqua is None or y <= jusqua), default=known[-1])
    if de is None:
        de = min(known[0], a)
    if de > a:
        raise PeriodeInvalide(f"Période invalide : la première année ({de}) est après la "
                              f"dernière ({a}).")
    missing = [y for y in range(de, a + 1) if y not in known]
    if missing:
        raise PeriodeInvalide(f"Période invalide {de}-{a} : aucune programmation pour "
                              f"{_annees_texte(missing)} (années programmées : "
                              f"{_annees_texte(known)}).")
    return list(range(de, a + 1))


def write_reporting_departement(annees: dict[int, DonneesAnnee], ref: Referentiel,
                                path: Path, periode: tuple[int, int] | None = None,
                                demonstration: bool = False) -> Path:
    """The Département's follow-up, as Annexe 2 of the contract presents it.

    « Synthèse Annexe 2 »: actions with an amount accordé by the Département, by
    dispositif (rows) × year (number of actions, amount), with totals over the
    period. « Actions »: every such action with its bilan when accepted.

    ``periode`` (first, last year) limits the report to those years, each of which
    must be in ``annees`` (:class:`PeriodeInvalide` otherwise); by default every year
    of ``annees``. ``demonstration``: the data are the demo's; every figure that is
    not one of Annexe 2 (:data:`ANNEXE2`) is marked « donnée fictive de démonstration ».
    """
    years = sorted(annees) if periode is None else periode_departement(annees, *periode)
    funded = {y: SpilledList((a for a in annees[y].actions if accorde(a, "departement") > 0),
                             key=_numero) for y in years}  # kept on disk, read by both sheets
    wb = new_workbook()
    _annexe2_sheet(wb.create_sheet("Synthèse Annexe 2"), funded, ref, demonstration)
    _departement_actions_sheet(wb.create_sheet("Actions"), funded, annees, ref, demonstration)
    return save_workbook_atomic(wb, path)


_numero = operator.attrgetter("numero")


def _annexe2_figure(dispositif: str | None, key: int | tuple[int, int],
                    shown: list[str]) -> tuple[int, int] | None:
    """What Annexe 2 gives for the row and column; the Total row is the sum of the rows shown
    when the annex gives each of them."""
    if dispositif is not None:
        return ANNEXE2.get(dispositif, {}).get(key)
    parts = [_annexe2_figure(d, key, shown) for d in shown]
    if not parts or any(p is None for p in parts):
        return None
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def _annexe2_sheet(ws: Worksheet, funded: dict[int, list[ActionProgrammee]],
                   ref: Referentiel, demonstration: bool = False) -> None:
    years = list(funded)
    if not years:
        periode = "aucune année"
    elif len(years) == 1:
        periode = str(years[0])
    else:
        periode = f"{years[0]} à {years[-1]}"
    title(ws, "Actions financées par le Département du Val-de-Marne — synthèse (Annexe 2)",
          f"{ref.contrat.libelle} — {'année' if len(years) == 1 else 'années'} {periode} — "
          "nombre d'actions et montants accordés par le Département (euros)")
    if demonstration:
        put(ws, 3, 1, f"{FICTIF} : dossier de démonstration, porteurs, actions et bilans "
            "inventés. Les cellules orangées sont des données fictives ; les autres chiffres "
            "reprennent l'annexe 2 du contrat (colonne « " + FICTIF + " »).").font = _FICTIF_FONT
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
    if demonstration:
        last_col += 1
        put(ws, top, last_col, FICTIF)
        ws.merge_cells(start_row=top, end_row=top + 1, start_column=last_col,
                       end_column=last_col)
        ws.column_dimensions[get_column_letter(last_col)].width = 44
    for r in (top, top + 1):
        for c in range(1, last_col + 1):
            cell = ws.cell(row=r, column=c)
            cell.font, cell.fill, cell.alignment, cell.border = (_HEAD_FONT, _HEAD_FILL,
                                                                 _HEAD_ALIGN, _BORDER)
    formats = [None] + [ENTIER, EUROS] * (len(years) + 1) + ([None] if demonstration else [])
    keys: list[int | tuple[int, int]] = [*years, (years[0], years[-1])] if years else []
    labels = [*map(str, years), f"Total {periode}"]
    row = top + 1
    for dispositif in [*dispositifs, None]:
        row += 1
        values: list[Any] = ["Total" if dispositif is None else dispositif]
        count_all, amount_all = 0, ZERO
        for y in years:
            count, amount = 0, ZERO  # counted as read: the year's actions are on disk
            for a in funded[y]:
                if (dispositif is None
                        or (a.departement_dispositif or DISPOSITIF_NON_PRECISE) == dispositif):
                    count, amount = count + 1, amount + accorde(a, "departement")
            values += [count, amount]
            count_all, amount_all = count_all + count, amount_all + amount
        values += [count_all, amount_all]
        fictifs: list[int] = []
        if demonstration:
            fictifs = [i for i, key in enumerate(keys)
                       if _annexe2_figure(dispositif, key, dispositifs)
                       != (values[1 + 2 * i], values[2 + 2 * i])]
            values.append(_fictif_text([labels[i] for i in fictifs],
                                       [labels[i] for i in range(len(keys)) if i not in fictifs]))
        body_row(ws, row, values, formats, total=dispositif is None)
        if demonstration:
            fit_height(ws, row, [values[0], values[-1]], [48, 44])
        for i in fictifs:
            for col in (2 + 2 * i, 3 + 2 * i):
                ws.cell(row=row, column=col).fill = _FICTIF_FILL
    put(ws, row + 2, 1, "Actions retenues : celles dont le montant accordé par le Département "
        "est supérieur à 0 dans la programmation de l'année. Le détail figure dans la "
        "feuille « Actions ».").font = _SUBTITLE
    ws.freeze_panes = ws.cell(row=top + 2, column=2)
    printable(ws)


def _fictif_text(fictifs: list[str], repris: list[str]) -> str:
    if not fictifs:
        return "Non : repris de l'annexe 2 du contrat"
    if not repris:
        return "Oui : toute la ligne"
    return (f"Oui pour {', '.join(fictifs)} ; repris de l'annexe 2 du contrat : "
            f"{', '.join(repris)}")


_DEP_COLUMNS = (
    ("Année", 8, None), ("N° d'action", 11, None), ("Porteur", 28, None),
    ("Intitulé de l'action", 36, None), ("Objectif opérationnel", 36, None),
    ("Dispositif départemental", 26, None), ("Montant accordé par le Département", 16, EUROS),
    ("Territoire", 14, None), ("Réalisation (bilan)", 16, None), ("Note (0 à 100)", 9, None),
    ("Bénéficiaires", 12, ENTIER), ("dont femmes", 10, ENTIER), ("dont hommes", 10, ENTIER),
    ("dont QPV", 10, ENTIER), ("Principaux résultats", 60, None),
)


def _departement_actions_sheet(ws: Worksheet, funded: dict[int, list[ActionProgrammee]],
                               annees: dict[int, DonneesAnnee], ref: Referentiel,
                               demonstration: bool = False) -> None:
    title(ws, "Actions financées par le Département du Val-de-Marne",
          "Une ligne par action ; les colonnes du bilan restent vides tant qu'aucun bilan "
          "n'a été accepté.")
    columns, extra = _DEP_COLUMNS, []
    if demonstration:
        put(ws, 3, 1, f"{FICTIF} : dossier de démonstration, chaque ligne (porteur, action, "
            "montant, bilan) est inventée.").font = _FICTIF_FONT
        columns, extra = (*_DEP_COLUMNS, (FICTIF, 14, None)), ["oui"]
    def rows() -> Iterator[list[Any]]:  # written as read, one action at a time
        for y, acts in funded.items():
            for a in par_numero(acts):
                b = annees[y].bilans.get(a.numero)
                yield [y, a.numero, a.porteur_raison_sociale, a.intitule,
                       objectif_label(ref, a.objectif_operationnel),
                       a.departement_dispositif or DISPOSITIF_NON_PRECISE,
                       accorde(a, "departement"), a.territoire, *_bilan_values(b),
                       b.resultats if b else None, *extra]

    count = sum(len(acts) for acts in funded.values())
    total = sum((accorde(a, "departement") for acts in funded.values() for a in acts), ZERO)
    table(ws, 4, columns, rows(), as_text=True,
          total=["Total", None, f"{count} actions", None, None, None, total,
                 *[None] * (len(columns) - 7)])
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
                        lambda c: pilier_label(ref, c.objectif_operationnel),
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
    count, sums = 0, [0] * 4 + [ZERO] * 3  # bénéficiaires (4), then amounts (3)

    def rows() -> Iterator[list[Any]]:  # made as they are written, counted on the way
        nonlocal count
        for a in par_numero(donnees.actions):
            etat = accorde(a, "etat")
            if etat <= 0:
                continue
            b = donnees.bilans.get(a.numero)
            _, score, *benef = _bilan_values(b)
            row = [a.numero, a.porteur_raison_sociale, a.intitule,
                   objectif_label(ref, a.objectif_operationnel),
                   pilier_label(ref, a.objectif_operationnel), theme_label(a),
                   a.sous_theme_anct, a.indicateur, score, *benef, etat,
                   a.total_accorde - etat, a.total_accorde]
            count += 1
            for i, value in enumerate(row[9:16]):
                sums[i] += (value or 0) if i < 4 else value  # no bilan: no bénéficiaire
            yield row

    table(ws, 4, _BOP_COLUMNS, rows(), as_text=True,
          total=lambda: ["Total", f"{count} actions", *[None] * 7, *sums])
    printable(ws)


def _financements_sheet(ws: Worksheet, donnees: DonneesAnnee, label: str, key_of,
                        order: list[str], ref: Referentiel) -> None:
    title(ws, f"Financements {donnees.annee} par {label.split()[0].lower()} et par financeur",
          f"{ref.contrat.libelle} — toutes les actions programmées en {donnees.annee}, "
          "montants accordés (euros).")
    groups: dict[str, Financements] = {k: Financements() for k in order}
    total = Financements()
    for cell in donnees.cellules():  # counted by the database
        groups.setdefault(key_of(cell), Financements()).add_cellule(cell)
        total.add_cellule(cell)
    columns = [(label, 40, None), ("Nombre d'actions", 10, ENTIER),
               *[(f.libelle, 15, EUROS) for f in FINANCEURS], ("Total", 15, EUROS)]
    rows = [[k, g.actions, *g.amounts()] for k, g in groups.items()]
    table(ws, 4, columns, rows, total=["Total", total.actions, *total.amounts()],
          autofilter=False)
    printable(ws)


@dataclass
class PublicsTouches:
    """People reached, by sex and QPV residence, summed over the accepted bilans of a
    group of actions (the État report and the rapport annuel count them the same way)."""

    actions: int = 0
    bilans: int = 0
    values: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])  # tot, F, H, NV, QPV

    def add_cellule(self, cell: Cellule) -> None:
        """A group of actions counted together (see :class:`Cellule`)."""
        self.actions += cell.actions
        self.bilans += cell.bilans
        self.values = [v + w for v, w in zip(self.values, cell.benef, strict=True)]

    def row(self, name: str, part_des_bilans: bool = False) -> list[Any]:
        """[name, actions, bilans, (share of bilans,) total, F, H, NV, QPV, share of women]."""
        femmes, hommes = self.values[1], self.values[2]
        part = femmes / (femmes + hommes) if femmes + hommes else None
        share = ([self.bilans / self.actions if self.actions else None]
                 if part_des_bilans else [])
        return [name, self.actions, self.bilans, *share, *self.values, part]


def _sexe_sheet(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    groups = {f"{p.code} — {p.titre}": PublicsTouches() for p in ref.piliers}
    total = PublicsTouches()
    for cell in donnees.cellules():
        groups.setdefault(pilier_label(ref, cell.objectif_operationnel),
                          PublicsTouches()).add_cellule(cell)
        total.add_cellule(cell)
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
