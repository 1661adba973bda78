"""What goes into each workbook: a fill plan per porteur and per référent.

A plan is plain data (values by defined name, table rows, one section per
action or objective); building it knows the contract and the programmation
but nothing of Excel, and rendering it knows Excel but nothing of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cv_excel.config import Configuration
from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.programmation.models import Action, Porteur, Programmation
from cv_excel.referentiel.load import roles_of
from cv_excel.referentiel.models import Referent, Referentiel
from cv_excel.spec import PORTEUR, REFERENT, ClasseurSpec
from cv_excel.spec.budget import LIGNE_DU_FINANCEUR, LIGNES_PREREMPLIES, ligne_du_financeur
from cv_excel.text import EXCEL_SHEET_MAX, clean_text, clip_utf16, sheet_title, utf16_len

TYPE_FR = {"impact": "Impact", "resultat": "Résultat", "suivi": "Suivi"}
LISTES_SHEET = "Listes"


@dataclass
class Section:
    """One repeated sheet: an action of a porteur or an objective of a référent."""

    key: str
    titre: str  # sheet name
    values: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)


@dataclass
class FillPlan:
    spec: ClasseurSpec
    annee: int
    contrat: str
    destinataire_id: str
    destinataire: str
    file_stem: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # feuille key -> name -> v
    sections: list[Section] = field(default_factory=list)


def section_title(prefix: str, key: str, taken: set[str]) -> str:
    """A valid sheet name (:func:`~cv_excel.text.sheet_title`: 31 UTF-16 units, none of
    ``[]:*?/\\``) that no name of ``taken`` (case-folded) has yet; numbered if needed.

    No ``=`` either: the metadata lists the sections as « title=key » lines."""
    base = sheet_title(f"{prefix} {key}".replace("=", "-"))
    title, n = base, 2
    while title.casefold() in taken:
        suffix = f" ({n})"
        stem = clip_utf16(base, EXCEL_SHEET_MAX - utf16_len(suffix), ellipsis="").rstrip("' ")
        title, n = stem + suffix, n + 1
    taken.add(title.casefold())
    return title


def reserved_titles(spec: ClasseurSpec) -> set[str]:
    """The template's own sheet names (case-folded), which no section may take."""
    return {f.titre.casefold() for f in spec.feuilles} | {LISTES_SHEET.casefold()}


def _contact(config: Configuration) -> str:
    return config.direction + (f" — {config.contact_email}" if config.contact_email else "")


def _lisez_moi(titre: str, destinataire: str, annee: int, config: Configuration,
               contenu: str) -> dict[str, Any]:
    return {"lm_titre": titre, "lm_destinataire": destinataire, "lm_annee": annee,
            "lm_echeance": config.echeance_retours, "lm_contact": _contact(config),
            "lm_contenu": contenu}


# --- porteur ----------------------------------------------------------------------------------
def plan_porteur(porteur: Porteur, actions: list[Action], ref: Referentiel,
                 config: Configuration, annee: int) -> FillPlan:
    plan = FillPlan(PORTEUR, annee, config.contrat, porteur.id,
                    clean_text(porteur.raison_sociale),
                    f"{annee} - Bilan - {clean_text(porteur.raison_sociale, limit=None)}")
    contenu = "Ce classeur contient une feuille par action financée en {} :\n{}".format(
        annee, "\n".join(f"• {a.numero} — {a.intitule}" for a in actions))
    plan.values["lisez_moi"] = _lisez_moi(
        f"Bilan annuel {annee} des actions — {porteur.raison_sociale}",
        porteur.raison_sociale, annee, config, contenu)
    plan.values["porteur"] = {
        "por_raison_sociale": porteur.raison_sociale, "por_siret": porteur.siret,
        "por_rna": porteur.rna or "", "por_type": porteur.type_structure,
        "por_contact": porteur.contact, "por_email": porteur.email,
        "por_nb_actions": len(actions),
    }
    taken = reserved_titles(PORTEUR)
    for action in actions:
        plan.sections.append(_action_section(action, ref, section_title("Action", action.numero,
                                                                        taken)))
    return plan


