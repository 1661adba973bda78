"""Suivi physico-financier of the contrat de ville (« un suivi physico-financier du contrat »).

One line per action × financeur: accordé and versé (programmation), dépensé (what the
porteur's accepted bilan declares as réalisé on that financeur's « 74 » produit line of
the Cerfa 15059 budget, i.e. the part of the subsidy actually used), solde = versé −
dépensé, with the physical side of the action (réalisation, EPT note) from its bilan.
Totals per pilier and per financeur, and alerts as data, each defined once in
:data:`ALERTES`.

The physical side proper, one line per action (:class:`LignePhysique`): the quantified
objective of the programmation (what, how much, unit), the value reached declared in the
bilan, the rate of achievement (valeur atteinte / valeur cible, in %) and the EPT note
with the notes that rate calls for (Annexe 3 scale, :func:`cv_excel.listes.notes_du_taux`),
next to the action's money; per pilier, how many actions reached their objective (rate ≥
100 %), fell short of it (under 100 %) or cannot say (no target, no bilan or no value
reached: :class:`CompteAtteinte`).

The alerts are not findings on a file (no cell to correct, nothing for the porteur to
fix in a workbook): they are read by the Direction in the consolidation's outputs. So
they are kept here, in the same shape as the catalogue of :mod:`cv_excel.messages`
(stable code, severity, French template and what to do), rather than in that
catalogue, whose entries are rendered as findings with a place in a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.consolidation.aggregate import NON_REALISEES
from cv_excel.consolidation.reporting import (
    ENTIER,
    EUROS,
    NON_RATTACHE,
    POURCENT,
    ZERO,
    new_workbook,
    printable,
    put,
    table,
    title,
)
from cv_excel.listes import FINANCEURS, notes_du_taux
from cv_excel.messages import AVERTISSEMENT, INFORMATION
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec.budget import LIGNE_DU_FINANCEUR, ligne_du_financeur
from cv_excel.spill import SpilledList
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, par_numero
from cv_excel.xlsxio import save_workbook_atomic

PRODUITS = "bud_produits"  # the budget table holding the « 74 » subsidy lines
LIBELLE_FINANCEUR = {f.key: f.libelle for f in FINANCEURS}
SANS_BILAN = "Sans bilan accepté"

# --- thresholds ------------------------------------------------------------------------------
# Amounts are kept to the cent: any euro paid beyond the amount accordé is an overpayment
# that the financeur must recover (titre de recette), so no tolerance.
TOLERANCE_TROP_VERSE = Decimal("0.00")
# Below half of the amount accordé, the gap is no longer the ordinary adjustment of a
# budget (the bilan already explains gaps above 15 %, spec.budget.SEUIL_ECART): part of
# the subsidy was probably not used and may have to be paid back (reliquat).
SEUIL_DEPENSE_FAIBLE = Decimal("0.50")
# Paid in full before any bilan: the balance is normally paid on the compte rendu
# financier, so a subsidy paid at 100 % without one is worth a look (information only).
PART_VERSEE_INTEGRALE = Decimal("1")
SEUIL_TEXTE = f"{SEUIL_DEPENSE_FAIBLE * 100:.0f} %"


@dataclass(frozen=True)
class DefinitionAlerte:
    code: str
    gravite: str  # messages.AVERTISSEMENT or messages.INFORMATION
    titre: str
    message: str  # French template: numero, financeur, accorde, verse, depense, solde…
    suite: str  # what the Direction does about it


ALERTES: dict[str, DefinitionAlerte] = {d.code: d for d in (
    DefinitionAlerte(
        "SPF_VERSE_SUPERIEUR_ACCORDE", AVERTISSEMENT, "Versé supérieur à l'accordé",
        "« {financeur} » a versé {verse} € pour l'action {numero}, plus que le montant "
        "accordé ({accorde} €).",
        "Vérifiez la programmation ; s'il est confirmé, le trop-versé ({ecart} €) appelle "
        "un reversement du porteur (titre de recette)."),
    DefinitionAlerte(
        "SPF_DEPENSE_FAIBLE", AVERTISSEMENT, "Dépensé très inférieur à l'accordé",
        "Le bilan de l'action {numero} déclare {depense} € utilisés sur la subvention de "
        "« {financeur} », moins de {seuil} du montant accordé ({accorde} €).",
        "Reliquat possible : demandez au porteur d'expliquer l'écart ; s'il est confirmé, la "
        "part versée non utilisée ({solde} €) est à reverser ou à déduire d'un versement."),
    DefinitionAlerte(
        "SPF_NON_REALISEE_VERSEE", AVERTISSEMENT, "Action non réalisée mais subvention versée",
        "L'action {numero} est « {realisation} » d'après son bilan, mais « {financeur} » a "
        "déjà versé {verse} €.",
        "Reversement possible : demandez au porteur le remboursement de la subvention non "
        "utilisée, ou l'accord écrit du financeur pour un report."),
    DefinitionAlerte(
        "SPF_VERSEE_SANS_BILAN", INFORMATION, "Subvention entièrement versée sans bilan",
        "La subvention de « {financeur} » pour l'action {numero} est entièrement versée "
        "({verse} €) alors qu'aucun bilan n'a été accepté.",
        "Relancez le porteur : son bilan (compte rendu financier Cerfa 15059) justifie "
        "l'emploi de la subvention."),
)}


def euros(amount: Decimal | None) -> str:
    """« 1 234,50 » / « 1 200 »: amounts in the messages, French style."""
    if amount is None:
        return "—"
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return text.removesuffix(",00")


@dataclass
class Alerte:
    code: str
    gravite: str
    titre: str
    message: str
    suite: str
    numero: str
    porteur: str
    financeur: str  # financeur key
    accorde: Decimal
    verse: Decimal
    depense: Decimal | None
    solde: Decimal | None


@dataclass
class LigneSuivi:
    """One action × one financeur."""

    numero: str
    porteur: str
    intitule: str
    objectif_operationnel: str
    pilier: str  # pilier code, NON_RATTACHE when the objective is not in the référentiel
    financeur: str  # financeur key
    accorde: Decimal
    verse: Decimal
    depense: Decimal | None  # None: no accepted bilan, or no réalisé on the 74 line
    bilan: bool
    realisation: str | None
    score: int | None
    convention_numero: str | None = None
    dates_versement: list = field(default_factory=list)
    alertes: list[Alerte] = field(default_factory=list)

    @property
    def solde(self) -> Decimal | None:
        """Versé − dépensé; positive once the action is over: a reliquat to recover."""
        return None if self.depense is None else self.verse - self.depense

    @property
    def taux_consommation(self) -> float | None:
        if self.depense is None or not self.accorde:
            return None
        return float(self.depense / self.accorde)

    def context(self) -> dict[str, Any]:
        return {"numero": self.numero, "financeur": LIBELLE_FINANCEUR.get(self.financeur,
                                                                          self.financeur),
                "accorde": euros(self.accorde), "verse": euros(self.verse),
                "depense": euros(self.depense), "solde": euros(self.solde),
                "ecart": euros(self.verse - self.accorde),
                "realisation": self.realisation or "", "seuil": SEUIL_TEXTE}


def _alerte(code: str, ligne: LigneSuivi) -> Alerte:
    d, ctx = ALERTES[code], ligne.context()
    return Alerte(d.code, d.gravite, d.titre, d.message.format(**ctx), d.suite.format(**ctx),
                  ligne.numero, ligne.porteur, ligne.financeur, ligne.accorde, ligne.verse,
                  ligne.depense, ligne.solde)


def alertes_ligne(ligne: LigneSuivi) -> list[Alerte]:
    """The alerts of one line, in the order of :data:`ALERTES`."""
    codes = []
    if ligne.verse > ligne.accorde + TOLERANCE_TROP_VERSE:
        codes.append("SPF_VERSE_SUPERIEUR_ACCORDE")
    non_realisee = ligne.bilan and ligne.realisation in NON_REALISEES
    # A non-réalisée action paid is the more precise alert: no « dépensé faible » on top.
    if (ligne.bilan and not non_realisee and ligne.accorde > 0 and ligne.depense is not None
            and ligne.depense < ligne.accorde * SEUIL_DEPENSE_FAIBLE):
        codes.append("SPF_DEPENSE_FAIBLE")
    if non_realisee and ligne.verse > 0:
        codes.append("SPF_NON_REALISEE_VERSEE")
    if (not ligne.bilan and ligne.accorde > 0
            and ligne.verse >= ligne.accorde * PART_VERSEE_INTEGRALE):
        codes.append("SPF_VERSEE_SANS_BILAN")
    return [_alerte(code, ligne) for code in codes]


def depense(bilan: BilanAction | None, financeur: str) -> Decimal | None:
    """Réalisé of the financeur's « 74 » produit line in the bilan (None when absent). The
    programmation's « autres » financeur is either line it can land on: « autres
    établissements publics » or, when named as a foundation, « aides privées »."""
    if bilan is None or financeur not in LIGNE_DU_FINANCEUR:
        return None
    keys = {LIGNE_DU_FINANCEUR[financeur], ligne_du_financeur(financeur, "fondation")}
    found = [line.realise for line in bilan.budget
             if line.tableau == PRODUITS and line.ligne in keys and line.realise is not None]
    return sum(found, Decimal(0)) if found else None


def lignes_action(action: ActionProgrammee, bilan: BilanAction | None,
                  pilier: str = NON_RATTACHE) -> list[LigneSuivi]:
    """One line per financeur with an amount accordé, versé or dépensé, alerts attached."""
    lignes = []
    for f in FINANCEURS:
        accorde = action.accorde.get(f.key) or ZERO
        verse = action.verse.get(f.key) or ZERO
        spent = depense(bilan, f.key)
        if not (accorde or verse or spent):
            continue
        ligne = LigneSuivi(
            action.numero, action.porteur_raison_sociale, action.intitule,
            action.objectif_operationnel, pilier, f.key, accorde, verse, spent,
            bilan is not None, bilan.realisation if bilan else None,
            bilan.score if bilan else None, action.convention_numero,
            list(action.dates_versement.get(f.key) or []))
        ligne.alertes = alertes_ligne(ligne)
        lignes.append(ligne)
    return lignes


@dataclass
class Totaux:
    """Sums over a set of lines (a pilier, a financeur, an objective, the contract)."""

    lignes: int = 0
    accorde: Decimal = ZERO
    verse: Decimal = ZERO
    depense: Decimal = ZERO
    solde: Decimal = ZERO  # over the lines with a dépensé only
    sans_bilan: int = 0  # lines whose action has no accepted bilan
    alertes: int = 0  # warnings: what to look at (information alerts are not counted here)
    informations: int = 0
    actions: set[str] = field(default_factory=set)
    bilans: set[str] = field(default_factory=set)
    scores: dict[str, int] = field(default_factory=dict)  # action -> note

    def add(self, ligne: LigneSuivi) -> None:
        self.lignes += 1
        self.accorde += ligne.accorde
        self.verse += ligne.verse
        self.depense += ligne.depense or ZERO
        self.solde += ligne.solde or ZERO
        self.sans_bilan += not ligne.bilan
        self.alertes += sum(1 for a in ligne.alertes if a.gravite == AVERTISSEMENT)
        self.informations += sum(1 for a in ligne.alertes if a.gravite != AVERTISSEMENT)
        self.actions.add(ligne.numero)
        if ligne.bilan:
            self.bilans.add(ligne.numero)
        if ligne.score is not None:
            self.scores[ligne.numero] = ligne.score

    def merge(self, other: Totaux) -> None:
        for name in ("lignes", "accorde", "verse", "depense", "solde", "sans_bilan",
                     "alertes", "informations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.actions |= other.actions
        self.bilans |= other.bilans
        self.scores.update(other.scores)

    @property
    def score_moyen(self) -> float | None:
        if not self.scores:
            return None
        return round(sum(self.scores.values()) / len(self.scores), 1)

    @property
    def taux_consommation(self) -> float | None:
        return float(self.depense / self.accorde) if self.accorde else None


def totaux(lignes: Iterable[LigneSuivi]) -> Totaux:
    t = Totaux()
    for ligne in lignes:
        t.add(ligne)
    return t


# --- the physical side --------------------------------------------------------------------
ATTEINT = "Objectif atteint ou dépassé (taux ≥ 100 %)"
PARTIEL = "Objectif non atteint (taux < 100 %)"
INCONNU = "Taux inconnu"
CENT = Decimal(100)


@dataclass
class LignePhysique:
    """One action: its quantified objective and what its bilan says was reached, with the
    money of its financeur lines."""

    numero: str
    porteur: str
    intitule: str
    pilier: str  # pilier code, NON_RATTACHE when the objective is not in the référentiel
    objectif_quantifie: str | None
    valeur_cible: Decimal | None
    unite: str | None
    bilan: bool
    realisation: str | None
    valeur_atteinte: Decimal | None
    score: int | None
    accorde: Decimal = ZERO
    verse: Decimal = ZERO
    depense: Decimal | None = None  # None: no dépensé known on any financeur line

    @property
    def taux(self) -> Decimal | None:
        """Valeur atteinte / valeur cible, in % (None without a positive target or a value
        reached: nothing is estimated)."""
        if self.valeur_cible is None or self.valeur_cible <= 0 or self.valeur_atteinte is None:
            return None
        return self.valeur_atteinte / self.valeur_cible * CENT

    @property
    def classe(self) -> str:
        taux = self.taux
        if taux is None:
            return INCONNU
        return ATTEINT if taux >= CENT else PARTIEL

    @property
    def notes_attendues(self) -> tuple[int, ...]:
        """The EPT notes the rate calls for (both neighbours at an exact bound)."""
        taux = self.taux
        return () if taux is None else notes_du_taux(taux)

    @property
    def note_coherente(self) -> bool | None:
        """Whether the note given is one the rate calls for (None: cannot say)."""
        if self.score is None or not self.notes_attendues:
            return None
        return self.score in self.notes_attendues


@dataclass
class CompteAtteinte:
    """How many actions reached their quantified objective, fell short, or cannot say."""

    atteint: int = 0
    partiel: int = 0
    inconnu: int = 0

    def add(self, ligne: LignePhysique) -> None:
        classe = ligne.classe
        if classe == ATTEINT:
            self.atteint += 1
        elif classe == PARTIEL:
            self.partiel += 1
        else:
            self.inconnu += 1

    @property
    def actions(self) -> int:
        return self.atteint + self.partiel + self.inconnu


def ligne_physique(action: ActionProgrammee, bilan: BilanAction | None,
                   lignes: Iterable[LigneSuivi] = (), pilier: str = NON_RATTACHE
                   ) -> LignePhysique:
    """The physical line of ``action``; ``lignes``: its financeur lines (money)."""
    lignes = list(lignes)
    spent = [ligne.depense for ligne in lignes if ligne.depense is not None]
    return LignePhysique(
        action.numero, action.porteur_raison_sociale, action.intitule, pilier,
        action.objectif_quantifie, action.valeur_cible, action.unite, bilan is not None,
        bilan.realisation if bilan else None, bilan.valeur_atteinte if bilan else None,
        bilan.score if bilan else None,
        sum((ligne.accorde for ligne in lignes), ZERO),
        sum((ligne.verse for ligne in lignes), ZERO),
        sum(spent, ZERO) if spent else None)


@dataclass
class SuiviPhysicoFinancier:
    annee: int
    lignes: list[LigneSuivi]
    par_pilier: dict[str, Totaux]  # pilier code (référentiel order; NON_RATTACHE last)
    par_financeur: dict[str, Totaux]  # financeur key, in FINANCEURS order
    total: Totaux
    physique: list[LignePhysique] = field(default_factory=list)  # one per action
    atteinte_par_pilier: dict[str, CompteAtteinte] = field(default_factory=dict)
    atteinte: CompteAtteinte = field(default_factory=CompteAtteinte)  # every action
    # by objective, when made with the lines (:func:`suivi_physico_financier`)
    objectifs: dict[str, Totaux] | None = None

    @property
    def alertes(self) -> list[Alerte]:
        return [a for ligne in self.lignes for a in ligne.alertes]

    def par_objectif(self) -> dict[str, Totaux]:
        if self.objectifs is not None:
            return self.objectifs
        out: dict[str, Totaux] = {}
        for ligne in self.lignes:
            out.setdefault(ligne.objectif_operationnel, Totaux()).add(ligne)
        return out


def _pilier(ref: Referentiel, code_oo: str) -> str:
    try:
        return ref.pilier_of(code_oo)
    except StopIteration:
        return NON_RATTACHE


def suivi_physico_financier(donnees: DonneesAnnee, ref: Referentiel) -> SuiviPhysicoFinancier:
    """The year's lines (per action and financeur) and physical lines (per action), kept
    on disk (:class:`~cv_excel.spill.SpilledList`: read again by each table that lists
    them), with their sums by pilier and financeur made as they are produced."""
    par_pilier = {p.code: Totaux() for p in ref.piliers}
    par_financeur = {f.key: Totaux() for f in FINANCEURS}
    atteinte = {p.code: CompteAtteinte() for p in ref.piliers}
    total, tous = CompteAtteinte(), Totaux()
    par_objectif: dict[str, Totaux] = {}
    physique: SpilledList[LignePhysique] = SpilledList()  # on disk as they are made

    def lignes_annee() -> Iterator[LigneSuivi]:
        for action in par_numero(donnees.actions):
            bilan = donnees.bilans.get(action.numero)
            pilier = _pilier(ref, action.objectif_operationnel)
            own = lignes_action(action, bilan, pilier)
            for ligne in own:
                par_pilier.setdefault(ligne.pilier, Totaux()).add(ligne)
                par_financeur[ligne.financeur].add(ligne)
                par_objectif.setdefault(ligne.objectif_operationnel, Totaux()).add(ligne)
                tous.add(ligne)
            x = ligne_physique(action, bilan, own, pilier)
            atteinte.setdefault(x.pilier, CompteAtteinte()).add(x)
            total.add(x)
            physique.append(x)
            yield from own

    lignes = SpilledList(lignes_annee())
    physique.seal()
    return SuiviPhysicoFinancier(donnees.annee, lignes, par_pilier, par_financeur,
                                 tous, physique, atteinte, total, par_objectif)


# --- the workbook ----------------------------------------------------------------------------
TOP = 4  # header row of every table
NOTES = (
    "Accordé, versé : montants de la programmation de l'année (par financeur), dates de "
    "versement comprises.",
    "Dépensé : ce que le bilan accepté du porteur déclare en « réalisé » sur la ligne « 74 » "
    "de produits de ce financeur (compte rendu financier Cerfa 15059), c'est-à-dire la part "
    "de la subvention effectivement utilisée. Vide tant qu'aucun bilan n'est accepté ou si "
    "la ligne n'a pas de réalisé.",
    "Solde = versé − dépensé, sur les lignes dont le dépensé est connu. Positif une fois "
    "l'action terminée : reliquat possible à reverser ; négatif : reste à verser au porteur "
    "au plus le montant accordé.",
    "Taux de consommation = dépensé / accordé.",
    "Réalisation et note (0 à 100, échelle EPT) : d'après le bilan accepté de l'action.",
    "Réalisation physique : l'objectif quantifié, la valeur cible et l'unité viennent de la "
    "programmation ; la valeur atteinte du bilan accepté. Taux d'atteinte = valeur atteinte / "
    "valeur cible. Notes attendues : celles que ce taux appelle sur l'échelle EPT de l'annexe "
    "3 (moins de 20 % : 20 ; 20 à 40 % : 40 ; 40 à 60 % : 60 ; 60 à 100 % : 80 ; au-delà : "
    "100 ; à une borne, les deux notes voisines).",
    f"Par pilier, les actions sont comptées en trois groupes : « {ATTEINT} », « {PARTIEL} » "
    f"et « {INCONNU} » (pas de valeur cible, pas de bilan accepté ou pas de valeur atteinte : "
    "rien n'est estimé). Toutes les actions programmées sont comptées.",
    f"Alertes : versé supérieur à l'accordé ; dépensé inférieur à {SEUIL_TEXTE} de l'accordé "
    "(bilan accepté, action réalisée en tout ou partie) ; action « Non réalisée » ou "
    "« Reportée » mais subvention versée ; subvention entièrement versée sans bilan accepté "
    "(information).",
)


def _pilier_libelle(ref: Referentiel, code: str) -> str:
    p = next((p for p in ref.piliers if p.code == code), None)
    return code if p is None else f"{p.code} — {p.titre}"


def _actions_sheet(ws: Worksheet, suivi: SuiviPhysicoFinancier, ref: Referentiel) -> None:
    title(ws, f"Suivi physico-financier {suivi.annee} — par action et financeur",
          f"{ref.contrat.libelle} — montants en euros ; « dépensé » : réalisé déclaré dans le "
          "bilan sur la ligne « 74 » du financeur (voir la feuille « Notes »).")
    columns = [
        ("N° d'action", 11, None), ("Porteur", 26, None), ("Intitulé de l'action", 32, None),
        ("Pilier", 22, None), ("Financeur", 20, None), ("N° de convention", 14, None),
        ("Accordé", 13, EUROS), ("Versé", 13, EUROS), ("Dates de versement", 14, None),
        ("Dépensé (bilan)", 13, EUROS), ("Taux de consommation", 11, POURCENT),
        ("Solde (versé − dépensé)", 13, EUROS), ("Réalisation (bilan)", 16, None),
        ("Note (0 à 100)", 9, ENTIER), ("Alertes", 30, None)]
    rows = ([  # made as they are written: one line per action and financeur
        ligne.numero, ligne.porteur, ligne.intitule, _pilier_libelle(ref, ligne.pilier),
        LIBELLE_FINANCEUR[ligne.financeur], ligne.convention_numero, ligne.accorde,
        ligne.verse, " ; ".join(f"{d:%d/%m/%Y}" for d in ligne.dates_versement) or None,
        ligne.depense, ligne.taux_consommation, ligne.solde,
        ligne.realisation if ligne.bilan else SANS_BILAN, ligne.score,
        "\n".join(a.titre for a in ligne.alertes) or None] for ligne in suivi.lignes)
    t = suivi.total
    table(ws, TOP, columns, rows, as_text=True, total=[
        "Total", f"{len(t.actions)} actions", None, None, f"{t.lignes} lignes", None,
        t.accorde, t.verse, None, t.depense, t.taux_consommation, t.solde, None, None,
        f"{t.alertes} alerte(s)"])
    ws.freeze_panes = ws.cell(row=TOP + 1, column=2)
    printable(ws, TOP)


_TOTAUX_COLUMNS = (
    ("Actions", 9, ENTIER), ("Actions avec bilan accepté", 11, ENTIER),
    ("Note moyenne (0 à 100)", 10, "0.0"), ("Accordé", 14, EUROS), ("Versé", 14, EUROS),
    ("Dépensé (bilans)", 14, EUROS), ("Taux de consommation", 11, POURCENT),
    ("Solde (versé − dépensé)", 14, EUROS), ("Lignes sans bilan", 10, ENTIER),
    ("Alertes", 9, ENTIER))
_ATTEINTE_COLUMNS = ((ATTEINT, 13, ENTIER), (PARTIEL, 13, ENTIER), (INCONNU, 11, ENTIER))


def _totaux_values(name: str, t: Totaux) -> list[Any]:
    return [name, len(t.actions), len(t.bilans), t.score_moyen, t.accorde, t.verse, t.depense,
            t.taux_consommation, t.solde, t.sans_bilan, t.alertes]


def _atteinte_values(c: CompteAtteinte | None) -> list[int]:
    c = c or CompteAtteinte()
    return [c.atteint, c.partiel, c.inconnu]


def _totaux_sheet(ws: Worksheet, heading: str, label: str, groups: dict[str, Totaux],
                  total: Totaux, subtitle: str,
                  atteinte: tuple[dict[str, CompteAtteinte], CompteAtteinte] | None = None
                  ) -> None:
    """``atteinte``: the per-group and total counts of actions by rate of achievement,
    added as three columns (the piliers)."""
    title(ws, heading, subtitle)
    columns = [(label, 40, None), *_TOTAUX_COLUMNS]
    rows = [_totaux_values(name, t) for name, t in groups.items()]
    total_row = _totaux_values("Total", total)
    if atteinte is not None:
        per, all_ = atteinte
        columns += _ATTEINTE_COLUMNS
        rows = [[*row, *_atteinte_values(per.get(name))] for row, name in zip(rows, groups,
                                                                             strict=True)]
        total_row += _atteinte_values(all_)
    table(ws, TOP, columns, rows, total=total_row, autofilter=False, as_text=True)
    printable(ws, TOP)


def _physique_sheet(ws: Worksheet, suivi: SuiviPhysicoFinancier, ref: Referentiel) -> None:
    c = suivi.atteinte
    title(ws, f"Suivi physico-financier {suivi.annee} — réalisation physique par action",
          f"{ref.contrat.libelle} — objectif quantifié (programmation), valeur atteinte "
          f"(bilan) et taux d'atteinte ; {c.atteint} action(s) à 100 % ou plus, {c.partiel} "
          f"en dessous, {c.inconnu} au taux inconnu (voir la feuille « Notes »).")
    columns = [
        ("N° d'action", 11, None), ("Porteur", 24, None), ("Intitulé de l'action", 30, None),
        ("Pilier", 20, None), ("Objectif quantifié", 30, None), ("Valeur cible", 10, None),
        ("Unité", 12, None), ("Valeur atteinte (bilan)", 11, None),
        ("Taux d'atteinte", 10, POURCENT), ("Atteinte de l'objectif", 20, None),
        ("Réalisation (bilan)", 16, None), ("Note (0 à 100)", 9, ENTIER),
        ("Notes attendues d'après le taux", 12, None), ("Accordé", 13, EUROS),
        ("Versé", 13, EUROS), ("Dépensé (bilan)", 13, EUROS)]
    accorde, verse, spent = ZERO, ZERO, None

    def rows() -> Iterator[list[Any]]:  # one line per action, read back from disk once
        nonlocal accorde, verse, spent
        for x in suivi.physique:
            accorde, verse = accorde + x.accorde, verse + x.verse
            if x.depense is not None:
                spent = (spent or ZERO) + x.depense
            yield [x.numero, x.porteur, x.intitule, _pilier_libelle(ref, x.pilier),
                   x.objectif_quantifie, x.valeur_cible, x.unite, x.valeur_atteinte,
                   None if x.taux is None else float(x.taux / CENT), x.classe,
                   x.realisation if x.bilan else SANS_BILAN, x.score,
                   " ou ".join(map(str, x.notes_attendues)) or None, x.accorde, x.verse,
                   x.depense]

    table(ws, TOP, columns, rows(), as_text=True, total=lambda: [
        "Total", f"{len(suivi.physique)} actions", *[None] * 7,
        f"{c.atteint} atteint(s) ou dépassé(s)", None, None, None, accorde, verse, spent])
    ws.freeze_panes = ws.cell(row=TOP + 1, column=2)
    printable(ws, TOP)


def _alertes_sheet(ws: Worksheet, suivi: SuiviPhysicoFinancier) -> None:
    alertes = sorted(suivi.alertes, key=lambda a: (a.gravite != AVERTISSEMENT, a.numero,
                                                   list(LIBELLE_FINANCEUR).index(a.financeur)))
    counts = {d.titre: sum(1 for a in alertes if a.code == d.code) for d in ALERTES.values()}
    title(ws, f"Suivi physico-financier {suivi.annee} — alertes",
          f"{len(alertes)} alerte(s) : " + " ; ".join(f"{t} : {n}" for t, n in counts.items())
          + ".")
    columns = [("Gravité", 13, None), ("Alerte", 26, None), ("N° d'action", 11, None),
               ("Porteur", 24, None), ("Financeur", 20, None), ("Accordé", 13, EUROS),
               ("Versé", 13, EUROS), ("Dépensé (bilan)", 13, EUROS),
               ("Solde (versé − dépensé)", 13, EUROS), ("Constat", 50, None),
               ("Suite à donner", 50, None), ("Code", 14, None)]
    rows = [[a.gravite, a.titre, a.numero, a.porteur, LIBELLE_FINANCEUR[a.financeur],
             a.accorde, a.verse, a.depense, a.solde, a.message, a.suite, a.code]
            for a in alertes]
    table(ws, TOP, columns, rows, as_text=True)
    printable(ws, TOP)


def _notes_sheet(ws: Worksheet, suivi: SuiviPhysicoFinancier) -> None:
    title(ws, f"Suivi physico-financier {suivi.annee} — notes de lecture")
    ws.column_dimensions["A"].width = 120
    for i, text in enumerate(NOTES, start=3):
        put(ws, i, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[i].height = 15 * (len(text) // 110 + 1) + 3
    printable(ws)


def write_suivi_physico_financier(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                                  suivi: SuiviPhysicoFinancier | None = None) -> Path:
    """The workbook « Suivi physico-financier <année> »: actions × financeurs, the
    physical side per action, piliers, financeurs, alertes and the notes that define each
    figure."""
    suivi = suivi or suivi_physico_financier(donnees, ref)
    wb = new_workbook()
    _actions_sheet(wb.create_sheet("Actions"), suivi, ref)
    _physique_sheet(wb.create_sheet("Réalisation physique"), suivi, ref)
    _totaux_sheet(wb.create_sheet("Piliers"),
                  f"Suivi physico-financier {suivi.annee} — par pilier", "Pilier",
                  {_pilier_libelle(ref, k): t for k, t in suivi.par_pilier.items()},
                  suivi.total, f"{ref.contrat.libelle} — toutes les actions financées de "
                  "l'année, montants en euros ; atteinte de l'objectif quantifié : toutes les "
                  "actions programmées.",
                  ({_pilier_libelle(ref, k): c for k, c in suivi.atteinte_par_pilier.items()},
                   suivi.atteinte))
    _totaux_sheet(wb.create_sheet("Financeurs"),
                  f"Suivi physico-financier {suivi.annee} — par financeur", "Financeur",
                  {LIBELLE_FINANCEUR[k]: t for k, t in suivi.par_financeur.items()},
                  suivi.total, f"{ref.contrat.libelle} — « Actions » : actions financées par "
                  "ce financeur ; le total compte chaque action une fois.")
    _alertes_sheet(wb.create_sheet("Alertes"), suivi)
    _notes_sheet(wb.create_sheet("Notes"), suivi)
    return save_workbook_atomic(wb, path)
