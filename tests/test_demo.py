"""The fictitious demo data and the demo working folder."""

import datetime as dt
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from cv_excel.demo import DEMO_MARKER, build_demo, demo_rows
from cv_excel.demo.build import DossierNonVide
from cv_excel.listes import FINANCEURS
from cv_excel.programmation.check import check_programmation, read_programmation
from cv_excel.referentiel.load import embedded_referentiel

INITIATIVES = "Encouragement des initiatives de proximité"


def test_departement_initiatives_match_annexe_2_year_by_year():
    per_year: dict[int, list[int]] = defaultdict(list)
    for row in demo_rows():
        if row.get("departement_dispositif") == INITIATIVES and row["annee"] <= 2018:
            per_year[row["annee"]].append(row["accorde_departement"])
    table = {year: (len(v), sum(v)) for year, v in sorted(per_year.items())}
    assert table == {2015: (5, 12_500), 2016: (3, 9_500), 2017: (8, 13_500),
                     2018: (11, 16_800)}
    assert sum(n for n, _ in table.values()) == 27
    assert sum(total for _, total in table.values()) == 52_300


def test_2019_programmation_spreads_over_the_contract():
    ref = embedded_referentiel()
    rows = [r for r in demo_rows() if r["annee"] == 2019]
    porteurs = Counter(r["porteur_siret"] for r in rows)
    assert 60 <= len(rows) <= 80
    assert 35 <= len(porteurs) <= 45
    assert sum(1 for n in porteurs.values() if n > 1) >= 5
    assert {ref.pilier_of(r["objectif_operationnel"]) for r in rows} == {"A", "B", "C", "T"}
    assert len({r["objectif_operationnel"] for r in rows}) >= 40
    for f in FINANCEURS:
        assert any(r.get(f"accorde_{f.key}") for r in rows), f.key


def test_script_reproduces_the_committed_demo_data(tmp_path):
    root = Path(__file__).resolve().parents[1]
    sortie = tmp_path / "programmation_demo.csv"
    subprocess.run([sys.executable, str(root / "scripts" / "make_demo_data.py"), "--sortie",
                    str(sortie)], check=True, cwd=root, capture_output=True)
    assert sortie.read_bytes() == (root / "cv_excel/demo/programmation_demo.csv").read_bytes()


def test_demo_conventions_and_payments_are_plausible():
    """Convention signed in the programmation year; payments after it, at most what was
    granted; the Ville's are all dated (they are published in open data)."""
    def day(text: str) -> dt.date:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()

    for row in demo_rows():
        signature = day(row["convention_date"])
        assert signature.year == row["annee"] and row["convention_numero"]
        for f in FINANCEURS:
            accorde = row.get(f"accorde_{f.key}") or 0
            if not accorde:
                assert f"verse_{f.key}" not in row
                continue
            dates = [day(d) for d in row[f"dates_versement_{f.key}"].split(" ; ")]
            assert dates == sorted(dates) and dates[0] > signature
            assert 0 < row[f"verse_{f.key}"] <= accorde


def test_every_demo_porteur_is_marked_fictitious():
    for row in demo_rows():
        assert "(fictif)" in row["porteur_raison_sociale"]
        assert row["porteur_email"].endswith(".example.org")


def test_demo_folder_is_complete_and_its_programmations_are_valid(tmp_path):
    result = build_demo(tmp_path / "demo")
    assert (result.dossier / DEMO_MARKER).exists()
    assert (result.dossier / "cv_excel.toml").exists()
    assert result.annuaire and result.annuaire.exists()
    assert sorted(result.programmations) == [2015, 2016, 2017, 2018, 2019]
    ref = embedded_referentiel()
    for annee, path in result.programmations.items():
        report = check_programmation(path, ref, annee=annee)
        assert report.valid, [f.message for f in report.errors][:5]
    prog = read_programmation(result.programmations[2019], ref, annee=2019)
    assert len(prog.actions) == result.actions[2019]
    assert sum(a.montant_accorde_total for a in prog.actions) > Decimal(0)


def test_demo_refuses_a_real_folder_and_refreshes_its_own(tmp_path):
    (tmp_path / "bilan.xlsx").write_bytes(b"a user's file")
    with pytest.raises(DossierNonVide):
        build_demo(tmp_path)
    assert (tmp_path / "bilan.xlsx").read_bytes() == b"a user's file"
    demo = tmp_path / "demo"
    build_demo(demo)
    build_demo(demo)  # a second run refreshes the demo folder


