"""The référent workbook: « Suivi des objectifs opérationnels », one per revue.

One « Objectif » sheet per objectif opérationnel of the référent. The whole fiche is
recalled (the contract makes it « le support principal » of the revues): diagnostic,
contenu, pistes d'action — each with its state —, partenaires, modalités, rôle de la
ville, indicators. Then what §2.1 of the contract asks the référent: actions réalisées /
en cours, principaux résultats, difficultés, propositions d'arbitrage et actions
correctrices, avancement; the indicator values (numbers, with unit, reference and target)
and the basket (indicator kept or dropped, new ones proposed); the porteur actions
programmed under it and the open decisions of earlier revues (read-only).

At a revue the typed cells come prefilled with what the référent declared at the
previous one (to update, not retype).
"""

from __future__ import annotations

from cv_excel.listes import AVANCEMENT, ETATS_PISTE, PANIER
from cv_excel.spec.common import DECISIONS_OUVERTES_TABLEAU, LISEZ_MOI, LISTES_COMMUNES, META
from cv_excel.spec.model import (
    DATE_MAX,
    DATE_MIN,
    DECIMAL_MAX,
    Champ,
    ClasseurSpec,
    Feuille,
    Tableau,
)

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
        Champ("obj_role_ville", "Rôle de la ville", "texte_long", role="prerempli"),
        Champ("obj_diagnostic", "Diagnostic (justification de l'objectif)", "texte_long",
              role="prerempli"),
        Champ("obj_contenu", "Contenu de l'objectif", "texte_long", role="prerempli"),
        Champ("obj_partenaires", "Partenaires", "texte_long", role="prerempli"),
        Champ("obj_modalites", "Modalités de mise en œuvre", "texte_long", role="prerempli"),
        Champ("obj_a_confirmer", "À confirmer", "texte_long", role="prerempli"),
        Champ("obj_nb_actions", "Actions programmées", "entier", role="prerempli"),
        Champ("obj_montant_programme", "Montant total accordé", "montant", role="prerempli"),
        Champ("obj_revue", "Revue de projet", role="prerempli"),
        Champ("obj_precedent", "Repris de", role="prerempli"),
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
            name="obj_pistes",
            label="Pistes d'action de la fiche",
            min_capacite=25,  # A111 has 20
            colonnes=(
                Champ("libelle", "Piste d'action", role="prerempli"),
                Champ("etat", "État", "liste", required=True, liste="liste_etats_piste",
                      aide="Non engagée, engagée ou réalisée à la date de la revue."),
                Champ("commentaire", "Commentaire", max_length=500,
                      aide="Ce qui a été fait, par qui, ce qui bloque."),
            ),
        ),
        Tableau(
            name="obj_indicateurs",
            label="Indicateurs suivis",
            # A111 has 18, and the indicators proposed at each revue join the basket.
            min_capacite=40,
            colonnes=(
                Champ("libelle", "Indicateur", role="prerempli"),
                Champ("type", "Type", role="prerempli"),
                Champ("cible_fiche", "Cible de la fiche", role="prerempli"),
                Champ("unite", "Unité", max_length=40,
                      aide="Ce que compte la valeur : personnes, %, logements, €…"),
                Champ("valeur_reference", "Valeur de référence", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX,
                      aide="Valeur de départ (diagnostic), en nombre."),
                Champ("annee_reference", "Année de référence", "entier",
                      minimum=DATE_MIN.year, maximum=DATE_MAX.year,
                      aide="Année de la valeur de référence (aaaa)."),
                Champ("valeur_cible", "Valeur cible", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX,
                      aide="Valeur visée en fin de contrat, en nombre."),
                Champ("valeur_precedente", "Dernière valeur connue", role="prerempli"),
                Champ("valeur_annee", "Valeur à date", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX,
                      aide="Valeur constatée à la date de la revue, en nombre (vide si non "
                           "disponible : dites-le en commentaire)."),
                Champ("panier", "Panier", "liste", liste="liste_panier",
                      aide="« Conservé » : l'indicateur reste suivi chaque année ; "
                           "« Abandonné » : il sort du panier d'indicateurs."),
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
                      aide="Un indicateur que vous proposez d'ajouter au panier."),
                Champ("type", "Type", "liste", liste="liste_types_indicateur",
                      aide="Impact, résultat ou suivi."),
                Champ("unite", "Unité", max_length=40, aide="Ce que compte la valeur."),
                Champ("valeur_reference", "Valeur de référence", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX, aide="Valeur de départ."),
                Champ("annee_reference", "Année de référence", "entier",
                      minimum=DATE_MIN.year, maximum=DATE_MAX.year,
                      aide="Année de la valeur de référence (aaaa)."),
                Champ("valeur_cible", "Valeur cible", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX, aide="Cible proposée."),
                Champ("valeur_annee", "Valeur à date", "decimal",
                      minimum=-DECIMAL_MAX, maximum=DECIMAL_MAX,
                      aide="Valeur constatée à la date de la revue."),
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
        DECISIONS_OUVERTES_TABLEAU("obj_decisions"),
    ),
)

REFERENT = ClasseurSpec(
    kind="referent",
    titre="Suivi des objectifs opérationnels",
    modele="suivi_referent.xlsx",
    version="2",
    feuilles=(LISEZ_MOI, REFERENT_FEUILLE, OBJECTIF_FEUILLE, META),
    listes={**LISTES_COMMUNES, "liste_avancement": AVANCEMENT,
            "liste_types_indicateur": TYPES_INDICATEUR, "liste_etats_piste": ETATS_PISTE,
            "liste_panier": PANIER},
)
