"""Check the Direction's programmation workbook and read it as typed models.

The check is lazy: every stage collects findings and the next stage still runs
on what could be read, so the Direction gets the full list in one pass. Each
finding points at a cell (``Programmation!D12``), names the column as the
Direction wrote it and carries a catalogue code. Reading only succeeds when no
blocking finding remains.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from cv_excel.config import QUARTIERS_ORLY, Quartier
from cv_excel.findings import Finding, Report, Severity, make_finding
from cv_excel.listes import FINANCEURS, SOUS_THEMES_ANCT, theme_of
from cv_excel.nomenclature import (
    NIVEAUX,
    NomenclatureDossier,
    en_vigueur,
    nomenclature_p147,
    nomenclature_pour,
)
from cv_excel.programmation.models import Action, Programmation
from cv_excel.programmation.schema import BY_KEY, COLUMNS, SHEET, Colonne
from cv_excel.programmation.validators import (
    format_date,
    is_valid_email,
    is_valid_rna,
    parse_amount,
    parse_date,
    parse_dates,
    parse_number,
    parse_year,
    scientific,
    siret_error,
    strip_spaces,
)
from cv_excel.spec.model import MONTANT_MAX, VALEUR_OBJECTIF_MAX
from cv_excel.xlsx.windows import FenetreIllisible, windowed_rows

if TYPE_CHECKING:
    from cv_excel.referentiel.models import Referentiel

HEADER_SEARCH_ROWS = 10
_ZERO = Decimal("0")


class ProgrammationInvalide(Exception):
    """Raised by :func:`read_programmation`; ``report`` holds every finding."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"La programmation « {report.file} » contient "
                         f"{len(report.errors)} problème(s) bloquant(s).")


# --- public API -----------------------------------------------------------------------------
def check_programmation(
    path: str | os.PathLike[str], referentiel: Referentiel, annee: int | None = None,
    quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
    nomenclature: NomenclatureDossier | None = None,
) -> Report:
    """Every problem of the workbook, blocking or not; never raises on a bad file.
    ``quartiers``: the territory's quartiers (``cv_excel.toml``), for the « Code QPV ».
    ``nomenclature``: the P147 codes allowed; by default the one in force, else that of
    the working folder holding ``path`` (embedded data completed by the Direction's
    ``nomenclature_p147.csv``, whose faulty lines are reported here as warnings)."""
    return _run(Path(path), referentiel, annee, quartiers, nomenclature)


def read_programmation(
    path: str | os.PathLike[str], referentiel: Referentiel, annee: int | None = None,
    quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
    nomenclature: NomenclatureDossier | None = None,
) -> Programmation:
    """The typed programmation, or :class:`ProgrammationInvalide` if anything blocks."""
    rows: list[_Row] = []
    report = _run(Path(path), referentiel, annee, quartiers, nomenclature, rows.append)
    if not report.valid:
        raise ProgrammationInvalide(report)
    actions = []
    rows.reverse()
    while rows:  # each row let go once typed: the two are never all held at once
        actions.append(Action.from_row(rows.pop().values))
    return Programmation(annee=year_of(actions, annee), actions=actions)


def scan_programmation(
    path: str | os.PathLike[str], referentiel: Referentiel, keep: Callable[[_Row], None],
    annee: int | None = None, quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
    nomenclature: NomenclatureDossier | None = None,
) -> Report:
    """Every problem of the workbook, each data row handed to ``keep`` once checked (its
    typed ``values`` and ``bad`` keys; never the raw cells): the rows are read one at a
    time, so a reader that keeps less than every row holds less than the year. The
    report is complete only at the end: a later row may make the whole file invalid."""
    return _run(Path(path), referentiel, annee, quartiers, nomenclature, keep)


def year_of(actions: Iterable[Action] | set[int], annee: int | None) -> int | None:
    """``annee``, else the one year every action has (None when they differ)."""
    if annee is not None:
        return annee
    years = actions if isinstance(actions, set) else {a.annee for a in actions}
    return next(iter(years)) if len(years) == 1 else None


