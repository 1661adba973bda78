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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

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
from cv_excel.intake.inbox import Ecart, Entree, FichierIllisible, open_regular, scan
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
    lu: ClasseurLu | None = field(default=None, repr=False)  # the data, for consolidation
    recu_le: str = ""  # when the file was received (a re-examined file keeps its date)
    detail_technique: str = ""  # for IT: the JSON report and the log, never a porteur
    reexamen: bool = False
    reception: Reception | None = field(default=None, repr=False)  # its journal entry
    cle: tuple[str, ...] | None = None  # (contrat, année, revue, type, destinataire)
    revue: str = ""  # « 2 » for a workbook of revue 2, empty for an annual one


@dataclass
class ValidationRun:
    debut: dt.datetime
    dossier_sortie: Path
    fichiers: list[FichierTraite] = field(default_factory=list)
    fin: dt.datetime | None = None
    rapport_xlsx: Path | None = None
    rapport_json: Path | None = None
    enregistrement: object | None = None  # store.imports.ImportSummary

    def count(self, statut: str) -> int:
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
    the outcome in the working folder's store.

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
        run = ValidationRun(now, out)
        entrees, ecarts = scan(list(chemins) if chemins is not None else [work.path("retours")])
        pending = {r.sha256: r for r in archive.to_reexamine(
            reglages, force=revalider, direction_codes=CAUSE_DIRECTION)}
        job = _Job(ctx, archive, out, now, reglages, revalider)
        for entree in entrees:
            run.fichiers.append(job.process_entry(entree, pending))
        for reception in sorted(pending.values(), key=lambda r: r.recu_le):
            run.fichiers.append(job.process_archived(reception))
        _mark_versions(run.fichiers)
        for fichier in run.fichiers:
            job.finalise(fichier)
        if store is not None:
            from cv_excel.store.imports import record_run

            run.enregistrement = record_run(store, run, contrat=work.config.contrat,
                                            annee=ctx.annee)
            for fichier in run.fichiers:
                detail = run.enregistrement.echecs.get(fichier.sha256)
                if detail and fichier.statut in ACCEPTES:
                    fichier.findings.append(make_finding(
                        "RET_ENREGISTREMENT", file=fichier.nom, detail=_PLAIN_STORE_ERROR))
                    fichier.detail_technique = detail
                    job.finalise(fichier)  # the status follows the last finding
        run.fichiers += [_set_aside(e) for e in ecarts]
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


@dataclass
class _Job:
    """One run's shared state: what every file's processing needs."""

    ctx: IntakeContext
    archive: Archive
    out: Path
    now: dt.datetime
    reglages: str
    revalider: bool
    taken: set[str] = field(default_factory=set)
    seen: dict[str, FichierTraite] = field(default_factory=dict)  # digest -> this run's file

    def process_entry(self, entree: Entree, pending: dict[str, Reception]) -> FichierTraite:
        """A file of the inbox: archived (streamed, hashed) first, then checked."""
        name, path = entree.path.name, entree.path
        try:
            with open_regular(path) as fh:
                digest, stored, size = self.archive.store_stream(fh, name)
        except FichierIllisible as exc:
            return _set_aside(Ecart(path, str(exc)))
        except OSError:
            return _set_aside(Ecart(path, "illisible (droits d'accès ou fichier verrouillé)"))
        earlier = pending.pop(digest, None)
        if digest in self.seen:  # the same content earlier in this very run
            same = self.seen[digest]
            return self.duplicate(name, path, digest, stored, size, same.nom, same.recu_le,
                                  status_of(same.findings), same)
        if earlier is not None:
            traite = self.check(name, path, digest, stored, size, self.now, earlier)
        elif (previous := self.archive.latest(digest)) is not None:
            first = self.archive.previous(digest) or previous
            return self.duplicate(name, path, digest, stored, size, first.nom, first.recu_le,
                                  previous.statut, previous)
        else:
            traite = self.check(name, path, digest, stored, size, self.now)
        self.seen[digest] = traite
        return traite

    def duplicate(self, name: str, path: Path, digest: str, stored: Path, size: int,
                  original: str, received: str, status: str, known) -> FichierTraite:
        reception = Reception(digest, name, str(path), self.now.isoformat(timespec="seconds"),
                              size, _rel(stored, self.archive), statut=DOUBLON)
        self.archive.record(reception)
        f = make_finding("RET_DOUBLON", file=name, received=received, original=original,
                         status=status)
        return FichierTraite(name, path, digest, DOUBLON, [f], stored,
                             classeur_id=known.classeur_id, type=known.type,
                             destinataire=known.destinataire, recu_le=reception.recu_le)

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
        recu_le = earlier.recu_le if earlier is not None else now.isoformat(timespec="seconds")
        reception = Reception(digest, name, str(source), now.isoformat(timespec="seconds"),
                              size, _rel(stored, self.archive), reglages=self.reglages,
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
        self.archive.record(reception)
        return traite

    def annotate(self, traite: FichierTraite, data: bytes) -> None:
        stem = safe_stem(f"{Path(traite.nom).stem} - à corriger")
        try:
            traite.annotee = annotate(data, traite.findings, self.out / "annotés" /
                                      unique_name(stem, ".xlsx", self.taken), traite.nom)
        except Exception as exc:  # the report still lists every finding
            log.exception("Copie annotée de « %s » impossible", traite.nom)
            traite.findings.append(make_finding("RET_ANNOTATION", file=traite.nom))
            traite.detail_technique = traite.detail_technique or _technical(exc)

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


def _mark_versions(fichiers: list[FichierTraite]) -> None:
    """When one recipient sent several accepted versions in this run, say which one is
    kept: the most recently received (files are already in reception order)."""
    groups: dict[tuple, list[FichierTraite]] = {}
    for f in fichiers:
        if f.cle is not None and f.lu is not None and status_of(f.findings) in ACCEPTES:
            groups.setdefault(f.cle, []).append(f)
    for versions in groups.values():
        if len(versions) < 2:
            continue
        ordered_versions = sorted(enumerate(versions), key=lambda iv: (iv[1].recu_le, iv[0]))
        newest = ordered_versions[-1][1]
        for _, older in ordered_versions[:-1]:
            older.findings.append(make_finding("RET_VERSION_REMPLACEE", file=older.nom,
                                               newer=newest.nom))
