"""``cv-excel valider``: process every received file, whatever it is.

For each file: read its bytes once → archive them → file checks → workbook
identification → structure → tamper → values → cross checks. A blocking
finding rejects the file; warnings alone accept it. An unexpected error in a
check never stops the run: it becomes a finding on that file. Outputs: the
validation report (xlsx + JSON) and an annotated copy of every rejected or
warned workbook, under ``sorties/validation/<horodatage>/``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cv_excel.config import DossierTravail
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.findings import Finding, Severity, make_finding
from cv_excel.intake.annotate import annotate
from cv_excel.intake.archive import Archive, Reception, sha256
from cv_excel.intake.checks.classeur import check_structure, identify, open_book, read
from cv_excel.intake.checks.cross import check_cross
from cv_excel.intake.checks.fichier import check_file
from cv_excel.intake.checks.tamper import check_tamper
from cv_excel.intake.checks.values import check_values
from cv_excel.intake.context import IntakeContext, context_for
from cv_excel.intake.report import write_reports
from cv_excel.reader import ClasseurLu
from cv_excel.referentiel.models import Referentiel

ACCEPTE = "accepté"
ACCEPTE_AVERTISSEMENTS = "accepté avec avertissements"
REJETE = "rejeté"
DOUBLON = "doublon"


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


def received_files(chemins: list[Path]) -> list[Path]:
    """Files named, and files found (recursively) in folders named; sorted, none dropped."""
    files: list[Path] = []
    for chemin in chemins:
        if chemin.is_dir():
            files += sorted(p for p in chemin.rglob("*") if p.is_file())
        elif chemin.is_file():
            files.append(chemin)
    return files


def status_of(findings: list[Finding]) -> str:
    if any(f.severity is Severity.BLOQUANT for f in findings):
        return REJETE
    return ACCEPTE_AVERTISSEMENTS if findings else ACCEPTE


def check_bytes(name: str, data: bytes, ctx: IntakeContext
                ) -> tuple[list[Finding], ClasseurLu | None, dict]:
    """Every stage on one file's bytes; later stages run only when they can."""
    findings, pkg = check_file(name, data)
    if pkg is None:
        return findings, None, {}
    book = open_book(data)
    found, spec, meta = identify(name, pkg, book, ctx)
    findings += found
    if spec is None:
        return findings, None, meta
    lu = read(name, pkg, book, spec)
    structure = check_structure(name, lu, meta)
    findings += structure
    entry = ctx.registre.get(str(meta.get("meta_classeur_id") or ""))
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
            now: dt.datetime | None = None, record: bool = True) -> ValidationRun:
    """Process every file of ``chemins`` (default: the inbox ``retours/``) and record
    the outcome in the working folder's store."""
    if ref is None:
        from cv_excel.referentiel.load import load_for_folder

        ref, _ = load_for_folder(work)
    now = now or dt.datetime.now().astimezone()
    ctx = context_for(work, ref, annee)
    archive = Archive(work.path("archives"))
    out = work.path("sorties") / "validation" / now.strftime("%Y-%m-%d %H%M%S")
    run = ValidationRun(now, out)
    taken: set[str] = set()
    for path in received_files(chemins or [work.path("retours")]):
        run.fichiers.append(_process(path, ctx, archive, out, taken, now))
    run.fin = dt.datetime.now().astimezone()
    run.rapport_xlsx, run.rapport_json = write_reports(run, out)
    if record:
        from cv_excel.store.db import default_store_path, open_store
        from cv_excel.store.imports import record_run

        with open_store(default_store_path(work)) as store:
            run.enregistrement = record_run(store, run, contrat=work.config.contrat,
                                            annee=ctx.annee)
    # The journal is written last: a run interrupted before this point is simply done
    # again next time (the archive and the store recognise what they already hold).
    archive.save()
    return run


def _process(path: Path, ctx: IntakeContext, archive: Archive, out: Path, taken: set[str],
             now: dt.datetime) -> FichierTraite:
    name = path.name
    data = path.read_bytes()
    digest = sha256(data)
    stored = archive.store(data, digest, name)
    reception = Reception(digest, name, str(path), now.isoformat(timespec="seconds"),
                          len(data), stored.relative_to(archive.folder).as_posix())
    previous = archive.previous(digest)
    if previous is not None:
        reception.statut = DOUBLON
        archive.record(reception)
        f = make_finding("RET_DOUBLON", file=name, received=previous.recu_le,
                         original=previous.nom, status=previous.statut)
        return FichierTraite(name, path, digest, DOUBLON, [f], stored,
                             classeur_id=previous.classeur_id, type=previous.type,
                             destinataire=previous.destinataire)
    lu, meta = None, {}
    try:
        findings, lu, meta = check_bytes(name, data, ctx)
    except Exception as exc:  # one odd file never stops the run
        findings = [make_finding("RET_ERREUR_INTERNE", file=name,
                                 detail=f"{type(exc).__name__} : {exc}")]
    statut = status_of(findings)
    traite = FichierTraite(name, path, digest, statut, findings, stored,
                           classeur_id=str(meta.get("meta_classeur_id") or ""),
                           type=str(meta.get("meta_type") or ""),
                           destinataire=str(meta.get("meta_destinataire") or ""), lu=lu)
    if statut != ACCEPTE and lu is not None:
        stem = safe_stem(f"{Path(name).stem} - à corriger")
        try:
            traite.annotee = annotate(data, findings, out / "annotés" /
                                      unique_name(stem, ".xlsx", taken), name)
        except Exception as exc:  # the report still lists every finding
            traite.findings.append(make_finding(
                "RET_ERREUR_INTERNE", file=name, detail=f"copie annotée impossible : {exc}"))
    reception.statut = statut
    reception.classeur_id, reception.type = traite.classeur_id, traite.type
    reception.destinataire = traite.destinataire
    reception.bloquants = sum(1 for f in findings if f.severity is Severity.BLOQUANT)
    reception.avertissements = len(findings) - reception.bloquants
    archive.record(reception)
    return traite
