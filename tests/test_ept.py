"""The EPT's synthesis: several contrats de ville in one store, side by side.

Two kinds of evidence. A small store written row by row (on SQLite and on a real
PostgreSQL server): three contrats — one with returns of every kind (in force, replaced,
rejected, missing), one with a programmation and no return, one known only for another
year — whose expected figures are computed here, naively in Python, from every row of
the store. And the demo, whose second fictitious contrat shares the first one's store:
the command lists both, and its figures agree with each folder's own programmation and
with the store's public reading (``queries.load_year``), contrat by contrat.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import zipfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.config import DossierTravail, write_config
from cv_excel.consolidation.ept import (
    AucunContratPourLAnnee,
    consolider_ept,
    output_names,
    synthese_ept,
)
from cv_excel.demo.autre_contrat import AUTRE_CONTRAT, AUTRE_DOSSIER, BASE_PARTAGEE
from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.store.db import open_store, store_target
from cv_excel.store.queries import load_year
from cv_excel.store.schema import (
    bilans,
    programmation_actions,
    programmation_financements,
    submissions,
    suivis,
)

ANNEE = 2019
ALPHA, BETA, GAMMA = "alpha-2019-2022", "beta-2019-2022", "gamma-2015-2018"
NOW = dt.datetime(2020, 2, 3, 9, 30, tzinfo=dt.UTC)
runner = CliRunner()


# --- a store written row by row -----------------------------------------------------------
def _action(contrat: str, annee: int, numero: str, porteur: str, oo: str,
            theme: str | None, sous_theme: str | None = None) -> dict:
    return {"contrat": contrat, "annee": annee, "numero": numero, "porteur_siret": porteur,
            "porteur_raison_sociale": f"Porteur {porteur} (fictif)",
            "porteur_type": "Association", "porteur_contact": "Contact fictif",
            "porteur_email": "porteur@example.org", "intitule": f"Action {numero}",
            "objectif_operationnel": oo, "theme_anct": theme, "sous_theme_anct": sous_theme,
            "territoire": "QPV", "indicateur": "Indicateur fictif",
            "mode_recueil": "Données d'activités"}


def _money(contrat: str, annee: int, numero: str, financeur: str, demande: str | None,
           accorde: str | None, verse: str | None) -> dict:
    return {"contrat": contrat, "annee": annee, "numero": numero, "financeur": financeur,
            "demande": demande, "accorde": accorde, "verse": verse}


def _submission(id_: int, contrat: str, annee: int, type_: str, destinataire: str,
                statut: str = "accepté", donnees: int = 1, remplacee_par: int | None = None,
                revue: int | None = None, jour: int = 10) -> dict:
    return {"id": id_, "sha256": f"{id_:064x}", "nom": f"retour {id_}.xlsx",
            "recu_le": f"{annee + 1}-01-{jour:02d}T10:00:00+01:00", "type": type_,
            "classeur_id": f"classeur-{id_}", "contrat": contrat, "annee": annee,
            "destinataire_id": destinataire, "destinataire": f"Destinataire {destinataire}",
            "statut": statut, "bloquants": 0 if donnees else 1, "avertissements": 0,
            "findings_json": "[]", "nb_sections": 1, "donnees": donnees,
            "importee_le": f"{annee + 1}-01-{jour:02d}T10:00:01+01:00",
            "remplacee_par": remplacee_par, "revue": revue}


def _bilan(submission_id: int, numero: str, contrat: str, annee: int,
           score: int | None) -> dict:
    return {"submission_id": submission_id, "numero": numero, "contrat": contrat,
            "annee": annee, "realisation": "Réalisée", "score": score}


def _suivi(submission_id: int, code: str, contrat: str, annee: int, referent: str) -> dict:
    return {"submission_id": submission_id, "code": code, "contrat": contrat, "annee": annee,
            "referent_id": referent, "avancement": "En cours"}


def _fill(store, contrat_alpha: str = ALPHA, theme_alpha: str | None = "1 Cohésion sociale"
          ) -> None:
    """Three contrats. Alpha 2019: 6 actions of 4 porteurs — P1 answered (one note, one
    bilan without note), P2 answered twice (the first return replaced), P3 was rejected,
    P4 never answered; two référents, one of whom answered (revue 1) then answered again
    (revue 2); amounts with cents, one in an older shape (« 100 »), empty ones. Alpha 2018:
    one action and one return (another year: never counted). Beta 2019: 3 actions, no
    return. Gamma: 2018 only."""
    a = contrat_alpha
    actions = [
        _action(a, ANNEE, "A-1", "P1", "A111", theme_alpha),
        _action(a, ANNEE, "A-2", "P1", "A112", "1 Cohésion sociale"),
        _action(a, ANNEE, "A-3", "P2", "B113", None, "2.1 Emploi"),
        _action(a, ANNEE, "A-4", "P3", "C121", "3 Cadre de vie et renouvellement urbain"),
        _action(a, ANNEE, "A-5", "P4", "T112", None),
        _action(a, ANNEE, "A-6", "P4", "A111", "1 Cohésion sociale"),
        _action(a, 2018, "A-2018", "P1", "A111", "1 Cohésion sociale"),
        _action(BETA, ANNEE, "B-1", "Q1", "A111", "1 Cohésion sociale"),
        _action(BETA, ANNEE, "B-2", "Q1", "B113", "2 Développement économique et emploi"),
        _action(BETA, ANNEE, "B-3", "Q2", "ZZ99", "1 Cohésion sociale"),  # not in the kit
        _action(GAMMA, 2018, "G-1", "R1", "A111", "1 Cohésion sociale"),
    ]
    money = [
        _money(a, ANNEE, "A-1", "etat", "1500.50", "1200.25", "600.10"),
        _money(a, ANNEE, "A-1", "ville", "800.00", "800.00", "800.00"),
        _money(a, ANNEE, "A-2", "etat", "300.33", "300.33", None),
        _money(a, ANNEE, "A-3", "ville", "100", "100", "50"),  # an older store's shape
        _money(a, ANNEE, "A-4", "caf", "999.99", "0.00", "0.00"),  # asked, refused
        _money(a, ANNEE, "A-5", "departement", None, None, None),
        _money(a, ANNEE, "A-6", "ept", "0.10", "0.10", "0.10"),
        _money(a, 2018, "A-2018", "etat", "5000.00", "5000.00", "5000.00"),
        _money(BETA, ANNEE, "B-1", "etat", "2000.00", "1999.99", "1000.00"),
        _money(BETA, ANNEE, "B-2", "region", "700.00", "650.00", "650.00"),
        _money(GAMMA, 2018, "G-1", "etat", "100.00", "100.00", "100.00"),
    ]
    subs = [
        _submission(1, a, ANNEE, "porteur", "P1", jour=5),
        _submission(2, a, ANNEE, "porteur", "P2", remplacee_par=3, jour=6),
        _submission(3, a, ANNEE, "porteur", "P2", jour=20),
        _submission(4, a, ANNEE, "porteur", "P3", statut="rejeté", donnees=0, jour=7),
        _submission(5, a, ANNEE, "referent", "R-A", revue=1, jour=8),
        _submission(6, a, ANNEE, "referent", "R-A", revue=2, jour=25),
        _submission(7, a, ANNEE, "referent", "R-B", statut="rejeté", donnees=0, revue=2),
        _submission(8, a, 2018, "porteur", "P1", jour=9),
        _submission(9, GAMMA, 2018, "porteur", "R1", jour=9),
    ]
    rows_bilans = [
        _bilan(1, "A-1", a, ANNEE, 80), _bilan(1, "A-2", a, ANNEE, None),
        _bilan(2, "A-3", a, ANNEE, 20), _bilan(3, "A-3", a, ANNEE, 60),
        _bilan(8, "A-2018", a, 2018, 100), _bilan(9, "G-1", GAMMA, 2018, 40),
    ]
    rows_suivis = [_suivi(5, "A111", a, ANNEE, "R-A"), _suivi(5, "A112", a, ANNEE, "R-A"),
                   _suivi(6, "A111", a, ANNEE, "R-A")]
    with store.transaction() as conn:
        conn.execute(insert(programmation_actions), actions)
        conn.execute(insert(programmation_financements), money)
        # a replaced submission after the one replacing it (foreign key, one in force)
        conn.execute(insert(submissions), [s for s in subs if s["remplacee_par"] is None])
        conn.execute(insert(submissions), [s for s in subs if s["remplacee_par"] is not None])
        conn.execute(insert(bilans), rows_bilans)
        conn.execute(insert(suivis), rows_suivis)


def _all(store, table) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def _expected(store, annee: int) -> dict[str, dict]:
    """Per contrat, the figures counted one row at a time from every row of the store."""
    actions = [r for r in _all(store, programmation_actions) if r["annee"] == annee]
    money = [r for r in _all(store, programmation_financements) if r["annee"] == annee]
    subs = {r["id"]: r for r in _all(store, submissions)}
    in_force = {i: s for i, s in subs.items() if s["donnees"] == 1
                and s["remplacee_par"] is None and s["annee"] == annee}
    notes = {}  # (contrat, numero) -> note of the bilan in force
    for b in _all(store, bilans):
        s = in_force.get(b["submission_id"])
        if s is not None:
            notes[(s["contrat"], b["numero"])] = b["score"]
    out: dict[str, dict] = defaultdict(lambda: {
        "actions": 0, "porteurs": set(), "bilans": 0, "notes": Counter(), "non_renseigne": 0,
        "sans_bilan": 0, "accorde": defaultdict(Decimal), "demande": defaultdict(Decimal),
        "verse": defaultdict(Decimal), "referents": set(), "objectifs": set()})
    for a in actions:
        e = out[a["contrat"]]
        e["actions"] += 1
        e["porteurs"].add(a["porteur_siret"])
        key = (a["contrat"], a["numero"])
        if key not in notes:
            e["sans_bilan"] += 1
        else:
            e["bilans"] += 1
            if notes[key] is None:
                e["non_renseigne"] += 1
            else:
                e["notes"][notes[key]] += 1
    for m in money:
        for name in ("demande", "accorde", "verse"):
            out[m["contrat"]][name][m["financeur"]] += Decimal(m[name] or 0)
    for s in in_force.values():
        if s["type"] == "referent":
            out[s["contrat"]]["referents"].add(s["destinataire_id"])
    for v in _all(store, suivis):
        s = in_force.get(v["submission_id"])
        if s is not None:
            out[s["contrat"]]["objectifs"].add(v["code"])
    return dict(out)


@pytest.fixture
def filled(store_at):
    with open_store(store_at()) as store:
        _fill(store)
        yield store


def test_should_list_every_contrat_of_the_store_with_its_own_counts(filled, tmp_path):
    result = consolider_ept(filled, ANNEE, tmp_path / "sorties", now=NOW)
    expected = _expected(filled, ANNEE)
    lines = {c.contrat: c for c in result.synthese.contrats}
    assert sorted(lines) == [ALPHA, BETA, GAMMA]  # every contrat, the idle one too
    assert sorted(result.synthese.avec_donnees) == [ALPHA, BETA]
    for code in (ALPHA, BETA):
        e, line = expected[code], lines[code]
        assert (line.actions, line.porteurs, line.bilans) == (
            e["actions"], len(e["porteurs"]), e["bilans"]), code
        assert line.referents == len(e["referents"])
        assert line.objectifs_suivis == len(e["objectifs"])
        assert line.accorde == sum(e["accorde"].values(), Decimal(0))
    # alpha by hand too: 6 actions of 4 porteurs; bilans in force for only
    assert (lines[ALPHA].actions, lines[ALPHA].porteurs, lines[ALPHA].bilans) == (6, 4, 3)
    assert lines[ALPHA].referents == 1 and lines[ALPHA].objectifs_suivis == 2
    (alpha,) = [c for c in result.synthese.completude if c.contrat == ALPHA]
    assert (alpha.porteurs_a_jour, alpha.porteurs_a_corriger, alpha.porteurs_sans_retour) \
        == (2, 1, 1)  # P1 and P2; P3 rejected; P4 silent
    assert alpha.revues == [1, 2]
    # the workbook's « Contrats » sheet holds the same lines
    wb = load_workbook(result.dossier / output_names(ANNEE)["synthese"])
    assert wb.sheetnames == ["Lisez-moi", "Contrats", "Scores", "Financements", "Complétude"]
    sheet = {r[0]: r for r in wb["Contrats"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert sheet[ALPHA][2:5] == (6, 4, 3) and sheet[BETA][2:5] == (3, 2, 0)
    assert sheet["Total EPT"][2] == 9


def test_should_distribute_the_notes_over_every_programmed_action(filled, tmp_path):
    synthese = consolider_ept(filled, ANNEE, tmp_path / "sorties", now=NOW).synthese
    expected = _expected(filled, ANNEE)
    for code in (ALPHA, BETA):
        rows = [x for x in synthese.scores if x.contrat == code]
        assert sum(x.actions for x in rows) == expected[code]["actions"]
        notes = Counter()
        for x in rows:
            notes.update({n: k for n, k in x.notes.items() if k})
        assert notes == expected[code]["notes"]
        assert sum(x.non_renseigne for x in rows) == expected[code]["non_renseigne"]
        assert sum(x.sans_bilan for x in rows) == expected[code]["sans_bilan"]
    by_key = {(x.contrat, x.pilier[:1], x.theme): x for x in synthese.scores}
    # A-3's first return (note 20) was replaced: only the note 60 of the second counts; its
    # thème comes from its sous-thème « 2.1 Emploi »
    b = by_key[(ALPHA, "B", "2 Développement économique et emploi")]
    assert b.notes[60] == 1 and b.notes[20] == 0 and b.moyenne == Decimal("60.0")
    a = by_key[(ALPHA, "A", "1 Cohésion sociale")]  # A-1 (80), A-2 (no note), A-6 (none)
    assert (a.notes[80], a.non_renseigne, a.sans_bilan, a.moyenne) == (1, 1, 1, Decimal(80))
    assert by_key[(ALPHA, "T", "Thème non renseigné")].sans_bilan == 1
    assert by_key[(BETA, "O", "1 Cohésion sociale")].pilier == \
        "Objectif non rattaché au référentiel"  # ZZ99 is no objective of the kit
    wb = load_workbook(tmp_path / "sorties" / str(ANNEE) / "EPT" / output_names(ANNEE)[
        "synthese"])
    header = [c.value for c in wb["Scores"][4]]
    assert header[3:9] == [f"Note {n}" for n in PALIERS]
    total = next(r for r in wb["Scores"].iter_rows(min_row=5, values_only=True)
                 if r[0] == "Total EPT")
    assert total[header.index("Actions")] == 9


def test_should_sum_money_per_financeur_exactly_as_the_programmation(filled, tmp_path):
    synthese = consolider_ept(filled, ANNEE, tmp_path / "sorties", now=NOW).synthese
    expected = _expected(filled, ANNEE)
    got = {(x.contrat, x.financeur): x for x in synthese.financements}
    for code in (ALPHA, BETA):
        for financeur, accorde in expected[code]["accorde"].items():
            demande = expected[code]["demande"][financeur]
            verse = expected[code]["verse"][financeur]
            if not (accorde or demande or verse):
                assert (code, financeur) not in got  # never asked, never given: no line
                continue
            line = got[(code, financeur)]
            assert (line.demande, line.accorde, line.verse) == (demande, accorde, verse)
    assert got[(ALPHA, "etat")].accorde == Decimal("1500.58")  # 1200.25 + 300.33, exact
    assert got[(ALPHA, "ville")].accorde == Decimal("900.00")  # with the older « 100 »
    assert got[(ALPHA, "caf")].actions == 0 and got[(ALPHA, "caf")].demande == Decimal(
        "999.99")  # asked and refused: financed nothing
    assert got[(ALPHA, "etat")].taux_versement == pytest.approx(600.10 / 1500.58)
    financees = {(m["contrat"], m["numero"]) for m in _all(filled, programmation_financements)
                 if m["annee"] == ANNEE and Decimal(m["accorde"] or 0)}
    assert synthese.actions_financees == dict(Counter(c for c, _ in financees))
    assert synthese.actions_financees[ALPHA] == 4  # A-6 (not)
    # the CSV: UTF-8 with BOM, « ; », decimal comma — as the project's other CSVs
    path = tmp_path / "sorties" / str(ANNEE) / "EPT" / output_names(ANNEE)["financements"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    (etat,) = [r for r in rows if r["Contrat"] == ALPHA and r["Financeur"] == "État (BOP 147)"]
    assert etat["Accordé"] == "1500,58" and etat["Versé"] == "600,10"
    assert {r["Financeur"] for r in rows} <= {f.libelle for f in FINANCEURS}


def test_should_give_zeros_to_a_contrat_without_returns_and_a_note_to_an_idle_one(
        filled, tmp_path):
    result = consolider_ept(filled, ANNEE, tmp_path / "sorties", now=NOW)
    lines = {c.contrat: c for c in result.synthese.contrats}
    beta = lines[BETA]
    assert (beta.actions, beta.bilans, beta.referents, beta.taux_completude) == (3, 0, 0, 0)
    assert "aucun retour" in beta.note.lower()
    (c_beta,) = [c for c in result.synthese.completude if c.contrat == BETA]
    assert (c_beta.porteurs, c_beta.porteurs_a_jour, c_beta.porteurs_sans_retour) == (2, 0, 2)
    assert sum(x.sans_bilan for x in result.synthese.scores if x.contrat == BETA) == 3
    gamma = lines[GAMMA]
    assert (gamma.actions, gamma.bilans, gamma.accorde) == (0, 0, Decimal(0))
    assert f"Aucune donnée pour {ANNEE}" in gamma.note
    wb = load_workbook(result.dossier / output_names(ANNEE)["synthese"])
    contrats = [r[0] for r in wb["Contrats"].iter_rows(min_row=5, values_only=True)]
    assert GAMMA in contrats  # listed, not left out
    money = [r for r in wb["Financements"].iter_rows(min_row=5, values_only=True)
             if r[0] == GAMMA]
    assert money and money[0][1] == f"Aucun financement programmé en {ANNEE}"
    lisez_moi = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(min_row=4, values_only=True)
                 if r[0]}
    assert lisez_moi["Contrats sans donnée pour l'année"] == GAMMA
    assert lisez_moi["Base de données"] == filled.describe()


def test_should_fail_in_french_when_no_contrat_has_the_year(filled, tmp_path):
    with pytest.raises(AucunContratPourLAnnee, match="aucun contrat pour l'année 2030"):
        consolider_ept(filled, 2030, tmp_path / "sorties", now=NOW)
    assert not (tmp_path / "sorties").exists()  # nothing written


def test_should_never_write_a_formula_from_a_text_of_the_store(tmp_path):
    """A contrat code or a thème typed « =… », « +… », « @… » reaches the workbook as a
    text (no formula cell) and the CSV with the usual apostrophe."""
    with open_store(tmp_path / "cv_excel.sqlite") as store:
        _fill(store, contrat_alpha='=HYPERLINK("http://example.org","clic")',
              theme_alpha="@SOMME(A1:A9)")
        result = consolider_ept(store, ANNEE, tmp_path / "sorties", now=NOW)
    path = result.dossier / output_names(ANNEE)["synthese"]
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
    wb = load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "@")):
                    seen += 1
    assert seen >= 3  # the code in « Contrats », « Scores », « Financements »…
    for name in ("contrats", "scores", "financements", "completude"):
        text = (result.dossier / output_names(ANNEE)[name]).read_text("utf-8-sig")
        cells = [c for r in csv.reader(text.splitlines(), delimiter=";") for c in r]
        assert not any(c.startswith(("=", "+", "@")) for c in cells), name
        assert any(c.startswith("'=HYPERLINK") for c in cells), name


class _CountingConnection:
    """A connection that counts the rows the database hands back to Python."""

    def __init__(self, conn):
        self.conn, self.rows = conn, 0

    def execute(self, statement):
        rows = list(self.conn.execute(statement))
        self.rows += len(rows)
        return rows


def _bulk(store, contrat: str, n: int) -> None:
    """``n`` actions of 20 porteurs over 4 objectives, each with two financeurs; every
    second porteur answered (notes 60 or 80)."""
    oos = ("A111", "B113", "C121", "T112")
    actions = [_action(contrat, ANNEE, f"N-{i:05d}", f"S{i % 20:02d}", oos[i % 4],
                       "1 Cohésion sociale") for i in range(n)]
    money = [_money(contrat, ANNEE, a["numero"], f, "1000.00", "750.50", "500.25")
             for a in actions for f in ("etat", "ville")]
    subs = [_submission(k + 1, contrat, ANNEE, "porteur", f"S{k:02d}") for k in range(0, 20, 2)]
    notes = [_bilan(int(a["porteur_siret"][1:]) + 1, a["numero"], contrat, ANNEE,
                    (60, 80)[i % 2]) for i, a in enumerate(actions)
             if int(a["porteur_siret"][1:]) % 2 == 0]
    with store.transaction() as conn:
        conn.execute(insert(programmation_actions), actions)
        conn.execute(insert(programmation_financements), money)
        conn.execute(insert(submissions), subs)
        conn.execute(insert(bilans), notes)


def test_should_aggregate_in_the_database_rows_not_growing_with_the_actions(tmp_path):
    """Three times more actions in the same groups: the same number of rows reach Python
    (the GROUP BY results), and the figures follow."""
    fetched, figures = [], []
    ref = embedded_referentiel()
    for n in (200, 600):
        with open_store(tmp_path / f"{n}.sqlite") as store:
            _bulk(store, ALPHA, n)
            with store.engine.connect() as conn:
                counting = _CountingConnection(conn)
                synthese = synthese_ept(counting, ANNEE, ref)
            fetched.append(counting.rows)
            (line,) = synthese.contrats
            figures.append((line.actions, line.bilans, line.accorde))
    assert fetched[0] == fetched[1] < 60, fetched
    assert figures == [(200, 100, Decimal("300200.00")), (600, 300, Decimal("900600.00"))]


# --- the command ------------------------------------------------------------------------------
def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_cli_ept_consolider_reads_the_store_named_by_base(store_at, tmp_path):
    """A working folder whose ``base`` names the shared store (a file elsewhere, or a
    PostgreSQL server): the command lists the store's contrats and where the files are."""
    with open_store(store_at()) as store:
        _fill(store)
    dossier = tmp_path / "dossier"
    dossier.mkdir()
    write_config(dossier, contrat=ALPHA, base=str(store_at()))
    result = _run("ept", "consolider", "--annee", "2019", "--dossier", str(dossier))
    assert result.exit_code == 0, result.output
    for code in (ALPHA, BETA, GAMMA):
        assert code in result.output
    assert "Aucune donnée pour 2019" in result.output
    assert "Synthèse EPT écrite dans" in result.output
    out = dossier / "sorties" / "2019" / "EPT"
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names(2019).values())
    result = runner.invoke(app, ["ept", "consolider", "--annee", "2031", "--dossier",
                                 str(dossier)])
    assert result.exit_code == 2
    assert "Erreur" in result.output and "aucun contrat pour l'année 2031" in result.output


