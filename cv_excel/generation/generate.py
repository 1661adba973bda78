"""``cv-excel generer``: one workbook per porteur and per référent for a year, and per
revue the workbooks of the governance cascade (référents, pilotes, coordonnateurs,
relevés de décisions) under ``classeurs/<année>/Revue <n>/``.

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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from functools import partial
from pathlib import Path

import cv_excel
from cv_excel.atomic import atomic_target, write_bytes_atomic
from cv_excel.config import Configuration, DossierTravail, Revue, RevueInconnue
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.generation.gouvernance import (
    coordonnateurs,
    pilotes,
    plan_coordonnateur,
    plan_pilote,
    plan_releve,
    releve_destinataire,
)
from cv_excel.generation.plan import (
    Cascade,
    ContexteRevue,
    FillPlan,
    plan_porteur,
    plan_referent,
    valeur_texte,
)
from cv_excel.generation.render import (
    CapaciteInsuffisante,
    PreparedTemplate,
    Rendu,
    prepare,
    render,
)
from cv_excel.parallel import PoolInterrompu, ordered_map, share, shared
from cv_excel.programmation.models import ProgrammationLue
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import KINDS_REVUE, SPECS, ClasseurSpec
from cv_excel.text import clean_text

BUILTIN_TEMPLATES = Path(cv_excel.__file__).resolve().parents[1] / "templates"
DOSSIER_MODELES = "modeles"
SOUS_DOSSIERS = {"porteur": "Porteurs", "referent": "Référents", "pilote": "Pilotes",
                 "coordonnateur": "Coordonnateurs", "decisions": "Relevés de décisions"}
LIBELLES = {"porteur": "Bilan porteur", "referent": "Suivi référent",
            "pilote": "Synthèse pilote", "coordonnateur": "Synthèse coordonnateur",
            "decisions": "Relevé de décisions"}
REGISTRE = "registre.json"
# The kinds that only exist within a revue (the référent one also has an annual mode).
KINDS_REVUE_SEULEMENT = tuple(k for k in KINDS_REVUE if k != "referent")


class ModeleIntrouvable(Exception):
    pass


class ProgrammationIntrouvable(Exception):
    """No programmation file for the year in the working folder; the message is French."""


class RevueRequise(ValueError):
    """A kind of the governance cascade asked without a revue; the message is French."""


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
    revue: int | None = None  # the revue's number; None: annual (porteurs, annual follow-up)


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
    """What a run wrote. The prefilled values of each workbook are in the register only
    (``preremplies`` is left empty here: a run over 10,000 workbooks need not hold them)."""

    annee: int
    dossier: Path
    classeurs: list[ClasseurGenere] = field(default_factory=list)
    referents_sans_objectif: list[str] = field(default_factory=list)
    echecs: list[EchecGeneration] = field(default_factory=list)
    revue: int | None = None

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


def revue_of(work: DossierTravail, annee: int, revue: int | None,
             kinds: tuple[str, ...]) -> Revue | None:
    """The configured revue ``revue`` of ``annee`` (None without one).

    Raises :class:`RevueInconnue` for a revue the year does not have and
    :class:`RevueRequise` for the kinds that only exist within a revue.
    """
    inconnus = [k for k in kinds if k not in SPECS]
    if inconnus:
        raise ValueError(f"Type(s) de classeur inconnu(s) : {', '.join(inconnus)}.")
    if revue is None:
        sans = [LIBELLES[k].lower() for k in kinds if k in KINDS_REVUE_SEULEMENT]
        if sans:
            raise RevueRequise(
                f"Les classeurs « {' », « '.join(sans)} » appartiennent à une revue de projet : "
                "indiquez laquelle (option --revue).")
        return None
    found = work.config.revues.get(annee, revue)
    if found is None:
        numeros = [r.numero for r in work.config.revues.of(annee)]
        raise RevueInconnue(
            f"La revue {revue} n'existe pas en {annee} : l'année compte {len(numeros)} "
            f"revue(s), numérotée(s) de 1 à {max(numeros)} (cv_excel.toml, rubrique "
            "[revues]).")
    return found


def contexte_revue(work: DossierTravail, annee: int, revue: int | None = None) -> ContexteRevue:
    """What the store knows for the workbooks of ``revue`` of ``annee`` (or of the annual
    follow-up): the year's bilans, the returns of this revue and of the previous one, the
    decisions still open before it and the last indicator values of earlier years. Empty
    when the working folder has no store yet."""
    from cv_excel.store.db import open_store, store_exists, store_target
    from cv_excel.store.queries import load_year

    ctx = ContexteRevue()
    if revue is not None:
        ctx.precedente = work.config.revues.get(*work.config.revues.precedente(annee, revue))
    target = store_target(work)
    if not store_exists(target):
        return ctx
    contrat = work.config.contrat
    with open_store(target) as store:
        if revue is None:
            current = load_year(store, contrat, annee)
            previous = None
            before = load_year(store, contrat, annee - 1)
        else:
            current = load_year(store, contrat, annee, revue=revue)
            previous = None if ctx.precedente is None else load_year(
                store, contrat, ctx.precedente.annee, revue=ctx.precedente.numero)
            before = None
    ctx.bilans = {n: (b.realisation, b.score) for n, b in current.bilans.items()}
    ctx.suivis = {(s.code, s.referent_id): s for v in current.suivis.values() for s in v}
    ctx.syntheses = {(s.code, s.auteur_id): s for v in current.syntheses.values() for s in v}
    if previous is not None:
        ctx.suivis_precedents = {(s.code, s.referent_id): s
                                 for v in previous.suivis.values() for s in v}
        ctx.syntheses_precedentes = {(s.code, s.auteur_id): s
                                     for v in previous.syntheses.values() for s in v}
        ctx.decisions = [d for d in previous.decisions if d.ouverte]
    else:
        ctx.decisions = [d for d in current.decisions if d.ouverte]
    # Last values known before this revue: the series as the previous revue left them
    # (annual follow-up: the years before).
    for serie in previous.series if previous is not None else current.series:
        years = [y for y in serie.valeurs if previous is not None or y < annee]
        if years:
            year = max(years)
            ctx.precedents.setdefault(
                (serie.code, serie.libelle),
                f"{valeur_texte(serie.valeurs[year], serie.unite)} ({year})")
    for code, suivis in (before.suivis.items() if before is not None else ()):
        for suivi in suivis:
            for ind in suivi.indicateurs:
                if ind.valeur_annee and not ind.propose:
                    ctx.precedents.setdefault(
                        (code, ind.libelle),
                        f"{valeur_texte(ind.valeur_annee, ind.unite)} ({annee - 1})")
    return ctx


def cascade_from_store(work: DossierTravail, annee: int) -> Cascade:
    """The context of the annual follow-up (issue 9's name): :func:`contexte_revue`."""
    return contexte_revue(work, annee, None)


def plans(ref: Referentiel, programmation: ProgrammationLue, work: DossierTravail, annee: int,
          kinds: tuple[str, ...] = ("porteur", "referent"),
          echecs: list[EchecGeneration] | None = None,
          revue: Revue | None = None) -> tuple[list[FillPlan], list[str]]:
    """Every workbook to write this year (or at ``revue``), and the référents that get none.

    With ``echecs``, a plan that cannot be built is reported there instead of raising.
    """
    builders, sans_objectif = plan_builders(ref, programmation, work, annee, kinds, revue)
    result = [plan for plan in _built(builders, echecs) if plan is not None]
    return result, sans_objectif


# One workbook to plan: its kind, its recipient (for a failure's message) and the call
# that builds its plan.
Builder = tuple[str, str, Callable[[], FillPlan]]


def plan_builders(ref: Referentiel, programmation: ProgrammationLue, work: DossierTravail,
                  annee: int, kinds: tuple[str, ...] = ("porteur", "referent"),
                  revue: Revue | None = None) -> tuple[list[Builder], list[str]]:
    """The workbooks to write, each as the call that builds its plan (plans are built one
    at a time as they are rendered, not all kept at once), and the référents that get
    none."""
    numero = revue.numero if revue is not None else None
    ctx = contexte_revue(work, annee, numero) if any(k in KINDS_REVUE for k in kinds) \
        else ContexteRevue()
    result: list[Builder] = []

    def add(kind: str, destinataire: str, build: Callable[[], FillPlan]) -> None:
        result.append((kind, destinataire, build))

    config = work.config
    if "porteur" in kinds:
        for siret in programmation.sirets():  # the actions read when the plan is made
            add("porteur", programmation.raison_sociale(siret), partial(
                _plan_porteur_of, programmation, siret, ref, config, annee))
    sans_objectif = []
    if "referent" in kinds:
        for referent in ref.referents:
            if ref.objectifs_of_referent(referent.id):
                add("referent", referent.libelle, partial(
                    plan_referent, referent, ref, programmation, config, annee, ctx, revue))
            else:
                sans_objectif.append(referent.libelle)
    if revue is not None:
        if "pilote" in kinds:
            for pid in pilotes(ref):
                add("pilote", ref.referent(pid).libelle, partial(
                    plan_pilote, pid, ref, programmation, config, annee, revue, ctx))
        if "coordonnateur" in kinds:
            for cid in coordonnateurs(ref):
                add("coordonnateur", ref.referent(cid).libelle, partial(
                    plan_coordonnateur, cid, ref, programmation, config, annee, revue, ctx))
        if "decisions" in kinds:
            for pilier in ref.piliers:
                add("decisions", releve_destinataire(pilier.code), partial(
                    plan_releve, pilier.code, ref, config, annee, revue, ctx))
    return result, sans_objectif


def _plan_porteur_of(programmation: ProgrammationLue, siret: str, ref: Referentiel,
                     config: Configuration, annee: int) -> FillPlan:
    actions = programmation.actions_of(siret)
    return plan_porteur(actions[0].porteur, actions, ref, config, annee)


def _built(builders: Iterable[Builder], echecs: list[EchecGeneration] | None
           ) -> Iterator[FillPlan | None]:
    """Each builder's plan, in order; with ``echecs``, one that cannot be built is
    reported there (and None yielded) instead of raising."""
    for kind, destinataire, build in builders:
        try:
            yield build()
        except Exception as exc:
            if echecs is None:
                raise
            echecs.append(_echec(kind, destinataire, "", exc))
            yield None


def _echec(kind: str, destinataire: str, fichier: str, exc: Exception) -> EchecGeneration:
    """The French line of a workbook that could not be built or written."""
    if isinstance(exc, CapaciteInsuffisante | PoolInterrompu):
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


def generate(work: DossierTravail, ref: Referentiel, programmation: ProgrammationLue, annee: int,
             kinds: tuple[str, ...] = ("porteur", "referent"),
             now: dt.datetime | None = None, revue: int | None = None,
             workers: int | None = None) -> GenerationResult:
    """Write the year's workbooks under ``classeurs/<année>/`` (those of a revue under
    ``classeurs/<année>/Revue <n>/``) and register them.

    The workbooks are rendered by ``workers`` processes (default: ``workers`` of
    ``cv_excel.toml``; 0: one per core); the files and the register are the same
    byte for byte whatever their number.

    ``kinds`` among « porteur », « referent », « pilote », « coordonnateur »,
    « decisions »; the last three need ``revue``. Raises :class:`RevueInconnue` or
    :class:`RevueRequise` before writing anything.
    """
    now = now or dt.datetime.now().astimezone()
    la_revue = revue_of(work, annee, revue, kinds)
    templates: dict[str, PreparedTemplate] = {
        kind: prepare(template_path(work, SPECS[kind]), SPECS[kind]) for kind in kinds}
    builders, sans_objectif = plan_builders(ref, programmation, work, annee, kinds, la_revue)
    result = GenerationResult(annee, work.root, referents_sans_objectif=sans_objectif,
                              revue=revue)
    base = output_folder(work, annee)
    registre = _Registre(base / REGISTRE)
    try:
        _write_all(work, builders, templates, base, registre, now, result,
                   work.config.workers if workers is None else workers)
    finally:  # stopped by an exception too: what was written is in the register
        registre.commit()
    return result


def _write_all(work: DossierTravail, builders: list[Builder], templates: dict, base: Path,
               registre: _Registre, now: dt.datetime, result: GenerationResult,
               workers: int | None) -> None:
    """Plan here, render in ``workers`` processes (:mod:`cv_excel.parallel`), name,
    register and write here, in the order of ``builders``: the files, their names and the
    register are the same whatever the number of workers. Plans are built as the workers
    need them: a run never holds every plan of the year at once."""
    taken: set[str] = set()
    sent: deque[tuple[_Envoye, Path, str, str]] = deque()  # in flight, in order
    pending = iter(builders)

    def tasks() -> Iterator[tuple[str, FillPlan, str]]:
        for plan in _built(pending, result.echecs):
            if plan is None:  # could not be planned: reported in result.echecs
                continue
            path = plan_folder(base, plan) / unique_name(safe_stem(plan.file_stem), ".xlsx",
                                                         taken)
            classeur_id = uuid.uuid4().hex
            sent.append((_Envoye.of(plan), path, path.relative_to(work.root).as_posix(),
                         classeur_id))
            yield _task(plan, classeur_id)

    try:
        for rendu in ordered_map(_render_task, tasks(), workers=workers, count=len(builders),
                                 init=share, init_args=({"templates": templates,
                                                         "now": now},)):
            plan, path, fichier, classeur_id = sent.popleft()
            if isinstance(rendu, EchecGeneration):  # the workbook's own failure, in French
                rendu.fichier = fichier
                result.echecs.append(rendu)
                continue
            tpl = templates[plan.kind]
            classeur = ClasseurGenere(
                classeur_id, plan.kind, plan.destinataire_id, plan.destinataire,
                fichier, list(plan.sections), rendu.empreinte,
                now.isoformat(timespec="seconds"), tpl.path.name, rendu.preremplies,
                revue=plan.revue)
            # Registered first: stopped between the two, the register names a workbook
            # that was never written (the next run replaces it), never the other way round.
            registre.add(classeur)
            try:
                write_bytes_atomic(path, rendu.data)
            except OSError as exc:
                registre.remove(classeur_id)
                result.echecs.append(_echec(plan.kind, plan.destinataire, fichier, exc))
                continue
            classeur.preremplies = {}  # in the register (intake reads them there), not kept
            result.classeurs.append(classeur)
    except PoolInterrompu as exc:  # every workbook not yet written says so; no traceback
        for plan, _, fichier, _ in sent:
            result.echecs.append(_echec(plan.kind, plan.destinataire, fichier, exc))
        for kind, destinataire, _ in pending:
            result.echecs.append(_echec(kind, destinataire, "", exc))


@dataclass(frozen=True)
class _Envoye:
    """What is kept of a plan while its workbook is rendered: not its values (a référent's
    plan carries every action of its objectives)."""

    kind: str
    destinataire_id: str
    destinataire: str
    sections: tuple[str, ...]
    revue: int | None

    @classmethod
    def of(cls, plan: FillPlan) -> _Envoye:
        return cls(plan.spec.kind, plan.destinataire_id, plan.destinataire,
                   tuple(s.key for s in plan.sections), plan.revue)


def _task(plan: FillPlan, classeur_id: str) -> tuple[str, FillPlan, str]:
    """What a worker receives: the plan without its specification (the worker has it,
    with the template: :func:`_render_task`)."""
    if plan.spec is SPECS[plan.spec.kind]:
        return plan.spec.kind, replace(plan, spec=None), classeur_id  # type: ignore[arg-type]
    return plan.spec.kind, plan, classeur_id


def _render_task(task: tuple[str, FillPlan, str]) -> Rendu | EchecGeneration:
    """One workbook, in a worker (or in this process): its bytes, or its failure as a
    value (an exception would not always cross processes, and stays this workbook's)."""
    kind, plan, classeur_id = task
    tpl = shared("templates")[kind]
    if plan.spec is None:
        plan = replace(plan, spec=tpl.spec)
    try:
        return render(tpl, plan, classeur_id, shared("now"))
    except Exception as exc:
        return _echec(kind, plan.destinataire, "", exc)


def plan_folder(base: Path, plan: FillPlan) -> Path:
    """``<base>/Porteurs``, ``<base>/Référents`` (annual) or ``<base>/Revue <n>/<kind>``."""
    folder = base if plan.revue is None else base / f"Revue {plan.revue}"
    return folder / SOUS_DOSSIERS[plan.spec.kind]


def generate_year(work: DossierTravail, ref: Referentiel, annee: int,
                  kinds: tuple[str, ...] = ("porteur", "referent"),
                  revue: int | None = None, workers: int | None = None) -> GenerationResult:
    """Read the year's programmation of the working folder, then :func:`generate`.

    Raises :class:`ProgrammationIntrouvable` or
    :class:`~cv_excel.programmation.check.ProgrammationInvalide` (with its report).
    """
    from cv_excel.programmation.reperes import read_and_record

    path = work.programmation_file(annee)
    if not path.is_file():
        raise ProgrammationIntrouvable(f"La programmation {annee} est introuvable : {path}.")
    # Read on disk; its numbers and objectives recorded for the validations to come.
    with read_and_record(work, ref, annee) as programmation:
        return generate(work, ref, programmation, annee, kinds=kinds, revue=revue,
                        workers=workers)


def register(path: Path, classeurs: list[ClasseurGenere]) -> list[dict]:
    """Append to the register of generated workbooks (older entries are kept); returns
    the entries now written."""
    from cv_excel.errors import registre_before_append  # damaged: French fault, untouched
    entries = registre_before_append(path)
    entries += [asdict(c) for c in classeurs]
    _write_register(path, entries)
    return entries


def _check_register(path: Path) -> None:
    """Read the register once, entry by entry, keeping nothing: a damaged one stops the
    run here (French fault, the file untouched); a missing one is created empty."""
    from cv_excel.errors import iter_registre

    if not path.exists():
        register(path, [])
        return
    for _ in iter_registre(path):
        pass


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
        _check_register(self.path)  # damaged: the run stops here
        self.started = True

    def add(self, classeur: ClasseurGenere) -> None:
        if not self.started:
            self._start()
        # The fields as they are (asdict deep-copies every prefilled value: a tenth of
        # the generation's own time at the national volume); the same JSON.
        self._append({f.name: getattr(classeur, f.name) for f in fields(classeur)})

    def remove(self, classeur_id: str) -> None:
        """Take back a workbook registered but then not written."""
        self._append({"retire": classeur_id})

    def _append(self, item: dict) -> None:
        from cv_excel.errors import pending_path

        with pending_path(self.path).open("a", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        """Fold the pending lines into the register, then drop them."""
        from cv_excel.errors import iter_registre, keep_previous_copy, pending_path

        pending = pending_path(self.path)
        if not pending.exists():
            return
        keep_previous_copy(self.path)
        _write_register(self.path, iter_registre(self.path))  # with the pending lines
        pending.unlink()


def _write_register(path: Path, entries: Iterable[dict]) -> None:
    """Written entry by entry, the same bytes as one ``json.dump(list, indent=1)``: at the
    national volume the register is tens of megabytes, hundreds as objects, which need
    not be held at once. Indented JSON holds no line break but its own, so an entry's
    text one level deeper is its own with a space after each line break."""
    with atomic_target(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        first = True
        for entry in entries:
            text = json.dumps(entry, ensure_ascii=False, indent=1).replace("\n", "\n ")
            fh.write(("[\n " if first else ",\n ") + text)
            first = False
        fh.write("[]\n" if first else "\n]\n")
