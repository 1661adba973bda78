"""The year's programmation kept in a temporary file, with its indexes in memory.

Générer and valider need a porteur's actions, an objective's actions, an action's
objective — never the whole year at once. At the national volume (25,000 actions) the
year as Python objects is a few hundred megabytes in every process; here each action is
pickled to an unnamed temporary file as soon as its row is checked, and only where it is
(:class:`~cv_excel.spill.SpilledList`), its porteur, its objective and its number stay in
memory. An action is read back when asked for (forked workers share the file safely).

The checks are those of :func:`~cv_excel.programmation.check.read_programmation` (the
same rows, the same report): an invalid workbook raises
:class:`~cv_excel.programmation.check.ProgrammationInvalide` and leaves no file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cv_excel.config import QUARTIERS_ORLY, Quartier
from cv_excel.programmation.check import ProgrammationInvalide, scan_programmation, year_of
from cv_excel.programmation.models import Action, Porteur, Repere
from cv_excel.spill import SpilledList

if TYPE_CHECKING:
    from cv_excel.nomenclature import NomenclatureDossier
    from cv_excel.referentiel.models import Referentiel


class ProgrammationOnDisk:
    """A checked programmation, its actions in a temporary file (see the module).

    Answers as :class:`~cv_excel.programmation.models.Programmation` does for what the
    workbooks need (:meth:`sirets`, :meth:`actions_of`, :meth:`actions_of_objectif`,
    :meth:`raison_sociale`, :meth:`reperes`); the file goes with the object (or
    :meth:`close`)."""

    def __init__(self, annee: int | None = None) -> None:
        self.annee = annee
        self._actions: SpilledList[Action] = SpilledList(prefix="cv_excel-programmation-")
        self._by_siret: dict[str, list[int]] = {}
        self._by_objectif: dict[str, list[int]] = {}
        self._noms: dict[str, str] = {}  # SIRET -> raison sociale (first action's)
        self._numeros: list[str] = []
        self._objectifs: list[str] = []  # interned: 53 codes for the whole year
        self._years: set[int] = set()

    # --- filled once, by :func:`read_programmation_on_disk` -------------------------------
    def _append(self, action: Action) -> None:
        rank = self._actions.append(action)
        siret, objectif = action.porteur.siret, sys.intern(action.objectif_operationnel)
        self._by_siret.setdefault(siret, []).append(rank)
        self._noms.setdefault(siret, action.porteur.raison_sociale)
        self._by_objectif.setdefault(objectif, []).append(rank)
        self._numeros.append(action.numero)
        self._objectifs.append(objectif)
        self._years.add(action.annee)

    def _seal(self, annee: int | None) -> None:
        self._actions.seal()
        self.annee = year_of(self._years, annee)
        self._by_objectif = {code: self._by_objectif[code] for code in sorted(self._by_objectif)}

    # --- what the workbooks ask ---------------------------------------------------------------
    @property
    def action_count(self) -> int:
        return len(self._numeros)

    def _load(self, rank: int) -> Action:
        return self._actions[rank]

    def sirets(self) -> list[str]:
        """The porteurs' SIRETs, in order of first appearance."""
        return list(self._by_siret)

    def raison_sociale(self, siret: str) -> str:
        return self._noms[siret]

    def porteurs(self) -> list[Porteur]:
        """Unique porteurs, in order of first appearance (each read from its first action)."""
        return [self._load(ranks[0]).porteur for ranks in self._by_siret.values()]

    def actions_of(self, siret: str) -> list[Action]:
        return [self._load(rank) for rank in self._by_siret.get(siret, ())]

    def actions_of_objectif(self, code: str) -> list[Action]:
        return [self._load(rank) for rank in self._by_objectif.get(code, ())]

    def objectifs(self) -> list[str]:
        """The codes of the objectives that have actions, sorted."""
        return list(self._by_objectif)

    def reperes(self) -> Iterator[Repere]:
        """Every action's number and objective, in the workbook's order (nothing read)."""
        return map(Repere, self._numeros, self._objectifs)

    def __iter__(self) -> Iterator[Action]:
        """Every action, read back one at a time, in the workbook's order."""
        return iter(self._actions)

    def close(self) -> None:
        self._actions.close()

    def __enter__(self) -> ProgrammationOnDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_programmation_on_disk(
    path: str | os.PathLike[str], referentiel: Referentiel, annee: int | None = None,
    quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
    nomenclature: NomenclatureDossier | None = None,
) -> ProgrammationOnDisk:
    """:func:`~cv_excel.programmation.check.read_programmation`, the actions kept on disk.

    Each row is typed and written as it is read; any blocking finding by the end, and
    the file is dropped and :class:`ProgrammationInvalide` raised with the whole report
    (a row that cannot be typed otherwise raises as with ``read_programmation``).
    """
    prog = ProgrammationOnDisk()
    failure: list[Exception] = []

    def keep(row) -> None:  # noqa: ANN001 - check._Row
        if failure:
            return  # reading fails whatever follows: nothing more to type
        try:
            prog._append(Action.from_row(row.values))
        except Exception as exc:  # noqa: BLE001 - raised below if nothing else blocks
            failure.append(exc)

    try:
        report = scan_programmation(Path(path), referentiel, keep, annee, quartiers,
                                    nomenclature)
        if not report.valid:
            raise ProgrammationInvalide(report)
        if failure:  # what read_programmation would raise: typing a checked row failed
            raise failure[0]
    except BaseException:
        prog.close()
        raise
    prog._seal(annee)
    return prog
