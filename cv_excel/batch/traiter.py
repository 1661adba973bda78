"""``cv-excel traiter``: the scheduled batch — inbox → validation → consolidation.

Made for cron, systemd timers and the Windows Task Scheduler: one working
folder at a time (:func:`~cv_excel.batch.lock.verrou`), everything told in the
log file, one line on stdout, and an exit code a scheduler understands
(rejected returns are not a failure: they are the porteurs' business, written
in the reports). Idempotent: files already processed are recognised by their
SHA-256 and not touched again; when nothing is new, nothing is rewritten.

What has already been processed is recognised without being read: a file of the
inbox whose path, size, modification time (and inode and change time, where the
system gives them) are those recorded when it was last read, and whose content
the journal knows as processed, is neither opened nor hashed
(:class:`~cv_excel.intake.archive.Empreintes`). Any difference, and the file is
hashed as before. With nothing new, the cost is a ``stat`` per file of the inbox
and the reading of that small cache, whatever the size of the history.

Kill safety: intake records each file in the store as it goes and saves its
journal last; a journal saved while the store was not written (a run made without
recording, a store replaced by an empty one) leaves receptions journalled as
processed but missing from the store. Before anything else, such receptions of
files still in the inbox are set back to "en cours" (never processed, as intake
means it), so the next run processes them again and ends where an uninterrupted
run would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from cv_excel import __version__
from cv_excel.batch.lock import DossierOccupe, verrou
from cv_excel.batch.logs import fermer_journal, journal_batch, log_path
from cv_excel.config import CONFIG_FILE, DossierTravail
from cv_excel.errors import DefautDossier, defaut_de
from cv_excel.intake.archive import Archive, Empreintes
from cv_excel.intake.inbox import (
    Entree,
    FichierIllisible,
    Signature,
    open_regular,
    same_signature,
    scan,
    signature,
)
from cv_excel.intake.run import (
    ACCEPTE,
    ACCEPTE_AVERTISSEMENTS,
    DOUBLON,
    REJETE,
)

# Exit codes, for the scheduler (documented in docs/batch.md).
CODE_OK = 0  # done, even when some returns were rejected
CODE_ERREUR_INTERNE = 1  # unexpected error: a bug, the traceback is in the log
CODE_CONFIGURATION = 2  # configuration, référentiel, store or environment to fix
CODE_OCCUPE = 3  # another process held the folder longer than --attente

RIEN_DE_NOUVEAU = "Rien de nouveau : 0 fichier reçu, tableaux de bord à jour."
EN_COURS = "en cours"
STATUTS = (ACCEPTE, ACCEPTE_AVERTISSEMENTS, REJETE, DOUBLON)
_LABELS = {ACCEPTE: ("accepté", "acceptés"),
           ACCEPTE_AVERTISSEMENTS: ("avec avertissements", "avec avertissements"),
           REJETE: ("rejeté", "rejetés"), DOUBLON: ("doublon", "doublons")}

Progression = Callable[[str, int, int], None]


class DossierInvalide(DefautDossier):
    """The path given is not a working folder; French message."""


@dataclass
class Traitement:
    annee: int
    code: int = CODE_OK
    recus: int = 0  # files in the inbox
    nouveaux: dict[str, int] = field(default_factory=dict)  # status → new files
    reprises: int = 0  # interrupted receptions set back to "en cours"
    consolidation_faite: bool = False
    tableaux_a_jour: bool = False  # consolidation found nothing new
    dossier_validation: Path | None = None
    dossier_sorties: Path | None = None
    programmations_ignorees: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)  # of the consolidation
    duree: float = 0.0
    resume: str = ""

    @property
    def nb_nouveaux(self) -> int:
        return sum(self.nouveaux.values())

    @property
    def rien_de_nouveau(self) -> bool:
        return self.nb_nouveaux == 0 and self.tableaux_a_jour


def traiter(work: DossierTravail, annee: int | None = None, attente: float = 60.0,
            progress: Progression | None = None, now: dt.datetime | None = None
            ) -> Traitement:
    """Process the new returns of the inbox, then consolidate ``annee``.

    Raises :class:`DossierOccupe` when the folder stays locked ``attente`` seconds;
    configuration errors propagate (see :func:`code_sortie`).
    """
    debut = time.monotonic()
    log = journal_batch(work)
    step = progress or (lambda _s, _d, _t: None)
    annee = annee or work.config.annee
    result = Traitement(annee)
    with _lock(work, attente, log):
        ref = _referentiel(work, log)
        step("Lecture des retours", 0, 1)
        boite = lire_boite(work, step, log)
        result.recus = len(boite.entrees)
        result.reprises = _resume_interrupted(work, boite, log)
        reexamens = _to_reexamine(work, ref, annee, boite)
        nouveaux = boite.nouveaux()
        boite.save()
        log.info("%d fichier(s) dans les retours, dont %d nouveau(x) ; %d à réexaminer.",
                 result.recus, len(nouveaux), len(reexamens))
        if nouveaux or reexamens:
            _validate(work, nouveaux, ref, annee, now, result, step, log)
        step("Consolidation", 0, 1)
        _consolidate(work, ref, annee, now, result, log)
        step("Consolidation", 1, 1)
    result.duree = time.monotonic() - debut
    result.resume = resume(result)
    log.info("Fin du traitement %d en %.1f s : %s", annee, result.duree, result.resume)
    return result


@dataclass
class Boite:
    """The inbox as the batch sees it: every file, the content of those it could read,
    and the journal's outcome of each content (``etats``: last completed status, "" when
    none). The journal itself is read only when the cache cannot answer."""

    work: DossierTravail
    entrees: list[Entree]
    digests: dict[str, str]  # path -> SHA-256, for the files that could be read
    cache: Empreintes
    lus: int = 0  # files read (hashed) by this run
    archive: Archive | None = None
    etats: dict[str, str] = field(default_factory=dict)

    def journal(self) -> Archive:
        if self.archive is None:
            self.archive = Archive(self.work.path("archives"))
        return self.archive

    def resolve(self) -> None:
        contents = set(self.digests.values())
        if self.cache.current() and contents <= self.cache.etats.keys():
            self.etats = dict(self.cache.etats)
            return
        archive = self.journal()
        self.etats = {d: r.statut if (r := archive.latest(d)) is not None else ""
                      for d in contents}

    def nouveaux(self) -> list[Path]:
        """Unreadable files (valider gives them their line in the report) and files whose
        content was never processed."""
        return [e.path for e in self.entrees
                if e.chemin not in self.digests or not self.etats.get(self.digests[e.chemin])]

    def save(self) -> None:
        """The cache, with what this run learnt (files read, files gone)."""
        if self.archive is not None:
            self.cache.refresh(self.archive)
        else:
            self.cache.save()


def lire_boite(work: DossierTravail, step: Progression | None = None,
               log: logging.Logger | None = None) -> Boite:
    """Scan the inbox; read (hash) only the files neither the cache nor the journal
    recognise by their signature."""
    entrees, ecarts = scan([work.path("retours")], ordonner=False)
    for ecart in ecarts:
        if log is not None:
            log.warning("Boîte de réception : « %s » n'est pas traité : %s.", ecart.path,
                        ecart.raison)
    cache = Empreintes.load(work.path("archives"))
    boite = Boite(work, entrees, {}, cache)
    digests = boite.digests
    keys: list[str] = []
    a_lire: list[tuple[Entree, str]] = []
    key, content = cache.key, cache.content
    for entree in entrees:  # the costly loop: a stat per file was its only syscall
        chemin = entree.chemin
        keys.append(k := key(chemin))
        if (known := content(k, entree.signature)) is None:
            a_lire.append((entree, k))
        else:
            digests[chemin] = known
    if a_lire:  # the journal knows what earlier runs read, and how the files were then
        journal = boite.journal().by_source(cache.key)
        rest = []
        for entree, key in a_lire:
            reception = journal.get(key)
            if reception is not None and same_signature(reception.signature,
                                                        entree.signature):
                digests[entree.chemin] = reception.sha256
                cache.note(key, entree.signature, reception.sha256)
            else:
                rest.append((entree, key))
        a_lire = rest
    known = len(entrees) - len(a_lire)
    if step is not None:
        step("Lecture des retours", known, len(entrees))
    for i, (entree, key) in enumerate(a_lire, start=1):
        read = _digest(entree.path)
        if read is not None:  # unreadable: valider gives it its line in the report
            digest, sig = read
            digests[entree.chemin] = digest
            if sig is not None:
                cache.note(key, sig, digest)
        if step is not None:
            step("Lecture des retours", known + i, len(entrees))
    cache.keep_only(keys)
    boite.lus = len(a_lire)
    boite.resolve()
    return boite


@contextmanager
def _lock(work: DossierTravail, attente: float, log: logging.Logger) -> Iterator[None]:
    """Take the lock at once if free; otherwise say in the log that we wait."""
    with ExitStack() as stack:
        try:
            stack.enter_context(verrou(work, attente=0))
        except DossierOccupe:
            log.info("Dossier occupé par un autre traitement : attente de %g s au plus.",
                     attente)
            stack.enter_context(verrou(work, attente=attente))
        log.info("Verrou du dossier %s obtenu.", work.root)
        yield


def _referentiel(work: DossierTravail, log: logging.Logger):
    from cv_excel.referentiel.load import load_for_folder

    ref, report = load_for_folder(work)
    for finding in report:
        log.warning("Annuaire des référents (%s) : %s %s", finding.where(), finding.message,
                    finding.hint)
    return ref


def _resume_interrupted(work: DossierTravail, boite: Boite, log: logging.Logger) -> int:
    """Set back to "en cours" the receptions journalled as processed but never stored,
    of files still in the inbox."""
    from cv_excel.store.db import store_target
    from cv_excel.store.imports import stored_hashes_at

    candidates = {d for d in set(boite.digests.values()) if boite.etats.get(d)}
    if not candidates:
        return 0
    missing_contents = candidates - stored_hashes_at(store_target(work))
    if not missing_contents:
        return 0
    archive = boite.journal()
    missing = [r for r in archive.receptions
               if r.sha256 in missing_contents and r.statut not in (EN_COURS, DOUBLON)]
    for reception in missing:
        reception.statut = EN_COURS
    for digest in missing_contents:
        boite.etats[digest] = ""
    archive.save()
    log.warning("%d réception(s) d'un traitement interrompu, absentes du magasin de "
                "données, seront traitées à nouveau : %s", len(missing),
                ", ".join(sorted({r.nom for r in missing})))
    return len(missing)


def _digest(path: Path) -> tuple[str, Signature | None] | None:
    """SHA-256 of a file of the inbox, streamed, without following a link; with the
    file's signature when it did not change while it was read."""
    try:
        with open_regular(path) as fh:
            before = signature(os.fstat(fh.fileno()))
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            after = signature(os.fstat(fh.fileno()))
    except (FichierIllisible, OSError):
        return None
    return digest, before if same_signature(before, after) else None


