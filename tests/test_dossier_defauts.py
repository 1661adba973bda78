"""Faults of the working folder (issue 9): every command that meets one says so in one
French message naming the file or folder, exits with code 2, never shows a traceback,
and leaves the faulty file exactly as it was. The recovery each message gives works.

Read-only files and folders are real ones where the system allows it: ``chmod`` for an
ordinary user, the immutable attribute (``chattr +i``) for root, whom ``chmod`` does
not stop; elsewhere those cases are skipped and the monkeypatched ones still run.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.store import db

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
COMMANDES = ("valider", "consolider", "generer", "traiter")


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def dossier(demo_master, tmp_path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(demo_master, target)
    return target


def _writable(folder: Path) -> bool:
    try:
        (folder / ".essai").write_bytes(b"")
    except OSError:
        return False
    (folder / ".essai").unlink()
    return True


@pytest.fixture
def lecture_seule():
    """Make a file or folder really read-only for this process (undone afterwards)."""
    done: list[tuple[Path, Callable[[], None]]] = []

    def protect(path: Path, recursive: bool = False) -> Path:
        targets = [path, *sorted(path.rglob("*"))] if recursive else [path]
        for target in reversed(targets):  # innermost first, undone outermost first
            if os.geteuid() != 0:
                mode = target.stat().st_mode
                target.chmod(mode & ~0o222)
                done.append((target, lambda t=target, m=mode: t.chmod(m)))
                continue
            if shutil.which("chattr") is None:
                pytest.skip("chattr absent : pas de fichier en lecture seule pour root")
            if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode:
                pytest.skip("chattr +i refusé sur ce système de fichiers")
            done.append((target, lambda t=target: subprocess.run(["chattr", "-i", str(t)],
                                                                 check=True)))
        if path.is_dir() and _writable(path):
            pytest.skip("le dossier reste modifiable malgré la protection")
        return path

    yield protect
    for _, undo in reversed(done):
        undo()


def cli(*args: str):
    """Run the command in-process; an exception escaping it fails the test."""
    return runner.invoke(app, list(args), catch_exceptions=False)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _snapshot(path: Path) -> object:
    """What must not change: a file's bytes, a folder's listing."""
    if path.is_dir():
        return sorted((p.relative_to(path).as_posix(), p.is_file() and p.read_bytes())
                      for p in path.iterdir())
    return path.read_bytes()


# --- the faults ----------------------------------------------------------------------------
def _store(d: Path) -> Path:
    return d / "cv_excel.sqlite"


def _random_bytes(d: Path, _ro) -> Path:
    _store(d).write_bytes(os.urandom(50_000))
    return _store(d)


def _damaged_pages(d: Path, _ro) -> Path:
    data = bytearray(_store(d).read_bytes())
    data[4096:3 * 4096] = os.urandom(2 * 4096)  # the header is intact, pages are not
    _store(d).write_bytes(bytes(data))
    return _store(d)


def _empty_store(d: Path, _ro) -> Path:
    _store(d).write_bytes(b"")
    return _store(d)


def _foreign_db(d: Path, _ro) -> Path:
    _store(d).unlink()
    conn = sqlite3.connect(_store(d))
    conn.execute("CREATE TABLE clients (nom TEXT)")
    conn.execute("INSERT INTO clients VALUES ('Dupont')")
    conn.commit()
    conn.close()
    return _store(d)


def _read_only_store(d: Path, ro) -> Path:
    return ro(_store(d))


def _registre(d: Path, _ro) -> Path:
    path = d / "classeurs" / "2019" / "registre.json"
    path.write_text("{not json", encoding="utf-8")
    return path


def _journal(d: Path, _ro) -> Path:
    path = d / "archives" / "journal.json"
    path.write_text("[", encoding="utf-8")
    return path


def _no_config(d: Path, _ro) -> Path:
    (d / "cv_excel.toml").unlink()
    return d


def _sorties_is_a_file(d: Path, _ro) -> Path:
    shutil.rmtree(d / "sorties")
    (d / "sorties").write_text("pas un dossier\n", encoding="utf-8")
    return d / "sorties"


def _read_only_sorties(d: Path, ro) -> Path:
    (d / "sorties" / "2019" / "Tableaux de bord 2019.xlsx").unlink()  # to be rewritten
    return ro(d / "sorties", recursive=True)


def _read_only_folder(d: Path, ro) -> Path:
    return ro(d)


@dataclass(frozen=True)
class Defaut:
    id: str
    abimer: Callable[[Path, Callable[[Path], Path]], Path]  # → the faulty file or folder
    commandes: tuple[str, ...]  # the commands that meet it
    attendu: str  # French words of the message


DEFAUTS = [
    Defaut("magasin-octets-aleatoires", _random_bytes, COMMANDES, "pas une base SQLite"),
    Defaut("magasin-pages-endommagees", _damaged_pages, COMMANDES, "endommagé"),
    Defaut("magasin-vide", _empty_store, COMMANDES, "est vide (0 octet"),
    Defaut("base-etrangere", _foreign_db, COMMANDES, "pas un magasin de données cv_excel"),
    Defaut("magasin-lecture-seule", _read_only_store, COMMANDES, "ne peut pas être écrit"),
    Defaut("registre-illisible", _registre, COMMANDES, "JSON non valide"),
    Defaut("journal-illisible", _journal, ("valider", "traiter"), "JSON non valide"),
    Defaut("sans-configuration", _no_config, COMMANDES, "pas de fichier cv_excel.toml"),
    Defaut("sorties-est-un-fichier", _sorties_is_a_file, ("valider", "consolider", "traiter"),
           "n'est pas un dossier"),
    Defaut("sorties-lecture-seule", _read_only_sorties, ("valider", "consolider", "traiter"),
           "protégé en écriture"),
    Defaut("dossier-lecture-seule", _read_only_folder, COMMANDES, "protégé en écriture"),
]
CASES = [pytest.param(d, c, id=f"{d.id}-{c}") for d in DEFAUTS for c in d.commandes]


@pytest.mark.parametrize(("defaut", "commande"), CASES)
def test_a_fault_is_one_french_message_exit_2_and_the_file_is_left_as_it_was(
        dossier, lecture_seule, defaut: Defaut, commande: str):
    faulty = defaut.abimer(dossier, lecture_seule)
    before = _snapshot(faulty)
    result = cli(commande, "--dossier", str(dossier))
    out = _flat(result.output)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert ("erreur à corriger" if commande == "traiter" else "Erreur :") in out, out
    assert defaut.attendu in out, out
    assert str(faulty) in out, out  # names the file or folder
    assert _snapshot(faulty) == before


@pytest.mark.parametrize("commande", ["valider", "consolider", "generer", "traiter",
                                      "referentiel", "template copier"])
def test_a_folder_that_is_no_working_folder_gets_nothing_written(tmp_path, commande):
    """Only ``init`` and ``demo`` make a working folder: no store, no log, no outputs."""
    result = cli(*commande.split(), "--dossier", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "cv_excel.toml" in result.output and "cv-excel init" in _flat(result.output)
    assert list(tmp_path.iterdir()) == []


def test_init_and_demo_still_create_their_folder(tmp_path):
    assert cli("init", "--dossier", str(tmp_path / "neuf")).exit_code == 0
    assert (tmp_path / "neuf" / "cv_excel.toml").is_file()


# --- writing outputs: read-only folder, disk full (simulated for any user) ----------------
@pytest.mark.parametrize(("code", "attendu"), [
    (errno.EACCES, "protégé en écriture"),
    (errno.EROFS, "lecture seule"),
    (errno.ENOSPC, "Disque plein"),
])
@pytest.mark.parametrize("commande", ["consolider", "traiter"])
def test_an_output_that_cannot_be_written_names_its_folder(dossier, monkeypatch, code, attendu,
                                                           commande):
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if "sorties" in Path(dst).parts:
            raise OSError(code, os.strerror(code), str(src))
        return real_replace(src, dst, *args, **kwargs)

    (dossier / "sorties" / "2019" / "Tableaux de bord 2019.xlsx").unlink()  # to be rewritten
    monkeypatch.setattr(os, "replace", replace)
    result = cli(commande, "--dossier", str(dossier))
    out = _flat(result.output)
    assert result.exit_code == 2, result.output
    assert attendu in out and str(dossier / "sorties" / "2019") in out, out
    assert "Traceback" not in result.output and "Errno" not in out
    assert not list((dossier / "sorties").rglob(".tmp-*"))  # no temporary file left


# --- the same, in a real process -----------------------------------------------------------
def _python(*args: str, user: list[str] | None = None, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*(user or []), sys.executable, "-m", "cv_excel", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                          **kwargs)


@pytest.mark.parametrize("commande", ["valider", "traiter"])
def test_a_damaged_store_in_a_real_process(dossier, commande):
    _random_bytes(dossier, None)
    before = _store(dossier).read_bytes()
    proc = _python(commande, "--dossier", str(dossier))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert str(_store(dossier)) in _flat(proc.stdout + proc.stderr)
    assert _store(dossier).read_bytes() == before


def test_a_read_only_store_for_an_ordinary_user(demo_master):
    """The real case: the scheduled task's account may not write the store."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("il faut root et setpriv pour changer d'utilisateur")
    user = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    probe = subprocess.run([*user, sys.executable, "-c", "import typer, filelock"],
                           capture_output=True)
    if probe.returncode:
        pytest.skip("l'utilisateur nobody n'a pas accès à l'environnement Python")
    base = Path(tempfile.mkdtemp(prefix="cv-excel-nobody-"))
    try:
        base.chmod(0o755)
        folder = base / "dossier"
        shutil.copytree(demo_master, folder)
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, 65534, -1)
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.chown(_store(folder), 0, 0)  # readable by nobody, not writable
        before = _store(folder).read_bytes()
        proc = _python("valider", "--dossier", str(folder), user=user)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert "ne peut pas être écrit" in _flat(proc.stderr)
        assert _store(folder).read_bytes() == before
    finally:
        shutil.rmtree(base)


