"""Consolidation end to end on the demo: figures against the store, idempotence,
LibreOffice, charts and traffic lights, the cascade back into référent workbooks."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cv_excel.config import DossierTravail
from cv_excel.consolidation.dashboard import COLUMNS, HEADER_ROW, SYNTHESE
from cv_excel.consolidation.run import consolider, output_names
from cv_excel.demo import run_demo_cycle
from cv_excel.generation.generate import generate
from cv_excel.generation.plan import PAS_DE_BILAN
from cv_excel.listes import FINANCEURS
from cv_excel.programmation.check import read_programmation
from cv_excel.reader import read_workbook
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import REFERENT
from cv_excel.store.db import default_store_path
from tests.libreoffice import convert_many
from tests.test_reporting import _annexe2

ENCOURAGEMENT = "Encouragement des initiatives de proximité"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    result = run_demo_cycle(tmp_path_factory.mktemp("conso") / "demo")
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    return work, ref, result


def _sql(work, query, *args):
    con = sqlite3.connect(default_store_path(work))
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def _table(ws) -> dict[str, dict[str, object]]:
    """Dashboard sheet read back: code → column name → value."""
    names = [name for name, _ in COLUMNS]
    out = {}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=len(names), values_only=True):
        if row[1] is None:
            break
        out[str(row[1])] = dict(zip(names, row, strict=True))
    return out


def _independent(work, ref):
    """Per pilier figures straight from the store's tables, without the consolidation code."""
    pilier = {oo.code: ref.pilier_of(oo.code) for oo in ref.objectifs_operationnels}
    actions = _sql(work, "SELECT numero, objectif_operationnel FROM programmation_actions "
                         "WHERE annee = 2019 AND contrat = 'orly-2019-2022'")
    oo_of = dict(actions)
    money = defaultdict(Decimal)
    for numero, financeur, accorde in _sql(
            work, "SELECT numero, financeur, accorde FROM programmation_financements "
                  "WHERE annee = 2019 AND contrat = 'orly-2019-2022'"):
        money[(pilier[oo_of[numero]], financeur)] += Decimal(accorde or 0)
    current = _sql(work, "SELECT b.numero, b.realisation, b.score, b.benef_total, "
                         "b.benef_femmes, b.benef_qpv FROM bilans b JOIN submissions s "
                         "ON s.id = b.submission_id WHERE s.remplacee_par IS NULL "
                         "AND s.statut LIKE 'accepté%' AND s.annee = 2019 "
                         "AND s.contrat = 'orly-2019-2022'")
    real, scores, benef, femmes = Counter(), defaultdict(list), Counter(), Counter()
    for numero, realisation, score, total, fem, _qpv in current:
        p = pilier[oo_of[numero]]
        real[(p, realisation)] += 1
        if score is not None:
            scores[p].append(score)
        benef[p] += total or 0
        femmes[p] += fem or 0
    count = Counter(pilier[oo] for _, oo in actions)
    with_bilan = Counter(pilier[oo_of[n]] for n, *_ in current)
    return count, with_bilan, money, real, scores, benef, femmes


def test_dashboard_figures_match_the_store(demo):
    work, ref, result = demo
    path = result.consolidation.dossier / output_names(2019)["tableaux"]
    synthese = _table(load_workbook(path)["Synthèse"])
    count, with_bilan, money, real, scores, benef, femmes = _independent(work, ref)
    assert sum(count.values()) == 73
    for p in ("A", "B", "C", "T"):
        line = synthese[p]
        assert line["Actions programmées"] == count[p]
        assert line["Sans retour"] == count[p] - with_bilan[p]
        assert line["Réalisées"] == real[(p, "Réalisée")]
        assert line["Partielles"] == real[(p, "Partiellement réalisée")]
        assert line["En cours"] == real[(p, "En cours")]
        assert line["Reportées"] == real[(p, "Reportée")]  # not counted as non réalisée
        assert line["Non réalisées"] == real[(p, "Non réalisée")]
        assert line["Bénéficiaires"] == benef[p]
        assert line["dont femmes"] == femmes[p]
        if scores[p]:
            assert line["Score moyen (0-100)"] == pytest.approx(
                sum(scores[p]) / len(scores[p]), abs=0.05)
        for f in FINANCEURS:
            assert Decimal(str(line[f"Accordé – {f.libelle}"])) == money[(p, f.key)]
    total = synthese["Total"]
    assert total["Actions programmées"] == 73


