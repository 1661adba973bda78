"""The per-action « Compte rendu financier de l'action », laid out like the Cerfa 15059, to
print and sign.

One workbook per porteur with at least one accepted bilan (« Compte rendu <année> -
<porteur>.xlsx »), one sheet per action, each printed on its own A4 portrait page(s):

1. identification: porteur, SIRET, action n° and intitulé, convention, exercice and
   period of the action, amounts accordé per financeur;
2. the budget « prévu / réalisé » in the order of the Cerfa's tableau de synthèse:
   charges directes 60-68, charges indirectes réparties affectées à l'action, total des
   charges; produits 70, 73, the 74 subventions d'exploitation per financeur (ASP and
   aides privées included), 75-78, total des produits; emplois (86x) and contributions
   (87x) volontaires en nature with their totals; écart in euros and in % of the prévu;
3. the annexe explicative: the gaps to explain (as the porteur's workbook flags them),
   the porteur's explanation, the rule used to allocate the charges indirectes;
4. lieu(x) de réalisation and observations;
5. the signature block of the Cerfa (« Je soussigné(e) …, représentant(e) légal(e) de …,
   certifie exactes les informations du présent compte rendu. Fait à …, le … »).

Line labels come from :mod:`cv_excel.spec.budget` only (the porteur's workbook uses the
same ones). A line the porteur left blank stays blank — no 0 is invented, no écart is
shown before a réalisé is typed, and a réalisé on a line without prévu reads « non
prévu », exactly as in the porteur's workbook. Every figure is a value; every text goes
through ``set_text`` (never a formula).

The store does not keep the name of the porteur's legal representative (the bilan's
« Porteur » sheet asks it, the intake does not store it), so the signature line leaves
the name to be written by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cv_excel import __version__
from cv_excel.consolidation.etat import read_record, write_record
from cv_excel.consolidation.mise_en_page import (
    GRIS,
    POLICE,
    TAILLE_MIN,
    chunks,
    height_for,
    line_count,
)
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.filestamp import file_signature
from cv_excel.listes import FINANCEURS
from cv_excel.parallel import ordered_map, share, shared
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec.budget import (
    CHARGES_CONTRIB,
    CHARGES_DIRECTES,
    CHARGES_INDIRECTES,
    PRODUITS,
    PRODUITS_CONTRIB,
    SEUIL_ECART,
)
from cv_excel.spec.model import Ligne
from cv_excel.spec.porteur import ACTION_FEUILLE
from cv_excel.spill import SpilledList
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, par_numero
from cv_excel.text import clip_utf16, sheet_title
from cv_excel.xlsx.new_workbook import CellStyle, NewSheet, NewWorkbook, PageSetup

DOSSIER = "Comptes rendus"  # under sorties/<année>/
NON_PREVU = "non prévu"  # a réalisé on a line without prévu: the porteur's workbook word
NON_RENSEIGNE = "(non renseigné)"
POINTILLES = "……………………………"
ATTESTATION = "certifie exactes les informations du présent compte rendu."
ZERO = Decimal(0)

# The four budget tables of the bilan (spec names) and their titles as the workbook shows them.
_TABLEAUX = {t.name: t for t in ACTION_FEUILLE.tableaux}
T_CHARGES, T_PRODUITS = "bud_charges", "bud_produits"
T_CHARGES_CONTRIB, T_PRODUITS_CONTRIB = "bud_charges_contrib", "bud_produits_contrib"

# --- layout --------------------------------------------------------------------------------
_WIDTHS = (36, 12, 12, 12, 7)  # libellé, prévu, réalisé, écart €, écart % (≈ A4 at 100 %)
_FULL = sum(_WIDTHS)
BODY = 9  # points; nothing under mise_en_page.TAILLE_MIN
_EUROS = '#,##0.00 "€"'
_POURCENT = "0.0 %"
_DARK = "1F4E78"
_HEAD_FILL = "D9E1F2"
_TITLE_FILL = "F2F2F2"
_GRIS_BORD = "808080"  # thin borders
# Printable height of an A4 portrait page with the margins set in _finish, in points,
# less a safety margin: every row height is set here, so page breaks can be foreseen.
PAGE_HEIGHT = 842 - 2 * 0.75 * 72 - 30


# --- the budget as the Cerfa orders it -------------------------------------------------------
@dataclass(frozen=True)
class LigneCompteRendu:
    """One row of the budget table: a line of the form, a heading or a total."""

    libelle: str
    prevu: Decimal | None
    realise: Decimal | None
    genre: str = "ligne"  # "ligne", "titre" (no amount) or "total"

    @property
    def ecart(self) -> Decimal | None:
        """Réalisé − prévu, once a réalisé is typed (a blank prévu counts 0)."""
        if self.genre == "titre" or self.realise is None:
            return None
        return self.realise - (self.prevu or ZERO)

    @property
    def ecart_pourcent(self) -> float | str | None:
        """The écart as a share of the prévu; « non prévu » for a réalisé without prévu."""
        ecart = self.ecart
        if ecart is None:
            return None
        if not self.prevu:
            return NON_PREVU if self.realise else None
        return float(ecart / self.prevu)

    @property
    def a_expliquer(self) -> bool:
        """The gap the porteur's workbook asks to explain: over 15 % or « non prévu »."""
        part = self.ecart_pourcent
        return part == NON_PREVU or (isinstance(part, float) and abs(part) > SEUIL_ECART)


