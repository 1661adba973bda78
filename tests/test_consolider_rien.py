"""« Rien de nouveau » decided from metadata (issue 12, point 5).

With nothing new, ``consolider`` (annual outputs or a revue's) and ``traiter`` read no
programmation workbook and load no year from the store: the cheap state — code,
configuration, référentiel, content hashes of the programmation files and registers
(a file is hashed again only when its signature changed), the contexte and P147 files,
the arguments, the store's token (``queries.etat_donnees``) — is the one the last build
recorded. Every kind of change is seen, and then leads to the former path: fingerprints
of the years, outputs rebuilt only when they changed.

The cost itself is measured by ``bench/bench_traiter.py``, not here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cv_excel.batch.traiter import RIEN_DE_NOUVEAU, traiter
from cv_excel.config import DossierTravail
from cv_excel.consolidation import run
from cv_excel.consolidation.contexte import CONTEXTE_FILE
from cv_excel.consolidation.run import consolider
from cv_excel.demo.returns import MISTAKES, filled_plan, render_return
from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.generation.generate import ClasseurGenere
from cv_excel.intake.run import ACCEPTE, REJETE
from cv_excel.nomenclature import NOMENCLATURE_FILE
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.store import imports, queries, schema
from cv_excel.store.db import open_store, store_target
from cv_excel.store.queries import etat_donnees, revues_avec_retours
from tests.ouvertures import opened

NOW = dt.datetime(2020, 2, 3, 10, 0, tzinfo=dt.UTC)
T0 = 1_700_000_000


# --- what a run opens and calls ------------------------------------------------------------



@dataclass
class Compte:
    """What the consolidation did: programmation workbooks read, years loaded (outputs
    and fingerprints), programmations imported, input files hashed."""

    lues: list[Path] = field(default_factory=list)
    annees: list[int] = field(default_factory=list)
    importees: list[int] = field(default_factory=list)
    hachees: list[Path] = field(default_factory=list)

    def reset(self) -> None:
        for values in (self.lues, self.annees, self.importees, self.hachees):
            values.clear()

    @property
    def rien_lu(self) -> bool:
        return self.lues == self.annees == self.importees == self.hachees == []


@pytest.fixture
def compte(monkeypatch) -> Compte:
    c = Compte()

    def count(module, name, sink, key):
        original = getattr(module, name)

        def counting(*args, **kwargs):
            sink.append(key(args))
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)

    count(run, "read_programmation_on_disk", c.lues, lambda a: Path(a[0]))
    count(run, "load_year", c.annees, lambda a: a[2])
    count(queries, "load_year", c.annees, lambda a: a[2])  # data_fingerprint's
    count(run, "import_programmation", c.importees, lambda a: a[2])
    count(run, "_hash_file", c.hachees, lambda a: Path(a[0]))
    return c


# --- the folder ------------------------------------------------------------------------------

@pytest.fixture
def work(demo_master, tmp_path) -> DossierTravail:
    """A copy of the demo's folder after its whole cycle (returns, revues, outputs)."""
    root = tmp_path / "dossier"
    shutil.copytree(demo_master, root)
    return DossierTravail.open(root)


@pytest.fixture
def ref(work):
    return load_referentiel(work.path("referents"))[0]


def _entries(work: DossierTravail) -> list[ClasseurGenere]:
    path = work.path("classeurs") / "2019" / "registre.json"
    return [ClasseurGenere(**e) for e in json.loads(path.read_text("utf-8"))]


def _in_force(work: DossierTravail) -> set[str]:
    """The recipients with an accepted return in force for 2019 (in the folder's store)."""
    s = schema.submissions
    with open_store(store_target(work)) as store, store.engine.connect() as conn:
        return set(conn.execute(select(s.c.destinataire_id).where(
            s.c.annee == 2019, s.c.donnees == 1, s.c.remplacee_par.is_(None))).scalars())


def _porteur(work: DossierTravail, answered: bool) -> ClasseurGenere:
    """A porteur's workbook of 2019 whose recipient has (or has not) returned it."""
    done = _in_force(work)
    return next(e for e in _entries(work)
                if e.type == "porteur" and (e.destinataire_id in done) is answered)


