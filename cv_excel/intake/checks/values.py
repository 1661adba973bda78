"""The values the porteur or the référent typed: types, lists, lengths, then coherence.

Spec-driven first: every ``saisie`` cell of every sheet (single sheets, repeated
sections, and the saisie cells of their tables) is checked against its
:class:`~cv_excel.spec.model.Champ` (kind, required, list, bounds, length). The
values that pass are kept, parsed, for the coherence rules of each workbook
kind (score and justification, bénéficiaires, dates, budget balance and gaps,
proposed indicators). A value that failed its own check is left out of the
coherence rules, so one typing mistake gives one finding.

Budget totals are recomputed from the lines: the template's formula cells may
hold stale cached values when the file was saved by a program that does not
recalculate. Nothing here raises on odd input.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cv_excel.findings import Finding, make_finding
from cv_excel.intake.context import IntakeContext
from cv_excel.listes import DECISIONS_OUVERTES, notes_du_taux
from cv_excel.programmation.validators import (
    is_valid_email,
    parse_amount,
    parse_number,
    parse_year,
    scientific,
)
from cv_excel.reader import ClasseurLu, SectionLue, Valeur
from cv_excel.spec.budget import CHARGES_INDIRECTES, SEUIL_ECART
from cv_excel.spec.model import DATE_MAX, DATE_MIN, Champ, ClasseurSpec, Feuille, Tableau
from cv_excel.text import as_decimal, canonical_choice

_BAD = object()  # a value that failed its own check: left out of the coherence rules
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_SCIENTIFIC = Decimal(10) ** 15  # from here a number is shown as Excel shows it: 1E+20
_TOLERANCE_EQUILIBRE = Decimal(1)  # euros
_SHOWN_MAX = 80  # characters of a typed value repeated in a message

# Porteur « Action » sheet.
_SCORE, _JUSTIFICATION, _REALISATION = "act_score", "act_score_justification", "act_realisation"
_DEBUT, _FIN = "act_date_debut", "act_date_fin"
_CIBLE, _ATTEINTE, _UNITE = "act_valeur_cible", "act_valeur_atteinte", "act_unite"
_TOTAL, _FEMMES, _HOMMES, _QPV = ("act_benef_total", "act_benef_femmes", "act_benef_hommes",
                                  "act_benef_qpv")
_AGES = ("act_benef_moins_12", "act_benef_12_17", "act_benef_18_25", "act_benef_26_59",
         "act_benef_60_plus")
_EXPLICATION = "bud_ecarts_explication"
_CHARGES, _CHARGES_CONTRIB = "bud_charges", "bud_charges_contrib"
_PRODUITS, _PRODUITS_CONTRIB = "bud_produits", "bud_produits_contrib"
_TOTAL_CHARGES_REALISE = "bud_total_charges_realise"
_REPARTITION = "bud_repartition_charges_indirectes"
_INDIRECTES = frozenset(ligne.key for ligne in CHARGES_INDIRECTES)
_REALISEES = ("Réalisée", "Partiellement réalisée", "En cours")  # the action took place
_NON_REALISEES = ("Non réalisée", "Reportée")  # it did not (this year)
_EN_COURS = "En cours"  # running at a revue: the bilan is not final
# Référent « Objectif » sheet.
_NOUVEAUX = "obj_nouveaux_indicateurs"
# The indicator values typed as numbers (référent workbook v2): a word there says the
# value is not available (a warning, the cell counts as empty) or is a typing mistake.
_INDICATEUR_NOMBRES = frozenset(f"{table}.{column}"
                                for table in ("obj_indicateurs", _NOUVEAUX)
                                for column in ("valeur_annee", "valeur_reference",
                                               "valeur_cible"))
_NON_DISPONIBLE = re.compile(
    r"^(?:n\s?[./]?\s?[dca]\.?|nr|s\.?\s?o\.?|sans objet|\?+|[-–—/x]+"
    r"|.*\b(?:disponible|indisponible|connue?|inconnue?|communiquée?|renseignée?|attente"
    r"|pas (?:de|encore)|aucune? donnée|à venir|ultérieurement|en cours de"
    r"(?: calcul| recueil| collecte)?)\b.*)$", re.IGNORECASE)
# Relevé de décisions « Décisions » sheet.
_SUIVI, _NOUVELLES = "dec_suivi", "dec_nouvelles"
_DECISION_REQUIS = ("decision", "responsable", "echeance")
_CLOSES = ("Réalisée", "Abandonnée")


# --- small formatting helpers ------------------------------------------------------------

def _euros(amount: Decimal) -> str:
    """« 1 200,50 » / « 1 200 »: French grouping, no trailing ,00."""
    text = f"{amount.quantize(Decimal('0.01')):,.2f}".replace(",", " ").replace(".", ",")
    return text.removesuffix(",00")


def _number_text(number: Decimal | int) -> str:
    """« 40 », « 18,5 », and, for an absurd number, Excel's « 1E+20 » (never 300 digits)."""
    number = Decimal(number)
    if abs(number) >= _SCIENTIFIC:
        return scientific(number)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f").replace(".", ",")


