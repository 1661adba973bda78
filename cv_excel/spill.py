"""Records kept in an unnamed temporary file instead of memory, read back by position.

What a run needs of the whole year one record at a time (the programmation's actions,
the register's entries) is written here once; only a record's position stays in
memory. The file has no name (it disappears with the process, or at :meth:`close`),
and reading uses ``os.pread``, so forked worker processes that inherit it each read at
their own offsets without disturbing one another.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class Spill:
    """Byte records appended once, read by their rank (0, 1, …)."""

    def __init__(self, prefix: str = "cv_excel-") -> None:
        self._file = tempfile.TemporaryFile(prefix=prefix)  # noqa: SIM115 - lives with self
        self._starts = array("q", [0])  # record i lies in [starts[i], starts[i + 1])
        self._unflushed = False

    def append(self, data: bytes) -> int:
        """Write ``data``; its rank."""
        self._file.write(data)
        self._starts.append(self._starts[-1] + len(data))
        self._unflushed = True
        return len(self._starts) - 2

    def seal(self) -> None:
        """Every record written to the file: to call before worker processes are forked
        (a child must never flush a copy of this process's buffer)."""
        if self._unflushed:
            self._file.flush()
            self._unflushed = False

    def __getitem__(self, rank: int) -> bytes:
        self.seal()
        start = self._starts[rank]
        return os.pread(self._file.fileno(), self._starts[rank + 1] - start, start)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def close(self) -> None:
        self._file.close()


# --- objects on disk, as a list or a dict ---------------------------------------------------
class SpilledList(Sequence[T]):
    """A read-only list whose objects are pickled to a :class:`Spill` and read back one
    at a time: what a consolidation holds of the year's actions at the national volume
    (150 MiB as objects) is then the positions, and ``keys`` when given (one small key per
    object, kept in memory: :meth:`by_key` walks the objects in that key's order).

    Filled from ``items`` (sealed then), or one :meth:`append` at a time (then
    :meth:`seal` before forking workers). Pickled (a process started anew), it becomes a
    plain list."""

    def __init__(self, items: Iterable[T] = (), key: Callable[[T], Any] | None = None,
                 prefix: str = "cv_excel-") -> None:
        self._spill = Spill(prefix)
        self._key = key
        self.keys: list[Any] | None = [] if key is not None else None
        for item in items:
            self.append(item)
        self.seal()

    def append(self, item: T) -> int:
        """Write ``item`` at the end; its rank."""
        if self.keys is not None:
            self.keys.append(self._key(item))
        return self._spill.append(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))

    def seal(self) -> None:
        """Every object written to the file (see :meth:`Spill.seal`)."""
        self._spill.seal()

    def close(self) -> None:
        self._spill.close()

    def __len__(self) -> int:
        return len(self._spill)

    def _load(self, rank: int) -> T:
        return pickle.loads(self._spill[rank])  # noqa: S301 - written by this process

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._load(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._load(index)

    def __iter__(self) -> Iterator[T]:
        return map(self._load, range(len(self)))

    def by_key(self) -> Iterator[T]:
        """The objects in the order of their keys (equal keys: in their own order)."""
        keys = self.keys
        if keys is None:
            raise TypeError("aucune clé n'a été donnée à cette liste")
        return map(self._load, sorted(range(len(keys)), key=keys.__getitem__))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SpilledList | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other,
                                                                           strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] - a list is not hashable either

    def __reduce__(self):
        return (list, (list(self),))

    def __repr__(self) -> str:
        return f"SpilledList({len(self)} objets sur disque)"


class SpilledDict(Mapping[Any, T]):
    """A read-only dict whose values are on disk (see :class:`SpilledList`): its keys and
    their positions stay in memory, in sorted order of the keys (as ``dict(sorted(…))``).
    Built from (key, value) pairs; a key given twice keeps its last value."""

    def __init__(self, pairs: Iterable[tuple[Any, T]]) -> None:
        self._spill = Spill()
        ranks: dict[Any, int] = {}
        for key, value in pairs:
            ranks[key] = self._spill.append(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        self._spill.seal()
        self._ranks = dict(sorted(ranks.items()))

    def __getitem__(self, key: Any) -> T:
        return pickle.loads(self._spill[self._ranks[key]])  # noqa: S301 - written here

    def __contains__(self, key: object) -> bool:
        return key in self._ranks

    def __iter__(self) -> Iterator[Any]:
        return iter(self._ranks)

    def __len__(self) -> int:
        return len(self._ranks)

    def __reduce__(self):
        return (dict, (dict(self.items()),))

    def __repr__(self) -> str:
        return f"SpilledDict({len(self)} valeurs sur disque)"
