"""Write the console ``Pilotage_contrat_de_ville.xlsm`` from files committed in the repo.

XlsxWriter writes the sheets and the buttons and embeds ``workbooks/vba/vbaProject.bin``
(the VBA project of ``xlwings quickstart --standalone``: ``RunPython`` and the macro
``SampleCall``). Every button is bound to ``SampleCall``; the Python side tells the
buttons apart by their shape name (hidden sheet ``cv_boutons``). Never open and save
the console with openpyxl: it drops the buttons.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from cv_excel.atomic import atomic_target, write_text_atomic
from cv_excel.excel.console import (
    ACTIONS,
    CELL_ANNEE,
    CELL_CHOIX,
    CELL_CONTRAT,
    CELL_DOSSIER,
    CELL_ETAPE,
    CELL_REVUE,
    CONSOLE_NAME,
    ETAPES,
    EXECUTER,
    HIST_FIRST_ROW,
    HIST_HEADER_ROW,
    HIST_MAX,
    MACRO,
    SHEET_BUTTONS,
    SHEET_CONF,
    SHEET_CONSOLE,
    SHEET_PARAMS,
    STATUS_LABELS,
    STATUS_ROW,
)
from cv_excel.text import clean_value

REPO = Path(__file__).resolve().parents[2]
VBA_PROJECT = REPO / "workbooks" / "vba" / "vbaProject.bin"

SHIM = f'''"""Module appelé par la console {CONSOLE_NAME}.xlsm (macro SampleCall via RunPython).

Il doit porter le même nom que le classeur et rester à côté de lui : ne pas le renommer.
Écrit par « cv-excel console » ; le code est dans cv_excel/excel/console.py.
"""

from cv_excel.excel.console import main

__all__ = ["main"]
'''

# xlwings.conf: key, value, French explanation. Keys start in A1 with no header and no
# blank line (xlwings reads A1 down to the first empty cell); column C stays empty.
CONF: tuple[tuple[str, object, str], ...] = (
    ("Interpreter_Win", r"%LOCALAPPDATA%\Programs\Python\Python311\pythonw.exe",
     "Chemin complet de pythonw.exe sur le PC Windows (Python 3.11 installé depuis "
     "python.org pour l'utilisateur). Pour le trouver : dans une invite de commandes, "
     "py -3.11 -c \"import sys; print(sys.executable)\" puis remplacer python.exe par "
     "pythonw.exe. Vide : le « pythonw » du PATH."),
    ("Interpreter_Mac", None, "Chemin de python sur un Mac (inutilisé à Orly ; laisser vide)."),
    ("PYTHONPATH", None,
     "Dossiers supplémentaires où Python cherche des modules, séparés par « ; ». Vide : "
     "le paquet cv_excel installé par pip suffit."),
    ("Conda Path", None, "Seulement avec Anaconda/Miniconda (dossier d'installation). "
     "Laisser vide avec Python de python.org."),
    ("Conda Env", None, "Seulement avec Anaconda/Miniconda (nom de l'environnement). "
     "Laisser vide."),
    ("UDF Modules", None, "Fonctions Python utilisables dans les formules : non utilisé par "
     "la console ; laisser vide."),
    ("Debug UDFs", False, "Mode de débogage des fonctions ci-dessus : laisser FAUX."),
    ("Use UDF Server", False, "Garder Python ouvert entre deux clics (plus rapide mais "
     "fragile) : laisser FAUX."),
    ("Show Console", False, "VRAI affiche la fenêtre noire de Python pendant l'exécution "
     "(utile pour un dépannage) ; sinon FAUX."),
    ("ADD_WORKBOOK_TO_PYTHONPATH", "true",
     "true : Python trouve le module Pilotage_contrat_de_ville.py posé à côté de ce "
     "classeur. Indispensable : ne pas modifier."),
)

# Where the buttons go (0-based rows of the Console sheet).
FIRST_BUTTON_ROW = 5
EXEC_ROW = int(CELL_CHOIX[1:]) - 1

NAVY, BLUE_LIGHT, GREY, YELLOW = "#1F3864", "#DDEBF7", "#F2F2F2", "#FFF2CC"


def button_names() -> list[str]:
    """The shape name of each Console button, in insertion order: the actions, « Exécuter »."""
    return [f"cv_{a.key}" for a in ACTIONS] + [f"cv_{EXECUTER}"]


def default_names(number: int) -> list[str]:
    """Names Excel might give the ``number``-th button if it ignored ours (English and
    French Excel); mapped too, so a click is recognised either way."""
    return [f"Button {number}", f"Bouton {number}"]


_VML_BUTTON = re.compile(r'<v:shape id="(_x0000_s\d+)"( type="#_x0000_t201")')


def name_buttons(vml: str, names: list[str]) -> str:
    """Give XlsxWriter's unnamed VML buttons explicit names, as Excel itself writes them:
    ``id`` is the shape name, ``o:spid`` the shape id."""
    found = _VML_BUTTON.findall(vml)
    if len(found) != len(names):
        raise ValueError(f"{len(found)} bouton(s) dans le dessin, {len(names)} attendu(s).")
    it = iter(names)
    vml = _VML_BUTTON.sub(lambda m: f'<v:shape id="{next(it)}" o:spid="{m.group(1)}"'
                          f'{m.group(2)}', vml)
    # printed too, so that a printout (or a PDF) of the console shows its buttons
    return vml.replace("<x:PrintObject>False</x:PrintObject>", "")


def _rename_buttons(path: Path, names: list[str]) -> None:
    """Rewrite the Console's VML part in the zip (every other part copied byte for byte)."""
    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "xl/drawings/vmlDrawing1.vml":
                data = name_buttons(data.decode("utf-8"), names).encode("utf-8")
            z.writestr(info, data)


