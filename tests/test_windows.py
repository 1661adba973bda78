"""A large sheet read a window of rows at a time gives what calamine gives reading it whole.

:mod:`cv_excel.xlsx.windows` cuts the Programmation sheet's XML between rows and hands
each window to calamine; the rows, and so every check and every action read from them,
must be those of the whole sheet. The windows are made tiny here (a few hundred bytes to
a few dozen kilobytes) so that the demo's programmation is cut in many places: written
by cv_excel (inline strings) and saved by LibreOffice (shared strings, its own XML).
Sheets the cut cannot see through are read whole; a damaged window is a French finding.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from cv_excel.demo.build import demo_rows
from cv_excel.office import convert, soffice
from cv_excel.programmation import (
    ProgrammationInvalide,
    check_programmation,
    read_programmation,
    write_programmation,
)
from cv_excel.programmation.on_disk import read_programmation_on_disk
from cv_excel.programmation.schema import COLUMNS, SHEET
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.xlsx import windows
from cv_excel.xlsx.windows import FenetreIllisible, sheet_part, windowed_rows

ANNEE = 2019


@pytest.fixture(scope="module")
def ref():
    return embedded_referentiel()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, ref) -> Path:
    """The demo's programmation of every year (103 actions), as cv_excel writes it."""
    return write_programmation(tmp_path_factory.mktemp("prog") / "Programmation.xlsx",
                               demo_rows(), ref)


@pytest.fixture(scope="module")
def saved_by_libreoffice(tmp_path_factory: pytest.TempPathFactory, written: Path) -> Path:
    """The same workbook opened and saved again by LibreOffice (shared strings)."""
    soffice()  # LibreOffice is required here (CI installs it): raises when absent
    out = convert(written, tmp_path_factory.mktemp("lo"), fmt="xlsx")
    with zipfile.ZipFile(out) as zf:
        assert any("sharedStrings" in n for n in zf.namelist())
    return out


def _whole(path: Path) -> list[list]:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET)
    pad = [""] * sheet.start[1]
    return [pad + row for row in sheet.iter_rows()]


def _trimmed(rows) -> list[list]:
    """Rows without their trailing empty cells, without trailing empty rows: a missing
    cell and an empty one read the same."""
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def _windows_read(path: Path, size: int) -> list[list]:
    rows = windowed_rows(path, SHEET, size)
    assert rows is not None, "la feuille aurait dû être lue par fenêtres"
    return list(rows)


@pytest.mark.parametrize("which", ["written", "saved_by_libreoffice"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=1, max_value=60_000))
def test_the_windows_give_calamines_rows(request: pytest.FixtureRequest, which: str,
                                         size: int) -> None:
    path = request.getfixturevalue(which)
    assert _trimmed(_windows_read(path, size)) == _trimmed(_whole(path))


def test_windows_hold_a_window_not_the_sheet(written: Path, monkeypatch) -> None:
    """Each window is a package of its own given to calamine: many for a small window."""
    opened = []
    real = CalamineWorkbook.from_filelike
    monkeypatch.setattr(windows.CalamineWorkbook, "from_filelike",
                        lambda f: opened.append(len(f.getbuffer())) or real(f))
    with zipfile.ZipFile(written) as zf:
        sheet_size = zf.getinfo(sheet_part(zf, SHEET)).file_size
    _windows_read(written, 4_000)
    # a window ends after the first row past 4 kB (a row of the demo: about 3.5 kB)
    assert len(opened) >= sheet_size // 8_000 > 40
    # each package: its window, the sheet's head, the small parts (theme, styles…)
    assert max(opened) < 50_000 < sheet_size // 7


def _small_windows(monkeypatch, size: int = 3_000) -> None:
    monkeypatch.setattr(windows, "WINDOW_BYTES", size)


def _edit_sheet(path: Path, out: Path, edit: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        part = sheet_part(zin, SHEET)
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, edit(data) if info.filename == part else data)
    return out


