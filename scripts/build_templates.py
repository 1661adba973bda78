"""Build the two workbook templates (``templates/*.xlsx``) from the specification.

    python scripts/build_templates.py [--dossier templates]

The script walks :mod:`cv_excel.spec`: every ``Champ`` becomes a label and a
sheet-scoped named cell, every ``Tableau`` a header, its row labels and a named
rectangle, every list a column of the hidden « Listes » sheet behind a
workbook-scoped name. A field added to the spec therefore appears in the
templates when the script is re-run. The layout tables below (section bands,
column widths, help texts) only say *where* and *how* things look; they never
list the names a template must carry.

The output is deterministic: fixed document dates and zip timestamps, so a
rebuild gives the same bytes and the committed templates can be compared with a
fresh build. The Direction may restyle the templates in Excel afterwards: the
generator finds every cell through its defined name, never through its address.

Dev-only dependency: Pillow, to draw the logo of the « Lisez-moi » sheet.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from cv_excel.atomic import write_bytes_atomic  # noqa: E402
from cv_excel.listes import ECHELLE_EPT, MODES_RECUEIL  # noqa: E402
from cv_excel.spec import SPECS  # noqa: E402
from cv_excel.spec.budget import SEUIL_ECART  # noqa: E402
from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Tableau  # noqa: E402
from cv_excel.xlsx.refs import Area, split_address  # noqa: E402
from cv_excel.xlsxio import set_text  # noqa: E402

LISTES = "Listes"
MODELE_VERSION = "2019.1"  # version of the template layout, written in cv_meta
AUTHOR = "Politique de la ville – Orly"
FIXED_DATE = datetime(2019, 1, 1)  # document dates: a rebuild gives the same bytes
ZIP_DATE = (2019, 1, 1, 0, 0, 0)

# --- capacities of the tables without fixed rows (the spec gives the minimum) -------------
CAPACITES = {"obj_indicateurs": 40, "obj_actions": 20, "obj_nouveaux_indicateurs": 5}

# --- styles --------------------------------------------------------------------------------
BLEU = "1F4E78"
_THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
FILL = {
    "saisie": PatternFill("solid", fgColor="FFF2CC"),
    "prerempli": PatternFill("solid", fgColor="F2F2F2"),
    "calcul": PatternFill("solid", fgColor="DDEBF7"),
    "bande": PatternFill("solid", fgColor=BLEU),
    "entete": PatternFill("solid", fgColor="D9E1F2"),
}
ECART_FILL = PatternFill("solid", fgColor="F8CBAD")
# Écart (%) of a line spent or received without any amount planned: no percentage exists,
# and a word reads better than an abbreviation (« n.p. ») or an orange empty cell.
NON_PREVU = "non prévu"
FONT = Font(name="Calibri", size=11)
FONT_BOLD = Font(name="Calibri", size=11, bold=True)
FONT_BANDE = Font(name="Calibri", size=12, bold=True, color="FFFFFF")
FONT_TITRE = Font(name="Calibri", size=16, bold=True, color=BLEU)
FONT_TITRE_FEUILLE = Font(name="Calibri", size=14, bold=True, color="FFFFFF")
FONT_AIDE = Font(name="Calibri", size=10, italic=True, color="595959")
FONT_PETIT = Font(name="Calibri", size=9, color="808080")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WRAP_CENTER = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
NUMBER_FORMATS = {
    "montant": '#,##0.00 "€"',
    "date": "DD/MM/YYYY",
    "entier": "0",
    "decimal": "General",  # a quantity (20 jeunes, 12,5 heures), not a price
}
PERCENT = "0.0%"
# Computed fields other than sums: their formula over the cells of earlier fields, and
# their number format when it is not their kind's.
FORMULES = {
    # Taux d'atteinte in % (a number 0..100+), blank until both figures are numbers.
    "act_taux_atteinte": lambda c: (
        f'=IF(AND(ISNUMBER({c["act_valeur_cible"]}),ISNUMBER({c["act_valeur_atteinte"]})),'
        f'IF({c["act_valeur_cible"]}>0,{c["act_valeur_atteinte"]}/{c["act_valeur_cible"]}*100,'
        '""),"")'),
}
FORMATS = {"act_taux_atteinte": '0.0" %"'}
SHORT_KINDS = {"montant", "date", "entier", "decimal"}  # one cell wide, not merged
HAUTEUR_LONG = 75  # texte_long rows typed by the user
HAUTEUR_LONG_PREREMPLI = 60
HAUTEUR_TEXTE = 18
HAUTEUR_TEXTE_SECTION = 32  # prefilled texts of the repeated sheet (intitulés, indicateur)
HAUTEUR_LIGNE_TABLEAU = 45


@dataclass(frozen=True)
class Grille:
    """Columns of one sheet: widths, where labels go and where values go."""

    widths: tuple[float, ...]  # column A, B, … widths
    label: tuple[int, int]  # first / last column of a field label (merged when different)
    value: tuple[int, int]  # first / last column of a text value (merged)

    @property
    def last(self) -> int:
        return len(self.widths)


GRILLES = {
    "lisez_moi": Grille((24, 16, 16, 16, 16, 16), (1, 1), (2, 6)),
    "porteur": Grille((42, 16, 16, 16, 16), (1, 1), (2, 5)),
    "referent": Grille((42, 16, 16, 16, 16), (1, 1), (2, 5)),
    # Action: A = labels and budget lines, B-C = Prévu / Réalisé, D-E = écart € / %.
    "action": Grille((46, 17, 17, 15, 11), (1, 1), (2, 5)),
    # Objectif: pistes and indicator tables from B, the programmed actions from A.
    "objectif": Grille((7, 34, 16, 16, 10, 12, 10, 12, 12, 12, 12, 18, 24), (1, 2), (3, 13)),
    "meta": Grille((36, 40), (1, 1), (2, 2)),
    "pilote": Grille((42, 16, 16, 16, 16), (1, 1), (2, 5)),
    "coordonnateur": Grille((42, 16, 16, 16, 16), (1, 1), (2, 5)),
    # Stratégique: the référents' returns, one row per objectif opérationnel.
    "strategique": Grille((8, 30, 22, 14, 13, 34, 34, 34), (1, 2), (3, 8)),
    # Orientation: the pilotes' syntheses, then the objectifs opérationnels.
    "orientation": Grille((8, 30, 20, 14, 9, 13, 34, 30, 30), (1, 2), (3, 9)),
    "releve": Grille((42, 16, 16, 16, 16), (1, 1), (2, 5)),
    # Décisions: proposals, decisions followed up, new decisions.
    "decisions": Grille((14, 44, 12, 24, 13, 14, 40), (1, 2), (3, 7)),
}
# Sheets printed in landscape (wide tables).
PAYSAGE = {"objectif", "strategique", "orientation", "decisions"}
# Tables written before a field (by default every table comes after the fields): the
# pilote reads the référents' returns before writing the synthesis.
TABLEAUX_AVANT = {"os_avancement": ("os_referents",),
                  "ori_avancement": ("ori_strategiques", "ori_operationnels")}

# Where a section band starts (before the field or table of that name): title, help line.
SECTIONS: dict[str, tuple[str, str]] = {
    "por_raison_sociale": ("Identification de la structure",
                           "Informations issues de la programmation : signalez toute erreur "
                           "au contact de la Direction."),
    "por_representant": ("Responsable du bilan",
                         "Complétez les cellules jaunes."),
    "ref_libelle": ("Identification du référent",
                    "Informations issues du contrat de ville : signalez toute erreur au "
                    "contact de la Direction."),
    "ref_redacteur": ("Responsable du suivi", "Complétez les cellules jaunes."),
    "act_numero": ("L'action",
                   "Rappel de la programmation (non modifiable)."),
    "act_accorde_etat": ("Financements accordés",
                         "Montants accordés par chaque financeur pour cette action."),
    "act_indicateur": ("Indicateur de résultat unique",
                       "L'objectif quantifié de l'action et ce que signifie chaque palier de "
                       "l'échelle EPT (0 à 100), tels que prévus à la programmation."),
    "act_realisation": ("Bilan qualitatif",
                        "Ce qui a été réalisé et pour qui. Les nombres sont des personnes "
                        "distinctes."),
    "act_valeur_constatee": ("Évaluation",
                             "Mesurez l'indicateur (avec une valeur cible, saisissez la valeur "
                             "atteinte : le taux se calcule), puis choisissez la note du palier "
                             "atteint (échelle dans « Lisez-moi ») et justifiez-la."),
    "act_resultats": ("Résultats, difficultés, perspectives",
                      "Quelques phrases suffisent ; chiffrez quand c'est possible."),
    "bud_charges": ("Compte-rendu financier (Cerfa 15059)",
                    "Budget de l'action : montants prévus et réalisés, en euros. Les totaux "
                    "et les écarts se calculent seuls ; les lignes grises reprennent les "
                    "montants accordés."),
    "bud_ecarts_explication": ("Annexe explicative",
                               f"Obligatoire si un écart dépasse {SEUIL_ECART:.0%} sur une "
                               "ligne ou sur un total, ou si un montant est réalisé sur une "
                               f"ligne sans montant prévu (« {NON_PREVU} ») : cellules "
                               "orangées."),
    "obj_code": ("La fiche de l'objectif",
                 "Rappel du contrat de ville (non modifiable)."),
    "obj_avancement": ("Suivi de l'année",
                       "Ce que le contrat (§ 2.1) demande au référent, pour l'année écoulée."),
    "obj_indicateurs": ("Indicateurs de la fiche",
                        "Saisissez la valeur de l'année, la source et, si besoin, un "
                        "commentaire (colonnes jaunes)."),
    "obj_nouveaux_indicateurs": ("Indicateurs proposés",
                                 "Facultatif : un indicateur par ligne que vous proposez "
                                 "d'ajouter à la fiche."),
    "obj_actions": ("Actions de la programmation",
                    "Actions des porteurs rattachées à cet objectif et leur état déclaré à "
                    "ce jour (pour information, non modifiable)."),
    "obj_pistes": ("Pistes d'action de la fiche",
                   "Pour chaque piste d'action du contrat, indiquez où elle en est."),
    "obj_decisions": ("Décisions en cours de suivi",
                      "Décisions des revues précédentes encore ouvertes pour ce pilier "
                      "(pour information)."),
    "pil_libelle": ("Identification du pilote",
                    "Informations issues du contrat de ville : signalez toute erreur au "
                    "contact de la Direction."),
    "pil_redacteur": ("Responsable de la synthèse", "Complétez les cellules jaunes."),
    "coo_libelle": ("Identification du coordonnateur",
                    "Informations issues du contrat de ville : signalez toute erreur au "
                    "contact de la Direction."),
    "coo_redacteur": ("Responsable de la synthèse", "Complétez les cellules jaunes."),
    "os_code": ("L'objectif stratégique", "Rappel du contrat de ville (non modifiable)."),
    "os_referents": ("Retours des référents",
                     "Ce que chaque référent a déclaré pour cette revue (non modifiable) ; "
                     "« retour manquant » : le référent n'a pas encore renvoyé son suivi."),
    "os_avancement": ("Synthèse du pilote",
                      "Votre synthèse pour le coordonnateur de l'orientation."),
    "os_decisions": ("Décisions en cours de suivi",
                     "Décisions des revues précédentes encore ouvertes (pour information)."),
    "ori_code": ("L'orientation stratégique", "Rappel du contrat de ville (non modifiable)."),
    "ori_strategiques": ("Synthèses des pilotes",
                         "Ce que chaque pilote a déclaré pour cette revue (non modifiable)."),
    "ori_operationnels": ("Objectifs opérationnels",
                          "L'avancement déclaré par les référents, visible même quand la "
                          "synthèse du pilote manque."),
    "ori_avancement": ("Synthèse du coordonnateur",
                       "Votre synthèse pour le responsable du pilier."),
    "ori_decisions": ("Décisions en cours de suivi",
                      "Décisions des revues précédentes encore ouvertes (pour information)."),
    "rel_pilier": ("La revue de projet", "Informations de la revue (non modifiable)."),
    "rel_date": ("Tenue de la revue", "Complétez les cellules jaunes."),
    "dec_pilier": ("Relevé de décisions", "Rappel du pilier et de la revue."),
    "dec_propositions": ("Propositions remontées",
                         "Propositions d'arbitrage et actions correctrices des référents, "
                         "pilotes et coordonnateurs pour cette revue (non modifiable)."),
    "dec_suivi": ("Suivi des décisions en cours",
                  "Décisions des revues précédentes encore ouvertes : mettez à jour le "
                  "statut, l'échéance si elle change, et commentez."),
    "dec_nouvelles": ("Décisions prises à cette revue",
                      "Une décision par ligne : décision, type, niveau concerné (code), "
                      "responsable, échéance et statut."),
}

# Bands that start a new printed page (so that a block is not cut in two).
SAUTS_DE_PAGE = {"act_valeur_constatee", "bud_charges", "obj_indicateurs", "obj_actions",
                 "os_avancement", "ori_avancement", "dec_nouvelles"}

# Title bar of the repeated sheet: default text, and prefix joined to its first two fields.
TITRES_SECTION = {
    "action": ("Bilan de l'action", "Action n° "),
    "objectif": ("Suivi de l'objectif opérationnel", "Objectif "),
    "strategique": ("Synthèse de l'objectif stratégique", "Objectif stratégique "),
    "orientation": ("Synthèse de l'orientation", "Orientation "),
    "decisions": ("Relevé de décisions", "Pilier "),
}

ETAPES = {
    "porteur": (
        "Feuille « Porteur » : vérifiez les informations grises, puis complétez les "
        "cellules jaunes (représentant légal, personne ayant rempli le bilan, date, "
        "attestation).",
        "Une feuille par action financée : complétez le bilan qualitatif (réalisation, "
        "dates, bénéficiaires), la valeur atteinte de l'objectif quantifié (le taux "
        "d'atteinte se calcule), la note de l'indicateur de résultat unique selon l'échelle "
        "ci-dessous, les résultats, difficultés et perspectives.",
        "Dans la même feuille, complétez le compte-rendu financier : montants prévus et "
        "réalisés par ligne du budget. Totaux et écarts se calculent automatiquement.",
        f"Si un écart entre prévu et réalisé dépasse {SEUIL_ECART:.0%}, ou si un montant est "
        f"réalisé sur une ligne sans montant prévu (« {NON_PREVU} »), la cellule de l'écart "
        "est orangée : expliquez-le dans l'« Annexe explicative » en bas de la feuille. Les "
        "écarts d'une ligne s'affichent dès que son réalisé est saisi.",
        "Enregistrez le classeur au format .xlsx, sans changer son nom, et renvoyez-le "
        "avant la date limite indiquée ci-dessus.",
    ),
    "referent": (
        "Feuille « Référent » : vérifiez vos coordonnées, puis indiquez qui a rempli le "
        "suivi et la date.",
        "Une feuille par objectif opérationnel : lisez le rappel de la fiche (en gris), "
        "puis complétez le « Suivi de l'année » : avancement, actions réalisées et en "
        "cours, résultats, difficultés, propositions.",
        "Pistes d'action : pour chaque piste de la fiche, choisissez « Non engagée », "
        "« Engagée » ou « Réalisée ». À partir de la deuxième revue, vos réponses de la "
        "revue précédente sont reprises : mettez-les à jour.",
        "Indicateurs : saisissez des nombres (unité, valeur de référence, cible, valeur à "
        "date), la source, et dites dans « Panier » si l'indicateur est conservé ou "
        "abandonné. Vous pouvez proposer de nouveaux indicateurs dans le tableau suivant.",
        "Les actions de la programmation, leur état déclaré et les décisions en cours sont "
        "données pour information. « à confirmer » signale une information déduite par la "
        "Direction, que le contrat ne donne pas.",
        "Enregistrez le classeur au format .xlsx, sans changer son nom, et renvoyez-le "
        "avant la date limite indiquée ci-dessus.",
    ),
}

_ETAPE_ENVOI = ("Enregistrez le classeur au format .xlsx, sans changer son nom, et "
                "renvoyez-le avant la date limite indiquée ci-dessus.")
ETAPES.update({
    "pilote": (
        "Feuille « Pilote » : vérifiez vos coordonnées, puis indiquez qui a rempli la "
        "synthèse et la date.",
        "Une feuille par objectif stratégique : lisez les retours des référents des "
        "objectifs opérationnels (en gris ; « retour manquant » si un référent n'a pas "
        "répondu).",
        "Complétez la « Synthèse du pilote » : avancement, feu tricolore (vert, orange, "
        "rouge), synthèse des résultats, difficultés et propositions d'arbitrage.",
        _ETAPE_ENVOI,
    ),
    "coordonnateur": (
        "Feuille « Coordonnateur » : vérifiez vos coordonnées, puis indiquez qui a rempli "
        "la synthèse et la date.",
        "Une feuille par orientation : lisez les synthèses des pilotes et l'avancement des "
        "objectifs opérationnels (en gris).",
        "Complétez la « Synthèse du coordonnateur » : avancement, feu tricolore, synthèse, "
        "difficultés et propositions pour le responsable du pilier.",
        _ETAPE_ENVOI,
    ),
    "decisions": (
        "Feuille « Revue » : indiquez la date de la revue, les participants et qui a rédigé "
        "le relevé.",
        "Feuille « Décisions » : les propositions remontées sont rappelées en gris. Pour "
        "chaque décision en cours, mettez à jour son statut (« Réalisée » ou « Abandonnée » "
        "la ferme), son échéance et un commentaire.",
        "Ajoutez les décisions prises à la revue, une par ligne, avec un responsable et "
        "une échéance : elles reviendront dans les classeurs des revues suivantes tant "
        "qu'elles sont ouvertes.",
        _ETAPE_ENVOI,
    ),
})

PRECAUTIONS = (
    "Ne renommez pas, ne déplacez pas et ne supprimez pas les feuilles : le classeur "
    "ne pourrait plus être relu automatiquement.",
    "Ne copiez-collez pas depuis un autre classeur : utilisez « Coller > Valeurs » "
    "(clic droit, icône « 123 ») pour ne coller que le texte ou les nombres.",
    "Saisissez les montants et les nombres sans texte (par exemple 2500 ou 2500,50) et "
    "les dates au format jj/mm/aaaa.",
    "Les listes déroulantes n'acceptent que leurs valeurs : choisissez dans la liste.",
)


# --- small cell helpers --------------------------------------------------------------------
def style(cell: Cell, *, font: Font = FONT, fill: PatternFill | None = None,
          border: Border | None = None, alignment: Alignment | None = None,
          number_format: str | None = None, locked: bool = True) -> Cell:
    cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    cell.protection = Protection(locked=locked)
    return cell


def merge(ws: Worksheet, row: int, first: int, last: int, *, border: Border | None = None,
          fill: PatternFill | None = None) -> None:
    """Merge ``first..last`` of ``row`` after giving every cell the same border and fill."""
    if last <= first:
        return
    for col in range(first + 1, last + 1):
        cell = ws.cell(row, col)
        if border is not None:
            cell.border = border
        if fill is not None:
            cell.fill = fill
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def role_style(cell: Cell, role: str, kind: str, *, bold: bool = False) -> Cell:
    """The look of a spec cell: yellow to type, grey prefilled, blue computed."""
    if kind in SHORT_KINDS:
        alignment = Alignment(vertical="center", horizontal="right")
    else:
        alignment = WRAP_TOP if kind == "texte_long" else WRAP_CENTER
    return style(cell, font=FONT_BOLD if bold else FONT, fill=FILL[role], border=BORDER,
                 alignment=alignment, number_format=NUMBER_FORMATS.get(kind),
                 locked=role != "saisie")


def sheet_name(ws: Worksheet, name: str, area: Area) -> None:
    ws.defined_names[name] = DefinedName(name, attr_text=area.formula())


def addr(col: int, row: int) -> str:
    return f"{get_column_letter(col)}{row}"


def sum_formula(cells: list[str]) -> str:
    return f"=SUM({','.join(cells)})" if cells else "=0"


def range_or_cells(col: int, rows: list[int]) -> list[str]:
    """A1 references for cells of one column: one range when the rows are contiguous."""
    if rows and rows == list(range(rows[0], rows[-1] + 1)):
        return [f"{addr(col, rows[0])}:{addr(col, rows[-1])}"]
    return [addr(col, r) for r in rows]


def compact(cells: list[str]) -> list[str]:
    """``B3, B4, B5`` → ``B3:B5`` when the cells are one contiguous column."""
    coords = [split_address(c) for c in cells]
    cols = {c for c, _ in coords}
    if len(cols) == 1:
        return range_or_cells(cols.pop(), [r for _, r in coords])
    return cells


# --- one sheet -----------------------------------------------------------------------------
class SheetWriter:
    """Writes the blocks of one sheet from top to bottom."""

    def __init__(self, ws: Worksheet, feuille: Feuille, grille: Grille):
        self.ws = ws
        self.feuille = feuille
        self.grille = grille
        self.row = 1
        self.cells: dict[str, str] = {}  # champ name -> A1 address, for formulas
        self.columns: dict[tuple[str, str], tuple[int, list[int]]] = {}  # table column cells
        for i, width in enumerate(grille.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width

    # blocks
    def skip(self, n: int = 1) -> None:
        self.row += n

    def band(self, title: str, aide: str = "", page_break: bool = False) -> None:
        if self.row > 1:
            self.skip()
        if page_break:
            self.ws.row_breaks.append(Break(id=self.row - 1))
        style(self.ws.cell(self.row, 1, title), font=FONT_BANDE, fill=FILL["bande"],
              alignment=Alignment(vertical="center", indent=1))
        merge(self.ws, self.row, 1, self.grille.last, fill=FILL["bande"])
        self.ws.row_dimensions[self.row].height = 21
        self.skip()
        if aide:
            self.help_line(aide)

    def help_line(self, text: str, height: float | None = None) -> None:
        style(self.ws.cell(self.row, 1, text), font=FONT_AIDE, alignment=WRAP_TOP)
        merge(self.ws, self.row, 1, self.grille.last)
        self.ws.row_dimensions[self.row].height = height or (30 if len(text) > 95 else 16)
        self.skip()

    def paragraph(self, text: str, first: int = 1, height: float | None = None,
                  font: Font = FONT) -> None:
        style(self.ws.cell(self.row, first, text), font=font, alignment=WRAP_TOP)
        merge(self.ws, self.row, first, self.grille.last)
        self.ws.row_dimensions[self.row].height = height or _text_height(
            text, sum(self.grille.widths[first - 1:]))
        self.skip()

    def label(self, text: str, row: int | None = None, bold: bool = False) -> None:
        row = row or self.row
        first, last = self.grille.label
        style(self.ws.cell(row, first, text), font=FONT_BOLD if bold else FONT,
              alignment=WRAP_CENTER)
        merge(self.ws, row, first, last)

    def champ(self, champ: Champ, value: Any = None, *, font: Font | None = None) -> None:
        """Label on the left, the named cell on the right (merged for texts)."""
        row = self.row
        self.label(champ.label)
        first, last = self.grille.value
        if champ.kind in SHORT_KINDS:
            last = first
        elif champ.kind == "liste":
            last = min(first + 1, last)
        cell = self.ws.cell(row, first)
        if value is not None:
            set_text(cell, value)
        role_style(cell, champ.role, champ.kind, bold=champ.role == "calcul")
        if font is not None:
            cell.font = font
        merge(self.ws, row, first, last, border=BORDER, fill=FILL[champ.role])
        sheet_name(self.ws, champ.name, Area(self.ws.title, first, row, first, row))
        self.cells[champ.name] = addr(first, row)
        if champ.kind == "texte_long":
            height = HAUTEUR_LONG if champ.role == "saisie" else HAUTEUR_LONG_PREREMPLI
        elif champ.kind in ("texte", "email") and self.feuille.repetee and \
                champ.role == "prerempli":
            height = HAUTEUR_TEXTE_SECTION
        else:
            height = HAUTEUR_TEXTE
        self.ws.row_dimensions[row].height = height
        self.skip()

    def fixed_table(self, tableau: Tableau, totals: dict[str, Champ]) -> list[int]:
        """A table of known rows: header, one labelled row per line, then its totals.

        The row labels sit in the label column, left of the named area; budget tables
        (columns « prevu » and « realise ») get an écart column in euros and in %.
        Returns the rows a grand total adds: the total line, else every line.
        """
        ws, first = self.ws, self.grille.value[0]
        names = [c.name for c in tableau.colonnes]
        ecart = "prevu" in names and "realise" in names
        headers = [tableau.label, *(c.label for c in tableau.colonnes)]
        if ecart:
            headers += ["Écart (€)", "Écart (%)"]
        self._header(headers, start=1)
        top = self.row
        assert tableau.lignes is not None
        for ligne in tableau.lignes:
            style(ws.cell(self.row, 1, ligne.label), alignment=WRAP_CENTER)
            ws.row_dimensions[self.row].height = _text_height(ligne.label,
                                                              self.grille.widths[0],
                                                              HAUTEUR_TEXTE)
            for j, col in enumerate(tableau.colonnes):
                role = tableau.role_of(ligne.key, col.name)
                role_style(ws.cell(self.row, first + j), role, col.kind)
            if ecart:
                self._ecart(names)
            self.skip()
        rows = list(range(top, self.row))
        sheet_name(ws, tableau.name, Area(ws.title, first, top,
                                          first + len(tableau.colonnes) - 1, self.row - 1))
        for j, col in enumerate(tableau.colonnes):
            self.columns[(tableau.name, col.name)] = (first + j, rows)
        if not totals:
            return rows
        style(ws.cell(self.row, 1, f"Total des {tableau.label.lower()}"), font=FONT_BOLD,
              alignment=WRAP_CENTER)
        for j, col in enumerate(tableau.colonnes):
            champ = totals.get(col.name)
            cell = ws.cell(self.row, first + j)
            if champ is None:
                continue
            cell.value = sum_formula(range_or_cells(first + j, rows))
            role_style(cell, "calcul", champ.kind, bold=True)
            sheet_name(ws, champ.name, Area(ws.title, first + j, self.row, first + j,
                                            self.row))
            self.cells[champ.name] = addr(first + j, self.row)
        if ecart:
            self._ecart(names, bold=True,
                        typed=range_or_cells(first + names.index("realise"), rows))
        total_row = self.row
        self.skip()
        return [total_row]

    def grand_total(self, text: str, parts: list[int], ncols: int, ecart: bool,
                    sign: Iterable[str] | None = None, typed: list[str] | None = None) -> int:
        """A computed line adding (or subtracting) earlier lines; not a spec name. Its
        écart shows once one of the ``typed`` réalisé cells (its lines) holds a number."""
        ws, first = self.ws, self.grille.value[0]
        signs = list(sign or ["+"] * len(parts))
        style(ws.cell(self.row, 1, text), font=FONT_BOLD, alignment=WRAP_CENTER)
        for j in range(ncols):
            col = first + j
            terms = "".join(f"{s}{addr(col, r)}" for s, r in zip(signs, parts, strict=True))
            cell = ws.cell(self.row, col, "=" + terms.lstrip("+"))
            role_style(cell, "calcul", "montant", bold=True)
        if ecart:
            self._ecart(["prevu", "realise"], bold=True, typed=typed)
        row = self.row
        self.ws.row_dimensions[row].height = _text_height(text, self.grille.widths[0] * 0.9,
                                                          HAUTEUR_TEXTE)
        self.skip()
        return row

    def _ecart(self, names: list[str], bold: bool = False,
               typed: list[str] | None = None) -> None:
        """Réalisé − prévu, and the same in % of prévu; both empty until a réalisé is
        typed (``typed``: the réalisé cells of a total's lines; by default the line's own),
        so an untouched budget shows no alarming −100 %. A réalisé on a line without prévu
        is a gap too: the amount spent, and « non prévu » for the %. The % cell turns
        orange when the gap exceeds the threshold or is « non prévu »."""
        first = self.grille.value[0]
        prevu = addr(first + names.index("prevu"), self.row)
        realise = addr(first + names.index("realise"), self.row)
        vide = f"COUNT({','.join(typed or [realise])})=0"
        col = first + len(names)
        euro = self.ws.cell(self.row, col, f'=IF({vide},"",N({realise})-N({prevu}))')
        role_style(euro, "calcul", "montant", bold=bold)
        pct = self.ws.cell(self.row, col + 1,
                           f'=IF({vide},"",IF(N({prevu})=0,IF(N({realise})=0,"",'
                           f'"{NON_PREVU}"),(N({realise})-N({prevu}))/N({prevu})))')
        role_style(pct, "calcul", "decimal", bold=bold)
        pct.number_format = PERCENT
        c = pct.coordinate  # N(): an empty gap ("") is FALSE, not an error
        self.ws.conditional_formatting.add(
            c, FormulaRule(formula=[f'OR({c}="{NON_PREVU}",'
                                    f"AND(ISNUMBER({c}),ABS(N({c}))>{SEUIL_ECART}))"],
                           fill=ECART_FILL))

    def capacity_table(self, tableau: Tableau, first: int, numbered: bool) -> None:
        """A table of free rows: a header row above the named area, numbered rows."""
        ws = self.ws
        capacity = max(CAPACITES.get(tableau.name, tableau.min_capacite), tableau.min_capacite)
        self._header([c.label for c in tableau.colonnes], start=first)
        top = self.row
        for i in range(capacity):
            if numbered and first > 1:
                style(ws.cell(self.row, first - 1, i + 1), font=FONT_PETIT,
                      alignment=Alignment(horizontal="center", vertical="center"))
            for j, col in enumerate(tableau.colonnes):
                role_style(ws.cell(self.row, first + j), col.role, col.kind)
            ws.row_dimensions[self.row].height = HAUTEUR_LIGNE_TABLEAU
            self.skip()
        sheet_name(ws, tableau.name, Area(ws.title, first, top,
                                          first + len(tableau.colonnes) - 1, self.row - 1))

    def _header(self, labels: list[str], start: int) -> None:
        for j, text in enumerate(labels):
            style(self.ws.cell(self.row, start + j, text), font=FONT_BOLD, fill=FILL["entete"],
                  border=BORDER, alignment=CENTER if j or start > 1 else WRAP_CENTER)
        self.ws.row_dimensions[self.row].height = 30
        self.skip()


def _text_height(text: str, width: float, minimum: float = 16) -> float:
    """Row height (points) for wrapped text in cells ``width`` characters wide."""
    per_line = max(int(width * 1.2), 1)
    lines = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
    return max(minimum, 14.5 * lines + 3)


# --- sheets --------------------------------------------------------------------------------
def _totals_by_table(feuille: Feuille) -> dict[str, dict[str, Champ]]:
    """Calcul fields named ``<prefix>_total_<table>_<column>``, by table then column."""
    found: dict[str, dict[str, Champ]] = {}
    for tableau in feuille.tableaux:
        prefix, _, rest = tableau.name.partition("_")
        for col in tableau.colonnes:
            name = f"{prefix}_total_{rest}_{col.name}"
            champ = next((c for c in feuille.champs if c.name == name), None)
            if champ is not None:
                found.setdefault(tableau.name, {})[col.name] = champ
    return found


def _field_totals(feuille: Feuille) -> dict[str, list[str]]:
    """Calcul fields named ``<group>_total``: the fields of the group they add up."""
    groups = {}
    for champ in feuille.champs:
        if champ.role == "calcul" and champ.name.endswith("_total"):
            prefix = champ.name[: -len("total")]
            groups[champ.name] = [c.name for c in feuille.champs
                                  if c.name.startswith(prefix) and c.name != champ.name]
    return groups


def write_section_title(w: SheetWriter, feuille: Feuille) -> tuple[Cell, str, str]:
    """Row 1 of the repeated sheet: which action / objective this copy is about."""
    default, prefix = TITRES_SECTION.get(feuille.key, (feuille.titre, ""))
    w.row = 1
    cell = w.ws.cell(1, 1)
    style(cell, font=FONT_TITRE_FEUILLE, fill=FILL["bande"],
          alignment=Alignment(vertical="center", indent=1, wrap_text=True))
    merge(w.ws, 1, 1, w.grille.last, fill=FILL["bande"])
    w.ws.row_dimensions[1].height = 36
    w.skip()
    return cell, default, prefix


def write_feuille(wb: Workbook, spec: ClasseurSpec, feuille: Feuille) -> Worksheet:
    ws = wb.create_sheet(feuille.titre)
    w = SheetWriter(ws, feuille, GRILLES[feuille.key])
    title = write_section_title(w, feuille) if feuille.repetee else None
    if feuille.key == "lisez_moi":
        return write_lisez_moi(w, spec)
    if feuille.key == "meta":
        return write_meta(w, spec)
    totals = _totals_by_table(feuille)
    total_names = {c.name for cols in totals.values() for c in cols.values()}
    sums = _field_totals(feuille)
    tables_done = False
    written: set[str] = set()
    for champ in feuille.champs:
        if champ.name in total_names:
            if not tables_done:
                write_tables(w, feuille, totals, written)
                tables_done = True
            continue
        if champ.name in TABLEAUX_AVANT:
            write_tables(w, feuille, totals, written, only=TABLEAUX_AVANT[champ.name])
        if champ.name in SECTIONS:
            w.band(*SECTIONS[champ.name], page_break=champ.name in SAUTS_DE_PAGE)
        formula = None
        if champ.name in sums:
            formula = sum_formula(compact([w.cells[n] for n in sums[champ.name]
                                           if n in w.cells]))
        w.champ(champ)
        if champ.name in FORMULES:
            formula = FORMULES[champ.name](w.cells)
        if formula:
            ws[w.cells[champ.name]].value = formula
            ws[w.cells[champ.name]].number_format = FORMATS.get(
                champ.name, NUMBER_FORMATS.get(champ.kind, "General"))
        if champ.liste == "liste_score":
            add_score_colours(ws, w.cells[champ.name])
    if not tables_done:
        write_tables(w, feuille, totals, written)
    if title is not None:
        cell, default, prefix = title
        first, second = (w.cells[c.name] for c in feuille.champs[:2])
        cell.value = f'=IF({first}="","{default}","{prefix}"&{first}&" – "&{second})'
        ws.print_title_rows = "1:1"
        ws.freeze_panes = "A2"
    return ws


def write_tables(w: SheetWriter, feuille: Feuille, totals: dict[str, dict[str, Champ]],
                 done: set[str], only: tuple[str, ...] | None = None) -> None:
    """The sheet's tables not written yet (``only``: just those), in spec order."""
    written: dict[str, list[int]] = {}  # table name -> rows its grand total adds
    grand: dict[str, int] = {}
    for tableau in feuille.tableaux:
        if tableau.name in done or (only is not None and tableau.name not in only):
            continue
        done.add(tableau.name)
        if tableau.name in SECTIONS:
            w.band(*SECTIONS[tableau.name], page_break=tableau.name in SAUTS_DE_PAGE)
        else:
            w.skip()
        if tableau.lignes is None:
            numbered = feuille.key == "objectif" and any(c.role == "saisie"
                                                         for c in tableau.colonnes)
            first = 2 if numbered else 1
            w.capacity_table(tableau, first, numbered)
            continue
        rows = w.fixed_table(tableau, totals.get(tableau.name, {}))
        written[tableau.name] = rows
        base = tableau.name.removesuffix("_contrib")
        if base != tableau.name and base in written:
            names = [c.name for c in tableau.colonnes]
            label = next(t.label for t in feuille.tableaux if t.name == base).lower()
            typed = [cell for t in (base, tableau.name) if (t, "realise") in w.columns
                     for cell in range_or_cells(*w.columns[(t, "realise")])]
            grand[base] = w.grand_total(
                f"Total général des {label} (contributions en nature comprises)",
                [*written[base], *rows], len(names), "prevu" in names and "realise" in names,
                typed=typed)
    if "bud_charges" in grand and "bud_produits" in grand:
        w.grand_total("Résultat : total des produits − total des charges",
                      [grand["bud_produits"], grand["bud_charges"]], 2, False, ["+", "-"])


