"""The workbook against the contract: its actions in the year's programmation, its
objectives in the référentiel.

Porteur: every « Action » sheet's number is an action of that year's programmation
and its prefilled objective is the one programmed. Référent: every « Objectif »
sheet's code is an objectif opérationnel of the référentiel. Without a valid
programmation the action checks are skipped, with one warning. Pilote: every
« Stratégique » sheet is an objectif stratégique the recipient pilots; coordonnateur:
every « Orientation » sheet an orientation the recipient coordinates. Relevé de
décisions: a new decision's level is the pilier of its sheet or a code under it.
"""

from __future__ import annotations

import re
from typing import Any

from cv_excel.findings import Finding, make_finding
from cv_excel.intake.context import IntakeContext, action_key
from cv_excel.reader import ClasseurLu, SectionLue, Valeur

_NUMERO, _OBJECTIF, _CODE = "act_numero", "act_objectif", "obj_code"
_CODE_RE = re.compile(r"\s*([^\s—–:-]+)")


_text = action_key  # one text form of a cell's value


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
    if lu.spec.kind in ("pilote", "coordonnateur"):
        return _perimetre(lu, ctx)
    if lu.spec.kind == "decisions":
        return _niveaux(lu.sections, ctx)
    if lu.spec.kind != "porteur" or not lu.sections:
        return []
    actions = ctx.actions_index(annee)  # indexed once per run, not per file
    if actions is None:
        return [make_finding("VAL_PROGRAMMATION_ABSENTE", annee=annee)]
    codes = ctx.codes_oo()
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
    codes = ctx.codes_oo()
    findings = []
    for part in sections:
        valeur = part.values.get(_CODE)
        if valeur is not None and _text(valeur.value) not in codes:
            findings.append(_finding("VAL_OBJECTIF_INCONNU", valeur, _CODE,
                                     _text(valeur.value)))
    return findings


def _destinataire(lu: ClasseurLu) -> tuple[str, str]:
    meta = lu.meta
    ident = _text(meta.get("meta_destinataire_id"))
    return ident, _text(meta.get("meta_destinataire")) or ident or "le destinataire"


def _perimetre(lu: ClasseurLu, ctx: IntakeContext) -> list[Finding]:
    """A pilote's sheets are objectifs stratégiques it pilots, a coordonnateur's sheets
    orientations it coordinates (the référentiel may have changed since generation)."""
    ident, label = _destinataire(lu)
    if lu.spec.kind == "pilote":
        field, code = "os_code", "VAL_STRATEGIQUE_HORS_PERIMETRE"
        own = {s.code for s in ctx.ref.objectifs_strategiques if ident in s.pilotes}
    else:
        field, code = "ori_code", "VAL_ORIENTATION_HORS_PERIMETRE"
        own = {o.code for o in ctx.ref.orientations if ident in o.coordonnateurs}
    findings = []
    for part in lu.sections:
        valeur = part.values.get(field)
        if valeur is not None and _text(valeur.value) not in own:
            findings.append(_finding(code, valeur, field, _text(valeur.value),
                                     destinataire=label))
    return findings


def pilier_code(value: Any) -> str:
    """« A — Cohésion sociale » (the relevé's prefilled pilier) → « A »."""
    return _code_of(_text(value)).upper()


def codes_du_pilier(ctx: IntakeContext, pilier: str) -> set[str]:
    """The pilier's code and every code under it: orientations, objectifs stratégiques
    and opérationnels."""
    orientations = {o.code for o in ctx.ref.orientations if o.pilier == pilier}
    strategiques = {s.code for s in ctx.ref.objectifs_strategiques
                    if s.orientation in orientations}
    operationnels = {o.code for o in ctx.ref.objectifs_operationnels
                     if o.objectif_strategique in strategiques}
    return {pilier} | orientations | strategiques | operationnels


def _niveaux(sections: list[SectionLue], ctx: IntakeContext) -> list[Finding]:
    """A new decision's « Niveau (code) »: the sheet's pilier or a code under it (blank
    means the pilier)."""
    findings = []
    for part in sections:
        pilier = part.values.get("dec_pilier")
        code = pilier_code(pilier.value) if pilier is not None else ""
        known = codes_du_pilier(ctx, code) if code else set()
        if not code or len(known) == 1:  # emptied or unknown pilier: the tamper check says so
            continue
        exemple = ", ".join(sorted(known - {code}, key=lambda c: (len(c), c))[:3])
        rows = part.tables.get("dec_nouvelles", [])
        keys = part.table_keys.get("dec_nouvelles", [])
        for key, row in zip(keys, rows, strict=False):
            valeur = row.get("code")
            typed = _text(valeur.value) if valeur is not None else ""
            if typed and pilier_code(typed) not in known:
                findings.append(_finding("VAL_DECISION_NIVEAU", valeur, "dec_nouvelles.code",
                                         typed, ligne=key, pilier=code, exemple=exemple))
    return findings
