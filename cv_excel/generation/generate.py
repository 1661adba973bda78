"""``cv-excel generer``: one workbook per porteur and per référent for a year.

Templates come from the working folder's ``modeles/`` (the Direction's restyled
copies) or, when absent there, from the templates shipped in ``templates/``.
Every run appends to ``classeurs/<année>/registre.json`` the workbooks it wrote
(id, recipient, file, fingerprint), which intake and reminders rely on.

Each workbook is registered *before* its file is written, one by one: a run
stopped at any point (error, Ctrl+C, killed process) never leaves in
``classeurs/`` a workbook whose return would be refused as never sent. A
workbook that cannot be built (a template table too small, a file open in
Excel…) is reported in :attr:`GenerationResult.echecs`; the others are written.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import cv_excel
from cv_excel.atomic import write_bytes_atomic, write_text_atomic
from cv_excel.config import DossierTravail
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.generation.plan import Cascade, FillPlan, plan_porteur, plan_referent
from cv_excel.generation.render import CapaciteInsuffisante, PreparedTemplate, prepare, render
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import SPECS, ClasseurSpec
from cv_excel.text import clean_text

BUILTIN_TEMPLATES = Path(cv_excel.__file__).resolve().parents[1] / "templates"
DOSSIER_MODELES = "modeles"
SOUS_DOSSIERS = {"porteur": "Porteurs", "referent": "Référents"}
LIBELLES = {"porteur": "Bilan porteur", "referent": "Suivi référent"}
REGISTRE = "registre.json"


class ModeleIntrouvable(Exception):
    pass


class ProgrammationIntrouvable(Exception):
    """No programmation file for the year in the working folder; the message is French."""


@dataclass
class ClasseurGenere:
    classeur_id: str
    type: str
    destinataire_id: str
    destinataire: str
    fichier: str  # relative to the working folder
    sections: list[str]
    empreinte: str
    genere_le: str
    modele: str
    preremplies: dict[str, str] = field(default_factory=dict)


@dataclass
class EchecGeneration:
    """A workbook this run could not write (the others were written and registered)."""

    type: str
    destinataire: str
    fichier: str  # where it would have been written, relative to the working folder
    motif: str  # in French, for the person running the generation
    detail: str = ""  # technical (exception type and text): for a log, not for users

    @property
    def message(self) -> str:
        where = f" ({self.fichier})" if self.fichier else ""
        return f"{LIBELLES[self.type]} « {self.destinataire} »{where} non généré : {self.motif}"


@dataclass
class GenerationResult:
    annee: int
    dossier: Path
    classeurs: list[ClasseurGenere] = field(default_factory=list)
    referents_sans_objectif: list[str] = field(default_factory=list)
    echecs: list[EchecGeneration] = field(default_factory=list)

    def of_type(self, kind: str) -> list[ClasseurGenere]:
        return [c for c in self.classeurs if c.type == kind]


def template_path(work: DossierTravail | None, spec: ClasseurSpec) -> Path:
    """The Direction's copy in ``modeles/`` wins over the shipped template."""
    candidates = []
    if work is not None:
        candidates.append(work.root / DOSSIER_MODELES / spec.modele)
    candidates.append(BUILTIN_TEMPLATES / spec.modele)
    for path in candidates:
        if path.is_file():
            return path
    raise ModeleIntrouvable(f"Modèle « {spec.modele} » introuvable (cherché dans : "
                            + ", ".join(str(c.parent) for c in candidates) + ").")


def output_folder(work: DossierTravail, annee: int) -> Path:
    return work.path("classeurs") / str(annee)


