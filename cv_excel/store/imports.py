"""Write validation runs and programmations into the store.

One received file = one transaction: its submission row, its data rows and
the supersession of the previous accepted return are committed together or
not at all. A file is known by its SHA-256, so importing it again is a no-op.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from cv_excel.findings import Severity
from cv_excel.intake.run import (
    ACCEPTE,
    ACCEPTE_AVERTISSEMENTS,
    DOUBLON,
    FichierTraite,
    ValidationRun,
)
from cv_excel.programmation.models import Programmation
from cv_excel.reader import ClasseurLu
from cv_excel.store import extract
from cv_excel.store.db import Store

ACCEPTES = (ACCEPTE, ACCEPTE_AVERTISSEMENTS)


@dataclass
class ImportSummary:
    nouvelles: int = 0
    deja_connues: int = 0
    remplacees: int = 0
    ignorees: int = 0  # doublons whose original was never stored: no data to keep


def record_run(store: Store, run: ValidationRun, contrat: str = "", annee: int | None = None,
               now: dt.datetime | None = None) -> ImportSummary:
    """Store every file of ``run`` in reception order.

    ``contrat`` / ``annee`` label files whose metadata could not be read (the
    working folder's ones, typically). A failure propagates; the files before
    it stay committed, the failing one leaves no trace.
    """
    importee_le = (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    recu_le = run.debut.isoformat(timespec="seconds")
    summary = ImportSummary()
    for fichier in run.fichiers:
        with store.transaction() as conn:
            if _known(conn, fichier.sha256):
                summary.deja_connues += 1
            elif fichier.statut == DOUBLON:
                summary.ignorees += 1
            else:
                summary.nouvelles += 1
                summary.remplacees += _record_file(conn, fichier, recu_le, importee_le,
                                                   contrat, annee)
    return summary


def _known(conn: sqlite3.Connection, sha256: str) -> bool:
    return conn.execute("SELECT 1 FROM submissions WHERE sha256 = ?",
                        (sha256,)).fetchone() is not None


def _record_file(conn: sqlite3.Connection, fichier: FichierTraite, recu_le: str,
                 importee_le: str, contrat: str, annee: int | None) -> int:
    """Insert one new file; returns 1 when it superseded an accepted return."""
    lu = fichier.lu
    meta = lu.meta if lu is not None else {}
    sub = {
        "sha256": fichier.sha256, "nom": fichier.nom, "recu_le": recu_le,
        "type": fichier.type or extract.text(meta.get("meta_type")) or "",
        "classeur_id": fichier.classeur_id,
        "contrat": extract.text(meta.get("meta_contrat")) or contrat,
        "annee": extract.year(meta.get("meta_annee")) or annee,
        "destinataire_id": extract.text(meta.get("meta_destinataire_id")) or "",
        "destinataire": fichier.destinataire, "statut": fichier.statut,
        "bloquants": sum(1 for f in fichier.findings if f.severity is Severity.BLOQUANT),
        "findings_json": json.dumps([f.model_dump(mode="json") for f in fichier.findings],
                                    ensure_ascii=False),
        "importee_le": importee_le,
    }
    sub["avertissements"] = len(fichier.findings) - sub["bloquants"]
    sub_id = _insert_submission(conn, sub)
    if fichier.statut not in ACCEPTES or lu is None or not sub["destinataire_id"]:
        return 0
    nb = _insert_data(conn, sub_id, sub, lu)
    previous = conn.execute(
        "SELECT id FROM submissions WHERE contrat = ? AND annee IS ? AND type = ? "
        "AND destinataire_id = ? AND donnees = 1 AND remplacee_par IS NULL",
        (sub["contrat"], sub["annee"], sub["type"], sub["destinataire_id"])).fetchone()
    if previous is not None:
        conn.execute("UPDATE submissions SET remplacee_par = ? WHERE id = ?",
                     (sub_id, previous["id"]))
    conn.execute("UPDATE submissions SET donnees = 1, nb_sections = ? WHERE id = ?",
                 (nb, sub_id))
    return 0 if previous is None else 1


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                          tuple(row.values()))
    return cursor.lastrowid or 0


def _insert_submission(conn: sqlite3.Connection, sub: dict[str, Any]) -> int:
    return _insert(conn, "submissions", sub)


def _insert_data(conn: sqlite3.Connection, sub_id: int, sub: dict[str, Any],
                 lu: ClasseurLu) -> int:
    """Every section's rows; returns how many sections were stored."""
    sections = extract.unique_sections(lu)
    for key, section in sections:
        if lu.spec.kind == "porteur":
            _insert_bilan(conn, sub_id, sub, key, section)
        else:
            _insert_suivi(conn, sub_id, sub, key, section)
    return len(sections)


def _insert_bilan(conn, sub_id, sub, numero, section) -> None:
    _insert(conn, "bilans", {"submission_id": sub_id, "numero": numero,
                             "contrat": sub["contrat"], "annee": sub["annee"],
                             **extract.bilan_row(section)})
    conn.executemany(
        "INSERT INTO budget_lignes (submission_id, numero, tableau, ligne, prevu, realise) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(sub_id, numero, *line) for line in extract.budget_rows(section)])


def _insert_suivi(conn, sub_id, sub, code, section) -> None:
    _insert(conn, "suivis", {"submission_id": sub_id, "code": code, "contrat": sub["contrat"],
                             "annee": sub["annee"], "referent_id": sub["destinataire_id"],
                             **extract.suivi_row(section)})
    for row in extract.indicator_rows(section):
        _insert(conn, "indicateurs", {"submission_id": sub_id, "code": code, **row})


def import_programmation(store: Store, contrat: str, annee: int,
                         programmation: Programmation) -> int:
    """Replace the (contrat, année) snapshot; returns the number of actions stored."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM programmation_actions WHERE contrat = ? AND annee = ?",
                     (contrat, annee))  # financements follow (ON DELETE CASCADE)
        for action in programmation.actions:
            key = {"contrat": contrat, "annee": annee, "numero": action.numero}
            p = action.porteur
            _insert(conn, "programmation_actions", {
                **key, "porteur_siret": p.siret, "porteur_raison_sociale": p.raison_sociale,
                "porteur_type": p.type_structure, "porteur_rna": p.rna,
                "porteur_contact": p.contact, "porteur_email": p.email,
                "intitule": action.intitule,
                "objectif_operationnel": action.objectif_operationnel,
                "theme_anct": action.theme_anct, "sous_theme_anct": action.sous_theme_anct,
                "territoire": action.territoire,
                "departement_dispositif": action.departement_dispositif,
                "indicateur": action.indicateur.libelle,
                "mode_recueil": action.indicateur.mode_recueil})
            for f in action.financements:
                _insert(conn, "programmation_financements", {
                    **key, "financeur": f.financeur,
                    "demande": None if f.demande is None else str(f.demande),
                    "accorde": None if f.accorde is None else str(f.accorde)})
    return len(programmation.actions)
