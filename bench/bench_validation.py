"""Benchmark: validating N returned porteur workbooks end to end, vs a bare openpyxl load.

Usage: python bench/bench_validation.py [--n 1000] [--workers 2]

Run by hand, not by the tests. The N workbooks are generated for N synthetic
porteurs with every input filled coherently (as a complete return would be),
then `valider` processes the folder — archive, file checks, identification,
structure, tamper, values, cross checks, store, reports — while the baseline only
calls `openpyxl.load_workbook` on each file. Target: validation at most 1/4 of the
bare load time per file.

The same inbox is validated twice, in two copies of the working folder: with one
process, then with ``--workers`` (0, the default: one per core); the ratio of the
two times is printed (issue 12, point 4), with the machine's load average when the
runs started — on a machine shared with other work, the gain is what is left free.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
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
from cv_excel.parallel import worker_count
from cv_excel.programmation.template import write_programmation
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.spec import PORTEUR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import synthetic  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="nombre de classeurs retournés")
    parser.add_argument("--workers", type=int, default=0,
                        help="processus comparés à un seul (0 : un par cœur)")
    args = parser.parse_args()
    workers = worker_count(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "dossier"
        root.mkdir()
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
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        times: dict[int, float] = {}
        cpu: dict[int, tuple[float, float]] = {}  # this process, the workers (seconds)
        for n in dict.fromkeys((1, workers)):  # the same inbox, a fresh copy of the folder
            copy = Path(tmp) / f"{n} processus"
            shutil.copytree(root, copy)
            copy_work = DossierTravail.open(copy)
            before = _cpu()
            start = time.perf_counter()
            run = valider(copy_work, [copy_work.path("retours")], ref=ref, workers=n)
            times[n] = time.perf_counter() - start
            after = _cpu()
            cpu[n] = (after[0] - before[0], after[1] - before[1])
            shutil.rmtree(copy)
    statuses = {s: run.count(s) for s in ("accepté", "accepté avec avertissements", "rejeté")}
    ours = times[workers]
    print(f"{args.n} classeurs retournés ({statuses})")
    print(f"openpyxl load_workbook seul : {bare:7.2f} s  ({1000 * bare / args.n:6.1f} ms/fichier)")
    for n, elapsed in times.items():
        print(f"validation complète, {n} processus : {elapsed:7.2f} s  "
              f"({1000 * elapsed / args.n:6.1f} ms/fichier ; CPU : {cpu[n][0]:.2f} s ici, "
              f"{cpu[n][1]:.2f} s dans les processus de travail)")
    print(f"rapport validation ({workers} processus) / chargement openpyxl : {ours / bare:.2f} "
          "(objectif : au plus 0,25)")
    if workers > 1:
        print(f"rapport {workers} processus / 1 processus : {ours / times[1]:.2f} "
              f"(accélération ×{times[1] / ours:.2f} ; {os.cpu_count()} cœurs, charge moyenne "
              f"au départ : {load:.2f})")


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its ended children (nan where not measurable)."""
    try:
        import resource
    except ImportError:
        return float("nan"), float("nan")
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
