"""Suivi physico-financier: one case per alert (fails / passes), totals that add up, and
the workbook written by « consolider » on the demo cycle."""

from __future__ import annotations

import shutil
from collections import defaultdict
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cv_excel.config import DossierTravail
from cv_excel.consolidation.dashboard import COLUMNS, HEADER_ROW, write_tableaux_de_bord
from cv_excel.consolidation.physico_financier import (
    ALERTES,
    ATTEINT,
    INCONNU,
    PARTIEL,
    TOP,
    ligne_physique,
    lignes_action,
    suivi_physico_financier,
    write_suivi_physico_financier,
)
from cv_excel.consolidation.run import consolider, output_names
from cv_excel.listes import FINANCEURS
from cv_excel.messages import AVERTISSEMENT, INFORMATION
from cv_excel.referentiel.load import embedded_referentiel, load_referentiel
from cv_excel.spec.budget import LIGNE_DU_FINANCEUR
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, LigneBudget
from cv_excel.store.queries import load_year

D = Decimal
SHEETS = ["Actions", "Réalisation physique", "Piliers", "Financeurs", "Alertes", "Notes"]


def _action(numero="2019-001", oo="A111", accorde=None, verse=None, porteur="Asso (fictif)",
            intitule="Action", cible=None) -> ActionProgrammee:
    return ActionProgrammee(
        numero=numero, annee=2019, porteur_siret="12345678900011",
        porteur_raison_sociale=porteur, porteur_type="Association", porteur_rna=None,
        porteur_contact="", porteur_email="", intitule=intitule, objectif_operationnel=oo,
        theme_anct=None, sous_theme_anct=None, territoire="QPV",
        accorde={k: D(v) for k, v in (accorde or {}).items()}, demande={},
        departement_dispositif=None, indicateur="", mode_recueil="",
        verse={k: D(v) for k, v in (verse or {}).items()},
        objectif_quantifie=None if cible is None else "Jeunes accompagnés",
        valeur_cible=None if cible is None else D(cible),
        unite=None if cible is None else "jeunes")


def _bilan(numero="2019-001", realisation="Réalisée", realise=None, score=60,
           atteinte=None) -> BilanAction:
    budget = [LigneBudget("bud_produits", LIGNE_DU_FINANCEUR[k], None, D(v))
              for k, v in (realise or {}).items()]
    return BilanAction(
        numero=numero, submission_id=1, fichier="bilan.xlsx", recu_le="", realisation=realisation,
        date_debut=None, date_fin=None, benef_total=None, benef_femmes=None, benef_hommes=None,
        benef_qpv=None, benef_ages={}, score=score, score_justification=None, mode_recueil=None,
        valeur_constatee=None, resultats=None, difficultes=None, perspectives=None,
        ecarts_explication=None, budget=budget,
        valeur_atteinte=None if atteinte is None else D(atteinte))


# One case per alert: (alert, action kwargs, bilan kwargs or None, should it fire).
_CASES = [
    # versé > accordé
    ("SPF_VERSE_SUPERIEUR_ACCORDE", {"accorde": {"ville": 1000}, "verse": {"ville": 1200}},
     {"realise": {"ville": 1000}}, True),
    ("SPF_VERSE_SUPERIEUR_ACCORDE", {"accorde": {"ville": 1000}, "verse": {"ville": 1000}},
     {"realise": {"ville": 1000}}, False),
    ("SPF_VERSE_SUPERIEUR_ACCORDE", {"accorde": {}, "verse": {"caf": 300}}, None, True),
    # dépensé < 50 % of accordé, with a bilan
    ("SPF_DEPENSE_FAIBLE", {"accorde": {"etat": 4000}, "verse": {"etat": 4000}},
     {"realise": {"etat": 1500}}, True),
    ("SPF_DEPENSE_FAIBLE", {"accorde": {"etat": 4000}, "verse": {"etat": 2000}},
     {"realisation": "Partiellement réalisée", "realise": {"etat": 1999}}, True),
    ("SPF_DEPENSE_FAIBLE", {"accorde": {"etat": 4000}, "verse": {"etat": 4000}},
     {"realise": {"etat": 2000}}, False),  # exactly half: not « far below »
    ("SPF_DEPENSE_FAIBLE", {"accorde": {"etat": 4000}, "verse": {"etat": 4000}}, None, False),
    ("SPF_DEPENSE_FAIBLE", {"accorde": {"etat": 4000}, "verse": {"etat": 4000}},
     {"realise": {}}, False),  # no réalisé declared on the line: unknown, no alert
    # action not done but paid
    ("SPF_NON_REALISEE_VERSEE", {"accorde": {"departement": 2500},
                                 "verse": {"departement": 1250}},
     {"realisation": "Non réalisée", "realise": {"departement": 0}, "score": 0}, True),
    ("SPF_NON_REALISEE_VERSEE", {"accorde": {"departement": 2500},
                                 "verse": {"departement": 2500}},
     {"realisation": "Reportée", "realise": {}}, True),
    ("SPF_NON_REALISEE_VERSEE", {"accorde": {"departement": 2500}, "verse": {}},
     {"realisation": "Non réalisée", "realise": {"departement": 0}}, False),
    ("SPF_NON_REALISEE_VERSEE", {"accorde": {"departement": 2500},
                                 "verse": {"departement": 2500}},
     {"realisation": "Réalisée", "realise": {"departement": 2500}}, False),
    # fully paid, no bilan yet (information)
    ("SPF_VERSEE_SANS_BILAN", {"accorde": {"ept": 3000}, "verse": {"ept": 3000}}, None, True),
    ("SPF_VERSEE_SANS_BILAN", {"accorde": {"ept": 3000}, "verse": {"ept": 1500}}, None, False),
    ("SPF_VERSEE_SANS_BILAN", {"accorde": {"ept": 3000}, "verse": {"ept": 3000}},
     {"realise": {"ept": 3000}}, False),
]


