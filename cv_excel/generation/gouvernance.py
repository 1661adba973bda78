"""Fill plans of the governance cascade above the référents (one revue each).

- a **pilote** gets one « Stratégique » sheet per objectif stratégique it pilots: the
  référents' returns of this revue below it (a missing one written « retour manquant »),
  and its own synthesis, proposed from what it wrote at the previous revue;
- a **coordonnateur** gets one « Orientation » sheet per orientation: the pilotes'
  syntheses of this revue and, below, every objectif opérationnel's return (so a missing
  pilote still shows the level below);
- the **relevé de décisions** of a pilier (destinataire « pilier-A »): the proposals made
  at this revue at every level, the decisions still open (their follow-up proposed from
  their current state) and room for the new ones.

Everything comes from the référentiel, the programmation and a
:class:`~cv_excel.generation.plan.ContexteRevue`; nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cv_excel.config import Configuration, Revue
from cv_excel.generation.plan import (
    RETOUR_MANQUANT,
    ContexteRevue,
    FillPlan,
    Section,
    chaine,
    date_fr,
    decision_row,
    echeance_revue,
    file_stem,
    lisez_moi,
    reserved_titles,
    retour_recu,
    revue_libelle,
    section_title,
)
from cv_excel.listes import AVANCEMENT, STATUTS_DECISION, STATUTS_RAG
from cv_excel.programmation.models import Action, ProgrammationLue
from cv_excel.referentiel import a_confirmer
from cv_excel.referentiel.models import ObjectifStrategique, Orientation, Referentiel
from cv_excel.spec import COORDONNATEUR, PILOTE, RELEVE, ClasseurSpec
from cv_excel.store.models import SuiviObjectif, SyntheseNiveau
from cv_excel.text import canonical_choice, clean_text

RELEVE_PREFIXE = "pilier-"


# --- recipients -------------------------------------------------------------------------------
def pilotes(ref: Referentiel) -> list[str]:
    """Every person who pilots at least one objectif stratégique (directory order)."""
    ids = {p for s in ref.objectifs_strategiques for p in s.pilotes}
    return [r.id for r in ref.referents if r.id in ids]


def coordonnateurs(ref: Referentiel) -> list[str]:
    """Every person who coordinates at least one orientation (directory order)."""
    ids = {c for o in ref.orientations for c in o.coordonnateurs}
    return [r.id for r in ref.referents if r.id in ids]


def releve_id(pilier: str) -> str:
    """The destinataire id of a pilier's relevé de décisions: « pilier-A »."""
    return f"{RELEVE_PREFIXE}{pilier}"


def releve_destinataire(pilier: str) -> str:
    return f"Relevé de décisions — Pilier {pilier}"


# --- shared -----------------------------------------------------------------------------------
def _under(code: str):
    """Decisions whose level is ``code`` or below it (A12 → A12, A121, A122…)."""
    return lambda c: bool(c) and c.startswith(code.upper())


def _actions(programmation: ProgrammationLue, codes: list[str]) -> list[Action]:
    return [a for code in codes for a in programmation.actions_of_objectif(code)]


def _montant(actions: list[Action]) -> Decimal:
    return sum((a.montant_accorde_total for a in actions), Decimal(0))


def _personne(ref: Referentiel, person_id: str, prefix: str, nb: int) -> dict[str, Any]:
    person = ref.referent(person_id)
    return {f"{prefix}_libelle": person.libelle, f"{prefix}_nom": person.nom or "",
            f"{prefix}_email": person.email or "",
            f"{prefix}_roles": a_confirmer.roles(ref, person_id), f"{prefix}_nb_sections": nb}


def _prefill_synthese(prefix: str, prev: SyntheseNiveau | None) -> dict[str, Any]:
    """The synthesis typed at the previous revue, proposed in the yellow cells."""
    if prev is None:
        return {}
    values: dict[str, Any] = {}
    for name, allowed in (("avancement", AVANCEMENT), ("rag", STATUTS_RAG)):
        value = canonical_choice(getattr(prev, name), allowed) if getattr(prev, name) else None
        if value is not None:
            values[f"{prefix}_{name}"] = value
    for name in ("synthese", "difficultes", "propositions"):
        text = getattr(prev, name)
        if text not in (None, ""):
            values[f"{prefix}_{name}"] = text
    return values


def _contenu(revue: Revue, intro: str, items: list[str], fin: str) -> str:
    return f"{revue.libelle}. {intro} :\n" + "\n".join(items) + (f"\n{fin}" if fin else "")


