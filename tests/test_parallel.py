"""The process pool (cv_excel.parallel), generation on several processes, the year indexed
once, and the national benchmark's building blocks at a tiny scale."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import cv_excel.generation.generate as generation
import cv_excel.parallel as parallel
from cv_excel.config import DossierTravail
from cv_excel.demo import build_demo
from cv_excel.generation.generate import generate, output_folder
from cv_excel.parallel import (
    EnFond,
    PoolInterrompu,
    ordered_map,
    share,
    shared,
    worker_count,
)
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.xlsx.extent import FAR_ROW

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)


# --- the ordered map ----------------------------------------------------------------------------
def _square_with_pid(x: int) -> tuple[int, int, int]:
    return x, x * x + shared("offset"), os.getpid()


def _die_on_seven(x: int) -> int:
    if x == 7:
        os._exit(3)  # a worker killed (out of memory, killed by the system…)
    return x


def test_results_come_in_order_from_other_processes():
    items = list(range(100))  # more than the chunks in flight: the window moves
    out = list(ordered_map(_square_with_pid, items, workers=2, init=share,
                           init_args=({"offset": 1},)))
    assert [x for x, _, _ in out] == items
    assert [y for _, y, _ in out] == [x * x + 1 for x in items]
    pids = {pid for _, _, pid in out}
    assert os.getpid() not in pids and len(pids) >= 1  # rendered in worker processes
    assert not multiprocessing.active_children()  # the pool is shut down


def test_a_generator_is_consumed_as_the_pool_needs_it():
    consumed = []

    def items():
        for i in range(200):
            consumed.append(i)
            yield i

    results = ordered_map(_square_with_pid, items(), workers=2, init=share,
                          init_args=({"offset": 0},))
    first = next(results)
    assert first[0] == 0 and len(consumed) < 200  # a bounded window, not everything at once
    assert [x for x, _, _ in results] == list(range(1, 200))


@pytest.mark.parametrize("workers,items", [(1, list(range(5))), (4, [3])])
def test_one_worker_or_one_item_runs_here_and_leaves_nothing_shared(workers, items):
    out = list(ordered_map(_square_with_pid, items, workers=workers, init=share,
                           init_args=({"offset": 2},)))
    assert out == [(x, x * x + 2, os.getpid()) for x in items]
    with pytest.raises(KeyError):
        shared("offset")


def test_a_dead_worker_is_reported_in_french():
    with pytest.raises(PoolInterrompu, match="processus de travail s'est arrêté"):
        list(ordered_map(_die_on_seven, range(40), workers=2))
    assert not multiprocessing.active_children()


def test_interrupted_consumer_stops_the_pool():
    """Ctrl+C in the parent (the workers ignore it): the pool is shut down, no worker is
    left behind."""
    with pytest.raises(KeyboardInterrupt):
        for x, _, _ in ordered_map(_square_with_pid, range(200), workers=2, init=share,
                                   init_args=({"offset": 0},)):
            if x == 3:
                raise KeyboardInterrupt
    assert not multiprocessing.active_children()


def _slow_square(x: int) -> tuple[int, int]:
    time.sleep(0.01)
    return x, os.getpid()


def _logged(x: int) -> tuple[int, int]:
    with open(shared("log"), "a", encoding="utf-8") as fh:
        fh.write(f"{x}\n")
    return x, os.getpid()


def test_in_the_background_the_workers_run_while_this_process_works(tmp_path):
    """EnFond: the workers are forked here, then kept fed by a thread while this process
    does something else (without it, at most the chunks in flight, 48 items here, would be
    done); the results come in order when asked for."""
    log = tmp_path / "faits.txt"
    log.touch()
    travail = EnFond(_logged, range(200), workers=2, init=share,
                     init_args=({"log": str(log)},))
    deadline = time.monotonic() + 120
    while len(log.read_text("utf-8").split()) < 150 and time.monotonic() < deadline:
        sum(range(10_000))  # this process is busy with its own work
    assert len(log.read_text("utf-8").split()) >= 150
    out = travail.resultats()
    assert [x for x, _ in out] == list(range(200))
    assert os.getpid() not in {pid for _, pid in out}
    assert not multiprocessing.active_children()


def test_in_the_background_one_worker_runs_here_when_asked():
    travail = EnFond(_square_with_pid, range(5), workers=1, init=share,
                     init_args=({"offset": 3},))
    assert travail.resultats() == [(x, x * x + 3, os.getpid()) for x in range(5)]


def test_in_the_background_a_dead_worker_is_said_and_abandon_stops_the_pool():
    with pytest.raises(PoolInterrompu, match="processus de travail s'est arrêté"):
        EnFond(_die_on_seven, range(40), workers=2).resultats()
    assert not multiprocessing.active_children()
    travail = EnFond(_slow_square, range(2000), workers=2)
    travail.abandonner()  # the caller failed: what has not started is cancelled
    assert not multiprocessing.active_children()
    assert len(travail._results) < 2000


def _echo_big(item: tuple[int, bytes]) -> tuple[int, bytes, int]:
    x, payload = item
    return x, payload * 2, os.getpid()


def _resultats_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("cv_excel-resultats-*"))


def test_large_items_and_results_wait_in_files_and_the_files_go(tmp_path, monkeypatch):
    """Items and results larger than SPILL_BYTES cross through files of the map's own
    temporary folder (what waits to be taken is not in memory); small ones as bytes. The
    same values come back in order, and the folder goes when the map ends, or stops."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    big = parallel.SPILL_BYTES
    items = [(x, bytes([x % 251]) * (big if x % 3 == 0 else 10)) for x in range(60)]
    results = ordered_map(_echo_big, items, workers=2)
    first = next(results)
    assert first[:2] == (0, items[0][1] * 2)
    folder, = _resultats_folders(tmp_path)
    deadline = time.monotonic() + 60  # the workers go on: later large results wait in files
    while not list(folder.glob("*.pickle")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(folder.glob("*.pickle"))
    rest = list(results)
    assert [(x, p) for x, p, _ in [first, *rest]] == [(x, p * 2) for x, p in items]
    assert os.getpid() not in {pid for _, _, pid in rest}
    assert _resultats_folders(tmp_path) == []

    stopped = ordered_map(_echo_big, items, workers=2)
    next(stopped)
    stopped.close()  # the consumer gone: the pool stops, the waiting files go with it
    assert _resultats_folders(tmp_path) == []
    assert not multiprocessing.active_children()


def test_worker_count_zero_means_every_core():
    assert worker_count(0) == (os.cpu_count() or 1)
    assert worker_count(None) == (os.cpu_count() or 1)
    assert worker_count(3) == 3


# --- generation on several processes ------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel") / "demo"
    build_demo(root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    return root, ref, read_programmation(work.programmation_file(2019), ref, annee=2019)


def _work(demo, folder: Path) -> DossierTravail:
    shutil.copytree(demo[0], folder)
    return DossierTravail.open(folder)


def _ids(monkeypatch) -> None:
    """Workbook ids drawn in order (the parent draws them, whatever the workers)."""
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))


