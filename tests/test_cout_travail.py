"""Cost follows the work, not the history (issue 12, point 3).

``cv-excel traiter`` with nothing new reads none of what it already processed: it
recognises the inbox's files by their metadata (path, size, modification time,
inode, change time) against what it recorded when it read them. ``valider``
streams: each file is concluded — stored, journalled — before the next one is
read, and its parsed workbook is not kept afterwards.

The speed and memory targets themselves are measured by ``bench/bench_traiter.py``
and ``bench/bench_valider_memoire.py``, not here.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sqlite3
import weakref
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cv_excel.batch import traiter as batch
from cv_excel.batch.traiter import RIEN_DE_NOUVEAU, lire_boite, traiter
from cv_excel.enregistrement import EnregistreurMagasin, valider_et_enregistrer
from cv_excel.intake import run as intake_run
from cv_excel.intake.archive import EMPREINTES, JOURNAL, Archive, Empreintes
from cv_excel.intake.run import ACCEPTE, DOUBLON, Fichiers, valider
from tests import test_intake_robustesse as robustesse
from tests.ouvertures import opened
from tests.test_intake_robustesse import NOW, Folder

base = robustesse.base  # the same fixtures: a demo folder after generation, inbox empty
folder = robustesse.folder

T0 = 1_700_000_000


# --- what a run opens ------------------------------------------------------------------



def _hashes(monkeypatch) -> list[Path]:
    """The inbox files the batch reads to hash them."""
    calls: list[Path] = []
    original = batch._digest

    def counting(path):
        calls.append(path)
        return original(path)

    monkeypatch.setattr(batch, "_digest", counting)
    return calls


def _three_returns(folder: Folder) -> list[Path]:
    return [folder.drop(f"Bilan {n}.xlsx", folder.ret(folder.entry("porteur", n)), T0 + n)
            for n in range(3)]


def _submissions(folder: Folder) -> list[tuple[str, str]]:
    db = sqlite3.connect(folder.work.root / "cv_excel.sqlite")
    try:
        return sorted(db.execute("SELECT nom, statut FROM submissions"))
    finally:
        db.close()


def _with_comment(data: bytes, comment: bytes) -> bytes:
    """The same workbook, other bytes: a comment in the zip's end record."""
    assert data[-22:-18] == b"PK\x05\x06" and data[-2:] == b"\0\0"
    return data[:-2] + len(comment).to_bytes(2, "little") + comment


# --- traiter: nothing new, nothing read ----------------------------------------------

def test_nothing_new_reads_no_processed_file(folder, monkeypatch):
    files = _three_returns(folder)
    first = traiter(folder.work, now=NOW)
    assert first.nouveaux == {ACCEPTE: 3}
    hashed = _hashes(monkeypatch)
    monkeypatch.setattr(Archive, "store_stream", _forbidden)
    archives = folder.work.path("archives")
    with opened() as paths:
        again = traiter(folder.work, now=NOW)
    assert again.resume == RIEN_DE_NOUVEAU and again.recus == 3
    assert hashed == []
    inbox = [p for p in paths if Path(p).parent == folder.inbox]
    archived = [p for p in paths if Path(p).parent.parent == archives]
    assert inbox == [] and archived == [], (inbox, archived)
    # Nor the journal: the history is not read when the cache answers.
    assert str(archives / JOURNAL) not in paths
    assert str(archives / EMPREINTES) in paths  # what it reads instead
    assert all(p.exists() for p in files)


def _forbidden(*args, **kwargs):
    raise AssertionError("un fichier déjà traité est relu")


def test_a_touched_file_is_hashed_again_recognised_then_not_read_again(folder, monkeypatch):
    files = _three_returns(folder)
    traiter(folder.work, now=NOW)
    stored = _submissions(folder)
    reports = sorted((folder.work.path("sorties") / "validation").iterdir())
    os.utime(files[1], (T0 + 3600, T0 + 3600))  # same bytes, new modification time
    hashed = _hashes(monkeypatch)
    touched = traiter(folder.work, now=NOW)
    assert hashed == [files[1]]
    assert touched.nb_nouveaux == 0 and touched.resume == RIEN_DE_NOUVEAU
    assert _submissions(folder) == stored
    assert sorted((folder.work.path("sorties") / "validation").iterdir()) == reports
    hashed.clear()
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert hashed == []  # its new metadata was remembered


