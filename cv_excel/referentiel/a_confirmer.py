"""What the project inferred rather than read in the contract, to be confirmed.

The référentiel records how each flaw of the contract text was resolved
(``Referentiel.decisions``, mirrored in docs/referentiel.md). Three of these
resolutions put in the workbooks values the contract does not give:

- D05: the missing pilotes (C21, T12) and responsable (pilier T), taken from the
  level above;
- D06: the responsable of pilier A;
- D12: the generic indicator of the fiches without one (A213, C213).

Where users see such a value it carries « (à confirmer) ». Which codes are
concerned comes from the decisions' ``codes`` (never from people's names), so a
corrected référentiel (a decision removed, a code dropped) changes the marks.
"""

from __future__ import annotations

from cv_excel.referentiel.models import Decision, Referentiel

A_CONFIRMER = " (à confirmer)"
# The decisions that designate people the contract does not name.
DECISIONS_PERSONNES: tuple[str, ...] = ("D05", "D06")
# The decision that gives a generic indicator to the fiches without one.
DECISIONS_INDICATEURS: tuple[str, ...] = ("D12",)


def _decision(ref: Referentiel, ids: tuple[str, ...], code: str) -> Decision | None:
    """The first decision of ``ids`` whose codes include ``code``."""
    return next((d for d in ref.decisions if d.id in ids and code in d.codes), None)


def pilote_a_confirmer(ref: Referentiel, os_code: str) -> bool:
    """The pilote(s) of objectif stratégique ``os_code`` were inferred (D05)."""
    return any(s.code == os_code for s in ref.objectifs_strategiques) and \
        _decision(ref, DECISIONS_PERSONNES, os_code) is not None


def coordonnateur_a_confirmer(ref: Referentiel, ori_code: str) -> bool:
    """The coordonnateur(s) of orientation ``ori_code`` were inferred (none today)."""
    return any(o.code == ori_code for o in ref.orientations) and \
        _decision(ref, DECISIONS_PERSONNES, ori_code) is not None


def responsable_a_confirmer(ref: Referentiel, pilier: str) -> bool:
    """The responsable(s) of pilier ``pilier`` were inferred (D05, D06)."""
    return any(p.code == pilier for p in ref.piliers) and \
        _decision(ref, DECISIONS_PERSONNES, pilier) is not None


def indicateurs_a_confirmer(ref: Referentiel, oo_code: str) -> bool:
    """The indicators of fiche ``oo_code`` are the generic one the project gave (D12)."""
    return any(o.code == oo_code for o in ref.objectifs_operationnels) and \
        _decision(ref, DECISIONS_INDICATEURS, oo_code) is not None


def marquer(text: str, a_confirmer: bool) -> str:
    """``text`` followed by « (à confirmer) » when it is inferred."""
    return text + A_CONFIRMER if a_confirmer and text else text


def noms(ref: Referentiel, ids: list[str], a_confirmer: bool = False) -> str:
    """The people ``ids`` (directory labels), marked when inferred; « non désigné » if none."""
    if not ids:
        return "non désigné"
    return marquer(" ; ".join(ref.referent(i).libelle for i in ids), a_confirmer)


def pilotes(ref: Referentiel, os_code: str) -> str:
    os_ = next(s for s in ref.objectifs_strategiques if s.code == os_code)
    return noms(ref, os_.pilotes, pilote_a_confirmer(ref, os_code))


def coordonnateurs(ref: Referentiel, ori_code: str) -> str:
    ori = next(o for o in ref.orientations if o.code == ori_code)
    return noms(ref, ori.coordonnateurs, coordonnateur_a_confirmer(ref, ori_code))


def responsables(ref: Referentiel, pilier: str) -> str:
    pil = next(p for p in ref.piliers if p.code == pilier)
    return noms(ref, pil.responsables, responsable_a_confirmer(ref, pilier))


