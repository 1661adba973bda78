"""What the consolidation reads from the store, as plain data.

The dashboards and reports are written against these classes only, so they can
be tested on hand-made data as well as on the store filled by the demo cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from cv_excel.spill import SpilledList


@dataclass
class ActionProgrammee:
    """One row of the year's programmation (snapshot taken at consolidation)."""

    numero: str
    annee: int
    porteur_siret: str
    porteur_raison_sociale: str
    porteur_type: str
    porteur_rna: str | None
    porteur_contact: str
    porteur_email: str
    intitule: str
    objectif_operationnel: str
    theme_anct: str | None
    sous_theme_anct: str | None
    territoire: str
    accorde: dict[str, Decimal]  # financeur key -> amount accordé (0 when none)
    demande: dict[str, Decimal]
    departement_dispositif: str | None
    indicateur: str
    mode_recueil: str
    convention_numero: str | None = None
    convention_date: dt.date | None = None
    verse: dict[str, Decimal] = field(default_factory=dict)  # financeur key -> amount versé
    dates_versement: dict[str, list[dt.date]] = field(default_factory=dict)  # chronological
    dossier_dauphin: str | None = None
    theme_p147: str | None = None  # codes of the nomenclature des crédits du P147
    sous_theme_p147: str | None = None
    modalite_p147: str | None = None
    dispositifs_etat: list[str] = field(default_factory=list)
    code_qpv: str | None = None
    objectif_quantifie: str | None = None  # the quantified objective: what is counted,
    valeur_cible: Decimal | None = None  # how much,
    unite: str | None = None  # in what unit

    @property
    def total_accorde(self) -> Decimal:
        return sum(self.accorde.values(), Decimal(0))


@dataclass(slots=True)  # a year holds a million of them at the national volume
class LigneBudget:
    tableau: str  # bud_charges, bud_produits, bud_charges_contrib, bud_produits_contrib
    ligne: str  # "60", "74_etat"…
    prevu: Decimal | None
    realise: Decimal | None


@dataclass
class BilanAction:
    """The accepted, current bilan of one action (latest accepted return)."""

    numero: str
    submission_id: int
    fichier: str
    recu_le: str
    realisation: str | None
    date_debut: dt.date | None
    date_fin: dt.date | None
    benef_total: int | None
    benef_femmes: int | None
    benef_hommes: int | None
    benef_qpv: int | None
    benef_ages: dict[str, int | None]  # moins_12, 12_17, 18_25, 26_59, 60_plus
    score: int | None
    score_justification: str | None
    mode_recueil: str | None
    valeur_constatee: str | None
    resultats: str | None
    difficultes: str | None
    perspectives: str | None
    ecarts_explication: str | None
    budget: list[LigneBudget] = field(default_factory=list)
    lieux_realisation: str | None = None
    observations: str | None = None
    repartition_charges_indirectes: str | None = None
    valeur_atteinte: Decimal | None = None  # against the programmation's valeur cible
    representant: str | None = None  # the porteur's legal representative (signs the bilan)


@dataclass
class ValeurIndicateur:
    rang: int
    libelle: str
    type: str | None
    valeur_cible: str | None  # a number as decimal text (référent workbook v2) or old text
    valeur_precedente: str | None
    valeur_annee: str | None  # the value at the revue: decimal text (v2) or old free text
    source: str | None
    commentaire: str | None
    propose: bool  # a new indicator proposed by the référent
    unite: str | None = None
    valeur_reference: str | None = None  # decimal text
    annee_reference: int | None = None
    panier: str | None = None  # « Conservé » / « Abandonné » (listes.PANIER); None: not said
    cible_fiche: str | None = None  # the target as the fiche words it (prefilled)


@dataclass
class EtatPiste:
    """One « piste d'action » of the fiche and its state at a revue."""

    rang: int
    libelle: str
    etat: str | None  # listes.ETATS_PISTE
    commentaire: str | None


@dataclass
class SuiviObjectif:
    """One référent's accepted, current follow-up of one objectif opérationnel."""

    code: str
    referent_id: str
    submission_id: int
    fichier: str
    recu_le: str
    avancement: str | None
    actions_realisees: str | None
    actions_en_cours: str | None
    resultats: str | None
    difficultes: str | None
    propositions: str | None
    indicateurs: list[ValeurIndicateur] = field(default_factory=list)
    revue: int | None = None  # None: an annual follow-up (no revue)
    pistes: list[EtatPiste] = field(default_factory=list)


@dataclass
class SyntheseNiveau:
    """A pilote's synthesis of one objectif stratégique (``niveau="strategique"``) or a
    coordonnateur's of one orientation (``niveau="orientation"``), at one revue."""

    niveau: str
    code: str
    auteur_id: str  # the pilote's or coordonnateur's directory id
    revue: int | None
    submission_id: int
    fichier: str
    recu_le: str
    avancement: str | None
    rag: str | None  # listes.STATUTS_RAG
    synthese: str | None
    difficultes: str | None
    propositions: str | None


@dataclass
class DecisionSuivie:
    """One decision of a relevé de décisions, in its latest known state.

    ``numero`` is given when the decision is first recorded (« A-2019-R1-03 »: pilier,
    year, revue, rank) and never changes; the later relevés update its follow-up.
    """

    numero: str
    pilier: str
    code: str  # the level concerned (pilier, orientation, objectif code)
    decision: str
    type: str | None
    responsable: str | None
    echeance: dt.date | None
    statut: str  # listes.STATUTS_DECISION
    commentaire: str | None
    ouverte_annee: int
    ouverte_revue: int | None
    maj_annee: int  # the relevé that gave this state
    maj_revue: int | None

    @property
    def ouverte(self) -> bool:
        from cv_excel.listes import DECISIONS_OUVERTES

        return self.statut in DECISIONS_OUVERTES


