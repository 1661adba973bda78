"""Extract the contract tree (référentiel) from the seed text into cv_excel/data/referentiel.json.

Usage: python scripts/extract_referentiel.py SEED_PATH [--sortie cv_excel/data/referentiel.json]

The product never reads the seed at run time: this script only makes the committed JSON
reproducible. Every judgement call on a flaw of the seed is data (DIRECTORY, DECISIONS,
CORRECTIONS below) and each one is checked against the seed, so a different seed fails loudly
instead of silently producing another tree. docs/referentiel.md explains the decisions.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_excel.referentiel.models import (  # noqa: E402
    Contrat,
    Decision,
    Indicateur,
    ObjectifOperationnel,
    ObjectifStrategique,
    Orientation,
    Pilier,
    Referent,
    Referentiel,
)

SORTIE_DEFAUT = Path(__file__).resolve().parents[1] / "cv_excel" / "data" / "referentiel.json"

# ----------------------------------------------------------------------------------------------
# Data: the decisions. A decision is data, not code.
# ----------------------------------------------------------------------------------------------

CONTRAT = Contrat(
    code="orly-2019-2022",
    libelle="Contrat de ville d'Orly — avenant 2019-2022",
    territoire="Orly (EPT Grand-Orly Seine Bièvre, Val-de-Marne)",
    periode="2019-2022",
    quartiers=["Quartier Est d'Orly"],
)

PILIERS_TITRES = {
    "A": "Cohésion sociale",
    "B": "Développement économique, emploi et formation",
    "C": "Cadre de vie et renouvellement urbain",
    "T": "Pilier transversal : Renforcer le pouvoir d'agir des habitants dans leurs droits "
         "et l'exercice de leurs devoirs",
}

# id -> (libellé, direction, variantes = every exact seed spelling of a référent it absorbs).
DIRECTORY: dict[str, tuple[str, str | None, list[str]]] = {
    "dpv-deveco": (
        "Direction politique de la ville et développement économique", None, [
            "Direction politique de la ville et développement économique",
            "Directrice politique de la ville et développement économique",
            "Directrice politique de la Ville et développement économique",
            "Directrice projet politique de la ville / développement économique",
            "Direction politique de la ville, économie",
            "Direction Politique de la ville",
        ]),
    "ccas-developpement-social": (
        "Direction du développement social (CCAS)", "CCAS", [
            "Directrice Développement Sociale/CCAS",
            "Directrice Développement Social/CCAS",
        ]),
    "ccas-autonomie-sante-social": (
        "Direction autonomie, santé et social (CCAS)", "CCAS", [
            "Directrice Autonomie Santé Social / CCAS",
            "Directrice Autonomie Santé et Sociale",
        ]),
    "medecin-directeur": ("Médecin directeur", None, ["Médecin Directeur"]),
    "dga-sante-social": ("DGA Santé, social", None, ["DGA Santé, Social"]),
    "direction-affaires-sociales": (
        "Direction des affaires sociales", None, ["Directrice Affaires sociales"]),
    "jeunesse-sports": (
        "Direction de la jeunesse et des sports", None, [
            "Directeur Jeunesse et Sports",
            "Directeur de la Jeunesse et des sports",
        ]),
    "service-sports": (
        "Service des sports", "Direction de la jeunesse et des sports",
        ["Responsable du service des sports"]),
    "coordination-jeunesse": (
        "Coordinateur jeunesse", "Direction de la jeunesse et des sports",
        ["Coordinateur jeunesse"]),
    "dga-culture": (
        "DGA Culture", None, [
            "DGA Culture",
            "DGA culture",
            "DGA Direction Culture",
            "DGA en charge de la culture",
        ]),
    "culture-jeune-public": (
        "Responsable jeune public (Direction de la culture)", "Direction de la culture",
        ["Responsable jeune public – Direction de la culture"]),
    "dga-education": ("DGA secteur éducatif", None, ["DGA secteur éducatif"]),
    "education-enfance": (
        "Direction de l'éducation et de l'enfance", None, [
            "Direction de l'éducation et de l'enfance",
            "Directrice Education Enfance",
        ]),
    "politiques-educatives": (
        "Chef de projets des politiques éducatives", "Direction de l'éducation et de l'enfance",
        ["Chef de projets des politiques éducatives"]),
    "centre-social-chedid": (
        "Centre social A. Chedid", None, [
            "Directeur du Centre Social A. CHEDID",
            "Responsable du service du Centre Social A. CHEDID",
            "Responsable du CS A CHEDID",
        ]),
    "democratie-proximite": (
        "Direction de la démocratie de proximité", None, [
            "Direction démocratie de proximité",
            "Direction de la démocratie de proximité",
            "Directrice de la démocratie de proximité",
        ]),
    "cabinet": ("Direction de cabinet", None, ["Directrice de cabinet"]),
    "deveco-responsable": (
        "Responsable du développement économique",
        "Direction politique de la ville et développement économique",
        ["Responsable développement économique"]),
    "deveco-commerces": (
        "Responsable développement économique en charge des commerces",
        "Direction politique de la ville et développement économique",
        ["Responsable Développement économique en charge des commerces"]),
    "deveco-relations-entreprises": (
        "Chargée de relations entreprises",
        "Direction politique de la ville et développement économique",
        ["Chargée de relations entreprises"]),
    "emploi-insertion": (
        "Chargée de mission emploi-insertion",
        "Direction politique de la ville et développement économique", [
            "Chargée de mission emploi - insertion",
            "Chargée de mission Emploi-insertion",
            "Chargée de mission emploi",
        ]),
    "developpement-urbain": (
        "Direction du développement urbain", None, ["Direction du Développement urbain"]),
    "renouvellement-urbain": (
        "Service renouvellement urbain", "Direction du développement urbain",
        ["Responsable du service renouvellement urbain"]),
    "ingenieur-environnement": (
        "Ingénieur·e environnement (renouvellement urbain)", "Direction du développement urbain",
        [
            "DDU-RU-Ingénieur-e Environnement",
            "DDU-RU- Ingénieur-e Environnement",
            "DDU-RU- Ingénieur.e Environnement",
        ]),
    "gestion-urbaine-proximite": (
        "Chargé de mission renouvellement urbain – gestion urbaine de proximité",
        "Direction du développement urbain",
        ["Chargé de mission renouvellement urbain-gestion urbaine de proximité"]),
}

# Gaps of Annexe 4 filled from the level above (D05). code -> (attribute, taken from code).
HERITAGES = {
    "C21": ("pilotes", "C2"),
    "T12": ("pilotes", "T1"),
    "T": ("responsables", "T1"),
}
RESPONSABLE_A = "dpv-deveco"  # D06: the Direction politique de la ville coordinates A1.

# Fiche rows whose label was lost in the PDF conversion: (code, start of the value) -> field.
RELABEL = {("T121", "Renforcer la dynamique associative"): "contenu"}

# Obvious typing slips fixed in extracted text (seed spelling -> fixed spelling).
CORRECTIONS = {
    "Permettre aux entreprises d du bassin": "Permettre aux entreprises du bassin",
}

# Fiches without any indicator row content get the generic follow-up indicator of the
# governance chapter (§2.1, tableau de bord des 53 objectifs opérationnels), D12.
INDICATEUR_GENERIQUE = "Actions afférentes réalisées, en cours de réalisation"
SANS_INDICATEUR = ["A213", "C213"]

ANNONCE_ORIENTATIONS = "8 orientations stratégiques"

DECISIONS: list[Decision] = [
    Decision(
        id="D01", sujet="Nombre d'orientations stratégiques",
        constat="Le préambule annonce « 8 orientations stratégiques » ; les fiches et "
                "l'annexe 4 n'en déclinent que 7 (A1, A2, B1, B2, C1, C2, T1).",
        decision="L'arbre est la référence : 7 orientations. L'annonce de 8 est une coquille "
                 "du texte.",
        codes=["A1", "A2", "B1", "B2", "C1", "C2", "T1"]),
    Decision(
        id="D02", sujet="Source des référents",
        constat="L'annexe 4 (« Tableau synthétique des référents ») est la seule source des "
                "pilotes, coordonnateurs et responsables ; les 53 fiches ont aussi une ligne "
                "« référent » (« Référent », « Réfèrent », « Pilote référent de l'objectif »).",
        decision="L'annexe 4 fait foi pour toute la chaîne (référent, pilote, coordonnateur, "
                 "responsable) ; la ligne « référent » des fiches sert de contrôle croisé : "
                 "l'extraction s'arrête si une fiche désigne un autre service que l'annexe 4.",
        codes=[]),
    Decision(
        id="D03", sujet="Titres : fiche ou annexe 4",
        constat="Les titres diffèrent souvent entre l'en-tête des fiches et l'annexe 4 "
                "(casse, ponctuation, point final), parfois sur le fond : B134 fiche « "
                "Participer à la dynamique impulsée par les JOP 2024 et de son Plan Héritage "
                "» / annexe 4 « Améliorer l'offre en équipements sportifs en lien avec le Plan "
                "Héritage » ; A21 fiches « … un pilier de cohésion sociale » / annexe 4 et "
                "titre de section 1.2.1 « … un ciment de (la) cohésion sociale » ; écarts "
                "d'un mot ou d'un pluriel pour B13, C12, T13, A213, B111, B123, B211, B213, "
                "B221, T111.",
        decision="Le titre canonique est celui de l'en-tête de fiche, nettoyé (point final et "
                 "tiret initial retirés, majuscule initiale) ; pour une orientation ou un "
                 "objectif stratégique, le titre le plus fréquent parmi ses fiches. "
                 "`titre_annexe4` n'est renseigné que si l'annexe 4 diffère au-delà de la "
                 "casse, de la ponctuation et des espaces.",
        codes=["A21", "B13", "C12", "T13", "A213", "B111", "B123", "B134", "B211", "B213",
               "B221", "T111"]),
    Decision(
        id="D04", sujet="Graphies des codes",
        constat="Codes écrits « A 111 », « B 112 », « B 21 », « T 12 », « C213 -Objectif », "
                "« T12- Objectif », « B134 Objectif » (sans tiret), « B1 – » (tiret long).",
        decision="Codes normalisés sans espace ni tiret : A111, B112, B21, T12…",
        codes=["A111", "B112", "B21", "B22", "T12", "C213", "B134"]),
    Decision(
        id="D05", sujet="Pilotes et responsable manquants dans l'annexe 4",
        constat="L'annexe 4 laisse vides le pilote de C21 et de T12, le responsable du pilier "
                "T (aucune ligne de pilier) ; celui du pilier A n'a que l'en-tête de colonne.",
        decision="La personne manquante est reprise du niveau supérieur : pilote de C21 = "
                 "coordonnateur de C2 (service renouvellement urbain) ; pilote de T12 = "
                 "coordonnateur de T1 (direction des affaires sociales) ; responsable de T = "
                 "coordonnateur de T1, seule orientation du pilier. À confirmer par la "
                 "Direction.",
        codes=["C21", "T12", "T"]),
    Decision(
        id="D06", sujet="Responsable du pilier A",
        constat="La ligne du pilier A dans l'annexe 4 ne porte que l'en-tête « Directions et "
                "services référents ».",
        decision="Responsable du pilier A = Direction politique de la ville, coordonnateur "
                 "de A1 et au cœur du pilotage du contrat (gouvernance §1.2.2, rapport annuel). "
                 "À confirmer par la Direction.",
        codes=["A"]),
    Decision(
        id="D07", sujet="Cellules à plusieurs référents",
        constat="L'annexe 4 sépare plusieurs référents par de simples espaces (A111 : trois "
                "co-référents ; A124, A224, T111 : « Direction de l'éducation et de "
                "l'enfance Chef de projets des politiques éducatives ») ; les fiches les "
                "présentent en puces.",
        decision="Chaque puce de fiche est un référent distinct. A111 a trois co-référents "
                 "(développement social CCAS, autonomie santé social CCAS, médecin "
                 "directeur). A124, A224 et T111 ont deux co-référents : la direction de "
                 "l'éducation et de l'enfance et son chef de projets des politiques "
                 "éducatives (rôle distinct, qui pilote le projet éducatif). Les cellules "
                 "sont découpées sur les graphies connues de l'annuaire ; une graphie "
                 "inconnue arrête l'extraction.",
        codes=["A111", "A124", "A224", "T111"]),
    Decision(
        id="D08", sujet="Contrôle croisé fiches / annexe 4 des référents",
        constat="Les fiches A213, A221, B213, B221, B222, C113, C123, T122, T132 écrivent le "
                "référent autrement que l'annexe 4 (ex. A213 « DGA en charge de la culture » / "
                "« DGA culture » ; B213 « Chargée de mission emploi » / « … emploi - "
                "insertion »), mais désignent le même service. Les fiches A231 et A232 "
                "nomment une personne dans l'intitulé de la ligne (« Référent … : » suivi "
                "d'un nom).",
        decision="Aucun désaccord de fond : les référents de l'annexe 4 sont retenus. Le nom "
                 "de personne n'est pas repris : l'annuaire décrit des services et des rôles ; "
                 "nom, courriel et téléphone sont à compléter par la Direction.",
        codes=["A213", "A221", "B213", "B221", "B222", "C113", "C123", "T122", "T132",
               "A231", "A232"]),
    Decision(
        id="D09", sujet="Un même service écrit de plusieurs façons",
        constat="Ex. « DGA Culture » / « DGA culture » / « DGA Direction Culture » / « DGA en "
                "charge de la culture » ; « Directrice Développement Sociale/CCAS » / "
                "« … Social/CCAS » ; « Direction démocratie de proximité » / « Direction de "
                "la … » / « Directrice de la … » ; « Chargée de mission emploi » / « … emploi "
                "- insertion » / « … Emploi-insertion » ; « Directeur du Centre Social A. "
                "CHEDID » / « Responsable du service du Centre Social A. CHEDID » / "
                "« Responsable du CS A CHEDID » ; « Directrice Education Enfance » / "
                "« Direction de l'éducation et de l'enfance » ; « Directrice Autonomie Santé "
                "Social / CCAS » / « Directrice Autonomie Santé et Sociale » ; six graphies "
                "de la direction politique de la ville (et développement économique).",
        decision="Une entrée d'annuaire par service ou rôle réel (identifiant stable), les "
                 "graphies absorbées sont listées dans `variantes`. Une direction et son "
                 "directeur ou sa directrice sont une même entrée (même destinataire de "
                 "classeur). La « Direction Politique de la ville » (A1) et la « Direction "
                 "politique de la ville et développement économique » sont une seule "
                 "direction (dpv-deveco).",
        codes=[]),
    Decision(
        id="D10", sujet="Rôles proches gardés distincts",
        constat="« Responsable développement économique » (pilote de B12) et « Responsable "
                "Développement économique en charge des commerces » (B13, B131, B133) ; "
                "« DGA Santé, Social » (A225) et « Directrice Affaires sociales » (T1) ; "
                "« Responsable du service des sports » et « Directeur Jeunesse et Sports » ; "
                "« DGA secteur éducatif » et « Direction de l'éducation et de l'enfance » ; "
                "« Direction du Développement urbain » et « Responsable du service "
                "renouvellement urbain ».",
        decision="Gardés distincts : le texte emploie la précision « en charge des "
                 "commerces » de façon constante pour B13 et ses objectifs et jamais pour B12 ; "
                 "DGA, direction et service sont des niveaux hiérarchiques différents. Fusion "
                 "possible si la Direction confirme qu'il s'agit de la même personne.",
        codes=["B12", "B13", "A225", "T1"]),
    Decision(
        id="D11", sujet="Types d'indicateurs",
        constat="Les fiches distinguent inégalement impacts et indicateurs : ligne « … les "
                "« impacts » attendus », sous-colonnes « Impact(s) » / « Indicateur(s) », "
                "intertitres « Impact attendu : » puis « Indicateurs : », ligne « Indicateurs "
                "de résultats », ou simple liste. Le gabarit (« un impact est un effet à long "
                "terme… », « par ex. baisser le taux d'échec scolaire ») est recopié dans "
                "plusieurs fiches.",
        decision="impact : ce qui suit « impact(s) » ; sans intertitre, une phrase hors liste "
                 "avant la liste d'indicateurs, ou une liste suivie d'un intertitre "
                 "« Indicateurs : ». resultat : ce qui suit « Indicateurs : », « Indicateur(s) "
                 "» ou « Indicateurs de résultats », et une liste qui suit une phrase d'impact. "
                 "suivi : « Indicateurs de suivi : » et toute liste non qualifiée de la ligne "
                 "« Indicateurs de suivi et d'évaluation ». Le texte du gabarit et les "
                 "intertitres « Action n » sont écartés ; une valeur cible n'est relevée que si "
                 "le texte en donne une (« la moitié », « valeur cible = … », un pourcentage).",
        codes=[]),
    Decision(
        id="D12", sujet="Fiches sans indicateur",
        constat="A213 a une ligne d'indicateurs vide ; C213 n'a que l'intertitre "
                "« Indicateurs : » sans liste.",
        decision="Indicateur de suivi générique du tableau de bord des 53 objectifs "
                 "(gouvernance §2.1) : « Actions afférentes réalisées, en cours de "
                 "réalisation ». Les référents doivent stabiliser leurs indicateurs (§2.1).",
        codes=["A213", "C213"]),
    Decision(
        id="D13", sujet="Défauts d'en-têtes et de lignes des fiches",
        constat="En-têtes incomplets (pilier T jamais écrit ; A124 sans « Orientation "
                "stratégique : »), fautes (« DEVELOPEMENT », « RENOUELEMENT » en C211, B134 « "
                "initiatives d'animations »), titres d'objectifs stratégiques écrits en "
                "minuscule (T12), orientation T1 en capitales ; lignes absentes (A211 sans chef "
                "de file ni rôle de la ville ; C121, C122, C212, C213, C221, C223 sans rôle "
                "de la ville ; modalités vides en A222, B211, B212, T131) ; T121 : la ligne "
                "« Contenu » a perdu son intitulé ; doublon « Contrat local de Santé » dans "
                "les partenariats de A111 ; « Permettre aux entreprises d du bassin » (B222).",
        decision="Les en-têtes servent seulement à rattacher la fiche (code) ; les titres "
                 "suivent D03, T1 prend la graphie de l'annexe 4. La ligne sans intitulé de "
                 "T121 est rangée en « contenu ». Les champs absents restent vides. Doublons "
                 "de liste retirés, coquille corrigée.",
        codes=["T1", "T12", "A124", "C211", "B134", "T121", "A111", "B222", "A211"]),
    Decision(
        id="D14", sujet="Listes et mise en forme",
        constat="Les cellules portent du HTML (<ul>, <p>, <u>, <ol>), des puces « • », "
                "« → », « ▪ » ; certaines listes ont perdu leurs puces (éléments collés) ; "
                "des cellules sont coupées par les sauts de page.",
        decision="HTML retiré, une puce = un élément. Listes sans puces : découpées avant un "
                 "mot à majuscule qui suit un mot en minuscule (hors article/préposition, "
                 "sigles et noms propres) ; les partenariats de A111 sont découpés sur les "
                 "tirets. Une suite de cellule commençant par une minuscule prolonge l'élément "
                 "précédent. Pistes d'action : les intertitres (« 1 - Fluidifier le parcours "
                 "santé / Social ») restent des éléments ; indicateurs : l'intertitre est "
                 "préfixé aux sous-éléments. Textes (justification, contenu, modalités) : un "
                 "élément par ligne.",
        codes=[]),
    Decision(
        id="D15", sujet="Quartier prioritaire",
        constat="Le texte nomme le « quartier Est » (sous-quartiers Navigateurs, Lopofa - "
                "Anotera, Aviateurs, Tilleuls, Racine) sans donner son code QPV.",
        decision="quartiers = [« Quartier Est d'Orly »] ; le code QPV est à ajouter par la "
                 "Direction s'il doit apparaître.",
        codes=[]),
]


# ----------------------------------------------------------------------------------------------
# Text helpers
# ----------------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Lowercase, accents and punctuation removed: the key for 'same words' comparisons."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def clean(text: str) -> str:
    """Strip leftover tags and collapse whitespace; typographic quotes and accents are kept."""
    text = re.sub(r"\^\{([^}]*)\}", r"\1", text)
    text = re.sub(r"<[^>]*>", " ", text).replace("’", "'")
    text = " ".join(text.split())
    for wrong, right in CORRECTIONS.items():
        text = text.replace(wrong, right)
    return text


def titre_propre(text: str) -> str:
    """Canonical title: no leading dash, no trailing dot, first letter uppercase."""
    text = clean(text).strip()
    text = re.sub(r"^[-–]\s*", "", text).rstrip(" .")
    return text[:1].upper() + text[1:]


def meme_titre(a: str, b: str) -> bool:
    return fold(a) == fold(b)


# ----------------------------------------------------------------------------------------------
# Cell tokens: HTML cell -> items / texts / markers
# ----------------------------------------------------------------------------------------------

@dataclass
class Token:
    kind: str  # "text" (paragraph), "item" (list element), "hr"
    text: str = ""
    level: int = 0  # 0 paragraph, 1 •, 2 →, 3 ▪


BULLETS = {"•": 1, "→": 2, "▪": 3}
STOP = {"le", "la", "les", "de", "du", "des", "d'", "l'", "à", "au", "aux", "en", "et", "ou",
        "par", "pour", "sur", "avec", "dans", "un", "une", "son", "sa", "ses", "leur", "leurs",
        "ce", "cette", "ces", "entre", "vers", "chez", ":", "-", "–", "/", "+", "="}
PROPRES = {"Orly", "Orlysiens", "Orlysiennes", "Orlyziens", "État", "Ville", "Europe",
           "France", "Paris", "Île-de-France", "Seine", "Bièvre", "Valophis"}
FINS_DE_NOM = {"Bièvre", "Seine-Bièvre", "Paris"}  # proper nouns that end a partner's name
ROLES = {"Facilitateur", "Coordonnateur", "Coordinateur", "Informateur", "Opérateur",
         "Médiateur", "Animateur"}


def _is_acronym(word: str) -> bool:
    core = word.strip("*,.;:()")
    return len(core) > 1 and core.isupper()


def _starts_item(prev: str, word: str, nxt: str, depth: int) -> bool:
    """Whether a capitalised word opens a new element of a list that lost its bullets."""
    if prev in ROLES and word in ROLES:
        return True
    if depth or not word[:1].isupper() or _is_acronym(word) or word.rstrip(",.;:") in PROPRES:
        return False
    if nxt[:1].isupper():
        return False  # multi-word proper noun (« Paul Éluard », « Grand Orly »)
    if prev.endswith((",", ":", "'")) or prev.lower() in STOP:
        return False
    return (prev[:1].islower() or prev.endswith((")", ".")) or prev in FINS_DE_NOM
            or _is_acronym(prev))


def split_runon(text: str) -> list[str]:
    """Split a list whose bullets were lost: a new element starts with a capitalised word
    right after a lowercase word that is not an article or a preposition (decision D14)."""
    words = text.split(" ")
    parts: list[list[str]] = [[]]
    depth = 0
    for i, word in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if i and parts[-1] and _starts_item(prev, word, nxt, depth):
            parts.append([])
        parts[-1].append(word)
        depth = max(0, depth + word.count("(") - word.count(")"))
    return [" ".join(p).strip() for p in parts if " ".join(p).strip()]


def tokens_of(cell: str) -> list[Token]:
    """Turn one table cell into paragraphs and list items (levels from the bullet glyph)."""
    cell = re.sub(r"\^\{([^}]*)\}", r"\1", cell)
    cell = re.sub(r"</?u>|<input[^>]*>|</p>", " ", cell)
    out: list[Token] = []
    context = "text"
    for piece in re.split(r"(<p>|<ul[^>]*>|<ol[^>]*>|<hr/>)", cell):
        if piece == "<p>":
            context = "text"
        elif piece.startswith("<ul"):
            context = "ul"
        elif piece.startswith("<ol"):
            context = "ol"
        elif piece == "<hr/>":
            out.append(Token("hr"))
        elif piece.strip():
            out.extend(_tokens_in(piece, context))
    return [t for t in out if t.kind == "hr" or clean(t.text)]


def _tokens_in(piece: str, context: str) -> list[Token]:
    chunks = re.split(r"([•→▪])", piece)
    out: list[Token] = []
    head = clean(chunks[0])
    if head:
        if context == "text":
            out.append(Token("text", head))
        elif context == "ol":
            out += [Token("item", clean(p), 1)
                    for p in re.split(r"(?:^|\s)(?=\d+\.\s)", head) if clean(p)]
        else:
            out += [Token("item", p, 1) for p in split_runon(head)]
    for glyph, body in zip(chunks[1::2], chunks[2::2], strict=True):
        if clean(body):
            out.append(Token("item", clean(body), BULLETS[glyph]))
    return out


# ----------------------------------------------------------------------------------------------
# Fiches
# ----------------------------------------------------------------------------------------------

RE_OO = re.compile(r"^([ABCT])\s?(\d)\s?(\d)\s?(\d)\s*[-–]?\s*Objectif opérationnel\s*:?\s*(.*)$")
RE_OS = re.compile(r"^([ABCT])\s?(\d)\s?(\d)\s*[-–]?\s*Objectif stratégique\s*:?\s*(.*)$")
RE_ORIENT = re.compile(r"^([ABCT])(\d)\s*[-–]?\s*(?:Orientation stratégique\s*:?\s*)?(.+)$")
RE_PILIER = re.compile(r"^([ABCT])\s*[-–]\s*PILIER\s+(.*)$", re.IGNORECASE)
RE_SECTION = re.compile(r"^\d+(\.\d+)*\.\s+\S")
RE_SEPARATEUR = re.compile(r"^-+\t-+\s*$")


@dataclass
class Row:
    field: str | None  # None = continuation of the previous row
    label: str
    cells: list[str]
    line: int
    mode: str | None = None  # indicator type announced by the label


@dataclass
class FicheBrute:
    code: str
    titre: str
    line: int
    os_code: str | None = None
    os_titre: str | None = None
    or_code: str | None = None
    or_titre: str | None = None
    pilier: str | None = None
    rows: list[Row] = field(default_factory=list)


def classify_label(label: str) -> tuple[str | None, str | None]:
    """Map a row label (with or without template instructions) to a fiche field."""
    key = fold(clean(label))
    if not key:
        return None, None
    if key.startswith("un impact est"):
        return None, None  # template sentence whose value continues the indicator row
    rules = [
        ("referent" in key, "referents", None),
        (key.startswith("role de la ville"), "role_ville", None),
        (key.startswith("chef de file"), "chef_de_file", None),
        (key.startswith("justification"), "justification", None),
        (key.startswith("contenu"), "contenu", None),
        (key.startswith("actions") or "pistes d" in key, "pistes_action", None),
        ("partenariat" in key, "partenariats", None),
        ("modalites" in key, "modalites", None),
        ("indicateurs de suivi" in key, "indicateurs", "impact" if "impact" in key else None),
        (key.startswith("indicateurs de resultat"), "indicateurs", "resultat"),
    ]
    for ok, name, mode in rules:
        if ok:
            return name, mode
    raise ValueError(f"intitulé de ligne de fiche inconnu : {label!r}")


def find_fiches(lines: list[str]) -> list[FicheBrute]:
    """Locate each fiche by its 'Objectif opérationnel' header and read its header block."""
    fiches: list[FicheBrute] = []
    for i, raw in enumerate(lines):
        m = RE_OO.match(raw.strip())
        if not m:
            continue
        fiche = FicheBrute("".join(m.group(1, 2, 3, 4)), titre_propre(m.group(5)), i + 1)
        for above in reversed(lines[max(0, i - 8):i]):
            text = above.strip()
            if not text:
                continue
            if not _is_header(above):
                break
            if ms := RE_OS.match(text):
                fiche.os_code, fiche.os_titre = "".join(ms.group(1, 2, 3)), ms.group(4)
            elif mp := RE_PILIER.match(text):
                fiche.pilier = mp.group(1)
                break
            elif mo := RE_ORIENT.match(text):
                fiche.or_code, fiche.or_titre = "".join(mo.group(1, 2)), mo.group(3)
        fiches.append(fiche)
    return fiches


def _is_header(line: str) -> bool:
    """Pilier / orientation / objectif header line (never a two-cell table row)."""
    text = line.strip()
    if "\t" in text:
        return False
    return bool(RE_PILIER.match(text) or RE_OS.match(text) or RE_OO.match(text)
                or (re.match(r"^[ABCT]\d(\s|$)", text) and RE_ORIENT.match(text)))


def read_rows(lines: list[str], fiches: list[FicheBrute]) -> None:
    """Attach each fiche's table rows: from its header to the next header block or section."""
    for fiche in fiches:
        rows: list[Row] = []
        free: list[str] = []
        free_line = 0
        for n in range(fiche.line, len(lines)):
            raw = lines[n]
            text = raw.strip()
            if RE_SECTION.match(text) or text.startswith("Gouvernance et modalités"):
                break
            if _is_header(raw):
                break
            if not text or RE_SEPARATEUR.match(raw):
                continue
            if "\t" not in raw:
                free_line = free_line if free else n + 1
                free.append(text)
                continue
            if free:
                rows.append(_free_row(free, free_line))
                free = []
            label, *cells = raw.split("\t")
            name, mode = classify_label(label)
            if name is None and label.strip() == "":
                name = None
            start = clean(" ".join(cells))
            for (code, prefix), target in RELABEL.items():
                if code == fiche.code and start.startswith(prefix):
                    name = target
            rows.append(Row(name, label, [c for c in cells if c.strip()], n + 1, mode))
        if free:
            rows.append(_free_row(free, free_line))
        fiche.rows = rows


