"""``cv-excel ept consolider``: the EPT's synthesis of every contrat de ville of one store.

The EPT Grand-Orly Seine Bièvre has eight contrats de ville; each keeps its working
folder, and a shared store (a PostgreSQL server, or one SQLite file) holds them all.
Every contrat uses the same evaluation kit — the EPT scale 0/20/40/60/80/100 of
Annexe 3, the same piliers and ANCT thèmes, the same list of financeurs — so their
figures can be put side by side: that is the whole point of the kit (« pour permettre
une évaluation cohérente et homogène à l'échelle des 8 contrats de ville de l'EPT »).

One workbook, ``Synthèse EPT <année>.xlsx``, and one CSV per table (UTF-8 with BOM,
``;``, decimal comma: French Excel) under ``<sorties>/<année>/EPT/``:

- « Lisez-moi »: what the workbook holds, which store (its address, never a password),
  which contrats, when it was built;
- « Contrats »: per contrat, actions programmées, porteurs, bilans reçus, taux de
  complétude, suivis des référents reçus, montant accordé;
- « Scores »: per contrat × pilier × thème ANCT, how many actions got each note of the
  scale, « non renseigné » (a bilan without a note), « sans bilan », and the mean note;
- « Financements »: per contrat × financeur, demandé, accordé, versé, taux de versement;
- « Complétude »: per contrat, porteurs attendus / à jour / à corriger / sans retour,
  actions with a bilan, référents and objectives followed, revues with returns.

Everything is aggregated in the database (GROUP BY over the programmation and the
returns in force: ``donnees = 1 AND remplacee_par IS NULL``), never by loading a year's
rows into Python: the EPT's eight contrats may hold tens of thousands of actions. What
Python does after the GROUP BY is small: map each objectif opérationnel to its pilier
through the embedded référentiel (the kit) and add up the grouped counts.

Amounts are decimal texts in the store (exact on both engines). They are summed in SQL
as whole cents (the text without its point: every amount is stored with two decimals,
see ``programmation.validators.parse_amount``), which is exact on SQLite and
PostgreSQL alike — SQLite's ``CAST(… AS NUMERIC)`` would go through floating point. An
amount stored in another shape (an older store) is grouped by its text and added in
Python as a Decimal, per group.

A contrat the store knows but that has nothing for the year is listed with zeros and a
note, never left out. A store with no contrat at all for the year raises
:class:`AucunContratPourLAnnee` (French message) before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import BigInteger, and_, case, cast, distinct, exists, func, select, union
from sqlalchemy.engine import Connection

from cv_excel.consolidation.mise_en_page import GRIS, font, height_for, line_count
from cv_excel.consolidation.opendata import write_csv
from cv_excel.consolidation.reporting import (
    DATE,
    ENTIER,
    EUROS,
    NON_RATTACHE,
    POURCENT,
    THEME_NON_RENSEIGNE,
    body_row,
    header,
    new_workbook,
    printable,
    put,
    title,
)
from cv_excel.listes import ECHELLE_EPT, FINANCEURS, PALIERS, SOUS_THEMES_ANCT, THEMES_ANCT
from cv_excel.listes import theme_of as theme_of_sous_theme
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.schema import (
    bilans,
    programmation_actions,
    programmation_financements,
    submissions,
    suivis,
)
from cv_excel.xlsxio import save_workbook_atomic

DOSSIER = "EPT"
ZERO = Decimal(0)
_CENT = Decimal("0.01")
LIBELLE_FINANCEUR = {f.key: f.libelle for f in FINANCEURS}
REJETE = "rejeté"  # the statut of a rejected return (cv_excel.intake.run.REJETE)
NOTE_MOYENNE = "0.0"


class AucunContratPourLAnnee(ValueError):
    """The store holds no contrat with data for the year; the message is French."""


def output_names(annee: int) -> dict[str, str]:
    """The files of the EPT synthesis, under ``<sorties>/<année>/EPT/``."""
    return {
        "synthese": f"Synthèse EPT {annee}.xlsx",
        "contrats": f"EPT {annee} - Contrats.csv",
        "scores": f"EPT {annee} - Scores.csv",
        "financements": f"EPT {annee} - Financements.csv",
        "completude": f"EPT {annee} - Complétude.csv",
    }


# --- the figures ------------------------------------------------------------------------------
@dataclass
class LigneContrat:
    """One contrat of the store, for the year."""

    contrat: str
    libelle: str
    actions: int = 0  # actions programmées
    porteurs: int = 0  # porteurs of the programmation
    bilans: int = 0  # programmed actions with a bilan in force
    referents: int = 0  # référents with an accepted return in force (any revue)
    objectifs_suivis: int = 0  # objectifs opérationnels those returns follow
    accorde: Decimal = ZERO  # montant accordé, every financeur
    note: str = ""  # what the line lacks, in French (empty: nothing to say)
    de_l_annee: bool = True  # False: the store knows the contrat for other years only

    @property
    def taux_completude(self) -> float | None:
        """Share of the programmed actions with a bilan in force (None: no action)."""
        return self.bilans / self.actions if self.actions else None


@dataclass
class LigneScores:
    """The notes of the actions of one contrat, pilier and ANCT thème."""

    contrat: str
    pilier: str  # « A — Cohésion sociale », or NON_RATTACHE
    theme: str
    notes: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PALIERS, 0))
    non_renseigne: int = 0  # a bilan in force, without a note
    sans_bilan: int = 0  # no bilan in force

    @property
    def actions(self) -> int:
        return sum(self.notes.values()) + self.non_renseigne + self.sans_bilan

    @property
    def notees(self) -> int:
        return sum(self.notes.values())

    @property
    def moyenne(self) -> Decimal | None:
        """Mean note of the noted actions, to one decimal (None: no note)."""
        if not self.notees:
            return None
        total = sum(note * n for note, n in self.notes.items())
        return (Decimal(total) / self.notees).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def add(self, other: LigneScores) -> None:
        for note, n in other.notes.items():
            self.notes[note] += n
        self.non_renseigne += other.non_renseigne
        self.sans_bilan += other.sans_bilan


@dataclass
class LigneFinancement:
    """What one financeur gives to the actions of one contrat."""

    contrat: str
    financeur: str  # key of cv_excel.listes.FINANCEURS
    actions: int = 0  # actions with a line for this financeur
    demande: Decimal = ZERO
    accorde: Decimal = ZERO
    verse: Decimal = ZERO

    @property
    def libelle(self) -> str:
        return LIBELLE_FINANCEUR.get(self.financeur, self.financeur)

    @property
    def taux_versement(self) -> float | None:
        """Versé / accordé (None: nothing accordé)."""
        return float(self.verse / self.accorde) if self.accorde else None

    def add(self, other: LigneFinancement) -> None:
        self.actions += other.actions
        self.demande += other.demande
        self.accorde += other.accorde
        self.verse += other.verse


@dataclass
class LigneCompletude:
    """Who answered, per contrat."""

    contrat: str
    porteurs: int = 0  # porteurs of the programmation (one bilan workbook each)
    porteurs_a_jour: int = 0  # with an accepted bilan in force
    porteurs_a_corriger: int = 0  # only rejected returns so far
    actions: int = 0
    actions_avec_bilan: int = 0
    referents: int = 0
    objectifs_suivis: int = 0
    revues: list[int] = field(default_factory=list)  # revues with accepted returns
    dernier_retour: dt.date | None = None
    note: str = ""

    @property
    def porteurs_sans_retour(self) -> int:
        return max(self.porteurs - self.porteurs_a_jour - self.porteurs_a_corriger, 0)

    @property
    def taux_porteurs(self) -> float | None:
        return self.porteurs_a_jour / self.porteurs if self.porteurs else None

    @property
    def taux_actions(self) -> float | None:
        return self.actions_avec_bilan / self.actions if self.actions else None


@dataclass
class SyntheseEPT:
    annee: int
    base: str  # the store, as the user may read it (no password)
    contrats: list[LigneContrat]
    scores: list[LigneScores]
    financements: list[LigneFinancement]
    completude: list[LigneCompletude]
    construit_le: dt.datetime
    # contrat → actions with a non-zero amount accordé by some financeur (each counted once)
    actions_financees: dict[str, int] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [c.contrat for c in self.contrats]

    @property
    def avec_donnees(self) -> list[str]:
        """The contrats that have a programmation or returns for the year."""
        return [c.contrat for c in self.contrats if c.de_l_annee]


@dataclass
class ResultatEPT:
    annee: int
    dossier: Path  # <sorties>/<année>/EPT
    synthese: SyntheseEPT
    fichiers: list[Path] = field(default_factory=list)


# --- reading the store ------------------------------------------------------------------------
def _en_vigueur():
    """The submissions whose data are in force: accepted, not replaced since."""
    return and_(submissions.c.donnees == 1, submissions.c.remplacee_par.is_(None))


def contrats_du_store(conn: Connection) -> list[str]:
    """Every contrat the store knows, any year (programmation or returns)."""
    rows = conn.execute(union(
        select(programmation_actions.c.contrat),
        select(submissions.c.contrat).where(submissions.c.contrat != "")))
    return sorted(r[0] for r in rows)


def contrats_de_l_annee(conn: Connection, annee: int) -> list[str]:
    """The contrats with a programmation or returns for ``annee``."""
    rows = conn.execute(union(
        select(programmation_actions.c.contrat).where(programmation_actions.c.annee == annee),
        select(submissions.c.contrat).where(submissions.c.contrat != "",
                                            submissions.c.annee == annee)))
    return sorted(r[0] for r in rows)


def _bilans_courants(annee: int):
    """One bilan in force per action of ``annee`` (the latest received when two returns in
    force carry the same action, as ``queries.load_year`` keeps it), as a subquery."""
    rang = func.row_number().over(
        partition_by=(submissions.c.contrat, bilans.c.numero),
        order_by=(submissions.c.recu_le.desc(), submissions.c.id.desc())).label("rang")
    tous = (select(submissions.c.contrat, bilans.c.numero, bilans.c.score, rang)
            .select_from(bilans.join(submissions, submissions.c.id == bilans.c.submission_id))
            .where(_en_vigueur(), submissions.c.annee == annee)
            .subquery("bilans_en_vigueur"))
    return (select(tous.c.contrat, tous.c.numero, tous.c.score)
            .where(tous.c.rang == 1).subquery("bilan_courant"))


def _actions(conn: Connection, annee: int) -> dict[str, tuple[int, int]]:
    """contrat → (actions programmées, porteurs)."""
    a = programmation_actions.c
    rows = conn.execute(select(a.contrat, func.count(), func.count(distinct(a.porteur_siret)))
                        .where(a.annee == annee).group_by(a.contrat))
    return {r[0]: (r[1], r[2]) for r in rows}


def _score_groups(conn: Connection, annee: int) -> Iterator[tuple[Any, ...]]:
    """(contrat, objectif opérationnel, thème, sous-thème, note, actions, with a bilan):
    the programmed actions of the year grouped by their note (None: no note, or no
    bilan — the two counts tell them apart)."""
    a = programmation_actions.c
    b = _bilans_courants(annee)
    query = (select(a.contrat, a.objectif_operationnel, a.theme_anct, a.sous_theme_anct,
                    b.c.score, func.count(), func.count(b.c.numero))
             .select_from(programmation_actions.outerjoin(
                 b, and_(b.c.contrat == a.contrat, b.c.numero == a.numero)))
             .where(a.annee == annee)
             .group_by(a.contrat, a.objectif_operationnel, a.theme_anct, a.sous_theme_anct,
                       b.c.score))
    yield from conn.execute(query)


def _deux_decimales(column):
    return column.like("%.__")


def _en_centimes(column):
    """An amount text « 1234.50 » as whole cents, in SQL (its text without the point)."""
    return cast(func.replace(column, ".", ""), BigInteger)


def _cents(column):
    """The sum of an amount column in whole cents, in SQL: exact on both engines. Only the
    texts with two decimals (every amount cv_excel writes) are summed here."""
    return func.sum(case((_deux_decimales(column), _en_centimes(column)), else_=None))


_MONTANTS = ("demande", "accorde", "verse")


def _financements(conn: Connection, annee: int) -> dict[tuple[str, str], LigneFinancement]:
    """(contrat, financeur) → its line, summed in the database; « actions »: those this
    financeur grants something to. A financeur that neither was asked nor gives anything to
    a contrat has no line."""
    f = programmation_financements.c
    lines: dict[tuple[str, str], LigneFinancement] = {}
    financees = func.count(case((and_(_deux_decimales(f.accorde),
                                      _en_centimes(f.accorde) != 0), 1), else_=None))
    query = (select(f.contrat, f.financeur, financees, *(_cents(f[m]) for m in _MONTANTS))
             .where(f.annee == annee).group_by(f.contrat, f.financeur))
    for contrat, financeur, n, *cents in conn.execute(query):
        line = lines[(contrat, financeur)] = LigneFinancement(contrat, financeur, actions=n)
        for name, value in zip(_MONTANTS, cents, strict=True):
            setattr(line, name, Decimal(int(value or 0)) * _CENT)
    # Amounts stored in another shape (not « 123.45 »): grouped by their text, added here.
    for name in _MONTANTS:
        column = f[name]
        query = (select(f.contrat, f.financeur, column, func.count())
                 .where(f.annee == annee, column.is_not(None), ~_deux_decimales(column))
                 .group_by(f.contrat, f.financeur, column))
        for contrat, financeur, text, n in conn.execute(query):
            line = lines.setdefault((contrat, financeur), LigneFinancement(contrat, financeur))
            try:
                amount = Decimal(text)
            except ArithmeticError:
                continue  # not a number: never written by cv_excel, left out of the sums
            if amount.is_finite():
                setattr(line, name, getattr(line, name) + amount * n)
                if name == "accorde" and amount:
                    line.actions += n
    return {k: x for k, x in lines.items() if x.actions or x.demande or x.accorde or x.verse}


def _actions_financees(conn: Connection, annee: int) -> dict[str, int]:
    """contrat → actions that some financeur grants a non-zero amount to."""
    f = programmation_financements.c
    accorde = and_(f.accorde.is_not(None), case(
        (_deux_decimales(f.accorde), _en_centimes(f.accorde) != 0),
        else_=f.accorde.not_in(("0", "0.0", ""))))
    return _count_by_contrat(conn, select(f.contrat, func.count(distinct(f.numero)))
                             .where(f.annee == annee, accorde).group_by(f.contrat))


def _count_by_contrat(conn: Connection, query) -> dict[str, int]:
    return {r[0]: r[1] for r in conn.execute(query)}


def _completude(conn: Connection, annee: int) -> dict[str, LigneCompletude]:
    """Who answered, per contrat: porteurs (against the programmation), référents,
    revues, the latest reception."""
    a, s = programmation_actions.c, submissions.c
    programmes = (select(a.contrat, a.porteur_siret).where(a.annee == annee)
                  .distinct().subquery("porteurs_programmes"))
    porteur = and_(s.annee == annee, s.type == "porteur")
    connu = and_(programmes.c.contrat == s.contrat,
                 programmes.c.porteur_siret == s.destinataire_id)
    a_jour = _count_by_contrat(conn, select(s.contrat, func.count(distinct(s.destinataire_id)))
                               .select_from(submissions.join(programmes, connu))
                               .where(porteur, _en_vigueur()).group_by(s.contrat))
    autre = submissions.alias("autre")
    en_vigueur_autre = exists().where(
        autre.c.contrat == s.contrat, autre.c.annee == s.annee, autre.c.type == "porteur",
        autre.c.destinataire_id == s.destinataire_id, autre.c.donnees == 1,
        autre.c.remplacee_par.is_(None))
    a_corriger = _count_by_contrat(
        conn, select(s.contrat, func.count(distinct(s.destinataire_id)))
        .select_from(submissions.join(programmes, connu))
        .where(porteur, s.statut == REJETE, ~en_vigueur_autre).group_by(s.contrat))
    referents = _count_by_contrat(conn, select(s.contrat, func.count(distinct(s.destinataire_id)))
                                  .where(s.annee == annee, s.type == "referent", _en_vigueur())
                                  .group_by(s.contrat))
    objectifs = _count_by_contrat(conn, select(s.contrat, func.count(distinct(suivis.c.code)))
                                  .select_from(suivis.join(submissions,
                                                           s.id == suivis.c.submission_id))
                                  .where(s.annee == annee, _en_vigueur())
                                  .group_by(s.contrat))
    lines = {c: LigneCompletude(c) for c in {*a_jour, *a_corriger, *referents, *objectifs}}
    for contrat, numero in conn.execute(select(s.contrat, s.revue).where(
            s.annee == annee, s.revue.is_not(None), s.donnees == 1).distinct()
            .order_by(s.contrat, s.revue)):
        lines.setdefault(contrat, LigneCompletude(contrat)).revues.append(numero)
    for contrat, recu_le in conn.execute(select(s.contrat, func.max(s.recu_le))
                                         .where(s.annee == annee).group_by(s.contrat)):
        lines.setdefault(contrat, LigneCompletude(contrat)).dernier_retour = _date(recu_le)
    for contrat, line in lines.items():
        line.porteurs_a_jour = a_jour.get(contrat, 0)
        line.porteurs_a_corriger = a_corriger.get(contrat, 0)
        line.referents = referents.get(contrat, 0)
        line.objectifs_suivis = objectifs.get(contrat, 0)
    return dict(lines)


def _date(recu_le: str | None) -> dt.date | None:
    if not recu_le:
        return None
    try:
        return dt.datetime.fromisoformat(recu_le).date()
    except ValueError:
        return None


def _pilier(ref: Referentiel, code_oo: str) -> str:
    try:
        code = ref.pilier_of(code_oo)
    except (StopIteration, KeyError, ValueError):
        return NON_RATTACHE
    pilier = next((p for p in ref.piliers if p.code == code), None)
    return NON_RATTACHE if pilier is None else f"{pilier.code} — {pilier.titre}"


def _theme(theme: str | None, sous_theme: str | None) -> str:
    if theme:
        return theme
    if sous_theme in SOUS_THEMES_ANCT:
        return theme_of_sous_theme(sous_theme)
    return THEME_NON_RENSEIGNE


def _libelle(code: str, ref: Referentiel, libelles: dict[str, str] | None) -> str:
    if libelles and code in libelles:
        return libelles[code]
    return ref.contrat.libelle if code == ref.contrat.code else ""


def synthese_ept(conn: Connection, annee: int, ref: Referentiel, base: str = "",
                 libelles: dict[str, str] | None = None,
                 now: dt.datetime | None = None) -> SyntheseEPT:
    """The figures of the EPT synthesis of ``annee``, aggregated in the database through
    ``conn``; every contrat the store knows is listed (zeros and a note when it has
    nothing for the year). ``ref``: the kit (objectif opérationnel → pilier);
    ``libelles``: contrat code → its name, when the référentiel does not give it."""
    now = now or dt.datetime.now().astimezone()
    codes = contrats_du_store(conn)
    de_l_annee = set(contrats_de_l_annee(conn, annee))
    actions = _actions(conn, annee)

    scores: dict[tuple[str, str, str], LigneScores] = {}
    avec_bilan: dict[str, int] = defaultdict(int)
    for contrat, oo, theme, sous_theme, note, n, n_bilans in _score_groups(conn, annee):
        key = (contrat, _pilier(ref, oo), _theme(theme, sous_theme))
        line = scores.setdefault(key, LigneScores(*key))
        avec_bilan[contrat] += n_bilans
        if note in line.notes:
            line.notes[note] += n
        else:  # no note (or one outside the scale, which intake never accepts)
            line.non_renseigne += n_bilans
        line.sans_bilan += n - n_bilans
    money = _financements(conn, annee)
    completude = _completude(conn, annee)

    ordre_piliers = {f"{p.code} — {p.titre}": i for i, p in enumerate(ref.piliers)}
    ordre_themes = {t: i for i, t in enumerate(THEMES_ANCT.values())}
    ordre_financeurs = {f.key: i for i, f in enumerate(FINANCEURS)}
    lignes_scores = sorted(scores.values(), key=lambda x: (
        codes.index(x.contrat) if x.contrat in codes else len(codes), x.contrat,
        ordre_piliers.get(x.pilier, len(ordre_piliers)), x.pilier,
        ordre_themes.get(x.theme, len(ordre_themes)), x.theme))
    lignes_money = sorted(money.values(), key=lambda x: (
        x.contrat, ordre_financeurs.get(x.financeur, len(ordre_financeurs)), x.financeur))

    contrats, lignes_completude = [], []
    for code in codes:
        n_actions, n_porteurs = actions.get(code, (0, 0))
        c = completude.get(code) or LigneCompletude(code)
        c.contrat, c.porteurs, c.actions = code, n_porteurs, n_actions
        c.actions_avec_bilan = avec_bilan.get(code, 0)
        note = _note(code in de_l_annee, n_actions, c, annee)
        c.note = note
        contrats.append(LigneContrat(
            contrat=code, libelle=_libelle(code, ref, libelles), actions=n_actions,
            porteurs=n_porteurs, bilans=c.actions_avec_bilan, referents=c.referents,
            objectifs_suivis=c.objectifs_suivis,
            accorde=sum((m.accorde for m in lignes_money if m.contrat == code), ZERO),
            note=note, de_l_annee=code in de_l_annee))
        lignes_completude.append(c)
    return SyntheseEPT(annee, base, contrats, lignes_scores, lignes_money, lignes_completude,
                       now, _actions_financees(conn, annee))


def _note(has_data: bool, actions: int, c: LigneCompletude, annee: int) -> str:
    if not has_data:
        return f"Aucune donnée pour {annee} dans la base : contrat connu pour d'autres années."
    parts = []
    if not actions:
        parts.append(f"aucune programmation {annee} dans la base (la consolidation du contrat "
                     "l'y enregistre)")
    if not (c.porteurs_a_jour or c.porteurs_a_corriger or c.referents or c.revues):
        parts.append("aucun retour reçu")
    text = " ; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""




def description_base(store) -> str:
    """The store as the Lisez-moi names it: its address without any password."""
    describe = getattr(store, "describe", None)
    if callable(describe):
        return str(describe())
    return str(getattr(store, "path", ""))


def consolider_ept(store, annee: int, dossier_sortie: Path, ref: Referentiel | None = None,
                   libelles: dict[str, str] | None = None,
                   now: dt.datetime | None = None) -> ResultatEPT:
    """Write the EPT synthesis of ``annee`` from ``store`` (every contrat it holds) under
    ``<dossier_sortie>/<année>/EPT/``: the workbook and one CSV per table, each written
    atomically. Raises :class:`AucunContratPourLAnnee` when no contrat of the store has
    anything for the year (nothing is written then)."""
    if ref is None:
        from cv_excel.referentiel.load import embedded_referentiel

        ref = embedded_referentiel()
    with store.lecture() as conn:  # one state of the store for every figure
        synthese = synthese_ept(conn, annee, ref, description_base(store), libelles, now)
    if not synthese.avec_donnees:
        connus = ", ".join(synthese.codes)
        raise AucunContratPourLAnnee(
            f"La base ne contient aucun contrat pour l'année {annee} "
            + (f"(contrats connus pour d'autres années : {connus}) " if connus
               else "(elle ne contient encore aucun contrat) ")
            + ": consolidez d'abord chaque contrat de cette année (cv-excel consolider), "
            "ou choisissez une autre année.")
    out = Path(dossier_sortie) / str(annee) / DOSSIER
    names = output_names(annee)
    result = ResultatEPT(annee, out, synthese)
    result.fichiers.append(write_synthese(synthese, ref, out / names["synthese"]))
    result.fichiers += write_csvs(synthese, out, names)
    return result


# --- the outputs ------------------------------------------------------------------------------
_NOTES_COLONNES = [f"Note {n}" for n in PALIERS]
CONTRATS_COLUMNS = (
    ("Contrat", 26, None), ("Libellé", 36, None), ("Actions programmées", 13, ENTIER),
    ("Porteurs", 10, ENTIER), ("Bilans reçus en vigueur", 12, ENTIER),
    ("Taux de complétude", 12, POURCENT), ("Suivis des référents reçus", 12, ENTIER),
    ("Objectifs suivis par les référents", 13, ENTIER), ("Montant accordé", 15, EUROS),
    ("Observation", 44, None),
)
SCORES_COLUMNS = (
    ("Contrat", 24, None), ("Pilier", 34, None), ("Thème ANCT", 28, None),
    *((label, 8, ENTIER) for label in _NOTES_COLONNES),
    ("Non renseigné", 10, ENTIER), ("Sans bilan", 9, ENTIER), ("Actions", 9, ENTIER),
    ("Note moyenne", 9, NOTE_MOYENNE),
)
FINANCEMENTS_COLUMNS = (
    ("Contrat", 24, None), ("Financeur", 30, None), ("Actions financées", 10, ENTIER),
    ("Demandé", 15, EUROS), ("Accordé", 15, EUROS), ("Versé", 15, EUROS),
    ("Taux de versement", 11, POURCENT),
)
COMPLETUDE_COLUMNS = (
    ("Contrat", 24, None), ("Porteurs attendus", 10, ENTIER),
    ("Porteurs à jour (bilan accepté)", 12, ENTIER), ("Porteurs à relancer : à corriger", 12,
                                                       ENTIER),
    ("Porteurs à relancer : sans retour", 12, ENTIER), ("Taux de retour des porteurs", 11,
                                                        POURCENT),
    ("Actions programmées", 13, ENTIER), ("Actions avec bilan", 10, ENTIER),
    ("Taux de complétude des actions", 11, POURCENT), ("Référents ayant répondu", 11, ENTIER),
    ("Objectifs suivis", 10, ENTIER), ("Revues avec retours", 10, None),
    ("Dernier retour reçu", 12, DATE), ("Observation", 40, None),
)


def _contrats_rows(s: SyntheseEPT) -> list[list[Any]]:
    return [[c.contrat, c.libelle, c.actions, c.porteurs, c.bilans, c.taux_completude,
             c.referents, c.objectifs_suivis, c.accorde, c.note] for c in s.contrats]


def _scores_rows(lignes: list[LigneScores]) -> list[list[Any]]:
    return [[x.contrat, x.pilier, x.theme, *(x.notes[n] for n in PALIERS), x.non_renseigne,
             x.sans_bilan, x.actions, x.moyenne] for x in lignes]


def _money_rows(lignes: list[LigneFinancement]) -> list[list[Any]]:
    return [[x.contrat, x.libelle, x.actions, x.demande, x.accorde, x.verse,
             x.taux_versement] for x in lignes]


def _completude_rows(s: SyntheseEPT) -> list[list[Any]]:
    return [[c.contrat, c.porteurs, c.porteurs_a_jour, c.porteurs_a_corriger,
             c.porteurs_sans_retour, c.taux_porteurs, c.actions, c.actions_avec_bilan,
             c.taux_actions, c.referents, c.objectifs_suivis,
             ", ".join(str(r) for r in c.revues), c.dernier_retour, c.note]
            for c in s.completude]


def write_synthese(s: SyntheseEPT, ref: Referentiel, path: Path) -> Path:
    """The workbook « Synthèse EPT <année> »: Lisez-moi, Contrats, Scores, Financements,
    Complétude. Every figure is a value (no formula); every text goes through
    ``set_text`` (a text starting with « = » stays a text)."""
    wb = new_workbook()
    _lisez_moi(wb.create_sheet("Lisez-moi"), s)
    ws = wb.create_sheet("Contrats")
    title(ws, f"Synthèse EPT {s.annee} — les contrats de ville de la base",
          "Une ligne par contrat ; bilans : ceux des porteurs, acceptés et en vigueur ; "
          "montants en euros.")
    total = [_TOTAL, "", sum(c.actions for c in s.contrats),
             sum(c.porteurs for c in s.contrats), sum(c.bilans for c in s.contrats), None,
             sum(c.referents for c in s.contrats), sum(c.objectifs_suivis for c in s.contrats),
             sum((c.accorde for c in s.contrats), ZERO), ""]
    n = sum(c.actions for c in s.contrats)
    total[5] = total[4] / n if n else None
    _table(ws, 4, CONTRATS_COLUMNS, _contrats_rows(s), [total])

    ws = wb.create_sheet("Scores")
    title(ws, f"Synthèse EPT {s.annee} — notes des actions (échelle EPT de l'annexe 3)",
          "Par contrat, pilier et thème ANCT : nombre d'actions programmées par note ; "
          "« non renseigné » : bilan reçu sans note ; « sans bilan » : aucun bilan accepté "
          "en vigueur. Note moyenne : des seules actions notées.")
    rows: list[tuple[list[Any], bool]] = []
    for code in s.codes:
        of_contrat = [x for x in s.scores if x.contrat == code]
        if not of_contrat:
            rows.append(([code, f"Aucune action programmée en {s.annee}", "", *[0] * len(
                PALIERS), 0, 0, 0, None], False))
            continue
        rows += [(r, False) for r in _scores_rows(of_contrat)]
        sous_total = LigneScores(code, "", "")
        for x in of_contrat:
            sous_total.add(x)
        rows.append(([f"Total {code}", "", "", *_scores_rows([sous_total])[0][3:]], True))
    ept = LigneScores("", "", "")
    for x in s.scores:
        ept.add(x)
    rows.append(([_TOTAL, "", "", *_scores_rows([ept])[0][3:]], True))
    _table_with_totals(ws, 4, SCORES_COLUMNS, rows)

    ws = wb.create_sheet("Financements")
    title(ws, f"Synthèse EPT {s.annee} — financements par financeur et par contrat",
          "Montants de la programmation (euros) : demandé, accordé, versé ; taux de "
          "versement = versé / accordé.")
    rows = []
    for code in s.codes:
        of_contrat = [x for x in s.financements if x.contrat == code]
        if not of_contrat:
            rows.append(([code, f"Aucun financement programmé en {s.annee}", 0, ZERO, ZERO,
                          ZERO, None], False))
            continue
        rows += [(r, False) for r in _money_rows(of_contrat)]
        sous_total = LigneFinancement(code, "")
        for x in of_contrat:
            sous_total.add(x)
        sous_total.actions = s.actions_financees.get(code, 0)  # each action once
        rows.append(([f"Total {code}", "Tous financeurs", *_money_rows([sous_total])[0][2:]],
                     True))
    par_financeur: dict[str, LigneFinancement] = {}
    for x in s.financements:
        par_financeur.setdefault(x.financeur, LigneFinancement("", x.financeur)).add(x)
    for f in sorted(par_financeur.values(), key=lambda x: (
            [k.key for k in FINANCEURS].index(x.financeur)
            if x.financeur in LIBELLE_FINANCEUR else len(FINANCEURS), x.financeur)):
        rows.append(([_TOTAL, *_money_rows([f])[0][1:]], True))
    everything = LigneFinancement("", "")
    for f in par_financeur.values():
        everything.add(f)
    everything.actions = sum(s.actions_financees.values())
    rows.append(([_TOTAL, "Tous financeurs", *_money_rows([everything])[0][2:]], True))
    _table_with_totals(ws, 4, FINANCEMENTS_COLUMNS, rows)

    ws = wb.create_sheet("Complétude")
    title(ws, f"Synthèse EPT {s.annee} — complétude des retours par contrat",
          "Porteurs : un bilan par porteur de la programmation ; « à corriger » : seuls des "
          "retours rejetés ; référents : retours acceptés en vigueur, toutes revues de "
          "l'année.")
    _table(ws, 4, COMPLETUDE_COLUMNS, _completude_rows(s), [])
    return save_workbook_atomic(wb, path)


_TOTAL = "Total EPT"


def _table(ws: Worksheet, top: int, columns, rows: list[list[Any]],
           totals: list[list[Any]]) -> None:
    _table_with_totals(ws, top, columns, [(r, False) for r in rows]
                       + [(t, True) for t in totals])


def _table_with_totals(ws: Worksheet, top: int, columns,
                       rows: list[tuple[list[Any], bool]]) -> None:
    """Header, then each row (totals in bold on a light fill); printed A4 landscape, one
    page wide, the header repeated on each page."""
    labels, widths, formats = zip(*columns, strict=True)
    header(ws, top, labels, widths)
    for row, (values, total) in enumerate(rows, start=top + 1):
        body_row(ws, row, values, formats, total=total)
        # Tall enough for the wrapped texts: LibreOffice does not grow a styled row.
        lines = max((line_count(v, w) for v, w in zip(values, widths, strict=True)
                     if isinstance(v, str)), default=1)
        ws.row_dimensions[row].height = height_for(lines)
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    printable(ws, header_row=top)


def _lisez_moi(ws: Worksheet, s: SyntheseEPT) -> None:
    title(ws, f"Synthèse EPT {s.annee} — contrats de ville de l'EPT Grand-Orly Seine Bièvre",
          "Lisez-moi : ce que contient ce classeur et d'où viennent les chiffres.")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90
    avec = s.avec_donnees
    sans = [c for c in s.codes if c not in avec]
    lines: list[tuple[str, Any]] = [
        ("Année", str(s.annee)),
        ("Construit le", s.construit_le.strftime("%d/%m/%Y à %H:%M")),
        ("Base de données", s.base or "non précisée"),
        ("Contrats de l'année", ", ".join(avec) or "aucun"),
        ("Contrats sans donnée pour l'année", ", ".join(sans) or "aucun"),
        ("Contenu", "« Contrats » : une ligne par contrat. « Scores » : notes des actions par "
                    "contrat, pilier et thème ANCT. « Financements » : montants par financeur "
                    "et par contrat. « Complétude » : qui a répondu, par contrat. Les mêmes "
                    "tableaux sont écrits en CSV (séparateur « ; ») à côté de ce classeur."),
        ("Retours pris en compte", "Les retours acceptés et en vigueur (le plus récent de "
                                   "chaque destinataire) enregistrés dans la base par « cv-excel "
                                   "valider » de chaque contrat ; la programmation telle que la "
                                   "dernière consolidation de chaque contrat l'a enregistrée."),
        ("Pilier", "Déduit de l'objectif opérationnel de l'action par le référentiel commun "
                   f"(kit d'évaluation de l'EPT) ; « {NON_RATTACHE} » sinon."),
        ("Échelle des notes", " ; ".join(f"{n} : {t}" for n, t in ECHELLE_EPT.items())),
    ]
    for row, (label, value) in enumerate(lines, start=4):
        for col, text, bold in ((1, label, True), (2, value, False)):
            cell = put(ws, row, col, text)
            cell.font = font(bold=bold)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = height_for(max(line_count(label, 24),
                                                       line_count(value, 90)))
    note = put(ws, 4 + len(lines) + 1, 1, "Chiffres écrits comme valeurs (aucune formule) : "
               "ils se vérifient dans la base, contrat par contrat.")
    note.font = Font(italic=True, color=GRIS)
    printable(ws, landscape=False)


def write_csvs(s: SyntheseEPT, out: Path, names: dict[str, str]) -> list[Path]:
    """One CSV per table (no totals: the data as they are), for French Excel."""
    def money(x: Decimal) -> str:
        return f"{Decimal(x).quantize(_CENT, ROUND_HALF_UP)}".replace(".", ",")

    def pct(x: float | None) -> str:
        return "" if x is None else f"{x * 100:.1f}".replace(".", ",")

    def dec(x: Decimal | None) -> str:
        return "" if x is None else str(x).replace(".", ",")

    def labels(columns) -> list[str]:
        return [c[0] + (" (%)" if c[2] == POURCENT else "") for c in columns]

    files = [write_csv(out / names["contrats"], labels(CONTRATS_COLUMNS), (
        [c.contrat, c.libelle, c.actions, c.porteurs, c.bilans, pct(c.taux_completude),
         c.referents, c.objectifs_suivis, money(c.accorde), c.note] for c in s.contrats),
        ";", bom=True)]
    files.append(write_csv(out / names["scores"], labels(SCORES_COLUMNS), (
        [*r[:-1], dec(r[-1])] for r in _scores_rows(s.scores)), ";", bom=True))
    files.append(write_csv(out / names["financements"], labels(FINANCEMENTS_COLUMNS), (
        [x.contrat, x.libelle, x.actions, money(x.demande), money(x.accorde), money(x.verse),
         pct(x.taux_versement)] for x in s.financements), ";", bom=True))
    files.append(write_csv(out / names["completude"], labels(COMPLETUDE_COLUMNS), (
        [*r[:5], pct(r[5]), r[6], r[7], pct(r[8]), *r[9:12],
         "" if r[12] is None else r[12].strftime("%d/%m/%Y"), r[13]]
        for r in _completude_rows(s)), ";", bom=True))
    return files