def test_demo_cycle_returns_are_validated_with_each_mistake_caught(tmp_path):
    from cv_excel.demo import run_demo_cycle
    from cv_excel.demo.returns import MISTAKES

    result = run_demo_cycle(tmp_path / "demo")
    run = result.validation
    assert len(run.fichiers) == len(result.retours.files)
    expected = {"mot dans un nombre": "VAL_PAS_UN_NOMBRE",
                "budget déséquilibré": "VAL_BUDGET_DESEQUILIBRE",
                "note sans justification": "VAL_SCORE_JUSTIFICATION",
                "montant accordé modifié": "MOD_VALEUR_PREREMPLIE"}
    assert set(expected) == {label for label, _ in MISTAKES}
    for label, code in expected.items():
        (f,) = [f for f in run.fichiers if f"({label})" in f.nom]
        assert f.statut == "rejeté"
        assert [x.code for x in f.findings] == [code]
        assert f.annotee is not None and f.annotee.exists()
    others = [f for f in run.fichiers if not any(f"({label})" in f.nom for label in expected)
              and "(envoi en double)" not in f.nom]
    assert others and all(f.statut == "accepté" for f in others), \
        [(f.nom, [x.code for x in f.findings]) for f in others if f.statut != "accepté"]
    assert run.count("doublon") == 1
    assert result.retours.silent  # some recipients have not answered


def test_demo_dauphin_export_reconciles_with_dauphin(demo_master):
    """Issue 11: every État-funded row of the consolidated Dauphin-like export carries the
    porteur's SIRET, the Dauphin dossier number and the QPV code; a P147 code wherever one
    is given is one of the nomenclature's, nested thème ⊃ sous-thème ⊃ modalité (only the
    éducation codes could be read in the source so far: docs/nomenclature_p147.md)."""
    import csv

    from cv_excel.nomenclature import nomenclature_p147
    from cv_excel.programmation.validators import siret_error

    path = demo_master / "sorties" / "2019" / "Export Dauphin 2019.csv"
    rows = list(csv.DictReader(path.read_text("utf-8-sig").splitlines(), delimiter=";"))
    demo = [r for r in demo_rows() if r["annee"] == 2019 and r.get("accorde_etat")]
    assert len(rows) == len(demo) > 0
    codes = nomenclature_p147().codes
    with_p147 = 0
    for r in rows:
        assert siret_error(r["SIRET"]) is None, r
        assert r["N° de dossier Dauphin"], r
        assert r["Code QPV"] and r["Quartier"], r
        if not r["Code thème P147"]:
            continue
        with_p147 += 1
        assert r["Code thème P147"] in codes and r["Thème P147"], r
        if r["Code modalité P147"]:
            assert r["Code modalité P147"].startswith(r["Code sous-thème P147"])
            assert r["Code sous-thème P147"].startswith(r["Code thème P147"])
    assert with_p147 > 0
    assert any(r["Dispositifs de l'État"] for r in rows)


def test_demo_foundation_grant_lands_on_aides_privees(demo_master):
    """Issue 11: the demo programmation's « autres » financeur named « Fondation … » is a
    private funding: the returned bilans carry its grant on « 74 – Aides privées
    (fondations) », never on « 74 – Autres établissements publics »; the bilan's Cerfa
    texts (lieux, observations, règle de répartition des charges indirectes) and the
    86x / 87x and charges indirectes lines are stored."""
    from cv_excel.config import DossierTravail
    from cv_excel.spec.budget import LIGNE_FONDATIONS, ligne_du_financeur
    from cv_excel.store.db import default_store_path, open_store
    from cv_excel.store.queries import load_year

    work = DossierTravail.open(demo_master)
    with open_store(default_store_path(work)) as store:
        data = load_year(store, work.config.contrat, 2019)
    fondations = {r["numero"]: Decimal(str(r["accorde_autres"])) for r in demo_rows()
                  if r["annee"] == 2019 and r.get("accorde_autres")
                  and ligne_du_financeur("autres", r.get("autres_financeurs_detail"))
                  == LIGNE_FONDATIONS}
    returned = [n for n in fondations if n in data.bilans]
    assert returned, "aucun bilan retourné pour une action financée par une fondation"
    for numero in returned:
        bilan = data.bilans[numero]
        lines = {(b.tableau, b.ligne): b for b in bilan.budget}
        assert lines[("bud_produits", LIGNE_FONDATIONS)].realise == fondations[numero]
        autres = lines.get(("bud_produits", "74_autres"))
        assert autres is None or not (autres.prevu or autres.realise)
    bilan = data.bilans[returned[0]]
    assert bilan.lieux_realisation and bilan.observations
    assert bilan.repartition_charges_indirectes
    kinds = {(b.tableau, b.ligne) for b in bilan.budget}
    assert {("bud_charges", "ci_fonctionnement"), ("bud_charges_contrib", "864"),
            ("bud_produits_contrib", "870")} <= kinds
