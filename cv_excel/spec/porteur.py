"""The porteur workbook: « Bilan annuel des actions ».

Faithful to Annexe 3 of the contract (one indicateur de résultat unique per
action, declined 0/20/40/60/80/100, with its mode de recueil) and to the Cerfa
15059 compte-rendu financier (bilan qualitatif, budget prévu / réalisé, annexe
explicative of significant gaps). One « Action » sheet per funded action.
"""

from __future__ import annotations

from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.spec.budget import (
    CHARGES,
    CHARGES_CONTRIB,
    LIGNES_PREREMPLIES,
    PRODUITS,
    PRODUITS_CONTRIB,
)
from cv_excel.spec.common import LISEZ_MOI, LISTES_COMMUNES, META
from cv_excel.spec.model import (
    EFFECTIF_MAX,
    MONTANT_MAX,
    VALEUR_OBJECTIF_MAX,
    Champ,
    ClasseurSpec,
    Feuille,
    Tableau,
)

# « En cours » : the action runs over the year and is not finished at a revue; « Reportée » :
# moved to a later year — neither counts as « non réalisée » in the tableaux de bord.
REALISATION = ("Réalisée", "Partiellement réalisée", "En cours", "Non réalisée", "Reportée")

PORTEUR_FEUILLE = Feuille(
    key="porteur",
    titre="Porteur",
    champs=(
        Champ("por_raison_sociale", "Raison sociale", role="prerempli"),
        Champ("por_siret", "SIRET", role="prerempli"),
        Champ("por_rna", "Numéro RNA", role="prerempli"),
        Champ("por_type", "Type de structure", role="prerempli"),
        Champ("por_contact", "Contact de la programmation", role="prerempli"),
        Champ("por_email", "E-mail du contact", role="prerempli"),
        Champ("por_nb_actions", "Nombre d'actions", "entier", role="prerempli"),
        Champ("por_representant", "Représentant légal (nom, fonction)", required=True,
              max_length=150, aide="Nom et fonction du représentant légal de la structure."),
        Champ("por_redacteur", "Personne ayant rempli le bilan", required=True, max_length=150,
              aide="Nom de la personne à contacter pour toute question sur ce bilan."),
        Champ("por_telephone", "Téléphone", max_length=30,
              aide="Numéro où joindre la personne ayant rempli le bilan."),
        Champ("por_email_redacteur", "E-mail", "email", required=True, max_length=150,
              aide="Adresse e-mail de la personne ayant rempli le bilan."),
        Champ("por_date", "Date du bilan", "date", required=True,
              aide="Date à laquelle le bilan est complété (jj/mm/aaaa)."),
        Champ("por_attestation", "J'atteste l'exactitude des informations", "liste",
              required=True, liste="liste_oui_non",
              aide="Choisissez « Oui » pour attester l'exactitude des informations du bilan."),
    ),
)

_ACCORDES = tuple(
    Champ(f"act_accorde_{f.key}", f"Accordé – {f.libelle}", "montant", role="prerempli")
    for f in FINANCEURS
)
_DECLINAISONS = tuple(
    Champ(f"act_decl_{p}", f"Déclinaison {p}", role="prerempli") for p in PALIERS
)
_BENEF = (
    ("act_benef_total", "Nombre total de bénéficiaires", True),
    ("act_benef_femmes", "dont femmes", False),
    ("act_benef_hommes", "dont hommes", False),
    ("act_benef_qpv", "dont habitants d'un quartier prioritaire (QPV)", False),
    ("act_benef_moins_12", "dont moins de 12 ans", False),
    ("act_benef_12_17", "dont 12-17 ans", False),
    ("act_benef_18_25", "dont 18-25 ans", False),
    ("act_benef_26_59", "dont 26-59 ans", False),
    ("act_benef_60_plus", "dont 60 ans et plus", False),
)
_MONTANT_AIDE = "Montant en euros (nombre positif, sans texte)."


def _budget(name: str, label: str, lignes, prerempli=()) -> Tableau:
    return Tableau(
        name=name,
        label=label,
        lignes=lignes,
        colonnes=(
            Champ("prevu", "Prévu", "montant", minimum=0, maximum=MONTANT_MAX,
                  aide="Montant prévu au budget prévisionnel de l'action, en euros."),
            Champ("realise", "Réalisé", "montant", minimum=0, maximum=MONTANT_MAX,
                  aide="Montant réellement dépensé ou perçu pour l'action, en euros."),
        ),
        prerempli=prerempli,
    )


