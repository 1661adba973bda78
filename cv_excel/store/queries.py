"""Read one year of one contrat back as the plain data the consolidation uses.

Only the current accepted returns feed the bilans, suivis, syntheses and decisions;
the history of every submission stays visible in ``DonneesAnnee.submissions``.

Revues: a référent's, pilote's or coordonnateur's return belongs to one revue of the
year (``revue`` NULL: an annual return, which ranks after every numbered revue of its
year). ``load_year(…, revue=N)`` shows the returns of exactly revue N and the decisions
as they stood after the relevés up to revue N; without ``revue`` every recipient's
latest return of the year and the decisions at the end of the year.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import sys
from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Numeric,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)

from cv_excel.spill import SpilledDict, SpilledList
from cv_excel.store import schema as t
from cv_excel.store.db import Store
from cv_excel.store.extract import BENEF_AGES, as_decimal
from cv_excel.store.models import (
    ActionProgrammee,
    BilanAction,
    Cellule,
    DecisionSuivie,
    DonneesAnnee,
    EtatPiste,
    LigneBudget,
    SerieIndicateur,
    Submission,
    SuiviObjectif,
    SyntheseNiveau,
    ValeurIndicateur,
)

_ZERO = Decimal("0.00")
# The order of the revues of a year: numbered ones first, the annual return (NULL) last.
_ANNUELLE = 1_000_000
_S = t.submissions
_rang = func.coalesce(_S.c.revue, _ANNUELLE)
_IN_FORCE = and_(_S.c.donnees == 1, _S.c.remplacee_par.is_(None))


def _current(key: tuple[str, int]):
    """The accepted returns in force of one contrat and year."""
    return and_(_IN_FORCE, _S.c.contrat == key[0], _S.c.annee == key[1])


def _text_order(conn: Connection, column):
    """Text sorted by code points on both engines (a server's French collation would
    order « Réalisée » or « A-2 » otherwise than SQLite, and the outputs with it)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def years(store: Store, contrat: str) -> list[int]:
    """Every year the store knows for ``contrat`` (programmation or returns)."""
    pa = t.programmation_actions
    query = union(select(pa.c.annee).where(pa.c.contrat == contrat),
                  select(_S.c.annee).where(_S.c.contrat == contrat, _S.c.annee.is_not(None)))
    with store.lecture() as conn:
        return sorted(conn.execute(query).scalars())


def contrats(store: Store) -> list[str]:
    """Every contrat the store knows (programmation or returns): one store may hold the
    EPT's eight."""
    pa = t.programmation_actions
    query = union(select(pa.c.contrat), select(_S.c.contrat).where(_S.c.contrat != ""))
    with store.lecture() as conn:
        return sorted(conn.execute(query).scalars())


def programmed_years(store: Store, contrat: str) -> list[int]:
    """The years of ``contrat`` with a programmation in the store."""
    pa = t.programmation_actions
    query = (select(pa.c.annee).distinct().where(pa.c.contrat == contrat)
             .order_by(pa.c.annee))
    with store.lecture() as conn:
        return list(conn.execute(query).scalars())


def revues_avec_retours(store: Store, contrat: str, annee: int) -> list[int]:
    """The revues of the year for which the store holds at least one accepted return."""
    query = (select(_S.c.revue).distinct()
             .where(_S.c.contrat == contrat, _S.c.annee == annee, _S.c.revue.is_not(None),
                    _S.c.donnees == 1)
             .order_by(_S.c.revue))
    with store.lecture() as conn:
        return list(conn.execute(query).scalars())