def _free_row(free: list[str], line: int) -> Row:
    """Untabbed lines after a fiche's last row ('Indicateurs :' then '- item' lines)."""
    html = " ".join(("• " + t[1:].strip()) if t.startswith("-") else f"<p>{t}</p>" for t in free)
    html = html.replace("</p> •", "</p> <ul> •", 1)
    return Row(None, "", [html], line)


# ----------------------------------------------------------------------------------------------
# Fields of one fiche
# ----------------------------------------------------------------------------------------------

def group_rows(fiche: FicheBrute) -> dict[str, list[Row]]:
    """Rows per field; continuation rows (empty label) join the previous field."""
    groups: dict[str, list[Row]] = {}
    current: str | None = None
    for row in fiche.rows:
        if row.field is not None:
            current = row.field
        if current is None:
            raise ValueError(f"{fiche.code} : ligne {row.line} sans champ")
        groups.setdefault(current, []).append(row)
    return groups


def row_tokens(rows: list[Row]) -> list[Token]:
    """Tokens of several rows; a row starting with a lowercase word continues the last token."""
    out: list[Token] = []
    for row in rows:
        toks = [t for c in row.cells if not _sublabel(c) for t in tokens_of(c)]
        continues = toks and toks[0].kind != "hr" and toks[0].text[:1].islower()
        if continues and out and row.field is None:
            out[-1].text = f"{out[-1].text} {toks.pop(0).text}"
        out += toks
    return out


