"""``cv-excel valider``: process every received file, whatever it is.

Files are taken in reception order (file time): each is streamed into the
archive while hashed, then checked from that copy: file checks → workbook
identification → structure → tamper → values → cross checks. A blocking
finding rejects the file; warnings alone accept it; the status is computed
last, from every finding. Whatever goes wrong with one file (an unexpected
error in a check, the annotated copy, its recording) becomes a finding on
that file and the run goes on. Entries of the inbox that are not files to process
(links, pipes, Excel lock files) get a line of the report too. Outputs: the
validation report (xlsx + JSON) and an annotated copy of every rejected or
warned workbook, under ``sorties/validation/<horodatage>/`` (one folder per run).

Intake does not know the store: each concluded file is handed to an
*enregistreur* (:class:`Enregistreur`) when the caller gives one — the
orchestrating layer does (:mod:`cv_excel.enregistrement`: CLI, batch, console);
without one, nothing is recorded.

A run streams: each file is concluded (status, recording, journal entry)
in reception order, and what the run keeps of it afterwards is on disk
(:class:`Fichiers`), not its parsed workbook. Memory does not grow with the
number of files; what is kept in memory per file is a few integers (the versions
of one recipient, the contents already seen in this run).

Both cores: the checks of a file (reading the archived copy, every check, the
annotated copy) run in worker processes (:func:`cv_excel.parallel.ordered_map`,
``workers`` of ``cv_excel.toml``, 0: one per core), while everything shared —
archive, duplicates within the run, store, journal, versions, names of the
annotated copies, reports — stays in this process, which concludes the files
in reception order: the outputs are the same, byte for byte, with 1 or N workers.
Only a bounded number of files is between its archiving and its conclusion at
once. One worker runs everything in this process: each file is then concluded
before the next one is read.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import logging
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
import traceback
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import cv_excel
from cv_excel.atomic import TMP_PREFIX
from cv_excel.config import DossierTravail
from cv_excel.errors import DefautDossier
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.findings import Finding, Severity, make_finding
from cv_excel.intake.annotate import annotate
from cv_excel.intake.archive import Archive, Reception
from cv_excel.intake.checks.classeur import (
    check_revue,
    check_structure,
    identify,
    meta_text,
    open_book,
    read,
    revue_number,
)
from cv_excel.intake.checks.cross import check_cross
from cv_excel.intake.checks.fichier import check_file, check_size
from cv_excel.intake.checks.tamper import check_tamper
from cv_excel.intake.checks.values import check_values
from cv_excel.intake.context import IntakeContext, context_for
from cv_excel.intake.inbox import (
    Ecart,
    Entree,
    FichierIllisible,
    Signature,
    open_regular,
    same_signature,
    scan,
    signature,
)
from cv_excel.intake.report import write_reports
from cv_excel.messages import CAUSE_DIRECTION
from cv_excel.parallel import PoolInterrompu, ordered_map, share, shared
from cv_excel.reader import ClasseurLu
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import SPECS
from cv_excel.statuts import (  # re-exported: intake decides them
    ACCEPTE,
    ACCEPTE_AVERTISSEMENTS,
    ACCEPTES,
    DOUBLON,
    ECARTE,
    REJETE,
)

log = logging.getLogger(__name__)

__all__ = ["ACCEPTE", "ACCEPTES", "ACCEPTE_AVERTISSEMENTS", "DOUBLON", "ECARTE", "REJETE",
           "Enregistreur", "FichierTraite", "Fichiers", "ValidationInterrompue", "ValidationRun",
           "check_bytes", "reread", "settings_fingerprint", "status_of", "valider"]


class ValidationInterrompue(DefautDossier):
    """A worker process of the run stopped abruptly; the run stopped there, as a killed run
    does: what was concluded is recorded, the rest is done by the next run. French."""


class Enregistreur(Protocol):
    """Where :func:`valider` hands each file it concludes (the store, for the layer that
    runs intake and the store: :mod:`cv_excel.enregistrement`)."""

    resume: Any  # what was recorded (ValidationRun.enregistrement)

    def enregistrer(self, fichier: FichierTraite, *, contrat: str, annee: int | None,
                    debut: str) -> str | None:
        """Record one concluded file; the technical detail of a failure (the file is then
        rejected), None when done."""

    def noter(self, notes: list[tuple[str, Finding]]) -> None:
        """Add findings to files recorded earlier, by SHA-256 (information only)."""

    def confirmer(self) -> None:
        """Make what was recorded durable (called before the reports and the journal,
        which then never name a file the store lost)."""


@dataclass
class FichierTraite:
    nom: str
    source: Path
    sha256: str
    statut: str
    findings: list[Finding] = field(default_factory=list)
    archive: Path | None = None
    annotee: Path | None = None
    classeur_id: str = ""
    type: str = ""
    destinataire: str = ""
    # The data, while the file is concluded; afterwards read again from the archived copy
    # on demand (see FichierRelu), never kept for the whole run.
    lu: ClasseurLu | None = field(default=None, repr=False, compare=False)
    recu_le: str = ""  # when the file was received (a re-examined file keeps its date)
    detail_technique: str = ""  # for IT: the JSON report and the log, never a porteur
    reexamen: bool = False
    reception: Reception | None = field(default=None, repr=False)  # its journal entry
    cle: tuple[str, ...] | None = None  # (contrat, année, revue, type, destinataire)
    revue: str = ""  # « 2 » for a workbook of revue 2, empty for an annual one
    relisible: bool = field(default=False, repr=False, compare=False)  # had data when checked


class FichierRelu(FichierTraite):
    """A file of a run as read back from the run's record: its data (``lu``) is read
    again from the archived copy the first time it is asked for, then kept by this object
    (and by it only)."""

    @property
    def lu(self) -> ClasseurLu | None:  # type: ignore[override]
        state = self.__dict__
        relire = state.pop("_relecture", None)
        if state.get("lu") is None and relire is not None and self.relisible:
            state["lu"] = relire(self)
        return state.get("lu")

    @lu.setter
    def lu(self, value: ClasseurLu | None) -> None:
        self.__dict__["lu"] = value

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_relecture", None)
        return state


class Fichiers(Sequence[FichierTraite]):
    """The files of a run, on disk as they are concluded and read back one at a time:
    what a run keeps of its files does not grow in memory with their number.

    Behaves as a read-only list of :class:`FichierTraite` (each access reads the file's
    record again: a new object); ``append`` adds a file (without its parsed workbook);
    pickled, it is a plain list.
    """

    def __init__(self, dossier: Path | None = None,
                 relecture: Callable[[FichierTraite], ClasseurLu | None] | None = None):
        self._fh = tempfile.TemporaryFile(  # noqa: SIM115 - lives as long as the run
            dir=dossier, prefix=".tmp-fichiers-")
        self._offsets = array("q", [0])
        self._statuts: Counter[str] = Counter()
        self._relecture = relecture

    def append(self, fichier: FichierTraite) -> None:
        state = dict(fichier.__dict__)
        state.pop("_relecture", None)
        state["relisible"] = bool(state.get("relisible") or state.get("lu") is not None)
        state["lu"] = None
        state["reception"] = None
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.seek(self._offsets[-1])
        self._fh.write(data)
        self._offsets.append(self._offsets[-1] + len(data))
        self._statuts[fichier.statut] += 1

    def extend(self, fichiers: Iterable[FichierTraite]) -> None:
        for fichier in fichiers:
            self.append(fichier)

    def __iadd__(self, fichiers: Iterable[FichierTraite]) -> Fichiers:
        self.extend(fichiers)
        return self

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _read(self, i: int) -> FichierRelu:
        self._fh.seek(self._offsets[i])
        state = pickle.loads(self._fh.read(self._offsets[i + 1] - self._offsets[i]))
        fichier = FichierRelu.__new__(FichierRelu)
        fichier.__dict__.update(state)
        if self._relecture is not None and fichier.relisible:
            fichier.__dict__["_relecture"] = self._relecture
        return fichier

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._read(j) for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("index hors de la liste des fichiers")
        return self._read(i)

    def __iter__(self) -> Iterator[FichierRelu]:
        for i in range(len(self)):
            yield self._read(i)

    def compte(self, statut: str) -> int:
        return self._statuts[statut]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        return (list, (list(self),))

    def __repr__(self) -> str:
        return f"Fichiers({len(self)} fichiers)"


@dataclass
class ValidationRun:
    debut: dt.datetime
    dossier_sortie: Path
    fichiers: Sequence[FichierTraite] = field(default_factory=list)
    fin: dt.datetime | None = None
    rapport_xlsx: Path | None = None
    rapport_json: Path | None = None
    enregistrement: object | None = None  # the enregistreur's summary (Enregistreur.resume)

    def count(self, statut: str) -> int:
        if isinstance(self.fichiers, Fichiers):
            return self.fichiers.compte(statut)
        return sum(1 for f in self.fichiers if f.statut == statut)


def status_of(findings: list[Finding]) -> str:
    if any(f.severity is Severity.BLOQUANT for f in findings):
        return REJETE
    if any(f.severity is Severity.AVERTISSEMENT for f in findings):
        return ACCEPTE_AVERTISSEMENTS
    return ACCEPTE


def check_bytes(name: str, data: bytes, ctx: IntakeContext
                ) -> tuple[list[Finding], ClasseurLu | None, dict]:
    """Every stage on one file's bytes; later stages run only when they can."""
    findings, pkg = check_file(name, data)
    if pkg is None:
        return findings, None, {}
    book = open_book(data, pkg)
    found, spec, meta = identify(name, pkg, book, ctx)
    findings += found
    if spec is None:
        return findings, None, meta
    lu = read(name, pkg, book, spec)
    structure = check_structure(name, lu, meta)
    findings += structure
    entry = ctx.registre.get(str(meta.get("meta_classeur_id") or ""))
    findings += check_revue(name, lu, entry)
    if not any(f.code in ("CLS_SECTIONS",) for f in structure):
        findings += check_tamper(name, lu, entry)
    findings += check_values(lu, ctx)
    findings += check_cross(lu, ctx, _year(meta, ctx))
    return [_with_file(f, name) for f in findings], lu, meta


