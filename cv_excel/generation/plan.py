"""What goes into each workbook: a fill plan per porteur and per référent (the
governance kinds are in :mod:`cv_excel.generation.gouvernance`).

A plan is plain data (values by defined name, table rows, one section per
action or objective); building it knows the contract and the programmation
but nothing of Excel, and rendering it knows Excel but nothing of the contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cv_excel.config import Configuration, Revue
from cv_excel.listes import AVANCEMENT, ETATS_PISTE, FINANCEURS, PALIERS, PANIER
from cv_excel.programmation.models import Action, Porteur, ProgrammationLue
from cv_excel.programmation.validators import parse_number
from cv_excel.referentiel import a_confirmer
from cv_excel.referentiel.models import (
    ObjectifOperationnel,
    ObjectifStrategique,
    Orientation,
    Pilier,
    Referent,
    Referentiel,
)
from cv_excel.spec import PORTEUR, REFERENT, ClasseurSpec
from cv_excel.spec.budget import LIGNE_DU_FINANCEUR, LIGNES_PREREMPLIES, ligne_du_financeur
from cv_excel.store.models import DecisionSuivie, SuiviObjectif, SyntheseNiveau, ValeurIndicateur
from cv_excel.text import (
    EXCEL_SHEET_MAX,
    canonical_choice,
    clean_text,
    clip_utf16,
    match_key,
    sheet_title,
    utf16_len,
)

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
    revue: int | None = None  # the revue's number (meta_revue); None: annual


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


def lisez_moi(titre: str, destinataire: str, annee: int, config: Configuration,
              contenu: str, echeance: str | None = None) -> dict[str, Any]:
    """The values of the « Lisez-moi » sheet; ``echeance`` defaults to the annual one."""
    return {"lm_titre": titre, "lm_destinataire": destinataire, "lm_annee": annee,
            "lm_echeance": echeance or config.echeance_retours, "lm_contact": _contact(config),
            "lm_contenu": contenu}


def echeance_revue(revue: Revue, apres: bool = False) -> str:
    """« Avant la revue 2 du 15/06/2019 » (« Après … » for a relevé de décisions)."""
    return f"{'Après' if apres else 'Avant'} la revue {revue.numero} du {date_fr(revue.date)}"


# --- porteur ----------------------------------------------------------------------------------
def plan_porteur(porteur: Porteur, actions: list[Action], ref: Referentiel,
                 config: Configuration, annee: int) -> FillPlan:
    plan = FillPlan(PORTEUR, annee, config.contrat, porteur.id,
                    clean_text(porteur.raison_sociale),
                    f"{annee} - Bilan - {clean_text(porteur.raison_sociale, limit=None)}")
    contenu = "Ce classeur contient une feuille par action financée en {} :\n{}".format(
        annee, "\n".join(f"• {a.numero} — {a.intitule}" for a in actions))
    plan.values["lisez_moi"] = lisez_moi(
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
class ContexteRevue:
    """What the store brings to the workbooks of a revue (or of the annual follow-up).

    Built from the store by :func:`cv_excel.generation.generate.contexte_revue`; the plan
    functions only read it, so tests build it by hand.
    """

    # The year's porteur bilans: action numéro -> (réalisation, note EPT).
    bilans: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    # Last value of an indicator known before this revue (every référent, from the series),
    # as text with its unit and year: (code, libellé) -> « 14 % (2019) ».
    precedents: dict[tuple[str, str], str] = field(default_factory=dict)
    # The previous revue (None: annual follow-up, or no revue configured before).
    precedente: Revue | None = None
    # Its returns: (code OO, référent id) -> suivi; (code OS / orientation, auteur id) -> synthèse.
    suivis_precedents: dict[tuple[str, str], SuiviObjectif] = field(default_factory=dict)
    syntheses_precedentes: dict[tuple[str, str], SyntheseNiveau] = field(default_factory=dict)
    # The returns of this revue (what pilotes, coordonnateurs and the relevé consolidate).
    suivis: dict[tuple[str, str], SuiviObjectif] = field(default_factory=dict)
    syntheses: dict[tuple[str, str], SyntheseNiveau] = field(default_factory=dict)
    # The decisions still open before this revue (state after the previous relevé).
    decisions: list[DecisionSuivie] = field(default_factory=list)

    def suivi_precedent(self, code: str, referent_id: str) -> SuiviObjectif | None:
        return self.suivis_precedents.get((code, referent_id))

    def decisions_ouvertes(self, pilier: str, match: Callable[[str], bool]) -> list[DecisionSuivie]:
        """The open decisions of ``pilier`` whose level code satisfies ``match``."""
        return [d for d in self.decisions
                if d.ouverte and d.pilier == pilier and match(_code(d.code))]


Cascade = ContexteRevue  # the name of issue 9 (demo and older callers)

AUCUNE_A_CONFIRMER = "Aucune : toutes les informations de cette fiche viennent du contrat."
PAS_DE_BILAN = "Pas encore de bilan"
RETOUR_MANQUANT = "retour manquant"


def _code(code: str | None) -> str:
    return "".join((code or "").split()).upper()


def date_fr(value: dt.date | dt.datetime | str | None) -> str:
    """jj/mm/aaaa of a date, a datetime or an ISO text (empty when unknown)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                value = dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                return value
    return value.strftime("%d/%m/%Y") if value is not None else ""