def test_cli_ept_consolider_never_shows_the_password_of_the_server(
        postgres_cluster, tmp_path, monkeypatch):
    """The Lisez-moi and the command name the server; a password given in the address
    (here by CV_EXCEL_BASE) appears nowhere."""
    from tests.postgres import SECRET_PASSWORD, SECRET_USER

    name = postgres_cluster.new_database()
    postgres_cluster.sql(f'ALTER DATABASE "{name}" OWNER TO {SECRET_USER}')
    url = postgres_cluster.url(name, user=SECRET_USER, password=SECRET_PASSWORD)
    with open_store(url) as store:
        _fill(store)
    dossier = tmp_path / "dossier"
    dossier.mkdir()
    write_config(dossier, contrat=ALPHA)
    monkeypatch.setenv("CV_EXCEL_BASE", url)
    result = _run("ept", "consolider", "--annee", "2019", "--dossier", str(dossier))
    assert result.exit_code == 0, result.output
    assert name in result.output and SECRET_PASSWORD not in result.output
    out = dossier / "sorties" / "2019" / "EPT"
    wb = load_workbook(out / output_names(2019)["synthese"])
    lisez_moi = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(min_row=4, values_only=True)
                 if r[0]}
    assert name in lisez_moi["Base de données"]
    for path in out.iterdir():
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                raw = b"".join(z.read(n) for n in z.namelist())
        else:
            raw = path.read_bytes()
        assert SECRET_PASSWORD.encode() not in raw, path.name


