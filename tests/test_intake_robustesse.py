"""A valid-looking return or an ordinary mishap never stops a run, and nothing is
lost in the corners (issue 9): versions in one run, re-validation after the
Direction fixes its settings, one folder per run, the inbox's odd entries, big
files streamed, statuses computed last, internal errors in plain French, a
store failure confined to its file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import io
import json
import os
import shutil
import signal
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from cv_excel.batch.traiter import RIEN_DE_NOUVEAU, traiter
from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.demo.returns import MISTAKES, filled_plan, render_return
from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.intake import run as intake_run
from cv_excel.intake.archive import Archive
from cv_excel.intake.run import ACCEPTE, DOUBLON, ECARTE, REJETE
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.store import imports
from cv_excel.xlsx.package import XlsxPackage
from tests.test_intake_proprietes import hostile_file

NOW = dt.datetime(2020, 2, 3, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A demo folder after generation, inbox empty."""
    return run_demo_cycle(tmp_path_factory.mktemp("robustesse") / "base", returns=False).dossier


@dataclasses.dataclass
class Folder:
    work: DossierTravail
    ref: object
    programmation: object
    entries: list  # the register's entries

    @property
    def inbox(self) -> Path:
        return self.work.path("retours")

    def entry(self, kind: str, n: int = 0):
        return [e for e in self.entries if e.type == kind][n]

    def ret(self, entry, change=None) -> bytes:
        plan = filled_plan(self.work, self.ref, self.programmation, entry, 2019)
        if change is not None:
            change(plan)
        return render_return(self.work, plan, entry)

    def drop(self, name: str, data: bytes, at: float) -> Path:
        path = self.inbox / name
        path.write_bytes(data)
        os.utime(path, (at, at))
        return path

    def in_force(self, destinataire_id: str) -> list[str]:
        db = sqlite3.connect(self.work.root / "cv_excel.sqlite")
        try:
            return [r[0] for r in db.execute(
                "SELECT nom FROM submissions WHERE destinataire_id = ? AND donnees = 1 "
                "AND remplacee_par IS NULL", (destinataire_id,))]
        finally:
            db.close()

    def set_year(self, annee: int) -> None:
        toml = self.work.root / "cv_excel.toml"
        text = toml.read_text("utf-8")
        lines = [f"annee = {annee}" if line.startswith("annee =") else line
                 for line in text.splitlines()]
        toml.write_text("\n".join(lines) + "\n", "utf-8")
        self.work = DossierTravail.open(self.work.root)


@pytest.fixture
def folder(base, tmp_path) -> Folder:
    root = tmp_path / "dossier"
    shutil.copytree(base, root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    programmation = read_programmation(work.programmation_file(2019), ref, annee=2019)
    from cv_excel.generation.generate import ClasseurGenere

    registre = json.loads((work.path("classeurs") / "2019" / "registre.json").read_text("utf-8"))
    return Folder(work, ref, programmation, [ClasseurGenere(**e) for e in registre])


def _codes(fichier) -> list[str]:
    return [f.code for f in fichier.findings]


def _by_name(run) -> dict:
    return {f.nom: f for f in run.fichiers}


# --- 3. versions within one run ------------------------------------------------------------

def test_the_most_recent_version_wins_whatever_its_name(folder):
    entry = folder.entry("porteur")
    older = folder.ret(entry)

    def later(plan):
        plan.sections[0].values["act_resultats"] = "Version corrigée du bilan (fictif)."

    newer = folder.ret(entry, later)
    # A mail client saves the second copy as « … (1).xlsx », which sorts first by name.
    folder.drop("Bilan.xlsx", older, 1_700_000_000)
    folder.drop("Bilan (1).xlsx", newer, 1_700_000_600)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    files = _by_name(run)
    assert [f.nom for f in run.fichiers] == ["Bilan.xlsx", "Bilan (1).xlsx"]
    assert files["Bilan.xlsx"].statut == ACCEPTE  # an information, not a warning
    assert "RET_VERSION_REMPLACEE" in _codes(files["Bilan.xlsx"])
    assert "Bilan (1).xlsx" in next(f.message for f in files["Bilan.xlsx"].findings
                                    if f.code == "RET_VERSION_REMPLACEE")
    assert "RET_VERSION_REMPLACEE" not in _codes(files["Bilan (1).xlsx"])
    assert folder.in_force(entry.destinataire_id) == ["Bilan (1).xlsx"]


# --- 4. re-validation --------------------------------------------------------------------

def test_a_return_rejected_for_the_directions_settings_is_examined_again(folder):
    porteur, faulty = folder.entry("porteur", 0), folder.entry("porteur", 1)
    folder.drop("Bilan 2019 tardif.xlsx", folder.ret(porteur), 1_700_000_000)
    folder.drop("Bilan avec une faute.xlsx", folder.ret(faulty, MISTAKES[0][1]), 1_700_000_100)
    folder.set_year(2020)  # January: the Direction already moved to the next year
    first = _by_name(valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW))
    assert first["Bilan 2019 tardif.xlsx"].statut == REJETE
    assert "CLS_ANNEE" in _codes(first["Bilan 2019 tardif.xlsx"])
    assert folder.in_force(porteur.destinataire_id) == []

    folder.set_year(2019)  # the setting is fixed: the late bilan is examined again
    second = _by_name(valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW))
    again = second["Bilan 2019 tardif.xlsx"]
    assert again.statut == ACCEPTE and again.reexamen
    assert "RET_REEXAMEN" in _codes(again)
    assert folder.in_force(porteur.destinataire_id) == ["Bilan 2019 tardif.xlsx"]
    # The porteur's own mistake is not the Direction's: it stays a duplicate.
    assert second["Bilan avec une faute.xlsx"].statut == DOUBLON

    third = _by_name(valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, revalider=True))
    assert {f.statut for f in third.values()} == {DOUBLON}  # accepted stays a duplicate
    assert third["Bilan 2019 tardif.xlsx"].findings[0].code == "RET_DOUBLON"
    assert "accepté" in third["Bilan 2019 tardif.xlsx"].findings[0].message


