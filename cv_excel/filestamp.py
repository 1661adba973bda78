"""What tells that a file changed without reading it: its size, modification time, inode
and change time. Shared by the inbox (files already processed), the consolidation (inputs
already hashed, comptes rendus already written) and the store (a store already checked).
"""

from __future__ import annotations

import os
from pathlib import Path

# The change time cannot be set back by a program (unlike the modification time); on
# Windows ``st_ctime`` is the creation time, and a folder listing does not give the
# file index, so both count there as unknown (0).
_POSIX = os.name != "nt"

Signature = tuple[int, int, int, int]  # size, mtime_ns, inode (0: unknown), ctime_ns (0: idem)


def signature(st: os.stat_result) -> Signature:
    """What tells a file's content changed without reading it."""
    return (st.st_size, st.st_mtime_ns, st.st_ino if _POSIX else 0,
            st.st_ctime_ns if _POSIX else 0)


def same_signature(a: Signature | None, b: Signature | None) -> bool:
    """Equal size and modification time, and equal inode and change time where both
    are known: the file was not written since (any difference: read it again)."""
    if a is None or b is None or a[0] != b[0] or a[1] != b[1]:
        return False
    return all(not x or not y or x == y for x, y in zip(a[2:], b[2:], strict=True))


def signature_text(sig: Signature) -> str:
    return f"{sig[0]}:{sig[1]}:{sig[2]}:{sig[3]}"


def file_signature(path: Path) -> str | None:
    """The signature of the file at ``path`` as text; None when it cannot be read."""
    try:
        return signature_text(signature(path.stat()))
    except OSError:
        return None
