"""Benchmark: validating N returned porteur workbooks end to end, vs a bare openpyxl load.

Usage: python bench/bench_validation.py [--n 1000]

Run by hand, not by the tests. The N workbooks are generated for N synthetic
porteurs with every input filled coherently (as a complete return would be),
then `valider` processes the folder — archive, file checks, identification,
structure, tamper, values, cross checks, reports — while the baseline only calls
`openpyxl.load_workbook` on each file. Target: validation at most 1/4 of the
bare load time per file.
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
from cv_excel.demo.returns import fill_porteur
from cv_excel.enregistrement import valider_et_enregistrer as valider
from cv_excel.generation.generate import (
    ClasseurGenere,
    output_folder,
    register,
    template_path,
)
from cv_excel.generation.plan import plan_porteur
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.template import write_programmation
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.spec import PORTEUR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import synthetic  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="nombre de classeurs retournés")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_config(root)
        work = DossierTravail.open(root)
        ref = embedded_referentiel()
        tpl = prepare(template_path(work, PORTEUR), PORTEUR)
        inbox = work.path("retours")
        now = dt.datetime.now().astimezone()
        porteurs = synthetic(args.n)
        rows = [a.to_row() for _, actions in porteurs for a in actions]
        write_programmation(work.programmation_file(2019), rows, ref, annee=2019)
        sent = []
        for i, (porteur, actions) in enumerate(porteurs):
            plan = fill_porteur(plan_porteur(porteur, actions, ref, work.config, 2019), 2019)
            rendu = render(tpl, plan, f"id{i}", now)
            write_bytes_atomic(inbox / f"{i:04d}.xlsx", rendu.data)
            sent.append(ClasseurGenere(f"id{i}", "porteur", porteur.siret,
                                       porteur.raison_sociale, f"{i:04d}.xlsx",
                                       [s.key for s in plan.sections], rendu.empreinte,
                                       now.isoformat(), PORTEUR.modele, rendu.preremplies))
        register(output_folder(work, 2019) / "registre.json", sent)
        files = sorted(inbox.iterdir())
        start = time.perf_counter()
        for path in files:
            load_workbook(path)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        run = valider(work, [inbox], ref=ref)
        ours = time.perf_counter() - start
    statuses = {s: run.count(s) for s in ("accepté", "accepté avec avertissements", "rejeté")}
    print(f"{args.n} classeurs retournés ({statuses})")
    print(f"openpyxl load_workbook seul : {bare:7.2f} s  ({1000 * bare / args.n:6.1f} ms/fichier)")
    print(f"validation complète         : {ours:7.2f} s  ({1000 * ours / args.n:6.1f} ms/fichier)")
    print(f"rapport validation / chargement openpyxl : {ours / bare:.2f} (objectif : au plus 0,25)")


if __name__ == "__main__":
    main()