def load_year(store: Store, contrat: str, annee: int, revue: int | None = None
              ) -> DonneesAnnee:
    """A consistent picture of the year — of its revue ``revue`` when given — read inside
    one transaction so that an import committing meanwhile is seen entirely or not at all.

    ``revue=N``: the suivis and syntheses of exactly revue N, the decisions as the
    relevés up to and including revue N of ``annee`` left them, the indicator series up
    to that revue. ``revue=None``: for each objective (or level) and author the return of
    the latest revue of the year (an annual return last), the decisions and series at the
    end of the year. Bilans and the programmation are annual: always the year's.
    """
    with store.lecture() as conn:
        key = (contrat, annee)
        return DonneesAnnee(contrat, annee, _actions(conn, key), _bilans(conn, key),
                            _suivis(conn, key, revue), _submissions(conn, key),
                            construit_le=dt.datetime.now().astimezone(), revue=revue,
                            syntheses=_syntheses(conn, key, revue),
                            decisions=_decisions(conn, contrat, annee, revue),
                            series=_series(conn, contrat, annee, revue),
                            cube=_cube(conn, key))


def _of_revue(revue: int | None):
    """The condition choosing the submissions of one revue (none: every one)."""
    return true() if revue is None else _S.c.revue == revue


def _rank(revue: int | None) -> int:
    return _ANNUELLE if revue is None else revue


def _latest(rows: list[Any], who: str, revue: int | None) -> list[Any]:
    """With ``revue`` every row (the query chose that revue); without, for each (code,
    ``who``) the row of the latest revue (the annual return last, then the latest
    received). Rows come ordered by revue rank then reception."""
    if revue is not None:
        return rows
    kept: dict[tuple[str, str], Any] = {}
    for r in rows:
        kept[(r["code"], r[who])] = r  # later rows (later revue) win
    return list(kept.values())


def _stream(conn: Connection, query):
    """The rows of ``query`` a few hundred at a time (a server-side cursor on PostgreSQL,
    which otherwise hands the whole result at once)."""
    return conn.execute(query.execution_options(yield_per=500)).mappings()


def _with_children(parents, children, parent_key, child_key):
    """Each parent row with the list of its children rows: both streams ordered by the
    same key, walked side by side (a year's financements or budget lines are never all
    in memory)."""
    children = iter(children)
    child = next(children, None)
    for parent in parents:
        key, own = parent_key(parent), []
        while child is not None and child_key(child) < key:
            child = next(children, None)
        while child is not None and child_key(child) == key:
            own.append(child)
            child = next(children, None)
        yield parent, own


def _actions(conn: Connection, key: tuple[str, int]) -> SpilledList[ActionProgrammee]:
    """The year's programmation in numéro order, kept on disk (:class:`SpilledList`)."""
    pf, pa = t.programmation_financements, t.programmation_actions
    financements = _stream(conn, select(pf).where(pf.c.contrat == key[0], pf.c.annee == key[1])
                           .order_by(_text_order(conn, pf.c.numero),
                                     _text_order(conn, pf.c.financeur)))
    rows = _stream(conn, select(pa).where(pa.c.contrat == key[0], pa.c.annee == key[1])
                   .order_by(_text_order(conn, pa.c.numero)))
    numero = operator.itemgetter("numero")
    return SpilledList((_action(r, money) for r, money in _with_children(
        rows, financements, numero, numero)), key=operator.attrgetter("numero"))