def _sublabel(cell: str) -> str | None:
    key = fold(cell)
    if key in {"impact s", "impacts", "impact"}:
        return "impact"
    if key in {"indicateur s", "indicateurs s", "indicateurs"}:
        return "resultat"
    return None


def as_items(tokens: list[Token]) -> list[str]:
    """List field: one entry per paragraph or bullet; headings kept as entries (no colon)."""
    seen: set[str] = set()
    out = []
    for t in tokens:
        if t.kind == "hr":
            continue
        text = t.text.rstrip(" :,;").strip()
        if fold(text) in {"actions"}:
            continue  # bare « Actions : » heading of A211
        if text and fold(text) not in seen:
            seen.add(fold(text))
            out.append(text)
    return out


def as_text(tokens: list[Token]) -> str:
    return "\n".join(as_items(tokens))


def partenariats(tokens: list[Token]) -> list[str]:
    """Partners list; a run-on cell with several ' – ' separators is clearly a list."""
    out: list[str] = []
    for item in as_items(tokens):
        parts = item.split(" – ") if item.count(" – ") >= 3 else [item]
        parts = [q for part in parts for q in re.split(r"(?<=[a-z])\. (?=[A-Z]{2})", part)]
        out += [p.strip(" -") for part in parts
                for p in re.split(r"(?<=[a-zéè])- (?=[A-ZÉÈÎ])", part) if p.strip(" -")]
    seen: set[str] = set()
    return [p for p in out if not (fold(p) in seen or seen.add(fold(p)))]