@dataclass
class SerieIndicateur:
    """One indicator of one objective over the years: the last value declared each year
    (the latest revue of the year), for the trends and the final evaluation."""

    code: str  # objectif opérationnel
    libelle: str
    unite: str | None
    valeur_reference: Decimal | None
    annee_reference: int | None
    valeur_cible: Decimal | None
    valeurs: dict[int, Decimal]  # year -> value
    panier: str | None  # the latest basket choice
    propose: bool


@dataclass
class Submission:
    id: int
    sha256: str
    nom: str
    recu_le: str
    type: str
    classeur_id: str
    contrat: str
    annee: int | None
    destinataire_id: str
    destinataire: str
    statut: str
    bloquants: int
    avertissements: int
    courante: bool  # the accepted return in force for its recipient
    remplacee_par: int | None
    revue: int | None = None


@dataclass
class Cellule:
    """The year's actions alike in everything the consolidation's tables count them by,
    counted and summed together (one row of ``GROUP BY`` in the store: see
    :func:`~cv_excel.store.queries.load_year`). A table groups cells, not actions: a
    pilier, an orientation, a thème, a dispositif is a sum of cells, and the year's
    25,000 actions are not read again for it."""

    objectif_operationnel: str
    theme_anct: str | None
    sous_theme_anct: str | None
    dispositifs_etat: tuple[str, ...]
    departement_dispositif: str | None
    finance_departement: bool  # an amount accordé by the Département (> 0)
    realisation: str | None  # of the accepted bilan (None: none, or it does not say)
    score: int | None  # of the accepted bilan
    rang: int  # the place of the group's first action in the year's actions (from 1)
    actions: int = 0
    bilans: int = 0  # actions with an accepted bilan
    benef: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # total, F, H, non ventilés, QPV
    accorde: dict[str, Decimal] = field(default_factory=dict)  # financeur -> sum accordé
    finances: dict[str, int] = field(default_factory=dict)  # financeur -> actions with > 0

    def dimensions(self) -> tuple:
        return (self.objectif_operationnel, self.theme_anct, self.sous_theme_anct,
                self.dispositifs_etat, self.departement_dispositif, self.finance_departement,
                self.realisation, self.score)


def publics(bilan: BilanAction) -> tuple[int, int, int, int, int]:
    """The people a bilan reached: total, femmes, hommes, non ventilés par sexe, QPV."""
    total, femmes, hommes = bilan.benef_total or 0, bilan.benef_femmes or 0, \
        bilan.benef_hommes or 0
    return (int(total), int(femmes), int(hommes), int(max(total - femmes - hommes, 0)),
            int(bilan.benef_qpv or 0))


def cube_of(actions: Iterable[ActionProgrammee], bilans: Mapping[str, BilanAction]
            ) -> list[Cellule]:
    """The cells of a year held as objects, in one pass (the data a test builds by hand;
    the store makes the same cells in the database)."""
    cells: dict[tuple, Cellule] = {}
    for rang, action in enumerate(actions, start=1):
        bilan = bilans.get(action.numero)
        departement = action.accorde.get("departement") or Decimal(0)
        cell = Cellule(action.objectif_operationnel, action.theme_anct,
                       action.sous_theme_anct, tuple(action.dispositifs_etat),
                       action.departement_dispositif, departement > 0,
                       bilan.realisation if bilan else None, bilan.score if bilan else None,
                       rang)
        cell = cells.setdefault(cell.dimensions(), cell)
        cell.actions += 1
        if bilan is not None:
            cell.bilans += 1
            cell.benef = tuple(map(sum, zip(cell.benef, publics(bilan), strict=True)))
        for key, amount in action.accorde.items():
            cell.accorde[key] = cell.accorde.get(key, Decimal(0)) + (amount or Decimal(0))
            cell.finances[key] = cell.finances.get(key, 0) + (1 if amount and amount > 0
                                                              else 0)
    return list(cells.values())


@dataclass
class DonneesAnnee:
    contrat: str
    annee: int
    actions: list[ActionProgrammee]
    bilans: dict[str, BilanAction]  # by action numéro
    suivis: dict[str, list[SuiviObjectif]]  # by objective code
    # every submission of the year, history included (from the store: on disk)
    submissions: Sequence[Submission]
    construit_le: dt.datetime | None = None
    # The governance cycle. ``revue``: the revue this picture is about (None: the latest
    # state of every recipient over the year's revues and annual follow-ups).
    revue: int | None = None
    syntheses: dict[str, list[SyntheseNiveau]] = field(default_factory=dict)  # by code
    decisions: list[DecisionSuivie] = field(default_factory=list)  # state as of ``revue``
    series: list[SerieIndicateur] = field(default_factory=list)  # every year up to annee
    # The actions counted by group (:class:`Cellule`), made by the store's database; for
    # data made otherwise, made from the actions when first asked (:meth:`cellules`).
    cube: list[Cellule] | None = None

    def cellules(self) -> list[Cellule]:
        """The year's cells, in the order of their first action."""
        if self.cube is None:
            self.cube = cube_of(self.actions, self.bilans)
        return self.cube


def par_numero(actions: Iterable[ActionProgrammee]) -> Iterable[ActionProgrammee]:
    """The actions in numéro order; read back one at a time when they are kept on disk
    (:func:`~cv_excel.store.queries.load_year`), sorted as a list otherwise."""
    if isinstance(actions, SpilledList) and actions.keys is not None:
        return actions.by_key()
    return sorted(actions, key=lambda a: a.numero)