def _with_faults(path: Path, out: Path) -> Path:
    """Three faults far apart: a bad SIRET, a number used twice, an unknown objective."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    keys = [c.key for c in COLUMNS]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == COLUMNS[0].header)
    ws.cell(header + 3, 1 + keys.index("porteur_siret")).value = "pas un SIRET"
    ws.cell(ws.max_row - 2, 1).value = ws.cell(header + 1, 1).value
    ws.cell(header + 50, 1 + keys.index("objectif_operationnel")).value = "9.9.9"
    wb.save(out)
    return out


@pytest.mark.parametrize("which", ["written", "saved_by_libreoffice", "faults"])
def test_the_checks_and_the_actions_are_the_whole_sheets(
        request: pytest.FixtureRequest, which: str, tmp_path: Path, ref, monkeypatch) -> None:
    path = (_with_faults(request.getfixturevalue("written"), tmp_path / "f.xlsx")
            if which == "faults" else request.getfixturevalue(which))
    whole = check_programmation(path, ref)
    memory = read_programmation(path, ref).actions if whole.valid else None
    _small_windows(monkeypatch)
    assert windowed_rows(path, SHEET) is not None
    assert check_programmation(path, ref).findings == whole.findings
    if which == "faults":
        assert {"PROG_NUMERO_DOUBLON", "PROG_SIRET_INVALIDE"} <= set(whole.codes())
        with pytest.raises(ProgrammationInvalide) as raised:
            read_programmation_on_disk(path, ref)
        assert raised.value.report.findings == whole.findings
        return
    assert read_programmation(path, ref).actions == memory
    with read_programmation_on_disk(path, ref) as disk:
        assert list(disk) == memory


def _prefixed(xml: bytes) -> bytes:
    xml = xml.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                      b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    return re.sub(rb"<(/?)([A-Za-z]+[\s/>])", rb"<\1x:\2", xml)


def _swap_two_rows(xml: bytes) -> bytes:
    rows = list(re.finditer(rb"<row [^>]*>.*?</row>", xml, re.S))
    a, b = rows[5], rows[40]
    return (xml[:a.start()] + b.group() + xml[a.end():b.start()] + a.group()
            + xml[b.end():])


def _row_without_r(xml: bytes) -> bytes:
    rows = list(re.finditer(rb'<row r="(\d+)"', xml))
    m = rows[30]
    # the next row's number is the one its position gives: the same cells for calamine
    return xml[:m.start()] + b"<row" + xml[m.end():]


@pytest.mark.parametrize("edit", [
    pytest.param(_prefixed, id="prefixe"),
    pytest.param(lambda x: x.replace(b"</row>", b"</row><!-- note -->", 1), id="commentaire"),
    pytest.param(_swap_two_rows, id="lignes-dans-le-desordre"),
    pytest.param(_row_without_r, id="ligne-sans-numero"),
])
def test_a_sheet_the_cut_cannot_see_through_is_read_whole(
        written: Path, tmp_path: Path, ref, monkeypatch, edit) -> None:
    path = _edit_sheet(written, tmp_path / "edite.xlsx", edit)
    whole = check_programmation(path, ref)
    rows = _whole(path)
    _small_windows(monkeypatch)
    assert windowed_rows(path, SHEET) is None
    assert check_programmation(path, ref).findings == whole.findings
    assert _trimmed(_whole(path)) == _trimmed(rows)


def test_a_small_sheet_is_read_whole(written: Path) -> None:
    assert windowed_rows(written, SHEET) is None  # 103 actions: far below a window
    assert windowed_rows(written, "Pas de feuille", 10) is None


def test_a_damaged_window_is_a_finding(written: Path, tmp_path: Path, ref,
                                       monkeypatch) -> None:
    """A cell's XML broken far down the sheet: the rows before it were given, the reading
    stops with the French finding a damaged sheet gives, never a traceback."""
    def damage(xml: bytes) -> bytes:
        at = xml.find(b"</c>", len(xml) * 3 // 4)
        return xml[:at] + b"</x>" + xml[at + 4:]

    path = _edit_sheet(written, tmp_path / "abime.xlsx", damage)
    _small_windows(monkeypatch)
    rows = windowed_rows(path, SHEET)
    assert rows is not None
    with pytest.raises(FenetreIllisible):
        list(rows)
    report = check_programmation(path, ref)
    assert not report.valid
    found = [f for f in report.findings if f.code == "PROG_FICHIER_ILLISIBLE"]
    assert len(found) == 1 and "endommagée" in found[0].message
    with pytest.raises(ProgrammationInvalide):
        read_programmation_on_disk(path, ref)


def test_an_unreadable_package_is_left_to_the_whole_reading(tmp_path: Path) -> None:
    bad = tmp_path / "pas un classeur.xlsx"
    bad.write_bytes(b"PK\x03\x04 tronque")
    assert windowed_rows(bad, SHEET, 10) is None
    copy = shutil.copy(Path(__file__), tmp_path / "texte.xlsx")
    assert windowed_rows(copy, SHEET, 10) is None
