"""Write the FICTITIOUS demo programmation shipped with cv_excel.

Usage: python scripts/make_demo_data.py [--sortie cv_excel/demo/programmation_demo.csv]

Deterministic (fixed random seed): running it twice gives the same file. Every
porteur, SIRET, e-mail and amount is invented ("(fictif)" in every name,
e-mails on example.org); only the Département's yearly totals 2015-2018 are
taken from Annexe 2 of the contract, so its reporting can be checked against
the seed (5 / 12 500 €, 3 / 9 500 €, 8 / 13 500 €, 11 / 16 800 €).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

from cv_excel.listes import FINANCEURS, MODES_RECUEIL
from cv_excel.programmation.schema import COLUMNS
from cv_excel.programmation.validators import luhn_complete

SEED = 2019
INITIATIVES = "Encouragement des initiatives de proximité"
EQUIPEMENTS = "Soutien aux équipements de proximité"
# Annexe 2: year -> (number of actions, total Département subsidy in euros).
ANNEXE2_INITIATIVES = {2015: (5, 12_500), 2016: (3, 9_500), 2017: (8, 13_500), 2018: (11, 16_800)}
# Annexe 2: 3 équipements de proximité 2015/2018 for 393 763 € in all (yearly split invented).
ANNEXE2_EQUIPEMENTS = [
    (2016, "Le Forum — aménagement (fictif)", 181_263),
    (2017, "Plateau multisports Georges Méliès (fictif)", 127_500),
    (2018, "Salle de musculation J.P. Beltoise (fictif)", 85_000),
]

# (objectif opérationnel, sous-thème ANCT, intitulé, indicateur de résultat unique)
ACTIONS_2019 = [
    ("A111", "1.2 Santé", "Parcours santé des jeunes de la Mission locale",
     "Part des jeunes accompagnés ayant ouvert leurs droits à l'assurance maladie"),
    ("A111", "1.2 Santé", "Ateliers de prévention bucco-dentaire en écoles QPV",
     "Part des enfants dépistés orientés vers un soin"),
    ("A111", "1.2 Santé", "Permanences d'accès aux soins au centre social",
     "Part des personnes reçues ayant obtenu un rendez-vous médical"),
    ("A112", "1.3 Parentalité et droits sociaux", "Accueil inclusif des enfants en situation de handicap",
     "Part des familles satisfaites de l'accueil"),
    ("A112", "1.3 Parentalité et droits sociaux", "Réseau de veille des personnes isolées",
     "Part des situations signalées prises en charge sous un mois"),
    ("A113", "1.3 Parentalité et droits sociaux", "Point d'accès au droit itinérant",
     "Part des démarches abouties parmi les personnes accompagnées"),
    ("A113", "1.3 Parentalité et droits sociaux", "Ateliers numériques contre l'illectronisme",
     "Part des participants réalisant seuls une démarche en ligne"),
    ("A121", "1.4 Culture et expression artistique", "Orchestre à l'école Paul Éluard",
     "Part des élèves inscrits assidus sur l'année"),
    ("A121", "1.5b Sport et loisir", "École multisports du mercredi",
     "Part des enfants inscrits en club à l'issue du cycle"),
    ("A122", "1.1 Éducation", "Accompagnement à la scolarité des collégiens",
     "Part des élèves suivis dont les résultats progressent"),
    ("A122", "1.1 Éducation", "Prévention du décrochage scolaire par la médiation",
     "Part des élèves exclus ayant repris leur scolarité"),
    ("A122", "1.1 Éducation", "Coup de pouce lecture en CP",
     "Part des enfants lecteurs en fin d'année"),
    ("A123", "1.3 Parentalité et droits sociaux", "Café des parents",
     "Part des parents déclarant se sentir plus à l'aise dans leur rôle"),
    ("A123", "1.3 Parentalité et droits sociaux", "Ateliers parents-enfants du samedi",
     "Part des familles revenues à au moins trois ateliers"),
    ("A124", "1.5a Jeunesse", "Séjours découverte pour les 11-15 ans",
     "Part des jeunes partis pour la première fois"),
    ("A124", "1.4 Culture et expression artistique", "Atelier théâtre intergénérationnel",
     "Part des participants satisfaits"),
    ("A125", "1.5b Sport et loisir", "Rugby à 5 dans les quartiers",
     "Nombre de nouvelles licenciées et nouveaux licenciés"),
    ("A125", "1.5b Sport et loisir", "Sport santé sur ordonnance",
     "Part des bénéficiaires pratiquant encore après six mois"),
    ("A211", "1.4 Culture et expression artistique", "Fresques participatives du quartier Est",
     "Nombre d'habitants ayant participé à la création"),
    ("A211", "1.4 Culture et expression artistique", "Festival des arts de la rue",
     "Part des spectateurs résidant en QPV"),
    ("A212", "1.4 Culture et expression artistique", "Résidence d'artistes au centre culturel",
     "Nombre d'habitants ayant participé aux ateliers"),
    ("A212", "1.4 Culture et expression artistique", "Chorale des quartiers",
     "Part des choristes assidus"),
    ("A213", "1.4 Culture et expression artistique", "Mémoires des Navigateurs",
     "Nombre de témoignages recueillis et diffusés"),
    ("A221", "1.4 Culture et expression artistique", "Médiathèque hors les murs",
     "Nombre de nouveaux inscrits issus du QPV"),
    ("A222", "1.5b Sport et loisir", "Créneaux sportifs féminins",
     "Part de femmes parmi les pratiquants des créneaux"),
    ("A223", "1.5 Lien social, citoyenneté et participation des habitants",
     "Fête de quartier co-organisée avec les habitants",
     "Nombre d'habitants bénévoles impliqués"),
    ("A223", "1.5 Lien social, citoyenneté et participation des habitants",
     "Accompagnement des associations du centre social",
     "Part des associations accompagnées ayant déposé un projet"),
    ("A224", "1.3 Parentalité et droits sociaux", "Crèche à vocation d'insertion professionnelle",
     "Part des parents en emploi ou formation à la sortie"),
    ("A225", "1.5 Lien social, citoyenneté et participation des habitants",
     "Navette solidaire vers les équipements",
     "Part des usagers déclarant fréquenter davantage les équipements"),
    ("A231", "3.2 Tranquillité et sûreté publique", "Médiation sociale de soirée",
     "Part des situations de conflit apaisées"),
    ("A231", "3.2 Tranquillité et sûreté publique", "Marches exploratoires de femmes",
     "Part des propositions retenues par les services"),
    ("A232", "3.2 Tranquillité et sûreté publique", "Chantiers éducatifs de réparation",
     "Part des jeunes n'ayant pas récidivé dans l'année"),
    ("A232", "1.6 Prévention et lutte contre les discriminations", "Prévention des rixes",
     "Nombre d'incidents signalés aux abords des collèges"),
    ("B111", "2.2 Développement économique", "Parcours résidentiel des jeunes entreprises",
     "Part des entreprises accompagnées restées à Orly"),
    ("B112", "2.2 Développement économique", "Couveuse d'entreprises de quartier",
     "Nombre d'entreprises créées par des habitants du QPV"),
    ("B112", "2.2 Développement économique", "Permanences création d'entreprise",
     "Part des porteurs accompagnés ayant immatriculé leur entreprise"),
    ("B113", "2.2 Développement économique", "Observatoire des locaux d'activité",
     "Part des locaux vacants recensés"),
    ("B121", "2.2 Développement économique", "Petits-déjeuners des entreprises",
     "Nombre de partenariats noués entre entreprises locales"),
    ("B122", "2.2 Développement économique", "Enquête auprès des entreprises du territoire",
     "Taux de réponse des entreprises"),
    ("B123", "2.1 Emploi", "Guichet unique entreprises",
     "Part des demandes traitées sous quinze jours"),
    ("B131", "2.2 Développement économique", "Animation commerciale du centre Est",
     "Évolution de la fréquentation des commerces"),
    ("B132", "2.2 Développement économique", "Soutien aux structures d'accompagnement",
     "Nombre de personnes orientées vers les structures"),
    ("B133", "2.2 Développement économique", "Recyclerie solidaire",
     "Nombre d'emplois d'insertion créés"),
    ("B133", "2.1 Emploi", "Épicerie solidaire et chantier d'insertion",
     "Part des salariés en insertion en sortie positive"),
    ("B134", "1.5b Sport et loisir", "Formation d'éducateurs sportifs Paris 2024",
     "Part des stagiaires diplômés"),
    ("B211", "2.1 Emploi", "Ateliers confiance en soi et projet professionnel",
     "Part des participants ayant défini un projet professionnel"),
    ("B211", "2.1 Emploi", "Parrainage vers l'emploi des jeunes diplômés",
     "Part des filleuls en emploi à six mois"),
    ("B212", "2.1 Emploi", "Ateliers sociolinguistiques",
     "Part des apprenants ayant progressé d'un niveau"),
    ("B212", "2.1 Emploi", "Remise à niveau bureautique",
     "Part des stagiaires certifiés"),
    ("B213", "2.1 Emploi", "Découverte des métiers de l'aéroportuaire",
     "Part des participants entrés en formation qualifiante"),
    ("B221", "2.1 Emploi", "Clauses d'insertion du NPRU",
     "Nombre d'heures d'insertion réalisées par des habitants"),
    ("B222", "2.1 Emploi", "Job dating des entreprises du bassin",
     "Part des candidats reçus ayant obtenu un contrat"),
    ("B222", "2.1 Emploi", "Préparation opérationnelle à l'emploi logistique",
     "Part des stagiaires embauchés"),
    ("C111", "3.1 Cadre de vie et renouvellement urbain", "Concertation sur l'extension du parc Mermoz",
     "Nombre d'habitants ayant participé à la concertation"),
    ("C112", "3.1 Cadre de vie et renouvellement urbain", "Jardins partagés au pied des immeubles",
     "Nombre de foyers cultivant une parcelle"),
    ("C113", "3.1 Cadre de vie et renouvellement urbain", "Sensibilisation à la gestion de l'eau",
     "Part des participants ayant adopté un éco-geste"),
    ("C121", "3.1 Cadre de vie et renouvellement urbain", "Ambassadeurs du tri",
     "Évolution du taux de refus de tri"),
    ("C122", "3.1 Cadre de vie et renouvellement urbain", "Repair café",
     "Nombre d'objets réparés"),
    ("C123", "3.1 Cadre de vie et renouvellement urbain", "Défi familles à énergie positive",
     "Économie d'énergie moyenne des foyers participants"),
    ("C131", "3.1 Cadre de vie et renouvellement urbain", "Accompagnement à l'arrivée du T9",
     "Part des habitants informés du nouveau tracé"),
    ("C132", "3.1 Cadre de vie et renouvellement urbain", "Vélo-école pour adultes",
     "Part des stagiaires circulant seuls à vélo"),
    ("C132", "3.1 Cadre de vie et renouvellement urbain", "Pédibus des écoles",
     "Nombre d'enfants venant à pied à l'école"),
    ("C211", "3.1 Cadre de vie et renouvellement urbain", "Accompagnement au relogement NPRU",
     "Part des ménages relogés satisfaits"),
    ("C213", "3.1 Cadre de vie et renouvellement urbain", "Balades urbaines de désenclavement",
     "Nombre de participants aux balades"),
    ("C221", "3.1 Cadre de vie et renouvellement urbain", "Diagnostics en marchant",
     "Part des dysfonctionnements signalés traités"),
    ("C222", "3.1 Cadre de vie et renouvellement urbain", "Chantier jeunes d'embellissement des halls",
     "Nombre de halls rénovés"),
    ("C223", "3.1 Cadre de vie et renouvellement urbain", "Urbanisme transitoire place du marché",
     "Fréquentation de l'espace aménagé"),
    ("T111", "1.1 Éducation", "Comités de parents du projet éducatif",
     "Nombre de familles présentes aux comités"),
    ("T112", "1.5 Lien social, citoyenneté et participation des habitants",
     "Soutien au conseil citoyen", "Nombre de propositions portées par le conseil citoyen"),
    ("T121", "1.5 Lien social, citoyenneté et participation des habitants",
     "Formation des bénévoles associatifs", "Part des bénévoles formés"),
    ("T122", "1.5a Jeunesse", "Conseil municipal des enfants",
     "Nombre de projets d'enfants réalisés"),
    ("T131", "1.6 Prévention et lutte contre les discriminations", "Cours de français et citoyenneté",
     "Part des apprenants ayant obtenu le DELF"),
    ("T132", "1.6 Prévention et lutte contre les discriminations", "Égalité filles-garçons au collège",
     "Part des élèves dont les représentations évoluent (questionnaire avant/après)"),
]

PORTEUR_NAMES = [
    ("Association", "Association Santé Partage Orly"), ("Association", "Les Petits Débrouillards du Val (section locale)"),
    ("Association", "Comité de quartier des Navigateurs"), ("Association", "Association Parents Ensemble"),
    ("Association", "Réussir à l'école Orly"), ("Association", "Orchestre des Aviateurs"),
    ("Association", "Union sportive de l'Est orlysien"), ("Association", "Rugby Club des Quartiers"),
    ("Association", "Compagnie Art et Rue"), ("Association", "Chœur des Saules"),
    ("Association", "Mémoire vive d'Orly"), ("Association", "Femmes relais Orly"),
    ("Association", "Médiation Nord-Est"), ("Association", "Club de prévention Jeunes Horizons"),
    ("Association", "Couveuse Entreprendre Ensemble"), ("Association", "Boutique de gestion du Grand Orly"),
    ("Association", "Recyclerie Orly Demain"), ("Association", "Épicerie solidaire La Passerelle"),
    ("Association", "Parrains pour l'emploi 94"), ("Association", "Alphabétisation et Savoirs"),
    ("Association", "Les Jardins de l'Est"), ("Association", "Repair café orlysien"),
    ("Association", "Vélo pour tous Orly"), ("Association", "Conseil citoyen d'Orly"),
    ("Association", "Maison des associations d'Orly"), ("Association", "Égalité au quotidien"),
    ("Association", "Théâtre de la Pierre au Prêtre"), ("Association", "Accès Droits Orly"),
    ("Service municipal", "Ville d'Orly — Centre social A. Chedid"),
    ("Service municipal", "Ville d'Orly — Direction de l'éducation et de l'enfance"),
    ("Service municipal", "Ville d'Orly — Service des sports"),
    ("Service municipal", "Ville d'Orly — Médiathèque"),
    ("Service municipal", "Ville d'Orly — CCAS"),
    ("Établissement public", "Mission locale Orly-Choisy"),
    ("Établissement public", "Collège des Saules"),
    ("Bailleur social", "Habitat Val-de-Marne Est"),
    ("Entreprise", "SCIC Énergie Citoyenne Orly"),
    ("Entreprise", "Régie de quartier Orly Services"),
    ("Autre", "Groupement des commerçants du centre Est"),
    ("Association", "Atelier Numérique Solidaire"),
]

FIRST_NAMES = ["Awa", "Karim", "Sophie", "Mamadou", "Nadia", "Julien", "Fatou", "Thomas",
               "Leïla", "Paul", "Inès", "Moussa", "Claire", "Yacine", "Aminata", "Hugo"]
LAST_NAMES = ["Diallo", "Martin", "Benali", "Traoré", "Bernard", "Nguyen", "Haddad", "Petit",
              "Camara", "Moreau", "Lefèvre", "Kone", "Garcia", "Rossi", "Mendy", "Robert"]


def fictitious_siret(rng: random.Random) -> str:
    siren = luhn_complete("8" + "".join(rng.choice("0123456789") for _ in range(7)))
    return luhn_complete(siren + "0001")


def slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_).split())[:40].strip("-")


def make_porteurs(rng: random.Random) -> list[dict[str, str]]:
    porteurs = []
    for type_, name in PORTEUR_NAMES:
        contact = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        porteurs.append({
            "porteur_raison_sociale": f"{name} (fictif)",
            "porteur_siret": fictitious_siret(rng),
            "porteur_rna": (f"W94{rng.randrange(10**6, 10**7)}" if type_ == "Association" else ""),
            "porteur_type": type_,
            "porteur_contact": contact,
            "porteur_email": f"{slug(contact).replace('-', '.')}@{slug(name)}.example.org",
        })
    return porteurs


def declinaisons(indicateur: str) -> dict[str, str]:
    base = indicateur[0].lower() + indicateur[1:]
    return {
        "declinaison_0": "L'action n'a pas eu lieu",
        "declinaison_20": f"Résultat très limité : {base} inférieur à 20 % de l'objectif",
        "declinaison_40": f"Résultat limité : {base} entre 20 et 40 % de l'objectif",
        "declinaison_60": f"Résultat moyen : {base} entre 40 et 60 % de l'objectif",
        "declinaison_80": f"Bon résultat : {base} entre 60 et 100 % de l'objectif",
        "declinaison_100": f"Objectif dépassé : {base} au-delà de l'objectif",
    }


def amounts(rng: random.Random, financeurs: list[str]) -> dict[str, int]:
    row: dict[str, int] = {}
    for key in financeurs:
        accorde = rng.randrange(10, 120) * 100
        row[f"accorde_{key}"] = accorde
        row[f"demande_{key}"] = accorde + rng.choice([0, 0, 500, 1000, 2000])
    return row


def rows_2019(rng: random.Random, porteurs: list[dict[str, str]]) -> list[dict]:
    # Every porteur gets one action; a few (associations and city services) get several.
    several = [0, 1, 2, 3, 4, 5, 6, 16, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
               32, 33, 34, 35, 36, 37, 38, 39, 0, 28, 29, 30]
    assignment = list(range(len(porteurs))) + several
    assignment = assignment[: len(ACTIONS_2019)]
    rng.shuffle(assignment)
    rows = []
    financeur_keys = [f.key for f in FINANCEURS]
    for i, ((oo, sous_theme, intitule, indicateur), p) in enumerate(
            zip(ACTIONS_2019, assignment, strict=True), start=1):
        chosen = ["etat", "ville"] if i % 5 else ["ville"]
        chosen += [k for k in financeur_keys[1:]
                   if k not in chosen and k != "departement" and rng.random() < 0.25]
        row = {
            "numero": f"2019-{i:03d}", "annee": 2019, **porteurs[p], "intitule": intitule,
            "objectif_operationnel": oo, "sous_theme_anct": sous_theme,
            "theme_anct": _theme(sous_theme),
            "territoire": rng.choice(["QPV", "QPV", "QPV", "Quartier de veille active", "Hors QPV"]),
            **amounts(rng, sorted(set(chosen), key=financeur_keys.index)),
            **(_small_departement(rng) if i % 9 == 0 else {}),
            "indicateur_libelle": indicateur, **declinaisons(indicateur),
            "mode_recueil": rng.choice(MODES_RECUEIL + ("Enquête de satisfaction auprès des "
                                                        "bénéficiaires",)),
        }
        if i % 9 == 0:
            row["departement_dispositif"] = INITIATIVES
        if "autres" in chosen:
            row["autres_financeurs_detail"] = "Fondation privée (fictive)"
        rows.append(row)
    return rows


def _small_departement(rng: random.Random) -> dict[str, int]:
    """Initiatives de proximité are small grants (Annexe 2: about 1 500 € each)."""
    montant = rng.randrange(10, 26) * 100
    return {"demande_departement": montant, "accorde_departement": montant}


def _theme(sous_theme: str) -> str:
    from cv_excel.listes import theme_of
    return theme_of(sous_theme)


def split_total(rng: random.Random, total: int, n: int, step: int = 100) -> list[int]:
    """``n`` amounts, multiples of ``step``, at least 500 €, summing exactly to ``total``."""
    units, floor = total // step, 500 // step
    cuts = sorted(rng.sample(range(1, units - n * floor), n - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, units - n * floor], strict=True)]
    return [(p + floor) * step for p in parts]


def rows_departement(rng: random.Random, porteurs: list[dict[str, str]]) -> list[dict]:
    rows = []
    associations = [p for p in porteurs if p["porteur_type"] == "Association"]
    pool = [a for a in ACTIONS_2019 if a[0].startswith(("A", "T"))]
    for annee, (count, total) in ANNEXE2_INITIATIVES.items():
        for k, montant in enumerate(split_total(rng, total, count), start=1):
            oo, sous_theme, intitule, indicateur = rng.choice(pool)
            rows.append(_dep_row(annee, k, rng.choice(associations), oo, sous_theme,
                                 intitule, indicateur, montant, INITIATIVES, rng))
    for k, (annee, intitule, montant) in enumerate(ANNEXE2_EQUIPEMENTS, start=50):
        oo = "A222" if "multisports" in intitule or "musculation" in intitule else "A223"
        ville = next(p for p in porteurs if p["porteur_type"] == "Service municipal")
        rows.append(_dep_row(annee, k, ville, oo, "1.5b Sport et loisir", intitule,
                             "Fréquentation de l'équipement", montant, EQUIPEMENTS, rng))
    return rows


def _dep_row(annee, k, porteur, oo, sous_theme, intitule, indicateur, montant, dispositif, rng):
    return {
        "numero": f"{annee}-D{k:02d}", "annee": annee, **porteur, "intitule": intitule,
        "objectif_operationnel": oo, "sous_theme_anct": sous_theme,
        "theme_anct": _theme(sous_theme), "territoire": rng.choice(TERRITOIRES_DEP),
        "demande_departement": montant, "accorde_departement": montant,
        "departement_dispositif": dispositif,
        "indicateur_libelle": indicateur, **declinaisons(indicateur),
        "mode_recueil": rng.choice(MODES_RECUEIL),
    }


TERRITOIRES_DEP = ("QPV", "Quartier de veille active")


def conventions_et_versements(rng: random.Random, rows: list[dict]) -> None:
    """Fictitious convention (number, date of signature in the programmation year) and
    payments of every financeur, all after the signature: most in one go a few weeks
    later, larger grants in two (70 % advance, balance in the autumn), a few balances
    not paid yet. Drawn from their own random stream (``rng``), so the columns above
    keep the values they had before these columns existed."""
    numero_par_annee: Counter[int] = Counter()
    for row in rows:
        annee = row["annee"]
        numero_par_annee[annee] += 1
        row["convention_numero"] = f"CONV-PV-{annee}-{numero_par_annee[annee]:03d}"
        signature = dt.date(annee, 1, 20) + dt.timedelta(days=rng.randrange(0, 140))
        row["convention_date"] = _jjmmaaaa(signature)
        for f in FINANCEURS:
            accorde = row.get(f"accorde_{f.key}")
            if not accorde:
                continue
            premier = signature + dt.timedelta(days=rng.randrange(15, 60))
            if accorde < 5000 or rng.random() < 0.5:
                row[f"verse_{f.key}"], dates = accorde, [premier]
            else:
                avance = accorde * 7 // 10 // 100 * 100
                solde = dt.date(annee, 10, 1) + dt.timedelta(days=rng.randrange(0, 75))
                if rng.random() < 0.15:  # balance still to pay (bilan awaited)
                    row[f"verse_{f.key}"], dates = avance, [premier]
                else:
                    row[f"verse_{f.key}"], dates = accorde, [premier, solde]
            row[f"dates_versement_{f.key}"] = " ; ".join(map(_jjmmaaaa, dates))


# ANCT sous-thème -> code of the nomenclature des crédits du P147 (cv_excel/data/
# nomenclature_p147.json). Only codes read in the source: thème 11 (Éducation); the other
# thèmes could not be read yet, so the other actions get no code rather than a guess.
P147_PAR_SOUS_THEME = {
    "1.1 Éducation": "11",
}
# Éducation: the modalité from the action itself.
P147_EDUCATION = {
    "Accompagnement à la scolarité des collégiens": "1122",
    "Prévention du décrochage scolaire par la médiation": "1132",
    "Coup de pouce lecture en CP": "1121",
    "Comités de parents du projet éducatif": "1121",
}
DISPOSITIFS_PAR_SOUS_THEME = {
    "1.5a Jeunesse": ["Ville vie vacances (VVV)", "Quartiers d'été"],
    "1.5b Sport et loisir": ["Quartiers d'été", "Ville vie vacances (VVV)"],
    "1.5 Lien social, citoyenneté et participation des habitants": ["Adultes-relais",
                                                                     "Postes FONJEP"],
    "1.3 Parentalité et droits sociaux": ["Adultes-relais"],
    "2.1 Emploi": ["Cités de l'emploi"],
    "1.1 Éducation": ["Cordées de la réussite", "École ouverte"],
}
QPV_EST = "ORLY-QPV-EST"  # the default codes of cv_excel.toml (cv_excel.config)
VEILLE_ACTIVE = ("ORLY-QVA-CALMETTE", "ORLY-QVA-PIERRE-AU-PRETRE", "ORLY-QVA-SAULES",
                 "ORLY-QVA-SABLIERE")


def references_etat(rng: random.Random, rows: list[dict]) -> None:
    """Fictitious État references: the QPV code of every action in a quartier (and of
    every État-funded one, « hors QPV » ones benefiting the quartier Est's residents);
    for the État-funded ones a Dauphin dossier number, the P147 code and, for some, the
    State's dispositifs. Drawn from their own random stream (``rng``), so the columns
    above keep the values they had before these columns existed."""
    dossier = 0
    for row in rows:
        etat = bool(row.get("accorde_etat"))
        if row["territoire"] == "QPV" or (etat and row["territoire"] == "Hors QPV"):
            row["code_qpv"] = QPV_EST
        elif row["territoire"] == "Quartier de veille active":
            row["code_qpv"] = rng.choice(VEILLE_ACTIVE)
        if not etat:
            continue
        dossier += 1
        row["dossier_dauphin"] = f"{row['annee'] % 100:02d}-{dossier:06d}"
        sous_theme = row["sous_theme_anct"]
        code = P147_EDUCATION.get(row["intitule"]) or P147_PAR_SOUS_THEME.get(sous_theme)
        if code:
            row[{2: "theme_p147", 3: "sous_theme_p147", 4: "modalite_p147"}[len(code)]] = code
        choix = DISPOSITIFS_PAR_SOUS_THEME.get(sous_theme, [])
        if choix and rng.random() < 0.6:
            row["dispositifs_etat"] = " ; ".join(choix[:rng.randint(1, len(choix))])


# The quantified objective, from the indicateur: a share (« Part des… », « Taux de… ») is
# aimed at in %, a count (« Nombre de… ») in the thing counted. Indicators that measure a
# change or a level to bring down (évolution, incidents, économie, fréquentation) get none.
UNITE_DU_NOMBRE = {"nouveaux": "inscrits", "nouvelles": "licenciés"}  # else the first word
PETITS_NOMBRES = {"entreprises", "halls", "projets", "propositions", "partenariats", "emplois"}


def objectifs_quantifies(rng: random.Random, rows: list[dict]) -> None:
    """Fictitious quantified objectives (what, how much, unit) for most actions. Drawn
    from their own random stream (``rng``), so the columns above keep the values they had
    before these columns existed. Targets are at least 10, so the demo returns can reach
    any band of the EPT scale with a whole value."""
    for row in rows:
        indicateur = row["indicateur_libelle"]
        if indicateur.startswith(("Part ", "Taux ")):
            row["objectif_quantifie"] = indicateur
            row["valeur_cible"] = str(rng.randrange(10, 19) * 5)
            row["unite"] = "%"
            continue
        match = re.match(r"Nombre d(?:e |')(\S+)(.*)", indicateur)
        if not match or match[1] == "incidents":
            continue
        mot = match[1]
        row["objectif_quantifie"] = (mot + match[2])[0].upper() + (mot + match[2])[1:]
        row["unite"] = UNITE_DU_NOMBRE.get(mot, mot)
        if mot == "heures":
            cible = rng.randrange(20, 61) * 100
        elif mot in PETITS_NOMBRES:
            cible = rng.randrange(10, 31)
        else:
            cible = rng.randrange(4, 31) * 5
        row["valeur_cible"] = str(cible)


def _jjmmaaaa(date: dt.date) -> str:
    return date.strftime("%d/%m/%Y")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sortie", type=Path,
                        default=Path(__file__).parents[1] / "cv_excel/demo/programmation_demo.csv")
    args = parser.parse_args()
    rng = random.Random(SEED)
    porteurs = make_porteurs(rng)
    rows = rows_departement(rng, porteurs) + rows_2019(rng, porteurs)
    conventions_et_versements(random.Random(SEED + 1), rows)
    references_etat(random.Random(SEED + 2), rows)
    objectifs_quantifies(random.Random(SEED + 3), rows)
    keys = [c.key for c in COLUMNS]
    args.sortie.parent.mkdir(parents=True, exist_ok=True)
    with args.sortie.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in keys})
    print(f"{len(rows)} actions fictives écrites dans {args.sortie}")


if __name__ == "__main__":
    main()
