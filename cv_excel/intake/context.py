"""What the checks need to know beyond the file: the contract, the year's
programmation and the register of the workbooks that were sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cv_excel.config import DossierTravail, Revues
from cv_excel.errors import iter_registre
from cv_excel.programmation.models import ProgrammationLue, Repere
from cv_excel.programmation.reperes import reperes_of_year
from cv_excel.referentiel.models import Referentiel
from cv_excel.spill import Spill


@dataclass
class IntakeContext:
    ref: Referentiel
    contrat: str
    annee: int  # the year whose returns are expected
    registre: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # id -> entry
    programmations: dict[int, ProgrammationLue | None] = field(default_factory=dict)
    work: DossierTravail | None = None
    revues: Revues | None = None  # the year's revues (cv_excel.toml); None: default dates
    # Indexes built once per run (not per file): a year's actions by number, the codes of
    # the objectifs opérationnels.
    _actions: dict[int, dict[str, Repere] | None] = field(default_factory=dict, repr=False)
    _codes_oo: frozenset[str] | None = field(default=None, repr=False)

    def date_revue(self, annee: int, numero: int | None) -> dt.date | None:
        """The date of revue ``numero`` of ``annee`` (set or indicative), if it exists."""
        if numero is None:
            return None
        revue = (self.revues or Revues()).get(annee, numero)
        return None if revue is None else revue.date

    def actions_index(self, annee: int) -> dict[str, Repere] | None:
        """The year's programmed actions (number and objective) by number, as
        :func:`action_key` writes it, built once; None without a valid programmation. The
        last action of a number wins.

        All the checks ask of the programmation: its actions are never held (see
        :func:`~cv_excel.programmation.reperes.reperes_of_year`), and the answer is kept
        beside the archives while the workbook's content is the same."""
        if annee not in self._actions:
            if annee in self.programmations:  # given by the caller
                prog = self.programmations[annee]
                reperes = None if prog is None else list(prog.reperes())
            else:
                reperes = None if self.work is None else reperes_of_year(self.work, self.ref,
                                                                          annee)
            self._actions[annee] = None if reperes is None else {
                action_key(r.numero): r for r in reperes}
        return self._actions[annee]

    def codes_oo(self) -> frozenset[str]:
        """The codes of the référentiel's objectifs opérationnels, built once."""
        if self._codes_oo is None:
            self._codes_oo = frozenset(self.ref.codes_oo())
        return self._codes_oo


def action_key(value: Any) -> str:
    """An action number as typed in a cell or the programmation, in one text form: a
    whole float read from a cell (``2019.0``) as its integer, spaces collapsed."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else " ".join(str(value).split())


class Registre(Mapping[str, dict[str, Any]]):
    """Every workbook ever generated, by classeur id. Each entry is kept as its compact
    JSON text in a temporary file (:class:`~cv_excel.spill.Spill`) and read when a
    returned workbook names it: at the national volume the entries (their prefilled
    values above all) are tens of megabytes even as text — in every process of a
    validation. Only the ids and positions stay in memory."""

    def __init__(self, records: Spill, ranks: dict[str, int]):
        self._records, self._ranks = records, ranks

    def __getitem__(self, classeur_id: str) -> dict[str, Any]:
        return json.loads(self._records[self._ranks[classeur_id]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._ranks)

    def __len__(self) -> int:
        return len(self._ranks)


def load_registre(classeurs: Path) -> Registre:
    """Every workbook ever generated under ``classeurs/<année>/registre.json`` (a later
    entry of an id wins); a damaged register raises
    :class:`~cv_excel.errors.FichierInterneIllisible`."""
    records, ranks = Spill("cv_excel-registre-"), {}
    for path in sorted(classeurs.glob("*/registre.json")):
        for entry in iter_registre(path):
            ranks[entry["classeur_id"]] = records.append(json.dumps(
                entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    records.seal()
    return Registre(records, ranks)


def context_for(work: DossierTravail, ref: Referentiel, annee: int | None = None
                ) -> IntakeContext:
    return IntakeContext(ref=ref, contrat=work.config.contrat,
                         annee=annee or work.config.annee,
                         registre=load_registre(work.path("classeurs")), work=work,
                         revues=work.config.revues)