# --- the demo: two contrats, one store ------------------------------------------------------


def test_demo_second_contrat_shares_the_first_folder_store(demo_master):
    autre = DossierTravail.open(demo_master / AUTRE_DOSSIER)
    premier = DossierTravail.open(demo_master)
    assert autre.config.contrat == AUTRE_CONTRAT != premier.config.contrat
    assert autre.config.base == BASE_PARTAGEE
    assert Path(store_target(autre)).resolve() == Path(store_target(premier)).resolve()
    assert not (autre.root / "cv_excel.sqlite").exists()
    # each contrat's submissions are the files its own folder archived: none crossed over
    with open_store(store_target(premier)) as store, store.engine.connect() as conn:
        rows = conn.execute(select(submissions.c.contrat, submissions.c.sha256)).all()
    by_contrat = defaultdict(set)
    for contrat, sha in rows:
        by_contrat[contrat].add(sha)
    assert set(by_contrat) == {premier.config.contrat, AUTRE_CONTRAT}
    for work in (premier, autre):
        archived = {p.stem for p in work.path("archives").rglob("*.xlsx")}
        assert by_contrat[work.config.contrat] <= archived, work.root


def test_cli_ept_consolider_over_the_demo_lists_both_contrats(demo_master, tmp_path):
    dossier = tmp_path / "demo"
    shutil.copytree(demo_master, dossier)
    result = _run("ept", "consolider", "--annee", "2019", "--dossier", str(dossier))
    assert result.exit_code == 0, result.output
    premier = DossierTravail.open(dossier)
    orly = premier.config.contrat
    assert orly in result.output and AUTRE_CONTRAT in result.output
    assert "Synthèse EPT écrite dans" in result.output
    out = dossier / "sorties" / "2019" / "EPT"
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names(2019).values())
    wb = load_workbook(out / output_names(2019)["synthese"])
    sheet = {r[0]: r for r in wb["Contrats"].iter_rows(min_row=5, values_only=True) if r[0]}
    header = [c.value for c in wb["Contrats"][4]]
    col = {name: header.index(name) for name in header}
    autre = DossierTravail.open(dossier / AUTRE_DOSSIER)
    ref = embedded_referentiel()
    with open_store(store_target(premier)) as store:
        for work in (premier, autre):
            code = work.config.contrat
            data = load_year(store, code, 2019)  # the store's public reading, per contrat
            numeros = {a.numero for a in data.actions}
            row = sheet[code]
            assert row[col["Actions programmées"]] == len(data.actions) > 0
            assert row[col["Porteurs"]] == len({a.porteur_siret for a in data.actions})
            assert row[col["Bilans reçus en vigueur"]] == len(numeros & set(data.bilans)) > 0
            # money per financeur: the folder's own programmation workbook
            prog = read_programmation(work.programmation_file(2019), ref, annee=2019,
                                      quartiers=work.config.territoire.quartiers)
            money = {(r[0], r[1]): r for r in wb["Financements"].iter_rows(
                min_row=5, values_only=True) if r[0] == code}
            for f in FINANCEURS:
                accorde = sum((a.accorde(f.key) for a in prog.actions), Decimal(0))
                if accorde:
                    assert Decimal(str(money[(code, f.libelle)][4])) == accorde, (code, f)
    scores = [r for r in wb["Scores"].iter_rows(min_row=5, values_only=True)
              if r[0] in (orly, AUTRE_CONTRAT)]
    actions = [c.value for c in wb["Scores"][4]].index("Actions")
    assert sum(r[actions] for r in scores) == sheet[orly][2] + sheet[AUTRE_CONTRAT][2]
