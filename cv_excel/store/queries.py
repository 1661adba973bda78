"""Read one year of one contrat back as the plain data the consolidation uses.

Only the current accepted returns feed the bilans and suivis; the history of
every submission stays visible in ``DonneesAnnee.submissions``.
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
    DonneesAnnee,
    LigneBudget,
    Submission,
    SuiviObjectif,
    ValeurIndicateur,
)

_ZERO = Decimal("0.00")
_CURRENT = "s.donnees = 1 AND s.remplacee_par IS NULL AND s.contrat = ? AND s.annee = ?"


def years(store: Store, contrat: str) -> list[int]:
    """Every year the store knows for ``contrat`` (programmation or returns)."""
    rows = store.conn.execute(
        "SELECT annee FROM programmation_actions WHERE contrat = ? UNION "
        "SELECT annee FROM submissions WHERE contrat = ? AND annee IS NOT NULL "
        "ORDER BY annee", (contrat, contrat))
    return [r[0] for r in rows]


def load_year(store: Store, contrat: str, annee: int) -> DonneesAnnee:
    """A consistent picture of the year: read inside one transaction so that an
    import committing meanwhile is seen entirely or not at all."""
    conn = store.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        key = (contrat, annee)
        return DonneesAnnee(contrat, annee, _actions(store, key), _bilans(store, key),
                            _suivis(store, key), _submissions(store, key),
                            construit_le=dt.datetime.now().astimezone())
    finally:
        if own:
            conn.execute("COMMIT")


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
            valeur_atteinte=as_decimal(r["valeur_atteinte"]))
    return dict(sorted(bilans.items()))


def _suivis(store: Store, key: tuple[str, int]) -> dict[str, list[SuiviObjectif]]:
    indicators: dict[tuple[int, str], list[ValeurIndicateur]] = {}
    for r in store.conn.execute(
            "SELECT i.* FROM indicateurs i JOIN submissions s ON s.id = i.submission_id "
            f"WHERE {_CURRENT} ORDER BY i.propose, i.rang", key):
        indicators.setdefault((r["submission_id"], r["code"]), []).append(ValeurIndicateur(
            rang=r["rang"], libelle=r["libelle"], type=r["type"],
            valeur_cible=r["valeur_cible"], valeur_precedente=r["valeur_precedente"],
            valeur_annee=r["valeur_annee"], source=r["source"], commentaire=r["commentaire"],
            propose=bool(r["propose"])))
    suivis: dict[str, list[SuiviObjectif]] = {}
    for r in store.conn.execute(
            "SELECT v.*, s.nom, s.recu_le FROM suivis v JOIN submissions s "
            f"ON s.id = v.submission_id WHERE {_CURRENT} ORDER BY v.code, v.referent_id",
            key):
        suivis.setdefault(r["code"], []).append(SuiviObjectif(
            code=r["code"], referent_id=r["referent_id"], submission_id=r["submission_id"],
            fichier=r["nom"], recu_le=r["recu_le"], avancement=r["avancement"],
            actions_realisees=r["actions_realisees"], actions_en_cours=r["actions_en_cours"],
            resultats=r["resultats"], difficultes=r["difficultes"],
            propositions=r["propositions"],
            indicateurs=indicators.get((r["submission_id"], r["code"]), [])))
    return dict(sorted(suivis.items()))


def _submissions(store: Store, key: tuple[str, int]) -> list[Submission]:
    return [Submission(
        id=r["id"], sha256=r["sha256"], nom=r["nom"], recu_le=r["recu_le"], type=r["type"],
        classeur_id=r["classeur_id"], contrat=r["contrat"], annee=r["annee"],
        destinataire_id=r["destinataire_id"], destinataire=r["destinataire"],
        statut=r["statut"], bloquants=r["bloquants"], avertissements=r["avertissements"],
        courante=bool(r["donnees"]) and r["remplacee_par"] is None,
        remplacee_par=r["remplacee_par"],
    ) for r in store.conn.execute(
        "SELECT * FROM submissions WHERE contrat = ? AND annee = ? ORDER BY recu_le, id", key)]


def data_fingerprint(store: Store, contrat: str, annee: int) -> str:
    """SHA-256 of the year's content: equal fingerprints mean nothing new to report.

    Row ids and import times are left out (they depend on how the store was
    filled, not on what it holds); a submission is named by its file's hash.
    """
    data = load_year(store, contrat, annee)
    sha = {s.id: s.sha256 for s in data.submissions}

    def by_hash(item: Any) -> dict[str, Any]:
        row = asdict(item)
        row["submission_id"] = sha.get(row["submission_id"])
        return row

    payload = {
        "actions": [asdict(a) for a in data.actions],
        "bilans": {n: by_hash(b) for n, b in data.bilans.items()},
        "suivis": {c: [by_hash(s) for s in v] for c, v in data.suivis.items()},
        "submissions": [{**{k: v for k, v in asdict(s).items() if k != "id"},
                         "remplacee_par": sha.get(s.remplacee_par)}
                        for s in data.submissions],
    }
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