# --- the console ---------------------------------------------------------------------------
def test_the_console_shows_the_message(dossier, tmp_path):
    from cv_excel.excel import console as cx
    from tests.test_console import FakeBook

    faulty = _journal(dossier, None)
    book = FakeBook(tmp_path)
    book.sheets[cx.SHEET_PARAMS][cx.CELL_DOSSIER].value = str(dossier)
    out = cx.run_action(book, "valider")
    assert out["statut"] == "Erreur"
    assert str(faulty) in out["resume"] and "JSON non valide" in out["resume"]
    assert "Détail technique" not in out["detail"]  # a fault, not a bug: no log to read
    assert faulty.read_text("utf-8") == "["


# --- the recoveries the messages give work -------------------------------------------------
def _submissions(folder: Path) -> set[str]:
    """The folder's own accepted returns (the demo's store also holds a second contrat,
    whose folder is the one to rebuild it from)."""
    conn = sqlite3.connect(_store(folder))
    try:
        return {r[0] for r in conn.execute(
            "SELECT sha256 FROM submissions WHERE donnees = 1 AND contrat = 'orly-2019-2022'")}
    finally:
        conn.close()


def test_a_damaged_store_set_aside_is_rebuilt_by_traiter(dossier):
    stored = _submissions(dossier)
    assert stored
    _damaged_pages(dossier, None)
    result = cli("traiter", "--dossier", str(dossier))
    assert result.exit_code == 2
    assert "cv_excel.sqlite.abime" in result.output and "cv-excel traiter" in result.output
    _store(dossier).rename(dossier / "cv_excel.sqlite.abime")  # as the message says
    result = cli("traiter", "--dossier", str(dossier))
    assert result.exit_code == 0, result.output
    assert _submissions(dossier) == stored


