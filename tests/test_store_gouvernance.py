"""The store and the governance cycle: every return knows its revue, one return in force
per recipient and revue, the pictures of a revue and of the year, pilotes' and
coordonnateurs' syntheses, decisions numbered and followed from relevé to relevé,
indicator series over the years — and a store of the previous schema upgraded in place.
On both engines (``cycle``: the working folder's SQLite file, or a PostgreSQL database
given by ``CV_EXCEL_BASE``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, exc

from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.intake.run import ACCEPTE, ACCEPTE_AVERTISSEMENTS
from cv_excel.store.db import SCHEMA_VERSION, default_store_path, open_store, store_target
from cv_excel.store.queries import data_fingerprint, decisions_jusqua, load_year
from tests.revue_classeurs import (
    ANNEE,
    CONTRAT,
    COORDONNATEUR,
    OBJECTIF,
    PILOTE,
    REFERENT,
    Classeur,
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
from tests.store_ancien import store_at_version

T0 = dt.datetime(2019, 4, 1, 9, 0, tzinfo=dt.UTC)
ACCEPTES = (ACCEPTE, ACCEPTE_AVERTISSEMENTS)


class Cycle:
    """A working folder where returns are sent one validation run at a time."""

    def __init__(self, root: Path):
        self.work, self.ref = working_folder(root)
        self.inbox = root / "envois"
        self.inbox.mkdir()
        self.runs = 0

    def send(self, classeur: Classeur, fill, name: str, annee: int | None = None):
        book = Saisie(classeur.path, classeur.spec)
        fill(book)
        path = book.save(self.inbox / name)
        self.runs += 1
        run = valider_et_enregistrer(self.work, chemins=[path], ref=self.ref, annee=annee,
                                     now=T0 + dt.timedelta(hours=self.runs))
        (fichier,) = run.fichiers
        assert fichier.statut in ACCEPTES, [(f.code, f.message) for f in fichier.findings]
        return fichier

    def store(self):
        return open_store(store_target(self.work))


@pytest.fixture
def cycle(tmp_path, store_at, monkeypatch) -> Cycle:
    target = store_at()
    if not isinstance(target, Path):  # a server: the folder's configuration points to it
        monkeypatch.setenv("CV_EXCEL_BASE", target)
    cycle = Cycle(tmp_path / "dossier")
    assert store_target(cycle.work) == (
        target if not isinstance(target, Path) else default_store_path(cycle.work))
    return cycle


def _avancement(cycle: Cycle, revue: int | None, annee: int = ANNEE) -> tuple:
    with cycle.store() as store:
        data = load_year(store, CONTRAT, annee, revue)
    (suivi,) = data.suivis[OBJECTIF]
    return suivi.avancement, suivi.revue, suivi.indicateurs[0].valeur_annee


# --- revues -----------------------------------------------------------------------------


def test_two_revues_of_one_referent_give_two_pictures(cycle):
    r1 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=1), 1)
    r2 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=2), 2)
    cycle.send(r1, lambda b: fill_referent(b, "Engagé", 40), "r1.xlsx")
    cycle.send(r2, lambda b: fill_referent(b, "Avancé", 45.5), "r2.xlsx")

    assert _avancement(cycle, 1) == ("Engagé", 1, "40")
    assert _avancement(cycle, 2) == ("Avancé", 2, "45.5")
    assert _avancement(cycle, None) == ("Avancé", 2, "45.5")  # the latest revue
    with cycle.store() as store:
        data = load_year(store, CONTRAT, ANNEE, 3)
        assert data.suivis == {} and data.revue == 3
        data = load_year(store, CONTRAT, ANNEE)
    subs = {s.revue: s for s in data.submissions}
    assert set(subs) == {1, 2} and all(s.courante for s in subs.values())
    (suivi,) = data.suivis[OBJECTIF]
    assert suivi.referent_id == REFERENT
    assert [(p.etat, p.rang) for p in suivi.pistes] == [("Engagée", 1), ("Engagée", 2),
                                                         ("Engagée", 3)]
    first = suivi.indicateurs[0]
    assert (first.unite, first.valeur_reference, first.annee_reference, first.valeur_cible,
            first.panier) == ("enfants", "100", 2016, "150", "Conservé")
    assert first.libelle and not first.propose


def test_an_annual_return_ranks_after_the_revues_of_its_year(cycle):
    r2 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=2), 2)
    annual = write_workbook(cycle.work, referent_plan(cycle.ref, revue=None), None)
    cycle.send(annual, lambda b: fill_referent(b, "Atteint", 50), "annuel.xlsx")
    cycle.send(r2, lambda b: fill_referent(b, "Avancé", 45), "r2.xlsx")
    assert _avancement(cycle, None) == ("Atteint", None, "50")
    assert _avancement(cycle, 2) == ("Avancé", 2, "45")


def test_a_corrected_return_supersedes_within_its_revue_only(cycle):
    r1 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=1), 1)
    r2 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=2), 2)
    first = cycle.send(r1, lambda b: fill_referent(b, "Engagé", 40), "r1.xlsx")
    second = cycle.send(r2, lambda b: fill_referent(b, "Avancé", 45), "r2.xlsx")
    with cycle.store() as store:
        revue2 = load_year(store, CONTRAT, ANNEE, 2).suivis
    corrected = cycle.send(r1, lambda b: fill_referent(b, "En cours", 42), "r1 corrigé.xlsx")

    assert _avancement(cycle, 1) == ("En cours", 1, "42")
    with cycle.store() as store:
        data = load_year(store, CONTRAT, ANNEE, 2)
        assert data.suivis == revue2  # the other revue is untouched
        subs = {s.sha256: s for s in data.submissions}
    assert not subs[first.sha256].courante
    assert subs[first.sha256].remplacee_par == subs[corrected.sha256].id
    assert subs[second.sha256].courante and subs[corrected.sha256].courante


# --- pilotes and coordonnateurs ---------------------------------------------------------------


def test_syntheses_of_pilotes_and_coordonnateurs_by_level_and_revue(cycle):
    p1 = write_workbook(cycle.work, pilote_plan(cycle.ref, revue=1), 1)
    p2 = write_workbook(cycle.work, pilote_plan(cycle.ref, revue=2), 2)
    c1 = write_workbook(cycle.work, coordonnateur_plan(cycle.ref, revue=1), 1)
    cycle.send(p1, lambda b: fill_synthese(b, "Orange", "Retard sur A12."), "p1.xlsx")
    cycle.send(p2, lambda b: fill_synthese(b, "Vert", "Rattrapé."), "p2.xlsx")
    cycle.send(c1, lambda b: fill_synthese(b, "Rouge", "Orientation à corriger."), "c1.xlsx")
    with cycle.store() as store:
        one = load_year(store, CONTRAT, ANNEE, 1)
        latest = load_year(store, CONTRAT, ANNEE)
    assert sorted(one.syntheses) == ["A12", "A2", "A22", "B21"]
    (a12,) = one.syntheses["A12"]
    assert (a12.niveau, a12.auteur_id, a12.revue, a12.rag, a12.synthese, a12.avancement) == (
        "strategique", PILOTE, 1, "Orange", "Retard sur A12.", "En cours")
    (a2,) = one.syntheses["A2"]
    assert (a2.niveau, a2.auteur_id, a2.rag) == ("orientation", COORDONNATEUR, "Rouge")
    (a12,) = latest.syntheses["A12"]
    assert (a12.revue, a12.rag) == (2, "Vert")
    (a2,) = latest.syntheses["A2"]  # no return at revue 2: the latest one is revue 1's
    assert (a2.revue, a2.rag) == (1, "Rouge")


# --- decisions --------------------------------------------------------------------------------


def test_a_decision_opened_at_revue_1_and_closed_at_revue_2(cycle):
    rel1 = write_workbook(cycle.work, releve_plan(cycle.ref, "A", revue=1), 1)
    cycle.send(rel1, lambda b: fill_releve(b, nouvelles=[
        {"decision": "Ouvrir un second atelier", "type": "Action corrective", "code": "a12",
         "responsable": "Direction de la culture", "echeance": dt.datetime(2019, 6, 30)},
        {},  # an empty row: no decision, no number
        {"decision": "Arbitrer le budget du pilier", "responsable": "DGS",
         "echeance": dt.datetime(2019, 12, 31), "statut": "En cours"},
    ]), "relevé 1.xlsx")
    with cycle.store() as store:
        opened = decisions_jusqua(store, CONTRAT, ANNEE, 1)
    assert [(d.numero, d.code, d.statut, d.ouverte) for d in opened] == [
        ("A-2019-R1-01", "A12", "Ouverte", True), ("A-2019-R1-03", "A", "En cours", True)]
    first = opened[0]
    assert (first.pilier, first.type, first.responsable, first.echeance) == (
        "A", "Action corrective", "Direction de la culture", dt.date(2019, 6, 30))
    assert (first.ouverte_annee, first.ouverte_revue, first.maj_revue) == (2019, 1, 1)

    suivi = [{"numero": d.numero, "decision": d.decision, "code": d.code,
              "responsable": d.responsable, "echeance": d.echeance, "statut": d.statut}
             for d in opened]
    rel2 = write_workbook(cycle.work, releve_plan(cycle.ref, "A", revue=2, suivi=suivi), 2)

    def close_first(book: Saisie) -> None:
        fill_releve(book, dt.date(2019, 7, 5))
        sheet = book.sections[0]
        book.set_t(sheet, "dec_suivi", 1, "statut", "Réalisée")
        book.set_t(sheet, "dec_suivi", 1, "commentaire", "Atelier ouvert en juin.")

    cycle.send(rel2, close_first, "relevé 2.xlsx")
    with cycle.store() as store:
        at1 = load_year(store, CONTRAT, ANNEE, 1).decisions
        at2 = load_year(store, CONTRAT, ANNEE, 2).decisions
        end = load_year(store, CONTRAT, ANNEE).decisions
        next_year = decisions_jusqua(store, CONTRAT, ANNEE + 1, 1)
    assert [(d.numero, d.statut, d.ouverte) for d in at1] == [
        ("A-2019-R1-01", "Ouverte", True), ("A-2019-R1-03", "En cours", True)]
    assert [(d.numero, d.statut, d.ouverte) for d in at2] == [
        ("A-2019-R1-01", "Réalisée", False), ("A-2019-R1-03", "En cours", True)]
    closed = at2[0]
    assert (closed.commentaire, closed.type, closed.code, closed.decision) == (
        "Atelier ouvert en juin.", "Action corrective", "A12", "Ouvrir un second atelier")
    assert (closed.ouverte_annee, closed.ouverte_revue, closed.maj_annee,
            closed.maj_revue) == (2019, 1, 2019, 2)
    assert end == at2 and next_year == at2


def test_a_decision_number_unknown_to_the_store_keeps_its_opening(cycle):
    """A relevé following up a decision the store never saw (a store rebuilt from part
    of the returns): its opening comes from its number."""
    suivi = [{"numero": "A-2019-R1-02", "decision": "Décision ancienne", "code": "A1",
              "responsable": "DGS", "echeance": dt.date(2019, 12, 1), "statut": "Ouverte"}]
    rel2 = write_workbook(cycle.work, releve_plan(cycle.ref, "A", revue=2, suivi=suivi), 2)
    cycle.send(rel2, lambda b: fill_releve(b, dt.date(2019, 7, 5)), "relevé 2.xlsx")
    with cycle.store() as store:
        (d,) = decisions_jusqua(store, CONTRAT, ANNEE, 2)
        assert decisions_jusqua(store, CONTRAT, ANNEE, 1) == []
    assert (d.numero, d.ouverte_annee, d.ouverte_revue, d.maj_revue, d.ouverte) == (
        "A-2019-R1-02", 2019, 1, 2, True)


# --- indicator series ---------------------------------------------------------------------


def test_indicator_series_over_two_years(cycle):
    old = write_workbook(cycle.work, referent_plan(cycle.ref, annee=2018, revue=None), None)
    cycle.send(old, lambda b: _at_year(b, 2018, 30), "2018.xlsx", annee=2018)
    r1 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=1), 1)
    r2 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=2), 2)
    cycle.send(r1, lambda b: fill_referent(b, valeur=40), "r1.xlsx")
    cycle.send(r2, lambda b: _na_with_new_unit(b), "r2.xlsx")

    with cycle.store() as store:
        at1 = _serie(load_year(store, CONTRAT, ANNEE, 1).series)
        end = _serie(load_year(store, CONTRAT, ANNEE).series)
        before = _serie(load_year(store, CONTRAT, 2018).series)
    assert at1.valeurs == {2018: Decimal(30), 2019: Decimal(40)}
    # « non disponible » at revue 2 never replaces revue 1's figure
    assert end.valeurs == {2018: Decimal(30), 2019: Decimal(40)}
    assert before.valeurs == {2018: Decimal(30)}
    assert (at1.unite, end.unite) == ("enfants", "enfants inscrits")  # the latest given
    assert (end.valeur_reference, end.annee_reference, end.valeur_cible, end.panier) == (
        Decimal(100), 2016, Decimal(150), "Abandonné")
    assert (end.code, end.propose) == (OBJECTIF, False)


def _at_year(book: Saisie, annee: int, valeur) -> None:
    fill_referent(book, valeur=valeur)
    book.set("Référent", "ref_date", dt.datetime(annee, 12, 10))


def _na_with_new_unit(book: Saisie) -> None:
    fill_referent(book, valeur="non disponible")
    sheet = book.sections[0]
    book.set_t(sheet, "obj_indicateurs", 1, "unite", "enfants inscrits")
    book.set_t(sheet, "obj_indicateurs", 1, "panier", "Abandonné")


def _serie(series):
    (serie,) = [s for s in series if s.code == OBJECTIF and s.valeurs]
    return serie


# --- fingerprint ------------------------------------------------------------------------------


def test_the_fingerprint_follows_every_kind_of_governance_data(cycle):
    def fingerprint(revue=None) -> str:
        with cycle.store() as store:
            return data_fingerprint(store, CONTRAT, ANNEE, revue)

    seen = {fingerprint()}
    r1 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=1), 1)
    cycle.send(r1, fill_referent, "r1.xlsx")
    seen.add(fingerprint())

    def other_piste(book: Saisie) -> None:  # only a piste's state changes
        fill_referent(book)
        book.set_t(book.sections[0], "obj_pistes", 2, "etat", "Réalisée")

    cycle.send(r1, other_piste, "r1 piste.xlsx")
    seen.add(fingerprint())
    p1 = write_workbook(cycle.work, pilote_plan(cycle.ref, revue=1), 1)
    cycle.send(p1, fill_synthese, "p1.xlsx")
    seen.add(fingerprint())
    rel = write_workbook(cycle.work, releve_plan(cycle.ref, "A", revue=1), 1)
    cycle.send(rel, lambda b: fill_releve(b, nouvelles=[
        {"decision": "Décider", "responsable": "DGS", "echeance": dt.datetime(2019, 9, 1)}]),
        "relevé.xlsx")
    seen.add(fingerprint())
    assert len(seen) == 5
    assert fingerprint(1) != fingerprint(None)  # the picture says which revue it is
    assert fingerprint(1) == fingerprint(1)


def test_the_fingerprint_follows_the_series_of_earlier_years(cycle):
    before = None
    with cycle.store() as store:
        before = data_fingerprint(store, CONTRAT, ANNEE)
    old = write_workbook(cycle.work, referent_plan(cycle.ref, annee=2018, revue=None), None)
    cycle.send(old, lambda b: _at_year(b, 2018, 30), "2018.xlsx", annee=2018)
    with cycle.store() as store:
        assert data_fingerprint(store, CONTRAT, ANNEE) != before
        assert load_year(store, CONTRAT, ANNEE).submissions == []  # only the series moved


# --- schema -------------------------------------------------------------------------------


_SUB = ("INSERT INTO submissions (id, sha256, nom, recu_le, type, classeur_id, contrat, "
        "annee, destinataire_id, destinataire, statut, bloquants, avertissements, "
        "findings_json, donnees, importee_le, remplacee_par) VALUES (?, ?, ?, ?, 'referent', "
        "'id', 'c', 2019, 'ref-1', 'Service', 'accepté', 0, 0, '[]', 1, '2019-03-01', ?)")

_NAMED = (_SUB.replace("remplacee_par)", "remplacee_par, revue)")
          .replace("VALUES (?, ?, ?, ?,", "VALUES (:id, :sha, :nom, :recu,")
          .replace("?)", ":remplacee_par, :revue)"))


def _row(*values) -> dict:
    return dict(zip(("id", "sha", "nom", "recu", "remplacee_par", "revue"), values,
                    strict=True))


def test_a_store_of_schema_5_gets_the_revues_in_place(tmp_path):
    """Migration 6 (revues, syntheses, decisions, indicator columns, pistes) upgrades a
    store of schema 5 in place: its history stays, as annual returns, and a return per
    revue can then be in force beside them."""
    path = tmp_path / "v5.sqlite"
    raw = store_at_version(path, 5)
    raw.execute(_SUB, (2, "new", "suivi v2.xlsx", "2019-03-02", None))
    raw.execute(_SUB, (1, "old", "suivi v1.xlsx", "2019-03-01", 2))
    for sub, avancement in ((1, "Engagé"), (2, "En cours")):
        raw.execute("INSERT INTO suivis (submission_id, code, contrat, annee, referent_id, "
                    "avancement) VALUES (?, 'A121', 'c', 2019, 'ref-1', ?)", (sub, avancement))
        raw.execute("INSERT INTO indicateurs (submission_id, code, propose, rang, libelle, "
                    "valeur_annee) VALUES (?, 'A121', 0, 1, 'Enfants', '72 %')", (sub,))
    raw.commit()
    raw.close()

    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION >= 6
        data = load_year(store, "c", 2019)
        (suivi,) = data.suivis["A121"]
        assert (suivi.avancement, suivi.revue, suivi.pistes) == ("En cours", None, [])
        (ind,) = suivi.indicateurs
        assert (ind.valeur_annee, ind.unite, ind.panier, ind.cible_fiche) == (
            "72 %", None, None, None)
        assert [(s.nom, s.courante, s.revue) for s in data.submissions] == [
            ("suivi v1.xlsx", False, None), ("suivi v2.xlsx", True, None)]
        assert data.syntheses == {} and data.decisions == []
        (serie,) = data.series  # an old free text is no figure
        assert (serie.libelle, serie.valeurs) == ("Enfants", {})
        store.execute(_NAMED, _row(3, "r1", "revue 1.xlsx", "2019-04-01", None, 1))
        with pytest.raises(exc.IntegrityError):  # one return in force per revue, beside it
            store.execute(_NAMED, _row(4, "r1bis", "revue 1 bis.xlsx", "2019-04-02", None, 1))
        with pytest.raises(exc.IntegrityError):
            store.execute(_NAMED, _row(5, "annual", "annuel.xlsx", "2019-04-02", None, None))
        assert [s.revue for s in load_year(store, "c", 2019).submissions] == [None, None, 1]
        index = store.execute("SELECT sql FROM sqlite_master WHERE name = "
                              "'submissions_courante'")[0][0]
        assert "COALESCE(revue, 0)" in index


def test_governance_queries_use_indexes(tmp_path):
    """No full scan of a data table: the queries go through the submissions' indexes
    (SQLite's query plans of every SELECT of ``load_year``, with their parameters)."""
    cycle = Cycle(tmp_path / "dossier")
    r1 = write_workbook(cycle.work, referent_plan(cycle.ref, revue=1), 1)
    cycle.send(r1, fill_referent, "r1.xlsx")
    with cycle.store() as store:
        traced: list[tuple] = []

        def trace(conn, cursor, statement, parameters, context, executemany):
            traced.append((statement, parameters))

        event.listen(store.engine, "before_cursor_execute", trace)
        load_year(store, CONTRAT, ANNEE, 1)
        event.remove(store.engine, "before_cursor_execute", trace)
        plans = []
        with store.engine.connect() as conn:
            for sql, parameters in traced:
                if sql.lstrip().upper().startswith("SELECT"):
                    plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
                    plans += [row[3] for row in plan]
    scans = [p for p in plans if p.startswith("SCAN") and any(
        t in p for t in ("indicateurs", "pistes", "syntheses", "decisions", "suivis"))]
    assert plans and scans == []