def _referent_rows(ref: Referentiel, os_: ObjectifStrategique, ctx: ContexteRevue,
                   columns: tuple[str, ...]) -> tuple[list[dict[str, Any]], int, int]:
    """One row per (objectif opérationnel, référent) of ``os_`` with its return of this
    revue; and the number of returns received and expected."""
    rows, recus, attendus = [], 0, 0
    for oo in ref.operationnels_of(os_.code):
        for rid in oo.referents or [None]:
            suivi: SuiviObjectif | None = ctx.suivis.get((oo.code, rid)) if rid else None
            attendus += 1
            row: dict[str, Any] = {
                "code": oo.code, "objectif": oo.titre,
                "referent": ref.referent(rid).libelle if rid else "non désigné",
                "retour": retour_recu(suivi.recu_le) if suivi else RETOUR_MANQUANT,
            }
            if suivi is not None:
                recus += 1
                row.update({c: getattr(suivi, c) or "" for c in columns})
            rows.append(row)
    return rows, recus, attendus


def _retours(recus: int, attendus: int, quoi: str, feminin: bool, niveau: str,
             nb_niveau: int) -> str:
    """« 3 retours sur 4 attendus (4 objectifs opérationnels) », « 1 synthèse sur 3
    attendues (3 objectifs stratégiques) »."""
    def pluriel(n: int) -> str:
        return "s" if n > 1 else ""

    attendu = "attendue" if feminin else "attendu"
    return (f"{recus} {quoi}{pluriel(recus)} sur {attendus} {attendu}{pluriel(attendus)} "
            f"({nb_niveau} {niveau.replace(' ', pluriel(nb_niveau) + ' ', 1)}"
            f"{pluriel(nb_niveau)})")


# --- pilote -----------------------------------------------------------------------------------
def _plan_synthese(spec: ClasseurSpec, person_id: str, ref: Referentiel,
                   config: Configuration, annee: int, revue: Revue, libelle: str,
                   sujet: str, contenu: tuple[str, str], feuille: tuple[str, str],
                   items: list[Any], section: Callable[[Any, str], Section]) -> FillPlan:
    """The workbook of a pilote or a coordonnateur: its own sheet (``feuille``: key and
    field prefix), then one section per item it answers for, built by ``section``."""
    person = ref.referent(person_id)
    plan = FillPlan(spec, annee, config.contrat, person_id, clean_text(person.libelle),
                    file_stem(annee, revue, libelle, person.libelle), revue=revue.numero)
    plan.values["lisez_moi"] = lisez_moi(
        f"Revue {revue.numero} de {annee} — {sujet} — {person.libelle}",
        person.libelle + (f" ({person.nom})" if person.nom else ""), annee, config,
        _contenu(revue, contenu[0], [f"• {i.code} — {i.titre}" for i in items], contenu[1]),
        echeance=echeance_revue(revue))
    key, prefix = feuille
    plan.values[key] = _personne(ref, person_id, prefix, len(items))
    taken = reserved_titles(spec)
    plan.sections = [section(item, section_title(spec.section.titre, item.code, taken))
                     for item in items]
    return plan


def plan_pilote(pilote_id: str, ref: Referentiel, programmation: ProgrammationLue,
                config: Configuration, annee: int, revue: Revue,
                ctx: ContexteRevue | None = None) -> FillPlan:
    """The pilote's workbook of ``revue``: one « Stratégique » sheet per objectif
    stratégique it pilots."""
    ctx = ctx if ctx is not None else ContexteRevue()
    return _plan_synthese(
        PILOTE, pilote_id, ref, config, annee, revue, "Synthèse pilote",
        "synthèse des objectifs stratégiques",
        ("Ce classeur contient une feuille par objectif stratégique piloté",
         "Chaque feuille reprend les retours des référents (en gris, non modifiables) ; "
         "complétez votre synthèse dans les cellules jaunes."),
        ("pilote", "pil"), [s for s in ref.objectifs_strategiques if pilote_id in s.pilotes],
        lambda os_, titre: _strategique_section(os_, ref, programmation, revue, ctx,
                                                pilote_id, titre))


