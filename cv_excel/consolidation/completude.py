"""Complétude et relances: which workbook sent this year came back, and whom to chase.

One row per workbook of the register (what was sent; when a recipient's workbook
was generated again, only the latest counts), matched with the submissions
received (by workbook id or by recipient and type, of the same revue). The xlsx is
the Direction's follow-up sheet; the CSV holds only those to chase, with a
ready-to-send message, for a mail merge in French Excel / Word.

Two scopes: every workbook of the year in « Complétude et relances » (the annual
porteur workbooks and each revue's, one line per recipient, kind and revue), and one
revue's workbooks (référents, pilotes, coordonnateurs, relevés de décisions: register
entries of that revue, answered by returns carrying that revue) in « Complétude
revue n ».
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cv_excel.consolidation.opendata import write_csv
from cv_excel.consolidation.reporting import (
    DATE,
    ENTIER,
    POURCENT,
    new_workbook,
    printable,
    put,
    table,
    title,
)
from cv_excel.intake.run import ACCEPTE, ACCEPTE_AVERTISSEMENTS, DOUBLON, REJETE
from cv_excel.referentiel.models import Referentiel
from cv_excel.spill import SpilledList
from cv_excel.store.models import DonneesAnnee, Submission
from cv_excel.xlsxio import save_workbook_atomic

RECU_ACCEPTE = "reçu et accepté"
RECU_AVERTISSEMENTS = "reçu avec avertissements"
REJETE_A_CORRIGER = "rejeté — à corriger"
NON_RECU = "non reçu"
ETATS = (RECU_ACCEPTE, RECU_AVERTISSEMENTS, REJETE_A_CORRIGER, NON_RECU)
A_RELANCER = (NON_RECU, REJETE_A_CORRIGER)
_FILLS = {RECU_ACCEPTE: "C6EFCE", RECU_AVERTISSEMENTS: "FFEB9C", REJETE_A_CORRIGER: "FFC7CE",
          NON_RECU: "F4B183"}
TYPES = {"porteur": "Porteur", "referent": "Référent", "pilote": "Pilote",
         "coordonnateur": "Coordonnateur", "decisions": "Relevé de décisions"}
# What a workbook of each kind is called in a relance, and what its sections are.
_NOMS = {"porteur": "Bilan annuel {annee} des actions",
         "referent": "Suivi {annee} des objectifs opérationnels",
         "pilote": "Synthèse {annee} du pilote (objectifs stratégiques)",
         "coordonnateur": "Synthèse {annee} du coordonnateur (orientations)",
         "decisions": "Relevé de décisions {annee}"}
_SECTIONS = {"porteur": "Actions", "referent": "Objectifs", "pilote": "Objectifs stratégiques",
             "coordonnateur": "Orientations", "decisions": "Pilier"}
_QUOI = {"porteur": "vos actions", "referent": "vos objectifs",
         "pilote": "vos objectifs stratégiques", "coordonnateur": "vos orientations",
         "decisions": "les décisions du pilier"}
CSV_COLUMNS = ("destinataire", "contact", "email", "type", "état", "objet", "message")


@dataclass
class LigneCompletude:
    destinataire: str
    type: str
    revue: int | None
    contact: str
    email: str
    sections: str
    etat: str
    derniere_reception: dt.date | None
    bloquants: int
    objet: str
    message: str

    @property
    def relance(self) -> bool:
        return self.etat in A_RELANCER


def write_completude(donnees: DonneesAnnee, registre: Iterable[dict], ref: Referentiel,
                     xlsx: Path, csv: Path) -> tuple[Path, Path]:
    """The follow-up sheet of every workbook sent for the year, and the CSV of relances.

    ``registre`` holds the register entries (``registre.json``); entries whose file
    lies under another year's ``classeurs/<année>/`` folder are left out.
    """
    lignes = completude_lines(donnees, registre, ref)
    _write_sheet(lignes, donnees, ref, xlsx)
    write_csv(csv, CSV_COLUMNS,
              ([x.destinataire, x.contact, x.email, x.type, x.etat, x.objet, x.message]
               for x in lignes if x.relance), ";", bom=True)
    return Path(xlsx), Path(csv)


def write_completude_revue(donnees: DonneesAnnee, registre: Iterable[dict], ref: Referentiel,
                           xlsx: Path, revue: int) -> Path:
    """The follow-up sheet of the workbooks of revue ``revue`` (référents, pilotes,
    coordonnateurs, relevés de décisions)."""
    lignes = completude_lines(donnees, registre, ref, revue=revue)
    return _write_sheet(lignes, donnees, ref, xlsx, revue=revue)


def completude_lines(donnees: DonneesAnnee, registre: Iterable[dict], ref: Referentiel,
                     revue: int | None = None) -> SpilledList[LigneCompletude]:
    """One line per recipient, type and revue: a workbook generated again replaces the
    earlier one (the register keeps both), and a return of either counts; a return
    answers the workbooks of its own revue only. The lines are kept on disk (one per
    workbook sent: 10,000 at the national volume), as the register's entries may be.

    ``revue`` None: every workbook of the year; a number: that revue's only."""
    entries = registre if isinstance(registre, Sequence) else list(registre)
    latest: dict[tuple[str, str, int | None], tuple[str, int]] = {}  # (généré le, rank)
    ids: dict[tuple[str, str, int | None], set[str]] = {}
    for rank, entry in enumerate(entries):
        if _annee_of(entry) not in (None, donnees.annee):
            continue
        if revue is not None and entry.get("revue") != revue:
            continue
        key = (entry["type"], entry["destinataire_id"], entry.get("revue"))
        ids.setdefault(key, set()).add(entry["classeur_id"])
        genere_le = entry.get("genere_le", "")
        if key not in latest or genere_le >= latest[key][0]:
            latest[key] = (genere_le, rank)
    index = _Index(donnees)
    return SpilledList(_line(entries[rank], ids[key], index, donnees, ref)
                       for key, (_, rank) in latest.items())


