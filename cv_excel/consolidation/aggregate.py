"""Figures of the tableau de bord, computed once, level by level.

objectif opérationnel (référent) → objectif stratégique (pilote) → orientation
(coordonnateur) → pilier (responsable): each line adds up the lines below it, so
the workbook only lays the figures out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, SuiviObjectif

REALISEES = "Réalisée"
PARTIELLES = "Partiellement réalisée"
NON_REALISEES = ("Non réalisée", "Reportée")


@dataclass
class Chiffres:
    """What the tableau de bord shows for one line (one objective or a subtotal)."""

    actions: int = 0
    realisees: int = 0
    partielles: int = 0
    non_realisees: int = 0
    sans_retour: int = 0
    notes: Counter = field(default_factory=Counter)  # palier -> number of actions
    benef_total: int = 0
    benef_femmes: int = 0
    benef_hommes: int = 0
    benef_qpv: int = 0
    accorde: dict[str, Decimal] = field(
        default_factory=lambda: {f.key: Decimal(0) for f in FINANCEURS})

    @property
    def notees(self) -> int:
        return sum(self.notes.values())

    @property
    def score_moyen(self) -> float | None:
        if not self.notees:
            return None
        return round(sum(p * n for p, n in self.notes.items()) / self.notees, 1)

    @property
    def total_accorde(self) -> Decimal:
        return sum(self.accorde.values(), Decimal(0))

    def add(self, other: Chiffres) -> None:
        for name in ("actions", "realisees", "partielles", "non_realisees", "sans_retour",
                     "benef_total", "benef_femmes", "benef_hommes", "benef_qpv"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes.update(other.notes)
        for key, amount in other.accorde.items():
            self.accorde[key] += amount

    def add_action(self, action: ActionProgrammee, bilan: BilanAction | None) -> None:
        self.actions += 1
        for key, amount in action.accorde.items():
            self.accorde[key] = self.accorde.get(key, Decimal(0)) + (amount or Decimal(0))
        if bilan is None:
            self.sans_retour += 1
            return
        if bilan.realisation == REALISEES:
            self.realisees += 1
        elif bilan.realisation == PARTIELLES:
            self.partielles += 1
        elif bilan.realisation in NON_REALISEES:
            self.non_realisees += 1
        else:
            self.sans_retour += 1
        if bilan.score in PALIERS:
            self.notes[bilan.score] += 1
        self.benef_total += bilan.benef_total or 0
        self.benef_femmes += bilan.benef_femmes or 0
        self.benef_hommes += bilan.benef_hommes or 0
        self.benef_qpv += bilan.benef_qpv or 0


@dataclass
class Ligne:
    niveau: int  # 0 pilier, 1 orientation, 2 objectif stratégique, 3 objectif opérationnel
    code: str
    titre: str
    responsable: str
    chiffres: Chiffres
    suivis: list[SuiviObjectif] = field(default_factory=list)


def _names(ref: Referentiel, ids: list[str]) -> str:
    return " ; ".join(ref.referent(i).libelle for i in ids) or "non désigné"


def lignes_pilier(ref: Referentiel, donnees: DonneesAnnee, pilier: str) -> list[Ligne]:
    """The pilier line first, then each orientation, its objectifs stratégiques and their
    objectifs opérationnels, in the contract's order."""
    by_oo: dict[str, list[ActionProgrammee]] = {}
    for action in donnees.actions:
        by_oo.setdefault(action.objectif_operationnel, []).append(action)
    p = next(x for x in ref.piliers if x.code == pilier)
    top = Ligne(0, p.code, p.titre, _names(ref, p.responsables), Chiffres())
    lines = [top]
    for o in ref.orientations_of(pilier):
        lo = Ligne(1, o.code, o.titre, _names(ref, o.coordonnateurs), Chiffres())
        lines.append(lo)
        for s in ref.strategiques_of(o.code):
            ls = Ligne(2, s.code, s.titre, _names(ref, s.pilotes), Chiffres())
            lines.append(ls)
            for oo in ref.operationnels_of(s.code):
                c = Chiffres()
                for action in by_oo.get(oo.code, []):
                    c.add_action(action, donnees.bilans.get(action.numero))
                lines.append(Ligne(3, oo.code, oo.titre, _names(ref, oo.referents), c,
                                   donnees.suivis.get(oo.code, [])))
                ls.chiffres.add(c)
            lo.chiffres.add(ls.chiffres)
        top.chiffres.add(lo.chiffres)
    return lines


def synthese(ref: Referentiel, donnees: DonneesAnnee) -> list[Ligne]:
    """One line per pilier, then the whole contract."""
    lines = [lignes_pilier(ref, donnees, p.code)[0] for p in ref.piliers]
    total = Chiffres()
    for line in lines:
        total.add(line.chiffres)
    return [*lines, Ligne(0, "Total", ref.contrat.libelle, "", total)]