def _somme(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the given amounts; None when none is given (a blank stays blank)."""
    given = [v for v in values if v is not None]
    return sum(given, ZERO) if given else None


def _total(libelle: str, lignes: Sequence[LigneCompteRendu]) -> LigneCompteRendu:
    amounts = [x for x in lignes if x.genre == "ligne"]
    return LigneCompteRendu(libelle, _somme(x.prevu for x in amounts),
                            _somme(x.realise for x in amounts), "total")


def _lignes(bilan: BilanAction, tableau: str, spec: Sequence[Ligne]
            ) -> list[LigneCompteRendu]:
    found = {(x.tableau, x.ligne): x for x in bilan.budget}
    out = []
    for ligne in spec:
        x = found.get((tableau, ligne.key))
        out.append(LigneCompteRendu(ligne.label, x.prevu if x else None,
                                    x.realise if x else None))
    return out


def _anciennes(bilan: BilanAction, tableau: str, known: set[str]) -> list[LigneCompteRendu]:
    """Lines stored under a key the form no longer has (an earlier version of the
    workbook): shown at the end of their table rather than silently dropped."""
    return [LigneCompteRendu(f"Ligne « {x.ligne} » (version antérieure du formulaire)",
                             x.prevu, x.realise)
            for x in bilan.budget if x.tableau == tableau and x.ligne not in known]


def blocs_budget(bilan: BilanAction) -> list[tuple[str, list[LigneCompteRendu]]]:
    """The budget table in the Cerfa's order, cut into its blocks: (column heading of the
    block, its rows — headings, lines, totals)."""
    known = {t: {ligne.key for ligne in _TABLEAUX[t].lignes} for t in _TABLEAUX}

    def titre(text: str) -> LigneCompteRendu:
        return LigneCompteRendu(text, None, None, "titre")

    directes = _lignes(bilan, T_CHARGES, CHARGES_DIRECTES)
    indirectes = [*_lignes(bilan, T_CHARGES, CHARGES_INDIRECTES),
                  *_anciennes(bilan, T_CHARGES, known[T_CHARGES])]
    produits = [*_lignes(bilan, T_PRODUITS, PRODUITS),
                *_anciennes(bilan, T_PRODUITS, known[T_PRODUITS])]
    emplois = [*_lignes(bilan, T_CHARGES_CONTRIB, CHARGES_CONTRIB),
               *_anciennes(bilan, T_CHARGES_CONTRIB, known[T_CHARGES_CONTRIB])]
    contributions = [*_lignes(bilan, T_PRODUITS_CONTRIB, PRODUITS_CONTRIB),
                     *_anciennes(bilan, T_PRODUITS_CONTRIB, known[T_PRODUITS_CONTRIB])]
    total_charges = _total("Total des charges", [*directes, *indirectes])
    total_produits = _total("Total des produits", produits)
    total_86 = _total("Total des emplois des contributions volontaires (86)", emplois)
    total_87 = _total("Total des contributions volontaires en nature (87)", contributions)
    first_74 = next(i for i, x in enumerate(produits) if x.libelle.startswith("74"))
    return [
        (_TABLEAUX[T_CHARGES].label, [
            titre("Charges directes affectées à l'action"), *directes,
            titre("Charges indirectes réparties affectées à l'action"), *indirectes,
            total_charges]),
        (_TABLEAUX[T_PRODUITS].label, [
            titre("Ressources directes affectées à l'action"), *produits[:first_74],
            titre("74 – Subventions d'exploitation"), *produits[first_74:], total_produits]),
        ("86 – Emplois des contributions volontaires en nature", [*emplois, total_86]),
        ("87 – Contributions volontaires en nature", [*contributions, total_87]),
        ("Total général", [
            _total("Total des charges, contributions volontaires comprises",
                   [_as_line(total_charges), _as_line(total_86)]),
            _total("Total des produits, contributions volontaires comprises",
                   [_as_line(total_produits), _as_line(total_87)])]),
    ]


def tableau_budget(bilan: BilanAction) -> list[LigneCompteRendu]:
    """Every row of the compte-rendu's budget table, in the Cerfa's order."""
    return [x for _, rows in blocs_budget(bilan) for x in rows]


def _as_line(total: LigneCompteRendu) -> LigneCompteRendu:
    return LigneCompteRendu(total.libelle, total.prevu, total.realise)


# --- the sheet -------------------------------------------------------------------------------
@dataclass
class _Feuille:
    """Writes rows one under the other on the five columns; keeps blocks on one page.

    Written straight as XML (:mod:`cv_excel.xlsx.new_workbook`): these workbooks are
    written by the thousand, and building them as a library's objects (openpyxl, then
    XlsxWriter) made them most of the consolidation's time. Rows are counted from 1, as
    on screen."""

    ws: NewSheet
    row: int = 1
    used: float = 0  # height used on the current printed page
    breaks: list[int] = field(default_factory=list)  # the rows a new page starts after

    def __post_init__(self) -> None:
        self.ws.widths = dict(enumerate(_WIDTHS, start=1))

    def cell(self, col: int, value: Any, span: int = 1, size: float = BODY,
             bold: bool = False, italic: bool = False, color: str = "000000",
             fill: str | None = None, border: bool = False, fmt: str | None = None,
             align: str = "left") -> None:
        number = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        style = _style(size, bold, italic, color, fill, border, fmt if number else None,
                       align)
        self.ws.write(self.row, col, value, style)
        if span > 1:
            self.ws.merge(self.row, col, col + span - 1, style)

    def end_row(self, texts: Sequence[tuple[Any, float, float]], minimum: float = 0) -> None:
        """Set the row's height from its texts (value, width, size) and move on."""
        height = max([height_for(line_count(v, w, s), s) for v, w, s in texts] + [minimum])
        self.ws.set_height(self.row, height)
        if self.used + height > PAGE_HEIGHT:
            self.used = 0
        self.used += height
        self.row += 1

    def keep(self, needed: float) -> None:
        """Start a new page here unless ``needed`` points still fit on this one."""
        if self.used and self.used + needed > PAGE_HEIGHT:
            self.breaks.append(self.row - 1)
            self.used = 0

    def skip(self) -> None:
        self.end_row([], minimum=8)

    def line(self, text: str, size: float = BODY, bold: bool = False, italic: bool = False,
             color: str = "000000", fill: str | None = None, border: bool = False) -> None:
        """A text across the page, cut into several rows when very long."""
        for piece in chunks(text, _FULL, size):
            self.cell(1, piece, len(_WIDTHS), size, bold, italic, color, fill, border)
            self.end_row([(piece, _FULL, size)])

    def section(self, text: str, keep: float = 60) -> None:
        self.keep(8 + height_for(1, 10) + keep)
        self.skip()
        self.line(text, 10, bold=True, color="FFFFFF", fill=_DARK)

    def paragraph(self, text: str | None) -> None:
        if not (text or "").strip():
            self.line(NON_RENSEIGNE, italic=True, color=GRIS, border=True)
        else:
            self.line(str(text), border=True)

    def pair(self, label: str, value: Any, fmt: str | None = None) -> None:
        shown = NON_RENSEIGNE if value is None or value == "" else value
        self.cell(1, label, bold=True, fill=_HEAD_FILL, border=True)
        self.cell(2, shown, len(_WIDTHS) - 1, italic=shown is NON_RENSEIGNE,
                  color=GRIS if shown is NON_RENSEIGNE else "000000", border=True, fmt=fmt)
        self.end_row([(label, _WIDTHS[0], BODY), (shown, _FULL - _WIDTHS[0], BODY)])


