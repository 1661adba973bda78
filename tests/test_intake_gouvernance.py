"""Intake of the governance workbooks (référent of a revue, pilote, coordonnateur,
relevé de décisions) on real rendered workbooks: the good ones pass every stage, then each
case changes one copy and must give its own code, on the right cell, in French."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.findings import Finding, Severity
from cv_excel.generation.plan import FillPlan, Section
from cv_excel.intake.context import context_for
from cv_excel.intake.run import ACCEPTE, REJETE, check_bytes, valider
from cv_excel.messages import CAUSE_DIRECTION
from cv_excel.spec import SPECS
from tests.revue_classeurs import (
    ANNEE,
    CONTRAT,
    Saisie,
    coordonnateur_plan,
    fill_referent,
    fill_releve,
    fill_synthese,
    pilote_plan,
    referent_plan,
    releve_plan,
    working_folder,
    write_workbook,
)

SUIVI = [
    {"numero": "A-2019-R1-01", "decision": "Ouvrir un second atelier", "code": "A12",
     "responsable": "Direction de la culture", "echeance": dt.date(2019, 6, 30),
     "statut": "Ouverte"},
    {"numero": "A-2019-R1-02", "decision": "Arbitrer le budget", "code": "A",
     "responsable": "DGS", "echeance": dt.date(2019, 12, 31), "statut": "En cours"},
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    work, ref = working_folder(tmp_path_factory.mktemp("gouvernance") / "dossier")
    w = SimpleNamespace(work=work, ref=ref)
    w.referent = write_workbook(work, referent_plan(ref, revue=1), 1)
    w.referent2 = write_workbook(work, referent_plan(ref, revue=2), 2)
    w.annuel = write_workbook(work, referent_plan(ref, revue=None), None)
    w.pilote = write_workbook(work, pilote_plan(ref), 1)
    w.coordonnateur = write_workbook(work, coordonnateur_plan(ref), 1)
    w.releve = write_workbook(work, releve_plan(ref, "A", revue=2, suivi=SUIVI), 2)
    w.pilote_hors = write_workbook(work, pilote_plan(ref, codes=["A11"]), 1)
    w.coordonnateur_hors = write_workbook(work, coordonnateur_plan(ref, codes=["B1"]), 1)
    porteur = FillPlan(spec=SPECS["porteur"], annee=ANNEE, contrat=CONTRAT,
                       destinataire_id="73282932000074", destinataire="Association",
                       file_stem="2019 - Bilan - Association")
    porteur.sections.append(Section("2019-001", "Action 2019-001",
                                    {"act_numero": "2019-001"}, {}))
    w.porteur = write_workbook(work, porteur, None)
    w.ctx = context_for(work, ref)
    return w


FILLS: dict[str, Callable[[Saisie], None]] = {
    "referent": fill_referent, "referent2": fill_referent, "annuel": fill_referent,
    "pilote": fill_synthese, "coordonnateur": fill_synthese,
    "pilote_hors": fill_synthese, "coordonnateur_hors": fill_synthese,
    "releve": lambda b: fill_releve(b, dt.date(2019, 6, 20)), "porteur": lambda b: None,
}


def check(folder, which: str, change: Callable[[Saisie], None] | None = None,
          fill: bool = True) -> list[Finding]:
    classeur = getattr(folder, which)
    book = Saisie(classeur.path, classeur.spec)
    if fill:
        FILLS[which](book)
    if change is not None:
        change(book)
    findings, _, _ = check_bytes(f"{which}.xlsx", book.to_bytes(), folder.ctx)
    return findings


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _is_french(f: Finding) -> None:
    assert f.message and f.hint and f.message[0].isupper() or f.message.startswith("«")
    assert "?" not in f.message and "{" not in f.message + f.hint


# --- should pass --------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["referent", "referent2", "annuel", "pilote",
                                   "coordonnateur", "releve"])
def test_good_governance_workbooks_have_no_finding(folder, which):
    assert [(f.code, f.sheet, f.cell, f.message) for f in check(folder, which)] == []


def test_every_kind_is_identified_by_its_metadata(folder):
    for which in ("referent", "pilote", "coordonnateur", "releve", "porteur"):
        classeur = getattr(folder, which)
        data = classeur.path.read_bytes()
        findings, lu, meta = check_bytes("x.xlsx", data, folder.ctx)
        assert lu is not None and lu.spec is classeur.spec, which
        assert meta["meta_type"] == classeur.spec.kind
        assert not any(f.code.startswith(("CLS_", "MOD_")) for f in findings), (which,
                                                                            codes(findings))


# --- the revue -----------------------------------------------------------------------------


def _meta(name: str, value: Any) -> Callable[[Saisie], None]:
    return lambda b: b.set_meta(name, value)


@pytest.mark.parametrize(("which", "value", "expected"), [
    ("referent", 2, "revue 1"),
    ("referent", None, "revue 1"),
    ("referent", "deux", "revue 1"),
    ("referent2", 1, "revue 2"),
    ("annuel", 1, "bilan annuel, sans revue"),
    ("porteur", 3, "bilan annuel, sans revue"),
])
def test_a_revue_other_than_the_registered_one_is_blocking(folder, which, value, expected):
    findings = check(folder, which, _meta("meta_revue", value))
    (f,) = [f for f in findings if f.code == "CLS_REVUE"]
    classeur = getattr(folder, which)
    assert (f.severity, f.sheet, f.field) == (Severity.BLOQUANT, "cv_meta", "meta_revue")
    assert f.cell == Saisie(classeur.path, classeur.spec).address("cv_meta", "meta_revue")
    assert expected in f.message and f"cellule {f.cell}" in f.message
    _is_french(f)


def test_the_revue_of_an_unregistered_workbook_must_be_a_number(folder):
    unknown = _meta("meta_classeur_id", "0" * 32)
    assert "CLS_REVUE" not in codes(check(folder, "referent", unknown))
    findings = check(folder, "referent", lambda b: (unknown(b), b.set_meta("meta_revue", "x")))
    assert {"CLS_NON_GENERE", "CLS_REVUE"} <= set(codes(findings))


def test_older_versions_of_the_specs_are_refused(folder):
    assert (SPECS["porteur"].version, SPECS["referent"].version) == ("3", "2")
    for which, old in (("referent", "1"), ("porteur", "2")):
        findings = check(folder, which, _meta("meta_spec_version", old), fill=False)
        (f,) = findings
        assert (f.code, f.severity) == ("CLS_VERSION", Severity.BLOQUANT)
        assert f"« {old} »" in f.message
        assert f"« {getattr(folder, which).spec.version} »" in f.message


# --- cross checks ------------------------------------------------------------------------


def test_a_pilote_sheet_outside_its_objectives_is_blocking(folder):
    findings = check(folder, "pilote_hors")
    (f,) = findings
    assert (f.code, f.sheet, f.field, f.value) == (
        "VAL_STRATEGIQUE_HORS_PERIMETRE", "Stratégique A11", "os_code", "A11")
    classeur = folder.pilote_hors
    assert f.cell == Saisie(classeur.path, classeur.spec).address("Stratégique A11",
                                                                  "os_code")
    assert f.severity is Severity.BLOQUANT
    assert classeur.entry["destinataire"] in f.message
    assert f.code in CAUSE_DIRECTION  # the référentiel may have changed since
    _is_french(f)


def test_a_coordonnateur_sheet_outside_its_orientations_is_blocking(folder):
    (f,) = check(folder, "coordonnateur_hors")
    assert (f.code, f.sheet, f.field, f.value) == (
        "VAL_ORIENTATION_HORS_PERIMETRE", "Orientation B1", "ori_code", "B1")
    assert f.code in CAUSE_DIRECTION
    _is_french(f)


def _nouvelle(row: int, **values: Any) -> Callable[[Saisie], None]:
    def change(book: Saisie) -> None:
        for column, value in values.items():
            book.set_t(book.sections[0], "dec_nouvelles", row, column, value)
    return change


_COMPLETE = {"decision": "Décider", "responsable": "DGS",
             "echeance": dt.datetime(2019, 9, 1)}


@pytest.mark.parametrize(("code", "ok"), [("A", True), ("A1", True), ("a12", True),
                                          ("A121", True), ("", True), ("B11", False),
                                          ("Z9", False), ("T", False)])
def test_a_new_decision_is_about_the_pilier_or_a_code_under_it(folder, code, ok):
    findings = check(folder, "releve", _nouvelle(2, code=code, **_COMPLETE))
    if ok:
        assert findings == []
        return
    (f,) = findings
    book = Saisie(folder.releve.path, folder.releve.spec)
    assert (f.code, f.severity, f.field, f.value) == (
        "VAL_DECISION_NIVEAU", Severity.BLOQUANT, "dec_nouvelles.code", code)
    assert (f.sheet, f.cell) == (book.sections[0], book.table_cell(
        book.sections[0], "dec_nouvelles", 2, "code").coordinate)
    assert "ligne 2" in f.message and "pilier A" in f.message
    _is_french(f)


# --- values --------------------------------------------------------------------------------


def test_a_new_decision_needs_its_text_owner_and_deadline(folder):
    findings = check(folder, "releve", _nouvelle(3, decision="Ouvrir un atelier"))
    assert codes(findings) == ["VAL_DECISION_INCOMPLETE"] * 2
    book = Saisie(folder.releve.path, folder.releve.spec)
    sheet = book.sections[0]
    assert [(f.field, f.cell) for f in findings] == [
        ("dec_nouvelles.responsable",
         book.table_cell(sheet, "dec_nouvelles", 3, "responsable").coordinate),
        ("dec_nouvelles.echeance",
         book.table_cell(sheet, "dec_nouvelles", 3, "echeance").coordinate)]
    assert all(f.severity is Severity.BLOQUANT and "ligne 3" in f.message for f in findings)
    assert "« Responsable »" in findings[0].message
    only_type = check(folder, "releve", _nouvelle(1, type="Arbitrage"))
    assert [f.field for f in only_type] == [f"dec_nouvelles.{c}" for c in
                                            ("decision", "responsable", "echeance")]
    for f in only_type:
        _is_french(f)


def _suivi(row: int, **values: Any) -> Callable[[Saisie], None]:
    def change(book: Saisie) -> None:
        for column, value in values.items():
            book.set_t(book.sections[0], "dec_suivi", row, column, value)
    return change


@pytest.mark.parametrize("statut", ["Réalisée", "Abandonnée"])
def test_closing_a_decision_without_a_comment_is_a_warning(folder, statut):
    (f,) = check(folder, "releve", _suivi(1, statut=statut))
    assert (f.code, f.severity, f.field) == (
        "VAL_DECISION_CLOSE_SANS_COMMENTAIRE", Severity.AVERTISSEMENT, "dec_suivi.commentaire")
    assert "A-2019-R1-01" in f.message and f"« {statut} »" in f.message
    _is_french(f)
    assert check(folder, "releve", _suivi(1, statut=statut, commentaire="Fait.")) == []
    assert check(folder, "releve", _suivi(1, statut="En cours")) == []


def test_an_open_decision_past_its_deadline_is_a_warning(folder):
    # the revue was held on 20/06/2019; decision 1 is due on 30/06, decision 2 on 31/12
    late = check(folder, "releve", _suivi(2, echeance=dt.datetime(2019, 5, 31)))
    (f,) = late
    assert (f.code, f.severity, f.field) == (
        "VAL_DECISION_ECHEANCE_PASSEE", Severity.AVERTISSEMENT, "dec_suivi.echeance")
    assert "31/05/2019" in f.message and "20/06/2019" in f.message
    assert "A-2019-R1-02" in f.message
    _is_french(f)
    closed = _suivi(2, echeance=dt.datetime(2019, 5, 31), statut="Réalisée",
                    commentaire="Arbitré en mai.")
    assert check(folder, "releve", closed) == []
    new = check(folder, "releve", _nouvelle(1, **{**_COMPLETE,
                                                  "echeance": dt.datetime(2019, 6, 1)}))
    assert codes(new) == ["VAL_DECISION_ECHEANCE_PASSEE"] and "ligne 1" in new[0].message


def test_without_the_date_held_the_revue_planned_date_is_the_reference(folder):
    """rel_date left empty (blocking anyway): the deadline is compared with the planned
    date of the revue (cv_excel.toml, here the indicative one of revue 2: 15/06/2019)."""
    planned = folder.work.config.revues.get(ANNEE, 2).date
    assert planned == dt.date(2019, 6, 15)

    def change(book: Saisie) -> None:
        book.set("Revue", "rel_date", None)
        _nouvelle(1, **{**_COMPLETE, "echeance": dt.datetime(2019, 6, 10)})(book)

    findings = check(folder, "releve", change)
    assert sorted(codes(findings)) == ["VAL_DECISION_ECHEANCE_PASSEE", "VAL_REQUIS"]
    assert "15/06/2019" in next(f.message for f in findings if f.code.startswith("VAL_DEC"))


def test_a_decision_followed_up_needs_its_owner(folder):
    (f,) = check(folder, "releve", _suivi(1, responsable=None))
    assert (f.code, f.severity, f.field) == ("VAL_REQUIS", Severity.BLOQUANT,
                                             "dec_suivi.responsable")


def test_every_piste_of_the_fiche_needs_its_state(folder):
    def change(book: Saisie) -> None:
        book.set_t(book.sections[0], "obj_pistes", 2, "etat", None)

    (f,) = check(folder, "referent", change)
    book = Saisie(folder.referent.path, folder.referent.spec)
    assert (f.code, f.severity, f.field, f.cell) == (
        "VAL_REQUIS", Severity.BLOQUANT, "obj_pistes.etat",
        book.table_cell(book.sections[0], "obj_pistes", 2, "etat").coordinate)
    assert "État" in f.message


@pytest.mark.parametrize("typed", ["non disponible", "ND", "n/a", "en attente",
                                   "Donnée pas encore connue", "?"])
def test_an_indicator_value_said_unavailable_is_a_warning(folder, typed):
    def change(book: Saisie) -> None:
        book.set_t(book.sections[0], "obj_indicateurs", 1, "valeur_annee", typed)

    (f,) = check(folder, "referent", change)
    assert (f.code, f.severity, f.field) == (
        "VAL_INDICATEUR_NON_DISPONIBLE", Severity.AVERTISSEMENT, "obj_indicateurs.valeur_annee")
    assert f"« {typed} »" in f.message and "non disponible" in f.message
    assert "accepté" in f.hint
    if typed != "?":
        _is_french(f)


@pytest.mark.parametrize(("table", "column", "typed"), [
    ("obj_indicateurs", "valeur_annee", "72 %"),
    ("obj_indicateurs", "valeur_cible", "une centaine"),
    ("obj_nouveaux_indicateurs", "valeur_reference", "40 personnes"),
])
def test_an_indicator_value_in_words_is_blocking(folder, table, column, typed):
    def change(book: Saisie) -> None:
        sheet = book.sections[0]
        if table == "obj_nouveaux_indicateurs":
            book.set_t(sheet, table, 1, "libelle", "Nombre de bénévoles")
            book.set_t(sheet, table, 1, "type", "Résultat")
        book.set_t(sheet, table, 1, column, typed)

    (f,) = check(folder, "referent", change)
    assert (f.code, f.severity, f.field) == (
        "VAL_INDICATEUR_PAS_UN_NOMBRE", Severity.BLOQUANT, f"{table}.{column}")
    assert "Unité" in f.hint
    _is_french(f)


# --- a run --------------------------------------------------------------------------------


def test_versions_of_a_return_are_counted_per_revue(folder, tmp_path):
    inbox = tmp_path / "boite"
    inbox.mkdir()
    for name, which, avancement in (("r1 a.xlsx", "referent", "Engagé"),
                                    ("r2.xlsx", "referent2", "Avancé"),
                                    ("r1 b.xlsx", "referent", "En cours")):
        book = Saisie(getattr(folder, which).path, getattr(folder, which).spec)
        fill_referent(book, avancement)
        book.save(inbox / name)
    run = valider(folder.work, chemins=[inbox / "r1 a.xlsx", inbox / "r2.xlsx",
                                        inbox / "r1 b.xlsx"], ref=folder.ref)
    replaced = {f.nom: [x.code for x in f.findings] for f in run.fichiers}
    assert replaced == {"r1 a.xlsx": ["RET_VERSION_REMPLACEE"], "r2.xlsx": [],
                        "r1 b.xlsx": []}
    assert {f.statut for f in run.fichiers} == {ACCEPTE}


def test_a_revue_mismatch_rejects_the_file_in_a_run(folder, tmp_path):
    book = Saisie(folder.pilote.path, folder.pilote.spec)
    fill_synthese(book)
    book.set_meta("meta_revue", 3)
    path = book.save(tmp_path / "pilote.xlsx")
    run = valider_et_enregistrer(folder.work, chemins=[path], ref=folder.ref)
    (fichier,) = run.fichiers
    assert fichier.statut == REJETE and codes(fichier.findings) == ["CLS_REVUE"]
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert report["fichiers"][0]["statut"] == REJETE
