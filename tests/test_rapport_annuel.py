"""The rapport annuel's draft: the indicateurs de contexte CSV and the draft workbook.

The CSV reader is checked on a table of files that must pass or fail (with their
French findings, never an exception); values of a quartier, the commune and the EPT
are never summed; the draft is written by ``consolider`` on a copy of the demo, its
funding by pilier equals the programmation's, and no text becomes a formula.
"""

from __future__ import annotations

import copy
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cv_excel.config import QUARTIERS_ORLY, DossierTravail
from cv_excel.consolidation.contexte import (
    COLONNES,
    CONTEXTE_FILE,
    IndicateursContexte,
    read_contexte,
    tableau_par_territoire,
)
from cv_excel.consolidation.rapport_annuel import SHEETS, write_rapport_annuel
from cv_excel.consolidation.run import consolider, output_names
from cv_excel.findings import Severity
from cv_excel.listes import FINANCEURS
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import embedded_referentiel, load_referentiel
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.models import DonneesAnnee
from cv_excel.store.queries import load_year

QUARTIERS = list(QUARTIERS_ORLY)
QPV = QUARTIERS_ORLY[0].code
HEAD = "indicateur;territoire;année;valeur;unité;source\n"


def _csv(tmp_path: Path, content: str | bytes) -> IndicateursContexte:
    path = tmp_path / CONTEXTE_FILE
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return read_contexte(path, QUARTIERS)


# --- the CSV reader: should pass / should fail -----------------------------------------------
SHOULD_PASS = {
    "one line": (HEAD + f"Population;{QPV};2016;6120;habitants;INSEE\n", 1),
    "decimal comma and thousands": (HEAD + f"Taux;{QPV};2016;1 234,5;%;INSEE\n", 1),
    "commune and EPT, any case": (HEAD + "Taux;COMMUNE;2016;12;%;x\nTaux;ept;2016;11;%;x\n", 2),
    "quartier code in lower case": (HEAD + f"Taux;{QPV.lower()};2016;12;%;x\n", 1),
    "comma separator, header without accents": (
        "indicateur,territoire,annee,valeur,unite,source\nTaux,commune,2016,12,%,x\n", 1),
    "columns in another order": ("source;valeur;unité;année;territoire;indicateur\n"
                                 "INSEE;12;%;2016;EPT;Taux\n", 1),
    "blank lines skipped": (HEAD + ";;;;;\n\nTaux;EPT;2016;3;%;x\n", 1),
    "header only (the model)": (HEAD, 0),
    "empty file": ("", 0),
    "Excel's Windows encoding": (
        (HEAD + "Taux de pauvreté;commune;2016;22,6;%;Insee\n").encode("cp1252"), 1),
    "same indicator, other year": (HEAD + "Taux;EPT;2016;3;%;x\nTaux;EPT;2017;4;%;x\n", 2),
}

SHOULD_FAIL = {
    "unknown territory": (HEAD + "Taux;Orly;2016;12;%;x\n", "CTX_TERRITOIRE_INCONNU", 2),
    "word in the value": (HEAD + "Taux;EPT;2016;douze;%;x\n", "CTX_VALEUR_NON_NUMERIQUE", 2),
    "unit in the value": (HEAD + "Taux;EPT;2016;12 %;%;x\n", "CTX_VALEUR_NON_NUMERIQUE", 2),
    "NaN": (HEAD + "Taux;EPT;2016;NaN;%;x\n", "CTX_VALEUR_NON_NUMERIQUE", 2),
    "duplicate line": (HEAD + "Taux;EPT;2016;3;%;x\nTaux;ept;2016;4;%;y\n",
                       "CTX_LIGNE_EN_DOUBLE", 3),
    "two-digit year": (HEAD + "Taux;EPT;16;3;%;x\n", "CTX_ANNEE_INVALIDE", 2),
    "no indicator": (HEAD + ";EPT;2016;3;%;x\n", "CTX_VALEUR_REQUISE", 2),
    "no value": (HEAD + "Taux;EPT;2016;;%;x\n", "CTX_VALEUR_REQUISE", 2),
    "missing column": ("indicateur;territoire;valeur;unité;source\nTaux;EPT;3;%;x\n",
                       "CTX_COLONNE_ABSENTE", 1),
    "a workbook renamed .csv": (b"PK\x03\x04\x14\x00\x00\x00binary", "CTX_FICHIER_ILLISIBLE",
                                None),
    "unknown encoding": (HEAD.encode() + b"Taux \x81\xff;EPT;2016;3;%;x\n",
                         "CTX_FICHIER_ILLISIBLE", None),
}