def add_score_colours(ws: Worksheet, coordinate: str) -> None:
    """The EPT note in colour: ≤ 20 red, 40-60 orange, ≥ 80 green."""
    rules = (
        (f"AND(ISNUMBER({coordinate}),{coordinate}<=20)", "FFC7CE", "9C0006"),
        (f"AND(ISNUMBER({coordinate}),{coordinate}>=40,{coordinate}<=60)", "FFEB9C", "9C5700"),
        (f"AND(ISNUMBER({coordinate}),{coordinate}>=80)", "C6EFCE", "006100"),
    )
    for formula, fill, font in rules:
        ws.conditional_formatting.add(coordinate, FormulaRule(
            formula=[formula], fill=PatternFill("solid", fgColor=fill, bgColor=fill),
            font=Font(color=font, bold=True)))


def write_lisez_moi(w: SheetWriter, spec: ClasseurSpec) -> Worksheet:
    ws = w.ws
    ws.add_image(logo(), "A1")
    ws.row_dimensions[1].height = 50
    w.skip()
    champs = list(w.feuille.champs)
    titre, rest = champs[0], champs[1:]
    # The title spans the whole width, in large type.
    cell = role_style(ws.cell(w.row, 1), titre.role, titre.kind)
    cell.font = FONT_TITRE
    cell.alignment = Alignment(vertical="center", indent=1)
    merge(ws, w.row, 1, w.grille.last, border=BORDER, fill=FILL[titre.role])
    sheet_name(ws, titre.name, Area(ws.title, 1, w.row, 1, w.row))
    ws.row_dimensions[w.row].height = 30
    w.skip()
    w.help_line("Ce classeur est à compléter puis à renvoyer à la Direction de la politique "
                "de la ville avant la date limite indiquée ci-dessous.")
    w.skip()
    for champ in rest:
        w.champ(champ)
    w.band("Comment remplir ce classeur", "Étape par étape.")
    for i, text in enumerate(ETAPES[spec.kind], start=1):
        style(ws.cell(w.row, 1, f"Étape {i}"), font=FONT_BOLD, alignment=WRAP_TOP)
        w.paragraph(text, first=2)
    w.band("Code couleur des cellules")
    for role, text, meaning in (
        ("saisie", "à compléter", "Cellule à remplir par vous (les cellules de cette couleur "
                                  "sont les seules modifiables)."),
        ("prerempli", "prérempli, non modifiable", "Information fournie par la Direction : "
                                                   "signalez toute erreur au contact."),
        ("calcul", "calculé automatiquement", "Total ou écart calculé à partir de vos "
                                              "saisies."),
    ):
        style(ws.cell(w.row, 1, text), fill=FILL[role], border=BORDER, alignment=CENTER)
        w.paragraph(meaning, first=2)
    w.band("Échelle d'évaluation EPT (annexe 3 du contrat de ville)",
           "La note de l'indicateur de résultat unique se choisit parmi six paliers.")
    w._header(["Note", "Signification"], start=1)
    merge(ws, w.row - 1, 2, w.grille.last, border=BORDER, fill=FILL["entete"])
    for note, meaning in ECHELLE_EPT.items():
        style(ws.cell(w.row, 1, note), border=BORDER, alignment=CENTER)
        style(ws.cell(w.row, 2, meaning), border=BORDER, alignment=WRAP_CENTER)
        merge(ws, w.row, 2, w.grille.last, border=BORDER)
        ws.row_dimensions[w.row].height = HAUTEUR_TEXTE
        w.skip()
    w.band("Les quatre modes de recueil de l'indicateur",
           "Comment la valeur de l'indicateur est obtenue (annexe 3 du contrat de ville).")
    for i, mode in enumerate(MODES_RECUEIL, start=1):
        style(ws.cell(w.row, 1, i), alignment=Alignment(horizontal="center", vertical="top"))
        w.paragraph(mode, first=2)
    w.band("Précautions")
    for text in PRECAUTIONS:
        style(ws.cell(w.row, 1, "•"), alignment=Alignment(horizontal="right", vertical="top"))
        w.paragraph(text, first=2)
    w.band("Une question ?")
    w.paragraph("Contactez la personne indiquée plus haut (« Contact à la Direction ») : "
                "elle peut vous aider à remplir le classeur ou vous en renvoyer un exemplaire "
                "si une information préremplie est erronée.")
    return ws


