"""The one text normalisation (cv_excel.text): its shortcuts for texts already in the
normal form give what the rules give."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from cv_excel.text import _LINE_BREAKS, _REMOVED, clean_text, clip_utf16

BREAKS_AND_CONTROLS = "\r\n\x0b\x0c\x85\u2028\u2029\x00\x1f\x7f\x9f\ufffe\t \xa0"


def _rules(text: str, limit: int | None) -> str:
    """The rules, each applied: breaks, removals, NFC, the limit in UTF-16 units."""
    text = unicodedata.normalize("NFC", _REMOVED.sub("", _LINE_BREAKS.sub("\n", text)))
    return text if limit is None else clip_utf16(text, limit)


@given(st.one_of(st.text(max_size=200),
                 st.text(alphabet=st.sampled_from([*BREAKS_AND_CONTROLS, "e", "\u0301", "é",
                                                   "😀", "\ud800", "a"]), max_size=60)),
       st.one_of(st.none(), st.integers(min_value=2, max_value=80)))
def test_clean_text_is_the_rules(text, limit):
    assert clean_text(text, limit) == _rules(text, limit)


def test_a_long_text_is_clipped_in_utf16_units():
    assert clean_text("😀" * 20_000) == _rules("😀" * 20_000, 32_767)
    assert len(clean_text("a" * 40_000)) == 32_767
