"""What the consolidation reads from the store, as plain data.

The dashboards and reports are written against these classes only, so they can
be tested on hand-made data as well as on the store filled by the demo cycle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


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


@dataclass
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


@dataclass
class ValeurIndicateur:
    rang: int
    libelle: str
    type: str | None
    valeur_cible: str | None
    valeur_precedente: str | None
    valeur_annee: str | None
    source: str | None
    commentaire: str | None
    propose: bool  # a new indicator proposed by the référent


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


@dataclass
class DonneesAnnee:
    contrat: str
    annee: int
    actions: list[ActionProgrammee]
    bilans: dict[str, BilanAction]  # by action numéro
    suivis: dict[str, list[SuiviObjectif]]  # by objective code
    submissions: list[Submission]  # every submission of the year, history included
    construit_le: dt.datetime | None = None