def test_the_batch_reexamines_after_a_settings_change_then_has_nothing_new(folder):
    porteur = folder.entry("porteur", 0)
    folder.drop("Bilan tardif.xlsx", folder.ret(porteur), 1_700_000_000)
    folder.set_year(2020)
    assert traiter(folder.work, annee=2020, now=NOW).nouveaux == {REJETE: 1}
    assert traiter(folder.work, annee=2020, now=NOW).resume == RIEN_DE_NOUVEAU
    folder.set_year(2019)
    after = traiter(folder.work, now=NOW)
    assert after.nouveaux == {ACCEPTE: 1}
    assert folder.in_force(porteur.destinataire_id) == ["Bilan tardif.xlsx"]
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU


def test_revalider_takes_files_no_longer_in_the_inbox_from_the_archive(folder):
    porteur = folder.entry("porteur", 0)
    path = folder.drop("Bilan.xlsx", folder.ret(porteur), 1_700_000_000)
    folder.set_year(2020)
    valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    path.unlink()  # the Direction tidied the inbox
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, revalider=True)
    (again,) = run.fichiers  # still wrong year: examined, rejected again, said so
    assert again.reexamen and again.statut == REJETE
    assert _codes(again)[:2] == ["RET_REEXAMEN", "CLS_ANNEE"]
    assert "à la demande" in again.findings[0].message
    # Same settings, no --revalider: not examined a third time.
    assert valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW).fichiers == []


# --- 7. one folder per run ---------------------------------------------------------------

def test_runs_in_the_same_second_never_share_a_report_folder(folder):
    folder.drop("Bilan.xlsx", folder.ret(folder.entry("porteur")), 1_700_000_000)
    runs = [valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW) for _ in range(6)]
    assert len({r.dossier_sortie for r in runs}) == 6
    assert all(r.rapport_json.exists() and r.rapport_xlsx.exists() for r in runs)
    first = json.loads(runs[0].rapport_json.read_text("utf-8"))
    assert first["fichiers"][0]["statut"] == ACCEPTE  # not overwritten by a later run


# --- 9. the inbox --------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="tubes nommés (POSIX)")
def test_links_pipes_and_lock_files_are_set_aside_with_a_reason(folder, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("mot de passe\n")
    good = folder.drop("Bilan.xlsx", folder.ret(folder.entry("porteur")), 1_700_000_000)
    (folder.inbox / "lien vers secret.xlsx").symlink_to(outside)
    (folder.inbox / "lien vers bilan.xlsx").symlink_to(good)
    (folder.inbox / "boucle.xlsx").symlink_to(folder.inbox / "boucle.xlsx")
    (folder.inbox / "dossier lié").symlink_to(tmp_path)
    os.mkfifo(folder.inbox / "tube.xlsx")
    (folder.inbox / "~$Bilan.xlsx").write_bytes(b"\0" * 165)
    signal.alarm(120)  # a pipe opened for reading would block forever
    try:
        run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    finally:
        signal.alarm(0)
    files = _by_name(run)
    assert files["Bilan.xlsx"].statut == ACCEPTE
    aside = {"lien vers secret.xlsx", "lien vers bilan.xlsx", "boucle.xlsx", "dossier lié",
             "tube.xlsx", "~$Bilan.xlsx"}
    assert {f.nom for f in run.fichiers if f.statut == ECARTE} == aside
    for name in aside:
        (finding,) = files[name].findings
        assert finding.code == "RET_ECARTE" and name in finding.message
    archived = [p for p in folder.work.path("archives").rglob("*") if p.is_file()]
    assert all(b"mot de passe" not in p.read_bytes() for p in archived)
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert aside <= {r["fichier"] for r in report["fichiers"]}


def test_a_huge_file_is_streamed_to_the_archive_not_loaded(folder):
    big = folder.inbox / "film des ateliers.xlsx"
    with big.open("wb") as fh:  # 300 MB, sparse on disk
        fh.truncate(300 * 1024 * 1024)
    tracemalloc.start()
    try:
        run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (fichier,) = run.fichiers
    assert fichier.statut == REJETE and _codes(fichier) == ["FIC_TROP_GROS"]
    assert fichier.archive.stat().st_size == big.stat().st_size
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} Mo en mémoire"