def _action(r: Any, financements: list[Any]) -> ActionProgrammee:
    per = _money()
    for f in financements:
        per["demande"][f["financeur"]] = as_decimal(f["demande"]) or _ZERO
        per["accorde"][f["financeur"]] = as_decimal(f["accorde"]) or _ZERO
        per["verse"][f["financeur"]] = as_decimal(f["verse"]) or _ZERO
        per["dates_versement"][f["financeur"]] = [
            dt.date.fromisoformat(d) for d in (f["dates_versement"] or "").split(";") if d]
    return ActionProgrammee(
        numero=r["numero"], annee=r["annee"], porteur_siret=r["porteur_siret"],
        porteur_raison_sociale=r["porteur_raison_sociale"], porteur_type=r["porteur_type"],
        porteur_rna=r["porteur_rna"], porteur_contact=r["porteur_contact"],
        porteur_email=r["porteur_email"], intitule=r["intitule"],
        objectif_operationnel=r["objectif_operationnel"], theme_anct=r["theme_anct"],
        sous_theme_anct=r["sous_theme_anct"], territoire=r["territoire"],
        accorde=per["accorde"], demande=per["demande"],
        departement_dispositif=r["departement_dispositif"], indicateur=r["indicateur"],
        mode_recueil=r["mode_recueil"], convention_numero=r["convention_numero"],
        convention_date=_date(r["convention_date"]), verse=per["verse"],
        dates_versement=per["dates_versement"], dossier_dauphin=r["dossier_dauphin"],
        theme_p147=r["theme_p147"], sous_theme_p147=r["sous_theme_p147"],
        modalite_p147=r["modalite_p147"],
        dispositifs_etat=[d for d in (r["dispositifs_etat"] or "").split(";") if d],
        code_qpv=r["code_qpv"], objectif_quantifie=r["objectif_quantifie"],
        valeur_cible=as_decimal(r["valeur_cible"]), unite=r["unite"])


def _money() -> dict[str, dict[str, Any]]:
    return {"demande": {}, "accorde": {}, "verse": {}, "dates_versement": {}}


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _cents(column):
    """An amount kept as decimal text, in cents, as an integer (exact on both engines:
    amounts have two decimals and stay far below 2**53 cents)."""
    return cast(func.round(cast(column, Numeric) * 100), BigInteger)


def _cube(conn: Connection, key: tuple[str, int]) -> list[Cellule]:
    """The year's actions counted and summed by the database, grouped by what the tables
    count them by (:class:`~cv_excel.store.models.Cellule`); the same cells as
    :func:`~cv_excel.store.models.cube_of` gives from the actions and bilans of
    :func:`load_year`."""
    pa, pf, b = t.programmation_actions, t.programmation_financements, t.bilans
    departement = (select(pf.c.numero).where(
        pf.c.contrat == pa.c.contrat, pf.c.annee == pa.c.annee, pf.c.numero == pa.c.numero,
        pf.c.financeur == "departement", _cents(pf.c.accorde) > 0).exists())
    # The bilan of each numéro that load_year keeps: the latest received in force.
    latest = func.row_number().over(
        partition_by=b.c.numero,
        order_by=(_text_order(conn, _S.c.recu_le).desc(), _S.c.id.desc()))
    bilans = select(b.c.numero, b.c.realisation, b.c.score, b.c.benef_total,
                    b.c.benef_femmes, b.c.benef_hommes, b.c.benef_qpv, latest.label("n")
                    ).join(_S, _S.c.id == b.c.submission_id).where(_current(key)).subquery()
    # Each action beside its bilan: one row of each kind per numéro, merged by GROUP BY
    # (a join of the actions with the bilans' subquery was a scan of it per action in
    # SQLite; a sort is n log n on both engines).
    none_text, none_int = cast(null(), Text), cast(null(), Integer)
    action_columns = ("objectif_operationnel", "theme_anct", "sous_theme_anct",
                      "dispositifs_etat", "departement_dispositif")
    bilan_columns = ("realisation", "score", "benef_total", "benef_femmes", "benef_hommes",
                     "benef_qpv")
    rows = union_all(
        select(pa.c.numero, *(pa.c[c] for c in action_columns),
               case((departement, 1), else_=0).label("finance_departement"),
               func.row_number().over(order_by=_text_order(conn, pa.c.numero)).label("rang"),
               literal(0).label("a_bilan"),
               *(none_int.label(c) if c.startswith(("benef", "score")) else
                 none_text.label(c) for c in bilan_columns))
        .where(pa.c.contrat == key[0], pa.c.annee == key[1]),
        select(bilans.c.numero, *(none_text.label(c) for c in action_columns),
               none_int.label("finance_departement"), none_int.label("rang"),
               literal(1).label("a_bilan"), *(bilans.c[c] for c in bilan_columns))
        .where(bilans.c.n == 1)).subquery()
    merged = (select(rows.c.numero, *(func.max(rows.c[c]).label(c) for c in (
        *action_columns, "finance_departement", "rang", "a_bilan", *bilan_columns)))
        .group_by(rows.c.numero).having(func.max(rows.c.rang).is_not(None)).subquery())
    dims = (*(merged.c[c] for c in action_columns), merged.c.finance_departement,
            merged.c.realisation, merged.c.score)
    total, femmes, hommes = (func.coalesce(merged.c[c], 0) for c in (
        "benef_total", "benef_femmes", "benef_hommes"))
    counted = conn.execute(select(
        *dims, func.min(merged.c.rang), func.count(), func.sum(merged.c.a_bilan),
        func.sum(total), func.sum(femmes), func.sum(hommes),
        func.sum(case((total - femmes - hommes > 0, total - femmes - hommes), else_=0)),
        func.sum(func.coalesce(merged.c.benef_qpv, 0)),
    ).group_by(*dims))
    cells: dict[tuple, Cellule] = {}
    for row in counted:
        cell = Cellule(*_dimensions(row[:8]), rang=int(row[8]), actions=int(row[9]),
                       bilans=int(row[10]), benef=tuple(int(v or 0) for v in row[11:16]))
        cells[cell.dimensions()] = cell
    cents = _cents(pf.c.accorde)
    money = conn.execute(select(
        *dims, pf.c.financeur, func.sum(cents), func.count(case((cents > 0, 1))),
    ).select_from(merged.join(pf, and_(pf.c.contrat == key[0], pf.c.annee == key[1],
                                       pf.c.numero == merged.c.numero)))
        .group_by(*dims, pf.c.financeur))
    for row in money:
        cell = cells[_dimensions(row[:8])]
        cell.accorde[row[8]] = Decimal(int(row[9] or 0)).scaleb(-2)
        cell.finances[row[8]] = int(row[10])
    return sorted(cells.values(), key=operator.attrgetter("rang"))