def _strategique_section(os_: ObjectifStrategique, ref: Referentiel,
                         programmation: ProgrammationLue, revue: Revue, ctx: ContexteRevue,
                         pilote_id: str, titre: str) -> Section:
    ori = next(o for o in ref.orientations if o.code == os_.orientation)
    pil = next(p for p in ref.piliers if p.code == ori.pilier)
    codes = [o.code for o in ref.operationnels_of(os_.code)]
    actions = _actions(programmation, codes)
    rows, recus, attendus = _referent_rows(
        ref, os_, ctx, ("avancement", "resultats", "difficultes", "propositions"))
    values = {
        "os_code": os_.code,
        "os_titre": os_.titre,
        "os_pilier": f"{pil.code} — {pil.titre}",
        "os_orientation": f"{ori.code} — {ori.titre}",
        "os_chaine": chaine(ref, os_code=os_.code),
        "os_revue": revue_libelle(revue),
        "os_nb_actions": len(actions),
        "os_montant_programme": _montant(actions),
        "os_retours": _retours(recus, attendus, "retour", False, "objectif opérationnel",
                               len(codes)),
        **_prefill_synthese("os", ctx.syntheses_precedentes.get((os_.code, pilote_id))),
    }
    tables = {
        "os_referents": rows,
        "os_decisions": [decision_row(d) for d in ctx.decisions_ouvertes(
            pil.code, _under(os_.code))],
    }
    return Section(clean_text(os_.code), titre, values, tables)


# --- coordonnateur ----------------------------------------------------------------------------
def plan_coordonnateur(coordonnateur_id: str, ref: Referentiel, programmation: ProgrammationLue,
                       config: Configuration, annee: int, revue: Revue,
                       ctx: ContexteRevue | None = None) -> FillPlan:
    """The coordonnateur's workbook of ``revue``: one « Orientation » sheet per orientation
    it coordinates."""
    ctx = ctx if ctx is not None else ContexteRevue()
    return _plan_synthese(
        COORDONNATEUR, coordonnateur_id, ref, config, annee, revue, "Synthèse coordonnateur",
        "synthèse des orientations stratégiques",
        ("Ce classeur contient une feuille par orientation coordonnée",
         "Chaque feuille reprend les synthèses des pilotes et les retours des référents (en "
         "gris) ; complétez votre synthèse dans les cellules jaunes."),
        ("coordonnateur", "coo"),
        [o for o in ref.orientations if coordonnateur_id in o.coordonnateurs],
        lambda ori, titre: _orientation_section(ori, ref, programmation, revue, ctx,
                                                coordonnateur_id, titre))


def _orientation_section(ori: Orientation, ref: Referentiel, programmation: ProgrammationLue,
                         revue: Revue, ctx: ContexteRevue, coordonnateur_id: str,
                         titre: str) -> Section:
    pil = next(p for p in ref.piliers if p.code == ori.pilier)
    strategiques = ref.strategiques_of(ori.code)
    codes = [o.code for s in strategiques for o in ref.operationnels_of(s.code)]
    actions = _actions(programmation, codes)
    syntheses, recues, attendues = [], 0, 0
    for os_ in strategiques:
        for pid in os_.pilotes or [None]:
            attendues += 1
            synthese = ctx.syntheses.get((os_.code, pid)) if pid else None
            row: dict[str, Any] = {
                "code": os_.code, "objectif": os_.titre,
                "pilote": a_confirmer.noms(ref, [pid], a_confirmer.pilote_a_confirmer(
                    ref, os_.code)) if pid else "non désigné",
                "retour": retour_recu(synthese.recu_le) if synthese else RETOUR_MANQUANT,
            }
            if synthese is not None:
                recues += 1
                row.update({c: getattr(synthese, c) or "" for c in (
                    "rag", "avancement", "synthese", "difficultes", "propositions")})
            syntheses.append(row)
    operationnels = []
    for os_ in strategiques:
        operationnels += _referent_rows(ref, os_, ctx, ("avancement", "difficultes"))[0]
    values = {
        "ori_code": ori.code,
        "ori_titre": ori.titre,
        "ori_pilier": f"{pil.code} — {pil.titre}",
        "ori_chaine": chaine(ref, ori_code=ori.code),
        "ori_revue": revue_libelle(revue),
        "ori_nb_actions": len(actions),
        "ori_montant_programme": _montant(actions),
        "ori_retours": _retours(recues, attendues, "synthèse", True, "objectif stratégique",
                                len(strategiques)),
        **_prefill_synthese("ori", ctx.syntheses_precedentes.get((ori.code, coordonnateur_id))),
    }
    tables = {
        "ori_strategiques": syntheses,
        "ori_operationnels": operationnels,
        "ori_decisions": [decision_row(d) for d in ctx.decisions_ouvertes(
            pil.code, _under(ori.code))],
    }
    return Section(clean_text(ori.code), titre, values, tables)