def _year(meta: dict, ctx: IntakeContext) -> int:
    try:
        return int(float(meta.get("meta_annee")))
    except (TypeError, ValueError):
        return ctx.annee


def _with_file(f: Finding, name: str) -> Finding:
    return f if f.file else f.model_copy(update={"file": name})


def valider(work: DossierTravail, chemins: list[Path] | None = None,
            ref: Referentiel | None = None, annee: int | None = None,
            now: dt.datetime | None = None, enregistreur: Enregistreur | None = None,
            revalider: bool = False, workers: int | None = None) -> ValidationRun:
    """Process every file of ``chemins`` (default: the inbox ``retours/``) and hand each
    concluded file to ``enregistreur`` (none: nothing is recorded; see
    :func:`cv_excel.enregistrement.valider_et_enregistrer`).

    Files rejected earlier for a reason that lay with the Direction are examined again
    from the archive when the settings changed since, or always with ``revalider``.
    Whatever happens to one file stays on that file: the run goes on, the recording, the
    report and the journal are written. The checks run in ``workers`` processes (default:
    ``workers`` of ``cv_excel.toml``; 0: one per core); a worker that dies stops the run
    with :class:`ValidationInterrompue`.
    """
    if ref is None:
        from cv_excel.referentiel.load import load_for_folder

        ref, _ = load_for_folder(work)
    now = now or _maintenant()
    ctx = context_for(work, ref, annee)
    archive = Archive(work.path("archives"))
    reglages = settings_fingerprint(work, ctx)
    out = _run_folder(work.path("sorties") / "validation", now)
    run = ValidationRun(now, out, fichiers=Fichiers(out, _reader(ctx)))
    entrees, ecarts = scan(list(chemins) if chemins is not None else [work.path("retours")])
    pending = {r.sha256: r for r in archive.to_reexamine(
        reglages, force=revalider, direction_codes=CAUSE_DIRECTION)}
    job = _Job(ctx, archive, out, now, reglages, revalider, run.fichiers, enregistreur,
               contrat=work.config.contrat)
    if enregistreur is not None:
        run.enregistrement = enregistreur.resume
    job.run(entrees, pending, work.config.workers if workers is None else workers)
    for ecart in ecarts:
        job.conclude(_set_aside(ecart))
    run.fichiers = job.mark_versions()
    if enregistreur is not None:
        enregistreur.confirmer()
    job = None  # what the run kept per file, before the journal is written
    run.fin = _maintenant()
    run.rapport_xlsx, run.rapport_json = write_reports(run, out)
    # The journal is written last: a run interrupted before this point is simply done
    # again next time (the archive and the store recognise what they already hold).
    archive.save()
    return run


