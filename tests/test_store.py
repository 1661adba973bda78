"""The store, on SQLite and on PostgreSQL (``store_at``: tests/postgres.py): faithful data,
idempotent imports, supersession, atomic writes, schema migrations (Alembic; stores of the
hand-written SQLite era upgraded in place), several contrats and years side by side, and
a store layer that does not import intake (nor intake the store)."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select

from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.intake.run import ACCEPTE, ACCEPTE_AVERTISSEMENTS, DOUBLON, ValidationRun, valider
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spill import SpilledDict, SpilledList
from cv_excel.store import extract, imports, schema
from cv_excel.store.db import (
    SCHEMA_VERSION,
    StoreIncompatible,
    default_store_path,
    open_store,
    store_target,
)
from cv_excel.store.imports import import_programmation, record_run
from cv_excel.store.models import cube_of
from cv_excel.store.queries import _with_children, data_fingerprint, load_year, years
from tests.store_ancien import store_at_version

CONTRAT, ANNEE = "orly-2019-2022", 2019
NOW = dt.datetime(2020, 2, 3, 9, 30, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store")
    result = run_demo_cycle(tmp / "demo")
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(ANNEE), ref, ANNEE)
    run = _whole_cycle(result)
    accepted = [f for f in run.fichiers
                if f.statut in (ACCEPTE, ACCEPTE_AVERTISSEMENTS) and f.lu is not None]
    return SimpleNamespace(tmp=tmp, work=work, ref=ref, prog=prog, run=run, accepted=accepted)


def _whole_cycle(result) -> ValidationRun:
    """Every validation run of the demo (revue 1's cascade, the porteurs' bilans, then
    the next revues'), as one run in reception order."""
    runs = [e.validation for e in result.revues[1].etapes] + [result.validation] + [
        e.validation for n in sorted(result.revues) if n > 1 for e in result.revues[n].etapes]
    return ValidationRun(runs[0].debut, runs[0].dossier_sortie,
                         fichiers=[f for run in runs for f in run.fichiers])


def _revue(fichier) -> int | None:
    return extract.revue(fichier.lu.meta.get("meta_revue"))


def _fill(target, demo, now=NOW):
    store = open_store(target)
    import_programmation(store, CONTRAT, ANNEE, demo.prog)
    record_run(store, demo.run, now=now)
    return store


@pytest.fixture
def store(store_at, demo):
    """The demo's whole cycle recorded in a new store, on each engine."""
    store = _fill(store_at(), demo)
    yield store
    store.close()


def dump(store) -> dict[str, list[str]]:
    """Every row of every table, ids included: "nothing changed" means this is equal."""
    with store.lecture() as conn:
        return {t.name: sorted(repr(tuple(r)) for r in conn.execute(select(t)))
                for t in schema.metadata.sorted_tables}


def _value(section, name):
    return section.values[name].value


# --- what the store holds ------------------------------------------------------------


def test_every_accepted_section_becomes_one_bilan_suivi_or_synthese(store, demo):
    data = load_year(store, CONTRAT, ANNEE)
    porteur = [s for f in demo.accepted if f.type == "porteur" for s in f.lu.sections]
    assert porteur and len(data.bilans) == len(porteur)
    revues = sorted({_revue(f) for f in demo.accepted if f.type == "referent"})
    assert revues == [1, 2]
    for revue in revues:  # each revue's picture holds exactly that revue's returns
        of_revue = load_year(store, CONTRAT, ANNEE, revue)
        sections = {kind: [s for f in demo.accepted if f.type == kind
                           and _revue(f) == revue for s in f.lu.sections]
                    for kind in ("referent", "pilote", "coordonnateur")}
        assert all(sections.values())
        assert sum(len(v) for v in of_revue.suivis.values()) == len(sections["referent"])
        assert sum(len(v) for v in of_revue.syntheses.values()) == len(
            sections["pilote"]) + len(sections["coordonnateur"])
        assert {s.revue for v in of_revue.suivis.values() for s in v} == {revue}
    # the year's picture: each référent's latest revue (the demo misses a return)
    last = {}
    for f in demo.accepted:
        if f.type == "referent":
            who = f.lu.meta["meta_destinataire_id"]
            last[who] = max(last.get(who, 0), _revue(f))
    latest = {(s.referent_id, s.revue) for v in data.suivis.values() for s in v}
    assert latest == set(last.items())
    assert [a.numero for a in data.actions] == sorted(a.numero for a in demo.prog.actions)
    new_files = [f for f in demo.run.fichiers if f.statut != DOUBLON]
    assert len(data.submissions) == len(new_files)
    assert sum(s.courante for s in data.submissions) == len(demo.accepted)
    rejected = [s for s in data.submissions if s.statut == "rejeté"]
    assert rejected and all(s.bloquants > 0 and not s.courante for s in rejected)


def test_a_bilan_holds_what_the_workbook_holds(store, demo):
    fichier = next(f for f in demo.accepted if f.type == "porteur" and len(f.lu.sections) > 1)
    section = fichier.lu.sections[1]
    bilan = load_year(store, CONTRAT, ANNEE).bilans[_value(section, "act_numero")]
    assert bilan.fichier == fichier.nom
    assert bilan.realisation == _value(section, "act_realisation")
    assert bilan.date_debut == _value(section, "act_date_debut")
    assert bilan.date_fin == _value(section, "act_date_fin")
    assert bilan.benef_total == int(_value(section, "act_benef_total"))
    assert bilan.benef_femmes == int(_value(section, "act_benef_femmes"))
    assert bilan.benef_qpv == int(_value(section, "act_benef_qpv"))
    assert bilan.benef_ages["12_17"] == int(_value(section, "act_benef_12_17"))
    assert bilan.benef_ages["moins_12"] is None
    assert bilan.score == int(_value(section, "act_score"))
    for name in ("score_justification", "mode_recueil", "resultats", "difficultes",
                 "perspectives"):
        assert getattr(bilan, name) == _value(section, f"act_{name}"), name
    budget = {(b.tableau, b.ligne): b for b in bilan.budget}
    charges = section.tables["bud_charges"][section.table_keys["bud_charges"].index("64")]
    assert budget["bud_charges", "64"].realise == Decimal(str(charges["realise"].value))
    assert budget["bud_charges", "64"].prevu == Decimal(str(charges["prevu"].value))


def test_a_suivi_and_the_programmation_hold_what_was_given(store, demo):
    fichier = next(f for f in demo.accepted if f.type == "referent")
    section = fichier.lu.sections[0]
    data = load_year(store, CONTRAT, ANNEE, _revue(fichier))
    destinataire = fichier.lu.meta["meta_destinataire_id"]
    suivi = next(s for s in data.suivis[_value(section, "obj_code")]
                 if s.referent_id == destinataire)
    assert suivi.revue == _revue(fichier) == 1
    assert suivi.avancement == _value(section, "obj_avancement")
    assert suivi.propositions == _value(section, "obj_propositions")
    filled = [r for r in section.tables["obj_indicateurs"] if r["libelle"].value]
    assert [i.libelle for i in suivi.indicateurs] == [r["libelle"].value for r in filled]
    typed = [r["valeur_annee"].value for r in filled]
    assert any(isinstance(v, float) for v in typed)
    assert [i.valeur_annee for i in suivi.indicateurs] == [
        extract.quantity(v) if isinstance(v, float) else v for v in typed]
    assert [i.unite for i in suivi.indicateurs] == [r["unite"].value for r in filled]
    pistes = [r for r in section.tables["obj_pistes"] if r["libelle"].value]
    assert [(p.libelle, p.etat) for p in suivi.pistes] == [
        (r["libelle"].value, r["etat"].value) for r in pistes]
    action = demo.prog.actions[0]
    stored = next(a for a in data.actions if a.numero == action.numero)
    assert stored.porteur_siret == action.porteur.siret
    assert stored.total_accorde == action.montant_accorde_total
    assert stored.accorde["ville"] == action.accorde("ville")


def test_conventions_and_payments_are_stored(store, demo):
    data = {a.numero: a for a in load_year(store, CONTRAT, ANNEE).actions}
    paid_twice = 0
    for action in demo.prog.actions:
        stored = data[action.numero]
        assert (stored.convention_numero, stored.convention_date) == (
            action.convention_numero, action.convention_date)
        assert stored.convention_date is not None
        for f in action.financements:
            assert stored.verse.get(f.financeur, Decimal(0)) == (f.verse or Decimal(0))
            assert stored.dates_versement.get(f.financeur, []) == f.dates_versement
            paid_twice += len(f.dates_versement) > 1
    assert paid_twice > 0  # the demo has staggered payments: several dates survive


def test_a_store_of_the_first_schema_is_upgraded_in_place(tmp_path, demo):
    """Migration 2 (conventions, payments) adds columns; what the store held stays."""

    path = tmp_path / "ancien.sqlite"
    raw = store_at_version(path, 1)
    raw.execute("INSERT INTO programmation_actions VALUES ('c', 2018, '2018-001', "
                "'73282932000074', 'Asso', 'Association', NULL, 'X', 'x@example.org', "
                "'Action', 'A111', NULL, NULL, 'QPV', NULL, 'Indicateur', 'Mode')")
    raw.execute("INSERT INTO programmation_financements VALUES "
                "('c', 2018, '2018-001', 'ville', '1000.00', '900.00')")
    raw.commit()
    raw.close()
    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION >= 2
        (action,) = load_year(store, "c", 2018).actions
        assert action.accorde["ville"] == Decimal("900.00")
        assert (action.convention_date, action.verse["ville"], action.dates_versement) == (
            None, Decimal(0), {"ville": []})
        import_programmation(store, CONTRAT, ANNEE, demo.prog)  # the new columns are usable
        assert load_year(store, CONTRAT, ANNEE).actions[0].convention_date is not None


def test_a_store_of_schema_3_gets_the_etat_columns_in_place(tmp_path, demo):
    """Migration 4 (Dauphin dossier, P147 codes, State dispositifs, QPV code) upgrades a
    store of the previous version in place; what it held stays, the new fields are empty."""

    path = tmp_path / "v3.sqlite"
    raw = store_at_version(path, 3)
    raw.execute("INSERT INTO programmation_actions (contrat, annee, numero, porteur_siret, "
                "porteur_raison_sociale, porteur_type, porteur_contact, porteur_email, "
                "intitule, objectif_operationnel, territoire, indicateur, mode_recueil, "
                "convention_numero) VALUES ('c', 2018, '2018-001', '73282932000074', 'Asso', "
                "'Association', 'X', 'x@example.org', 'Action', 'A111', 'QPV', 'Indicateur', "
                "'Mode', 'CONV-1')")
    raw.commit()
    raw.close()
    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION >= 4
        (action,) = load_year(store, "c", 2018).actions
        assert action.convention_numero == "CONV-1"
        assert (action.dossier_dauphin, action.theme_p147, action.modalite_p147,
                action.code_qpv, action.dispositifs_etat) == (None, None, None, None, [])
        import_programmation(store, CONTRAT, ANNEE, demo.prog)  # the new columns are usable
        stored = {a.numero: a for a in load_year(store, CONTRAT, ANNEE).actions}
    for a in demo.prog.actions:
        s = stored[a.numero]
        assert (s.dossier_dauphin, s.theme_p147, s.sous_theme_p147, s.modalite_p147,
                s.code_qpv, s.dispositifs_etat) == (
            a.dossier_dauphin, a.theme_p147, a.sous_theme_p147, a.modalite_p147, a.code_qpv,
            a.dispositifs_etat)
    assert any(a.dispositifs_etat for a in demo.prog.actions)
    assert any(a.modalite_p147 for a in demo.prog.actions)


def test_a_store_of_schema_4_gets_the_quantified_objective_in_place(tmp_path, demo):
    """Migration 5 (objectif quantifié, valeur cible, unité of the programmation; valeur
    atteinte of the bilan) upgrades a store of schema 4 in place: what it held stays, the
    new fields are empty, then usable. (Migration 6, the revues: test_store_gouvernance.)"""
    previous = 4
    path = tmp_path / "precedent.sqlite"
    raw = store_at_version(path, previous)
    raw.execute("INSERT INTO programmation_actions (contrat, annee, numero, porteur_siret, "
                "porteur_raison_sociale, porteur_type, porteur_contact, porteur_email, "
                "intitule, objectif_operationnel, territoire, indicateur, mode_recueil, "
                "code_qpv) VALUES ('c', 2018, '2018-001', '73282932000074', 'Asso', "
                "'Association', 'X', 'x@example.org', 'Action', 'A111', 'QPV', 'Indicateur', "
                "'Mode', 'ORLY-QPV-EST')")
    raw.execute("INSERT INTO submissions (id, sha256, nom, recu_le, type, classeur_id, "
                "contrat, annee, destinataire_id, destinataire, statut, bloquants, "
                "avertissements, findings_json, donnees, importee_le) VALUES (1, 'abc', "
                "'b.xlsx', '2019-01-10', 'porteur', 'id', 'c', 2018, '73282932000074', "
                "'Asso', 'accepté', 0, 0, '[]', 1, '2019-01-10')")
    raw.execute("INSERT INTO bilans (submission_id, numero, contrat, annee, score) "
                "VALUES (1, '2018-001', 'c', 2018, 80)")
    raw.commit()
    raw.close()
    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION
        data = load_year(store, "c", 2018)
        (action,) = data.actions
        assert action.code_qpv == "ORLY-QPV-EST"
        assert (action.objectif_quantifie, action.valeur_cible, action.unite) == (None,) * 3
        assert (data.bilans["2018-001"].score, data.bilans["2018-001"].valeur_atteinte) == (
            80, None)
        import_programmation(store, CONTRAT, ANNEE, demo.prog)  # the new columns are usable
        stored = {a.numero: a for a in load_year(store, CONTRAT, ANNEE).actions}
    for a in demo.prog.actions:
        s = stored[a.numero]
        assert (s.objectif_quantifie, s.valeur_cible, s.unite) == (
            a.objectif_quantifie, a.valeur_cible, a.unite)
    assert any(a.valeur_cible for a in demo.prog.actions)


def test_the_value_reached_is_stored_with_the_bilan(store, demo):
    data = load_year(store, CONTRAT, ANNEE)
    reached = 0
    for fichier in demo.accepted:
        if fichier.type != "porteur":
            continue
        for section in fichier.lu.sections:
            typed = _value(section, "act_valeur_atteinte")
            bilan = data.bilans[_value(section, "act_numero")]
            if typed in (None, ""):
                assert bilan.valeur_atteinte is None
            else:
                assert bilan.valeur_atteinte == Decimal(str(typed))
                reached += 1
    assert reached > 0


# --- idempotence and supersession --------------------------------------------------------


def test_recording_the_same_run_again_changes_nothing(store, demo):
    before, fingerprint = dump(store), data_fingerprint(store, CONTRAT, ANNEE)
    summary = record_run(store, demo.run, now=NOW + dt.timedelta(days=1))
    assert (summary.nouvelles, summary.remplacees) == (0, 0)
    assert summary.deja_connues == len(demo.run.fichiers)
    assert dump(store) == before
    assert data_fingerprint(store, CONTRAT, ANNEE) == fingerprint


def test_first_recording_counts_the_duplicate_as_known(store_at, demo):
    with open_store(store_at()) as store:
        summary = record_run(store, demo.run)
    assert summary.deja_connues == demo.run.count(DOUBLON) == 1
    assert summary.nouvelles == len(demo.run.fichiers) - 1
    assert summary.remplacees == 0


def _corrected_copy(fichier, target: Path, text: str) -> Path:
    """What a porteur sends after a phone call: the same workbook, one answer changed."""
    cell = fichier.lu.sections[0].values["act_resultats"]
    book = openpyxl.load_workbook(fichier.source)
    book[cell.sheet][cell.cell] = text
    book.save(target)
    return target


def test_a_newer_accepted_return_supersedes_the_older(store, demo):
    old = next(f for f in demo.accepted if f.type == "porteur" and len(f.lu.sections) > 1)
    numeros = {_value(s, "act_numero") for s in old.lu.sections}
    before = load_year(store, CONTRAT, ANNEE)
    # Another content on each engine: both runs validate into the same demo folder, and
    # two copies saved within one second are the same bytes (a file already received).
    text = f"Résultats corrigés après relecture (fictif, {store.dialect})."
    corrected = _corrected_copy(old, demo.tmp / f"corrigé {store.dialect} {old.nom}", text)
    run = valider(demo.work, chemins=[corrected], ref=demo.ref)
    assert run.fichiers[0].statut in (ACCEPTE, ACCEPTE_AVERTISSEMENTS)

    summary = record_run(store, run)
    assert (summary.nouvelles, summary.remplacees) == (1, 1)
    after = load_year(store, CONTRAT, ANNEE)
    first = _value(old.lu.sections[0], "act_numero")
    assert after.bilans[first].resultats == text
    assert after.bilans[first].fichier == corrected.name
    subs = {s.sha256: s for s in after.submissions}
    assert not subs[old.sha256].courante
    assert subs[old.sha256].remplacee_par == subs[run.fichiers[0].sha256].id
    assert subs[run.fichiers[0].sha256].courante
    assert len(after.submissions) == len(before.submissions) + 1
    # exactly that recipient's bilans changed; everything else is as before
    assert set(after.bilans) == set(before.bilans)
    changed = {n for n in after.bilans if after.bilans[n] != before.bilans[n]}
    assert changed == numeros
    for n in numeros - {first}:
        same_source = {"submission_id": 0, "fichier": "", "recu_le": ""}
        assert asdict(after.bilans[n]) | same_source == asdict(before.bilans[n]) | same_source
    assert after.suivis == before.suivis
    assert after.actions == before.actions


def test_recording_a_file_reads_the_store_through_indexes_only(tmp_path, demo):
    """Each file's look-ups (is it known? which return is in force?) are index searches:
    a scan of the submissions per file made a validation quadratic (SQLite's plans of
    every SELECT made while recording, with their parameters)."""
    traced: list[tuple] = []

    def trace(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            traced.append((statement, parameters))

    with open_store(tmp_path / "index.sqlite") as store:
        event.listen(store.engine, "before_cursor_execute", trace)
        record_run(store, demo.run, now=NOW)
        event.remove(store.engine, "before_cursor_execute", trace)
        with store.engine.connect() as conn:
            plans = {row[3] for sql, parameters in dict(traced).items()
                     for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)}
    assert any("submissions_courante" in p for p in plans), plans
    assert [p for p in plans if p.startswith("SCAN")] == [], plans


# --- transactions ------------------------------------------------------------------------


def _sub_run(demo, fichiers) -> ValidationRun:
    return ValidationRun(demo.run.debut, demo.run.dossier_sortie, fichiers=list(fichiers))


def test_a_failure_inside_a_file_leaves_the_store_as_before_that_file(store_at, demo,
                                                                      monkeypatch):
    porteurs = [f for f in demo.accepted if f.type == "porteur"]
    third = next(f for f in porteurs[2:] if len(f.lu.sections) > 1)
    files = [*porteurs[:2], third]
    with open_store(store_at("reference")) as reference:
        record_run(reference, _sub_run(demo, files[:2]), now=NOW)
        expected = dump(reference)

    calls = {"n": 0}
    fail_at = 3  # the budget lines of the 3rd file, once its bilans are written
    original = imports._insert_many

    def failing(conn, table, rows):
        if table is schema.budget_lignes:
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise RuntimeError("disque plein (simulé)")
        original(conn, table, rows)

    monkeypatch.setattr(imports, "_insert_many", failing)
    with open_store(store_at()) as store:
        summary = record_run(store, _sub_run(demo, files), now=NOW)  # never raises
        assert calls["n"] == fail_at
        assert set(summary.echecs) == {third.sha256} and "simulé" in summary.echecs[third.sha256]
        assert store.engine.pool.checkedout() == 0  # no transaction left open
        # None of the third file's data; only a trace of it, rejected, so the next run
        # does not trip on it again.
        s = schema.submissions
        trace = store.execute(select(s.c.statut, s.c.donnees).where(s.c.sha256 == third.sha256))
        assert [tuple(r) for r in trace] == [("rejeté", 0)]
        store.execute(s.delete().where(s.c.sha256 == third.sha256))
        assert dump(store) == expected


def test_a_transaction_rolls_back_on_any_exception(store_at):
    pa = schema.programmation_actions
    with open_store(store_at()) as store:
        with pytest.raises(KeyError), store.transaction() as conn:
            conn.execute(insert(pa).values(
                contrat="c", annee=2019, numero="1", porteur_siret="s",
                porteur_raison_sociale="r", porteur_type="t", porteur_contact="c",
                porteur_email="e", intitule="i", objectif_operationnel="o", territoire="QPV",
                indicateur="ind", mode_recueil="mode"))
            raise KeyError("boom")
        assert store.execute(select(func.count()).select_from(pa))[0][0] == 0


def _programmation_row(numero: str) -> dict:
    return dict(contrat="c", annee=2019, numero=numero, porteur_siret="s",
                porteur_raison_sociale="r", porteur_type="t", porteur_contact="c",
                porteur_email="e", intitule="i", objectif_operationnel="o", territoire="QPV",
                indicateur="ind", mode_recueil="mode")


def test_grouped_transactions_stay_atomic_and_are_committed_together(store_at):
    """SQLite: inside a group, each transaction is a savepoint (one failing leaves the
    others), committed every ``transactions`` of them and on leaving; another connection
    sees nothing in between. PostgreSQL: every transaction commits at once."""
    pa = schema.programmation_actions
    target = store_at()
    with open_store(target) as store, open_store(target) as other:
        def seen() -> list[str]:
            with other.lecture() as conn:
                return sorted(conn.execute(select(pa.c.numero)).scalars())

        grouped = store.dialect == "sqlite"
        with store.groupe(transactions=3, secondes=3600):
            with store.transaction() as conn:
                conn.execute(insert(pa).values(_programmation_row("1")))
            with pytest.raises(KeyError), store.transaction() as conn:
                conn.execute(insert(pa).values(_programmation_row("2")))
                raise KeyError("boom")
            assert seen() == ([] if grouped else ["1"])
            with store.transaction() as conn:
                conn.execute(insert(pa).values(_programmation_row("3")))
            assert seen() == ([] if grouped else ["1", "3"])
            with store.transaction() as conn:  # the third that completed: committed
                conn.execute(insert(pa).values(_programmation_row("4")))
            assert seen() == ["1", "3", "4"]
            with store.transaction() as conn:
                conn.execute(insert(pa).values(_programmation_row("5")))
            assert seen() == (["1", "3", "4"] if grouped else ["1", "3", "4", "5"])
            store.confirmer()
            assert seen() == ["1", "3", "4", "5"]
            with store.transaction() as conn:
                conn.execute(insert(pa).values(_programmation_row("6")))
        assert seen() == ["1", "3", "4", "5", "6"]


_GROUP_KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from sqlalchemy import insert
    from cv_excel.store import schema
    from cv_excel.store.db import open_store

    store = open_store(Path(sys.argv[1]))
    row = dict(contrat="c", annee=2019, porteur_siret="s", porteur_raison_sociale="r",
               porteur_type="t", porteur_contact="c", porteur_email="e", intitule="i",
               objectif_operationnel="o", territoire="QPV", indicateur="ind",
               mode_recueil="mode")
    with store.groupe(transactions=4, secondes=3600):
        for n in range(6):  # 4 committed as a group, 2 in the open transaction
            with store.transaction() as conn:
                conn.execute(insert(schema.programmation_actions).values(numero=str(n), **row))
        os.kill(os.getpid(), 9)
""")


def test_a_process_killed_inside_a_group_keeps_the_committed_groups_only(tmp_path):
    db = tmp_path / "groupe.sqlite"
    open_store(db).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _GROUP_KILL_SCRIPT, str(db)], env=env,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL
    assert Path(f"{db}-journal").exists()  # killed with a write transaction open
    with open_store(db) as store:  # the hot journal rolled back: the first group only
        numeros = store.execute(select(schema.programmation_actions.c.numero))
        assert sorted(r[0] for r in numeros) == ["0", "1", "2", "3"]


_KILL_SCRIPT = textwrap.dedent("""
    import datetime as dt, pickle, sys, time
    from pathlib import Path
    from cv_excel.store import extract, imports
    from cv_excel.store.db import open_store

    run = pickle.loads(Path(sys.argv[1]).read_bytes())
    store = open_store(Path(sys.argv[2]))
    original = imports._insert_bilans

    def slow(*args):  # inside the file's transaction: a kill here must leave no trace
        print("bilans", flush=True)
        time.sleep(0.05)
        original(*args)

    imports._insert_bilans = slow
    imports.record_run(store, run, now=dt.datetime.fromisoformat(sys.argv[3]))
    print("fini", flush=True)
""")


def _killed_import(run_file: Path, db: Path, kill_after: int) -> bool:
    """Run an import in a child process, SIGKILL it after the bilans of ``kill_after``
    files have started to be written; True when the kill landed before the import finished."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(run_file), str(db), NOW.isoformat()],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    finished = False
    assert child.stdout is not None
    for seen, line in enumerate(child.stdout, start=1):
        if line.strip() == "fini":
            finished = True
            break
        if seen == kill_after:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stdout.close()
    return not finished and child.returncode == -signal.SIGKILL


def test_a_killed_import_leaves_a_consistent_store(tmp_path, demo):
    run_file = tmp_path / "run.pickle"
    run_file.write_bytes(pickle.dumps(demo.run))
    with open_store(tmp_path / "fresh.sqlite") as fresh:
        record_run(fresh, demo.run, now=NOW)
        expected_fingerprint = data_fingerprint(fresh, CONTRAT, ANNEE)
        expected = dump(fresh)
        total = len(expected["submissions"])

    db = tmp_path / "killed.sqlite"
    landed = False
    for kill_after in (9, 5, 3, 2):  # bounded: a kill must land mid-import
        db.unlink(missing_ok=True)
        Path(f"{db}-journal").unlink(missing_ok=True)
        if not _killed_import(run_file, db, kill_after):
            continue
        # the kill hit an open write transaction: its rollback journal is still there
        assert Path(f"{db}-journal").exists()
        raw = sqlite3.connect(db)
        try:
            stored = raw.execute("SELECT count(*) FROM submissions").fetchone()[0]
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            raw.close()
        if 0 < stored < total:
            landed = True
            break
    assert landed, "no kill landed in the middle of the import"

    with open_store(db) as store:
        # no submission without all its data, no data without its submission
        incomplete = store.execute(  # a relevé's pilier may hold no decision: not counted
            "SELECT s.id FROM submissions s WHERE s.donnees = 1 AND s.type != 'decisions' "
            "AND s.nb_sections != "
            "(SELECT count(*) FROM bilans b WHERE b.submission_id = s.id) + "
            "(SELECT count(*) FROM suivis v WHERE v.submission_id = s.id) + "
            "(SELECT count(*) FROM syntheses y WHERE y.submission_id = s.id)")
        assert incomplete == []
        orphans = store.execute(
            "SELECT count(*) FROM bilans b JOIN submissions s ON s.id = b.submission_id "
            "WHERE s.donnees = 0")[0][0]
        assert orphans == 0
        accepted_without_data = store.execute(
            "SELECT count(*) FROM submissions WHERE statut LIKE 'accepté%' "
            "AND donnees = 0")[0][0]
        assert accepted_without_data == 0
        summary = record_run(store, demo.run, now=NOW)
        assert summary.deja_connues > 0 and summary.nouvelles > 0
        assert data_fingerprint(store, CONTRAT, ANNEE) == expected_fingerprint
        assert dump(store) == expected


# --- schema, location, several contrats and years ------------------------------------------


def test_the_schema_is_versioned_and_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION >= 1
    with open_store(path) as store:  # reopening migrates nothing and loses nothing
        assert store.version == SCHEMA_VERSION
    raw = sqlite3.connect(path)
    # what an older cv_excel reads to refuse this store (it knew up to schema 7)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with raw:  # what a newer cv_excel would leave
        raw.execute(f"UPDATE alembic_version SET version_num = '{SCHEMA_VERSION + 1:04d}'")
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = path.read_bytes()
    with pytest.raises(StoreIncompatible, match="plus récente de cv_excel"):
        open_store(path)
    assert path.read_bytes() == before
    junk = tmp_path / "pas une base.sqlite"
    junk.write_bytes(b"ceci n'est pas une base SQLite" * 100)
    with pytest.raises(StoreIncompatible, match="pas un magasin"):
        open_store(junk)


def test_an_unchanged_store_is_not_checked_again_a_written_or_damaged_one_is(tmp_path):
    """The integrity check reads the whole file: it is skipped while the file is the one
    that last passed it (signature recorded beside it), and runs again after any write,
    a damage that kept the size and modification time, or a journal left behind."""
    from sqlalchemy import Engine, event

    checks: list[str] = []

    def seen(conn, cursor, statement, *args):
        if "quick_check" in statement:
            checks.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        path = tmp_path / "s.sqlite"
        open_store(path).close()  # created aside, then checked
        assert len(checks) == 1 and (tmp_path / ".s.sqlite.controle").exists()
        for _ in range(3):
            with open_store(path):
                pass
        assert len(checks) == 1  # nothing written since the last check
        with open_store(path) as store, store.transaction() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
        with open_store(path):
            pass
        assert len(checks) == 2  # a transaction of cv_excel: checked again
        raw = sqlite3.connect(path)
        with raw:
            raw.execute("UPDATE alembic_version SET version_num = version_num || ''")
        raw.close()
        with open_store(path):
            pass
        assert len(checks) == 3  # written by another program: checked again
        journal = path.with_name(path.name + "-journal")
        journal.write_bytes(b"")
        with open_store(path):
            pass
        journal.unlink(missing_ok=True)  # (SQLite may have removed it)
        assert len(checks) == 4  # a journal beside it: an interrupted write, checked
        with open_store(path):
            pass
        assert len(checks) == 4
        st = path.stat()
        with path.open("r+b") as f:  # damaged in place, size and times put back
            f.seek(2 * 4096)
            f.write(os.urandom(4096))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        with pytest.raises(StoreIncompatible):
            open_store(path).close()
        assert len(checks) == 5
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


def test_the_store_lives_in_the_working_folder_unless_configured(demo, monkeypatch):
    assert default_store_path(demo.work) == demo.work.root / "cv_excel.sqlite"
    assert store_target(demo.work) == default_store_path(demo.work)
    monkeypatch.setenv("CV_EXCEL_BASE", "partage/suivi.sqlite")  # relative to the folder
    work = DossierTravail.open(demo.work.root)
    assert store_target(work) == demo.work.root / "partage" / "suivi.sqlite"
    monkeypatch.setenv("CV_EXCEL_BASE", "postgresql://cv_excel@serveur/contrats")
    assert store_target(DossierTravail.open(demo.work.root)) == (
        "postgresql://cv_excel@serveur/contrats")


def test_other_contrats_and_years_do_not_touch_2019(store, demo):
    fingerprint = data_fingerprint(store, CONTRAT, ANNEE)
    prog_2018 = read_programmation(demo.work.programmation_file(2018), demo.ref, 2018)
    assert import_programmation(store, CONTRAT, 2018, prog_2018) == len(prog_2018.actions)
    import_programmation(store, "autre-contrat", ANNEE, demo.prog)
    assert data_fingerprint(store, CONTRAT, ANNEE) == fingerprint
    assert years(store, CONTRAT) == [2018, 2019]
    assert years(store, "autre-contrat") == [2019]
    other = load_year(store, "autre-contrat", ANNEE)
    assert len(other.actions) == len(demo.prog.actions)
    assert other.bilans == {} and other.suivis == {} and other.submissions == []
    assert len(load_year(store, CONTRAT, 2018).actions) == len(prog_2018.actions)


def test_reimporting_the_same_programmation_changes_nothing(store, demo):
    before = dump(store)
    import_programmation(store, CONTRAT, ANNEE, demo.prog)
    assert dump(store) == before
    smaller = demo.prog.model_copy(update={"actions": demo.prog.actions[:3]})
    import_programmation(store, CONTRAT, ANNEE, smaller)
    assert [a.numero for a in load_year(store, CONTRAT, ANNEE).actions] == sorted(
        a.numero for a in demo.prog.actions[:3])
    assert load_year(store, CONTRAT, ANNEE).bilans  # returns are kept apart


def test_the_programmation_read_on_disk_is_stored_the_same_by_batches(store, demo,
                                                                     monkeypatch):
    """Consolider stores the programmation kept on disk, a few actions per INSERT: the same
    rows as the programmation in memory stored at once."""
    from cv_excel.programmation.on_disk import read_programmation_on_disk
    from cv_excel.store import imports

    before = dump(store)
    monkeypatch.setattr(imports, "_PROGRAMMATION_BATCH", 4)  # the demo's year: many batches
    with read_programmation_on_disk(demo.work.programmation_file(ANNEE), demo.ref,
                                    ANNEE) as on_disk:
        assert import_programmation(store, CONTRAT, ANNEE, on_disk) == len(demo.prog.actions)
    assert len(demo.prog.actions) > 4 * 3
    assert dump(store) == before


# --- migrations: Alembic, on both engines, from the hand-written SQLite era ----------------


def _budget_order(store) -> list[tuple]:
    b = schema.budget_lignes
    return [tuple(r) for r in store.execute(
        select(b.c.submission_id, b.c.numero, b.c.tableau, b.c.ligne, b.c.rang)
        .order_by(b.c.submission_id, b.c.numero, b.c.rang))]


def test_a_store_of_schema_7_is_stamped_and_upgraded_with_its_history(tmp_path):
    """The last hand-written schema (``user_version`` 7, no Alembic table): opened, it is
    stamped at revision 0007, upgraded to the head, its history intact — superseded
    returns, data, budget lines in the workbook's order (0008 takes it from the rowid)."""
    path = tmp_path / "v7.sqlite"
    raw = store_at_version(path, 7)
    sub = ("INSERT INTO submissions (id, sha256, nom, recu_le, type, classeur_id, contrat, "
           "annee, destinataire_id, destinataire, statut, bloquants, avertissements, "
           "findings_json, donnees, importee_le, remplacee_par) VALUES (?, ?, ?, ?, "
           "'porteur', 'id', 'c', 2019, '73282932000074', 'Asso', 'accepté', 0, 0, '[]', 1, "
           "'2019-03-01', ?)")
    raw.execute(sub, (2, "new", "bilan v2.xlsx", "2019-03-02", None))
    raw.execute(sub, (1, "old", "bilan v1.xlsx", "2019-03-01", 2))
    for sid in (1, 2):
        raw.execute("INSERT INTO bilans (submission_id, numero, contrat, annee, score, "
                    "representant) VALUES (?, '2019-001', 'c', 2019, ?, 'M. Durand')",
                    (sid, 60 + sid))
        # inserted out of alphabetical order: the workbook's order is the rowid's
        for tableau, ligne in (("bud_charges", "64"), ("bud_charges", "60"),
                               ("bud_produits", "74_etat")):
            raw.execute("INSERT INTO budget_lignes VALUES (?, '2019-001', ?, ?, '10.00', "
                        "'9.00')", (sid, tableau, ligne))
    raw.commit()
    raw.close()

    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.execute("SELECT version_num FROM alembic_version")[0][0] == schema.HEAD
        data = load_year(store, "c", 2019)
        assert [(s.nom, s.courante, s.remplacee_par) for s in data.submissions] == [
            ("bilan v1.xlsx", False, 2), ("bilan v2.xlsx", True, None)]
        bilan = data.bilans["2019-001"]
        assert (bilan.score, bilan.representant, bilan.submission_id) == (62, "M. Durand", 2)
        assert [(b.tableau, b.ligne) for b in bilan.budget] == [
            ("bud_charges", "64"), ("bud_charges", "60"), ("bud_produits", "74_etat")]
        assert [r[-1] for r in _budget_order(store)] == [1, 2, 3, 4, 5, 6]
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_every_historical_schema_upgrades_in_place(tmp_path, demo):
    """Stores left by every older cv_excel (schemas 1 to 7) open at the head, and take
    the demo's whole cycle."""
    for version in range(1, 8):
        path = tmp_path / f"v{version}.sqlite"
        raw = store_at_version(path, version)
        raw.commit()
        raw.close()
        with open_store(path) as store:
            assert store.version == SCHEMA_VERSION
            summary = record_run(store, demo.run, now=NOW)
            assert summary.echecs == {} and summary.nouvelles > 0


def _shape(path: Path) -> dict:
    """An SQLite schema as SQLite sees it: columns (order, type, NOT NULL, default, key),
    foreign keys, indexes (columns, expressions, uniqueness, partial condition)."""
    raw = sqlite3.connect(path)
    try:
        shape: dict = {}
        for (table,) in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite_%' AND name != 'alembic_version' ORDER BY name"):
            # SQLAlchemy writes « id INTEGER NOT NULL, PRIMARY KEY (id) » where the old SQL
            # had « id INTEGER PRIMARY KEY »: the same rowid alias, which is never NULL.
            columns = [(c, n, ty, nn or (pk == 1 and ty == "INTEGER" and n == "id"), d, pk)
                       for c, n, ty, nn, d, pk in raw.execute(f"PRAGMA table_info({table})")]
            indexes = sorted(
                (unique, origin, partial,
                 tuple(raw.execute(f"PRAGMA index_xinfo('{name}')").fetchall()),
                 name if origin == "c" else "")
                for _, name, unique, origin, partial in raw.execute(
                    f"PRAGMA index_list({table})"))
            shape[table] = (columns, sorted(r[2:] for r in raw.execute(
                f"PRAGMA foreign_key_list({table})")), indexes)
        shape["conditions"] = sorted(
            (name, " ".join(sql.replace("(", " (").split()).lower())
            for name, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE "
                                         "type = 'index' AND sql IS NOT NULL"))
        return shape
    finally:
        raw.close()


