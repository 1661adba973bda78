"""Copy a store into an empty PostgreSQL database (``cv-excel base migrer``), and say what a
store holds (``cv-excel base etat``).

When a contrat moves from its folder's SQLite file to the EPT's shared server, its whole
history goes with it: every table, row for row, ids kept (a superseded return names the
one that replaced it by id), in one transaction on the target, then checked by counting
every table on both sides. A target that already holds data is refused: a copy never
merges two stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Table, and_, case, func, insert, select

from cv_excel.errors import DefautDossier
from cv_excel.store import schema
from cv_excel.store.db import StoreIncompatible, open_store

BATCH = 1_000  # rows per INSERT: memory stays flat whatever the store's size
_S = schema.submissions


class CopieIncomplete(Exception):  # noqa: N818 - a French noun, as the CLI says it
    """The counts of the target differ from the source's: nothing was committed."""

    def __init__(self, comptes: dict[str, tuple[int, int]]):
        self.comptes = comptes
        differ = [t for t, (a, b) in comptes.items() if a != b]
        super().__init__(
            "La copie est incomplète : les nombres de lignes diffèrent pour "
            f"{', '.join(differ)} ; rien n'a été enregistré dans la base cible.")


class CibleNonVide(DefautDossier):
    """The target database already holds a store with data; French message."""


def copier_base(source_target: Path | str, cible_url: str,
                progression: Callable[[str, int], None] | None = None
                ) -> dict[str, tuple[int, int]]:
    """Copy the store at ``source_target`` into the empty database ``cible_url`` (its
    schema created at the latest revision); return ``{table: (source rows, target
    rows)}``. Raises :class:`CibleNonVide` for a target holding data and
    :class:`CopieIncomplete` (nothing committed) when a count differs."""
    if "://" not in cible_url:
        raise StoreIncompatible(
            f"« {cible_url} » n'est pas l'adresse d'une base PostgreSQL : indiquez par "
            "exemple --vers postgresql://utilisateur@serveur/base.")
    with open_store(source_target) as source, open_store(cible_url) as cible:
        if source.dialect == cible.dialect and str(source.url) == str(cible.url):
            raise StoreIncompatible("La base cible est la base source : rien à copier.")
        with source.lecture() as src, cible.transaction() as dst:
            filled = {t.name: n for t, n in _counts(dst).items() if n}
            if filled:
                raise CibleNonVide(
                    f"La base cible {cible.describe()} contient déjà des données ("
                    + ", ".join(f"{n} ligne(s) dans {t}" for t, n in filled.items())
                    + ") : la copie se fait dans une base vide, jamais par-dessus un autre "
                    "magasin. Indiquez une base vide (créée par l'administrateur du serveur), "
                    "puis relancez.")
            for table in schema.TABLES_IN_ORDER:
                copied = 0
                for rows in _batches(src, table):
                    dst.execute(insert(table), rows)
                    copied += len(rows)
                if progression is not None:
                    progression(table.name, copied)
            if cible.dialect == "postgresql":  # the next submission gets a new id
                dst.execute(select(func.setval(
                    func.pg_get_serial_sequence(_S.name, _S.c.id.name),
                    select(func.coalesce(func.max(_S.c.id), 0) + 1).scalar_subquery(),
                    False)))
            before, after = _counts(src), _counts(dst)
            comptes = {t.name: (before[t], after[t]) for t in schema.TABLES_IN_ORDER}
            if any(a != b for a, b in comptes.values()):
                raise CopieIncomplete(comptes)  # rolls the target back
    return comptes


def _counts(conn: Connection) -> dict[Table, int]:
    return {t: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in schema.TABLES_IN_ORDER}


def _batches(conn: Connection, table: Table) -> Iterator[list[dict]]:
    """The rows of ``table`` in batches, in an order the target's constraints accept:
    a submission after the one that replaced it (``remplacee_par``)."""
    if table is not _S:
        result = conn.execution_options(yield_per=BATCH).execute(
            select(table).order_by(*table.primary_key.columns))
        for part in result.mappings().partitions(BATCH):
            yield [dict(r) for r in part]
        return
    for ids in _replacement_order(conn):
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            rows = conn.execute(select(_S).where(_S.c.id.in_(chunk)).order_by(_S.c.id))
            yield [dict(r) for r in rows.mappings()]


def _replacement_order(conn: Connection) -> list[list[int]]:
    """The submissions' ids by level: those replaced by none first, then those replaced
    by one of the previous level… (two integers per submission in memory)."""
    replaced_by: dict[int, list[int]] = {}
    level: list[int] = []
    for sid, newer in conn.execute(select(_S.c.id, _S.c.remplacee_par).order_by(_S.c.id)):
        if newer is None:
            level.append(sid)
        else:
            replaced_by.setdefault(newer, []).append(sid)
    levels = []
    while level:
        levels.append(level)
        level = sorted(s for newer in level for s in replaced_by.pop(newer, ()))
    if replaced_by:  # a cycle, or a reference to a missing row: copied last, as they are
        levels.append(sorted(s for ids in replaced_by.values() for s in ids))
    return levels


@dataclass
class EtatBase:
    """What ``cv-excel base etat`` prints."""

    moteur: str
    adresse: str  # without its password
    revision: int
    # contrat -> {"retours", "en_vigueur", "annees_programmees", "actions"}: counts
    contrats: dict[str, dict[str, int]]


def etat_base(target: Path | str) -> EtatBase:
    """The store's engine, address (password hidden), revision and counts per contrat."""
    pa = schema.programmation_actions
    with open_store(target) as store, store.lecture() as conn:
        contrats: dict[str, dict[str, int]] = {}
        in_force = func.sum(case((and_(_S.c.donnees == 1, _S.c.remplacee_par.is_(None)), 1),
                                 else_=0))
        for contrat, total, courants in conn.execute(
                select(_S.c.contrat, func.count(), in_force).group_by(_S.c.contrat)):
            contrats.setdefault(contrat or "(inconnu)", {}).update(
                retours=total, en_vigueur=int(courants or 0))
        for contrat, annees, actions in conn.execute(
                select(pa.c.contrat, func.count(pa.c.annee.distinct()), func.count())
                .group_by(pa.c.contrat)):
            contrats.setdefault(contrat, {}).update(annees_programmees=annees,
                                                    actions=actions)
        revision = store.version
        return EtatBase(store.dialect, store.describe(), revision, dict(sorted(
            contrats.items())))
