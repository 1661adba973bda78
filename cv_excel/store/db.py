"""Open the store — an SQLite file (the default) or a PostgreSQL database — bring its
schema up to date, run writes as transactions.

The schema is :mod:`cv_excel.store.schema`; Alembic's migrations
(``cv_excel/store/migrations``) bring an older store to it, in the transaction that
records the new revision, so a crash never leaves a half migrated store. SQLite stores
of the hand-written era (``PRAGMA user_version`` 1-7, no ``alembic_version`` table)
are stamped at their revision and upgraded in place. A store written by a newer
cv_excel is refused rather than misread, and so is anything at the store's place that
is not a sound cv_excel store (empty file, other file, other database, damaged,
read-only): it is never replaced.

SQLite: a new store is built aside and put in place in one step; the default rollback
journal (not WAL) is kept on purpose — working folders often sit on a network share,
where WAL is not safe; a write transaction takes the write lock up front (``BEGIN
IMMEDIATE``); a long run of writes (a validation of thousands of files) may group them
(:meth:`Store.groupe`): each stays atomic in its own savepoint, and they are committed
together every few hundred files or every second, since on a disk each commit waits
for the data to reach it (several milliseconds). PostgreSQL: the server's own locks
(see :mod:`cv_excel.store.imports`), one commit per transaction.
Every fault a user can fix is a French :class:`StoreIncompatible`, naming the store
without its password.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import URL, Row, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from cv_excel.atomic import write_text_atomic
from cv_excel.config import DossierTravail
from cv_excel.errors import DefautDossier, defaut_de
from cv_excel.filestamp import file_signature
from cv_excel.store.schema import HEAD

STORE_FILE = "cv_excel.sqlite"
BUSY_TIMEOUT_MS = 30_000
GROUPE_TRANSACTIONS = 500  # SQLite, in a group: transactions per commit, at most
GROUPE_SECONDES = 1.0  # … and seconds between the first of them and the commit
CONNECT_TIMEOUT_S = 10  # PostgreSQL: an unreachable server is said, not waited for
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = int(HEAD)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The tables each revision created (a store missing one of its revision's tables is not
# a cv_excel store).
_NEW_TABLES = {
    1: {"submissions", "bilans", "budget_lignes", "suivis", "indicateurs",
        "programmation_actions", "programmation_financements"},
    6: {"pistes", "syntheses", "decisions"},
}
# pg_advisory_xact_lock key held while a PostgreSQL store's schema is created or upgraded
# (two machines opening a new database at once).
_SCHEMA_LOCK = 0x63765F6578636C  # "cv_excl"
_WRITE = "cv_excel_ecriture"  # execution option: this transaction writes


class StoreIncompatible(DefautDossier):
    """The store cannot be used (damaged, foreign, read-only, newer, unreachable); French
    message."""


class Store:
    """One open store: its engine, and the only way to write (:meth:`transaction`)."""

    def __init__(self, engine: Engine, path: Path | None = None, url: URL | None = None):
        self.engine = engine
        self.path = path  # the SQLite file; None on a server
        self.url = url if url is not None else engine.url
        self._writing = threading.local()
        self._groupe: _Groupe | None = None

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def describe(self) -> str:
        """The store as a user may read it: the file, or the URL without its password."""
        if self.path is not None:
            return str(self.path)
        return _hide(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed at the end, rolled back on any exception
        (which propagates, as a French :class:`StoreIncompatible` when the store itself
        failed). On SQLite the write lock is taken up front (BEGIN IMMEDIATE), so two
        writers never interleave."""
        if getattr(self._writing, "open", False):
            raise RuntimeError("transaction déjà ouverte sur ce magasin de données")
        self._writing.open = True
        try:
            groupe = self._groupe
            if groupe is not None and groupe.thread == threading.get_ident():
                with self._en_francais(), groupe.savepoint() as conn:
                    yield conn
                with self._en_francais():
                    groupe.maybe_commit()
                return
            with self._en_francais(), self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
        finally:
            self._writing.open = False

    @contextmanager
    def groupe(self, transactions: int = GROUPE_TRANSACTIONS,
               secondes: float = GROUPE_SECONDES) -> Iterator[None]:
        """Within: on SQLite, this thread's :meth:`transaction` calls are savepoints of one
        transaction committed every ``transactions`` of them or ``secondes`` after its
        first one, and on leaving. Each stays all or nothing (an exception rolls back its
        own savepoint only). A process stopped in between loses the uncommitted ones
        entirely, never part of one: callers whose journal is written after the group (the
        validation's) do that work again. Elsewhere (PostgreSQL: concurrent writers, row
        locks held until the commit), a no-op."""
        if self.dialect != "sqlite" or self._groupe is not None:
            yield
            return
        with self._en_francais(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            self._groupe = groupe = _Groupe(conn, transactions, secondes)
            try:
                yield
            except BaseException:
                with suppress(Exception):  # what is complete is kept; a failure is said
                    groupe.commit()
                raise
            else:
                groupe.commit()
            finally:
                self._groupe = None

    def confirmer(self) -> None:
        """Commit the transactions of the group in progress (:meth:`groupe`) now."""
        if self._groupe is not None:
            with self._en_francais():
                self._groupe.commit()

    @contextmanager
    def lecture(self) -> Iterator[Connection]:
        """One read transaction: every query inside sees the same committed state (an
        import committing meanwhile is seen entirely or not at all)."""
        with self._en_francais(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _en_francais(self) -> Iterator[None]:
        """A fault of the store's engine or file, raised as the French fault it stands for
        (anything else — a bug — as it is)."""
        try:
            yield
        except BaseException as exc:
            fault = _fault(self, exc)
            if fault is not None:
                raise fault from exc
            raise

    def execute(self, statement: Any, params: dict[str, Any] | None = None) -> list[Row]:
        """Run one statement (SQL text or SQLAlchemy Core) in its own write transaction and
        return its rows: for maintenance and tests; the store's modules build theirs from
        :mod:`cv_excel.store.schema`."""
        if isinstance(statement, str):
            statement = text(statement)
        with self.transaction() as conn:
            result = conn.execute(statement, params or {})
            return list(result) if result.returns_rows else []

    @property
    def version(self) -> int:
        """The schema revision the store is at, as a number (``0008`` → 8)."""
        with self.engine.connect() as conn:
            return _revision_of(conn)[0]

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Groupe:
    """The open transaction of :meth:`Store.groupe` and when to commit it."""

    def __init__(self, conn: Connection, transactions: int, secondes: float):
        self.conn, self.transactions, self.secondes = conn, transactions, secondes
        self.thread = threading.get_ident()
        self.count, self.debut = 0, 0.0

    @contextmanager
    def savepoint(self) -> Iterator[Connection]:
        if not self.conn.in_transaction():  # BEGIN IMMEDIATE: the write lock, up front
            self.conn.begin()
            self.count, self.debut = 0, time.monotonic()
        with self.conn.begin_nested():
            yield self.conn
        self.count += 1

    def maybe_commit(self) -> None:
        if self.count >= self.transactions or time.monotonic() - self.debut >= self.secondes:
            self.commit()

    def commit(self) -> None:
        if self.conn.in_transaction():
            self.conn.commit()


def default_store_path(work: DossierTravail) -> Path:
    """The store lives in the working folder, next to the files it summarises."""
    return work.root / STORE_FILE


def store_target(work: DossierTravail) -> Path | str:
    """Where the folder's store is: ``base`` of its configuration (``CV_EXCEL_BASE``) — a
    server's URL, or an SQLite file relative to the folder — else the folder's own file."""
    base = work.config.base.strip()
    if not base:
        return default_store_path(work)
    if "://" in base:
        return base
    return work.root / base


def store_exists(target: Path | str) -> bool:
    """Whether there is a store to read at ``target`` without creating one: the SQLite
    file exists; a server's database is always taken as there (opening it says if not)."""
    where = _parse_target(target)
    return not isinstance(where, Path) or os.path.lexists(where)


def open_store(target: Path | str) -> Store:
    """Open the store at ``target`` — an SQLite file (created when there is none) or a
    ``postgresql://`` / ``sqlite:///`` URL — check that it is a readable and writable
    cv_excel store, and migrate it to the latest revision.

    Anything else found there (an empty file, a file that is not SQLite, another
    application's database, a damaged or read-only store, a newer schema, a server that
    cannot be reached or refuses the account) raises :class:`StoreIncompatible`, and the
    store is left exactly as it was.
    """
    where = _parse_target(target)
    if isinstance(where, Path):
        return _open_sqlite(where)
    return _open_postgres(where)


def _parse_target(target: Path | str) -> Path | URL:
    if isinstance(target, Path) or "://" not in str(target):
        return Path(target)
    try:
        url = make_url(str(target))
    except (ArgumentError, ValueError) as exc:
        raise StoreIncompatible(
            f"L'adresse du magasin de données « {_hide_text(str(target))} » n'est pas une "
            "adresse valide : corrigez « base » dans cv_excel.toml (ou CV_EXCEL_BASE), par "
            "exemple postgresql://utilisateur@serveur/base, puis relancez.") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreIncompatible(
                "L'adresse sqlite:/// du magasin de données doit nommer un fichier (par "
                "exemple sqlite:///C:/suivi/cv_excel.sqlite) : corrigez « base », puis "
                "relancez.")
        return Path(url.database)
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    raise StoreIncompatible(
        f"Le magasin de données « {_hide(url)} » n'est ni un fichier SQLite ni une base "
        "PostgreSQL (postgresql://…) : cv_excel ne connaît que ces deux-là. Corrigez « base » "
        "dans cv_excel.toml (ou CV_EXCEL_BASE), puis relancez.")


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(URL.create("sqlite+pysqlite", database=str(path)),
                           connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # No implicit transactions from the driver: the "begin" event below decides (the
    # SQLAlchemy documentation's recipe for SQLite's transactional reads and DDL).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE for writes: the write lock up front, never a deadlock between two
    # writers that both started reading; a plain (deferred) BEGIN for reads.
    immediate = conn.get_execution_options().get(_WRITE)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _open_sqlite(path: Path) -> Store:
    if not os.path.lexists(path):
        _create(path)
    _check_file(path)
    store = Store(_sqlite_engine(path), path=path)
    try:
        if _check_content(store) == SCHEMA_VERSION:
            _probe_write(store)
        else:
            _migrate(store)  # writes: the same proof that the store is writable
    except BaseException as exc:
        store.close()
        if isinstance(exc, DBAPIError | sqlite3.Error):
            raise (_fault(store, exc) or _damaged(path, _orig(exc))) from exc
        raise
    return store


def _create(path: Path) -> None:
    """Build a new store aside, then put it in place in one step: a run killed while
    creating it leaves no empty file (which would be refused) at ``path``."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".sqlite")
        os.close(fd)
        tmp = Path(name)
        store = Store(_sqlite_engine(tmp), path=path)
        try:
            _migrate(store)
        finally:
            store.close()
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
    except (DBAPIError, sqlite3.Error) as exc:
        raise (_sqlite_fault(path, _orig(exc)) or StoreIncompatible(
            f"Le magasin de données {path} ne peut pas être créé : {_orig(exc)}.")) from exc
    finally:
        if tmp is not None:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                with suppress(OSError):
                    leftover.unlink(missing_ok=True)


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
        raise (defaut_de(exc) or _damaged(path, exc.strerror)) from exc
    if not head:
        raise StoreIncompatible(
            f"Le magasin de données {path} est vide (0 octet : écriture interrompue ou copie "
            f"ratée ?) : ce n'est pas un magasin utilisable. {_recovery(path)}")
    if head != SQLITE_HEADER:
        raise StoreIncompatible(
            f"Le fichier {path} n'est pas un magasin de données cv_excel lisible : ce n'est "
            f"pas une base SQLite (fichier endommagé ou remplacé). {_recovery(path)}")


def _probe_write(store: Store) -> None:
    """Fail now, not halfway through a run, when the store cannot be written: on SQLite
    a change is started, then rolled back (a read-only file or folder fails here); on
    PostgreSQL the account's rights on every table are asked."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            conn.execution_options(**{_WRITE: True})
            with conn.begin() as tx:
                conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
                tx.rollback()
            return
        from cv_excel.store.schema import metadata

        asked = [(table.name, right) for table in metadata.sorted_tables
                 for right in ("SELECT", "INSERT", "UPDATE", "DELETE")]
        granted = conn.execute(select(*(func.has_table_privilege(t, r) for t, r in asked))
                               ).one()  # one round trip
        conn.rollback()
        missing = [f"{r} sur {t}" for (t, r), ok in zip(asked, granted, strict=True) if not ok]
    if missing:
        raise StoreIncompatible(
            f"Le compte {store.url.username or '(par défaut)'} n'a pas les droits "
            f"nécessaires sur le magasin de données {store.describe()} (manquent : "
            f"{', '.join(missing[:4])}{'…' if len(missing) > 4 else ''}). Faites-lui donner "
            "les droits de lecture et d'écriture sur les tables du magasin, puis relancez.")


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_engine(url: URL) -> Engine:
    args: dict[str, Any] = {"application_name": "cv_excel"}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=args)


def _open_postgres(url: URL) -> Store:
    store = Store(_postgres_engine(url), url=url)
    try:
        if _check_content(store) != SCHEMA_VERSION:
            _migrate(store)
        _probe_write(store)
    except BaseException as exc:
        store.close()
        fault = _fault(store, exc)
        if fault is not None:
            raise fault from exc
        raise
    return store


# --- content and migrations -------------------------------------------------------------


def _revision_of(conn: Connection) -> tuple[int, set[str], bool]:
    """(revision number, tables, has an ``alembic_version`` table). A store without
    Alembic's table is at its ``PRAGMA user_version`` (SQLite stores of cv_excel before
    Alembic; 0: a new store). An unreadable revision counts as newer than any."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if not found:
            return 0, tables, True
        try:
            return max(int(v) for v in found), tables, True
        except ValueError:
            return 10_000, tables, True
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("PRAGMA user_version").scalar() or 0, tables, False
    return 0, tables, False


def _tables(version: int) -> set[str]:
    """The tables a store of schema ``version`` has."""
    return {t for number, new in _NEW_TABLES.items() if number <= version for t in new}


def _check_content(store: Store) -> int:
    """Read the store for real (SQLite opens lazily): its revision, its tables, on SQLite
    a quick integrity check. Return the schema revision, as a number."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite" and not _checked_before(store.path):
            before = file_signature(store.path)
            check = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(3)")]
            if check != ["ok"]:
                raise _damaged(store.path, " ; ".join(map(str, check)))
            if before is not None and before == file_signature(store.path):
                _remember_checked(store.path, before)
        version, tables, _ = _revision_of(conn)
        conn.rollback()
    _check_version(version, store)
    tables.discard("alembic_version")
    missing = _tables(version) - tables
    if (version == 0 and tables) or missing:
        found = ", ".join(sorted(tables)[:6]) or "aucune"
        if store.path is None:
            raise StoreIncompatible(
                f"La base {store.describe()} contient déjà des tables qui ne sont pas celles "
                f"d'un magasin de données cv_excel (tables trouvées : {found}). Indiquez une "
                "base vide (elle sera préparée) ou un magasin cv_excel, puis relancez.")
        raise StoreIncompatible(
            f"Le fichier {store.path} est une base SQLite, mais pas un magasin de données "
            f"cv_excel (tables trouvées : {found}). Une autre application l'a-t-elle mise "
            f"là ? {_recovery(store.path)}")
    return version


# The integrity check reads the whole file: at 10,000 returns it was most of a run with
# nothing new. A store file whose signature (size, times, inode) is the one it had when it
# last passed the check, with no journal left by an interrupted write, was not written
# since: the check is not repeated. Any write — by cv_excel or anything else — changes
# the signature, and the next opening checks again.
def _check_record(path: Path) -> Path:
    return path.with_name(f".{path.name}.controle")


def _checked_before(path: Path) -> bool:
    if os.path.lexists(path.with_name(path.name + "-journal")):
        return False
    try:
        recorded = _check_record(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(recorded) and recorded == file_signature(path)


def _remember_checked(path: Path, sig: str) -> None:
    with suppress(OSError):  # a read-only folder: the check runs every time, as before
        write_text_atomic(_check_record(path), sig + "\n")


def _check_version(version: int, store: Store) -> None:
    if version > SCHEMA_VERSION:
        shown = version if version < 10_000 else "inconnu"
        raise StoreIncompatible(
            f"Le magasin de données {store.describe()} a été écrit par une version plus "
            f"récente de cv_excel (schéma {shown}, cette version connaît jusqu'au schéma "
            f"{SCHEMA_VERSION}) : mettez cv_excel à jour avant de l'utiliser."
        )


def _migrate(store: Store) -> None:
    """Bring the store to the latest revision, in one transaction with the new revision
    (and, on SQLite, ``PRAGMA user_version``, which an older cv_excel reads to refuse a
    newer store)."""
    with store.transaction() as conn:
        if store.dialect == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
        version, _, stamped = _revision_of(conn)  # again under the lock: another won?
        _check_version(version, store)
        if version == SCHEMA_VERSION:
            return
        upgrade(conn, version, stamped)
        if store.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def alembic_config(conn: Connection):
    """Alembic's configuration, without an ini file: the migrations of this package, run
    on ``conn`` (see ``migrations/env.py``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def upgrade(conn: Connection, version: int, stamped: bool) -> None:
    """Run the migrations after revision ``version`` on ``conn`` (inside the caller's
    transaction); a store of the hand-written era is first stamped at its revision."""
    from alembic import command

    config = alembic_config(conn)
    if version and not stamped:
        command.stamp(config, f"{version:04d}")
    command.upgrade(config, HEAD)


# --- faults -----------------------------------------------------------------------------


def _recovery(path: Path) -> str:
    return (f"Il n'est pas modifié. Restaurez {path.name} depuis une sauvegarde du dossier "
            f"de travail ; à défaut, renommez-le (par exemple en {path.name}.abime) puis "
            "lancez « cv-excel traiter » : un magasin vide est créé et les retours encore "
            "présents dans le dossier des retours y sont enregistrés à nouveau (tous les "
            "fichiers reçus sont conservés dans le dossier des archives). Si ce magasin est "
            "partagé par plusieurs contrats (réglage « base »), lancez « cv-excel traiter » "
            "dans le dossier de travail de chacun d'eux.")


def _damaged(path: Path | None, detail: object) -> StoreIncompatible:
    return StoreIncompatible(
        f"Le fichier {path} n'est pas un magasin de données cv_excel lisible : il est "
        f"endommagé ({detail}). {_recovery(Path(str(path)))}")


def _orig(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def _fault(store: Store, exc: BaseException) -> DefautDossier | None:
    """The French fault an error of the store stands for (None: a bug, or an error the
    caller handles, such as a constraint violation)."""
    if isinstance(exc, DefautDossier):
        return None
    if isinstance(exc, OSError):
        return defaut_de(exc)
    orig = _orig(exc)
    if isinstance(orig, sqlite3.Error):
        return _sqlite_fault(store.path, orig)
    if type(orig).__module__.split(".")[0] == "psycopg":
        return _postgres_fault(store, orig)
    return None


def _sqlite_fault(path: Path | None, exc: sqlite3.Error) -> DefautDossier | None:
    name = getattr(exc, "sqlite_errorname", "") or ""
    where = Path(str(path))
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return StoreIncompatible(
            f"Le magasin de données {where} ne peut pas être écrit : le fichier ou son dossier "
            f"{where.parent} est en lecture seule (droits, support protégé) ({exc}). Faites "
            "rétablir les droits d'écriture sur les deux, puis relancez.")
    if name.startswith("SQLITE_FULL"):
        return StoreIncompatible(
            f"Disque plein : le magasin de données {where} ne peut pas être écrit ; il est "
            "resté dans son état précédent. Libérez de la place, puis relancez.")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return _damaged(where, exc)
    if name.startswith("SQLITE_IOERR"):
        return StoreIncompatible(
            f"Erreur de lecture ou d'écriture sur le magasin de données {where} ({exc}) : "
            "vérifiez le disque ou le partage réseau (et qu'il reste de la place), puis "
            "relancez.")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreIncompatible(
            f"Le magasin de données {where} est bloqué par un autre programme depuis plus de "
            f"{BUSY_TIMEOUT_MS // 1000} s (un outil SQLite l'a-t-il ouvert ?) : fermez-le, "
            "puis relancez.")
    return None


_AUTH = re.compile(r"password authentication failed|no password supplied|authentication "
                   r"failed|authentification|mot de passe", re.IGNORECASE)
_NO_DB = re.compile(r'database "[^"]*" does not exist|la base de données « ?[^»]*»? n\'existe',
                    re.IGNORECASE)
_DENIED = re.compile(r"permission denied|droit refusé|must be owner", re.IGNORECASE)


def _postgres_fault(store: Store, exc: BaseException) -> DefautDossier | None:
    """French faults of a PostgreSQL store: unreachable server, refused account, missing
    database, rights, full disk. Never with a password (see :func:`_hide_text`)."""
    state = getattr(exc, "sqlstate", None) or ""
    message = str(exc)
    detail = _hide_text(" ".join(message.split())[:300], store.url)
    where = store.describe()
    user = store.url.username or "(compte par défaut)"
    if state in ("28P01", "28000") or _AUTH.search(message):
        return StoreIncompatible(
            f"Le serveur PostgreSQL du magasin de données ({where}) refuse la connexion du "
            f"compte {user} : identifiant ou mot de passe incorrect ({detail}). Le mot de "
            "passe se donne dans la variable d'environnement PGPASSWORD ou dans un fichier "
            ".pgpass, jamais dans cv_excel.toml ; corrigez-le, puis relancez.")
    if state == "3D000" or _NO_DB.search(message):
        return StoreIncompatible(
            f"La base « {store.url.database} » n'existe pas sur le serveur PostgreSQL "
            f"({where}) : faites-la créer (vide) par l'administrateur du serveur, ou corrigez "
            "« base » dans cv_excel.toml (ou CV_EXCEL_BASE), puis relancez.")
    if state == "42501" or _DENIED.search(message):
        return StoreIncompatible(
            f"Le compte {user} n'a pas les droits nécessaires sur le magasin de données "
            f"{where} ({detail}). Faites-lui donner les droits de lecture et d'écriture sur "
            "les tables du magasin (et, pour une base neuve, le droit d'y créer des tables), "
            "puis relancez.")
    if state.startswith("53"):
        return StoreIncompatible(
            f"Le serveur PostgreSQL du magasin de données ({where}) manque de ressources "
            f"(disque plein ?) ({detail}) : rien n'a été enregistré de l'opération en cours. "
            "Faites libérer de la place sur le serveur, puis relancez.")
    if state.startswith("08") or type(exc).__name__ in ("OperationalError",
                                                        "InterfaceError"):
        return StoreIncompatible(
            f"Le serveur PostgreSQL du magasin de données ({where}) est injoignable ou a "
            f"coupé la connexion ({detail}) : rien n'a été enregistré de l'opération en "
            "cours. Vérifiez l'adresse « base » de cv_excel.toml (ou CV_EXCEL_BASE), que le "
            "serveur est démarré et joignable depuis ce poste, puis relancez.")
    return None


def _hide(url: URL) -> str:
    """The URL as a user may read it: the password replaced by ``***``, the driver name
    as the user wrote it."""
    shown = url.set(drivername=url.get_backend_name()) if url.drivername.endswith(
        "+psycopg") else url
    return shown.render_as_string(hide_password=True)


def _hide_text(message: str, url: URL | None = None) -> str:
    """``message`` without any password: the URL's, ``PGPASSWORD``'s, one written in an
    URL (``//user:password@``)."""
    message = re.sub(r"(//[^:/@\s]*):[^@\s]*@", r"\1:***@", message)
    for secret in ((url.password if url is not None else None),
                   os.environ.get("PGPASSWORD")):
        if secret and len(str(secret)) >= 3:
            message = message.replace(str(secret), "***")
    return message