def _dimensions(row: Any) -> tuple:
    """A cell's dimensions as the database gives them, as :class:`Cellule` holds them."""
    oo, theme, sous_theme, dispositifs, dep, finance_dep, realisation, score = row
    return (oo, theme, sous_theme, tuple(d for d in (dispositifs or "").split(";") if d),
            dep, bool(finance_dep), realisation, score)


def _bilans(conn: Connection, key: tuple[str, int]) -> SpilledDict[BilanAction]:
    """The current bilans by numéro (sorted), kept on disk (:class:`SpilledDict`)."""
    bl, b = t.budget_lignes, t.bilans
    order = (_text_order(conn, _S.c.recu_le), _S.c.id)
    lines = _stream(conn, select(bl, _S.c.recu_le).join(_S, _S.c.id == bl.c.submission_id)
                    .where(_current(key))  # in the bilans' order, then the workbook's
                    .order_by(*order, _text_order(conn, bl.c.numero), bl.c.rang))
    rows = _stream(conn, select(b, _S.c.nom, _S.c.recu_le).join(_S, _S.c.id == b.c.submission_id)
                   .where(_current(key)).order_by(*order, _text_order(conn, b.c.numero)))

    def place(r: Any) -> tuple[str, int, str]:
        return (r["recu_le"], r["submission_id"], r["numero"])

    return SpilledDict((r["numero"], _bilan(r, budget))
                       for r, budget in _with_children(rows, lines, place, place))