def chef_de_file(rows: list[Row]) -> str | None:
    """Short answer: the label suffix ('Chef de file : État') when given, then the cell."""
    suffix = ""
    m = re.match(r"\s*(?:<p>)?\s*Chef de file\s*:?\s*(.*)", clean(rows[0].label), re.IGNORECASE)
    if m and not fold(m.group(1)).startswith("preciser"):
        suffix = m.group(1).strip()
    value = " ; ".join(as_items(row_tokens(rows)))
    parts = [p for p in (suffix, value) if p]
    return " — ".join(parts) or None


RE_IMPACT = re.compile(r"^(?:les\s+)?«?\s*impacts?\s*»?(?:\s+attendus?)?\s*:\s*(.*)$", re.I)
RE_INDIC = re.compile(r"^indicateurs?(?:\(s\))?(\s+de\s+suivi)?\s*:\s*(.*)$", re.I)
RE_TEMPLATE = re.compile(r"^par ex\. baisser le taux d'échec scolaire$|^Action \d+$")


@dataclass
class Entry:
    text: str
    kind: str
    mode: str | None
    level: int


def indicateurs(rows: list[Row]) -> list[Indicateur]:
    """Indicators of one fiche, typed by the markers of the cells (decision D11)."""
    entries: list[Entry] = []
    carry: str | None = None  # a row holding only a marker ('Indicateurs :') types the next
    for row in rows:
        mode = row.mode or carry
        before = len(entries)
        for cell in row.cells:
            if sub := _sublabel(cell):
                mode = sub
                continue
            for tok in _split_markers(tokens_of(cell)):
                mode = _consume(tok, mode, entries, row, first=len(entries) == before)
        carry = mode if len(entries) == before else None
    resolved = _resolve(entries)
    return _with_headings(resolved)


