"""Budget lines of the Cerfa 15059*02 compte-rendu financier, as porteurs know them.

Charges 60-68 and produits 70-78 with the 74 subsidies split by financeur, then
the contributions volontaires en nature (86 emplois / 87 contributions). The 74
lines that match a financeur of the programmation are prefilled with the amount
accordé (locked); the porteur types every other figure.
"""

from __future__ import annotations

from cv_excel.spec.model import Ligne

CHARGES: tuple[Ligne, ...] = (
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
CHARGES_CONTRIB = (Ligne("86", "86 – Emplois des contributions volontaires en nature"),)

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
    Ligne("74_autres", "74 – Autres établissements publics et financements"),
    Ligne("75", "75 – Autres produits de gestion courante (dont cotisations, dons)"),
    Ligne("76", "76 – Produits financiers"),
    Ligne("77", "77 – Produits exceptionnels"),
    Ligne("78", "78 – Reprises sur amortissements et provisions"),
)
PRODUITS_CONTRIB = (Ligne("87", "87 – Contributions volontaires en nature"),)

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

# Gaps between réalisé and prévu above this share must be explained (annexe explicative).
SEUIL_ECART = 0.15
