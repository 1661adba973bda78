"""What a piece of code opens: an audit hook on Python's ``open`` and ``os.open``, for
tests that prove a run reads nothing it has already processed."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], str | bytes | Path):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # for the process (hooks cannot be removed); records only in opened()


@contextmanager
def opened() -> Iterator[list[str]]:
    """Every path opened (Python's open and os.open) in the block."""
    global _OPENED
    _OPENED = seen = []
    try:
        yield seen
    finally:
        _OPENED = None