def _return(work: DossierTravail, ref, entry: ClasseurGenere, name: str, at: float,
            change=None) -> Path:
    programmation = read_programmation(work.programmation_file(2019), ref, annee=2019)
    plan = filled_plan(work, ref, programmation, entry, 2019)
    if change is not None:
        change(plan)
    path = work.path("retours") / name
    path.write_bytes(render_return(work, plan, entry))
    os.utime(path, (at, at))
    return path


def _store_signature(work: DossierTravail) -> tuple[int, int, int]:
    st = (work.root / "cv_excel.sqlite").stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _outputs(work: DossierTravail) -> dict[str, int]:
    out = work.path("sorties") / "2019"
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file()}


def _cheap(work, ref, compte: Compte, **kwargs):
    """A consolidation that concludes « nothing new » from metadata alone."""
    compte.reset()
    result = consolider(work, ref, 2019, now=NOW, **kwargs)
    assert result.rien_de_nouveau
    assert compte.rien_lu, compte
    return result


def _seen(work, ref, compte: Compte, rebuilt: bool | None, **kwargs):
    """A consolidation that saw a change: the years are fingerprinted (the former path);
    the outputs rebuilt or not (None: either)."""
    compte.reset()
    result = consolider(work, ref, 2019, now=NOW, **kwargs)
    assert compte.annees, "le changement n'a pas été vu"
    if rebuilt is not None:
        assert result.rien_de_nouveau is not rebuilt
    return result


def _settle(work, ref, compte: Compte):
    """Consolidate until the records of this folder (a copy) are written, then check that
    the next run is the cheap one."""
    consolider(work, ref, 2019, now=NOW)
    return _cheap(work, ref, compte)


# --- nothing new: nothing read ---------------------------------------------------------------

def test_nothing_new_reads_no_programmation_and_loads_no_year(work, ref, compte):
    first = consolider(work, ref, 2019, now=NOW)
    numero = _revues(work)[-1]
    consolider(work, ref, 2019, now=NOW, revue=numero)
    store, outputs = _store_signature(work), _outputs(work)
    compte.reset()
    with opened() as paths:
        again = consolider(work, ref, 2019, now=NOW)
        revue = consolider(work, ref, 2019, now=NOW, revue=numero)
    assert again.rien_de_nouveau and revue.rien_de_nouveau
    assert compte.rien_lu, compte
    read = [p for p in paths if Path(p).parent == work.path("programmation")
            or Path(p).name == "registre.json" or Path(p).parent == work.path("retours")]
    assert read == []
    assert _store_signature(work) == store  # nothing written in the store either
    assert _outputs(work) == outputs
    # the same answer as the former path gave
    assert again.fichiers == first.fichiers
    assert again.avertissements == first.avertissements
    assert again.programmations_ignorees == first.programmations_ignorees


def test_nothing_new_on_postgresql_loads_no_year(demo_master, pg_url, tmp_path, compte,
                                                monkeypatch):
    """The same on a server, whose token has no file to look at."""
    root = tmp_path / "dossier"
    shutil.copytree(demo_master, root, ignore=shutil.ignore_patterns("cv_excel.sqlite*"))
    monkeypatch.setenv("CV_EXCEL_BASE", pg_url)
    work = DossierTravail.open(root)
    assert traiter(work, now=NOW).nb_nouveaux  # the returns go to the server
    ref = load_referentiel(work.path("referents"))[0]
    _settle(work, ref, compte)
    path = _return(work, ref, _porteur(work, answered=True), "Bilan corrigé.xlsx", T0,
                   lambda plan: plan.sections[0].values.update(
                       act_resultats="Version corrigée du bilan (fictif)."))
    assert valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW).count(ACCEPTE) == 1
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def _revues(work: DossierTravail) -> list[int]:
    with open_store(store_target(work)) as store:
        return revues_avec_retours(store, work.config.contrat, 2019)


