"""Workbooks of a revue (issue 10): the référent's prefilled from the previous revue, the
pilote's, the coordonnateur's and the relevé de décisions, « à confirmer » marks, layout."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cv_excel.config import DossierTravail, write_config
from cv_excel.demo import build_demo
from cv_excel.generation.fingerprint import fingerprint
from cv_excel.generation.generate import (
    BUILTIN_TEMPLATES,
    RevueInconnue,
    RevueRequise,
    contexte_revue,
    generate,
    output_folder,
)
from cv_excel.generation.gouvernance import (
    coordonnateurs,
    pilotes,
    plan_coordonnateur,
    plan_pilote,
    plan_releve,
)
from cv_excel.generation.plan import (
    AUCUNE_A_CONFIRMER,
    PAS_DE_BILAN,
    RETOUR_MANQUANT,
    ContexteRevue,
    plan_referent,
)
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.models import Programmation
from cv_excel.reader import prefilled_values, read_workbook
from cv_excel.referentiel import a_confirmer
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import COORDONNATEUR, PILOTE, REFERENT, RELEVE, SPECS
from cv_excel.store.models import (
    DecisionSuivie,
    DonneesAnnee,
    EtatPiste,
    SerieIndicateur,
    SuiviObjectif,
    SyntheseNiveau,
    ValeurIndicateur,
)
from tests.libreoffice import convert_many

NOW = dt.datetime(2019, 6, 1, 9, 0, tzinfo=dt.UTC)
RECU = "2019-06-03T10:15:00+02:00"  # « reçu le 03/06/2019 »


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("gouvernance") / "demo"
    build_demo(root)
    # The default calendar (no dates in cv_excel.toml): revues on the 15th, « indicative ».
    write_config(root, annee=2019)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    return work, ref, prog


@pytest.fixture(scope="module")
def templates():
    return {kind: prepare(BUILTIN_TEMPLATES / spec.modele, spec) for kind, spec in SPECS.items()}


def _render(tmp_path, templates, plan, name="classeur.xlsx"):
    rendu = render(templates[plan.spec.kind], plan, "id-test", NOW)
    out = tmp_path / name
    out.write_bytes(rendu.data)
    lu = read_workbook(out, plan.spec)
    assert not lu.missing
    assert fingerprint(prefilled_values(lu)) == rendu.empreinte  # read back as written
    return out, lu


def _values(section):
    return {k: v.value for k, v in section.values.items()}


def _rows(section, table):
    """The table's rows that hold something, as plain dicts."""
    rows = [{k: v.value for k, v in row.items()} for row in section.tables[table]]
    return [r for r in rows if any(v not in (None, "") for v in r.values())]


def _suivi(code, referent_id, revue=1, **kw):
    fields = {"avancement": None, "actions_realisees": None, "actions_en_cours": None,
              "resultats": None, "difficultes": None, "propositions": None}
    fields.update(kw)
    return SuiviObjectif(code=code, referent_id=referent_id, submission_id=1,
                         fichier="retour.xlsx", recu_le=RECU, revue=revue, **fields)


def _synthese(niveau, code, auteur_id, revue=2, **kw):
    fields = {"avancement": None, "rag": None, "synthese": None, "difficultes": None,
              "propositions": None}
    fields.update(kw)
    return SyntheseNiveau(niveau=niveau, code=code, auteur_id=auteur_id, revue=revue,
                          submission_id=2, fichier="synthese.xlsx", recu_le=RECU, **fields)


def _decision(numero, code, statut="Ouverte", pilier=None, **kw):
    fields = {"type": "Arbitrage", "responsable": "Direction politique de la ville",
              "echeance": dt.date(2019, 9, 30), "commentaire": None}
    fields.update(kw)
    return DecisionSuivie(numero=numero, pilier=pilier or code[0], code=code,
                          decision=f"Décision {numero}", statut=statut, ouverte_annee=2019,
                          ouverte_revue=1, maj_annee=2019, maj_revue=1, **fields)


def _indicateur(rang, libelle, propose=False, **kw):
    fields = {"type": None, "valeur_cible": None, "valeur_precedente": None,
              "valeur_annee": None, "source": None, "commentaire": None}
    fields.update(kw)
    return ValeurIndicateur(rang=rang, libelle=libelle, propose=propose, **fields)


