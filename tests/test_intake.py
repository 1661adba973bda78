"""Intake stages on real files: file safety, identification, structure, tamper, and
the run itself (archive, duplicates, reports, annotated copies, nothing lost).

Each should_fail case is generated here from a real generated workbook or from
raw bytes, and must give its specific code without raising.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.intake.checks.fichier import Limites, check_file
from cv_excel.intake.context import context_for
from cv_excel.intake.run import DOUBLON, REJETE, check_bytes
from cv_excel.referentiel.load import load_referentiel


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    result = run_demo_cycle(tmp_path_factory.mktemp("intake") / "demo")
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    porteur = max(result.generation.of_type("porteur"), key=lambda c: len(c.sections))
    return work, ref, result.generation, work.root / porteur.fichier


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _with_parts(src: bytes, extra: dict[str, bytes], replace: dict[str, bytes] | None = None
                ) -> bytes:
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts.update(replace or {})
    parts.update(extra)
    return _zip(parts)


def _flip_middle(data: bytes) -> bytes:
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


_MINIMAL = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
         b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><workbook>&lol2;</workbook>')

# (name, bytes from the generated workbook's bytes, expected code)
FILE_CASES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("vide", lambda g: b"", "FIC_VIDE"),
    ("xls", lambda g: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "FIC_XLS"),
    ("chiffre", lambda g: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64
     + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64, "FIC_CHIFFRE"),
    ("ods", lambda g: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                            "content.xml": b"<x/>"}), "FIC_ODS"),
    ("xlsm", lambda g: _with_parts(g, {"xl/vbaProject.bin": b"\0" * 100}), "FIC_XLSM"),
    ("tronque", lambda g: g[: len(g) // 2], "FIC_ZIP_CORROMPU"),
    ("altere", _flip_middle, "FIC_ZIP_CORROMPU"),
    ("entites", lambda g: _with_parts(g, {}, {"xl/workbook.xml": _BOMB}), "FIC_XML_DANGEREUX"),
    ("pdf", lambda g: b"%PDF-1.4\n" + b"x" * 100, "FIC_PAS_UN_CLASSEUR"),
    ("csv", lambda g: "numéro;montant\n2019-001;2500\n".encode(), "FIC_PAS_UN_CLASSEUR"),
    ("zip sans classeur", lambda g: _zip({"a.txt": b"bonjour"}), "FIC_PAS_UN_CLASSEUR"),
    ("image", lambda g: b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "FIC_PAS_UN_CLASSEUR"),
]


@pytest.mark.parametrize(("label", "make", "code"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_level_should_fail(demo, label, make, code):
    data = make(demo[3].read_bytes())
    findings, pkg = check_file(f"{label}.xlsx", data)
    assert pkg is None
    assert [f.code for f in findings] == [code]
    assert findings[0].message and findings[0].hint


def test_oversized_and_zip_bomb_are_refused_without_inflating_everything():
    bomb = _zip({**_MINIMAL, "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    findings, _ = check_file("bombe.xlsx", bomb, Limites(decompresse_max=1024 * 1024))
    assert [f.code for f in findings] == ["FIC_ZIP_BOMBE"]
    findings, _ = check_file("gros.xlsx", bomb, Limites(taille_max=1000))
    assert [f.code for f in findings] == ["FIC_TROP_GROS"]


def test_wrong_extension_is_only_a_warning(demo):
    findings, pkg = check_file("bilan.XLS_", demo[3].read_bytes())
    assert pkg is not None and [f.code for f in findings] == ["FIC_EXTENSION"]


def _mutate(path: Path, tmp_path: Path, change: Callable) -> bytes:
    wb = load_workbook(path)
    change(wb)
    out = tmp_path / "m.xlsx"
    wb.save(out)
    return out.read_bytes()


def _meta_cell(wb, name):
    ws = wb["cv_meta"]
    return ws[ws.defined_names[name].attr_text.split("!")[1].replace("$", "")]


def _set_meta(name, value):
    def change(wb):
        _meta_cell(wb, name).value = value
    return change


def _first_action(wb):
    return next(ws for ws in wb.worksheets if ws.title.startswith("Action "))


def _addr(ws, name):
    return ws.defined_names[name].attr_text.split("!")[1].replace("$", "")


def _set_named(name, value):
    def change(wb):
        ws = _first_action(wb)
        ws[_addr(ws, name)].value = value
    return change


def _not_ours(wb):
    for ws in wb.worksheets[1:]:
        wb.remove(ws)
    wb.worksheets[0].defined_names.clear()
    for name in list(wb.defined_names):
        del wb.defined_names[name]


def _drop_name(wb):
    del _first_action(wb).defined_names["act_benef_total"]


WORKBOOK_CASES = [
    ("pas un des nôtres", _not_ours, "CLS_INCONNU", None),
    ("type inconnu", _set_meta("meta_type", "budget"), "CLS_TYPE", None),
    ("version", _set_meta("meta_spec_version", "0"), "CLS_VERSION", None),
    ("contrat", _set_meta("meta_contrat", "ivry-2019-2022"), "CLS_CONTRAT", None),
    ("année", _set_meta("meta_annee", 2018), "CLS_ANNEE", None),
    ("identifiant inconnu", _set_meta("meta_classeur_id", "0" * 32), "CLS_NON_GENERE", None),
    ("destinataire", _set_meta("meta_destinataire_id", "12345678900011"), "CLS_DESTINATAIRE",
     None),
    ("feuille supprimée", lambda wb: wb.remove(wb["Porteur"]), "CLS_FEUILLE_ABSENTE", "Porteur"),
    ("action supprimée", lambda wb: wb.remove(_first_action(wb)), "CLS_SECTIONS", None),
    ("nom supprimé", _drop_name, "CLS_NOM_ABSENT", "Action "),
    ("montant accordé modifié", _set_named("act_accorde_etat", 99999),
     "MOD_VALEUR_PREREMPLIE", "Action "),
    ("intitulé modifié", _set_named("act_intitule", "Autre chose"), "MOD_VALEUR_PREREMPLIE",
     "Action "),
]


@pytest.mark.parametrize(("label", "change", "code", "sheet"), WORKBOOK_CASES,
                         ids=[c[0] for c in WORKBOOK_CASES])
def test_workbook_level_should_fail(demo, tmp_path, label, change, code, sheet):
    work, ref, _, path = demo
    data = _mutate(path, tmp_path, change)
    findings, _, _ = check_bytes("retour.xlsx", data, context_for(work, ref))
    matching = [f for f in findings if f.code == code]
    assert matching, [f.code for f in findings]
    if sheet:
        assert matching[0].sheet.startswith(sheet)


def test_tampered_amount_names_its_cell(demo, tmp_path):
    work, ref, _, path = demo
    wb = load_workbook(path)
    ws = _first_action(wb)
    address = _addr(ws, "act_accorde_etat")
    data = _mutate(path, tmp_path, _set_named("act_accorde_etat", 99999))
    findings, _, _ = check_bytes("retour.xlsx", data, context_for(work, ref))
    (f,) = [f for f in findings if f.code == "MOD_VALEUR_PREREMPLIE"]
    assert (f.sheet, f.cell, f.value) == (ws.title, address, "99999")
    assert f.field == "act_accorde_etat"


def test_run_archives_everything_and_never_touches_originals(demo, tmp_path):
    work, ref, generation, path = demo
    inbox = tmp_path / "boite"
    inbox.mkdir()
    generated = path.read_bytes()
    samples = {f"{label}.xlsx": make(generated) for label, make, _ in FILE_CASES}
    for label, change, _, _ in WORKBOOK_CASES:
        samples[f"{label}.xlsx"] = _mutate(path, tmp_path, change)
    samples["non rempli.xlsx"] = generated
    samples["non rempli (copie).xlsx"] = generated  # same content twice
    for i, (name, data) in enumerate(samples.items()):
        (inbox / name).write_bytes(data)
        os.utime(inbox / name, (1_700_000_000 + i, 1_700_000_000 + i))  # reception order
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    run = valider_et_enregistrer(work, [inbox], ref=ref)
    assert len(run.fichiers) == len(samples)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    assert after == before
    for f in run.fichiers:
        assert f.archive.exists() and f.archive.read_bytes() == (inbox / f.nom).read_bytes()
        assert f.findings, f.nom
        assert not any(x.code == "RET_ERREUR_INTERNE" for x in f.findings), f.findings
    statuses = {f.nom: f.statut for f in run.fichiers}
    # Files are taken in reception order (file time), whatever their names: the first
    # received of the two identical files is checked, the second is the same content.
    assert statuses["non rempli.xlsx"] == REJETE
    assert statuses["non rempli (copie).xlsx"] == DOUBLON
    unfilled = next(f for f in run.fichiers if f.nom == "non rempli.xlsx")
    assert unfilled.annotee and unfilled.annotee.exists()
    report = json.loads(run.rapport_json.read_text("utf-8"))
    assert [r["fichier"] for r in report["fichiers"]] == [f.nom for f in run.fichiers]
    rows = load_workbook(run.rapport_xlsx)["Fichiers"].max_row
    assert rows == len(samples) + 1
    # A second run on the same inbox: everything is recognised, nothing reprocessed.
    again = valider_et_enregistrer(work, [inbox], ref=ref)
    assert {f.statut for f in again.fichiers} == {DOUBLON}


def test_annotated_copy_highlights_and_comments_faulty_cells(demo, tmp_path):
    work, ref, _, path = demo
    inbox = tmp_path / "b"
    inbox.mkdir()
    # Saved again by a program: new content, so not taken for an earlier reception.
    (inbox / "retour.xlsx").write_bytes(_mutate(path, tmp_path, lambda wb: None))
    run = valider_et_enregistrer(work, [inbox], ref=ref)
    (f,) = run.fichiers
    wb = load_workbook(f.annotee)
    assert wb.sheetnames[0] == "À corriger"
    located = [x for x in f.findings if x.sheet and x.cell]
    assert located
    cell = wb[located[0].sheet][located[0].cell]
    assert cell.comment is not None and located[0].message in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FF7C80")
    summary = wb["À corriger"]
    assert summary.max_row >= 4 + len(f.findings)


def test_not_ours_plain_workbook_via_run(demo, tmp_path):
    work, ref, _, _ = demo
    wb = Workbook()
    wb.active["A1"] = "Bilan"
    wb.save(tmp_path / "autre.xlsx")
    run = valider_et_enregistrer(work, [tmp_path / "autre.xlsx"], ref=ref)
    assert [x.code for x in run.fichiers[0].findings] == ["CLS_INCONNU"]
