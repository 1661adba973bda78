"""The consolidation's own records, under ``sorties/.etat/``: what the last builds were made
from (the inputs' content hashes by signature, the cheap state of each output folder, the
inputs of each compte rendu). A record is only a shortcut: absent, damaged or of another
format, it reads as empty and the work is done again, as without it.
"""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path
from typing import Any

from cv_excel.atomic import write_text_atomic

ETAT = ".etat"
FORMAT = 1  # of those records: another format is ignored (the full path runs once)


def read_record(path: Path | None) -> dict[str, Any]:
    """A record; empty when absent, damaged or of another format."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == FORMAT else {}


def write_record(path: Path, data: dict[str, Any]) -> None:
    """Write a record; one that cannot be written is only lost."""
    with suppress(OSError):
        write_text_atomic(path, json.dumps({"version": FORMAT, **data}, ensure_ascii=False,
                                           separators=(",", ":")))