def write_meta(w: SheetWriter, spec: ClasseurSpec) -> Worksheet:
    """Column A = label, column B = the named cell; template values are typed here."""
    constants = {"meta_spec_version": spec.version, "meta_modele": spec.modele,
                 "meta_modele_version": MODELE_VERSION}
    for champ in w.feuille.champs:
        value = constants.get(champ.name) if champ.role == "calcul" else None
        w.champ(champ, value)
    return w.ws


def write_listes(wb: Workbook, spec: ClasseurSpec) -> Worksheet:
    ws = wb.create_sheet(LISTES)
    ws.sheet_state = "hidden"
    for col, (name, values) in enumerate(spec.listes.items(), start=1):
        ws.column_dimensions[get_column_letter(col)].width = 42
        style(ws.cell(1, col, name), font=FONT_BOLD, fill=FILL["entete"], border=BORDER)
        for row, value in enumerate(values, start=2):
            set_text(ws.cell(row, col), value)
        area = Area(LISTES, col, 2, col, len(values) + 1)
        wb.defined_names[name] = DefinedName(name, attr_text=area.formula())
    return ws


def page_setup(ws: Worksheet, landscape: bool = False) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&A – page &P / &N"
    ws.oddFooter.center.size = 8
    ws.sheet_view.showGridLines = False


