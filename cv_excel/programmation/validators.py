"""Small pure checks and parsers for the values typed by the Direction.

No I/O and no dependency on the rest of the package, so the référentiel loader,
the checker and the tests can all share them. Parsers raise ``ValueError``;
``*_error`` functions return a French detail text (or ``None`` when valid).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Every kind of space Excel or a French keyboard may put inside a number or code.
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_LA_POSTE_SIREN = "356000000"
_CENT = Decimal("0.01")

YEAR_MIN, YEAR_MAX = 2000, 2100


def strip_spaces(text: str) -> str:
    """Remove all spaces, including no-break and narrow no-break ones."""
    return _SPACES.sub("", text)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def luhn_complete(digits: str) -> str:
    """``digits`` followed by the digit that makes them pass the Luhn checksum: fictitious
    but valid SIREN/SIRET for the demo data and the benchmarks."""
    for last in "0123456789":
        if _luhn_ok(digits + last):
            return digits + last
    raise AssertionError(digits)  # one of the ten digits always completes the sum


def siret_error(value: Any) -> str | None:
    """Why ``value`` is not a valid SIRET, in French, or ``None`` when it is.

    Luhn checksum, except for La Poste (SIREN 356000000) whose establishments
    follow INSEE's rule « somme des chiffres multiple de 5 ».
    """
    text = strip_spaces(str(value or ""))
    if not text:
        return "il est vide"
    if not text.isdigit() or not text.isascii():
        return "il ne doit contenir que des chiffres"
    if len(text) != 14:
        return f"il doit compter 14 chiffres (il en compte {len(text)})"
    if _luhn_ok(text):
        return None
    if text.startswith(_LA_POSTE_SIREN) and sum(map(int, text)) % 5 == 0:
        return None
    return "la clé de contrôle est fausse (un chiffre est probablement mal recopié)"


def is_valid_siret(value: Any) -> bool:
    return siret_error(value) is None


# W + 3 characters (department part, letters possible e.g. 2A, 9M) + 6 digits.
_RNA = re.compile(r"^W\d[0-9A-Z]{2}\d{6}$")


def is_valid_rna(value: Any) -> bool:
    """Répertoire national des associations number, e.g. W941234567."""
    return bool(_RNA.match(strip_spaces(str(value or "")).upper()))


_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)


def is_valid_email(value: Any) -> bool:
    """Pragmatic address check (local@domain.tld), no DNS lookup."""
    text = str(value or "").strip()
    return len(text) <= 254 and bool(_EMAIL.match(text))


_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def parse_amount(value: Any) -> Decimal:
    """Euros as a Decimal with 2 decimals, from a number or French-typed text.

    Accepts ``2500``, ``2500.5``, ``"2 500,50"``, ``"2500 €"``, ``"2.500,50"``.
    A single dot or comma is the decimal separator; repeated ones group thousands.
    Raises ``ValueError`` for anything that is not a number (words, empty text) and for
    a number too long to be rounded to the cent (a 30-digit text): never another error.
    """
    number = parse_number(value)
    try:
        return number.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError(f"montant hors limites : {value!r}") from exc


def parse_number(value: Any) -> Decimal:
    """The exact finite number behind ``value`` (same spellings as :func:`parse_amount`),
    not rounded, however large: the caller compares it with its bounds.

    Raises ``ValueError`` for anything that is not a number (booleans, words, NaN,
    infinities, exponent notation typed as text).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"montant non numérique : {value!r}")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"montant non numérique : {value!r}")
        number = Decimal(repr(value))
    else:
        number = _parse_amount_text(str(value))
    if not number.is_finite():
        raise ValueError(f"montant non numérique : {value!r}")
    return number


def scientific(number: Decimal) -> str:
    """An absurdly large number as Excel shows it, French style: « 1E+20 », « 1,235E+29 »
    (never three hundred digits in a message)."""
    mantissa, exponent = f"{number:.3E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}".replace(".", ",")


def _parse_amount_text(text: str) -> Decimal:
    cleaned = strip_spaces(text.replace("€", "")).removesuffix("EUR").removesuffix("eur")
    commas, dots = cleaned.count(","), cleaned.count(".")
    if commas and dots:  # the last separator is the decimal one
        thousands = "." if cleaned.rfind(",") > cleaned.rfind(".") else ","
        cleaned = cleaned.replace(thousands, "").replace(",", ".")
    elif commas:
        cleaned = cleaned.replace(",", "." if commas == 1 else "")
    elif dots > 1:
        cleaned = cleaned.replace(".", "")
    if not _NUMBER.match(cleaned):
        raise ValueError(f"montant non numérique : {text!r}")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(f"montant non numérique : {text!r}") from exc


def parse_year(value: Any) -> int:
    """A four-digit programmation year (2000–2100), from a number or text."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"année invalide : {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"année invalide : {value!r}")
        year = int(value)
    elif isinstance(value, int):
        year = value
    else:
        text = strip_spaces(str(value))
        if not (text.isdigit() and text.isascii()):
            raise ValueError(f"année invalide : {value!r}")
        year = int(text)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError(f"année invalide : {value!r}")
    return year


# JJ/MM/AAAA (also with « . » or « - »), or ISO AAAA-MM-JJ.
_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DATES_SEPARATOR = " ; "


def parse_date(value: Any) -> dt.date:
    """A calendar date from a date cell or a French-typed text (15/03/2019 or 2019-03-15),
    year between :data:`YEAR_MIN` and :data:`YEAR_MAX`. Raises ``ValueError`` otherwise
    (an Excel serial number in a cell not formatted as a date is refused: ambiguous)."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise ValueError(f"date avec une heure : {value!r}")
        value = value.date()
    if isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        text = strip_spaces(value)
        if m := _DATE_FR.match(text):
            day, month, year = (int(g) for g in m.groups())
        elif m := _DATE_ISO.match(text):
            year, month, day = (int(g) for g in m.groups())
        else:
            raise ValueError(f"date invalide : {value!r}")
        date = dt.date(year, month, day)  # ValueError for 31/02/2019
    else:
        raise ValueError(f"date invalide : {value!r}")
    if not YEAR_MIN <= date.year <= YEAR_MAX:
        raise ValueError(f"date hors limites : {value!r}")
    return date


def parse_dates(value: Any) -> list[dt.date]:
    """One or more dates in one cell, separated by « ; » (or « , », line breaks), in
    chronological order: « 15/03/2019 ; 20/09/2019 ». Raises ``ValueError`` naming the
    first part that is not a date."""
    if isinstance(value, dt.date):
        return [parse_date(value)]
    parts = [p.strip() for p in re.split(r"[;,\n]", str(value or ""))]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("aucune date")
    dates = []
    for part in parts:
        try:
            dates.append(parse_date(part))
        except ValueError:
            raise ValueError(part) from None
    return sorted(dates)


def format_date(date: dt.date) -> str:
    """French display of a date: 15/03/2019."""
    return date.strftime("%d/%m/%Y")


def format_dates(dates: list[dt.date]) -> str:
    """The cell text of several dates: « 15/03/2019 ; 20/09/2019 »."""
    return DATES_SEPARATOR.join(format_date(d) for d in dates)
