"""One process at a time per working folder: the batch, the Excel console, a click.

The lock is an OS lock (``filelock``: ``flock`` on Unix, ``LockFileEx`` on
Windows) on ``<dossier>/.cv_excel.lock``: the OS releases it when its holder
dies, so a killed run never blocks the next one, whatever file it left behind.
A sidecar ``.cv_excel.lock.info`` says who holds it (PID, machine, start
time), only to word the "busy" message; it is never trusted for locking.
Whoever takes the lock first deletes the temporary files a killed process left
(:func:`remove_leftovers`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from cv_excel.atomic import TMP_PREFIX, remove_stale_temporaries, write_text_atomic
from cv_excel.config import DossierTravail

LOCK_FILE = ".cv_excel.lock"
INFO_FILE = ".cv_excel.lock.info"


class DossierOccupe(Exception):
    """Another process works on the folder and did not finish in time; French message."""


def _root(work: DossierTravail | Path) -> Path:
    return work.root if isinstance(work, DossierTravail) else Path(work)


@contextmanager
def verrou(work: DossierTravail | Path, attente: float) -> Iterator[None]:
    """Hold the folder's lock for the ``with`` block; wait at most ``attente`` seconds
    (0: do not wait) and raise :class:`DossierOccupe` when it stays taken."""
    root = _root(work)
    lock = FileLock(str(root / LOCK_FILE), timeout=max(attente, 0))
    try:
        lock.acquire()
    except Timeout:
        raise DossierOccupe(_busy_message(root, attente)) from None
    try:
        _write_info(root)
        if isinstance(work, DossierTravail):
            remove_leftovers(work)
        yield
    finally:
        with suppress(OSError):
            (root / INFO_FILE).unlink()
        lock.release()


def remove_leftovers(work: DossierTravail) -> list[Path]:
    """Delete the temporary files a killed process left behind: ``.tmp-*`` of the
    outputs, the archive and the generated workbooks, and a store it was creating.
    Run by whoever takes the lock: no other cv_excel process writes there meanwhile."""
    removed = remove_stale_temporaries(
        [work.path("sorties"), work.path("archives"), work.path("classeurs")])
    return removed + remove_stale_temporaries([work.root], TMP_PREFIX + "*.sqlite*",
                                              recursive=False)


def holder(work: DossierTravail | Path) -> dict | None:
    """What the current holder wrote about itself (None if unknown)."""
    try:
        return json.loads((_root(work) / INFO_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _write_info(root: Path) -> None:
    info = {"pid": os.getpid(), "machine": socket.gethostname(),
            "depuis": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    with suppress(OSError):  # a read-only sidecar must not stop the work
        write_text_atomic(root / INFO_FILE, json.dumps(info, ensure_ascii=False) + "\n")


def _busy_message(root: Path, attente: float) -> str:
    info = holder(root)
    qui = ""
    if info:
        qui = (f" (processus {info.get('pid', '?')} sur {info.get('machine', '?')}, "
               f"depuis {info.get('depuis', '?')})")
    attendu = f"après {attente:g} s d'attente" if attente > 0 else "sans attendre"
    return (f"Le dossier de travail {root} est occupé par un autre traitement{qui} : "
            f"abandon {attendu}. Réessayez quand il sera terminé (traitement planifié "
            "ou console Excel).")