class _Index:
    """The year's submissions and porteur contacts indexed once, not scanned per line."""

    def __init__(self, donnees: DonneesAnnee):
        self.submissions = donnees.submissions
        self.by_id: dict[str | None, list[int]] = {}
        self.by_recipient: dict[tuple, list[int]] = {}
        for i, s in enumerate(self.submissions):
            self.by_id.setdefault(s.classeur_id, []).append(i)
            self.by_recipient.setdefault((s.type, s.destinataire_id, s.revue), []).append(i)
        self.contacts: dict[str, tuple[str, str]] = {}
        for a in donnees.actions:  # the first action of a porteur gives its contact
            self.contacts.setdefault(a.porteur_siret, (a.porteur_contact, a.porteur_email))

    def matching(self, entry: dict, ids: set[str]) -> list[Submission]:
        """The submissions of the workbooks ``ids`` or of the entry's recipient, type and
        revue, in the order of the year's submissions."""
        found = set(self.by_recipient.get(
            (entry["type"], entry["destinataire_id"], entry.get("revue")), ()))
        for classeur_id in ids:
            found.update(self.by_id.get(classeur_id, ()))
        return [self.submissions[i] for i in sorted(found)]


def _annee_of(entry: dict) -> int | None:
    parts = PurePosixPath(str(entry.get("fichier", ""))).parts
    if len(parts) >= 2 and parts[0] == "classeurs" and parts[1].isdigit():
        return int(parts[1])
    return None


def _etat(subs: list[Submission]) -> tuple[str, int]:
    """An accepted return in force wins; otherwise the latest rejected one counts."""
    accepted = [s for s in subs if s.statut in (ACCEPTE, ACCEPTE_AVERTISSEMENTS)]
    if accepted:
        current = next((s for s in accepted if s.courante), max(accepted, key=lambda s: s.recu_le))
        return (RECU_ACCEPTE if current.statut == ACCEPTE else RECU_AVERTISSEMENTS), 0
    rejected = [s for s in subs if s.statut == REJETE]
    if rejected:
        return REJETE_A_CORRIGER, max(rejected, key=lambda s: s.recu_le).bloquants
    return NON_RECU, 0


