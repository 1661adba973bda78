"""The workbooks of the governance cascade above the référents (contract, governance
chapter: « La chaîne de responsabilité » and « 2.1 Le suivi et la réalisation »).

Before each revue de projet the référents report to the **pilote** of their objectif
stratégique, the pilotes to the **coordonnateur** of their orientation, the
coordonnateurs to the **responsable** of the pilier (whose view is the pilier's
tableau de bord). After the revue the Direction records the decisions taken in the
**relevé de décisions** of the pilier; open decisions come back in every workbook of
the next revues until they are closed.

- « Synthèse pilote »: one « Stratégique » sheet per objectif stratégique: the
  référents' entries below it (read-only; a missing return is written « retour
  manquant »), then the pilote's synthesis (avancement, feu tricolore, synthèse,
  difficultés, propositions).
- « Synthèse coordonnateur »: one « Orientation » sheet per orientation: the pilotes'
  syntheses and, below, the référents' avancement (so a missing pilote still shows the
  level below), then the coordonnateur's synthesis.
- « Relevé de décisions »: one workbook per pilier and revue, one « Décisions » sheet:
  the proposals collected at every level (read-only), the decisions still open (their
  follow-up typed: statut, échéance, commentaire) and the new decisions.
"""

from __future__ import annotations

from cv_excel.listes import (
    AVANCEMENT,
    STATUTS_DECISION,
    STATUTS_RAG,
    TYPES_DECISION,
)
from cv_excel.spec.common import (
    DECISIONS_OUVERTES_TABLEAU,
    LISEZ_MOI,
    LISTES_COMMUNES,
    META,
    lecture_seule,
)
from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Tableau

_TEXTE = 3000
LISTES_GOUVERNANCE = {**LISTES_COMMUNES, "liste_avancement": AVANCEMENT,
                      "liste_rag": STATUTS_RAG}


def _personne(prefix: str, titre: str, key: str, nb_label: str) -> Feuille:
    """The recipient's sheet: who they are (prefilled) and who filled the workbook."""
    return Feuille(
        key=key,
        titre=titre,
        champs=(
            Champ(f"{prefix}_libelle", "Service", role="prerempli"),
            Champ(f"{prefix}_nom", "Nom", role="prerempli"),
            Champ(f"{prefix}_email", "E-mail", role="prerempli"),
            Champ(f"{prefix}_roles", "Rôles dans le contrat", "texte_long", role="prerempli"),
            Champ(f"{prefix}_nb_sections", nb_label, "entier", role="prerempli"),
            Champ(f"{prefix}_redacteur", "Personne ayant rempli la synthèse", required=True,
                  max_length=150, aide="Nom de la personne qui a complété ce classeur."),
            Champ(f"{prefix}_date", "Date de la synthèse", "date", required=True,
                  aide="Date à laquelle la synthèse est complétée (jj/mm/aaaa)."),
        ),
    )


def _synthese(prefix: str, niveau: str) -> tuple[Champ, ...]:
    """What a pilote or a coordonnateur writes for its level (typed, yellow)."""
    return (
        Champ(f"{prefix}_avancement", f"Avancement de {niveau}", "liste", required=True,
              liste="liste_avancement", aide="Où en est ce niveau à la date de la revue ?"),
        Champ(f"{prefix}_rag", "Feu tricolore", "liste", required=True, liste="liste_rag",
              aide="Vert : dans la trajectoire ; orange : à surveiller ; rouge : à corriger."),
        Champ(f"{prefix}_synthese", "Synthèse des résultats", "texte_long", required=True,
              max_length=_TEXTE,
              aide="Ce qu'il faut retenir des retours du niveau inférieur, chiffré si possible."),
        Champ(f"{prefix}_difficultes", "Difficultés", "texte_long", max_length=_TEXTE,
              aide="Les problèmes à résoudre."),
        Champ(f"{prefix}_propositions", "Propositions d'arbitrage et actions correctrices",
              "texte_long", max_length=_TEXTE,
              aide="Ce que vous proposez de décider à la revue."),
    )