def cascade_from_store(work: DossierTravail, annee: int) -> Cascade:
    """The porteurs' accepted bilans of ``annee`` and the indicator values of the year
    before, when the working folder has a store (nothing otherwise)."""
    from cv_excel.store.db import default_store_path, open_store
    from cv_excel.store.queries import load_year

    cascade = Cascade()
    path = default_store_path(work)
    if not path.exists():
        return cascade
    with open_store(path) as store:
        current = load_year(store, work.config.contrat, annee)
        previous = load_year(store, work.config.contrat, annee - 1)
    cascade.bilans = {n: (b.realisation, b.score) for n, b in current.bilans.items()}
    for code, suivis in previous.suivis.items():
        for suivi in suivis:
            for ind in suivi.indicateurs:
                if ind.valeur_annee and not ind.propose:
                    cascade.precedents.setdefault((code, ind.libelle), ind.valeur_annee)
    return cascade


def plans(ref: Referentiel, programmation: Programmation, work: DossierTravail, annee: int,
          kinds: tuple[str, ...] = ("porteur", "referent"),
          echecs: list[EchecGeneration] | None = None) -> tuple[list[FillPlan], list[str]]:
    """Every workbook to write this year, and the référents that get none.

    With ``echecs``, a plan that cannot be built is reported there instead of raising.
    """
    cascade = cascade_from_store(work, annee) if "referent" in kinds else Cascade()
    result: list[FillPlan] = []

    def add(kind: str, destinataire: str, build: Callable[[], FillPlan]) -> None:
        try:
            result.append(build())
        except Exception as exc:
            if echecs is None:
                raise
            echecs.append(_echec(kind, destinataire, "", exc))

    if "porteur" in kinds:
        for porteur in programmation.porteurs():
            add("porteur", porteur.raison_sociale, partial(
                plan_porteur, porteur, programmation.actions_of(porteur.siret), ref,
                work.config, annee))
    sans_objectif = []
    if "referent" in kinds:
        for referent in ref.referents:
            if ref.objectifs_of_referent(referent.id):
                add("referent", referent.libelle, partial(
                    plan_referent, referent, ref, programmation, work.config, annee, cascade))
            else:
                sans_objectif.append(referent.libelle)
    return result, sans_objectif


def _echec(kind: str, destinataire: str, fichier: str, exc: Exception) -> EchecGeneration:
    """The French line of a workbook that could not be built or written."""
    if isinstance(exc, CapaciteInsuffisante):
        motif = str(exc)  # written in French for the Direction
    elif isinstance(exc, OSError):
        motif = ("le fichier n'a pas pu être écrit (ouvert dans Excel, dossier en lecture "
                 "seule ou disque plein ?) : fermez-le ou libérez de la place, puis relancez "
                 "la génération.")
    else:
        motif = ("erreur inattendue pendant sa construction ; les autres classeurs sont "
                 "écrits. Signalez-la au support de cv-excel avec la programmation utilisée.")
    return EchecGeneration(kind, clean_text(destinataire), fichier, motif,
                           f"{type(exc).__name__}: {exc}")


def generate(work: DossierTravail, ref: Referentiel, programmation: Programmation, annee: int,
             kinds: tuple[str, ...] = ("porteur", "referent"),
             now: dt.datetime | None = None) -> GenerationResult:
    """Write the year's workbooks under ``classeurs/<année>/`` and register them."""
    now = now or dt.datetime.now().astimezone()
    templates: dict[str, PreparedTemplate] = {
        kind: prepare(template_path(work, SPECS[kind]), SPECS[kind]) for kind in kinds}
    echecs: list[EchecGeneration] = []
    todo, sans_objectif = plans(ref, programmation, work, annee, kinds, echecs)
    result = GenerationResult(annee, work.root, referents_sans_objectif=sans_objectif,
                              echecs=echecs)
    base = output_folder(work, annee)
    registre = _Registre(base / REGISTRE)
    try:
        _write_all(work, todo, templates, base, registre, now, result)
    finally:  # stopped by an exception too: what was written is in the register
        registre.commit()
    return result