def _to_reexamine(work: DossierTravail, ref, annee: int, boite: Boite) -> list[str]:
    """Files rejected for a Direction-side reason under settings that changed since
    (their SHA-256)."""
    from cv_excel.intake.context import context_for
    from cv_excel.intake.run import settings_fingerprint
    from cv_excel.messages import CAUSE_DIRECTION

    reglages = settings_fingerprint(work, context_for(work, ref, annee))
    if boite.archive is None and boite.cache.current():
        return boite.cache.to_reexamine(reglages, CAUSE_DIRECTION)
    return [r.sha256 for r in boite.journal().to_reexamine(
        reglages, direction_codes=CAUSE_DIRECTION)]


def _validate(work, nouveaux, ref, annee, now, result: Traitement, step: Progression,
              log: logging.Logger) -> None:
    from cv_excel.enregistrement import valider_et_enregistrer

    step("Validation", 0, len(nouveaux))
    run = valider_et_enregistrer(work, chemins=nouveaux, ref=ref, annee=annee, now=now)
    step("Validation", len(nouveaux), len(nouveaux))
    result.nouveaux = {s: run.count(s) for s in STATUTS if run.count(s)}
    result.dossier_validation = run.dossier_sortie
    for f in run.fichiers:
        log.info("« %s » : %s (%d constat(s)).", f.nom, f.statut, len(f.findings))
        if f.detail_technique:
            log.error("« %s » : détail technique : %s", f.nom, f.detail_technique)
    log.info("Rapport de validation : %s", run.rapport_xlsx)