# --- « à confirmer » ---------------------------------------------------------------------------
def test_inferred_people_and_indicators_come_from_the_referentiel_decisions(demo):
    _, ref, _ = demo
    assert a_confirmer.pilote_a_confirmer(ref, "C21") and a_confirmer.pilote_a_confirmer(ref,
                                                                                         "T12")
    assert not a_confirmer.pilote_a_confirmer(ref, "C22")
    assert a_confirmer.responsable_a_confirmer(ref, "A")
    assert a_confirmer.responsable_a_confirmer(ref, "T")
    assert not a_confirmer.responsable_a_confirmer(ref, "B")
    assert a_confirmer.indicateurs_a_confirmer(ref, "A213")
    assert a_confirmer.indicateurs_a_confirmer(ref, "C213")
    assert not a_confirmer.indicateurs_a_confirmer(ref, "A111")
    assert a_confirmer.notes_a_confirmer(ref, "C211").startswith(
        "Pilote de C21 : repris du coordonnateur de C2 (décision D05 du référentiel), "
        "à confirmer.")
    # The Direction confirms D05 (the decision leaves the référentiel): no mark any more.
    confirmed = ref.model_copy(update={"decisions": [d for d in ref.decisions
                                                     if d.id != "D05"]})
    assert not a_confirmer.pilote_a_confirmer(confirmed, "C21")
    assert not a_confirmer.responsable_a_confirmer(confirmed, "T")
    assert a_confirmer.responsable_a_confirmer(confirmed, "A")  # D06 still there


def _referent_of(ref, code):
    return ref.referent(ref.objectif(code).referents[0])


def _section(lu, code):
    return next(s for s in lu.sections if s.values["obj_code"].value == code)


def test_a_confirmer_marks_in_the_referent_workbook(demo, templates, tmp_path):
    work, ref, prog = demo
    revue = work.config.revues.get(2019, 1)
    for code, pilote, responsable in (("C211", True, False), ("T121", True, True),
                                      ("A111", False, True)):
        referent = _referent_of(ref, code)
        plan = plan_referent(referent, ref, prog, work.config, 2019, ContexteRevue(), revue)
        _, lu = _render(tmp_path, templates, plan, f"{code}.xlsx")
        values = _values(_section(lu, code))
        chaine = values["obj_chaine"]
        os_code = ref.objectif(code).objectif_strategique
        pil = ref.referent(next(s for s in ref.objectifs_strategiques
                                if s.code == os_code).pilotes[0]).libelle
        assert (f"Pilote : {pil} (à confirmer)" in chaine) is pilote, chaine
        assert chaine.endswith("(à confirmer)") is responsable, chaine
        assert "(décision D0" in values["obj_a_confirmer"]
        roles = lu.single["referent"].values["ref_roles"].value
        assert f"Référent {code}" in roles or f", {code}" in roles
        if referent.id in next(s for s in ref.objectifs_strategiques if s.code == "C21").pilotes:
            assert "(C21 à confirmer)" in roles
    roles = lu.single["referent"].values["ref_roles"].value  # A111's référent: no inferred role
    assert "confirmer" not in roles
    # A213: the generic indicator (D12) is marked where its target is shown.
    plan = plan_referent(_referent_of(ref, "A213"), ref, prog, work.config, 2019,
                         ContexteRevue(), revue)
    _, lu = _render(tmp_path, templates, plan, "A213.xlsx")
    section = _section(lu, "A213")
    assert _rows(section, "obj_indicateurs")[0]["cible_fiche"] == "Non fixée (à confirmer)"
    assert "décision D12" in section.values["obj_a_confirmer"].value


def test_a_fully_contractual_fiche_has_no_a_confirmer(demo, templates, tmp_path):
    work, ref, prog = demo
    code = "B111"
    assert not a_confirmer.notes_a_confirmer(ref, code)
    plan = plan_referent(_referent_of(ref, code), ref, prog, work.config, 2019,
                         ContexteRevue(), work.config.revues.get(2019, 1))
    _, lu = _render(tmp_path, templates, plan)
    section = _section(lu, code)
    assert section.values["obj_a_confirmer"].value == AUCUNE_A_CONFIRMER
    texts = [v for k, v in prefilled_values(lu).items() if k.startswith(section.titre + "|")]
    assert texts and not any("confirmer" in str(v) for v in texts
                             if v != AUCUNE_A_CONFIRMER)


