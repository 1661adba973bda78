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
                     "source", "commentaire", "unite", "valeur_reference", "annee_reference",
                     "panier", "cible_fiche")
# Typed as numbers in the référent workbook v2: stored as decimal text when they are one,
# as the text typed otherwise (« non disponible », or an old v1 free text).
INDICATOR_NUMBERS = ("valeur_cible", "valeur_reference", "valeur_annee")
SYNTHESE_FIELDS = ("avancement", "rag", "synthese", "difficultes", "propositions")
# The field holding a section's key, per kind of workbook.
SECTION_KEYS = {"porteur": "act_numero", "referent": "obj_code", "pilote": "os_code",
                "coordonnateur": "ori_code", "decisions": "dec_pilier"}
# Where a pilote's / coordonnateur's synthesis is stored: (niveau, field prefix).
NIVEAUX = {"pilote": ("strategique", "os"), "coordonnateur": ("orientation", "ori")}
_CODE = re.compile(r"\s*([^\s—–:-]+)")  # as intake reads it (intake.checks.cross)
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


def representant(lu: ClasseurLu) -> str | None:
    """The legal representative typed on the porteur's sheet (one per workbook)."""
    porteur = lu.single.get("porteur")
    return None if porteur is None else text(_v(porteur, "por_representant"))


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


def number_or_text(value: Any) -> str | None:
    """A number as decimal text (:func:`quantity`), anything else as the text typed."""
    number = quantity(value) if not isinstance(value, str) or value.strip() else None
    return number if number is not None else text(value)


def indicator_rows(section: SectionLue) -> list[dict[str, Any]]:
    """The filled rows of the fiche's indicators, then of the proposed ones."""
    rows = []
    for table, propose in (("obj_indicateurs", 0), ("obj_nouveaux_indicateurs", 1)):
        for rang, line in enumerate(section.tables.get(table, []), start=1):
            values: dict[str, Any] = {}
            for col in INDICATOR_COLUMNS:
                raw = line[col].value if col in line else None
                if col in INDICATOR_NUMBERS:
                    values[col] = number_or_text(raw)
                elif col == "annee_reference":
                    values[col] = year(raw)
                else:
                    values[col] = text(raw)
            if any(v is not None for v in values.values()):
                values["libelle"] = values["libelle"] or ""
                rows.append({"propose": propose, "rang": rang, **values})
    return rows


def piste_rows(section: SectionLue) -> list[dict[str, Any]]:
    """The fiche's pistes d'action and their state (rows holding anything)."""
    rows = []
    for rang, line in enumerate(section.tables.get("obj_pistes", []), start=1):
        values = {col: text(line[col].value) if col in line else None
                  for col in ("libelle", "etat", "commentaire")}
        if any(v is not None for v in values.values()):
            values["libelle"] = values["libelle"] or ""
            rows.append({"rang": rang, **values})
    return rows


def synthese_row(section: SectionLue, prefix: str) -> dict[str, Any]:
    """A pilote's (``os``) or coordonnateur's (``ori``) synthesis of one level."""
    return {name: text(_v(section, f"{prefix}_{name}")) for name in SYNTHESE_FIELDS}


def code_of(value: Any) -> str | None:
    """« A — Cohésion sociale » → « A »; a bare code stays itself (upper case)."""
    raw = text(value)
    match = _CODE.match(raw) if raw is not None else None
    return match[1].upper() if match else None


def numero_decision(pilier: str, annee: int | None, revue: int | None, rang: int) -> str:
    """The number a new decision gets: « A-2019-R1-03 » (pilier, year, revue, row)."""
    when = f"{annee}-R{revue}" if revue is not None else f"{annee}"
    return f"{pilier}-{when}-{rang:02d}"


_NUMERO_DECISION = re.compile(r"^[A-Za-z0-9]+-(\d{4})(?:-R(\d+))?-\d+$")


def opening_of(numero: str) -> tuple[int, int | None] | None:
    """The (year, revue) a decision number was given at (« A-2019-R1-03 » → (2019, 1)),
    for a decision whose first record the store does not hold; None for another form."""
    match = _NUMERO_DECISION.match(numero.strip())
    if match is None:
        return None
    return int(match[1]), None if match[2] is None else int(match[2])


def decision_rows(section: SectionLue) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(decisions followed up, new decisions) of one pilier's sheet of a relevé, without
    the keys the store adds (numbers of new decisions, dates of opening)."""
    def row(line: dict, rang: int) -> dict[str, Any]:
        return {"rang": rang,
                "decision": text(line["decision"].value) if "decision" in line else None,
                "type": text(line["type"].value) if "type" in line else None,
                "code": code_of(line["code"].value) if "code" in line else None,
                "responsable": text(line["responsable"].value) if "responsable" in line
                else None,
                "echeance": date_iso(line["echeance"].value) if "echeance" in line else None,
                "statut": text(line["statut"].value) if "statut" in line else None,
                "commentaire": text(line["commentaire"].value) if "commentaire" in line
                else None}

    suivies = []
    for rang, line in enumerate(section.tables.get("dec_suivi", []), start=1):
        numero = text(line["numero"].value) if "numero" in line else None
        if numero is not None:
            suivies.append({"numero": numero, **row(line, rang)})
    nouvelles = []
    for rang, line in enumerate(section.tables.get("dec_nouvelles", []), start=1):
        if any(v.value not in (None, "") and not (isinstance(v.value, str)
                                                   and not v.value.strip())
               for v in line.values()):
            nouvelles.append(row(line, rang))
    return suivies, nouvelles


def section_key(lu: ClasseurLu, section: SectionLue) -> str:
    """The action numéro, objective / orientation code or pilier a section is about (its
    sheet title as a last resort, so an odd sheet is still stored somewhere visible)."""
    name = SECTION_KEYS.get(lu.spec.kind, "obj_code")
    value = _v(section, name)
    key = code_of(value) if lu.spec.kind == "decisions" else text(value)
    return key or section.titre


def revue(value: Any) -> int | None:
    """A revue number (``meta_revue``): a whole number from 1, else None (annual)."""
    number = count(value)
    return number if number is not None and number >= 1 else None


def unique_sections(lu: ClasseurLu) -> list[tuple[str, SectionLue]]:
    """Sections by key, the first one winning if a key appears twice."""
    seen: dict[str, SectionLue] = {}
    for section in lu.sections:
        seen.setdefault(section_key(lu, section), section)
    return list(seen.items())


def as_decimal(stored: str | None) -> Decimal | None:
    return None if stored is None else Decimal(stored)
