"""End to end: the budget's gaps (écarts) as LibreOffice computes and colours them.

A generated porteur workbook is opened in LibreOffice twice, in one session
(``tests/uno_fill.py``): untouched, then with a budget typed as a person would, on
every kind of line of the Cerfa 15059: charges directes and indirectes, the 74 lines
prefilled with the amounts accordé (a foundation's grant on « aides privées »), the 86x /
87x contributions volontaires.
After recalculation the test reads every Cerfa line's and every total's gap (€ and
%) from the saved file, and whether each orange highlight applies: the condition of
the conditional format, read from the generated file, is written into a helper cell
of its row so that LibreOffice evaluates it (the API does not expose the colour a
conditional format gives a cell).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from cv_excel.config import DossierTravail
from cv_excel.demo import build_demo
from cv_excel.generation.generate import template_path
from cv_excel.generation.plan import plan_porteur
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import PORTEUR
from cv_excel.spec.budget import (
    CHARGES,
    CHARGES_CONTRIB,
    LIGNE_FONDATIONS,
    LIGNES_PREREMPLIES,
    PRODUITS,
    PRODUITS_CONTRIB,
    SEUIL_ECART,
)

UNO_FILL = Path(__file__).resolve().parent / "uno_fill.py"
# Debian's Python has the UNO bridge (python3-uno); the project's Python usually has not.
UNO_PYTHON = os.environ.get("CV_UNO_PYTHON", "/usr/bin/python3")
NOW = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)
NON_PREVU = "non prévu"
TABLES = {"bud_charges": CHARGES, "bud_charges_contrib": CHARGES_CONTRIB,
          "bud_produits": PRODUITS, "bud_produits_contrib": PRODUITS_CONTRIB}
HELPER = 3  # columns right of the « Écart (%) » column: where each condition is evaluated

# What the person types: (table, line) -> (prévu, réalisé); None leaves the cell empty.
# The 74 lines' prévu is prefilled (locked) with the amount accordé: only réalisé is typed.
SAISIE: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("bud_charges", "60"): (1000, 1100),  # +10 %: within the threshold
    ("bud_charges", "61"): (2000, 1500),  # −25 %: over
    ("bud_charges", "62"): (400, None),  # réalisé not typed yet: no gap
    ("bud_charges", "63"): (None, 300),  # spent without prévu: « non prévu »
    ("bud_charges", "64"): (5000, 5750),  # +15 % exactly: not over
    ("bud_charges", "65"): (None, 2600),  # non prévu too: the charges' totals go over
    ("bud_charges", "ci_fonctionnement"): (600, 700),  # charges indirectes: +16.7 %, over
    ("bud_charges_contrib", "861"): (500, 500),
    ("bud_charges_contrib", "864"): (None, 200),  # bénévolat valued without prévu
    ("bud_produits", "70"): (800, 1000),  # +25 %: over
    ("bud_produits", "75"): (0, 0),  # 0 typed on both: no gap to flag
    ("bud_produits_contrib", "870"): (500, None),
}
FONDATION_RECUE = 0.9  # share of the foundation's grant received: −10 %, within the threshold


@dataclass
class Row:
    """One budget row of the sheet: a Cerfa line or a total of lines."""

    label: str
    row: int
    lignes: list[tuple[str, str]]  # the (table, line) it adds up


@dataclass
class Generated:
    fichier: Path
    sheet: str
    prevu_col: int  # « Prévu »; then Réalisé, Écart (€), Écart (%)
    rows: list[Row]
    prefilled: dict[tuple[str, str], float]  # 74 lines' prévu (amount accordé)
    conditions: dict[int, str]  # row -> formula of the orange highlight of its Écart (%)

    def addr(self, offset: int, row: int) -> str:
        return f"{get_column_letter(self.prevu_col + offset)}{row}"


def _bounds(ws, name: str) -> tuple[int, int, int, int]:
    return range_boundaries(ws.defined_names[name].attr_text.rsplit("!", 1)[1].replace("$", ""))


def read_generated(fichier: Path) -> Generated:
    wb = load_workbook(fichier)
    (sheet,) = [t for t in wb.sheetnames if t.startswith("Action ")]
    ws = wb[sheet]
    rows: list[Row] = []
    lignes_of: dict[str, list[tuple[str, str]]] = {}
    prefilled = {}
    prevu_col = _bounds(ws, "bud_charges")[0]
    for table, lignes in TABLES.items():
        min_col, min_row, _, max_row = _bounds(ws, table)
        assert min_col == prevu_col and max_row - min_row + 1 == len(lignes)
        lignes_of[table] = [(table, ligne.key) for ligne in lignes]
        for i, ligne in enumerate(lignes):
            assert ws.cell(min_row + i, 1).value == ligne.label
            rows.append(Row(ligne.label, min_row + i, [(table, ligne.key)]))
            value = ws.cell(min_row + i, prevu_col).value
            if ligne.key in LIGNES_PREREMPLIES and value is not None:
                prefilled[(table, ligne.key)] = float(value)
    for name, table in (("bud_total_charges_prevu", "bud_charges"),
                        ("bud_total_produits_prevu", "bud_produits")):
        row = _bounds(ws, name)[1]
        rows.append(Row(ws.cell(row, 1).value, row, lignes_of[table]))
    for base in ("bud_charges", "bud_produits"):
        row = _bounds(ws, base + "_contrib")[3] + 1
        assert ws.cell(row, 1).value.startswith("Total général des ")
        rows.append(Row(ws.cell(row, 1).value, row, lignes_of[base] + lignes_of[base + "_contrib"]))
    assert len(rows) == sum(map(len, TABLES.values())) + 4
    conditions = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            cell = str(cf.sqref)
            col, row = range_boundaries(cell)[:2]
            if col == prevu_col + 3:
                assert row not in conditions, f"{cell} : deux règles d'écart"
                conditions[row] = rule.formula[0]
    assert set(conditions) == {r.row for r in rows}, "une cellule d'écart sans couleur"
    assert prefilled, "aucun montant accordé prérempli sur les lignes 74"
    return Generated(fichier, sheet, prevu_col, rows, prefilled, conditions)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    """A porteur's workbook for one demo action with two subsidies or more (prefilled on
    the 74 lines), one of them from a foundation (the programmation's « autres » financeur
    named « Fondation … »), generated from the committed template."""
    root = tmp_path_factory.mktemp("budget") / "demo"
    build_demo(root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    porteur, action = next((p, a) for p in prog.porteurs() for a in prog.actions_of(p.siret)
                           if sum(1 for f in a.financements if f.accorde) >= 2
                           and a.accorde("autres")
                           and "fondation" in (a.autres_financeurs_detail or "").lower())
    plan = plan_porteur(porteur, [action], ref, work.config, 2019)
    data = render(prepare(template_path(work, PORTEUR), PORTEUR), plan, "id", NOW).data
    fichier = root / "bilan.xlsx"
    fichier.write_bytes(data)
    return read_generated(fichier)


def _recu(gen: Generated) -> dict[tuple[str, str], float]:
    """Réalisé typed on the prefilled 74 lines: received in full, the foundation's not."""
    return {k: v * (FONDATION_RECUE if k[1] == LIGNE_FONDATIONS else 1)
            for k, v in gen.prefilled.items()}