def _split_markers(tokens: list[Token]) -> list[Token]:
    """'… orlysiennes Indicateurs : …' inside one paragraph: cut before the marker."""
    out = []
    for tok in tokens:
        parts = re.split(r"\s+(?=(?:Indicateurs?|Impacts?(?:\s+attendus?)?)\s*:)", tok.text)
        out += [Token(tok.kind, p, tok.level) for p in parts] if tok.kind != "hr" else [tok]
    return out


def _consume(tok: Token, mode: str | None, entries: list[Entry], row: Row,
             first: bool) -> str | None:
    """Append one token as an indicator entry; return the type now in force."""
    if tok.kind == "hr":
        return "resultat"
    text = tok.text
    if m := RE_IMPACT.match(text):
        mode, text = "impact", m.group(1)
    elif m := RE_INDIC.match(text):
        mode, text = ("suivi" if m.group(1) else "resultat"), m.group(2)
    text = text.strip()
    if not text or RE_TEMPLATE.match(text):
        return mode
    if (first and entries and row.field is None and text[:1].islower() and tok.level <= 1
            and entries[-1].text[-1:] not in ".:" and not entries[-1].text.endswith(" :")):
        entries[-1].text += " " + text
        return mode
    entries.append(Entry(text, tok.kind, mode, tok.level))
    return mode