# --- référent at revue 2 -----------------------------------------------------------------------
def _revue1_context(work, ref, code, referent_id):
    oo = ref.objectif(code)
    ind = oo.indicateurs
    pistes = [EtatPiste(1, oo.pistes_action[1], "Engagée", "Deux ateliers tenus"),
              EtatPiste(2, "Une piste qui n'est plus dans la fiche", "Réalisée", None)]
    indicateurs = [
        _indicateur(1, ind[0].libelle, type="Impact", unite="personnes",
                    valeur_reference="120", annee_reference=2018, valeur_cible="200",
                    valeur_annee="150.5", panier="Conservé", source="CCAS"),
        _indicateur(2, ind[1].libelle, type="Résultat", panier="Abandonné",
                    valeur_annee="3"),
        _indicateur(1, "Nombre de participants aux ateliers santé", propose=True,
                    type="Résultat", unite="personnes", valeur_cible="80",
                    valeur_annee="25", source="Centre social"),
    ]
    suivi = _suivi(code, referent_id, avancement="En cours",
                   actions_realisees="Ateliers de prévention", actions_en_cours="Bus santé",
                   resultats="150 personnes accompagnées", difficultes="Recrutement",
                   propositions="Renforcer le bus santé", indicateurs=indicateurs,
                   pistes=pistes)
    return ContexteRevue(precedente=work.config.revues.get(2019, 1),
                         suivis_precedents={(code, referent_id): suivi})


def test_revue_2_workbook_proposes_the_revue_1_answers(demo, templates, tmp_path):
    work, ref, prog = demo
    code = "A111"
    oo = ref.objectif(code)
    referent = _referent_of(ref, code)
    ctx = _revue1_context(work, ref, code, referent.id)
    revue = work.config.revues.get(2019, 2)
    plan = plan_referent(referent, ref, prog, work.config, 2019, ctx, revue)
    assert plan.file_stem == f"2019 - Revue 2 - Suivi - {referent.libelle}"
    assert plan.revue == 2
    path, lu = _render(tmp_path, templates, plan)
    section = _section(lu, code)
    values = _values(section)
    assert values["obj_avancement"] == "En cours"
    assert values["obj_actions_realisees"] == "Ateliers de prévention"
    assert values["obj_actions_en_cours"] == "Bus santé"
    assert values["obj_resultats"] == "150 personnes accompagnées"
    assert values["obj_difficultes"] == "Recrutement"
    assert values["obj_propositions"] == "Renforcer le bus santé"
    assert values["obj_revue"] == revue.libelle
    assert values["obj_precedent"] == ("Revue 1 du 15/03/2019 : vos réponses sont reprises, "
                                       "mettez-les à jour.")
    assert values["obj_diagnostic"] == oo.justification
    assert values["obj_partenaires"].startswith("• " + oo.partenariats[0] + "\n• ")
    assert values["obj_modalites"] == oo.modalites
    assert values["obj_role_ville"].startswith("• " + oo.role_ville[0])
    # Pistes: one row per piste of the fiche, the state carried by libellé.
    pistes = _rows(section, "obj_pistes")
    assert [p["libelle"] for p in pistes] == oo.pistes_action
    assert (pistes[1]["etat"], pistes[1]["commentaire"]) == ("Engagée", "Deux ateliers tenus")
    assert pistes[0]["etat"] is None and pistes[2]["etat"] is None
    # Indicators: the fiche's, then the one proposed at revue 1, in the basket.
    rows = _rows(section, "obj_indicateurs")
    assert [r["libelle"] for r in rows] == [i.libelle for i in oo.indicateurs] + [
        "Nombre de participants aux ateliers santé"]
    first, second, propose = rows[0], rows[1], rows[-1]
    assert (first["unite"], first["valeur_reference"], first["annee_reference"],
            first["valeur_cible"], first["panier"], first["source"]) == (
        "personnes", 120, 2018, 200, "Conservé", "CCAS")
    assert first["valeur_precedente"] == "150,5 personnes (revue 1 du 15/03/2019)"
    assert first["valeur_annee"] is None  # this revue's value: to type
    assert second["panier"] == "Abandonné"  # a dropped indicator keeps its basket
    assert rows[2]["panier"] == "Conservé"  # default for the fiche's indicators
    assert propose["type"] == "Résultat (proposé)"
    assert (propose["valeur_cible"], propose["unite"], propose["source"]) == (
        80, "personnes", "Centre social")
    assert propose["panier"] is None
    # The proposed values are inputs (typed cells), not locked text.
    ws = load_workbook(path)[section.titre]
    for name in ("obj_avancement", "obj_resultats"):
        assert not ws[section.values[name].cell].protection.locked
    assert not ws[section.tables["obj_indicateurs"][0]["panier"].cell].protection.locked
    assert ws[section.tables["obj_indicateurs"][0]["valeur_precedente"].cell].protection.locked
    # An objective the référent did not answer at revue 1: nothing proposed.
    other = [s for s in lu.sections if s.values["obj_code"].value != code]
    for s in other:
        assert s.values["obj_avancement"].value is None
        assert s.values["obj_precedent"].value.startswith("Revue 1 du 15/03/2019 : pas de")