def test_a_damaged_journal_set_aside_then_validation_again(dossier):
    stored = _submissions(dossier)
    journal = _journal(dossier, None)
    result = cli("valider", "--dossier", str(dossier))
    assert "journal.json.abime" in _flat(result.output)  # no previous copy yet
    journal.rename(journal.with_name("journal.json.abime"))
    assert cli("valider", "--dossier", str(dossier)).exit_code == 0
    assert _submissions(dossier) == stored  # recognised, not recorded twice
    assert cli("traiter", "--dossier", str(dossier)).exit_code == 0


def test_a_damaged_journal_is_restored_from_its_previous_copy(dossier):
    assert cli("valider", "--dossier", str(dossier)).exit_code == 0  # a second save
    journal = dossier / "archives" / "journal.json"
    backup = journal.with_name("journal.json.bak")
    assert backup.is_file()
    journal.write_text("[", encoding="utf-8")
    result = cli("traiter", "--dossier", str(dossier))
    assert result.exit_code == 2 and str(backup) in _flat(result.output)
    journal.rename(journal.with_name("journal.json.abime"))
    backup.rename(journal)
    assert cli("traiter", "--dossier", str(dossier)).exit_code == 0


def test_a_damaged_registre_is_restored_from_its_previous_copy(dossier):
    registre = _registre(dossier, None)
    backup = registre.with_name("registre.json.bak")
    assert backup.is_file()  # kept by the generation at each update of the register
    result = cli("valider", "--dossier", str(dossier))
    assert result.exit_code == 2 and str(backup) in _flat(result.output)
    registre.rename(registre.with_name("registre.json.abime"))
    backup.rename(registre)
    assert cli("valider", "--dossier", str(dossier)).exit_code == 0


