"""Read an xlsx package into memory and write it back atomically.

Parsing uses defusedxml: the same code reads files sent by porteurs, so XML
entity tricks are refused. Parts are kept as bytes; callers replace the few
parts they change and everything else is copied as it was.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET

from cv_excel.atomic import write_bytes_atomic
from cv_excel.xlsx.refs import Area, parse_area

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
CONTENT_TYPES = "[Content_Types].xml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the zip format's first date: entries carry no clock time


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rid: str
    path: str  # part name inside the zip, e.g. "xl/worksheets/sheet1.xml"
    state: str  # visible | hidden | veryHidden
    index: int  # position in the workbook (localSheetId of its names)


@dataclass(frozen=True)
class DefinedName:
    name: str
    text: str
    local_sheet: int | None
    area: Area | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "area", parse_area(self.text))


def check_xml(data: bytes) -> None:
    """Raise unless ``data`` is well-formed XML without a DTD or entity declaration (the
    tricks defusedxml refuses; no package part has any); builds nothing, so it costs
    little even on a large sheet."""
    parser = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise ValueError("DTD ou entité XML refusée")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.Parse(data, True)


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_rels(data: bytes | None) -> list[dict[str, str]]:
    if not data:
        return []
    root = SafeET.fromstring(data)
    return [dict(el.attrib) for el in root.iter(f"{{{NS_PKG_REL}}}Relationship")]


class XlsxPackage:
    """The parts of one xlsx file, in their original order."""

    def __init__(self, parts: dict[str, bytes]):
        self.parts = parts
        self._parsed: dict[str, tuple[bytes, object]] = {}

    def _memo(self, key: str, part: str, parse):
        """Parse a part once, as long as its bytes are unchanged."""
        data = self.parts[part]
        cached = self._parsed.get(key)
        if cached is None or cached[0] is not data:
            cached = self._parsed[key] = (data, parse(data))
        return cached[1]

    @classmethod
    def from_bytes(cls, data: bytes) -> XlsxPackage:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return cls({info.filename: zf.read(info) for info in zf.infolist()})

    @classmethod
    def from_path(cls, path: Path | str) -> XlsxPackage:
        return cls.from_bytes(Path(path).read_bytes())

    def copy(self) -> XlsxPackage:
        return XlsxPackage(dict(self.parts))

    # --- structure ----------------------------------------------------------------------
    def sheets(self) -> list[SheetEntry]:
        return list(self._memo("sheets", WORKBOOK, lambda _: self._sheets()))

    def _workbook_root(self):
        """``xl/workbook.xml`` parsed once for its sheets and its names."""
        return self._memo("workbook", WORKBOOK, SafeET.fromstring)

    def _sheets(self) -> list[SheetEntry]:
        root = self._workbook_root()
        rels = {r["Id"]: r["Target"] for r in read_rels(self.parts.get(WORKBOOK_RELS))}
        sheets = []
        for index, el in enumerate(root.iter(f"{{{NS_MAIN}}}sheet")):
            rid = el.attrib[f"{{{NS_REL}}}id"]
            sheets.append(SheetEntry(
                name=el.attrib["name"],
                sheet_id=int(el.attrib["sheetId"]),
                rid=rid,
                path=resolve_target(WORKBOOK, rels[rid]),
                state=el.attrib.get("state", "visible"),
                index=index,
            ))
        return sheets

    def defined_names(self) -> list[DefinedName]:
        return list(self._memo("names", WORKBOOK, lambda _: self._defined_names()))

    def _defined_names(self) -> list[DefinedName]:
        root = self._workbook_root()
        names = []
        for el in root.iter(f"{{{NS_MAIN}}}definedName"):
            local = el.attrib.get("localSheetId")
            names.append(DefinedName(el.attrib["name"], (el.text or "").strip(),
                                     int(local) if local is not None else None))
        return names

    # --- adding parts -------------------------------------------------------------------
    def free_part(self, pattern: str) -> str:
        """The first ``pattern.format(n)`` (n = 1, 2…) no part is named (part names
        compare without case, as in the package format)."""
        taken = {name.casefold() for name in self.parts}
        n = 1
        while pattern.format(n).casefold() in taken:
            n += 1
        return pattern.format(n)

    def relationships(self, source: str) -> list[dict[str, str]]:
        """The relationships of part ``source`` (empty when it has none)."""
        return read_rels(self.parts.get(rels_path(source)))

    def add_relationship(self, source: str, rel_type: str, target: str) -> str:
        """Relate part ``source`` to part ``target`` (internal); returns the new id."""
        path = rels_path(source)
        data = self.parts.get(path)
        text = data.decode("utf-8") if data else (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{NS_PKG_REL}"></Relationships>')
        text = re.sub(r"<Relationships\b([^>]*?)\s*/>", r"<Relationships\1></Relationships>",
                      text, count=1)
        if "</Relationships>" not in text:
            raise ValueError(f"relations illisibles : {path}")
        used = {r["Id"] for r in read_rels(text.encode("utf-8"))}
        n = 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        relative = posixpath.relpath(target, posixpath.dirname(source))
        element = (f'<Relationship Id="{rid}" Type={quoteattr(rel_type)} '
                   f"Target={quoteattr(relative)}/>")
        self.parts[path] = text.replace("</Relationships>", element + "</Relationships>",
                                        1).encode("utf-8")
        return rid

    def add_content_type(self, part: str, content_type: str) -> None:
        """Declare the content type of part ``part`` (an ``<Override>``)."""
        self._add_type(f'<Override PartName={quoteattr("/" + part)} '
                       f"ContentType={quoteattr(content_type)}/>")

    def add_default_type(self, extension: str, content_type: str) -> None:
        """Declare the content type of every part ending with ``extension``, unless the
        package already has a default for it."""
        text = self.parts[CONTENT_TYPES].decode("utf-8")
        for m in re.finditer(r'<Default\b[^>]*\bExtension="([^"]*)"', text):
            if m.group(1).casefold() == extension.casefold():
                return
        self._add_type(f'<Default Extension={quoteattr(extension)} '
                       f"ContentType={quoteattr(content_type)}/>")

    def _add_type(self, element: str) -> None:
        text = self.parts[CONTENT_TYPES].decode("utf-8")
        if "</Types>" not in text:
            raise ValueError("[Content_Types].xml illisible")
        self.parts[CONTENT_TYPES] = text.replace("</Types>", element + "</Types>",
                                                 1).encode("utf-8")

    # --- output -------------------------------------------------------------------------
    def to_bytes(self, compresslevel: int = 6) -> bytes:
        """The zip, byte for byte the same for the same parts: every entry carries one
        fixed date (not the clock's), so rendering a workbook twice gives one file."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
            for name, data in self.parts.items():
                entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o600 << 16
                zf.writestr(entry, data, compresslevel=compresslevel)
        return buffer.getvalue()

    def save(self, path: Path | str, compresslevel: int = 6) -> Path:
        return write_bytes_atomic(Path(path), self.to_bytes(compresslevel))
