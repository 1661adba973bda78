"""A second, fictitious contrat de ville in the demo: the EPT's synthesis has two to show.

The EPT Grand-Orly Seine Bièvre has eight contrats de ville, each with its own working
folder and all in one shared store. The demo folder (Orly's contrat, the first one) gets
a second working folder inside it, ``Autre contrat (fictif)/``: an invented contrat (its
own code, commune, quartiers, porteurs and amounts, all marked « fictif ») whose
configuration points at the first folder's store (``base = "../cv_excel.sqlite"``; a
server given by ``CV_EXCEL_BASE`` takes precedence for both folders anyway). It runs a
light annual cycle: a programmation of 19 actions derived from the demo's (other
porteurs, other amounts), the porteurs' workbooks, their simulated returns, the
validation and the consolidation of the year.

The second contrat uses the same evaluation kit as Orly's — the embedded référentiel,
its piliers and objectives, the EPT scale — under its own contrat code: its
``cv_excel.toml`` names the kit (``referentiel``) and the contrat's name (``libelle``),
so every ``cv-excel`` command run in that folder loads the kit under the fictitious
identity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cv_excel.atomic import write_text_atomic
from cv_excel.config import DossierTravail, write_config
from cv_excel.consolidation.run import ConsolidationResult, consolider
from cv_excel.demo.returns import SimulatedReturns, simulate_returns
from cv_excel.enregistrement import valider_et_enregistrer as valider
from cv_excel.generation.generate import GenerationResult, generate
from cv_excel.intake.run import ValidationRun
from cv_excel.listes import FINANCEURS
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.template import write_programmation
from cv_excel.referentiel.load import embedded_referentiel, load_for_folder, write_annuaire
from cv_excel.referentiel.models import Referentiel

AUTRE_DOSSIER = "Autre contrat (fictif)"
AUTRE_CONTRAT = "fictif-2019-2022"
AUTRE_LIBELLE = "Contrat de ville fictif de démonstration — 2019-2022"
# The first folder's store, seen from the second folder.
BASE_PARTAGEE = "../cv_excel.sqlite"
# A FICTITIOUS SIRET (the textbook SIREN 123456782, another establishment number).
SIRET_ATTRIBUANT = "12345678200010"
PAS = 4  # one action of the demo's programmation in four: 19 actions
FACTEUR_MONTANTS = 0.8  # amounts: four fifths of the demo's, to the hundred euros

QUARTIERS = [
    {"code": "FICTIF-QPV-CENTRE", "nom": "Centre (quartier fictif)", "type": "QPV",
     "a_confirmer": True},
    {"code": "FICTIF-QVA-GARE", "nom": "Gare (quartier fictif)",
     "type": "Quartier de veille active", "a_confirmer": True},
]
# Porteurs of the fictitious contrat: (raison sociale, type, SIRET, RNA, contact).
PORTEURS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("Association Horizon Partagé (fictif)", "Association", "99900000100019", "W999000001",
     "Camille Martin"),
    ("Centre social Les Quatre Vents (fictif)", "Association", "99900000200017", "W999000002",
     "Louis Garnier"),
    ("Compagnie Passerelle (fictif)", "Association", "99900000300015", "W999000003",
     "Inès Benali"),
    ("Régie de quartier du Centre (fictif)", "Association", "99900000400013", "W999000004",
     "Hugo Lemaire"),
    ("Service jeunesse de la commune fictive (fictif)", "Service municipal",
     "99900000500010", None, "Sarah Colin"),
    ("Club sportif Les Étoiles (fictif)", "Association", "99900000600018", "W999000006",
     "Yanis Morel"),
    ("Office public d'habitat fictif (fictif)", "Bailleur social", "99900000700016", None,
     "Julie Roux"),
)


@dataclass
class AutreContratDemo:
    """What the second contrat's light cycle produced."""

    dossier: Path
    contrat: str
    programmation: Path
    actions: int
    porteurs: int
    generation: GenerationResult
    retours: SimulatedReturns
    validation: ValidationRun
    consolidation: ConsolidationResult


