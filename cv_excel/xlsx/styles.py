"""Cell styles: derive locked / unlocked variants of the template's own styles.

The generator decides protection from the specification, not from the
template's formatting, so a restyled template can never leave an input locked
or a prefilled amount editable. Each variant is a copy of the template's
``<xf>`` with a ``<protection>`` child, appended once and reused.
"""

from __future__ import annotations

import re

_CELLXFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)


class StylesXml:
    def __init__(self, data: bytes):
        m = _CELLXFS.search(data)
        if m is None:
            raise ValueError("styles.xml sans <cellXfs>")
        self._head, self._tail = data[: m.start()], data[m.end():]
        self.xfs: list[bytes] = [x.group(0) for x in _XF.finditer(m.group(1))]
        self._variants: dict[tuple[int, bool], int] = {}

    def copy(self) -> StylesXml:
        clone = object.__new__(StylesXml)
        clone._head, clone._tail = self._head, self._tail
        clone.xfs = list(self.xfs)
        clone._variants = dict(self._variants)
        return clone

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