def _maintenant() -> dt.datetime:
    return dt.datetime.now().astimezone()


_STOPS = (KeyboardInterrupt, SystemExit, GeneratorExit)  # the run's, not the file's
_PLAIN_INTERNAL_ERROR = "erreur interne de cv_excel pendant la vérification"
_PLAIN_STORE_ERROR = "erreur interne de cv_excel pendant l'enregistrement"
_NOTES_BATCH = 100  # version notes written to the store per transaction


def _run_folder(base: Path, now: dt.datetime) -> Path:
    """A folder of its own for this run, even when another run started the same second."""
    stem = now.strftime("%Y-%m-%d %H%M%S")
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        folder = base / (stem if n == 1 else f"{stem} ({n})")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"trop de traitements dans la même seconde dans {base}")


def settings_fingerprint(work: DossierTravail, ctx: IntakeContext) -> str:
    """What a Direction-side rejection depended on: the cv_excel version, contrat and
    year expected, the registers of sent workbooks and the programmations."""
    h = hashlib.sha256()
    h.update(f"{cv_excel.__version__}|{ctx.contrat}|{ctx.annee}".encode())
    for folder, pattern in ((work.path("classeurs"), "*/registre.json"),
                            (work.path("programmation"), "*.xlsx")):
        for path in sorted(folder.glob(pattern)) if folder.is_dir() else ():
            _hash_into(h, path)
    return h.hexdigest()[:16]


