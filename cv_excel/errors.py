"""Faults of the working folder: one French message, exit code 2, never a traceback.

A fault the Direction (or IT) can fix in its working folder — configuration missing
or invalid, store, register or journal unreadable, a folder where nothing can be
written — is a :class:`DefautDossier`, raised where it is met with a complete French
message (which file, what to do). Each shell catches it in one place: the command
line (``Erreur : …``, exit 2), the scheduled batch (:func:`~cv_excel.batch.traiter.
code_sortie`) and the Excel console (the message in the status area).

An ``OSError`` met while writing (read-only folder, disk full, a file where a folder
is expected) is turned into such a fault by :func:`defaut_de`, naming the folder.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


class DefautDossier(Exception):
    """A fault of the working folder the user can fix; the message is French and complete."""


class FichierInterneIllisible(DefautDossier):
    """A JSON file kept by cv_excel (register, journal) cannot be read."""


class EcritureImpossible(DefautDossier):
    """Nothing can be written in one of the folders (read-only, full, not a folder)."""


_DENIED = {errno.EACCES, errno.EPERM}
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


def defaut_de(exc: BaseException) -> DefautDossier | None:
    """The working-folder fault ``exc`` stands for, or None when it is none (a bug)."""
    if isinstance(exc, DefautDossier):
        return exc
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    path = Path(exc.filename) if exc.filename else None
    where = f"le dossier {path.parent}" if path is not None else "le dossier de travail"
    if exc.errno in _DENIED:
        return EcritureImpossible(
            f"Accès refusé à {path or 'un fichier du dossier de travail'} : {where} est "
            "protégé en écriture (droits, support en lecture seule), ou le fichier est "
            "ouvert dans un autre programme (Excel). Fermez-le ou faites rétablir les droits "
            "d'écriture, puis relancez.")
    if exc.errno == errno.EROFS:
        return EcritureImpossible(
            f"{where[0].upper()}{where[1:]} est sur un support en lecture seule : cv_excel ne "
            "peut pas y écrire. Choisissez un dossier de travail modifiable, puis relancez.")
    if exc.errno in _FULL:
        return EcritureImpossible(
            f"Disque plein : impossible d'écrire dans {where}. Libérez de la place (ou "
            "demandez plus d'espace), puis relancez ; les fichiers déjà écrits sont intacts.")
    if exc.errno in _NOT_A_FOLDER and path is not None:
        culprit = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()),
                       None)
        if culprit is None:  # e.g. a folder created meanwhile: not a fault of the folder
            return None
        return EcritureImpossible(
            f"{culprit} n'est pas un dossier : un fichier porte ce nom là où cv_excel "
            "attend un dossier. Renommez ou déplacez ce fichier, puis relancez.")
    if exc.errno == errno.EISDIR and path is not None:
        return EcritureImpossible(
            f"{path} est un dossier : cv_excel doit écrire un fichier à cet endroit. "
            "Renommez ou déplacez ce dossier, puis relancez.")
    return None


def read_json(path: Path, default: Any, what: str, recovery: str) -> Any:
    """The JSON content of ``path`` (``default`` when there is no such file).

    A file that cannot be read or is not valid JSON raises :class:`FichierInterneIllisible`
    saying which file (``what``, e.g. « Le journal des réceptions ») and how to recover
    it (``recovery``). The file is never touched.
    """
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return default
    except UnicodeDecodeError as exc:
        raise FichierInterneIllisible(f"{what} {path} est illisible (ce n'est pas du texte "
                               f"UTF-8). {recovery}") from exc
    except OSError as exc:
        raise FichierInterneIllisible(f"{what} {path} ne peut pas être lu ({exc.strerror}). "
                               f"{recovery}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        where = (f"ligne {exc.lineno}, colonne {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else str(exc))
        raise FichierInterneIllisible(f"{what} {path} est illisible (JSON non valide, {where} ; "
                               f"fichier tronqué ou modifié à la main ?). {recovery}") from exc


def backup_path(path: Path) -> Path:
    """The previous good copy of ``path``: ``<name>.bak`` beside it."""
    return path.with_name(path.name + ".bak")


def keep_previous_copy(path: Path) -> None:
    """Copy ``path`` (if any) to :func:`backup_path` before it is replaced: copied by the
    system a piece at a time (the national register is 83 MB), written atomically."""
    import shutil

    from cv_excel.atomic import atomic_target

    try:
        with atomic_target(backup_path(path)) as tmp:
            shutil.copyfile(path, tmp)
    except FileNotFoundError:  # no file yet: nothing to keep
        return


def restore_hint(path: Path, otherwise: str, previous: str = "précédente", note: str = "") -> str:
    """How to recover ``path``: its previous copy when there is a valid one (``note``
    says what that copy lacks), else ``otherwise``."""
    bak = backup_path(path)
    try:
        json.loads(bak.read_text("utf-8"))
    except (OSError, ValueError):
        return otherwise
    return (f"Sa version {previous} est conservée dans {bak} : renommez {path.name} (par "
            f"exemple en {path.name}.abime), puis renommez {bak.name} en {path.name} et "
            f"relancez{note}.")


def _registre_recovery(path: Path) -> str:
    return restore_hint(
        path,
        "Restaurez-le depuis une sauvegarde du dossier de travail : il relie chaque classeur "
        "envoyé à son destinataire, et sans lui les retours sont signalés « ne figure pas au "
        "registre des classeurs envoyés ».",
        previous="précédente (avant sa dernière mise à jour)",
        note=(" ; le ou les derniers classeurs générés peuvent y manquer : si vous avez une "
              f"sauvegarde plus récente du dossier de travail, restaurez-en plutôt {path.name}"))


def read_registre(path: Path) -> list[dict[str, Any]]:
    """One year's register of generated workbooks (``classeurs/<année>/registre.json``)."""
    return list(iter_registre(path))