@functools.lru_cache(maxsize=256)
def _style(size: float, bold: bool, italic: bool, color: str, fill: str | None,
           border: bool, fmt: str | None, align: str) -> CellStyle:
    """The style of a cell of the compte rendu (a handful, made once per process; a
    formula-looking text gets the quote prefix from the writer)."""
    return CellStyle(POLICE, max(size, TAILLE_MIN), bold, italic, color, fill,
                     _GRIS_BORD if border else None, fmt, align, "top", True)


def _date(d: dt.date | None) -> str | None:
    return d.strftime("%d/%m/%Y") if d else None


def _euros(amount: Decimal) -> str:
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return text.removesuffix(",00") + " €"


def _periode(bilan: BilanAction, annee: int) -> str:
    if bilan.date_debut and bilan.date_fin:
        return f"du {_date(bilan.date_debut)} au {_date(bilan.date_fin)}"
    if bilan.date_debut:
        return f"à partir du {_date(bilan.date_debut)}"
    if bilan.date_fin:
        return f"jusqu'au {_date(bilan.date_fin)}"
    return f"exercice {annee} (dates non renseignées)"


def _accordes(action: ActionProgrammee) -> str | None:
    parts = [f"{f.libelle} : {_euros(action.accorde[f.key])}" for f in FINANCEURS
             if action.accorde.get(f.key)]
    return " ; ".join(parts) or None


