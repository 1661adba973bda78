"""What one received file may cost: its sheets are measured in the XML before any parser
builds a grid, and only the named areas are read.

Issue 9, case 2: one empty inline-string cell at ``XFD1048576`` of a 40 KB return made
calamine allocate the whole sheet grid and the process was killed (SIGABRT) — no
report, no journal, every night. A value at ``AZ200000`` cost 740 MB and 6 s. Each
case here injects such cells into the XML of a real generated workbook (filled as a
careful porteur would) and checks: no crash, the right French finding, the good data
read as before. One test runs the whole intake in a child process whose address space
is capped, so a regression that builds the grid again fails instead of passing slowly.

Issue 9, case 5: what the reader returns is normalised (NFC, one kind of line break,
a list answer in the list's spelling).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cv_excel.findings import Severity
from cv_excel.intake.checks.classeur import open_book
from cv_excel.intake.checks.fichier import Limites, check_file
from cv_excel.intake.context import context_for
from cv_excel.intake.run import check_bytes
from cv_excel.reader import ClasseurLu, open_bounded, read_workbook
from cv_excel.spec import PORTEUR, REFERENT
from cv_excel.xlsx.extent import _fast, _walk_scan, scan_sheet, trim_sheet
from cv_excel.xlsx.package import XlsxPackage
from tests import test_intake
from tests.test_intake import _zip
from tests.test_intake_values import Book, fill_porteur

demo = test_intake.demo  # the same module-scoped fixture: a generated working folder

EMPTY_AT_END = b'<c r="XFD1048576" t="inlineStr"><is><t></t></is></c>'
TEXT_AT_END = b'<c r="XFD1048576" t="inlineStr"><is><t>Voir avec Karim</t></is></c>'
NUMBER_FAR = b'<c r="AZ200000"><v>1250</v></c>'


@pytest.fixture(scope="module")
def good(demo) -> tuple[Any, bytes]:
    """(context, bytes of the porteur workbook filled without any finding)."""
    work, ref, _, path = demo
    book = Book(path.read_bytes(), PORTEUR)
    fill_porteur(book)
    data = book.to_bytes()
    ctx = context_for(work, ref)
    findings, lu, _ = check_bytes("propre.xlsx", data, ctx)
    assert findings == [] and lu is not None
    return ctx, data


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _part_of(data: bytes, title: str) -> tuple[str, str]:
    """(sheet title, worksheet part) of the first sheet whose title starts with ``title``."""
    sheet = next(s for s in XlsxPackage.from_bytes(data).sheets() if s.name.startswith(title))
    return sheet.name, sheet.path


def _inject(data: bytes, title: str, rows_xml: bytes, before: bytes = b"</sheetData>"
            ) -> tuple[bytes, str]:
    """``rows_xml`` added to the XML of a sheet, rezipped; returns (bytes, sheet title)."""
    name, part = _part_of(data, title)
    parts = _parts(data)
    assert parts[part].count(before) == 1
    parts[part] = parts[part].replace(before, rows_xml + before)
    return _zip(parts), name


def _row(cell: bytes) -> bytes:
    row = cell.split(b'r="', 1)[1].split(b'"', 1)[0].lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return b'<row r="' + row + b'">' + cell + b"</row>"


def _values(lu: ClasseurLu) -> dict[tuple[str, str], Any]:
    """Every value read, by (sheet, cell)."""
    out = {}
    for part in [*lu.single.values(), *lu.sections]:
        for v in part.values.values():
            out[(v.sheet, v.cell)] = v.value
        for rows in part.tables.values():
            for row in rows:
                for v in row.values():
                    out[(v.sheet, v.cell)] = v.value
    return out


# --- far cells: cheap, reported when they hold a value, never read -------------------------

@pytest.mark.parametrize("title", ["Action ", "cv_meta", "Porteur"])
def test_empty_cell_at_the_last_cell_of_a_sheet_is_dropped_silently(good, title):
    ctx, data = good
    hacked, _ = _inject(data, title, _row(EMPTY_AT_END))
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    assert findings == []
    assert _values(lu) == _values(check_bytes("propre.xlsx", data, ctx)[1])


@pytest.mark.parametrize(("title", "cell", "address", "shown"), [
    ("Action ", TEXT_AT_END, "XFD1048576", "Voir avec Karim"),
    ("Action ", NUMBER_FAR, "AZ200000", "1250"),
    ("cv_meta", TEXT_AT_END, "XFD1048576", "Voir avec Karim"),  # identification still works
    ("Porteur", NUMBER_FAR, "AZ200000", "1250"),
])
def test_far_value_is_a_warning_naming_its_cell_and_is_not_read(good, title, cell, address,
                                                                 shown):
    ctx, data = good
    hacked, sheet = _inject(data, title, _row(cell))
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    (f,) = findings
    assert (f.code, f.severity, f.sheet, f.cell, f.value) == (
        "FIC_CELLULE_LOINTAINE", Severity.AVERTISSEMENT, sheet, address, shown)
    assert address in f.message and "n'est pas lue" in f.message and "case prévue" in f.hint
    assert _values(lu) == _values(check_bytes("propre.xlsx", data, ctx)[1])


def test_the_reader_never_gets_the_far_cells(good):
    _, data = good
    hacked, sheet = _inject(data, "Action ", _row(NUMBER_FAR))
    pkg = XlsxPackage.from_bytes(hacked)
    rows = open_book(hacked, pkg).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    assert len(rows) <= 200 and max(len(r) for r in rows) <= 10
    normal = open_book(data).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    assert rows == [r[: len(rows[0])] for r in normal[: len(rows)]]


def test_many_far_values_are_named_up_to_a_limit_then_counted(good):
    ctx, data = good
    cells = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>note %d</t></is></c></row>'
                     % (6000 + i, 6000 + i, i) for i in range(30))
    hacked, sheet = _inject(data, "Action ", cells)
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    codes = [f.code for f in findings]
    assert codes == ["FIC_CELLULE_LOINTAINE"] * 10 + ["FIC_CELLULES_LOINTAINES"]
    assert findings[0].cell == "A6000" and findings[0].value == "note 0"
    assert "20 cellules" in findings[-1].message and findings[-1].sheet == sheet
    assert lu is not None


def test_far_shared_text_is_shown_and_a_place_beyond_excel_is_named_without_a_cell(good):
    ctx, data = good
    parts = _parts(data)
    assert "xl/sharedStrings.xml" not in parts  # written with inline strings: add a table
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><r><t>Vu avec </t></r><r><t>K. &amp; S.</t></r></si></sst>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxml'
        b'formats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.'
        b'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>")
    first = "Vu avec K. & S."
    hacked, sheet = _inject(_zip(parts), "Action ", b'<row r="7000"><c r="B7000" t="s">'
                            b'<v>0</v></c></row><row r="1048577"><c r="A1048577"><v>5</v></c>'
                            b"</row>")
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    assert [(f.code, f.sheet, f.cell, f.value) for f in findings] == [
        ("FIC_CELLULE_LOINTAINE", sheet, "B7000", first),
        ("FIC_CELLULE_LOINTAINE", sheet, None, "5")]
    assert "L1048577C1" in findings[1].message
    assert _values(lu) == _values(check_bytes("propre.xlsx", data, ctx)[1])


def test_cells_without_address_far_away_are_placed_like_calamine_does(good):
    ctx, data = good
    # OOXML allows <c> without r: its place follows the previous cell (and row).
    implicit = (b'<row r="1048575"><c t="inlineStr"><is><t></t></is></c></row>'
                b'<row><c/><c t="inlineStr"><is><t>loin</t></is></c></row>')
    hacked, sheet = _inject(data, "Action ", implicit)
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    assert [(f.code, f.cell, f.value) for f in findings] == [
        ("FIC_CELLULE_LOINTAINE", "B1048576", "loin")]
    assert _values(lu) == _values(check_bytes("propre.xlsx", data, ctx)[1])


def test_the_whole_intake_runs_under_a_memory_cap(demo, good, tmp_path):
    """The real run (file checks, reading, values, annotated copies, store, report) on
    the three cells of the issue, in a child limited to 1.5 GiB of address space: building
    the XFD1048576 grid needs about 500 GiB and aborts the child."""
    work, _, _, _ = demo
    _, data = good
    inbox = tmp_path / "boite"
    inbox.mkdir()
    for label, cell in (("vide", EMPTY_AT_END), ("texte", TEXT_AT_END), ("nombre", NUMBER_FAR)):
        (inbox / f"{label}.xlsx").write_bytes(_inject(data, "Action ", _row(cell))[0])
    child = """