def test_first_revue_and_annual_follow_up_say_so(demo):
    work, ref, prog = demo
    referent = _referent_of(ref, "B111")
    first = plan_referent(referent, ref, prog, work.config, 2019, ContexteRevue(
        precedente=work.config.revues.get(2018, 3)), work.config.revues.get(2019, 1))
    assert first.sections[0].values["obj_precedent"] == "Première revue : rien à reprendre."
    assert "obj_avancement" not in first.sections[0].values
    second = plan_referent(referent, ref, prog, work.config, 2019, ContexteRevue(
        precedente=work.config.revues.get(2019, 1)), work.config.revues.get(2019, 2))
    assert second.sections[0].values["obj_precedent"] == (
        "Revue 1 du 15/03/2019 : pas de réponse de votre part, rien à reprendre.")
    annual = plan_referent(referent, ref, prog, work.config, 2019)
    assert annual.revue is None and annual.file_stem == f"2019 - Suivi - {referent.libelle}"
    assert annual.sections[0].values["obj_revue"] == "Suivi annuel"


def test_actions_show_the_bilans_so_far_and_open_decisions_of_the_path(demo, templates,
                                                                         tmp_path):
    work, ref, prog = demo
    by_oo = prog.actions_by_objectif()
    code = next(c for c, actions in by_oo.items() if len(actions) >= 2 and c.startswith("A"))
    referent = _referent_of(ref, code)
    first, *others = by_oo[code]
    decisions = [_decision("A-2019-R1-01", "A"), _decision("A-2019-R1-02", code[:3]),
                 _decision("A-2019-R1-03", code, statut="En cours"),
                 _decision("A-2019-R1-04", code, statut="Réalisée"),
                 _decision("A-2019-R1-05", "A9"),
                 _decision("B-2019-R1-01", "B1")]
    ctx = ContexteRevue(bilans={first.numero: ("En cours", None)}, decisions=decisions)
    plan = plan_referent(referent, ref, prog, work.config, 2019, ctx,
                         work.config.revues.get(2019, 2))
    _, lu = _render(tmp_path, templates, plan)
    section = _section(lu, code)
    realisations = {r["numero"]: r["realisation"] for r in _rows(section, "obj_actions")}
    assert realisations[first.numero] == "En cours"
    assert {realisations[a.numero] for a in others} == {PAS_DE_BILAN}
    rows = _rows(section, "obj_decisions")
    assert [r["numero"] for r in rows] == ["A-2019-R1-01", "A-2019-R1-02", "A-2019-R1-03"]
    assert rows[0]["responsable"] == "Direction politique de la ville"
    assert rows[2]["statut"] == "En cours"


# --- pilote, coordonnateur, relevé -------------------------------------------------------------
def _pairs(ref, os_code):
    return [(oo.code, rid) for oo in ref.operationnels_of(os_code) for rid in oo.referents]