def test_alembic_revisions_1_to_7_are_the_hand_written_migrations(tmp_path):
    """Revision 000N builds exactly the schema the old SQL of ``user_version`` N built:
    a store stamped at 000N is what Alembic would have made of it."""
    from alembic import command
    from sqlalchemy import create_engine

    from cv_excel.store.db import alembic_config

    for version in (1, 5, 6, 7):
        old, new = tmp_path / f"old{version}.sqlite", tmp_path / f"new{version}.sqlite"
        store_at_version(old, version).close()
        engine = create_engine(f"sqlite:///{new}")
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), f"{version:04d}")
        engine.dispose()
        assert _shape(new) == _shape(old), version


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_after_migrating_the_database_and_the_schema_module_agree(store_at, tmp_path):
    """Alembic's autogenerate finds nothing to change between the migrated database and
    :mod:`cv_excel.store.schema`: one description of the store, on both engines — for a
    new store and for one upgraded from the hand-written era."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    targets = [store_at()]
    if isinstance(targets[0], Path):
        store_at_version(tmp_path / "v5.sqlite", 5).close()
        targets.append(tmp_path / "v5.sqlite")
    for target in targets:
        with open_store(target) as store, store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, schema.metadata)
            if store.dialect == "sqlite":
                diffs = _reflected_alike(conn, diffs)
                _same_expression_indexes(conn)
            assert diffs == [], target


def _reflected_alike(conn, diffs: list) -> list:
    """SQLAlchemy does not read ``ON DELETE`` back from a column's inline ``REFERENCES``
    (the hand-written tables): such a foreign key compares as removed and added again.
    Drop those pairs when SQLite itself says the key is the same, with its ON DELETE."""
    def key(fk):
        return (fk.table.name, tuple(c.name for c in fk.columns), fk.referred_table.name)

    removed = {key(d[1]): d for d in diffs if d[0] == "remove_fk"}
    kept = []
    for d in diffs:
        if d[0] == "add_fk" and key(d[1]) in removed:
            table, columns, referred = key(d[1])
            rows = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").all()
            assert any(r[2] == referred and r[3] == columns[0] and r[6] == (
                d[1].ondelete or "NO ACTION") for r in rows), (table, rows)
            removed.pop(key(d[1]))
        elif isinstance(d, list) and [op[0] for op in d] == ["modify_nullable"] and (
                d[0][2:4] == ("submissions", "id")):
            # « id INTEGER PRIMARY KEY » (the old SQL) is SQLite's rowid: never NULL,
            # though PRAGMA table_info does not say NOT NULL.
            continue
        elif d[0] != "remove_fk":
            kept.append(d)
    return kept + list(removed.values())


def _same_expression_indexes(conn) -> None:
    """What Alembic cannot compare on SQLite (expression indexes): the index of the
    schema module, compiled for SQLite, is the one in the database."""
    from sqlalchemy.schema import CreateIndex

    def norm(sql: str) -> str:
        return " ".join(sql.replace("(", " (").split()).lower()

    for table in schema.metadata.sorted_tables:
        for index in table.indexes:
            found = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                         "AND name = ?", (index.name,)).scalar()
            assert norm(found) == norm(str(CreateIndex(index).compile(conn))), index.name


def test_the_migrations_ship_with_the_package():
    """Every revision 0001…HEAD is a file of the package (found by setuptools: the
    migrations folders are packages), in one line from the first to the head."""
    from alembic.script import ScriptDirectory
    from setuptools import find_packages

    from cv_excel.store.db import MIGRATIONS_DIR, alembic_config

    packages = find_packages(str(ROOT), include=["cv_excel*"])
    assert {"cv_excel.store.migrations", "cv_excel.store.migrations.versions"} <= set(
        packages)
    scripts = ScriptDirectory.from_config(alembic_config(None))
    assert scripts.get_heads() == [schema.HEAD]
    chain = [r.revision for r in scripts.walk_revisions()]
    assert chain == [f"{n:04d}" for n in range(SCHEMA_VERSION, 0, -1)]
    assert all((MIGRATIONS_DIR / "versions").glob(f"{r}_*.py") for r in chain)


def test_the_store_does_not_import_intake_nor_intake_the_store():
    """The circle between the two folders is gone: checked on the source of every module
    (imports at any depth of the file) and in a fresh interpreter (importing every
    module of the store loads nothing of intake)."""
    import ast

    def imported(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
        return names

    pkg = ROOT / "cv_excel"
    for folder, forbidden in (("store", "cv_excel.intake"), ("intake", "cv_excel.store")):
        for path in sorted((pkg / folder).rglob("*.py")):
            bad = {n for n in imported(path) if n == forbidden or n.startswith(forbidden + ".")}
            assert not bad, f"{path.relative_to(ROOT)} importe {bad}"
    script = textwrap.dedent("""
        import importlib, pkgutil, sys
        import cv_excel.store
        for m in pkgutil.walk_packages(cv_excel.store.__path__, "cv_excel.store."):
            if ".migrations" not in m.name:
                importlib.import_module(m.name)
        print(sorted(n for n in sys.modules if n.startswith("cv_excel.intake")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]"


# --- the year read in one pass, kept on disk ---------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), unique=True).map(sorted),
       st.lists(st.tuples(st.integers(0, 30), st.integers()), max_size=60).map(sorted))