def logo() -> Image:
    """A small PNG drawn in code: a blue band with « ORLY — Politique de la ville »."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    img = PILImage.new("RGB", (480, 64), "#" + BLEU)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 12, 63), fill="#F4B183")
    draw.rectangle((12, 0, 16, 63), fill="#FFFFFF")
    font = ImageFont.load_default(size=26)
    draw.text((32, 17), "ORLY", fill="#FFFFFF", font=font)
    draw.rectangle((110, 18, 113, 45), fill="#F4B183")
    draw.text((128, 17), "Politique de la ville", fill="#FFFFFF", font=font)
    data = io.BytesIO()
    img.save(data, format="PNG", optimize=False)
    data.seek(0)
    image = Image(data)
    image.width, image.height = 360, 48
    return image


# --- workbook ------------------------------------------------------------------------------
def build_workbook(spec: ClasseurSpec) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for feuille in spec.feuilles:
        ws = write_feuille(wb, spec, feuille)
        if feuille.cachee:
            ws.sheet_state = "veryHidden"
        else:
            page_setup(ws, landscape=feuille.key in PAYSAGE)
    write_listes(wb, spec)
    wb.active = 0
    props = wb.properties
    props.title = spec.titre
    props.creator = props.lastModifiedBy = AUTHOR
    props.created = props.modified = FIXED_DATE
    return wb


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def workbook_bytes(wb: Workbook) -> bytes:
    """Save, then re-pack with fixed dates so that a rebuild gives the same bytes."""
    raw = io.BytesIO()
    wb.save(raw)
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>",
                                     data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def build(dossier: Path) -> list[Path]:
    paths = []
    for spec in SPECS.values():
        paths.append(write_bytes_atomic(Path(dossier) / spec.modele,
                                        workbook_bytes(build_workbook(spec))))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(
        "Construit les modèles de classeurs (bilan porteur, suivi référent, synthèses "
        "pilote et coordonnateur, relevé de décisions)."))
    parser.add_argument("--dossier", type=Path, default=ROOT / "templates",
                        help="dossier de sortie (par défaut : templates/)")
    args = parser.parse_args(argv)
    for path in build(args.dossier):
        print(f"Modèle écrit : {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