def _consolidate(work, ref, annee, now, result: Traitement, log: logging.Logger) -> None:
    from cv_excel.consolidation.run import consolider

    cons = consolider(work, ref, annee=annee, now=now)
    result.consolidation_faite = True
    result.tableaux_a_jour = cons.rien_de_nouveau
    result.dossier_sorties = cons.dossier
    result.programmations_ignorees = cons.programmations_ignorees
    for name in cons.programmations_ignorees:
        log.warning("Programmation non valide, ignorée : %s (cv-excel programmation "
                    "verifier).", name)
    result.avertissements = cons.avertissements
    for text in cons.avertissements:
        log.warning("%s", text)
    if cons.rien_de_nouveau:
        log.info("Consolidation %d : rien de nouveau, fichiers existants à jour.", annee)
    else:
        log.info("Consolidation %d écrite dans %s : %s", annee, cons.dossier,
                 ", ".join(p.name for p in cons.fichiers))
    # The tableaux de bord and COPIL packs of the current revue (the latest with returns)
    # follow too; those of earlier revues stay as their revue left them. The annual
    # consolidation said which revues have returns (without opening the store again).
    configured = {r.numero for r in work.config.revues.of(annee)}
    for numero in [n for n in cons.revues_avec_retours if n in configured][-1:]:
        revue = consolider(work, ref, annee=annee, now=now, revue=numero)
        result.tableaux_a_jour = result.tableaux_a_jour and revue.rien_de_nouveau
        if not revue.rien_de_nouveau:
            log.info("Revue %d de %d écrite dans %s : %s", numero, annee, revue.dossier,
                     ", ".join(p.name for p in revue.fichiers))