ACTION_FEUILLE = Feuille(
    key="action",
    titre="Action",
    repetee=True,
    champs=(
        Champ("act_numero", "N° d'action", role="prerempli"),
        Champ("act_intitule", "Intitulé de l'action", role="prerempli"),
        Champ("act_objectif", "Objectif opérationnel du contrat", role="prerempli"),
        Champ("act_territoire", "Territoire", role="prerempli"),
        *_ACCORDES,
        Champ("act_accorde_total", "Total accordé", "montant", role="calcul"),
        Champ("act_indicateur", "Indicateur de résultat unique", role="prerempli"),
        # The quantified objective of the programmation (issue 11), empty when none was set.
        Champ("act_objectif_quantifie", "Objectif quantifié", role="prerempli",
              aide="Ce que l'action devait produire, tel que fixé à la programmation."),
        Champ("act_valeur_cible", "Valeur cible", "decimal", role="prerempli",
              aide="Combien l'action devait en produire dans l'année (programmation)."),
        Champ("act_unite", "Unité", role="prerempli",
              aide="L'unité de la valeur cible et de la valeur atteinte."),
        *_DECLINAISONS,
        Champ("act_mode_recueil_prevu", "Mode de recueil prévu", role="prerempli"),
        # --- bilan qualitatif ---
        Champ("act_realisation", "L'action a-t-elle été réalisée ?", "liste", required=True,
              liste="liste_realisation", aide="Choisissez dans la liste."),
        Champ("act_date_debut", "Date de début", "date",
              aide="Date de début effective de l'action (jj/mm/aaaa)."),
        Champ("act_date_fin", "Date de fin", "date",
              aide="Date de fin effective de l'action (jj/mm/aaaa)."),
        Champ("act_lieux_realisation", "Lieu(x) de réalisation", "texte_long", max_length=500,
              aide="Où l'action s'est déroulée : adresses, équipements, quartiers."),
        *(
            Champ(name, label, "entier", required=req, minimum=0, maximum=EFFECTIF_MAX,
                  aide="Nombre de personnes (nombre entier positif).")
            for name, label, req in _BENEF
        ),
        # --- évaluation: the measure first, then the note it calls for ---
        Champ("act_valeur_constatee", "Valeur constatée de l'indicateur", max_length=300,
              aide="La mesure obtenue, par exemple « 14 jeunes sur 20 » ou « 72 % »."),
        Champ("act_valeur_atteinte", "Valeur atteinte (dans l'unité de la valeur cible)",
              "decimal", minimum=0, maximum=VALEUR_OBJECTIF_MAX,
              aide="Ce que l'action a réellement produit, comparable à la valeur cible "
                   "rappelée plus haut : un nombre positif, sans texte (par exemple 14 ou "
                   "72). Le taux d'atteinte se calcule dessous."),
        Champ("act_taux_atteinte", "Taux d'atteinte de l'objectif (%)", "decimal",
              role="calcul",
              aide="Valeur atteinte / valeur cible, en % : il guide la note (moins de 20 % : "
                   "20 ; 20 à 40 % : 40 ; 40 à 60 % : 60 ; 60 à 100 % : 80 ; au-delà : 100)."),
        Champ("act_score", "Note de l'indicateur (échelle EPT 0 à 100)", "liste",
              required=True, liste="liste_score",
              aide="Choisissez 0, 20, 40, 60, 80 ou 100 d'après les déclinaisons et le taux "
                   "d'atteinte ci-dessus."),
        Champ("act_score_justification", "Justification de la note", "texte_long",
              required=True, max_length=2000,
              aide="Expliquez la note à partir de l'indicateur mesuré (chiffres, constats)."),
        Champ("act_mode_recueil", "Mode de recueil utilisé", "liste", required=True,
              liste="liste_modes_recueil", aide="Comment l'indicateur a été mesuré."),
        Champ("act_resultats", "Principaux résultats", "texte_long", required=True,
              max_length=3000, aide="Ce que l'action a produit pour ses bénéficiaires."),
        Champ("act_difficultes", "Difficultés rencontrées", "texte_long", max_length=3000,
              aide="Obstacles rencontrés et comment ils ont été traités."),
        Champ("act_perspectives", "Perspectives", "texte_long", max_length=3000,
              aide="Suites envisagées : reconduction, évolution, arrêt."),
        Champ("act_observations", "Observations", "texte_long", max_length=3000,
              aide="Toute autre remarque utile sur l'action ou sur ce bilan."),
        # --- compte-rendu financier (Cerfa 15059) ---
        Champ("bud_total_charges_prevu", "Total des charges prévues", "montant", role="calcul"),
        Champ("bud_total_charges_realise", "Total des charges réalisées", "montant",
              role="calcul"),
        Champ("bud_total_produits_prevu", "Total des produits prévus", "montant", role="calcul"),
        Champ("bud_total_produits_realise", "Total des produits réalisés", "montant",
              role="calcul"),
        Champ("bud_repartition_charges_indirectes",
              "Quelle a été la règle de répartition des charges indirectes appliquée ?",
              "texte_long", max_length=2000,
              aide="Obligatoire si des charges indirectes sont affectées à l'action : clé de "
                   "répartition utilisée (au prorata des heures, des surfaces, des "
                   "effectifs…)."),
        Champ("bud_ecarts_explication", "Annexe explicative : écarts entre prévu et réalisé",
              "texte_long", max_length=3000,
              aide="Obligatoire si un écart dépasse 15 % sur une ligne ou sur un total, ou "
                   "si un montant est réalisé sur une ligne sans montant prévu."),
    ),
    tableaux=(
        _budget("bud_charges", "Charges", CHARGES),
        _budget("bud_charges_contrib", "Emplois des contributions volontaires", CHARGES_CONTRIB),
        _budget("bud_produits", "Produits", PRODUITS,
                prerempli=tuple((ligne, "prevu") for ligne in LIGNES_PREREMPLIES)),
        _budget("bud_produits_contrib", "Contributions volontaires en nature", PRODUITS_CONTRIB),
    ),
)

PORTEUR = ClasseurSpec(
    kind="porteur",
    titre="Bilan annuel des actions",
    modele="bilan_porteur.xlsx",
    version="3",
    feuilles=(LISEZ_MOI, PORTEUR_FEUILLE, ACTION_FEUILLE, META),
    listes={**LISTES_COMMUNES, "liste_realisation": REALISATION},
)
