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


# --- a first sheet added to a received workbook (annotated copies) ------------------------
_SHEETS = re.compile(r"<sheets>(.*?)</sheets>", re.S)
_LOCAL_SHEET_ID = re.compile(r'(<definedName\b[^>]*?\slocalSheetId=")(\d+)(")')
_WORKBOOK_VIEW = re.compile(r"<workbookView\b([^>]*?)(/?)>")
_VIEW_TAB_ATTRS = re.compile(r'\s(?:activeTab|firstSheet)="[^"]*"')
# CT_Workbook children that follow <definedNames>.
_AFTER_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
                "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects",
                "extLst")
APP = "docProps/app.xml"


def prepend_sheet(pkg: XlsxPackage, title: str, data: bytes,
                  names: dict[str, str] | None = None) -> str:
    """Add the worksheet part ``data`` as the first sheet of the workbook, named
    ``title``, and make it the active tab (the caller unselects the other sheets' tabs).

    Everything the workbook says by sheet position follows: every sheet-scoped name's
    ``localSheetId`` moves up by one, ``names`` (name → formula) become this sheet's own
    names, and the title joins the sheet list of ``docProps/app.xml``. The workbook's
    protection, its calculation chain and every other part are kept as they are.
    Returns the new part's name. ``ValueError`` when the workbook part is not of the
    expected form (or ``title`` is not a free, valid sheet name)."""
    xml = pkg.parts[WORKBOOK].decode("utf-8")
    m = _SHEETS.search(xml)
    existing = _SHEET_EL.findall(m.group(1)) if m else []
    if not existing:
        raise ValueError("classeur sans liste de feuilles lisible")
    titles = [_unescape(dict(_ATTR.findall(el))["name"]) for el in existing]
    if sheet_title(title) != title or title.casefold() in {t.casefold() for t in titles}:
        raise ValueError(f"Nom de feuille invalide : « {title} ».")
    prefix = re.search(r'\s([\w.-]+):id="', existing[0])
    if prefix is None:
        raise ValueError("feuille sans relation")
    sheet_id = max(int(dict(_ATTR.findall(el))["sheetId"]) for el in existing) + 1
    path = pkg.free_part("xl/worksheets/sheet{}.xml")
    pkg.parts[path] = data
    rid = pkg.add_relationship(WORKBOOK, REL_WORKSHEET, path)
    pkg.add_content_type(path, CT_WORKSHEET)
    element = f'<sheet name={quoteattr(title)} sheetId="{sheet_id}" {prefix.group(1)}:id="{rid}"/>'
    xml = xml[: m.start(1)] + element + xml[m.start(1):]
    xml = _LOCAL_SHEET_ID.sub(lambda n: f"{n.group(1)}{int(n.group(2)) + 1}{n.group(3)}", xml)
    xml = _add_names(xml, "".join(
        f'<definedName name={quoteattr(name)} localSheetId="0">{escape(text)}</definedName>'
        for name, text in (names or {}).items()))
    pkg.parts[WORKBOOK] = _first_tab_active(xml).encode("utf-8")
    if APP in pkg.parts:
        pkg.parts[APP] = _app_titles(pkg.parts[APP].decode("utf-8"), titles, title
                                     ).encode("utf-8")
    return path


def _add_names(xml: str, names: str) -> str:
    if not names:
        return xml
    if re.search(r"<definedNames\s*/>", xml):
        return re.sub(r"<definedNames\s*/>", lambda _: f"<definedNames>{names}</definedNames>",
                      xml, count=1)
    if "</definedNames>" in xml:
        return xml.replace("</definedNames>", names + "</definedNames>", 1)
    after = xml.index("</sheets>")
    m = re.compile("|".join(rf"<{e}[\s/>]" for e in _AFTER_NAMES) + "|</workbook>").search(
        xml, after)
    if m is None:
        raise ValueError("fin du classeur introuvable")
    return xml[: m.start()] + f"<definedNames>{names}</definedNames>" + xml[m.start():]


def _first_tab_active(xml: str) -> str:
    """Every window of the workbook opens on its first sheet."""
    if _WORKBOOK_VIEW.search(xml) is None:
        return xml.replace("<sheets>", '<bookViews><workbookView activeTab="0"/></bookViews>'
                                       "<sheets>", 1)
    return _WORKBOOK_VIEW.sub(
        lambda v: f'<workbookView{_VIEW_TAB_ATTRS.sub("", v.group(1))} activeTab="0"'
                  f"{v.group(2)}>", xml)


def _app_titles(xml: str, sheets: list[str], title: str) -> str:
    """``docProps/app.xml`` with ``title`` first among the worksheet titles; a list this
    cannot follow is dropped (it is informative only, as when sheets are cloned)."""
    pairs = re.search(r"<HeadingPairs>.*?</HeadingPairs>", xml, re.S)
    parts = re.search(r"<TitlesOfParts>.*?</TitlesOfParts>", xml, re.S)
    if pairs is None and parts is None:
        return xml
    count = re.search(r"(<vt:i4>)(\d+)(</vt:i4>)", pairs.group(0)) if pairs else None
    vector = re.search(r'(<vt:vector\b[^>]*?\bsize=")(\d+)("[^>]*>)', parts.group(0)) \
        if parts else None
    listed = [_unescape(t) for t in re.findall(r"<vt:lpstr>(.*?)</vt:lpstr>",
                                                parts.group(0), re.S)] if parts else []
    n = int(count.group(2)) if count else -1
    if count is None or vector is None or n > len(listed) or \
            not set(listed[:n]) <= set(sheets):
        return re.sub(r"<HeadingPairs>.*?</HeadingPairs>|<TitlesOfParts>.*?</TitlesOfParts>",
                      "", xml, flags=re.S)
    new_pairs = (pairs.group(0)[: count.start(2)] + str(n + 1)
                 + pairs.group(0)[count.end(2):])
    p = parts.group(0)
    p = (p[: vector.start(2)] + str(int(vector.group(2)) + 1) + p[vector.end(2): vector.end()]
         + f"<vt:lpstr>{escape(title)}</vt:lpstr>" + p[vector.end():])
    return xml.replace(parts.group(0), p, 1).replace(pairs.group(0), new_pairs, 1)


def _resheet(text: str, old: str, new: str) -> str:
    """Point a reference at another sheet (``'Old'!$A$1`` → ``'New'!$A$1``)."""
    pattern = rf"(?:'{re.escape(old.replace(chr(39), chr(39) * 2))}'|(?<![\w']){re.escape(old)})!"
    return re.sub(pattern, lambda _: quote_sheet(new) + "!", text)
