"""``valider`` on both cores (issue 12, point 4): the checks of each file run in worker
processes, everything shared (archive, duplicates, store, journal, versions, annotated
copies' names, reports) in the run's process, in reception order. One worker or two:
the same statuses, findings, store, journal and the same report bytes.

The workers are forked from the test process, or (where processes are spawned) import
this module: what a test makes a worker do goes through the pool's ``init``
(:func:`cv_excel.intake.run._init_worker`, replaced here by a module-level function)
and the environment, both of which reach the workers either way.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cv_excel import parallel
from cv_excel.batch.lock import verrou
from cv_excel.cli import app
from cv_excel.config import DossierTravail
from cv_excel.demo.returns import MISTAKES
from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.intake import run as intake_run
from cv_excel.intake.archive import JOURNAL
from cv_excel.intake.run import ACCEPTE, DOUBLON, ECARTE, REJETE, ValidationInterrompue
from tests import test_intake_robustesse as robustesse
from tests.test_intake_robustesse import NOW, Folder

base = robustesse.base  # a demo folder after generation, inbox empty
folder = robustesse.folder

T0 = 1_700_000_000
FIN = dt.datetime(2020, 2, 3, 10, 5, tzinfo=dt.UTC)  # the run's end, fixed (see _clock)

# What a test asks the workers to do, through the environment (inherited by every worker).
PIDS = "CV_EXCEL_TEST_PIDS"  # a file where each check appends its process id
EN_ERREUR = "CV_EXCEL_TEST_EN_ERREUR"  # a recipient whose check raises
MORT = "CV_EXCEL_TEST_MORT"  # a recipient whose check kills its worker
DORT = "CV_EXCEL_TEST_DORT"  # every check waits this many seconds first

ROOT = Path(__file__).resolve().parents[1]

_INIT = intake_run._init_worker
_CHECK_BYTES = intake_run.check_bytes
_CHECK_VALUES = intake_run.check_values


def _hooked_init(ctx, parent: int) -> None:
    """The pool's init, plus the test's hooks in the module the checks run from."""
    _INIT(ctx, parent)
    intake_run.check_bytes = _watched_check_bytes
    intake_run.check_values = _failing_check_values


def _watched_check_bytes(name, data, ctx):
    if os.environ.get(PIDS):
        with open(os.environ[PIDS], "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {name}\n")
    return _CHECK_BYTES(name, data, ctx)


def _failing_check_values(lu, ctx):
    if os.environ.get(DORT):
        time.sleep(float(os.environ[DORT]))
    destinataire = lu.meta.get("meta_destinataire_id")
    if destinataire and destinataire == os.environ.get(EN_ERREUR):
        raise decimal.InvalidOperation([decimal.InvalidOperation])
    if destinataire and destinataire == os.environ.get(MORT):
        os._exit(9)  # as the OS killing a worker out of memory
    return _CHECK_VALUES(lu, ctx)


@pytest.fixture
def hooks(monkeypatch, tmp_path):
    """The workers' hooks on; the check module's functions restored afterwards (with one
    worker, ``init`` runs in this process)."""
    monkeypatch.setattr(intake_run, "_init_worker", _hooked_init)
    monkeypatch.setattr(intake_run, "check_bytes", _CHECK_BYTES)
    monkeypatch.setattr(intake_run, "check_values", _CHECK_VALUES)
    monkeypatch.setattr(intake_run, "_maintenant", lambda: FIN)
    pids = tmp_path / "pids.txt"
    monkeypatch.setenv(PIDS, str(pids))
    return pids


def _checked_in(pids: Path) -> list[tuple[int, str]]:
    if not pids.exists():
        return []
    lines = pids.read_text("utf-8").splitlines()
    return [(int(pid), name) for pid, name in (line.split(" ", 1) for line in lines)]


# --- what one run leaves ------------------------------------------------------------------

def _store(root: Path) -> dict[str, list]:
    """Every row of the store, submissions' ids replaced by their content's digest, without
    the import time."""
    db = sqlite3.connect(root / "cv_excel.sqlite")
    try:
        sha = dict(db.execute("SELECT id, sha256 FROM submissions"))
        tables = [n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        dump = {}
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cursor.description]
            rows = []
            for row in cursor:
                rows.append(tuple(
                    sha.get(v, v) if c in ("id", "submission_id", "remplacee_par") else v
                    for c, v in zip(cols, row, strict=True) if c != "importee_le"))
            dump[table] = sorted(rows, key=repr)
        return dump
    finally:
        db.close()


def _journal(root: Path) -> list[dict]:
    """The journal's entries, without the inode and change time of the inbox's files (those
    of a copy of the folder: not the run's doing)."""
    entries = json.loads((root / "archives" / JOURNAL).read_text("utf-8"))
    return [{k: v for k, v in e.items() if k not in ("inode", "ctime_ns")} for e in entries]


def _outputs(run) -> dict[str, bytes]:
    """Every file of the run's folder (reports, annotated copies), by relative path."""
    out = run.dossier_sortie
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _outcome(run, root: Path) -> dict:
    return {
        "fichiers": [(f.nom, f.statut, [x.model_dump(mode="json") for x in f.findings],
                      f.detail_technique, f.reexamen,
                      f.annotee.relative_to(root).as_posix() if f.annotee else None)
                     for f in run.fichiers],
        "store": _store(root),
        "journal": _journal(root),
        "outputs": _outputs(run),
        "dossier": run.dossier_sortie.relative_to(root).as_posix(),
    }


def _validate_copies(folder: Folder, pristine: Path, tmp_path: Path, pids: Path,
                     **kw) -> dict[int, tuple[dict, list[tuple[int, str]]]]:
    """The same folder (``pristine``) validated with 1 then 2 workers, each time at the
    folder's own path (the reports name archived files by their full path); what each
    run left, and which processes checked which file."""
    root = folder.work.root
    results = {}
    for workers in (1, 2):
        shutil.rmtree(root)
        shutil.copytree(pristine, root, symlinks=True)
        pids.unlink(missing_ok=True)
        work = DossierTravail.open(root)
        run = valider_et_enregistrer(work, ref=folder.ref, now=NOW, workers=workers, **kw)
        results[workers] = (_outcome(run, root), _checked_in(pids))
        shutil.copytree(root, tmp_path / f"{workers} worker(s)", symlinks=True)
    return results


# --- 1 or N workers: the same run ---------------------------------------------------------

def test_one_or_two_workers_give_the_same_run_byte_for_byte(folder, tmp_path, hooks):
    # Rejected for the Direction's settings (the wrong year), then the settings are fixed:
    # one of them is examined again from the inbox, the other from the archive only.
    late = [folder.drop(f"Bilan tardif {n}.xlsx", folder.ret(folder.entry("porteur", 7 + n)),
                        T0 - 100 + n) for n in range(2)]
    folder.set_year(2020)
    first = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=1)
    assert {f.statut for f in first.fichiers} == {REJETE}
    folder.set_year(2019)
    late[1].unlink()
    # A mixed inbox: accepted, rejected (annotated, twice the same stem), warned, a
    # référent's return, two versions of one bilan, a copy, not a workbook, a lock file.
    for n in range(4):
        folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
    folder.drop("Bilan faute.xlsx", folder.ret(folder.entry("porteur", 4), MISTAKES[0][1]),
                T0 + 10)
    (folder.inbox / "sous-dossier").mkdir()
    folder.drop("sous-dossier/Bilan faute.xlsx",
                folder.ret(folder.entry("porteur", 5), MISTAKES[1][1]), T0 + 11)
    folder.drop("Bilan à justifier.xlsx",
                folder.ret(folder.entry("porteur", 6), MISTAKES[2][1]), T0 + 12)
    folder.drop("Suivi.xlsx", folder.ret(folder.entry("referent", 0)), T0 + 13)
    entry = folder.entry("porteur", 9)

    def later(plan):
        plan.sections[0].values["act_resultats"] = "Version corrigée du bilan (fictif)."

    folder.drop("Bilan 9.xlsx", folder.ret(entry), T0 + 20)
    folder.drop("Bilan 9 (1).xlsx", folder.ret(entry, later), T0 + 21)
    folder.drop("Bilan 0 (copie).xlsx", (folder.inbox / "Bilan 0.xlsx").read_bytes(), T0 + 30)
    folder.drop("notes.xlsx", b"%PDF-1.4\n" + b"x" * 100, T0 + 31)
    (folder.inbox / "~$Bilan 0.xlsx").write_bytes(b"\0" * 165)
    pristine = tmp_path / "avant"
    shutil.copytree(folder.work.root, pristine, symlinks=True)

    runs = _validate_copies(folder, pristine, tmp_path, hooks)
    (one, in_one), (two, in_two) = runs[1], runs[2]
    assert one == two  # statuses, findings, store, journal, report and copies' bytes

    # The run is the mixed one intended, and each file was checked where it should be.
    statuses = {nom: statut for nom, statut, *_ in one["fichiers"]}
    assert statuses["Bilan tardif 0.xlsx"] == statuses["Bilan tardif 1.xlsx"] == ACCEPTE
    assert [x["code"] for x in dict((f[0], f[2]) for f in one["fichiers"])[
        "Bilan tardif 1.xlsx"]][:1] == ["RET_REEXAMEN"]
    assert statuses["Bilan faute.xlsx"] == REJETE and statuses["notes.xlsx"] == REJETE
    assert statuses["Bilan 0 (copie).xlsx"] == DOUBLON and statuses["~$Bilan 0.xlsx"] == ECARTE
    codes = {nom: [x["code"] for x in findings] for nom, _, findings, *_ in one["fichiers"]}
    assert "RET_VERSION_REMPLACEE" in codes["Bilan 9.xlsx"]
    annotated = sorted(name for name in one["outputs"] if name.startswith("annotés/"))
    assert "annotés/Bilan faute - à corriger.xlsx" in annotated
    assert "annotés/Bilan faute - à corriger (2).xlsx" in annotated
    assert "rapport de validation.xlsx" in one["outputs"]
    checked = sorted(name for _, name in in_one)
    assert checked == sorted(name for _, name in in_two)  # the same files were checked
    assert "Bilan 0 (copie).xlsx" not in checked  # a duplicate is not checked again
    assert {pid for pid, _ in in_one} == {os.getpid()}  # one worker: this process
    assert os.getpid() not in {pid for pid, _ in in_two}  # two: worker processes
    assert not list((tmp_path / "2 worker(s)").rglob(".tmp-*"))  # every copy renamed


