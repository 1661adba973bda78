"""Stage 1: is the received file an xlsx we can safely open?

Says in French what the file is when it is not (.xls, .ods, .xlsm, a
password-protected workbook, a truncated download, not a spreadsheet at all),
and refuses what could hurt the machine: oversized files, zip bombs (bounded
decompression, whatever sizes the archive declares), XML entity tricks, and
sheets that would cost too much to read — too many cells (counted in the XML
before any parser sees it) or cells it cannot place. A value typed far beyond
any template (one stray cell at XFD1048576 made the reader allocate the whole
sheet grid) is only a warning: it is never read, see :mod:`cv_excel.xlsx.extent`.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from cv_excel.findings import Finding, make_finding
from cv_excel.xlsx.extent import (
    FAR_COL,
    FAR_ROW,
    GRID_MAX,
    SheetExtent,
    count_shared_strings,
    shared_string,
    sheet_extent,
)
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import index_to_col

MB = 1024 * 1024


@dataclass(frozen=True)
class Limites:
    taille_max: int = 20 * MB  # the file as received
    decompresse_max: int = 150 * MB  # all parts once inflated
    parties_max: int = 5000
    # Cells of all sheets together (also rows, cells of merged or linked ranges, shared
    # texts, each on its own): a generated workbook has a few thousand.
    cellules_max: int = 200_000
    # Beyond this row or column no template goes: a value there is reported, never read.
    ligne_max: int = FAR_ROW
    colonne_max: int = FAR_COL
    # Cells of one sheet grid handed to the reader as they are; a larger sheet is first
    # cut down to the box of its named areas.
    grille_max: int = GRID_MAX
    lointaines_max: int = 10  # far cells named one by one in a file's findings


LIMITES = Limites()
_WORKSHEET = re.compile(r"(?:^|/)worksheets/[^/]+\.xml$")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION = "EncryptionInfo".encode("utf-16-le")
_ODS = b"application/vnd.oasis.opendocument.spreadsheet"
_MACRO_TYPES = (b"macroEnabled", b"vbaProject")


class _Stop(Exception):
    def __init__(self, finding: Finding):
        self.finding = finding


def _mb(n: int) -> str:
    return f"{n / MB:.1f}".replace(".", ",")


def check_size(name: str, size: int, limites: Limites = LIMITES) -> Finding | None:
    """The size rule alone: intake applies it before loading a file in memory."""
    if size > limites.taille_max:
        return make_finding("FIC_TROP_GROS", file=name, size=_mb(size),
                            limit=_mb(limites.taille_max))
    return None


def check_file(name: str, data: bytes, limites: Limites = LIMITES
               ) -> tuple[list[Finding], XlsxPackage | None]:
    """Findings about the file itself, and its parts when it can be opened safely."""
    findings: list[Finding] = []
    if not name.lower().endswith(".xlsx"):
        findings.append(make_finding("FIC_EXTENSION", file=name))
    try:
        _check_bytes(name, data, limites)
        pkg = _read_parts(name, data, limites)
        findings += _check_cost(name, pkg, limites)
    except _Stop as stop:
        return [*findings, stop.finding], None
    return findings, pkg


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _check_cost(name: str, pkg: XlsxPackage, limites: Limites) -> list[Finding]:
    """What reading the sheets would cost, from their XML: refused when too much, and
    a warning for each value typed far beyond any template (never read)."""
    titles: dict[str, str] = {}
    with contextlib.suppress(Exception):  # an unreadable workbook part is reported later
        titles = {s.path: s.name for s in pkg.sheets()}
    paths = [p for p in pkg.parts if p in titles or _WORKSHEET.search(p)]
    extents = {p: sheet_extent(pkg, p, limites.ligne_max, limites.colonne_max,
                               limites.cellules_max) for p in paths}
    strings = sum(count_shared_strings(part) for p, part in pkg.parts.items()
                  if p.lower().endswith("sharedstrings.xml"))
    for total, what in ((sum(e.cells for e in extents.values()), "cellules"),
                        (sum(e.covered for e in extents.values()),
                         "cellules fusionnées ou liées"),
                        (sum(e.rows for e in extents.values()), "lignes"),
                        (strings, "textes")):
        if total > limites.cellules_max:
            raise _Stop(make_finding("FIC_TROP_DE_CELLULES", file=name,
                                     detail=f"{_count(total)} {what}",
                                     limit=_count(limites.cellules_max)))
    for path, extent in extents.items():
        if extent.problem is not None:
            raise _Stop(make_finding("FIC_FEUILLE_ILLISIBLE", file=name,
                                     sheet=titles.get(path, path), detail=extent.problem))
    return _far_findings(name, pkg, extents, titles, limites)


def _far_findings(name: str, pkg: XlsxPackage, extents: dict[str, SheetExtent],
                  titles: dict[str, str], limites: Limites) -> list[Finding]:
    findings: list[Finding] = []
    where = {"ligne": _count(limites.ligne_max), "colonne": index_to_col(limites.colonne_max)}
    sst = next((part for p, part in pkg.parts.items()
                if p.lower().endswith("sharedstrings.xml")), b"")
    for path, extent in extents.items():
        sheet = titles.get(path, path)
        named = 0
        for far in extent.far[: max(0, limites.lointaines_max - len(findings))]:
            value = far.value
            if far.shared and far.value.isdigit():
                value = (shared_string(sst, int(far.value)) or "").strip() or "(texte)"
            if len(value) > 60:
                value = value[:59] + "…"
            place = {"cell": far.address} if far.excel else {}
            findings.append(make_finding("FIC_CELLULE_LOINTAINE", file=name, sheet=sheet,
                                         adresse=far.address, value=value, **place, **where))
            named += 1
        if extent.far_count > named:
            findings.append(make_finding("FIC_CELLULES_LOINTAINES", file=name, sheet=sheet,
                                         count=_count(extent.far_count - named), **where))
    return findings


def _check_bytes(name: str, data: bytes, limites: Limites) -> None:
    if not data:
        raise _Stop(make_finding("FIC_VIDE", file=name))
    if (too_big := check_size(name, len(data), limites)) is not None:
        raise _Stop(too_big)
    if data.startswith(_OLE2):
        code = "FIC_CHIFFRE" if _ENCRYPTION in data else "FIC_XLS"
        raise _Stop(make_finding(code, file=name))
    if not data.startswith(b"PK"):
        raise _Stop(make_finding("FIC_PAS_UN_CLASSEUR", file=name, detail=_what(data)))


def _what(data: bytes) -> str:
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "c'est un document PDF"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "c'est une image"
    if head.lstrip().startswith((b"<", b"<?xml")):
        return "c'est un fichier texte ou HTML"
    try:
        data[:2000].decode("utf-8")
        return "c'est un fichier texte (CSV ?)"
    except UnicodeDecodeError:
        return "format non reconnu"


def _read_parts(name: str, data: bytes, limites: Limites) -> XlsxPackage:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _Stop(make_finding("FIC_ZIP_CORROMPU", file=name, detail=_zip_detail(exc))) \
            from exc
    names = {i.filename for i in infos}
    if "mimetype" in names and zf.read("mimetype").startswith(_ODS):
        raise _Stop(make_finding("FIC_ODS", file=name))
    if len(infos) > limites.parties_max:
        raise _Stop(make_finding("FIC_ZIP_BOMBE", file=name, size="?",
                                 limit=_mb(limites.decompresse_max)))
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _Stop(make_finding("FIC_PAS_UN_CLASSEUR", file=name,
                                 detail="archive zip qui ne contient pas de classeur"))
    parts: dict[str, bytes] = {}
    budget = limites.decompresse_max
    for info in infos:
        if info.is_dir():
            continue
        try:
            part = _read_bounded(zf, info, budget)
        except _TooBig as exc:
            raise _Stop(make_finding("FIC_ZIP_BOMBE", file=name,
                                     size=f"plus de {_mb(limites.decompresse_max)}",
                                     limit=_mb(limites.decompresse_max))) from exc
        # zlib.error: a byte altered inside a compressed part (before any CRC is reached).
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
            raise _Stop(make_finding("FIC_ZIP_CORROMPU", file=name,
                                     detail=_zip_detail(exc))) from exc
        budget -= len(part)
        parts[info.filename] = part
    if b"vbaProject" in parts.get("[Content_Types].xml", b"") or any(
            n.endswith("vbaProject.bin") for n in parts) or any(
            t in parts["[Content_Types].xml"] for t in _MACRO_TYPES):
        raise _Stop(make_finding("FIC_XLSM", file=name))
    for part_name, part in parts.items():
        if part_name.endswith((".xml", ".rels", ".vml")) and (
                b"<!DOCTYPE" in part or b"<!ENTITY" in part):
            raise _Stop(make_finding("FIC_XML_DANGEREUX", file=name,
                                     detail=f"DOCTYPE / ENTITY dans {part_name}"))
    return XlsxPackage(parts)


class _TooBig(Exception):
    pass


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """Inflate one part, stopping as soon as the remaining budget is exceeded."""
    chunks, total = [], 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > budget:
                raise _TooBig
            chunks.append(chunk)
    return b"".join(chunks)


def _zip_detail(exc: Exception) -> str:
    text = str(exc)
    if "CRC" in text or isinstance(exc, zlib.error):
        return "une partie du fichier est altérée"
    if isinstance(exc, EOFError) or "truncated" in text.lower() or "end of" in text.lower():
        return "le fichier est tronqué"
    return "archive illisible"