def _n(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"


def resume(t: Traitement) -> str:
    """The one French line telling what the run did (without its duration)."""
    if t.rien_de_nouveau:
        text = RIEN_DE_NOUVEAU
    else:
        n = t.nb_nouveaux
        text = _n(n, "nouveau fichier", "nouveaux fichiers")
        if n:
            text += " (" + ", ".join(_n(t.nouveaux[s], *_LABELS[s])
                                     for s in STATUTS if t.nouveaux.get(s)) + ")"
        text += (", tableaux de bord déjà à jour." if t.tableaux_a_jour
                 else ", tableaux de bord mis à jour.")
    if t.programmations_ignorees:
        ignorees = _n(len(t.programmations_ignorees), "programmation non valide ignorée",
                      "programmations non valides ignorées")
        text = f"{text[:-1]} ; {ignorees}."
    return text


def code_sortie(exc: BaseException) -> int:
    """The exit code for an exception that stopped the run."""
    from cv_excel.office import LibreOfficeAbsent
    from cv_excel.referentiel.load import ReferentielIntrouvable

    if isinstance(exc, DossierOccupe):
        return CODE_OCCUPE
    # DefautDossier: configuration, store, register, journal, unwritable folder.
    if (isinstance(exc, (ReferentielIntrouvable, LibreOfficeAbsent))
            or defaut_de(exc) is not None):
        return CODE_CONFIGURATION
    return CODE_ERREUR_INTERNE


def ouvrir_dossier(dossier: Path) -> DossierTravail:
    """The working folder, refused if it is none: a scheduled task started in the
    wrong folder must not create files there."""
    root = Path(dossier).resolve()
    if not root.is_dir():
        raise DossierInvalide(f"Le dossier de travail {root} n'existe pas.")
    if not (root / CONFIG_FILE).is_file():
        raise DossierInvalide(
            f"{root} n'est pas un dossier de travail cv_excel (pas de fichier {CONFIG_FILE}) : "
            "vérifiez le dossier de la tâche planifiée, ou créez-le avec cv-excel init.")
    return DossierTravail.open(root)


def _secondes(duree: float) -> str:
    return f"{duree:.1f}".replace(".", ",")


def main_batch(dossier: Path, annee: int | None, attente: float, tty: bool) -> int:
    """What ``cv-excel traiter`` runs: log, optional progress bars, one line, exit code."""
    debut = time.monotonic()
    root = Path(dossier).resolve()
    log = None
    if (root / CONFIG_FILE).is_file():  # never a log folder in a folder that is none
        with suppress(OSError):  # unwritable: the run says so below
            log = journal_batch(root)
    try:
        if log:
            log.info("Début du traitement (cv_excel %s, dossier %s, année %s, attente %g s).",
                     __version__, root, annee or "du fichier de configuration", attente)
        try:
            work = ouvrir_dossier(root)
            with _bars(tty) as progress:
                t = traiter(work, annee=annee, attente=attente, progress=progress)
            code = t.code
            line = (f"cv-excel traiter — {t.annee} : {t.resume[:-1]}, "
                    f"en {_secondes(time.monotonic() - debut)} s.")
        except Exception as exc:
            code = code_sortie(exc)
            if log and code == CODE_ERREUR_INTERNE:
                log.exception("Erreur inattendue : %s", exc)
            elif log:
                log.error("%s", defaut_de(exc) or exc)
            line = _error_line(code, exc, root)
        if log:
            log.info("Code de sortie %d.", code)
        _print(line)
        return code
    finally:
        if log:
            fermer_journal(log)


def _error_line(code: int, exc: BaseException, root: Path) -> str:
    if code == CODE_OCCUPE:
        return f"cv-excel traiter — dossier occupé : {exc}"
    if code == CODE_CONFIGURATION:
        return f"cv-excel traiter — erreur à corriger : {defaut_de(exc) or exc}"
    return (f"cv-excel traiter — erreur inattendue ({type(exc).__name__} : {exc}) ; "
            f"détail dans {log_path(root)}.")


def _print(line: str) -> None:
    """Exactly one line on stdout, even on a console that cannot encode « — »."""
    line = " ".join(line.split())
    try:
        print(line, flush=True)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "ascii"
        print(line.encode(enc, "replace").decode(enc), flush=True)


@contextmanager
def _bars(tty: bool) -> Iterator[Progression | None]:
    """rich progress bars on stderr in a terminal; nothing at all otherwise."""
    if not tty:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True)) as bars:
        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done, total=total)

        yield progress
