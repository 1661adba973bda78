"""Turn a read workbook (``ClasseurLu``) into the store's rows, leniently.

An accepted file may still carry warnings (a count typed as text, a stray
value): every converter returns ``None`` for what it cannot read instead of
raising, so one odd cell never stops an import.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from cv_excel.programmation.validators import parse_amount, parse_number, parse_year
from cv_excel.reader import ClasseurLu, SectionLue

BENEF_AGES = ("moins_12", "12_17", "18_25", "26_59", "60_plus")
BUDGET_TABLES = ("bud_charges", "bud_charges_contrib", "bud_produits", "bud_produits_contrib")
INDICATOR_COLUMNS = ("libelle", "type", "valeur_cible", "valeur_precedente", "valeur_annee",
                     "source", "commentaire")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # what an SQLite INTEGER holds


def text(value: Any) -> str | None:
    """Text as the user meant it: 12.0 → "12", dates in ISO, blanks → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    result = str(value).strip()
    return result or None


def count(value: Any) -> int | None:
    """A whole number of people or a score; "40" and 40.0 count, "une quarantaine" not.

    Never an int SQLite cannot hold (an INTEGER is 64 bits: ``1E+20`` raised
    OverflowError at insert time and stopped the whole run): such a value is None.
    Intake bounds every count far lower (spec.model); this is the last guard.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = parse_number(value)
    except (ValueError, ArithmeticError):
        return None
    if number != number.to_integral_value() or not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return int(number)


def amount(value: Any) -> str | None:
    """Euros as decimal text (SQLite has no decimal type; text keeps every cent)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return str(parse_amount(value))
    except (ValueError, ArithmeticError):
        return None


def quantity(value: Any) -> str | None:
    """A number as decimal text, not rounded to the cent (12.5 jeunes stays 12.5); None
    for what is not a finite number or is absurdly long (intake bounds it far lower)."""
    if value is None or isinstance(value, bool) or (isinstance(value, str)
                                                    and not value.strip()):
        return None
    try:
        number = parse_number(value)
    except (ValueError, ArithmeticError):
        return None
    if abs(number) >= 10**15:
        return None
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def date_iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        raw = value.strip()
        match = _FR_DATE.match(raw)
        try:
            if match:
                day, month, year = map(int, match.groups())
                return dt.date(year, month, day).isoformat()
            return dt.date.fromisoformat(raw[:10]).isoformat()
        except ValueError:
            return None
    return None


def year(value: Any) -> int | None:
    try:
        return parse_year(value)
    except ValueError:
        return None


def _v(section: SectionLue, name: str) -> Any:
    valeur = section.values.get(name)
    return None if valeur is None else valeur.value


def bilan_row(section: SectionLue) -> dict[str, Any]:
    """One action's bilan (column name → stored value), without keys."""
    row: dict[str, Any] = {
        "realisation": text(_v(section, "act_realisation")),
        "date_debut": date_iso(_v(section, "act_date_debut")),
        "date_fin": date_iso(_v(section, "act_date_fin")),
    }
    for who in ("total", "femmes", "hommes", "qpv", *BENEF_AGES):
        row[f"benef_{who}"] = count(_v(section, f"act_benef_{who}"))
    row["score"] = count(_v(section, "act_score"))
    row["valeur_atteinte"] = quantity(_v(section, "act_valeur_atteinte"))
    for name in ("score_justification", "mode_recueil", "valeur_constatee", "resultats",
                 "difficultes", "perspectives", "lieux_realisation", "observations"):
        row[name] = text(_v(section, f"act_{name}"))
    for name in ("ecarts_explication", "repartition_charges_indirectes"):
        row[name] = text(_v(section, f"bud_{name}"))
    return row


def budget_rows(section: SectionLue) -> list[tuple[str, str, str | None, str | None]]:
    """(tableau, ligne, prévu, réalisé) for every budget line holding a figure."""
    rows = []
    for tableau in BUDGET_TABLES:
        lines = section.tables.get(tableau, [])
        for key, line in zip(section.table_keys.get(tableau, []), lines, strict=False):
            prevu = amount(line["prevu"].value) if "prevu" in line else None
            realise = amount(line["realise"].value) if "realise" in line else None
            if prevu is not None or realise is not None:
                rows.append((tableau, key, prevu, realise))
    return rows


def suivi_row(section: SectionLue) -> dict[str, Any]:
    """One objective's follow-up by one référent, without keys."""
    return {name: text(_v(section, f"obj_{name}"))
            for name in ("avancement", "actions_realisees", "actions_en_cours", "resultats",
                         "difficultes", "propositions")}


def indicator_rows(section: SectionLue) -> list[dict[str, Any]]:
    """The filled rows of the fiche's indicators, then of the proposed ones."""
    rows = []
    for table, propose in (("obj_indicateurs", 0), ("obj_nouveaux_indicateurs", 1)):
        for rang, line in enumerate(section.tables.get(table, []), start=1):
            values = {col: text(line[col].value) if col in line else None
                      for col in INDICATOR_COLUMNS}
            if any(v is not None for v in values.values()):
                values["libelle"] = values["libelle"] or ""
                rows.append({"propose": propose, "rang": rang, **values})
    return rows


def section_key(lu: ClasseurLu, section: SectionLue) -> str:
    """The action numéro or objective code a section is about (its sheet title as a
    last resort, so an odd sheet is still stored somewhere visible)."""
    name = "act_numero" if lu.spec.kind == "porteur" else "obj_code"
    return text(_v(section, name)) or section.titre


def unique_sections(lu: ClasseurLu) -> list[tuple[str, SectionLue]]:
    """Sections by key, the first one winning if a key appears twice."""
    seen: dict[str, SectionLue] = {}
    for section in lu.sections:
        seen.setdefault(section_key(lu, section), section)
    return list(seen.items())


def as_decimal(stored: str | None) -> Decimal | None:
    return None if stored is None else Decimal(stored)
