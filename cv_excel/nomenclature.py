"""The State's nomenclature of BOP 147 credits (politique de la ville), as data.

Thèmes are coded on two digits, sous-thèmes on three, modalités on four; a code's
prefix is its parent (« 1111 » belongs to « 111 », which belongs to « 11 »). The data,
its source and what is still « à confirmer » are in ``data/nomenclature_p147.json`` and
``docs/nomenclature_p147.md``.

Only part of the official manual could be read when the data was written, so the
Direction completes it without code: an optional ``nomenclature_p147.csv`` in the working
folder (columns ``code;libelle;source``, see :func:`lire_complement`) is merged over the
embedded data — a code of the file wins and is marked as coming from the Direction's
file. Its faulty lines are French findings and are left out; the rest is used.

Which nomenclature is « in force »: :func:`nomenclature_p147` gives the embedded data,
or the working folder's merged one inside :func:`en_vigueur`. The programmation's
checker and model writer put the folder holding the programmation in force
(:func:`nomenclature_pour`); the consolidation puts its working folder's in force for
the Dauphin export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from cv_excel.findings import Finding, Severity, make_finding
from cv_excel.text import decode_text_file, header_key

NIVEAUX = {2: "thème", 3: "sous-thème", 4: "modalité"}
NOMENCLATURE_FILE = "nomenclature_p147.csv"
COLONNES: tuple[str, ...] = ("code", "libelle", "source")
_REQUISES = ("code", "libelle")
_CODE = re.compile(r"^\d{2,4}$")
_CONFIG_FILE = "cv_excel.toml"  # cv_excel.config.CONFIG_FILE (not imported: no cycle)


@dataclass(frozen=True)
class CodeP147:
    code: str
    libelle: str
    a_confirmer: bool = False
    # Set for a code read from the Direction's file: that file's name and the line's
    # « source » (where the Direction read it), None for the embedded data.
    fichier_direction: str | None = None
    source: str | None = None

    @property
    def niveau(self) -> int:
        return len(self.code)

    @property
    def de_la_direction(self) -> bool:
        return self.fichier_direction is not None

    @property
    def affichage(self) -> str:
        """What the drop-down shows: « 1111 Ingénierie et fonctionnement (…) »."""
        suffix = " (à confirmer)" if self.a_confirmer else ""
        return f"{self.code} {self.libelle}{suffix}"

    @property
    def provenance(self) -> str:
        """Where the label comes from, in French, for the reports."""
        if not self.de_la_direction:
            return "nomenclature intégrée (manuel CGET, août 2016)"
        source = f", source : {self.source}" if self.source else ""
        return f"fichier de la Direction « {self.fichier_direction} »{source}"


@dataclass(frozen=True)
class NomenclatureP147:
    titre: str
    editeur: str
    version: str
    source: str
    codes: dict[str, CodeP147]  # every code, thèmes, sous-thèmes and modalités
    fichier_direction: str | None = None  # the Direction's CSV merged over the data, if any

    def niveau(self, longueur: int) -> list[CodeP147]:
        """The codes of one level (2, 3 or 4 digits), in code order."""
        return [c for code, c in sorted(self.codes.items()) if len(code) == longueur]

    def parent(self, code: str) -> str | None:
        return code[:-1] if len(code) > 2 else None

    def libelle(self, code: str | None) -> str | None:
        return self.codes[code].libelle if code in self.codes else None


@cache
def nomenclature_integree() -> NomenclatureP147:
    """The embedded data (``data/nomenclature_p147.json``), never completed."""
    raw = json.loads(resources.files("cv_excel").joinpath("data/nomenclature_p147.json")
                     .read_text("utf-8"))
    codes: dict[str, CodeP147] = {}

    def add(node: dict) -> None:
        codes[node["code"]] = CodeP147(node["code"], node["libelle"],
                                       bool(node.get("a_confirmer", False)))

    for theme in raw["themes"]:
        add(theme)
        for sous_theme in theme.get("sous_themes", []):
            add(sous_theme)
            for modalite in sous_theme.get("modalites", []):
                add(modalite)
    return NomenclatureP147(titre=raw["titre"], editeur=raw["editeur"],
                            version=raw["version"], source=raw["source"], codes=codes)


# --- the Direction's file ----------------------------------------------------------------------
@dataclass
class NomenclatureDossier:
    """The nomenclature of a working folder: the embedded data, completed by the
    Direction's file when there is one, and what was wrong in that file."""

    nomenclature: NomenclatureP147
    chemin: Path | None = None  # the Direction's file looked for (None: no working folder)
    present: bool = False
    findings: list[Finding] = field(default_factory=list)
    empreinte: str = "absent"  # sha256 of the file's bytes: a change means new outputs

    def avertissements(self) -> list[str]:
        """The warnings, as French lines for a summary."""
        return [f.message for f in self.findings if f.severity is Severity.AVERTISSEMENT]


