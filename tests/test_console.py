"""The Excel console: its Python entry points (on a fake book) and the built .xlsm
(VBA project read back with olevba, buttons bound to existing macros, LibreOffice)."""

from __future__ import annotations

import re
import shutil
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from cv_excel.excel import console as cx
from cv_excel.excel.build import build_console, button_names, default_names

REPO = Path(__file__).resolve().parents[1]


# --- a fake xlwings Book -----------------------------------------------------------------
def _cell(address: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", address)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


class FakeRange:
    def __init__(self, sheet: FakeSheet, address: str):
        self.sheet = sheet
        first, _, last = address.partition(":")
        self.first = _cell(first)
        self.last = _cell(last) if last else None

    def _cells(self) -> list[list[tuple[int, int]]]:
        (r1, c1), (r2, c2) = self.first, self.last
        return [[(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self):
        if self.last is None:
            return self.sheet.cells.get(self.first)
        return [[self.sheet.cells.get(rc) for rc in row] for row in self._cells()]

    @value.setter
    def value(self, value):
        if self.last is None:
            self.sheet.cells[self.first] = value
            return
        for row, values in zip(self._cells(), value, strict=True):
            for rc, v in zip(row, values, strict=True):
                self.sheet.cells[rc] = v


class FakeSheet:
    def __init__(self, name: str):
        self.name = name
        self.cells: dict[tuple[int, int], object] = {}

    def __getitem__(self, address: str) -> FakeRange:
        return FakeRange(self, address)


class FakeSheets(dict):
    def __missing__(self, name):
        raise KeyError(f"pas de feuille {name}")


class FakeBook:
    """What run_action uses of an xlwings Book: sheets[name][address].value, fullname."""

    def __init__(self, folder: Path):
        self.fullname = str(folder / f"{cx.CONSOLE_NAME}.xlsm")
        self.sheets = FakeSheets({n: FakeSheet(n) for n in (
            cx.SHEET_CONSOLE, cx.SHEET_PARAMS, cx.SHEET_CONF, cx.SHEET_BUTTONS)})
        rows = [[name, key] for name, key in zip(
            button_names(), [a.key for a in cx.ACTIONS] + [cx.EXECUTER], strict=True)]
        self.sheets[cx.SHEET_BUTTONS]["A2:B7"].value = rows

    def status(self) -> dict[str, object]:
        sheet = self.sheets[cx.SHEET_CONSOLE]
        return {label: sheet[f"C{cx.STATUS_ROW + i}"].value
                for i, label in enumerate(cx.STATUS_LABELS)}

    def history(self) -> list[list]:
        rows = self.sheets[cx.SHEET_CONSOLE][cx.HIST_RANGE].value
        return [r for r in rows if r[0] is not None]


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def demo(demo_master, tmp_path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(demo_master, target)
    return target


@pytest.fixture
def book(demo, tmp_path) -> FakeBook:
    b = FakeBook(tmp_path)
    b.sheets[cx.SHEET_PARAMS][cx.CELL_DOSSIER].value = str(demo)
    b.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = 2019.0  # Excel gives floats
    return b


# --- the actions -------------------------------------------------------------------------
def test_generer_writes_the_workbooks_and_says_how_many(book, demo):
    out = cx.run_action(book, "generer")
    status = book.status()
    assert out["statut"] == status["Statut"] == "Terminé", status
    # The year's workbooks (those of the revues, in « Revue <n> », are not regenerated).
    year = demo / "classeurs" / "2019"
    written = sorted([*(year / "Porteurs").glob("*.xlsx"), *(year / "Référents").glob("*.xlsx")])
    assert written
    assert f"{len(written)} classeur(s) écrit(s) pour 2019" in status["Résumé"]
    assert str(demo / "classeurs") in status["Sorties"]
    assert book.sheets[cx.SHEET_PARAMS][cx.CELL_CONTRAT].value == "orly-2019-2022"
    assert book.history()[0][1:3] == ["Générer les classeurs", "Terminé"]


def test_valider_counts_one_new_return(book, demo):
    new = next((demo / "classeurs" / "2019").rglob("*.xlsx"))
    shutil.copy(new, demo / "retours" / "2019 - nouveau retour.xlsx")
    out = cx.run_action(book, "valider")
    status = book.status()
    assert out["statut"] == "Terminé", status
    assert "1 nouveau(x)" in status["Résumé"]
    assert "Rapport" in status["Sorties"] or "validation" in status["Sorties"]
    assert Path(out["sorties"][0]).is_file()


def test_consolider_then_nothing_new(book, demo):
    cx.run_action(book, "consolider", ouvrir_fichier=None)
    status = book.status()
    assert status["Statut"] == "Terminé", status
    assert "2019" in status["Résumé"]
    assert str(demo / "sorties" / "2019") in status["Sorties"]
    cx.run_action(book, "consolider")
    assert "Rien de nouveau" in book.status()["Résumé"]
    assert len(book.history()) == 2


def test_ouvrir_returns_the_dashboard_path(book, demo):
    out = cx.run_action(book, "ouvrir")
    path = demo / "sorties" / "2019" / "Tableaux de bord 2019.xlsx"
    assert out["statut"] == "Terminé"
    assert out["sorties"] == [path]
    opened = []
    cx.run_action(book, "ouvrir", ouvrir_fichier=opened.append)
    assert opened == [path]
    assert "ouverts dans Excel" in book.status()["Résumé"]


def test_relances_points_at_the_csv(book, demo):
    out = cx.run_action(book, "relances")
    csv = demo / "sorties" / "2019" / "Relances 2019.csv"
    assert out["statut"] == "Terminé", book.status()
    assert csv in out["sorties"]
    assert "Relances 2019.csv" in book.status()["Résumé"]
    assert str(csv) in book.status()["Sorties"]


# --- errors --------------------------------------------------------------------------------
def test_wrong_folder_gives_a_french_message_and_an_error_line(book, tmp_path):
    book.sheets[cx.SHEET_PARAMS][cx.CELL_DOSSIER].value = str(tmp_path / "nulle part")
    out = cx.run_action(book, "generer")
    status = book.status()
    assert out["statut"] == status["Statut"] == "Erreur"
    assert "introuvable" in status["Résumé"] and "Paramètres" in status["Résumé"]
    assert "Traceback" not in status["Résumé"] + status["Détail"]
    assert book.history()[0][2] == "Erreur"
    assert "introuvable" in book.history()[0][3]


@pytest.mark.parametrize("annee", ["deux mille", 1890, 2019.5])
def test_bad_year_gives_a_french_message(book, annee):
    book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = annee
    cx.run_action(book, "consolider")
    status = book.status()
    assert status["Statut"] == "Erreur"
    assert "n'est pas valide" in status["Résumé"] and "quatre chiffres" in status["Résumé"]
    assert book.history()[0][2] == "Erreur"


def test_year_without_programmation(book):
    book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = 2031
    cx.run_action(book, "generer")
    assert book.status()["Statut"] == "Erreur"
    assert "programmation 2031 est introuvable" in book.status()["Résumé"]


def test_empty_year_takes_the_folder_year_and_shows_it(book):
    book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = None
    cx.run_action(book, "ouvrir")
    assert book.status()["Statut"] == "Terminé"
    assert book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value == 2019


def test_unexpected_error_is_french_and_the_traceback_goes_to_the_log(book, demo, monkeypatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(cx._RUNNERS, "consolider", boom)
    cx.run_action(book, "consolider")
    status = book.status()
    assert status["Statut"] == "Erreur"
    assert status["Résumé"].startswith("Erreur inattendue (ZeroDivisionError)")
    log = demo / "sorties" / "journal" / "console.log"
    assert str(log) in status["Détail"]
    assert "Traceback" in log.read_text("utf-8")


def test_busy_folder_gives_the_french_busy_message(book, demo, monkeypatch):
    from cv_excel.batch import lock

    real = lock.verrou
    monkeypatch.setattr(lock, "verrou", lambda work, attente: real(work, attente=0.2))
    with real(demo, attente=0):
        cx.run_action(book, "consolider")
    status = book.status()
    assert status["Statut"] == "Erreur"
    assert "occupé" in status["Résumé"] and "Réessayez" in status["Résumé"]
    cx.run_action(book, "ouvrir")  # released: works again
    assert book.status()["Statut"] == "Terminé"


def test_history_is_newest_first_and_bounded(book, monkeypatch):
    monkeypatch.setattr(cx, "HIST_MAX", 3)
    monkeypatch.setattr(cx, "HIST_RANGE", f"B{cx.HIST_FIRST_ROW}:E{cx.HIST_FIRST_ROW + 2}")
    for year in (2031, 2032, 2033, 2034):
        book.sheets[cx.SHEET_PARAMS][cx.CELL_ANNEE].value = year
        cx.run_action(book, "generer")
    resumes = [r[3] for r in book.history()]
    assert len(resumes) == 3
    assert "2034" in resumes[0] and "2032" in resumes[2]


# --- which button was clicked -------------------------------------------------------------
def test_the_clicked_button_chooses_the_action(book, demo):
    cx.run_action(book, "", caller_name="cv_ouvrir")
    assert book.status()["Action"] == "Ouvrir les tableaux de bord"
    assert book.status()["Statut"] == "Terminé"


def test_execute_button_and_unknown_caller_use_the_drop_down(book):
    console = book.sheets[cx.SHEET_CONSOLE]
    cx.run_action(book, "", caller_name="cv_executer")
    assert book.status()["Statut"] == "Erreur"
    assert "Action à lancer" in book.status()["Résumé"]
    console[cx.CELL_CHOIX].value = "Ouvrir les tableaux de bord"
    cx.run_action(book, "", caller_name="cv_executer")
    assert book.status()["Action"] == "Ouvrir les tableaux de bord"
    assert book.status()["Statut"] == "Terminé"
    cx.run_action(book, "", caller_name=None)  # Mac / LibreOffice: no caller
    assert book.status()["Statut"] == "Terminé"
    assert "liste" in book.status()["Résumé"]


def test_main_imports_xlwings_lazily():
    source = (REPO / "cv_excel" / "excel" / "console.py").read_text("utf-8")
    assert not re.search(r"^(import xlwings|from xlwings)", source, re.M)
    for name in ("cv_excel.excel.console", "cv_excel.excel.build"):
        assert name in sys.modules


# --- the built console ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_console(tmp_path_factory.mktemp("console"))


def _vml_buttons(xlsm: Path) -> list[tuple[str, str, str]]:
    """(shape name, macro, caption) of every button of every drawing part."""
    found = []
    with zipfile.ZipFile(xlsm) as z:
        for name in z.namelist():
            if not re.fullmatch(r"xl/drawings/vmlDrawing\d+\.vml", name):
                continue
            vml = z.read(name).decode("utf-8")
            for shape in re.findall(r"<v:shape .*?</v:shape>", vml, re.S):
                if 'ObjectType="Button"' not in shape:
                    continue
                sid = re.search(r'<v:shape id="([^"]+)"', shape).group(1)
                macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape).group(1)
                caption = re.sub(r"<[^>]+>", "", re.search(
                    r"<v:textbox.*?</v:textbox>", shape, re.S).group(0))
                found.append((sid, macro, caption))
    return found


def _vba_macros(xlsm: Path) -> dict[str, str]:
    """Sub name → its code, read back from the VBA project with olevba."""
    with warnings.catch_warnings():  # oletools' pyparsing deprecation noise
        warnings.simplefilter("ignore")
        from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(xlsm))
    try:
        assert parser.detect_vba_macros()
        code = "\n".join(c for _f, _s, _n, c in parser.extract_macros())
    finally:
        parser.close()
    return {m.group(1): m.group(0) for m in re.finditer(
        r"^(?:Public |Private )?Sub (\w+)\(\).*?^End Sub", code, re.M | re.S)}


def test_every_button_is_bound_to_a_macro_that_runs_the_console_module(built):
    buttons = _vml_buttons(built)
    assert [b[2] for b in buttons] == [a.label for a in cx.ACTIONS] + ["Exécuter"]
    macros = _vba_macros(built)
    module = built.stem
    assert module == cx.CONSOLE_NAME and module.isidentifier()
    for _name, macro, caption in buttons:
        sub = macro.split("!")[-1]
        assert sub in macros, f"{caption} → {macro} : macro absente du projet VBA"
        body = macros[sub]
        assert "RunPython" in body
        # the module imported is the workbook's own name, i.e. the shim beside it
        assert "ThisWorkbook.Name" in body and '"import " & mymodule' in body
        assert ".main()" in body


def test_the_shim_beside_the_console_imports_main(built):
    shim = built.with_suffix(".py")
    assert "from cv_excel.excel.console import main" in shim.read_text("utf-8")
    committed = REPO / "workbooks" / f"{cx.CONSOLE_NAME}.py"
    assert committed.read_text("utf-8") == shim.read_text("utf-8")
    namespace: dict = {}
    exec(compile(shim.read_text("utf-8"), str(shim), "exec"), namespace)
    assert namespace["main"] is cx.main


def test_cv_boutons_maps_every_button_to_a_known_action(built):
    import openpyxl  # read only: the console is never saved through openpyxl

    wb = openpyxl.load_workbook(built, read_only=True)
    assert wb.sheetnames == [cx.SHEET_CONSOLE, cx.SHEET_PARAMS, cx.SHEET_CONF,
                             cx.SHEET_BUTTONS]
    rows = list(wb[cx.SHEET_BUTTONS].iter_rows(min_row=2, max_col=2, values_only=True))
    mapping = {name: key for name, key in rows if name and key}
    known = set(cx.BY_KEY) | {cx.EXECUTER}
    buttons = _vml_buttons(built)
    for number, (name, _macro, caption) in enumerate(buttons, start=1):
        assert mapping.get(name) in known, name
        for alias in default_names(number):  # Excel's default names map the same way
            assert mapping[alias] == mapping[name]
        expected = cx.BY_LABEL[caption].key if caption in cx.BY_LABEL else cx.EXECUTER
        assert mapping[name] == expected
    conf = wb[cx.SHEET_CONF]
    keys = [r[0] for r in conf.iter_rows(min_row=1, max_col=1, values_only=True)]
    assert keys[0] == "Interpreter_Win"
    assert "ADD_WORKBOOK_TO_PYTHONPATH" in keys[: keys.index(None)]
    assert all(r[0] is None for r in conf.iter_rows(min_col=3, max_col=3, values_only=True))
    wb.close()


def test_vba_code_names_match_the_vba_project(built):
    with zipfile.ZipFile(built) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet1 = z.read("xl/worksheets/sheet1.xml").decode()
        sheet2 = z.read("xl/worksheets/sheet2.xml").decode()
        assert "xl/vbaProject.bin" in z.namelist()
        assert z.read("xl/vbaProject.bin") == (REPO / "workbooks" / "vba"
                                               / "vbaProject.bin").read_bytes()
    assert 'codeName="ThisWorkbook"' in workbook
    assert 'codeName="Sheet1"' in sheet1 and 'codeName="Sheet2"' in sheet2


def test_committed_console_is_up_to_date(built):
    committed = REPO / "workbooks" / f"{cx.CONSOLE_NAME}.xlsm"
    assert committed.is_file(), "lancer cv-excel console (ou build_console('workbooks'))"
    assert _vml_buttons(committed) == _vml_buttons(built)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent")
def test_libreoffice_opens_the_console(built, tmp_path):
    from tests.libreoffice import convert, pdf_pages

    pdf = convert(built, tmp_path)
    assert pdf_pages(pdf) >= 1


# --- revues de projet (issue 10) ----------------------------------------------------------
def test_generer_a_revue_step_then_consolider_and_ouvrir_the_revue(book, demo):
    params = book.sheets[cx.SHEET_PARAMS]
    params[cx.CELL_REVUE].value = 2.0  # Excel gives floats
    params[cx.CELL_ETAPE].value = "Pilotes"
    out = cx.run_action(book, "generer")
    status = book.status()
    assert out["statut"] == "Terminé", status
    assert "« Synthèse pilote » écrit(s) pour la revue 2 de 2019" in status["Résumé"]
    assert status["Sorties"].endswith(str(Path("2019") / "Revue 2" / "Pilotes"))
    cx.run_action(book, "consolider")
    assert "revue 2" in book.status()["Résumé"]
    out = cx.run_action(book, "ouvrir", ouvrir_fichier=None)
    assert out["statut"] == "Terminé", book.status()
    assert Path(out["sorties"][0]).name == "Tableaux de bord 2019 revue 2.xlsx"


@pytest.mark.parametrize(("revue", "etape", "cellule"), [
    ("deux", "Pilotes", cx.CELL_REVUE), (7, "Pilotes", cx.CELL_REVUE),
    (1, "Responsables", cx.CELL_ETAPE)])
def test_bad_revue_parameters_are_french_errors_naming_the_cell(book, revue, etape, cellule):
    params = book.sheets[cx.SHEET_PARAMS]
    params[cx.CELL_REVUE].value, params[cx.CELL_ETAPE].value = revue, etape
    out = cx.run_action(book, "generer")
    status = book.status()
    assert out["statut"] == "Erreur"
    assert f"cellule {cellule}" in status["Résumé"] + status["Détail"]
