"""``cv-excel generer``: one workbook per porteur and per référent for a year.

Templates come from the working folder's ``modeles/`` (the Direction's restyled
copies) or, when absent there, from the templates shipped in ``templates/``.
Every run appends to ``classeurs/<année>/registre.json`` the workbooks it wrote
(id, recipient, file, fingerprint), which intake and reminders rely on.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv_excel
from cv_excel.atomic import write_bytes_atomic, write_text_atomic
from cv_excel.config import DossierTravail
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.generation.plan import Cascade, FillPlan, plan_porteur, plan_referent
from cv_excel.generation.render import PreparedTemplate, prepare, render
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import SPECS, ClasseurSpec

BUILTIN_TEMPLATES = Path(cv_excel.__file__).resolve().parents[1] / "templates"
DOSSIER_MODELES = "modeles"
SOUS_DOSSIERS = {"porteur": "Porteurs", "referent": "Référents"}


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
class GenerationResult:
    annee: int
    dossier: Path
    classeurs: list[ClasseurGenere] = field(default_factory=list)
    referents_sans_objectif: list[str] = field(default_factory=list)

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
          kinds: tuple[str, ...] = ("porteur", "referent")) -> tuple[list[FillPlan], list[str]]:
    """Every workbook to write this year, and the référents that get none."""
    cascade = cascade_from_store(work, annee) if "referent" in kinds else Cascade()
    result: list[FillPlan] = []
    if "porteur" in kinds:
        for porteur in programmation.porteurs():
            result.append(plan_porteur(porteur, programmation.actions_of(porteur.siret), ref,
                                       work.config, annee))
    sans_objectif = []
    if "referent" in kinds:
        for referent in ref.referents:
            if ref.objectifs_of_referent(referent.id):
                result.append(plan_referent(referent, ref, programmation, work.config, annee,
                                            cascade))
            else:
                sans_objectif.append(referent.libelle)
    return result, sans_objectif


def generate(work: DossierTravail, ref: Referentiel, programmation: Programmation, annee: int,
             kinds: tuple[str, ...] = ("porteur", "referent"),
             now: dt.datetime | None = None) -> GenerationResult:
    """Write the year's workbooks under ``classeurs/<année>/`` and register them."""
    now = now or dt.datetime.now().astimezone()
    templates: dict[str, PreparedTemplate] = {
        kind: prepare(template_path(work, SPECS[kind]), SPECS[kind]) for kind in kinds}
    todo, sans_objectif = plans(ref, programmation, work, annee, kinds)
    result = GenerationResult(annee, work.root, referents_sans_objectif=sans_objectif)
    base = output_folder(work, annee)
    taken: set[str] = set()
    for plan in todo:
        tpl = templates[plan.spec.kind]
        folder = base / SOUS_DOSSIERS[plan.spec.kind]
        name = unique_name(safe_stem(plan.file_stem), ".xlsx", taken)
        classeur_id = uuid.uuid4().hex
        rendu = render(tpl, plan, classeur_id, now)
        path = write_bytes_atomic(folder / name, rendu.data)
        result.classeurs.append(ClasseurGenere(
            classeur_id, plan.spec.kind, plan.destinataire_id, plan.destinataire,
            path.relative_to(work.root).as_posix(), [s.key for s in plan.sections],
            rendu.empreinte, now.isoformat(timespec="seconds"), tpl.path.name,
            rendu.preremplies))
    register(base / "registre.json", result.classeurs)
    return result


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


def register(path: Path, classeurs: list[ClasseurGenere]) -> None:
    """Append to the register of generated workbooks (older entries are kept)."""
    entries = json.loads(path.read_text("utf-8")) if path.exists() else []
    entries += [asdict(c) for c in classeurs]
    write_text_atomic(path, json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