def format_finding(finding: Finding) -> str:
    """« Ligne 12, colonne « X » (Programmation!D12) : message → conseil »."""
    place = []
    if finding.row is not None:
        place.append(f"ligne {finding.row}")
    if finding.column:
        place.append(f"colonne « {finding.column} »")
    text = ", ".join(place) or (f"feuille « {finding.sheet} »" if finding.sheet else "fichier")
    text = text[0].upper() + text[1:]
    if finding.sheet and finding.cell:
        text += f" ({finding.sheet}!{finding.cell})"
    text += f" : {finding.message}"
    if finding.hint:
        text += f" → {finding.hint}"
    if finding.severity is Severity.AVERTISSEMENT:
        text = "Avertissement – " + text
    return text


def format_report(report: Report) -> list[str]:
    """One French line per finding, in file order, for the command line."""
    return [format_finding(f) for f in report.findings]


# --- pipeline -------------------------------------------------------------------------------
@dataclass
class _Row:
    number: int  # Excel row number
    raw: list[Any]
    values: dict[str, Any] = field(default_factory=dict)  # clean typed values
    bad: set[str] = field(default_factory=set)  # keys whose value was rejected


@dataclass
class _Sheet:
    """Where things are, so that every finding can name its cell."""

    file: str
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)  # key -> 0-based column index

    def at(self, code: str, row: int, key: str, value: Any = None, **context: Any) -> Finding:
        index = self.columns.get(key)
        cell = f"{get_column_letter(index + 1)}{row}" if index is not None else None
        return make_finding(code, value=value, file=self.file, sheet=SHEET, cell=cell, row=row,
                            column=BY_KEY[key].header, field=key, **context)


def _run(path: Path, referentiel: Referentiel, annee: int | None,
         quartiers: Sequence[Quartier] = QUARTIERS_ORLY,
         nomenclature: NomenclatureDossier | None = None,
         keep: Callable[[_Row], None] | None = None) -> Report:
    dossier = nomenclature or nomenclature_pour(path)
    with en_vigueur(dossier):
        report = _check(path, referentiel, annee, quartiers, keep or (lambda _row: None))
    report.extend(dossier.findings)
    return report


def _check(path: Path, referentiel: Referentiel, annee: int | None,
           quartiers: Sequence[Quartier], keep: Callable[[_Row], None]) -> Report:
    """Every row checked as it is read; the checks across rows (numbers, porteurs) keep
    only their keys, and add their findings after the rows', as a reader expects."""
    report = Report(file=str(path))
    lines, problem = _read_lines(path)
    if problem is not None:
        report.extend([problem])
        return report
    try:
        return _check_lines(path, lines, referentiel, annee, quartiers, keep, report)
    except FenetreIllisible as damaged:  # found in a window of a large sheet
        report.extend([make_finding("PROG_FICHIER_ILLISIBLE", file=str(path),
                                    detail=_DAMAGED.format(name=damaged.args[0]))])
        return report


def _check_lines(path: Path, lines: Iterator[list[Any]], referentiel: Referentiel,
                 annee: int | None, quartiers: Sequence[Quartier],
                 keep: Callable[[_Row], None], report: Report) -> Report:
    sheet = _Sheet(file=str(path))
    head = list(itertools.islice(lines, HEADER_SEARCH_ROWS))
    header_findings, header_index = _find_header(head, sheet)
    report.extend(header_findings)
    codes_oo = set(referentiel.codes_oo())
    codes_qpv = [strip_spaces(q.code).upper() for q in quartiers]
    across = (_Duplicates(sheet), _Porteurs(sheet))
    count = 0
    for number, cells in enumerate(itertools.chain(head[header_index + 1:], lines),
                                   start=header_index + 2):
        if not any(not _blank(_get(cells, i)) for i in sheet.columns.values()):
            continue
        row = _Row(number=number, raw=cells)
        count += 1
        report.extend(_check_values(row, sheet, codes_oo, codes_qpv))
        report.extend(_check_row_coherence(row, sheet, annee))
        for check in across:
            check.see(row)
        row.raw = []  # the typed values are what is kept
        keep(row)
    if not count:
        report.extend([make_finding("PROG_AUCUNE_ACTION", file=str(path), sheet=SHEET,
                                    row=sheet.header_row + 1)])
    for check in across:
        report.extend(check.findings)
    return report