def test_traiter_with_nothing_new_reads_no_programmation_and_loads_no_year(work, compte):
    traiter(work, now=NOW)  # the copy's inbox files are hashed once (new inodes)
    compte.reset()
    result = traiter(work, now=NOW)
    assert result.resume == RIEN_DE_NOUVEAU
    assert compte.rien_lu, compte


def test_the_department_period_and_warnings_come_back_from_the_record(work, ref, compte):
    first = consolider(work, ref, 2019, now=NOW, de=2017, a=2019)
    again = _cheap(work, ref, compte, de=2017, a=2019)
    assert again.periode_departement == first.periode_departement == (2017, 2019)
    assert again.fichiers == first.fichiers and again.avertissements == first.avertissements
    _seen(work, ref, compte, rebuilt=True)  # another period: the report is written again


# --- every kind of change is seen ------------------------------------------------------------

def test_a_new_accepted_return_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    entry = _porteur(work, answered=False)
    path = _return(work, ref, entry, "Bilan tardif.xlsx", T0)
    assert valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW).count(ACCEPTE) == 1
    assert entry.destinataire_id in _in_force(work)
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def test_a_superseding_return_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    entry = _porteur(work, answered=True)

    def corrected(plan):
        plan.sections[0].values["act_resultats"] = "Version corrigée du bilan (fictif)."

    path = _return(work, ref, entry, "Bilan corrigé.xlsx", T0, corrected)
    run_ = valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW)
    assert run_.count(ACCEPTE) == 1
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def test_a_reexamined_file_is_seen(work, ref, compte):
    """Rejected for the Direction's settings, then examined again once they are fixed:
    its rejected row is deleted and the file stored again, accepted."""
    entry = _porteur(work, answered=False)
    path = _return(work, ref, entry, "Bilan 2019 tardif.xlsx", T0)
    toml = work.root / "cv_excel.toml"
    settings = toml.read_text("utf-8")
    toml.write_text(settings.replace("annee = 2019", "annee = 2020"), "utf-8")
    first = valider_et_enregistrer(DossierTravail.open(work.root), chemins=[path], ref=ref,
                                   now=NOW)
    assert first.count(REJETE) == 1
    toml.write_text(settings, "utf-8")
    _settle(work, ref, compte)
    again = valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW)
    assert again.count(ACCEPTE) == 1 and again.fichiers[0].reexamen
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def _edit_programmation(path: Path) -> None:
    wb = load_workbook(path)
    ws = wb["Programmation"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("Intitulé de l'action") + 1)
    cell.value = f"{cell.value} (intitulé modifié)"
    wb.save(path)


def test_a_programmation_edited_is_read_again_and_rebuilds(work, ref, compte):
    _settle(work, ref, compte)
    path = work.programmation_file(2019)
    _edit_programmation(path)
    _seen(work, ref, compte, rebuilt=True)
    assert compte.lues == [path] and compte.importees == [2019]  # that file only
    _cheap(work, ref, compte)


def test_a_programmation_touched_only_costs_one_hash(work, ref, compte):
    _settle(work, ref, compte)
    path = work.programmation_file(2019)
    store, outputs = _store_signature(work), _outputs(work)
    os.utime(path, (T0, T0))  # same bytes, another modification time
    compte.reset()
    result = consolider(work, ref, 2019, now=NOW)
    assert result.rien_de_nouveau
    assert compte.hachees == [path]
    assert compte.lues == compte.annees == compte.importees == []
    assert _store_signature(work) == store and _outputs(work) == outputs
    _cheap(work, ref, compte)  # its new signature was remembered


def test_a_programmation_rewritten_with_the_same_data_is_read_once_rebuilds_nothing(
        work, ref, compte):
    _settle(work, ref, compte)
    path = work.programmation_file(2019)
    data = path.read_bytes()
    assert data[-22:-18] == b"PK\x05\x06" and data[-2:] == b"\0\0"
    path.write_bytes(data[:-2] + (7).to_bytes(2, "little") + b"nouveau")  # a zip comment
    outputs = _outputs(work)
    _seen(work, ref, compte, rebuilt=False)
    assert compte.lues == [path]
    assert _outputs(work) == outputs
    _cheap(work, ref, compte)


