"""Generation stays well-formed and registered whatever the programmation holds and
whatever stops it: texts normalised once (issue 9, case 12), one workbook failing
or the process being killed never leaves an unregistered workbook (case 10)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree

import cv_excel.generation.generate as generation
from cv_excel.config import DossierTravail
from cv_excel.demo import build_demo
from cv_excel.errors import pending_path, read_registre
from cv_excel.generation.fingerprint import canonical, fingerprint
from cv_excel.generation.generate import BUILTIN_TEMPLATES, generate, output_folder
from cv_excel.generation.plan import reserved_titles, section_title
from cv_excel.generation.validations import validation_for
from cv_excel.intake.checks.tamper import check_tamper
from cv_excel.intake.context import context_for, load_registre
from cv_excel.intake.run import check_bytes
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.models import Programmation
from cv_excel.programmation.template import write_programmation
from cv_excel.reader import prefilled_values, read_workbook
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import PORTEUR, SPECS
from cv_excel.spec.model import Champ
from cv_excel.text import (
    EXCEL_CELL_MAX,
    EXCEL_SHEET_MAX,
    clean_text,
    has_removed_characters,
    sheet_title,
    utf16_len,
)

NOW = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NFD_CAFE = unicodedata.normalize("NFD", "Café")
WEIRD_NAME = f"Asso\r\nÉté\x0b{NFD_CAFE}\ufffe 🎉 \x07fin"
LONG_TEXT = "Début " + "🎉é" * 20_000  # 40,006 characters, 60,006 UTF-16 units
EMOJI_NUMERO = "2019-" + "🎉" * 14  # « Action 2019-🎉… » is 40 UTF-16 units


# --- a working folder and programmations -----------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("robustesse") / "demo"
    build_demo(root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    return root, ref, prog


def _work(demo, tmp_path: Path) -> DossierTravail:
    """A fresh copy of the demo working folder (no workbook generated yet)."""
    root = tmp_path / "dossier"
    shutil.copytree(demo[0], root)
    return DossierTravail.open(root)


def _weird_programmation(prog: Programmation) -> Programmation:
    """Two porteurs; the first has a name full of traps, a 40,000-character intitulé and
    action numbers whose sheet names would be too long and identical once cut."""
    first, second = prog.porteurs()[:2]
    porteur = first.model_copy(update={"raison_sociale": WEIRD_NAME})
    actions = []
    for i, action in enumerate(prog.actions_of(first.siret)[:2] * 2):
        actions.append(action.model_copy(update={
            "porteur": porteur, "numero": f"{EMOJI_NUMERO}\r\n{i}",
            "intitule": LONG_TEXT if i == 0 else f"Intitulé\x0bavec {NFD_CAFE}\r\n\ufffe"}))
    return Programmation(annee=2019, actions=actions + prog.actions_of(second.siret))


def _registre(work: DossierTravail) -> list[dict]:
    """The register as every reader sees it (with the lines of a run stopped midway)."""
    return read_registre(output_folder(work, 2019) / "registre.json")


@pytest.fixture(scope="module")
def weird(demo, tmp_path_factory):
    work = _work(demo, tmp_path_factory.mktemp("weird"))
    result = generate(work, demo[1], _weird_programmation(demo[2]), 2019, now=NOW)
    return work, result


# --- well-formed workbooks, Excel's limits in UTF-16 units -----------------------------------
def _parts(path: Path) -> dict[str, object]:
    """Every XML part of the package, parsed (a part that is not well-formed raises)."""
    with zipfile.ZipFile(path) as z:
        return {name: ElementTree.fromstring(z.read(name)) for name in z.namelist()
                if name.endswith((".xml", ".rels", ".vml"))}


def test_weird_texts_give_well_formed_workbooks_within_excel_limits(weird):
    work, result = weird
    assert not result.echecs
    assert len(result.of_type("porteur")) == 2 and result.of_type("referent")
    longest = 0
    for entry in result.classeurs:
        parts = _parts(work.root / entry.fichier)
        names = [s.get("name") for s in parts["xl/workbook.xml"].iter(f"{NS}sheet")]
        for name in names:
            assert utf16_len(name) <= EXCEL_SHEET_MAX and sheet_title(name) == name, name
        assert len({n.casefold() for n in names}) == len(names)
        for part_name, root in parts.items():
            if not part_name.startswith("xl/worksheets/"):
                continue
            for t in root.iter(f"{NS}t"):
                text = t.text or ""
                assert utf16_len(text) <= EXCEL_CELL_MAX, (entry.fichier, part_name)
                assert not has_removed_characters(text) and "\r" not in text
                assert unicodedata.is_normalized("NFC", text)
                longest = max(longest, utf16_len(text))
    assert longest == EXCEL_CELL_MAX  # the 40,000-character intitulé, cut in UTF-16 units


def test_weird_texts_read_back_as_written_and_registered(weird):
    work, result = weird
    registre = {e["classeur_id"]: e for e in _registre(work)}
    assert set(registre) == {c.classeur_id for c in result.classeurs}
    ctx = context_for(work, load_referentiel(work.path("referents"))[0], 2019)
    for entry in result.classeurs:
        lu = read_workbook(work.root / entry.fichier, SPECS[entry.type])
        values = prefilled_values(lu)
        registered = registre[entry.classeur_id]
        assert {k: canonical(v) for k, v in values.items()} == registered["preremplies"]
        assert fingerprint(values) == registered["empreinte"] == entry.empreinte
        assert lu.meta["meta_empreinte"] == entry.empreinte
        # The untouched return is not reported as tampered, nor as restructured.
        assert check_tamper(entry.fichier, lu, registered) == [], entry.fichier
        findings, _, _ = check_bytes(Path(entry.fichier).name,
                                     (work.root / entry.fichier).read_bytes(), ctx)
        assert not [f for f in findings if f.code.startswith(("CLS_", "MOD_"))], entry.fichier

    porteur = next(c for c in result.of_type("porteur") if "Asso" in c.destinataire)
    assert porteur.destinataire == clean_text(WEIRD_NAME) == "Asso\nÉté\nCafé 🎉 fin"
    lu = read_workbook(work.root / porteur.fichier, PORTEUR)
    assert lu.single["porteur"].values["por_raison_sociale"].value == porteur.destinataire
    intitules = [s.values["act_intitule"].value for s in lu.sections]
    assert intitules[0] == clean_text(LONG_TEXT) and intitules[0].endswith("…")
    assert intitules[1] == "Intitulé\navec Café\n"
    # Section sheets: four actions whose names are equal once cut, all distinct.
    titles = [s.titre for s in lu.sections]
    assert len(titles) == 4 and len({t.casefold() for t in titles}) == 4
    assert all(utf16_len(t) <= EXCEL_SHEET_MAX and t.startswith("Action 2019-🎉") for t in titles)
    assert porteur.sections == [clean_text(f"{EMOJI_NUMERO}\r\n{i}") for i in range(4)]


def test_section_titles_are_unique_and_short_in_utf16_units():
    taken = reserved_titles(PORTEUR)
    titles = [section_title("Action", key, taken)
              for key in ["🎉" * 30] * 12 + ["a/b:c*d?e[f]g\\h", "'x'", "", "Lisez-moi", "🎉" * 30,
                                              "n=1"]]
    assert len({t.casefold() for t in titles}) == len(titles)
    for title in titles:
        assert utf16_len(title) <= EXCEL_SHEET_MAX and sheet_title(title) == title, title
    assert titles[12] == "Action a-b-c-d-e-f-g-h"
    assert titles[-1] == "Action n-1"  # the metadata lists sections as « title=key »
    # The sheets of the template itself are never taken by a section.
    assert section_title("Objectif", "", {"objectif"}) != "Objectif"
    assert not {t.casefold() for t in titles} & {f.titre.casefold() for f in PORTEUR.feuilles}


# --- one workbook failing, or the process killed -------------------------------------------
def _assert_every_workbook_registered(work: DossierTravail) -> list[dict]:
    """The bug of case 10: a workbook in classeurs/ that the register does not know."""
    folder = output_folder(work, 2019)
    entries = _registre(work)
    by_file = {e["fichier"]: e for e in entries}
    for path in folder.rglob("*"):
        assert not path.name.startswith(".tmp-"), path
        if path.suffix != ".xlsx":
            continue
        entry = by_file.get(path.relative_to(work.root).as_posix())
        assert entry is not None, f"{path.name} écrit mais absent du registre"
        lu = read_workbook(path, SPECS[entry["type"]])
        assert lu.meta["meta_classeur_id"] == entry["classeur_id"]
    return entries


def _small(prog: Programmation, porteurs: int = 4) -> Programmation:
    sirets = [p.siret for p in prog.porteurs()[:porteurs]]
    return Programmation(annee=2019, actions=[a for a in prog.actions if a.porteur.siret in sirets])


def test_objective_with_more_actions_than_the_table_holds_grows(demo, tmp_path):
    """25 actions under one objective, 20 rows in the template: the table grows (issue 12)
    and every référent of that objective gets all 25."""
    work = _work(demo, tmp_path)
    ref, prog = demo[1], demo[2]
    action = prog.actions[0]
    code = action.objectif_operationnel
    crowded = [action.model_copy(update={"numero": f"{action.numero}-{i}"}) for i in range(25)]
    others = [a for a in _small(prog, 3).actions if a.objectif_operationnel != code]
    result = generate(work, ref, Programmation(annee=2019, actions=crowded + others), 2019,
                      now=NOW)

    assert not result.echecs
    concerned = {ref.referent(i).libelle for i in ref.objectif(code).referents}
    found = set()
    for c in result.of_type("referent"):
        lu = read_workbook(work.root / c.fichier, SPECS["referent"])
        for section in lu.sections:
            if section.titre == f"Objectif {code}":
                found.add(c.destinataire)
                numeros = [r["numero"].value for r in section.tables["obj_actions"]]
                assert numeros[:25] == [a.numero for a in crowded]
    assert found == concerned
    entries = _assert_every_workbook_registered(work)
    assert {e["classeur_id"] for e in entries} == {c.classeur_id for c in result.classeurs}


def _decisions(n: int) -> list:
    from cv_excel.store.models import DecisionSuivie

    return [DecisionSuivie(
        numero=f"A-2019-R1-{i:02d}", pilier="A", code="A9", decision=f"Décision {i}",
        type="Arbitrage", responsable="Direction", echeance=dt.date(2019, 9, 30),
        statut="Ouverte", commentaire=None, ouverte_annee=2019, ouverte_revue=1, maj_annee=2019,
        maj_revue=1) for i in range(n)]


def test_releve_with_more_open_decisions_than_its_table_holds_grows(demo, tmp_path,
                                                                    monkeypatch):
    """200 open decisions, 40 rows in the template: pilier A's relevé holds them all."""
    from cv_excel.generation.plan import ContexteRevue

    work = _work(demo, tmp_path)
    decisions = _decisions(200)
    monkeypatch.setattr(generation, "contexte_revue",
                        lambda *_a, **_k: ContexteRevue(decisions=decisions))
    result = generate(work, demo[1], _small(demo[2]), 2019, kinds=("decisions",), now=NOW,
                      revue=1)
    assert not result.echecs
    [releve] = [c for c in result.classeurs if c.destinataire_id == "pilier-A"]
    lu = read_workbook(work.root / releve.fichier, SPECS["decisions"])
    suivi = lu.sections[0].tables["dec_suivi"]
    assert [r["numero"].value for r in suivi] == [d.numero for d in decisions]
    assert len(lu.sections[0].tables["dec_nouvelles"]) == 20  # the table below is intact
    _assert_every_workbook_registered(work)