@pytest.mark.parametrize("name", sorted(SHOULD_PASS))
def test_context_csv_should_pass(tmp_path, name):
    content, count = SHOULD_PASS[name]
    contexte = _csv(tmp_path, content)
    assert contexte.findings == [], [f.message for f in contexte.findings]
    assert len(contexte.valeurs) == count


@pytest.mark.parametrize("name", sorted(SHOULD_FAIL))
def test_context_csv_should_fail_with_a_french_finding(tmp_path, name):
    content, code, row = SHOULD_FAIL[name]
    contexte = _csv(tmp_path, content)  # never raises
    (finding,) = contexte.findings
    assert finding.code == code and finding.row == row
    assert finding.severity is Severity.AVERTISSEMENT and finding.hint
    assert "ignorée" in finding.message or "lu" in finding.message
    if code != "CTX_LIGNE_EN_DOUBLE":
        assert contexte.valeurs == []
    (line,) = contexte.avertissements()
    assert line.startswith(CONTEXTE_FILE)


def test_duplicate_keeps_the_first_line_and_names_it(tmp_path):
    contexte = _csv(tmp_path, HEAD + "Taux;EPT;2016;3;%;x\nTaux;ept;2016;4;%;y\n")
    (v,) = contexte.valeurs
    assert v.valeur == 3 and v.ligne == 2
    assert "ligne 2" in contexte.findings[0].message


def test_missing_file_and_folder_never_raise(tmp_path):
    absent = read_contexte(tmp_path / "absent.csv", QUARTIERS)
    assert not absent.present and absent.valeurs == [] and absent.findings == []
    (tmp_path / "dossier.csv").mkdir()
    folder = read_contexte(tmp_path / "dossier.csv", QUARTIERS)
    assert [f.code for f in folder.findings] == ["CTX_FICHIER_ILLISIBLE"]


def test_unknown_territory_lists_the_allowed_ones(tmp_path):
    (finding,) = _csv(tmp_path, HEAD + "Taux;Orly;2016;12;%;x\n").findings
    assert "« Orly »" in finding.message
    assert all(q.code in finding.hint for q in QUARTIERS)
    assert "« EPT »" in finding.hint and "« Commune »" in finding.hint


# --- never summed across territory levels ----------------------------------------------------
def _levels(tmp_path) -> IndicateursContexte:
    return _csv(tmp_path, HEAD + f"Population;{QPV};2016;100;habitants;INSEE\n"
                "Population;commune;2016;2000;habitants;INSEE\n"
                "Population;EPT;2016;30000;habitants;INSEE\n"
                f"Taux de chômage;{QPV};2016;21,5;%;INSEE\n"
                "Taux de chômage;EPT;2016;12,5;%;INSEE\n")


def test_values_side_by_side_never_summed(tmp_path):
    columns, lines = tableau_par_territoire(_levels(tmp_path), QUARTIERS)
    assert columns == [*(q.code for q in QUARTIERS), "Commune", "EPT"]
    population, chomage = lines
    assert dict(zip(columns, population.valeurs, strict=True)) == {
        **{q.code: None for q in QUARTIERS}, QPV: 100, "Commune": 2000, "EPT": 30000}
    assert chomage.valeurs[0] == Decimal("21.5") and chomage.valeurs[-1] == Decimal("12.5")
    assert chomage.valeurs[-2] is None  # no commune figure: left empty, never computed