def _bilan(r: Any, budget: list[Any]) -> BilanAction:
    return BilanAction(
        numero=r["numero"], submission_id=r["submission_id"], fichier=r["nom"],
        recu_le=r["recu_le"], realisation=r["realisation"],
        date_debut=_date(r["date_debut"]), date_fin=_date(r["date_fin"]),
        benef_total=r["benef_total"], benef_femmes=r["benef_femmes"],
        benef_hommes=r["benef_hommes"], benef_qpv=r["benef_qpv"],
        benef_ages={age: r[f"benef_{age}"] for age in BENEF_AGES},
        score=r["score"], score_justification=r["score_justification"],
        mode_recueil=r["mode_recueil"], valeur_constatee=r["valeur_constatee"],
        resultats=r["resultats"], difficultes=r["difficultes"],
        perspectives=r["perspectives"], ecarts_explication=r["ecarts_explication"],
        budget=[LigneBudget(sys.intern(line["tableau"]), sys.intern(line["ligne"]),
                            as_decimal(line["prevu"]), as_decimal(line["realise"]))
                for line in budget],
        lieux_realisation=r["lieux_realisation"], observations=r["observations"],
        repartition_charges_indirectes=r["repartition_charges_indirectes"],
        valeur_atteinte=as_decimal(r["valeur_atteinte"]),
        representant=r["representant"])


def _suivis(conn: Connection, key: tuple[str, int], revue: int | None
            ) -> dict[str, list[SuiviObjectif]]:
    i, p, v = t.indicateurs, t.pistes, t.suivis
    where = and_(_current(key), _of_revue(revue))
    indicators: dict[tuple[int, str], list[ValeurIndicateur]] = {}
    for r in conn.execute(
            select(i).join(_S, _S.c.id == i.c.submission_id).where(where)
            .order_by(i.c.propose, i.c.rang)).mappings():
        indicators.setdefault((r["submission_id"], r["code"]), []).append(ValeurIndicateur(
            rang=r["rang"], libelle=r["libelle"], type=r["type"],
            valeur_cible=r["valeur_cible"], valeur_precedente=r["valeur_precedente"],
            valeur_annee=r["valeur_annee"], source=r["source"], commentaire=r["commentaire"],
            propose=bool(r["propose"]), unite=r["unite"],
            valeur_reference=r["valeur_reference"], annee_reference=r["annee_reference"],
            panier=r["panier"], cible_fiche=r["cible_fiche"]))
    pistes: dict[tuple[int, str], list[EtatPiste]] = {}
    for r in conn.execute(
            select(p).join(_S, _S.c.id == p.c.submission_id).where(where)
            .order_by(p.c.rang)).mappings():
        pistes.setdefault((r["submission_id"], r["code"]), []).append(EtatPiste(
            rang=r["rang"], libelle=r["libelle"], etat=r["etat"],
            commentaire=r["commentaire"]))
    rows = conn.execute(
        select(v, _S.c.nom, _S.c.recu_le, _S.c.revue).join(_S, _S.c.id == v.c.submission_id)
        .where(where).order_by(_rang, _text_order(conn, _S.c.recu_le), _S.c.id)
        ).mappings().all()
    suivis: dict[str, list[SuiviObjectif]] = {}
    for r in sorted(_latest(rows, "referent_id", revue),
                    key=lambda r: (r["code"], r["referent_id"], _rank(r["revue"]))):
        suivis.setdefault(r["code"], []).append(SuiviObjectif(
            code=r["code"], referent_id=r["referent_id"], submission_id=r["submission_id"],
            fichier=r["nom"], recu_le=r["recu_le"], avancement=r["avancement"],
            actions_realisees=r["actions_realisees"], actions_en_cours=r["actions_en_cours"],
            resultats=r["resultats"], difficultes=r["difficultes"],
            propositions=r["propositions"],
            indicateurs=indicators.get((r["submission_id"], r["code"]), []),
            revue=r["revue"], pistes=pistes.get((r["submission_id"], r["code"]), [])))
    return dict(sorted(suivis.items()))