def _origine(ref: Referentiel, ids: list[str], candidates: list[tuple[str, list[str]]]) -> str:
    """Where inferred people come from: « repris du coordonnateur de C2 » when they are the
    people of a level of ``candidates`` ((label with code, ids)), else « désigné par le projet »."""
    for label, people in candidates:
        if ids and sorted(ids) == sorted(people):
            return f"repris du {label}"
    return "désigné par le projet"


def _note(sujet: str, origine: str, decision: Decision) -> str:
    return f"{sujet} : {origine} (décision {decision.id} du référentiel), à confirmer."


def notes_a_confirmer(ref: Referentiel, oo_code: str) -> str:
    """One French line per inferred value of the fiche ``oo_code`` and its chain (pilote,
    coordonnateur, responsable, indicators); empty when everything comes from the contract."""
    oo = ref.objectif(oo_code)
    lines = notes_strategique(ref, oo.objectif_strategique)
    decision = _decision(ref, DECISIONS_INDICATEURS, oo.code)
    if decision is not None:
        for indicateur in oo.indicateurs:
            lines.append(_note(f"Indicateur « {indicateur.libelle} »",
                               "indicateur de suivi générique, la fiche n'en donne aucun",
                               decision))
    return "\n".join(lines)


def notes_strategique(ref: Referentiel, os_code: str) -> list[str]:
    """The inferred people of the chain above ``os_code`` (pilote, coordonnateur,
    responsable), one French line each."""
    os_ = next(s for s in ref.objectifs_strategiques if s.code == os_code)
    lines = []
    decision = _decision(ref, DECISIONS_PERSONNES, os_code)
    if decision is not None:
        ori = next(o for o in ref.orientations if o.code == os_.orientation)
        lines.append(_note(f"Pilote de {os_code}", _origine(
            ref, os_.pilotes, [(f"coordonnateur de {ori.code}", ori.coordonnateurs)]),
            decision))
    return lines + notes_orientation(ref, os_.orientation)


def notes_orientation(ref: Referentiel, ori_code: str) -> list[str]:
    """The inferred people of the chain above ``ori_code`` (coordonnateur, responsable)."""
    ori = next(o for o in ref.orientations if o.code == ori_code)
    lines = []
    decision = _decision(ref, DECISIONS_PERSONNES, ori_code)
    if decision is not None:
        pil = next(p for p in ref.piliers if p.code == ori.pilier)
        lines.append(_note(f"Coordonnateur de {ori_code}", _origine(
            ref, ori.coordonnateurs, [(f"responsable du pilier {pil.code}", pil.responsables)]),
            decision))
    return lines + notes_pilier(ref, ori.pilier)


def notes_pilier(ref: Referentiel, pilier: str) -> list[str]:
    """The inferred responsable of ``pilier``, if any."""
    pil = next(p for p in ref.piliers if p.code == pilier)
    decision = _decision(ref, DECISIONS_PERSONNES, pilier)
    if decision is None:
        return []
    candidates = [(f"coordonnateur de {o.code}", o.coordonnateurs)
                  for o in ref.orientations_of(pilier)]
    return [_note(f"Responsable du pilier {pilier}",
                  _origine(ref, pil.responsables, candidates), decision)]


def roles(ref: Referentiel, person_id: str) -> str:
    """Where a person sits in the chain of responsibility, inferred roles marked:
    « Coordonnateur C1, C2 ; Pilote C11, C21 (C21 à confirmer) ; Référent C211 »."""
    parts = []
    for label, items, attr, inferred in (
        ("Responsable", ref.piliers, "responsables", responsable_a_confirmer),
        ("Coordonnateur", ref.orientations, "coordonnateurs", coordonnateur_a_confirmer),
        ("Pilote", ref.objectifs_strategiques, "pilotes", pilote_a_confirmer),
        ("Référent", ref.objectifs_operationnels, "referents", None),
    ):
        codes = [i.code for i in items if person_id in getattr(i, attr)]
        if not codes:
            continue
        text = f"{label} {', '.join(codes)}"
        marked = [c for c in codes if inferred is not None and inferred(ref, c)]
        if marked:
            text += f" ({', '.join(marked)} à confirmer)"
        parts.append(text)
    return " ; ".join(parts)
