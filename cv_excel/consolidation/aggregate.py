"""Figures of the tableau de bord, computed once, level by level.

objectif opérationnel (référent) → objectif stratégique (pilote) → orientation
(coordonnateur) → pilier (responsable): each line adds up the lines below it, so
the workbook only lays the figures out. Each line also carries what its level wrote
at the revue (the référents' suivis, the pilote's or coordonnateur's synthesis), the
decisions still open on it, and the pilier line the responsable's view. The indicator
trends (:func:`tendance`) and the people « à confirmer » are decided here too, once
for the tableau de bord and the COPIL pack.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from cv_excel.listes import FINANCEURS, PALIERS, STATUTS_RAG
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import (
    Cellule,
    DecisionSuivie,
    DonneesAnnee,
    SerieIndicateur,
    SuiviObjectif,
    SyntheseNiveau,
)

REALISEES = "Réalisée"
PARTIELLES = "Partiellement réalisée"
EN_COURS = "En cours"
REPORTEE = "Reportée"
NON_REALISEE = "Non réalisée"
# The action did not take place this year, postponed or not: what the physico-financier
# alerts look at (money paid for nothing done yet). The tableau de bord counts them apart.
NON_REALISEES = (NON_REALISEE, REPORTEE)
NON_RENSEIGNE = "non renseigné"
RETOUR_MANQUANT = "retour manquant"
A_CONFIRMER = " (à confirmer)"
# Référentiel decisions whose people the project inferred rather than read in the contract
# (D05: pilotes of C21 and T12, responsable of T; D06: responsable of A).
DECISIONS_PERSONNES_INFEREES = ("D05", "D06")
# Trend words (tableau de bord « Indicateurs », COPIL pack).
EN_HAUSSE, EN_BAISSE, STABLE = "en hausse", "en baisse", "stable"
TOLERANCE_STABLE = Decimal("0.01")  # a change under 1 % of the previous value is « stable »


@dataclass
class Chiffres:
    """What the tableau de bord shows for one line (one objective or a subtotal)."""

    actions: int = 0
    realisees: int = 0
    partielles: int = 0
    en_cours: int = 0
    reportees: int = 0
    non_realisees: int = 0  # « Non réalisée » only: a « Reportée » action is counted apart
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
        for name in ("actions", "realisees", "partielles", "en_cours", "reportees",
                     "non_realisees", "sans_retour", "benef_total", "benef_femmes",
                     "benef_hommes", "benef_qpv"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes.update(other.notes)
        for key, amount in other.accorde.items():
            self.accorde[key] += amount

    def add_cellule(self, cell: Cellule) -> None:
        """Actions counted together (:class:`Cellule`): alike in realisation and score."""
        self.actions += cell.actions
        for key, amount in cell.accorde.items():
            self.accorde[key] = self.accorde.get(key, Decimal(0)) + amount
        # No bilan (no realisation), or a bilan that does not say: no return on it.
        name = _REALISATION.get(cell.realisation, "sans_retour")
        setattr(self, name, getattr(self, name) + cell.actions)
        if cell.score in PALIERS:  # a blank score is « non renseigné », never a 0
            self.notes[cell.score] += cell.actions
        total, femmes, hommes, _, qpv = cell.benef
        self.benef_total += total
        self.benef_femmes += femmes
        self.benef_hommes += hommes
        self.benef_qpv += qpv


_REALISATION = {REALISEES: "realisees", PARTIELLES: "partielles", EN_COURS: "en_cours",
                REPORTEE: "reportees", NON_REALISEE: "non_realisees"}


@dataclass
class VueResponsable:
    """The pilier seen by its responsable: the traffic lights the pilotes and the
    coordonnateurs gave, and the decisions still open."""

    strategiques: Counter = field(default_factory=Counter)  # « Vert »… or RETOUR_MANQUANT
    orientations: Counter = field(default_factory=Counter)
    decisions_ouvertes: int = 0

    @staticmethod
    def _compte(counter: Counter, sans: str) -> str:
        parts = [f"{counter[rag]} {rag.lower()}" for rag in STATUTS_RAG]
        if counter[RETOUR_MANQUANT]:
            parts.append(f"{counter[RETOUR_MANQUANT]} {sans}")
        return ", ".join(parts)

    @property
    def texte(self) -> str:
        return (f"Objectifs stratégiques : {self._compte(self.strategiques, 'sans synthèse')}"
                f" — orientations : {self._compte(self.orientations, 'sans synthèse')}"
                f" — décisions ouvertes : {self.decisions_ouvertes}.")


@dataclass
class Ligne:
    niveau: int  # 0 pilier, 1 orientation, 2 objectif stratégique, 3 objectif opérationnel
    code: str
    titre: str
    responsable: str
    chiffres: Chiffres
    suivis: list[SuiviObjectif] = field(default_factory=list)  # niveau 3
    synthese: SyntheseNiveau | None = None  # niveaux 1 and 2: the pilote's / coordonnateur's
    # niveaux 1-3: the level's return is expected (a revue) and missing
    manquant: bool = False
    decisions: list[DecisionSuivie] = field(default_factory=list)  # open, on this level
    vue: VueResponsable | None = None  # niveau 0

    @property
    def rag(self) -> str | None:
        return self.synthese.rag if self.synthese else None


def codes_a_confirmer(ref: Referentiel) -> set[str]:
    """The levels whose people (pilote, coordonnateur, responsable) the project inferred."""
    return {code for d in ref.decisions if d.id in DECISIONS_PERSONNES_INFEREES
            for code in d.codes}


def names(ref: Referentiel, ids: list[str], code: str | None = None) -> str:
    """The people of a level, « non désigné » when none, « (à confirmer) » when inferred."""
    text = " ; ".join(ref.referent(i).libelle for i in ids) or "non désigné"
    if ids and code is not None and code in codes_a_confirmer(ref):
        text += A_CONFIRMER
    return text


def synthese_of(donnees: DonneesAnnee, niveau: str, code: str) -> SyntheseNiveau | None:
    """The synthesis of one level (the latest received when several authors returned)."""
    found = [s for s in donnees.syntheses.get(code, []) if s.niveau == niveau]
    return max(found, key=lambda s: s.recu_le) if found else None


def decisions_ouvertes(donnees: DonneesAnnee, codes: set[str] | None = None,
                       pilier: str | None = None) -> list[DecisionSuivie]:
    """The open decisions, on ``codes`` and/or of ``pilier``, by numéro."""
    return sorted((d for d in donnees.decisions if d.ouverte
                   and (codes is None or d.code in codes)
                   and (pilier is None or d.pilier == pilier)), key=lambda d: d.numero)


def chiffres_par_objectif(donnees: DonneesAnnee) -> dict[str, Chiffres]:
    """Every objective's actions counted, from the year's cells (counted by the store's
    database): made once by a caller that lists several piliers."""
    found: dict[str, Chiffres] = {}
    for cell in donnees.cellules():
        found.setdefault(cell.objectif_operationnel, Chiffres()).add_cellule(cell)
    return found


def lignes_pilier(ref: Referentiel, donnees: DonneesAnnee, pilier: str,
                  chiffres: dict[str, Chiffres] | None = None) -> list[Ligne]:
    """The pilier line first, then each orientation, its objectifs stratégiques and their
    objectifs opérationnels, in the contract's order.

    At a revue (``donnees.revue`` set) a level without its return is marked ``manquant``;
    the lines below it keep their own figures and texts."""
    by_oo = chiffres_par_objectif(donnees) if chiffres is None else chiffres
    revue = donnees.revue is not None
    p = next(x for x in ref.piliers if x.code == pilier)
    top = Ligne(0, p.code, p.titre, names(ref, p.responsables, p.code), Chiffres(),
                decisions=decisions_ouvertes(donnees, {p.code}))
    vue = top.vue = VueResponsable(decisions_ouvertes=len(decisions_ouvertes(
        donnees, pilier=pilier)))
    lines = [top]
    for o in ref.orientations_of(pilier):
        syn = synthese_of(donnees, "orientation", o.code)
        lo = Ligne(1, o.code, o.titre, names(ref, o.coordonnateurs, o.code), Chiffres(),
                   synthese=syn, manquant=revue and syn is None,
                   decisions=decisions_ouvertes(donnees, {o.code}))
        vue.orientations[syn.rag if syn and syn.rag else RETOUR_MANQUANT] += 1
        lines.append(lo)
        for s in ref.strategiques_of(o.code):
            syn = synthese_of(donnees, "strategique", s.code)
            ls = Ligne(2, s.code, s.titre, names(ref, s.pilotes, s.code), Chiffres(),
                       synthese=syn, manquant=revue and syn is None,
                       decisions=decisions_ouvertes(donnees, {s.code}))
            vue.strategiques[syn.rag if syn and syn.rag else RETOUR_MANQUANT] += 1
            lines.append(ls)
            for oo in ref.operationnels_of(s.code):
                c = copy.deepcopy(by_oo.get(oo.code)) or Chiffres()  # the lines add to it
                suivis = donnees.suivis.get(oo.code, [])
                lines.append(Ligne(3, oo.code, oo.titre, names(ref, oo.referents), c, suivis,
                                   manquant=revue and not suivis,
                                   decisions=decisions_ouvertes(donnees, {oo.code})))
                ls.chiffres.add(c)
            lo.chiffres.add(ls.chiffres)
        top.chiffres.add(lo.chiffres)
    return lines


def synthese(ref: Referentiel, donnees: DonneesAnnee,
             chiffres: dict[str, Chiffres] | None = None) -> list[Ligne]:
    """One line per pilier, then the whole contract (``chiffres``: see
    :func:`chiffres_par_objectif`, made here when not given)."""
    chiffres = chiffres_par_objectif(donnees) if chiffres is None else chiffres
    lines = [lignes_pilier(ref, donnees, p.code, chiffres)[0] for p in ref.piliers]
    total = Chiffres()
    for line in lines:
        total.add(line.chiffres)
    return [*lines, Ligne(0, "Total", ref.contrat.libelle, "", total,
                          decisions=decisions_ouvertes(donnees))]


# --- indicators ------------------------------------------------------------------------------
def tendance(serie: SerieIndicateur, annee: int | None = None) -> str:
    """« en hausse », « en baisse », « stable » or « non renseigné »: the latest value (up to
    ``annee``) against the one before it, the previous year's, or the reference value when
    only one year is known. A change under 1 % of the earlier value is « stable »."""
    points = sorted((y, v) for y, v in serie.valeurs.items()
                    if v is not None and (annee is None or y <= annee))
    if not points:
        return NON_RENSEIGNE
    last = points[-1][1]
    if len(points) >= 2:
        before = points[-2][1]
    elif serie.valeur_reference is not None:
        before = serie.valeur_reference
    else:
        return NON_RENSEIGNE
    if abs(last - before) <= abs(before) * TOLERANCE_STABLE:
        return STABLE
    return EN_HAUSSE if last > before else EN_BAISSE


def annees_series(series: list[SerieIndicateur], annee: int, debut: int | None = None
                  ) -> list[int]:
    """The years to show as columns: from ``debut`` (the contract's first year) or the
    first year with a value, whichever comes first, up to ``annee``."""
    known = [y for s in series for y in s.valeurs if y <= annee]
    first = min([*known, *([debut] if debut is not None else []), annee])
    return list(range(first, annee + 1))


def debut_contrat(ref: Referentiel) -> int | None:
    """The first year of the contract's period (« 2019-2022 » → 2019)."""
    head = ref.contrat.periode.strip()[:4]
    return int(head) if head.isdigit() else None