def _resolve(entries: list[Entry]) -> list[Entry]:
    for i, e in enumerate(entries):
        if e.mode is not None:
            continue
        later = any(x.mode in ("resultat", "suivi") for x in entries[i + 1:])
        if later or e.kind == "text":
            e.mode = "impact"
        elif any(x.mode == "impact" and x.kind == "text" for x in entries[:i]):
            e.mode = "resultat"
        else:
            e.mode = "suivi"
    return entries


def _with_headings(entries: list[Entry]) -> list[Indicateur]:
    """A heading (ends with ':') is prefixed to the deeper items that follow it."""
    out: list[Indicateur] = []
    stack: list[tuple[int, str]] = []
    for i, e in enumerate(entries):
        while stack and stack[-1][0] >= e.level:
            stack.pop()
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        text = e.text
        if text.endswith(":") and nxt is not None and nxt.level > e.level:
            *before, head = re.split(r"(?<=\.)\s+", text)
            out += [_indicateur(" ".join(p for _, p in stack) + " " + b, e.mode) for b in before]
            stack.append((e.level, head))
            continue
        out.append(_indicateur(" ".join([p for _, p in stack] + [text]), e.mode))
    seen: set[tuple[str, str]] = set()
    return [x for x in out if not ((fold(x.libelle), x.type) in seen
                                   or seen.add((fold(x.libelle), x.type)))]