def referentiel_autre_contrat() -> Referentiel:
    """The EPT's kit (the embedded référentiel) with the fictitious contrat's identity and
    fictitious référents' names."""
    ref = embedded_referentiel()
    ref.contrat = ref.contrat.model_copy(update={
        "code": AUTRE_CONTRAT, "libelle": AUTRE_LIBELLE,
        "territoire": "Commune fictive (EPT Grand-Orly Seine Bièvre, démonstration)",
        "quartiers": [q["nom"] for q in QUARTIERS]})
    for n, referent in enumerate(ref.referents, start=1):
        referent.nom = f"Référent fictif {n:02d} (autre contrat)"
        referent.email = f"{referent.id}@commune-fictive.example.org"
    return ref


def _montant(value: int) -> int:
    return int(round(value * FACTEUR_MONTANTS / 100)) * 100


def _code_qpv(code: str | None) -> str | None:
    if code is None:
        return None
    return QUARTIERS[0]["code"] if "-QPV-" in code else QUARTIERS[1]["code"]


def rows_autre_contrat(demo_rows: list[dict[str, Any]], annee: int) -> list[dict[str, Any]]:
    """The fictitious contrat's programmation: one action of the demo's year in
    :data:`PAS`, renumbered, given to :data:`PORTEURS`, amounts scaled (demandé ≥ accordé
    ≥ versé is kept: the scaling keeps the order)."""
    montants = {f"{kind}_{f.key}" for f in FINANCEURS for kind in ("demande", "accorde",
                                                                    "verse")}
    rows = []
    for i, source in enumerate([r for r in demo_rows if r["annee"] == annee][::PAS], start=1):
        nom, type_, siret, rna, contact = PORTEURS[(i - 1) % len(PORTEURS)]
        slug = siret[-5:]
        row = {k: (_montant(v) if k in montants else v) for k, v in source.items()
               if k not in ("porteur_rna",)}
        row.update({
            "numero": f"F-{annee}-{i:03d}",
            "porteur_raison_sociale": nom, "porteur_type": type_, "porteur_siret": siret,
            "porteur_contact": contact,
            "porteur_email": f"contact.{slug}@commune-fictive.example.org",
            "code_qpv": _code_qpv(source.get("code_qpv")),
        })
        if rna:
            row["porteur_rna"] = rna
        if source.get("dossier_dauphin"):
            row["dossier_dauphin"] = f"{str(annee)[2:]}-9{i:05d}"
        if source.get("convention_numero"):
            row["convention_numero"] = f"CONV-FICTIF-{annee}-{i:03d}"
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def run_autre_contrat(demo: Path, demo_rows: list[dict[str, Any]], annee: int,
                      revues: dict[int, list[dt.date]], marker: str) -> AutreContratDemo:
    """Build the second working folder inside ``demo`` and run its light annual cycle."""
    dossier = demo / AUTRE_DOSSIER
    dossier.mkdir(parents=True, exist_ok=True)
    write_text_atomic(dossier / marker, "Dossier de démonstration cv_excel : second contrat "
                      "de ville, entièrement fictif.\n")
    write_config(dossier, contrat=AUTRE_CONTRAT, annee=annee, base=BASE_PARTAGEE,
                 referentiel=embedded_referentiel().contrat.code, libelle=AUTRE_LIBELLE,
                 direction="Direction de la politique de la ville — commune fictive",
                 contact_email="politique.ville@commune-fictive.example.org",
                 attribuant={"nom": "Commune fictive (démonstration)",
                             "siret": SIRET_ATTRIBUANT},
                 territoire={"quartiers": QUARTIERS}, revues={"dates": revues})
    work = DossierTravail.open(dossier)
    work.create_folders()
    write_annuaire(referentiel_autre_contrat(), work.path("referents"))  # fictitious names
    ref, _ = load_for_folder(work)  # as every command of the folder loads it
    rows = rows_autre_contrat(demo_rows, annee)
    quartiers = work.config.territoire.quartiers
    path = write_programmation(work.programmation_file(annee), rows, ref, annee=annee,
                               quartiers=quartiers)
    programmation = read_programmation(path, ref, annee=annee, quartiers=quartiers)
    generation = generate(work, ref, programmation, annee, kinds=("porteur",))
    retours = simulate_returns(work, ref, programmation, generation)
    validation = valider(work, chemins=retours.files, ref=ref)
    consolidation = consolider(work, ref, annee)
    return AutreContratDemo(dossier, AUTRE_CONTRAT, path, len(rows),
                            len({r["porteur_siret"] for r in rows}), generation, retours,
                            validation, consolidation)