def _hash_into(h: Any, path: Path) -> None:
    """``h`` fed the file's name then its bytes, a megabyte at a time (the national
    register is 83 MB: read whole, it was the validation's peak); « ? » when unreadable."""
    try:
        with path.open("rb") as fh:
            h.update(path.name.encode())
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        h.update(path.name.encode() + b"?")


def reread(name: str, data: bytes, ctx: IntakeContext) -> ClasseurLu | None:
    """The data of a workbook already checked (the reading stages of :func:`check_bytes`
    only: the checks do not change what is read)."""
    _, pkg = check_file(name, data)
    if pkg is None:
        return None
    book = open_book(data, pkg)
    _, spec, _ = identify(name, pkg, book, ctx)
    return None if spec is None else read(name, pkg, book, spec)


def _reader(ctx: IntakeContext) -> Callable[[FichierTraite], ClasseurLu | None]:
    def relire(fichier: FichierTraite) -> ClasseurLu | None:
        try:
            return reread(fichier.nom, Path(fichier.archive).read_bytes(), ctx)
        except Exception:  # noqa: BLE001 - the caller gets no data, as for an unread file
            log.exception("Relecture de « %s » impossible", fichier.nom)
            return None

    return relire


@dataclass
class _Versions:
    """The accepted versions of one recipient's workbook in this run: the one kept (the
    most recently received) and the place in the run of the others."""

    recu_le: str
    rang: int  # order in the run, for versions received the same second
    nom: str
    place: int  # in the run's files
    anciennes: array = field(default_factory=lambda: array("q"))


@dataclass(frozen=True)
class _Tache:
    """What a worker receives for one file: small, whatever the file's size."""

    nom: str
    archive: str  # the archived copy: what was hashed is what is checked
    taille: int
    annotee: str  # where to write the annotated copy, if one is due (a temporary name)
    premier: Finding | None = None  # the first finding (RET_REEXAMEN), known beforehand


@dataclass
class _Verifie:
    """What a worker sends back for one file: its findings and its data (without its
    specification, which both processes have: ``spec`` names it)."""

    findings: list[Finding]
    lu: ClasseurLu | None = None
    meta: dict = field(default_factory=dict)
    spec: str = ""
    technique: str = ""  # an internal error's technical detail (IT: JSON report, log)
    trace: str = ""  # and its traceback, for the log (written by the run's process)
    annotee: bool = False  # the annotated copy is at the task's temporary path
    annotation: str = ""  # the technical detail when the annotated copy failed
    annotation_trace: str = ""


@dataclass
class _Plan:
    """A file between its archiving and its conclusion, on this process's side."""

    nom: str = ""
    source: Path | None = None
    digest: str = ""
    stored: Path | None = None
    size: int = 0
    sig: Signature | None = None  # the inbox file as read (None: not read from the inbox)
    earlier: Reception | None = None  # examined again: its last reception
    fichier: FichierTraite | None = None  # concluded without a check (set aside, known)
    tache: _Tache | None = None  # sent to be checked
    doublon: bool = False  # the same content was sent earlier in this run


