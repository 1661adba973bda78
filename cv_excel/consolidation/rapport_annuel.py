"""The draft of the rapport annuel « politique de la ville » (décret n° 2015-1118).

The décret n° 2015-1118 du 3 septembre 2015 (JORF du 5 septembre 2015), « relatif au
rapport sur la mise en œuvre de la politique de la ville prévu aux articles L. 1111-2 et
L. 1811-2 du code général des collectivités territoriales », says what the yearly report
of the communes and EPCI signatory of a contrat de ville contains. What could be read of
it (summaries of the décret in the specialised press, not the Légifrance text itself):

- it recalls the main orientations of the contrat de ville and the projet de territoire
  behind it;
- it presents how the situation of the quartiers prioritaires evolved, against the
  objectives of the politique de la ville (article 1er of the loi du 21 février 2014)
  and the contract's own objectives;
- it traces the actions led for the inhabitants of the quartiers prioritaires in the
  past year by the EPCI and the communes (the other signatories may present theirs);
- it sets the perspectives in the light of the results and the means mobilised, and
  the improvements needed, including the strengthening of droit commun, the
  coordination of actors, the participation of the inhabitants, the evaluation;
- where a signatory commune received the dotation de solidarité urbaine et de cohésion
  sociale, it specifies the actions of développement social urbain on its territory;
- the draft is submitted for opinion to the conseils municipaux and to the conseils
  citoyens of each quartier (at least one month; no answer reads as a favourable
  opinion); their contributions are annexed; the final report is made public.

:func:`write_rapport_annuel` writes that draft from the store's year: one sheet per
part, what the data cannot say left plainly « à compléter », never an invented
figure. Texts typed by porteurs and référents go through ``set_text`` (never a
formula); every figure is a value.
"""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from cv_excel.config import Quartier
from cv_excel.consolidation.contexte import (
    COLONNES,
    CONTEXTE_FILE,
    IndicateursContexte,
    tableau_par_territoire,
)
from cv_excel.consolidation.mise_en_page import height_for, line_count, rag_style
from cv_excel.consolidation.reporting import (
    DATE,
    DISPOSITIF_NON_PRECISE,
    ENTIER,
    EUROS,
    FICTIF,
    NON_RATTACHE,
    POURCENT,
    ZERO,
    Financements,
    PublicsTouches,
    fit_height,
    new_workbook,
    objectif_label,
    pilier_label,
    printable,
    put,
    table,
    title,
)
from cv_excel.listes import DISPOSITIFS_DEPARTEMENT, DISPOSITIFS_ETAT, FINANCEURS, STATUTS_RAG
from cv_excel.referentiel.models import Referentiel
from cv_excel.spill import SpilledList
from cv_excel.store.models import Cellule, DonneesAnnee, par_numero
from cv_excel.text import clean_value
from cv_excel.xlsxio import save_workbook_atomic

A_COMPLETER = "À compléter"
NON_RENSEIGNEE = "Non renseignée"
AUCUN_DISPOSITIF_ETAT = "Aucun dispositif de l'État"
_WARN = Font(bold=True, color="C00000")
_NOTE = Font(italic=True, color="595959")
_BOLD = Font(bold=True)

SHEETS = ("Projet", "Orientations", "Financements par pilier", "Par dispositif", "Actions",
          "Publics touchés", "Droit commun (à compléter)", "Indicateurs de contexte",
          "Perspectives", "Actions correctrices")


