"""A process importing accepted returns into a store, for the tests of concurrent writers
(started with multiprocessing's spawn: it imports this module, not a test module).

Each return is minimal but real for the store: an accepted file of one recipient
(contrat, année, type, destinataire), without sections — what supersession is about.
"""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

from cv_excel.statuts import ACCEPTE
from cv_excel.store.records import RetourRecu

CONTRAT, ANNEE = "concurrence", 2019


def retour(sha256: str, destinataire: str, recu_le: str) -> RetourRecu:
    """An accepted porteur's return of ``destinataire`` received at ``recu_le``."""
    lu = SimpleNamespace(
        meta={"meta_type": "porteur", "meta_contrat": CONTRAT, "meta_annee": ANNEE,
              "meta_destinataire_id": destinataire},
        spec=SimpleNamespace(kind="porteur"), sections=[])
    return RetourRecu(sha256=sha256, nom=f"{sha256}.xlsx", statut=ACCEPTE, recu_le=recu_le,
                      type="porteur", classeur_id=f"id-{destinataire}",
                      destinataire=destinataire, lu=lu)


def retours_de(worker: int, n: int, destinataires: int, communs: int) -> list[RetourRecu]:
    """``n`` returns of this worker, spread over ``destinataires`` recipients shared by
    every worker, and ``communs`` files every worker imports (same content, same hash)."""
    own = [retour(f"w{worker}-{i:03d}", f"dest-{i % destinataires}",
                  f"2019-05-01T10:{i % 60:02d}:{(i // 60) * 10 + worker:02d}")
           for i in range(n)]
    shared = [retour(f"commun-{i:03d}", f"dest-{i % destinataires}",
                     f"2019-05-01T09:{i:02d}:30") for i in range(communs)]
    mixed = []
    for i, r in enumerate(own):
        mixed.append(r)
        if i < len(shared):
            mixed.append(shared[i])
    return mixed


def importer(target, worker: int, n: int, destinataires: int, communs: int, barrier,
             results) -> None:
    """Open the store, wait for the other writer, then record every return, one
    transaction per file; put the summary in ``results``."""
    from cv_excel.store.db import open_store
    from cv_excel.store.imports import ImportSummary, record_file

    retours = retours_de(worker, n, destinataires, communs)
    summary = ImportSummary()
    with open_store(target) as store:
        barrier.wait(timeout=120)
        for r in retours:
            record_file(store, r, summary, debut="2019-05-01T00:00:00")
    results.put((worker, asdict(summary)))