def _files(work: DossierTravail) -> dict[str, bytes]:
    base = work.path("classeurs")
    return {p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file()}


def test_one_or_two_workers_write_the_same_bytes(demo, tmp_path, monkeypatch):
    """The demo's programmation: every annual workbook, then revue 1's whole cascade, with
    1 and with 2 workers, into two folders: the same files, byte for byte, and the same
    register."""
    outputs = {}
    for workers in (1, 2):
        _ids(monkeypatch)
        work = _work(demo, tmp_path / f"w{workers}")
        annual = generate(work, demo[1], demo[2], 2019, now=NOW, workers=workers)
        revue = generate(work, demo[1], demo[2], 2019, now=NOW, workers=workers, revue=1,
                         kinds=("referent", "pilote", "coordonnateur", "decisions"))
        assert not annual.echecs and not revue.echecs
        outputs[workers] = (_files(work), annual, revue)
    (one, annual1, revue1), (two, annual2, revue2) = outputs[1], outputs[2]
    assert len(annual1.of_type("porteur")) == len(demo[2].porteurs())
    assert {c.type for c in revue1.classeurs} == {"referent", "pilote", "coordonnateur",
                                                  "decisions"}
    assert "2019/registre.json" in one
    assert sorted(one) == sorted(two)
    different = [name for name in one if one[name] != two[name]]
    assert different == []
    assert [c.fichier for c in annual1.classeurs + revue1.classeurs] == \
        [c.fichier for c in annual2.classeurs + revue2.classeurs]