def test_pilote_workbook_shows_a_missing_return_and_the_others(demo, templates, tmp_path):
    work, ref, prog = demo
    os_code = max(ref.objectifs_strategiques, key=lambda s: len(_pairs(ref, s.code))).code
    pairs = _pairs(ref, os_code)
    assert len(pairs) >= 3
    missing = pairs[1]
    pilote_id = next(s for s in ref.objectifs_strategiques if s.code == os_code).pilotes[0]
    suivis = {p: _suivi(*p, revue=2, avancement="Avancé", resultats=f"Résultats {p[0]}",
                        difficultes="Peu de locaux", propositions=f"Proposition {p[0]}")
              for p in pairs if p != missing}
    previous = _synthese("strategique", os_code, pilote_id, revue=1, avancement="Engagé",
                         rag="Orange", synthese="Démarrage", difficultes="Locaux",
                         propositions="Trouver des locaux")
    ctx = ContexteRevue(suivis=suivis, syntheses_precedentes={(os_code, pilote_id): previous},
                        decisions=[_decision("X-1", os_code + "1"), _decision("X-2", "A")])
    revue = work.config.revues.get(2019, 2)
    plan = plan_pilote(pilote_id, ref, prog, work.config, 2019, revue, ctx)
    assert plan.destinataire_id == pilote_id and plan.revue == 2
    _, lu = _render(tmp_path, templates, plan)
    assert lu.meta["meta_type"] == "pilote"
    section = next(s for s in lu.sections if s.values["os_code"].value == os_code)
    values = _values(section)
    assert values["os_retours"] == (f"{len(pairs) - 1} retours sur {len(pairs)} attendus "
                                    f"({len(ref.operationnels_of(os_code))} objectifs "
                                    "opérationnels)")
    assert (values["os_avancement"], values["os_rag"], values["os_synthese"]) == (
        "Engagé", "Orange", "Démarrage")  # last revue's synthesis, to update
    rows = _rows(section, "os_referents")
    assert [(r["code"], r["referent"]) for r in rows] == [
        (c, ref.referent(r).libelle) for c, r in pairs]
    by_pair = dict(zip(pairs, rows, strict=True))
    assert by_pair[missing]["retour"] == RETOUR_MANQUANT
    assert by_pair[missing]["avancement"] in (None, "")
    for pair in pairs:
        if pair != missing:
            assert by_pair[pair]["retour"] == "reçu le 03/06/2019"
            assert by_pair[pair]["resultats"] == f"Résultats {pair[0]}"
            assert by_pair[pair]["propositions"] == f"Proposition {pair[0]}"
    decisions = _rows(section, "os_decisions")
    assert [d["numero"] for d in decisions] == (["X-1"] if os_code.startswith("A") else [])


def test_pilote_of_an_inferred_objective_is_marked(demo, templates, tmp_path):
    work, ref, prog = demo
    os_ = next(s for s in ref.objectifs_strategiques if s.code == "T12")
    plan = plan_pilote(os_.pilotes[0], ref, prog, work.config, 2019,
                       work.config.revues.get(2019, 1), ContexteRevue())
    _, lu = _render(tmp_path, templates, plan)
    section = next(s for s in lu.sections if s.values["os_code"].value == "T12")
    chaine = section.values["os_chaine"].value
    assert chaine.startswith(f"Pilote : {ref.referent(os_.pilotes[0]).libelle} (à confirmer)")
    assert chaine.endswith("(à confirmer)")  # responsable of T (D05)
    assert section.values["os_avancement"].value is None  # no earlier synthesis
    assert "Pilote T12 (T12 à confirmer)" in lu.single["pilote"].values["pil_roles"].value


def test_coordonnateur_workbook_with_a_missing_pilote_still_lists_the_objectives(
        demo, templates, tmp_path):
    work, ref, prog = demo
    ori = max(ref.orientations, key=lambda o: len(ref.strategiques_of(o.code)))
    strategiques = ref.strategiques_of(ori.code)
    assert len(strategiques) >= 2
    received = strategiques[0]
    pairs = [p for s in strategiques for p in _pairs(ref, s.code)]
    suivis = {p: _suivi(*p, revue=2, avancement="Engagé", difficultes=f"Difficulté {p[0]}")
              for p in pairs[::2]}
    synthese = _synthese("strategique", received.code, received.pilotes[0], rag="Vert",
                         avancement="Avancé", synthese="Tout va bien")
    coord = ori.coordonnateurs[0]
    ctx = ContexteRevue(suivis=suivis, syntheses={(received.code, received.pilotes[0]):
                                                  synthese})
    plan = plan_coordonnateur(coord, ref, prog, work.config, 2019,
                              work.config.revues.get(2019, 2), ctx)
    _, lu = _render(tmp_path, templates, plan)
    assert lu.meta["meta_type"] == "coordonnateur"
    section = next(s for s in lu.sections if s.values["ori_code"].value == ori.code)
    assert section.values["ori_retours"].value == (
        f"1 synthèse sur {len(strategiques)} attendues ({len(strategiques)} objectifs "
        "stratégiques)")
    rows = _rows(section, "ori_strategiques")
    assert [r["code"] for r in rows] == [s.code for s in strategiques]
    assert (rows[0]["retour"], rows[0]["rag"], rows[0]["synthese"]) == (
        "reçu le 03/06/2019", "Vert", "Tout va bien")
    assert {r["retour"] for r in rows[1:]} == {RETOUR_MANQUANT}
    operationnels = _rows(section, "ori_operationnels")
    assert [(r["code"], r["referent"]) for r in operationnels] == [
        (c, ref.referent(r).libelle) for c, r in pairs]
    for pair, row in zip(pairs, operationnels, strict=True):
        if pair in suivis:
            assert (row["avancement"], row["difficultes"]) == ("Engagé", f"Difficulté {pair[0]}")
        else:
            assert row["retour"] == RETOUR_MANQUANT