def _identification(page: _Feuille, action: ActionProgrammee, bilan: BilanAction,
                    annee: int) -> None:
    page.section("1. Identification", keep=120)
    convention = action.convention_numero
    if action.convention_date:
        convention = f"{convention or 'n° non renseigné'} du {_date(action.convention_date)}"
    for label, value in (
        ("Porteur (raison sociale)", action.porteur_raison_sociale),
        ("SIRET", action.porteur_siret),
        ("N° RNA", action.porteur_rna),
        ("Action n°", action.numero),
        ("Intitulé de l'action", action.intitule),
        ("Convention", convention),
        ("Exercice", str(annee)),
        ("Période de réalisation", _periode(bilan, annee)),
        ("Réalisation de l'action", bilan.realisation),
        ("Subvention(s) accordée(s)", _accordes(action)),
    ):
        page.pair(label, value)


_HEADINGS = ("Prévu", "Réalisé", "Écart (€)", "Écart (%)")


def _budget(page: _Feuille, bilan: BilanAction) -> list[LigneCompteRendu]:
    blocs = blocs_budget(bilan)
    page.section("2. Budget de l'action : prévu et réalisé (en euros)", keep=90)
    page.line(f"Écart = réalisé − prévu, en % du prévu ; « {NON_PREVU} » : réalisé sur une "
              "ligne sans montant prévu ; une ligne vide n'a pas été remplie.", size=8,
              italic=True, color="404040")
    for titre, rows in blocs:
        page.keep(height_for(2, BODY) + sum(_row_height(x) for x in rows[:6]))
        page.cell(1, titre, bold=True, fill=_HEAD_FILL, border=True)
        for col, text in enumerate(_HEADINGS, start=2):
            page.cell(col, text, bold=True, fill=_HEAD_FILL, border=True, align="center")
        page.end_row([(titre, _WIDTHS[0], BODY),
                      *((t, w, BODY) for t, w in zip(_HEADINGS, _WIDTHS[1:], strict=True))])
        for x in rows:
            _budget_row(page, x)
    return [x for _, rows in blocs for x in rows]


def _row_height(x: LigneCompteRendu) -> float:
    return height_for(line_count(x.libelle, _WIDTHS[0], BODY), BODY)


def _budget_row(page: _Feuille, x: LigneCompteRendu) -> None:
    if x.genre == "titre":
        page.cell(1, x.libelle, len(_WIDTHS), bold=True, italic=True, fill=_TITLE_FILL,
                  border=True)
        page.end_row([(x.libelle, _FULL, BODY)])
        return
    bold, fill = x.genre == "total", (_HEAD_FILL if x.genre == "total" else None)
    page.cell(1, x.libelle, bold=bold, fill=fill, border=True)
    part = x.ecart_pourcent
    for col, (value, fmt) in enumerate(((x.prevu, _EUROS), (x.realise, _EUROS),
                                        (x.ecart, _EUROS), (part, _POURCENT)), start=2):
        page.cell(col, value, bold=bold, fill=fill, border=True, fmt=fmt, align="right")
    page.end_row([(x.libelle, _WIDTHS[0], BODY)])


