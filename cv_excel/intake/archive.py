"""Every received file is kept, by content: ``archives/ab/abcdef….xlsx``.

The archive is filled *before* any check runs, the original is never touched,
and the journal (``archives/journal.json``) records each reception: original
name, path, time, size, the file's metadata when it was read, status. The same
content received twice is recognised.

The journal is history: a run keeps in memory the receptions of earlier runs
(looked up by content through an index), while its own receptions go to a
temporary file until :meth:`Archive.save` writes the journal, entry by entry.

Beside the journal, ``archives/empreintes.json`` is a cache (:class:`Empreintes`):
for each file of the inbox already read, its metadata (size, modification time,
inode, change time) and its content's SHA-256, with the journal's outcome of that
content as of a given version of the journal. ``cv-excel traiter`` uses it to
recognise what it has already processed without reading it. It is never the
only record of anything: lost, damaged or out of date, it is rebuilt from the
journal and by reading the files, as before it existed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cv_excel.atomic import TMP_PREFIX, atomic_target, write_bytes_atomic
from cv_excel.errors import (
    FichierInterneIllisible,
    keep_previous_copy,
    read_json,
    restore_hint,
)
from cv_excel.filestamp import Signature, signature_text  # noqa: F401  (re-exported)

JOURNAL = "journal.json"
EMPREINTES = "empreintes.json"
EN_COURS = "en cours"
DOUBLON = "doublon"
REJETE = "rejeté"
_UNFINISHED = (EN_COURS, DOUBLON)  # not an outcome of the content


@dataclass
class Reception:
    sha256: str
    nom: str
    source: str
    recu_le: str
    taille: int
    archive: str  # relative to the archive folder
    statut: str = EN_COURS
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
    # The file as it was read (unchanged while it was read): modification time, inode and
    # change time (0: unknown); None when not read from the inbox or changed meanwhile.
    mtime_ns: int | None = None
    inode: int | None = None
    ctime_ns: int | None = None

    def noter_signature(self, sig: Signature | None) -> None:
        if sig is not None:
            self.mtime_ns, self.inode, self.ctime_ns = sig[1], sig[2], sig[3]

    @property
    def signature(self) -> Signature | None:
        if self.mtime_ns is None:
            return None
        return (self.taille, self.mtime_ns, self.inode or 0, self.ctime_ns or 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, folder: Path):
        self.folder = folder
        path = folder / JOURNAL
        try:
            data = read_json(path, [], "Le journal des réceptions", "")
        except FichierInterneIllisible as exc:  # the recovery hint, only when needed
            raise FichierInterneIllisible(f"{str(exc).rstrip()} {self._recovery()}") from exc
        try:
            self.receptions: list[Reception] = [Reception(**r) for r in data]
        except TypeError as exc:  # not a list of receptions
            raise FichierInterneIllisible(
                f"Le journal des réceptions {path} n'a pas le contenu attendu (liste des "
                f"réceptions). {self._recovery()}") from exc
        self._index: dict[str, tuple[Reception, Reception]] | None = None
        self._spool: Any = None  # this run's receptions, one JSON line each

    def _recovery(self) -> str:
        # A damaged journal is refused, never replaced: it is the memory of receptions.
        path = self.folder / JOURNAL
        return restore_hint(path, (
            f"Renommez-le (par exemple en {JOURNAL}.abime), puis relancez : les fichiers "
            f"reçus restent conservés dans {self.folder}, ceux encore présents dans le dossier "
            "des retours sont contrôlés à nouveau et le magasin de données n'enregistre pas "
            "deux fois un même fichier."), note=(
            " : les fichiers reçus depuis cette copie sont simplement contrôlés à nouveau "
            "(le magasin de données n'enregistre pas deux fois un même fichier)"))

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
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=TMP_PREFIX, suffix=suffix)
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

    def _by_content(self) -> dict[str, tuple[Reception, Reception]]:
        """First and last completed reception of each content of the journal, built once."""
        if self._index is None:
            self._index = {}
            for r in self.receptions:
                if r.statut not in _UNFINISHED:
                    known = self._index.get(r.sha256)
                    self._index[r.sha256] = (known[0] if known else r, r)
        return self._index

    def previous(self, digest: str) -> Reception | None:
        """The first completed reception of the same content in the journal, if any."""
        known = self._by_content().get(digest)
        return known[0] if known else None

    def latest(self, digest: str) -> Reception | None:
        """The last completed reception of the same content (a re-examination's outcome)."""
        known = self._by_content().get(digest)
        return known[1] if known else None

    def to_reexamine(self, reglages: str, force: bool = False,
                     direction_codes: frozenset[str] = frozenset()) -> list[Reception]:
        """Files whose last outcome is a rejection for a reason that lay with the Direction
        (every blocking code in ``direction_codes``), checked under other settings than
        ``reglages`` — or all such files when ``force`` (``--revalider``). A file whose
        codes were not journalled (older journals) is taken only when ``force``."""
        result = [last for _, last in self._by_content().values()
                  if _reexaminer(last.statut, last.codes, last.reglages, reglages, force,
                                 direction_codes)]
        return sorted(result, key=lambda r: r.recu_le)

    def record(self, reception: Reception) -> None:
        """Remember a reception of this run (on disk until :meth:`save`; a crash before it
        only means the files are checked again next run)."""
        if self._spool is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._spool = tempfile.TemporaryFile(  # noqa: SIM115 - open until save
                "w+", encoding="utf-8", dir=self.folder, prefix=TMP_PREFIX + "journal-")
        self._spool.seek(0, os.SEEK_END)
        self._spool.write(json.dumps(asdict(reception), ensure_ascii=False) + "\n")

    def _new(self) -> Iterator[dict[str, Any]]:
        """This run's receptions, as recorded."""
        if self._spool is not None:
            self._spool.seek(0)
            for line in self._spool:
                yield json.loads(line)
            self._spool.seek(0, os.SEEK_END)

    def save(self) -> None:
        """Write the journal, entry by entry (its previous version is kept as
        ``journal.json.bak``), then bring the cache's outcomes up to date."""
        path = self.folder / JOURNAL
        keep_previous_copy(path)
        self._index = None  # statuses may have been changed (see cv-excel traiter)
        cache = Empreintes.load(self.folder)
        outcomes = _Outcomes(cache.contents())
        with atomic_target(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as out:
            out.write("[")
            sep = "\n"
            for entry in (asdict(r) for r in self.receptions):
                out.write(sep + _indented(json.dumps(entry, ensure_ascii=False, indent=1)))
                sep = ",\n"
                outcomes.add(entry)
            for entry in self._new():
                out.write(sep + _indented(json.dumps(entry, ensure_ascii=False, indent=1)))
                sep = ",\n"
                outcomes.add(entry)
            out.write("]\n" if sep == "\n" else "\n]\n")
        cache.save(outcomes)

    def by_source(self, key: Callable[[str], str]) -> dict[str, Reception]:
        """The last reception read from each path (``key``: the cache's key of a path),
        with the file's signature: for the files the cache does not know."""
        found: dict[str, Reception] = {}
        for r in self.receptions:
            if r.mtime_ns is not None:  # whether its content was processed: see latest()
                found[key(r.source)] = r
        return found


def _indented(text: str) -> str:
    """An entry of the journal's list, indented as ``json.dumps(…, indent=1)`` does."""
    return " " + text.replace("\n", "\n ")


def _reexaminer(statut: str, codes: list[str] | None, reglages_then: str, reglages: str,
                force: bool, direction_codes: frozenset[str]) -> bool:
    if statut != REJETE:
        return False
    if codes is None:
        return force
    return bool(codes) and set(codes) <= direction_codes and (force or reglages_then != reglages)


class _Outcomes:
    """The last outcome of the contents ``wanted`` (every content when None) and the
    contents whose last outcome is a rejection, gathered from the journal's entries."""

    def __init__(self, wanted: set[str] | None = None) -> None:
        self.wanted = wanted
        self.statut: dict[str, str] = {}
        self.rejets: dict[str, tuple[str, list[str] | None]] = {}  # sha -> reglages, codes

    def add(self, entry: dict[str, Any]) -> None:
        statut = entry.get("statut", EN_COURS)
        if statut in _UNFINISHED:
            return
        digest = entry["sha256"]
        if self.wanted is None or digest in self.wanted:
            self.statut[digest] = statut
        if statut == REJETE:
            self.rejets[digest] = (entry.get("reglages", ""), entry.get("codes"))
        else:
            self.rejets.pop(digest, None)

    @classmethod
    def of(cls, archive: Archive, wanted: set[str] | None = None) -> _Outcomes:
        outcomes = cls(wanted)
        for r in archive.receptions:
            outcomes.add({"sha256": r.sha256, "statut": r.statut, "reglages": r.reglages,
                          "codes": r.codes})
        return outcomes


def _journal_stamp(folder: Path) -> list[int] | None:
    """What identifies one written version of the journal (it is replaced, never edited)."""
    try:
        st = (folder / JOURNAL).stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@dataclass
class Empreintes:
    """The cache of the files already read: path (relative to the working folder when
    under it) → signature and content; the journal's outcome of each of those contents
    (``etats``: last completed status, "" when none) and the rejections that may be
    examined again, both valid for the version of the journal ``journal``."""

    folder: Path
    # key -> [signature as text (see signature_text), SHA-256]
    fichiers: dict[str, list[str]] = field(default_factory=dict)
    etats: dict[str, str] = field(default_factory=dict)
    rejets: dict[str, list[Any]] = field(default_factory=dict)  # sha -> [reglages, codes]
    journal: list[int] | None = None
    modifie: bool = False

    VERSION = 2

    def __post_init__(self) -> None:
        self._root = os.fspath(self.folder.parent) + os.sep

    @classmethod
    def load(cls, folder: Path) -> Empreintes:
        """The cache; empty when absent, damaged or of another version (it is rebuilt)."""
        cache = cls(folder)
        try:
            data = json.loads((folder / EMPREINTES).read_text("utf-8"))
            if data.get("version") != cls.VERSION:
                return cache
            cache.fichiers = dict(data["fichiers"])
            cache.etats = dict(data["etats"])
            cache.rejets = dict(data["rejets"])
            cache.journal = data["journal"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls(folder)
        return cache

    def key(self, chemin: str | os.PathLike[str]) -> str:
        """A file's key: its path under the working folder (the archive folder's parent),
        so that the working folder can be moved; its full path otherwise."""
        chemin = os.fspath(chemin)
        if chemin.startswith(self._root):
            return chemin[len(self._root):]
        return os.path.abspath(chemin)

    def current(self) -> bool:
        """Whether ``etats`` and ``rejets`` describe the journal as it is on disk."""
        return self.journal is not None and self.journal == _journal_stamp(self.folder)

    def content(self, key: str, sig: Signature) -> str | None:
        """The SHA-256 of the file ``key`` if it was read with this very signature (the
        same system gives the same fields: an exact comparison; any difference, and the
        file is looked at again)."""
        known = self.fichiers.get(key)
        if known is None or known[0] != signature_text(sig):
            return None
        return known[1]

    def note(self, key: str, sig: Signature, digest: str) -> None:
        entry = [signature_text(sig), digest]
        if self.fichiers.get(key) != entry:
            self.fichiers[key] = entry
            self.modifie = True

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forget the files no longer there (``keys``: every file found)."""
        keys = keys if isinstance(keys, list | tuple) else list(keys)
        if len(keys) == len(self.fichiers) and all(map(self.fichiers.__contains__, keys)):
            return  # the usual case: every file known is still there, and no other
        keep = set(keys)
        gone = [k for k in self.fichiers if k not in keep]
        for k in gone:
            del self.fichiers[k]
        self.modifie = self.modifie or bool(gone)

    def to_reexamine(self, reglages: str, direction_codes: frozenset[str]) -> list[str]:
        """Like :meth:`Archive.to_reexamine` (without ``force``), from the cache."""
        return [digest for digest, (then, codes) in self.rejets.items()
                if _reexaminer(REJETE, codes, then, reglages, False, direction_codes)]

    def contents(self) -> set[str]:
        return {entry[1] for entry in self.fichiers.values()}

    def save(self, outcomes: _Outcomes | None = None) -> None:
        """Write the cache; with ``outcomes`` (the journal just read or written), its
        ``etats`` and ``rejets`` are refreshed and dated with the journal's version."""
        if outcomes is not None:
            self.etats = {d: outcomes.statut.get(d, "") for d in self.contents()}
            self.rejets = {d: list(v) for d, v in outcomes.rejets.items()}
            self.journal = _journal_stamp(self.folder)
        elif not self.modifie:
            return
        payload = {"version": self.VERSION, "journal": self.journal, "etats": self.etats,
                   "rejets": self.rejets, "fichiers": self.fichiers}
        try:
            with atomic_target(self.folder / EMPREINTES) as tmp, \
                    tmp.open("w", encoding="utf-8") as out:
                json.dump(payload, out, ensure_ascii=False, separators=(",", ":"))
        except OSError:  # a cache: the next run reads the files again, as before it existed
            return
        self.modifie = False

    def refresh(self, archive: Archive) -> None:
        """Write the cache with the outcomes of ``archive``'s journal (as saved on disk)."""
        self.save(_Outcomes.of(archive, self.contents()))