def test_releve_recalls_open_decisions_and_collects_the_proposals(demo, templates, tmp_path):
    work, ref, _ = demo
    revue = work.config.revues.get(2019, 2)
    oo, oo2 = ref.operationnels_of("A11")[:2]
    os_ = next(s for s in ref.objectifs_strategiques if s.code == "A11")
    ori = next(o for o in ref.orientations if o.code == "A1")
    ctx = ContexteRevue(
        suivis={(oo.code, oo.referents[0]): _suivi(oo.code, oo.referents[0], revue=2,
                                                   propositions="Un médecin de plus"),
                (oo2.code, oo2.referents[0]): _suivi(oo2.code, oo2.referents[0], revue=2,
                                                     propositions="   ")},
        syntheses={("A11", os_.pilotes[0]): _synthese("strategique", "A11", os_.pilotes[0],
                                                      propositions="Arbitrer le budget"),
                   ("A1", ori.coordonnateurs[0]): _synthese(
                       "orientation", "A1", ori.coordonnateurs[0], propositions="Recruter")},
        decisions=[_decision("A-2019-R1-01", "A11", commentaire="Devis demandé"),
                   _decision("A-2019-R1-02", "A1", statut="Réalisée"),
                   _decision("B-2019-R1-01", "B1")])
    plan = plan_releve("A", ref, work.config, 2019, revue, ctx)
    assert (plan.destinataire_id, plan.destinataire) == ("pilier-A",
                                                         "Relevé de décisions — Pilier A")
    assert plan.file_stem == "2019 - Revue 2 - Relevé de décisions - Pilier A"
    path, lu = _render(tmp_path, templates, plan)
    assert lu.meta["meta_type"] == "decisions" and lu.meta["meta_revue"] == 2
    releve = {k: v.value for k, v in lu.single["releve"].values.items()}
    assert releve["rel_date_prevue"] == "15/06/2019 (indicative)"
    assert releve["rel_responsable"].endswith("(à confirmer)")  # D06
    assert releve["rel_revue"] == revue.libelle
    [section] = lu.sections
    assert section.values["dec_pilier"].value.startswith("A — ")
    propositions = _rows(section, "dec_propositions")
    assert [(p["niveau"], p["code"], p["proposition"]) for p in propositions] == [
        ("Orientation", "A1", "Recruter"), ("Objectif stratégique", "A11", "Arbitrer le budget"),
        ("Objectif opérationnel", oo.code, "Un médecin de plus")]
    assert propositions[0]["auteur"] == (f"{ref.referent(ori.coordonnateurs[0]).libelle} "
                                         "(coordonnateur)")
    suivi = _rows(section, "dec_suivi")
    assert [d["numero"] for d in suivi] == ["A-2019-R1-01"]  # not the closed one, nor B's
    assert (suivi[0]["responsable"], suivi[0]["statut"], suivi[0]["commentaire"]) == (
        "Direction politique de la ville", "Ouverte", "Devis demandé")
    assert suivi[0]["echeance"] == dt.date(2019, 9, 30)
    ws = load_workbook(path)[section.titre]
    cell = section.tables["dec_suivi"][0]
    assert ws[cell["numero"].cell].protection.locked
    assert not ws[cell["statut"].cell].protection.locked  # the follow-up is typed


