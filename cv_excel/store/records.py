"""What the store records of a received file, in its own terms.

Intake decides a file's status and reads its workbook; the store keeps the outcome. The
store does not import intake (nor intake the store): the layer that runs both (CLI,
batch, console — :mod:`cv_excel.enregistrement`) hands each concluded file over as a
:class:`RetourRecu`. Any object with these attributes is accepted (:class:`Retour`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cv_excel.findings import Finding
from cv_excel.reader import ClasseurLu


class Retour(Protocol):
    """A received file, as :func:`cv_excel.store.imports.record_file` reads it."""

    sha256: str
    nom: str
    recu_le: str
    statut: str
    type: str
    classeur_id: str
    destinataire: str
    findings: list[Finding]
    reexamen: bool
    lu: ClasseurLu | None


class Lot(Protocol):
    """Files received in one run, as :func:`cv_excel.store.imports.record_run` reads it."""

    debut: dt.datetime
    fichiers: Iterable[Retour]


@dataclass
class RetourRecu:
    """One received file: its content's SHA-256, name, reception time (ISO), status
    (:mod:`cv_excel.statuts`), workbook identity and recipient, findings, whether it was
    examined again, and its data (``lu``: the parsed workbook, None when unread)."""

    sha256: str
    nom: str
    statut: str
    recu_le: str = ""
    type: str = ""
    classeur_id: str = ""
    destinataire: str = ""
    findings: list[Finding] = field(default_factory=list)
    reexamen: bool = False
    lu: ClasseurLu | None = field(default=None, repr=False, compare=False)

    @classmethod
    def de(cls, fichier: Retour) -> RetourRecu:
        """The record of any object carrying a received file's attributes."""
        return cls(sha256=fichier.sha256, nom=fichier.nom, statut=fichier.statut,
                   recu_le=fichier.recu_le, type=fichier.type,
                   classeur_id=fichier.classeur_id, destinataire=fichier.destinataire,
                   findings=list(fichier.findings), reexamen=fichier.reexamen,
                   lu=fichier.lu)