def _syntheses(conn: Connection, key: tuple[str, int], revue: int | None
               ) -> dict[str, list[SyntheseNiveau]]:
    """The pilotes' and coordonnateurs' syntheses, by objectif stratégique / orientation."""
    y = t.syntheses
    rows = conn.execute(
        select(y, _S.c.nom, _S.c.recu_le).join(_S, _S.c.id == y.c.submission_id)
        .where(_current(key), _of_revue(revue))
        .order_by(_rang, _text_order(conn, _S.c.recu_le), _S.c.id)).mappings().all()
    syntheses: dict[str, list[SyntheseNiveau]] = {}
    for r in sorted(_latest(rows, "auteur_id", revue),
                    key=lambda r: (r["code"], r["niveau"], r["auteur_id"])):
        syntheses.setdefault(r["code"], []).append(SyntheseNiveau(
            niveau=r["niveau"], code=r["code"], auteur_id=r["auteur_id"], revue=r["revue"],
            submission_id=r["submission_id"], fichier=r["nom"], recu_le=r["recu_le"],
            avancement=r["avancement"], rag=r["rag"], synthese=r["synthese"],
            difficultes=r["difficultes"], propositions=r["propositions"]))
    return dict(sorted(syntheses.items()))


def decisions_jusqua(store: Store, contrat: str, annee: int, revue: int | None = None
                     ) -> list[DecisionSuivie]:
    """Every decision recorded for ``contrat`` in the relevés up to and including revue
    ``revue`` of ``annee`` (None: to the end of the year), in its latest state there.

    A decision's state is its row in the latest relevé (year, revue, reception) naming
    it; its text and type, when a later relevé leaves them out, come from earlier ones.
    Closed decisions are kept (their statut says so: see ``DecisionSuivie.ouverte``).
    """
    with store.lecture() as conn:
        return _decisions(conn, contrat, annee, revue)


def _up_to(contrat: str, kind: str, annee: int, revue: int | None):
    """The returns in force of ``kind`` of the years before ``annee`` and of its revues up
    to ``revue`` (None: the whole year)."""
    return and_(_IN_FORCE, _S.c.contrat == contrat, _S.c.type == kind,
                _S.c.annee.is_not(None),
                or_(_S.c.annee < annee, and_(_S.c.annee == annee, _rang <= _rank(revue))))


def _decisions(conn: Connection, contrat: str, annee: int, revue: int | None
               ) -> list[DecisionSuivie]:
    d = t.decisions
    rows = conn.execute(
        select(d, _S.c.annee.label("maj_annee"), _S.c.revue.label("maj_revue"))
        .join(_S, _S.c.id == d.c.submission_id)
        .where(_up_to(contrat, "decisions", annee, revue))
        .order_by(_S.c.annee, _rang, _text_order(conn, _S.c.recu_le), _S.c.id, d.c.rang)
        ).mappings().all()
    states: dict[str, dict[str, Any]] = {}
    for r in rows:
        state = states.setdefault(r["numero"], {})
        for name in ("pilier", "code", "decision", "type", "ouverte_annee", "ouverte_revue"):
            if r[name] is not None or name not in state:
                state[name] = r[name]
        for name in ("responsable", "echeance", "statut", "commentaire", "maj_annee",
                     "maj_revue"):
            state[name] = r[name]  # the follow-up is the latest relevé's, blanks included
    decisions = [DecisionSuivie(
        numero=numero, pilier=st["pilier"], code=st["code"] or st["pilier"],
        decision=st["decision"] or "", type=st["type"], responsable=st["responsable"],
        echeance=_date(st["echeance"]), statut=st["statut"] or "Ouverte",
        commentaire=st["commentaire"],
        ouverte_annee=st["ouverte_annee"] if st["ouverte_annee"] is not None
        else st["maj_annee"],
        ouverte_revue=st["ouverte_revue"], maj_annee=st["maj_annee"],
        maj_revue=st["maj_revue"]) for numero, st in states.items()]
    return sorted(decisions, key=lambda d: (d.pilier, d.ouverte_annee,
                                            _rank(d.ouverte_revue), d.numero))