def test_children_are_walked_beside_their_parents(parents, children) -> None:
    """Both streams in the same order: each parent gets exactly its children, whatever
    children have no parent."""
    got = list(_with_children(parents, children, lambda p: p, lambda c: c[0]))
    assert got == [(p, [c for c in children if c[0] == p]) for p in parents]


def test_the_year_comes_from_the_store_one_record_at_a_time(store) -> None:
    """Actions and bilans are kept on disk; each holds exactly its rows of the store."""
    data = load_year(store, CONTRAT, ANNEE)
    assert isinstance(data.actions, SpilledList) and isinstance(data.bilans, SpilledDict)
    assert [a.numero for a in data.actions] == sorted(a.numero for a in data.actions)
    with store.lecture() as conn:
        pf, bl = schema.programmation_financements, schema.budget_lignes
        money = {}
        for r in conn.execute(select(pf).where(pf.c.contrat == CONTRAT, pf.c.annee == ANNEE)
                              ).mappings():
            money.setdefault(r["numero"], {})[r["financeur"]] = r["accorde"]
        lines = {}
        for r in conn.execute(select(bl).order_by(bl.c.rang)).mappings():
            lines.setdefault((r["submission_id"], r["numero"]), []).append(
                (r["tableau"], r["ligne"], r["prevu"], r["realise"]))
    assert len(data.actions) == len(money) > 10
    for action in data.actions:
        assert {k: str(v) for k, v in action.accorde.items()} == {
            k: str(extract.as_decimal(v) or Decimal("0.00"))
            for k, v in money[action.numero].items()}
    assert len(data.bilans) > 10
    for numero, bilan in data.bilans.items():
        assert bilan.numero == numero
        assert [(b.tableau, b.ligne, None if b.prevu is None else str(b.prevu),
                 None if b.realise is None else str(b.realise)) for b in bilan.budget] == [
            (t, li, None if p is None else str(extract.as_decimal(p)),
             None if r is None else str(extract.as_decimal(r)))
            for t, li, p, r in lines[(bilan.submission_id, numero)]]
        assert bilan.budget  # every demo bilan has budget lines