def _codes(action_kw, bilan_kw) -> list[str]:
    bilan = None if bilan_kw is None else _bilan(**bilan_kw)
    return [a.code for ligne in lignes_action(_action(**action_kw), bilan)
            for a in ligne.alertes]


@pytest.mark.parametrize("code, action_kw, bilan_kw, fires", _CASES,
                         ids=[f"{c[0]}-{'fails' if c[3] else 'passes'}-{i}"
                              for i, c in enumerate(_CASES)])
def test_each_alert(code, action_kw, bilan_kw, fires):
    assert (code in _codes(action_kw, bilan_kw)) is fires


def test_every_alert_has_a_case_that_fires_and_one_that_passes():
    assert {c[0] for c in _CASES if c[3]} == set(ALERTES) == {c[0] for c in _CASES if not c[3]}


def test_not_done_and_paid_is_not_also_reported_as_low_spending():
    codes = _codes({"accorde": {"ville": 1000}, "verse": {"ville": 1000}},
                   {"realisation": "Non réalisée", "realise": {"ville": 0}})
    assert codes == ["SPF_NON_REALISEE_VERSEE"]


def test_alert_carries_its_data_and_a_french_message():
    (ligne,) = lignes_action(_action(accorde={"etat": 4000}, verse={"etat": 4000}),
                             _bilan(realise={"etat": 1500.5}))
    (alerte,) = ligne.alertes
    assert alerte.gravite == AVERTISSEMENT and alerte.financeur == "etat"
    assert (alerte.accorde, alerte.verse, alerte.depense, alerte.solde) == (
        D(4000), D(4000), D("1500.5"), D("2499.5"))
    assert alerte.message == ("Le bilan de l'action 2019-001 déclare 1 500,50 € utilisés sur "
                              "la subvention de « État (BOP 147) », moins de 50 % du montant "
                              "accordé (4 000 €).")
    assert "2 499,50 €" in alerte.suite


@pytest.mark.parametrize("code", sorted(ALERTES))
def test_every_alert_definition_renders(code):
    d = ALERTES[code]
    assert d.gravite in (AVERTISSEMENT, INFORMATION)
    (ligne,) = lignes_action(_action(accorde={"ville": 10}, verse={"ville": 10}),
                             _bilan(realise={"ville": 1}))
    for text in (d.message, d.suite):
        rendered = text.format(**ligne.context())
        assert "{" not in rendered and rendered.endswith(".")
        assert rendered[0].isupper() or rendered[0] == "«"


def test_line_figures():
    (etat, ville) = lignes_action(
        _action(accorde={"etat": 4000, "ville": 1000}, verse={"etat": 3000}),
        _bilan(realise={"etat": 3500, "ville": 1000}, score=80), "A")
    assert (etat.financeur, etat.accorde, etat.verse, etat.depense) == ("etat", 4000, 3000, 3500)
    assert etat.solde == -500 and etat.taux_consommation == pytest.approx(0.875)
    assert (etat.realisation, etat.score, etat.pilier) == ("Réalisée", 80, "A")
    assert ville.verse == 0 and ville.solde == -1000
    (sans,) = lignes_action(_action(accorde={"caf": 500}), None)
    assert sans.depense is None and sans.solde is None and not sans.bilan


