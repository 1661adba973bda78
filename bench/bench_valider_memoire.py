"""Benchmark: peak memory of `valider` over N returns, for two values of N.

Usage: python bench/bench_valider_memoire.py [--petit 1000] [--grand 10000]

Run by hand, not by the tests. A demo working folder is generated with the demo's
simulated returns (bilans of the porteurs, a few rejected); N returns are copies of
them with distinct bytes (see bench_traiter.py), dropped in the inbox of a copy of the
folder. `valider` then processes the inbox in a child process of its own (checks,
annotated copies of the rejected files, store, journal, reports), which reports its
peak resident memory (``ru_maxrss``) and its resident memory just before the run
(imports, référentiel). Target: peak at the larger N at most 1.2 × the peak at the smaller N.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_traiter import ROOT, demo_folder, drop_copies  # noqa: E402

CHILD = """
import json, resource, sys, time
from collections import Counter
from pathlib import Path
from cv_excel.config import DossierTravail
from cv_excel.enregistrement import valider_et_enregistrer as valider
from cv_excel.referentiel.load import load_for_folder

work = DossierTravail.open(Path(sys.argv[1]))
ref, _ = load_for_folder(work)


def rss_kib():  # resident now (Linux); the peak so far elsewhere
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


before = rss_kib()
start = time.perf_counter()
run = valider(work, ref=ref)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
statuts = {s: run.count(s) for s in ("accepté", "accepté avec avertissements", "rejeté",
                                     "doublon", "écarté")}
print(json.dumps({"fichiers": len(run.fichiers), "statuts": statuts, "secondes": seconds,
                  "avant_kib": before, "pic_kib": peak}))
"""


def run_child(dossier: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(dossier)], capture_output=True,
                          text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--petit", type=int, default=1000, help="retours (1re mesure)")
    parser.add_argument("--grand", type=int, default=10000, help="retours (2e mesure)")
    args = parser.parse_args()
    if sys.platform == "win32":
        raise SystemExit("mesure par resource.getrusage : Linux ou macOS")
    with tempfile.TemporaryDirectory() as tmp:
        base, models = demo_folder(Path(tmp) / "base")
        results = {}
        for n in (args.petit, args.grand):
            dossier = Path(tmp) / f"dossier-{n}"
            shutil.copytree(base, dossier)
            drop_copies(dossier / "retours", models, 0, n)
            start = time.perf_counter()
            results[n] = run_child(dossier)
            shutil.rmtree(dossier)
            r = results[n]
            print(f"{n} retours : {r['secondes']:.0f} s de validation "
                  f"({1000 * r['secondes'] / n:.0f} ms/fichier), {r['statuts']}, "
                  f"mémoire avant {r['avant_kib'] / 1024:.0f} Mio, pic "
                  f"{r['pic_kib'] / 1024:.0f} Mio ({time.perf_counter() - start:.0f} s en tout)",
                  flush=True)
    small, large = results[args.petit], results[args.grand]
    ratio = large["pic_kib"] / small["pic_kib"]
    growth = (large["pic_kib"] - large["avant_kib"]) / max(1024, small["pic_kib"]
                                                            - small["avant_kib"])
    print()
    print(f"valider : pic de mémoire {small['pic_kib'] / 1024:.0f} Mio ({args.petit} retours), "
          f"{large['pic_kib'] / 1024:.0f} Mio ({args.grand} retours)")
    print(f"rapport des pics {args.grand}/{args.petit} : {ratio:.3f} (objectif : au plus 1,2 ; "
          f"{'atteint' if ratio <= 1.2 else 'non atteint'})")
    print(f"rapport de ce que la validation ajoute au processus : {growth:.3f}")


if __name__ == "__main__":
    main()