# --- generate(): folders, register, metadata, errors -------------------------------------------
def _fresh(demo, tmp_path):
    import shutil

    work = demo[0]
    root = tmp_path / "dossier"
    shutil.copytree(work.root, root)
    return DossierTravail.open(root)


def test_revue_workbooks_are_written_under_revue_n(demo, tmp_path):
    _, ref, prog = demo
    work = _fresh(demo, tmp_path)
    kinds = ("referent", "pilote", "coordonnateur", "decisions")
    result = generate(work, ref, prog, 2019, kinds=kinds, now=NOW, revue=2)
    assert not result.echecs and result.revue == 2
    base = output_folder(work, 2019) / "Revue 2"
    expected = {"referent": ("Référents", len([r for r in ref.referents
                                               if ref.objectifs_of_referent(r.id)])),
                "pilote": ("Pilotes", len(pilotes(ref))),
                "coordonnateur": ("Coordonnateurs", len(coordonnateurs(ref))),
                "decisions": ("Relevés de décisions", len(ref.piliers))}
    for kind, (folder, count) in expected.items():
        entries = result.of_type(kind)
        assert len(entries) == count, kind
        assert sorted((base / folder).glob("*.xlsx")) == sorted(
            work.root / e.fichier for e in entries)
        for entry in entries:
            assert entry.revue == 2
            assert entry.fichier.split("/")[-1].startswith("2019 - Revue 2 - ")
        lu = read_workbook(work.root / entries[0].fichier, SPECS[kind])
        assert (lu.meta["meta_type"], lu.meta["meta_revue"]) == (kind, 2)
        assert lu.meta["meta_destinataire_id"] == entries[0].destinataire_id
    assert {e.destinataire_id for e in result.of_type("decisions")} == {
        f"pilier-{p.code}" for p in ref.piliers}
    registre = json.loads((output_folder(work, 2019) / "registre.json").read_text("utf-8"))
    assert {e["revue"] for e in registre} == {2}
    assert len(registre) == len(result.classeurs)
    # The annual follow-up keeps its folder and has no revue.
    annual = generate(work, ref, prog, 2019, kinds=("referent",), now=NOW)
    entry = annual.of_type("referent")[0]
    assert entry.fichier.startswith("classeurs/2019/Référents/") and entry.revue is None
    assert read_workbook(work.root / entry.fichier, REFERENT).meta["meta_revue"] in (None, "")


def test_unknown_revue_and_revue_kinds_without_revue_are_refused(demo, tmp_path):
    _, ref, prog = demo
    work = _fresh(demo, tmp_path)
    with pytest.raises(RevueInconnue, match="La revue 4 n'existe pas en 2019"):
        generate(work, ref, prog, 2019, kinds=("referent",), revue=4)
    with pytest.raises(ValueError, match="revue de projet"):
        generate(work, ref, prog, 2019, kinds=("referent", "pilote"))
    with pytest.raises(RevueRequise, match="relevé de décisions"):
        generate(work, ref, prog, 2019, kinds=("decisions",))
    assert not output_folder(work, 2019).exists()  # refused before writing anything