def _year() -> DonneesAnnee:
    actions = [
        _action("2019-001", "A111", {"etat": 4000, "ville": 1000}, {"etat": 4000, "ville": 1200}),
        _action("2019-002", "A124", {"ville": 2000}, {"ville": 2000}),
        _action("2019-003", "B111", {"departement": 2500, "caf": 800}, {"departement": 2500},
                porteur="=HYPERLINK(\"http://x\")", intitule="+cmd|' /C calc'!A0"),
        _action("2019-004", "C121", {"etat": 6000}, {"etat": 3000}),
        _action("2019-005", "T112", {"ept": 1500}, {}),
        _action("2019-006", "Z999", {"autres": 700}, {"autres": 700}),  # not in the référentiel
    ]
    bilans = {b.numero: b for b in (
        _bilan("2019-001", realise={"etat": 1500, "ville": 1100}, score=40),
        _bilan("2019-003", "Non réalisée", {"departement": 0, "caf": 0}, score=0),
        _bilan("2019-004", "Partiellement réalisée", {"etat": 3200}, score=60),
    )}
    return DonneesAnnee("orly", 2019, actions, bilans, {}, [])


def test_totals_per_pilier_and_per_financeur_add_up():
    ref = embedded_referentiel()
    suivi = suivi_physico_financier(_year(), ref)
    by_pilier, by_financeur = defaultdict(lambda: [D(0)] * 4), defaultdict(lambda: [D(0)] * 4)
    for ligne in suivi.lignes:
        for sums, key in ((by_pilier, ligne.pilier), (by_financeur, ligne.financeur)):
            values = (ligne.accorde, ligne.verse, ligne.depense or 0, ligne.solde or 0)
            sums[key] = [s + v for s, v in zip(sums[key], values, strict=True)]
    for groups, expected in ((suivi.par_pilier, by_pilier), (suivi.par_financeur, by_financeur)):
        for key, t in groups.items():
            assert [t.accorde, t.verse, t.depense, t.solde] == expected.get(key, [0] * 4)
        for name in ("accorde", "verse", "depense", "solde", "alertes", "lignes", "sans_bilan"):
            assert sum(getattr(t, name) for t in groups.values()) == getattr(suivi.total, name)
    assert list(suivi.par_pilier)[:4] == ["A", "B", "C", "T"]
    assert list(suivi.par_financeur) == [f.key for f in FINANCEURS]
    assert suivi.total.accorde == D(4000 + 1000 + 2000 + 2500 + 800 + 6000 + 1500 + 700)
    assert suivi.total.verse == D(4000 + 1200 + 2000 + 2500 + 3000 + 700)
    a = suivi.par_pilier["A"]
    assert (len(a.actions), len(a.bilans), a.score_moyen, a.sans_bilan) == (2, 1, 40, 1)
    assert sorted(x.code for x in suivi.alertes) == sorted([
        "SPF_DEPENSE_FAIBLE", "SPF_VERSE_SUPERIEUR_ACCORDE", "SPF_VERSEE_SANS_BILAN",
        "SPF_NON_REALISEE_VERSEE", "SPF_VERSEE_SANS_BILAN"])
    assert (suivi.total.alertes, suivi.total.informations) == (3, 2)  # warnings, informations


def _rows(ws, top=TOP):
    header = [c.value for c in ws[top]]
    return header, [dict(zip(header, r, strict=True))
                    for r in ws.iter_rows(min_row=top + 1, values_only=True) if r[0] is not None]


