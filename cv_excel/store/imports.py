"""Write validation runs and programmations into the store.

One received file = one transaction: its submission row, its data rows and
the supersession of the previous accepted return are committed together or
not at all. A file is known by its SHA-256, so importing it again is a no-op.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cv_excel.errors import DefautDossier
from cv_excel.findings import Finding, Severity
from cv_excel.intake.run import (
    ACCEPTE,
    ACCEPTE_AVERTISSEMENTS,
    DOUBLON,
    ECARTE,
    REJETE,
    FichierTraite,
    ValidationRun,
)
from cv_excel.programmation.models import Programmation
from cv_excel.reader import ClasseurLu
from cv_excel.store import extract
from cv_excel.store.db import BUSY_TIMEOUT_MS, Store, open_store

ACCEPTES = (ACCEPTE, ACCEPTE_AVERTISSEMENTS)
log = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    nouvelles: int = 0
    deja_connues: int = 0
    remplacees: int = 0
    ignorees: int = 0  # doublons whose original was never stored: no data to keep
    reexaminees: int = 0  # files stored again after a re-examination
    echecs: dict[str, str] = field(default_factory=dict)  # sha256 -> technical detail


def record_run(store: Store, run: ValidationRun, contrat: str = "", annee: int | None = None,
               now: dt.datetime | None = None) -> ImportSummary:
    """Store every file of ``run`` in reception order, one transaction per file (see
    :func:`record_file`; ``valider`` records each file as it concludes it)."""
    importee_le = (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    debut = run.debut.isoformat(timespec="seconds")
    summary = ImportSummary()
    for fichier in run.fichiers:
        record_file(store, fichier, summary, contrat, annee, importee_le, debut)
    return summary


def record_file(store: Store, fichier: FichierTraite, summary: ImportSummary,
                contrat: str = "", annee: int | None = None, importee_le: str | None = None,
                debut: str = "") -> str | None:
    """Store one file in its own transaction; returns the technical detail of a failure.

    ``contrat`` / ``annee`` label files whose metadata could not be read (the
    working folder's ones, typically); ``debut``, when the run started, dates a file
    without a reception date. A file whose transaction fails leaves no data: it is
    listed in ``summary.echecs`` (the caller rejects it) and recorded as a rejected
    submission, so the next run does not trip on it again.
    """
    if not fichier.sha256 or fichier.statut == ECARTE:
        return None
    importee_le = importee_le or dt.datetime.now().astimezone().isoformat(timespec="seconds")
    recu_le = fichier.recu_le or debut
    try:
        with store.transaction() as conn:
            known = _known(conn, fichier.sha256)
            if known is not None and fichier.reexamen and not known["donnees"]:
                conn.execute("DELETE FROM submissions WHERE id = ?", (known["id"],))
                summary.reexaminees += 1
                known = None
            if known is not None:
                summary.deja_connues += 1
            elif fichier.statut == DOUBLON:
                summary.ignorees += 1
            else:
                summary.nouvelles += 1
                summary.remplacees += _record_file(conn, fichier, recu_le, importee_le,
                                                   contrat, annee)
    except DefautDossier:  # the store itself (disk full…): the whole run stops, exit 2
        raise
    except Exception as exc:  # noqa: BLE001 - one file never stops the others
        log.exception("Enregistrement de « %s » impossible", fichier.nom)
        detail = summary.echecs[fichier.sha256] = f"{type(exc).__name__}: {exc}"[:500]
        _record_failure(store, fichier, recu_le, importee_le, contrat, annee)
        return detail
    return None


def add_findings(store: Store, notes: list[tuple[str, Finding]]) -> None:
    """Add findings to stored files, by SHA-256 (« a newer version was kept »: an
    information, no status changes), in one transaction. A failure is logged only."""
    try:
        with store.transaction() as conn:
            for sha256, finding in notes:
                row = conn.execute("SELECT id, findings_json FROM submissions WHERE sha256 = ?",
                                   (sha256,)).fetchone()
                if row is None:
                    continue
                findings = json.loads(row["findings_json"] or "[]")
                findings.append(finding.model_dump(mode="json"))
                conn.execute("UPDATE submissions SET findings_json = ? WHERE id = ?",
                             (json.dumps(findings, ensure_ascii=False), row["id"]))
    except DefautDossier:
        raise
    except Exception:  # noqa: BLE001 - an information about versions, nothing more
        log.exception("Constats « version remplacée » non enregistrés")


def stored_hashes(store: Store) -> set[str]:
    """The SHA-256 of every file the store knows."""
    return {row[0] for row in store.conn.execute("SELECT sha256 FROM submissions")}


def stored_hashes_at(path: Path) -> set[str]:
    """:func:`stored_hashes` of the store at ``path``, for a look before anything is
    written (``cv-excel traiter`` with nothing new): read-only, without the integrity
    check of :func:`~cv_excel.store.db.open_store`, which reads the whole file. On the
    least doubt (no file, not a store, a hot journal to roll back…), through
    ``open_store``, which creates a missing store and refuses a damaged one."""
    if path.is_file():
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                return {row[0] for row in conn.execute("SELECT sha256 FROM submissions")}
            finally:
                conn.close()
        except sqlite3.Error:
            pass
    with open_store(path) as store:
        return stored_hashes(store)


def _record_failure(store: Store, fichier: FichierTraite, recu_le: str, importee_le: str,
                    contrat: str, annee: int | None) -> None:
    """Keep a trace of a file whose data could not be stored (rejected, no data)."""
    try:
        with store.transaction() as conn:
            if _known(conn, fichier.sha256) is None:
                _insert_submission(conn, _submission(fichier, None, recu_le, importee_le,
                                                     contrat, annee, statut=REJETE))
    except Exception:  # noqa: BLE001 - the caller reports the file as rejected anyway
        log.exception("Trace du rejet de « %s » impossible", fichier.nom)


def _known(conn: sqlite3.Connection, sha256: str) -> sqlite3.Row | None:
    return conn.execute("SELECT id, donnees FROM submissions WHERE sha256 = ?",
                        (sha256,)).fetchone()


def _submission(fichier: FichierTraite, lu: ClasseurLu | None, recu_le: str,
                importee_le: str, contrat: str, annee: int | None,
                statut: str | None = None) -> dict[str, Any]:
    meta = lu.meta if lu is not None else {}
    bloquants = sum(1 for f in fichier.findings if f.severity is Severity.BLOQUANT)
    return {
        "sha256": fichier.sha256, "nom": fichier.nom, "recu_le": recu_le,
        "type": fichier.type or extract.text(meta.get("meta_type")) or "",
        "classeur_id": fichier.classeur_id,
        "contrat": extract.text(meta.get("meta_contrat")) or contrat,
        "annee": extract.year(meta.get("meta_annee")) or annee,
        # Checked at intake against the register entry (the reference) before acceptance.
        "revue": extract.revue(meta.get("meta_revue")),
        "destinataire_id": extract.text(meta.get("meta_destinataire_id")) or "",
        "destinataire": fichier.destinataire, "statut": statut or fichier.statut,
        "bloquants": bloquants if statut is None else max(bloquants, 1),
        "avertissements": sum(1 for f in fichier.findings
                              if f.severity is Severity.AVERTISSEMENT),
        "findings_json": json.dumps([f.model_dump(mode="json") for f in fichier.findings],
                                    ensure_ascii=False),
        "importee_le": importee_le,
    }


def _record_file(conn: sqlite3.Connection, fichier: FichierTraite, recu_le: str,
                 importee_le: str, contrat: str, annee: int | None) -> int:
    """Insert one new file; returns 1 when it superseded an accepted return.

    The return in force is the one received last: a file received earlier (a
    re-examined one) is stored already superseded by the later one in force.
    """
    lu = fichier.lu
    sub = _submission(fichier, lu, recu_le, importee_le, contrat, annee)
    sub_id = _insert_submission(conn, sub)
    if fichier.statut not in ACCEPTES or lu is None or not sub["destinataire_id"]:
        return 0
    nb = _insert_data(conn, sub_id, sub, lu)
    previous = conn.execute(  # the same revue only: each revue keeps its own return
        "SELECT id, recu_le FROM submissions WHERE contrat = ? AND annee IS ? AND type = ? "
        "AND destinataire_id = ? AND revue IS ? AND donnees = 1 AND remplacee_par IS NULL",
        (sub["contrat"], sub["annee"], sub["type"], sub["destinataire_id"],
         sub["revue"])).fetchone()
    if previous is not None and previous["recu_le"] > recu_le:
        conn.execute("UPDATE submissions SET donnees = 1, nb_sections = ?, remplacee_par = ? "
                     "WHERE id = ?", (nb, previous["id"], sub_id))
        return 0
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
    kind = lu.spec.kind
    for key, section in sections:
        if kind == "porteur":
            _insert_bilan(conn, sub_id, sub, key, section, extract.representant(lu))
        elif kind in extract.NIVEAUX:
            _insert_synthese(conn, sub_id, sub, key, section, *extract.NIVEAUX[kind])
        elif kind == "decisions":
            _insert_decisions(conn, sub_id, sub, key, section)
        else:
            _insert_suivi(conn, sub_id, sub, key, section)
    return len(sections)


def _insert_bilan(conn, sub_id, sub, numero, section, representant: str | None) -> None:
    _insert(conn, "bilans", {"submission_id": sub_id, "numero": numero,
                             "contrat": sub["contrat"], "annee": sub["annee"],
                             **extract.bilan_row(section), "representant": representant})
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
    for row in extract.piste_rows(section):
        _insert(conn, "pistes", {"submission_id": sub_id, "code": code, **row})


def _insert_synthese(conn, sub_id, sub, code, section, niveau, prefix) -> None:
    _insert(conn, "syntheses", {"submission_id": sub_id, "niveau": niveau, "code": code,
                                "contrat": sub["contrat"], "annee": sub["annee"],
                                "revue": sub["revue"], "auteur_id": sub["destinataire_id"],
                                **extract.synthese_row(section, prefix)})


def _insert_decisions(conn, sub_id, sub, pilier, section) -> None:
    """One pilier's decisions of a relevé: the follow-up of earlier ones (their number
    and date of opening kept) and the new ones, numbered « A-2019-R1-03 » after the
    relevé's pilier, year, revue and the row of the table."""
    suivies, nouvelles = extract.decision_rows(section)
    key = {"submission_id": sub_id, "pilier": pilier, "contrat": sub["contrat"],
           "annee": sub["annee"], "revue": sub["revue"]}
    opened = _openings(conn, sub["contrat"], [row["numero"] for row in suivies])
    seen: set[str] = set()
    for row in suivies:
        numero = row["numero"]
        if numero in seen:  # a row copied twice: the first one is the decision's state
            continue
        seen.add(numero)
        ouverte = opened.get(numero) or extract.opening_of(numero) or (sub["annee"],
                                                                       sub["revue"])
        _insert(conn, "decisions", {**key, **row, "nouvelle": 0, "ouverte_annee": ouverte[0],
                                    "ouverte_revue": ouverte[1]})
    for row in nouvelles:
        numero = extract.numero_decision(pilier, sub["annee"], sub["revue"], row["rang"])
        if numero in seen:
            continue
        seen.add(numero)
        _insert(conn, "decisions", {**key, **row, "numero": numero, "nouvelle": 1,
                                    "code": row["code"] or pilier,
                                    "statut": row["statut"] or "Ouverte",
                                    "ouverte_annee": sub["annee"],
                                    "ouverte_revue": sub["revue"]})


