"""Benchmark: a référent workbook whose table of actions grows with its data.

Usage: python bench/bench_tables.py [--n 1000]

Run by hand, not by the tests. Renders the revue workbook of one référent whose first
objective has 100, then N, then 4×N porteur actions (the template's table has 20 rows:
the renderer inserts the others) and prints the time of each and the ratios. Target:
the cost grows with the rows (linear): ×10 rows costs at most ×12 time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from cv_excel.config import Configuration
from cv_excel.generation.generate import BUILTIN_TEMPLATES
from cv_excel.generation.plan import plan_referent
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.models import Programmation
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.spec import REFERENT


def actions(n: int) -> list[dict]:
    return [{"numero": f"2019-{i:05d}", "porteur": f"Association {i} (fictif)",
             "intitule": f"Action n° {i}", "montant": 1000 + i, "realisation": "Réalisée",
             "score": 60} for i in range(1, n + 1)]


def timed(tpl, plan, rows: int) -> float:
    plan.sections[0].tables["obj_actions"] = actions(rows)
    start = time.perf_counter()
    rendu = render(tpl, plan, "bench", dt.datetime(2019, 3, 1, tzinfo=dt.UTC))
    elapsed = time.perf_counter() - start
    assert rendu.data
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="actions sous un objectif")
    args = parser.parse_args()
    ref = embedded_referentiel()
    referent = next(r for r in ref.referents if ref.objectifs_of_referent(r.id))
    plan = plan_referent(referent, ref, Programmation(actions=[]), Configuration(), 2019)
    tpl = prepare(BUILTIN_TEMPLATES / REFERENT.modele, REFERENT)
    timed(tpl, plan, 20)  # warm-up: the template's own 20 rows, nothing inserted
    sizes = (args.n // 10, args.n, 4 * args.n)
    times = [min(timed(tpl, plan, n) for _ in range(3)) for n in sizes]
    for n, t in zip(sizes, times, strict=True):
        print(f"{n:>6} actions : {t * 1000:8.1f} ms")
    print(f"rapport temps {sizes[1]}/{sizes[0]} : {times[1] / times[0]:.1f}x pour 10x de lignes "
          "(objectif : au plus 12x)")
    print(f"rapport temps {sizes[2]}/{sizes[1]} : {times[2] / times[1]:.1f}x pour 4x de lignes "
          "(objectif : au plus 5x)")


if __name__ == "__main__":
    main()