def _indicateur(text: str, mode: str | None) -> Indicateur:
    text = text.strip().rstrip(",;").strip()
    cible = None
    if m := re.search(r"\(?\s*valeur cible\s*=\s*([^)]*)\)?", text):
        cible = m.group(1).strip()
        text = (text[:m.start()] + text[m.end():]).strip()
    elif m := re.search(r"\bla moitié\b.*$|\b\d+(?:[.,]\d+)?\s?%.*$", text):
        cible = m.group(0).strip()
    return Indicateur(libelle=text, type=mode or "suivi", valeur_cible=cible)


def build_oo(fiche: FicheBrute) -> ObjectifOperationnel:
    """All fields of one fiche (référents are set later from Annexe 4)."""
    g = group_rows(fiche)
    dup = [f for f, rows in g.items() if sum(r.field == f for r in rows) > 1
           and f != "indicateurs"]
    if dup:
        raise ValueError(f"{fiche.code} : lignes en double {dup}")
    toks = {f: row_tokens(rows) for f, rows in g.items() if f != "indicateurs"}
    ind = indicateurs(g.get("indicateurs", []))
    if not ind:
        if fiche.code not in SANS_INDICATEUR:
            raise ValueError(f"{fiche.code} : aucun indicateur")
        ind = [Indicateur(libelle=INDICATEUR_GENERIQUE, type="suivi")]
    elif fiche.code in SANS_INDICATEUR:
        raise ValueError(f"{fiche.code} a maintenant des indicateurs : revoir D12")
    return ObjectifOperationnel(
        code=fiche.code,
        titre=fiche.titre,
        objectif_strategique=fiche.code[:3],
        chef_de_file=chef_de_file(g["chef_de_file"]) if "chef_de_file" in g else None,
        role_ville=as_items(toks.get("role_ville", [])),
        justification=as_text(toks.get("justification", [])),
        contenu=as_text(toks.get("contenu", [])),
        pistes_action=as_items(toks.get("pistes_action", [])),
        partenariats=partenariats(toks.get("partenariats", [])),
        modalites=as_text(toks.get("modalites", [])),
        indicateurs=ind,
    )


def fiche_referents(fiche: FicheBrute, index: dict[str, str]) -> list[str]:
    """Directory ids named by the fiche's référent row (cross-check only, decision D02)."""
    rows = group_rows(fiche).get("referents", [])
    return [rid for t in row_tokens(rows) for rid in split_referents(t.text, index)]


# ----------------------------------------------------------------------------------------------
# Annexe 4
# ----------------------------------------------------------------------------------------------

RE_A4 = re.compile(r"^([ABCT])\s?(\d?)\s?(\d?)\s?(\d?)\s*-\s*(.*)$")


def parse_annexe4(lines: list[str]) -> dict[str, tuple[str, str]]:
    """code -> (titre, raw référent cell) for every line of the référents table."""
    start = max(i for i, line in enumerate(lines) if line.startswith("4. Annexe 4"))  # not TOC
    table: dict[str, tuple[str, str]] = {}
    for raw in lines[start + 1:]:
        if not raw.strip():
            continue
        if "\t" not in raw:
            break
        left, cell = raw.split("\t", 1)
        m = RE_A4.match(left.strip())
        if not m:
            raise ValueError(f"ligne d'annexe 4 illisible : {raw!r}")
        code = "".join(m.group(1, 2, 3, 4))
        cell = cell.strip()
        if cell == "Directions et services référents":
            cell = ""  # column header on the pilier A line (decision D06)
        table[code] = (m.group(5).strip(), cell)
    return table


# ----------------------------------------------------------------------------------------------
# Directory
# ----------------------------------------------------------------------------------------------

def build_index() -> dict[str, str]:
    """Exact seed spelling -> id; a spelling claimed by two entries is an error."""
    index: dict[str, str] = {}
    for rid, (_, _, variantes) in DIRECTORY.items():
        for v in variantes:
            if v in index:
                raise ValueError(f"graphie {v!r} absorbée par {index[v]} et {rid}")
            index[v] = rid
    return index


def split_referents(cell: str, index: dict[str, str]) -> list[str]:
    """Cut a cell into known spellings separated by spaces (longest match); fail otherwise."""
    cell = " ".join(cell.split())
    out: list[str] = []
    pos = 0
    spellings = sorted(index, key=len, reverse=True)
    while pos < len(cell):
        hit = next((s for s in spellings if cell.startswith(s, pos)
                    and (pos + len(s) == len(cell) or cell[pos + len(s)] == " ")), None)
        if hit is None:
            raise ValueError(f"graphie de référent inconnue : {cell[pos:]!r} (dans {cell!r})")
        out.append(index[hit])
        pos += len(hit) + 1
    return list(dict.fromkeys(out))