def lire_complement(path: Path, base: NomenclatureP147 | None = None) -> NomenclatureDossier:
    """``base`` (the embedded data by default) completed by the CSV ``path``; never raises.

    The file: a header line then one line per code, separated by « ; » (UTF-8, with or
    without BOM; Windows-1252 accepted); columns ``code``, ``libelle`` (« libellé »
    accepted) and ``source`` (optional: where the Direction read the label). A code of
    the file replaces the embedded one (its « à confirmer » is lifted). A line is left
    out, with a French finding naming it, when its code or label is missing, its code is
    not 2, 3 or 4 digits, it repeats a code of an earlier line, or the code's parent
    (the code without its last digit) is neither in the data nor in the file. A missing
    file gives the base and no finding.
    """
    base = base or nomenclature_integree()
    path = Path(path)
    result = NomenclatureDossier(base, chemin=path)
    name, colonnes = path.name, " ; ".join(COLONNES)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return result
    except OSError as exc:
        result.findings.append(make_finding("REF_P147_ILLISIBLE", file=name,
                                            detail=exc.strerror or str(exc),
                                            colonnes=colonnes))
        return result
    result.present = True
    result.empreinte = hashlib.sha256(raw).hexdigest()
    try:
        text = decode_text_file(raw)
        first = text.split("\n", 1)[0]
        delimiter = next((d for d in (";", "\t", ",") if d in first), ";")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except UnicodeDecodeError:
        detail = "encodage de caractères inconnu"
    except (ValueError, csv.Error) as exc:
        detail = str(exc)
    else:
        detail = None
    if detail is not None:
        result.findings.append(make_finding("REF_P147_ILLISIBLE", file=name,
                                            detail=detail, colonnes=colonnes))
        return result
    if not rows or not any(c.strip() for c in rows[0]):
        return result  # empty file: nothing added
    head = {header_key(c): i for i, c in reversed(list(enumerate(rows[0])))}
    missing = [c for c in _REQUISES if c not in head]
    for col in missing:
        result.findings.append(make_finding("REF_P147_COLONNE_ABSENTE", file=name,
                                            column=col, row=1, colonnes=colonnes))
    if missing:
        return result
    lus: dict[str, tuple[int, str, str]] = {}  # code -> (line, label, source)
    for line, row in enumerate(rows[1:], start=2):
        cells = {col: (row[head[col]].strip() if head[col] < len(row) else "")
                 for col in COLONNES if col in head}
        if not any(cells.values()):
            continue
        finding = _check_line(cells, line, name, lus)
        if finding is not None:
            result.findings.append(finding)
            continue
        lus[cells["code"]] = (line, cells["libelle"], cells.get("source", ""))
    # A code whose parent is missing is left out; its own children then lose their parent.
    connus = set(base.codes)
    kept: dict[str, tuple[int, str, str]] = {}
    for code in sorted(lus, key=len):
        parent = code[:-1] if len(code) > 2 else None
        if parent is None or parent in connus:
            kept[code] = lus[code]
            connus.add(code)
            continue
        line = lus[code][0]
        result.findings.append(make_finding(
            "REF_P147_PARENT_ABSENT", file=name, row=line, column="code", value=code,
            ligne=line, parent=parent, niveau_parent=NIVEAUX[len(parent)]))
    result.findings.sort(key=lambda f: f.row or 0)
    if not kept:
        return result
    codes = dict(base.codes)
    for code, (_, libelle, source) in kept.items():
        codes[code] = CodeP147(code, libelle, False, fichier_direction=name,
                               source=source or None)
    result.nomenclature = replace(base, codes=codes, fichier_direction=name)
    return result


def _check_line(cells: dict[str, str], line: int, name: str,
                lus: dict[str, tuple[int, str, str]]) -> Finding | None:
    """The first problem of one line, or None when the line is usable."""
    for col in _REQUISES:
        if not cells[col]:
            return make_finding("REF_P147_VALEUR_REQUISE", file=name, row=line,
                                column=col, ligne=line)
    code = cells["code"]
    if not _CODE.match(code):
        return make_finding("REF_P147_CODE_INVALIDE", file=name, row=line, column="code",
                            value=code, ligne=line)
    if code in lus:
        return make_finding("REF_P147_CODE_EN_DOUBLE", file=name, row=line,
                            column="code", value=code, ligne=line, first_row=lus[code][0])
    return None


@lru_cache(maxsize=8)
def _lire_cache(path: str, stamp: tuple[int, int]) -> NomenclatureDossier:
    del stamp  # part of the key only: a changed file is read again
    return lire_complement(Path(path))


def nomenclature_dossier(dossier: Path | None) -> NomenclatureDossier:
    """The nomenclature of the working folder ``dossier`` (its ``nomenclature_p147.csv``
    merged over the embedded data); ``None``: the embedded data alone."""
    if dossier is None:
        return NomenclatureDossier(nomenclature_integree())
    path = Path(dossier) / NOMENCLATURE_FILE
    try:
        st = path.stat()
    except OSError:
        return lire_complement(path)  # absent (nothing to cache) or unreadable (said)
    return _lire_cache(str(path), (st.st_mtime_ns, st.st_size))


def dossier_de(path: Path) -> Path | None:
    """The working folder holding ``path``: the nearest folder above it (or itself) that
    has a ``cv_excel.toml``; None when there is none."""
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        if (folder / _CONFIG_FILE).is_file():
            return folder
    return None


# --- the nomenclature in force -----------------------------------------------------------------
_EN_VIGUEUR: ContextVar[NomenclatureDossier | None] = ContextVar("nomenclature_p147",
                                                                 default=None)


def nomenclature_p147() -> NomenclatureP147:
    """The nomenclature in force: the working folder's inside :func:`en_vigueur`, else the
    embedded data."""
    dossier = _EN_VIGUEUR.get()
    return dossier.nomenclature if dossier is not None else nomenclature_integree()


@contextmanager
def en_vigueur(dossier: NomenclatureDossier) -> Iterator[NomenclatureDossier]:
    """Put ``dossier``'s nomenclature in force for the calls made inside the block."""
    token = _EN_VIGUEUR.set(dossier)
    try:
        yield dossier
    finally:
        _EN_VIGUEUR.reset(token)


def nomenclature_pour(path: Path) -> NomenclatureDossier:
    """The nomenclature to check or write the file ``path`` with: the one already in force
    when a caller set it, else that of the working folder holding ``path``."""
    return _EN_VIGUEUR.get() or nomenclature_dossier(dossier_de(path))