def _annexe(page: _Feuille, bilan: BilanAction, lignes: list[LigneCompteRendu]) -> None:
    page.section("3. Annexe explicative", keep=100)
    ecarts = [x for x in lignes if x.genre != "titre" and x.a_expliquer]
    seuil = f"{SEUIL_ECART * 100:.0f} %"
    if ecarts:
        page.line(f"Écarts à expliquer (plus de {seuil} du prévu, ou réalisé sans prévu) : "
                  + " ; ".join(_ecart_text(x) for x in ecarts) + ".", italic=True)
    else:
        page.line(f"Aucun écart de plus de {seuil} entre prévu et réalisé, aucun réalisé sans "
                  "prévu.", italic=True)
    page.line("Explication des écarts entre le budget prévisionnel et la réalisation :",
              bold=True)
    page.paragraph(bilan.ecarts_explication)
    page.line("Quelle a été la règle de répartition des charges indirectes appliquée ?",
              bold=True)
    page.paragraph(bilan.repartition_charges_indirectes)


def _ecart_text(x: LigneCompteRendu) -> str:
    part = x.ecart_pourcent
    if part == NON_PREVU:
        return f"{x.libelle} (réalisé {_euros(x.realise or ZERO)} sans montant prévu)"
    sign = "+" if (x.ecart or ZERO) > 0 else "−"
    return (f"{x.libelle} (prévu {_euros(x.prevu or ZERO)}, réalisé "
            f"{_euros(x.realise or ZERO)}, {sign}{abs(float(part)) * 100:.0f} %)")


def _lieux_observations(page: _Feuille, bilan: BilanAction) -> None:
    page.section("4. Lieu(x) de réalisation et observations", keep=80)
    page.line("Lieu(x) de réalisation de l'action :", bold=True)
    page.paragraph(bilan.lieux_realisation)
    page.line("Observations :", bold=True)
    page.paragraph(bilan.observations)


def signature_lines(porteur: str, representant: str | None = None) -> list[str]:
    """The Cerfa's certification, the place and date, and the signature, as printed."""
    nom = representant or POINTILLES
    return [f"Je soussigné(e) {nom}, représentant(e) légal(e) de {porteur}, {ATTESTATION}",
            f"Fait à {POINTILLES}, le {POINTILLES}",
            "Signature"]


def _signature(page: _Feuille, action: ActionProgrammee, bilan: BilanAction) -> None:
    texts = signature_lines(action.porteur_raison_sociale, bilan.representant)
    needed = 8 + height_for(1, 10) + sum(height_for(line_count(t, _FULL, BODY), BODY) + 6
                                         for t in texts) + 60
    page.section("5. Attestation", keep=needed)
    for text in texts[:2]:
        page.line(text)
        page.skip()
    page.cell(1, texts[2], bold=True)
    page.cell(3, "Cachet de la structure", len(_WIDTHS) - 2, bold=True)
    page.end_row([(texts[2], _WIDTHS[0], BODY)])
    page.end_row([], minimum=60)  # room to sign


def _recu(recu_le: str) -> str:
    """« 15/02/2020 » from the store's ISO timestamp (as stored when not one)."""
    try:
        return dt.datetime.fromisoformat(recu_le).strftime("%d/%m/%Y")
    except ValueError:
        return recu_le


def _header_text(text: str) -> str:
    """A header or footer text: « & » doubled (it starts a code there), length bounded."""
    return clip_utf16(text, 120).replace("&", "&&")


