"""``cv-excel valider``: process every received file, whatever it is.

Files are taken in reception order (file time): each is streamed into the
archive while hashed, then checked from that copy: file checks → workbook
identification → structure → tamper → values → cross checks. A blocking
finding rejects the file; warnings alone accept it; the status is computed
last, from every finding. Whatever goes wrong with one file (an unexpected
error in a check, the annotated copy, the store) becomes a finding on that
file and the run goes on. Entries of the inbox that are not files to process
(links, pipes, Excel lock files) get a line of the report too. Outputs: the
validation report (xlsx + JSON) and an annotated copy of every rejected or
warned workbook, under ``sorties/validation/<horodatage>/`` (one folder per run).

A run streams: each file is concluded (status, store transaction, journal entry)
before the next one is read, and what the run keeps of it afterwards is on disk
(:class:`Fichiers`), not its parsed workbook. Memory does not grow with the
number of files; what is kept in memory per file is a few integers (the versions
of one recipient, the contents already seen in this run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import pickle
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv_excel
from cv_excel.config import DossierTravail
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
from cv_excel.reader import ClasseurLu
from cv_excel.referentiel.models import Referentiel

log = logging.getLogger(__name__)

ACCEPTE = "accepté"
ACCEPTE_AVERTISSEMENTS = "accepté avec avertissements"
REJETE = "rejeté"
DOUBLON = "doublon"
ECARTE = "écarté"  # an entry of the inbox that is not a file to process


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
    enregistrement: object | None = None  # store.imports.ImportSummary

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
            now: dt.datetime | None = None, record: bool = True,
            revalider: bool = False) -> ValidationRun:
    """Process every file of ``chemins`` (default: the inbox ``retours/``) and record
    the outcome in the working folder's store, file by file.

    Files rejected earlier for a reason that lay with the Direction are examined again
    from the archive when the settings changed since, or always with ``revalider``.
    Whatever happens to one file stays on that file: the run goes on, the store, the
    report and the journal are written.
    """
    if ref is None:
        from cv_excel.referentiel.load import load_for_folder

        ref, _ = load_for_folder(work)
    now = now or dt.datetime.now().astimezone()
    ctx = context_for(work, ref, annee)
    archive = Archive(work.path("archives"))
    reglages = settings_fingerprint(work, ctx)
    store = _open_store(work) if record else None
    try:
        out = _run_folder(work.path("sorties") / "validation", now)
        run = ValidationRun(now, out, fichiers=Fichiers(out, _reader(ctx)))
        entrees, ecarts = scan(list(chemins) if chemins is not None else [work.path("retours")])
        pending = {r.sha256: r for r in archive.to_reexamine(
            reglages, force=revalider, direction_codes=CAUSE_DIRECTION)}
        job = _Job(ctx, archive, out, now, reglages, revalider, run.fichiers, store,
                   contrat=work.config.contrat)
        if store is not None:
            from cv_excel.store.imports import ImportSummary

            run.enregistrement = job.summary = ImportSummary()
        entrees.reverse()
        while entrees:  # each entry let go once its file is concluded
            job.conclude(job.process_entry(entrees.pop(), pending))
        for reception in sorted(pending.values(), key=lambda r: r.recu_le):
            job.conclude(job.process_archived(reception))
        for ecart in ecarts:
            job.conclude(_set_aside(ecart))
        run.fichiers = job.mark_versions()
        job = None  # what the run kept per file, before the journal is written
        run.fin = dt.datetime.now().astimezone()
        run.rapport_xlsx, run.rapport_json = write_reports(run, out)
    finally:
        if store is not None:
            store.close()
    # The journal is written last: a run interrupted before this point is simply done
    # again next time (the archive and the store recognise what they already hold).
    archive.save()
    return run


ACCEPTES = (ACCEPTE, ACCEPTE_AVERTISSEMENTS)
_STOPS = (KeyboardInterrupt, SystemExit, GeneratorExit)  # the run's, not the file's
_PLAIN_INTERNAL_ERROR = "erreur interne de cv_excel pendant la vérification"
_PLAIN_STORE_ERROR = "erreur interne de cv_excel pendant l'enregistrement"
_NOTES_BATCH = 500  # version notes written to the store per transaction


def _open_store(work: DossierTravail):
    """The store, opened before any file is touched: a store that cannot be used
    stops the command at once (working-folder fault), not halfway through."""
    from cv_excel.store.db import default_store_path, open_store

    return open_store(default_store_path(work))


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
            try:
                h.update(path.name.encode() + path.read_bytes())
            except OSError:
                h.update(path.name.encode() + b"?")
    return h.hexdigest()[:16]


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
    store: Any = None  # store.db.Store, None without recording
    contrat: str = ""
    summary: Any = None  # store.imports.ImportSummary
    taken: set[str] = field(default_factory=set)
    # Contents checked in this run: first 64 bits of the digest -> place in the run's files
    # (an int, not the digest's text: what a run keeps per file stays a few bytes).
    seen: dict[int, int] = field(default_factory=dict)
    versions: dict[tuple[str, ...], _Versions] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.horodatage = self.now.isoformat(timespec="seconds")

    def process_entry(self, entree: Entree, pending: dict[str, Reception]) -> FichierTraite:
        """A file of the inbox: archived (streamed, hashed) first, then checked."""
        name, path = entree.nom, entree.path
        try:
            with open_regular(path) as fh:
                before = signature(os.fstat(fh.fileno()))
                digest, stored, size = self.archive.store_stream(fh, name)
                after = signature(os.fstat(fh.fileno()))
        except FichierIllisible as exc:
            return _set_aside(Ecart(path, str(exc)))
        except OSError:
            return _set_aside(Ecart(path, "illisible (droits d'accès ou fichier verrouillé)"))
        # The file as read, unless it changed while it was read (then: read again next time).
        sig: Signature | None = (before if same_signature(before, after) and before[0] == size
                                 else None)
        earlier = pending.pop(digest, None)
        if (same := self.checked(digest)) is not None:  # the same content earlier in this run
            return self.duplicate(name, path, digest, stored, size, sig, same.nom,
                                  same.recu_le, status_of(same.findings), same)
        if earlier is not None:
            traite = self.check(name, path, digest, stored, size, self.now, earlier)
        elif (previous := self.archive.latest(digest)) is not None:
            first = self.archive.previous(digest) or previous
            return self.duplicate(name, path, digest, stored, size, sig, first.nom,
                                  first.recu_le, previous.statut, previous)
        else:
            traite = self.check(name, path, digest, stored, size, self.now)
        if traite.reception is not None:
            traite.reception.noter_signature(sig)
        return traite

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

    def process_archived(self, earlier: Reception) -> FichierTraite:
        """A file rejected earlier for a Direction-side reason, checked again from its
        archived copy (the inbox may no longer hold it)."""
        stored = self.archive.folder / earlier.archive
        try:
            size = stored.stat().st_size
        except OSError:
            return _set_aside(Ecart(stored, "copie archivée introuvable : réexamen impossible"))
        return self.check(earlier.nom, Path(earlier.source), earlier.sha256, stored, size,
                          self.now, earlier)

    def check(self, name: str, source: Path, digest: str, stored: Path, size: int,
              now: dt.datetime, earlier: Reception | None = None) -> FichierTraite:
        recu_le = earlier.recu_le if earlier is not None else self.horodatage
        reception = Reception(digest, name, str(source), self.horodatage, size,
                              _rel(stored, self.archive), reglages=self.reglages,
                              reexamen=earlier is not None)
        lu, meta, technique = None, {}, ""
        data = b""
        if (too_big := check_size(name, size)) is not None:  # never loaded in memory
            findings = [too_big]
        else:
            try:
                data = stored.read_bytes()
                findings, lu, meta = check_bytes(name, data, self.ctx)
            except _STOPS:
                raise
            except BaseException as exc:  # noqa: BLE001 - one odd file never stops the run
                # BaseException: a panic inside a compiled reader (pyo3's PanicException)
                # is not an Exception, and must stay on its file too.
                log.exception("Vérification de « %s » interrompue", name)
                findings = [make_finding("RET_ERREUR_INTERNE", file=name,
                                         detail=_PLAIN_INTERNAL_ERROR)]
                technique = _technical(exc)
                lu, meta = None, {}
        if earlier is not None:
            findings.insert(0, make_finding(
                "RET_REEXAMEN", file=name, received=earlier.recu_le,
                codes=", ".join(earlier.codes or ()) or "motif non consigné",
                why="à la demande (--revalider)" if self.revalider
                else "car les réglages ont changé depuis"))
        traite = FichierTraite(name, source, digest, REJETE, findings, stored,
                               classeur_id=meta_text(meta.get("meta_classeur_id")),
                               type=meta_text(meta.get("meta_type")),
                               destinataire=meta_text(meta.get("meta_destinataire")), lu=lu,
                               recu_le=recu_le, detail_technique=technique,
                               reexamen=earlier is not None, reception=reception,
                               cle=_key(meta), revue=meta_text(meta.get("meta_revue")))
        if status_of(findings) != ACCEPTE and lu is not None:
            self.annotate(traite, data)
        return traite

    def annotate(self, traite: FichierTraite, data: bytes) -> None:
        stem = safe_stem(f"{Path(traite.nom).stem} - à corriger")
        try:
            traite.annotee = annotate(data, traite.findings, self.out / "annotés" /
                                      unique_name(stem, ".xlsx", self.taken), traite.nom)
        except Exception as exc:  # the report still lists every file
            log.exception("Copie annotée de « %s » impossible", traite.nom)
            traite.findings.append(make_finding("RET_ANNOTATION", file=traite.nom))
            traite.detail_technique = traite.detail_technique or _technical(exc)

    def conclude(self, traite: FichierTraite) -> None:
        """Everything about one file, before the next one is read: its status (last, from
        every finding), its store transaction, its versions, its journal entry; then it
        joins the run's files without its parsed workbook."""
        checked = traite.reception is not None and traite.statut != DOUBLON
        self.finalise(traite)
        if self.store is not None:
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
        """The file's own store transaction; a failure rejects that file only."""
        from cv_excel.store.imports import record_file

        detail = record_file(self.store, traite, self.summary, contrat=self.contrat,
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
        replaced = {place: group.nom for group in self.versions.values()
                    for place in group.anciennes}
        if not replaced:
            return self.fichiers
        marked = Fichiers(self.out, self.fichiers._relecture)
        notes: list[tuple[str, Finding]] = []
        for place, fichier in enumerate(self.fichiers):
            if place in replaced:
                finding = make_finding("RET_VERSION_REMPLACEE", file=fichier.nom,
                                       newer=replaced[place])
                fichier.findings.append(finding)
                notes.append((fichier.sha256, finding))
                if len(notes) >= _NOTES_BATCH:
                    self.note(notes)
            marked.append(fichier)
        self.note(notes)
        return marked

    def note(self, notes: list[tuple[str, Finding]]) -> None:
        if self.store is not None and notes:
            from cv_excel.store.imports import add_findings

            add_findings(self.store, notes)
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