def test_the_register_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    path = work.path("classeurs") / "2019" / "registre.json"
    entries = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps(entries[:-1], ensure_ascii=False, indent=1), "utf-8")
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def test_the_contexte_file_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    path = work.root / CONTEXTE_FILE
    path.write_bytes(path.read_bytes() + b"\n")
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def test_the_p147_file_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    (work.root / NOMENCLATURE_FILE).write_text("code;libelle;source\n", "utf-8")
    _seen(work, ref, compte, rebuilt=True)
    # the P147 codes a programmation may use changed: each file is checked again
    assert compte.lues == [work.programmation_file(y) for y in _years(work)]
    _cheap(work, ref, compte)


def test_the_configuration_is_seen(work, ref, compte, monkeypatch):
    _settle(work, ref, compte)
    monkeypatch.setenv("CV_EXCEL_DIRECTION", "Direction de la cohésion (essai)")
    changed = DossierTravail.open(work.root)
    _seen(changed, ref, compte, rebuilt=True)
    _cheap(changed, ref, compte)


def test_the_referentiel_makes_the_programmations_read_again(work, ref, compte):
    _settle(work, ref, compte)
    other = ref.model_copy(update={"contrat": ref.contrat.model_copy(
        update={"libelle": f"{ref.contrat.libelle} (essai)"})})
    _seen(work, other, compte, rebuilt=False)
    assert compte.lues == [work.programmation_file(y) for y in _years(work)]


def _years(work: DossierTravail) -> list[int]:
    return sorted(int(p.stem.split()[-1])
                  for p in work.path("programmation").glob("Programmation *.xlsx"))


def test_programmation_rows_changed_in_the_store_are_put_back_from_the_file(work, ref,
                                                                           compte):
    """Another writer (or an older backup) changed the store's copy of a programmation
    while its file stayed the same: the file is imported again, and the outputs, built
    from the file's values, stay as they are."""
    _settle(work, ref, compte)
    outputs = _outputs(work)
    db = sqlite3.connect(work.root / "cv_excel.sqlite")
    try:
        with db:
            db.execute("UPDATE programmation_actions SET intitule = intitule || ' (autre)' "
                       "WHERE annee = 2019")
    finally:
        db.close()
    _seen(work, ref, compte, rebuilt=False)
    assert compte.lues == [work.programmation_file(2019)] and compte.importees == [2019]
    assert _outputs(work) == outputs
    _cheap(work, ref, compte)


def test_a_store_restored_from_a_backup_is_seen(work, ref, compte):
    _settle(work, ref, compte)
    store = work.root / "cv_excel.sqlite"
    backup = work.root.parent / "sauvegarde.sqlite"
    shutil.copy2(store, backup)
    path = _return(work, ref, _porteur(work, answered=False), "Bilan tardif.xlsx", T0)
    valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW)
    _seen(work, ref, compte, rebuilt=True)
    shutil.copy2(backup, store)  # the former store is back, its times too
    _seen(work, ref, compte, rebuilt=True)
    _cheap(work, ref, compte)


def test_another_store_is_seen(work, ref, compte, monkeypatch):
    _settle(work, ref, compte)
    shutil.copy2(work.root / "cv_excel.sqlite", work.root / "copie.sqlite")
    monkeypatch.setenv("CV_EXCEL_BASE", "copie.sqlite")
    other = DossierTravail.open(work.root)
    assert Path(store_target(other)).name == "copie.sqlite"
    _seen(other, ref, compte, rebuilt=False)  # the same data: nothing to rewrite
    _cheap(other, ref, compte)


def test_a_revue_sees_a_new_return(work, ref, compte):
    numero = _revues(work)[-1]
    consolider(work, ref, 2019, now=NOW, revue=numero)
    _cheap(work, ref, compte, revue=numero)
    path = _return(work, ref, _porteur(work, answered=False), "Bilan tardif.xlsx", T0)
    valider_et_enregistrer(work, chemins=[path], ref=ref, now=NOW)
    _seen(work, ref, compte, rebuilt=None, revue=numero)
    _cheap(work, ref, compte, revue=numero)