def _number(text: str | None) -> Decimal | None:
    """A stored decimal text as a number; None for a text (« non disponible », v1)."""
    if text is None:
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _series(conn: Connection, contrat: str, annee: int, revue: int | None
             ) -> list[SerieIndicateur]:
    """Every indicator declared by the référents up to ``annee`` (its revue ``revue``):
    for each year the last numeric value declared (the latest revue wins, an empty or
    non-numeric value never replaces a number); unit, reference, target and basket as
    last declared (the latest one given)."""
    i = t.indicateurs
    rows = conn.execute(
        select(i.c.code, i.c.libelle, i.c.propose, i.c.unite, i.c.valeur_reference,
               i.c.annee_reference, i.c.valeur_cible, i.c.valeur_annee, i.c.panier,
               _S.c.annee)
        .join(_S, _S.c.id == i.c.submission_id)
        .where(_up_to(contrat, "referent", annee, revue))
        .order_by(_S.c.annee, _rang, _text_order(conn, _S.c.recu_le), _S.c.id, i.c.propose,
                  i.c.rang)).mappings().all()
    series: dict[tuple[str, str], SerieIndicateur] = {}
    for r in rows:
        if not r["libelle"]:
            continue
        serie = series.get((r["code"], r["libelle"]))
        if serie is None:
            serie = series[(r["code"], r["libelle"])] = SerieIndicateur(
                code=r["code"], libelle=r["libelle"], unite=None, valeur_reference=None,
                annee_reference=None, valeur_cible=None, valeurs={}, panier=None,
                propose=bool(r["propose"]))
        serie.propose = bool(r["propose"])
        for name, value in (("unite", r["unite"]), ("panier", r["panier"]),
                            ("annee_reference", r["annee_reference"]),
                            ("valeur_reference", _number(r["valeur_reference"])),
                            ("valeur_cible", _number(r["valeur_cible"]))):
            if value is not None:
                setattr(serie, name, value)
        value = _number(r["valeur_annee"])
        if value is not None:
            serie.valeurs[r["annee"]] = value
    return sorted(series.values(), key=lambda v: (v.code, v.propose))


def _submissions(conn: Connection, key: tuple[str, int]) -> SpilledList[Submission]:
    """Every submission of the year, history included, in reception order, kept on disk
    (one per recipient and more: 10,000 objects at the national volume)."""
    return SpilledList(Submission(
        id=r["id"], sha256=r["sha256"], nom=r["nom"], recu_le=r["recu_le"], type=r["type"],
        classeur_id=r["classeur_id"], contrat=r["contrat"], annee=r["annee"],
        destinataire_id=r["destinataire_id"], destinataire=r["destinataire"],
        statut=r["statut"], bloquants=r["bloquants"], avertissements=r["avertissements"],
        courante=bool(r["donnees"]) and r["remplacee_par"] is None,
        remplacee_par=r["remplacee_par"], revue=r["revue"],
    ) for r in conn.execute(
        select(_S).where(_S.c.contrat == key[0], _S.c.annee == key[1])
        .order_by(_text_order(conn, _S.c.recu_le), _S.c.id)).mappings())


def data_fingerprint(store: Store, contrat: str, annee: int, revue: int | None = None) -> str:
    """SHA-256 of the year's content (of its revue ``revue``): equal fingerprints mean
    nothing new to report. See :func:`fingerprint_of`."""
    return fingerprint_of(load_year(store, contrat, annee, revue))