def write_rapport_annuel(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                         contexte: IndicateursContexte, quartiers: Sequence[Quartier],
                         demonstration: bool = False) -> Path:
    """The draft workbook « Rapport annuel <année> (projet) »: see the module's docstring.

    ``contexte``: the indicateurs de contexte read from ``indicateurs_contexte.csv``
    (shown per territory, never summed); ``quartiers``: the ``[territoire]`` section.
    """
    wb = new_workbook()
    sheets = {name: wb.create_sheet(name) for name in SHEETS}
    _cover(sheets["Projet"], donnees, ref, contexte, demonstration)
    _orientations(sheets["Orientations"], donnees, ref)
    piliers = _pilier_names(ref, donnees.cellules())  # three sheets
    _financements(sheets["Financements par pilier"], donnees, ref, piliers)
    _dispositifs(sheets["Par dispositif"], donnees, ref)
    perspectives = _actions(sheets["Actions"], donnees, ref)  # one pass for two sheets
    _publics(sheets["Publics touchés"], donnees, ref, piliers)
    _droit_commun(sheets["Droit commun (à compléter)"], donnees, ref)
    _contexte(sheets["Indicateurs de contexte"], contexte, quartiers, ref)
    _perspectives(sheets["Perspectives"], donnees, ref, piliers, perspectives)
    _actions_correctrices(sheets["Actions correctrices"], donnees, ref)
    return save_workbook_atomic(wb, path)


# --- helpers ---------------------------------------------------------------------------------
def _fit_rows(ws: Worksheet, first: int, last: int, widths: Sequence[float]) -> None:
    for row in range(first, last + 1):
        values = [ws.cell(row=row, column=c).value or "" for c in range(1, len(widths) + 1)]
        fit_height(ws, row, values, widths)


def _note(ws: Worksheet, row: int, text: str, font: Font = _NOTE) -> int:
    put(ws, row, 1, text).font = font
    return row + 1


def _pourcent(part: int, total: int) -> str:
    return f"{100 * part / total:.0f} %".replace(".", ",") if total else "0 %"


def _pilier_names(ref: Referentiel, cells: Sequence[Cellule]) -> list[str]:
    names = [f"{p.code} — {p.titre}" for p in ref.piliers]
    if any(pilier_label(ref, c.objectif_operationnel) == NON_RATTACHE for c in cells):
        names.append(NON_RATTACHE)
    return names


def _orientation_code(ref: Referentiel, code_oo: str) -> str | None:
    try:
        oo = ref.objectif(code_oo)
        return next(s.orientation for s in ref.objectifs_strategiques
                    if s.code == oo.objectif_strategique)
    except StopIteration:
        return None


def _money_columns() -> list[tuple[str, float, str | None]]:
    return [*[(f.libelle, 14, EUROS) for f in FINANCEURS], ("Total accordé", 15, EUROS)]


