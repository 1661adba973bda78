"""Simulated answers of the governance cascade for the demo (all fictitious).

Each function answers every input of one kind of revue workbook coherently, as its
recipient would: a référent updates its objectives (avancement moves on, pistes get
engaged then done, indicator values progress, one indicator leaves the basket at the
second revue and one is proposed at the first), a pilote or coordonnateur writes a
synthesis with a traffic light, the Direction records the decisions of each revue and
closes one of them at the next. Returns are rendered from the same plan as the workbook
that was sent, so intake recognises them exactly as real ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cv_excel.config import Revue
from cv_excel.generation.plan import FillPlan
from cv_excel.listes import AVANCEMENT, ETATS_PISTE, STATUTS_RAG

FICTIF = " (fictif)"
INDICATEUR_PROPOSE = "Nombre de partenaires mobilisés sur l'objectif (fictif)"


def _avancement(i: int, n: int) -> str:
    """Revue 1 starts low, each revue moves one step on (never past « Atteint »)."""
    return AVANCEMENT[min(1 + (i % 3) + n - 1, len(AVANCEMENT) - 1)]


def fill_referent_revue(plan: FillPlan, revue: Revue | None, annee: int,
                        first: bool = False) -> FillPlan:
    """A référent's answers at ``revue`` (None: the annual follow-up, after the year's
    revues); ``first``: the référent who proposes an indicator (revue 1) and drops one
    (revue 2)."""
    n = revue.numero if revue is not None else 3
    etape = f"Revue {n}" if revue is not None else "Bilan annuel"
    date = revue.date - dt.timedelta(days=7) if revue is not None else dt.date(annee + 1, 1, 20)
    plan.values["referent"].update({"ref_redacteur": "Référent" + FICTIF, "ref_date": date})
    for i, section in enumerate(plan.sections):
        section.values.update({
            "obj_avancement": _avancement(i, n),
            "obj_actions_realisees": f"{etape} : actions de la programmation menées"
                                     + FICTIF + ".",
            "obj_actions_en_cours": f"{etape} : deux actions en cours" + FICTIF + ".",
            "obj_resultats": f"{etape} : public touché conforme aux attentes" + FICTIF + ".",
            "obj_difficultes": "Partenariats à consolider" + FICTIF + ".",
            "obj_propositions": (f"{etape} : renforcer la coordination entre services"
                                 + FICTIF + ".") if i % 2 == 0 else None})
        for j, row in enumerate(section.tables.get("obj_pistes", [])):
            row["etat"] = ETATS_PISTE[min(j % 2 + n - 1, len(ETATS_PISTE) - 1)]
            row["commentaire"] = f"Point d'étape ({etape.lower()})" + FICTIF + "."
        indicateurs = section.tables.get("obj_indicateurs", [])
        for j, row in enumerate(indicateurs):
            reference = Decimal(100 + 10 * j)
            row.update({
                "unite": row.get("unite") or "personnes",
                "valeur_reference": row.get("valeur_reference") or reference,
                "annee_reference": row.get("annee_reference") or 2018,
                "valeur_cible": row.get("valeur_cible") or reference + 30,
                "valeur_annee": reference + 5 * n + j,
                "panier": row.get("panier") or "Conservé",
                "source": "Service référent" + FICTIF})
        if first and i == 0 and n == 2 and len(indicateurs) > 1:
            indicateurs[-1].update({"panier": "Abandonné",
                                    "commentaire": "Donnée plus produite par le partenaire"
                                                   + FICTIF + "."})
        if first and i == 0 and n == 1:
            section.tables["obj_nouveaux_indicateurs"] = [{
                "libelle": INDICATEUR_PROPOSE, "type": "Suivi", "unite": "partenaires",
                "valeur_reference": Decimal(4), "annee_reference": 2018,
                "valeur_cible": Decimal(8), "valeur_annee": Decimal(5),
                "source": "Service référent" + FICTIF,
                "commentaire": "Mesure la mobilisation du droit commun" + FICTIF + "."}]
    return plan


def _synthese(prefix: str, values: dict, i: int, revue: Revue) -> None:
    rag = STATUTS_RAG[(i + revue.numero) % len(STATUTS_RAG)]
    values.update({
        f"{prefix}_avancement": _avancement(i, revue.numero),
        f"{prefix}_rag": rag,
        f"{prefix}_synthese": f"Revue {revue.numero} : les objectifs avancent comme prévu, "
                              "sauf un qui attend un partenaire" + FICTIF + ".",
        f"{prefix}_difficultes": "Mobilisation inégale des partenaires" + FICTIF + ".",
        f"{prefix}_propositions": ("Réunir les partenaires avant la revue suivante"
                                   + FICTIF + ".") if rag != "Vert" else None})


def fill_pilote(plan: FillPlan, revue: Revue) -> FillPlan:
    plan.values["pilote"].update({"pil_redacteur": "Pilote" + FICTIF,
                                  "pil_date": revue.date - dt.timedelta(days=4)})
    for i, section in enumerate(plan.sections):
        _synthese("os", section.values, i, revue)
    return plan


def fill_coordonnateur(plan: FillPlan, revue: Revue) -> FillPlan:
    plan.values["coordonnateur"].update({"coo_redacteur": "Coordonnateur" + FICTIF,
                                         "coo_date": revue.date - dt.timedelta(days=2)})
    for i, section in enumerate(plan.sections):
        _synthese("ori", section.values, i, revue)
    return plan


def fill_releve(plan: FillPlan, revue: Revue, codes: list[str]) -> FillPlan:
    """The relevé of one pilier after ``revue``: the first decision still open is closed
    (« Réalisée »), the others go on; two new decisions at revue 1, one later, on
    ``codes`` (levels of the pilier, e.g. its objectifs stratégiques)."""
    plan.values["releve"].update({
        "rel_date": revue.date, "rel_redacteur": "Direction politique de la ville" + FICTIF,
        "rel_participants": "Pilotes, coordonnateurs, partenaires du pilier" + FICTIF + "."})
    for section in plan.sections:
        for k, row in enumerate(section.tables.get("dec_suivi", [])):
            row["statut"] = "Réalisée" if k == 0 else "En cours"
            if k:  # still running: the revue gives it a new deadline
                row["echeance"] = revue.date + dt.timedelta(days=60)
            row["commentaire"] = ("Mise en œuvre constatée à la revue" if k == 0
                                  else "En cours de mise en œuvre") + FICTIF + "."
        nouvelles = 2 if revue.numero == 1 else 1
        section.tables["dec_nouvelles"] = [{
            "decision": f"Revue {revue.numero} : réunir les partenaires de {code} pour "
                        "relancer les actions en retard" + FICTIF + ".",
            "type": "Action corrective" if k % 2 == 0 else "Arbitrage",
            "code": code, "responsable": "Service pilote" + FICTIF,
            "echeance": revue.date + dt.timedelta(days=60), "statut": "Ouverte",
            "commentaire": None} for k, code in enumerate(codes[:nouvelles])]
    return plan