def build_console(target_dir: Path, vba_project: Path | None = None,
                  valeurs: dict[tuple[str, str], Any] | None = None) -> Path:
    """Write ``<target_dir>/Pilotage_contrat_de_ville.xlsm`` and its Python module.

    ``valeurs`` ((sheet, cell) → value) pre-fills input, status and history cells; only
    for the README's screenshot: the committed console starts empty."""
    vba_project = Path(vba_project or VBA_PROJECT)
    if not vba_project.is_file():
        raise FileNotFoundError(
            f"Projet VBA introuvable : {vba_project} (voir workbooks/vba/README.md).")
    target_dir = Path(target_dir)
    target = target_dir / f"{CONSOLE_NAME}.xlsm"
    with atomic_target(target) as tmp:
        _write(tmp, vba_project, valeurs or {})
    shim = write_text_atomic(target_dir / f"{CONSOLE_NAME}.py", SHIM)
    for path in (target, shim):  # temporary files are created private (0600)
        path.chmod(0o644)
    return target


def _write(path: Path, vba_project: Path, valeurs: dict[tuple[str, str], Any]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"title": "Pilotage du contrat de ville d'Orly",
                       "author": "Direction Politique de la Ville — Ville d'Orly",
                       "comments": "Écrit par cv-excel console ; ne pas enregistrer avec "
                                   "openpyxl (les boutons seraient perdus)."})
    wb.add_vba_project(str(vba_project))
    wb.set_vba_name("ThisWorkbook")
    f = _formats(wb)
    console = wb.add_worksheet(SHEET_CONSOLE)
    console.set_vba_name("Sheet1")
    params = wb.add_worksheet(SHEET_PARAMS)
    params.set_vba_name("Sheet2")
    conf = wb.add_worksheet(SHEET_CONF)
    boutons = wb.add_worksheet(SHEET_BUTTONS)
    names = _console_sheet(console, f, _Cells(console, SHEET_CONSOLE, valeurs))
    _params_sheet(params, f, _Cells(params, SHEET_PARAMS, valeurs))
    _conf_sheet(conf, f)
    _buttons_sheet(boutons, f, names)
    console.activate()
    wb.close()
    _rename_buttons(path, names)


