"""Write received files and programmations into the store.

One received file = one transaction: its submission row, its data rows and
the supersession of the previous accepted return are committed together or
not at all (inside :meth:`~cv_excel.store.db.Store.groupe`, the file's savepoint,
committed with its group). A file is known by its SHA-256, so importing it again is a no-op.

The store speaks its own terms (:mod:`cv_excel.store.records`): it never imports intake.

Concurrent writers: on SQLite the write lock of the whole file (BEGIN IMMEDIATE, and
the working folder's lock) serialises them. On PostgreSQL, where several machines write
at once, a file's transaction first takes a transaction-scoped advisory lock on its
recipient (contrat, année, revue, type, destinataire) before looking for the return in
force: two returns of one recipient are never superseding each other blindly. Two
processes importing the same file at once: the second one's transaction meets the
unique SHA-256 of the first, is retried, and finds the file known.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from cv_excel.errors import DefautDossier
from cv_excel.findings import Finding, Severity
from cv_excel.programmation.models import Action, Programmation
from cv_excel.reader import ClasseurLu
from cv_excel.statuts import ACCEPTES, DOUBLON, ECARTE, REJETE
from cv_excel.store import extract
from cv_excel.store import schema as t
from cv_excel.store.db import BUSY_TIMEOUT_MS, Store, _parse_target, open_store
from cv_excel.store.records import Lot, Retour

log = logging.getLogger(__name__)
_S = t.submissions
RETRIES = 5  # a file's transaction, when a concurrent writer won a race (PostgreSQL)
# SQLSTATEs of a lost race: unique violation, serialization failure, deadlock.
_RACES = ("23505", "40001", "40P01")
# A file's statements, built once: a statement built per row costs more than its execution.
_KNOWN = select(_S.c.id, _S.c.donnees).where(_S.c.sha256 == bindparam("b_sha256"))
_REPLACED = update(_S).where(_S.c.id == bindparam("b_id")).values(
    remplacee_par=bindparam("b_par"))
_WITH_DATA = update(_S).where(_S.c.id == bindparam("b_id")).values(
    donnees=1, nb_sections=bindparam("b_nb"), remplacee_par=bindparam("b_par"))


@dataclass
class ImportSummary:
    nouvelles: int = 0
    deja_connues: int = 0
    remplacees: int = 0
    ignorees: int = 0  # doublons whose original was never stored: no data to keep
    reexaminees: int = 0  # files stored again after a re-examination
    echecs: dict[str, str] = field(default_factory=dict)  # sha256 -> technical detail


def record_run(store: Store, run: Lot, contrat: str = "", annee: int | None = None,
               now: dt.datetime | None = None) -> ImportSummary:
    """Store every file of ``run`` in reception order, one transaction per file (see
    :func:`record_file`; ``valider`` records each file as it concludes it)."""
    importee_le = (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    debut = run.debut.isoformat(timespec="seconds")
    summary = ImportSummary()
    for fichier in run.fichiers:
        record_file(store, fichier, summary, contrat, annee, importee_le, debut)
    return summary


def record_file(store: Store, fichier: Retour, summary: ImportSummary,
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
        done = _retrying(store, lambda conn: _record(conn, fichier, recu_le, importee_le,
                                                     contrat, annee))
    except DefautDossier:  # the store itself (disk full…): the whole run stops, exit 2
        raise
    except Exception as exc:  # noqa: BLE001 - one file never stops the others
        log.exception("Enregistrement de « %s » impossible", fichier.nom)
        detail = summary.echecs[fichier.sha256] = f"{type(exc).__name__}: {exc}"[:500]
        _record_failure(store, fichier, recu_le, importee_le, contrat, annee)
        return detail
    for name, n in done.items():  # counted once committed, whatever the retries
        setattr(summary, name, getattr(summary, name) + n)
    return None


def _retrying(store: Store, work):
    """``work(conn)`` in one transaction; again (a few times) when a concurrent writer
    won a race on PostgreSQL (the file is then found known, or the return in force is
    the other's)."""
    for attempt in range(1, RETRIES + 1):
        try:
            with store.transaction() as conn:
                return work(conn)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if store.dialect != "postgresql" or state not in _RACES or attempt == RETRIES:
                raise
            log.info("Écriture concurrente (%s) : nouvel essai %d", state, attempt + 1)
    raise AssertionError("unreachable")


def _record(conn: Connection, fichier: Retour, recu_le: str, importee_le: str,
            contrat: str, annee: int | None) -> Counter[str]:
    """The file's transaction; returns what to count in the summary."""
    done: Counter[str] = Counter()
    known = _known(conn, fichier.sha256)
    if known is not None and fichier.reexamen and not known["donnees"]:
        conn.execute(delete(_S).where(_S.c.id == known["id"]))
        done["reexaminees"] += 1
        known = None
    if known is not None:
        done["deja_connues"] += 1
    elif fichier.statut == DOUBLON:
        done["ignorees"] += 1
    else:
        done["nouvelles"] += 1
        done["remplacees"] += _record_file(conn, fichier, recu_le, importee_le, contrat,
                                           annee)
    return done


def add_findings(store: Store, notes: list[tuple[str, Finding]]) -> None:
    """Add findings to stored files, by SHA-256 (« a newer version was kept »: an
    information, no status changes), in one transaction. A failure is logged only."""
    try:
        with store.transaction() as conn:
            for sha256, finding in notes:
                row = conn.execute(select(_S.c.id, _S.c.findings_json)
                                   .where(_S.c.sha256 == sha256)).mappings().first()
                if row is None:
                    continue
                findings = json.loads(row["findings_json"] or "[]")
                findings.append(finding.model_dump(mode="json"))
                conn.execute(update(_S).where(_S.c.id == row["id"]).values(
                    findings_json=json.dumps(findings, ensure_ascii=False)))
    except DefautDossier:
        raise
    except Exception:  # noqa: BLE001 - an information about versions, nothing more
        log.exception("Constats « version remplacée » non enregistrés")


def stored_hashes(store: Store) -> set[str]:
    """The SHA-256 of every file the store knows."""
    with store.lecture() as conn:
        return set(conn.execute(select(_S.c.sha256)).scalars())


def stored_hashes_at(target: Path | str) -> set[str]:
    """:func:`stored_hashes` of the store at ``target``, for a look before anything is
    written (``cv-excel traiter`` with nothing new). An SQLite file is read read-only,
    without the integrity check of :func:`~cv_excel.store.db.open_store`, which reads the
    whole file; on the least doubt (no file, not a store, a hot journal to roll back…),
    and for a server, through ``open_store``, which creates a missing store and refuses a
    damaged one."""
    where = _parse_target(target)
    if isinstance(where, Path) and where.is_file():
        engine = create_engine(
            URL.create("sqlite+pysqlite", database=f"file:{where.resolve()}",
                       query={"mode": "ro", "uri": "true"}),
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        try:
            with engine.connect() as conn:
                return set(conn.execute(select(_S.c.sha256)).scalars())
        except (DBAPIError, sqlite3.Error):
            pass
        finally:
            engine.dispose()
    with open_store(target) as store:
        return stored_hashes(store)


def _record_failure(store: Store, fichier: Retour, recu_le: str, importee_le: str,
                    contrat: str, annee: int | None) -> None:
    """Keep a trace of a file whose data could not be stored (rejected, no data)."""
    try:
        with store.transaction() as conn:
            if _known(conn, fichier.sha256) is None:
                _insert_submission(conn, _submission(fichier, None, recu_le, importee_le,
                                                     contrat, annee, statut=REJETE))
    except Exception:  # noqa: BLE001 - the caller reports the file as rejected anyway
        log.exception("Trace du rejet de « %s » impossible", fichier.nom)


def _known(conn: Connection, sha256: str):
    return conn.execute(_KNOWN, {"b_sha256": sha256}).mappings().first()


def _submission(fichier: Retour, lu: ClasseurLu | None, recu_le: str,
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


def _lock(conn: Connection, *key: object) -> None:
    """PostgreSQL: a lock on ``key`` until the transaction ends (writers of the same key
    wait for each other; others go on). SQLite: the write lock is the whole store's."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8")).digest()
    conn.execute(select(func.pg_advisory_xact_lock(
        int.from_bytes(digest[:8], "big", signed=True))))


def _record_file(conn: Connection, fichier: Retour, recu_le: str,
                 importee_le: str, contrat: str, annee: int | None) -> int:
    """Insert one new file; returns 1 when it superseded an accepted return.

    The return in force is the one received last: a file received earlier (a
    re-examined one) is stored already superseded by the later one in force.
    """
    lu = fichier.lu
    sub = _submission(fichier, lu, recu_le, importee_le, contrat, annee)
    accepted = fichier.statut in ACCEPTES and lu is not None and sub["destinataire_id"]
    if accepted:  # before the return in force is looked for
        _lock(conn, "retour", sub["contrat"], sub["annee"], sub["revue"], sub["type"],
              sub["destinataire_id"])
    sub_id = _insert_submission(conn, sub)
    if not accepted:
        return 0
    nb = _insert_data(conn, sub_id, sub, lu)
    previous = conn.execute(  # the same revue only: each revue keeps its own return
        _in_force(sub["annee"] is None),
        {"b_contrat": sub["contrat"], "b_annee": sub["annee"], "b_type": sub["type"],
         "b_destinataire": sub["destinataire_id"], "b_revue": sub["revue"] or 0}
    ).mappings().first()
    if previous is not None and previous["recu_le"] > recu_le:
        conn.execute(_WITH_DATA, {"b_id": sub_id, "b_nb": nb, "b_par": previous["id"]})
        return 0
    if previous is not None:
        conn.execute(_REPLACED, {"b_id": previous["id"], "b_par": sub_id})
    conn.execute(_WITH_DATA, {"b_id": sub_id, "b_nb": nb, "b_par": None})
    return 0 if previous is None else 1


@functools.cache
def _in_force(annee_null: bool):
    """The accepted return in force of a recipient (``b_…`` parameters; ``b_revue``: 0 for
    the annual one), built once per shape. Its terms are those of the partial unique index
    ``submissions_courante`` (the revue as ``coalesce(revue, 0)``, the index's own
    condition as it is written), so that both engines look it up there: matched on
    fewer columns, the year's returns were scanned for every file (quadratic)."""
    return select(_S.c.id, _S.c.recu_le).where(
        _S.c.contrat == bindparam("b_contrat"),
        _S.c.annee.is_(None) if annee_null else _S.c.annee == bindparam("b_annee"),
        func.coalesce(_S.c.revue, literal_column("0")) == bindparam("b_revue"),
        _S.c.type == bindparam("b_type"), _S.c.destinataire_id == bindparam("b_destinataire"),
        t.EN_VIGUEUR)


def _insert_submission(conn: Connection, sub: dict[str, Any]) -> int:
    return conn.execute(_insert_into(_S), sub).inserted_primary_key[0]


def _insert_data(conn: Connection, sub_id: int, sub: dict[str, Any],
                 lu: ClasseurLu) -> int:
    """Every section's rows; returns how many sections were stored."""
    sections = extract.unique_sections(lu)
    kind = lu.spec.kind
    if kind == "porteur":  # every action of the file in two statements
        if sections:
            _insert_bilans(conn, sub_id, sub, sections, extract.representant(lu))
        return len(sections)
    for key, section in sections:
        if kind in extract.NIVEAUX:
            _insert_synthese(conn, sub_id, sub, key, section, *extract.NIVEAUX[kind])
        elif kind == "decisions":
            _insert_decisions(conn, sub_id, sub, key, section)
        else:
            _insert_suivi(conn, sub_id, sub, key, section)
    return len(sections)


def _insert_many(conn: Connection, table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert_into(table), rows)


@functools.cache
def _insert_into(table):
    """A table's INSERT, built once (see the statements above)."""
    return insert(table)


def _insert_bilans(conn, sub_id, sub, sections, representant: str | None) -> None:
    """The bilans of a porteur's file and their budget lines (``rang``: the workbook's
    order of the lines)."""
    bilans, lignes = [], []
    for numero, section in sections:
        bilans.append({"submission_id": sub_id, "numero": numero, "contrat": sub["contrat"],
                       "annee": sub["annee"], **extract.bilan_row(section),
                       "representant": representant})
        lignes += [{"submission_id": sub_id, "numero": numero, "tableau": tableau,
                    "ligne": ligne, "prevu": prevu, "realise": realise, "rang": rang}
                   for rang, (tableau, ligne, prevu, realise) in enumerate(
                       extract.budget_rows(section), start=1)]
    _insert_many(conn, t.bilans, bilans)
    _insert_many(conn, t.budget_lignes, lignes)


def _insert_suivi(conn, sub_id, sub, code, section) -> None:
    conn.execute(insert(t.suivis), {
        "submission_id": sub_id, "code": code, "contrat": sub["contrat"],
        "annee": sub["annee"], "referent_id": sub["destinataire_id"],
        **extract.suivi_row(section)})
    key = {"submission_id": sub_id, "code": code}
    _insert_many(conn, t.indicateurs, [{**key, **row}
                                       for row in extract.indicator_rows(section)])
    _insert_many(conn, t.pistes, [{**key, **row} for row in extract.piste_rows(section)])


def _insert_synthese(conn, sub_id, sub, code, section, niveau, prefix) -> None:
    conn.execute(insert(t.syntheses), {
        "submission_id": sub_id, "niveau": niveau, "code": code, "contrat": sub["contrat"],
        "annee": sub["annee"], "revue": sub["revue"], "auteur_id": sub["destinataire_id"],
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
    rows = []
    for row in suivies:
        numero = row["numero"]
        if numero in seen:  # a row copied twice: the first one is the decision's state
            continue
        seen.add(numero)
        ouverte = opened.get(numero) or extract.opening_of(numero) or (sub["annee"],
                                                                       sub["revue"])
        rows.append({**key, **row, "nouvelle": 0, "ouverte_annee": ouverte[0],
                     "ouverte_revue": ouverte[1]})
    for row in nouvelles:
        numero = extract.numero_decision(pilier, sub["annee"], sub["revue"], row["rang"])
        if numero in seen:
            continue
        seen.add(numero)
        rows.append({**key, **row, "numero": numero, "nouvelle": 1,
                     "code": row["code"] or pilier, "statut": row["statut"] or "Ouverte",
                     "ouverte_annee": sub["annee"], "ouverte_revue": sub["revue"]})
    for row in rows:  # one statement each: the rows need not have the same columns
        conn.execute(insert(t.decisions).values(row))


def _openings(conn, contrat: str, numeros: list[str]) -> dict[str, tuple[int, int | None]]:
    """When each decision was first recorded (year, revue), from the store (one query)."""
    if not numeros:
        return {}
    d = t.decisions
    rows = conn.execute(
        select(d.c.numero, d.c.ouverte_annee, d.c.ouverte_revue)
        .where(d.c.contrat == contrat, d.c.numero.in_(numeros),
               d.c.ouverte_annee.is_not(None))
        .order_by(d.c.nouvelle.desc(), d.c.annee, func.coalesce(d.c.revue, 1_000_000)))
    found: dict[str, tuple[int, int | None]] = {}
    for numero, ouverte_annee, ouverte_revue in rows:
        found.setdefault(numero, (ouverte_annee, ouverte_revue))
    return found


def import_programmation(store: Store, contrat: str, annee: int,
                         programmation: Programmation | Iterable[Action]) -> int:
    """Replace the (contrat, année) snapshot; returns the number of actions stored.
    ``programmation``: in memory, or its actions one at a time (kept on disk: see
    :mod:`cv_excel.programmation.on_disk`), written by batches in one transaction."""
    pa, pf = t.programmation_actions, t.programmation_financements
    actions = (programmation.actions if isinstance(programmation, Programmation)
               else programmation)
    count = 0
    with store.transaction() as conn:
        _lock(conn, "programmation", contrat, annee)
        conn.execute(delete(pa).where(pa.c.contrat == contrat, pa.c.annee == annee))
        # (the financements follow: ON DELETE CASCADE)
        for batch in _batches(actions, _PROGRAMMATION_BATCH):
            rows, financements = [], []
            for action in batch:
                row, money = _programmation_rows(contrat, annee, action)
                rows.append(row)
                financements.extend(money)
            _insert_many(conn, pa, rows)
            _insert_many(conn, pf, financements)
            count += len(rows)
    return count


_PROGRAMMATION_BATCH = 500  # actions per INSERT: a few megabytes held, whatever the year


def _batches(items: Iterable[Action], size: int) -> Iterator[list[Action]]:
    batch: list[Action] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _programmation_rows(contrat: str, annee: int, action: Action
                        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored row of one programmed action, and those of its financements."""
    key = {"contrat": contrat, "annee": annee, "numero": action.numero}
    p = action.porteur
    row = {
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
        "unite": action.unite}
    financements = [{
        **key, "financeur": f.financeur,
        "demande": None if f.demande is None else str(f.demande),
        "accorde": None if f.accorde is None else str(f.accorde),
        "verse": None if f.verse is None else str(f.verse),
        "dates_versement": ";".join(d.isoformat() for d in f.dates_versement) or None}
        for f in action.financements]
    return row, financements


def _iso(date: dt.date | None) -> str | None:
    return None if date is None else date.isoformat()
