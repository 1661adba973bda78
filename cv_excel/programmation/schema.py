"""The programmation table, declared once.

One :class:`Colonne` per column: key (code side), header (what the Direction
reads), kind (how to check and convert it), whether it is required, the closed
list it draws from, a help text. The model writer, the checker and the reader
all walk this list, so the Excel file and the code cannot drift. Columns are
found by their header text, never by position: the Direction may reorder them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cv_excel.listes import (
    DISPOSITIFS_DEPARTEMENT,
    DISPOSITIFS_ETAT,
    FINANCEURS,
    MODES_RECUEIL,
    PALIERS,
    SOUS_THEMES_ANCT,
    TERRITOIRES,
    THEMES_ANCT,
    TYPES_STRUCTURE,
)
from cv_excel.nomenclature import NIVEAUX, nomenclature_p147

SHEET = "Programmation"

Kind = Literal["texte", "entier", "montant", "nombre", "email", "siret", "rna", "liste", "code_oo",
               "date", "dates", "p147", "tags", "code_qpv"]


@dataclass(frozen=True)
class Colonne:
    key: str
    header: str
    kind: Kind = "texte"
    required: bool = False
    choices: tuple[str, ...] | None = None  # closed list for kind == "liste"
    list_name: str | None = None  # defined name of the drop-down in the workbook
    help: str = ""
    width: int = 18
    max_length: int | None = None
    # Catalogue codes used when the value is missing / outside its list, so a column
    # with its own wording (déclinaisons, mode de recueil) needs no special case.
    code_manquant: str = "PROG_VALEUR_REQUISE"
    code_hors_liste: str = "PROG_VALEUR_HORS_LISTE"
    palier: int | None = None  # EPT step of a « Déclinaison » column
    # Added to the model after workbooks were in use: a workbook without the column is
    # still read (a warning, its values empty) instead of being refused.
    ajoutee: bool = False
    code_absente: str = "PROG_COLONNE_AJOUTEE_ABSENTE"  # when an ``ajoutee`` column is missing
    niveau: int | None = None  # digits of a P147 code column (2 thème, 3 sous-thème, 4 modalité)


def _montants() -> list[Colonne]:
    cols = []
    for f in FINANCEURS:
        cols.append(Colonne(f"demande_{f.key}", f"Demandé – {f.libelle}", "montant",
                            help=f"Montant demandé à « {f.libelle} », en euros.", width=14))
        cols.append(Colonne(f"accorde_{f.key}", f"Accordé – {f.libelle}", "montant",
                            help=f"Montant accordé par « {f.libelle} », en euros.", width=14))
        cols.append(Colonne(f"verse_{f.key}", f"Versé – {f.libelle}", "montant", ajoutee=True,
                            help=f"Montant effectivement versé par « {f.libelle} », en euros "
                            "(au plus le montant accordé).", width=14))
        cols.append(Colonne(f"dates_versement_{f.key}", f"Dates de versement – {f.libelle}",
                            "dates", ajoutee=True, width=24,
                            help=f"Date(s) des versements de « {f.libelle} », au format "
                            "JJ/MM/AAAA, séparées par un point-virgule : « 15/03/2019 ; "
                            "20/09/2019 »."))
    return cols


def _p147(key: str, niveau: int, width: int, help: str) -> Colonne:
    return Colonne(key, f"{NIVEAUX[niveau].capitalize()} P147", "p147", width=width,
                   choices=tuple(c.affichage for c in nomenclature_p147().niveau(niveau)),
                   list_name=f"liste_{key}", niveau=niveau, ajoutee=True,
                   code_absente="PROG_COLONNE_ETAT_ABSENTE", code_hors_liste="PROG_P147_INCONNU",
                   help=help)


# Columns for the État (Dauphin, BOP 147), added to the model with issue 11.
_ETAT: tuple[Colonne, ...] = (
    Colonne("dossier_dauphin", "Dossier Dauphin", width=14, max_length=30, ajoutee=True,
            code_absente="PROG_COLONNE_ETAT_ABSENTE",
            help="Numéro du dossier de demande de subvention sur la plateforme Dauphin, quand "
            "l'État (BOP 147) est sollicité."),
    _p147("theme_p147", 2, 22, "Thème de la nomenclature des crédits du P147 (2 chiffres). "
          "Facultatif : déduit de la modalité ou du sous-thème."),
    _p147("sous_theme_p147", 3, 30, "Sous-thème de la nomenclature des crédits du P147 (3 "
          "chiffres). Facultatif : déduit de la modalité."),
    _p147("modalite_p147", 4, 36, "Modalité de la nomenclature des crédits du P147 (4 "
          "chiffres) ; ses 3 premiers chiffres sont son sous-thème, ses 2 premiers son thème."),
    Colonne("dispositifs_etat", "Dispositifs de l'État", "tags", choices=DISPOSITIFS_ETAT,
            list_name="liste_dispositifs_etat", width=26, ajoutee=True,
            code_absente="PROG_COLONNE_ETAT_ABSENTE",
            help="Dispositif(s) de l'État dont relève l'action ; plusieurs sont séparés par un "
            "point-virgule : « Adultes-relais ; Quartiers d'été »."),
    Colonne("code_qpv", "Code QPV", "code_qpv", list_name="liste_codes_qpv", width=20,
            ajoutee=True, code_absente="PROG_COLONNE_ETAT_ABSENTE",
            help="Code du quartier concerné (QPV ou quartier de veille active), tel que "
            "déclaré dans cv_excel.toml (section [territoire])."),
)

# The action's quantified objective (issue 11): what is counted, how much, in what unit; the
# porteur's bilan recalls it and asks the value reached, whose rate guides the EPT score.
_OBJECTIF: tuple[Colonne, ...] = (
    Colonne("objectif_quantifie", "Objectif quantifié", width=36, max_length=300, ajoutee=True,
            code_absente="PROG_COLONNE_OBJECTIF_ABSENTE",
            help="Ce que l'action doit produire, compté : par exemple « Jeunes accompagnés "
            "ayant ouvert leurs droits ». Facultatif ; avec la valeur cible et l'unité."),
    Colonne("valeur_cible", "Valeur cible", "nombre", width=12, ajoutee=True,
            code_absente="PROG_COLONNE_OBJECTIF_ABSENTE",
            help="Combien l'action doit en produire dans l'année : un nombre supérieur à 0, "
            "sans texte (par exemple 20 ou 12,5)."),
    Colonne("unite", "Unité", width=14, max_length=50, ajoutee=True,
            code_absente="PROG_COLONNE_OBJECTIF_ABSENTE",
            help="L'unité de la valeur cible : « jeunes », « séances », « heures », « % »…"),
)

COLUMNS: tuple[Colonne, ...] = (
    Colonne("numero", "N° d'action", required=True, width=12, max_length=30,
            help="Identifiant unique de l'action, par exemple 2019-001."),
    Colonne("annee", "Année", "entier", required=True, width=8,
            help="Année de programmation, sur quatre chiffres."),
    Colonne("porteur_raison_sociale", "Porteur – raison sociale", required=True, width=32,
            max_length=200, help="Nom officiel de la structure porteuse."),
    Colonne("porteur_siret", "Porteur – SIRET", "siret", required=True, width=17,
            help="14 chiffres, sans espace."),
    Colonne("porteur_rna", "Porteur – RNA", "rna", width=12,
            help="Numéro RNA des associations (W suivi de 9 chiffres), facultatif."),
    Colonne("porteur_type", "Porteur – type de structure", "liste", required=True,
            choices=TYPES_STRUCTURE, list_name="liste_types_structure", width=20),
    Colonne("porteur_contact", "Porteur – contact", required=True, width=22, max_length=120,
            help="Nom et prénom de la personne qui remplira le bilan."),
    Colonne("porteur_email", "Porteur – e-mail", "email", required=True, width=28,
            help="Adresse à laquelle le classeur de bilan sera envoyé."),
    Colonne("intitule", "Intitulé de l'action", required=True, width=40, max_length=250),
    Colonne("objectif_operationnel", "Objectif opérationnel", "code_oo", required=True,
            list_name="liste_objectifs_operationnels", width=12,
            help="Code de la fiche objectif opérationnel du contrat, par exemple A111."),
    Colonne("theme_anct", "Thème ANCT", "liste", choices=tuple(THEMES_ANCT.values()),
            list_name="liste_themes_anct", width=26, help="Facultatif (nomenclature Dauphin)."),
    Colonne("sous_theme_anct", "Sous-thème ANCT", "liste", choices=tuple(SOUS_THEMES_ANCT),
            list_name="liste_sous_themes_anct", width=30,
            help="Facultatif ; doit appartenir au thème choisi."),
    Colonne("territoire", "Territoire", "liste", required=True, choices=TERRITOIRES,
            list_name="liste_territoires", width=18),
    *_ETAT,
    Colonne("convention_numero", "Convention – numéro", width=16, max_length=50, ajoutee=True,
            help="Numéro ou référence de la convention signée avec le porteur."),
    Colonne("convention_date", "Convention – date", "date", width=12, ajoutee=True,
            help="Date de signature de la convention, au format JJ/MM/AAAA. Obligatoire pour "
            "publier la subvention en données ouvertes (SCDL)."),
    *_montants(),
    Colonne("departement_dispositif", "Département – dispositif", "liste",
            choices=DISPOSITIFS_DEPARTEMENT, list_name="liste_dispositifs_departement",
            width=30, help="Obligatoire quand le Département accorde un montant."),
    Colonne("autres_financeurs_detail", "Autres financeurs – précision", width=24,
            max_length=200),
    Colonne("indicateur_libelle", "Indicateur de résultat unique", required=True, width=40,
            max_length=300, help="Un seul indicateur de résultat, choisi avec le chef de projet."),
    *_OBJECTIF,
    *(
        Colonne(f"declinaison_{p}", f"Déclinaison {p}", required=True, width=30, max_length=300,
                help=f"Ce que signifie la note {p} pour cette action.",
                code_manquant="PROG_DECLINAISON_MANQUANTE", palier=p)
        for p in PALIERS
    ),
    Colonne("mode_recueil", "Mode de recueil", "liste", required=True, choices=MODES_RECUEIL,
            list_name="liste_modes_recueil", width=30,
            code_hors_liste="PROG_MODE_RECUEIL_INCONNU",
            help="L'un des quatre modes de recueil du guide EPT (annexe 3)."),
)

BY_KEY: dict[str, Colonne] = {c.key: c for c in COLUMNS}
BY_HEADER: dict[str, Colonne] = {c.header: c for c in COLUMNS}
