"""Edit the workbook part: clone and rename sheets, hide them, rewrite defined
names, lock the structure, and keep the package's relationships consistent.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from cv_excel.text import sheet_title
from cv_excel.xlsx.package import (
    CONTENT_TYPES,
    WORKBOOK,
    WORKBOOK_RELS,
    XlsxPackage,
    read_rels,
    rels_path,
    resolve_target,
)
from cv_excel.xlsx.refs import Area, RowShift, quote_sheet, shift_formula

_SHEET_EL = re.compile(r"<sheet\b[^>]*/>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_DEFINED = re.compile(r"<definedNames>.*?</definedNames>|<definedNames\s*/>", re.S)
_NAME_EL = re.compile(r"<definedName\b([^>]*)>(.*?)</definedName>", re.S)
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _unescape(text: str) -> str:
    for a, b in _UNESCAPE:
        text = text.replace(a, b)
    return text


@dataclass(eq=False)
class Sheet:
    name: str
    sheet_id: int
    rid: str
    path: str
    state: str = "visible"


@dataclass(eq=False)
class Name:
    name: str
    text: str
    sheet: Sheet | None  # None: workbook scope
    attrs: dict[str, str] = field(default_factory=dict)


class WorkbookEditor:
    """Structural edits of one package; call :meth:`finish` to write the parts back."""

    def __init__(self, pkg: XlsxPackage):
        self.pkg = pkg
        self.xml = pkg.parts[WORKBOOK].decode("utf-8")
        rels = {r["Id"]: r["Target"] for r in read_rels(pkg.parts.get(WORKBOOK_RELS))}
        self.sheets: list[Sheet] = []
        for el in _SHEET_EL.findall(self.xml):
            a = dict(_ATTR.findall(el))
            self.sheets.append(Sheet(_unescape(a["name"]), int(a["sheetId"]), a["r:id"],
                                     resolve_target(WORKBOOK, rels[a["r:id"]]),
                                     a.get("state", "visible")))
        self.names: list[Name] = []
        for attrs, text in _NAME_EL.findall(self.xml):
            a = {k: _unescape(v) for k, v in _ATTR.findall(attrs)}
            local = a.pop("localSheetId", None)
            self.names.append(Name(a.pop("name"), _unescape(text),
                                   self.sheets[int(local)] if local is not None else None, a))
        self._new_rels: list[tuple[str, str]] = []
        self._new_overrides: list[tuple[str, str]] = []

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    # --- sheets -------------------------------------------------------------------------
    def clone_sheet(self, source: Sheet, new_name: str, after: Sheet | None = None) -> Sheet:
        """Copy ``source`` (its part, its drawings, comments…) under ``new_name``."""
        self._check_title(new_name)
        path = self._free_part("xl/worksheets/sheet{}.xml")
        self.pkg.parts[path] = self.pkg.parts[source.path]
        self._clone_part_rels(source.path, path)
        rid = self._free_rid()
        self._new_rels.append((rid, posixpath.relpath(path, "xl")))
        self._new_overrides.append(("/" + path, CT_WORKSHEET))
        clone = Sheet(new_name, max(s.sheet_id for s in self.sheets) + 1, rid, path,
                      source.state)
        self.sheets.insert(self.sheets.index(after or source) + 1, clone)
        for n in [n for n in self.names if n.sheet is source]:
            self.names.append(Name(n.name, _resheet(n.text, source.name, new_name), clone,
                                   dict(n.attrs)))
        return clone

    def rename_sheet(self, sheet: Sheet, new_name: str) -> None:
        self._check_title(new_name, renamed=sheet)
        for n in self.names:
            n.text = _resheet(n.text, sheet.name, new_name)
        sheet.name = new_name

    def shift_rows(self, shifts: dict[str, RowShift],
                   tables: dict[str, dict[str, Area]] | None = None) -> None:
        """Defined names follow rows inserted in sheets (title → shift): every reference
        naming such a sheet moves (its own names, print titles and areas, names of other
        scopes pointing there). ``tables`` (title → name → area) gives the new area of a
        sheet's names that grew, whatever their height."""
        by_key = {title.casefold(): shift for title, shift in shifts.items() if shift}
        tables = tables or {}
        if not by_key:
            return
        for n in self.names:
            grown = tables.get(n.sheet.name, {}) if n.sheet is not None else {}
            if n.name in grown:
                n.text = grown[n.name].formula()
            elif "!" in n.text:
                n.text = shift_formula(n.text, None, by_key)

    def _check_title(self, name: str, renamed: Sheet | None = None) -> None:
        """A name Excel accepts (see :func:`cv_excel.text.sheet_title`) and no other
        sheet's, case ignored: anything else makes a file Excel repairs or refuses."""
        if sheet_title(name) != name:
            raise ValueError(f"Nom de feuille invalide : « {name} ».")
        if any(s is not renamed and s.name.casefold() == name.casefold() for s in self.sheets):
            raise ValueError(f"Deux feuilles s'appelleraient « {name} ».")

    def _clone_part_rels(self, source: str, target: str) -> None:
        data = self.pkg.parts.get(rels_path(source))
        if data is None:
            return
        text = data.decode("utf-8")
        for rel in read_rels(data):
            if rel.get("TargetMode") == "External":
                continue
            old = resolve_target(source, rel["Target"])
            stem, ext = posixpath.splitext(old)
            new = self._free_part(re.sub(r"\d*$", "", stem) + "{}" + ext)
            self.pkg.parts[new] = self.pkg.parts[old]
            self._clone_part_rels(old, new)
            ct = self._override_of("/" + old)
            if ct:
                self._new_overrides.append(("/" + new, ct))
            text = text.replace(f'Target="{rel["Target"]}"',
                                f'Target="{posixpath.relpath(new, posixpath.dirname(target))}"')
        self.pkg.parts[rels_path(target)] = text.encode("utf-8")

    def _free_part(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.pkg.parts:
            n += 1
        self.pkg.parts[pattern.format(n)] = b""  # reserve
        return pattern.format(n)

    def _free_rid(self) -> str:
        used = set(re.findall(r'Id="(rId\d+)"', self.pkg.parts[WORKBOOK_RELS].decode()))
        used |= {rid for rid, _ in self._new_rels}
        n = 1
        while f"rId{n}" in used:
            n += 1
        return f"rId{n}"

    def _override_of(self, part: str) -> str | None:
        ct = self.pkg.parts[CONTENT_TYPES].decode("utf-8")
        m = re.search(rf'<Override PartName="{re.escape(part)}" ContentType="([^"]+)"', ct)
        return m.group(1) if m else None

    # --- output -------------------------------------------------------------------------
    def finish(self, lock_structure: bool = True) -> None:
        xml = self.xml
        sheets_xml = "".join(
            f"<sheet name={quoteattr(s.name)} sheetId=\"{s.sheet_id}\""
            + (f' state="{s.state}"' if s.state != "visible" else "")
            + f' r:id="{s.rid}"/>'
            for s in self.sheets
        )
        xml = re.sub(r"<sheets>.*?</sheets>", lambda _: f"<sheets>{sheets_xml}</sheets>", xml,
                     flags=re.S)
        names_xml = "".join(self._name_xml(n) for n in self.names)
        block = f"<definedNames>{names_xml}</definedNames>" if self.names else ""
        if _DEFINED.search(xml):
            xml = _DEFINED.sub(lambda _: block, xml)
        elif block:
            xml = xml.replace("</sheets>", "</sheets>" + block, 1)
        xml = re.sub(r"<workbookProtection\b[^>]*/>", "", xml)
        if lock_structure:
            xml = re.sub(r"(<bookViews|<sheets)", '<workbookProtection lockStructure="1"/>\\1',
                         xml, count=1)
        # Prefilled values changed: let the spreadsheet recompute every formula on open.
        if "<calcPr" in xml:
            xml = re.sub(r"<calcPr\b([^>]*?)\s*/>",
                         lambda m: "<calcPr" + re.sub(r'\s*fullCalcOnLoad="\w+"', "", m.group(1))
                         + ' fullCalcOnLoad="1"/>', xml, count=1)
        else:
            xml = re.sub(r"(</workbook>)", '<calcPr fullCalcOnLoad="1"/>\\1', xml)
        xml = re.sub(r'\sactiveTab="\d+"', "", xml)
        self.pkg.parts[WORKBOOK] = xml.encode("utf-8")
        self._finish_rels_and_types()

    def _name_xml(self, n: Name) -> str:
        attrs = f"name={quoteattr(n.name)}"
        if n.sheet is not None:
            attrs += f' localSheetId="{self.sheets.index(n.sheet)}"'
        attrs += "".join(f" {k}={quoteattr(v)}" for k, v in n.attrs.items())
        return f"<definedName {attrs}>{escape(n.text)}</definedName>"

    def _finish_rels_and_types(self) -> None:
        rels = self.pkg.parts[WORKBOOK_RELS].decode("utf-8")
        extra = "".join(f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" Target="{t}"/>'
                        for rid, t in self._new_rels)
        rels = rels.replace("</Relationships>", extra + "</Relationships>")
        ct = self.pkg.parts[CONTENT_TYPES].decode("utf-8")
        # Excel rebuilds the calculation chain; a stale one after cloning makes it "repair".
        if "xl/calcChain.xml" in self.pkg.parts:
            del self.pkg.parts["xl/calcChain.xml"]
            rels = re.sub(r'<Relationship [^>]*Target="[^"]*calcChain.xml"[^>]*/>', "", rels)
            ct = re.sub(r'<Override PartName="/xl/calcChain.xml"[^>]*/>', "", ct)
        ct = ct.replace("</Types>", "".join(
            f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in self._new_overrides)
            + "</Types>")
        self.pkg.parts[WORKBOOK_RELS] = rels.encode("utf-8")
        self.pkg.parts[CONTENT_TYPES] = ct.encode("utf-8")
        # docProps/app.xml lists sheet titles; a stale list is harmless but misleading.
        if "docProps/app.xml" in self.pkg.parts:
            self.pkg.parts["docProps/app.xml"] = re.sub(
                rb"<HeadingPairs>.*?</HeadingPairs>|<TitlesOfParts>.*?</TitlesOfParts>", b"",
                self.pkg.parts["docProps/app.xml"], flags=re.S)


def _resheet(text: str, old: str, new: str) -> str:
    """Point a reference at another sheet (``'Old'!$A$1`` → ``'New'!$A$1``)."""
    pattern = rf"(?:'{re.escape(old.replace(chr(39), chr(39) * 2))}'|(?<![\w']){re.escape(old)})!"
    return re.sub(pattern, lambda _: quote_sheet(new) + "!", text)
