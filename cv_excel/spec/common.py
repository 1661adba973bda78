"""Sheets every generated workbook has: the Lisez-moi page and the hidden metadata."""

from __future__ import annotations

from cv_excel.listes import ECHELLE_EPT, MODES_RECUEIL
from cv_excel.spec.model import Champ, Feuille, Tableau

LISEZ_MOI = Feuille(
    key="lisez_moi",
    titre="Lisez-moi",
    champs=(
        Champ("lm_titre", "Titre du classeur", role="prerempli"),
        Champ("lm_destinataire", "Destinataire", role="prerempli"),
        Champ("lm_annee", "Année", "entier", role="prerempli"),
        Champ("lm_echeance", "Date limite de retour", role="prerempli"),
        Champ("lm_contact", "Contact à la Direction", role="prerempli"),
        Champ("lm_contenu", "Contenu du classeur", "texte_long", role="prerempli"),
    ),
)

# Metadata: what intake needs to recognise the file and detect tampering.
META_KEYS: tuple[tuple[str, str], ...] = (
    ("meta_spec_version", "Version de la spécification"),
    ("meta_modele", "Nom du modèle"),
    ("meta_modele_version", "Version du modèle"),
    ("meta_classeur_id", "Identifiant du classeur"),
    ("meta_type", "Type de classeur"),
    ("meta_contrat", "Contrat"),
    ("meta_annee", "Année"),
    ("meta_revue", "Revue de projet (vide : bilan annuel)"),
    ("meta_destinataire_id", "Identifiant du destinataire"),
    ("meta_destinataire", "Destinataire"),
    ("meta_sections", "Sections (feuille = identifiant)"),
    ("meta_generateur", "Version du générateur"),
    ("meta_genere_le", "Généré le"),
    ("meta_empreinte", "Empreinte des valeurs préremplies"),
)
# Written by the template author (they describe the template), not by the generator.
META_FROM_TEMPLATE = {"meta_spec_version", "meta_modele", "meta_modele_version"}

META = Feuille(
    key="meta",
    titre="cv_meta",
    cachee=True,
    champs=tuple(
        Champ(name, label, role="calcul" if name in META_FROM_TEMPLATE else "prerempli")
        for name, label in META_KEYS
    ),
)

LISTES_COMMUNES: dict[str, tuple[str | int, ...]] = {
    "liste_score": tuple(ECHELLE_EPT),
    "liste_modes_recueil": MODES_RECUEIL,
    "liste_oui_non": ("Oui", "Non"),
}


def lecture_seule(*colonnes: tuple[str, str]) -> tuple[Champ, ...]:
    """Prefilled, locked columns (name, label) of a table the recipient only reads."""
    return tuple(Champ(name, label, role="prerempli") for name, label in colonnes)


def DECISIONS_OUVERTES_TABLEAU(name: str) -> Tableau:  # noqa: N802 - a table factory
    """The decisions of earlier revues still open (read-only), recalled in every
    governance workbook until they are closed in a relevé de décisions."""
    return Tableau(
        name=name,
        label="Décisions en cours de suivi",
        min_capacite=10,
        colonnes=(
            *lecture_seule(("numero", "N°"), ("decision", "Décision"), ("code", "Niveau"),
                           ("responsable", "Responsable")),
            Champ("echeance", "Échéance", "date", role="prerempli"),
            *lecture_seule(("statut", "Statut")),
        ),
    )