def _finish(page: _Feuille, action: ActionProgrammee, bilan: BilanAction,
            now: dt.datetime) -> None:
    page.skip()
    page.line(f"Édité le {now:%d/%m/%Y} par cv_excel à partir du bilan accepté « "
              f"{bilan.fichier} » (reçu le {_recu(bilan.recu_le)}). Formulaire de référence : "
              "Cerfa n° 15059*02, compte rendu financier de subvention.", size=8,
              italic=True, color="404040")
    ws = page.ws
    ws.print_area = (max(page.row - 1, 1), len(_WIDTHS))
    # The size comes before a font name: a text starting with a digit would extend « &8 ».
    code = '&8&"Calibri,Regular"'
    ws.page = PageSetup(
        header="&C" + code + _header_text(
            f"Compte rendu financier de l'action n° {action.numero}"),
        footer="&C" + code + _header_text(action.porteur_raison_sociale) + " — page &P / &N")
    ws.breaks = page.breaks


def _sheet(book: NewWorkbook, action: ActionProgrammee, bilan: BilanAction, annee: int,
           contrat: str, taken: set[str], now: dt.datetime) -> None:
    base = sheet_title(f"Action {action.numero}")
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = sheet_title(base, 31 - len(suffix)) + suffix, n + 1
    taken.add(name.casefold())
    page = _Feuille(book.add_sheet(name))
    page.line("Compte rendu financier de l'action", 14, bold=True, color=_DARK)
    page.line(f"Action n° {action.numero} — {action.intitule}", 11, bold=True)
    page.line(f"{contrat} — exercice {annee} — présenté comme le formulaire Cerfa "
              "n° 15059*02", BODY, italic=True, color="404040")
    _identification(page, action, bilan, annee)
    lignes = _budget(page, bilan)
    _annexe(page, bilan, lignes)
    _lieux_observations(page, bilan)
    _signature(page, action, bilan)
    _finish(page, action, bilan, now)


def nom_fichier(annee: int, porteur: str) -> str:
    """« Compte rendu 2019 - Association X.xlsx », valid on every system."""
    return f"{safe_stem(f'Compte rendu {annee} - {porteur}')}.xlsx"


def write_comptes_rendus(donnees: DonneesAnnee, ref: Referentiel, outdir: Path, *,
                         now: dt.datetime, workers: int | None = 1,
                         etat: Path | None = None) -> list[Path]:
    """One workbook per porteur with an accepted bilan, in ``outdir``, by ``workers``
    processes; returns the paths (see :func:`plan_comptes_rendus`; the consolidation
    runs the same tasks beside its tables)."""
    plan = plan_comptes_rendus(donnees, ref, outdir, now=now, etat=etat)
    groupes = ordered_map(ecrire_groupe, plan.groupes(), workers=workers, chunk=1,
                          init=share, init_args=(partage(donnees),))
    return plan.conclure([done for groupe in groupes for done in groupe])