def test_pilier_sheets_climb_the_chain_with_subtotals(demo):
    work, ref, result = demo
    wb = load_workbook(result.consolidation.dossier / output_names(2019)["tableaux"])
    assert wb.sheetnames == ["Synthèse", "Pilier A", "Pilier B", "Pilier C", "Pilier T",
                             "Décisions", "Indicateurs", "Retours inclus"]
    rows = _table(wb["Pilier A"])
    for o in ref.orientations_of("A"):
        strategiques = ref.strategiques_of(o.code)
        assert rows[o.code]["Actions programmées"] == sum(
            rows[s.code]["Actions programmées"] for s in strategiques)
        for s in strategiques:
            assert rows[s.code]["Actions programmées"] == sum(
                rows[oo.code]["Actions programmées"] for oo in ref.operationnels_of(s.code))
            assert rows[s.code]["Niveau"] == "Objectif stratégique"
    referent_texts = [r[SYNTHESE] for r in rows.values()
                      if r["Niveau"] == "Objectif opérationnel" and r[SYNTHESE]]
    assert referent_texts  # the référents' returns reach the dashboard


def test_outputs_have_charts_traffic_lights_and_open_in_libreoffice(demo, tmp_path):
    _, _, result = demo
    path = result.consolidation.dossier / output_names(2019)["tableaux"]
    with zipfile.ZipFile(path) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 2 + 2 * 4
    wb = load_workbook(path)
    for name in ("Synthèse", "Pilier A"):
        rules = [r for cf in wb[name].conditional_formatting for r in cf.rules]
        assert len(rules) >= 4
    xlsx = [p for p in result.consolidation.fichiers if p.suffix == ".xlsx"]
    assert len(xlsx) == 6  # with the rapport annuel draft
    convert_many(xlsx, tmp_path)


def test_annexe2_through_the_whole_pipeline(demo):
    _, _, result = demo
    table = _annexe2(result.consolidation.dossier / output_names(2019)["departement"])
    enc = table[ENCOURAGEMENT]
    assert [enc[y] for y in (2015, 2016, 2017, 2018)] == [(5, 12500), (3, 9500), (8, 13500),
                                                         (11, 16800)]


def test_nothing_new_rewrites_nothing_and_force_gives_identical_data(demo):
    work, ref, result = demo
    out = result.consolidation.dossier
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = consolider(work, ref, 2019)
    assert again.rien_de_nouveau
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    before = _table(load_workbook(out / output_names(2019)["tableaux"])["Pilier B"])
    forced = consolider(work, ref, 2019, force=True)
    assert not forced.rien_de_nouveau
    after = _table(load_workbook(out / output_names(2019)["tableaux"])["Pilier B"])
    assert after == before


@pytest.mark.parametrize("workers", [1, 2])
def test_tables_written_by_the_workers_are_the_same_and_a_failure_stops_the_run(
        demo_master, tmp_path, monkeypatch, workers):
    """The largest tables and the comptes rendus are written by worker processes: the
    same cells as in one process, the outputs in the same order; a table that fails
    there fails the consolidation, and the next run writes it."""
    import shutil

    from cv_excel.consolidation import run as conso

    dossier = tmp_path / "demo"
    shutil.copytree(demo_master, dossier)
    toml = dossier / "cv_excel.toml"
    toml.write_text(re.sub(r"(?m)^workers = .*$", f"workers = {workers}",
                           toml.read_text("utf-8")), "utf-8")
    work = DossierTravail.open(dossier)
    assert work.config.workers == workers
    ref, _ = load_referentiel(work.path("referents"))
    out = dossier / "sorties" / "2019"
    reference = {name: _cells(demo_master / "sorties" / "2019" / name)
                 for name in ("Suivi physico-financier 2019.xlsx", "Reporting État 2019.xlsx")}

    def broken(*_args, **_kw):
        raise RuntimeError("panne du reporting État")

    monkeypatch.setattr(conso, "write_reporting_etat", broken)
    with pytest.raises(RuntimeError, match="panne du reporting État"):
        consolider(work, ref, 2019, force=True)
    monkeypatch.undo()
    again = consolider(work, ref, 2019, force=True)
    names = [p.name for p in again.fichiers]
    assert names == [p.name for p in consolider(work, ref, 2019).fichiers]
    assert names[:2] == ["Tableaux de bord 2019.xlsx", "Complétude et relances 2019.xlsx"]
    for name, cells in reference.items():
        assert _cells(out / name) == cells, name