# --- 11. statuses last, plain French, one file's failure stays on it ----------------------

def test_an_internal_error_is_told_in_plain_french_and_rejects_only_its_file(folder,
                                                                            monkeypatch):
    folder.drop("Bilan A.xlsx", folder.ret(folder.entry("porteur", 0)), 1_700_000_000)
    folder.drop("Bilan B.xlsx", folder.ret(folder.entry("porteur", 1)), 1_700_000_100)
    original = intake_run.check_values

    def failing(lu, ctx):
        if lu.meta.get("meta_destinataire_id") == folder.entry("porteur", 0).destinataire_id:
            raise decimal.InvalidOperation([decimal.InvalidOperation])
        return original(lu, ctx)

    monkeypatch.setattr(intake_run, "check_values", failing)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    a, b = run.fichiers
    assert (a.statut, b.statut) == (REJETE, ACCEPTE)
    (finding,) = a.findings
    assert finding.code == "RET_ERREUR_INTERNE"
    for text in (finding.message, finding.hint):
        assert "InvalidOperation" not in text and "<class" not in text
    assert "InvalidOperation" in a.detail_technique  # for IT, in the JSON report
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert "InvalidOperation" in report["fichiers"][0]["détail technique"]
    # Our fault, not the porteur's: examined again once fixed.
    monkeypatch.setattr(intake_run, "check_values", original)
    again = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, revalider=True)
    assert [(f.nom, f.statut) for f in again.fichiers] == [("Bilan A.xlsx", ACCEPTE),
                                                          ("Bilan B.xlsx", DOUBLON)]


def test_the_status_is_computed_after_every_finding(folder, monkeypatch):
    warned = folder.ret(folder.entry("porteur", 0), MISTAKES[0][1])  # rejected: annotated
    folder.drop("Bilan.xlsx", warned, 1_700_000_000)

    def broken(*args, **kwargs):
        raise OSError("disque plein (simulé)")

    monkeypatch.setattr(intake_run, "annotate", broken)
    (fichier,) = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW).fichiers
    assert "RET_ANNOTATION" in _codes(fichier)
    assert fichier.statut == intake_run.status_of(fichier.findings) == REJETE


def test_a_store_failure_rejects_that_file_only_and_the_next_run_does_not_trip(folder,
                                                                              monkeypatch):
    first, second = folder.entry("porteur", 0), folder.entry("porteur", 1)
    folder.drop("Bilan A.xlsx", folder.ret(first), 1_700_000_000)
    folder.drop("Bilan B.xlsx", folder.ret(second), 1_700_000_100)
    original = imports._insert_bilans

    def failing(conn, sub_id, sub, *rest):
        if sub["destinataire_id"] == first.destinataire_id:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        original(conn, sub_id, sub, *rest)

    monkeypatch.setattr(imports, "_insert_bilans", failing)
    run = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW)
    a, b = run.fichiers
    assert a.statut == REJETE and "RET_ENREGISTREMENT" in _codes(a)
    assert b.statut == ACCEPTE and folder.in_force(second.destinataire_id) == ["Bilan B.xlsx"]
    journal = {r.nom: r.statut for r in Archive(folder.work.path("archives")).receptions}
    assert journal == {"Bilan A.xlsx": REJETE, "Bilan B.xlsx": ACCEPTE}
    assert "OverflowError" not in " ".join(f.message for f in a.findings)

    nothing = traiter(folder.work, now=NOW)  # still failing: no trip, nothing new
    assert nothing.code == 0 and nothing.nb_nouveaux == 0
    monkeypatch.setattr(imports, "_insert_bilans", original)  # fixed (an upgrade, say)
    again = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW, revalider=True)
    assert _by_name(again)["Bilan A.xlsx"].statut == ACCEPTE
    assert folder.in_force(first.destinataire_id) == ["Bilan A.xlsx"]


# --- done when: a mixed batch of good files and the files of cases 1-2 ---------------------

