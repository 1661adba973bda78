"""The consolidation's own records, under ``sorties/.etat/``: what the last builds were made
from (the inputs' content hashes by signature, the cheap state of each output folder, the
inputs of each compte rendu). A record is only a shortcut: absent, damaged or of another
format, it reads as empty and the work is done again, as without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cv_excel import records

ETAT = ".etat"
FORMAT = 1  # of those records: another format is ignored (the full path runs once)


def read_record(path: Path | None) -> dict[str, Any]:
    """A record; empty when absent, damaged or of another format."""
    return records.read_record(path, FORMAT)


def write_record(path: Path, data: dict[str, Any]) -> None:
    """Write a record; one that cannot be written is only lost."""
    records.write_record(path, data, FORMAT)
