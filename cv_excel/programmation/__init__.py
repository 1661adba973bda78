"""The programmation: the Direction's yearly table of financed actions.

Write the model (:func:`write_programmation`), check a filled workbook
(:func:`check_programmation`), read it as typed data (:func:`read_programmation`).
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
)
from cv_excel.programmation.template import write_programmation

__all__ = [
    "Action",
    "Financement",
    "IndicateurUnique",
    "Porteur",
    "Programmation",
    "ProgrammationInvalide",
    "check_programmation",
    "format_finding",
    "format_report",
    "read_programmation",
    "write_programmation",
]