_SPAWNED = """
import datetime as dt, multiprocessing, sys
from pathlib import Path
if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[2], force=True)
    from cv_excel.config import DossierTravail
    from cv_excel.consolidation.run import consolider
    from cv_excel.referentiel.load import load_referentiel
    work = DossierTravail.open(Path(sys.argv[1]))
    ref, _ = load_referentiel(work.path("referents"))
    now = dt.datetime(2020, 3, 2, 10, 0, tzinfo=dt.UTC)
    print(len(consolider(work, ref, 2019, force=True, now=now).fichiers))
"""


def test_workers_started_by_spawn_write_the_same_tables(demo_master, tmp_path):
    """Where processes are spawned, not forked (Windows, the Direction's PCs), the
    workers get what they write from through the pool's ``init``: the same tables as
    workers forked from the parent, at the same date."""
    import shutil
    import subprocess
    import sys

    script = tmp_path / "consolider.py"
    script.write_text(_SPAWNED, "utf-8")
    outputs = {}
    for method in ("spawn", "fork"):
        dossier = tmp_path / method
        shutil.copytree(demo_master, dossier)
        toml = dossier / "cv_excel.toml"
        toml.write_text(re.sub(r"(?m)^workers = .*$", "workers = 2",
                               toml.read_text("utf-8")), "utf-8")
        done = subprocess.run([sys.executable, str(script), str(dossier), method],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[method] = {name: _cells(dossier / "sorties" / "2019" / name) for name in (
            "Tableaux de bord 2019.xlsx", "Suivi physico-financier 2019.xlsx",
            "Reporting État 2019.xlsx", "Rapport annuel 2019 (projet).xlsx")}
    assert outputs["spawn"] == outputs["fork"]


def _cells(path) -> dict[str, list]:
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()]
            for ws in load_workbook(path).worksheets}


def test_cascade_referent_workbooks_show_porteur_returns(demo, tmp_path):
    work, ref, _ = demo
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    bilans = dict(_sql(work, "SELECT b.numero, b.realisation FROM bilans b JOIN submissions s "
                             "ON s.id = b.submission_id WHERE s.remplacee_par IS NULL"))
    regenerated = generate(work, ref, prog, 2019, kinds=("referent",))
    seen = 0
    for entry in regenerated.classeurs:
        lu = read_workbook(work.root / entry.fichier, REFERENT)
        for section in lu.sections:
            for row in section.tables["obj_actions"]:
                numero = row["numero"].value
                if numero:
                    expected = ((bilans[numero] or "Non renseignée") if numero in bilans
                                else PAS_DE_BILAN)
                    assert row["realisation"].value == expected
                    seen += 1
    assert seen >= 73  # every action appears under its objective, for each co-référent


def test_next_year_workbooks_propose_last_years_indicator_values(demo):
    from cv_excel.generation.generate import cascade_from_store
    from cv_excel.generation.plan import plan_referent

    work, ref, _ = demo
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    cascade = cascade_from_store(work, 2020)
    assert cascade.precedents
    (code, libelle), value = next(iter(cascade.precedents.items()))
    referent = next(r for r in ref.referents if code in
                    [o.code for o in ref.objectifs_of_referent(r.id)])
    plan = plan_referent(referent, ref, prog, work.config, 2020, cascade)
    section = next(s for s in plan.sections if s.key == code)
    row = next(r for r in section.tables["obj_indicateurs"] if r["libelle"] == libelle)
    assert row["valeur_precedente"] == value


def test_pdf_for_the_copil(demo):
    work, ref, _ = demo
    result = consolider(work, ref, 2019, pdf=True, force=True)
    assert result.pdf and result.pdf[0].suffix == ".pdf" and result.pdf[0].stat().st_size > 0