def fingerprint_of(data: DonneesAnnee) -> str:
    """SHA-256 of a year as :func:`load_year` gave it.

    Row ids and import times are left out (they depend on how the store was
    filled, not on what it holds); a submission is named by its file's hash. The
    records are written as their ``repr``, one record at a time into the hash: the year
    as one text was hundreds of megabytes at 25,000 actions.
    """
    sha = {s.id: s.sha256 for s in data.submissions}

    def by_hash(item: Any) -> dict[str, Any]:
        return {**_fields(item), "submission_id": sha.get(item.submission_id)}

    parts: dict[str, Any] = {
        "revue": data.revue,
        "actions": data.actions,
        "bilans": _Vue(data.bilans, by_hash),  # one bilan at a time
        "suivis": {c: [by_hash(s) for s in v] for c, v in data.suivis.items()},
        "syntheses": {c: [by_hash(s) for s in v] for c, v in data.syntheses.items()},
        "decisions": data.decisions,
        "series": data.series,
        "submissions": [{**{k: v for k, v in _fields(s).items() if k != "id"},
                         "remplacee_par": sha.get(s.remplacee_par)}
                        for s in data.submissions],
    }
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        # Python's repr of the record: deterministic for these types (dataclasses, text,
        # numbers, Decimal, dates, lists and dicts built in a fixed order), and half the
        # cost of JSON with a conversion per record.
        digest.update(repr(value).encode("utf-8"))
        digest.update(b"\x1e")  # a record separator: repr escapes it inside a text

    for name in sorted(parts):
        value = parts[name]
        feed(name)
        if isinstance(value, Mapping):
            feed(len(value))
            for key in sorted(value):
                feed(key)
                feed(value[key])
        elif isinstance(value, list | SpilledList):
            feed(len(value))
            for item in value:
                feed(item)
        else:
            feed(value)
    return digest.hexdigest()


class _Vue(Mapping):
    """``mapping``'s values through ``fn``, computed when asked for, one at a time."""

    def __init__(self, mapping: Mapping, fn: Any) -> None:
        self._mapping, self._fn = mapping, fn

    def __getitem__(self, key: Any) -> Any:
        return self._fn(self._mapping[key])

    def __iter__(self) -> Any:
        return iter(self._mapping)

    def __len__(self) -> int:
        return len(self._mapping)


def _fields(record: Any) -> dict[str, Any]:
    """A record as its fields (what ``asdict`` gave, without copying what they hold)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def etat_donnees(store: Store, contrat: str) -> str:
    """A cheap token of what the consolidation of ``contrat`` reads from the store: the
    same token means no write touched that contrat's data since; the consolidation then
    says « rien de nouveau » without loading a year (any doubt must give another token).

    Every write of :mod:`cv_excel.store.imports` changes it. On SQLite, the store file's
    signature (size, modification and change times, inode) changes with any committed
    write — a file restored from a backup too (its change time), and writes of other
    contrats sharing the file (a needless check, never a missed one). On PostgreSQL, the
    sum of the transaction ids (``xmin``) of the contrat's submissions and programmation
    rows changes with any insert or update (a new or superseded return, a re-examination,
    a programmation replaced, even by values of the same size; a restored database), the
    count with any delete. On both, the count and ids of the submissions and the count
    of the programmation rows. Aggregates computed by the engine — on SQLite from its
    indexes alone —, no row read in Python.
    """
    import os

    from sqlalchemy import BigInteger, Text, cast, literal_column

    pa, pf = t.programmation_actions, t.programmation_financements
    postgres = store.dialect == "postgresql"

    def written(table) -> list[Any]:
        """PostgreSQL: the sum of the rows' transaction ids (a row inserted or updated
        gets the id of its transaction)."""
        if not postgres:
            return []
        xmin = cast(cast(literal_column(f"{table.name}.xmin"), Text), BigInteger)
        return [func.sum(xmin)]

    queries = (  # one row each
        select(func.count(), func.max(_S.c.id), func.sum(_S.c.id), *written(_S))
        .where(_S.c.contrat == contrat),
        select(func.count(), *written(pa)).where(pa.c.contrat == contrat),
        select(func.count(), *written(pf)).where(pf.c.contrat == contrat),
    )
    parts = [store.dialect]
    if store.path is not None:  # before the query: a write meanwhile changes it
        try:
            st = os.stat(store.path)
            parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}")
        except OSError:
            parts.append("?")
    subs = [q.subquery() for q in queries]  # one round trip for the three
    one = select(*(c for sub in subs for c in sub.c)).select_from(
        subs[0].join(subs[1], true()).join(subs[2], true()))
    with store.lecture() as conn:
        parts += map(str, conn.execute(one).one())
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()