def retour_recu(recu_le: str | None) -> str:
    """« reçu le jj/mm/aaaa » of a stored return."""
    return f"reçu le {date_fr(recu_le)}" if recu_le else "reçu"


def revue_libelle(revue: Revue | None) -> str:
    return revue.libelle if revue is not None else "Suivi annuel"


def revue_courte(revue: Revue) -> str:
    """« Revue 1 du 15/03/2019 »."""
    return f"Revue {revue.numero} du {date_fr(revue.date)}"


def nombre_fr(value: Decimal) -> str:
    """A number the French way, without useless zeros: 12 ; 12,5 ; -0,25."""
    d = value.normalize()
    text = format(d, "f") if d != 0 else "0"
    return text.replace(".", ",")


def decimal_of(value: Any) -> Decimal | None:
    """The number behind a stored decimal text, a typed number or a plain-number text
    (« 12 », « 12,5 »); None for anything else (« la moitié », old free text)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
            return number if number.is_finite() else None
        except InvalidOperation:
            pass
    try:
        return parse_number(value)
    except ValueError:
        return None


def valeur_texte(valeur: Any, unite: str | None) -> str:
    """A value as people read it, with its unit (« 42 personnes »)."""
    number = decimal_of(valeur)
    text = nombre_fr(number) if number is not None else clean_text(str(valeur or "")).strip()
    if text and unite:
        text = f"{text} {clean_text(unite).strip()}"
    return text


def decision_row(d: DecisionSuivie) -> dict[str, Any]:
    """A row of a « Décisions en cours de suivi » table."""
    return {"numero": d.numero, "decision": d.decision, "code": d.code,
            "responsable": d.responsable or "", "echeance": d.echeance, "statut": d.statut}


def chaine(ref: Referentiel, oo: ObjectifOperationnel | None = None, *,
           os_code: str | None = None, ori_code: str | None = None) -> str:
    """« Pilote : … ; coordonnateur : … ; responsable du pilier : … » from the level asked
    up, every inferred person marked « (à confirmer) »."""
    os_code = oo.objectif_strategique if oo is not None else os_code
    parts = []
    if os_code is not None:
        os_ = _strategique(ref, os_code)
        parts.append(f"Pilote : {a_confirmer.pilotes(ref, os_code)}")
        ori_code = os_.orientation
    assert ori_code is not None
    ori = _orientation(ref, ori_code)
    label = "coordonnateur" if parts else "Coordonnateur"
    parts.append(f"{label} : {a_confirmer.coordonnateurs(ref, ori.code)}")
    parts.append(f"responsable du pilier : {a_confirmer.responsables(ref, ori.pilier)}")
    return " ; ".join(parts)


def _strategique(ref: Referentiel, code: str) -> ObjectifStrategique:
    return next(s for s in ref.objectifs_strategiques if s.code == code)


def _orientation(ref: Referentiel, code: str) -> Orientation:
    return next(o for o in ref.orientations if o.code == code)


def _pilier(ref: Referentiel, code: str) -> Pilier:
    return next(p for p in ref.piliers if p.code == code)


def _puces(items: list[str]) -> str:
    items = [i for i in items if i and i.strip()]
    return ("• " + "\n• ".join(items)) if items else ""


def file_stem(annee: int, revue: Revue | None, libelle: str, destinataire: str) -> str:
    """« 2019 - Suivi - X », « 2019 - Revue 2 - Suivi - X »."""
    parts = [str(annee)] + ([f"Revue {revue.numero}"] if revue is not None else [])
    return " - ".join(parts + [libelle, clean_text(destinataire, limit=None)])


def plan_referent(referent: Referent, ref: Referentiel, programmation: ProgrammationLue,
                  config: Configuration, annee: int, cascade: ContexteRevue | None = None,
                  revue: Revue | None = None) -> FillPlan:
    """The référent's workbook: one « Objectif » sheet per objectif opérationnel, the whole
    fiche recalled, the answers of the previous revue proposed in the typed cells."""
    ctx = cascade if cascade is not None else ContexteRevue()
    objectifs = ref.objectifs_of_referent(referent.id)
    plan = FillPlan(REFERENT, annee, config.contrat, referent.id, clean_text(referent.libelle),
                    file_stem(annee, revue, "Suivi", referent.libelle),
                    revue=revue.numero if revue is not None else None)
    liste = "\n".join(f"• {o.code} — {o.titre}" for o in objectifs)
    if revue is None:
        titre = f"Suivi {annee} des objectifs opérationnels — {referent.libelle}"
        contenu = f"Ce classeur contient une feuille par objectif opérationnel suivi :\n{liste}"
    else:
        titre = (f"Revue {revue.numero} de {annee} — suivi des objectifs opérationnels — "
                 f"{referent.libelle}")
        contenu = (f"{revue.libelle}. Ce classeur contient une feuille par objectif "
                   f"opérationnel suivi :\n{liste}\nLes cellules jaunes reprennent vos réponses "
                   "de la revue précédente : mettez-les à jour.")
    plan.values["lisez_moi"] = lisez_moi(
        titre, referent.libelle + (f" ({referent.nom})" if referent.nom else ""), annee, config,
        contenu, echeance=echeance_revue(revue) if revue is not None else None)
    plan.values["referent"] = {
        "ref_libelle": referent.libelle, "ref_nom": referent.nom or "",
        "ref_email": referent.email or "", "ref_roles": a_confirmer.roles(ref, referent.id),
        "ref_nb_objectifs": len(objectifs),
    }
    taken = reserved_titles(REFERENT)
    for oo in objectifs:
        plan.sections.append(_objectif_section(
            oo, ref, programmation.actions_of_objectif(oo.code),
            section_title("Objectif", oo.code, taken), ctx, referent.id, revue))
    return plan


def _names(ref: Referentiel, ids: list[str]) -> str:
    return a_confirmer.noms(ref, ids)


def _precedent(ctx: ContexteRevue, prev: SuiviObjectif | None, revue: Revue | None) -> str:
    """Where the typed cells come from (« Repris de »)."""
    if revue is None:
        return "Suivi annuel : rien n'est repris d'une revue."
    if ctx.precedente is not None and prev is not None:
        return (f"{revue_courte(ctx.precedente)} : vos réponses sont reprises, "
                "mettez-les à jour.")
    if revue.numero == 1 and not ctx.suivis_precedents:
        return "Première revue : rien à reprendre."
    label = revue_courte(ctx.precedente) if ctx.precedente is not None \
        else f"Revue {revue.numero - 1}"
    return f"{label} : pas de réponse de votre part, rien à reprendre."


def _objectif_section(oo: ObjectifOperationnel, ref: Referentiel, actions: list[Action],
                      titre: str, ctx: ContexteRevue, referent_id: str,
                      revue: Revue | None) -> Section:
    code = oo.code
    os_ = _strategique(ref, oo.objectif_strategique)
    ori = _orientation(ref, os_.orientation)
    pil = _pilier(ref, ori.pilier)
    prev = ctx.suivi_precedent(code, referent_id)
    values: dict[str, Any] = {
        "obj_code": oo.code,
        "obj_titre": oo.titre,
        "obj_pilier": f"{pil.code} — {pil.titre}",
        "obj_orientation": f"{ori.code} — {ori.titre}",
        "obj_strategique": f"{os_.code} — {os_.titre}",
        "obj_chaine": chaine(ref, oo),
        "obj_referents": _names(ref, oo.referents),
        "obj_chef_de_file": oo.chef_de_file or "",
        "obj_role_ville": _puces(oo.role_ville),
        "obj_diagnostic": oo.justification,
        "obj_contenu": oo.contenu or "",
        "obj_partenaires": _puces(oo.partenariats),
        "obj_modalites": oo.modalites,
        "obj_a_confirmer": a_confirmer.notes_a_confirmer(ref, code) or AUCUNE_A_CONFIRMER,
        "obj_nb_actions": len(actions),
        "obj_montant_programme": sum((a.montant_accorde_total for a in actions), Decimal(0)),
        "obj_revue": revue_libelle(revue),
        "obj_precedent": _precedent(ctx, prev, revue),
    }
    if prev is not None:
        avancement = canonical_choice(prev.avancement, AVANCEMENT) if prev.avancement else None
        if avancement is not None:
            values["obj_avancement"] = avancement
        for name in ("actions_realisees", "actions_en_cours", "resultats", "difficultes",
                     "propositions"):
            text = getattr(prev, name)
            if text not in (None, ""):
                values[f"obj_{name}"] = text
    tables = {
        "obj_pistes": _pistes(oo, prev),
        "obj_indicateurs": _indicateurs(oo, ref, ctx, prev),
        "obj_actions": [
            {"numero": a.numero, "porteur": a.porteur.raison_sociale, "intitule": a.intitule,
             "montant": a.montant_accorde_total,
             "realisation": _realisation(ctx, a.numero),
             "score": ctx.bilans.get(a.numero, (None, None))[1]}
            for a in actions
        ],
        "obj_decisions": [decision_row(d) for d in ctx.decisions_ouvertes(
            pil.code, lambda c: _code(code).startswith(c))],
    }
    return Section(clean_text(code), titre, values, tables)


def _realisation(ctx: ContexteRevue, numero: str) -> str:
    if numero not in ctx.bilans:
        return PAS_DE_BILAN
    return ctx.bilans[numero][0] or "Non renseignée"


def _pistes(oo: ObjectifOperationnel, prev: SuiviObjectif | None) -> list[dict[str, Any]]:
    before = {match_key(p.libelle): p for p in (prev.pistes if prev else [])}
    rows = []
    for libelle in oo.pistes_action:
        row: dict[str, Any] = {"libelle": libelle}
        old = before.get(match_key(libelle))
        if old is not None:
            etat = canonical_choice(old.etat, ETATS_PISTE) if old.etat else None
            if etat is not None:
                row["etat"] = etat
            if old.commentaire:
                row["commentaire"] = old.commentaire
        rows.append(row)
    return rows


def _type_propose(type_: str | None) -> str:
    label = TYPE_FR.get(type_ or "", type_ or "").strip()
    if label.endswith("(proposé)"):
        return label
    return f"{label} (proposé)" if label else "Proposé"


def _indicateurs(oo: ObjectifOperationnel, ref: Referentiel, ctx: ContexteRevue,
                 prev: SuiviObjectif | None) -> list[dict[str, Any]]:
    """The fiche's indicators, then those proposed at earlier revues, with the previous
    revue's answers proposed (unit, reference, target, basket, source) and the last value
    known."""
    before = {match_key(i.libelle): i for i in (prev.indicateurs if prev else [])}
    generique = a_confirmer.indicateurs_a_confirmer(ref, oo.code)
    rows = []
    fiche = set()
    for ind in oo.indicateurs:
        fiche.add(match_key(ind.libelle))
        old = before.get(match_key(ind.libelle))
        cible = ind.valeur_cible or ""
        if generique:
            cible = (cible or "Non fixée") + a_confirmer.A_CONFIRMER
        row = {"libelle": ind.libelle, "type": TYPE_FR[ind.type], "cible_fiche": cible,
               **_reprise(old, oo.code, ind.libelle, ctx)}
        if row.get("valeur_cible") is None:
            row["valeur_cible"] = decimal_of(ind.valeur_cible)
        row.setdefault("panier", PANIER[0])
        rows.append(row)
    for old in (prev.indicateurs if prev else []):
        key = match_key(old.libelle)
        if key in fiche or not key:
            continue
        fiche.add(key)
        rows.append({"libelle": old.libelle, "type": _type_propose(old.type), "cible_fiche": "",
                     **_reprise(old, oo.code, old.libelle, ctx)})
    return rows


def _reprise(old: ValeurIndicateur | None, code: str, libelle: str,
             ctx: ContexteRevue) -> dict[str, Any]:
    """The typed cells of an indicator row proposed from the previous revue, and the last
    value known (read-only)."""
    row: dict[str, Any] = {}
    last = ""
    if old is not None:
        if old.unite:
            row["unite"] = old.unite
        for name in ("valeur_reference", "valeur_cible"):
            number = decimal_of(getattr(old, name))
            if number is not None:
                row[name] = number
        if old.annee_reference is not None:
            row["annee_reference"] = old.annee_reference
        panier = canonical_choice(old.panier, PANIER) if old.panier else None
        if panier is not None:
            row["panier"] = panier
        if old.source:
            row["source"] = old.source
        if old.valeur_annee not in (None, ""):
            last = valeur_texte(old.valeur_annee, old.unite)
            if ctx.precedente is not None:
                last += f" ({revue_courte(ctx.precedente).lower()})"
    if not last:
        last = ctx.precedents.get((code, libelle)) or next(
            (v for (c, lib), v in ctx.precedents.items()
             if c == code and match_key(lib) == match_key(libelle)), "")
    row["valeur_precedente"] = last or None
    return {k: v for k, v in row.items() if v is not None}