def iter_registre(path: Path) -> Iterator[dict[str, Any]]:
    """:func:`read_registre` one entry at a time, the file read by pieces: at the national
    volume the register is tens of megabytes, hundreds as Python objects, which a reader
    need not hold at once. A damaged register raises :class:`FichierInterneIllisible`."""
    taken_back = _taken_back(path)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        fh = None
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if fh is not None:
        with fh:
            for entry in _entries(path, fh):
                if entry["classeur_id"] not in taken_back:
                    yield entry
    yield from _pending(path, taken_back)


def _unreadable(path: Path, exc: OSError) -> FichierInterneIllisible:
    return FichierInterneIllisible(
        f"Le registre des classeurs {path} ne peut pas être lu ({exc.strerror}). "
        f"{_registre_recovery(path)}")


def _is_entry(item: Any) -> bool:
    return isinstance(item, dict) and "classeur_id" in item and "fichier" in item


_CHUNK = 1 << 20  # bytes read at a time


def _entries(path: Path, fh: BinaryIO) -> Iterator[dict[str, Any]]:
    """The entries of the register's list, each read from its own bytes, a megabyte of
    the file at a time, when the file is laid out as cv_excel writes it (never the whole
    file: tens of megabytes, twice that as a str holding a letter beyond Latin-1); any
    other layout, or damage, is read whole by the general parser, which says what is
    wrong."""
    given = 0
    try:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(len(_OWN_START))
        fh.seek(max(0, size - len(_OWN_END)))
        tail = fh.read()
        if head == _OWN_START and tail == _OWN_END:  # (the two cannot overlap)
            for entry in _own_entries(fh, size - len(_OWN_END) + len(b"\n }")):
                yield entry
                given += 1
            return
    except _NotOwn:
        pass
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        fh.seek(0)
        data = fh.read()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FichierInterneIllisible(
            f"Le registre des classeurs {path} est illisible (ce n'est pas du texte UTF-8). "
            f"{_registre_recovery(path)}") from exc
    yield from itertools.islice(_parsed(path, text), given, None)


class _NotOwn(Exception):
    """The register is not laid out as cv_excel writes it (or is damaged) from here on."""


def _own_entries(fh: BinaryIO, end: int) -> Iterator[dict[str, Any]]:
    """Entries between offset 2 (after « [\\n ») and ``end`` (before « ,\\n]\\n »),
    separated by :data:`_OWN_SEP`; :class:`_NotOwn` when one is not a register entry."""
    fh.seek(2)
    remaining = end - 2
    buf, pos = b"", 0
    while True:
        cut = buf.find(_OWN_SEP, pos)
        if cut < 0 and remaining > 0:  # the entry goes on beyond what is read
            chunk = fh.read(min(_CHUNK, remaining))
            if not chunk:  # shorter than it was: changed while read
                raise _NotOwn
            remaining -= len(chunk)
            buf, pos = buf[pos:] + chunk, 0
            continue
        stop = len(buf) if cut < 0 else cut + len(b"\n }")
        try:
            entry = json.loads(buf[pos:stop])
        except ValueError:
            raise _NotOwn from None
        if not _is_entry(entry):
            raise _NotOwn
        yield entry
        if cut < 0:
            return
        pos = stop + len(b",\n")


