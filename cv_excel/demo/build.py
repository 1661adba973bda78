"""Build a demo working folder from the embedded, clearly fictitious data.

Everything written here is invented except the Département totals 2015-2018,
which follow Annexe 2 of the contract (see ``scripts/make_demo_data.py``).
A demo folder carries a marker file so that the command never overwrites a
real working folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cv_excel.atomic import write_text_atomic
from cv_excel.config import DossierTravail, Revue, write_config
from cv_excel.consolidation.contexte import CONTEXTE_FILE
from cv_excel.consolidation.ept import ResultatEPT
from cv_excel.consolidation.run import ConsolidationResult, consolider
from cv_excel.demo.autre_contrat import AutreContratDemo, run_autre_contrat
from cv_excel.demo.returns import SimulatedReturns, simulate_returns, simulate_revue_returns
from cv_excel.enregistrement import valider_et_enregistrer as valider
from cv_excel.generation.generate import GenerationResult, generate
from cv_excel.intake.run import ValidationRun
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.schema import BY_KEY
from cv_excel.programmation.template import write_programmation
from cv_excel.referentiel.load import embedded_referentiel, load_referentiel, write_annuaire

DEMO_MARKER = ".cv_excel_demo"
DEMO_YEAR = 2019
# A FICTITIOUS SIRET for the attribuant of the demo's open data (SIREN 123456782, the
# textbook example number; valid check digit), never the commune's own.
DEMO_SIRET_ATTRIBUANT = "12345678200002"
# The demo's three revues of 2019 (the demo runs the first two) and its fictitious calendar.
DEMO_REVUES = [dt.date(DEMO_YEAR, 3, 14), dt.date(DEMO_YEAR, 6, 20), dt.date(DEMO_YEAR, 11, 21)]
DEMO_NB_REVUES = 2


class DossierNonVide(Exception):
    """The target folder holds files that are not a previous demo."""


@dataclass
class EtapeRevue:
    """One step of a revue's cascade: the workbooks of one kind, their simulated returns
    and their validation."""

    type: str
    generation: GenerationResult
    retours: SimulatedReturns
    validation: ValidationRun


@dataclass
class RevueDemo:
    revue: Revue
    etapes: list[EtapeRevue] = field(default_factory=list)
    consolidation: ConsolidationResult | None = None


@dataclass
class DemoResult:
    dossier: Path
    programmations: dict[int, Path] = field(default_factory=dict)
    actions: dict[int, int] = field(default_factory=dict)
    porteurs: dict[int, int] = field(default_factory=dict)
    annuaire: Path | None = None
    generation: GenerationResult | None = None
    retours: SimulatedReturns | None = None
    validation: ValidationRun | None = None
    consolidation: ConsolidationResult | None = None
    revues: dict[int, RevueDemo] = field(default_factory=dict)
    # The second, fictitious contrat (its working folder inside this one, same store) and
    # the EPT's synthesis of both.
    autre_contrat: AutreContratDemo | None = None
    ept: ResultatEPT | None = None


def demo_rows() -> list[dict[str, Any]]:
    """The embedded demo programmation rows, typed as a person would type them."""
    text = resources.files("cv_excel.demo").joinpath("programmation_demo.csv").read_text("utf-8")
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if value == "":
                continue
            kind = BY_KEY[key].kind
            row[key] = int(value) if kind in ("entier", "montant") else value
        rows.append(row)
    return rows


def _check_target(dossier: Path, force: bool) -> None:
    if not dossier.exists() or force or (dossier / DEMO_MARKER).exists():
        return
    if any(dossier.iterdir()):
        raise DossierNonVide(
            f"Le dossier {dossier} n'est pas vide et n'est pas un dossier de démonstration : "
            "choisissez un dossier vide (ou ajoutez --force pour écrire quand même)."
        )


def build_demo(dossier: Path, force: bool = False) -> DemoResult:
    """Create (or refresh) the demo working folder ``dossier``."""
    dossier = Path(dossier).resolve()
    _check_target(dossier, force)
    if (dossier / DEMO_MARKER).exists():  # our own demo folder: start again from scratch
        shutil.rmtree(dossier)
    dossier.mkdir(parents=True, exist_ok=True)
    write_text_atomic(dossier / DEMO_MARKER,
                      "Dossier de démonstration cv_excel : données entièrement fictives.\n")
    write_config(dossier, annee=DEMO_YEAR, contact_email="politique.ville@example.org",
                 attribuant={"nom": "Ville d'Orly", "siret": DEMO_SIRET_ATTRIBUANT},
                 revues={"dates": {DEMO_YEAR: DEMO_REVUES}})
    # Indicateurs de contexte of the rapport annuel's draft: fictitious, said in the file.
    write_text_atomic(dossier / CONTEXTE_FILE, "\ufeff" + resources.files("cv_excel.demo")
                      .joinpath("contexte_demo.csv").read_text("utf-8"))
    work = DossierTravail.open(dossier)
    work.create_folders()

    ref = embedded_referentiel()
    for n, referent in enumerate(ref.referents, start=1):
        referent.nom = f"Référent fictif {n:02d}"
        referent.email = f"{referent.id}@example.org"
    result = DemoResult(dossier=dossier)
    result.annuaire = write_annuaire(ref, work.path("referents"))

    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in demo_rows():
        by_year[row["annee"]].append(row)
    for annee, rows in sorted(by_year.items()):
        path = write_programmation(work.programmation_file(annee), rows, ref, annee=annee,
                                   quartiers=work.config.territoire.quartiers)
        result.programmations[annee] = path
        result.actions[annee] = len(rows)
        result.porteurs[annee] = len({r["porteur_siret"] for r in rows})
    return result


def run_demo_cycle(dossier: Path, force: bool = False, returns: bool = True,
                   pdf: bool = False, autre_contrat: bool = True) -> DemoResult:
    """The whole demo cycle of 2019: the working folder; revue 1 (référents, pilotes,
    coordonnateurs, relevé de décisions, each step's simulated returns validated, then the
    revue's tableaux de bord and COPIL packs); the porteurs' workbooks and their bilans;
    revue 2 (prefilled from revue 1, the decisions of revue 1 followed up); the year's
    consolidation. ``pdf``: the packs and dashboards in PDF too (LibreOffice).

    ``autre_contrat`` (with ``returns``): then a second, fictitious contrat in its own
    working folder inside the demo, sharing the demo's store, with a light porteur cycle
    (see :mod:`cv_excel.demo.autre_contrat`), and the EPT's synthesis of both contrats in
    ``sorties/2019/EPT/``."""
    result = build_demo(dossier, force=force)
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    programmation = read_programmation(result.programmations[DEMO_YEAR], ref, annee=DEMO_YEAR)
    if not returns:
        result.generation = generate(work, ref, programmation, DEMO_YEAR)
        return result
    result.revues[1] = run_demo_revue(work, ref, programmation, 1, pdf)
    result.generation = generate(work, ref, programmation, DEMO_YEAR, kinds=("porteur",))
    result.retours = simulate_returns(work, ref, programmation, result.generation)
    result.validation = valider(work, result.retours.files, ref=ref)
    for numero in range(2, DEMO_NB_REVUES + 1):
        result.revues[numero] = run_demo_revue(work, ref, programmation, numero, pdf)
    result.consolidation = consolider(work, ref, DEMO_YEAR)
    if autre_contrat:
        result.autre_contrat = run_autre_contrat(result.dossier, demo_rows(), DEMO_YEAR,
                                                 {DEMO_YEAR: DEMO_REVUES}, DEMO_MARKER)
        result.ept = run_demo_ept(work)
    return result


def run_demo_ept(work: DossierTravail) -> ResultatEPT:
    """The EPT's synthesis of the year over the demo's store (every contrat it holds)."""
    from cv_excel.consolidation.ept import consolider_ept
    from cv_excel.demo.autre_contrat import AUTRE_CONTRAT, AUTRE_LIBELLE
    from cv_excel.store.db import open_store, store_target

    with open_store(store_target(work)) as store:
        return consolider_ept(store, DEMO_YEAR, work.path("sorties"),
                              libelles={AUTRE_CONTRAT: AUTRE_LIBELLE})


def run_demo_revue(work: DossierTravail, ref, programmation, numero: int,
                   pdf: bool = False) -> RevueDemo:
    """One revue's cascade, step by step, as the Direction runs it: each kind's workbooks
    are generated from the returns validated at the step before."""
    revue = work.config.revues.exiger(DEMO_YEAR, numero)
    result = RevueDemo(revue)
    for kind in ("referent", "pilote", "coordonnateur", "decisions"):
        generation = generate(work, ref, programmation, DEMO_YEAR, kinds=(kind,),
                              revue=numero)
        retours = simulate_revue_returns(work, ref, programmation, generation, revue)
        result.etapes.append(EtapeRevue(kind, generation, retours,
                                        valider(work, retours.files, ref=ref)))
    result.consolidation = consolider(work, ref, DEMO_YEAR, revue=numero, pdf=pdf)
    return result