def _action_section(action: Action, ref: Referentiel, titre: str) -> Section:
    oo = ref.objectif(action.objectif_operationnel)
    values: dict[str, Any] = {
        "act_numero": action.numero,
        "act_intitule": action.intitule,
        "act_objectif": f"{oo.code} — {oo.titre}",
        "act_territoire": action.territoire,
        "act_indicateur": action.indicateur.libelle,
        "act_mode_recueil_prevu": action.indicateur.mode_recueil,
        "act_objectif_quantifie": action.objectif_quantifie or "",
        "act_valeur_cible": action.valeur_cible,
        "act_unite": action.unite or "",
        **{f"act_accorde_{f.key}": action.financement(f.key).accorde for f in FINANCEURS},
        **{f"act_decl_{p}": f"{p} = {action.indicateur.declinaisons.get(p, '')}"
           for p in PALIERS},
    }
    produits = {ligne: {"prevu": Decimal(0)} for ligne in LIGNES_PREREMPLIES}
    for key in LIGNE_DU_FINANCEUR:  # a foundation (« autres ») lands on « aides privées »
        ligne = ligne_du_financeur(key, action.autres_financeurs_detail)
        produits[ligne]["prevu"] += action.accorde(key) or Decimal(0)
    return Section(clean_text(action.numero), titre, values, {"bud_produits": produits})


# --- référent ---------------------------------------------------------------------------------
@dataclass
class Cascade:
    """What earlier returns bring to a référent workbook: the porteurs' declared
    realisation and score per action, and last year's indicator values."""

    bilans: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    precedents: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, libellé)


def plan_referent(referent: Referent, ref: Referentiel, programmation: Programmation,
                  config: Configuration, annee: int,
                  cascade: Cascade | None = None) -> FillPlan:
    objectifs = ref.objectifs_of_referent(referent.id)
    plan = FillPlan(REFERENT, annee, config.contrat, referent.id, clean_text(referent.libelle),
                    f"{annee} - Suivi - {clean_text(referent.libelle, limit=None)}")
    contenu = "Ce classeur contient une feuille par objectif opérationnel suivi :\n{}".format(
        "\n".join(f"• {o.code} — {o.titre}" for o in objectifs))
    plan.values["lisez_moi"] = _lisez_moi(
        f"Suivi {annee} des objectifs opérationnels — {referent.libelle}",
        referent.libelle + (f" ({referent.nom})" if referent.nom else ""), annee, config,
        contenu)
    plan.values["referent"] = {
        "ref_libelle": referent.libelle, "ref_nom": referent.nom or "",
        "ref_email": referent.email or "", "ref_roles": roles_of(ref, referent.id),
        "ref_nb_objectifs": len(objectifs),
    }
    by_oo = programmation.actions_by_objectif()
    taken = reserved_titles(REFERENT)
    for oo in objectifs:
        plan.sections.append(_objectif_section(oo.code, ref, by_oo.get(oo.code, []),
                                               section_title("Objectif", oo.code, taken),
                                               cascade or Cascade()))
    return plan


def _names(ref: Referentiel, ids: list[str]) -> str:
    return " ; ".join(ref.referent(i).libelle for i in ids) or "non désigné"


def _objectif_section(code: str, ref: Referentiel, actions: list[Action], titre: str,
                      cascade: Cascade) -> Section:
    oo = ref.objectif(code)
    os_ = next(s for s in ref.objectifs_strategiques if s.code == oo.objectif_strategique)
    ori = next(o for o in ref.orientations if o.code == os_.orientation)
    pil = next(p for p in ref.piliers if p.code == ori.pilier)
    values = {
        "obj_code": oo.code,
        "obj_titre": oo.titre,
        "obj_pilier": f"{pil.code} — {pil.titre}",
        "obj_orientation": f"{ori.code} — {ori.titre}",
        "obj_strategique": f"{os_.code} — {os_.titre}",
        "obj_chaine": (f"Pilote : {_names(ref, os_.pilotes)} ; coordonnateur : "
                       f"{_names(ref, ori.coordonnateurs)} ; responsable du pilier : "
                       f"{_names(ref, pil.responsables)}"),
        "obj_referents": _names(ref, oo.referents),
        "obj_chef_de_file": oo.chef_de_file or "",
        "obj_contenu": oo.contenu or "",
        "obj_nb_actions": len(actions),
        "obj_montant_programme": sum((a.montant_accorde_total for a in actions), Decimal(0)),
    }
    tables = {
        "obj_indicateurs": [
            {"libelle": i.libelle, "type": TYPE_FR[i.type], "valeur_cible": i.valeur_cible or "",
             "valeur_precedente": cascade.precedents.get((code, i.libelle))}
            for i in oo.indicateurs
        ],
        "obj_actions": [
            {"numero": a.numero, "porteur": a.porteur.raison_sociale, "intitule": a.intitule,
             "montant": a.montant_accorde_total,
             "realisation": cascade.bilans.get(a.numero, ("", None))[0] or "sans retour",
             "score": cascade.bilans.get(a.numero, ("", None))[1]}
            for a in actions
        ],
    }
    return Section(clean_text(code), titre, values, tables)