class _Cells:
    """Writes a cell of ``ws`` with its format and its pre-filled value, if any."""

    def __init__(self, ws, sheet: str, valeurs: dict[tuple[str, str], Any]):
        self.ws, self.sheet, self.valeurs = ws, sheet, valeurs

    def get(self, row: int, col: int) -> Any:
        return self.valeurs.get((self.sheet, xl_rowcol_to_cell(row, col)))

    def write(self, row: int, col: int, fmt) -> None:
        value = clean_value(self.get(row, col))
        if value is None or value == "":
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):  # a text stays text, even « =… »
            self.ws.write_string(row, col, value, fmt)
        else:
            self.ws.write(row, col, value, fmt)


def _formats(wb) -> dict:
    base = {"font_name": "Calibri", "font_size": 11, "valign": "vcenter"}

    def fmt(**kw):
        return wb.add_format({**base, **kw})

    return {
        "title": fmt(bold=True, font_size=18, font_color="white", bg_color=NAVY, indent=1),
        "subtitle": fmt(italic=True, font_color="#404040", bg_color=BLUE_LIGHT, indent=1,
                        text_wrap=True),
        "section": fmt(bold=True, font_size=12, font_color=NAVY, bottom=2,
                       bottom_color=NAVY),
        "desc": fmt(text_wrap=True, font_color="#262626"),
        "note": fmt(italic=True, font_color="#595959", text_wrap=True),
        "label": fmt(bold=True, bg_color=GREY, border=1, border_color="#BFBFBF", indent=1),
        "value": fmt(border=1, border_color="#BFBFBF", text_wrap=True, valign="top"),
        "date": fmt(border=1, border_color="#BFBFBF", num_format="dd/mm/yyyy hh:mm",
                    align="left"),
        "input": fmt(bg_color=YELLOW, border=1, border_color="#BF9000"),
        "input_year": fmt(bg_color=YELLOW, border=1, border_color="#BF9000", align="left",
                          num_format="0"),
        "computed": fmt(bg_color=GREY, border=1, border_color="#BFBFBF", italic=True),
        "header": fmt(bold=True, font_color="white", bg_color=NAVY, border=1,
                      border_color="#BFBFBF"),
        "hist": fmt(border=1, border_color="#D9D9D9", text_wrap=True, valign="top"),
        "hist_date": fmt(border=1, border_color="#D9D9D9", num_format="dd/mm/yyyy hh:mm",
                         align="left", valign="top"),
        "ok": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100", "bold": True}),
        "ko": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}),
        "busy": wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True}),
        "key": fmt(bold=True),
        "plain": fmt(),
    }


def _status_colours(ws, cells: str, f: dict) -> None:
    for text, key in (("Terminé", "ok"), ("Erreur", "ko"), ("En cours", "busy")):
        ws.conditional_format(cells, {"type": "text", "criteria": "begins with",
                                      "value": text, "format": f[key]})


