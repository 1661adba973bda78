"""A small ordered map over a pool of processes: both cores for generation.

:func:`ordered_map` applies a function to items in worker processes and yields the
results **in the order of the items**, so that whatever the caller writes to shared
files (a register, a log, a progress line) is written by one process, in one order,
whatever the number of workers. What every task needs (templates, référentiel) is
handed once to each worker by ``init`` and kept there (:func:`shared`), not pickled
with every task.

- ``workers`` from ``cv_excel.toml`` (``workers``; 0: one per core of the machine);
  one worker, or a single item, runs in the calling process, with the same ``init``.
- Items are sent in chunks, and only a few chunks are in flight at once: the results
  waiting to be consumed stay bounded, whatever the number of items. Each item and
  each result travels pickled, unpickled only when it is used; a large one (a
  référent's plan or workbook at the national volume) waits in a temporary file, not
  in memory: what waits is bounded in bytes too, whatever the size of the data.
- The function must not raise for an item's own fault: it returns that item's failure
  as a value (see :mod:`cv_excel.generation.generate`). A worker that dies (killed,
  out of memory) raises :class:`PoolInterrompu`, in French.
- Ctrl+C reaches the calling process only (workers ignore it); the pool is then shut
  down, the chunks not yet started are cancelled, and ``KeyboardInterrupt`` goes on.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CHUNK_MAX = 8  # items per task: large enough to amortise a round trip, small for Ctrl+C
IN_FLIGHT_PER_WORKER = 3  # chunks submitted ahead per worker: bounded memory
SPILL_BYTES = 1 << 16  # a result pickled larger than this waits in a file, not in memory

_SHARED: dict[str, Any] = {}


class PoolInterrompu(RuntimeError):
    """A worker process stopped abruptly; the message is French."""


def worker_count(configured: int | None) -> int:
    """The number of processes to use: ``configured``, or one per core when 0/None."""
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


def shared(name: str) -> Any:
    """What ``init`` put aside in this process under ``name`` (see :func:`share`)."""
    return _SHARED[name]


def share(values: dict[str, Any]) -> None:
    """Keep ``values`` (name -> object) for the tasks of this process; a typical ``init``
    (``init=share, init_args=({"templates": templates},)``)."""
    _SHARED.update(values)


def _worker_init(init: Callable[..., None] | None, init_args: tuple) -> None:
    # Ctrl+C is the parent's to handle: a worker never prints a traceback for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if init is not None:
        init(*init_args)


def _run_chunk(fn: Callable[[T], R], chunk: list[bytes | str], folder: str
               ) -> list[bytes | str]:
    """The chunk's results, each pickled as soon as it is made (the worker keeps bytes,
    not object graphs); a large one written to a file of ``folder`` (its path returned).
    The items come packed the same way (a référent's plan carries its actions)."""
    return [_packed(fn(_unpacked(item)), folder) for item in chunk]


def _packed(result: Any, folder: str) -> bytes | str:
    data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) <= SPILL_BYTES:
        return data
    fd, path = tempfile.mkstemp(dir=folder, suffix=".pickle")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _unpacked(packed: bytes | str) -> Any:
    """A result as :func:`_packed` sent it (its file removed once read)."""
    if isinstance(packed, bytes):
        return pickle.loads(packed)
    with open(packed, "rb") as fh:
        data = fh.read()
    os.unlink(packed)
    return pickle.loads(data)


