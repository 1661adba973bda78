"""The batch's log file: ``<dossier>/journaux/cv_excel.log``, kept small by rotation.

A scheduled task has no one watching: the log is where the Direction (or IT)
finds what happened, in French, with ISO timestamps and the PID (two processes
may write to it: the batch and the console).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from cv_excel.config import DossierTravail

LOG_FOLDER = "journaux"
LOG_FILE = "cv_excel.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
_LEVELS_FR = {"DEBUG": "détail", "INFO": "info", "WARNING": "attention",
              "ERROR": "erreur", "CRITICAL": "critique"}


class _FrenchFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.niveau = _LEVELS_FR.get(record.levelname, record.levelname)
        return super().format(record)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return "Détail technique :\n" + super().formatException(ei)


class _Handler(RotatingFileHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """A log that cannot be written (read-only folder, full disk) is skipped, never
        a traceback on the console: the fault itself is told on stdout."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handleError(record)


def log_path(work: DossierTravail | Path) -> Path:
    root = work.root if isinstance(work, DossierTravail) else Path(work)
    return root / LOG_FOLDER / LOG_FILE


def journal_batch(work: DossierTravail | Path) -> logging.Logger:
    """The folder's logger; calling it again in the same process adds no handler."""
    path = log_path(work).resolve()
    key = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:10]
    logger = logging.getLogger(f"cv_excel.batch.{key}")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # stdout stays for the one summary line
    if not any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path
               for h in logger.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _Handler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                           encoding="utf-8", delay=True)
        handler.setFormatter(_FrenchFormatter(
            "%(asctime)s %(niveau)s [pid %(process)d] %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S%z"))
        logger.addHandler(handler)
    return logger


def fermer_journal(logger: logging.Logger) -> None:
    """Close the file (Windows cannot rotate a log another process keeps open)."""
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
