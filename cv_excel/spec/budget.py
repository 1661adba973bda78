"""Budget lines of the Cerfa 15059*02 compte-rendu financier, as porteurs know them.

Every line of the form's « tableau de synthèse » for one action: charges directes 60-68,
then the « charges indirectes réparties affectées à l'action » (charges fixes de
fonctionnement, frais financiers, autres), which count in the total of the charges;
produits 70-78 with the 74 subventions d'exploitation split by financeur as the form
lists them (État, Région, Département, intercommunalité, commune, organismes sociaux,
fonds européens, l'agence de services et de paiement for emplois aidés, autres
établissements publics, aides privées); then the contributions volontaires en nature in
their sub-accounts, 86 emplois (860 secours en nature, 861 mise à disposition gratuite de
biens et prestations, 862 prestations, 864 personnel bénévole) and 87 contributions (870
bénévolat, 871 prestations en nature, 875 dons en nature). The form also asks « Quelle a
été la règle de répartition des charges indirectes appliquée ? » (spec field
``bud_repartition_charges_indirectes``).

Sources: formulaire Cerfa n° 15059*02 « Compte rendu financier de subvention » and its
notice (formulaires.modernisation.gouv.fr/gf/cerfa_15059.do); arrêté du 11 octobre 2006
relatif au compte rendu financier prévu par l'article 10 de la loi n° 2000-321 (after the
arrêté du 24 mai 2005, juriblio.fr); the 86x / 87x sub-accounts of the plan comptable des
associations (règlement CRC 99-01, as listed by assistant-juridique.fr, « Comptabilisation
des contributions volontaires en nature »).

The 74 lines that match a financeur of the programmation are prefilled with the amount
accordé (locked); the porteur types every other figure. Line keys are stored as they are:
a line kept from an earlier version keeps its key, so stored data stays comparable.
"""

from __future__ import annotations

from cv_excel.spec.model import Ligne

CHARGES_DIRECTES: tuple[Ligne, ...] = (
    Ligne("60", "60 – Achats"),
    Ligne("61", "61 – Services extérieurs"),
    Ligne("62", "62 – Autres services extérieurs"),
    Ligne("63", "63 – Impôts et taxes"),
    Ligne("64", "64 – Charges de personnel"),
    Ligne("65", "65 – Autres charges de gestion courante"),
    Ligne("66", "66 – Charges financières"),
    Ligne("67", "67 – Charges exceptionnelles"),
    Ligne("68", "68 – Dotations aux amortissements et provisions"),
)
# « Charges indirectes réparties affectées à l'action »: in the total of the charges.
CHARGES_INDIRECTES: tuple[Ligne, ...] = (
    Ligne("ci_fonctionnement", "Charges indirectes : charges fixes de fonctionnement"),
    Ligne("ci_financieres", "Charges indirectes : frais financiers"),
    Ligne("ci_autres", "Charges indirectes : autres"),
)
CHARGES: tuple[Ligne, ...] = (*CHARGES_DIRECTES, *CHARGES_INDIRECTES)
CHARGES_CONTRIB: tuple[Ligne, ...] = (
    Ligne("860", "860 – Secours en nature"),
    Ligne("861", "861 – Mise à disposition gratuite de biens et prestations"),
    Ligne("862", "862 – Prestations"),
    Ligne("864", "864 – Personnel bénévole"),
)

PRODUITS: tuple[Ligne, ...] = (
    Ligne("70", "70 – Ventes de produits finis, prestations de services"),
    Ligne("73", "73 – Dotations et produits de tarification"),
    Ligne("74_etat", "74 – État : politique de la ville (BOP 147)"),
    Ligne("74_etat_autre", "74 – État : autres ministères"),
    Ligne("74_region", "74 – Région"),
    Ligne("74_departement", "74 – Département"),
    Ligne("74_ept", "74 – Intercommunalité (EPT Grand-Orly Seine Bièvre)"),
    Ligne("74_ville", "74 – Commune (Ville d'Orly)"),
    Ligne("74_caf", "74 – Organismes sociaux (CAF…)"),
    Ligne("74_europe", "74 – Fonds européens"),
    Ligne("74_asp", "74 – Agence de services et de paiement (emplois aidés)"),
    Ligne("74_autres", "74 – Autres établissements publics"),
    Ligne("74_fondations", "74 – Aides privées (fondations)"),
    Ligne("75", "75 – Autres produits de gestion courante (dont cotisations, dons manuels "
                "ou legs)"),
    Ligne("76", "76 – Produits financiers"),
    Ligne("77", "77 – Produits exceptionnels"),
    Ligne("78", "78 – Reprises sur amortissements et provisions"),
)
PRODUITS_CONTRIB: tuple[Ligne, ...] = (
    Ligne("870", "870 – Bénévolat"),
    Ligne("871", "871 – Prestations en nature"),
    Ligne("875", "875 – Dons en nature"),
)

# Programmation financeur key -> produit line prefilled with the amount accordé.
LIGNE_DU_FINANCEUR: dict[str, str] = {
    "etat": "74_etat",
    "region": "74_region",
    "departement": "74_departement",
    "ept": "74_ept",
    "ville": "74_ville",
    "caf": "74_caf",
    "autres": "74_autres",
}
# The programmation's « autres » financeur is one column whose name is free text
# (``autres_financeurs_detail``); it cannot say « fondation » otherwise yet, so a name
# containing « fondation » routes its amount to the private-funding line.
LIGNE_FONDATIONS = "74_fondations"
# Produit lines the generator prefills (and locks): every financeur line, fondations included.
LIGNES_PREREMPLIES: tuple[str, ...] = (*LIGNE_DU_FINANCEUR.values(), LIGNE_FONDATIONS)


def ligne_du_financeur(financeur: str, precision: str | None = None) -> str:
    """The 74 line of a programmation financeur: ``LIGNE_DU_FINANCEUR``, except an
    « autres » financeur named as a foundation (``precision``), on « aides privées »."""
    if financeur == "autres" and precision and "fondation" in precision.casefold():
        return LIGNE_FONDATIONS
    return LIGNE_DU_FINANCEUR[financeur]


# Gaps between réalisé and prévu above this share must be explained (annexe explicative).
SEUIL_ECART = 0.15
