"""Edit one worksheet part as text: set cell values and styles, hide rows, add
data validations and protection — nothing else of the sheet is touched.

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
from cv_excel.xlsx.refs import split_address

_SHEETDATA = re.compile(rb"<sheetData\s*/>|<sheetData>(.*?)</sheetData>", re.S)
_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR_R = re.compile(r'\br="([A-Z]+)(\d+)"')
_ATTR_S = re.compile(r'\bs="(\d+)"')
_SPANS = re.compile(r'\sspans="[^"]*"')  # a hint only; stale once cells are added
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


def cell_xml(ref: str, style: str | None, value: Any) -> str:
    """One ``<c>`` element holding ``value`` as a constant (never a formula)."""
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
    text = clean_text(str(value))
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
