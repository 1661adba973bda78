"""The data validation of an input cell, derived from its :class:`Champ`.

Every input gets one: a drop-down for closed lists, whole / decimal / date
bounds, a maximum length for texts, and in every case the help text shown as
the cell's input message.
"""

from __future__ import annotations

import functools

from cv_excel.spec import model
from cv_excel.spec.model import Champ
from cv_excel.xlsx.sheet import excel_serial, number_text, validation_xml

# The bounds intake checks (spec.model), so Excel refuses what intake would report.
DATE_MIN, DATE_MAX = int(excel_serial(model.DATE_MIN)), int(excel_serial(model.DATE_MAX))
_MAX_NUMBER = model.DECIMAL_MAX


def _bounds(champ: Champ) -> tuple[str, str]:
    """The field's bounds as validation formulas: ``1000000000``, never ``1e+09``."""
    low, high = champ.bornes or (-_MAX_NUMBER, _MAX_NUMBER)
    return number_text(low), number_text(high)


@functools.lru_cache(maxsize=4096)
def validation_for(champ: Champ, sqref: str, first_cell: str) -> str:
    """The ``<dataValidation>`` of ``champ`` over ``sqref``; made once per field and
    place (every workbook of a template repeats them)."""
    prompt = dict(prompt_title=champ.label, prompt=champ.aide or champ.label)
    if champ.kind == "liste":
        return validation_xml(sqref, type_="list", formula1=champ.liste, **prompt,
                              error_title="Valeur non prévue",
                              error="Choisissez une valeur dans la liste déroulante.")
    if champ.kind == "entier":
        low, high = _bounds(champ)
        return validation_xml(sqref, type_="whole", operator="between", formula1=low,
                              formula2=high, **prompt, error_title="Nombre entier attendu",
                              error=f"Saisissez un nombre entier (au moins {low}).")
    if champ.kind in ("decimal", "montant"):
        low, high = _bounds(champ)
        return validation_xml(sqref, type_="decimal", operator="between", formula1=low,
                              formula2=high, **prompt, error_title="Nombre attendu",
                              error=f"Saisissez un nombre (au moins {low}), sans texte ni "
                                    "symbole €.")
    if champ.kind == "date":
        return validation_xml(sqref, type_="date", operator="between", formula1=str(DATE_MIN),
                              formula2=str(DATE_MAX), **prompt, error_title="Date attendue",
                              error="Saisissez une date au format jj/mm/aaaa.")
    if champ.kind == "email":
        return validation_xml(sqref, type_="custom",
                              formula1=f'ISNUMBER(SEARCH("@",{first_cell}))', **prompt,
                              error_title="Adresse e-mail",
                              error="Saisissez une adresse de la forme nom@domaine.fr.")
    if champ.max_length:
        return validation_xml(sqref, type_="textLength", operator="lessThanOrEqual",
                              formula1=str(champ.max_length), **prompt,
                              error_title="Texte trop long",
                              error=f"Le texte est limité à {champ.max_length} caractères.")
    return validation_xml(sqref, type_="none", **prompt)
