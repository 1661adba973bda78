"""Open the SQLite store, bring its schema up to date, run writes as transactions.

The schema version lives in ``PRAGMA user_version``; the pending migrations run
in one transaction together with the version bump, so a crash never leaves a
half migrated store. A store written by a newer cv_excel is refused rather than
misread. The default rollback journal (not WAL) is kept on purpose: working
folders often sit on a network share, where WAL is not safe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cv_excel.config import DossierTravail

STORE_FILE = "cv_excel.sqlite"
BUSY_TIMEOUT_MS = 30_000


class StoreIncompatible(Exception):
    """The store cannot be used by this version of cv_excel; the message is French."""


# Migration n (1-based) brings the schema from version n-1 to n. Never edit a
# released entry: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            nom TEXT NOT NULL,
            recu_le TEXT NOT NULL,
            type TEXT NOT NULL,
            classeur_id TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            destinataire_id TEXT NOT NULL,
            destinataire TEXT NOT NULL,
            statut TEXT NOT NULL,
            bloquants INTEGER NOT NULL,
            avertissements INTEGER NOT NULL,
            findings_json TEXT NOT NULL,
            nb_sections INTEGER NOT NULL DEFAULT 0,
            donnees INTEGER NOT NULL DEFAULT 0,
            importee_le TEXT NOT NULL,
            remplacee_par INTEGER REFERENCES submissions(id)
        )""",
        "CREATE INDEX submissions_annee ON submissions(contrat, annee)",
        # At most one accepted return in force per recipient and year.
        """CREATE UNIQUE INDEX submissions_courante
            ON submissions(contrat, annee, type, destinataire_id)
            WHERE donnees = 1 AND remplacee_par IS NULL""",
        """CREATE TABLE bilans (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            numero TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            realisation TEXT,
            date_debut TEXT,
            date_fin TEXT,
            benef_total INTEGER,
            benef_femmes INTEGER,
            benef_hommes INTEGER,
            benef_qpv INTEGER,
            benef_moins_12 INTEGER,
            benef_12_17 INTEGER,
            benef_18_25 INTEGER,
            benef_26_59 INTEGER,
            benef_60_plus INTEGER,
            score INTEGER,
            score_justification TEXT,
            mode_recueil TEXT,
            valeur_constatee TEXT,
            resultats TEXT,
            difficultes TEXT,
            perspectives TEXT,
            ecarts_explication TEXT,
            PRIMARY KEY (submission_id, numero)
        )""",
        """CREATE TABLE budget_lignes (
            submission_id INTEGER NOT NULL,
            numero TEXT NOT NULL,
            tableau TEXT NOT NULL,
            ligne TEXT NOT NULL,
            prevu TEXT,
            realise TEXT,
            PRIMARY KEY (submission_id, numero, tableau, ligne),
            FOREIGN KEY (submission_id, numero) REFERENCES bilans(submission_id, numero)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE suivis (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            referent_id TEXT NOT NULL,
            avancement TEXT,
            actions_realisees TEXT,
            actions_en_cours TEXT,
            resultats TEXT,
            difficultes TEXT,
            propositions TEXT,
            PRIMARY KEY (submission_id, code)
        )""",
        """CREATE TABLE indicateurs (
            submission_id INTEGER NOT NULL,
            code TEXT NOT NULL,
            propose INTEGER NOT NULL,
            rang INTEGER NOT NULL,
            libelle TEXT NOT NULL,
            type TEXT,
            valeur_cible TEXT,
            valeur_precedente TEXT,
            valeur_annee TEXT,
            source TEXT,
            commentaire TEXT,
            PRIMARY KEY (submission_id, code, propose, rang),
            FOREIGN KEY (submission_id, code) REFERENCES suivis(submission_id, code)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE programmation_actions (
            contrat TEXT NOT NULL,
            annee INTEGER NOT NULL,
            numero TEXT NOT NULL,
            porteur_siret TEXT NOT NULL,
            porteur_raison_sociale TEXT NOT NULL,
            porteur_type TEXT NOT NULL,
            porteur_rna TEXT,
            porteur_contact TEXT NOT NULL,
            porteur_email TEXT NOT NULL,
            intitule TEXT NOT NULL,
            objectif_operationnel TEXT NOT NULL,
            theme_anct TEXT,
            sous_theme_anct TEXT,
            territoire TEXT NOT NULL,
            departement_dispositif TEXT,
            indicateur TEXT NOT NULL,
            mode_recueil TEXT NOT NULL,
            PRIMARY KEY (contrat, annee, numero)
        )""",
        """CREATE TABLE programmation_financements (
            contrat TEXT NOT NULL,
            annee INTEGER NOT NULL,
            numero TEXT NOT NULL,
            financeur TEXT NOT NULL,
            demande TEXT,
            accorde TEXT,
            PRIMARY KEY (contrat, annee, numero, financeur),
            FOREIGN KEY (contrat, annee, numero)
                REFERENCES programmation_actions(contrat, annee, numero) ON DELETE CASCADE
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """One open store: the connection, and the only way to write (:meth:`transaction`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; any exception rolls everything back and propagates.

        IMMEDIATE takes the write lock up front, so two imports never interleave.
        """
        if self.conn.in_transaction:
            raise RuntimeError("transaction déjà ouverte sur ce magasin de données")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # a failed COMMIT (disk full…) leaves it open
                self.conn.execute("ROLLBACK")
            raise

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_store_path(work: DossierTravail) -> Path:
    """The store lives in the working folder, next to the files it summarises."""
    return work.root / STORE_FILE


def open_store(path: Path | str) -> Store:
    """Open (or create) the store at ``path`` and migrate it to :data:`SCHEMA_VERSION`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions, Store.transaction() decides.
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        store = Store(conn, path)
        _migrate(store)
    except BaseException:
        conn.close()
        raise
    return store


def _check_version(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreIncompatible(
            f"Le magasin de données {path} a été écrit par une version plus récente de "
            f"cv_excel (schéma {version}, cette version connaît jusqu'au schéma "
            f"{SCHEMA_VERSION}) : mettez cv_excel à jour avant de l'utiliser."
        )


def _migrate(store: Store) -> None:
    try:
        _check_version(store.version, store.path)
    except sqlite3.DatabaseError as exc:
        raise StoreIncompatible(
            f"Le fichier {store.path} n'est pas un magasin de données cv_excel lisible : {exc}."
        ) from exc
    if store.version == SCHEMA_VERSION:
        return
    with store.transaction() as conn:
        version = store.version  # again under the write lock: another process may have won
        _check_version(version, store.path)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
