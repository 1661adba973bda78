"""Benchmark: `cv-excel traiter` with nothing new, over N returns already processed.

Usage: python bench/bench_traiter.py [--petit 1000] [--grand 10000] [--repetitions 5]

Run by hand, not by the tests. A demo working folder is generated, with the demo's
simulated returns (bilans of the porteurs, some with mistakes); N returns are copies
of them with distinct bytes (a comment in the zip's end record: the same workbook,
another file), dropped in the inbox with increasing file times and validated once by
a first `traiter`. Then `traiter` runs again with nothing new, several times; the
median is taken. The same folder then grows to the larger N (the new copies are
validated once) and is measured again.

Printed: the time of a `traiter` with nothing new (in the process, after a first
call), split into the inbox part (scan, recognition of the files, interrupted
receptions, re-examinations: what issue 12 point 3 is about) and the consolidation
part (its own « nothing new » test, point 5 of the issue), and within the latter the
time spent opening the store (``open_store``: its checks); the whole command as a
process; what reading and hashing every file would cost (the former behaviour);
and the ratios larger / smaller. Target: at most 0.3 s over 1,000 returns, flat
from 1,000 to 10,000.

``--mesurer DOSSIER``: measure an existing working folder as it is (nothing dropped,
nothing validated first), e.g. one kept by ``--dossier``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000


def demo_folder(target: Path) -> tuple[Path, list[tuple[str, bytes]]]:
    """A demo working folder after generation (inbox empty) and the demo's returns."""
    from cv_excel.config import DossierTravail
    from cv_excel.demo import run_demo_cycle
    from cv_excel.demo.returns import simulate_returns
    from cv_excel.programmation.check import read_programmation
    from cv_excel.referentiel.load import load_referentiel

    result = run_demo_cycle(target, returns=False)
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    programmation = read_programmation(result.programmations[2019], ref, annee=2019)
    simulate_returns(work, ref, programmation, result.generation)
    inbox = work.path("retours")
    models = [(p.name, p.read_bytes()) for p in sorted(inbox.iterdir()) if p.is_file()]
    shutil.rmtree(inbox)
    inbox.mkdir()
    return result.dossier, models


def with_comment(data: bytes, comment: bytes) -> bytes:
    """The same workbook, other bytes: a comment in the zip's end record."""
    if data[-22:-18] != b"PK\x05\x06" or data[-2:] != b"\0\0":
        raise ValueError("fin de zip inattendue")
    return data[:-2] + len(comment).to_bytes(2, "little") + comment


def drop_copies(inbox: Path, models: list[tuple[str, bytes]], start: int, stop: int) -> None:
    """Copies ``start`` … ``stop - 1`` of the models, each with its own bytes and time."""
    for i in range(start, stop):
        name, data = models[i % len(models)]
        path = inbox / f"{i:06d} {name}"
        path.write_bytes(with_comment(data, b"copie %06d" % i))
        os.utime(path, (T0 + i, T0 + i))


