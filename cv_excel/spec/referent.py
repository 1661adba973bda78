"""The référent workbook: « Suivi des objectifs opérationnels ».

One « Objectif » sheet per objectif opérationnel of the référent, with the
fiche summary and its indicators prefilled, the porteur actions programmed
under it (read-only), and what §2.1 of the contract asks the référent:
actions réalisées / en cours, principaux résultats, difficultés, propositions
d'arbitrage et actions correctrices, avancement, and the indicator values.
"""

from __future__ import annotations

from cv_excel.spec.common import LISEZ_MOI, LISTES_COMMUNES, META
from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Tableau

AVANCEMENT = ("Non engagé", "Engagé", "En cours", "Avancé", "Atteint")
TYPES_INDICATEUR = ("Impact", "Résultat", "Suivi")

REFERENT_FEUILLE = Feuille(
    key="referent",
    titre="Référent",
    champs=(
        Champ("ref_libelle", "Service référent", role="prerempli"),
        Champ("ref_nom", "Nom", role="prerempli"),
        Champ("ref_email", "E-mail", role="prerempli"),
        Champ("ref_roles", "Rôles dans le contrat", "texte_long", role="prerempli"),
        Champ("ref_nb_objectifs", "Nombre d'objectifs suivis", "entier", role="prerempli"),
        Champ("ref_redacteur", "Personne ayant rempli le suivi", required=True, max_length=150,
              aide="Nom de la personne qui a complété ce classeur."),
        Champ("ref_date", "Date du suivi", "date", required=True,
              aide="Date à laquelle le suivi est complété (jj/mm/aaaa)."),
    ),
)

_TEXTE = 3000

OBJECTIF_FEUILLE = Feuille(
    key="objectif",
    titre="Objectif",
    repetee=True,
    champs=(
        Champ("obj_code", "Code de l'objectif opérationnel", role="prerempli"),
        Champ("obj_titre", "Objectif opérationnel", role="prerempli"),
        Champ("obj_pilier", "Pilier", role="prerempli"),
        Champ("obj_orientation", "Orientation stratégique", role="prerempli"),
        Champ("obj_strategique", "Objectif stratégique", role="prerempli"),
        Champ("obj_chaine", "Pilote et coordonnateur", role="prerempli"),
        Champ("obj_referents", "Référent(s)", role="prerempli"),
        Champ("obj_chef_de_file", "Chef de file", "texte_long", role="prerempli"),
        Champ("obj_contenu", "Contenu de l'objectif", "texte_long", role="prerempli"),
        Champ("obj_nb_actions", "Actions programmées", "entier", role="prerempli"),
        Champ("obj_montant_programme", "Montant total accordé", "montant", role="prerempli"),
        Champ("obj_avancement", "Avancement de l'objectif", "liste", required=True,
              liste="liste_avancement", aide="Où en est l'objectif cette année ?"),
        Champ("obj_actions_realisees", "Actions afférentes réalisées", "texte_long",
              required=True, max_length=_TEXTE,
              aide="Actions réalisées cette année au titre de l'objectif (droit commun "
                   "compris)."),
        Champ("obj_actions_en_cours", "Actions en cours de réalisation", "texte_long",
              max_length=_TEXTE, aide="Actions engagées et non terminées."),
        Champ("obj_resultats", "Principaux résultats", "texte_long", required=True,
              max_length=_TEXTE, aide="Les résultats obtenus, chiffrés si possible."),
        Champ("obj_difficultes", "Difficultés rencontrées", "texte_long", max_length=_TEXTE,
              aide="Analyse de la situation : ce qui freine l'atteinte de l'objectif."),
        Champ("obj_propositions", "Propositions d'arbitrage et actions correctrices",
              "texte_long", max_length=_TEXTE,
              aide="Ce que vous proposez au pilote et au COPIL pour corriger la trajectoire."),
    ),
    tableaux=(
        Tableau(
            name="obj_indicateurs",
            label="Indicateurs de la fiche",
            min_capacite=20,
            colonnes=(
                Champ("libelle", "Indicateur", role="prerempli"),
                Champ("type", "Type", role="prerempli"),
                Champ("valeur_cible", "Valeur cible", role="prerempli"),
                Champ("valeur_precedente", "Valeur précédente", max_length=100,
                      aide="Valeur de l'année précédente, si connue."),
                Champ("valeur_annee", "Valeur de l'année", max_length=100,
                      aide="Valeur constatée cette année (nombre, taux, ou « non disponible »)."),
                Champ("source", "Source", max_length=200,
                      aide="D'où vient la valeur : service, partenaire, enquête…"),
                Champ("commentaire", "Commentaire", max_length=500,
                      aide="Lecture de la valeur, changement de définition…"),
            ),
        ),
        Tableau(
            name="obj_nouveaux_indicateurs",
            label="Indicateurs proposés",
            min_capacite=3,
            colonnes=(
                Champ("libelle", "Indicateur proposé", max_length=300,
                      aide="Un indicateur que vous proposez d'ajouter à la fiche."),
                Champ("type", "Type", "liste", liste="liste_types_indicateur",
                      aide="Impact, résultat ou suivi."),
                Champ("valeur_cible", "Valeur cible", max_length=100, aide="Cible proposée."),
                Champ("valeur_precedente", "Valeur précédente", max_length=100,
                      aide="Valeur de l'année précédente, si connue."),
                Champ("valeur_annee", "Valeur de l'année", max_length=100,
                      aide="Valeur constatée cette année."),
                Champ("source", "Source", max_length=200, aide="D'où vient la valeur."),
                Champ("commentaire", "Commentaire", max_length=500,
                      aide="Pourquoi cet indicateur."),
            ),
        ),
        Tableau(
            name="obj_actions",
            label="Actions de la programmation",
            min_capacite=15,
            colonnes=(
                Champ("numero", "N°", role="prerempli"),
                Champ("porteur", "Porteur", role="prerempli"),
                Champ("intitule", "Intitulé", role="prerempli"),
                Champ("montant", "Montant accordé", "montant", role="prerempli"),
                Champ("realisation", "Réalisation déclarée", role="prerempli"),
                Champ("score", "Note EPT", role="prerempli"),
            ),
        ),
    ),
)

REFERENT = ClasseurSpec(
    kind="referent",
    titre="Suivi des objectifs opérationnels",
    modele="suivi_referent.xlsx",
    version="1",
    feuilles=(LISEZ_MOI, REFERENT_FEUILLE, OBJECTIF_FEUILLE, META),
    listes={**LISTES_COMMUNES, "liste_avancement": AVANCEMENT,
            "liste_types_indicateur": TYPES_INDICATEUR},
)