def _write_all(work: DossierTravail, todo: list[FillPlan], templates: dict, base: Path,
               registre: _Registre, now: dt.datetime, result: GenerationResult) -> None:
    taken: set[str] = set()
    for plan in todo:
        tpl = templates[plan.spec.kind]
        path = base / SOUS_DOSSIERS[plan.spec.kind] / unique_name(safe_stem(plan.file_stem),
                                                                  ".xlsx", taken)
        fichier = path.relative_to(work.root).as_posix()
        classeur_id = uuid.uuid4().hex
        try:
            rendu = render(tpl, plan, classeur_id, now)
        except Exception as exc:
            result.echecs.append(_echec(plan.spec.kind, plan.destinataire, fichier, exc))
            continue
        classeur = ClasseurGenere(
            classeur_id, plan.spec.kind, plan.destinataire_id, plan.destinataire, fichier,
            [s.key for s in plan.sections], rendu.empreinte, now.isoformat(timespec="seconds"),
            tpl.path.name, rendu.preremplies)
        # Registered first: stopped between the two, the register names a workbook that
        # was never written (the next run replaces it), never the other way round.
        registre.add(classeur)
        try:
            write_bytes_atomic(path, rendu.data)
        except OSError as exc:
            registre.remove(classeur_id)
            result.echecs.append(_echec(plan.spec.kind, plan.destinataire, fichier, exc))
            continue
        result.classeurs.append(classeur)


def generate_year(work: DossierTravail, ref: Referentiel, annee: int,
                  kinds: tuple[str, ...] = ("porteur", "referent")) -> GenerationResult:
    """Read the year's programmation of the working folder, then :func:`generate`.

    Raises :class:`ProgrammationIntrouvable` or
    :class:`~cv_excel.programmation.check.ProgrammationInvalide` (with its report).
    """
    from cv_excel.programmation.check import read_programmation

    path = work.programmation_file(annee)
    if not path.is_file():
        raise ProgrammationIntrouvable(f"La programmation {annee} est introuvable : {path}.")
    return generate(work, ref, read_programmation(path, ref, annee=annee), annee, kinds=kinds)


def register(path: Path, classeurs: list[ClasseurGenere]) -> list[dict]:
    """Append to the register of generated workbooks (older entries are kept); returns
    the entries now written."""
    from cv_excel.errors import registre_before_append  # damaged: French fault, untouched
    entries = registre_before_append(path)
    entries += [asdict(c) for c in classeurs]
    _write_register(path, entries)
    return entries


class _Registre:
    """The register during one run (the folder lock keeps others out).

    Each workbook is appended as one line to :func:`~cv_excel.errors.pending_path` just
    before its file is written — cost proportional to the workbook, not to the register —
    and :meth:`commit` folds the lines into ``registre.json`` once, at the end of the run
    (keeping the previous version as ``registre.json.bak``). Every reader of the register
    sees the pending lines too, so a run stopped midway loses no workbook.
    """

    def __init__(self, path: Path):
        self.path = path
        self.started = False

    def _start(self) -> None:
        from cv_excel.errors import pending_path

        if pending_path(self.path).exists():  # left by a run stopped midway: fold it first
            self.commit()
        register(self.path, [])  # read and checked once: damaged, the run stops here
        self.started = True

    def add(self, classeur: ClasseurGenere) -> None:
        if not self.started:
            self._start()
        self._append(asdict(classeur))

    def remove(self, classeur_id: str) -> None:
        """Take back a workbook registered but then not written."""
        self._append({"retire": classeur_id})

    def _append(self, item: dict) -> None:
        from cv_excel.errors import pending_path

        with pending_path(self.path).open("a", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        """Fold the pending lines into the register, then drop them."""
        from cv_excel.errors import keep_previous_copy, pending_path, read_registre

        pending = pending_path(self.path)
        if not pending.exists():
            return
        entries = read_registre(self.path)  # with the pending lines
        keep_previous_copy(self.path)
        _write_register(self.path, entries)
        pending.unlink()


def _write_register(path: Path, entries: list[dict]) -> None:
    write_text_atomic(path, json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