# --- one file's failure stays on it ---------------------------------------------------------

def test_an_internal_error_in_a_worker_is_that_files_french_finding(folder, hooks,
                                                                    monkeypatch, caplog):
    for n in range(4):
        folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
    monkeypatch.setenv(EN_ERREUR, folder.entry("porteur", 1).destinataire_id)
    with caplog.at_level(logging.ERROR, logger="cv_excel.intake.run"):
        run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=2)
    assert [f.statut for f in run.fichiers] == [ACCEPTE, REJETE, ACCEPTE, ACCEPTE]
    broken = run.fichiers[1]
    (finding,) = broken.findings
    assert finding.code == "RET_ERREUR_INTERNE"
    for text in (finding.message, finding.hint):
        assert "InvalidOperation" not in text and "<class" not in text
    assert "InvalidOperation" in broken.detail_technique  # for IT, in the JSON report
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert "InvalidOperation" in report["fichiers"][1]["détail technique"]
    # The worker's traceback is written to the log by the run's process.
    (record,) = [r for r in caplog.records if "Bilan 1.xlsx" in r.getMessage()]
    assert "interrompue" in record.getMessage() and "Traceback" in record.getMessage()
    assert os.getpid() not in {pid for pid, _ in _checked_in(hooks)}
    assert folder.in_force(folder.entry("porteur", 2).destinataire_id) == ["Bilan 2.xlsx"]