def test_releve_beyond_the_rows_intake_reads_fails_alone(demo, tmp_path, monkeypatch):
    """Revue workbooks fail one by one: pilier A's relevé would reach beyond the rows
    intake reads back, the other piliers' relevés are written and registered under
    « Revue 1 »."""
    from cv_excel.generation.plan import ContexteRevue
    from cv_excel.xlsx.extent import FAR_ROW

    work = _work(demo, tmp_path)
    decisions = _decisions(FAR_ROW)
    monkeypatch.setattr(generation, "contexte_revue",
                        lambda *_a, **_k: ContexteRevue(decisions=decisions))
    result = generate(work, demo[1], _small(demo[2]), 2019, kinds=("decisions",), now=NOW,
                      revue=1)
    [echec] = result.echecs
    assert echec.type == "decisions" and echec.destinataire == "Relevé de décisions — Pilier A"
    assert "ne pourrait pas être relu" in echec.message and "dec_suivi" in echec.message
    assert "Error" not in echec.message and "Traceback" not in echec.message
    assert not (work.root / echec.fichier).exists()
    assert echec.fichier.startswith("classeurs/2019/Revue 1/Relevés de décisions/")
    assert {c.destinataire_id for c in result.classeurs} == {
        f"pilier-{p.code}" for p in demo[1].piliers if p.code != "A"}
    entries = _assert_every_workbook_registered(work)
    assert {e["classeur_id"] for e in entries} == {c.classeur_id for c in result.classeurs}
    assert {e["revue"] for e in entries} == {1}


