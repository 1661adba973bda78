"""What the checks need to know beyond the file: the contract, the year's
programmation and the register of the workbooks that were sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cv_excel.config import DossierTravail, Revues
from cv_excel.errors import read_registre
from cv_excel.programmation.check import ProgrammationInvalide, read_programmation
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.models import Referentiel


@dataclass
class IntakeContext:
    ref: Referentiel
    contrat: str
    annee: int  # the year whose returns are expected
    registre: dict[str, dict[str, Any]] = field(default_factory=dict)  # classeur id -> entry
    programmations: dict[int, Programmation | None] = field(default_factory=dict)
    work: DossierTravail | None = None
    revues: Revues | None = None  # the year's revues (cv_excel.toml); None: default dates

    def date_revue(self, annee: int, numero: int | None) -> dt.date | None:
        """The date of revue ``numero`` of ``annee`` (set or indicative), if it exists."""
        if numero is None:
            return None
        revue = (self.revues or Revues()).get(annee, numero)
        return None if revue is None else revue.date

    def programmation(self, annee: int) -> Programmation | None:
        """The year's programmation, read once; None when absent or invalid."""
        if annee not in self.programmations:
            prog = None
            if self.work is not None:
                path = self.work.programmation_file(annee)
                if path.is_file():
                    try:
                        prog = read_programmation(path, self.ref, annee=annee)
                    except ProgrammationInvalide:
                        prog = None
            self.programmations[annee] = prog
        return self.programmations[annee]


def load_registre(classeurs: Path) -> dict[str, dict[str, Any]]:
    """Every workbook ever generated under ``classeurs/<année>/registre.json``; a
    damaged register raises :class:`~cv_excel.errors.FichierInterneIllisible`."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(classeurs.glob("*/registre.json")):
        for entry in read_registre(path):
            entries[entry["classeur_id"]] = entry
    return entries


def context_for(work: DossierTravail, ref: Referentiel, annee: int | None = None
                ) -> IntakeContext:
    return IntakeContext(ref=ref, contrat=work.config.contrat,
                         annee=annee or work.config.annee,
                         registre=load_registre(work.path("classeurs")), work=work,
                         revues=work.config.revues)
