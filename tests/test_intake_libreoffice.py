"""End to end: LibreOffice fills a generated porteur workbook, intake judges it.

LibreOffice, the real spreadsheet program, is driven through UNO by
``tests/uno_fill.py`` (run with Debian's Python, which has the ``uno`` bridge):
it types into the input cells, chooses list values, saves as .xlsx. One
LibreOffice session fills every variant: a complete, coherent bilan, then the
same bilan with one typical mistake each, which intake must report on the
right sheet and cell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.listes import MODES_RECUEIL
from cv_excel.reader import prefilled_values, read_workbook
from cv_excel.spec import PORTEUR
from cv_excel.spec.budget import CHARGES, LIGNES_PREREMPLIES, PRODUITS

HERE = Path(__file__).resolve().parent
UNO_FILL = HERE / "uno_fill.py"
# Debian's Python has the UNO bridge (python3-uno); the project's Python usually has not.
UNO_PYTHON = os.environ.get("CV_UNO_PYTHON", "/usr/bin/python3")
ACCEPTES = {"accepté", "accepté avec avertissements"}
CHARGE_ROW = {ligne.key: i for i, ligne in enumerate(CHARGES)}
PRODUIT_ROW = {ligne.key: i for i, ligne in enumerate(PRODUITS)}
PREVU, REALISE = 0, 1


# ------------------------------------------------------------ the generated file


@dataclass
class ActionSheet:
    titre: str
    cells: dict[str, tuple[int, int, int, int]]  # name -> (min_col, min_row, max_col, max_row)
    prevu_74: dict[str, float | None]  # prefilled (locked) produit line -> amount accordé
    mode_prevu: str | None

    def cell(self, name: str, row: int = 0, col: int = 0) -> str:
        min_col, min_row, _, _ = self.cells[name]
        return f"{get_column_letter(min_col + col)}{min_row + row}"


@dataclass
class Generated:
    dossier: Path
    fichier: Path
    porteur_cells: dict[str, str]
    actions: list[ActionSheet] = field(default_factory=list)


def _local_names(ws) -> dict[str, tuple[int, int, int, int]]:
    names = {}
    for name, dn in ws.defined_names.items():
        ref = dn.attr_text.rsplit("!", 1)[1]
        names[name] = range_boundaries(ref.replace("$", ""))
    return names


def read_generated(dossier: Path, fichier: Path) -> Generated:
    wb = load_workbook(fichier)
    porteur = _local_names(wb["Porteur"])
    gen = Generated(dossier, fichier, {
        n: f"{get_column_letter(b[0])}{b[1]}" for n, b in porteur.items()})
    for ws in wb.worksheets:
        names = _local_names(ws)
        if "act_numero" not in names:
            continue
        min_col, min_row, _, _ = names["bud_produits"]
        prevu_74 = {}
        for key in LIGNES_PREREMPLIES:
            c = ws.cell(min_row + PRODUIT_ROW[key], min_col + PREVU)
            assert c.protection.locked, f"{ws.title}!{c.coordinate} devrait être verrouillée"
            prevu_74[key] = c.value
        mc, mr, _, _ = names["act_mode_recueil_prevu"]
        gen.actions.append(ActionSheet(ws.title, names, prevu_74, ws.cell(mr, mc).value))
    return gen


# ------------------------------------------------------------ what a person types


def _split(total: float, shares: dict[str, float]) -> dict[str, float]:
    """Whole euros per line summing exactly to ``total`` (the last line takes the rest)."""
    keys = list(shares)
    parts = {k: float(int(total * shares[k])) for k in keys[:-1]}
    parts[keys[-1]] = round(total - sum(parts.values()), 2)
    return parts


def porteur_steps(gen: Generated) -> list[dict]:
    s = "Porteur"
    return [
        {"sheet": s, "name": "por_representant", "value": "Mme Awa Diallo, présidente"},
        {"sheet": s, "name": "por_redacteur", "value": "M. Karim Benali, coordinateur"},
        {"sheet": s, "name": "por_telephone", "text": "01 48 90 20 00"},
        {"sheet": s, "name": "por_email_redacteur", "value": "k.benali@exemple.example.org"},
        {"sheet": s, "name": "por_date", "date": "2020-01-20"},
        {"sheet": s, "name": "por_attestation", "choose": "Oui"},
    ]


def action_steps(action: ActionSheet, *, skip: frozenset[str] = frozenset(),
                 charges_realise_extra: float = 0.0) -> list[dict]:
    """A complete, coherent bilan of one action; ``skip`` leaves inputs empty."""
    s = action.titre
    mode = action.mode_prevu if action.mode_prevu in MODES_RECUEIL else MODES_RECUEIL[1]
    steps = [
        {"name": "act_realisation", "choose": "Réalisée"},
        {"name": "act_date_debut", "date": "2019-02-04"},
        {"name": "act_date_fin", "date": "2019-11-29"},
        {"name": "act_benef_total", "value": 40},
        {"name": "act_benef_femmes", "value": 22},
        {"name": "act_benef_hommes", "value": 18},
        {"name": "act_benef_qpv", "value": 30},
        {"name": "act_benef_moins_12", "value": 0},
        {"name": "act_benef_12_17", "value": 10},
        {"name": "act_benef_18_25", "value": 15},
        {"name": "act_benef_26_59", "value": 12},
        {"name": "act_benef_60_plus", "value": 3},
        {"name": "act_score", "choose": 80},
        {"name": "act_score_justification",
         "value": "32 participants sur 40 ont suivi le cycle complet ; objectif de 30 dépassé."},
        {"name": "act_valeur_constatee", "value": "32 sur 40"},
        {"name": "act_mode_recueil", "choose": mode},
        {"name": "act_resultats",
         "value": "Ateliers hebdomadaires tenus de février à novembre, bonne assiduité."},
        {"name": "act_difficultes", "value": "Deux séances annulées en juillet (locaux)."},
        {"name": "act_perspectives", "value": "Reconduction proposée pour 2020."},
    ]
    # Budget: the subsidies prefilled on the 74 lines were received in full; the
    # charges, prévu and réalisé alike, add up to the same total (balanced, no gap).
    total = 0.0
    for key, amount in action.prevu_74.items():
        if amount:
            steps.append({"name": "bud_produits", "row": PRODUIT_ROW[key], "col": REALISE,
                          "value": amount})
            total += float(amount)
    assert total > 0, f"{s}: aucun montant accordé prérempli"
    charges = _split(total, {"60": 0.2, "61": 0.15, "64": 0.65})
    for key, amount in charges.items():
        steps.append({"name": "bud_charges", "row": CHARGE_ROW[key], "col": PREVU,
                      "value": amount})
        realise = amount + (charges_realise_extra if key == "64" else 0.0)
        steps.append({"name": "bud_charges", "row": CHARGE_ROW[key], "col": REALISE,
                      "value": realise})
    return [{"sheet": s, **step} for step in steps if step["name"] not in skip]


# ------------------------------------------------------------ the variants


@dataclass
class Variant:
    key: str
    steps: list[dict]
    code: str | None = None  # expected finding (None: the file is accepted)
    sheet: str | None = None
    cells: frozenset[str] = frozenset()  # where the finding may point


def variants(gen: Generated) -> list[Variant]:
    a1, a2 = gen.actions[0], gen.actions[1]

    def complete(**per_action) -> list[dict]:
        steps = porteur_steps(gen)
        for action in gen.actions:
            steps += action_steps(action, **per_action.get(action.titre, {}))
        return steps

    # The 74 line of an action whose État subsidy is prefilled (else any prefilled line).
    prefilled = next(((a, k) for k in ("74_etat", *LIGNES_PREREMPLIES)
                      for a in gen.actions if a.prevu_74.get(k)), None)
    assert prefilled, "aucune ligne 74 préremplie dans le classeur"
    a74, key74 = prefilled
    row74 = PRODUIT_ROW[key74]
    return [
        Variant("complet", complete()),
        # The cell's validation (whole number, style « Stop ») refuses this when typed in
        # the program's window; a paste or another tool gets it in, as setString does here.
        Variant("mot_dans_un_nombre",
                complete() + [{"sheet": a2.titre, "name": "act_benef_total",
                               "text": "quarante"}],
                "VAL_PAS_UN_NOMBRE", a2.titre, frozenset({a2.cell("act_benef_total")})),
        Variant("budget_desequilibre",
                complete(**{a1.titre: {"charges_realise_extra": 500.0}}),
                "VAL_BUDGET_DESEQUILIBRE", a1.titre,
                frozenset({a1.cell("bud_total_charges_realise"),
                           a1.cell("bud_total_produits_realise")})),
        Variant("note_sans_justification",
                complete(**{a1.titre: {"skip": frozenset({"act_score_justification"})}}),
                "VAL_SCORE_JUSTIFICATION", a1.titre,
                frozenset({a1.cell("act_score_justification"), a1.cell("act_score")})),
        Variant("ligne_74_modifiee",
                complete() + [
                    {"unprotect": a74.titre},
                    {"sheet": a74.titre, "name": "bud_produits", "row": row74, "col": PREVU,
                     "value": float(a74.prevu_74[key74]) + 1000},
                ],
                "MOD_VALEUR_PREREMPLIE", a74.titre,
                frozenset({a74.cell("bud_produits", row74, PREVU)})),
        Variant("intitule_modifie",
                complete() + [
                    {"unprotect": a2.titre},
                    {"sheet": a2.titre, "name": "act_intitule",
                     "value": "Intitulé réécrit par le porteur"},
                    {"protect": a2.titre},
                ],
                "MOD_VALEUR_PREREMPLIE", a2.titre, frozenset({a2.cell("act_intitule")})),
    ]


# ------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    result = run_demo_cycle(tmp_path_factory.mktemp("lo_intake") / "demo")
    porteurs = [c for c in result.generation.classeurs if c.type == "porteur"]
    best = max(porteurs, key=lambda c: len(c.sections))
    assert len(best.sections) >= 2, "le registre n'a aucun porteur à plusieurs actions"
    gen = read_generated(result.dossier, result.dossier / best.fichier)
    assert [a.titre for a in gen.actions] == [f"Action {n}" for n in best.sections]
    return gen


@pytest.fixture(scope="module")
def filled(generated, tmp_path_factory) -> dict[str, tuple[Variant, Path, dict]]:
    """Every variant filled and saved by LibreOffice, in a single session."""
    out = tmp_path_factory.mktemp("lo_filled")
    all_variants = variants(generated)
    jobs = [{"input": str(generated.fichier),
             "output": str(out / v.key / generated.fichier.name),
             "steps": v.steps} for v in all_variants]
    instructions = out / "jobs.json"
    instructions.write_text(json.dumps(jobs, ensure_ascii=False), "utf-8")
    started = time.monotonic()
    proc = subprocess.run([UNO_PYTHON, str(UNO_FILL), str(instructions)],
                          capture_output=True, text=True, timeout=180)
    print(f"LibreOffice : {len(jobs)} classeurs remplis en "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    assert proc.returncode == 0, f"uno_fill a échoué :\n{proc.stdout}\n{proc.stderr}"
    reports = json.loads(proc.stdout)["jobs"]
    return {v.key: (v, Path(job["output"]), report)
            for v, job, report in zip(all_variants, jobs, reports, strict=True)}


def _valider(generated: Generated, saved: Path, tmp_path: Path):
    """Intake of one saved file, in a private copy of the working folder."""
    from cv_excel.intake.run import valider  # written alongside; imported when needed

    dossier = tmp_path / "dossier"
    shutil.copytree(generated.dossier, dossier)
    depot = tmp_path / "depot"
    depot.mkdir()
    copy = depot / saved.name
    shutil.copy2(saved, copy)
    run = valider(DossierTravail.open(dossier), [copy])
    assert len(run.fichiers) == 1
    return run.fichiers[0]


def _show(fichier) -> str:
    return "\n".join(f"  {f.severity} {f.code} {f.sheet}!{f.cell} [{f.field}] {f.message}"
                     for f in fichier.findings) or "  (aucun constat)"


# ------------------------------------------------------------ tests


def test_libreoffice_saves_what_was_typed_where_intake_reads_it(generated, filled):
    """The saved file opens, keeps its names, and calamine reads each value at its cell."""
    variant, saved, report = filled["complet"]
    wb = load_workbook(saved)  # opens with openpyxl
    assert wb.sheetnames == load_workbook(generated.fichier).sheetnames
    assert all(wb[t].protection.sheet for t in ("Porteur", *(a.titre for a in generated.actions)))

    lu = read_workbook(saved, PORTEUR)
    assert not lu.missing
    # Each step wrote the cell the generated file's name designates.
    for step, done in zip(variant.steps, report["steps"], strict=True):
        if step["sheet"] == "Porteur":
            assert done["cell"] == generated.porteur_cells[step["name"]]
        else:
            action = next(a for a in generated.actions if a.titre == step["sheet"])
            assert done["cell"] == action.cell(step["name"], step.get("row", 0),
                                               step.get("col", 0))
    porteur = lu.single["porteur"].values
    assert porteur["por_representant"].value == "Mme Awa Diallo, présidente"
    assert porteur["por_telephone"].value == "01 48 90 20 00"
    assert porteur["por_attestation"].value == "Oui"
    assert str(porteur["por_date"].value)[:10] == "2020-01-20"  # a real date, not text
    for part in lu.sections:
        v = part.values
        assert v["act_realisation"].value == "Réalisée"
        assert str(v["act_date_debut"].value)[:10] == "2019-02-04"
        assert (v["act_benef_total"].value, v["act_benef_femmes"].value,
                v["act_benef_hommes"].value, v["act_benef_qpv"].value) == (40, 22, 18, 30)
        assert v["act_score"].value == 80
        # LibreOffice recalculated the totals before saving: fresh cached values.
        produits = sum(float(r["realise"].value or 0) for r in part.tables["bud_produits"])
        assert v["bud_total_produits_realise"].value == pytest.approx(produits)
        assert v["bud_total_charges_realise"].value == pytest.approx(produits)
        assert v["bud_total_charges_prevu"].value == pytest.approx(
            v["bud_total_produits_prevu"].value)
    # The round trip through LibreOffice leaves every prefilled value as generated.
    assert prefilled_values(lu) == prefilled_values(read_workbook(generated.fichier, PORTEUR))


def test_complete_bilan_filled_in_libreoffice_is_accepted(generated, filled, tmp_path):
    _, saved, _ = filled["complet"]
    fichier = _valider(generated, saved, tmp_path)
    bloquants = [f for f in fichier.findings if f.severity == "bloquant"]
    assert fichier.statut in ACCEPTES and not bloquants, (
        f"statut {fichier.statut!r} pour {fichier.nom} :\n{_show(fichier)}")
    assert fichier.nom == saved.name


@pytest.mark.parametrize("key", ["mot_dans_un_nombre", "budget_desequilibre",
                                 "note_sans_justification", "ligne_74_modifiee",
                                 "intitule_modifie"])
def test_typical_mistake_is_reported_on_its_cell(generated, filled, tmp_path, key):
    variant, saved, _ = filled[key]
    fichier = _valider(generated, saved, tmp_path)
    found = [f for f in fichier.findings if f.code == variant.code]
    assert found, f"{variant.code} attendu, statut {fichier.statut!r} :\n{_show(fichier)}"
    placed = [f for f in found if f.sheet == variant.sheet and f.cell in variant.cells]
    assert placed, (f"{variant.code} attendu sur {variant.sheet}!{sorted(variant.cells)} :"
                    f"\n{_show(fichier)}")
    if any(f.severity == "bloquant" for f in fichier.findings):
        assert fichier.statut == "rejeté", _show(fichier)
    if key in {"ligne_74_modifiee", "intitule_modifie"}:
        assert fichier.statut == "rejeté", _show(fichier)
        # Only the cell that was changed is reported as changed.
        elsewhere = [f for f in found if f not in placed]
        assert not elsewhere, f"modifications signalées à tort :\n{_show(fichier)}"
