"""Validate the received files and record the outcome in the store: the orchestration
between intake and the store, which know nothing of each other.

:func:`cv_excel.intake.run.valider` decides each file's status and hands each concluded
file to an *enregistreur* (:class:`cv_excel.intake.run.Enregistreur`); the one here puts
it in the working folder's store (:func:`cv_excel.store.imports.record_file`), as a
:class:`~cv_excel.store.records.RetourRecu`. The CLI, the batch, the console and the demo
call :func:`valider_et_enregistrer`.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cv_excel.config import DossierTravail
from cv_excel.findings import Finding
from cv_excel.intake.run import FichierTraite, ValidationRun, valider
from cv_excel.store.db import Store, open_store, store_target
from cv_excel.store.imports import ImportSummary, add_findings, record_file
from cv_excel.store.records import RetourRecu


class EnregistreurMagasin:
    """Records each file ``valider`` concludes in ``store``, each file all or nothing.

    On SQLite the files' transactions are committed in groups (:meth:`Store.groupe`):
    a commit waits for the disk, and one per file was most of a validation's time. A run
    stopped in between loses the last group from the store only — its journal, written at
    the end, does not list those files either, so the next run takes them again."""

    def __init__(self, store: Store):
        self.store = store
        self.resume = ImportSummary()
        self._pile = ExitStack()
        self._pile.enter_context(store.groupe())

    def enregistrer(self, fichier: FichierTraite, *, contrat: str, annee: int | None,
                    debut: str) -> str | None:
        """Store the file; the technical detail of a failure (the file is then rejected
        by intake), None when stored or already known."""
        return record_file(self.store, RetourRecu.de(fichier), self.resume, contrat=contrat,
                           annee=annee, debut=debut)

    def noter(self, notes: list[tuple[str, Finding]]) -> None:
        """Findings added to stored files (« a newer version was kept »)."""
        add_findings(self.store, notes)

    def confirmer(self) -> None:
        """Commit the group in progress; the next files start another one."""
        self.store.confirmer()

    def fermer(self) -> None:
        try:
            self._pile.close()  # the last group committed
        finally:
            self.store.close()

    def __enter__(self) -> EnregistreurMagasin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fermer()


def enregistreur_pour(work: DossierTravail) -> EnregistreurMagasin:
    """The working folder's store, opened now: a store that cannot be used stops the
    command at once (a working-folder fault), before any file is touched."""
    return EnregistreurMagasin(open_store(store_target(work)))


def valider_et_enregistrer(work: DossierTravail, chemins: list[Path] | None = None,
                           **kw: Any) -> ValidationRun:
    """:func:`~cv_excel.intake.run.valider` (same arguments), each file recorded in the
    working folder's store as it is concluded."""
    with enregistreur_pour(work) as enregistreur:
        return valider(work, chemins, enregistreur=enregistreur, **kw)
