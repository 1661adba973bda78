"""One text normalisation for the writer, the fingerprint, the reader and the checks.

Whatever reaches a cell, a sheet name, a fingerprint or a comparison goes
through these functions, so the four can never disagree about what a text is:

- Unicode NFC (an accent typed as « e + ◌́ » is the same « é » as everywhere else);
- every line break (CR-LF, CR, vertical tab, form feed, U+0085, U+2028/2029)
  becomes ``\\n``; other control characters, lone surrogates and U+FFFE/U+FFFF
  are removed (XML 1.0 forbids them, Excel would refuse the file);
- Excel's limits are counted as Excel counts them, in UTF-16 code units: 32,767
  per cell, 31 per sheet name (an emoji counts two), never cutting a pair.

List answers are matched by :func:`match_key` (case, spaces and Unicode form
ignored) and always stored with the list's own spelling (:func:`canonical_choice`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

EXCEL_CELL_MAX = 32_767  # UTF-16 code units in one cell
EXCEL_SHEET_MAX = 31  # UTF-16 code units in a sheet name
ELLIPSIS = "…"

_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0 controls except tab and line feed, C1 controls, lone surrogates, U+FFFE/U+FFFF.
_REMOVED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\n\t]")


def utf16_len(text: str) -> int:
    """Length as Excel counts it: characters outside the BMP count two."""
    if text.isascii():  # the common case, without a Python loop over the characters
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip_utf16(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, ending with ``ellipsis`` when cut."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - utf16_len(ellipsis)
    out, used = [], 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out) + ellipsis


def clean_text(text: str, limit: int | None = EXCEL_CELL_MAX) -> str:
    """The one normal form of a text written to, or read from, a workbook.

    Called for every text the tool reads or writes: what is already in the normal form
    costs little (a printable text holds no break nor removed character, ``normalize``
    returns an NFC text as it is, and a text of at most half the limit fits even if
    every character counted two units)."""
    text = str(text)
    if not text.isprintable():
        text = _REMOVED.sub("", _LINE_BREAKS.sub("\n", text))
    text = unicodedata.normalize("NFC", text)
    if limit is None or len(text) <= limit // 2:
        return text
    return clip_utf16(text, limit)


def clean_value(value: Any) -> Any:
    """:func:`clean_text` on strings, anything else unchanged."""
    return clean_text(value) if isinstance(value, str) else value


def has_removed_characters(text: str) -> bool:
    """True when :func:`clean_text` would remove a character (not only change a break)."""
    return _REMOVED.search(text) is not None


def match_key(text: str) -> str:
    """What two spellings of the same answer share: NFC, spaces collapsed, case folded."""
    return " ".join(clean_text(text, limit=None).split()).casefold()


def header_key(text: str) -> str:
    """Case- and accent-insensitive form of a CSV header or a name the Direction typed."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def decode_text_file(raw: bytes) -> str:
    """A CSV the Direction saved: UTF-8 (with or without BOM) or Excel's Windows-1252;
    a workbook renamed ``.csv`` is refused (``ValueError``, French)."""
    if b"\x00" in raw:
        raise ValueError("ce n'est pas un fichier texte (classeur Excel renommé ?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict")


def sheet_title(text: str, limit: int = EXCEL_SHEET_MAX) -> str:
    """A sheet name Excel accepts: none of ``[]:*?/\\``, no apostrophe at either end,
    at most 31 UTF-16 units (cut without an ellipsis, which would waste a place)."""
    title = _SHEET_FORBIDDEN.sub("-", clean_text(text, limit=None))
    title = " ".join(title.split()).strip("' ")
    return clip_utf16(title, limit, ellipsis="").rstrip("' ") or "Feuille"


def as_decimal(value: Any) -> Decimal | None:
    """A finite number as a Decimal; None for text, booleans, NaN and infinities."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def canonical_choice(value: Any, allowed: Iterable[str | int]) -> str | int | None:
    """The list's own spelling of ``value``, or None when it is not in the list.

    Numbers compare numerically (``40``, ``40.0``, « 40 »); texts by :func:`match_key`.
    """
    number = as_decimal(value)
    if number is None and isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            number = None
        if number is not None and not number.is_finite():
            number = None
    key = match_key(value) if isinstance(value, str) else None
    for item in allowed:
        if isinstance(item, int | float) and not isinstance(item, bool):
            if number is not None and number == Decimal(str(item)):
                return item
        elif key is not None and match_key(str(item)) == key:
            return item
    return None