# --- Projet (cover) --------------------------------------------------------------------------
def _cover(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
           contexte: IndicateursContexte, demonstration: bool) -> None:
    annee = donnees.annee
    n = sum(c.actions for c in donnees.cellules())
    b = sum(c.bilans for c in donnees.cellules())
    title(ws, f"Rapport annuel {annee} sur la mise en œuvre de la politique de la ville — "
          "PROJET", f"{ref.contrat.libelle} — {ref.contrat.territoire}")
    built = donnees.construit_le or dt.datetime.now().astimezone()
    row = _note(ws, 3, f"Projet de travail produit par cv_excel le {built:%d/%m/%Y} à partir "
                "des données enregistrées : ce n'est pas le rapport. Il rassemble les chiffres "
                "et les textes disponibles ; la Direction le relit, rédige et complète les "
                f"parties marquées « {A_COMPLETER} ».", _WARN)
    if demonstration:
        row = _note(ws, row, f"{FICTIF} : dossier de démonstration, porteurs, actions, bilans "
                    "et indicateurs de contexte inventés.", _WARN)
    row += 1
    put(ws, row, 1, "Ce que le rapport contient (décret n° 2015-1118 du 3 septembre 2015) et "
        "où ce projet y répond").font = _BOLD
    values = len(contexte.valeurs)
    rows = [
        ["rappelle les principales orientations du contrat de ville et le projet de territoire "
         "qui a déterminé son élaboration",
         "« Orientations » : les orientations et objectifs stratégiques du référentiel, avec "
         f"les actions {annee}.", "Projet de territoire : à rédiger."],
        ["présente l'évolution de la situation dans les quartiers prioritaires au regard des "
         "objectifs de la politique de la ville (article 1er de la loi du 21 février 2014) "
         "et des objectifs particuliers du contrat",
         f"« Indicateurs de contexte » : le fichier {CONTEXTE_FILE} de la Direction, par "
         "territoire (jamais additionnés).",
         f"{values} valeur(s) lue(s)." if values else f"{A_COMPLETER} : aucun indicateur."],
        ["retrace les actions menées au bénéfice des habitants des quartiers prioritaires au "
         "titre de l'année écoulée (la commune et l'EPT ; les autres signataires peuvent "
         "présenter les leurs)",
         "« Financements par pilier », « Par dispositif », « Actions », « Publics touchés ».",
         f"{n} actions programmées ; {b} bilans acceptés sur {n} ({_pourcent(b, n)})."],
        ["détermine les perspectives au regard des résultats obtenus et des moyens mobilisés, "
         "et les améliorations nécessaires, y compris le renforcement du droit commun, la "
         "coordination des acteurs, la participation des habitants et l'évaluation",
         "« Perspectives » : synthèses et propositions des coordonnateurs (orientations) "
         "puis des pilotes (objectifs stratégiques), avec leur revue et leur feu tricolore, "
         "propositions des référents et perspectives des porteurs ; « Actions "
         "correctrices » : décisions des revues encore ouvertes ; « Droit commun (à "
         "compléter) ».",
         "Droit commun : aucune donnée recueillie, à compléter."],
        ["spécifie, si une commune signataire a reçu la dotation de solidarité urbaine et de "
         "cohésion sociale l'année écoulée, les actions de développement social urbain menées "
         "sur son territoire",
         "Aucune feuille : cv_excel ne suit pas la DSU.", f"{A_COMPLETER} le cas échéant."],
    ]
    widths = (60, 48, 34)
    top = row + 1
    last = table(ws, top, [("Le rapport…", widths[0], None), ("Dans ce projet", widths[1], None),
                           ("Où en est-on", widths[2], None)], rows, autofilter=False)
    _fit_rows(ws, top + 1, last, widths)
    ws.freeze_panes = None
    row = last + 2
    for text in (
        "Élaboration : le projet de rapport est soumis pour avis aux conseils municipaux et "
        "aux conseils citoyens de chaque quartier prioritaire (au moins un mois ; sans "
        "réponse, l'avis est réputé favorable). Leurs contributions sont annexées au projet ; "
        "le rapport définitif, annexes comprises, est rendu public.",
        "Source de ce rappel : le décret n° 2015-1118 tel que le résument la presse "
        "spécialisée et les associations d'élus ; vérifiez-en le texte sur Légifrance avant "
        "diffusion.",
        "Les montants sont les montants accordés de la programmation ; les personnes "
        "touchées viennent des seuls bilans acceptés ; rien n'est estimé pour les actions "
        "sans bilan.",
    ):
        put(ws, row, 1, text).font = _NOTE
        ws.merge_cells(start_row=row, end_row=row, start_column=1, end_column=3)
        fit_height(ws, row, [text], [sum(widths)])
        row += 1
    printable(ws, landscape=False)