# --- stage 1: open --------------------------------------------------------------------------
def _read_lines(path: Path) -> tuple[Iterator[list[Any]], Finding | None]:
    """The Programmation sheet's rows, aligned on A1, one at a time, or the finding
    saying why not. A large sheet is read by calamine a window of rows at a time
    (:mod:`cv_excel.xlsx.windows`: its whole grid is 120 MiB at the national volume); a
    small one whole. A Python row exists only while it is checked."""

    def unreadable(detail: str) -> tuple[Iterator[list[Any]], Finding]:
        return iter(()), make_finding("PROG_FICHIER_ILLISIBLE", file=str(path), detail=detail)

    if not path.is_file():
        return unreadable("le fichier est introuvable")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return unreadable(f"son extension « {path.suffix or '(aucune)'} » n'est pas .xlsx")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PermissionError:
        return unreadable("l'accès au fichier est refusé (est-il ouvert dans Excel ?)")
    except Exception:  # noqa: BLE001 - any parser failure means "not a readable workbook"
        return unreadable("son contenu n'est pas celui d'un classeur Excel "
                          "(fichier endommagé ou d'un autre format)")
    name = next((n for n in workbook.sheet_names if _norm(n) == _norm(SHEET)), None)
    if name is None:
        return iter(()), make_finding("PROG_FEUILLE_ABSENTE", file=str(path), sheet=SHEET)
    windows = windowed_rows(path, name)  # a large sheet: a window of rows at a time
    if windows is not None:
        workbook.close()
        return windows, None
    try:
        sheet = workbook.get_sheet_by_name(name)
        rows = sheet.iter_rows()
    except Exception:  # noqa: BLE001
        return unreadable(_DAMAGED.format(name=name))
    # calamine starts the rows at row 1 but the columns at the first one used.
    pad = [""] * (sheet.start[1] if sheet.start else 0)
    return ((pad + cells if pad else cells) for cells in rows), None


_DAMAGED = "la feuille « {name} » est endommagée"


# --- stage 2: header ------------------------------------------------------------------------
def _norm(text: Any) -> str:
    """Matching key for headers and list values: no accents, case, spaces or dash variants.
    A short text is normalised once per run (list values recur on thousands of rows)."""
    if isinstance(text, str) and len(text) <= 200:
        return _norm_known(text)
    return _norm_text(str(text))


@functools.lru_cache(maxsize=8192)
def _norm_known(text: str) -> str:
    return _norm_text(text)


def _norm_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    for variant, plain in (("’", "'"), ("–", "-"), ("—", "-"), ("‑", "-"), ("º", "°")):
        text = text.replace(variant, plain)
    return strip_spaces(text)


_HEADER_KEYS = {_norm(c.header): c for c in COLUMNS}


