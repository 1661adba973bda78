"""The one French message catalogue.

Every text a user reads about a problem comes from here: a stable code, a
severity, a message template with ``{placeholders}`` and a hint saying how to
fix it. Checks only pick a code and give the context; tests render every
entry, so a typo in a placeholder cannot reach a porteur.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

BLOQUANT = "bloquant"
AVERTISSEMENT = "avertissement"
INFORMATION = "information"  # said in the report, changes no status


@dataclass(frozen=True)
class Message:
    code: str
    severity: str
    template: str
    hint: str = ""

    def placeholders(self) -> set[str]:
        names = set()
        for text in (self.template, self.hint):
            names |= {f for _, f, _, _ in string.Formatter().parse(text) if f}
        return names


_ENTRIES = [
    # --- Programmation: file and layout -------------------------------------------------
    Message("PROG_FICHIER_ILLISIBLE", BLOQUANT,
            "Le fichier « {file} » ne peut pas être lu comme un classeur Excel (.xlsx) : {detail}.",
            "Enregistrez le fichier au format « Classeur Excel (.xlsx) » puis recommencez."),
    Message("PROG_FEUILLE_ABSENTE", BLOQUANT,
            "La feuille « {sheet} » est introuvable dans le classeur.",
            "Partez du modèle produit par « cv-excel programmation modele » "
            "et ne renommez pas ses feuilles."),
    Message("PROG_COLONNE_ABSENTE", BLOQUANT,
            "La colonne « {column} » est absente de la ligne d'en-tête.",
            "Rétablissez la colonne avec exactement ce titre (l'ordre des colonnes est libre)."),
    Message("PROG_COLONNE_AJOUTEE_ABSENTE", AVERTISSEMENT,
            "La colonne « {column} », ajoutée au modèle depuis, est absente de la ligne "
            "d'en-tête : ses valeurs sont considérées comme vides.",
            "Ajoutez la colonne avec exactement ce titre (ou repartez du modèle produit par "
            "« cv-excel programmation modele ») pour saisir conventions et versements."),
    Message("PROG_COLONNE_INCONNUE", AVERTISSEMENT,
            "La colonne « {column} » n'est pas prévue par le modèle : elle est ignorée.",
            "Supprimez-la, ou corrigez son titre s'il s'agit d'une colonne du modèle "
            "mal orthographiée."),
    Message("PROG_COLONNE_EN_DOUBLE", BLOQUANT,
            "La colonne « {column} » apparaît deux fois dans la ligne d'en-tête (colonnes "
            "{first} et {second}) : seule la première est lue.",
            "Supprimez ou renommez l'une des deux colonnes."),
    Message("PROG_AUCUNE_ACTION", AVERTISSEMENT,
            "La programmation ne contient aucune action.",
            "Saisissez une action par ligne sous la ligne d'en-tête."),
    # --- Programmation: values ------------------------------------------------------------
    Message("PROG_VALEUR_REQUISE", BLOQUANT,
            "La valeur « {column} » est obligatoire et n'est pas renseignée.",
            "Complétez la cellule."),
    Message("PROG_TEXTE_TROP_LONG", BLOQUANT,
            "Le texte de « {column} » dépasse {max_length} caractères ({length}).",
            "Raccourcissez le texte."),
    Message("PROG_VALEUR_HORS_LISTE", BLOQUANT,
            "« {value} » n'est pas une valeur autorisée pour « {column} ».",
            "Choisissez dans la liste déroulante : {allowed}."),
    Message("PROG_NUMERO_DOUBLON", BLOQUANT,
            "Le n° d'action « {value} » est déjà utilisé à la ligne {first_row}.",
            "Chaque action doit avoir un numéro unique."),
    Message("PROG_ANNEE_INVALIDE", BLOQUANT,
            "L'année « {value} » n'est pas une année valide.",
            "Saisissez l'année sur quatre chiffres, par exemple 2019."),
    Message("PROG_ANNEE_DIFFERENTE", AVERTISSEMENT,
            "L'action est programmée en {value} alors que la programmation vérifiée est celle "
            "de {expected}.",
            "Vérifiez l'année ou déplacez l'action dans la programmation de son année."),
    Message("PROG_OO_INCONNU", BLOQUANT,
            "L'objectif opérationnel « {value} » n'existe pas dans le référentiel du contrat.",
            "Choisissez un code de la liste déroulante (par exemple A111 ou T132)."),
    Message("PROG_SIRET_INVALIDE", BLOQUANT,
            "Le SIRET « {value} » n'est pas valide : {detail}.",
            "Un SIRET compte 14 chiffres (SIREN + NIC) ; recopiez-le depuis l'avis de situation "
            "INSEE ou l'annuaire des entreprises."),
    Message("PROG_RNA_INVALIDE", BLOQUANT,
            "Le numéro RNA « {value} » n'est pas valide.",
            "Un numéro RNA s'écrit W suivi de 9 chiffres (par exemple W941234567) ; "
            "laissez vide si l'association n'en a pas."),
    Message("PROG_EMAIL_INVALIDE", BLOQUANT,
            "L'adresse e-mail « {value} » n'est pas valide.",
            "Saisissez une adresse de la forme nom@domaine.fr."),
    Message("PROG_MONTANT_NON_NUMERIQUE", BLOQUANT,
            "Le montant « {value} » de « {column} » n'est pas un nombre.",
            "Saisissez un nombre en euros sans texte ni symbole (par exemple 2500 ou 2500,50)."),
    Message("PROG_MONTANT_NEGATIF", BLOQUANT,
            "Le montant de « {column} » est négatif ({value}).",
            "Un montant demandé, accordé ou versé est positif ou nul."),
    Message("PROG_MONTANT_INVRAISEMBLABLE", BLOQUANT,
            "Le montant « {value} » de « {column} » est invraisemblable : au plus {maximum} €.",
            "Vérifiez le montant (un chiffre de trop, un autre nombre collé dans la cellule) "
            "et saisissez-le en euros, par exemple 2500 ou 2500,50."),
    Message("PROG_ACCORDE_SUPERIEUR_DEMANDE", AVERTISSEMENT,
            "Le montant accordé par « {financeur} » ({value} €) dépasse le montant demandé "
            "({demande} €).",
            "Vérifiez les deux montants."),
    Message("PROG_DATE_INVALIDE", BLOQUANT,
            "« {value} » n'est pas une date valide pour « {column} ».",
            "Saisissez une date au format JJ/MM/AAAA, par exemple 15/03/2019."),
    Message("PROG_DATES_INVALIDES", BLOQUANT,
            "« {detail} » n'est pas une date valide dans « {column} » (« {value} »).",
            "Saisissez une ou plusieurs dates au format JJ/MM/AAAA, séparées par un "
            "point-virgule, par exemple « 15/03/2019 ; 20/09/2019 »."),
    Message("PROG_VERSE_SUPERIEUR_ACCORDE", AVERTISSEMENT,
            "Le montant versé par « {financeur} » ({value} €) dépasse le montant accordé "
            "({accorde} €).",
            "Vérifiez les deux montants : un trop-versé appelle un reversement du porteur."),
    Message("PROG_VERSE_SANS_DATE", AVERTISSEMENT,
            "Un montant versé par « {financeur} » ({value} €) est saisi sans date de versement.",
            "Indiquez la ou les dates dans « Dates de versement – {financeur} » : elles sont "
            "publiées dans les données ouvertes des subventions."),
    Message("PROG_DATES_SANS_VERSE", AVERTISSEMENT,
            "Des dates de versement ({value}) sont saisies pour « {financeur} » sans montant "
            "versé.",
            "Saisissez le montant versé dans « Versé – {financeur} », ou effacez les dates."),
    Message("PROG_VERSEMENT_AVANT_CONVENTION", AVERTISSEMENT,
            "Un versement de « {financeur} » ({value}) précède la signature de la convention "
            "({convention}).",
            "Vérifiez la date de la convention et les dates de versement."),
    Message("PROG_AUCUN_FINANCEMENT", AVERTISSEMENT,
            "Aucun montant accordé n'est saisi pour cette action.",
            "Une action programmée a au moins un financement accordé."),
    Message("PROG_DISPOSITIF_DEPARTEMENT_MANQUANT", BLOQUANT,
            "Le Département finance l'action ({value} €) mais son dispositif n'est pas indiqué.",
            "Choisissez le dispositif départemental dans la liste déroulante."),
    Message("PROG_SOUS_THEME_INCOHERENT", BLOQUANT,
            "Le sous-thème « {value} » n'appartient pas au thème « {theme} ».",
            "Choisissez un sous-thème du thème indiqué, ou corrigez le thème."),
    Message("PROG_COLONNE_ETAT_ABSENTE", AVERTISSEMENT,
            "La colonne « {column} », ajoutée au modèle pour l'État (Dauphin, BOP 147), est "
            "absente de la ligne d'en-tête : ses valeurs sont considérées comme vides.",
            "Ajoutez la colonne avec exactement ce titre (ou repartez du modèle produit par "
            "« cv-excel programmation modele ») pour renseigner dossier Dauphin, nomenclature "
            "P147, dispositifs de l'État et code QPV."),
    Message("PROG_P147_INCONNU", BLOQUANT,
            "« {value} » n'est pas un code de {niveau} de la nomenclature des crédits du P147 "
            "({chiffres} chiffres).",
            "Choisissez dans la liste déroulante : les codes proposés sont ceux de la "
            "nomenclature du CGET (version d'août 2016), complétée par le fichier "
            "nomenclature_p147.csv du dossier de travail s'il existe, sur la feuille "
            "« Listes ». Un code officiel qui manque s'ajoute à ce fichier."),
    Message("PROG_P147_INCOHERENT", BLOQUANT,
            "Le code P147 « {value} » de « {column} » ne correspond pas à « {autre} » "
            "(« {colonne_autre} ») : celui-ci relève du code {attendu}.",
            "Les codes s'emboîtent : une modalité (4 chiffres, 1111) relève du sous-thème de "
            "ses 3 premiers chiffres (111) et du thème de ses 2 premiers (11). Corrigez l'une "
            "des colonnes, ou laissez thème et sous-thème vides : ils sont déduits."),
    Message("PROG_CODE_QPV_INCONNU", AVERTISSEMENT,
            "Le code « {value} » n'est pas l'un des quartiers déclarés dans cv_excel.toml.",
            "Choisissez un code de la liste déroulante ({allowed}), ou déclarez le quartier "
            "dans la section [territoire] de cv_excel.toml."),
    Message("PROG_DECLINAISON_MANQUANTE", BLOQUANT,
            "La déclinaison « {palier} » de l'indicateur de résultat unique n'est pas renseignée.",
            "L'indicateur unique se décline sur les six paliers 0, 20, 40, 60, 80 et 100 "
            "(guide méthodologique EPT, annexe 3)."),
    Message("PROG_MODE_RECUEIL_INCONNU", BLOQUANT,
            "Le mode de recueil « {value} » n'est pas l'un des quatre modes du guide EPT.",
            "Choisissez : {allowed}."),
    Message("PROG_PORTEUR_INCOHERENT", AVERTISSEMENT,
            "Le SIRET « {value} » est déjà associé au porteur « {other} » (ligne {first_row}).",
            "Un même porteur doit être saisi avec la même raison sociale sur toutes ses actions."),
    Message("PROG_COLONNE_OBJECTIF_ABSENTE", AVERTISSEMENT,
            "La colonne « {column} », ajoutée au modèle pour l'objectif quantifié de l'action, "
            "est absente de la ligne d'en-tête : ses valeurs sont considérées comme vides.",
            "Ajoutez la colonne avec exactement ce titre (ou repartez du modèle produit par "
            "« cv-excel programmation modele ») pour renseigner objectif quantifié, valeur "
            "cible et unité."),
    Message("PROG_NOMBRE_NON_NUMERIQUE", BLOQUANT,
            "« {value} » n'est pas un nombre pour « {column} ».",
            "Saisissez un nombre sans texte (par exemple 20 ou 12,5) ; l'unité va dans la "
            "colonne « Unité »."),
    Message("PROG_NOMBRE_HORS_BORNES", BLOQUANT,
            "La valeur « {value} » de « {column} » est invraisemblable : elle doit être "
            "{borne}.",
            "Vérifiez le nombre (un chiffre de trop, un autre nombre collé dans la cellule) ; "
            "laissez la cellule vide si l'action n'a pas d'objectif chiffré."),
    Message("PROG_OBJECTIF_INCOMPLET", AVERTISSEMENT,
            "L'objectif quantifié de l'action est incomplet : il manque {manque}.",
            "Renseignez ensemble ce qui est compté (« Objectif quantifié »), combien (« Valeur "
            "cible ») et l'unité (« Unité ») : le bilan du porteur les rappelle et lui demande "
            "la valeur atteinte. Sinon, laissez les trois colonnes vides."),
    # --- Référents directory (referents.xlsx) ---------------------------------------------
    Message("REF_FICHIER_ILLISIBLE", BLOQUANT,
            "L'annuaire des référents « {file} » ne peut pas être lu : {detail}.",
            "Regénérez-le avec « cv-excel referentiel annuaire »."),
    Message("REF_REFERENT_INCONNU", AVERTISSEMENT,
            "L'identifiant de référent « {value} » n'existe pas dans le référentiel : la ligne "
            "est ignorée.",
            "Ne modifiez pas la colonne « Identifiant »."),
    Message("REF_EMAIL_INVALIDE", BLOQUANT,
            "L'adresse e-mail « {value} » du référent « {referent} » n'est pas valide.",
            "Saisissez une adresse de la forme nom@domaine.fr."),
    # --- reference data: the Direction's completion of the P147 nomenclature ------------
    # (nomenclature_p147.csv of the working folder; a faulty line is left out, the rest used)
    Message("REF_P147_ILLISIBLE", AVERTISSEMENT,
            "Le fichier « {file} » qui complète la nomenclature des crédits du P147 ne peut "
            "pas être lu : {detail}. Seule la nomenclature intégrée est utilisée.",
            "Enregistrez-le au format « CSV (point-virgule) », en UTF-8 de préférence, avec "
            "la ligne d'en-tête : {colonnes}."),
    Message("REF_P147_COLONNE_ABSENTE", AVERTISSEMENT,
            "La colonne « {column} » est absente de la ligne d'en-tête du fichier « {file} » : "
            "il n'est pas lu, seule la nomenclature intégrée du P147 est utilisée.",
            "La première ligne porte les colonnes {colonnes}, séparées par des points-virgules "
            "(l'ordre est libre)."),
    Message("REF_P147_VALEUR_REQUISE", AVERTISSEMENT,
            "Ligne {ligne} du fichier « {file} » : la colonne « {column} » n'est pas "
            "renseignée ; la ligne est ignorée.",
            "Complétez la cellule, ou supprimez la ligne."),
    Message("REF_P147_CODE_INVALIDE", AVERTISSEMENT,
            "Ligne {ligne} du fichier « {file} » : « {value} » n'est pas un code de la "
            "nomenclature des crédits du P147 ; la ligne est ignorée.",
            "Un code a 2 chiffres (thème), 3 (sous-thème) ou 4 (modalité), sans lettre, "
            "espace ni point ; un sous-thème commence par le code de son thème, une modalité "
            "par celui de son sous-thème (11 → 111 → 1111)."),
    Message("REF_P147_CODE_EN_DOUBLE", AVERTISSEMENT,
            "Ligne {ligne} du fichier « {file} » : le code « {value} » figure déjà à la ligne "
            "{first_row} ; cette ligne est ignorée.",
            "Gardez une seule ligne par code (corrigez la ligne {first_row} si c'est le "
            "libellé de celle-ci qui est juste)."),
    Message("REF_P147_PARENT_ABSENT", AVERTISSEMENT,
            "Ligne {ligne} du fichier « {file} » : le code « {value} » n'a pas de parent, le "
            "{niveau_parent} « {parent} » n'existant ni dans la nomenclature intégrée ni dans "
            "le fichier ; la ligne est ignorée.",
            "Ajoutez une ligne pour le code « {parent} » avec son libellé tel que le manuel "
            "l'écrit, ou corrigez le code (ses premiers chiffres sont ceux de son parent)."),
    # --- Templates (templates/*.xlsx, modeles/ of the working folder) --------------------
    Message("TPL_FICHIER_ILLISIBLE", BLOQUANT,
            "Le modèle « {file} » ne peut pas être lu comme un classeur Excel (.xlsx) : {detail}.",
            "Enregistrez le modèle au format « Classeur Excel (.xlsx) », ou repartez du modèle "
            "livré avec l'outil (« cv-excel template copier »)."),
    Message("TPL_MODELE_INCONNU", BLOQUANT,
            "Le classeur « {file} » n'est reconnu ni comme le modèle de bilan des porteurs ni "
            "comme le modèle de suivi des référents.",
            "Vérifiez que vous avez choisi le bon fichier ; la feuille masquée « cv_meta » du "
            "modèle indique son nom en cellule B2."),
    Message("TPL_FEUILLE_ABSENTE", BLOQUANT,
            "La feuille « {sheet} » est absente du modèle.",
            "Rétablissez la feuille avec exactement ce nom (clic droit sur l'onglet > Renommer), "
            "ou repartez du modèle d'origine."),
    Message("TPL_NOM_ABSENT", BLOQUANT,
            "Le nom « {field} » (« {label} ») n'existe pas dans la feuille « {sheet} ».",
            "Dans Excel, sélectionnez la cellule voulue de la feuille « {sheet} » puis "
            "Formules > Définir un nom, et saisissez exactement « {field} »."),
    Message("TPL_NOM_MAL_FORME", BLOQUANT,
            "Le nom « {field} » (« {label} ») ne désigne pas une plage valide de cellules : "
            "« {value} ».",
            "Formules > Gestionnaire de noms : sélectionnez « {field} » et faites-le pointer vers "
            "une seule cellule ou un seul rectangle (une cellule supprimée donne #REF!)."),
    Message("TPL_NOM_MAUVAISE_FEUILLE", BLOQUANT,
            "Le nom « {field} » (« {label} ») désigne la feuille « {found} » au lieu de la "
            "feuille « {sheet} ».",
            "Formules > Gestionnaire de noms : faites pointer « {field} » vers une cellule de la "
            "feuille « {sheet} »."),
    Message("TPL_NOM_EN_DOUBLE", BLOQUANT,
            "Le nom « {field} » (« {label} ») est défini plusieurs fois pour la feuille "
            "« {sheet} », avec des plages différentes.",
            "Formules > Gestionnaire de noms : triez par nom et supprimez les définitions en "
            "trop de « {field} » pour n'en garder qu'une."),
    Message("TPL_CELLULE_ATTENDUE", BLOQUANT,
            "Le nom « {field} » (« {label} ») doit désigner une seule cellule, et non la plage "
            "{cell}.",
            "Formules > Gestionnaire de noms : faites pointer « {field} » vers une seule cellule "
            "(ou vers une seule cellule fusionnée)."),
    Message("TPL_TABLEAU_LARGEUR", BLOQUANT,
            "Le tableau « {field} » (« {label} ») doit compter {expected} colonnes, mais la "
            "plage {cell} en compte {found}.",
            "Formules > Gestionnaire de noms : faites pointer « {field} » vers un rectangle de "
            "{expected} colonnes, sans la colonne des libellés ni la ligne d'en-tête."),
    Message("TPL_TABLEAU_HAUTEUR", BLOQUANT,
            "Le tableau « {field} » (« {label} ») doit compter {expected} lignes, mais la plage "
            "{cell} en compte {found}.",
            "Chaque ligne du tableau est une ligne imposée (ligne budgétaire) : rétablissez les "
            "lignes supprimées, puis faites pointer « {field} » vers exactement {expected} "
            "lignes (Formules > Gestionnaire de noms)."),
    Message("TPL_TABLEAU_CAPACITE", BLOQUANT,
            "Le tableau « {field} » (« {label} ») doit offrir au moins {expected} lignes, mais "
            "la plage {cell} n'en compte que {found}.",
            "Insérez des lignes à l'intérieur du tableau (le nom s'agrandit avec elles) ou "
            "agrandissez la plage dans Formules > Gestionnaire de noms."),
    Message("TPL_NOMS_SUPERPOSES", BLOQUANT,
            "Les noms « {other} » et « {field} » désignent des cellules communes (plage {cell}) "
            "dans la feuille « {sheet} ».",
            "Formules > Gestionnaire de noms : chaque nom doit avoir ses propres cellules ; "
            "déplacez l'un des deux."),
    Message("TPL_LISTE_ABSENTE", BLOQUANT,
            "La liste de valeurs « {field} » n'est pas définie dans le modèle.",
            "Formules > Gestionnaire de noms : créez le nom « {field} » (étendue « Classeur ») "
            "sur les valeurs de la feuille masquée « Listes »."),
    Message("TPL_LISTE_DIFFERENTE", BLOQUANT,
            "La liste « {field} » du modèle contient « {value} » au lieu de « {expected} ».",
            "Rétablissez exactement ces valeurs, dans cet ordre, dans la feuille masquée "
            "« Listes » (Accueil > Format > Masquer et afficher > Afficher la feuille), et "
            "ajustez la plage du nom si le nombre de valeurs a changé."),
    Message("TPL_VERSION_INCOMPATIBLE", BLOQUANT,
            "Le modèle est prévu pour la version « {value} » de la spécification, alors que "
            "cet outil attend la version « {expected} ».",
            "Renommez votre copie du dossier « modeles », lancez « cv-excel template copier » "
            "pour obtenir le modèle de cette version, puis reportez-y vos changements de mise "
            "en forme."),
    # --- Intake: the file itself (FIC_) ----------------------------------------------------
    Message("FIC_VIDE", BLOQUANT,
            "Le fichier « {file} » est vide.",
            "Renvoyez le classeur après l'avoir enregistré dans Excel ou LibreOffice."),
    Message("FIC_TROP_GROS", BLOQUANT,
            "Le fichier « {file} » pèse {size} Mo, au-delà de la limite de {limit} Mo.",
            "Retirez les images ou pièces jointes collées dans le classeur, puis renvoyez-le."),
    Message("FIC_XLS", BLOQUANT,
            "Le fichier « {file} » est au format Excel 97-2003 (.xls), pas au format .xlsx.",
            "Ouvrez-le puis « Enregistrer sous » > « Classeur Excel (*.xlsx) »."),
    Message("FIC_ODS", BLOQUANT,
            "Le fichier « {file} » est au format OpenDocument (.ods), pas au format .xlsx.",
            "Dans LibreOffice : « Enregistrer sous » > type « Excel 2007-365 (.xlsx) »."),
    Message("FIC_XLSM", BLOQUANT,
            "Le fichier « {file} » contient des macros (.xlsm) : il n'est pas accepté.",
            "Enregistrez-le au format « Classeur Excel (*.xlsx) », sans macros."),
    Message("FIC_CHIFFRE", BLOQUANT,
            "Le fichier « {file} » est protégé par un mot de passe à l'ouverture : il ne peut "
            "pas être lu.",
            "Retirez le mot de passe (Fichier > Informations > Protéger le classeur) et "
            "renvoyez-le."),
    Message("FIC_PAS_UN_CLASSEUR", BLOQUANT,
            "Le fichier « {file} » n'est pas un classeur Excel ({detail}).",
            "Renvoyez le classeur .xlsx reçu de la Direction, complété."),
    Message("FIC_ZIP_CORROMPU", BLOQUANT,
            "Le fichier « {file} » est incomplet ou endommagé : {detail}.",
            "Le fichier a peut-être été tronqué pendant l'envoi : renvoyez-le."),
    Message("FIC_ZIP_BOMBE", BLOQUANT,
            "Le fichier « {file} » se décompresse en {size} Mo (limite {limit} Mo) : il est "
            "refusé par sécurité.",
            "Renvoyez le classeur d'origine complété, sans contenu ajouté."),
    Message("FIC_XML_DANGEREUX", BLOQUANT,
            "Le fichier « {file} » contient des déclarations XML interdites ({detail}) : il est "
            "refusé par sécurité.",
            "Renvoyez le classeur d'origine, enregistré avec Excel ou LibreOffice."),
    Message("FIC_EXTENSION", AVERTISSEMENT,
            "Le fichier « {file} » n'a pas l'extension .xlsx.",
            "Gardez l'extension .xlsx du classeur reçu."),
    Message("FIC_TROP_DE_CELLULES", BLOQUANT,
            "Le fichier « {file} » contient trop de données pour être lu sans risque "
            "({detail} ; limite {limit}) : il est refusé par sécurité.",
            "Renvoyez le classeur reçu, complété dans les cases prévues, sans données collées "
            "en masse ni lignes ou colonnes entières mises en forme ou fusionnées."),
    Message("FIC_FEUILLE_ILLISIBLE", BLOQUANT,
            "La feuille « {sheet} » du fichier « {file} » n'est pas lisible ({detail}) : le "
            "fichier est refusé par sécurité.",
            "Ouvrez le classeur dans Excel ou LibreOffice, enregistrez-le au format « Classeur "
            "Excel (.xlsx) » puis renvoyez-le."),
    Message("FIC_CELLULE_LOINTAINE", AVERTISSEMENT,
            "La cellule {adresse} de la feuille « {sheet} » contient « {value} », très loin "
            "des cases du classeur (au-delà de la ligne {ligne} ou de la colonne {colonne}) : "
            "cette valeur n'est pas lue.",
            "Si cette information doit nous parvenir, saisissez-la dans la case prévue pour "
            "elle, puis effacez la cellule {adresse}."),
    Message("FIC_CELLULES_LOINTAINES", AVERTISSEMENT,
            "La feuille « {sheet} » contient {count} cellules remplies très loin des cases du "
            "classeur (au-delà de la ligne {ligne} ou de la colonne {colonne}), non détaillées "
            "ici : elles ne sont pas lues.",
            "Déplacez ce qui doit nous parvenir dans les cases prévues, puis effacez ces "
            "cellules (Ctrl+Fin mène à la dernière cellule remplie)."),
    # --- Intake: is it one of ours (CLS_) ---------------------------------------------------
    Message("CLS_INCONNU", BLOQUANT,
            "Ce classeur n'a pas été produit par la Direction Politique de la Ville "
            "(informations d'identification absentes).",
            "Utilisez le classeur reçu par e-mail ; ne recopiez pas les données dans un autre "
            "fichier."),
    Message("CLS_VERSION", BLOQUANT,
            "Ce classeur suit la version « {value} » du modèle ; la version attendue est "
            "« {expected} ».",
            "Demandez à la Direction un classeur à jour et reportez-y vos réponses."),
    Message("CLS_CONTRAT", BLOQUANT,
            "Ce classeur concerne le contrat « {value} » et non « {expected} ».",
            "Vérifiez que vous renvoyez le bon classeur."),
    Message("CLS_ANNEE", BLOQUANT,
            "Ce classeur concerne l'année {value} ; les retours attendus sont ceux de "
            "{expected}.",
            "Renvoyez le classeur de l'année en cours."),
    Message("CLS_TYPE", BLOQUANT,
            "Ce classeur est de type « {value} », inconnu.",
            "Renvoyez le classeur reçu de la Direction."),
    Message("CLS_NON_GENERE", AVERTISSEMENT,
            "L'identifiant de ce classeur ({value}) ne figure pas au registre des classeurs "
            "envoyés.",
            "Vérifiez qu'il s'agit bien d'un classeur envoyé cette année."),
    Message("CLS_DESTINATAIRE", BLOQUANT,
            "Ce classeur a été envoyé à « {expected} » mais indique « {value} ».",
            "Renvoyez le classeur reçu pour votre structure."),
    Message("CLS_REVUE", BLOQUANT,
            "La revue de projet inscrite dans ce classeur (« {value} », feuille masquée "
            "« {sheet} », cellule {cell}) ne correspond pas à celle du classeur envoyé : "
            "{expected}.",
            "Renvoyez le classeur reçu pour cette revue, sans le modifier ; si vous avez "
            "complété le classeur d'une autre revue, reportez vos réponses dans le bon."),
    Message("CLS_FEUILLE_ABSENTE", BLOQUANT,
            "La feuille « {sheet} » a disparu du classeur.",
            "Repartez du classeur reçu : les feuilles ne doivent être ni supprimées ni "
            "renommées."),
    Message("CLS_NOM_ABSENT", BLOQUANT,
            "La zone « {field} » de la feuille « {sheet} » est introuvable (cellules "
            "supprimées ou collées depuis un autre classeur).",
            "Repartez du classeur reçu et utilisez « Coller > Valeurs » pour copier des "
            "données."),
    Message("CLS_SECTIONS", BLOQUANT,
            "Les feuilles d'action ou d'objectif ne correspondent plus au classeur envoyé "
            "(attendu : {expected} ; trouvé : {value}).",
            "Ne supprimez, ne renommez et n'ajoutez aucune feuille."),
    # --- Intake: tampering (MOD_) -----------------------------------------------------------
    Message("MOD_VALEUR_PREREMPLIE", BLOQUANT,
            "La valeur préremplie « {field} » a été modifiée : « {expected} » est devenu "
            "« {value} ».",
            "Les cellules grises ne se modifient pas : rétablissez la valeur d'origine ou "
            "signalez l'erreur à la Direction."),
    Message("MOD_EMPREINTE", BLOQUANT,
            "Des valeurs préremplies du classeur ont été modifiées.",
            "Repartez du classeur reçu ; signalez toute erreur de préremplissage à la "
            "Direction."),
    # --- Intake: outcome ----------------------------------------------------------------------
    Message("RET_DOUBLON", AVERTISSEMENT,
            "Ce fichier a déjà été reçu le {received} sous le nom « {original} » (statut : "
            "{status}) : il n'est pas traité une seconde fois.",
            "Rien à faire, sauf s'il s'agissait d'envoyer une version corrigée."),
    Message("RET_ERREUR_INTERNE", BLOQUANT,
            "Le fichier n'a pas pu être vérifié entièrement : {detail}.",
            "Le fichier est archivé et le détail technique est consigné dans le rapport JSON "
            "et le journal ; il sera vérifié à nouveau après correction (cv-excel valider "
            "--revalider)."),
    Message("RET_ANNOTATION", AVERTISSEMENT,
            "La copie annotée de ce fichier n'a pas pu être produite ; les constats ci-dessus "
            "restent valables.",
            "Transmettez les constats du rapport au porteur ; le détail technique est dans le "
            "rapport JSON et le journal."),
    Message("RET_ENREGISTREMENT", BLOQUANT,
            "Le fichier a été vérifié mais ses données n'ont pas pu être enregistrées dans la "
            "base : {detail}.",
            "Le fichier est archivé ; il sera repris par « cv-excel valider --revalider » une "
            "fois la cause corrigée."),
    Message("RET_ECARTE", AVERTISSEMENT,
            "L'entrée « {file} » de la boîte de réception n'est pas traitée : {detail}.",
            "Déposez dans la boîte de réception le classeur lui-même (fichier .xlsx)."),
    Message("RET_VERSION_REMPLACEE", INFORMATION,
            "Une version plus récente du même classeur, « {newer} », a été reçue dans le même "
            "traitement : c'est elle qui est retenue.",
            "Rien à faire ; seule la dernière version reçue compte."),
    Message("RET_REEXAMEN", INFORMATION,
            "Ce fichier, reçu le {received} et rejeté pour une raison qui tenait aux réglages "
            "de la Direction ({codes}), a été examiné à nouveau {why}.",
            "Rien à faire pour le porteur ; le nouveau statut remplace l'ancien."),
    # --- Intake: values typed in the workbooks (VAL_) -------------------------------------
    Message("VAL_REQUIS", BLOQUANT,
            "L'information « {label} » est obligatoire mais n'est pas renseignée.",
            "Complétez la cellule {cell} de la feuille « {sheet} »."),
    Message("VAL_NOMBRE_TEXTE", AVERTISSEMENT,
            "« {value} » a été saisi comme du texte dans « {label} » : il est lu comme le "
            "nombre {nombre}.",
            "Vérifiez que {nombre} est le bon nombre, puis retapez-le sans espace, lettre ni "
            "symbole (par exemple 1200,50) pour qu'il soit reconnu comme un nombre."),
    Message("VAL_PAS_UN_NOMBRE", BLOQUANT,
            "« {value} » n'est pas un nombre, alors que « {label} » attend un nombre.",
            "Tapez uniquement des chiffres (par exemple 1200 ou 1200,50), sans mot ni unité ; "
            "tapez 0 s'il n'y a rien à déclarer."),
    Message("VAL_ENTIER", BLOQUANT,
            "« {label} » attend un nombre entier, et non {value}.",
            "Saisissez un nombre entier, sans virgule (par exemple 12)."),
    Message("VAL_NEGATIF", BLOQUANT,
            "« {label} » ne peut pas être inférieur à {minimum} : la valeur saisie est {value}.",
            "Saisissez un nombre supérieur ou égal à {minimum}, sans signe moins."),
    Message("VAL_INVRAISEMBLABLE", BLOQUANT,
            "Valeur invraisemblable pour « {label} » ({value}) : {borne}.",
            "Vérifiez la cellule {cell} de la feuille « {sheet} » (un chiffre de trop, un autre "
            "nombre collé, une année mal tapée) et saisissez une valeur plausible : {borne}."),
    Message("VAL_ILLISIBLE", BLOQUANT,
            "La valeur saisie dans « {label} » n'a pas pu être vérifiée.",
            "Effacez la cellule {cell} de la feuille « {sheet} » et retapez la valeur (un "
            "nombre, une date jj/mm/aaaa ou un texte simple), puis renvoyez le classeur."),
    Message("VAL_DATE_TEXTE", AVERTISSEMENT,
            "La date « {value} » de « {label} » a été saisie comme du texte : elle est lue "
            "comme le {date}.",
            "Vérifiez la date, puis retapez-la au format jj/mm/aaaa pour qu'elle soit reconnue "
            "comme une date."),
    Message("VAL_PAS_UNE_DATE", BLOQUANT,
            "« {value} » n'est pas une date valide pour « {label} ».",
            "Saisissez une date qui existe, au format jj/mm/aaaa (par exemple 15/03/{annee})."),
    Message("VAL_HORS_LISTE", BLOQUANT,
            "« {value} » n'est pas une valeur autorisée pour « {label} ».",
            "Choisissez dans la liste déroulante de la cellule l'une de ces valeurs : "
            "{allowed}."),
    Message("VAL_SCORE", BLOQUANT,
            "La note {value} n'existe pas sur l'échelle EPT : « {label} » vaut 0, 20, 40, 60, "
            "80 ou 100.",
            "Choisissez dans la liste déroulante la note dont la déclinaison, affichée plus haut "
            "dans la feuille, décrit le mieux le résultat obtenu."),
    Message("VAL_TEXTE_TROP_LONG", BLOQUANT,
            "Le texte de « {label} » compte {length} caractères, au-delà de la limite de "
            "{max_length}.",
            "Raccourcissez le texte à {max_length} caractères au plus, en gardant l'essentiel."),
    Message("VAL_EMAIL", BLOQUANT,
            "L'adresse e-mail « {value} » de « {label} » n'est pas valide.",
            "Saisissez une seule adresse, de la forme nom@domaine.fr, sans espace."),
    Message("VAL_SCORE_JUSTIFICATION", BLOQUANT,
            "La note {score} est donnée sans justification.",
            "Expliquez dans « {label} » ce qui justifie cette note : mesure de l'indicateur, "
            "chiffres, constats."),
    Message("VAL_SCORE_REALISATION", AVERTISSEMENT,
            "La note {score} ne correspond pas à la réalisation déclarée (« {realisation} ») : "
            "sur l'échelle EPT, la note 0 signifie que l'action n'a pas eu lieu.",
            "Si l'action n'a pas eu lieu, choisissez « Non réalisée » et la note 0 ; sinon, "
            "choisissez la note de 20 à 100 qui correspond au résultat obtenu."),
    Message("VAL_SCORE_TAUX", AVERTISSEMENT,
            "La note {score} ne correspond pas au taux d'atteinte de l'objectif quantifié : "
            "{atteinte} pour une cible de {cible}, soit {taux} % ; l'échelle de l'EPT (annexe 3) "
            "donne pour ce taux la note {attendue}.",
            "Vérifiez la valeur atteinte et la note (moins de 20 % de l'objectif : 20 ; de 20 à "
            "40 % : 40 ; de 40 à 60 % : 60 ; de 60 à 100 % : 80 ; au-delà : 100). Si la note "
            "est voulue (objectif révisé, résultat qualitatif), gardez-la et expliquez-la dans "
            "« Justification de la note »."),
    Message("VAL_BENEF_SEXE", BLOQUANT,
            "Les femmes ({femmes}) et les hommes ({hommes}) font {somme} bénéficiaires, alors "
            "que le nombre total de bénéficiaires est {total}.",
            "Corrigez le total ou la répartition femmes / hommes : leur somme doit être égale "
            "au total (laissez-les vides si vous ne connaissez pas la répartition)."),
    Message("VAL_BENEF_PARTIE", BLOQUANT,
            "« {label} » ({value}) dépasse le nombre total de bénéficiaires ({total}).",
            "Une partie des bénéficiaires ne peut pas être plus nombreuse que le total : "
            "corrigez l'un des deux nombres."),
    Message("VAL_BENEF_QPV", BLOQUANT,
            "Les habitants d'un quartier prioritaire ({value}) sont plus nombreux que le "
            "nombre total de bénéficiaires ({total}).",
            "Les habitants des QPV font partie du total : corrigez l'un des deux nombres."),
    Message("VAL_BENEF_AGES", BLOQUANT,
            "Les tranches d'âge additionnées font {somme} bénéficiaires, plus que le nombre "
            "total déclaré ({total}).",
            "Chaque bénéficiaire est compté dans une seule tranche d'âge : corrigez les "
            "tranches d'âge ou le total."),
    Message("VAL_DATES_ORDRE", BLOQUANT,
            "La date de début ({debut}) est postérieure à la date de fin ({fin}).",
            "Vérifiez le jour, le mois et l'année des deux dates : l'action commence avant de "
            "se terminer."),
    Message("VAL_DATES_ANNEE", AVERTISSEMENT,
            "La date {date} de « {label} » est éloignée de l'année du bilan ({annee}).",
            "Vérifiez l'année saisie : une date de l'année {annee}, de l'année précédente ou de "
            "l'année suivante est attendue."),
    Message("VAL_BUDGET_DESEQUILIBRE", BLOQUANT,
            "Le budget réalisé n'est pas équilibré : {charges_label} {charges} €, "
            "{produits_label} {produits} € (écart de {ecart} €).",
            "Dans le compte-rendu financier, le total des charges réalisées est égal au total "
            "des produits réalisés, et le total des lignes 86 est égal à celui des lignes 87 : "
            "complétez ou corrigez les montants de la colonne « Réalisé »."),
    Message("VAL_BUDGET_REALISE_VIDE", BLOQUANT,
            "Aucun montant n'est saisi dans la colonne « Réalisé » du compte-rendu financier.",
            "Saisissez les montants réellement dépensés (charges) et perçus (produits) pour "
            "l'action, en mettant 0 sur les lignes sans montant."),
    Message("VAL_BUDGET_REALISE_EN_COURS", AVERTISSEMENT,
            "L'action est « En cours » et aucun montant n'est saisi dans la colonne "
            "« Réalisé » du compte-rendu financier.",
            "Le bilan est accepté : saisissez les montants réalisés à ce jour si vous les "
            "connaissez ; ils seront demandés au bilan final de l'action."),
    Message("VAL_ECART_NON_EXPLIQUE", BLOQUANT,
            "Des écarts entre prévu et réalisé (plus de {seuil} %, ou montant réalisé sans "
            "montant prévu) ne sont pas expliqués : {lignes}.",
            "Expliquez chacun de ces écarts dans « {label} », en bas de la feuille (par "
            "exemple : subvention plus faible que prévu, recrutement reporté)."),
    Message("VAL_CHARGES_INDIRECTES_SANS_REGLE", AVERTISSEMENT,
            "Des charges indirectes sont affectées à l'action ({montants}) sans que la règle "
            "de répartition appliquée soit indiquée.",
            "Répondez à « {label} » : dites comment la part des charges communes de la "
            "structure a été calculée pour cette action (au prorata des heures, des surfaces, "
            "des effectifs…)."),
    Message("VAL_NOUVEL_INDICATEUR_INCOMPLET", BLOQUANT,
            "L'indicateur proposé de la ligne {ligne} est incomplet : {manque} n'est pas "
            "renseigné.",
            "Chaque indicateur proposé a un libellé et un type (Impact, Résultat ou Suivi) ; "
            "videz entièrement la ligne si vous ne proposez pas d'indicateur."),
    Message("VAL_INDICATEUR_NON_DISPONIBLE", AVERTISSEMENT,
            "« {value} » dans « {label} » : la valeur est considérée comme non disponible "
            "(elle ne compte pas dans le suivi chiffré de l'indicateur).",
            "Quand la valeur n'est pas disponible, laissez la cellule {cell} vide et dites "
            "pourquoi dans la colonne « Commentaire » ; sinon tapez le nombre seul. Le "
            "classeur est accepté."),
    Message("VAL_INDICATEUR_PAS_UN_NOMBRE", BLOQUANT,
            "« {value} » n'est pas un nombre, alors que « {label} » attend la valeur chiffrée "
            "de l'indicateur.",
            "Tapez le nombre seul dans la cellule {cell} (par exemple 72 ou 12,5) et l'unité "
            "(%, personnes, logements…) dans la colonne « Unité » ; si la valeur n'est pas "
            "disponible, laissez la cellule vide et dites-le dans « Commentaire »."),
    Message("VAL_DECISION_INCOMPLETE", BLOQUANT,
            "La décision de la ligne {ligne} des « Décisions prises à cette revue » est "
            "incomplète : {manque} n'est pas renseigné(e).",
            "Chaque décision a un libellé, un responsable et une échéance : complétez la "
            "cellule {cell} de la feuille « {sheet} », ou videz entièrement la ligne si elle "
            "ne porte pas de décision."),
    Message("VAL_DECISION_NIVEAU", BLOQUANT,
            "Le niveau « {value} » de la décision de la ligne {ligne} n'est ni le pilier "
            "{pilier} ni l'une de ses orientations ou de ses objectifs.",
            "Saisissez dans la cellule {cell} de la feuille « {sheet} » le code du pilier "
            "({pilier}), d'une de ses orientations, d'un de ses objectifs stratégiques ou "
            "opérationnels (par exemple {exemple}), ou laissez-la vide pour le pilier."),
    Message("VAL_DECISION_CLOSE_SANS_COMMENTAIRE", AVERTISSEMENT,
            "La décision {decision} passe au statut « {statut} » sans commentaire de suivi.",
            "Dites en quelques mots dans la cellule {cell} de la feuille « {sheet} » ce qui a "
            "été fait ou pourquoi la décision est abandonnée : le relevé est relu en comité de "
            "pilotage. Le relevé est accepté."),
    Message("VAL_DECISION_ECHEANCE_PASSEE", AVERTISSEMENT,
            "L'échéance du {date} de la décision {decision} est antérieure à la date de la "
            "revue ({date_revue}), alors que la décision reste ouverte.",
            "Reportez l'échéance (cellule {cell} de la feuille « {sheet} ») à une date à "
            "venir, ou choisissez le statut « Réalisée » ou « Abandonnée » si la décision "
            "est close. Le relevé est accepté."),
    Message("VAL_STRATEGIQUE_HORS_PERIMETRE", BLOQUANT,
            "L'objectif stratégique « {value} » n'est pas l'un de ceux dont {destinataire} "
            "est pilote dans le référentiel du contrat.",
            "Ne modifiez pas le code de l'objectif (cellule grise) ; renvoyez le classeur "
            "reçu de la Direction, ou signalez-lui l'erreur si le référentiel a changé."),
    Message("VAL_ORIENTATION_HORS_PERIMETRE", BLOQUANT,
            "L'orientation stratégique « {value} » n'est pas l'une de celles dont "
            "{destinataire} est coordonnateur dans le référentiel du contrat.",
            "Ne modifiez pas le code de l'orientation (cellule grise) ; renvoyez le classeur "
            "reçu de la Direction, ou signalez-lui l'erreur si le référentiel a changé."),
    Message("VAL_ACTION_INCONNUE", BLOQUANT,
            "L'action n° « {value} » ne figure pas dans la programmation {annee}.",
            "Ne modifiez pas le numéro de l'action (cellule grise) ; renvoyez le classeur reçu "
            "de la Direction ou signalez-lui l'erreur."),
    Message("VAL_ACTION_OBJECTIF", BLOQUANT,
            "L'action n° « {numero} » est rattachée ici à l'objectif « {value} », mais à "
            "l'objectif {expected} dans la programmation {annee}.",
            "Ne modifiez pas l'objectif de l'action (cellule grise) ; signalez l'écart à la "
            "Direction si la programmation est erronée."),
    Message("VAL_OBJECTIF_INCONNU", BLOQUANT,
            "L'objectif opérationnel « {value} » n'existe pas dans le référentiel du contrat.",
            "Ne modifiez pas le code de l'objectif (cellule grise) ; renvoyez le classeur reçu "
            "de la Direction."),
    Message("VAL_PROGRAMMATION_ABSENTE", AVERTISSEMENT,
            "La programmation {annee} est absente ou invalide : les actions du classeur n'ont "
            "pas été comparées à la programmation.",
            "Déposez « Programmation {annee}.xlsx » dans le dossier « programmation », "
            "vérifiez-la avec « cv-excel programmation verifier », puis relancez la "
            "vérification des retours."),
    # --- Indicateurs de contexte (indicateurs_contexte.csv, rapport annuel) -------------------
    Message("CTX_FICHIER_ABSENT", INFORMATION,
            "Le fichier « {file} » des indicateurs de contexte n'existait pas : un modèle vide "
            "a été écrit.",
            "Complétez-le (une ligne par indicateur, territoire et année : colonnes "
            "{colonnes}) puis relancez la consolidation."),
    Message("CTX_FICHIER_ILLISIBLE", AVERTISSEMENT,
            "Le fichier « {file} » des indicateurs de contexte ne peut pas être lu : {detail}. "
            "Les indicateurs de contexte restent « à compléter » dans le projet de rapport.",
            "Enregistrez-le au format « CSV (point-virgule) », en UTF-8 de préférence, avec "
            "la ligne d'en-tête : {colonnes}."),
    Message("CTX_COLONNE_ABSENTE", AVERTISSEMENT,
            "La colonne « {column} » est absente de la ligne d'en-tête du fichier « {file} » : "
            "les indicateurs de contexte ne sont pas lus.",
            "La première ligne porte les colonnes {colonnes}, séparées par des points-virgules "
            "(l'ordre est libre)."),
    Message("CTX_VALEUR_REQUISE", AVERTISSEMENT,
            "La colonne « {column} » n'est pas renseignée : la ligne est ignorée.",
            "Complétez la cellule, ou supprimez la ligne."),
    Message("CTX_TERRITOIRE_INCONNU", AVERTISSEMENT,
            "Le territoire « {value} » n'est ni un quartier de la section [territoire] de "
            "cv_excel.toml, ni « commune », ni « EPT » : la ligne est ignorée.",
            "Saisissez l'un de : {allowed}. Chaque territoire a sa propre ligne : les valeurs "
            "ne sont jamais additionnées d'un territoire à l'autre."),
    Message("CTX_ANNEE_INVALIDE", AVERTISSEMENT,
            "L'année « {value} » n'est pas une année valide : la ligne est ignorée.",
            "Saisissez l'année de la donnée sur quatre chiffres, par exemple 2016."),
    Message("CTX_VALEUR_NON_NUMERIQUE", AVERTISSEMENT,
            "La valeur « {value} » n'est pas un nombre : la ligne est ignorée.",
            "Saisissez le nombre seul (virgule décimale acceptée, par exemple 12,5) ; l'unité "
            "(%, habitants, euros…) va dans la colonne « unité »."),
    Message("CTX_LIGNE_EN_DOUBLE", AVERTISSEMENT,
            "L'indicateur « {indicateur} » du territoire « {territoire} » pour {annee} figure "
            "déjà à la ligne {first_row} : cette ligne est ignorée.",
            "Gardez une seule ligne par indicateur, territoire et année (corrigez la ligne "
            "{first_row} si c'est la valeur de celle-ci qui est juste)."),
]

CATALOGUE: dict[str, Message] = {m.code: m for m in _ENTRIES}

# Blocking findings whose cause lay with the Direction (its settings, register,
# programmation or référentiel, or cv_excel itself), not with the file: a file rejected
# only for these is examined again when the settings change or on « --revalider ».
CAUSE_DIRECTION: frozenset[str] = frozenset({
    "CLS_CONTRAT", "CLS_ANNEE", "CLS_DESTINATAIRE", "VAL_ACTION_INCONNUE",
    "VAL_ACTION_OBJECTIF", "VAL_OBJECTIF_INCONNU", "RET_ERREUR_INTERNE", "RET_ENREGISTREMENT",
    "VAL_STRATEGIQUE_HORS_PERIMETRE", "VAL_ORIENTATION_HORS_PERIMETRE",
})


class _Lenient(dict):
    """Unknown placeholders render as « ? » rather than crash a user's run."""

    def __missing__(self, key: str) -> str:
        return "?"


def render(code: str, **context: Any) -> tuple[str, str, str]:
    """Return (message, hint, severity) for a catalogue code and its context."""
    entry = CATALOGUE[code]
    ctx = _Lenient({k: "" if v is None else v for k, v in context.items()})
    return entry.template.format_map(ctx), entry.hint.format_map(ctx), entry.severity
