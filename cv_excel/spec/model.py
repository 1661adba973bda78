"""The vocabulary of a workbook specification.

A specification says, for one kind of workbook, which sheets exist, which named
cells and named tables each sheet holds, their type, whether the generator
fills them (``prerempli``, locked), the user types them (``saisie``, unlocked,
validated) or the template computes them (``calcul``, locked formula), the list
their value comes from and the help shown on the cell. Generation, the
template verifier, intake and reading all walk this one declaration.

Names are *sheet-scoped* defined names, so a sheet repeated once per action or
per objective carries the same names on every copy.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["prerempli", "saisie", "calcul"]
Kind = Literal["texte", "texte_long", "entier", "decimal", "montant", "date", "liste", "email"]

# --- plausibility bounds ------------------------------------------------------------------
# Every number or date a user types is bounded, so an absurd value (« 1E+20 », a pasted
# 30-digit reference, a year typed alone in a date cell) is reported as « invraisemblable »
# instead of reaching the store or the reports. A field without explicit bounds gets its
# kind's default below: no future field can overflow either.
#
# People reached by one action: Orly has about 24 000 inhabitants, so a million is already
# forty times the town; anything above is a typing mistake.
EFFECTIF_MAX = 1_000_000
# Euros on one budget line of one action: the whole yearly programmation of the contract is
# a few million euros; a hundred million on one line can only be a mistake.
MONTANT_MAX = 100_000_000
# The quantified objective of an action and the value it reached (people, sessions, hours,
# a percentage…): counted like the people an action reaches, so bounded by the same figure.
VALEUR_OBJECTIF_MAX = EFFECTIF_MAX
# Decimal fields: a percentage field declares minimum=0 and maximum=POURCENTAGE_MAX.
DECIMAL_MAX = 1_000_000_000
POURCENTAGE_MAX = 100
# Dates: the years a programmation can be about (programmation.validators.YEAR_MIN/MAX). The
# generated workbooks carry the same bounds as Excel validation (as serials 36526..73415).
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

# (minimum, maximum) of a numeric kind when the Champ does not declare its own.
BORNES_PAR_DEFAUT: dict[str, tuple[float, float]] = {
    "entier": (-EFFECTIF_MAX, EFFECTIF_MAX),
    "decimal": (-DECIMAL_MAX, DECIMAL_MAX),
    "montant": (0, MONTANT_MAX),  # amounts are positive unless a field says otherwise
}


@dataclass(frozen=True)
class Champ:
    """One named cell (or one column of a :class:`Tableau`)."""

    name: str
    label: str
    kind: Kind = "texte"
    role: Role = "saisie"
    required: bool = False
    liste: str | None = None  # global defined name holding the allowed values
    aide: str = ""  # input message shown on the cell (Excel limits it to 255 characters)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    @property
    def locked(self) -> bool:
        return self.role != "saisie"

    @property
    def bornes(self) -> tuple[float, float] | None:
        """(minimum, maximum) of a numeric field: its own, else its kind's default."""
        default = BORNES_PAR_DEFAUT.get(self.kind)
        if default is None:
            return None
        low = default[0] if self.minimum is None else self.minimum
        high = default[1] if self.maximum is None else self.maximum
        return low, high


@dataclass(frozen=True)
class Ligne:
    """A fixed row of a table whose rows are known in advance (a budget line)."""

    key: str
    label: str


@dataclass(frozen=True)
class Tableau:
    """A named rectangular area: columns are :class:`Champ`, rows are items.

    With ``lignes`` the rows are fixed (and the area must have exactly that many
    rows); without, the area's height is its capacity and unused rows are hidden.
    """

    name: str
    label: str
    colonnes: tuple[Champ, ...]
    lignes: tuple[Ligne, ...] | None = None
    min_capacite: int = 1
    # (ligne key, colonne name) cells of a saisie column that the generator fills and locks.
    prerempli: tuple[tuple[str, str], ...] = ()

    def colonne(self, name: str) -> Champ:
        return self._par_nom[name]

    def role_of(self, ligne: str | None, colonne: str) -> Role:
        if ligne is not None and (ligne, colonne) in self._preremplies:
            return "prerempli"
        return self._par_nom[colonne].role

    # Asked for every cell of every returned workbook: looked up, not searched.
    @functools.cached_property
    def _par_nom(self) -> dict[str, Champ]:
        return {c.name: c for c in self.colonnes}

    @functools.cached_property
    def _preremplies(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.prerempli)


@dataclass(frozen=True)
class Feuille:
    """A sheet of the template; ``repetee`` sheets are copied once per section."""

    key: str
    titre: str
    champs: tuple[Champ, ...] = ()
    tableaux: tuple[Tableau, ...] = ()
    repetee: bool = False
    cachee: bool = False  # "veryHidden" in the generated workbooks

    def champ(self, name: str) -> Champ:
        return next(c for c in self.champs if c.name == name)


@dataclass(frozen=True)
class ClasseurSpec:
    kind: Literal["porteur", "referent", "pilote", "coordonnateur", "decisions"]
    titre: str
    modele: str  # template file name in templates/
    version: str  # version of this specification; the template's meta sheet must carry it
    feuilles: tuple[Feuille, ...]
    listes: dict[str, tuple[str | int, ...]] = field(default_factory=dict)

    def feuille(self, key: str) -> Feuille:
        return next(f for f in self.feuilles if f.key == key)

    @property
    def section(self) -> Feuille:
        """The repeated sheet (one per action or per objective)."""
        return next(f for f in self.feuilles if f.repetee)

    def all_names(self) -> list[tuple[Feuille, str]]:
        """Every sheet-scoped name the template must define, with its sheet."""
        names: list[tuple[Feuille, str]] = []
        for f in self.feuilles:
            names += [(f, c.name) for c in f.champs]
            names += [(f, t.name) for t in f.tableaux]
        return names
