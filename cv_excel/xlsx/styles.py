"""Cell styles: derive locked / unlocked variants of the template's own styles.

The generator decides protection from the specification, not from the
template's formatting, so a restyled template can never leave an input locked
or a prefilled amount editable. Each variant is a copy of the template's
``<xf>`` with a ``<protection>`` child, appended once and reused.

The annotated copy of a returned workbook adds fills (a faulty cell keeps its own
style with a red or orange background: :meth:`StylesXml.with_fill`), fonts and whole
styles (its summary sheet), each appended once.
"""

from __future__ import annotations

import re

_CELLXFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)
_FILL_ID = re.compile(rb'\sfillId="\d+"')
_APPLY_FILL = re.compile(rb'\sapplyFill="\w+"')
_FONT_NAME = re.compile(rb'<name\b[^>]*\bval="([^"]*)"')


class StylesXml:
    def __init__(self, data: bytes):
        m = _CELLXFS.search(data)
        if m is None:
            raise ValueError("styles.xml sans <cellXfs>")
        self._head, self._tail = data[: m.start()], data[m.end():]
        self.xfs: list[bytes] = [x.group(0) for x in _XF.finditer(m.group(1))]
        self._variants: dict[tuple[int, bool], int] = {}
        self._added: dict[tuple[bytes, bytes], int] = {}  # (list tag, element) -> id
        self._filled: dict[tuple[int, int], int] = {}  # (style, fill id) -> style

    def copy(self) -> StylesXml:
        clone = object.__new__(StylesXml)
        clone._head, clone._tail = self._head, self._tail
        clone.xfs = list(self.xfs)
        clone._variants = dict(self._variants)
        clone._added = dict(self._added)
        clone._filled = dict(self._filled)
        return clone

    # --- fills, fonts and new styles (annotated copies) ---------------------------------
    def add_fill(self, rgb: str) -> int:
        """Id of a solid fill of colour ``rgb`` (``"FFFF7C80"``: alpha, red, green, blue)."""
        return self._append(b"fills", b"fill",
                            b'<fill><patternFill patternType="solid"><fgColor rgb="%s"/>'
                            b'<bgColor indexed="64"/></patternFill></fill>' % rgb.encode("ascii"))

    def add_font(self, *, bold: bool = False, size: float = 11, rgb: str | None = None,
                 underline: bool = False) -> int:
        """Id of a font of the workbook's own typeface (its default font's name)."""
        m = _FONT_NAME.search(self._block(b"fonts")[1])
        name = m.group(1) if m else b"Calibri"
        xml = (b"<font>" + (b"<b/>" if bold else b"") + (b"<u/>" if underline else b"")
               + b'<sz val="%s"/>' % f"{size:g}".encode("ascii")
               + (b'<color rgb="%s"/>' % rgb.encode("ascii") if rgb else b"")
               + b'<name val="%s"/></font>' % name)
        return self._append(b"fonts", b"font", xml)

    def add_xf(self, xf: bytes) -> int:
        """Index of a cell style given whole (an ``<xf>`` element), appended once."""
        key = (b"cellXfs", xf)
        if key not in self._added:
            self.xfs.append(xf)
            self._added[key] = len(self.xfs) - 1
        return self._added[key]

    def with_fill(self, index: int | None, fill_id: int) -> int:
        """Index of a style like ``index`` (None: the default) but with fill ``fill_id``;
        its font, borders, number format, alignment and protection are kept."""
        index = index or 0
        key = (index, fill_id)
        if key not in self._filled:
            xf = self.xfs[index]
            end = xf.index(b">")
            if xf[end - 1:end] == b"/":  # <xf …/>
                end -= 1
            start = _APPLY_FILL.sub(b"", _FILL_ID.sub(b"", xf[:end].rstrip()))
            self.xfs.append(start + b' fillId="%d" applyFill="1"' % fill_id + xf[end:])
            self._filled[key] = len(self.xfs) - 1
        return self._filled[key]

    def _block(self, tag: bytes) -> tuple[re.Match, bytes]:
        m = re.search(rb"<%s\b([^>]*)>(.*?)</%s>" % (tag, tag), self._head, re.S)
        if m is None:
            raise ValueError(f"styles.xml sans <{tag.decode()}>")
        return m, m.group(2)

    def _append(self, tag: bytes, item: bytes, xml: bytes) -> int:
        """Append ``xml`` to the list ``tag`` of the head (fonts, fills), once."""
        key = (tag, xml)
        if key in self._added:
            return self._added[key]
        m, inner = self._block(tag)
        count = len(re.findall(rb"<%s\b" % item, inner))
        attrs = re.sub(rb'\scount="[^"]*"', b"", m.group(1))
        block = b'<%s count="%d"%s>%s%s</%s>' % (tag, count + 1, attrs, inner, xml, tag)
        self._head = self._head[: m.start()] + block + self._head[m.end():]
        self._added[key] = count
        return count

    def with_protection(self, index: int | None, locked: bool) -> int:
        """Index of a style like ``index`` but with the given locking."""
        index = index or 0
        key = (index, locked)
        if key in self._variants:
            return self._variants[key]
        xf = self.xfs[index]
        xf = re.sub(rb"<protection\b[^>]*/>", b"", xf)
        protection = b'<protection locked="%d"/>' % int(locked)
        if xf.endswith(b"/>"):
            xf = xf[:-2] + b">" + protection + b"</xf>"
        else:
            # <protection> comes after <alignment> and is the last child before extLst.
            xf = xf.replace(b"</xf>", protection + b"</xf>") if b"<extLst" not in xf \
                else xf.replace(b"<extLst", protection + b"<extLst", 1)
        if b"applyProtection=" in xf:
            xf = re.sub(rb'applyProtection="\w+"', b'applyProtection="1"', xf, count=1)
        else:
            xf = xf.replace(b"<xf ", b'<xf applyProtection="1" ', 1)
        self.xfs.append(xf)
        self._variants[key] = len(self.xfs) - 1
        return self._variants[key]

    def to_bytes(self) -> bytes:
        return (self._head + b'<cellXfs count="%d">' % len(self.xfs) + b"".join(self.xfs)
                + b"</cellXfs>" + self._tail)