def _date(recu_le: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(recu_le).date()
    except (TypeError, ValueError):
        return None


def _contact(entry: dict, index: _Index, ref: Referentiel) -> tuple[str, str]:
    if entry["type"] == "porteur":
        return index.contacts.get(entry["destinataire_id"], ("", ""))
    try:
        referent = ref.referent(entry["destinataire_id"])
    except StopIteration:
        return "", ""
    return referent.nom or "", referent.email or ""


def _line(entry: dict, ids: set[str], index: _Index, donnees: DonneesAnnee, ref: Referentiel
          ) -> LigneCompletude:
    subs = index.matching(entry, ids)
    etat, bloquants = _etat([s for s in subs if s.statut != DOUBLON])
    last = max((s.recu_le for s in subs), default=None)
    contact, email = _contact(entry, index, ref)
    kind = entry["type"]
    sections = ", ".join(entry.get("sections", []))
    objet, message = _message(etat, bloquants, kind, donnees.annee, entry, ref,
                              _date(last) if last else None)
    return LigneCompletude(
        entry.get("destinataire", ""), TYPES.get(kind, kind), entry.get("revue"), contact,
        email,
        f"{_SECTIONS.get(kind, 'Sections')} : {sections}", etat,
        _date(last) if last else None, bloquants, objet, message)


def _message(etat: str, bloquants: int, kind: str, annee: int, entry: dict,
             ref: Referentiel, recu: dt.date | None) -> tuple[str, str]:
    """Objet and body of the relance, empty when nothing is to be asked."""
    if etat not in A_RELANCER:
        return "", ""
    nom = _NOMS.get(kind, "Classeur {annee}").format(annee=annee)
    if entry.get("revue") is not None:
        nom += f", revue {entry['revue']}"
    classeur = f"« {nom} »"
    fichier = PurePosixPath(str(entry.get("fichier", ""))).name
    if etat == NON_RECU:
        quoi = _QUOI.get(kind, "vos objectifs")
        pour = ("le bilan annuel du contrat de ville" if entry.get("revue") is None
                else f"la revue {entry['revue']} du contrat de ville")
        return (f"{ref.contrat.libelle} — {nom} : classeur non reçu",
                f"Madame, Monsieur, nous n'avons pas reçu votre classeur {classeur} "
                f"(fichier « {fichier} »). Merci de le compléter et de le renvoyer à la "
                "Direction Politique de la Ville dans les meilleurs délais : sans ce retour, "
                f"{pour} ne pourra pas rendre compte de {quoi}.")
    points = f"{bloquants} point bloquant" if bloquants == 1 else f"{bloquants} points bloquants"
    le = f" reçu le {recu:%d/%m/%Y}" if recu else ""
    return (f"{ref.contrat.libelle} — {nom} : classeur à corriger",
            f"Madame, Monsieur, votre classeur {classeur}{le} a été refusé pour {points}. "
            "La copie annotée que nous vous adressons signale chaque point à corriger. "
            "Merci de corriger ce même classeur (sans en modifier la structure) et de nous "
            "le renvoyer.")


_COLUMNS = (
    ("Destinataire", 44, None), ("Type", 13, None), ("Revue", 8, ENTIER), ("Contact", 20, None),
    ("E-mail", 30, None), ("Sections (actions / objectifs)", 26, None), ("État", 22, None),
    ("Dernière réception", 12, DATE), ("Points bloquants", 10, ENTIER), ("Relance", 9, None),
    ("Objet", 32, None), ("Message", 70, None),
)


def _write_sheet(lignes: Sequence[LigneCompletude], donnees: DonneesAnnee, ref: Referentiel,
                 path: Path, revue: int | None = None) -> Path:
    wb = new_workbook()
    ws = wb.create_sheet("Complétude")
    if revue is None:
        title(ws, f"Complétude des retours {donnees.annee} et relances",
              f"{ref.contrat.libelle} — {len(lignes)} classeurs envoyés (bilans des porteurs "
              "et, pour chaque revue, référents, pilotes, coordonnateurs, relevés de "
              "décisions).")
    else:
        title(ws, f"Complétude des retours de la revue {revue} de {donnees.annee}",
              f"{ref.contrat.libelle} — {len(lignes)} classeurs envoyés (référents, pilotes, "
              "coordonnateurs, relevés de décisions).")
    summary: list[tuple[str, Any, str | None]] = [("Classeurs envoyés", len(lignes), ENTIER)]
    etats = Counter(x.etat for x in lignes)  # one pass: the lines are read from disk
    summary += [(etat, etats[etat], ENTIER) for etat in ETATS]
    recus = len(lignes) - etats[NON_RECU]
    acceptes = etats[RECU_ACCEPTE] + etats[RECU_AVERTISSEMENTS]
    for label, n in (("Taux de retour (reçus / envoyés)", recus),
                     ("Taux d'acceptation (acceptés / envoyés)", acceptes)):
        summary.append((label, n / len(lignes) if lignes else None, POURCENT))
    for i, (label, value, fmt) in enumerate(summary, start=4):
        put(ws, i, 1, label).font = Font(bold=True)
        put(ws, i, 2, value, fmt)
        if label in _FILLS:
            ws.cell(row=i, column=1).fill = PatternFill("solid", fgColor=_FILLS[label])
    top = 4 + len(summary) + 1
    last = table(ws, top, _COLUMNS, (
        [x.destinataire, x.type, x.revue, x.contact, x.email, x.sections, x.etat,
         x.derniere_reception, x.bloquants, "oui" if x.relance else "non", x.objet, x.message]
        for x in lignes), as_text=True)
    etat_col = get_column_letter(next(i for i, c in enumerate(_COLUMNS, 1) if c[0] == "État"))
    if last > top:
        for etat, color in _FILLS.items():
            ws.conditional_formatting.add(
                f"A{top + 1}:{get_column_letter(len(_COLUMNS))}{last}",
                FormulaRule(formula=[f'${etat_col}{top + 1}="{etat}"'],
                            fill=PatternFill("solid", fgColor=color, bgColor=color)))
    printable(ws, header_row=top)
    return save_workbook_atomic(wb, path)