# --- the store refuses what it is not, and never leaves an empty file ----------------------
def test_a_sound_store_is_opened_without_being_changed(demo_master, tmp_path):
    path = tmp_path / "cv_excel.sqlite"
    shutil.copy(_store(demo_master), path)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    db.open_store(path).close()
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    # beside it, only the record of the integrity check it passed (see db._checked_before)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cv_excel.sqlite.controle",
                                                          "cv_excel.sqlite"]


def test_a_store_killed_while_being_created_leaves_nothing(tmp_path, monkeypatch):
    def killed(store):
        raise KeyboardInterrupt

    monkeypatch.setattr(db, "_migrate", killed)
    with pytest.raises(KeyboardInterrupt):
        db.open_store(tmp_path / "cv_excel.sqlite")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    with db.open_store(tmp_path / "cv_excel.sqlite") as store:
        assert store.version == db.SCHEMA_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cv_excel.sqlite.controle",
                                                          "cv_excel.sqlite"]


# --- temporary files a killed process left ----------------------------------------------
def test_stale_temporary_files_are_removed_by_the_next_command(dossier):
    leftovers = [dossier / "sorties" / ".tmp-x.csv",
                 dossier / "sorties" / "2019" / ".tmp-y.xlsx",
                 dossier / "archives" / "ab" / ".tmp-z.xlsx",
                 dossier / "classeurs" / "2019" / ".tmp-w.json",
                 dossier / ".tmp-v.sqlite"]
    kept = [dossier / "sorties" / "notes.tmp-x.csv",  # not ours
            dossier / "retours" / ".tmp-u.xlsx",  # the inbox belongs to the senders
            dossier / "programmation" / ".tmp-t.xlsx"]
    for path in leftovers + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partiel")
    assert cli("consolider", "--dossier", str(dossier)).exit_code == 0
    assert [p for p in leftovers if p.exists()] == []
    assert all(p.exists() for p in kept)