def _console_sheet(ws, f: dict, cells: _Cells) -> list[str]:
    ws.hide_gridlines(2)
    ws.set_column("A:A", 2.5)
    ws.set_column("B:B", 22)
    ws.set_column("C:C", 30)
    ws.set_column("D:D", 16)
    ws.set_column("E:E", 80)
    ws.set_row(0, 8)
    ws.set_row(1, 34)
    ws.merge_range("B2:E2", "Pilotage du contrat de ville d'Orly", f["title"])
    ws.set_row(2, 30)
    ws.merge_range("B3:E3", "Direction Politique de la Ville — cliquez sur un bouton ; le "
                   "résultat s'affiche dans « Dernière exécution ». Les réglages sont dans la "
                   "feuille « Paramètres ».", f["subtitle"])
    ws.merge_range("B5:E5", "Actions", f["section"])
    names = button_names()
    for i, action in enumerate(ACTIONS):
        row = FIRST_BUTTON_ROW + 2 * i
        ws.set_row(row, 20)
        ws.set_row(row + 1, 20)
        ws.insert_button(row, 1, {"macro": MACRO, "caption": action.label,
                                  "width": 360, "height": 34, "x_offset": 2, "y_offset": 3})
        ws.merge_range(row, 3, row + 1, 4, action.description, f["desc"])
    fallback = FIRST_BUTTON_ROW + 2 * len(ACTIONS) + 1
    ws.merge_range(fallback, 1, fallback, 4,
                   "Autre moyen (Mac, ou si un bouton ne répond pas) : choisir l'action dans la "
                   "liste puis cliquer sur « Exécuter ».", f["note"])
    ws.set_row(EXEC_ROW, 26)
    ws.write(EXEC_ROW, 1, "Action à lancer", f["label"])
    cells.write(EXEC_ROW, 2, f["input"])
    ws.data_validation(EXEC_ROW, 2, EXEC_ROW, 2, {
        "validate": "list", "source": [a.label for a in ACTIONS],
        "input_title": "Action à lancer", "input_message": "Choisir puis cliquer sur Exécuter.",
        "error_title": "Action inconnue", "error_message": "Choisir une action de la liste."})
    ws.insert_button(EXEC_ROW, 3, {"macro": MACRO, "caption": "Exécuter", "width": 110,
                                   "height": 24, "x_offset": 6, "y_offset": 1})
    # status area
    ws.merge_range(STATUS_ROW - 2, 1, STATUS_ROW - 2, 4, "Dernière exécution", f["section"])
    for i, label in enumerate(STATUS_LABELS):
        row = STATUS_ROW - 1 + i
        ws.write(row, 1, label, f["label"])
        cell_format = f["date"] if i == 0 else f["value"]
        ws.merge_range(row, 2, row, 4, cells.get(row, 2), cell_format)
        ws.set_row(row, 34 if label in ("Résumé", "Sorties", "Détail") else 20)
    _status_colours(ws, f"C{STATUS_ROW + 2}", f)
    # history
    ws.merge_range(HIST_HEADER_ROW - 2, 1, HIST_HEADER_ROW - 2, 4,
                   "Historique (le plus récent en haut)", f["section"])
    for col, head in enumerate(("Date", "Action", "Statut", "Résumé"), start=1):
        ws.write(HIST_HEADER_ROW - 1, col, head, f["header"])
    for row in range(HIST_FIRST_ROW - 1, HIST_FIRST_ROW - 1 + HIST_MAX):
        ws.set_row(row, 30)  # room for a two-line résumé
        cells.write(row, 1, f["hist_date"])
        for col in (2, 3, 4):
            cells.write(row, col, f["hist"])
    _status_colours(ws, f"D{HIST_FIRST_ROW}:D{HIST_FIRST_ROW + HIST_MAX - 1}", f)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, HIST_FIRST_ROW + 6, 4)
    ws.set_margins(left=0.4, right=0.4, top=0.4, bottom=0.4)
    ws.set_selection(CELL_CHOIX)
    return names