# --- pilote -------------------------------------------------------------------------------
STRATEGIQUE_FEUILLE = Feuille(
    key="strategique",
    titre="Stratégique",
    repetee=True,
    champs=(
        Champ("os_code", "Code de l'objectif stratégique", role="prerempli"),
        Champ("os_titre", "Objectif stratégique", role="prerempli"),
        Champ("os_pilier", "Pilier", role="prerempli"),
        Champ("os_orientation", "Orientation stratégique", role="prerempli"),
        Champ("os_chaine", "Chaîne de responsabilité", "texte_long", role="prerempli"),
        Champ("os_revue", "Revue de projet", role="prerempli"),
        Champ("os_nb_actions", "Actions programmées", "entier", role="prerempli"),
        Champ("os_montant_programme", "Montant total accordé", "montant", role="prerempli"),
        Champ("os_retours", "Retours des référents", role="prerempli"),
        *_synthese("os", "l'objectif stratégique"),
    ),
    tableaux=(
        Tableau(
            name="os_referents",
            label="Retours des référents",
            min_capacite=10,
            colonnes=(
                *lecture_seule(("code", "Code"), ("objectif", "Objectif opérationnel"),
                               ("referent", "Référent"), ("retour", "Retour"),
                               ("avancement", "Avancement"),
                               ("resultats", "Principaux résultats"),
                               ("difficultes", "Difficultés"), ("propositions", "Propositions")),
            ),
        ),
        DECISIONS_OUVERTES_TABLEAU("os_decisions"),
    ),
)

PILOTE = ClasseurSpec(
    kind="pilote",
    titre="Synthèse des objectifs stratégiques",
    modele="synthese_pilote.xlsx",
    version="1",
    feuilles=(LISEZ_MOI, _personne("pil", "Pilote", "pilote", "Objectifs stratégiques suivis"),
              STRATEGIQUE_FEUILLE, META),
    listes=LISTES_GOUVERNANCE,
)

# --- coordonnateur ------------------------------------------------------------------------
ORIENTATION_FEUILLE = Feuille(
    key="orientation",
    titre="Orientation",
    repetee=True,
    champs=(
        Champ("ori_code", "Code de l'orientation", role="prerempli"),
        Champ("ori_titre", "Orientation stratégique", role="prerempli"),
        Champ("ori_pilier", "Pilier", role="prerempli"),
        Champ("ori_chaine", "Chaîne de responsabilité", "texte_long", role="prerempli"),
        Champ("ori_revue", "Revue de projet", role="prerempli"),
        Champ("ori_nb_actions", "Actions programmées", "entier", role="prerempli"),
        Champ("ori_montant_programme", "Montant total accordé", "montant", role="prerempli"),
        Champ("ori_retours", "Retours des pilotes", role="prerempli"),
        *_synthese("ori", "l'orientation"),
    ),
    tableaux=(
        Tableau(
            name="ori_strategiques",
            label="Synthèses des pilotes",
            min_capacite=6,
            colonnes=(
                *lecture_seule(("code", "Code"), ("objectif", "Objectif stratégique"),
                               ("pilote", "Pilote"), ("retour", "Retour"), ("rag", "Feu"),
                               ("avancement", "Avancement"), ("synthese", "Synthèse"),
                               ("difficultes", "Difficultés"), ("propositions", "Propositions")),
            ),
        ),
        Tableau(
            name="ori_operationnels",
            label="Objectifs opérationnels (retours des référents)",
            min_capacite=25,
            colonnes=(
                *lecture_seule(("code", "Code"), ("objectif", "Objectif opérationnel"),
                               ("referent", "Référent"), ("retour", "Retour"),
                               ("avancement", "Avancement"), ("difficultes", "Difficultés")),
            ),
        ),
        DECISIONS_OUVERTES_TABLEAU("ori_decisions"),
    ),
)

COORDONNATEUR = ClasseurSpec(
    kind="coordonnateur",
    titre="Synthèse des orientations stratégiques",
    modele="synthese_coordonnateur.xlsx",
    version="1",
    feuilles=(LISEZ_MOI, _personne("coo", "Coordonnateur", "coordonnateur",
                                   "Orientations suivies"),
              ORIENTATION_FEUILLE, META),
    listes=LISTES_GOUVERNANCE,
)