# --- duplicates within the run; a bounded number of files in flight -------------------------

def test_duplicates_are_found_and_few_files_are_in_flight(folder, hooks, monkeypatch):
    originals = [folder.ret(folder.entry("porteur", n)) for n in range(3)]
    for n, data in enumerate(originals):
        folder.drop(f"Bilan {n}.xlsx", data, T0 + n)
    copies = 61
    for k in range(copies):  # right after their original (in flight) and long after
        folder.drop(f"Copie {k:02d}.xlsx", originals[k % 3], T0 + 10 + k)
    total = 3 + copies
    in_flight: list[int] = []
    conclude = intake_run._Job.conclude

    def watching(job, traite):
        in_flight.append(len(job.en_cours))  # archived, not concluded yet
        conclude(job, traite)

    monkeypatch.setattr(intake_run._Job, "conclude", watching)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=2)
    assert [f.statut for f in run.fichiers] == [ACCEPTE] * 3 + [DOUBLON] * copies
    for k, fichier in enumerate(run.fichiers[3:]):
        assert f"Bilan {k % 3}.xlsx" in fichier.findings[0].message
    assert sorted(name for _, name in _checked_in(hooks)) == [f"Bilan {n}.xlsx"
                                                              for n in range(3)]
    # The pool's bound: the chunks submitted ahead, and the one being handed over.
    bound = (2 * parallel.IN_FLIGHT_PER_WORKER + 1) * parallel.chunk_size(total, 2)
    assert len(in_flight) == total and max(in_flight) <= bound < total


