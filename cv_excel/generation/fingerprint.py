"""Fingerprint of the prefilled values, for tamper detection on return.

Generation hashes what it wrote in every locked prefilled cell; intake reads
the same cells back (by name) and hashes them the same way. Values are
canonicalised first, because a spreadsheet gives back ``2500.0`` for the
``Decimal("2500.00")`` that was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from cv_excel.text import clean_text


def canonical(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        try:
            d = Decimal(str(value)).normalize()
        except InvalidOperation:
            return str(value)
        return format(d, "f") if d != 0 else "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return clean_text(str(value))


def fingerprint(cells: dict[str, Any]) -> str:
    """``cells`` maps a stable key (« feuille|nom[|ligne|colonne] ») to its value."""
    payload = json.dumps(sorted((k, canonical(v)) for k, v in cells.items()),
                         ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()