def _openings(conn, contrat: str, numeros: list[str]) -> dict[str, tuple[int, int | None]]:
    """When each decision was first recorded (year, revue), from the store (one query)."""
    if not numeros:
        return {}
    marks = ", ".join("?" for _ in numeros)
    rows = conn.execute(
        "SELECT numero, ouverte_annee, ouverte_revue FROM decisions WHERE contrat = ? AND "
        f"numero IN ({marks}) AND ouverte_annee IS NOT NULL ORDER BY nouvelle DESC, "
        "annee, COALESCE(revue, 1000000)", (contrat, *numeros))
    found: dict[str, tuple[int, int | None]] = {}
    for r in rows:
        found.setdefault(r["numero"], (r["ouverte_annee"], r["ouverte_revue"]))
    return found


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
                "dossier_dauphin": action.dossier_dauphin,
                "theme_p147": action.theme_p147, "sous_theme_p147": action.sous_theme_p147,
                "modalite_p147": action.modalite_p147,
                "dispositifs_etat": ";".join(action.dispositifs_etat) or None,
                "code_qpv": action.code_qpv,
                "convention_numero": action.convention_numero,
                "convention_date": _iso(action.convention_date),
                "departement_dispositif": action.departement_dispositif,
                "indicateur": action.indicateur.libelle,
                "mode_recueil": action.indicateur.mode_recueil,
                "objectif_quantifie": action.objectif_quantifie,
                "valeur_cible": None if action.valeur_cible is None else str(action.valeur_cible),
                "unite": action.unite})
            for f in action.financements:
                _insert(conn, "programmation_financements", {
                    **key, "financeur": f.financeur,
                    "demande": None if f.demande is None else str(f.demande),
                    "accorde": None if f.accorde is None else str(f.accorde),
                    "verse": None if f.verse is None else str(f.verse),
                    "dates_versement": ";".join(d.isoformat() for d in f.dates_versement)
                    or None})
    return len(programmation.actions)


def _iso(date: dt.date | None) -> str | None:
    return None if date is None else date.isoformat()
