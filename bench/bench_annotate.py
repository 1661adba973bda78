"""Benchmark: the annotated copy of a rejected workbook, XML edit vs openpyxl.

Usage: python bench/bench_annotate.py [--n 40] [--repeat 3]

Run by hand, not by the tests. N porteur workbooks are generated for N synthetic
porteurs, every input filled coherently, then each gets one of the demo's typical
mistakes (a word in a number, an unbalanced budget, a missing justification, an edited
amount): intake's own checks reject them, and their findings are the ones annotated.
Each file's copy is then made both ways — by editing its XML parts (what
:func:`cv_excel.intake.annotate.annotate` does) and by the former openpyxl load and
save (its fallback) — and the best of ``--repeat`` rounds of each is printed, with the
ratio. Target: the XML way at most 1/10 of the openpyxl way.

Both ways write their copy (atomically) to a temporary folder; the machine's other
work weighs on both alike, so the ratio is what to compare between runs.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from cv_excel.config import DossierTravail, write_config
from cv_excel.demo.returns import MISTAKES, fill_porteur
from cv_excel.generation.generate import ClasseurGenere, output_folder, register, template_path
from cv_excel.generation.plan import plan_porteur
from cv_excel.generation.render import prepare, render
from cv_excel.intake import annotate as annotate_mod
from cv_excel.intake.context import context_for
from cv_excel.intake.run import ACCEPTE, check_bytes, status_of
from cv_excel.programmation.template import write_programmation
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.spec import PORTEUR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import synthetic  # noqa: E402


def rejected_workbooks(root: Path, n: int) -> list[tuple[str, bytes, list]]:
    """N returns intake does not accept as they are (name, bytes, intake's findings):
    rejected, or accepted with warnings — both get an annotated copy."""
    write_config(root)
    work = DossierTravail.open(root)
    ref = embedded_referentiel()
    tpl = prepare(template_path(work, PORTEUR), PORTEUR)
    now = dt.datetime.now().astimezone()
    porteurs = synthetic(n)
    rows = [a.to_row() for _, actions in porteurs for a in actions]
    write_programmation(work.programmation_file(2019), rows, ref, annee=2019)
    sent, files = [], []
    for i, (porteur, actions) in enumerate(porteurs):
        plan = fill_porteur(plan_porteur(porteur, actions, ref, work.config, 2019), 2019)
        rendu = render(tpl, plan, f"id{i}", now)  # as sent: registered
        returned = copy.deepcopy(plan)
        MISTAKES[i % len(MISTAKES)][1](returned)  # as returned, with one mistake
        files.append((f"{i:04d}.xlsx", render(tpl, returned, f"id{i}", now).data))
        sent.append(ClasseurGenere(f"id{i}", "porteur", porteur.siret, porteur.raison_sociale,
                                   f"{i:04d}.xlsx", [s.key for s in plan.sections],
                                   rendu.empreinte, now.isoformat(), PORTEUR.modele,
                                   rendu.preremplies))
    register(output_folder(work, 2019) / "registre.json", sent)
    ctx = context_for(work, ref)
    out = []
    for name, data in files:
        findings, _, _ = check_bytes(name, data, ctx)
        if status_of(findings) != ACCEPTE:
            out.append((name, data, findings))
    return out


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="nombre de classeurs rejetés")
    parser.add_argument("--repeat", type=int, default=3, help="tours de mesure (le meilleur)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = rejected_workbooks(root / "dossier", args.n)
        out = root / "annotés"
        out.mkdir()

        def xml_way() -> None:
            for name, data, findings in files:
                annotate_mod.annotate(data, findings, out / f"xml {name}", name)

        def openpyxl_way() -> None:
            for name, data, findings in files:
                annotate_mod._annotate_openpyxl(data, findings, out / f"openpyxl {name}", name)

        for name, data, findings in files:  # warm-up; raises if one would fall back
            annotate_mod.annotated_bytes(data, findings, name)
        ours = best_of(args.repeat, xml_way)
        theirs = best_of(args.repeat, openpyxl_way)
    k = len(files)
    print(f"{k} classeurs annotés (rejetés ou acceptés avec avertissements ; constats par "
          "classeur : "
          f"{sum(len(f) for _, _, f in files) / k:.1f})")
    print(f"openpyxl (chargement + enregistrement) : {theirs:6.2f} s  "
          f"({1000 * theirs / k:6.1f} ms/fichier)")
    print(f"édition du XML                         : {ours:6.2f} s  "
          f"({1000 * ours / k:6.1f} ms/fichier)")
    print(f"rapport XML / openpyxl : {ours / theirs:.3f} (×{theirs / ours:.0f} plus rapide ; "
          "objectif : au plus 0,1)")


if __name__ == "__main__":
    main()
