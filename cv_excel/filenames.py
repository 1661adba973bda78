"""File names a person recognises and every system accepts (Windows included)."""

from __future__ import annotations

import re
import unicodedata

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
MAX_STEM = 120  # keeps full paths well under Windows' 260 characters


def safe_stem(text: str, max_length: int = MAX_STEM) -> str:
    """``2019 - Bilan - Assoc « A/B »`` → a name valid on Windows, macOS and Linux."""
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub("-", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = text[:max_length].rstrip(" .")
    if not text or text.split(".")[0].upper() in _RESERVED:
        text = f"_{text}"
    return text


def unique_name(stem: str, suffix: str, taken: set[str]) -> str:
    """``stem + suffix``, numbered when another file of this run already has it."""
    name, n = f"{stem}{suffix}", 2
    while name.lower() in taken:
        name, n = f"{stem} ({n}){suffix}", n + 1
    taken.add(name.lower())
    return name