def test_unexpected_error_is_reported_in_french_without_python_text(demo, tmp_path,
                                                                    monkeypatch):
    work = _work(demo, tmp_path)
    real = generation.render
    calls = []

    def render(tpl, plan, classeur_id, now):
        calls.append(plan.destinataire)
        if len(calls) == 2:
            raise RuntimeError("boom interne")
        return real(tpl, plan, classeur_id, now)

    monkeypatch.setattr(generation, "render", render)
    # workers=1: the patched render counts its calls in this process (test_parallel.py
    # checks the same failure raised in a worker process).
    result = generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW,
                      workers=1)
    assert len(result.classeurs) == 3 and len(result.echecs) == 1
    echec = result.echecs[0]
    assert echec.destinataire == calls[1]
    assert "inattendue" in echec.message
    assert "boom" not in echec.message and "RuntimeError" not in echec.message
    assert echec.detail == "RuntimeError: boom interne"
    assert len(_assert_every_workbook_registered(work)) == 3


def test_file_that_cannot_be_written_is_taken_back_from_the_register(demo, tmp_path,
                                                                     monkeypatch):
    work = _work(demo, tmp_path)
    real = generation.write_bytes_atomic
    calls = []

    def write(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, data)

    monkeypatch.setattr(generation, "write_bytes_atomic", write)
    result = generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW)
    assert len(result.classeurs) == 3 and len(result.echecs) == 1
    assert "ouvert dans Excel" in result.echecs[0].message
    assert "Permission" not in result.echecs[0].message
    assert not calls[1].exists()
    entries = _assert_every_workbook_registered(work)
    assert len(entries) == 3