def directory_entries(used: set[str]) -> list[Referent]:
    return [Referent(id=rid, libelle=lib, direction=direc, variantes=sorted(var))
            for rid, (lib, direc, var) in sorted(DIRECTORY.items()) if rid in used]


# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------

def canonical(titles: list[str]) -> str:
    """Most frequent cleaned title (first seen on ties)."""
    cleaned = [titre_propre(t) for t in titles if t]
    counts = Counter(cleaned)
    return max(cleaned, key=lambda t: (counts[t], -cleaned.index(t)))


def build(seed: Path) -> Referentiel:
    lines = seed.read_text(encoding="utf-8").split("\n")
    if ANNONCE_ORIENTATIONS not in "\n".join(lines):
        raise ValueError("l'annonce « 8 orientations » a disparu : revoir D01")
    index = build_index()
    fiches = find_fiches(lines)
    read_rows(lines, fiches)
    annexe = parse_annexe4(lines)
    met: set[str] = set()

    def people(code: str) -> list[str]:
        cell = annexe[code][1] if code in annexe else ""
        ids = split_referents(cell, index) if cell else []
        met.update(v for v in index if v in cell)
        return ids

    oos = []
    for fiche in fiches:
        oo = build_oo(fiche)
        oo.referents = people(fiche.code)
        a4_titre = titre_propre(annexe[fiche.code][0])
        if not meme_titre(a4_titre, oo.titre):
            oo.titre_annexe4 = a4_titre
        from_fiche = fiche_referents(fiche, index)
        for row in group_rows(fiche).get("referents", []):
            met.update(v for v in index if v in clean(" ".join(row.cells)))
        if from_fiche and from_fiche != oo.referents:
            raise ValueError(f"{fiche.code} : référents fiche {from_fiche} ≠ annexe 4 "
                             f"{oo.referents} (décider puis documenter)")
        oos.append(oo)

    strategiques = _level(fiches, annexe, "os", people)
    orientations = _level(fiches, annexe, "or", people)
    piliers = [Pilier(code=p, titre=PILIERS_TITRES[p], responsables=people(p))
               for p in sorted({f.code[0] for f in fiches})]
    _apply_heritages(piliers, orientations, strategiques)
    unused = set(index) - met
    if unused:
        raise ValueError(f"graphies de l'annuaire jamais rencontrées : {sorted(unused)}")
    used = {r for lvl in (piliers, orientations, strategiques, oos)
            for item in lvl for r in _people_of(item)}
    if used != set(DIRECTORY):
        raise ValueError(f"entrées d'annuaire sans rôle : {sorted(set(DIRECTORY) - used)}")
    ref = Referentiel(contrat=CONTRAT, piliers=piliers, orientations=orientations,
                      objectifs_strategiques=strategiques, objectifs_operationnels=oos,
                      referents=directory_entries(used), decisions=DECISIONS)
    return Referentiel.model_validate(ref.model_dump())


def _level(fiches, annexe, kind, people):
    """Orientations ('or') or objectifs stratégiques ('os') from the fiche headers."""
    titles: dict[str, list[str]] = {}
    for f in fiches:
        code = f.code[:3] if kind == "os" else f.code[:2]
        header_code = f.os_code if kind == "os" else f.or_code
        if header_code is not None and header_code != code:
            raise ValueError(f"{f.code} : en-tête {header_code} incohérent")
        titles.setdefault(code, []).append((f.os_titre if kind == "os" else f.or_titre) or "")
    out = []
    for code in sorted(titles):
        fiche_titles = [t for t in titles[code] if t]
        a4 = titre_propre(annexe[code][0])
        titre = canonical(fiche_titles) if fiche_titles else a4
        if titre.isupper():
            titre = a4  # T1 is written in capitals in the fiches (D13)
        extra = {"titre_annexe4": None if meme_titre(a4, titre) else a4}
        if kind == "os":
            out.append(ObjectifStrategique(code=code, titre=titre, orientation=code[:2],
                                           pilotes=people(code), **extra))
        else:
            out.append(Orientation(code=code, titre=titre, pilier=code[0],
                                   coordonnateurs=people(code), **extra))
    return out


def _apply_heritages(piliers, orientations, strategiques) -> None:
    """Fill the Annexe 4 gaps from the level above (D05, D06); fail if a gap moved."""
    by_code = {x.code: x for x in (*piliers, *orientations, *strategiques)}
    for code, (attr, source) in HERITAGES.items():
        if getattr(by_code[code], attr):
            raise ValueError(f"{code} a maintenant un {attr} dans l'annexe 4 : revoir D05")
        setattr(by_code[code], attr, list(_people_of(by_code[source])))
    if by_code["A"].responsables:
        raise ValueError("le pilier A a maintenant un responsable : revoir D06")
    by_code["A"].responsables = [RESPONSABLE_A]
    if RESPONSABLE_A not in by_code["A1"].coordonnateurs:
        raise ValueError("la Direction politique de la ville ne coordonne plus A1 : revoir D06")
    empty = [x.code for x in by_code.values() if not _people_of(x)]
    if empty:
        raise ValueError(f"niveaux sans personne : {empty}")


def _people_of(item) -> list[str]:
    for attr in ("responsables", "coordonnateurs", "pilotes", "referents"):
        if hasattr(item, attr):
            return getattr(item, attr)
    return []


def write(ref: Referentiel, sortie: Path) -> None:
    data = ref.model_dump(mode="json")
    sortie.parent.mkdir(parents=True, exist_ok=True)
    sortie.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=Path, help="texte source (seed)")
    parser.add_argument("--sortie", type=Path, default=SORTIE_DEFAUT)
    args = parser.parse_args(argv)
    ref = build(args.seed)
    write(ref, args.sortie)
    print(f"{args.sortie} : {len(ref.piliers)} piliers, {len(ref.orientations)} orientations, "
          f"{len(ref.objectifs_strategiques)} objectifs stratégiques, "
          f"{len(ref.objectifs_operationnels)} objectifs opérationnels, "
          f"{len(ref.referents)} référents, {len(ref.decisions)} décisions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