def test_workbook_sheets_formats_and_no_formula(tmp_path):
    ref = embedded_referentiel()
    path = write_suivi_physico_financier(_year(), ref, tmp_path / "Suivi.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert ws.page_setup.fitToWidth == 1
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}"
    for name in ("Actions", "Piliers", "Financeurs", "Alertes"):
        assert wb[name].print_title_rows == f"${TOP}:${TOP}"
    header, rows = _rows(wb["Actions"])
    assert len(rows) == 8 + 1 and rows[-1]["N° d'action"] == "Total"
    assert rows[-1]["Versé"] == 4000 + 1200 + 2000 + 2500 + 3000 + 700
    porteur = next(r for r in rows if r["N° d'action"] == "2019-003")["Porteur"]
    assert porteur == '=HYPERLINK("http://x")'
    money = wb["Actions"].cell(row=TOP + 1, column=header.index("Accordé") + 1)
    assert "€" in money.number_format
    _, alertes = _rows(wb["Alertes"])
    assert len(alertes) == 5 and alertes[-1]["Gravité"] == INFORMATION
    _, piliers = _rows(wb["Piliers"])
    assert [r["Pilier"].split(" —")[0] for r in piliers][:4] == ["A", "B", "C", "T"]
    assert piliers[-1]["Pilier"] == "Total" and piliers[-1]["Alertes"] == 3  # warnings only
    notes = " ".join(str(c.value) for c in wb["Notes"]["A"] if c.value)
    assert "ligne « 74 »" in notes and "réalisé" in notes


def test_dashboard_shows_the_money_per_pilier(tmp_path):
    ref = embedded_referentiel()
    donnees = _year()
    suivi = suivi_physico_financier(donnees, ref)
    wb = load_workbook(write_tableaux_de_bord(donnees, ref, tmp_path / "TdB.xlsx"))
    names = [n for n, _ in COLUMNS]
    rows = {r[1]: dict(zip(names, r, strict=True)) for r in wb["Synthèse"].iter_rows(
        min_row=HEADER_ROW + 1, max_col=len(names), values_only=True) if r[1]}
    for p in ("A", "B", "C", "T"):
        t = suivi.par_pilier[p]
        assert (rows[p]["Total versé"], rows[p]["Dépensé (bilans)"],
                rows[p]["Solde versé − dépensé"], rows[p]["Alertes financières"]) == (
            t.verse, t.depense, t.solde, t.alertes)
    pa = {r[1]: dict(zip(names, r, strict=True)) for r in wb["Pilier A"].iter_rows(
        min_row=HEADER_ROW + 1, max_col=len(names), values_only=True) if r[1]}
    assert pa["A"]["Total versé"] == 4000 + 1200 + 2000 and pa["A111"]["Alertes financières"] == 2
    assert pa["A124"]["Alertes financières"] == 0  # an information only: nothing to flag


def test_consolider_writes_the_workbook(demo_master, tmp_path):
    dossier = tmp_path / "demo"
    shutil.copytree(demo_master, dossier)
    work = DossierTravail.open(dossier)
    ref, _ = load_referentiel(work.path("referents"))
    path = dossier / "sorties" / "2019" / output_names(2019)["physico_financier"]
    assert path.name == "Suivi physico-financier 2019.xlsx"
    assert path.exists()  # written by the demo cycle's consolidation
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    with open_store(default_store_path(work)) as store:
        donnees = load_year(store, work.config.contrat, 2019)
    _, rows = _rows(wb["Actions"])
    expected = suivi_physico_financier(donnees, ref)
    assert len(rows) == len(expected.lignes) + 1 and rows[-1]["Versé"] == expected.total.verse
    _, alertes = _rows(wb["Alertes"])
    assert len(alertes) == len(expected.alertes)
    for ws in wb.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    path.unlink()
    again = consolider(work, ref, 2019)  # a missing output is written again
    assert not again.rien_de_nouveau and path in again.fichiers and path.exists()
    assert consolider(work, ref, 2019).rien_de_nouveau


# --- the physical side -----------------------------------------------------------------------
# (valeur cible, valeur atteinte, bilan?, score) -> (taux %, classe, notes attendues, cohérente)
PHYSIQUE = [
    ((20, 25, True, 100), (D(125), ATTEINT, (100,), True)),
    ((20, 20, True, 80), (D(100), ATTEINT, (80, 100), True)),  # a bound: both neighbours
    ((20, 14, True, 40), (D(70), PARTIEL, (80,), False)),
    ((20, 0, True, 0), (D(0), PARTIEL, (0, 20), True)),
    ((None, 14, True, 60), (None, INCONNU, (), None)),  # no target
    ((0, 14, True, 60), (None, INCONNU, (), None)),  # a zero target says nothing
    ((20, None, True, 60), (None, INCONNU, (), None)),  # no value reached
    ((20, None, False, None), (None, INCONNU, (), None)),  # no bilan
]


