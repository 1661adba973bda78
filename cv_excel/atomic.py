"""Atomic writes: a file is either the old one or the complete new one, never half.

Every output goes to a temporary file in the same folder, then replaces the
target with one rename; a crash or a full disk leaves the previous file intact.
A process killed meanwhile leaves its temporary ``.tmp-…`` file behind:
:func:`remove_stale_temporaries` clears them (under the working folder's lock).
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

TMP_PREFIX = ".tmp-"


@contextmanager
def atomic_target(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: Path | str, text: str) -> Path:
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def remove_stale_temporaries(folders: Iterable[Path], pattern: str = TMP_PREFIX + "*",
                             recursive: bool = True) -> list[Path]:
    """Delete the temporary files matching ``pattern`` in ``folders`` and return them.

    Only safe while no other process writes there: the caller holds the working
    folder's lock. A file that cannot be deleted is left (and not returned).
    """
    removed = []
    for folder in folders:
        with suppress(OSError):
            found = _matching(folder, pattern) if recursive else list(folder.glob(pattern))
            for path in found:
                with suppress(OSError):
                    if path.is_file() and not path.is_symlink():
                        path.unlink()
                        removed.append(path)
    return removed


def _matching(folder: Path, pattern: str) -> list[Path]:
    """The files under ``folder`` whose name matches ``pattern``, without following links
    to folders: one listing per folder (``pathlib``'s recursive glob cost a good part of a
    run with nothing new once the archive held thousands of files)."""
    return [Path(top, name) for top, _dirs, files in os.walk(folder)
            for name in fnmatch.filter(files, pattern)]