def test_a_workbook_failing_in_a_worker_stays_that_workbooks(demo, tmp_path):
    """An objective with more actions than a sheet can hold: its référents' workbooks
    fail in the workers (French message, no Python text); the others are written and
    registered."""
    work = _work(demo, tmp_path / "dossier")
    ref, prog = demo[1], demo[2]
    action = prog.actions[0]
    code = action.objectif_operationnel
    crowded = [action.model_copy(update={"numero": f"{action.numero}-{i}"})
               for i in range(FAR_ROW + 1)]
    others = [a for a in prog.actions[1:] if a.objectif_operationnel != code]
    result = generate(work, ref, Programmation(annee=2019, actions=crowded + others), 2019,
                      now=NOW, workers=2, kinds=("referent",))
    concerned = {ref.referent(i).libelle for i in ref.objectif(code).referents}
    assert {e.destinataire for e in result.echecs} == concerned
    for echec in result.echecs:
        assert echec.type == "referent" and echec.fichier.startswith("classeurs/2019/")
        assert "Répartissez ces éléments" in echec.message
        assert "Traceback" not in echec.message and "Error" not in echec.message
        assert not (work.root / echec.fichier).exists()
    registre = json.loads((output_folder(work, 2019) / "registre.json").read_text("utf-8"))
    assert [e["classeur_id"] for e in registre] == [c.classeur_id for c in result.classeurs]
    assert result.classeurs and all((work.root / c.fichier).is_file()
                                    for c in result.classeurs)


def _die(*args):
    os._exit(3)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="the patched render reaches the workers by fork only")
def test_dead_workers_leave_every_workbook_reported_not_a_traceback(demo, tmp_path,
                                                                    monkeypatch):
    work = _work(demo, tmp_path / "dossier")
    monkeypatch.setattr(generation, "render", _die)  # inherited by the forked workers
    result = generate(work, demo[1], demo[2], 2019, now=NOW, workers=2, kinds=("porteur",))
    assert not result.classeurs
    assert len(result.echecs) == len(demo[2].porteurs())
    assert all("processus de travail s'est arrêté" in e.message for e in result.echecs)
    registre = output_folder(work, 2019) / "registre.json"
    assert not registre.exists() or json.loads(registre.read_text("utf-8")) == []
    assert not multiprocessing.active_children()


def test_ctrl_c_while_workers_render_keeps_the_register_true(demo, tmp_path, monkeypatch):
    """Ctrl+C in the parent between two files: what was written is registered, nothing
    else; no worker is left."""
    work = _work(demo, tmp_path / "dossier")
    real = generation.write_bytes_atomic
    count = {"n": 0}

    def write(path, data):
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return real(path, data)

    monkeypatch.setattr(generation, "write_bytes_atomic", write)
    with pytest.raises(KeyboardInterrupt):
        generate(work, demo[1], demo[2], 2019, now=NOW, workers=2, kinds=("porteur",))
    assert not multiprocessing.active_children()
    folder = output_folder(work, 2019)
    entries = json.loads((folder / "registre.json").read_text("utf-8"))
    written = sorted(p.relative_to(work.root).as_posix() for p in folder.rglob("*.xlsx"))
    assert len(written) == 2 and len(entries) == 3  # registered before written
    assert set(written) <= {e["fichier"] for e in entries}


