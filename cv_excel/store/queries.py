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
import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from cv_excel.store.db import Store
from cv_excel.store.extract import BENEF_AGES, as_decimal
from cv_excel.store.models import (
    ActionProgrammee,
    BilanAction,
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
_IN_FORCE = "s.donnees = 1 AND s.remplacee_par IS NULL"
_CURRENT = f"{_IN_FORCE} AND s.contrat = ? AND s.annee = ?"
# The order of the revues of a year: numbered ones first, the annual return (NULL) last.
_ANNUELLE = 1_000_000
_RANG = f"COALESCE(s.revue, {_ANNUELLE})"


def years(store: Store, contrat: str) -> list[int]:
    """Every year the store knows for ``contrat`` (programmation or returns)."""
    rows = store.conn.execute(
        "SELECT annee FROM programmation_actions WHERE contrat = ? UNION "
        "SELECT annee FROM submissions WHERE contrat = ? AND annee IS NOT NULL "
        "ORDER BY annee", (contrat, contrat))
    return [r[0] for r in rows]


def revues_avec_retours(store: Store, contrat: str, annee: int) -> list[int]:
    """The revues of the year for which the store holds at least one accepted return."""
    rows = store.conn.execute(
        "SELECT DISTINCT revue FROM submissions WHERE contrat = ? AND annee = ? "
        "AND revue IS NOT NULL AND donnees = 1 ORDER BY revue", (contrat, annee))
    return [r[0] for r in rows]


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
    conn = store.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        key = (contrat, annee)
        return DonneesAnnee(contrat, annee, _actions(store, key), _bilans(store, key),
                            _suivis(store, key, revue), _submissions(store, key),
                            construit_le=dt.datetime.now().astimezone(), revue=revue,
                            syntheses=_syntheses(store, key, revue),
                            decisions=decisions_jusqua(store, contrat, annee, revue),
                            series=_series(store, contrat, annee, revue))
    finally:
        if own:
            conn.execute("COMMIT")


def _of_revue(revue: int | None) -> tuple[str, tuple]:
    """The SQL condition choosing the submissions of one revue (none: every one)."""
    return ("", ()) if revue is None else (" AND s.revue = ?", (revue,))


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


def _actions(store: Store, key: tuple[str, int]) -> list[ActionProgrammee]:
    money: dict[str, dict[str, dict[str, Any]]] = {}
    for r in store.conn.execute(
            "SELECT numero, financeur, demande, accorde, verse, dates_versement "
            "FROM programmation_financements WHERE contrat = ? AND annee = ?", key):
        per = money.setdefault(r["numero"], _money())
        per["demande"][r["financeur"]] = as_decimal(r["demande"]) or _ZERO
        per["accorde"][r["financeur"]] = as_decimal(r["accorde"]) or _ZERO
        per["verse"][r["financeur"]] = as_decimal(r["verse"]) or _ZERO
        per["dates_versement"][r["financeur"]] = [
            dt.date.fromisoformat(d) for d in (r["dates_versement"] or "").split(";") if d]
    actions = []
    for r in store.conn.execute(
            "SELECT * FROM programmation_actions WHERE contrat = ? AND annee = ? "
            "ORDER BY numero", key):
        per = money.get(r["numero"], _money())
        actions.append(ActionProgrammee(
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
            valeur_cible=as_decimal(r["valeur_cible"]), unite=r["unite"]))
    return actions


def _money() -> dict[str, dict[str, Any]]:
    return {"demande": {}, "accorde": {}, "verse": {}, "dates_versement": {}}


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _bilans(store: Store, key: tuple[str, int]) -> dict[str, BilanAction]:
    budget: dict[tuple[int, str], list[LigneBudget]] = {}
    for r in store.conn.execute(
            "SELECT b.* FROM budget_lignes b JOIN submissions s ON s.id = b.submission_id "
            f"WHERE {_CURRENT} ORDER BY b.rowid", key):
        budget.setdefault((r["submission_id"], r["numero"]), []).append(LigneBudget(
            r["tableau"], r["ligne"], as_decimal(r["prevu"]), as_decimal(r["realise"])))
    bilans = {}
    for r in store.conn.execute(
            "SELECT b.*, s.nom, s.recu_le FROM bilans b JOIN submissions s "
            f"ON s.id = b.submission_id WHERE {_CURRENT} ORDER BY s.recu_le, s.id, b.numero",
            key):
        bilans[r["numero"]] = BilanAction(
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
            budget=budget.get((r["submission_id"], r["numero"]), []),
            lieux_realisation=r["lieux_realisation"], observations=r["observations"],
            repartition_charges_indirectes=r["repartition_charges_indirectes"],
            valeur_atteinte=as_decimal(r["valeur_atteinte"]),
            representant=r["representant"])
    return dict(sorted(bilans.items()))


def _suivis(store: Store, key: tuple[str, int], revue: int | None
            ) -> dict[str, list[SuiviObjectif]]:
    where, args = _of_revue(revue)
    indicators: dict[tuple[int, str], list[ValeurIndicateur]] = {}
    for r in store.conn.execute(
            "SELECT i.* FROM indicateurs i JOIN submissions s ON s.id = i.submission_id "
            f"WHERE {_CURRENT}{where} ORDER BY i.propose, i.rang", (*key, *args)):
        indicators.setdefault((r["submission_id"], r["code"]), []).append(ValeurIndicateur(
            rang=r["rang"], libelle=r["libelle"], type=r["type"],
            valeur_cible=r["valeur_cible"], valeur_precedente=r["valeur_precedente"],
            valeur_annee=r["valeur_annee"], source=r["source"], commentaire=r["commentaire"],
            propose=bool(r["propose"]), unite=r["unite"],
            valeur_reference=r["valeur_reference"], annee_reference=r["annee_reference"],
            panier=r["panier"], cible_fiche=r["cible_fiche"]))
    pistes: dict[tuple[int, str], list[EtatPiste]] = {}
    for r in store.conn.execute(
            "SELECT p.* FROM pistes p JOIN submissions s ON s.id = p.submission_id "
            f"WHERE {_CURRENT}{where} ORDER BY p.rang", (*key, *args)):
        pistes.setdefault((r["submission_id"], r["code"]), []).append(EtatPiste(
            rang=r["rang"], libelle=r["libelle"], etat=r["etat"],
            commentaire=r["commentaire"]))
    rows = store.conn.execute(
        "SELECT v.*, s.nom, s.recu_le, s.revue FROM suivis v JOIN submissions s "
        f"ON s.id = v.submission_id WHERE {_CURRENT}{where} "
        f"ORDER BY {_RANG}, s.recu_le, s.id", (*key, *args)).fetchall()
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


def _syntheses(store: Store, key: tuple[str, int], revue: int | None
               ) -> dict[str, list[SyntheseNiveau]]:
    """The pilotes' and coordonnateurs' syntheses, by objectif stratégique / orientation."""
    where, args = _of_revue(revue)
    rows = store.conn.execute(
        "SELECT y.*, s.nom, s.recu_le FROM syntheses y JOIN submissions s "
        f"ON s.id = y.submission_id WHERE {_CURRENT}{where} "
        f"ORDER BY {_RANG}, s.recu_le, s.id", (*key, *args)).fetchall()
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
    rows = store.conn.execute(
        "SELECT d.*, s.annee AS maj_annee, s.revue AS maj_revue FROM decisions d "
        f"JOIN submissions s ON s.id = d.submission_id WHERE {_IN_FORCE} AND s.contrat = ? "
        "AND s.type = 'decisions' AND s.annee IS NOT NULL AND (s.annee < ? OR "
        f"(s.annee = ? AND {_RANG} <= ?)) ORDER BY s.annee, {_RANG}, s.recu_le, s.id, d.rang",
        (contrat, annee, annee, _rank(revue))).fetchall()
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


def _series(store: Store, contrat: str, annee: int, revue: int | None
            ) -> list[SerieIndicateur]:
    """Every indicator declared by the référents up to ``annee`` (its revue ``revue``):
    for each year the last numeric value declared (the latest revue wins, an empty or
    non-numeric value never replaces a number); unit, reference, target and basket as
    last declared (the latest one given)."""
    rows = store.conn.execute(
        "SELECT i.code, i.libelle, i.propose, i.unite, i.valeur_reference, "
        "i.annee_reference, i.valeur_cible, i.valeur_annee, i.panier, s.annee "
        f"FROM indicateurs i JOIN submissions s ON s.id = i.submission_id WHERE {_IN_FORCE} "
        "AND s.contrat = ? AND s.type = 'referent' AND s.annee IS NOT NULL AND (s.annee < ? "
        f"OR (s.annee = ? AND {_RANG} <= ?)) "
        f"ORDER BY s.annee, {_RANG}, s.recu_le, s.id, i.propose, i.rang",
        (contrat, annee, annee, _rank(revue))).fetchall()
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


def _submissions(store: Store, key: tuple[str, int]) -> list[Submission]:
    return [Submission(
        id=r["id"], sha256=r["sha256"], nom=r["nom"], recu_le=r["recu_le"], type=r["type"],
        classeur_id=r["classeur_id"], contrat=r["contrat"], annee=r["annee"],
        destinataire_id=r["destinataire_id"], destinataire=r["destinataire"],
        statut=r["statut"], bloquants=r["bloquants"], avertissements=r["avertissements"],
        courante=bool(r["donnees"]) and r["remplacee_par"] is None,
        remplacee_par=r["remplacee_par"], revue=r["revue"],
    ) for r in store.conn.execute(
        "SELECT * FROM submissions WHERE contrat = ? AND annee = ? ORDER BY recu_le, id", key)]


def data_fingerprint(store: Store, contrat: str, annee: int, revue: int | None = None) -> str:
    """SHA-256 of the year's content (of its revue ``revue``): equal fingerprints mean
    nothing new to report.

    Row ids and import times are left out (they depend on how the store was
    filled, not on what it holds); a submission is named by its file's hash.
    """
    data = load_year(store, contrat, annee, revue)
    sha = {s.id: s.sha256 for s in data.submissions}

    def by_hash(item: Any) -> dict[str, Any]:
        row = asdict(item)
        row["submission_id"] = sha.get(row["submission_id"])
        return row

    payload = {
        "revue": data.revue,
        "actions": [asdict(a) for a in data.actions],
        "bilans": {n: by_hash(b) for n, b in data.bilans.items()},
        "suivis": {c: [by_hash(s) for s in v] for c, v in data.suivis.items()},
        "syntheses": {c: [by_hash(s) for s in v] for c, v in data.syntheses.items()},
        "decisions": [asdict(d) for d in data.decisions],
        "series": [asdict(s) for s in data.series],
        "submissions": [{**{k: v for k, v in asdict(s).items() if k != "id"},
                         "remplacee_par": sha.get(s.remplacee_par)}
                        for s in data.submissions],
    }
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