def chunk_size(count: int | None, workers: int) -> int:
    """Items per task: about four tasks per worker, at most :data:`CHUNK_MAX`."""
    if not count:
        return CHUNK_MAX
    return max(1, min(CHUNK_MAX, count // (workers * 4) or 1))


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int | None = 0,
                init: Callable[..., None] | None = None, init_args: tuple = (),
                count: int | None = None, chunk: int | None = None) -> Iterator[R]:
    """``fn`` over ``items`` in ``workers`` processes, results in the items' order.

    ``fn`` and ``init`` must be module-level functions (picklable by name); ``items``
    may be a generator (consumed as the pool needs them); ``count``, when the caller
    knows it, sizes the chunks (``len(items)`` for a sequence); ``chunk``: items per
    task, when the caller knows better (items of very unequal cost: one each).
    """
    if count is None and hasattr(items, "__len__"):
        count = len(items)  # type: ignore[arg-type]
    n = worker_count(workers)
    if n == 1 or (count is not None and count <= 1):
        saved = dict(_SHARED)
        try:
            if init is not None:
                init(*init_args)
            for item in items:
                yield fn(item)
        finally:  # what init shared for this map is not kept in this process
            _SHARED.clear()
            _SHARED.update(saved)
        return
    size = chunk or chunk_size(count, n)
    iterator = iter(items)
    pending: deque[Future] = deque()
    folder = tempfile.mkdtemp(prefix="cv_excel-resultats-")  # removed when the map ends
    executor = ProcessPoolExecutor(max_workers=n, initializer=_worker_init,
                                   initargs=(init, init_args))
    clean = False
    try:
        def submit() -> bool:
            chunk = [_packed(item, folder)
                     for _, item in zip(range(size), iterator, strict=False)]
            if chunk:
                pending.append(executor.submit(_run_chunk, fn, chunk, folder))
            return bool(chunk)

        try:
            while len(pending) < n * IN_FLIGHT_PER_WORKER and submit():
                pass
            while pending:
                results = pending.popleft().result()
                submit()
                while results:  # one result unpickled at a time, the chunk's bytes let go
                    yield _unpacked(results.pop(0))
        except BrokenProcessPool as exc:  # raised by result() or by submit()
            raise PoolInterrompu(
                "Un processus de travail s'est arrêté brutalement (mémoire insuffisante ou "
                "processus interrompu) : relancez la commande, au besoin avec workers = 1 "
                "dans cv_excel.toml.") from exc
        clean = True
    finally:
        # Stopped early (Ctrl+C, an error, the consumer gone): what has not started is
        # cancelled, what runs finishes (one chunk per worker), then the workers exit.
        executor.shutdown(wait=True, cancel_futures=not clean)
        shutil.rmtree(folder, ignore_errors=True)


class EnFond:
    """:func:`ordered_map` started now, its results taken later (:meth:`resultats`): the
    workers run while this process does other work (a consolidation writes its tables
    while the workers write the comptes rendus).

    The pool is started, its workers forked, by the calling thread (the first result is
    awaited there); a thread of this process then keeps the workers fed and collects the
    results, which must be small (paths). One worker: everything runs in the calling
    process, when the results are asked for."""

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], *, workers: int | None = 0,
                 init: Callable[..., None] | None = None, init_args: tuple = (),
                 count: int | None = None, chunk: int | None = None):
        self._results: list[R] = []
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._map = ordered_map(fn, items, workers=workers, init=init, init_args=init_args,
                                count=count, chunk=chunk)
        if worker_count(workers) == 1:
            return
        try:
            self._results.append(next(self._map))
        except StopIteration:
            return
        self._thread = threading.Thread(target=self._collect, name="cv_excel-en-fond",
                                        daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            for result in self._map:
                self._results.append(result)
                if self._stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by resultats()
            self._error = exc
        finally:
            self._map.close()  # stopped early: the pool is shut down, its queue cancelled

    def resultats(self) -> list[R]:
        """Every result, in the items' order (waits for the last one); a worker's death
        raises :class:`PoolInterrompu` here."""
        if self._thread is None:
            self._results.extend(self._map)
            return self._results
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._results

    def abandonner(self) -> None:
        """Stop early (the caller failed): the tasks not started are cancelled, the
        running ones finish, the workers exit."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        else:
            self._map.close()


__all__ = ["EnFond", "PoolInterrompu", "chunk_size", "ordered_map", "share", "shared",
           "worker_count"]