@pytest.mark.parametrize("where", ["render", "before_write", "after_write"])
@pytest.mark.parametrize("k", [1, 3])
def test_killed_midway_leaves_no_unregistered_workbook(demo, tmp_path, monkeypatch, where, k):
    work = _work(demo, tmp_path)
    real_render, real_write = generation.render, generation.write_bytes_atomic
    count = {"render": 0, "write": 0}

    def render(*args):
        count["render"] += 1
        if where == "render" and count["render"] == k:
            raise SystemExit(1)
        return real_render(*args)

    def write(path, data):
        count["write"] += 1
        if where == "before_write" and count["write"] == k:
            raise KeyboardInterrupt
        out = real_write(path, data)
        if where == "after_write" and count["write"] == k:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(generation, "render", render)
    monkeypatch.setattr(generation, "write_bytes_atomic", write)
    with pytest.raises((KeyboardInterrupt, SystemExit)):  # counted here: one process
        generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW,
                 workers=1)
    entries = _assert_every_workbook_registered(work)
    written = list(output_folder(work, 2019).rglob("*.xlsx"))
    assert len(written) == (k if where == "after_write" else k - 1)
    # Registered before written: at most the one being written is known without its file.
    assert len(entries) == (k - 1 if where == "render" else k)

    monkeypatch.undo()  # the next run completes, and everything it wrote is registered
    result = generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW)
    assert not result.echecs
    _assert_every_workbook_registered(work)