# --- a worker that dies ---------------------------------------------------------------------

def test_a_dead_worker_stops_the_run_in_french_and_the_next_run_finishes(folder, hooks,
                                                                        monkeypatch):
    for n in range(5):
        folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
    monkeypatch.setenv(MORT, folder.entry("porteur", 3).destinataire_id)
    result = CliRunner().invoke(app, ["valider", "--dossier", str(folder.work.root),
                                      "--workers", "2"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "Traceback" not in said
    assert "Erreur : La validation s'est arrêtée avant la fin" in said
    assert "processus de travail s'est arrêté brutalement" in said
    with pytest.raises(ValidationInterrompue):  # what the batch and the console get
        valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=2)
    stored = len(_store(folder.work.root)["submissions"])
    assert stored < 5
    # Nothing is lost: the next run (the worker's trouble gone) checks what was left.
    monkeypatch.delenv(MORT)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=2)
    assert [f.statut for f in run.fichiers] == [ACCEPTE] * 5
    assert run.enregistrement.deja_connues == stored
    assert run.enregistrement.nouvelles == 5 - stored


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL (POSIX) requis")
def test_killed_during_the_checks_the_workers_go_and_the_folder_is_free(folder, tmp_path):
    """The batch killed while its workers check: they end with it, and the folder's lock
    (a file descriptor they inherited) is free for the next run."""
    for n in range(4):
        folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
    pids = tmp_path / "pids.txt"
    code = ("from cv_excel.batch.traiter import traiter\n"
            "from cv_excel.config import DossierTravail\n"
            "from cv_excel.intake import run\n"
            "from tests import test_valider_parallele as t\n"
            "run._init_worker = t._hooked_init\n"
            f"traiter(DossierTravail.open({str(folder.work.root)!r}))\n")
    env = {**os.environ, PIDS: str(pids), DORT: "600", "CV_EXCEL_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # the children start, then wait in a check
        while len(_checked_in(pids)) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "les processus de travail n'ont pas démarré"
            time.sleep(0.05)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    workers = {pid for pid, _ in _checked_in(pids)}
    try:
        assert proc.pid not in workers and len(workers) == 2
        with verrou(folder.work, attente=60):  # orphans would hold it for ten minutes
            pass
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers):  # ending: not waiting for tasks forever
            assert time.monotonic() < deadline, "des processus de travail ont survécu"
            time.sleep(0.05)
    finally:  # this test's own workers, should they have survived
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped holds nothing: not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


# --- grouped commits: nothing named by the journal is missing from the store --------------

def test_the_store_holds_every_file_before_the_journal_names_it(folder, monkeypatch):
    """The files' transactions are committed in groups (SQLite): the last group is
    committed before the reports and the journal are written, so a run stopped after the
    journal never leaves a file the journal knows and the store does not."""
    for n in range(5):
        folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
    seen_at_save: list[list[str]] = []
    save = intake_run.Archive.save

    def watched_save(self, *args, **kwargs):
        seen_at_save.append(sorted(n for e in (folder.entry("porteur", i) for i in range(5))
                                   for n in folder.in_force(e.destinataire_id)))
        return save(self, *args, **kwargs)

    monkeypatch.setattr(intake_run.Archive, "save", watched_save)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=1)
    assert {f.statut for f in run.fichiers} == {ACCEPTE}
    assert seen_at_save == [[f"Bilan {n}.xlsx" for n in range(5)]]