def _grouped(number: float) -> str:
    """A bound as a French reader writes it: « 1 000 000 », « -100 000 000 »."""
    return f"{int(number):,}".replace(",", " ") if float(number).is_integer() else \
        _number_text(Decimal(str(number)))


def _date_text(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"  # strftime does not pad year 1


def _shown(value: Any) -> Any:
    """A read value as a user would recognise it (dates as jj/mm/aaaa, 0,5, VRAI)."""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return repr(value).replace(".", ",")
    if isinstance(value, dt.datetime):
        return _date_text(value) if value.time() == dt.time() else value.strftime(
            "%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return _date_text(value)
    return value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- the walk ----------------------------------------------------------------------------

@dataclass
class _Cell:
    valeur: Valeur
    champ: Champ
    field: str  # the defined name, or « tableau.colonne »
    label: str  # the French label shown in « »


@dataclass
class _Parsed:
    """The checked values of one sheet; ``None`` when empty, absent when unreadable."""

    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, _Cell] = field(default_factory=dict)
    # table name -> row key -> column -> value (None when empty or unreadable)
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    table_cells: dict[str, dict[str, dict[str, _Cell]]] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value is _BAD else value


class _Checker:
    def __init__(self, lu: ClasseurLu, annee: int):
        self.lu = lu
        self.spec: ClasseurSpec = lu.spec
        self.annee = annee
        self.findings: list[Finding] = []

    # findings ------------------------------------------------------------------------
    def emit(self, code: str, cell: _Cell, value: Any = None, **context: Any) -> None:
        shown = _shown(cell.valeur.value if value is None else value)
        if isinstance(shown, str) and len(shown) > _SHOWN_MAX:
            shown = shown[:_SHOWN_MAX] + "…"
        self.findings.append(make_finding(
            code, value=shown, sheet=cell.valeur.sheet, cell=cell.valeur.cell,
            field=cell.field, label=cell.label, annee=self.annee, **context))

    def supersede(self, code: str, cell: _Cell) -> None:
        """Drop a generic finding on ``cell`` that a more precise one replaces."""
        self.findings = [f for f in self.findings if not (
            f.code == code and f.sheet == cell.valeur.sheet and f.cell == cell.valeur.cell)]

    # sheets --------------------------------------------------------------------------
    def feuille(self, feuille: Feuille, part: SectionLue) -> _Parsed:
        parsed = _Parsed()
        for champ in feuille.champs:
            valeur = part.values.get(champ.name)
            if valeur is None:  # name missing: reported by the workbook check
                continue
            cell = _Cell(valeur, champ, champ.name, champ.label)
            parsed.cells[champ.name] = cell
            if champ.role == "saisie":
                parsed.values[champ.name] = self.check(cell)
            else:
                parsed.values[champ.name] = _quiet(champ, valeur.value)
        for tableau in feuille.tableaux:
            self.tableau(tableau, part, parsed)
        return parsed

    def tableau(self, tableau: Tableau, part: SectionLue, parsed: _Parsed) -> None:
        rows = part.tables.get(tableau.name)
        if rows is None:
            return
        keys = part.table_keys.get(tableau.name) or [str(i + 1) for i in range(len(rows))]
        lignes = {ligne.key: ligne.label for ligne in tableau.lignes or ()}
        values = parsed.tables.setdefault(tableau.name, {})
        cells = parsed.table_cells.setdefault(tableau.name, {})
        for key, row in zip(keys, rows, strict=False):
            saisies = [c for c in tableau.colonnes if c.name in row
                       and tableau.role_of(key if tableau.lignes else None, c.name) == "saisie"]
            # A capacity table's unused row is not an input: only check the rows in use —
            # something typed, or an item the generator wrote there (a piste d'action, a
            # decision to follow up), whose required inputs must then be answered.
            used = tableau.lignes is not None or any(
                not _is_empty(row[c.name].value) for c in saisies) or any(
                not _is_empty(row[c.name].value) for c in tableau.colonnes
                if c.name in row and c.role == "prerempli")
            values[key], cells[key] = {}, {}
            for col in tableau.colonnes:
                valeur = row.get(col.name)
                if valeur is None:
                    continue
                if key in lignes:
                    label = f"{lignes[key]} ({col.label.lower()})"
                else:
                    label = f"{tableau.label}, ligne {key} : {col.label}"
                cell = _Cell(valeur, col, f"{tableau.name}.{col.name}", label)
                cells[key][col.name] = cell
                if col in saisies and used:
                    values[key][col.name] = self.check(cell)
                else:
                    values[key][col.name] = _quiet(col, valeur.value)

    # one cell ------------------------------------------------------------------------
    def check(self, cell: _Cell) -> Any:
        value = cell.valeur.value
        if _is_empty(value):
            if cell.champ.required:
                self.emit("VAL_REQUIS", cell, value="")
            return None
        try:
            return _KINDS.get(cell.champ.kind, _texte)(self, cell, value)
        except Exception:  # noqa: BLE001 - a check never crashes a user's run
            self.unreadable(cell)
            return _BAD

    def unreadable(self, cell: _Cell) -> None:
        """A check that failed unexpectedly: a plain French finding on the cell, never
        a silently skipped value nor the text of a Python exception."""
        try:
            self.emit("VAL_ILLISIBLE", cell)
        except Exception:  # noqa: BLE001 - the value itself cannot be shown
            self.emit("VAL_ILLISIBLE", cell, value="?")


# --- one function per kind -------------------------------------------------------------

def _texte(ck: _Checker, cell: _Cell, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(_shown(value))
    limit = cell.champ.max_length
    if limit is not None and len(text) > limit:
        ck.emit("VAL_TEXTE_TROP_LONG", cell, value=text, length=len(text), max_length=limit)
        return _BAD
    return text


def _email(ck: _Checker, cell: _Cell, value: Any) -> Any:
    text = _texte(ck, cell, value)
    if text is _BAD:
        return _BAD
    if not isinstance(value, str) or not is_valid_email(text):
        ck.emit("VAL_EMAIL", cell)
        return _BAD
    return text


def _number(ck: _Checker, cell: _Cell, value: Any) -> Any:
    """entier, decimal, montant: a number within the spec's plausible bounds, or such a
    number typed as text (warning)."""
    champ = cell.champ
    as_text = isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        ck.emit("VAL_PAS_UN_NOMBRE", cell)
        return _BAD
    try:  # exact and unrounded, however large: the bounds come first
        number = parse_number(value)
    except ValueError:  # words, NaN, infinities
        if cell.field in _INDICATEUR_NOMBRES:
            return _indicateur_texte(ck, cell, value)
        ck.emit("VAL_PAS_UN_NOMBRE", cell)
        return _BAD
    if not _plausible(ck, cell, number):
        return _BAD
    if as_text:  # bounded, so rounding to the cent cannot overflow
        number = number.quantize(_CENT, rounding=ROUND_HALF_UP)
        if number == number.to_integral_value():
            number = number.quantize(Decimal(1))
    if champ.kind == "entier" and number != number.to_integral_value():
        ck.emit("VAL_ENTIER", cell, value=_number_text(number))
        return _BAD
    if as_text:
        shown = _euros(number) if champ.kind == "montant" else _number_text(number)
        ck.emit("VAL_NOMBRE_TEXTE", cell, nombre=shown)
    return int(number) if champ.kind == "entier" else number


def _indicateur_texte(ck: _Checker, cell: _Cell, value: Any) -> Any:
    """A word typed for an indicator's value: « non disponible » and its variants are
    accepted with a warning (the value counts as not given), anything else is blocking
    with the indicator's own advice (the unit has its own column)."""
    if isinstance(value, str) and _NON_DISPONIBLE.match(" ".join(value.split())):
        ck.emit("VAL_INDICATEUR_NON_DISPONIBLE", cell)
        return None
    ck.emit("VAL_INDICATEUR_PAS_UN_NOMBRE", cell)
    return _BAD


def _plausible(ck: _Checker, cell: _Cell, number: Decimal) -> bool:
    """Within the field's bounds (its own, else its kind's default: see spec.model)."""
    low, high = cell.champ.bornes or (None, None)
    euro = " €" if cell.champ.kind == "montant" else ""
    if low is not None and number < Decimal(str(low)):
        if number < 0 <= low:
            ck.emit("VAL_NEGATIF", cell, value=_number_text(number), minimum=_grouped(low))
        else:
            ck.emit("VAL_INVRAISEMBLABLE", cell, value=_number_text(number),
                    borne=f"au moins {_grouped(low)}{euro}")
        return False
    if high is not None and number > Decimal(str(high)):
        ck.emit("VAL_INVRAISEMBLABLE", cell, value=_number_text(number),
                borne=f"au plus {_grouped(high)}{euro}")
        return False
    return True


_DMY = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")


def parse_date_text(text: str) -> dt.date | None:
    """A date typed as text: jj/mm/aaaa (also - or . and two-digit years) or aaaa-mm-jj."""
    text = text.strip()
    if m := _DMY.match(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        if len(m[3]) == 2:
            year += 2000
    elif m := _YMD.match(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date(ck: _Checker, cell: _Cell, value: Any) -> Any:
    """A date between DATE_MIN and DATE_MAX (spec.model), or such a date typed as text
    (warning). A number typed in a date cell is read by Excel as a day count since 1900:
    2019 becomes 11/07/1905, which is out of the bounds."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and (day := parse_date_text(value)) is not None:
        pass
    else:
        ck.emit("VAL_PAS_UNE_DATE", cell)
        return _BAD
    if not DATE_MIN <= day <= DATE_MAX:
        ck.emit("VAL_INVRAISEMBLABLE", cell, value=_date_text(day),
                borne=f"une date entre le {_date_text(DATE_MIN)} et le {_date_text(DATE_MAX)}")
        return _BAD
    if isinstance(value, str):
        ck.emit("VAL_DATE_TEXTE", cell, date=_date_text(day))
    return day


def _liste(ck: _Checker, cell: _Cell, value: Any) -> Any:
    allowed = ck.spec.listes.get(cell.champ.liste or "", ())
    if not allowed:  # an unknown list cannot be checked; the template check reports it
        return value
    found = _in_list(value, allowed)
    if found is not None:
        return found
    if cell.champ.liste == "liste_score":
        ck.emit("VAL_SCORE", cell)
    else:
        ck.emit("VAL_HORS_LISTE", cell, allowed=", ".join(f"« {a} »" for a in allowed))
    return _BAD


def _in_list(value: Any, allowed: Iterable[str | int]) -> str | int | None:
    """The list's own spelling of ``value`` (the one normalisation of :mod:`cv_excel.text`)."""
    return canonical_choice(value, allowed)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, str):
        try:
            return parse_amount(value)
        except ValueError:
            return None
    return as_decimal(value)


_KINDS = {
    "texte": _texte,
    "texte_long": _texte,
    "email": _email,
    "entier": _number,
    "decimal": _number,
    "montant": _number,
    "date": _date,
    "liste": _liste,
}


def _quiet(champ: Champ, value: Any) -> Any:
    """A prefilled or computed value, parsed without findings (tampering is checked
    elsewhere): numbers for numeric kinds, else the value as read."""
    if champ.kind in ("entier", "decimal", "montant"):
        return _as_number(value)
    return None if _is_empty(value) else value


# --- porteur coherence -------------------------------------------------------------------

def _action(ck: _Checker, p: _Parsed) -> None:
    _score(ck, p)
    _score_taux(ck, p)
    _beneficiaires(ck, p)
    _dates_ordre(ck, p)
    _budget(ck, p)
    _charges_indirectes(ck, p)


def _score(ck: _Checker, p: _Parsed) -> None:
    score, realisation = p.get(_SCORE), p.get(_REALISATION)
    if score is None:
        return
    justification = p.cells.get(_JUSTIFICATION)
    if justification is not None and p.values.get(_JUSTIFICATION) is None:
        ck.supersede("VAL_REQUIS", justification)
        ck.emit("VAL_SCORE_JUSTIFICATION", justification, value="", score=score)
    if realisation is None or _REALISATION not in p.cells:
        return
    if (score == 0 and realisation in _REALISEES) or (
            score > 0 and realisation == "Non réalisée"):
        ck.emit("VAL_SCORE_REALISATION", p.cells[_SCORE], value=score, score=score,
                realisation=realisation)


def _score_taux(ck: _Checker, p: _Parsed) -> None:
    """With a valeur cible (programmation) and a valeur atteinte, the note should be the
    one the rate calls for on the EPT scale (Annexe 3). A warning only: the porteur may
    have reasons (an objective revised during the year), said in the justification.
    The rate is recomputed here, never read from the template's formula cell."""
    score, cible, atteinte = p.get(_SCORE), p.get(_CIBLE), p.get(_ATTEINTE)
    if score is None or _SCORE not in p.cells:
        return
    if not isinstance(cible, Decimal) or cible <= 0 or not isinstance(atteinte, Decimal):
        return
    taux = atteinte / cible * 100
    attendues = notes_du_taux(taux)
    if score in attendues:
        return
    unite = p.get(_UNITE)
    unite = f" {str(unite).strip()}" if not _is_empty(unite) else ""
    ck.emit("VAL_SCORE_TAUX", p.cells[_SCORE], value=score, score=score,
            atteinte=_number_text(atteinte) + unite, cible=_number_text(cible) + unite,
            taux=_number_text(taux.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
            attendue=" ou ".join(map(str, attendues)))


def _beneficiaires(ck: _Checker, p: _Parsed) -> None:
    total = p.get(_TOTAL)
    if total is None:
        return
    femmes, hommes = p.get(_FEMMES), p.get(_HOMMES)
    if femmes is not None and hommes is not None:
        if femmes + hommes != total:
            ck.emit("VAL_BENEF_SEXE", p.cells[_FEMMES], value=femmes, femmes=femmes,
                    hommes=hommes, somme=femmes + hommes, total=total)
    else:
        for name, part in ((_FEMMES, femmes), (_HOMMES, hommes)):
            if part is not None and part > total:
                ck.emit("VAL_BENEF_PARTIE", p.cells[name], value=part, total=total)
    qpv = p.get(_QPV)
    if qpv is not None and qpv > total:
        ck.emit("VAL_BENEF_QPV", p.cells[_QPV], value=qpv, total=total)
    ages = [(name, p.get(name)) for name in _AGES if name in p.cells]
    given = [(name, n) for name, n in ages if n is not None]
    if given and sum(n for _, n in given) > total:
        first = given[0][0]
        somme = sum(n for _, n in given)
        ck.emit("VAL_BENEF_AGES", p.cells[first], value=somme, somme=somme, total=total)


def _dates_ordre(ck: _Checker, p: _Parsed) -> None:
    debut, fin = p.get(_DEBUT), p.get(_FIN)
    if isinstance(debut, dt.date) and isinstance(fin, dt.date) and debut > fin:
        ck.emit("VAL_DATES_ORDRE", p.cells[_DEBUT], value=_date_text(debut),
                debut=_date_text(debut), fin=_date_text(fin))


def _dates_annee(ck: _Checker, p: _Parsed) -> None:
    for name, cell in p.cells.items():
        day = p.get(name)
        if cell.champ.kind == "date" and isinstance(day, dt.date) \
                and abs(day.year - ck.annee) > 1:
            ck.emit("VAL_DATES_ANNEE", cell, value=_date_text(day), date=_date_text(day))


@dataclass
class _Ligne:
    label: str
    prevu: Decimal | None
    realise: Decimal | None


def _lignes(ck: _Checker, p: _Parsed, table: str) -> list[_Ligne]:
    tableau = next((t for t in ck.spec.section.tableaux if t.name == table), None)
    labels = {ligne.key: ligne.label for ligne in (tableau.lignes or ())} if tableau else {}
    result = []
    for key, row in p.tables.get(table, {}).items():
        prevu, realise = row.get("prevu"), row.get("realise")
        result.append(_Ligne(labels.get(key, key),
                             prevu if isinstance(prevu, Decimal) else None,
                             realise if isinstance(realise, Decimal) else None))
    return result


def _budget(ck: _Checker, p: _Parsed) -> None:
    tables = {t: _lignes(ck, p, t) for t in (_CHARGES, _CHARGES_CONTRIB, _PRODUITS,
                                               _PRODUITS_CONTRIB)}
    if not tables[_CHARGES] and not tables[_PRODUITS]:
        return
    def unreadable(column: str) -> bool:  # already reported; totals would be wrong
        return any(row.get(column) is _BAD for t in tables for row in p.tables.get(t, {}).values())

    if unreadable("realise"):
        return
    if all(ligne.realise is None for lignes in tables.values() for ligne in lignes):
        if p.get(_REALISATION) not in _NON_REALISEES:
            first = p.table_cells.get(_CHARGES, {})
            cell = next((row["realise"] for row in first.values() if "realise" in row), None)
            if cell is not None:
                # An action still running may have spent nothing on paper yet: the final
                # bilan will ask for its réalisé; until then it is said, not refused.
                code = ("VAL_BUDGET_REALISE_EN_COURS" if p.get(_REALISATION) == _EN_COURS
                        else "VAL_BUDGET_REALISE_VIDE")
                ck.emit(code, cell, value="")
        return

    def total(lignes: list[_Ligne], attr: str) -> Decimal:
        return sum((getattr(ligne, attr) or _ZERO for ligne in lignes), _ZERO)

    anchor = p.cells.get(_TOTAL_CHARGES_REALISE)
    for charges, produits, labels in (
            (_CHARGES, _PRODUITS, ("total des charges", "total des produits")),
            (_CHARGES_CONTRIB, _PRODUITS_CONTRIB,
             ("emplois des contributions volontaires (86)",
              "contributions volontaires en nature (87)"))):
        c, r = total(tables[charges], "realise"), total(tables[produits], "realise")
        if abs(c - r) <= _TOLERANCE_EQUILIBRE:
            continue
        cell = anchor if charges == _CHARGES else next(
            iter(p.table_cells.get(charges, {}).values()), {}).get("realise")
        if cell is None:
            continue
        ck.emit("VAL_BUDGET_DESEQUILIBRE", cell, value=_euros(c), charges_label=labels[0],
                charges=_euros(c), produits_label=labels[1], produits=_euros(r),
                ecart=_euros(abs(c - r)))

    if unreadable("prevu"):
        return
    def total_line(label: str, lignes: list[_Ligne]) -> _Ligne:  # réalisé None: none typed
        typed = any(ligne.realise is not None for ligne in lignes)
        return _Ligne(label, total(lignes, "prevu"),
                      total(lignes, "realise") if typed else None)

    # As the workbook shows them: a line (or total) without réalisé has no gap yet; a
    # réalisé on a line without prévu is a gap to explain.
    ecarts = []
    candidates = [ligne for lignes in tables.values() for ligne in lignes]
    candidates += [total_line("Total des charges", tables[_CHARGES]),
                   total_line("Total des produits", tables[_PRODUITS])]
    for ligne in candidates:
        if ligne.realise is None:
            continue
        prevu, realise = ligne.prevu or _ZERO, ligne.realise
        if prevu == 0 and realise != 0:
            ecarts.append(f"{ligne.label} (réalisé {_euros(realise)} € sans montant prévu)")
        elif prevu > 0 and abs(realise - prevu) > prevu * Decimal(str(SEUIL_ECART)):
            part = (realise - prevu) / prevu * 100
            ecarts.append(f"{ligne.label} (prévu {_euros(prevu)} €, réalisé {_euros(realise)} "
                          f"€, {'+' if part > 0 else '−'}{abs(part):.0f} %)")
    explication = p.cells.get(_EXPLICATION)
    if ecarts and explication is not None and p.values.get(_EXPLICATION) is None:
        ck.emit("VAL_ECART_NON_EXPLIQUE", explication, value="",
                seuil=f"{SEUIL_ECART * 100:.0f}", lignes=" ; ".join(ecarts))


def _charges_indirectes(ck: _Checker, p: _Parsed) -> None:
    """Charges indirectes affected to the action call for the Cerfa's question « Quelle a
    été la règle de répartition des charges indirectes appliquée ? » (a warning)."""
    rows = [row for key, row in p.tables.get(_CHARGES, {}).items() if key in _INDIRECTES]
    sums = {col: sum((row[col] for row in rows if isinstance(row.get(col), Decimal)), _ZERO)
            for col in ("prevu", "realise")}
    cell = p.cells.get(_REPARTITION)
    if cell is None or not any(sums.values()) or p.values.get(_REPARTITION) is not None:
        return
    montants = ", ".join(f"{nom} {_euros(sums[col])} €" for col, nom in
                         (("prevu", "prévu"), ("realise", "réalisé")) if sums[col])
    ck.emit("VAL_CHARGES_INDIRECTES_SANS_REGLE", cell, value="", montants=montants)


# --- référent coherence ------------------------------------------------------------------

def _objectif(ck: _Checker, p: _Parsed) -> None:
    values, cells = p.tables.get(_NOUVEAUX, {}), p.table_cells.get(_NOUVEAUX, {})
    for key, row in values.items():
        row_cells = cells.get(key, {})
        libelle_vide = _is_empty(row.get("libelle"))
        others = [c for c in row if c != "libelle" and row_cells.get(c) is not None
                  and not _is_empty(row_cells[c].valeur.value)]
        if not libelle_vide and "type" in row_cells and _is_empty(row_cells["type"].valeur.value):
            ck.emit("VAL_NOUVEL_INDICATEUR_INCOMPLET", row_cells["type"], value="", ligne=key,
                    manque="le type")
        elif libelle_vide and others and "libelle" in row_cells:
            ck.emit("VAL_NOUVEL_INDICATEUR_INCOMPLET", row_cells["libelle"], value="",
                    ligne=key, manque="le libellé de l'indicateur")


# --- relevé de décisions ------------------------------------------------------------------

def _decisions(ck: _Checker, p: _Parsed, date_revue: dt.date | None) -> None:
    """A new decision needs its text, owner and deadline; closing one calls for a word of
    follow-up; an open decision's deadline before the revue is worth a look."""
    cells = p.table_cells.get(_NOUVELLES, {})
    for key, row in p.tables.get(_NOUVELLES, {}).items():
        row_cells = cells.get(key, {})
        if all(_is_empty(c.valeur.value) for c in row_cells.values()):
            continue
        for name in _DECISION_REQUIS:
            cell = row_cells.get(name)
            if cell is not None and _is_empty(cell.valeur.value):
                ck.emit("VAL_DECISION_INCOMPLETE", cell, value="", ligne=key,
                        manque=f"« {cell.champ.label} »")
        _echeance(ck, row, row_cells, date_revue, f"de la ligne {key} (nouvelle)")
    cells = p.table_cells.get(_SUIVI, {})
    for key, row in p.tables.get(_SUIVI, {}).items():
        row_cells = cells.get(key, {})
        numero = row.get("numero")
        if _is_empty(numero):
            continue
        which = f"n° {numero}"
        commentaire = row_cells.get("commentaire")
        if row.get("statut") in _CLOSES and commentaire is not None \
                and _is_empty(commentaire.valeur.value):
            ck.emit("VAL_DECISION_CLOSE_SANS_COMMENTAIRE", commentaire, value="",
                    decision=which, statut=row["statut"])
        _echeance(ck, row, row_cells, date_revue, which)


def _echeance(ck: _Checker, row: dict[str, Any], cells: dict[str, _Cell],
              date_revue: dt.date | None, which: str) -> None:
    echeance, cell = row.get("echeance"), cells.get("echeance")
    statut = row.get("statut")
    if date_revue is None or cell is None or not isinstance(echeance, dt.date):
        return
    if (statut is None or statut in DECISIONS_OUVERTES) and echeance < date_revue:
        ck.emit("VAL_DECISION_ECHEANCE_PASSEE", cell, value=_date_text(echeance),
                date=_date_text(echeance), decision=which,
                date_revue=_date_text(date_revue))


def _date_revue(lu: ClasseurLu, ctx: IntakeContext, annee: int,
                singles: dict[str, _Parsed]) -> dt.date | None:
    """The date the revue was held (typed in the relevé), else its planned date."""
    typed = singles["releve"].get("rel_date") if "releve" in singles else None
    if isinstance(typed, dt.date):
        return typed
    try:
        numero = int(float(lu.meta.get("meta_revue")))
    except (TypeError, ValueError):
        return None
    return ctx.date_revue(annee, numero)


# --- entry point -------------------------------------------------------------------------

def workbook_year(lu: ClasseurLu, ctx: IntakeContext) -> int:
    """The year the workbook was generated for (its metadata), else the context's."""
    try:
        return parse_year(lu.meta.get("meta_annee"))
    except (ValueError, TypeError):
        return ctx.annee


def check_values(lu: ClasseurLu, ctx: IntakeContext) -> list[Finding]:
    """Every finding about the values typed in the workbook, in sheet order."""
    ck = _Checker(lu, workbook_year(lu, ctx))
    singles: dict[str, _Parsed] = {}
    for feuille in lu.spec.feuilles:
        if feuille.repetee or feuille.key not in lu.single:
            continue
        singles[feuille.key] = ck.feuille(feuille, lu.single[feuille.key])
        _dates_annee(ck, singles[feuille.key])
    date_revue = (_date_revue(lu, ctx, ck.annee, singles) if lu.spec.kind == "decisions"
                  else None)
    for part in lu.sections:
        parsed = ck.feuille(lu.spec.section, part)
        _dates_annee(ck, parsed)
        if lu.spec.kind == "porteur":
            _action(ck, parsed)
        elif lu.spec.kind == "referent":
            _objectif(ck, parsed)
        elif lu.spec.kind == "decisions":
            _decisions(ck, parsed, date_revue)
    return ck.findings
