"""Small JSON records a run keeps to skip work it already did (« shortcuts »): absent,
damaged or of another format, a record reads as empty and the work is done again, as
without it; one that cannot be written is only lost."""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path
from typing import Any

from cv_excel.atomic import write_text_atomic


def read_record(path: Path | None, version: int) -> dict[str, Any]:
    """The record at ``path``; empty when absent, damaged or of another ``version``."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == version else {}


def write_record(path: Path, data: dict[str, Any], version: int) -> None:
    """Write a record (atomically); one that cannot be written is only lost."""
    with suppress(OSError):
        write_text_atomic(path, json.dumps({"version": version, **data}, ensure_ascii=False,
                                           separators=(",", ":")))