# --- relevé de décisions ------------------------------------------------------------------
RELEVE_FEUILLE = Feuille(
    key="releve",
    titre="Revue",
    champs=(
        Champ("rel_pilier", "Pilier", role="prerempli"),
        Champ("rel_responsable", "Responsable du pilier", role="prerempli"),
        Champ("rel_revue", "Revue de projet", role="prerempli"),
        Champ("rel_date_prevue", "Date prévue", role="prerempli"),
        Champ("rel_date", "Date de la revue", "date", required=True,
              aide="Date à laquelle la revue s'est tenue (jj/mm/aaaa)."),
        Champ("rel_participants", "Participants", "texte_long", max_length=_TEXTE,
              aide="Qui était présent (services, partenaires)."),
        Champ("rel_redacteur", "Personne ayant rédigé le relevé", required=True,
              max_length=150, aide="Nom de la personne qui a complété ce relevé."),
    ),
)

DECISIONS_FEUILLE = Feuille(
    key="decisions",
    titre="Décisions",
    repetee=True,
    champs=(
        Champ("dec_pilier", "Pilier", role="prerempli"),
        Champ("dec_revue", "Revue de projet", role="prerempli"),
    ),
    tableaux=(
        Tableau(
            name="dec_propositions",
            label="Propositions remontées pour cette revue",
            min_capacite=40,
            colonnes=(
                *lecture_seule(("niveau", "Niveau"), ("code", "Code"), ("auteur", "Proposé par"),
                               ("proposition", "Proposition")),
            ),
        ),
        Tableau(
            name="dec_suivi",
            label="Suivi des décisions en cours",
            min_capacite=40,
            colonnes=(
                Champ("numero", "N°", role="prerempli"),
                Champ("decision", "Décision", role="prerempli"),
                Champ("code", "Niveau", role="prerempli"),
                Champ("responsable", "Responsable", required=True, max_length=150,
                      aide="Qui porte la décision (service)."),
                Champ("echeance", "Échéance", "date", required=True,
                      aide="Date à laquelle la décision doit être mise en œuvre."),
                Champ("statut", "Statut", "liste", required=True, liste="liste_statuts_decision",
                      aide="« Réalisée » ou « Abandonnée » ferme la décision ; « Ouverte » ou "
                           "« En cours » la fait revenir à la revue suivante."),
                Champ("commentaire", "Commentaire de suivi", max_length=1000,
                      aide="Ce qui a été fait depuis la revue précédente."),
            ),
        ),
        Tableau(
            name="dec_nouvelles",
            label="Décisions prises à cette revue",
            min_capacite=20,
            colonnes=(
                Champ("decision", "Décision", max_length=1000,
                      aide="L'arbitrage ou l'action corrective décidé(e) à la revue."),
                Champ("type", "Type", "liste", liste="liste_types_decision",
                      aide="Arbitrage ou action corrective."),
                Champ("code", "Niveau (code)", max_length=20,
                      aide="Code du pilier, de l'orientation ou de l'objectif concerné "
                           "(par exemple A1, A12 ou A121)."),
                Champ("responsable", "Responsable", max_length=150,
                      aide="Qui porte la décision (service)."),
                Champ("echeance", "Échéance", "date",
                      aide="Date à laquelle la décision doit être mise en œuvre."),
                Champ("statut", "Statut", "liste", liste="liste_statuts_decision",
                      aide="En général « Ouverte »."),
                Champ("commentaire", "Commentaire", max_length=1000, aide="Précisions."),
            ),
        ),
    ),
)

RELEVE = ClasseurSpec(
    kind="decisions",
    titre="Relevé de décisions",
    modele="releve_decisions.xlsx",
    version="1",
    feuilles=(LISEZ_MOI, RELEVE_FEUILLE, DECISIONS_FEUILLE, META),
    listes={**LISTES_COMMUNES, "liste_statuts_decision": STATUTS_DECISION,
            "liste_types_decision": TYPES_DECISION},
)
