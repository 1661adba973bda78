"""The programmation: the Direction's yearly table of financed actions.

Write the model (:func:`write_programmation`), check a filled workbook
(:func:`check_programmation`), read it as typed data (:func:`read_programmation`), or
with its actions kept on disk, read back when asked for (:func:`read_programmation_on_disk`:
what générer, valider and consolider use, so that none holds the year's actions).
"""

from cv_excel.programmation.check import (
    ProgrammationInvalide,
    check_programmation,
    format_finding,
    format_report,
    read_programmation,
)
from cv_excel.programmation.models import (
    Action,
    Financement,
    IndicateurUnique,
    Porteur,
    Programmation,
    ProgrammationLue,
)
from cv_excel.programmation.on_disk import ProgrammationOnDisk, read_programmation_on_disk
from cv_excel.programmation.template import write_programmation

__all__ = [
    "Action",
    "Financement",
    "IndicateurUnique",
    "Porteur",
    "Programmation",
    "ProgrammationInvalide",
    "ProgrammationLue",
    "ProgrammationOnDisk",
    "check_programmation",
    "format_finding",
    "format_report",
    "read_programmation",
    "read_programmation_on_disk",
    "write_programmation",
]
