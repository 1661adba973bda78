"""What the inbox holds: the files to process, in the order they were received,
and every other entry with the reason it is set aside (« rien n'est écarté en
silence »).

Links are never followed inside a folder (a link could point anywhere on the
machine, or loop); pipes, sockets and devices are not files; Excel's own lock
files (``~$…``) are not returns. A file is opened without following a link and
without blocking, so an entry swapped for a pipe or a link after the scan is
refused, not waited on.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Entree:
    """A regular file to process."""

    path: Path
    mtime: float
    size: int


@dataclass(frozen=True)
class Ecart:
    """An entry that is not processed, and why (French, shown in the report)."""

    path: Path
    raison: str


class FichierIllisible(Exception):
    """The entry cannot be opened as a regular file; the message is French."""


def scan(chemins: list[Path]) -> tuple[list[Entree], list[Ecart]]:
    """Files named, and files found (recursively) in folders named, oldest first.

    A path named explicitly is taken as the user named it (a link is followed
    there: the user chose it); inside folders nothing is followed.
    """
    entrees: list[Entree] = []
    ecarts: list[Ecart] = []
    for chemin in chemins:
        chemin = Path(chemin)
        try:
            st = chemin.stat()
        except OSError:
            ecarts.append(Ecart(chemin, _RAISONS["introuvable"]))
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(chemin, entrees, ecarts)
        else:
            _classify(chemin, st, entrees, ecarts)
    return ordered(entrees), ecarts


_RAISONS = {
    "introuvable": "introuvable ou inaccessible",
    "lien": "lien symbolique : les liens ne sont pas suivis (déposez le fichier lui-même)",
    "special": "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)",
    "dossier": "dossier illisible (droits d'accès)",
    "verrou_excel": "fichier temporaire d'Excel (~$…), créé pendant qu'un classeur est ouvert",
}


def _walk(folder: Path, entrees: list[Entree], ecarts: list[Ecart]) -> None:
    try:
        with os.scandir(folder) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError:
        ecarts.append(Ecart(folder, _RAISONS["dossier"]))
        return
    for child in children:
        path = Path(child.path)
        try:
            if child.is_symlink():
                ecarts.append(Ecart(path, _RAISONS["lien"]))
            elif child.is_dir(follow_symlinks=False):
                _walk(path, entrees, ecarts)
            else:
                _classify(path, child.stat(follow_symlinks=False), entrees, ecarts)
        except OSError:
            ecarts.append(Ecart(path, _RAISONS["introuvable"]))


def _classify(path: Path, st: os.stat_result, entrees: list[Entree],
              ecarts: list[Ecart]) -> None:
    if not stat.S_ISREG(st.st_mode):
        ecarts.append(Ecart(path, _RAISONS["special"]))
    elif path.name.startswith("~$"):
        ecarts.append(Ecart(path, _RAISONS["verrou_excel"]))
    else:
        entrees.append(Entree(path, st.st_mtime, st.st_size))


def ordered(entrees: list[Entree]) -> list[Entree]:
    """By reception: modification time, then name (a mail client's « … (1).xlsx », the
    second copy, is saved after the first even though its name sorts before)."""
    return sorted(entrees, key=lambda e: (e.mtime, e.path.name, str(e.path)))


def open_regular(path: Path, follow: bool = False):
    """A binary file object on ``path``, refused unless it is a regular file."""
    flags = os.O_RDONLY | _NONBLOCK | _BINARY | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FichierIllisible(_RAISONS["lien"] if os.path.islink(path) and not follow
                               else _RAISONS["introuvable"]) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FichierIllisible(_RAISONS["special"])
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