# The layout of json.dump(entries, indent=1): each entry at one space, its members deeper.
_OWN_START, _OWN_SEP, _OWN_END = b"[\n {", b"\n },\n {", b"\n }\n]\n"
_SPACES = re.compile(r"[ \t\n\r]*")


def _parsed(path: Path, text: str) -> Iterator[dict[str, Any]]:
    """The entries of the register's list as they are parsed, each one checked (a damaged
    entry raises where it is met: the readers build nothing lasting before the end)."""
    decoder = json.JSONDecoder()
    try:
        i = _SPACES.match(text, 0).end()
        if text[i:i + 1] != "[":
            json.loads(text)  # not JSON at all: its own error, with line and column
            raise _NotAList
        i = _SPACES.match(text, i + 1).end()
        if text[i:i + 1] == "]":
            i += 1
        else:
            while True:
                entry, end = decoder.raw_decode(text, i)
                if not _is_entry(entry):
                    raise _NotAList
                yield entry
                i = _SPACES.match(text, end).end()
                if text[i:i + 1] == "]":
                    i += 1
                    break
                if text[i:i + 1] != ",":
                    raise json.JSONDecodeError("',' ou ']' attendu", text, i)
                i = _SPACES.match(text, i + 1).end()
        if _SPACES.match(text, i).end() != len(text):
            raise json.JSONDecodeError("contenu après la liste", text, i)
    except _NotAList:
        raise FichierInterneIllisible(
            f"Le registre des classeurs {path} n'a pas le contenu attendu (liste des "
            f"classeurs générés). {_registre_recovery(path)}") from None
    except ValueError as exc:
        where = (f"ligne {exc.lineno}, colonne {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else str(exc))
        raise FichierInterneIllisible(
            f"Le registre des classeurs {path} est illisible (JSON non valide, {where} ; "
            f"fichier tronqué ou modifié à la main ?). {_registre_recovery(path)}") from exc


class _NotAList(Exception):
    pass


def _pending_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The lines of the register's pending file, numbered, read as they go (none when
    there is no such file)."""
    try:
        fh = pending_path(path).open("rb")
    except OSError:
        return
    with fh:
        yield from enumerate(fh)


def _pending_item(line: bytes) -> dict[str, Any] | None:
    """A pending line's workbook or take-back (None: a torn or foreign line, skipped)."""
    try:
        item = json.loads(line)
    except ValueError:
        return None
    if isinstance(item, dict) and ("retire" in item or ("classeur_id" in item
                                                        and "fichier" in item)):
        return item
    return None


def _taken_back(path: Path) -> dict[str, int]:
    """The ids the pending lines took back, with the number of the last line doing so:
    an entry of the register with such an id is gone, a pending one before that line
    too."""
    last: dict[str, int] = {}
    for number, line in _pending_lines(path):
        if b'"retire"' in line and (item := _pending_item(line)) and "retire" in item:
            last[item["retire"]] = number
    return last


def _pending(path: Path, taken_back: dict[str, int]) -> Iterator[dict[str, Any]]:
    """The workbooks a generation stopped midway left (appended one line each, merged
    into the register at the end of the run), but those taken back afterwards."""
    for number, line in _pending_lines(path):
        item = _pending_item(line)
        if item is not None and "retire" not in item \
                and taken_back.get(item["classeur_id"], -1) < number:
            yield item


def pending_path(path: Path) -> Path:
    """Where a generation appends each workbook before writing it (one JSON line each),
    merged into the register at the end of the run: a run stopped midway leaves its
    workbooks registered, at the cost of one line per workbook, not one register each."""
    return path.with_name(path.name + ".en-cours")


def registre_before_append(path: Path) -> list[dict[str, Any]]:
    """The register about to be extended by a generation; its current (good) version
    is kept as ``registre.json.bak`` first, the copy a damaged register is restored from."""
    entries = read_registre(path)
    if entries:
        keep_previous_copy(path)
    return entries
