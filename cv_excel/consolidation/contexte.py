"""Indicateurs de contexte du quartier, from the CSV the Direction fills.

``indicateurs_contexte.csv`` sits in the working folder, one line per indicator,
territory and year. Its columns (French, the order is free, accents optional):

- ``indicateur``: what is measured (« Taux de chômage des 15-64 ans ») ;
- ``territoire``: a quartier code of the ``[territoire]`` section of ``cv_excel.toml``
  (« ORLY-QPV-EST »…), « commune » or « EPT » ;
- ``année``: the year the figure describes (four digits) ;
- ``valeur``: the number alone (decimal comma accepted, spaces between thousands) ;
- ``unité``: « % », « habitants », « euros »… ;
- ``source``: where the figure comes from (INSEE, SIG ville, CAF…).

Reading never raises: every problem is a French finding (catalogue codes ``CTX_``)
and the faulty line is left out. Values are kept per territory and are **never summed
across territories**: a quartier, the commune and the EPT overlap, so the reports show
them side by side (:func:`tableau_par_territoire`) and nothing else.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cv_excel.atomic import write_text_atomic
from cv_excel.config import Quartier
from cv_excel.findings import Finding, Severity, make_finding
from cv_excel.text import decode_text_file, header_key

CONTEXTE_FILE = "indicateurs_contexte.csv"
COLONNES: tuple[str, ...] = ("indicateur", "territoire", "année", "valeur", "unité", "source")
COMMUNE, EPT = "Commune", "EPT"
_YEAR = re.compile(r"^\d{4}$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


@dataclass(frozen=True)
class ValeurContexte:
    indicateur: str
    territoire: str  # a quartier code as configured, « Commune » or « EPT »
    annee: int
    valeur: Decimal
    unite: str
    source: str
    ligne: int  # line of the CSV file (the header is line 1)


@dataclass
class IndicateursContexte:
    """What the file holds once checked: the usable values and the findings."""

    chemin: Path
    present: bool = False
    valeurs: list[ValeurContexte] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def avertissements(self) -> list[str]:
        """The warnings, as French lines for the consolidation's summary."""
        return [f"{self.chemin.name}{', ' + f.where() if f.where() else ''} : {f.message}"
                for f in self.findings if f.severity is Severity.AVERTISSEMENT]


def territoires(quartiers: Sequence[Quartier]) -> list[str]:
    """The territories a line may name, in the order the reports show them."""
    return [*(q.code for q in quartiers), COMMUNE, EPT]


def _nombre(text: str) -> Decimal | None:
    cleaned = _SPACES.sub("", text).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def write_modele_contexte(path: Path) -> Path:
    """The empty model: the header line only (semicolons, as French Excel saves CSV)."""
    return write_text_atomic(path, "\ufeff" + ";".join(COLONNES) + "\n")


