"""Edit one worksheet part as text: set cell values and styles, hide rows, insert
rows (a table growing with its data), add data validations and protection — nothing
else of the sheet is touched.

The template sheet is parsed once into rows and cells (raw XML strings); each
generated workbook works on a cheap copy of that structure.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from cv_excel.text import clean_text
from cv_excel.xlsx.refs import (
    RowShift,
    cell_address,
    shift_formula,
    shift_sqref,
    split_address,
)

_SHEETDATA = re.compile(rb"<sheetData\s*/>|<sheetData>(.*?)</sheetData>", re.S)
_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR_R = re.compile(r'\br="([A-Z]+)(\d+)"')
_ATTR_S = re.compile(r'\bs="(\d+)"')
_ATTR_T = re.compile(r'\bt="(\w+)"')
_SPANS = re.compile(r'\sspans="[^"]*"')  # a hint only; stale once cells are added
_CELL_REF = re.compile(r'(<c\b[^>]*?\br=")([A-Z]+)(\d+)(")')
_ROW_REF = re.compile(r'\br="\d+"')
_HIDDEN = re.compile(r'\shidden="[^"]*"')
_F_ELEMENT = re.compile(r"(<f\b([^>]*?))(/>|>(.*?)</f>)", re.S)
_F_REF = re.compile(r'(\sref=")([^"]*)(")')
_NUMBER_VALUE = re.compile(r"<v>(-?\d+)</v>")
# Formulas of the sheet-level elements: conditional formats, validations (also the
# x14 ones of extLst).
_TAIL_FORMULA = re.compile(r"(<(formula|formula1|formula2|xm:f)>)(.*?)(</\2>)", re.S)
_SQREF_ATTR = re.compile(r'(\ssqref=")([^"]*)(")')
_XM_SQREF = re.compile(r"(<xm:sqref>)([^<]*)(</xm:sqref>)")
_MERGE = re.compile(r'<mergeCell ref="([^"]*)"\s*/>')
_MERGE_COUNT = re.compile(r'(<mergeCells\b[^>]*?\bcount=")\d+(")')
_HYPERLINK_REF = re.compile(r'(<hyperlink\b[^>]*?\bref=")([^"]*)(")')
_AUTOFILTER_REF = re.compile(r'(<autoFilter\b[^>]*?\bref=")([^"]*)(")')
_ROW_BREAKS = re.compile(r"<rowBreaks\b.*?</rowBreaks>", re.S)
_BRK_ID = re.compile(r'(<brk\b[^>]*?\bid=")(\d+)(")')
_DIMENSION_REF = re.compile(r'(<dimension\b[^>]*?\bref=")([^"]*)(")')
_CELL_ATTRS = re.compile(r'(\s(?:activeCell|topLeftCell)=")([^"]*)(")')
_CUSTOM_FORMAT = re.compile(r'\bcustomFormat="(?:1|true)"')
_COL = re.compile(r"<col\b[^>]*>")
_XML_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_LEGACY_DRAWING = re.compile(r'<legacyDrawing\b[^>]*?\s[\w]+:id="([^"]*)"')
_TAB_SELECTED = re.compile(rb'\stabSelected="[^"]*"')
# A start, end or empty tag (comments, declarations and instructions are skipped).
_TAG = re.compile(r"""<(/?)([A-Za-z_][\w.:-]*)
                      (?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""", re.X)
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))
_EXCEL_EPOCH = dt.date(1899, 12, 30)

# CT_Worksheet child order: an element is inserted before the first present successor.
_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
          "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
          "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
          "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
          "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
          "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
          "legacyDrawing", "legacyDrawingHF", "picture", "oleObjects", "controls",
          "webPublishItems", "tableParts", "extLst")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def excel_serial(value: dt.date | dt.datetime) -> float:
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((value - _EXCEL_EPOCH).days)


def number_text(value: int | float | Decimal) -> str:
    """A number as Excel writes it: integers as integers, never an exponent."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    d = Decimal(repr(value)) if isinstance(value, float) else value
    if not d.is_finite():
        raise ValueError(f"nombre non fini : {value!r}")
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def cell_xml(ref: str, style: str | None, value: Any, clean: bool = True) -> str:
    """One ``<c>`` element holding ``value`` as a constant (never a formula); ``clean``:
    False when a text is already :func:`~cv_excel.text.clean_text`'s normal form."""
    s = f' s="{style}"' if style is not None else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{s}><v>{number_text(excel_serial(value))}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"{s}><v>{number_text(value)}</v></c>'
    # The one normal form (NFC, "\n" breaks, no XML-forbidden character, 32,767 UTF-16
    # units): the fingerprint canonicalises texts the same way, so both agree.
    text = clean_text(str(value)) if clean else value
    if not text:
        return f'<c r="{ref}"{s}/>'
    text = escape(text)
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class SheetXml:
    """A worksheet split into head, rows (by number) and tail."""

    def __init__(self, head: bytes, rows: dict[int, list], tail: bytes):
        self.head = head
        self.rows = rows  # row number -> [attrs, {col index: cell xml}]
        self.tail = tail

    @classmethod
    def parse(cls, data: bytes) -> SheetXml:
        m = _SHEETDATA.search(data)
        if m is None:
            raise ValueError("feuille sans <sheetData>")
        rows: dict[int, list] = {}
        body = (m.group(1) or b"").decode("utf-8")
        for rm in _ROW.finditer(body):
            attrs, inner = _SPANS.sub("", rm.group(1)), rm.group(2) or ""
            number = int(re.search(r'\br="(\d+)"', attrs).group(1))
            cells = {}
            for cm in _CELL.finditer(inner):
                col = _col_index(_ATTR_R.search(cm.group(1)).group(1))
                cells[col] = cm.group(0)
            rows[number] = [attrs, cells]
        return cls(data[: m.start()], rows, data[m.end():])

    def copy(self) -> SheetXml:
        return SheetXml(self.head, {n: [r[0], dict(r[1])] for n, r in self.rows.items()},
                        self.tail)

    # --- cells --------------------------------------------------------------------------
    def _row(self, number: int) -> list:
        row = self.rows.get(number)
        if row is None:
            row = self.rows[number] = [f' r="{number}"', {}]
        return row

    def style(self, address: str) -> str | None:
        col, row = split_address(address)
        cell = self.rows.get(row, [None, {}])[1].get(col)
        if cell is None:
            return None
        m = _ATTR_S.search(cell[: cell.index(">")])
        return m.group(1) if m else None

    def set(self, address: str, value: Any, style: str | None = None) -> None:
        """Write a constant in a cell, keeping its style unless ``style`` is given."""
        col, row = split_address(address)
        keep = self.style(address) if style is None else style
        self._row(row)[1][col] = cell_xml(address, keep, value)

    def set_style(self, address: str, style: str) -> None:
        col, row = split_address(address)
        cells = self._row(row)[1]
        cell = cells.get(col)
        if cell is None:
            cells[col] = f'<c r="{address}" s="{style}"/>'
            return
        start = cell[: cell.index(">")]
        new_start = _ATTR_S.sub(f's="{style}"', start) if _ATTR_S.search(start) \
            else start.replace("<c ", f'<c s="{style}" ', 1)
        cells[col] = new_start + cell[len(start):]

    def effective_style(self, address: str) -> str | None:
        """The style a cell shows: its own; for a cell absent from the part, its row's
        (``customFormat``) or else its column's, as a spreadsheet program applies them."""
        col, row = split_address(address)
        attrs, cells = self.rows.get(row, ["", {}])
        if col in cells:
            return self.style(address)
        if _CUSTOM_FORMAT.search(attrs):
            m = _ATTR_S.search(attrs)
            if m:
                return m.group(1)
        for m in _COL.finditer(self.head.decode("utf-8")):
            a = dict(_XML_ATTR.findall(m.group(0)))
            if int(a.get("min", 0)) <= col <= int(a.get("max", 0)) and "style" in a:
                return a["style"]
        return None

    def merged_origin(self, address: str) -> str:
        """The top-left cell of the merged range holding ``address`` (itself when it is
        not merged): the cell a spreadsheet program shows for the range."""
        if "<mergeCell" not in (tail := self.tail.decode("utf-8")):
            return address
        col, row = split_address(address)
        for m in _MERGE.finditer(tail):
            first, _, last = m.group(1).partition(":")
            if not last:
                continue
            (c1, r1), (c2, r2) = split_address(first), split_address(last)
            if min(c1, c2) <= col <= max(c1, c2) and min(r1, r2) <= row <= max(r1, r2):
                return cell_address(min(c1, c2), min(r1, r2))
        return address

    def legacy_drawing(self) -> str | None:
        """Relationship id of the sheet's legacy (VML) drawing: its notes' shapes."""
        m = _LEGACY_DRAWING.search(self.tail.decode("utf-8"))
        return m.group(1) if m else None

    def add_legacy_drawing(self, rid: str) -> None:
        """Point the sheet at its legacy drawing (the part holding its notes' shapes)."""
        self.tail = insert_child(self.tail.decode("utf-8"), "legacyDrawing",
                                 f'<legacyDrawing xmlns:r="{_NS_REL}" r:id="{rid}"/>'
                                 ).encode("utf-8")

    def hide_row(self, number: int) -> None:
        row = self._row(number)
        if 'hidden="' not in row[0]:
            row[0] += ' hidden="1"'

    # --- sheet-level elements -----------------------------------------------------------
    def _insert(self, element: str, xml: str) -> None:
        """Insert ``xml`` in the tail at the schema position of ``element``."""
        tail = self.tail.decode("utf-8")
        for successor in _ORDER[_ORDER.index(element) + 1:]:
            m = re.search(rf"<{successor}[\s/>]", tail)
            if m:
                tail = tail[: m.start()] + xml + tail[m.start():]
                break
        else:
            tail = tail.replace("</worksheet>", xml + "</worksheet>")
        self.tail = tail.encode("utf-8")

    def protect(self, password_hash: str | None = None) -> None:
        """Protect the sheet: locked cells read-only; rows and columns may be resized."""
        tail = re.sub(rb"<sheetProtection\b[^>]*/>", b"", self.tail)
        self.tail = tail
        pwd = f' password="{password_hash}"' if password_hash else ""
        self._insert("sheetProtection",
                     f'<sheetProtection{pwd} sheet="1" objects="1" scenarios="1" '
                     'formatColumns="0" formatRows="0"/>')

    def add_validations(self, items: list[str]) -> None:
        """Append ``<dataValidation>`` elements, keeping the template's own ones."""
        if not items:
            return
        tail = self.tail.decode("utf-8")
        m = re.search(r"<dataValidations\b[^>]*>(.*?)</dataValidations>", tail, re.S)
        if m:
            existing = m.group(1)
            count = existing.count("<dataValidation ") + existing.count("<dataValidation>")
            block = (f'<dataValidations count="{count + len(items)}">{existing}'
                     f'{"".join(items)}</dataValidations>')
            self.tail = (tail[: m.start()] + block + tail[m.end():]).encode("utf-8")
        else:
            self._insert("dataValidations", f'<dataValidations count="{len(items)}">'
                                            f'{"".join(items)}</dataValidations>')

    # --- inserting rows -----------------------------------------------------------------
    def insert_rows(self, shift: RowShift, sheet_title: str | None = None) -> None:
        """Insert rows as Excel's « insert rows » does, for every insertion of ``shift``.

        Every row below an insertion point moves down with its cells, height, hidden and
        outline state; merged ranges, page breaks, hyperlinks, validations, conditional
        formats, the dimension, selections and every formula of the sheet follow (a
        reference naming ``sheet_title`` is this sheet's own). The inserted rows copy
        the style (row height, cell styles, single-row merges) of the row above them, and
        continue a column numbering 1, 2, 3… found there; they hold no value otherwise.
        Cost: one pass over the cells, whatever the number of insertions.
        """
        if not shift:
            return
        own = {sheet_title.casefold(): shift} if sheet_title else {}
        models = {last: self.rows.get(last) for last, _ in shift.inserts}
        above = {last: self.rows.get(last - 1) for last, _ in shift.inserts}
        rows: dict[int, list] = {}
        for number, (attrs, cells) in self.rows.items():
            new = shift.row(number)
            if new != number:
                attrs = _ROW_REF.sub(f'r="{new}"', attrs, count=1)
                cells = {c: _move_cell(x, shift, own, new) for c, x in cells.items()}
            elif any("<f" in x for x in cells.values()):
                cells = {c: _move_cell(x, shift, own, None) for c, x in cells.items()}
            rows[new] = [attrs, cells]
        single_merges: dict[int, list[str]] = {}
        for m in _MERGE.finditer(self.tail.decode("utf-8")):
            bounds = _merge_rows(m.group(1))
            if bounds is not None and bounds[0] == bounds[1] and bounds[0] in models:
                single_merges.setdefault(bounds[0], []).append(m.group(1))
        for last, first, count in shift.new_rows():
            model = models[last]
            if model is None:
                continue
            attrs = _HIDDEN.sub("", model[0])
            numbers = _sequence(model[1], above[last])
            for k in range(count):
                row = first + k
                cells = {}
                for col, cell in model[1].items():
                    style = _ATTR_S.search(cell[: cell.index(">")])
                    ref = _CELL_REF.search(cell).group(2) + str(row)
                    if col in numbers:
                        cells[col] = cell_xml(ref, style.group(1) if style else None,
                                              numbers[col] + 1 + k)
                    elif style is not None:
                        cells[col] = f'<c r="{ref}" s="{style.group(1)}"/>'
                rows[row] = [_ROW_REF.sub(f'r="{row}"', attrs, count=1), cells]
        self.rows = rows
        self.head = _shift_head(self.head.decode("utf-8"), shift).encode("utf-8")
        self.tail = _shift_tail(self.tail.decode("utf-8"), shift, own,
                                single_merges).encode("utf-8")

    def unselect_tab(self) -> None:
        """Several selected tabs make Excel group the sheets: keep one selected."""
        self.head = self.head.replace(b' tabSelected="1"', b"")

    # --- output -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        parts = []
        for number in sorted(self.rows):
            attrs, cells = self.rows[number]
            if cells:
                parts.append(f"<row{attrs}>{''.join(cells[c] for c in sorted(cells))}</row>")
            else:
                parts.append(f"<row{attrs}/>")
        body = "".join(parts).encode("utf-8")
        head = re.sub(rb"<dimension\b[^>]*/>", b"", self.head)
        return head + b"<sheetData>" + body + b"</sheetData>" + self.tail


def without_tab_selected(part: bytes) -> bytes:
    """A sheet part (or its head) with no selected tab: another sheet is selected."""
    end = part.find(b"<sheetData")
    head = part if end < 0 else part[:end]
    new = _TAB_SELECTED.sub(b"", head)
    return part if new == head else new + (b"" if end < 0 else part[end:])


def insert_child(tail: str, element: str, xml: str) -> str:
    """Insert ``xml`` among the worksheet's children after ``<sheetData>`` (``tail``) at
    the schema position of ``element``: before its first successor present. Only the
    worksheet's own children count (an ``<extLst>`` inside a conditional format is not
    the sheet's)."""
    successors = set(_ORDER[_ORDER.index(element) + 1:])
    if not any(f"<{name}" in tail for name in successors):  # the usual case: at the end
        end = tail.rfind("</")
        if end < 0:
            raise ValueError("fin de feuille introuvable")
        return tail[:end] + xml + tail[end:]
    depth = 0
    for m in _TAG.finditer(tail):
        closing, name, empty = m.group(1), m.group(2), m.group(3)
        if closing:
            depth -= 1
            if depth < 0:  # </worksheet>
                return tail[: m.start()] + xml + tail[m.start():]
            continue
        if depth == 0 and name in successors:
            return tail[: m.start()] + xml + tail[m.start():]
        if not empty:
            depth += 1
    raise ValueError("fin de feuille introuvable")


def _unescape(text: str) -> str:
    for a, b in _UNESCAPE:
        text = text.replace(a, b)
    return text


def _shift_formula_xml(text: str, local: RowShift | None, sheets: dict[str, RowShift]) -> str:
    """A formula as stored in XML text, moved; unchanged bytes when nothing moved."""
    new = shift_formula(_unescape(text), local, sheets)
    return text if new == _unescape(text) else escape(new)


def _move_cell(cell: str, shift: RowShift, own: dict[str, RowShift], row: int | None) -> str:
    """One ``<c>`` moved to ``row`` (None: it stays), its formula following the rows."""
    if row is not None:
        cell = _CELL_REF.sub(lambda m: f"{m.group(1)}{m.group(2)}{row}{m.group(4)}", cell,
                             count=1)
    if "<f" not in cell:
        return cell

    def formula(m: re.Match) -> str:
        start = _F_REF.sub(lambda r: r.group(1) + shift_sqref(r.group(2), shift, grow=False)
                           + r.group(3), m.group(1))
        if m.group(4) is None:
            return start + m.group(3)
        return f"{start}>{_shift_formula_xml(m.group(4), shift, own)}</f>"

    return _F_ELEMENT.sub(formula, cell)


def _merge_rows(ref: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?", ref)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2) or m.group(1))


def _is_number(cell: str) -> bool:
    """A constant number (no formula, no text): ``<c r="A5" s="3" t="n"><v>4</v></c>``."""
    t = _ATTR_T.search(cell[: cell.index(">")])
    return "<f" not in cell and (t is None or t.group(1) == "n") and \
        _NUMBER_VALUE.search(cell) is not None


def _sequence(model: dict[int, str], above: list | None) -> dict[int, int]:
    """Columns of ``model`` numbering its rows (k there, k − 1 in the row above): the
    numbers the inserted rows continue."""
    found = {}
    for col, cell in model.items():
        prev = above[1].get(col) if above is not None else None
        if prev is None or not _is_number(cell) or not _is_number(prev):
            continue
        m, p = _NUMBER_VALUE.search(cell), _NUMBER_VALUE.search(prev)
        if p is not None and int(p.group(1)) == int(m.group(1)) - 1:
            found[col] = int(m.group(1))
    return found


def _sub(pattern: re.Pattern, text: str, change) -> str:
    return pattern.sub(lambda m: m.group(1) + change(m.group(2)) + m.group(3), text)


def _shift_head(head: str, shift: RowShift) -> str:
    head = _sub(_DIMENSION_REF, head, lambda v: shift_sqref(v, shift))
    head = _sub(_CELL_ATTRS, head, lambda v: shift_sqref(v, shift, grow=False))
    return _sub(_SQREF_ATTR, head, lambda v: shift_sqref(v, shift, grow=False))


def _shift_tail(tail: str, shift: RowShift, own: dict[str, RowShift],
                single_merges: dict[int, list[str]]) -> str:
    """Merged ranges, formats, validations, links and page breaks after an insertion."""
    added: list[str] = []
    for last, first, count in shift.new_rows():
        for ref in single_merges.get(last, ()):
            cols = re.sub(r"[$\d]", "", ref).split(":")
            added += [f'<mergeCell ref="{cols[0]}{r}:{cols[-1]}{r}"/>'
                      for r in range(first, first + count)]
    tail = _MERGE.sub(lambda m: f'<mergeCell ref="{shift_sqref(m.group(1), shift, grow=False)}"/>',
                      tail)
    if added:
        i = tail.index("</mergeCells>")
        tail = tail[:i] + "".join(added) + tail[i:]
        tail = _MERGE_COUNT.sub(lambda m: f"{m.group(1)}{tail.count('<mergeCell ')}{m.group(2)}",
                                tail, count=1)
    tail = _sub(_SQREF_ATTR, tail, lambda v: shift_sqref(v, shift))
    tail = _sub(_XM_SQREF, tail, lambda v: shift_sqref(v, shift))
    tail = _sub(_AUTOFILTER_REF, tail, lambda v: shift_sqref(v, shift))
    tail = _sub(_HYPERLINK_REF, tail, lambda v: shift_sqref(v, shift, grow=False))
    tail = _TAIL_FORMULA.sub(lambda m: m.group(1) + _shift_formula_xml(m.group(3), shift, own)
                             + m.group(4), tail)
    return _ROW_BREAKS.sub(lambda b: _sub(_BRK_ID, b.group(0),
                                          lambda v: str(shift.brk(int(v)))), tail)


def shift_sheet_references(xml: bytes, sheets: dict[str, RowShift]) -> bytes:
    """A rendered worksheet part whose formulas naming one of ``sheets`` (casefolded
    title → shift) follow the rows inserted there."""
    if not sheets or b"!" not in xml:
        return xml
    text = xml.decode("utf-8")

    def cell_formula(m: re.Match) -> str:
        if m.group(4) is None or "!" not in m.group(4):
            return m.group(0)
        return f"{m.group(1)}>{_shift_formula_xml(m.group(4), None, sheets)}</f>"

    def tail_formula(m: re.Match) -> str:
        if "!" not in m.group(3):
            return m.group(0)
        return m.group(1) + _shift_formula_xml(m.group(3), None, sheets) + m.group(4)

    new = _TAIL_FORMULA.sub(tail_formula, _F_ELEMENT.sub(cell_formula, text))
    return xml if new == text else new.encode("utf-8")


_ANCHOR_ROW = re.compile(r"(<(?:\w+:)?row>)(\d+)(</(?:\w+:)?row>)")
_COMMENT_REF = re.compile(r'(<comment\b[^>]*?\bref=")([^"]*)(")')
_VML_ROW = re.compile(r"(<x:Row>)\s*(\d+)\s*(</x:Row>)")
_VML_ANCHOR = re.compile(r"(<x:Anchor>)([^<]*)(</x:Anchor>)")


def shift_attached(xml: bytes, shift: RowShift) -> bytes:
    """A drawing, comments or VML part of a sheet whose rows were inserted: anchors
    (0-based rows) and comment cells follow their rows."""
    if not shift:
        return xml
    text = xml.decode("utf-8")

    def row0(value: str) -> str:
        return str(shift.row(int(value) + 1) - 1)

    def anchor(value: str) -> str:
        parts = value.split(",")
        if len(parts) != 8:
            return value
        for i in (2, 6):
            parts[i] = re.sub(r"\d+", lambda m: row0(m.group(0)), parts[i])
        return ",".join(parts)

    text = _sub(_ANCHOR_ROW, text, row0)
    text = _sub(_COMMENT_REF, text, lambda v: shift_sqref(v, shift, grow=False))
    text = _sub(_VML_ROW, text, row0)
    text = _sub(_VML_ANCHOR, text, anchor)
    return text.encode("utf-8")


def validation_xml(sqref: str, *, type_: str, formula1: str | None = None,
                   formula2: str | None = None, operator: str | None = None,
                   prompt_title: str = "", prompt: str = "", error_title: str = "",
                   error: str = "", allow_blank: bool = True) -> str:
    """One ``<dataValidation>`` element; texts are cut to Excel's limits (in UTF-16 units).

    Formulas are written as the file format stores them, without a leading ``=``.
    """
    attrs = [f'type="{type_}"']
    if operator:
        attrs.append(f'operator="{operator}"')
    if allow_blank:
        attrs.append('allowBlank="1"')
    attrs += ['showInputMessage="1"', 'showErrorMessage="1"']
    for key, text, limit in (("errorTitle", error_title, 32), ("error", error, 255),
                             ("promptTitle", prompt_title, 32), ("prompt", prompt, 255)):
        if text:
            attrs.append(f"{key}={quoteattr(clean_text(text, limit))}")
    attrs.append(f'sqref="{sqref}"')
    inner = ""
    for tag, formula in (("formula1", formula1), ("formula2", formula2)):
        if formula is not None:
            inner += f"<{tag}>{escape(validation_formula(formula))}</{tag}>"
    return f"<dataValidation {' '.join(attrs)}>{inner}</dataValidation>"


def validation_formula(formula: str) -> str:
    """A validation formula as stored in the file: no leading ``=``, no stray spaces."""
    return formula.strip().removeprefix("=").lstrip()