def plan_comptes_rendus(donnees: DonneesAnnee, ref: Referentiel, outdir: Path, *,
                        now: dt.datetime, etat: Path | None = None) -> PlanComptesRendus:
    """What is to be written: one workbook per porteur with an accepted bilan, each
    written atomically by :func:`ecrire_groupe` (names are chosen here, in order, so the
    files are the same whatever the number of processes).

    ``etat``: the record of what each workbook was written from (a digest of the
    porteur's actions and bilans) and the file's signature then. A workbook whose inputs
    and file are those recorded is kept as it is — one new bilan rewrites one compte
    rendu, not the year's thousands; one touched, replaced or removed is written again.
    The digests are made by the workers (:func:`ecrire_groupe`), which read each
    porteur's actions and bilans anyway: this process only lists numéros and names.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    # Numbers only: the year's actions and bilans are read again one porteur at a time.
    porteurs: dict[str, list[str]] = {}  # SIRET -> numéros with a bilan, in order
    noms: dict[str, str] = {}  # SIRET -> raison sociale (of its first action)
    for action in par_numero(donnees.actions):
        if action.numero in donnees.bilans:
            porteurs.setdefault(action.porteur_siret, []).append(action.numero)
            noms.setdefault(action.porteur_siret, action.porteur_raison_sociale)
    known = _read_etat(etat)
    taken: set[str] = set()
    plan = PlanComptesRendus(outdir, donnees.annee, etat)
    for siret in sorted(porteurs, key=lambda siret: (noms[siret].casefold(), siret)):
        stem = nom_fichier(donnees.annee, noms[siret])[:-len(".xlsx")]
        path = outdir / unique_name(stem, ".xlsx", taken)
        plan.taches.append((path, porteurs[siret], donnees.annee, ref.contrat.libelle, now,
                            known.get(path.name)))
    return plan


CONTENUS = "comptes rendus : contenus"  # what the workers read the actions from (shared)


def partage(donnees: DonneesAnnee) -> dict[str, Any]:
    """What the workers of :func:`ecrire_groupe` need, for ``init=share``: the year's
    actions and bilans, found by numéro (forked workers read them from the same files on
    disk as this process; nothing of the year is sent with the tasks)."""
    return {CONTENUS: _Contenus(donnees)}


class _Contenus:
    """Each action of the year with its bilan, found by numéro: read from the disk, one
    porteur at a time, when the year is kept there (a list of numéros in memory)."""

    def __init__(self, donnees: DonneesAnnee) -> None:
        self._bilans = donnees.bilans
        actions = donnees.actions
        if isinstance(actions, SpilledList) and actions.keys is not None:
            self._actions: Any = actions
            self._rang = {numero: i for i, numero in enumerate(actions.keys)}
        else:
            self._actions = {a.numero: a for a in actions}
            self._rang = None

    def __call__(self, numeros: list[str]) -> list[tuple[ActionProgrammee, BilanAction]]:
        actions, rang = self._actions, self._rang
        return [(actions[n if rang is None else rang[n]], self._bilans[n]) for n in numeros]


@dataclass
class PlanComptesRendus:
    """The comptes rendus of a run, one task per porteur (:meth:`groupes`)."""

    outdir: Path
    annee: int
    etat: Path | None
    # (path, numéros, année, contrat, now, recorded): each porteur's workbook, with what
    # the record says it was last written from (None: not recorded)
    taches: list[tuple] = field(default_factory=list)

    def groupes(self, taille: int = 8) -> Iterator[list[tuple]]:
        """The tasks by groups of ``taille`` (a group is one task of a pool)."""
        for i in range(0, len(self.taches), taille):
            yield self.taches[i:i + taille]

    def conclure(self, done: list[tuple[Path, str]]) -> list[Path]:
        """Once the tasks are ``done`` (path, digest of what it was written from): remove
        the stale workbooks (a workbook of an earlier run whose porteur no longer has an
        accepted bilan), record what each was written from; the paths, in the porteurs'
        order."""
        current = {p.name for p, _ in done}
        for old in self.outdir.glob(f"Compte rendu {self.annee} - *.xlsx"):
            if old.name not in current:
                old.unlink(missing_ok=True)
        if self.etat is not None:  # a record not written: the next run writes them all again
            write_record(self.etat, {"fichiers": {
                p.name: [digest, file_signature(p)] for p, digest in done}})
        return [p for p, _ in done]


def _digest(content: list[tuple[ActionProgrammee, BilanAction]], annee: int,
            contrat: str) -> str:
    """What a compte rendu is written from (the code's version included)."""
    return hashlib.sha256(repr((__version__, annee, contrat, content)).encode()).hexdigest()


def _read_etat(etat: Path | None) -> dict[str, list]:
    files = read_record(etat).get("fichiers")
    return {k: v for k, v in files.items() if isinstance(v, list) and len(v) == 2
            } if isinstance(files, dict) else {}


def ecrire_groupe(taches: list[tuple]) -> list[tuple[Path, str]]:
    """A group of :attr:`PlanComptesRendus.taches` (run in a worker process, whose
    ``init`` shared :func:`partage`): each porteur's workbook written, unless the record
    says the file is the one written from the same actions and bilans; (path, digest)."""
    contenus = shared(CONTENUS)
    done = []
    for path, numeros, annee, contrat, now, recorded in taches:
        content = contenus(numeros)
        digest = _digest(content, annee, contrat)
        if not (recorded and recorded[0] == digest and file_signature(path) == recorded[1]):
            _write_one((path, content, annee, contrat, now))
        done.append((path, digest))
    return done


def _write_one(task: tuple[Path, list[tuple[ActionProgrammee, BilanAction]], int, str,
                           dt.datetime]) -> Path:
    """One porteur's workbook (run in a worker process), written atomically."""
    path, actions, annee, contrat, now = task
    book = NewWorkbook("cv_excel", now)
    sheets: set[str] = set()
    for action, bilan in actions:
        _sheet(book, action, bilan, annee, contrat, sheets, now)
    book.save(path)
    return path