def _params_sheet(ws, f: dict, cells: _Cells) -> None:
    ws.hide_gridlines(2)
    ws.set_column("A:A", 24)
    ws.set_column("B:B", 55)
    ws.set_column("C:C", 80)
    ws.set_row(0, 30)
    ws.merge_range("A1:C1", "Paramètres de la console", f["title"])
    ws.merge_range("A2:C2", "Remplir les cases jaunes. La console les relit à chaque clic.",
                   f["subtitle"])
    for col, head in enumerate(("Paramètre", "Valeur", "Explication")):
        ws.write(2, col, head, f["header"])
    rows = (
        (CELL_DOSSIER, "Dossier de travail", f["input"],
         "Le dossier qui contient cv_excel.toml, la programmation, les classeurs, les retours "
         "et les sorties. Chemin complet, par ex. C:\\PolitiqueVille\\contrat ; un chemin "
         "relatif part du dossier de cette console."),
        (CELL_ANNEE, "Année", f["input_year"],
         "L'année de la programmation à traiter (par ex. 2019). Vide : l'année indiquée dans "
         "cv_excel.toml, reportée ici au premier clic."),
        (CELL_CONTRAT, "Contrat", f["computed"],
         "Rempli par la console : le contrat lu dans cv_excel.toml du dossier de travail "
         "(non modifiable ici)."),
        (CELL_REVUE, "Revue de projet", f["input_year"],
         "Vide : les classeurs et tableaux de bord de l'année. 1, 2, 3… : ceux de cette "
         "revue de projet (dates dans cv_excel.toml, rubrique [revues])."),
        (CELL_ETAPE, "Étape de la revue", f["input"],
         "Avec une revue : les classeurs que « Générer » écrit, dans l'ordre du cycle — "
         "référents, puis pilotes (après les retours des référents), coordonnateurs, "
         "relevés de décisions (après la revue)."),
    )
    for cell, label, fmt, help_text in rows:
        row = int(cell[1:]) - 1
        ws.set_row(row, 45)
        ws.write(row, 0, label, f["label"])
        cells.write(row, 1, fmt)
        ws.write(row, 2, help_text, f["desc"])
    ws.data_validation(CELL_ANNEE, {"validate": "integer", "criteria": "between",
                                    "minimum": 2000, "maximum": 2100,
                                    "error_title": "Année",
                                    "error_message": "Une année sur quatre chiffres, "
                                                     "entre 2000 et 2100."})
    ws.data_validation(CELL_REVUE, {"validate": "integer", "criteria": "between",
                                    "minimum": 1, "maximum": 12,
                                    "error_title": "Revue",
                                    "error_message": "Le numéro de la revue (1, 2, 3…), ou "
                                                     "vide pour l'année entière."})
    ws.data_validation(CELL_ETAPE, {"validate": "list", "source": list(ETAPES),
                                    "error_title": "Étape",
                                    "error_message": "Choisir une étape de la liste."})
    ws.merge_range("A10:C10", "Les réglages de Python (chemin de pythonw.exe…) sont dans la "
                   "feuille « xlwings.conf ». L'installation est décrite dans "
                   "docs/console.md.", f["note"])


def _conf_sheet(ws, f: dict) -> None:
    ws.set_column("A:A", 30)
    ws.set_column("B:B", 58)
    ws.set_column("C:C", 2)  # must stay empty: xlwings reads A:B only
    ws.set_column("D:D", 100)
    for row, (key, value, help_text) in enumerate(CONF):
        ws.set_row(row, 32)
        ws.write(row, 0, key, f["key"])
        if value is None:
            ws.write_blank(row, 1, None, f["input"])
        elif isinstance(value, bool):
            ws.write_boolean(row, 1, value, f["input"])
        else:
            ws.write_string(row, 1, value, f["input"])
        ws.write(row, 3, help_text, f["desc"])
    notes = (
        "Réglages de xlwings pour cette console (colonne A : le réglage, colonne B : sa "
        "valeur ; colonne D : explication).",
        "Ne pas insérer de ligne ni de titre au-dessus : xlwings lit à partir de A1 jusqu'à la "
        "première ligne vide, et la colonne C doit rester vide.",
        "Une valeur vide ici laisse xlwings chercher le réglage dans son fichier "
        "%USERPROFILE%\\.xlwings\\xlwings.conf, puis utiliser sa valeur par défaut.",
    )
    for i, text in enumerate(notes):
        ws.write(len(CONF) + 2 + i, 3, text, f["note"])


def _buttons_sheet(ws, f: dict, names: list[str]) -> None:
    ws.set_column("A:A", 14)
    ws.set_column("B:B", 14)
    ws.set_column("C:C", 32)
    for col, head in enumerate(("Bouton", "Action", "Libellé")):
        ws.write(0, col, head, f["header"])
    keys = [(a.key, a.label) for a in ACTIONS] + [(EXECUTER, "Exécuter")]
    rows = [(name, key, label) for name, (key, label) in zip(names, keys, strict=True)]
    rows += [(alias, key, label) for n, (key, label) in enumerate(keys, start=1)
             for alias in default_names(n)]
    for row, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            ws.write_string(row, col, value)
    ws.write(len(rows) + 2, 0, "Nom de chaque bouton de la feuille Console → action lancée. "
             "Écrit par cv-excel console : ne pas modifier.", f["note"])
    ws.hide()