# --- relevé de décisions ----------------------------------------------------------------------
def plan_releve(pilier: str, ref: Referentiel, config: Configuration, annee: int,
                revue: Revue, ctx: ContexteRevue | None = None) -> FillPlan:
    """The relevé de décisions of ``pilier`` at ``revue``: one « Décisions » sheet."""
    ctx = ctx if ctx is not None else ContexteRevue()
    pil = next(p for p in ref.piliers if p.code == pilier)
    destinataire = releve_destinataire(pil.code)
    plan = FillPlan(RELEVE, annee, config.contrat, releve_id(pil.code), destinataire,
                    file_stem(annee, revue, "Relevé de décisions", f"Pilier {pil.code}"),
                    revue=revue.numero)
    plan.values["lisez_moi"] = lisez_moi(
        f"Revue {revue.numero} de {annee} — relevé de décisions — pilier {pil.code}",
        destinataire, annee, config,
        f"{revue.libelle}. Ce classeur recueille les décisions de la revue du pilier "
        f"{pil.code} — {pil.titre} :\n• les propositions remontées par les référents, les "
        "pilotes et les coordonnateurs (en gris) ;\n• le suivi des décisions encore ouvertes "
        "(statut, échéance, commentaire : à mettre à jour) ;\n• les décisions prises à cette "
        "revue (à saisir).",
        echeance=echeance_revue(revue, apres=True))
    plan.values["releve"] = {
        "rel_pilier": f"{pil.code} — {pil.titre}",
        "rel_responsable": a_confirmer.responsables(ref, pil.code),
        "rel_revue": revue_libelle(revue),
        "rel_date_prevue": date_fr(revue.date) + (" (indicative)" if revue.indicative else ""),
    }
    taken = reserved_titles(RELEVE)
    plan.sections.append(Section(
        clean_text(pil.code), section_title("Décisions", pil.code, taken),
        {"dec_pilier": f"{pil.code} — {pil.titre}", "dec_revue": revue_libelle(revue)},
        {"dec_propositions": _propositions(ref, pil.code, ctx),
         "dec_suivi": _suivi(pil.code, ctx)}))
    return plan


def _propositions(ref: Referentiel, pilier: str, ctx: ContexteRevue) -> list[dict[str, Any]]:
    """Every proposal of this revue under ``pilier``, top-down: orientation (coordonnateur),
    objectif stratégique (pilote), objectif opérationnel (référent)."""
    rows: list[dict[str, Any]] = []

    def add(niveau: str, code: str, auteur_id: str, role: str, text: str | None) -> None:
        if text and text.strip():
            rows.append({"niveau": niveau, "code": code,
                         "auteur": f"{ref.referent(auteur_id).libelle} ({role})",
                         "proposition": text})

    for ori in ref.orientations_of(pilier):
        for cid in ori.coordonnateurs:
            synthese = ctx.syntheses.get((ori.code, cid))
            add("Orientation", ori.code, cid, "coordonnateur",
                synthese.propositions if synthese else None)
        for os_ in ref.strategiques_of(ori.code):
            for pid in os_.pilotes:
                synthese = ctx.syntheses.get((os_.code, pid))
                add("Objectif stratégique", os_.code, pid, "pilote",
                    synthese.propositions if synthese else None)
            for oo in ref.operationnels_of(os_.code):
                for rid in oo.referents:
                    suivi = ctx.suivis.get((oo.code, rid))
                    add("Objectif opérationnel", oo.code, rid, "référent",
                        suivi.propositions if suivi else None)
    return rows


def _suivi(pilier: str, ctx: ContexteRevue) -> list[dict[str, Any]]:
    """The decisions still open, their follow-up proposed from their current state."""
    rows = []
    for d in ctx.decisions_ouvertes(pilier, lambda _c: True):
        row: dict[str, Any] = {"numero": d.numero, "decision": d.decision, "code": d.code}
        if d.responsable:
            row["responsable"] = d.responsable
        if d.echeance is not None:
            row["echeance"] = d.echeance
        statut = canonical_choice(d.statut, STATUTS_DECISION) if d.statut else None
        if statut is not None:
            row["statut"] = statut
        if d.commentaire:
            row["commentaire"] = d.commentaire
        rows.append(row)
    return rows


__all__ = ["coordonnateurs", "pilotes", "plan_coordonnateur", "plan_pilote", "plan_releve",
           "releve_destinataire", "releve_id"]