def test_context_of_a_revue_reads_this_revue_and_the_previous_one(demo, tmp_path,
                                                                   monkeypatch):
    import cv_excel.store.queries as queries
    from cv_excel.store.db import default_store_path, open_store

    work = _fresh(demo, tmp_path)
    with open_store(default_store_path(work)):
        pass
    calls = []
    closed = _decision("A-2019-R1-02", "A1", statut="Réalisée")
    opened = _decision("A-2019-R1-01", "A11")
    late = _decision("A-2019-R2-01", "A12")  # decided at revue 2: not yet in its workbooks
    serie = SerieIndicateur(code="A111", libelle="Taux", unite="%", valeur_reference=None,
                            annee_reference=None, valeur_cible=None,
                            valeurs={2018: Decimal("12.5"), 2019: Decimal("14.0")}, panier=None,
                            propose=False)

    def fake_load_year(store, contrat, annee, revue=None):
        calls.append((annee, revue))
        data = DonneesAnnee(contrat, annee, [], {}, {}, [], revue=revue)
        if revue == 1:
            data.suivis = {"A111": [_suivi("A111", "r1", revue=1, avancement="Engagé")]}
            data.syntheses = {"A11": [_synthese("strategique", "A11", "p1", revue=1)]}
            data.decisions = [opened, closed]
            data.series = [serie]
        elif revue is None and annee == 2019:
            data.series = [serie]
        elif revue == 2:
            data.suivis = {"A111": [_suivi("A111", "r1", revue=2, avancement="Avancé")]}
            data.decisions = [opened, closed, late]
            data.series = [replace(serie, valeurs={**serie.valeurs, 2019: Decimal(99)})]
        return data

    monkeypatch.setattr(queries, "load_year", fake_load_year)
    ctx = contexte_revue(work, 2019, 2)
    assert calls == [(2019, 2), (2019, 1)]
    assert ctx.precedente == work.config.revues.get(2019, 1)
    assert ctx.suivis_precedents[("A111", "r1")].avancement == "Engagé"
    assert ctx.suivis[("A111", "r1")].avancement == "Avancé"
    assert ("A11", "p1") in ctx.syntheses_precedentes
    assert ctx.decisions == [opened]  # open before revue 2, as relevé 1 left them
    # The last value known before revue 2: revue 1's, not one declared at revue 2.
    assert ctx.precedents[("A111", "Taux")] == "14 % (2019)"
    calls.clear()
    ctx = contexte_revue(work, 2019, 1)
    assert calls == [(2019, 1), (2018, 3)]  # revue 1 follows the last revue of the year before
    calls.clear()
    ctx = contexte_revue(work, 2019, None)  # annual follow-up: the year, and the one before
    assert calls == [(2019, None), (2018, None)]
    assert ctx.precedente is None and not ctx.suivis_precedents
    assert ctx.precedents[("A111", "Taux")] == "12,5 % (2018)"  # years before 2019 only


def test_governance_workbooks_open_in_libreoffice(demo, templates, tmp_path):
    work, ref, prog = demo
    revue = work.config.revues.get(2019, 2)
    plans = [plan_pilote(pilotes(ref)[0], ref, prog, work.config, 2019, revue),
             plan_coordonnateur(coordonnateurs(ref)[0], ref, prog, work.config, 2019, revue),
             plan_releve("A", ref, work.config, 2019, revue, ContexteRevue(
                 decisions=[_decision("A-2019-R1-01", "A11")]))]
    paths = [_render(tmp_path, templates, p, f"{p.spec.kind}.xlsx")[0] for p in plans]
    for pdf in convert_many(paths, tmp_path / "pdf"):
        assert pdf.stat().st_size > 0


def test_real_contract_fits_the_templates(demo):
    """The built-in capacities hold the real référentiel's largest levels."""
    _, ref, _ = demo
    capacity = {t.name: t.min_capacite for spec in (REFERENT, PILOTE, COORDONNATEUR, RELEVE)
                for t in spec.section.tableaux}
    assert max(len(o.pistes_action) for o in ref.objectifs_operationnels) <= \
        capacity["obj_pistes"]
    assert max(len(o.indicateurs) for o in ref.objectifs_operationnels) <= \
        capacity["obj_indicateurs"]
    assert max(len(_pairs(ref, s.code)) for s in ref.objectifs_strategiques) <= \
        capacity["os_referents"]
    assert max(len(ref.strategiques_of(o.code)) for o in ref.orientations) <= \
        capacity["ori_strategiques"]
    assert max(sum(len(_pairs(ref, s.code)) for s in ref.strategiques_of(o.code))
               for o in ref.orientations) <= capacity["ori_operationnels"]
    for pilier in ref.piliers:  # every author of the pilier proposing something
        authors = 0
        for o in ref.orientations_of(pilier.code):
            authors += len(o.coordonnateurs)
            for s in ref.strategiques_of(o.code):
                authors += len(s.pilotes) + len(_pairs(ref, s.code))
        assert authors <= capacity["dec_propositions"], pilier.code


def test_an_empty_programmation_still_gives_governance_workbooks(demo, templates, tmp_path):
    work, ref, _ = demo
    revue = work.config.revues.get(2019, 1)
    plan = plan_pilote(pilotes(ref)[0], ref, Programmation(), work.config, 2019, revue)
    _, lu = _render(tmp_path, templates, plan)
    assert all(s.values["os_nb_actions"].value == 0 for s in lu.sections)