# --- the year indexed once ----------------------------------------------------------------------
def test_programmation_index_follows_its_actions(demo):
    prog = demo[2].model_copy(deep=True)
    other = demo[2].model_copy(deep=True)
    sirets = [a.porteur.siret for a in prog.actions]
    first = prog.porteurs()[0]
    assert [p.siret for p in prog.porteurs()] == list(dict.fromkeys(sirets))
    assert prog.actions_of(first.siret) == [a for a in prog.actions
                                            if a.porteur.siret == first.siret]
    assert prog == other  # the index is kept beside the model: equality unchanged
    extra = prog.actions[0].model_copy(update={"numero": "2019-999"})
    prog.actions.append(extra)  # the index follows a change of the list
    assert prog.actions_of(first.siret)[-1] == extra or extra.porteur.siret != first.siret
    assert extra in prog.actions_by_objectif()[extra.objectif_operationnel]
    prog.actions = prog.actions[:1]
    assert sum(len(v) for v in prog.actions_by_porteur().values()) == 1


# --- the national benchmark, tiny -----------------------------------------------------------------
def test_national_benchmark_prints_its_figures_at_a_tiny_scale(tmp_path, capsys):
    """The benchmark's stages, in child processes, at 10 and 5 porteurs: each stage's time
    and peak memory, the growth ratios and both baselines are printed (no time is
    asserted)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_national
    finally:
        sys.path.remove(str(ROOT / "bench"))
    figures = bench_national.main(["--echelle", "0.001", "--rapport", "2", "--echantillon",
                                   "3", "--workers", "2", "--json", str(tmp_path / "f.json")])
    out = capsys.readouterr().out
    assert json.loads((tmp_path / "f.json").read_text("utf-8"))["grande"]["porteurs"] == 10
    small, large = figures["petite"], figures["grande"]
    assert (small["porteurs"], small["actions"]) == (5, 12)
    assert (large["porteurs"], large["actions"]) == (10, 25)
    for scale in (small, large):
        assert list(scale["etapes"]) == list(bench_national.ETAPES)
        for r in scale["etapes"].values():
            assert r["secondes"] > 0 and r["pic_kib"] > 0
        gen = scale["etapes"]["generer"]
        assert gen["echecs"] == 0 and gen["classeurs"] == scale["porteurs"] + gen["referents"]
        assert scale["etapes"]["retours"]["retours"] == gen["classeurs"]
        valider = scale["etapes"]["valider"]
        assert valider["fichiers"] == gen["classeurs"]
        assert valider["statuts"].get("rejeté", 0) == scale["etapes"]["retours"]["avec_erreur"]
    assert large["etapes"]["generer"]["pic_workers_kib"] > 0  # workers were measured
    assert large["base_generation"]["echantillon"] == 3
    assert large["base_lecture"]["echantillon"] == 3
    for stage in bench_national.ETAPES:
        assert f"\n{stage}" in out
    assert "Croissance 5 → 10 porteurs" in out
    assert "rapport openpyxl / cv_excel" in out and "rapport valider / openpyxl" in out


def test_fictitious_programmation_has_the_asked_volumes():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_national
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert bench_national.volumes(1) == (10_400, 25_000)
    assert bench_national.volumes(0.1) == (1_040, 2_500)
    rows = bench_national.programmation_rows(7, 17)
    assert len(rows) == 17 and len({r["porteur_siret"] for r in rows}) == 7
    assert len({r["numero"] for r in rows}) == 17
    per = [sum(1 for r in rows if r["porteur_siret"] == s)
           for s in dict.fromkeys(r["porteur_siret"] for r in rows)]
    assert set(per) <= {2, 3}
