"""Closed vocabularies shared by the programmation, the workbooks and the reports.

Each list is the single source for a drop-down, a check and a report column;
labels are the users' French words. Sources: Annexe 3 of the contract (scale,
modes de recueil), Annexe 2 (dispositifs du Département), the ANCT Dauphin
nomenclature (thèmes / sous-thèmes), BOP 147 for the État credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Financeur:
    key: str
    libelle: str


FINANCEURS: tuple[Financeur, ...] = (
    Financeur("etat", "État (BOP 147)"),
    Financeur("ept", "EPT Grand-Orly Seine Bièvre"),
    Financeur("ville", "Ville d'Orly"),
    Financeur("departement", "Département du Val-de-Marne"),
    Financeur("caf", "CAF du Val-de-Marne"),
    Financeur("region", "Région Île-de-France"),
    Financeur("autres", "Autres financeurs"),
)

DISPOSITIFS_DEPARTEMENT: tuple[str, ...] = (
    "Encouragement des initiatives de proximité",
    "Soutien aux équipements de proximité",
    "Autre dispositif départemental",
)

TERRITOIRES: tuple[str, ...] = ("QPV", "Quartier de veille active", "Hors QPV")

# The State's own dispositifs an action may belong to (tags of the Dauphin-like export),
# several per action. Where each comes from:
DISPOSITIFS_ETAT: tuple[str, ...] = (
    "Adultes-relais",  # postes d'adultes-relais, crédits BOP 147 (issue 11)
    "Programme de réussite éducative",  # PRE, sous-thème 111 de la nomenclature P147 (2016)
    "Cités éducatives",  # label État 2019 (issue 11)
    "Postes FONJEP",  # postes FONJEP politique de la ville financés sur le BOP 147
    "Ville vie vacances (VVV)",  # dispositif VVV, crédits politique de la ville
    "Quartiers d'été",  # opération État de l'été dans les QPV
    "Cités de l'emploi",  # dispositif État emploi dans les QPV
    "École ouverte",  # modalité 1123 de la nomenclature P147 (2016)
    "Cordées de la réussite",  # modalité 1131 de la nomenclature P147 (2016)
)

TYPES_STRUCTURE: tuple[str, ...] = (
    "Association",
    "Service municipal",
    "Établissement public",
    "Bailleur social",
    "Entreprise",
    "Autre",
)

# Annexe 3, « Mode de recueil » : the four ways to collect the indicateur unique.
MODES_RECUEIL: tuple[str, ...] = (
    "Données de contexte socio-économique",
    "Données d'activités",
    "Appréciation qualitative du porteur de l'action",
    "Enquête de satisfaction auprès des bénéficiaires",
)

# Annexe 3: the EPT scale of the indicateur de résultat unique and what each step means.
ECHELLE_EPT: dict[int, str] = {
    0: "L'action n'a pas eu lieu",
    20: "L'action a eu lieu, mais avec des résultats très limités",
    40: "L'action a eu lieu avec des résultats limités",
    60: "L'action a eu lieu avec des résultats moyens",
    80: "L'action a eu lieu avec de bons résultats",
    100: "L'action a dépassé ses résultats attendus",
}
PALIERS: tuple[int, ...] = tuple(ECHELLE_EPT)
# Annexe 3 as the programmation declines it (« inférieur à 20 % de l'objectif », « entre 20
# et 40 % »… « au-delà de l'objectif »): the share of the quantified objective reached, in %,
# that each note > 0 stands for (lower, upper bound; None: no upper bound).
TAUX_PAR_NOTE: dict[int, tuple[int, int | None]] = {
    20: (0, 20), 40: (20, 40), 60: (40, 60), 80: (60, 100), 100: (100, None),
}


def notes_du_taux(taux: Decimal) -> tuple[int, ...]:
    """The notes of the EPT scale that a rate of achievement (valeur atteinte / valeur
    cible, in %) calls for. At an exact bound both neighbouring notes fit (20 % : 20 or
    40); nothing reached (0 %) fits 0 (the action did not take place) or 20."""
    notes = [0] if taux == 0 else []
    notes += [note for note, (low, high) in TAUX_PAR_NOTE.items()
              if taux >= low and (high is None or taux <= high)]
    return tuple(notes)

# ANCT (Dauphin) nomenclature: thème → sous-thèmes, labels as the platform shows them.
THEMES_ANCT: dict[str, str] = {
    "1": "1 Cohésion sociale",
    "2": "2 Développement économique et emploi",
    "3": "3 Cadre de vie et renouvellement urbain",
    "4": "4 Pilotage, ingénierie, ressources et évaluations",
}
SOUS_THEMES_ANCT: dict[str, str] = {
    "1.1 Éducation": "1",
    "1.2 Santé": "1",
    "1.3 Parentalité et droits sociaux": "1",
    "1.4 Culture et expression artistique": "1",
    "1.5 Lien social, citoyenneté et participation des habitants": "1",
    "1.5a Jeunesse": "1",
    "1.5b Sport et loisir": "1",
    "1.6 Prévention et lutte contre les discriminations": "1",
    "2.1 Emploi": "2",
    "2.2 Développement économique": "2",
    "3.1 Cadre de vie et renouvellement urbain": "3",
    "3.2 Tranquillité et sûreté publique": "3",
    "4 Pilotage, ingénierie, ressources et évaluations": "4",
}


def theme_of(sous_theme: str) -> str:
    """Label of the thème a sous-thème belongs to."""
    return THEMES_ANCT[SOUS_THEMES_ANCT[sous_theme]]


# --- governance cycle (contract, « 2.1 Le suivi et la réalisation du contrat ») -------------
# Where an objective stands at a revue (référent, pilote, coordonnateur).
AVANCEMENT: tuple[str, ...] = ("Non engagé", "Engagé", "En cours", "Avancé", "Atteint")
# The traffic light a pilote or coordonnateur gives its level: on track, watch, to correct.
STATUTS_RAG: tuple[str, ...] = ("Vert", "Orange", "Rouge")
# A « piste d'action » of the fiche, as the référent sees it at a revue.
ETATS_PISTE: tuple[str, ...] = ("Non engagée", "Engagée", "Réalisée")
# The référents' basket of indicators (« panier réduit d'indicateurs », stabilised end 2019).
PANIER: tuple[str, ...] = ("Conservé", "Abandonné")
# A decision of a revue (arbitrage or action corrective) and its follow-up.
TYPES_DECISION: tuple[str, ...] = ("Arbitrage", "Action corrective")
STATUTS_DECISION: tuple[str, ...] = ("Ouverte", "En cours", "Réalisée", "Abandonnée")
DECISIONS_OUVERTES: tuple[str, ...] = ("Ouverte", "En cours")  # shown again until closed
