"""Hand-built data of one year at a revue, for the tableau de bord and COPIL pack tests:
the real référentiel's codes, a few actions with every realisation status, référents'
suivis, pilote and coordonnateur syntheses (one pilote missing), decisions opened and
closed across revues, and indicator series over the contract's years."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cv_excel.store.models import (
    ActionProgrammee,
    BilanAction,
    DecisionSuivie,
    DonneesAnnee,
    SerieIndicateur,
    Submission,
    SuiviObjectif,
    SyntheseNiveau,
)

D = Decimal
LONG = ("Les ateliers ont repris dans les trois centres sociaux avec une fréquentation en "
        "hausse ; la coordination avec l'Éducation nationale reste à consolider. ") * 12


def action(numero: str, oo: str, accorde: int = 1000) -> ActionProgrammee:
    return ActionProgrammee(
        numero=numero, annee=2020, porteur_siret="12345678900011",
        porteur_raison_sociale="Asso (fictif)", porteur_type="Association", porteur_rna=None,
        porteur_contact="", porteur_email="", intitule="Action", objectif_operationnel=oo,
        theme_anct=None, sous_theme_anct=None, territoire="QPV",
        accorde={"ville": D(accorde)}, demande={}, departement_dispositif=None, indicateur="",
        mode_recueil="")


def bilan(numero: str, realisation: str | None, score: int | None,
          benef: int | None = 10) -> BilanAction:
    return BilanAction(
        numero=numero, submission_id=1, fichier="bilan.xlsx", recu_le="2020-05-01",
        realisation=realisation, date_debut=None, date_fin=None, benef_total=benef,
        benef_femmes=None, benef_hommes=None, benef_qpv=None, benef_ages={}, score=score,
        score_justification=None, mode_recueil=None, valeur_constatee=None, resultats=None,
        difficultes=None, perspectives=None, ecarts_explication=None)


def suivi(code: str, referent: str, revue: int | None, avancement: str = "En cours",
          resultats: str | None = None) -> SuiviObjectif:
    return SuiviObjectif(
        code=code, referent_id=referent, submission_id=2, fichier="ref.xlsx",
        recu_le="2020-05-02", avancement=avancement, actions_realisees=None,
        actions_en_cours=None, resultats=resultats or f"Résultats de {code}",
        difficultes=f"Difficultés de {code}", propositions=f"Propositions de {code}",
        revue=revue)


def synthese(niveau: str, code: str, auteur: str, revue: int | None, rag: str,
             texte: str | None = None) -> SyntheseNiveau:
    return SyntheseNiveau(
        niveau=niveau, code=code, auteur_id=auteur, revue=revue, submission_id=3,
        fichier="pilote.xlsx", recu_le="2020-05-10", avancement="Engagé", rag=rag,
        synthese=texte or f"Synthèse {niveau} {code}", difficultes=f"Difficulté {code}",
        propositions=f"Proposition {code}")


def decision(numero: str, code: str, statut: str, maj_revue: int,
             echeance: dt.date | None = dt.date(2020, 4, 30), pilier: str = "A"
             ) -> DecisionSuivie:
    return DecisionSuivie(
        numero=numero, pilier=pilier, code=code, decision=f"Décision {numero} sur {code}",
        type="Action corrective", responsable="Direction de la politique de la ville",
        echeance=echeance, statut=statut, commentaire=None, ouverte_annee=2020,
        ouverte_revue=1, maj_annee=2020, maj_revue=maj_revue)


def series() -> list[SerieIndicateur]:
    return [
        SerieIndicateur("A111", "Nombre de bénéficiaires des ateliers santé", "personnes",
                        D(100), 2018, D(150), {2019: D(120), 2020: D(130)}, "Conservé", False),
        SerieIndicateur("A112", "Taux de recours aux droits", "%", D(40), 2018, D(50),
                        {2019: D(45), 2020: D(42)}, "Conservé", False),
        SerieIndicateur("A113", "Nombre de permanences", "permanences", D(12), 2018, None,
                        {2019: D(12)}, None, False),
        SerieIndicateur("A121", "Indicateur sans valeur", None, None, None, None, {},
                        "Abandonné", False),
        SerieIndicateur("A122", "Nouvel indicateur proposé", "élèves", None, None, D(30),
                        {2020: D(10)}, "Conservé", True),
    ]


def submissions(revue: int | None) -> list[Submission]:
    def sub(i, type_, dest, revue_):
        return Submission(i, f"h{i}", f"{type_}-{dest}.xlsx", "2020-05-01T10:00:00", type_,
                          f"c{i}", "orly", 2020, dest, dest, "accepté", 0, 0, True, None,
                          revue_)
    return [sub(1, "porteur", "123", None), sub(2, "referent", "ccas-developpement-social",
                                                 revue),
            sub(3, "pilote", "ccas-autonomie-sante-social", revue)]


def donnees(revue: int | None = 2, annee: int = 2020, pilote_a11: bool = True,
            decisions_closed: bool = False) -> DonneesAnnee:
    """Pilier A at ``revue``: the pilote of A11 returned (Vert) unless ``pilote_a11`` is
    False; the pilote of A12 never returned; the coordonnateur of A1 returned (Orange).
    Decision A-2020-R1-01 (on A11) is open, or closed (« Réalisée ») when
    ``decisions_closed``; A-2020-R1-02 (on A12) stays open and is overdue."""
    actions = [action("2020-001", "A111", 4000), action("2020-002", "A111", 2000),
               action("2020-003", "A112"), action("2020-004", "A112"),
               action("2020-005", "A113"), action("2020-006", "A121"),
               action("2020-007", "A122"), action("2020-008", "B111")]
    bilans = {b.numero: b for b in (
        bilan("2020-001", "Réalisée", 80, 40),
        bilan("2020-002", "En cours", None, 5),  # blank score: « non renseigné »
        bilan("2020-003", "Reportée", None, None),
        bilan("2020-004", "Non réalisée", 0, None),
        bilan("2020-005", "Partiellement réalisée", 20, 3),
        bilan("2020-006", "Reportée", None, None),
    )}
    suivis = {
        "A111": [suivi("A111", "ccas-developpement-social", revue, resultats=LONG),
                 suivi("A111", "medecin-directeur", revue, "Avancé")],
        "A112": [suivi("A112", "ccas-developpement-social", revue)],
        "A121": [suivi("A121", "culture-jeune-public", revue, "Non engagé")],
    }
    syn: dict[str, list[SyntheseNiveau]] = {
        "A1": [synthese("orientation", "A1", "dpv-deveco", revue, "Orange")],
        "A21": [synthese("strategique", "A21", "dga-culture", revue, "Rouge")],
    }
    if pilote_a11:
        syn["A11"] = [synthese("strategique", "A11", "ccas-autonomie-sante-social", revue,
                               "Vert", texte=LONG)]
    decisions = [
        decision("A-2020-R1-01", "A11", "Réalisée" if decisions_closed else "Ouverte",
                 2 if decisions_closed else 1, echeance=dt.date(2030, 1, 1)),
        decision("A-2020-R1-02", "A12", "En cours", 1, echeance=dt.date(2020, 4, 30)),
        decision("A-2020-R1-03", "A", "Abandonnée", 1),
    ]
    return DonneesAnnee("orly", annee, actions, bilans, suivis, submissions(revue),
                        revue=revue, syntheses=syn, decisions=decisions, series=series())
