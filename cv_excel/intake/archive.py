"""Every received file is kept, by content: ``archives/ab/abcdef….xlsx``.

The archive is filled *before* any check runs, the original is never touched,
and the journal (``archives/journal.json``) records each reception: original
name, time, size, status. The same content received twice is recognised.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from cv_excel.atomic import write_bytes_atomic, write_text_atomic
from cv_excel.errors import (
    FichierInterneIllisible,
    keep_previous_copy,
    read_json,
    restore_hint,
)

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
    # Blocking codes and the settings the file was checked against: a file rejected for a
    # reason that lay with the Direction is examined again once the settings change.
    codes: list[str] | None = None
    reglages: str = ""
    reexamen: bool = False


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, folder: Path):
        self.folder = folder
        path = folder / JOURNAL
        # A damaged journal is refused, never replaced: it is the memory of receptions.
        recovery = restore_hint(path, (
            f"Renommez-le (par exemple en {JOURNAL}.abime), puis relancez : les fichiers "
            f"reçus restent conservés dans {folder}, ceux encore présents dans le dossier des "
            "retours sont contrôlés à nouveau et le magasin de données n'enregistre pas "
            "deux fois un même fichier."), note=(
            " : les fichiers reçus depuis cette copie sont simplement contrôlés à nouveau "
            "(le magasin de données n'enregistre pas deux fois un même fichier)"))
        data = read_json(path, [], "Le journal des réceptions", recovery)
        try:
            self.receptions: list[Reception] = [Reception(**r) for r in data]
        except TypeError as exc:  # not a list of receptions
            raise FichierInterneIllisible(
                f"Le journal des réceptions {path} n'a pas le contenu attendu (liste des "
                f"réceptions). {recovery}") from exc

    def store(self, data: bytes, digest: str, name: str) -> Path:
        """Copy the content into the archive (once per distinct content)."""
        suffix = Path(name).suffix.lower()[:10] or ".bin"
        target = self.folder / digest[:2] / f"{digest}{suffix}"
        if not target.exists():
            write_bytes_atomic(target, data)
        return target

    def store_stream(self, source: BinaryIO, name: str) -> tuple[str, Path, int]:
        """Copy ``source`` into the archive while hashing it, never holding it in memory.

        Returns (SHA-256, archived path, size). The copy is what later stages read, so
        what is checked is exactly what was hashed, even if the original changes.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(name).suffix.lower()[:10] or ".bin"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=suffix)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            hexdigest = digest.hexdigest()
            target = self.folder / hexdigest[:2] / f"{hexdigest}{suffix}"
            if target.exists():
                os.unlink(tmp)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return hexdigest, target, size

    def previous(self, digest: str) -> Reception | None:
        """The first completed reception of the same content, if any."""
        return next((r for r in self.receptions if r.sha256 == digest
                     and r.statut not in ("en cours", "doublon")), None)

    def latest(self, digest: str) -> Reception | None:
        """The last completed reception of the same content (a re-examination's outcome)."""
        return next((r for r in reversed(self.receptions) if r.sha256 == digest
                     and r.statut not in ("en cours", "doublon")), None)

    def to_reexamine(self, reglages: str, force: bool = False,
                     direction_codes: frozenset[str] = frozenset()) -> list[Reception]:
        """Files whose last outcome is a rejection for a reason that lay with the Direction
        (every blocking code in ``direction_codes``), checked under other settings than
        ``reglages`` — or all such files when ``force`` (``--revalider``). A file whose
        codes were not journalled (older journals) is taken only when ``force``."""
        latest: dict[str, Reception] = {}
        for r in self.receptions:
            if r.statut not in ("en cours", "doublon"):
                latest[r.sha256] = r
        result = []
        for r in latest.values():
            if r.statut != "rejeté":
                continue
            if r.codes is None:
                if force:
                    result.append(r)
            elif r.codes and set(r.codes) <= direction_codes and (
                    force or r.reglages != reglages):
                result.append(r)
        return sorted(result, key=lambda r: r.recu_le)

    def record(self, reception: Reception) -> None:
        """Remember a reception; :meth:`save` writes the journal once the run is recorded
        (a crash before it only means the files are checked again next run)."""
        self.receptions.append(reception)

    def save(self) -> None:
        """Write the journal; its previous version is kept as ``journal.json.bak``."""
        keep_previous_copy(self.folder / JOURNAL)
        write_text_atomic(self.folder / JOURNAL, json.dumps(
            [asdict(r) for r in self.receptions], ensure_ascii=False, indent=1) + "\n")