def test_a_file_changed_in_place_is_processed_even_with_its_old_size_and_time(folder,
                                                                             monkeypatch):
    """Other bytes of the same size, written over the file, its modification time set
    back (as ``cp -p`` or an unzip would): the change time and the content tell."""
    entry = folder.entry("porteur", 0)
    data = folder.ret(entry)
    path = folder.drop("Bilan.xlsx", _with_comment(data, b"version A"), T0)
    assert traiter(folder.work, now=NOW).nouveaux == {ACCEPTE: 1}
    before = path.stat()
    with path.open("r+b") as fh:  # in place: same inode
        fh.write(_with_comment(data, b"version B"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_ino == before.st_ino
    hashed = _hashes(monkeypatch)
    changed = traiter(folder.work, now=NOW)
    if os.name == "nt":  # no change time there: size and time match, not read (documented)
        pytest.skip("sous Windows, seuls taille, date et index du fichier sont comparés")
    assert hashed == [path]
    assert changed.nouveaux == {ACCEPTE: 1}
    assert folder.in_force(entry.destinataire_id) == ["Bilan.xlsx"]
    assert len(_submissions(folder)) == 2


def test_a_renamed_file_is_read_once_and_is_not_new(folder, monkeypatch):
    files = _three_returns(folder)
    traiter(folder.work, now=NOW)
    (folder.inbox / "traités").mkdir()
    moved = folder.inbox / "traités" / files[0].name
    files[0].rename(moved)
    hashed = _hashes(monkeypatch)
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert hashed == [moved]
    hashed.clear()
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert hashed == []


def test_without_the_cache_the_journal_recognises_the_files(folder, monkeypatch):
    """The cache lost or damaged: the journal recorded how each file was when it was
    read; only a file it does not describe (an older journal) is read again."""
    files = _three_returns(folder)
    traiter(folder.work, now=NOW)
    archives = folder.work.path("archives")
    journal = archives / JOURNAL
    (archives / EMPREINTES).write_text("{pas du json", encoding="utf-8")
    hashed = _hashes(monkeypatch)
    with opened() as paths:
        assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert hashed == [] and str(journal) in paths
    assert Empreintes.load(archives).current()  # rebuilt
    # A journal written before the files' signatures were recorded, and no cache.
    entries = json.loads(journal.read_text("utf-8"))
    for entry in entries:
        del entry["mtime_ns"], entry["inode"], entry["ctime_ns"]
    journal.write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (archives / EMPREINTES).unlink()
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert sorted(hashed) == sorted(files)
    hashed.clear()
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert hashed == []


def test_a_cache_older_than_the_journal_is_not_trusted_for_outcomes(folder):
    _three_returns(folder)
    traiter(folder.work, now=NOW)
    archives = folder.work.path("archives")
    journal = archives / JOURNAL
    # The journal written by someone else (a copy restored, say): the outcomes the cache
    # holds may no longer be the journal's, so the journal is read.
    journal.write_bytes(journal.read_bytes())
    assert not Empreintes.load(archives).current()
    with opened() as paths:
        assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert str(journal) in paths
    assert Empreintes.load(archives).current()
    with opened() as paths:
        assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    assert str(journal) not in paths


def test_after_a_validation_the_cache_answers_at_once(folder):
    """valider brings the cache's outcomes up to date: the next traiter with nothing new
    reads neither the files nor the journal."""
    _three_returns(folder)
    assert traiter(folder.work, now=NOW).nouveaux == {ACCEPTE: 3}
    folder.drop("Bilan 3.xlsx", folder.ret(folder.entry("porteur", 3)), T0 + 3)
    assert traiter(folder.work, now=NOW).nouveaux == {ACCEPTE: 1}
    with opened() as paths:
        assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU
    archives = folder.work.path("archives")
    assert not [p for p in paths if Path(p).parent in (folder.inbox, archives)
                and Path(p).name != EMPREINTES]


def test_a_journal_without_the_store_still_gets_the_files_processed_again(folder):
    """The kill-safety rule holds with the cache: receptions journalled but absent from
    the store (here: the store set aside and replaced by an empty one) are processed
    again."""
    _three_returns(folder)
    traiter(folder.work, now=NOW)
    store = folder.work.root / "cv_excel.sqlite"
    store.rename(store.with_name("cv_excel.sqlite.abime"))
    again = traiter(folder.work, now=NOW)
    assert again.reprises == 3 and again.nouveaux == {ACCEPTE: 3}
    assert len(_submissions(folder)) == 3
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU


def test_the_inbox_is_recognised_from_the_cache_alone(folder):
    files = _three_returns(folder)
    traiter(folder.work, now=NOW)
    boite = lire_boite(folder.work)
    assert boite.lus == 0 and boite.archive is None
    assert boite.nouveaux() == []
    assert set(boite.digests) == {str(p) for p in files}


# --- valider: one file at a time -------------------------------------------------------

def test_valider_concludes_each_file_before_reading_the_next(folder, monkeypatch):
    files = _three_returns(folder)
    parsed: list[weakref.ref] = []
    events: list[str] = []
    original = intake_run.check_bytes
    record = EnregistreurMagasin.enregistrer

    def watching(name, data, ctx):
        gc.collect()
        # Every earlier file is concluded (handed to the store), and its workbook is gone.
        events.append(f"lu {name}")
        assert all(ref() is None for ref in parsed), name
        findings, lu, meta = original(name, data, ctx)
        parsed.append(weakref.ref(lu))
        return findings, lu, meta

    def recording(self, fichier, **kwargs):
        events.append(f"enregistré {fichier.nom}")
        return record(self, fichier, **kwargs)

    monkeypatch.setattr(intake_run, "check_bytes", watching)
    monkeypatch.setattr(EnregistreurMagasin, "enregistrer", recording)
    # One worker: checked in this process, so « one file at a time » can be watched here.
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, workers=1)
    assert [f.statut for f in run.fichiers] == [ACCEPTE] * 3
    assert events == [f"{what} {f.name}" for f in files for what in ("lu", "enregistré")]
    assert _submissions(folder) == [(f.name, ACCEPTE) for f in files]
    gc.collect()
    assert all(ref() is None for ref in parsed)  # nothing kept for the whole run
    assert isinstance(run.fichiers, Fichiers)


class Arret(Exception):
    """The run stopped from outside (a kill, say) while the third file was recorded."""


def test_a_run_stopped_midway_leaves_the_earlier_files_stored(folder, monkeypatch):
    _three_returns(folder)
    original = intake_run._Job.record

    def stopping_at_third(job, traite):
        if traite.nom == "Bilan 2.xlsx":
            raise Arret
        original(job, traite)

    monkeypatch.setattr(intake_run._Job, "record", stopping_at_third)
    with pytest.raises(Arret):
        valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    assert [nom for nom, _ in _submissions(folder)] == ["Bilan 0.xlsx", "Bilan 1.xlsx"]
    monkeypatch.undo()
    # Done again next time: the stored ones are recognised, the third one is recorded.
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    assert [f.statut for f in run.fichiers] == [ACCEPTE] * 3
    assert run.enregistrement.deja_connues == 2 and run.enregistrement.nouvelles == 1


def test_the_files_of_a_run_read_back_like_a_list(folder):
    files = _three_returns(folder)
    folder.drop("copie.xlsx", files[0].read_bytes(), T0 + 10)
    run = valider(folder.work, ref=folder.ref, now=NOW)
    fichiers = run.fichiers
    assert len(fichiers) == 4 and [f.nom for f in fichiers][-1] == "copie.xlsx"
    assert fichiers[-1].statut == DOUBLON and "Bilan 0.xlsx" in fichiers[-1].findings[0].message
    assert [f.nom for f in fichiers[1:3]] == ["Bilan 1.xlsx", "Bilan 2.xlsx"]
    assert run.count(ACCEPTE) == 3 and run.count(DOUBLON) == 1
    # The data is read again from the archived copy when asked for, identical.
    again = fichiers[0].lu
    fresh = intake_run.check_bytes("x.xlsx", files[0].read_bytes(), intake_run.context_for(
        folder.work, folder.ref))[1]
    assert again is not None and again.meta == fresh.meta
    assert [s.values.keys() for s in again.sections] == [s.values.keys()
                                                         for s in fresh.sections]
    copy = pickle.loads(pickle.dumps(run))
    assert isinstance(copy.fichiers, list) and [f.nom for f in copy.fichiers] == [
        f.nom for f in fichiers]
    text = run.rapport_json.read_text("utf-8")  # written entry by entry, as before
    report = json.loads(text)
    assert text == json.dumps(report, ensure_ascii=False, indent=1) + "\n"
    assert [r["fichier"] for r in report["fichiers"]] == [f.nom for f in fichiers]
    sheet = load_workbook(run.rapport_xlsx, read_only=True)["Fichiers"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        f.nom for f in fichiers]


def test_three_versions_name_the_one_kept_in_the_report_and_the_store(folder):
    entry = folder.entry("porteur", 0)
    data = folder.ret(entry)
    for n, label in enumerate((b"A", b"B", b"C")):
        folder.drop(f"Bilan {label.decode()}.xlsx", _with_comment(data, label), T0 + n)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    codes = {f.nom: [x.code for x in f.findings] for f in run.fichiers}
    assert codes == {"Bilan A.xlsx": ["RET_VERSION_REMPLACEE"],
                     "Bilan B.xlsx": ["RET_VERSION_REMPLACEE"], "Bilan C.xlsx": []}
    assert all("Bilan C.xlsx" in f.findings[0].message for f in run.fichiers[:2])
    assert folder.in_force(entry.destinataire_id) == ["Bilan C.xlsx"]
    db = sqlite3.connect(folder.work.root / "cv_excel.sqlite")
    try:
        stored = {nom: [x["code"] for x in json.loads(found)] for nom, found in db.execute(
            "SELECT nom, findings_json FROM submissions")}
    finally:
        db.close()
    assert stored == codes
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert [[c["code"] for c in r["constats"]] for r in report["fichiers"]] == list(
        codes.values())


def test_the_journal_is_written_as_before(folder):
    _three_returns(folder)
    valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    journal = folder.work.path("archives") / JOURNAL
    text = journal.read_text("utf-8")
    entries = json.loads(text)
    assert text == json.dumps(entries, ensure_ascii=False, indent=1) + "\n"
    assert [e["nom"] for e in entries] == ["Bilan 0.xlsx", "Bilan 1.xlsx", "Bilan 2.xlsx"]
    assert all(e["mtime_ns"] == (T0 + n) * 10**9 for n, e in enumerate(entries))
    valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)  # a second save: all doublons
    second = journal.read_text("utf-8")
    assert second == json.dumps(json.loads(second), ensure_ascii=False, indent=1) + "\n"
    assert [e["statut"] for e in json.loads(second)][3:] == [DOUBLON] * 3
    assert (journal.with_name(JOURNAL + ".bak")).read_text("utf-8") == text
