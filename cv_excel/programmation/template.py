"""Write the Direction's programmation workbook (empty model or filled rows).

Everything comes from :mod:`cv_excel.programmation.schema`: headers, widths,
help notes, drop-downs. Closed lists live on a « Listes » sheet behind
workbook-level defined names, the only kind of list reference that survives a
round trip through openpyxl and every spreadsheet program.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.config import QUARTIERS_ORLY, Quartier
from cv_excel.generation.validations import DATE_MAX, DATE_MIN
from cv_excel.listes import DISPOSITIFS_DEPARTEMENT, ECHELLE_EPT, MODES_RECUEIL
from cv_excel.nomenclature import (
    NomenclatureDossier,
    en_vigueur,
    nomenclature_p147,
    nomenclature_pour,
)
from cv_excel.programmation.schema import COLUMNS, SHEET, Colonne
from cv_excel.programmation.validators import (
    YEAR_MAX,
    YEAR_MIN,
    format_dates,
    parse_amount,
    parse_date,
    parse_number,
    parse_year,
)
from cv_excel.xlsxio import save_workbook_atomic, set_text

if TYPE_CHECKING:
    from cv_excel.referentiel.models import Referentiel

LISEZ_MOI = "Lisez-moi"
LISTES = "Listes"
AMOUNT_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD/MM/YYYY"
MIN_VALIDATED_ROWS = 1000  # drop-downs cover at least this many rows
AUTHOR = "Politique de la ville – Orly"

_FILL_REQUIRED = PatternFill("solid", fgColor="1F4E78")
_FILL_OPTIONAL = PatternFill("solid", fgColor="5B8DB8")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_THIN = Side(style="thin", color="BFBFBF")


def write_programmation(
    path: str | os.PathLike[str],
    rows: list[dict[str, Any]],
    referentiel: Referentiel,
    annee: int | None = None,
    quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
    nomenclature: NomenclatureDossier | None = None,
) -> Path:
    """Write the programmation workbook; ``rows=[]`` gives the empty model. ``quartiers``
    (``cv_excel.toml``, section [territoire]) feed the « Code QPV » drop-down;
    ``nomenclature`` the P147 drop-downs (by default the one in force, else that of the
    working folder ``path`` is written in: see :func:`cv_excel.nomenclature.nomenclature_pour`)."""
    path = Path(path)
    with en_vigueur(nomenclature or nomenclature_pour(path)):
        return _write(path, rows, referentiel, annee, quartiers)


def _write(path: Path, rows: list[dict[str, Any]], referentiel: Referentiel,
           annee: int | None, quartiers: Sequence[Quartier]) -> Path:
    wb = Workbook()
    _write_lisez_moi(wb.active, annee)
    ws = wb.create_sheet(SHEET)
    _write_listes(wb, wb.create_sheet(LISTES), referentiel, quartiers)
    _write_header(ws)
    for excel_row, row in enumerate(rows, start=2):
        _write_row(ws, excel_row, row)
    _add_validations(ws, last_row=max(MIN_VALIDATED_ROWS, len(rows) + 1))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    wb.properties.title = _title(annee)
    wb.properties.creator = AUTHOR
    save_workbook_atomic(wb, path)
    return path


# --- cells ----------------------------------------------------------------------------------
def _cell_value(col: Colonne, value: Any) -> Any:
    """Typed value for a cell; anything unparsable is written as given (the checker will say)."""
    if value is None or value == "":
        return None
    if col.kind == "montant":
        try:
            return parse_amount(value)
        except ValueError:
            return str(value)
    if col.kind == "entier":
        try:
            return parse_year(value)
        except ValueError:
            return str(value)
    if col.kind == "nombre":
        try:
            number = parse_number(value)
        except ValueError:
            return str(value)
        return int(number) if number == number.to_integral_value() else number
    if col.kind == "date":
        try:
            return parse_date(value)
        except ValueError:
            return str(value)
    if col.kind == "dates" and isinstance(value, list | tuple):
        return format_dates(sorted(value))
    if col.kind == "tags" and isinstance(value, list | tuple):
        return " ; ".join(value) or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a SIRET given as 73282932000074.0 is written 73282932000074
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    return str(value)


def _write_row(ws: Worksheet, excel_row: int, row: dict[str, Any]) -> None:
    for index, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=excel_row, column=index)
        set_text(cell, _cell_value(col, row.get(col.key)))
        cell.number_format = _number_format(col)


def _number_format(col: Colonne) -> str:
    if col.kind == "montant":
        return AMOUNT_FORMAT
    if col.kind == "date":
        return DATE_FORMAT
    return "General" if col.kind in ("entier", "nombre") else "@"


# --- Programmation sheet --------------------------------------------------------------------
def _write_header(ws: Worksheet) -> None:
    for index, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=col.header)
        cell.font = _HEADER_FONT
        cell.fill = _FILL_REQUIRED if col.required else _FILL_OPTIONAL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
        cell.comment = _note(col)
        ws.column_dimensions[letter].width = col.width
        if col.kind not in ("entier", "nombre"):  # "@": a SIRET typed as text keeps its zeros
            ws.column_dimensions[letter].number_format = _number_format(col)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "B2"


def _note(col: Colonne) -> Comment:
    lines = [col.help] if col.help else []
    if col.list_name:
        lines.append("Choisissez dans la liste déroulante.")
    lines.append("Obligatoire." if col.required else "Facultatif.")
    comment = Comment(" ".join(lines), AUTHOR)
    comment.width, comment.height = 260, 110
    return comment


def _add_validations(ws: Worksheet, last_row: int) -> None:
    for index, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        dv = _validation(col)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)


def _validation(col: Colonne) -> DataValidation | None:
    if col.kind == "tags":  # several values typed with « ; » must get through
        return DataValidation(
            type="list", formula1=col.list_name, allow_blank=True, showErrorMessage=True,
            errorStyle="information", errorTitle="Plusieurs valeurs ?",
            error="Plusieurs dispositifs se séparent par un point-virgule ; chacun doit "
            "figurer dans la liste (feuille « Listes »).")
    if col.list_name:
        return DataValidation(
            type="list", formula1=col.list_name, allow_blank=True, showErrorMessage=True,
            errorStyle="stop", errorTitle="Valeur non autorisée",
            error="Choisissez une valeur dans la liste déroulante (feuille « Listes »).")
    if col.kind == "montant":
        return DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
            showErrorMessage=True, errorStyle="stop", errorTitle="Montant invalide",
            error="Saisissez un montant en euros, positif ou nul (par exemple 2500,50).")
    if col.kind == "nombre":
        return DataValidation(
            type="decimal", operator="greaterThan", formula1="0", allow_blank=True,
            showErrorMessage=True, errorStyle="stop", errorTitle="Nombre invalide",
            error="Saisissez un nombre supérieur à 0, sans texte (par exemple 20 ou 12,5).")
    if col.kind == "date":
        return DataValidation(
            # Serial numbers, as every generated workbook writes them (one source of bounds).
            type="date", operator="between", formula1=str(DATE_MIN),
            formula2=str(DATE_MAX), allow_blank=True, showErrorMessage=True,
            errorStyle="stop", errorTitle="Date invalide",
            error="Saisissez une date au format JJ/MM/AAAA, par exemple 15/03/2019.")
    if col.kind == "entier":
        return DataValidation(
            type="whole", operator="between", formula1=str(YEAR_MIN), formula2=str(YEAR_MAX),
            allow_blank=True, showErrorMessage=True, errorStyle="stop",
            errorTitle="Année invalide", error="Saisissez l'année sur quatre chiffres, par "
            "exemple 2019.")
    return None


# --- Listes sheet ---------------------------------------------------------------------------
def list_values(col: Colonne, referentiel: Referentiel,
                quartiers: Sequence[Quartier] = QUARTIERS_ORLY) -> list[str]:
    """The closed list behind a drop-down column."""
    if col.kind == "code_oo":
        return referentiel.codes_oo()
    if col.kind == "code_qpv":
        return [q.code for q in quartiers]
    if col.kind == "p147":  # the nomenclature in force, completed by the Direction's file
        return [c.affichage for c in nomenclature_p147().niveau(col.niveau or 2)]
    return list(col.choices or ())


def _write_listes(wb: Workbook, ws: Worksheet, referentiel: Referentiel,
                  quartiers: Sequence[Quartier] = QUARTIERS_ORLY) -> None:
    column = 1
    for col in _list_columns():
        values = list_values(col, referentiel, quartiers)
        letter = get_column_letter(column)
        _list_header(ws.cell(row=1, column=column), col.header)
        for offset, value in enumerate(values, start=2):
            set_text(ws.cell(row=offset, column=column), value)
        ws.column_dimensions[letter].width = max(14, min(60, max(map(len, values), default=0)))
        last = max(2, len(values) + 1)
        ref = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${last}"
        wb.defined_names[col.list_name] = DefinedName(col.list_name, attr_text=ref)
        if col.kind == "code_oo":  # titles beside the codes, for the reader's eye only
            column += 1
            _list_header(ws.cell(row=1, column=column), "Intitulé de l'objectif opérationnel")
            for offset, code in enumerate(values, start=2):
                set_text(ws.cell(row=offset, column=column), referentiel.objectif(code).titre)
            ws.column_dimensions[get_column_letter(column)].width = 70
        if col.kind == "code_qpv":  # the quartier beside its code
            column += 1
            _list_header(ws.cell(row=1, column=column), "Quartier")
            for offset, q in enumerate(quartiers, start=2):
                note = " – code à confirmer" if q.a_confirmer else ""
                set_text(ws.cell(row=offset, column=column), f"{q.nom} ({q.type}){note}")
            ws.column_dimensions[get_column_letter(column)].width = 50
        if col.kind == "p147" and nomenclature_p147().fichier_direction:
            column += 1  # which codes the Direction's file added or changed
            _list_header(ws.cell(row=1, column=column), "Provenance")
            codes = nomenclature_p147().niveau(col.niveau or 2)
            for offset, code in enumerate(codes, start=2):
                set_text(ws.cell(row=offset, column=column), code.provenance)
            ws.column_dimensions[get_column_letter(column)].width = 40
        column += 2  # one empty column between lists
    ws.freeze_panes = "A2"
    ws.protection.sheet = True  # no password: only guards against accidental edits


def _list_columns() -> Iterable[Colonne]:
    """Drop-down columns, objectifs opérationnels first (the list people browse most)."""
    seen: set[str] = set()
    for col in sorted(COLUMNS, key=lambda c: c.kind != "code_oo"):
        if col.list_name and col.list_name not in seen:
            seen.add(col.list_name)
            yield col


def _list_header(cell: Cell, text: str) -> None:
    set_text(cell, text)
    cell.font = _HEADER_FONT
    cell.fill = _FILL_REQUIRED
    cell.alignment = Alignment(wrap_text=True, vertical="center")


# --- Lisez-moi sheet ------------------------------------------------------------------------
def _title(annee: int | None) -> str:
    suffix = f" {annee}" if annee else ""
    return f"Programmation{suffix} du contrat de ville d'Orly"


def _lisez_moi_lines(annee: int | None) -> list[tuple[str, str]]:
    """(style, text) lines: "titre", "section" or "texte"."""
    required = [c.header for c in COLUMNS if c.required]
    lines: list[tuple[str, str]] = [
        ("titre", _title(annee)),
        ("texte", "Ce classeur recense les actions financées au titre du contrat de ville. "
                  "Il sert ensuite à préparer les classeurs de bilan envoyés à chaque porteur."),
        ("section", "Une ligne par action"),
        ("texte", "Saisissez chaque action sur une ligne de la feuille « Programmation », sous "
                  "la ligne d'en-tête. Chaque action a un n° d'action unique. Un porteur qui "
                  "mène plusieurs actions apparaît sur plusieurs lignes, toujours avec le même "
                  "SIRET et la même raison sociale."),
        ("texte", "Ne renommez ni les feuilles ni les titres de colonnes. L'ordre des colonnes "
                  "peut changer. Une note sur chaque titre de colonne explique ce qu'elle attend."),
        ("section", "Colonnes obligatoires"),
        ("texte", "Les titres sur fond bleu foncé sont obligatoires, ceux sur fond bleu clair "
                  "sont facultatifs. Colonnes obligatoires : " + ", ".join(required) + "."),
        ("section", "Listes déroulantes"),
        ("texte", "Le type de structure, l'objectif opérationnel, les thèmes et sous-thèmes "
                  "ANCT, le territoire, le dispositif du Département et le mode de recueil se "
                  "choisissent dans une liste déroulante. Les valeurs possibles figurent sur la "
                  "feuille « Listes » (avec l'intitulé de chaque objectif opérationnel)."),
        ("section", "Colonnes de l'État (Dauphin, BOP 147)"),
        ("texte", "Facultatives : le n° de dossier Dauphin ; le thème, le sous-thème et la "
                  "modalité de la nomenclature des crédits du P147 (une modalité à 4 chiffres "
                  "suffit : thème et sous-thème s'en déduisent) ; les dispositifs de l'État "
                  "(plusieurs, séparés par un point-virgule) ; le code QPV du quartier "
                  "concerné, choisi parmi les quartiers déclarés dans cv_excel.toml."),
        ("section", "Montants"),
        ("texte", "Pour chaque financeur, saisissez le montant demandé, le montant accordé et "
                  "le montant versé, en euros, sans texte (par exemple 2500 ou 2500,50). Laissez "
                  "vide s'il n'y a pas de montant. Le montant versé ne dépasse pas le montant "
                  "accordé."),
        ("texte", "Dates de versement : une ou plusieurs dates au format JJ/MM/AAAA dans la "
                  "même cellule, séparées par un point-virgule (par exemple « 15/03/2019 ; "
                  "20/09/2019 »)."),
        ("section", "Convention"),
        ("texte", "Indiquez le numéro et la date de signature de la convention de chaque "
                  "action. Avec les dates de versement de la Ville, ils sont nécessaires pour "
                  "publier la subvention en données ouvertes (fichier SCDL « subventions »)."),
        ("texte", "Dispositif du Département : dès que le Département du Val-de-Marne accorde "
                  "un montant, la colonne « Département – dispositif » est obligatoire : "
                  + ", ".join(f"« {d} »" for d in DISPOSITIFS_DEPARTEMENT) + "."),
        ("section", "Indicateur de résultat unique et échelle de l'EPT"),
        ("texte", "Chaque action a un seul indicateur de résultat, noté de 0 à 100 au bilan. "
                  "Les colonnes « Déclinaison 0 » à « Déclinaison 100 » disent, pour cette "
                  "action, ce que signifie chaque note. L'échelle du guide de l'EPT :"),
        *[("texte", f"    {p} : {texte}") for p, texte in ECHELLE_EPT.items()],
        ("section", "Objectif quantifié"),
        ("texte", "Facultatif, mais attendu par l'évaluation : ce que l'action doit produire "
                  "(« Objectif quantifié »), combien (« Valeur cible », un nombre) et en quelle "
                  "unité (« Unité » : jeunes, séances, heures, %…). Le bilan du porteur les "
                  "rappelle, lui demande la valeur atteinte et calcule le taux d'atteinte, qui "
                  "guide la note de 0 à 100 (moins de 20 % de l'objectif : 20 ; de 20 à 40 % : "
                  "40 ; de 40 à 60 % : 60 ; de 60 à 100 % : 80 ; au-delà : 100)."),
        ("section", "Les quatre modes de recueil"),
        ("texte", "Le mode de recueil dit comment la valeur de l'indicateur sera obtenue :"),
        *[("texte", f"    • {mode}") for mode in MODES_RECUEIL],
        ("section", "Vérifier le fichier"),
        ("texte", "Avant de l'envoyer, faites vérifier le fichier avec la commande "
                  "« cv-excel programmation verifier <fichier.xlsx> ». Elle liste chaque "
                  "problème avec sa cellule (par exemple Programmation!D12) et la façon de le "
                  "corriger."),
    ]
    return lines


def _write_lisez_moi(ws: Worksheet, annee: int | None) -> None:
    ws.title = LISEZ_MOI
    ws.column_dimensions["A"].width = 110
    ws.sheet_view.showGridLines = False
    fonts = {"titre": Font(bold=True, size=16, color="1F4E78"),
             "section": Font(bold=True, size=12, color="1F4E78"), "texte": Font(size=11)}
    row = 1
    for style, text in _lisez_moi_lines(annee):
        if style == "section":
            row += 1  # blank line before each section
        cell = ws.cell(row=row, column=1)
        set_text(cell, text)
        cell.font = fonts[style]
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1