def test_a_run_killed_before_its_end_leaves_its_workbooks_registered(demo, tmp_path,
                                                                    monkeypatch):
    """SIGKILL: no ``finally`` runs; the pending lines are the register until folded."""
    work = _work(demo, tmp_path)
    real_write = generation.write_bytes_atomic
    count = {"write": 0}

    def write(path, data):
        count["write"] += 1
        if count["write"] == 3:
            raise KeyboardInterrupt
        return real_write(path, data)

    monkeypatch.setattr(generation, "write_bytes_atomic", write)
    monkeypatch.setattr(generation._Registre, "commit", lambda self: None)  # never reached
    with pytest.raises(KeyboardInterrupt):
        generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW)
    folder = output_folder(work, 2019)
    assert json.loads((folder / "registre.json").read_text("utf-8")) == []  # not folded yet
    entries = _assert_every_workbook_registered(work)
    assert len(entries) == 3 and len(list(folder.rglob("*.xlsx"))) == 2
    assert set(load_registre(work.path("classeurs"))) == {e["classeur_id"] for e in entries}

    monkeypatch.undo()  # the next run folds them into registre.json, then adds its own
    generate(work, demo[1], _small(demo[2]), 2019, kinds=("porteur",), now=NOW)
    assert not pending_path(folder / "registre.json").exists()
    on_disk = json.loads((folder / "registre.json").read_text("utf-8"))
    assert {e["classeur_id"] for e in entries} <= {e["classeur_id"] for e in on_disk}
    _assert_every_workbook_registered(work)


# --- validation formulas ----------------------------------------------------------------------
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _validations(path: Path) -> list[tuple[str, str, str]]:
    """(type, tag, formula) of every data validation of the workbook."""
    found = []
    for name, root in _parts(path).items():
        if not name.startswith("xl/worksheets/"):
            continue
        for dv in root.iter(f"{NS}dataValidation"):
            for tag in ("formula1", "formula2"):
                for el in dv.iter(f"{NS}{tag}"):
                    found.append((dv.get("type", ""), tag, el.text or ""))
    return found


def _assert_formulas_without_equals(path: Path) -> list[tuple[str, str, str]]:
    found = _validations(path)
    assert found, path
    for type_, tag, formula in found:
        assert formula and not formula.lstrip().startswith("="), (path.name, tag, formula)
        if type_ in ("whole", "decimal", "date", "textLength"):
            assert _NUMBER.fullmatch(formula), (path.name, type_, tag, formula)
    return found


def test_generated_validations_have_plain_numbers_and_no_leading_equals(weird):
    work, result = weird
    bounds = set()
    for entry in (result.of_type("porteur")[0], result.of_type("referent")[0]):
        for type_, _, formula in _assert_formulas_without_equals(work.root / entry.fichier):
            if type_ in ("whole", "decimal"):
                bounds.add(formula)
    assert {"0", "1000000", "100000000"} <= bounds


def test_validation_bounds_are_written_without_exponent():
    xml = validation_for(Champ("x", "X", "decimal"), "A1", "A1")
    assert "<formula1>-1000000000</formula1><formula2>1000000000</formula2>" in xml
    xml = validation_for(Champ("x", "X", "montant", minimum=0.5, maximum=1e12), "A1", "A1")
    assert "<formula1>0.5</formula1><formula2>1000000000000</formula2>" in xml
    assert "e+" not in xml.lower()


def test_programmation_model_templates_and_console_have_no_leading_equals(demo, tmp_path):
    from cv_excel.excel.build import build_console

    model = write_programmation(tmp_path / "programmation.xlsx", [], demo[1], annee=2019)
    _assert_formulas_without_equals(model)
    for template in sorted(BUILTIN_TEMPLATES.glob("*.xlsx")):
        for _, _, formula in _validations(template):
            assert not formula.startswith("="), (template.name, formula)
    console = build_console(tmp_path / "console")
    for _, _, formula in _validations(console):
        assert not formula.startswith("="), formula