def read_contexte(path: Path, quartiers: Sequence[Quartier]) -> IndicateursContexte:
    """Read and check ``path``; never raises. A missing file gives no value, no finding."""
    result = IndicateursContexte(Path(path))
    colonnes = " ; ".join(COLONNES)
    name = result.chemin.name
    try:
        raw = result.chemin.read_bytes()
    except FileNotFoundError:
        return result
    except OSError as exc:
        result.findings.append(make_finding("CTX_FICHIER_ILLISIBLE", file=name,
                                            detail=exc.strerror or str(exc), colonnes=colonnes))
        return result
    result.present = True
    try:
        text = decode_text_file(raw)
        first = text.split("\n", 1)[0]
        delimiter = next((d for d in (";", "\t", ",") if d in first), ";")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except UnicodeDecodeError:
        detail = "encodage de caractères inconnu"
    except (ValueError, csv.Error) as exc:
        detail = str(exc)
    else:
        detail = None
    if detail is not None:
        result.findings.append(make_finding("CTX_FICHIER_ILLISIBLE", file=name, detail=detail,
                                            colonnes=colonnes))
        return result
    if not rows or not any(c.strip() for c in rows[0]):
        return result  # empty file: nothing filled yet
    head = {header_key(c): i for i, c in reversed(list(enumerate(rows[0])))}
    index = {}
    for col in COLONNES:
        if header_key(col) not in head:
            result.findings.append(make_finding("CTX_COLONNE_ABSENTE", file=name, column=col,
                                                row=1, colonnes=colonnes))
        else:
            index[col] = head[header_key(col)]
    if len(index) < len(COLONNES):
        return result
    known = {header_key(t): t for t in territoires(quartiers)}
    seen: dict[tuple[str, str, int], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = {col: (row[i].strip() if i < len(row) else "") for col, i in index.items()}
        if not any(cells.values()):
            continue
        finding = _check_line(cells, line, known, name)
        if finding is not None:
            result.findings.append(finding)
            continue
        territoire = known[header_key(cells["territoire"])]
        annee = int(cells["année"])
        key = (header_key(cells["indicateur"]), territoire, annee)
        if key in seen:
            result.findings.append(make_finding(
                "CTX_LIGNE_EN_DOUBLE", file=name, row=line, indicateur=cells["indicateur"],
                territoire=territoire, annee=annee, first_row=seen[key]))
            continue
        seen[key] = line
        result.valeurs.append(ValeurContexte(
            cells["indicateur"], territoire, annee, _nombre(cells["valeur"]) or Decimal(0),
            cells["unité"], cells["source"], line))
    return result


def _check_line(cells: dict[str, str], line: int, known: dict[str, str],
                name: str) -> Finding | None:
    """The first problem of one line, or None when the line is usable."""
    for col in ("indicateur", "territoire", "année", "valeur"):
        if not cells[col]:
            return make_finding("CTX_VALEUR_REQUISE", file=name, row=line, column=col)
    if header_key(cells["territoire"]) not in known:
        return make_finding("CTX_TERRITOIRE_INCONNU", file=name, row=line, column="territoire",
                            value=cells["territoire"],
                            allowed=", ".join(f"« {t} »" for t in known.values()))
    if not _YEAR.match(cells["année"]) or not 1900 <= int(cells["année"]) <= 2100:
        return make_finding("CTX_ANNEE_INVALIDE", file=name, row=line, column="année",
                            value=cells["année"])
    if _nombre(cells["valeur"]) is None:
        return make_finding("CTX_VALEUR_NON_NUMERIQUE", file=name, row=line, column="valeur",
                            value=cells["valeur"])
    return None


@dataclass(frozen=True)
class LigneTableau:
    """One indicator, unit and year, with its value in each territory (None: not given)."""

    indicateur: str
    unite: str
    annee: int
    valeurs: tuple[Decimal | None, ...]
    sources: str


def tableau_par_territoire(contexte: IndicateursContexte,
                           quartiers: Sequence[Quartier]) -> tuple[list[str], list[LigneTableau]]:
    """The territories (columns) and one line per indicator, unit and year.

    Each value stays in its territory's column: there is no total, no sum and no
    average across territories, since a quartier, the commune and the EPT overlap.
    Two units of one indicator (a count and a rate) are two lines.
    """
    columns = territoires(quartiers)
    groups: dict[tuple[str, str, int], dict[str, ValeurContexte]] = {}
    labels: dict[tuple[str, str, int], tuple[str, str]] = {}
    for v in contexte.valeurs:
        key = (header_key(v.indicateur), header_key(v.unite), v.annee)
        groups.setdefault(key, {})[v.territoire] = v
        labels.setdefault(key, (v.indicateur, v.unite))
    first: dict[str, int] = {}
    for v in contexte.valeurs:
        first.setdefault(header_key(v.indicateur), v.ligne)
    lines = []
    for key in sorted(groups, key=lambda k: (first[k[0]], k[1], k[2])):
        by_territory = groups[key]
        sources = list(dict.fromkeys(v.source for v in by_territory.values() if v.source))
        lines.append(LigneTableau(
            labels[key][0], labels[key][1], key[2],
            tuple(by_territory[t].valeur if t in by_territory else None for t in columns),
            " ; ".join(sources)))
    return columns, lines