import json, resource, sys
cap = 1536 * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from pathlib import Path
from cv_excel.config import DossierTravail
from cv_excel.intake.run import valider
from cv_excel.referentiel.load import load_referentiel
work = DossierTravail.open(Path(sys.argv[1]))
ref, _ = load_referentiel(work.path("referents"))
run = valider(work, [Path(sys.argv[2])], ref=ref)
# The three are versions of one workbook: the last one received is kept (information).
print(json.dumps({"files": {f.nom: [f.statut, [x.code for x in f.findings
                                               if x.severity != "information"],
                                    bool(f.annotee)] for f in run.fichiers},
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", child, str(work.root), str(inbox)],
                          capture_output=True, text=True, cwd=root, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["files"] == {
        "vide.xlsx": ["accepté", [], False],
        "texte.xlsx": ["accepté avec avertissements", ["FIC_CELLULE_LOINTAINE"], True],
        "nombre.xlsx": ["accepté avec avertissements", ["FIC_CELLULE_LOINTAINE"], True],
    }
    assert result["rss_mb"] < 500  # the AZ200000 grid alone took 740 MB


# --- what the sheets would cost: refused beyond the limits ------------------------------

def test_cell_count_bomb_is_refused_before_any_parser(good):
    _, data = good
    rows = b"".join(b'<row r="%d">' % r + b"".join(
        b'<c r="%s%d" s="1"/>' % (col, r) for col in (b"F", b"G", b"H", b"I", b"J"))
        + b"</row>" for r in range(200, 200 + 42_000))  # 210 000 styled empty cells
    bomb, _ = _inject(data, "Action ", rows)
    assert len(bomb) < 3 * 1024 * 1024
    findings, pkg = check_file("bombe.xlsx", bomb)
    assert pkg is None
    (f,) = findings
    assert f.code == "FIC_TROP_DE_CELLULES" and f.severity is Severity.BLOQUANT
    assert "211 " in f.message and "cellules ; limite 200 000" in f.message  # 210 000 + ours
    assert "refusé" in f.message


def test_cell_count_bomb_without_addresses_is_refused(good):
    _, data = good
    bomb, _ = _inject(data, "Action ", b"<row>" + b"<c/>" * 250_000 + b"</row>")
    findings, pkg = check_file("bombe.xlsx", bomb)
    assert pkg is None and [f.code for f in findings] == ["FIC_TROP_DE_CELLULES"]


def test_merged_whole_sheet_is_refused(good):
    """openpyxl (the annotated copy) creates one cell object per merged cell."""
    _, data = good
    name, part = _part_of(data, "Action ")
    parts = _parts(data)
    xml = parts[part]
    assert b"<mergeCell " in xml
    parts[part] = xml.replace(b"<mergeCell ", b'<mergeCell ref="A200:XFD1048576"/><mergeCell ',
                              1)
    findings, pkg = check_file("fusion.xlsx", _zip(parts))
    assert pkg is None and [f.code for f in findings] == ["FIC_TROP_DE_CELLULES"]
    assert "fusionnées" in findings[0].message


def test_limits_are_settings(good):
    _, data = good
    findings, pkg = check_file("retour.xlsx", data, Limites(cellules_max=100))
    assert pkg is None and [f.code for f in findings] == ["FIC_TROP_DE_CELLULES"]


@pytest.mark.parametrize("cell", [
    b'<c r="A200" r="XFD1048576"><v>1</v></c>',  # calamine takes the last r
    b'<c r="A200" note="a>b" r="XFD1"><v>1</v></c>',
    b'<c r="a200"><v>1</v></c>',
    b'<c r="A200"><c r="XFD1048576"/></c>',
])
def test_cells_the_scan_cannot_place_make_the_sheet_refused(good, cell):
    ctx, data = good
    hacked, sheet = _inject(data, "Action ", b'<row r="200">' + cell + b"</row>")
    findings, lu, _ = check_bytes("retour.xlsx", hacked, ctx)
    assert [(f.code, f.sheet, f.severity) for f in findings] == [
        ("FIC_FEUILLE_ILLISIBLE", sheet, Severity.BLOQUANT)]
    assert lu is None


# --- the scan and the trimmed copy agree with the original -----------------------------

def test_fast_scan_and_exact_walk_agree_on_generated_and_resaved_workbooks(demo, good):
    _, _, _, path = demo
    for data in (path.read_bytes(), good[1]):
        pkg = XlsxPackage.from_bytes(data)
        for sheet in pkg.sheets():
            xml = pkg.parts[sheet.path]
            fast, walk = _fast(xml), _walk_scan(xml, 5000, 200, 20)
            assert fast is not None, sheet.name  # the normal case is the fast one
            assert (fast.cells, fast.max_row, fast.max_col) == (
                walk.cells, walk.max_row, walk.max_col), sheet.name
            assert scan_sheet(xml).fits()


def test_trimmed_sheets_read_exactly_like_the_original(good, tmp_path):
    """Every sheet cut down to its named areas (grid_max=0 forces it): dates, numbers and
    texts read through calamine are the same."""
    _, data = good
    pkg = XlsxPackage.from_bytes(data)
    path = tmp_path / "p.xlsx"
    path.write_bytes(data)
    normal = read_workbook(path, PORTEUR)
    trimmed = read_workbook(path, PORTEUR, pkg=pkg, book=open_bounded(data, pkg, grid_max=0))
    assert _values(trimmed) == _values(normal)
    assert normal.meta == trimmed.meta


def test_trim_of_a_prefixed_sheet_keeps_only_the_box():
    xml = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<x:dimension ref="A1:XFD1048576"/><x:sheetData>'
           b'<x:row r="2"><x:c r="B2"><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>'
           b'<x:row><x:c r="XFD3" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c></x:row>'
           b'<x:row r="1048576"><x:c r="A1048576"><x:v>3</x:v></x:c></x:row>'
           b"</x:sheetData></x:worksheet>")
    extent = scan_sheet(xml)
    assert (extent.cells, extent.max_row, extent.max_col) == (4, 1048576, 16384)
    assert [(c.address, c.value) for c in extent.far] == [("XFD3", "x"), ("A1048576", "3")]
    out = trim_sheet(xml, 10, 5)
    assert out == (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/'
                   b'2006/main"><x:dimension ref="A1:E10"/><x:sheetData><x:row r="2">'
                   b'<x:c r="B2"><x:v>1</x:v></x:c><x:c r="C2"><x:v>2</x:v></x:c></x:row>'
                   b"</x:sheetData></x:worksheet>")


# --- texts and list answers come back normalised (issue 9, case 5) ----------------------

def test_texts_are_normalised_and_list_answers_take_the_list_spelling(demo, good, tmp_path):
    _, data = good
    book = Book(data, PORTEUR)
    book.set("Porteur", "por_attestation", "  oui ")
    book.set(book.s1, "act_realisation", "partiellement  RÉALISÉE")
    book.set(book.s1, "act_score", "80")
    book.set(book.s1, "act_mode_recueil", "pas dans la liste")
    book.set(book.s1, "act_resultats", "Re\u0301sultats\u2028deuxième ligne")
    path = tmp_path / "p.xlsx"
    path.write_bytes(book.to_bytes())
    lu = read_workbook(path, PORTEUR)
    porteur = lu.single["porteur"].values
    action = lu.sections[0].values
    assert porteur["por_attestation"].value == "Oui"
    assert action["act_realisation"].value == "Partiellement réalisée"
    assert action["act_score"].value == 80
    assert action["act_mode_recueil"].value == "pas dans la liste"  # the value check says it
    assert action["act_resultats"].value == "R\u00e9sultats\ndeuxième ligne"


def test_list_columns_of_tables_take_the_list_spelling(demo, tmp_path):
    work = demo[0]
    registre = json.loads((work.path("classeurs") / "2019" / "registre.json")
                          .read_text("utf-8"))
    entry = next(e for e in registre if e["type"] == "referent")  # generated at a revue
    book = Book((work.root / entry["fichier"]).read_bytes(), REFERENT)
    book.set_t(book.s1, "obj_nouveaux_indicateurs", "1", "type", " résultat")
    path = tmp_path / "r.xlsx"
    path.write_bytes(book.to_bytes())
    lu = read_workbook(path, REFERENT)
    first = lu.sections[0].tables["obj_nouveaux_indicateurs"][0]
    assert first["type"].value == "Résultat"
