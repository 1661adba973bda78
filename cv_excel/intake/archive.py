"""Every received file is kept, by content: ``archives/ab/abcdef….xlsx``.

The archive is filled *before* any check runs, the original is never touched,
and the journal (``archives/journal.json``) records each reception: original
name, time, size, status. The same content received twice is recognised.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cv_excel.atomic import write_bytes_atomic, write_text_atomic

JOURNAL = "journal.json"


@dataclass
class Reception:
    sha256: str
    nom: str
    source: str
    recu_le: str
    taille: int
    archive: str  # relative to the archive folder
    statut: str = "en cours"
    classeur_id: str = ""
    type: str = ""
    destinataire: str = ""
    bloquants: int = 0
    avertissements: int = 0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, folder: Path):
        self.folder = folder
        path = folder / JOURNAL
        self.receptions: list[Reception] = (
            [Reception(**r) for r in json.loads(path.read_text("utf-8"))]
            if path.exists() else [])

    def store(self, data: bytes, digest: str, name: str) -> Path:
        """Copy the content into the archive (once per distinct content)."""
        suffix = Path(name).suffix.lower()[:10] or ".bin"
        target = self.folder / digest[:2] / f"{digest}{suffix}"
        if not target.exists():
            write_bytes_atomic(target, data)
        return target

    def previous(self, digest: str) -> Reception | None:
        """The first completed reception of the same content, if any."""
        return next((r for r in self.receptions if r.sha256 == digest
                     and r.statut not in ("en cours", "doublon")), None)

    def record(self, reception: Reception) -> None:
        """Remember a reception; :meth:`save` writes the journal once the run is recorded
        (a crash before it only means the files are checked again next run)."""
        self.receptions.append(reception)

    def save(self) -> None:
        write_text_atomic(self.folder / JOURNAL, json.dumps(
            [asdict(r) for r in self.receptions], ensure_ascii=False, indent=1) + "\n")
