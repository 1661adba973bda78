"""Open the SQLite store, bring its schema up to date, run writes as transactions.

The schema version lives in ``PRAGMA user_version``; the pending migrations run
in one transaction together with the version bump, so a crash never leaves a
half migrated store. A store written by a newer cv_excel is refused rather than
misread, and so is anything at the store's place that is not a sound cv_excel
store (empty file, other file, other database, damaged, read-only): it is never
replaced. A new store is built aside and put in place in one step. The default
rollback journal (not WAL) is kept on purpose: working folders often sit on a
network share, where WAL is not safe.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cv_excel.config import DossierTravail
from cv_excel.errors import DefautDossier, defaut_de

STORE_FILE = "cv_excel.sqlite"
BUSY_TIMEOUT_MS = 30_000
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreIncompatible(DefautDossier):
    """The store cannot be used (damaged, foreign, read-only, newer); French message."""


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
    # 2: conventions and payments (issue 11). Dates are ISO text; several payment dates
    # of one financeur are joined with « ; » in chronological order.
    (
        "ALTER TABLE programmation_actions ADD COLUMN convention_numero TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN convention_date TEXT",
        "ALTER TABLE programmation_financements ADD COLUMN verse TEXT",
        "ALTER TABLE programmation_financements ADD COLUMN dates_versement TEXT",
    ),
    # 3: the bilan's Cerfa 15059 texts (issue 11): lieu(x) de réalisation, observations,
    # règle de répartition des charges indirectes. New budget lines need no change: they
    # are rows of budget_lignes under their own keys.
    (
        "ALTER TABLE bilans ADD COLUMN lieux_realisation TEXT",
        "ALTER TABLE bilans ADD COLUMN observations TEXT",
        "ALTER TABLE bilans ADD COLUMN repartition_charges_indirectes TEXT",
    ),
    # 4: the État's references of an action (issue 11): Dauphin dossier, codes of the
    # nomenclature des crédits du P147, the State's dispositifs (joined with « ; ») and
    # the QPV code.
    (
        "ALTER TABLE programmation_actions ADD COLUMN dossier_dauphin TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN theme_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN sous_theme_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN modalite_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN dispositifs_etat TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN code_qpv TEXT",
    ),
    # 5: the action's quantified objective (issue 11): what is counted, the target (decimal
    # text) and its unit in the programmation; the value reached (decimal text) in the bilan.
    (
        "ALTER TABLE programmation_actions ADD COLUMN objectif_quantifie TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN valeur_cible TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN unite TEXT",
        "ALTER TABLE bilans ADD COLUMN valeur_atteinte TEXT",
    ),
    # 6: the governance cycle (issue 10). A submission belongs to a revue (NULL: annual —
    # porteurs, référents of the old annual mode); one accepted return is in force per
    # recipient, year AND revue. The référents' indicators carry a unit, a reference and
    # the basket choice; the pistes d'action their state; pilotes and coordonnateurs write
    # one synthesis per objectif stratégique / orientation; the relevés de décisions give
    # every decision's state at a revue (numbered by the store, see store.imports).
    (
        "ALTER TABLE submissions ADD COLUMN revue INTEGER",
        "DROP INDEX submissions_courante",
        """CREATE UNIQUE INDEX submissions_courante
            ON submissions(contrat, annee, COALESCE(revue, 0), type, destinataire_id)
            WHERE donnees = 1 AND remplacee_par IS NULL""",
        "CREATE INDEX submissions_type ON submissions(contrat, type, annee)",
        "ALTER TABLE indicateurs ADD COLUMN unite TEXT",
        "ALTER TABLE indicateurs ADD COLUMN valeur_reference TEXT",
        "ALTER TABLE indicateurs ADD COLUMN annee_reference INTEGER",
        "ALTER TABLE indicateurs ADD COLUMN panier TEXT",
        "ALTER TABLE indicateurs ADD COLUMN cible_fiche TEXT",
        """CREATE TABLE pistes (
            submission_id INTEGER NOT NULL,
            code TEXT NOT NULL,
            rang INTEGER NOT NULL,
            libelle TEXT NOT NULL,
            etat TEXT,
            commentaire TEXT,
            PRIMARY KEY (submission_id, code, rang),
            FOREIGN KEY (submission_id, code) REFERENCES suivis(submission_id, code)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE syntheses (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            niveau TEXT NOT NULL,
            code TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            revue INTEGER,
            auteur_id TEXT NOT NULL,
            avancement TEXT,
            rag TEXT,
            synthese TEXT,
            difficultes TEXT,
            propositions TEXT,
            PRIMARY KEY (submission_id, code)
        )""",
        """CREATE TABLE decisions (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            numero TEXT NOT NULL,
            pilier TEXT NOT NULL,
            code TEXT,
            contrat TEXT NOT NULL,
            annee INTEGER,
            revue INTEGER,
            rang INTEGER NOT NULL,
            nouvelle INTEGER NOT NULL,
            decision TEXT,
            type TEXT,
            responsable TEXT,
            echeance TEXT,
            statut TEXT,
            commentaire TEXT,
            ouverte_annee INTEGER,
            ouverte_revue INTEGER,
            PRIMARY KEY (submission_id, numero)
        )""",
        "CREATE INDEX decisions_numero ON decisions(contrat, numero)",
    ),
    (
        # The porteur's legal representative (« Représentant légal ») of the workbook, kept
        # with each action's bilan: the compte rendu financier is signed in that name.
        "ALTER TABLE bilans ADD COLUMN representant TEXT",
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
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # a failed COMMIT (disk full…) leaves it open
                with suppress(sqlite3.Error):  # the first error is the one to tell
                    self.conn.execute("ROLLBACK")
            fault = _fault(self.path, exc)
            if fault is not None:
                raise fault from exc
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
    """Open the store at ``path`` — created when there is no file — check that it is a
    readable and writable cv_excel store, and migrate it to :data:`SCHEMA_VERSION`.

    Anything else found at ``path`` (an empty file, a file that is not SQLite, another
    application's database, a damaged or read-only store, a newer schema) raises
    :class:`StoreIncompatible`, and the file is left exactly as it was.
    """
    path = Path(path)
    if not os.path.lexists(path):
        _create(path)
    _check_file(path)
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise (_fault(path, exc) or _damaged(path, exc)) from exc
    try:
        store = Store(conn, path)
        version = _check_content(store)
        if version == SCHEMA_VERSION:
            _probe_write(store)
        else:
            _migrate(store)  # writes: the same proof that the store is writable
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise (_fault(path, exc) or _damaged(path, exc)) from exc
        raise
    return store


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions, Store.transaction() decides.
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _create(path: Path) -> None:
    """Build a new store aside, then put it in place in one step: a run killed while
    creating it leaves no empty file (which would be refused) at ``path``."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".sqlite")
        os.close(fd)
        tmp = Path(name)
        conn = _connect(tmp)
        try:
            _migrate(Store(conn, path))
        finally:
            conn.close()
        try:
            os.link(tmp, path)  # never replaces a store another process just created
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            if not os.path.lexists(path):
                os.replace(tmp, path)
    except OSError as exc:
        raise StoreIncompatible(
            f"Le magasin de données {path} ne peut pas être créé ({exc.strerror or exc}) : "
            f"vérifiez que le dossier {path.parent} est bien un dossier, modifiable, et qu'il "
            "reste de la place, puis relancez.") from exc
    except sqlite3.Error as exc:
        raise (_fault(path, exc) or StoreIncompatible(
            f"Le magasin de données {path} ne peut pas être créé : {exc}.")) from exc
    finally:
        if tmp is not None:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                with suppress(OSError):
                    leftover.unlink(missing_ok=True)


def _recovery(path: Path) -> str:
    return (f"Il n'est pas modifié. Restaurez {path.name} depuis une sauvegarde du dossier "
            f"de travail ; à défaut, renommez-le (par exemple en {path.name}.abime) puis "
            "lancez « cv-excel traiter » : un magasin vide est créé et les retours encore "
            "présents dans le dossier des retours y sont enregistrés à nouveau (tous les "
            "fichiers reçus sont conservés dans le dossier des archives).")


def _damaged(path: Path, detail: object) -> StoreIncompatible:
    return StoreIncompatible(
        f"Le fichier {path} n'est pas un magasin de données cv_excel lisible : il est "
        f"endommagé ({detail}). {_recovery(path)}")


def _fault(path: Path, exc: BaseException) -> DefautDossier | None:
    """The French fault an SQLite or OS error on the store stands for (None: a bug)."""
    if isinstance(exc, OSError):
        return defaut_de(exc)
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return StoreIncompatible(
            f"Le magasin de données {path} ne peut pas être écrit : le fichier ou son dossier "
            f"{path.parent} est en lecture seule (droits, support protégé) ({exc}). Faites "
            "rétablir les droits d'écriture sur les deux, puis relancez.")
    if name.startswith("SQLITE_FULL"):
        return StoreIncompatible(
            f"Disque plein : le magasin de données {path} ne peut pas être écrit ; il est "
            "resté dans son état précédent. Libérez de la place, puis relancez.")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return _damaged(path, exc)
    if name.startswith("SQLITE_IOERR"):
        return StoreIncompatible(
            f"Erreur de lecture ou d'écriture sur le magasin de données {path} ({exc}) : "
            "vérifiez le disque ou le partage réseau (et qu'il reste de la place), puis "
            "relancez.")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreIncompatible(
            f"Le magasin de données {path} est bloqué par un autre programme depuis plus de "
            f"{BUSY_TIMEOUT_MS // 1000} s (un outil SQLite l'a-t-il ouvert ?) : fermez-le, "
            "puis relancez.")
    return None


def _check_file(path: Path) -> None:
    """Refuse, before SQLite sees it, what is not an SQLite file at all."""
    if not path.is_file():
        raise StoreIncompatible(
            f"{path} n'est pas un fichier : le magasin de données cv_excel doit être un "
            "fichier à cet endroit. Renommez ou déplacez ce qui s'y trouve, puis relancez.")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise (_fault(path, exc) or _damaged(path, exc.strerror)) from exc
    if not head:
        raise StoreIncompatible(
            f"Le magasin de données {path} est vide (0 octet : écriture interrompue ou copie "
            f"ratée ?) : ce n'est pas un magasin utilisable. {_recovery(path)}")
    if head != SQLITE_HEADER:
        raise StoreIncompatible(
            f"Le fichier {path} n'est pas un magasin de données cv_excel lisible : ce n'est "
            f"pas une base SQLite (fichier endommagé ou remplacé). {_recovery(path)}")


def _tables(version: int) -> set[str]:
    """The tables a store of schema ``version`` has."""
    return {m.group(1) for statements in MIGRATIONS[:version] for s in statements
            if (m := re.match(r"\s*CREATE TABLE (\w+)", s))}


def _check_content(store: Store) -> int:
    """Read the store for real (SQLite opens lazily): its version, its tables, a quick
    integrity check. Return the schema version."""
    conn, path = store.conn, store.path
    version = store.version
    tables = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    check = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
    if check != ["ok"]:
        raise _damaged(path, " ; ".join(map(str, check)))
    _check_version(version, path)
    missing = _tables(version) - tables
    if (version == 0 and tables) or missing:
        found = ", ".join(sorted(tables)[:6]) or "aucune"
        raise StoreIncompatible(
            f"Le fichier {path} est une base SQLite, mais pas un magasin de données "
            f"cv_excel (tables trouvées : {found}). Une autre application l'a-t-elle mise "
            f"là ? {_recovery(path)}")
    return version


def _probe_write(store: Store) -> None:
    """Fail now, not halfway through a run, when the store cannot be written (a
    read-only file or folder): a change is started, then rolled back."""
    conn = store.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


def _check_version(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreIncompatible(
            f"Le magasin de données {path} a été écrit par une version plus récente de "
            f"cv_excel (schéma {version}, cette version connaît jusqu'au schéma "
            f"{SCHEMA_VERSION}) : mettez cv_excel à jour avant de l'utiliser."
        )


def _migrate(store: Store) -> None:
    _check_version(store.version, store.path)
    if store.version == SCHEMA_VERSION:
        return
    with store.transaction() as conn:
        version = store.version  # again under the write lock: another process may have won
        _check_version(version, store.path)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