def measure(dossier: Path, repetitions: int) -> dict[str, float]:
    """Medians (seconds) of `traiter` with nothing new: whole call, inbox part,
    consolidation part; and of the command as a process."""
    from cv_excel.batch import traiter as batch
    from cv_excel.config import DossierTravail
    from cv_excel.consolidation import run as consolidation

    parts: dict[str, list[float]] = {"boite": [], "consolidation": [], "ouverture": []}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name][-1] += time.perf_counter() - start
        return wrapper

    originals = {n: getattr(batch, n) for n in ("lire_boite", "_resume_interrupted",
                                                "_to_reexamine", "_consolidate")}
    for n in ("lire_boite", "_resume_interrupted", "_to_reexamine"):
        setattr(batch, n, timed("boite", originals[n]))
    batch._consolidate = timed("consolidation", originals["_consolidate"])
    open_store = consolidation.open_store
    consolidation.open_store = timed("ouverture", open_store)
    work = DossierTravail.open(dossier)
    totals = []
    try:
        for _ in range(repetitions + 1):  # the first call warms the imports and caches
            for values in parts.values():
                values.append(0.0)
            start = time.perf_counter()
            result = batch.traiter(work)
            totals.append(time.perf_counter() - start)
            if not result.rien_de_nouveau:
                raise RuntimeError(f"le traitement avait du nouveau : {result.resume}")
    finally:
        for n, function in originals.items():
            setattr(batch, n, function)
        consolidation.open_store = open_store
    process = []
    for _ in range(max(1, repetitions // 2)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cv_excel", "traiter", "--dossier", str(dossier)],
                       check=True, cwd=ROOT, capture_output=True)
        process.append(time.perf_counter() - start)
    return {"total": statistics.median(totals[1:]),
            "boite": statistics.median(parts["boite"][1:]),
            "consolidation": statistics.median(parts["consolidation"][1:]),
            "ouverture": statistics.median(parts["ouverture"][1:]),
            "processus": statistics.median(process)}


def hash_everything(inbox: Path) -> float:
    """What the former behaviour cost: read and hash every file of the inbox."""
    import hashlib

    start = time.perf_counter()
    for path in inbox.iterdir():
        with path.open("rb") as fh:
            hashlib.file_digest(fh, "sha256")
    return time.perf_counter() - start


def _fmt(seconds: float) -> str:
    return f"{seconds:7.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--petit", type=int, default=1000, help="retours déjà traités (1er)")
    parser.add_argument("--grand", type=int, default=10000, help="retours déjà traités (2e)")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--dossier", type=Path, help="garder le dossier de travail ici")
    parser.add_argument("--mesurer", type=Path,
                        help="mesurer ce dossier de travail tel qu'il est, sans rien déposer")
    args = parser.parse_args()
    if args.mesurer is not None:
        figures = measure(args.mesurer.resolve(), args.repetitions)
        print(f"cv-excel traiter sans rien de nouveau sur {args.mesurer} "
              f"(médianes de {args.repetitions} passages)")
        for key, label in LIGNES[:-1]:
            print(f"{label:40}{figures[key]:9.3f}s")
        return
    from cv_excel.batch.traiter import traiter
    from cv_excel.config import DossierTravail

    with tempfile.TemporaryDirectory() as tmp:
        base = args.dossier or Path(tmp) / "dossier"
        dossier, models = demo_folder(base)
        work = DossierTravail.open(dossier)
        inbox = work.path("retours")
        results = {}
        done = 0
        for n in (args.petit, args.grand):
            start = time.perf_counter()
            drop_copies(inbox, models, done, n)
            first = traiter(work)
            done = n
            print(f"{n} retours déposés et traités une fois en {time.perf_counter() - start:.0f} s"
                  f" ({first.resume})", flush=True)
            results[n] = measure(dossier, args.repetitions)
            results[n]["tout relire"] = hash_everything(inbox)
    small, large = results[args.petit], results[args.grand]
    print()
    print(f"cv-excel traiter sans rien de nouveau (médianes de {args.repetitions} passages)")
    print(f"{'':40}{args.petit:>10}{args.grand:>10}   rapport")
    for key, label in LIGNES:
        print(f"{label:40}{small[key]:9.3f}s{large[key]:9.3f}s   "
              f"{large[key] / small[key]:6.2f}")
    print()
    print(f"Objectif : traiter ≤ 0,3 s sur {args.petit} retours "
          f"({'atteint' if small['total'] <= 0.3 else 'non atteint'} : {small['total']:.3f} s) ;"
          f" rapport {args.grand}/{args.petit} = {large['total'] / small['total']:.2f} "
          f"(partie retours : {large['boite'] / small['boite']:.2f} ; partie consolidation : "
          f"{large['consolidation'] / small['consolidation']:.2f}).")


LIGNES = (("total", "traiter (appel, processus chaud)"),
          ("boite", "  dont retours (point 3)"),
          ("consolidation", "  dont consolidation (point 5)"),
          ("ouverture", "    dont ouverture du magasin"),
          ("processus", "commande complète (processus)"),
          ("tout relire", "relire et hacher tout (avant)"))


if __name__ == "__main__":
    main()