# --- Orientations ----------------------------------------------------------------------------
def _orientations(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    annee = donnees.annee
    title(ws, "Rappel des orientations du contrat de ville",
          f"{ref.contrat.libelle} — piliers, orientations et objectifs stratégiques du "
          f"référentiel ; actions programmées en {annee} et montants accordés (euros).")
    by_orientation: dict[str | None, Financements] = {}
    total = Financements()
    for cell in donnees.cellules():  # counted by the database
        by_orientation.setdefault(_orientation_code(ref, cell.objectif_operationnel),
                                  Financements()).add_cellule(cell)
        total.add_cellule(cell)
    rows = []
    for o in ref.orientations:
        pilier = next(p for p in ref.piliers if p.code == o.pilier)
        acts = by_orientation.get(o.code, Financements())
        rows.append([f"{pilier.code} — {pilier.titre}", f"{o.code} — {o.titre}",
                     "\n".join(f"{s.code} — {s.titre}" for s in ref.strategiques_of(o.code)),
                     acts.actions, acts.total_accorde])
    if None in by_orientation:
        acts = by_orientation[None]
        rows.append([NON_RATTACHE, NON_RATTACHE, "", acts.actions, acts.total_accorde])
    columns = [("Pilier", 28, None), ("Orientation", 40, None),
               ("Objectifs stratégiques", 60, None), (f"Actions {annee}", 10, ENTIER),
               (f"Montant accordé {annee}", 15, EUROS)]
    last = table(ws, 4, columns, rows, autofilter=False,
                 total=["Total", None, None, total.actions, total.total_accorde])
    for r in range(5, last):
        text = str(ws.cell(row=r, column=3).value or "")
        lines = sum(max(1, -(-len(part) // 58)) for part in text.split("\n"))
        ws.row_dimensions[r].height = 15 * max(lines, 1) + 3
    printable(ws, 4)


# --- Financements ----------------------------------------------------------------------------
def _financements(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
                  piliers: list[str]) -> None:
    annee = donnees.annee
    title(ws, f"Actions et financements {annee} par pilier et par financeur",
          f"{ref.contrat.libelle} — toutes les actions programmées en {annee}, montants "
          "accordés (euros).")
    groups = {k: Financements() for k in piliers}
    total = Financements()
    for cell in donnees.cellules():
        groups[pilier_label(ref, cell.objectif_operationnel)].add_cellule(cell)
        total.add_cellule(cell)
    columns = [("Pilier", 40, None), ("Nombre d'actions", 10, ENTIER), *_money_columns()]
    rows = [[k, g.actions, *g.amounts()] for k, g in groups.items()]
    table(ws, 4, columns, rows, autofilter=False,
          total=["Total", total.actions, *total.amounts()])
    printable(ws, 4)


def _dispositifs(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    annee = donnees.annee
    title(ws, f"Actions et financements {annee} par dispositif",
          "Dispositifs de l'État (étiquettes de la programmation) et dispositifs du "
          "Département ; montants accordés (euros) par financeur.")
    _note(ws, 3, "Une action peut relever de plusieurs dispositifs de l'État : les lignes ne "
          "s'additionnent pas (pas de ligne de total). Les totaux par pilier sont dans « "
          "Financements par pilier ».")
    etat = {d: Financements() for d in (*DISPOSITIFS_ETAT, AUCUN_DISPOSITIF_ETAT)}
    dep = {d: Financements() for d in DISPOSITIFS_DEPARTEMENT}
    for cell in donnees.cellules():
        for tag in cell.dispositifs_etat or [AUCUN_DISPOSITIF_ETAT]:
            etat.setdefault(tag, Financements()).add_cellule(cell)
        if cell.departement_dispositif or cell.finance_departement:
            dep.setdefault(cell.departement_dispositif or DISPOSITIF_NON_PRECISE,
                           Financements()).add_cellule(cell)
    rows = [["État", d, g.actions, *g.amounts()] for d, g in etat.items()]
    rows += [["Département", d, g.actions, *g.amounts()] for d, g in dep.items()]
    columns = [("Dispositifs de", 12, None), ("Dispositif", 36, None),
               ("Nombre d'actions", 10, ENTIER), *_money_columns()]
    table(ws, 5, columns, rows)
    printable(ws, 5)


def _actions(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel
             ) -> SpilledList[list[Any]]:
    """The sheet « Actions »; returns the porteurs' perspectives (rows of
    :func:`_perspectives`, on disk, keyed by pilier), read in the same pass over the
    year."""
    annee = donnees.annee
    perspectives: SpilledList[list[Any]] = SpilledList(key=lambda row: row[0])
    title(ws, f"Actions programmées en {annee}",
          "Une ligne par action : pilier, objectif, dispositifs, quartier, réalisation "
          "d'après le bilan accepté, montant accordé (tous financeurs).")
    count = 0

    def rows() -> Iterator[list[Any]]:  # written as read, one action at a time
        nonlocal count
        for a in par_numero(donnees.actions):
            b, pilier = donnees.bilans.get(a.numero), pilier_label(ref, a.objectif_operationnel)
            count += 1
            yield [a.numero, a.porteur_raison_sociale, a.intitule, pilier,
                   objectif_label(ref, a.objectif_operationnel),
                   ", ".join(a.dispositifs_etat), a.departement_dispositif, a.code_qpv,
                   b.realisation if b else "Pas de bilan accepté", a.total_accorde]
            if b is not None and (b.perspectives or "").strip():
                perspectives.append([pilier, f"Action n° {a.numero} : {a.intitule}",
                                     f"{a.porteur_raison_sociale} (bilan du porteur)", None,
                                     b.realisation, None, b.perspectives])
    columns = [("N° d'action", 11, None), ("Porteur", 26, None),
               ("Intitulé de l'action", 36, None), ("Pilier", 24, None),
               ("Objectif opérationnel", 34, None), ("Dispositifs de l'État", 22, None),
               ("Dispositif départemental", 22, None), ("Code QPV", 16, None),
               ("Réalisation (bilan)", 16, None), ("Total accordé", 15, EUROS)]
    table(ws, 4, columns, rows(), as_text=True, total=lambda: [
        "Total", f"{count} actions", *[None] * 7,
        sum((sum(c.accorde.values(), ZERO) for c in donnees.cellules()), ZERO)])
    printable(ws, 4)
    perspectives.seal()
    return perspectives


# --- Publics touchés -------------------------------------------------------------------------
def _publics(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
             piliers: list[str]) -> None:
    groups = {k: PublicsTouches() for k in piliers}
    total = PublicsTouches()
    for cell in donnees.cellules():
        groups[pilier_label(ref, cell.objectif_operationnel)].add_cellule(cell)
        total.add_cellule(cell)
    title(ws, f"Personnes touchées en {donnees.annee}, par sexe et par pilier",
          "D'après les bilans acceptés des porteurs (bénéficiaires déclarés).")
    n, b = total.actions, total.bilans
    _note(ws, 3, f"Bilans reçus : {b} bilans acceptés sur {n} actions programmées "
          f"({_pourcent(b, n)}). Les personnes touchées par les {n - b} autres actions ne sont "
          "pas comptées ; une personne suivie par deux actions compte deux fois.", _WARN)
    columns = [("Pilier", 40, None), ("Nombre d'actions", 10, ENTIER),
               ("Bilans acceptés", 10, ENTIER), ("Part des actions avec bilan", 11, POURCENT),
               ("Bénéficiaires", 12, ENTIER), ("Femmes", 10, ENTIER), ("Hommes", 10, ENTIER),
               ("Non ventilé par sexe", 12, ENTIER), ("dont habitants des QPV", 12, ENTIER),
               ("Part des femmes (parmi les ventilés)", 14, POURCENT)]
    table(ws, 5, columns, [g.row(k, part_des_bilans=True) for k, g in groups.items()],
          total=total.row("Total", part_des_bilans=True),
          autofilter=False)
    printable(ws, 5)


# --- Droit commun ----------------------------------------------------------------------------
def _droit_commun(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    annee = donnees.annee
    title(ws, f"Droit commun mobilisé en {annee} — {A_COMPLETER.upper()}",
          "Aucune donnée de droit commun n'est encore recueillie par cv_excel : aucun "
          "chiffre n'est donné ici.")
    _note(ws, 3, "Point de départ : les financeurs du contrat autres que l'État au titre du "
          "BOP 147 et ce qu'ils ont accordé aux actions du contrat (crédits spécifiques, pour "
          "mémoire). Le droit commun mobilisé dans les quartiers (services, équipements, "
          "dispositifs ordinaires, y compris ceux de l'État hors BOP 147) est à compléter "
          "avec chaque partenaire.", _WARN)
    autres = [f for f in FINANCEURS if f.key != "etat"]
    nombre, montant = dict.fromkeys((f.key for f in autres), 0), {f.key: ZERO for f in autres}
    for cell in donnees.cellules():  # amounts accordés are never negative
        for f in autres:
            nombre[f.key] += cell.finances.get(f.key, 0)
            montant[f.key] += cell.accorde.get(f.key) or ZERO
    rows = [[f.libelle, nombre[f.key], montant[f.key], A_COMPLETER, A_COMPLETER]
            for f in autres]
    rows.append(["État (hors BOP 147)", None, None, A_COMPLETER, A_COMPLETER])
    columns = [("Financeur", 32, None),
               (f"Actions du contrat financées en {annee} (pour mémoire)", 14, ENTIER),
               (f"Accordé aux actions du contrat en {annee} (pour mémoire)", 16, EUROS),
               ("Droit commun mobilisé dans les quartiers (montant, moyens)", 30, None),
               ("Source et commentaire", 40, None)]
    table(ws, 5, columns, rows, autofilter=False)
    printable(ws, 5)


# --- Indicateurs de contexte -----------------------------------------------------------------
def _contexte(ws: Worksheet, contexte: IndicateursContexte, quartiers: Sequence[Quartier],
              ref: Referentiel) -> None:
    title(ws, "Indicateurs de contexte des quartiers",
          f"Fichier {CONTEXTE_FILE} du dossier de travail, rempli par la Direction : une "
          "colonne par territoire.")
    _note(ws, 3, "Les valeurs d'un quartier, de la commune et de l'EPT se recouvrent : elles "
          "sont présentées côte à côte et ne sont jamais additionnées.", _WARN)
    territoires, lines = tableau_par_territoire(contexte, quartiers)
    names = {q.code: f"{q.nom} ({q.code})" for q in quartiers}
    columns = [("Indicateur", 36, None), ("Unité", 12, None), ("Année", 8, None),
               *[(names.get(t, t), 16, None) for t in territoires],
               ("Source", 30, None)]
    rows: list[list[Any]] = [[ln.indicateur, ln.unite, ln.annee, *ln.valeurs, ln.sources]
                             for ln in lines]
    if not rows:
        rows = [[f"{A_COMPLETER} : aucun indicateur de contexte lu", None, None,
                 *[None] * len(territoires), None]]
    last = table(ws, 5, columns, rows, autofilter=bool(lines))
    row = last + 2
    if contexte.findings:
        put(ws, row, 1, f"Contrôle du fichier {CONTEXTE_FILE}").font = _BOLD
        findings = [[f.row, f.column, f.message, f.hint] for f in contexte.findings]
        widths = (8, 14, 60, 60)
        top = row + 1
        row = table(ws, top, [("Ligne", widths[0], None), ("Colonne", widths[1], None),
                              ("Constat", widths[2], None), ("Que faire", widths[3], None)],
                    findings, autofilter=False)
        _fit_rows(ws, top + 1, row, widths)
        ws.freeze_panes = ws.cell(row=6, column=1)
        row += 2
    put(ws, row, 1, f"Le fichier {CONTEXTE_FILE}").font = _BOLD
    docs = [
        "CSV, une ligne d'en-tête puis une ligne par indicateur, territoire et année ; "
        f"séparateur point-virgule (ou virgule) ; colonnes : {' ; '.join(COLONNES)}.",
        "indicateur : ce qui est mesuré (par exemple « Taux de chômage des 15-64 ans »).",
        "territoire : " + ", ".join(f"« {q.code} » ({q.nom})" for q in quartiers)
        + ", « commune » ou « EPT ».",
        "année : l'année de la donnée, sur quatre chiffres.",
        "valeur : le nombre seul (virgule décimale acceptée) ; unité : %, habitants, euros… ; "
        "source : INSEE, SIG ville, CAF…",
        "Une ligne fautive est ignorée et signalée ci-dessus ; le fichier est relu à chaque "
        "consolidation.",
    ]
    for text in docs:
        row += 1
        put(ws, row, 1, text).font = _NOTE
    printable(ws, 5)


# --- Perspectives ----------------------------------------------------------------------------
NIVEAU_LIBELLE = {"orientation": "Orientation (coordonnateur)",
                  "strategique": "Objectif stratégique (pilote)"}
_PERSPECTIVES_COLUMNS = (("Pilier", 22), ("Niveau et objet", 34), ("Auteur et revue", 24),
                         ("Feu tricolore", 9), ("Avancement", 12), ("Synthèse", 50),
                         ("Propositions et perspectives", 50))


def _personne(ref: Referentiel, person_id: str) -> str:
    try:
        return ref.referent(person_id).libelle
    except StopIteration:
        return person_id


def _revue_texte(revue: int | None) -> str:
    return "suivi annuel" if revue is None else f"revue {revue}"


def _syntheses_du_niveau(donnees: DonneesAnnee, niveau: str, code: str, titre: str,
                         pilier: str, attendus: Sequence[str], ref: Referentiel
                         ) -> list[list[Any]]:
    """One row per synthesis of the level (several authors: several rows), quoted as
    received, or one row saying it is « à compléter » and who was expected to write it."""
    objet = f"{NIVEAU_LIBELLE[niveau]} : {code} — {titre}"
    found = [x for x in donnees.syntheses.get(code, []) if x.niveau == niveau]
    if not found:
        qui = ", ".join(_personne(ref, p) for p in attendus) or "non désigné"
        role = "coordonnateur" if niveau == "orientation" else "pilote"
        return [[pilier, objet, f"Attendu : {qui}", None, None,
                 f"{A_COMPLETER} : aucune synthèse du {role} reçue.", A_COMPLETER]]
    return [[pilier, objet, f"{_personne(ref, x.auteur_id)} ({_revue_texte(x.revue)})",
             x.rag, x.avancement, x.synthese or NON_RENSEIGNEE,
             x.propositions or NON_RENSEIGNEE] for x in found]


def _perspectives(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel,
                  piliers: list[str], des_porteurs: SpilledList[list[Any]]) -> None:
    """``des_porteurs``: the porteurs' perspectives, in numéro order, keyed by pilier (see
    :func:`_actions`): read back from disk as they are written, after the syntheses of
    their pilier."""
    title(ws, "Perspectives et améliorations proposées",
          "Par pilier : synthèses et propositions des coordonnateurs (orientations), puis des "
          "pilotes (objectifs stratégiques), avec leur revue et leur feu tricolore ; puis "
          "propositions des référents et perspectives des porteurs. Textes tels que reçus, à "
          "synthétiser.")
    _note(ws, 3, "Chaque niveau cite la dernière synthèse reçue dans l'année. « À compléter » : "
          "aucune synthèse reçue pour ce niveau. Les actions correctrices décidées en revue "
          "et encore ouvertes sont dans la feuille « Actions correctrices ».", _WARN)
    by_pilier: dict[str, list[list[Any]]] = {k: [] for k in piliers}
    for pilier in ref.piliers:
        name = f"{pilier.code} — {pilier.titre}"
        for o in ref.orientations_of(pilier.code):
            by_pilier[name] += _syntheses_du_niveau(donnees, "orientation", o.code, o.titre,
                                                    name, o.coordonnateurs, ref)
        for o in ref.orientations_of(pilier.code):
            for st in ref.strategiques_of(o.code):
                by_pilier[name] += _syntheses_du_niveau(donnees, "strategique", st.code,
                                                        st.titre, name, st.pilotes, ref)
    for code in sorted(donnees.suivis):
        for s in donnees.suivis[code]:
            if not (s.propositions or "").strip():
                continue
            by_pilier.setdefault(pilier_label(ref, code), []).append(
                [pilier_label(ref, code), f"Objectif opérationnel : {objectif_label(ref, code)}",
                 f"{_personne(ref, s.referent_id)} (référent, {_revue_texte(s.revue)})", None,
                 s.avancement, None, s.propositions])
    ranks: dict[str, array[int]] = {}  # the porteurs' rows of each pilier, in their order
    for rank, pilier in enumerate(des_porteurs.keys or ()):
        ranks.setdefault(pilier, array("q")).append(rank)
        by_pilier.setdefault(pilier, [])
    widths = [w for _, w in _PERSPECTIVES_COLUMNS]
    feux: list[tuple[int, str]] = []  # (row, feu): styled once the table is written

    def rows() -> Iterator[list[Any]]:
        row = 5
        for pilier, found in by_pilier.items():
            own = ranks.get(pilier, ())
            if not found and not own:
                found = [[pilier, None, None, None, None, None,
                          f"{A_COMPLETER} : aucune proposition reçue pour ce pilier."]]
            for values in itertools.chain(found, map(des_porteurs.__getitem__, own)):
                row += 1
                # Row heights from the wrapped texts (long quotes included), within
                # Excel's limit; a feu tricolore is written and styled on its own.
                ws.row_dimensions[row].height = height_for(max(
                    line_count(clean_value(v), w, 11) for v, w in zip(values, widths,
                                                                      strict=True)), 11)
                if values[3] in STATUTS_RAG:
                    feux.append((row, values[3]))
                yield values

    table(ws, 5, [(label, w, None) for label, w in _PERSPECTIVES_COLUMNS], rows(),
          as_text=lambda values: values[3] not in STATUTS_RAG)  # a feu: openpyxl cells
    for row, feu in feux:
        rag_style(ws.cell(row=row, column=4), feu)
    printable(ws, 5)


def _heights(ws: Worksheet, first: int, last: int, widths: Sequence[float]) -> None:
    """Row heights from the wrapped texts (long quotes included), within Excel's limit."""
    for row in range(first, last + 1):
        lines = max(line_count(ws.cell(row=row, column=c).value, w, 11)
                    for c, w in enumerate(widths, start=1))
        ws.row_dimensions[row].height = height_for(lines, 11)


# --- Actions correctrices --------------------------------------------------------------------
def _actions_correctrices(ws: Worksheet, donnees: DonneesAnnee, ref: Referentiel) -> None:
    ouvertes = sorted((d for d in donnees.decisions if d.ouverte),
                      key=lambda d: (d.pilier, d.numero))
    title(ws, "Actions correctrices en cours",
          f"Décisions des relevés de décisions des revues encore ouvertes à la fin de "
          f"{donnees.annee} (statut « Ouverte » ou « En cours ») : {len(ouvertes)}.")
    piliers = {p.code: f"{p.code} — {p.titre}" for p in ref.piliers}
    rows: list[list[Any]] = [
        [piliers.get(d.pilier, d.pilier), d.numero, d.code, d.decision, d.type, d.responsable,
         d.echeance, d.statut,
         f"{d.ouverte_annee}, {_revue_texte(d.ouverte_revue)}",
         f"{d.maj_annee}, {_revue_texte(d.maj_revue)}", d.commentaire] for d in ouvertes]
    if not rows:
        rows = [[None, None, None, "Aucune action correctrice en cours.", None, None, None,
                 None, None, None, None]]
    widths = (24, 14, 9, 50, 16, 24, 11, 10, 16, 16, 40)
    columns = [("Pilier", widths[0], None), ("N° de décision", widths[1], None),
               ("Niveau", widths[2], None), ("Décision", widths[3], None),
               ("Type", widths[4], None), ("Responsable", widths[5], None),
               ("Échéance", widths[6], DATE), ("Statut", widths[7], None),
               ("Décidée en", widths[8], None), ("État au relevé de", widths[9], None),
               ("Commentaire de suivi", widths[10], None)]
    last = table(ws, 4, columns, rows, autofilter=bool(ouvertes))
    _heights(ws, 5, last, widths)
    printable(ws, 4)