# --- the store's token -------------------------------------------------------------------------

def test_every_write_of_the_store_changes_its_token(work, ref, store_at, monkeypatch):
    """On both engines: a programmation stored, then replaced by other values of the same
    size; a new file; a supersession; a rejection; a re-examination (its rejected row
    deleted, the file stored again). Reading changes nothing."""
    monkeypatch.setenv("CV_EXCEL_BASE", str(store_at()))
    work = DossierTravail.open(work.root)
    contrat = work.config.contrat
    programmation = read_programmation(work.programmation_file(2019), ref, annee=2019)
    porteurs = [e for e in _entries(work) if e.type == "porteur"]  # none answered there
    tokens: list[str] = []

    def changed() -> None:
        with open_store(store_target(work)) as store:
            token = etat_donnees(store, contrat)
            queries.load_year(store, contrat, 2019)  # reading
            assert etat_donnees(store, contrat) == token
        assert token not in tokens, len(tokens)
        tokens.append(token)

    def store_programmation() -> None:
        with open_store(store_target(work)) as store:
            imports.import_programmation(store, contrat, 2019, programmation)

    def validate(path: Path, annee: int = 2019):
        toml = work.root / "cv_excel.toml"
        settings = toml.read_text("utf-8")
        if annee != 2019:
            toml.write_text(settings.replace("annee = 2019", f"annee = {annee}"), "utf-8")
        try:
            return valider_et_enregistrer(DossierTravail.open(work.root), chemins=[path],
                                          ref=ref, now=NOW).fichiers[0]
        finally:
            toml.write_text(settings, "utf-8")

    changed()
    store_programmation()
    changed()
    action, i, money = next((a, i, f) for a in programmation.actions
                            for i, f in enumerate(a.financements)
                            if f.accorde and str(f.accorde)[0] in "12345678")
    text = str(money.accorde)
    action.financements[i] = money.model_copy(update={  # same size
        "accorde": type(money.accorde)(str(int(text[0]) + 1) + text[1:])})
    store_programmation()
    changed()
    def written(text: str, mistake=None):
        """Other bytes than the demo's own returns (which the journal knows)."""
        def change(plan):
            plan.sections[0].values["act_resultats"] = text
            if mistake is not None:
                mistake(plan)
        return change

    first = _return(work, ref, porteurs[0], "Bilan.xlsx", T0, written("Essai 1 (fictif)."))
    assert validate(first).statut == ACCEPTE
    changed()
    newer = _return(work, ref, porteurs[0], "Bilan corrigé.xlsx", T0 + 60,
                    written("Essai 2, version corrigée (fictif)."))
    assert validate(newer).statut == ACCEPTE
    changed()
    faulty = _return(work, ref, porteurs[1], "Bilan fautif.xlsx", T0 + 120,
                     written("Essai 3 (fictif).", MISTAKES[0][1]))
    assert validate(faulty).statut == REJETE
    changed()
    late = _return(work, ref, porteurs[2], "Bilan tardif.xlsx", T0 + 180,
                   written("Essai 4 (fictif)."))
    assert validate(late, annee=2020).statut == REJETE  # the Direction's settings
    changed()
    again = validate(late)
    assert again.reexamen and again.statut == ACCEPTE
    changed()


@pytest.mark.parametrize("entries", [[], [{"a": 1}], [{"a": 1, "b": "é\n"}, {"c": [1, 2]}, {}]])
def test_register_digest_made_entry_by_entry_is_that_of_the_whole_list(entries):
    """The register is kept on disk and hashed entry by entry: the same digest as the
    whole list's repr, so an upgraded folder does not rebuild its outputs for it."""
    import hashlib

    from cv_excel.consolidation.run import _registre_digest
    from cv_excel.spill import SpilledList

    assert _registre_digest(SpilledList(entries)) == hashlib.sha256(
        repr(entries).encode()).hexdigest()
