"""Notes (« commentaires ») on the cells of one worksheet, written in the package.

A note lives in two parts: its text in the sheet's comments part
(``xl/commentsN.xml``) and its shape — the yellow box shown on hover — in the sheet's
legacy VML drawing (``xl/drawings/vmlDrawingN.vml``), which the sheet names in
``<legacyDrawing r:id>``. A sheet that already has notes, or a legacy drawing of its
own (form controls), keeps them: the new notes are added to the same parts, and a
cell that already had a note gets the new text first, its own text after (a note of
the same author — an earlier annotated copy sent back — is replaced).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from cv_excel.text import clean_text
from cv_excel.xlsx.package import XlsxPackage, read_rels, rels_path, resolve_target
from cv_excel.xlsx.refs import split_address
from cv_excel.xlsx.sheet import SheetXml

REL_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_VML = {"v": "urn:schemas-microsoft-com:vml", "o": "urn:schemas-microsoft-com:office:office",
           "x": "urn:schemas-microsoft-com:office:excel"}
_BLOCK = 1024  # VML shape ids come in blocks of 1024, listed by <o:idmap data>
_SHAPE_ID = re.compile(r"_x0000_s(\d+)")
_IDMAP = re.compile(r'(<[\w.-]+:idmap\b[^>]*?\bdata=")([^"]*)(")')
_COMMENT = re.compile(r'<comment\b[^>]*?\bref="([^"]*)"[^>]*?(?:/>|>(.*?)</comment>)', re.S)
_AUTHOR = re.compile(r"<author>(.*?)</author>|<author\s*/>", re.S)
_SHAPETYPE_202 = ('<{v}:shapetype id="_x0000_t202" coordsize="21600,21600" {o}:spt="202" '
                  'path="m,l,21600r21600,l21600,xe"><{v}:stroke joinstyle="miter"/>'
                  '<{v}:path gradientshapeok="t" {o}:connecttype="rect"/></{v}:shapetype>')
# One hidden note box, as openpyxl writes it (Excel places it beside its cell).
_SHAPE = ('<{v}:shape id="_x0000_s{id}" type="#_x0000_t202" '
          "style='position:absolute;margin-left:59.25pt;margin-top:1.5pt;"
          "width:{width}px;height:{height}px;z-index:1;visibility:hidden' "
          'fillcolor="#ffffe1" {o}:insetmode="auto"><{v}:fill color2="#ffffe1"/>'
          '<{v}:shadow color="black" obscured="t"/><{v}:path {o}:connecttype="none"/>'
          "<{v}:textbox style='mso-direction-alt:auto'><div style='text-align:left'></div>"
          '</{v}:textbox><{x}:ClientData ObjectType="Note"><{x}:MoveWithCells/>'
          "<{x}:SizeWithCells/><{x}:AutoFill>False</{x}:AutoFill><{x}:Row>{row}</{x}:Row>"
          "<{x}:Column>{col}</{x}:Column></{x}:ClientData></{v}:shape>")


def add_notes(pkg: XlsxPackage, sheet_part: str, sheet: SheetXml, notes: dict[str, str],
              author: str, width: int = 320, height: int = 160) -> list[str]:
    """Attach ``notes`` (cell address → text) to the worksheet ``sheet_part`` whose parsed
    form is ``sheet`` (its ``<legacyDrawing>`` is added there when missing; the caller
    writes the sheet back). Texts are written in the project's normal form
    (:func:`~cv_excel.text.clean_text`). Returns the parts written that this module
    wrote whole or parsed (the comments part, a new drawing), for the caller to check; an
    existing VML drawing (a legacy format, not always well-formed XML) is not listed."""
    if not notes:
        return []
    rels = {r["Id"]: r for r in read_rels(pkg.parts.get(rels_path(sheet_part)))}
    created: list[str] = []
    comments_rel = next((r for r in rels.values() if r["Type"] == REL_COMMENTS), None)
    if comments_rel is not None:
        path = resolve_target(sheet_part, comments_rel["Target"])
        xml, commented = _merge_comments(pkg.parts[path].decode("utf-8"), notes, author)
        pkg.parts[path] = xml.encode("utf-8")
        created.append(path)
    else:
        path = pkg.free_part("xl/comments{}.xml")
        pkg.parts[path] = _comments_xml(notes, author).encode("utf-8")
        pkg.add_relationship(sheet_part, REL_COMMENTS, path)
        pkg.add_content_type(path, CT_COMMENTS)
        created.append(path)
        commented = set()
    shapes = [address for address in notes if address not in commented]
    if not shapes:
        return created
    rid = sheet.legacy_drawing()
    if rid is not None:
        if rid not in rels or rels[rid].get("TargetMode") == "External":
            raise ValueError(f"dessin VML introuvable : {rid}")
        vml = resolve_target(sheet_part, rels[rid]["Target"])
        pkg.parts[vml] = _add_shapes(pkg, pkg.parts[vml].decode("utf-8"), shapes, width,
                                     height).encode("utf-8")
    else:
        vml = pkg.free_part("xl/drawings/vmlDrawing{}.vml")
        pkg.parts[vml] = _vml_xml(pkg, shapes, width, height).encode("utf-8")
        pkg.add_default_type("vml", CT_VML)
        sheet.add_legacy_drawing(pkg.add_relationship(sheet_part, REL_VML, vml))
        created.append(vml)
    return created


# --- comments part ----------------------------------------------------------------------
def _text_run(text: str) -> str:
    return f'<t xml:space="preserve">{escape(clean_text(text))}</t>'


def _comment_xml(address: str, author_id: int, text: str) -> str:
    return (f'<comment ref="{address}" authorId="{author_id}"><text>{_text_run(text)}</text>'
            "</comment>")


def _comments_xml(notes: dict[str, str], author: str) -> str:
    items = "".join(_comment_xml(a, 0, t) for a, t in _in_order(notes))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<comments xmlns="{NS_MAIN}"><authors><author>{escape(author)}</author></authors>'
            f"<commentList>{items}</commentList></comments>")


def _merge_comments(xml: str, notes: dict[str, str], author: str) -> tuple[str, set[str]]:
    """An existing comments part with ``notes`` added. A cell that already had a note
    keeps it after the new text, unless ``author`` wrote it (an earlier annotated copy
    sent back): that one is replaced. Returns the part and the cells that had a note."""
    m = re.search(r"<authors\s*/>|<authors>(.*?)</authors>", xml, re.S)
    if m is None or "<commentList" not in xml:
        raise ValueError("commentaires de forme inattendue")
    authors = [a.group(1) or "" for a in _AUTHOR.finditer(m.group(1) or "")]
    if escape(author) in authors:
        author_id = authors.index(escape(author))
    else:
        author_id = len(authors)
        block = "<authors>" + (m.group(1) or "") + f"<author>{escape(author)}</author></authors>"
        xml = xml[: m.start()] + block + xml[m.end():]
    commented: set[str] = set()

    def merged(c: re.Match) -> str:
        address = c.group(1)
        if address not in notes:
            return c.group(0)
        commented.add(address)
        start = c.group(0)[: c.group(0).index(">") + 1]
        if start.endswith("/>"):
            start = start[:-2].rstrip() + ">"
        who = re.search(r'\bauthorId="(\d+)"', start)
        inner = ""
        if who is None or int(who.group(1)) != author_id:
            t = re.search(r"<text>(.*?)</text>", c.group(2) or "", re.S)
            # A plain text (<t>) cannot follow runs: it becomes a run of its own.
            inner = re.sub(r"^\s*(<t\b[^>]*>.*?</t>|<t\b[^>]*/>)", r"<r>\1</r>",
                           t.group(1) if t else "", count=1, flags=re.S)
            inner = f"<r>{_text_run(notes[address] + chr(10) * 2)}</r>{inner}"
        else:
            inner = _text_run(notes[address])
        rest = re.sub(r"<text>.*?</text>|<text\s*/>", "", c.group(2) or "", count=1, flags=re.S)
        return f"{start}<text>{inner}</text>{rest}</comment>"

    xml = _COMMENT.sub(merged, xml)
    new = "".join(_comment_xml(a, author_id, t) for a, t in _in_order(notes)
                  if a not in commented)
    if re.search(r"<commentList\s*/>", xml):
        xml = re.sub(r"<commentList\s*/>", lambda _: f"<commentList>{new}</commentList>", xml,
                     count=1)
    elif "</commentList>" in xml:
        xml = xml.replace("</commentList>", new + "</commentList>", 1)
    else:
        raise ValueError("commentaires de forme inattendue")
    return xml, commented


def _in_order(notes: dict[str, str]) -> list[tuple[str, str]]:
    """Notes in row, then column order (the order a spreadsheet program writes)."""
    return sorted(notes.items(), key=lambda item: split_address(item[0])[::-1])


# --- VML drawing ------------------------------------------------------------------------
def _shapes_xml(ids: range, addresses: list[str], width: int, height: int,
                prefixes: dict[str, str]) -> str:
    out = []
    for shape_id, address in zip(ids, addresses, strict=True):
        col, row = split_address(address)
        out.append(_SHAPE.format(id=shape_id, row=row - 1, col=col - 1, width=width,
                                 height=height, **prefixes))
    return "".join(out)


def _used_ids(pkg: XlsxPackage) -> tuple[int, set[int]]:
    """The highest VML shape id of the package, and the id blocks its drawings claim."""
    highest, blocks = 0, set()
    for name, data in pkg.parts.items():
        if not name.lower().endswith(".vml"):
            continue
        text = data.decode("utf-8", errors="replace")
        highest = max([highest, *(int(i) for i in _SHAPE_ID.findall(text))])
        for m in _IDMAP.finditer(text):
            blocks |= {int(b) for b in re.findall(r"\d+", m.group(2))}
    return highest, blocks


def _vml_xml(pkg: XlsxPackage, addresses: list[str], width: int, height: int) -> str:
    highest, blocks = _used_ids(pkg)
    first = max([highest // _BLOCK, *blocks, 0]) + 1
    ids = range(first * _BLOCK + 1, first * _BLOCK + 1 + len(addresses))
    claimed = ",".join(str(b) for b in range(first, (ids[-1] // _BLOCK) + 1))
    prefixes = {p: p for p in _NS_VML}
    namespaces = " ".join(f'xmlns:{p}="{uri}"' for p, uri in _NS_VML.items())
    return (f"<xml {namespaces}>"
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{claimed}"/>'
            f"</o:shapelayout>{_SHAPETYPE_202.format(**prefixes)}"
            f"{_shapes_xml(ids, addresses, width, height, prefixes)}</xml>")


def _add_shapes(pkg: XlsxPackage, vml: str, addresses: list[str], width: int,
                height: int) -> str:
    """An existing VML drawing with note boxes added (its own shapes kept), written with
    the namespace prefixes it declares (openpyxl's are ``ns0``, ``ns1``…)."""
    root = re.search(r"<xml\b[^>]*>", vml)
    end = vml.rfind("</xml>")
    if root is None or end < 0:
        raise ValueError("dessin VML de forme inattendue")
    declared = {uri: p for p, uri in re.findall(r'\sxmlns:([\w.-]+)="([^"]*)"', root.group(0))}
    prefixes, missing = {}, []
    for key, uri in _NS_VML.items():
        if uri in declared:
            prefixes[key] = declared[uri]
        else:
            prefix = key if key not in declared.values() else f"cv{key}"
            prefixes[key] = prefix
            missing.append(f' xmlns:{prefix}="{uri}"')
    highest, _ = _used_ids(pkg)
    first = max(highest + 1, _BLOCK + 1)  # Excel's own ids start at 1025
    ids = range(first, first + len(addresses))
    shapes = _shapes_xml(ids, addresses, width, height, prefixes)
    if 'id="_x0000_t202"' not in vml:
        shapes = _SHAPETYPE_202.format(**prefixes) + shapes
    m = _IDMAP.search(vml)
    if m is not None:  # the blocks of the new ids are claimed too
        blocks = {int(b) for b in re.findall(r"\d+", m.group(2))} | {i // _BLOCK for i in ids}
        claimed = ",".join(str(b) for b in sorted(blocks))
        vml = vml[: m.start()] + m.group(1) + claimed + m.group(3) + vml[m.end():]
        root = re.search(r"<xml\b[^>]*>", vml)
        end = vml.rfind("</xml>")
    if missing:
        vml = vml[: root.end() - 1] + "".join(missing) + vml[root.end() - 1:]
        end = vml.rfind("</xml>")
    return vml[:end] + shapes + vml[end:]


__all__ = ["CT_COMMENTS", "CT_VML", "REL_COMMENTS", "REL_VML", "add_notes"]