# --- the year counted by the database (cells) ------------------------------------------------
_FINANCEURS = ("etat", "departement", "commune", "caf")
_amounts = st.one_of(st.none(), st.just(0), st.integers(1, 10_000_000_000))  # cents


@st.composite
def _year_rows(draw):
    """A year written straight into the store: actions with amounts (cents, up to the
    plausibility bound), bilans in several submissions — in force or replaced, the same
    numéro twice, numéros not programmed."""
    numeros = draw(st.lists(st.sampled_from([f"N-{i:02d}" for i in range(12)]),
                            unique=True, min_size=1, max_size=10))
    actions, financements = [], []
    for numero in numeros:
        actions.append({**_programmation_row(numero), "contrat": CONTRAT, "annee": ANNEE,
                        "objectif_operationnel": draw(st.sampled_from(["A111", "B21", "Z9"])),
                        "theme_anct": draw(st.sampled_from([None, "Emploi", "Santé"])),
                        "sous_theme_anct": draw(st.sampled_from([None, "Accès aux soins"])),
                        "dispositifs_etat": draw(st.sampled_from([None, "CLAS", "CLAS;VVV"])),
                        "departement_dispositif": draw(st.sampled_from([None, "EIP"]))})
        for financeur in draw(st.lists(st.sampled_from(_FINANCEURS), unique=True)):
            cents = draw(_amounts)
            financements.append({
                "contrat": CONTRAT, "annee": ANNEE, "numero": numero, "financeur": financeur,
                "accorde": None if cents is None else str(Decimal(cents).scaleb(-2))})
    submissions, bilans = [], []
    for sid in range(1, draw(st.integers(0, 4)) + 1):
        submissions.append({
            "id": sid, "sha256": f"h{sid}", "nom": f"f{sid}.xlsx", "type": "porteur",
            "recu_le": draw(st.sampled_from(["2020-01-01T09:00", "2020-02-01T09:00"])),
            "classeur_id": f"c{sid}", "contrat": CONTRAT, "annee": ANNEE,
            "destinataire_id": f"d{sid}", "destinataire": "x", "statut": "accepté",
            "bloquants": 0, "avertissements": 0, "findings_json": "[]", "nb_sections": 1,
            "donnees": draw(st.sampled_from([0, 1])), "importee_le": "2020-03-01T09:00"})
        for numero in draw(st.lists(st.sampled_from([*numeros, "HORS-PROG"]), unique=True)):
            total, femmes, hommes = (draw(st.one_of(st.none(), st.integers(0, 50)))
                                     for _ in range(3))
            bilans.append({
                "submission_id": sid, "numero": numero, "contrat": CONTRAT, "annee": ANNEE,
                "realisation": draw(st.sampled_from([None, "Réalisée", "En cours", "autre"])),
                "score": draw(st.sampled_from([None, 0, 40, 100])), "benef_total": total,
                "benef_femmes": femmes, "benef_hommes": hommes,
                "benef_qpv": draw(st.one_of(st.none(), st.integers(0, 50)))})
    return actions, financements, submissions, bilans