def _steps(gen: Generated, saisie: dict) -> list[dict]:
    steps = []
    for (table, key), (prevu, realise) in saisie.items():
        i = [ligne.key for ligne in TABLES[table]].index(key)
        for col, value in ((0, prevu), (1, realise)):
            if value is not None:
                steps.append({"sheet": gen.sheet, "name": table, "row": i, "col": col,
                              "value": value})
    # Then, as the test's own addition, each highlight's condition in a helper cell.
    steps.append({"unprotect": gen.sheet})
    for row, formula in gen.conditions.items():
        steps.append({"sheet": gen.sheet, "cell": gen.addr(3 + HELPER, row),
                      # UNO's formula grammar separates arguments with « ; ».
                      "formula": f"=IF({formula},1,0)".replace(",", ";")})
    return steps


@pytest.fixture(scope="module")
def computed(generated, tmp_path_factory) -> dict[str, Path]:
    """The blank and the filled workbook, recalculated and saved by LibreOffice."""
    out = tmp_path_factory.mktemp("budget_lo")
    saisie = dict(SAISIE)
    saisie.update({k: (None, v) for k, v in _recu(generated).items()})
    jobs = [{"input": str(generated.fichier), "output": str(out / f"{key}.xlsx"),
             "steps": _steps(generated, s)} for key, s in (("vierge", {}), ("rempli", saisie))]
    (out / "jobs.json").write_text(json.dumps(jobs, ensure_ascii=False), "utf-8")
    proc = subprocess.run([UNO_PYTHON, str(UNO_FILL), str(out / "jobs.json")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"uno_fill a échoué :\n{proc.stdout}\n{proc.stderr}"
    return {"vierge": out / "vierge.xlsx", "rempli": out / "rempli.xlsx"}


def _read(gen: Generated, saved: Path) -> dict[int, tuple]:
    """Row -> (prévu, réalisé, écart €, écart %, highlighted) as LibreOffice computed them."""
    ws = load_workbook(saved, data_only=True)[gen.sheet]
    values = {}
    for r in gen.rows:
        cells = [ws[gen.addr(offset, r.row)].value for offset in (0, 1, 2, 3, 3 + HELPER)]
        values[r.row] = tuple("" if v is None else v for v in cells)
    return values


def _expected(r: Row, typed: dict) -> tuple:
    """What the row must show: its totals, its gap, whether it is orange."""
    prevus = [typed.get(k, (None, None))[0] for k in r.lignes]
    realises = [typed.get(k, (None, None))[1] for k in r.lignes]
    prevu, realise = sum(p or 0 for p in prevus), sum(x or 0 for x in realises)
    if all(x is None for x in realises):
        return prevu, realise, "", "", 0
    pct = ("" if realise == 0 else NON_PREVU) if prevu == 0 else (realise - prevu) / prevu
    orange = pct == NON_PREVU or (isinstance(pct, float) and abs(pct) > SEUIL_ECART)
    return prevu, realise, realise - prevu, pct, int(orange)


def _same(have, want) -> bool:
    if isinstance(want, str) or isinstance(have, str):
        return have == want
    return have == pytest.approx(want, abs=1e-6)


def _check(gen: Generated, got: dict[int, tuple], typed: dict) -> None:
    """Each row, line and total, against what the test computes from what was typed."""
    for r in gen.rows:
        want, have = _expected(r, typed), got[r.row]
        if len(r.lignes) == 1:  # a line's prévu / réalisé cell left empty reads as 0
            have = tuple(0 if i < 2 and v == "" else v for i, v in enumerate(have))
        assert all(map(_same, have, want)), (
            f"{r.label} : lu (prévu, réalisé, écart €, écart %, orange) = {have}, "
            f"attendu {want}")


def test_blank_workbook_shows_no_gap_and_nothing_orange(generated, computed):
    got = _read(generated, computed["vierge"])
    typed = {k: (v, None) for k, v in generated.prefilled.items()}
    _check(generated, got, typed)
    for r in generated.rows:
        assert got[r.row][2:] == ("", "", 0), r.label
    # The totals hold the prefilled amounts accordé, yet show no gap.
    produits = next(r for r in generated.rows if r.label == "Total des produits")
    assert got[produits.row][0] == pytest.approx(sum(generated.prefilled.values()))
    assert got[produits.row][0] > 0


def test_filled_budget_gaps_line_by_line(generated, computed):
    got = _read(generated, computed["rempli"])
    typed = dict(SAISIE)
    recu = _recu(generated)
    typed.update({k: (v, recu[k]) for k, v in generated.prefilled.items()})
    _check(generated, got, typed)
    by_label = {r.label: got[r.row] for r in generated.rows}
    label = {ligne.key: ligne.label
             for ligne in (*CHARGES, *CHARGES_CONTRIB, *PRODUITS, *PRODUITS_CONTRIB)}
    # The cases the budget was typed for, spelled out.
    assert by_label["60 – Achats"][2:] == (pytest.approx(100), pytest.approx(0.1), 0)
    assert by_label["61 – Services extérieurs"][2:] == (pytest.approx(-500),
                                                        pytest.approx(-0.25), 1)
    assert by_label["62 – Autres services extérieurs"][2:] == ("", "", 0)
    assert by_label["63 – Impôts et taxes"][2:] == (pytest.approx(300), NON_PREVU, 1)
    assert by_label["64 – Charges de personnel"][2:] == (pytest.approx(750),
                                                          pytest.approx(0.15), 0)
    assert by_label[label["70"]][2:] == (pytest.approx(200), pytest.approx(0.25), 1)
    assert by_label[label["75"]][2:] == (0, "", 0)  # 0 prévu, 0 réalisé
    assert by_label[label["870"]][2:] == ("", "", 0)  # not typed
    assert by_label[label["ci_fonctionnement"]] == (600, 700, pytest.approx(100),
                                                    pytest.approx(100 / 600), 1)
    assert by_label[label["861"]][2:] == (0, 0, 0)
    assert by_label[label["864"]][2:] == (pytest.approx(200), NON_PREVU, 1)
    # The demo's foundation grant is on « aides privées », not on « autres établissements
    # publics » (prefilled 0, nothing received: no gap).
    fondation = generated.prefilled[("bud_produits", LIGNE_FONDATIONS)]
    assert fondation > 0 and generated.prefilled[("bud_produits", "74_autres")] == 0
    assert by_label[label[LIGNE_FONDATIONS]] == (
        pytest.approx(fondation), pytest.approx(fondation * FONDATION_RECUE),
        pytest.approx(-fondation * (1 - FONDATION_RECUE)), pytest.approx(-0.1), 0)
    assert by_label[label["74_autres"]][2:] == (0, "", 0)
    # Totals: charges 9 000 prévu (62's prévu and the charges indirectes count) / 11 950
    # réalisé: +33 %, orange; the grand total adds the 86x lines (500 prévu / 700 réalisé).
    charges = by_label["Total des charges"]
    assert charges == (pytest.approx(9000), pytest.approx(11950), pytest.approx(2950),
                       pytest.approx(2950 / 9000), 1)
    assert by_label[next(t for t in by_label if t.startswith("Total général des charges"))] == (
        pytest.approx(9500), pytest.approx(12650), pytest.approx(3150),
        pytest.approx(3150 / 9500), 1)
