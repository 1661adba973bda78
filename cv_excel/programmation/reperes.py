"""Each programmed action's number and objective, recorded while the workbook is the same.

All the validation asks of the year's programmation is which action numbers exist and
under which objective. Whoever reads the workbook (générer, or the first validation)
records them in ``archives/repères <année>.json`` with a key made of the workbook's
content (SHA-256), the code version, the year, the référentiel and the P147 codes; a
validation reads the record while that key is the same, and the workbook otherwise. At
the national volume this spares each validation a reading of 25,000 actions (seconds,
and a hundred megabytes at its peak). The record is only a shortcut
(:mod:`cv_excel.records`): absent, damaged or of another key, the workbook is read.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cv_excel import __version__
from cv_excel.filestamp import Signature, same_signature, signature
from cv_excel.nomenclature import nomenclature_pour
from cv_excel.programmation.check import ProgrammationInvalide
from cv_excel.programmation.models import Repere
from cv_excel.programmation.on_disk import ProgrammationOnDisk, read_programmation_on_disk
from cv_excel.records import read_record, write_record

if TYPE_CHECKING:
    from cv_excel.config import DossierTravail
    from cv_excel.referentiel.models import Referentiel

REPERES_FORMAT = 1  # of the record: another format is ignored (the workbook is read)


@dataclass
class _Cle:
    """The workbook as it was before being read, and the record's key for it."""

    path: Path
    record: Path
    before: Signature
    cle: str

    def unchanged(self) -> bool:
        """The workbook was not written while it was read (else nothing is recorded)."""
        try:
            return same_signature(self.before, signature(self.path.stat()))
        except OSError:
            return False

    def write(self, reperes: list[Repere] | None) -> None:
        if self.unchanged():
            write_record(self.record, {"cle": self.cle, "valide": reperes is not None,
                                       "reperes": [list(r) for r in reperes or ()]},
                         REPERES_FORMAT)


def _cle(work: DossierTravail, ref: Referentiel, annee: int) -> _Cle | None:
    """The key of the year's workbook; None when it is absent or unreadable."""
    path = work.programmation_file(annee)
    try:
        with path.open("rb") as fh:
            before = signature(os.fstat(fh.fileno()))
            content = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None
    cle = hashlib.sha256("|".join([
        __version__, content, str(annee), hashlib.sha256(ref.model_dump_json().encode())
        .hexdigest(), nomenclature_pour(path).empreinte]).encode()).hexdigest()
    return _Cle(path, work.path("archives") / f"repères {annee}.json", before, cle)


def reperes_of_year(work: DossierTravail, ref: Referentiel, annee: int
                    ) -> list[Repere] | None:
    """Each action's number and objective in the year's programmation, from the record
    when it is current, else from the workbook (its actions on disk, never all in
    memory), then recorded; None when the workbook is absent or invalid."""
    cle = _cle(work, ref, annee)
    if cle is None:
        return None  # absent or unreadable: the checks say the programmation is missing
    known = read_record(cle.record, REPERES_FORMAT)
    if known.get("cle") == cle.cle and (found := _reperes(known.get("reperes"))) is not None:
        return found if known.get("valide") is True else None
    try:
        with read_programmation_on_disk(cle.path, ref, annee=annee) as prog:
            reperes: list[Repere] | None = list(prog.reperes())
    except ProgrammationInvalide:
        reperes = None
    cle.write(reperes)
    return reperes


def read_and_record(work: DossierTravail, ref: Referentiel, annee: int
                    ) -> ProgrammationOnDisk:
    """:func:`~cv_excel.programmation.on_disk.read_programmation_on_disk` of the year's
    workbook (what générer reads), its numbers and objectives recorded on the way for
    the validations to come; raises as that function does."""
    cle = _cle(work, ref, annee)
    try:
        prog = read_programmation_on_disk(work.programmation_file(annee), ref, annee=annee)
    except ProgrammationInvalide:
        if cle is not None:
            cle.write(None)
        raise
    if cle is not None:
        cle.write(list(prog.reperes()))
    return prog


def _reperes(data: Any) -> list[Repere] | None:
    """The record's list of [numéro, objectif], or None when it is not one."""
    if not isinstance(data, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)
            for r in data):
        return None
    return [Repere(*r) for r in data]
