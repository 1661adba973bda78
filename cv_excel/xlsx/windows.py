"""A large worksheet read by calamine a window of rows at a time.

calamine builds a sheet's whole grid before it gives the first row: the national
programmation (25,000 actions, 90 MB of sheet XML) is about 120 MiB of cells, held while
the rows are checked one by one. Here the sheet's XML is cut between two rows into
windows of about :data:`WINDOW_BYTES`, and each window is given to calamine inside a
small package made of the workbook's own parts (workbook, relationships, styles, shared
strings): every value is still read and typed by calamine itself (dates and their 1904
system, shared strings, booleans, errors), only never more than a window at once.

Only a sheet written the usual way is cut: unprefixed ``<sheetData>`` and ``<row>``
tags, every row with its ``r`` attribute in increasing order, nothing but elements
inside (no comment, CDATA section or processing instruction), which Excel, LibreOffice
and openpyxl all write. For any other sheet, or a small one, :func:`windowed_rows`
answers None and the caller reads the sheet whole, as calamine always did. A first
pass over the decompressed XML decides it (and where to cut) before a row is given, so
a sheet is never half read one way and half the other.

Rows come aligned on A1 and numbered from 0, as ``CalamineSheet.iter_rows()`` gives
them; rows without any value between two windows come as empty lists, and a row may
be shorter or longer than calamine's whole grid would make it (empty cells only): a
reader treats a missing cell as an empty one.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from python_calamine import CalamineWorkbook

from cv_excel.xlsx.package import WORKBOOK, WORKBOOK_RELS, XlsxPackage

WINDOW_BYTES = 1 << 20  # sheet XML per window (about 10 MB of memory at its reading);
# at least the shared strings' size, which every window parses again
_READ = 1 << 20  # decompressed bytes read at once
_SHEET_DATA = re.compile(rb"<sheetData(?=[\s/>])[^>]*?(/?)>")
_SHEET_DATA_END = b"</sheetData>"
_ROW_START = re.compile(rb"<row(?=[\s/>])([^>]*)>")
_ROW_END = b"</row>"
_R = re.compile(rb"""\sr\s*=\s*["']([0-9]{1,7})["']""")
# What the cut cannot see through: a comment, CDATA, a processing instruction, a prefix.
_UNUSUAL = re.compile(rb"<!--|<!\[CDATA\[|<\?|</?[A-Za-z_][\w.-]*:")
_HEAD_UNUSUAL = re.compile(rb"<!--|<!\[CDATA\[|<\?(?!xml\s)")  # could hide a <sheetData>
_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData/></worksheet>")
_TAIL = b"</sheetData></worksheet>"


class FenetreIllisible(Exception):
    """calamine could not read a window of the sheet (a damaged cell): the sheet is
    damaged, as calamine would have said reading it whole."""


@dataclass
class _Plan:
    """Where the sheet's XML is cut: offsets in the decompressed part."""

    head_end: int = -1  # just after <sheetData ...>
    data_end: int = -1  # at </sheetData>
    cuts: list[int] = field(default_factory=list)  # each just after a </row>


def _pieces(zf: zipfile.ZipFile, part: str) -> Iterator[tuple[int, bytes]]:
    """The decompressed part in pieces that each end just after a ``>`` (no tag is cut:
    a tag's attributes hold no ``>`` in the sheets this module cuts), with their offset."""
    offset, carry = 0, b""
    with zf.open(part) as fh:
        while True:
            data = fh.read(_READ)
            if not data:
                break
            data = carry + data
            end = data.rfind(b">") + 1
            if end == 0:
                carry = data
                continue
            yield offset, data[:end]
            offset += end
            carry = data[end:]
    if carry:
        yield offset, carry


def _plan(zf: zipfile.ZipFile, part: str, window_bytes: int) -> _Plan | None:
    """The cuts, or None when the sheet is not one this module may cut."""
    plan = _Plan()
    last_row, start = 0, -1
    for offset, piece in _pieces(zf, part):
        at = 0
        if plan.head_end < 0:
            m = _SHEET_DATA.search(piece)
            if _HEAD_UNUSUAL.search(piece, 0, m.start() if m else len(piece)):
                return None
            if m is None:
                if b"sheetData" in piece:
                    return None
                continue
            if m.group(1):  # <sheetData/>: nothing to read
                return None
            plan.head_end = start = offset + m.end()
            at = m.end()
        body = piece[at:]
        stop = body.find(_SHEET_DATA_END)
        if stop >= 0:
            body = body[:stop]
        if _UNUSUAL.search(body):
            return None
        for m in _ROW_START.finditer(body):
            r = _R.search(m.group(1))
            if r is None or int(r.group(1)) <= last_row:
                return None
            last_row = int(r.group(1))
        base = offset + at  # where ``body`` starts in the part
        while True:  # cut after the first row that ends a window's size after the last cut
            end = body.find(_ROW_END, max(0, start + window_bytes - len(_ROW_END) - base))
            if end < 0:
                break
            start = base + end + len(_ROW_END)
            plan.cuts.append(start)
        if stop >= 0:
            plan.data_end = base + stop
            return plan if plan.cuts else None  # one window: the whole sheet is as cheap
    return None  # no </sheetData>: not a sheet calamine would read either


def _windows(zf: zipfile.ZipFile, part: str, plan: _Plan) -> Iterator[bytes]:
    """Each window's sheet XML: the sheet's head, its rows, the end tags."""
    head = bytearray()
    window = bytearray()
    bounds = [*plan.cuts, plan.data_end]
    for offset, piece in _pieces(zf, part):
        position = offset
        if offset < plan.head_end:
            take = min(len(piece), plan.head_end - offset)
            head += piece[:take]
            position = offset + take
        while bounds and position < offset + len(piece):
            take = min(offset + len(piece), bounds[0]) - position
            window += piece[position - offset:position - offset + take]
            position += take
            if position == bounds[0]:
                bounds.pop(0)
                yield bytes(head) + bytes(window) + _TAIL
                window.clear()
        if not bounds:
            return


def _static_parts(zf: zipfile.ZipFile, part: str) -> dict[str, bytes]:
    """What calamine needs beside the window: the package's relationships, content
    types, workbook, styles, shared strings and theme; every other worksheet empty."""
    kept = {}
    for info in zf.infolist():
        name = info.filename
        if name == part:
            continue
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            kept[name] = _EMPTY_SHEET
        elif (name.endswith(".rels") or name in (WORKBOOK, "[Content_Types].xml")
              or name.startswith(("xl/styles", "xl/theme/")) or "sharedStrings" in name):
            kept[name] = zf.read(info)
    return kept


def _package(static: dict[str, bytes], part: str, sheet: bytes) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, data in static.items():
            out.writestr(name, data)
        out.writestr(part, sheet)
    buffer.seek(0)
    return buffer


def sheet_part(zf: zipfile.ZipFile, name: str) -> str | None:
    """The part of the sheet called ``name``, from the workbook and its relationships."""
    try:
        parts = {p: zf.read(p) for p in (WORKBOOK, WORKBOOK_RELS)}
        return next((s.path for s in XlsxPackage(parts).sheets() if s.name == name), None)
    except Exception:  # noqa: BLE001 - an unusual package: read whole by the caller
        return None


def windowed_rows(path: Any, name: str, window_bytes: int | None = None
                  ) -> Iterator[list[Any]] | None:
    """The rows of sheet ``name`` of the xlsx at ``path``, a window at a time, or None
    when the sheet is small or not cut the usual way (the caller reads it whole). A
    window calamine cannot read raises :class:`FenetreIllisible` while rows are given."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return None
    try:
        part = sheet_part(zf, name)
        strings = sum(i.file_size for i in zf.infolist() if "sharedStrings" in i.filename)
        window_bytes = max(window_bytes or WINDOW_BYTES, strings)
        if part is None or zf.getinfo(part).file_size <= window_bytes:
            zf.close()
            return None
        plan = _plan(zf, part, window_bytes)
    except Exception:  # noqa: BLE001 - damaged: calamine's own reading says how
        zf.close()
        return None
    if plan is None:
        zf.close()
        return None
    return _rows(zf, part, name, plan)


def _rows(zf: zipfile.ZipFile, part: str, name: str, plan: _Plan) -> Iterator[list[Any]]:
    with zf:
        static = _static_parts(zf, part)
        done = 0  # rows given so far
        for sheet_xml in _windows(zf, part, plan):
            try:
                with CalamineWorkbook.from_filelike(_package(static, part, sheet_xml)) as wb:
                    sheet = wb.get_sheet_by_name(name)
                    if sheet.start is None:
                        continue
                    first, pad = sheet.start
                    rows = sheet.to_python(skip_empty_area=True)
            except Exception as exc:  # noqa: BLE001 - any parser failure: a damaged sheet
                raise FenetreIllisible(name) from exc
            del sheet_xml
            for _ in range(done, first):
                yield []
            padding = [""] * pad
            for cells in rows:
                yield padding + cells if pad else cells
            done = first + len(rows)