def _find_header(grid: list[list[Any]], sheet: _Sheet) -> tuple[list[Finding], int]:
    """Locate the header row among the first rows and map every schema column to it."""
    best_index, best_score = 0, 0
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        score = sum(1 for c in cells if _norm(c) in _HEADER_KEYS)
        if score > best_score:
            best_index, best_score = index, score
    sheet.header_row = best_index + 1
    findings: list[Finding] = []
    cells = grid[best_index] if grid else []
    for position, text in enumerate(cells):
        if _blank(text):
            continue
        col = _HEADER_KEYS.get(_norm(text))
        address = f"{get_column_letter(position + 1)}{sheet.header_row}"
        where = {"file": sheet.file, "sheet": SHEET, "cell": address, "row": sheet.header_row}
        if col is None:
            findings.append(make_finding("PROG_COLONNE_INCONNUE", column=str(text).strip(),
                                         **where))
        elif col.key in sheet.columns:
            first = get_column_letter(sheet.columns[col.key] + 1)
            findings.append(make_finding("PROG_COLONNE_EN_DOUBLE", column=col.header,
                                         field=col.key, first=first,
                                         second=get_column_letter(position + 1), **where))
        else:
            sheet.columns[col.key] = position
    for col in COLUMNS:
        if col.key not in sheet.columns:
            code = col.code_absente if col.ajoutee else "PROG_COLONNE_ABSENTE"
            findings.append(make_finding(code, file=sheet.file, sheet=SHEET,
                                         row=sheet.header_row, column=col.header, field=col.key))
    return findings, best_index


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _get(cells: list[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


# --- stage 3: one value at a time -----------------------------------------------------------
class _Invalid(Exception):
    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(code)
        self.code, self.context = code, context


def _check_values(row: _Row, sheet: _Sheet, codes_oo: set[str],
                  codes_qpv: list[str] | None = None) -> list[Finding]:
    findings = []
    for key, index in sheet.columns.items():
        col = BY_KEY[key]
        raw = _get(row.raw, index)
        if _blank(raw):
            row.values[key] = None
            if col.required:
                row.bad.add(key)
                findings.append(sheet.at(col.code_manquant, row.number, key, palier=col.palier))
            continue
        try:
            row.values[key] = _convert(col, raw, codes_oo)
        except _Invalid as problem:
            row.bad.add(key)
            context = {"value": _display(raw), **problem.context}
            findings.append(sheet.at(problem.code, row.number, key, **context))
            continue
        if col.kind == "code_qpv" and codes_qpv is not None and row.values[key] not in codes_qpv:
            # A warning only: the value is kept, so a file checked with another
            # cv_excel.toml is still read.
            findings.append(sheet.at("PROG_CODE_QPV_INCONNU", row.number, key,
                                     value=row.values[key], allowed=_enumerate(codes_qpv)))
    return findings


def _display(raw: Any) -> str:
    """The value as the Direction sees it (calamine gives 12345678901234.0 for a SIRET)."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%d/%m/%Y" if raw.time() == dt.time() else "%d/%m/%Y %H:%M")
    if isinstance(raw, dt.date):
        return raw.strftime("%d/%m/%Y")
    return str(raw).strip()


def _convert(col: Colonne, raw: Any, codes_oo: set[str]) -> Any:
    if col.kind == "montant":
        return _amount(raw)
    if col.kind == "nombre":
        return _nombre(raw)
    if col.kind == "entier":
        try:
            return parse_year(raw)
        except ValueError:
            raise _Invalid("PROG_ANNEE_INVALIDE") from None
    if col.kind == "date":
        try:
            return parse_date(raw)
        except ValueError:
            raise _Invalid("PROG_DATE_INVALIDE") from None
    if col.kind == "dates":
        try:
            return parse_dates(raw)
        except ValueError as exc:
            raise _Invalid("PROG_DATES_INVALIDES", detail=str(exc)) from None
    text = _display(raw)  # the text kinds below: a million cells at the national volume
    if col.kind == "siret":
        detail = siret_error(text)
        if detail:
            raise _Invalid("PROG_SIRET_INVALIDE", detail=detail)
        return strip_spaces(text)
    if col.kind == "rna":
        if not is_valid_rna(text):
            raise _Invalid("PROG_RNA_INVALIDE")
        return strip_spaces(text).upper()
    if col.kind == "email":
        if not is_valid_email(text):
            raise _Invalid("PROG_EMAIL_INVALIDE")
        return text
    if col.kind == "code_oo":
        code = strip_spaces(text).upper()
        if code not in codes_oo:
            raise _Invalid("PROG_OO_INCONNU")
        return code
    if col.kind == "liste":
        return _choice(col, text)
    if col.kind == "p147":
        return _p147_code(col, text)
    if col.kind == "tags":
        return _tags(col, text)
    if col.kind == "code_qpv":
        return strip_spaces(text).upper()
    if col.max_length and len(text) > col.max_length:
        raise _Invalid("PROG_TEXTE_TROP_LONG", max_length=col.max_length, length=len(text))
    return text


def _amount(raw: Any) -> Decimal:
    try:
        number = parse_number(raw)  # exact, however large: compared with the bound first
    except ValueError:
        raise _Invalid("PROG_MONTANT_NON_NUMERIQUE") from None
    if number < -MONTANT_MAX:  # too long to round to the cent: negative is enough to say
        raise _Invalid("PROG_MONTANT_NEGATIF", value=_shown(number, euros))
    if number > MONTANT_MAX:  # the same plausibility bound as a budget line of a bilan
        raise _Invalid("PROG_MONTANT_INVRAISEMBLABLE", value=_shown(number, euros),
                       maximum=euros(Decimal(MONTANT_MAX)))
    amount = parse_amount(number)
    if amount < 0:
        raise _Invalid("PROG_MONTANT_NEGATIF", value=euros(amount))
    return amount


def _nombre(raw: Any) -> Decimal:
    """A positive quantity (a valeur cible), bounded like the people an action reaches;
    kept to the hundredth, written without trailing zeros (20, 12.5)."""
    try:
        number = parse_number(raw)
    except ValueError:
        raise _Invalid("PROG_NOMBRE_NON_NUMERIQUE") from None
    if number <= 0:
        raise _Invalid("PROG_NOMBRE_HORS_BORNES", value=_shown(number, _quantite),
                       borne="supérieure à 0")
    if number > VALEUR_OBJECTIF_MAX:
        raise _Invalid("PROG_NOMBRE_HORS_BORNES", value=_shown(number, _quantite),
                       borne=f"au plus {euros(Decimal(VALEUR_OBJECTIF_MAX))}")
    rounded = number.quantize(Decimal("0.01"))
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


def _shown(number: Decimal, fmt: Callable[[Decimal], str]) -> str:
    """A number out of bounds as the message shows it (made only for a message)."""
    return scientific(number) if abs(number) >= 10**15 else fmt(number)


def _quantite(number: Decimal) -> str:
    """French display of a quantity: 1 200, 12,5."""
    text = euros(number.quantize(Decimal("0.01")))
    return text.rstrip("0") if "," in text else text


def _choice(col: Colonne, text: str) -> str:
    """The canonical list value, tolerant to case, accents and spaces."""
    choices = col.choices or ()
    found = _by_norm(tuple(choices)).get(_norm(text))
    if found is None:
        raise _Invalid(col.code_hors_liste, allowed=_enumerate(choices))
    return found


@functools.lru_cache(maxsize=256)
def _by_norm(choices: tuple[str, ...]) -> dict[str, str]:
    """A closed list by matching key (made once per list, not once per cell)."""
    return {_norm(c): c for c in choices}


_P147_CODE = re.compile(r"^\s*(\d+)")


def _p147_code(col: Colonne, text: str) -> str:
    """The code of a « 1111 Ingénierie… » drop-down value (or of « 1111 » typed alone),
    which must be a code of the column's level in the nomenclature."""
    m = _P147_CODE.match(text)
    code = m.group(1) if m else ""
    nomenclature = nomenclature_p147()
    if len(code) != col.niveau or code not in nomenclature.codes:
        raise _Invalid(col.code_hors_liste, niveau=NIVEAUX[col.niveau or 2],
                       chiffres=col.niveau)
    return code


def _tags(col: Colonne, text: str) -> list[str]:
    """Several values of a closed list in one cell, separated by « ; » (or line breaks)."""
    by_norm = _by_norm(tuple(col.choices or ()))
    tags: list[str] = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        found = by_norm.get(_norm(part))
        if found is None:
            raise _Invalid(col.code_hors_liste, value=part.strip(),
                           allowed=_enumerate(col.choices or ()))
        if found not in tags:
            tags.append(found)
    return tags


def _enumerate(values: tuple[str, ...] | list[str]) -> str:
    quoted = [f"« {v} »" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " ou " + quoted[-1]


def euros(amount: Decimal) -> str:
    """French display of an amount: 2 500 or 2 500,50."""
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return text.removesuffix(",00")


# --- stage 4: fields of one row together ----------------------------------------------------
def _check_row_coherence(row: _Row, sheet: _Sheet, annee: int | None) -> list[Finding]:
    v, n = row.values, row.number
    findings = []
    if annee is not None and v.get("annee") is not None and v["annee"] != annee:
        findings.append(sheet.at("PROG_ANNEE_DIFFERENTE", n, "annee", value=v["annee"],
                                 expected=annee))
    theme, sous_theme = v.get("theme_anct"), v.get("sous_theme_anct")
    if theme and sous_theme in SOUS_THEMES_ANCT and theme_of(sous_theme) != theme:
        findings.append(sheet.at("PROG_SOUS_THEME_INCOHERENT", n, "sous_theme_anct",
                                 value=sous_theme, theme=theme))
    findings.extend(_check_p147(row, sheet))
    departement = v.get("accorde_departement")
    if ("departement_dispositif" in sheet.columns and departement and departement > 0
            and not v.get("departement_dispositif")
            and "departement_dispositif" not in row.bad):
        findings.append(sheet.at("PROG_DISPOSITIF_DEPARTEMENT_MANQUANT", n,
                                 "departement_dispositif", value=euros(departement)))
    findings.extend(_check_amounts(row, sheet))
    findings.extend(_check_objectif(row, sheet))
    return findings


_OBJECTIF_KEYS = ("objectif_quantifie", "valeur_cible", "unite")


def _check_objectif(row: _Row, sheet: _Sheet) -> list[Finding]:
    """What, how much and which unit go together: one without the others is a warning
    (the bilan cannot ask the value reached against it). A column absent from the file
    is already reported; a rejected value is not reported twice."""
    present = [k for k in _OBJECTIF_KEYS if k in sheet.columns]
    if any(k in row.bad for k in present):
        return []
    given = [k for k in present if row.values.get(k) is not None]
    missing = [k for k in present if k not in given]
    if not given or not missing:
        return []
    quoted = [f"« {BY_KEY[k].header} »" for k in missing]
    manque = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " et " + quoted[-1]
    return [sheet.at("PROG_OBJECTIF_INCOMPLET", row.number, missing[0],
                     value=row.values.get(given[0]), manque=manque)]


_P147_KEYS = ("theme_p147", "sous_theme_p147", "modalite_p147")  # 2, 3, 4 digits


def _check_p147(row: _Row, sheet: _Sheet) -> list[Finding]:
    """Thème, sous-thème and modalité nest by prefix: the most precise code given says
    what the others must be; a missing one is deduced from it."""
    v, findings = row.values, []
    given = [k for k in _P147_KEYS if v.get(k) and k not in row.bad]
    if not given:
        return findings
    precise = given[-1]
    code = v[precise]
    for key in _P147_KEYS[:-1]:
        if key == precise or len(code) <= (niveau := _P147_LEN[key]):
            continue
        attendu = code[:niveau]
        if key in given and v[key] != attendu:
            findings.append(sheet.at("PROG_P147_INCOHERENT", row.number, key, value=v[key],
                                     autre=code, colonne_autre=BY_KEY[precise].header,
                                     attendu=attendu))
        elif key not in given and key not in row.bad and attendu in nomenclature_p147().codes:
            v[key] = attendu
    return findings


_P147_LEN = {"theme_p147": 2, "sous_theme_p147": 3, "modalite_p147": 4}


def _check_amounts(row: _Row, sheet: _Sheet) -> list[Finding]:
    v, n = row.values, row.number
    findings = []
    for f in FINANCEURS:
        demande, accorde = v.get(f"demande_{f.key}"), v.get(f"accorde_{f.key}")
        if demande is not None and accorde is not None and accorde > demande:
            findings.append(sheet.at("PROG_ACCORDE_SUPERIEUR_DEMANDE", n, f"accorde_{f.key}",
                                     value=euros(accorde), demande=euros(demande),
                                     financeur=f.libelle))
        findings.extend(_check_versements(row, sheet, f.key, f.libelle))
    accorde_keys = [f"accorde_{f.key}" for f in FINANCEURS if f"accorde_{f.key}" in sheet.columns]
    readable = accorde_keys and not any(k in row.bad for k in accorde_keys)
    if readable and not any((v.get(k) or _ZERO) > 0 for k in accorde_keys):
        findings.append(sheet.at("PROG_AUCUN_FINANCEMENT", n, accorde_keys[0]))
    return findings


def _check_versements(row: _Row, sheet: _Sheet, key: str, libelle: str) -> list[Finding]:
    """Paid against granted, amounts against dates, dates against the convention."""
    v, n = row.values, row.number
    accorde, verse = v.get(f"accorde_{key}"), v.get(f"verse_{key}")
    dates, convention = v.get(f"dates_versement_{key}"), v.get("convention_date")
    dates_key = f"dates_versement_{key}"
    findings = []
    if verse is not None and verse > (accorde or _ZERO) and f"accorde_{key}" not in row.bad:
        findings.append(sheet.at("PROG_VERSE_SUPERIEUR_ACCORDE", n, f"verse_{key}",
                                 value=euros(verse), accorde=euros(accorde or _ZERO),
                                 financeur=libelle))
    if verse and not dates and dates_key in sheet.columns and dates_key not in row.bad:
        findings.append(sheet.at("PROG_VERSE_SANS_DATE", n, dates_key, value=euros(verse),
                                 financeur=libelle))
    if dates and not verse and f"verse_{key}" in sheet.columns and f"verse_{key}" not in row.bad:
        findings.append(sheet.at("PROG_DATES_SANS_VERSE", n, f"verse_{key}",
                                 value=" ; ".join(map(format_date, dates)), financeur=libelle))
    early = [d for d in dates or () if convention and d < convention]
    if early:
        findings.append(sheet.at("PROG_VERSEMENT_AVANT_CONVENTION", n, dates_key,
                                 value=format_date(early[0]), financeur=libelle,
                                 convention=format_date(convention)))
    return findings


# --- stage 5: rows together -----------------------------------------------------------------
class _Duplicates:
    """An action number used twice: the second row is named, with the first one's."""

    def __init__(self, sheet: _Sheet) -> None:
        self.sheet, self.findings = sheet, []
        self.first_seen: dict[str, int] = {}

    def see(self, row: _Row) -> None:
        numero = row.values.get("numero")
        if not numero:
            return
        key = _norm(numero)
        if key in self.first_seen:
            self.findings.append(self.sheet.at("PROG_NUMERO_DOUBLON", row.number, "numero",
                                               value=numero, first_row=self.first_seen[key]))
        else:
            self.first_seen[key] = row.number


class _Porteurs:
    """One SIRET, one raison sociale: the bilan workbooks are grouped by porteur."""

    def __init__(self, sheet: _Sheet) -> None:
        self.sheet, self.findings = sheet, []
        self.first_seen: dict[str, tuple[str, int]] = {}

    def see(self, row: _Row) -> None:
        siret, name = row.values.get("porteur_siret"), row.values.get("porteur_raison_sociale")
        if not siret or not name:
            return
        if siret not in self.first_seen:
            self.first_seen[siret] = (name, row.number)
            return
        other, first_row = self.first_seen[siret]
        if " ".join(name.split()) != " ".join(other.split()):
            self.findings.append(self.sheet.at("PROG_PORTEUR_INCOHERENT", row.number,
                                               "porteur_raison_sociale", value=siret,
                                               other=other, first_row=first_row))