def _with_stray_cell(data: bytes, ref: str, inner: str) -> bytes:
    """The workbook with one more cell far away on its first action sheet."""
    pkg = XlsxPackage.from_bytes(data)
    part = next(s.path for s in pkg.sheets() if s.name.startswith("Action"))
    row = "".join(ch for ch in ref if ch.isdigit())
    xml = pkg.parts[part].decode("utf-8")
    xml = xml.replace("</sheetData>", f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>'
                      f"{inner}</t></is></c></row></sheetData>", 1)
    pkg.parts[part] = xml.encode("utf-8")
    return pkg.to_bytes()


def test_a_mixed_batch_stores_the_good_files_and_the_next_run_has_nothing_new(folder):
    porteurs = [e for e in folder.entries if e.type == "porteur"]
    good = porteurs[:4]
    at = 1_700_000_000
    for i, entry in enumerate(good):
        folder.drop(f"Bilan {i}.xlsx", folder.ret(entry), at + i)

    def huge_count(plan):
        plan.sections[0].values["act_benef_total"] = 1e20

    def huge_amount_as_text(plan):
        plan.sections[0].tables["bud_charges"]["64"]["realise"] = "1" * 30

    bad = {
        "Bilan 1E+20.xlsx": folder.ret(porteurs[4], huge_count),
        "Bilan 30 chiffres.xlsx": folder.ret(porteurs[5], huge_amount_as_text),
    }
    far = {
        "Bilan cellule lointaine vide.xlsx": _with_stray_cell(folder.ret(porteurs[6]),
                                                              "XFD1048576", ""),
        "Bilan cellule lointaine.xlsx": _with_stray_cell(folder.ret(porteurs[7]), "AZ200000",
                                                         "note"),
    }
    for j, (name, data) in enumerate({**bad, **far}.items()):
        folder.drop(name, data, at + 100 + j)

    result = traiter(folder.work, now=NOW)
    assert result.code == 0
    statuses = {}
    report = json.loads(next(result.dossier_validation.glob("*.json")).read_text("utf-8"))
    for row in report["fichiers"]:
        statuses[row["fichier"]] = (row["statut"], [c["code"] for c in row["constats"]])
    for i, entry in enumerate(good):
        assert statuses[f"Bilan {i}.xlsx"][0] == ACCEPTE
        assert folder.in_force(entry.destinataire_id) == [f"Bilan {i}.xlsx"]
    for name in bad:
        status, codes = statuses[name]
        assert status == REJETE and "VAL_INVRAISEMBLABLE" in codes, (name, codes)
    for name in far:  # the porteur's answers are read; what lies far away is not
        status, codes = statuses[name]
        assert status in (ACCEPTE, "accepté avec avertissements"), (name, codes)
    assert statuses["Bilan cellule lointaine.xlsx"][0] == "accepté avec avertissements"
    assert traiter(folder.work, now=NOW).resume == RIEN_DE_NOUVEAU


def test_a_number_no_date_can_be_in_a_date_cell_is_a_french_finding(folder):
    """calamine panics turning −2 911 290 829 015 into a date: found by the property test."""
    entry = folder.entry("porteur", 0)

    def absurd_date(plan):
        plan.sections[0].values["act_date_debut"] = -2_911_290_829_015

    folder.drop("Bilan.xlsx", folder.ret(entry, absurd_date), 1_700_000_000)
    (fichier,) = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW).fichiers
    assert fichier.statut == REJETE
    assert "RET_ERREUR_INTERNE" not in _codes(fichier)
    (finding,) = [f for f in fichier.findings if f.field == "act_date_debut"]
    assert finding.code == "VAL_PAS_UNE_DATE"


# --- 5. list answers in another case or Unicode form -----------------------------------

@pytest.mark.parametrize("typed", ["réalisée", "RÉALISÉE", " Réalisée ",
                                   "Re\u0301alise\u0301e"], ids=["minuscules", "capitales",
                                                                 "espaces", "NFD"])
def test_a_list_answer_is_stored_with_the_lists_spelling_and_counts(folder, typed):
    entry = folder.entry("porteur", 0)

    def typed_otherwise(plan):
        for section in plan.sections:
            section.values["act_realisation"] = "QZX0QZX"

    # Written into the sheet as typed (this project's writer would normalise it first).
    data = hostile_file(folder.ret(entry, typed_otherwise), {"QZX0QZX": typed})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert any(typed.encode() in zf.read(n) for n in zf.namelist())
    folder.drop("Bilan.xlsx", data, 1_700_000_000)
    (fichier,) = valider_et_enregistrer(folder.work, ref=folder.ref, now=NOW).fichiers
    assert fichier.statut == ACCEPTE, [f.message for f in fichier.findings]
    db = sqlite3.connect(folder.work.root / "cv_excel.sqlite")
    try:
        stored = {r[0] for r in db.execute("SELECT realisation FROM bilans")}
    finally:
        db.close()
    assert stored == {"Réalisée"}  # what the dashboards count as done
