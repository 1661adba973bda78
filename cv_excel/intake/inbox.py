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

from cv_excel.filestamp import (  # noqa: F401  (re-exported: the inbox's words)
    _POSIX,
    Signature,
    same_signature,
    signature,
)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
S_ISREG = stat.S_ISREG



class Entree:
    """A regular file to process: its path (a string: a scan of thousands of files
    already known costs a stat each, nothing more) and its signature."""

    __slots__ = ("chemin", "signature")

    def __init__(self, chemin: str, sig: Signature):
        self.chemin = chemin
        self.signature = sig

    @property
    def path(self) -> Path:
        return Path(self.chemin)

    @property
    def nom(self) -> str:
        return os.path.basename(self.chemin)

    @property
    def size(self) -> int:
        return self.signature[0]

    @property
    def mtime(self) -> float:
        return self.signature[1] / 1e9

    def __repr__(self) -> str:
        return f"Entree({self.chemin!r})"


@dataclass(frozen=True)
class Ecart:
    """An entry that is not processed, and why (French, shown in the report)."""

    path: Path
    raison: str


class FichierIllisible(Exception):
    """The entry cannot be opened as a regular file; the message is French."""


def scan(chemins: list[Path], ordonner: bool = True) -> tuple[list[Entree], list[Ecart]]:
    """Files named, and files found (recursively) in folders named, oldest first
    (in no particular order without ``ordonner``: cheaper).

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
            _walk(str(chemin), entrees, ecarts, ordonner)
        else:
            _classify(str(chemin), chemin.name, st, entrees, ecarts)
    return (ordered(entrees) if ordonner else entrees), ecarts


_RAISONS = {
    "introuvable": "introuvable ou inaccessible",
    "lien": "lien symbolique : les liens ne sont pas suivis (déposez le fichier lui-même)",
    "special": "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)",
    "dossier": "dossier illisible (droits d'accès)",
    "verrou_excel": "fichier temporaire d'Excel (~$…), créé pendant qu'un classeur est ouvert",
}


def _walk(folder: str, entrees: list[Entree], ecarts: list[Ecart], ordonner: bool) -> None:
    try:
        with os.scandir(folder) as it:
            children = sorted(it, key=lambda e: e.name) if ordonner else list(it)
    except OSError:
        ecarts.append(Ecart(Path(folder), _RAISONS["dossier"]))
        return
    add = entrees.append
    for child in children:
        try:
            if child.is_symlink():
                ecarts.append(Ecart(Path(child.path), _RAISONS["lien"]))
            elif child.is_dir(follow_symlinks=False):
                _walk(child.path, entrees, ecarts, ordonner)
            else:
                st = child.stat(follow_symlinks=False)
                if S_ISREG(st.st_mode) and not child.name.startswith("~$"):  # the common case
                    add(Entree(child.path, (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
                               if _POSIX else signature(st)))
                else:
                    _classify(child.path, child.name, st, entrees, ecarts)
        except OSError:
            ecarts.append(Ecart(Path(child.path), _RAISONS["introuvable"]))


def _classify(chemin: str, nom: str, st: os.stat_result, entrees: list[Entree],
              ecarts: list[Ecart]) -> None:
    if not stat.S_ISREG(st.st_mode):
        ecarts.append(Ecart(Path(chemin), _RAISONS["special"]))
    elif nom.startswith("~$"):
        ecarts.append(Ecart(Path(chemin), _RAISONS["verrou_excel"]))
    else:
        entrees.append(Entree(chemin, signature(st)))


def ordered(entrees: list[Entree]) -> list[Entree]:
    """By reception: modification time, then name (a mail client's « … (1).xlsx », the
    second copy, is saved after the first even though its name sorts before)."""
    return sorted(entrees, key=lambda e: (e.signature[1], e.nom, e.chemin))


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