def test_the_database_counts_the_year_as_its_actions_and_bilans_say(store_at) -> None:
    """The cells the database makes (GROUP BY) are those made from the actions and bilans
    load_year gives, on both engines: the latest bilan in force of each numéro, amounts
    summed exactly to the cent, bilans of numéros not programmed left out."""
    store = open_store(store_at())
    tables = (schema.programmation_actions, schema.programmation_financements,
              schema.submissions, schema.bilans)

    @settings(max_examples=40, deadline=None)
    @given(_year_rows())
    def check(rows) -> None:
        with store.transaction() as conn:
            for table in (schema.bilans, schema.submissions,
                          schema.programmation_financements, schema.programmation_actions):
                conn.execute(table.delete())
            for table, values in zip(tables, rows, strict=True):
                if values:
                    conn.execute(insert(table), values)
        data = load_year(store, CONTRAT, ANNEE)
        assert data.cube == cube_of(data.actions, data.bilans)
        assert sum(c.actions for c in data.cube) == len(rows[0])
        accorde = sum((c.accorde.get("etat", Decimal(0)) for c in data.cube), Decimal(0))
        assert accorde == sum((Decimal(f["accorde"]) for f in rows[1]
                               if f["financeur"] == "etat" and f["accorde"]), Decimal(0))

    try:
        check()
    finally:
        store.close()


def test_the_demo_year_counted_by_the_database(store) -> None:
    """On the demo's whole cycle: several cells, bilans and realisations among them."""
    data = load_year(store, CONTRAT, ANNEE)
    assert data.cube == cube_of(data.actions, data.bilans)
    assert len(data.cube) > 5 and sum(c.bilans for c in data.cube) == len(data.bilans) > 10
    assert len({c.realisation for c in data.cube}) > 1 and len({c.score for c in data.cube}) > 2
