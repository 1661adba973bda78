"""Simulated returns for the demo: what an inbox looks like after the deadline.

Most porteurs and référents send back a complete, coherent workbook; a few make
the usual mistakes (a word in a number cell, an unbalanced budget, a note
without justification, an edited funded amount); some never answer; one sends
the same file twice. Everything is fictitious, like the rest of the demo.
Returns are rendered from the same template and workbook ids as the workbooks
that were sent, so intake recognises them exactly as it would real ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cv_excel.atomic import write_bytes_atomic
from cv_excel.config import DossierTravail, Revue
from cv_excel.filenames import safe_stem
from cv_excel.generation.generate import (
    GenerationResult,
    cascade_from_store,
    contexte_revue,
    template_path,
)
from cv_excel.generation.gouvernance import plan_coordonnateur, plan_pilote, plan_releve
from cv_excel.generation.plan import ContexteRevue, FillPlan, plan_porteur, plan_referent
from cv_excel.generation.render import prepare, render
from cv_excel.listes import notes_du_taux
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import SPECS

PART_NON_REPONDANTS = 4  # one porteur in four has not answered yet
# The rate of achievement (in % of the valeur cible) a demo return reports for each note:
# the middle of the note's band on the EPT scale, so the note and the rate agree.
TAUX_DE_LA_NOTE = {40: Decimal(30), 60: Decimal(50), 80: Decimal(80), 100: Decimal(110)}


def valeur_atteinte(cible: Decimal, score: int) -> Decimal:
    """A value reached that calls for ``score`` against ``cible``: whole when it can be."""
    exact = cible * TAUX_DE_LA_NOTE[score] / 100
    whole = exact.quantize(Decimal(1))
    return whole if score in notes_du_taux(whole / cible * 100) else exact.quantize(
        Decimal("0.01"))


def fill_porteur(plan: FillPlan, annee: int) -> FillPlan:
    """Coherent answers in every input of a porteur workbook."""
    plan.values["porteur"].update({
        "por_representant": "Présidence de la structure (fictif)",
        "por_redacteur": "Personne chargée du bilan (fictif)",
        "por_telephone": "01 00 00 00 00", "por_email_redacteur": "bilan@example.org",
        "por_date": dt.date(annee + 1, 1, 15), "por_attestation": "Oui"})
    for i, section in enumerate(plan.sections):
        score = (80, 60, 100, 40)[i % 4]
        cible, unite = section.values.get("act_valeur_cible"), section.values.get("act_unite")
        atteinte = valeur_atteinte(cible, score) if cible else None
        mesure = (f"{atteinte} {unite} pour une cible de {cible} {unite}, soit "
                  f"{TAUX_DE_LA_NOTE[score]} % de l'objectif" if atteinte is not None
                  else f"{score} % de l'objectif atteint")
        section.values.update({
            "act_realisation": "Réalisée" if score >= 60 else "Partiellement réalisée",
            "act_date_debut": dt.date(annee, 2, 1), "act_date_fin": dt.date(annee, 11, 30),
            "act_benef_total": 40 + 5 * i, "act_benef_femmes": 22 + 3 * i,
            "act_benef_hommes": 18 + 2 * i, "act_benef_qpv": 30 + 2 * i,
            "act_benef_12_17": 15, "act_benef_18_25": 10,
            "act_score": score,
            "act_score_justification": f"Mesure de l'indicateur : {mesure} (fictif).",
            "act_valeur_constatee": f"{atteinte} {unite}" if atteinte is not None
                                    else f"{score} %",
            "act_valeur_atteinte": atteinte,
            "act_mode_recueil": "Enquête de satisfaction auprès des bénéficiaires",
            "act_resultats": "Les séances prévues ont eu lieu ; les participants ont "
                             "progressé (fictif).",
            "act_difficultes": "Mobilisation difficile en période estivale (fictif).",
            "act_perspectives": "Reconduction proposée (fictif).",
            "act_lieux_realisation": "Quartier Est d'Orly, centre social (fictif).",
            "act_observations": "Aucune observation particulière (fictif).",
            "bud_repartition_charges_indirectes": "Au prorata des heures de personnel "
                                                  "consacrées à l'action (fictif)."})
        # The prefilled 74 lines already carry each financeur's amount on its own line
        # (a foundation on « aides privées », see spec.budget.ligne_du_financeur).
        produits = section.tables["bud_produits"]
        total = Decimal(0)
        for line in produits.values():
            line["realise"] = line["prevu"]
            total += line["prevu"]
        personnel = (total * Decimal("0.7")).quantize(Decimal(1))
        indirectes = (total * Decimal("0.05")).quantize(Decimal(1))
        achats = total - personnel - indirectes
        section.tables["bud_charges"] = {
            "60": {"prevu": achats, "realise": achats},
            "64": {"prevu": personnel, "realise": personnel},
            "ci_fonctionnement": {"prevu": indirectes, "realise": indirectes}}
        benevolat = Decimal(600 + 100 * (i % 3))
        section.tables["bud_charges_contrib"] = {
            "864": {"prevu": benevolat, "realise": benevolat}}
        section.tables["bud_produits_contrib"] = {
            "870": {"prevu": benevolat, "realise": benevolat}}
    return plan


def fill_referent(plan: FillPlan, annee: int) -> FillPlan:
    """Coherent answers in every input of an annual référent workbook."""
    from cv_excel.demo.revues import fill_referent_revue

    return fill_referent_revue(plan, None, annee)


# Typical mistakes: (file-name label, change applied to a filled plan).
def _word_in_number(plan: FillPlan) -> None:
    plan.sections[0].values["act_benef_total"] = "une quarantaine"


def _unbalanced(plan: FillPlan) -> None:
    plan.sections[0].tables["bud_charges"]["64"]["realise"] += 500


def _no_justification(plan: FillPlan) -> None:
    plan.sections[0].values["act_score_justification"] = None


def _edited_amount(plan: FillPlan) -> None:
    plan.sections[0].values["act_accorde_ville"] = Decimal(99_999)


MISTAKES: tuple[tuple[str, Callable[[FillPlan], None]], ...] = (
    ("mot dans un nombre", _word_in_number),
    ("budget déséquilibré", _unbalanced),
    ("note sans justification", _no_justification),
    ("montant accordé modifié", _edited_amount),
)


@dataclass
class SimulatedReturns:
    files: list[Path] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)  # recipients who did not answer


def filled_plan(work: DossierTravail, ref: Referentiel, programmation: Programmation,
                entry, annee: int, cascade=None) -> FillPlan:
    """The plan of a registered workbook (``entry``), every input answered coherently."""
    if entry.type == "porteur":
        porteur = next(p for p in programmation.porteurs() if p.siret == entry.destinataire_id)
        return fill_porteur(plan_porteur(porteur, programmation.actions_of(porteur.siret), ref,
                                         work.config, annee), annee)
    cascade = cascade if cascade is not None else cascade_from_store(work, annee)
    return fill_referent(plan_referent(ref.referent(entry.destinataire_id), ref, programmation,
                                       work.config, annee, cascade), annee)


def render_return(work: DossierTravail, plan: FillPlan, entry) -> bytes:
    """The bytes of ``plan`` as the registered workbook ``entry`` (same id, same date):
    what the recipient sends back once the inputs are typed."""
    spec = SPECS[entry.type]
    tpl = prepare(template_path(work, spec), spec)
    return render(tpl, plan, entry.classeur_id, dt.datetime.fromisoformat(entry.genere_le)).data


def simulate_returns(work: DossierTravail, ref: Referentiel, programmation: Programmation,
                     generation: GenerationResult) -> SimulatedReturns:
    """Write plausible returns of ``generation`` into the inbox ``retours/``."""
    annee = generation.annee
    inbox = work.path("retours")
    templates = {kind: prepare(template_path(work, spec), spec) for kind, spec in SPECS.items()}
    result = SimulatedReturns()
    mistakes = list(MISTAKES)
    cascade = cascade_from_store(work, annee)  # as the generation saw it
    for n, entry in enumerate(generation.classeurs):
        if n % PART_NON_REPONDANTS == PART_NON_REPONDANTS - 1:
            result.silent.append(entry.destinataire)
            continue
        plan = filled_plan(work, ref, programmation, entry, annee, cascade)
        label = "Bilan" if entry.type == "porteur" else "Suivi"
        if entry.type == "porteur" and mistakes and n % 5 == 2:
            mistake, change = mistakes.pop(0)
            change(plan)
            label += f" ({mistake})"
        rendu = render(templates[entry.type], plan, entry.classeur_id,
                       dt.datetime.fromisoformat(entry.genere_le))
        name = safe_stem(f"{annee} - {label} - {entry.destinataire}") + ".xlsx"
        result.files.append(write_bytes_atomic(inbox / name, rendu.data))
    if result.files:  # the same attachment sent twice
        first = result.files[0]
        copy = inbox / f"{first.stem} (envoi en double).xlsx"
        result.files.append(write_bytes_atomic(copy, first.read_bytes()))
    return result


# Who stays silent at each revue of the demo (index of the workbook in its step): at revue
# 1 a pilote does not answer, so the coordonnateur's workbook and the tableaux de bord show
# « retour manquant » with the référents' level below still visible.
SILENCIEUX: dict[tuple[int, str], tuple[int, ...]] = {
    (1, "referent"): (6,), (1, "pilote"): (1,), (2, "referent"): (3,),
}
LIBELLES_RETOUR = {"referent": "Suivi", "pilote": "Synthèse pilote",
                   "coordonnateur": "Synthèse coordonnateur", "decisions": "Relevé"}


def revue_plan(work: DossierTravail, ref: Referentiel, programmation: Programmation, entry,
               revue: Revue, ctx: ContexteRevue) -> FillPlan:
    """The plan of a registered revue workbook (``entry``), every input answered."""
    from cv_excel.demo.revues import (
        fill_coordonnateur,
        fill_pilote,
        fill_referent_revue,
        fill_releve,
    )

    config, annee, who = work.config, revue.annee, entry.destinataire_id
    if entry.type == "referent":
        plan = plan_referent(ref.referent(who), ref, programmation, config, annee, ctx, revue)
        return fill_referent_revue(plan, revue, annee, first=who == _first_referent(ref))
    if entry.type == "pilote":
        return fill_pilote(plan_pilote(who, ref, programmation, config, annee, revue, ctx),
                           revue)
    if entry.type == "coordonnateur":
        return fill_coordonnateur(plan_coordonnateur(who, ref, programmation, config, annee,
                                                     revue, ctx), revue)
    pilier = entry.sections[0]
    codes = [s.code for o in ref.orientations_of(pilier) for s in ref.strategiques_of(o.code)]
    return fill_releve(plan_releve(pilier, ref, config, annee, revue, ctx), revue, codes)


def _first_referent(ref: Referentiel) -> str:
    """The référent of the first objectif opérationnel: proposes and drops an indicator."""
    return ref.objectifs_operationnels[0].referents[0]


def simulate_revue_returns(work: DossierTravail, ref: Referentiel,
                           programmation: Programmation, generation: GenerationResult,
                           revue: Revue) -> SimulatedReturns:
    """Write the returns of one step of ``revue`` (``generation``: the workbooks of one
    kind) into the inbox, rendered from the same context as the generation saw it."""
    ctx = contexte_revue(work, revue.annee, revue.numero)
    templates = {kind: prepare(template_path(work, spec), spec) for kind, spec in SPECS.items()}
    result = SimulatedReturns()
    for n, entry in enumerate(generation.classeurs):
        if n in SILENCIEUX.get((revue.numero, entry.type), ()):
            result.silent.append(entry.destinataire)
            continue
        plan = revue_plan(work, ref, programmation, entry, revue, ctx)
        rendu = render(templates[entry.type], plan, entry.classeur_id,
                       dt.datetime.fromisoformat(entry.genere_le))
        name = safe_stem(f"{revue.annee} - Revue {revue.numero} - "
                         f"{LIBELLES_RETOUR[entry.type]} - {entry.destinataire}") + ".xlsx"
        result.files.append(write_bytes_atomic(work.path("retours") / name, rendu.data))
    return result