@pytest.mark.parametrize("given, expected", PHYSIQUE, ids=[str(p[0]) for p in PHYSIQUE])
def test_rate_of_achievement_of_one_action(given, expected):
    cible, atteinte, with_bilan, score = given
    action = _action(accorde={"ville": 1000}, cible=cible)
    bilan = _bilan(atteinte=atteinte, score=score, realise={"ville": 900}) if with_bilan \
        else None
    x = ligne_physique(action, bilan, lignes_action(action, bilan), "A")
    assert (x.taux, x.classe, x.notes_attendues, x.note_coherente) == expected
    assert (x.accorde, x.depense) == (D(1000), D(900) if with_bilan else None)


def _year_physique() -> DonneesAnnee:
    donnees = _year()
    cibles = {"2019-001": 20, "2019-002": 10, "2019-004": 50, "2019-005": 8}
    for a in donnees.actions:
        if a.numero in cibles:
            a.objectif_quantifie, a.valeur_cible, a.unite = "Personnes", D(cibles[a.numero]), "p."
    donnees.bilans["2019-001"].valeur_atteinte = D(24)  # 120 %: reached
    donnees.bilans["2019-004"].valeur_atteinte = D(30)  # 60 %: short
    return donnees  # 2019-002, -005: no bilan; -003: no target; -006: no target


def test_actions_per_pilier_by_rate_of_achievement():
    suivi = suivi_physico_financier(_year_physique(), embedded_referentiel())
    assert [x.numero for x in suivi.physique] == [f"2019-00{i}" for i in range(1, 7)]
    counts = {k: (c.atteint, c.partiel, c.inconnu) for k, c in
              suivi.atteinte_par_pilier.items()}
    assert counts["A"] == (1, 0, 1) and counts["B"] == (0, 0, 1)
    assert counts["C"] == (0, 1, 0) and counts["T"] == (0, 0, 1)
    assert (suivi.atteinte.atteint, suivi.atteinte.partiel, suivi.atteinte.inconnu) == (1, 1, 4)
    assert sum(c.actions for c in suivi.atteinte_par_pilier.values()) == 6
    x = next(x for x in suivi.physique if x.numero == "2019-001")
    assert (x.accorde, x.verse, x.depense) == (D(5000), D(5200), D(2600))


def test_physical_sheet_and_pilier_counts_in_the_workbook(tmp_path):
    ref = embedded_referentiel()
    wb = load_workbook(write_suivi_physico_financier(_year_physique(), ref,
                                                     tmp_path / "Suivi.xlsx"))
    header, rows = _rows(wb["Réalisation physique"])
    assert len(rows) == 6 + 1 and rows[-1]["N° d'action"] == "Total"
    first = next(r for r in rows if r["N° d'action"] == "2019-001")
    assert (first["Objectif quantifié"], first["Valeur cible"], first["Unité"],
            first["Valeur atteinte (bilan)"]) == ("Personnes", 20, "p.", 24)
    assert first["Taux d'atteinte"] == pytest.approx(1.2)
    assert (first["Atteinte de l'objectif"], first["Note (0 à 100)"],
            first["Notes attendues d'après le taux"]) == (ATTEINT, 40, "100")
    assert first["Accordé"] == 5000 and first["Dépensé (bilan)"] == 2600
    short = next(r for r in rows if r["N° d'action"] == "2019-004")
    assert short["Taux d'atteinte"] == pytest.approx(0.6)
    assert short["Notes attendues d'après le taux"] == "60 ou 80"
    unknown = next(r for r in rows if r["N° d'action"] == "2019-003")
    assert unknown["Taux d'atteinte"] is None and unknown["Atteinte de l'objectif"] == INCONNU
    rate = wb["Réalisation physique"].cell(row=TOP + 1,
                                          column=header.index("Taux d'atteinte") + 1)
    assert "%" in rate.number_format
    _, piliers = _rows(wb["Piliers"])
    by_code = {r["Pilier"].split(" —")[0]: r for r in piliers}
    assert [by_code["A"][k] for k in (ATTEINT, PARTIEL, INCONNU)] == [1, 0, 1]
    assert [by_code["Total"][k] for k in (ATTEINT, PARTIEL, INCONNU)] == [1, 1, 4]
    _, financeurs = _rows(wb["Financeurs"])
    assert ATTEINT not in financeurs[0]  # the counts are per pilier only
    notes = " ".join(str(c.value) for c in wb["Notes"]["A"] if c.value)
    assert "Taux d'atteinte = valeur atteinte / valeur cible" in notes