_CTX = "intake_ctx"  # the run's IntakeContext, in each worker (cv_excel.parallel.shared)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker(ctx: IntakeContext, parent: int) -> None:
    """Once per worker: the context of the checks (inherited on fork, else received once);
    and the worker ends with the run's process, even killed."""
    share({_CTX: ctx})
    if os.getpid() != parent:
        _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL) would wait for tasks forever, keeping the
    files it inherited open — the working folder's lock among them: it ends at once."""
    if sys.platform.startswith("linux"):
        try:
            if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG,
                                                        signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the call
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _check_task(tache: _Tache | None) -> _Verifie | None:
    """One file's checks in a worker (or in this process): see :func:`_check`."""
    if tache is None:
        return None
    verifie = _check(tache, shared(_CTX))
    lu = verifie.lu
    if lu is not None and SPECS.get(lu.spec.kind) is lu.spec:  # not sent back: named
        verifie.lu, verifie.spec = replace(lu, spec=None), lu.spec.kind
    return verifie


def _check(tache: _Tache, ctx: IntakeContext) -> _Verifie:
    """Every check of one archived file, and its annotated copy when it is not simply
    accepted. Whatever goes wrong is this file's finding, never the run's exception."""
    name = tache.nom
    lu, meta, technique, trace = None, {}, "", ""
    data = b""
    if (too_big := check_size(name, tache.taille)) is not None:  # never loaded in memory
        findings = [too_big]
    else:
        try:
            data = Path(tache.archive).read_bytes()
            findings, lu, meta = check_bytes(name, data, ctx)
        except _STOPS:
            raise
        except BaseException as exc:  # noqa: BLE001 - one odd file never stops the run
            # BaseException: a panic inside a compiled reader (pyo3's PanicException)
            # is not an Exception, and must stay on its file too.
            findings = [make_finding("RET_ERREUR_INTERNE", file=name,
                                     detail=_PLAIN_INTERNAL_ERROR)]
            technique, trace = _technical(exc), traceback.format_exc()
            lu, meta = None, {}
    if tache.premier is not None:
        findings.insert(0, tache.premier)
    verifie = _Verifie(findings, lu, meta, technique=technique, trace=trace)
    if status_of(findings) != ACCEPTE and lu is not None:
        try:
            annotate(data, findings, Path(tache.annotee), name)
            verifie.annotee = True
        except Exception as exc:  # noqa: BLE001 - the file is still reported
            verifie.annotation = _technical(exc)
            verifie.annotation_trace = traceback.format_exc()
    return verifie


