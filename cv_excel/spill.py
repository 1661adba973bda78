"""Records kept in an unnamed temporary file instead of memory, read back by position.

What a run needs of the whole year one record at a time (the programmation's actions,
the register's entries) is written here once; only a record's position stays in
memory. The file has no name (it disappears with the process, or at :meth:`close`),
and reading uses ``os.pread``, so forked worker processes that inherit it each read at
their own offsets without disturbing one another.
"""

from __future__ import annotations

import os
import tempfile
from array import array


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
