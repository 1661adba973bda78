"""Benchmark: generating N porteur workbooks, cv_excel vs the naive openpyxl way.

Usage: python bench/bench_generation.py [--n 500]

Run by hand, not by the tests. The naive way is what one would write first:
for each porteur, openpyxl loads the template, copies the action sheet per
action, fills the same named cells and saves. Both write the same N
workbooks from the same synthetic programmation (the demo's 2019 actions
replicated with new SIRET and numbers); the script prints both times and the
ratio. Target: cv_excel at least 5x faster.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from cv_excel.atomic import write_bytes_atomic
from cv_excel.config import DossierTravail, write_config
from cv_excel.generation.generate import template_path
from cv_excel.generation.plan import plan_porteur
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.models import Action
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.spec import PORTEUR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_demo_data import luhn_complete  # noqa: E402


def demo_actions() -> list[Action]:
    """The demo's 2019 actions, read by the programmation reader as a real file would be
    (payment dates and every list parsed the same way)."""
    from cv_excel.demo import build_demo
    from cv_excel.programmation.check import read_programmation

    with tempfile.TemporaryDirectory() as tmp:
        result = build_demo(Path(tmp) / "demo")
        return read_programmation(result.programmations[2019], embedded_referentiel(),
                                  annee=2019).actions


def synthetic(n: int) -> list[tuple]:
    """N porteurs, each with 1 to 3 actions taken from the demo programmation."""
    base = demo_actions()
    porteurs = []
    k = 0
    for i in range(n):
        siret = luhn_complete(luhn_complete(f"7{i:07d}") + "0001")
        actions = []
        for _ in range(1 + i % 3):
            src = base[k % len(base)]
            k += 1
            p = src.porteur.model_copy(update={"siret": siret,
                                               "raison_sociale": f"Porteur {i:04d} (fictif)"})
            actions.append(src.model_copy(update={"porteur": p, "numero": f"2019-{k:05d}"}))
        porteurs.append((actions[0].porteur, actions))
    return porteurs


def run_product(porteurs, ref, work, out: Path) -> float:
    start = time.perf_counter()
    tpl = prepare(template_path(work, PORTEUR), PORTEUR)
    now = dt.datetime.now().astimezone()
    for i, (porteur, actions) in enumerate(porteurs):
        plan = plan_porteur(porteur, actions, ref, work.config, 2019)
        write_bytes_atomic(out / f"{i}.xlsx", render(tpl, plan, f"id{i}", now).data)
    return time.perf_counter() - start


def run_naive(porteurs, ref, work, out: Path) -> float:
    """openpyxl: load the template, fill the named cells, save — one by one."""
    template = template_path(work, PORTEUR)
    start = time.perf_counter()
    for i, (porteur, actions) in enumerate(porteurs):
        plan = plan_porteur(porteur, actions, ref, work.config, 2019)
        wb = load_workbook(template)
        source = wb["Action"]
        sheets = [source] + [wb.copy_worksheet(source) for _ in actions[1:]]
        for feuille in PORTEUR.feuilles:
            if feuille.repetee:
                continue
            ws = wb[feuille.titre]
            for name, value in plan.values.get(feuille.key, {}).items():
                _, ref_text = ws.defined_names[name].attr_text.split("!")
                ws[ref_text.replace("$", "")] = value
        for ws, section in zip(sheets, plan.sections, strict=True):
            for name, value in section.values.items():
                _, ref_text = source.defined_names[name].attr_text.split("!")
                ws[ref_text.replace("$", "")] = value
            ws.title = section.titre
            ws.protection.sheet = True
        wb.save(out / f"{i}.xlsx")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="nombre de classeurs porteurs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_config(root)
        work = DossierTravail.open(root)
        ref = embedded_referentiel()
        porteurs = synthetic(args.n)
        n_actions = sum(len(a) for _, a in porteurs)
        (root / "produit").mkdir()
        (root / "naif").mkdir()
        product = run_product(porteurs, ref, work, root / "produit")
        naive = run_naive(porteurs, ref, work, root / "naif")
    print(f"{args.n} classeurs porteurs ({n_actions} actions)")
    print(f"cv_excel           : {product:7.2f} s  ({1000 * product / args.n:6.1f} ms/classeur)")
    print(f"openpyxl (naïf)    : {naive:7.2f} s  ({1000 * naive / args.n:6.1f} ms/classeur)")
    print(f"rapport naïf / cv_excel : {naive / product:.1f}x (objectif : au moins 5x)")


if __name__ == "__main__":
    main()