def test_the_draft_shows_each_territory_and_no_total(tmp_path):
    ref = embedded_referentiel()
    donnees = DonneesAnnee("orly-2019-2022", 2019, [], {}, {}, [])
    path = write_rapport_annuel(donnees, ref, tmp_path / "r.xlsx", _levels(tmp_path),
                                QUARTIERS)
    ws = load_workbook(path)["Indicateurs de contexte"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert {100, 2000, 30000, 21.5, 12.5} <= set(values)
    for total in (2100, 30100, 32000, 32100, 34, 17):  # any sum or mean across levels
        assert total not in values
    assert not any(isinstance(v, str) and v.strip().lower().startswith(("total", "moyenne"))
                   for v in values)


# --- the draft written by consolider on the demo ---------------------------------------------
@pytest.fixture
def folder(demo_master, tmp_path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(demo_master, target)
    return target


def _draft(work: DossierTravail):
    return load_workbook(work.path("sorties") / "2019" / output_names(2019)["rapport_annuel"])


def test_consolider_writes_the_draft_with_its_sheets(folder):
    work = DossierTravail.open(folder)
    wb = _draft(work)
    assert wb.sheetnames == list(SHEETS)
    cover = [c.value for row in wb["Projet"].iter_rows() for c in row if c.value]
    assert any("PROJET" in str(v) for v in cover)
    assert any("2015-1118" in str(v) for v in cover)
    for name in SHEETS[1:]:
        ws = wb[name]
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1  # A4
        assert ws.print_title_rows, name  # header row repeated on every page
    droit = [c.value for row in wb["Droit commun (à compléter)"].iter_rows() for c in row]
    assert "À compléter" in droit
    assert "État (BOP 147)" not in droit  # the politique de la ville credits: no droit commun
    assert {f.libelle for f in FINANCEURS if f.key != "etat"} <= set(droit)
    publics = [c.value for row in wb["Publics touchés"].iter_rows() for c in row if c.value]
    assert any(str(v).startswith("Bilans reçus : ") and " acceptés sur 73 actions" in str(v)
               for v in publics)
    contexte = wb["Indicateurs de contexte"]
    assert "Quartier Est (ORLY-QPV-EST)" in [c.value for c in contexte[5]]


def test_funding_by_pilier_equals_the_programmation(folder):
    work = DossierTravail.open(folder)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019,
                              quartiers=work.config.territoire.quartiers)
    expected: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for a in prog.actions:
        for f in a.financements:
            expected[ref.pilier_of(a.objectif_operationnel)][f.financeur] += f.accorde or 0
    ws = _draft(work)["Financements par pilier"]
    rows = list(ws.iter_rows(min_row=5, values_only=True))
    found = {str(r[0]).split(" — ")[0]: r for r in rows if r[0] and r[0] != "Total"}
    assert set(found) == {p.code for p in ref.piliers}
    for code, row in found.items():
        amounts = {f.key: Decimal(str(v)) for f, v in zip(FINANCEURS, row[2:], strict=False)}
        assert amounts == {f.key: expected[code][f.key] for f in FINANCEURS}, code
        assert Decimal(str(row[2 + len(FINANCEURS)])) == sum(expected[code].values())
    total = next(r for r in rows if r[0] == "Total")
    assert total[1] == len(prog.actions)
    assert Decimal(str(total[2 + len(FINANCEURS)])) == sum(
        (f.accorde or 0 for a in prog.actions for f in a.financements), Decimal(0))


def test_the_context_file_decides_nothing_new(folder):
    work = DossierTravail.open(folder)
    ref, _ = load_referentiel(work.path("referents"))
    assert consolider(work, ref, 2019).rien_de_nouveau
    csv_path = folder / CONTEXTE_FILE
    csv_path.write_text(csv_path.read_text("utf-8-sig") + "Logements sociaux;EPT;2017;"
                        "45;%;Bailleurs\nLogements sociaux;Orly-Nord;2017;3;%;x\n", "utf-8")
    changed = consolider(work, ref, 2019)
    assert not changed.rien_de_nouveau
    (warning,) = changed.avertissements
    assert "Orly-Nord" in warning and "ligne 16" in warning
    rows = list(_draft(work)["Indicateurs de contexte"].iter_rows(values_only=True))
    assert any(r[0] == "Logements sociaux" and r[-2] == 45 for r in rows)
    again = consolider(work, ref, 2019)
    assert again.rien_de_nouveau and again.avertissements == [warning]
    csv_path.unlink()  # a missing file: the empty model is written, the draft says so
    rebuilt = consolider(work, ref, 2019)
    assert not rebuilt.rien_de_nouveau and rebuilt.avertissements == []
    assert csv_path.read_text("utf-8-sig").strip() == ";".join(COLONNES)
    texts = [c.value for row in _draft(work)["Indicateurs de contexte"].iter_rows()
             for c in row if isinstance(c.value, str)]
    assert any(t.startswith("À compléter") for t in texts)
    assert any("un modèle vide a été écrit" in t for t in texts)
    assert consolider(work, ref, 2019).rien_de_nouveau


def test_no_formula_from_a_porteurs_or_referents_text(folder, tmp_path):
    work = DossierTravail.open(folder)
    ref, _ = load_referentiel(work.path("referents"))
    with open_store(default_store_path(work)) as store:
        donnees = copy.deepcopy(load_year(store, work.config.contrat, 2019))
    action = next(a for a in donnees.actions if a.numero in donnees.bilans)
    action.intitule = "=1+1"
    action.porteur_raison_sociale = "@SOMME(A1)"
    donnees.bilans[action.numero].perspectives = "=HYPERLINK(\"http://x\")"
    suivi = next(s for suivis in donnees.suivis.values() for s in suivis)
    suivi.propositions = "+33 1 23 45 67 89"
    contexte = _csv(tmp_path, HEAD + "=2+2;EPT;2016;3;%;-source\n")
    path = write_rapport_annuel(donnees, ref, tmp_path / "r.xlsx", contexte, QUARTIERS)
    wb = load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert {"=1+1", "@SOMME(A1)", "=HYPERLINK(\"http://x\")", "+33 1 23 45 67 89", "=2+2",
            "-source"} <= texts


# --- perspectives from the governance cycle --------------------------------------------------
def _perspectives_rows(wb) -> list[dict]:
    ws = wb["Perspectives"]
    header = [c.value for c in ws[5]]
    return [dict(zip(header, r, strict=True))
            for r in ws.iter_rows(min_row=6, values_only=True) if any(r)]


def _governance_draft(tmp_path, **kw):
    from tests.donnees_gouvernance import donnees

    ref = embedded_referentiel()
    data = donnees(**kw)
    path = write_rapport_annuel(data, ref, tmp_path / "r.xlsx",
                                IndicateursContexte(tmp_path / CONTEXTE_FILE), QUARTIERS)
    return ref, data, load_workbook(path)


def test_perspectives_quote_coordonnateurs_then_pilotes_with_revue_and_rag(tmp_path):
    ref, data, wb = _governance_draft(tmp_path)
    rows = _perspectives_rows(wb)
    a1 = next(r for r in rows
              if r["Niveau et objet"].startswith("Orientation (coordonnateur) : A1 "))
    assert a1["Auteur et revue"] == f"{ref.referent('dpv-deveco').libelle} (revue 2)"
    assert (a1["Feu tricolore"], a1["Avancement"], a1["Synthèse"],
            a1["Propositions et perspectives"]) == ("Orange", "Engagé",
                                                    "Synthèse orientation A1", "Proposition A1")
    a11 = next(r for r in rows if ": A11 — " in (r["Niveau et objet"] or ""))
    assert a11["Feu tricolore"] == "Vert" and a11["Synthèse"] == data.syntheses["A11"][0].synthese
    # every orientation and objectif stratégique of every pilier has its row, coordonnateurs
    # (orientations) first, « à compléter » naming who was expected when nothing came
    for pilier in ref.piliers:
        own = [r for r in rows if r["Pilier"] == f"{pilier.code} — {pilier.titre}"]
        levels = [r["Niveau et objet"].split(" : ")[0] for r in own
                  if (r["Niveau et objet"] or "").startswith(("Orientation", "Objectif strat"))]
        orientations = ref.orientations_of(pilier.code)
        strategiques = [s for o in orientations for s in ref.strategiques_of(o.code)]
        assert levels == (["Orientation (coordonnateur)"] * len(orientations)
                          + ["Objectif stratégique (pilote)"] * len(strategiques)), pilier.code
    missing = next(r for r in rows if ": A12 — " in (r["Niveau et objet"] or ""))
    expected = ", ".join(ref.referent(p).libelle for p in
                         next(s for s in ref.objectifs_strategiques if s.code == "A12").pilotes)
    assert missing["Auteur et revue"] == f"Attendu : {expected}"
    assert missing["Synthèse"] == "À compléter : aucune synthèse du pilote reçue."
    assert missing["Feu tricolore"] is None
    b = [r for r in rows if r["Pilier"].startswith("B —")
         and (r["Niveau et objet"] or "").startswith("Orientation")]
    assert b and all(r["Synthèse"].startswith("À compléter") for r in b)
    # the traffic light coloured as everywhere else (dark text on a light fill)
    ws = wb["Perspectives"]
    cell = next(c for row in ws.iter_rows(min_row=6, min_col=4, max_col=4) for c in row
                if c.value == "Orange")
    assert cell.fill.fgColor.rgb.endswith("FFEB9C")
    for row in range(6, ws.max_row + 1):
        assert ws.row_dimensions[row].height <= 409


def test_open_decisions_as_actions_correctrices_en_cours(tmp_path):
    _, data, wb = _governance_draft(tmp_path)
    ws = wb["Actions correctrices"]
    header = [c.value for c in ws[4]]
    rows = [dict(zip(header, r, strict=True))
            for r in ws.iter_rows(min_row=5, values_only=True) if any(r)]
    assert [r["N° de décision"] for r in rows] == ["A-2020-R1-01", "A-2020-R1-02"]
    assert {r["Statut"] for r in rows} == {"Ouverte", "En cours"}  # « Abandonnée » left out
    first = rows[0]
    assert first["Décision"] == "Décision A-2020-R1-01 sur A11" and first["Niveau"] == "A11"
    assert first["Décidée en"] == "2020, revue 1" and first["Pilier"].startswith("A — ")
    assert str(ws["A2"].value).endswith(" : 2.")
    _, _, closed = _governance_draft(tmp_path, decisions_closed=True)
    ws = closed["Actions correctrices"]
    assert [r[1] for r in ws.iter_rows(min_row=5, values_only=True) if r[1]] == ["A-2020-R1-02"]


def test_no_decision_and_no_synthesis_say_so(tmp_path):
    ref = embedded_referentiel()
    donnees = DonneesAnnee("orly", 2019, [], {}, {}, [])
    wb = load_workbook(write_rapport_annuel(donnees, ref, tmp_path / "r.xlsx",
                                            IndicateursContexte(tmp_path / CONTEXTE_FILE),
                                            QUARTIERS))
    texts = [c.value for row in wb["Actions correctrices"].iter_rows() for c in row if c.value]
    assert "Aucune action correctrice en cours." in texts
    rows = _perspectives_rows(wb)
    levels = len(ref.orientations) + len(ref.objectifs_strategiques)
    assert len(rows) == levels
    assert all(r["Synthèse"].startswith("À compléter") for r in rows)


def test_a_synthesis_or_decision_text_never_becomes_a_formula(tmp_path):
    from tests.donnees_gouvernance import donnees

    data = donnees()
    data.syntheses["A1"][0].synthese = "=1+1"
    data.syntheses["A1"][0].propositions = "@SOMME(A1)"
    data.decisions[0].decision = "+33 1 23 45 67 89"
    path = write_rapport_annuel(data, embedded_referentiel(), tmp_path / "r.xlsx",
                                IndicateursContexte(tmp_path / CONTEXTE_FILE), QUARTIERS)
    cells = [c for ws in load_workbook(path) for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert {"=1+1", "@SOMME(A1)", "+33 1 23 45 67 89"} <= {c.value for c in cells}
