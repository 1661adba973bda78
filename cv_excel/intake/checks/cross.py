"""The workbook against the contract: its actions in the year's programmation, its
objectives in the référentiel.

Porteur: every « Action » sheet's number is an action of that year's programmation
and its prefilled objective is the one programmed. Référent: every « Objectif »
sheet's code is an objectif opérationnel of the référentiel. Without a valid
programmation the action checks are skipped, with one warning.
"""

from __future__ import annotations

import re
from typing import Any

from cv_excel.findings import Finding, make_finding
from cv_excel.intake.context import IntakeContext
from cv_excel.reader import ClasseurLu, SectionLue, Valeur

_NUMERO, _OBJECTIF, _CODE = "act_numero", "act_objectif", "obj_code"
_CODE_RE = re.compile(r"\s*([^\s—–:-]+)")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else " ".join(str(value).split())


def _code_of(objectif: str) -> str:
    """« A111 — Faciliter l'accès… » → « A111 »."""
    match = _CODE_RE.match(objectif)
    return match[1] if match else ""


def _finding(code: str, valeur: Valeur, name: str, value: Any, **context: Any) -> Finding:
    return make_finding(code, value=value, sheet=valeur.sheet, cell=valeur.cell, field=name,
                        **context)


def check_cross(lu: ClasseurLu, ctx: IntakeContext, annee: int) -> list[Finding]:
    """Findings about the workbook's actions and objectives against the contract."""
    if lu.spec.kind == "referent":
        return _objectifs(lu.sections, ctx)
    if lu.spec.kind != "porteur" or not lu.sections:
        return []
    programmation = ctx.programmation(annee)
    if programmation is None:
        return [make_finding("VAL_PROGRAMMATION_ABSENTE", annee=annee)]
    actions = {_text(a.numero): a for a in programmation.actions}
    codes = set(ctx.ref.codes_oo())
    findings: list[Finding] = []
    for part in lu.sections:
        numero = part.values.get(_NUMERO)
        if numero is None or not _text(numero.value):  # missing or emptied: other checks
            continue
        action = actions.get(_text(numero.value))
        if action is None:
            findings.append(_finding("VAL_ACTION_INCONNUE", numero, _NUMERO,
                                     _text(numero.value), annee=annee))
            continue
        objectif = part.values.get(_OBJECTIF)
        if objectif is None:
            continue
        text = _text(objectif.value)
        code = _code_of(text)
        if code and code != action.objectif_operationnel:  # emptied: the tamper check says so
            kind = "VAL_OBJECTIF_INCONNU" if code not in codes else "VAL_ACTION_OBJECTIF"
            shown = code if kind == "VAL_OBJECTIF_INCONNU" else text
            findings.append(_finding(kind, objectif, _OBJECTIF, shown,
                                     numero=action.numero, annee=annee,
                                     expected=action.objectif_operationnel))
    return findings


def _objectifs(sections: list[SectionLue], ctx: IntakeContext) -> list[Finding]:
    codes = set(ctx.ref.codes_oo())
    findings = []
    for part in sections:
        valeur = part.values.get(_CODE)
        if valeur is not None and _text(valeur.value) not in codes:
            findings.append(_finding("VAL_OBJECTIF_INCONNU", valeur, _CODE,
                                     _text(valeur.value)))
    return findings
