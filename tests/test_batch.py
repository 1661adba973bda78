"""``cv-excel traiter``: idempotence, the folder lock between processes, and a run
killed midway ending where an uninterrupted run ends."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cv_excel.batch.lock import DossierOccupe, verrou
from cv_excel.batch.traiter import CODE_OCCUPE, CODE_OK, main_batch, traiter
from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.demo.returns import simulate_returns
from cv_excel.intake.archive import JOURNAL, Archive
from cv_excel.intake.run import valider
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.queries import data_fingerprint

NOW = "dt.datetime(2020, 2, 1, 2, 30, tzinfo=dt.UTC)"
FIXED = dt.datetime(2020, 2, 1, 2, 30, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, int]:
    """A demo folder after generation, with the simulated returns in its inbox."""
    result = run_demo_cycle(tmp_path_factory.mktemp("batch") / "base", returns=False)
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    programmation = read_programmation(result.programmations[2019], ref, annee=2019)
    returns = simulate_returns(work, ref, programmation, result.generation)
    return result.dossier, len(returns.files)


@pytest.fixture
def dossier(base, tmp_path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(base[0], target)
    return target


def _fingerprint(folder: Path) -> str:
    work = DossierTravail.open(folder)
    with open_store(default_store_path(work)) as store:
        return data_fingerprint(store, work.config.contrat, 2019)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file but the log and the lock files, with its mtime and size."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*") if p.is_file()
            and "journaux" not in p.parts and not p.name.startswith(".cv_excel.lock")}


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", "import datetime as dt\nfrom pathlib import Path\n" + code]


def _batch(folder: Path, attente: float) -> subprocess.Popen:
    code = ("from cv_excel.batch.traiter import main_batch\n"
            f"raise SystemExit(main_batch(Path({str(folder)!r}), None, {attente}, False))")
    return subprocess.Popen(_python(code), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")


def test_first_run_then_nothing_new(base, dossier):
    work = DossierTravail.open(dossier)
    first = traiter(work)
    assert first.nb_nouveaux == first.recus == base[1]
    assert sum(first.nouveaux.values()) == base[1]
    assert first.nouveaux["rejeté"] == 4 and first.nouveaux["doublon"] == 1
    assert not first.tableaux_a_jour and first.consolidation_faite
    sorties = {p: p.stat().st_mtime_ns for p in work.path("sorties").rglob("*") if p.is_file()}
    reports = list((work.path("sorties") / "validation").iterdir())
    fingerprint = _fingerprint(dossier)

    again = traiter(work)
    assert again.rien_de_nouveau and again.resume.startswith("Rien de nouveau")
    assert again.nb_nouveaux == 0 and again.recus == base[1]
    assert again.duree < first.duree
    assert {p: p.stat().st_mtime_ns for p in work.path("sorties").rglob("*")
            if p.is_file()} == sorties
    assert list((work.path("sorties") / "validation").iterdir()) == reports
    assert _fingerprint(dossier) == fingerprint
    log = (dossier / "journaux" / "cv_excel.log").read_text("utf-8")
    assert "Rien de nouveau" in log and "rejeté" in log


def test_main_batch_prints_one_line(dossier, capsys):
    assert main_batch(dossier, None, 5, tty=False) == CODE_OK
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("cv-excel traiter — 2019 : ")
    assert "nouveaux fichiers" in out[0] and "rejetés" in out[0]
    assert main_batch(dossier, None, 5, tty=False) == CODE_OK
    (line,) = capsys.readouterr().out.splitlines()
    assert "Rien de nouveau" in line


def test_not_a_working_folder(tmp_path, capsys):
    assert main_batch(tmp_path / "absent", None, 1, tty=False) == 2
    assert main_batch(tmp_path, None, 1, tty=False) == 2
    assert "cv_excel.toml" in capsys.readouterr().out
    assert not (tmp_path / ".cv_excel.lock").exists()


def test_held_lock_makes_the_batch_leave(dossier):
    before = _snapshot(dossier)
    with verrou(DossierTravail.open(dossier), attente=0):
        proc = _batch(dossier, attente=1)
        out, err = proc.communicate(timeout=120)
        # the same process, through another handle, is refused too
        with pytest.raises(DossierOccupe, match="occupé"), verrou(dossier, attente=0):
            pass
    assert proc.returncode == CODE_OCCUPE, err
    assert out.count("\n") == 1 and "occupé" in out and str(dossier) in out
    assert f"processus {os.getpid()}" in out
    assert _snapshot(dossier) == before  # nothing written but the log
    assert "occupé" in (dossier / "journaux" / "cv_excel.log").read_text("utf-8")


def test_two_runs_one_leaves(base, dossier):
    """Started together with a short wait: one processes everything, the other leaves."""
    procs = [_batch(dossier, attente=1), _batch(dossier, attente=1)]
    results = [(p.wait(timeout=300), p.communicate()[0]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [CODE_OK, CODE_OCCUPE], results
    done = next(out for code, out in results if code == CODE_OK)
    assert f"{base[1]} nouveaux fichiers" in done
    assert traiter(DossierTravail.open(dossier)).rien_de_nouveau  # consistent afterwards


def test_two_runs_second_waits(base, dossier):
    """Started together with a long wait: the second waits, then finds nothing new."""
    procs = [_batch(dossier, attente=300), _batch(dossier, attente=300)]
    results = [(p.wait(timeout=600), p.communicate()[0]) for p in procs]
    assert [code for code, _ in results] == [CODE_OK, CODE_OK], results
    outs = sorted(out for _, out in results)
    assert sum("Rien de nouveau" in o for o in outs) == 1
    assert sum(f"{base[1]} nouveaux fichiers" in o for o in outs) == 1
    assert "attente" in (dossier / "journaux" / "cv_excel.log").read_text("utf-8")
    assert len(list((dossier / "sorties" / "validation").iterdir())) == 1


def _outcome(folder: Path) -> dict:
    """What must not depend on the run having been interrupted."""
    archives = folder / "archives"
    receptions = Archive(archives).receptions
    return {
        "archived": sorted(p.relative_to(archives).as_posix() for p in archives.rglob("*")
                           # the journal and its previous copy (journal.json.bak)
                           if p.is_file() and p.name not in (JOURNAL, JOURNAL + ".bak")),
        "statuses": {r.nom: r.statut for r in receptions if r.statut != "en cours"},
        "fingerprint": _fingerprint(folder),
        "outputs": sorted(p.name for p in (folder / "sorties" / "2019").iterdir()),
    }


def _killed_run(template: Path, target: Path, ready) -> bool:
    """Run ``traiter`` on a copy of ``template`` and SIGKILL it once ``ready(target)``;
    False when it finished first."""
    shutil.copytree(template, target)
    code = ("from cv_excel.batch.traiter import traiter\n"
            "from cv_excel.config import DossierTravail\n"
            f"traiter(DossierTravail.open({str(target)!r}), now={NOW})")
    proc = subprocess.Popen(_python(code), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if ready(target):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    return False


def _some_archived(folder: Path) -> bool:
    return len(list((folder / "archives").glob("??/*.xlsx"))) >= 5


def _report_written(folder: Path) -> bool:
    return any((folder / "sorties" / "validation").glob("*/rapport de validation.json"))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL (POSIX) requis")
@pytest.mark.parametrize("ready", [_some_archived, _report_written],
                         ids=["pendant la validation", "après le rapport"])
def test_killed_run_then_normal_run(base, tmp_path, ready):
    reference = tmp_path / "reference"
    shutil.copytree(base[0], reference)
    traiter(DossierTravail.open(reference), now=FIXED)

    for attempt in range(3):  # bounded: the run may end before the trigger is seen
        killed = tmp_path / f"interrompu-{attempt}"
        if _killed_run(base[0], killed, ready):
            break
    else:
        pytest.fail("le traitement s'est terminé avant d'être interrompu (3 essais)")
    after = traiter(DossierTravail.open(killed), attente=0, now=FIXED)  # lock not stale
    assert after.code == CODE_OK
    assert _outcome(killed) == _outcome(reference)


def test_journal_saved_but_store_not_written(base, dossier, tmp_path):
    """The window a kill can hit: intake saved its journal, the store never got the
    files. The batch processes them again."""
    reference = tmp_path / "reference"
    shutil.copytree(dossier, reference)
    traiter(DossierTravail.open(reference), now=FIXED)

    work = DossierTravail.open(dossier)
    inbox = sorted(work.path("retours").iterdir())[:10]
    valider(work, chemins=inbox)
    result = traiter(work, now=FIXED)
    assert result.reprises == 10 and result.nb_nouveaux == base[1]
    assert _outcome(dossier) == _outcome(reference)