@dataclass
class _Job:
    """One run's shared state: what every file's processing needs."""

    ctx: IntakeContext
    archive: Archive
    out: Path
    now: dt.datetime
    reglages: str
    revalider: bool
    fichiers: Fichiers
    enregistreur: Enregistreur | None = None  # None: nothing recorded
    contrat: str = ""
    taken: set[str] = field(default_factory=set)
    # Contents checked in this run: first 64 bits of the digest -> place in the run's files
    # (an int, not the digest's text: what a run keeps per file stays a few bytes).
    seen: dict[int, int] = field(default_factory=dict)
    versions: dict[tuple[str, ...], _Versions] = field(default_factory=dict)
    # Files archived and sent to be checked, not concluded yet (in reception order), and
    # the contents among them: bounded by the pool (parallel.ordered_map), not by the run.
    en_cours: deque[_Plan] = field(default_factory=deque)
    en_vol: Counter[int] = field(default_factory=Counter)
    taches: int = 0  # files sent to be checked so far (names their temporary copies)

    def __post_init__(self) -> None:
        self.horodatage = self.now.isoformat(timespec="seconds")

    def run(self, entrees: list[Entree], pending: dict[str, Reception], workers: int) -> None:
        """Every entry of the inbox, then the archived files to examine again: archived
        and planned here, checked by ``workers`` processes, concluded here in this order.
        """
        count = len(entrees) + len(pending)
        results = ordered_map(_check_task, self.plans(entrees, pending), workers=workers,
                              init=_init_worker, init_args=(self.ctx, os.getpid()),
                              count=count)
        try:
            for verifie in results:
                self.conclude(self.finish(self.en_cours.popleft(), verifie))
        except PoolInterrompu as exc:
            raise ValidationInterrompue(
                f"La validation s'est arrêtée avant la fin, après {len(self.fichiers)} "
                f"fichier(s) sur {count} : {exc} Rien n'est perdu : les fichiers déjà "
                "enregistrés sont reconnus à la prochaine exécution, les autres y sont "
                "vérifiés.") from exc
        finally:
            results.close()  # the pool stops (see ordered_map) before what it wrote goes
            while self.en_cours:  # stopped early: the annotated copies never concluded
                plan = self.en_cours.popleft()
                if plan.tache is not None:
                    Path(plan.tache.annotee).unlink(missing_ok=True)

    def plans(self, entrees: list[Entree], pending: dict[str, Reception]
              ) -> Iterator[_Tache | None]:
        """What the workers check, one item per file in reception order (None: nothing to
        check); each file's plan waits in ``en_cours`` for its result."""
        entrees.reverse()
        while entrees:  # each entry let go once planned
            plan = self.plan_entry(entrees.pop(), pending)
            self.en_cours.append(plan)
            yield plan.tache
        for reception in sorted(pending.values(), key=lambda r: r.recu_le):
            plan = self.plan_archived(reception)
            self.en_cours.append(plan)
            yield plan.tache

    def plan_entry(self, entree: Entree, pending: dict[str, Reception]) -> _Plan:
        """A file of the inbox: archived (streamed, hashed) first, then sent to be checked
        unless its content is known (earlier in this run: a duplicate, confirmed when it is
        concluded; or from an earlier run)."""
        name, path = entree.nom, entree.path
        try:
            with open_regular(path) as fh:
                before = signature(os.fstat(fh.fileno()))
                digest, stored, size = self.archive.store_stream(fh, name)
                after = signature(os.fstat(fh.fileno()))
        except FichierIllisible as exc:
            return _Plan(fichier=_set_aside(Ecart(path, str(exc))))
        except OSError:
            return _Plan(fichier=_set_aside(
                Ecart(path, "illisible (droits d'accès ou fichier verrouillé)")))
        # The file as read, unless it changed while it was read (then: read again next time).
        sig: Signature | None = (before if same_signature(before, after) and before[0] == size
                                 else None)
        plan = _Plan(name, path, digest, stored, size, sig, pending.pop(digest, None))
        key = int(digest[:16], 16)
        if key in self.seen or key in self.en_vol:  # sent to be checked earlier in this run
            plan.doublon = True
        elif plan.earlier is None and self.archive.latest(digest) is not None:
            plan.fichier = self.known_duplicate(plan)
        else:
            self.send(plan)
        return plan

    def plan_archived(self, earlier: Reception) -> _Plan:
        """A file rejected earlier for a Direction-side reason, checked again from its
        archived copy (the inbox may no longer hold it)."""
        stored = self.archive.folder / earlier.archive
        try:
            size = stored.stat().st_size
        except OSError:
            return _Plan(fichier=_set_aside(
                Ecart(stored, "copie archivée introuvable : réexamen impossible")))
        plan = _Plan(earlier.nom, Path(earlier.source), earlier.sha256, stored, size, None,
                     earlier)
        self.send(plan)
        return plan

    def send(self, plan: _Plan) -> None:
        """The task of a file to check: where its archived copy is, and where to write its
        annotated copy until it is concluded (its final name is given then, in order)."""
        if self.taches == 0:
            self.prepare()
        self.taches += 1
        earlier = plan.earlier
        premier = None if earlier is None else make_finding(
            "RET_REEXAMEN", file=plan.nom, received=earlier.recu_le,
            codes=", ".join(earlier.codes or ()) or "motif non consigné",
            why="à la demande (--revalider)" if self.revalider
            else "car les réglages ont changé depuis")
        annotee = self.out / "annotés" / f"{TMP_PREFIX}annotee-{self.taches}.xlsx"
        plan.tache = _Tache(plan.nom, str(plan.stored), plan.size, str(annotee), premier)
        self.en_vol[int(plan.digest[:16], 16)] += 1

    def prepare(self) -> None:
        """What every check of the year needs, built once here before the workers start
        (they inherit it, or receive it once): the programmation's actions by number. A failure
        is left to the checks, which make it the finding of each file, as before."""
        try:
            self.ctx.actions_index(self.ctx.annee)
            self.ctx.codes_oo()
        except Exception:  # noqa: BLE001 - met again, file by file, by the checks
            log.debug("Préparation du contexte des contrôles impossible", exc_info=True)

    def finish(self, plan: _Plan, verifie: _Verifie | None) -> FichierTraite:
        """The file of ``plan`` as checked (``verifie``: its worker's result), in order."""
        if plan.tache is not None:
            self.landed(plan)
        if plan.fichier is not None:
            return plan.fichier
        if plan.doublon:
            if (same := self.checked(plan.digest)) is not None:
                return self.duplicate(plan.nom, plan.source, plan.digest, plan.stored,
                                      plan.size, plan.sig, same.nom, same.recu_le,
                                      status_of(same.findings), same)
            # Another content with the same first 64 bits (never seen): as any new file.
            if plan.earlier is None and self.archive.latest(plan.digest) is not None:
                return self.known_duplicate(plan)
            self.send(plan)
            self.landed(plan)
            verifie = _check(plan.tache, self.ctx)  # here: the pool is ahead
        traite = self.checked_file(plan, verifie)
        if plan.sig is not None and traite.reception is not None:
            traite.reception.noter_signature(plan.sig)
        return traite

    def landed(self, plan: _Plan) -> None:
        key = int(plan.digest[:16], 16)
        if self.en_vol[key] > 1:
            self.en_vol[key] -= 1
        else:
            del self.en_vol[key]

    def known_duplicate(self, plan: _Plan) -> FichierTraite:
        """A content an earlier run received (its journal says how it ended)."""
        previous = self.archive.latest(plan.digest)
        first = self.archive.previous(plan.digest) or previous
        return self.duplicate(plan.nom, plan.source, plan.digest, plan.stored, plan.size,
                              plan.sig, first.nom, first.recu_le, previous.statut, previous)

    def checked(self, digest: str) -> FichierTraite | None:
        """This run's file of that content, if one was checked."""
        place = self.seen.get(int(digest[:16], 16))
        if place is None:
            return None
        same = self.fichiers[place]
        return same if same.sha256 == digest else None

    def duplicate(self, name: str, path: Path, digest: str, stored: Path, size: int,
                  sig: Signature | None, original: str, received: str, status: str,
                  known) -> FichierTraite:
        reception = Reception(digest, name, str(path), self.horodatage, size,
                              _rel(stored, self.archive), statut=DOUBLON)
        reception.noter_signature(sig)
        f = make_finding("RET_DOUBLON", file=name, received=received, original=original,
                         status=status)
        return FichierTraite(name, path, digest, DOUBLON, [f], stored,
                             classeur_id=known.classeur_id, type=known.type,
                             destinataire=known.destinataire, recu_le=reception.recu_le,
                             reception=reception)

    def checked_file(self, plan: _Plan, verifie: _Verifie) -> FichierTraite:
        """The file's findings as its worker found them; its journal entry, its annotated
        copy's name (given here, in order, so that it does not depend on the workers)."""
        name, earlier = plan.nom, plan.earlier
        recu_le = earlier.recu_le if earlier is not None else self.horodatage
        reception = Reception(plan.digest, name, str(plan.source), self.horodatage, plan.size,
                              _rel(plan.stored, self.archive), reglages=self.reglages,
                              reexamen=earlier is not None)
        if verifie.trace:
            log.error("Vérification de « %s » interrompue\n%s", name, verifie.trace)
        meta, lu = verifie.meta, verifie.lu
        if lu is not None and verifie.spec:
            lu.spec = SPECS[verifie.spec]
        traite = FichierTraite(name, plan.source, plan.digest, REJETE, verifie.findings,
                               plan.stored, classeur_id=meta_text(meta.get("meta_classeur_id")),
                               type=meta_text(meta.get("meta_type")),
                               destinataire=meta_text(meta.get("meta_destinataire")), lu=lu,
                               recu_le=recu_le, detail_technique=verifie.technique,
                               reexamen=earlier is not None, reception=reception,
                               cle=_key(meta), revue=meta_text(meta.get("meta_revue")))
        copie = Path(plan.tache.annotee)
        failure = verifie.annotation
        if verifie.annotee:
            stem = safe_stem(f"{Path(name).stem} - à corriger")
            target = self.out / "annotés" / unique_name(stem, ".xlsx", self.taken)
            try:
                os.replace(copie, target)
                traite.annotee = target
            except OSError as exc:
                copie.unlink(missing_ok=True)
                failure, verifie.annotation_trace = _technical(exc), traceback.format_exc()
        if failure:  # the report still lists every file
            log.error("Copie annotée de « %s » impossible\n%s", name, verifie.annotation_trace)
            traite.findings.append(make_finding("RET_ANNOTATION", file=name))
            traite.detail_technique = traite.detail_technique or failure
        return traite

    def conclude(self, traite: FichierTraite) -> None:
        """Everything about one file, before the next one is read: its status (last, from
        every finding), its recording, its versions, its journal entry; then it
        joins the run's files without its parsed workbook."""
        checked = traite.reception is not None and traite.statut != DOUBLON
        self.finalise(traite)
        if self.enregistreur is not None:
            self.record(traite)
        place = len(self.fichiers)
        if traite.reception is not None:
            self.archive.record(traite.reception)
        self.version(traite, place)
        if checked:
            self.seen.setdefault(int(traite.sha256[:16], 16), place)
        self.fichiers.append(traite)
        traite.lu = traite.reception = None

    def record(self, traite: FichierTraite) -> None:
        """The file's own recording; a failure rejects that file only."""
        detail = self.enregistreur.enregistrer(traite, contrat=self.contrat,
                                               annee=self.ctx.annee, debut=self.horodatage)
        if detail and traite.statut in ACCEPTES:
            traite.findings.append(make_finding("RET_ENREGISTREMENT", file=traite.nom,
                                                detail=_PLAIN_STORE_ERROR))
            traite.detail_technique = detail
            self.finalise(traite)  # the status follows the last finding

    def version(self, traite: FichierTraite, place: int) -> None:
        """When one recipient sent several accepted versions in this run, the one kept
        is the most recently received (then: the last taken)."""
        if traite.cle is None or traite.lu is None or traite.statut not in ACCEPTES:
            return
        group = self.versions.get(traite.cle)
        if group is None:
            self.versions[traite.cle] = _Versions(traite.recu_le, place, traite.nom, place)
        elif (traite.recu_le, place) >= (group.recu_le, group.rang):
            group.anciennes.append(group.place)
            group.recu_le, group.rang, group.nom, group.place = (traite.recu_le, place,
                                                                 traite.nom, place)
        else:
            group.anciennes.append(place)

    def mark_versions(self) -> Fichiers:
        """Say, on each version that was not kept, which one is: in the run's files (read
        once more, written again) and in the store (information only: no status
        changes)."""
        groups = list(self.versions.values())
        # One integer per version not kept: its place in the run, then its group.
        marks = sorted(place << 24 | g for g, group in enumerate(groups)
                       for place in group.anciennes)
        if not marks:
            return self.fichiers
        marked = Fichiers(self.out, self.fichiers._relecture)
        notes: list[tuple[str, Finding]] = []
        mark = iter(marks)
        following = next(mark)
        for place, fichier in enumerate(self.fichiers):
            if following is not None and following >> 24 == place:
                finding = make_finding("RET_VERSION_REMPLACEE", file=fichier.nom,
                                       newer=groups[following & 0xFFFFFF].nom)
                fichier.findings.append(finding)
                notes.append((fichier.sha256, finding))
                if len(notes) >= _NOTES_BATCH:
                    self.note(notes)
                following = next(mark, None)
            marked.append(fichier)
        self.note(notes)
        return marked

    def note(self, notes: list[tuple[str, Finding]]) -> None:
        if self.enregistreur is not None and notes:
            self.enregistreur.noter(notes)
        notes.clear()

    def finalise(self, traite: FichierTraite) -> None:
        """The status, computed last, from every finding; the journal entry follows it."""
        if traite.statut in (DOUBLON, ECARTE):
            return
        traite.statut = status_of(traite.findings)
        reception = traite.reception
        if reception is None:
            return
        bloquants = [f.code for f in traite.findings if f.severity is Severity.BLOQUANT]
        reception.statut = traite.statut
        reception.classeur_id, reception.type = traite.classeur_id, traite.type
        reception.destinataire = traite.destinataire
        reception.bloquants = len(bloquants)
        reception.avertissements = sum(1 for f in traite.findings
                                       if f.severity is Severity.AVERTISSEMENT)
        reception.codes = sorted(set(bloquants))


def _rel(stored: Path, archive: Archive) -> str:
    return stored.relative_to(archive.folder).as_posix()


def _key(meta: dict) -> tuple[str, ...] | None:
    """The store's identity of a return: one in force per contrat, year, revue, kind and
    recipient (a référent's returns of two revues are both kept)."""
    destinataire = meta_text(meta.get("meta_destinataire_id"))
    if not destinataire:
        return None
    return (meta_text(meta.get("meta_contrat")), meta_text(meta.get("meta_annee")),
            str(revue_number(meta.get("meta_revue"))), meta_text(meta.get("meta_type")),
            destinataire)


def _technical(exc: BaseException) -> str:
    """For the JSON report and the log only (IT reads them), never for a porteur."""
    return f"{type(exc).__name__}: {exc}"[:500]


def _set_aside(ecart: Ecart) -> FichierTraite:
    name = ecart.path.name
    return FichierTraite(name, ecart.path, "", ECARTE,
                         [make_finding("RET_ECARTE", file=name, detail=ecart.raison)])
