"""Reporting for the financeurs, complétude and flat exports, on the demo cycle.

The demo's ``DonneesAnnee`` are built here by a small adapter (programmation →
ActionProgrammee, accepted porteur returns → BilanAction, validation run →
Submission), so these tests do not depend on the store. Figures are read back
from the written files and compared with sums computed here from the
programmation, never with the module's own numbers.
"""

from __future__ import annotations

import copy
import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.config import DossierTravail
from cv_excel.consolidation.completude import TYPES, completude_lines, write_completude
from cv_excel.consolidation.opendata import (
    DAUPHIN_COLUMNS,
    write_dauphin_csv,
)
from cv_excel.consolidation.reporting import (
    FICTIF,
    PeriodeInvalide,
    periode_departement,
    write_reporting_departement,
    write_reporting_etat,
)
from cv_excel.demo import DEMO_MARKER, run_demo_cycle
from cv_excel.intake.context import load_registre
from cv_excel.intake.run import ACCEPTE, ACCEPTE_AVERTISSEMENTS, REJETE
from cv_excel.programmation.check import read_programmation
from cv_excel.programmation.models import Action
from cv_excel.referentiel.load import load_referentiel
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, Submission
from tests.libreoffice import convert_many

ENCOURAGEMENT = "Encouragement des initiatives de proximité"
EQUIPEMENTS = "Soutien aux équipements de proximité"


# --- adapter: demo → DonneesAnnee ----------------------------------------------------------
def _action(a: Action) -> ActionProgrammee:
    return ActionProgrammee(
        numero=a.numero, annee=a.annee, porteur_siret=a.porteur.siret,
        porteur_raison_sociale=a.porteur.raison_sociale, porteur_type=a.porteur.type_structure,
        porteur_rna=a.porteur.rna, porteur_contact=a.porteur.contact,
        porteur_email=a.porteur.email, intitule=a.intitule,
        objectif_operationnel=a.objectif_operationnel, theme_anct=a.theme_anct,
        sous_theme_anct=a.sous_theme_anct, territoire=a.territoire,
        accorde={f.financeur: f.accorde or Decimal(0) for f in a.financements},
        demande={f.financeur: f.demande or Decimal(0) for f in a.financements},
        departement_dispositif=a.departement_dispositif, indicateur=a.indicateur.libelle,
        mode_recueil=a.indicateur.mode_recueil, dossier_dauphin=a.dossier_dauphin,
        theme_p147=a.theme_p147, sous_theme_p147=a.sous_theme_p147,
        modalite_p147=a.modalite_p147, dispositifs_etat=a.dispositifs_etat, code_qpv=a.code_qpv)


def _int(value) -> int | None:
    return None if value in (None, "") else int(float(value))


def _bilan(values: dict, submission_id: int, fichier: str) -> BilanAction:
    v = {k: x.value for k, x in values.items()}
    return BilanAction(
        numero=v["act_numero"], submission_id=submission_id, fichier=fichier, recu_le="",
        realisation=v.get("act_realisation"), date_debut=None, date_fin=None,
        benef_total=_int(v.get("act_benef_total")), benef_femmes=_int(v.get("act_benef_femmes")),
        benef_hommes=_int(v.get("act_benef_hommes")), benef_qpv=_int(v.get("act_benef_qpv")),
        benef_ages={}, score=_int(v.get("act_score")),
        score_justification=v.get("act_score_justification"), mode_recueil=None,
        valeur_constatee=None, resultats=v.get("act_resultats"), difficultes=None,
        perspectives=None, ecarts_explication=None)


def _donnees(result, registre: dict, annee: int, programmation) -> DonneesAnnee:
    actions = [_action(a) for a in programmation.actions]
    if annee != 2019:
        return DonneesAnnee("orly", annee, actions, {}, {}, [])
    recu_le = result.validation.debut.isoformat(timespec="seconds")
    bilans, submissions = {}, []
    # The porteurs' bilans, then every step of each revue (référents, pilotes…).
    fichiers = [*result.validation.fichiers, *(f for r in result.revues.values()
                                               for e in r.etapes for f in e.validation.fichiers)]
    for i, f in enumerate(fichiers, start=1):
        entry = registre.get(f.classeur_id, {})
        ok = f.statut in (ACCEPTE, ACCEPTE_AVERTISSEMENTS)
        bloquants = sum(1 for x in f.findings if x.severity.value == "bloquant")
        submissions.append(Submission(
            i, f.sha256, f.nom, recu_le, f.type, f.classeur_id, "orly", annee,
            entry.get("destinataire_id", ""), f.destinataire, f.statut, bloquants,
            len(f.findings) - bloquants, ok, None, revue=entry.get("revue")))
        if ok and f.type == "porteur" and f.lu is not None:
            for section in f.lu.sections:
                b = _bilan(section.values, i, f.nom)
                bilans[b.numero] = b
    return DonneesAnnee("orly", annee, actions, bilans, {}, submissions)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    result = run_demo_cycle(tmp_path_factory.mktemp("reporting") / "demo")
    work = DossierTravail.open(result.dossier)
    ref, _ = load_referentiel(work.path("referents"))
    registre = load_registre(work.path("classeurs"))
    progs = {y: read_programmation(p, ref, annee=y) for y, p in result.programmations.items()}
    annees = {y: _donnees(result, registre, y, p) for y, p in progs.items()}
    out = result.dossier / "sorties" / "reporting"
    d19 = annees[2019]
    files = SimpleNamespace(
        departement=write_reporting_departement(annees, ref, out / "Département 2015-2019.xlsx",
                                                demonstration=True),
        annexe2=write_reporting_departement(annees, ref, out / "Département 2015-2018.xlsx",
                                            periode=(2015, 2018), demonstration=True),
        etat=write_reporting_etat(d19, ref, out / "État 2019.xlsx"),
        dauphin=write_dauphin_csv(d19, ref, out / "Dauphin 2019.csv"),
    )
    files.completude, files.relances = write_completude(
        d19, list(registre.values()), ref, out / "Complétude 2019.xlsx",
        out / "Relances 2019.csv")
    return SimpleNamespace(result=result, ref=ref, registre=registre, progs=progs,
                           annees=annees, files=files, out=out)


# --- helpers ---------------------------------------------------------------------------------
def _rows_below_header(ws, first_label: str) -> tuple[list[str], list[tuple]]:
    """The header row whose first cell is ``first_label``, and the rows under it."""
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == first_label)
    return list(rows[top]), [r for r in rows[top + 1:] if r[0] is not None]


def _read_csv(path: Path, delimiter: str) -> tuple[bytes, list[dict]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    return raw, list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _annexe2(path: Path) -> dict[str, dict]:
    """Synthèse Annexe 2 read back: dispositif → year (or "Total …") → (count, amount)."""
    ws = load_workbook(path)["Synthèse Annexe 2"]
    years = {c.column: c.value for c in ws[4]
             if c.value not in (None, "Dispositif départemental", FICTIF)}
    table = {}
    for row in ws.iter_rows(min_row=6):
        if row[0].value is None:
            break
        table[row[0].value] = {label: (row[col - 1].value, row[col].value)
                               for col, label in years.items()}
    return table


# --- Département -----------------------------------------------------------------------------
def test_annexe2_reproduces_the_contract(demo):
    """Annexe 2: 27 actions / 52 300 € for the initiatives, 393 763 € for the équipements,
    2015-2018, from the demo's five programmations (2019 included) cut to the period."""
    assert set(demo.annees) == {2015, 2016, 2017, 2018, 2019}
    table = _annexe2(demo.files.annexe2)
    assert list(table[ENCOURAGEMENT]) == [2015, 2016, 2017, 2018, "Total 2015 à 2018"]
    enc = table[ENCOURAGEMENT]
    assert enc[2015] == (5, 12500)
    assert enc[2016] == (3, 9500)
    assert enc[2017] == (8, 13500)
    assert enc[2018] == (11, 16800)
    assert enc["Total 2015 à 2018"] == (27, 52300)
    equip = table[EQUIPEMENTS]
    assert equip[2015][0] == 0
    assert sum(equip[y][0] for y in (2016, 2017, 2018)) == 3
    assert equip["Total 2015 à 2018"][1] == 393763
    assert table["Total"]["Total 2015 à 2018"] == (30, 52300 + 393763)


def test_departement_all_years_and_action_list(demo):
    table = _annexe2(demo.files.departement)
    expected = defaultdict(lambda: [0, Decimal(0)])
    for y, prog in demo.progs.items():
        for a in prog.actions:
            if a.accorde("departement") > 0:
                expected[(y, a.departement_dispositif)][0] += 1
                expected[(y, a.departement_dispositif)][1] += a.accorde("departement")
    for (y, dispositif), (count, amount) in expected.items():
        assert table[dispositif][y] == (count, float(amount))
    wb = load_workbook(demo.files.departement)
    head, rows = _rows_below_header(wb["Actions"], "Année")
    actions = [r for r in rows if r[0] != "Total"]
    assert len(actions) == sum(c for c, _ in expected.values())
    i_amount, i_score = head.index("Montant accordé par le Département"), head.index(
        "Note (0 à 100)")
    assert sum(r[i_amount] for r in actions) == float(sum(a for _, a in expected.values()))
    d19 = demo.annees[2019]
    with_bilan = [r for r in actions if r[0] == 2019 and r[1] in d19.bilans]
    assert with_bilan, "the demo has accepted bilans of Département-funded actions"
    for r in with_bilan:
        assert r[i_score] == d19.bilans[r[1]].score
        assert r[head.index("Bénéficiaires")] == d19.bilans[r[1]].benef_total


def test_departement_report_for_one_year(demo, tmp_path):
    path = write_reporting_departement(demo.annees, demo.ref, tmp_path / "dep 2017.xlsx",
                                       periode=(2017, 2017))
    table = _annexe2(path)
    assert table[ENCOURAGEMENT] == {2017: (8, 13500), "Total 2017": (8, 13500)}
    assert table[EQUIPEMENTS]["Total 2017"] == table[EQUIPEMENTS][2017]
    wb = load_workbook(path)
    assert "— année 2017 —" in wb["Synthèse Annexe 2"]["A2"].value
    _, rows = _rows_below_header(wb["Actions"], "Année")
    assert {r[0] for r in rows if r[0] != "Total"} == {2017}
    assert rows[-1][2] == f"{table['Total']['Total 2017'][0]} actions"


def test_departement_period_must_be_programmed():
    programmees = [2015, 2016, 2017, 2018, 2019]
    assert periode_departement(programmees) == programmees
    assert periode_departement(programmees, jusqua=2018) == [2015, 2016, 2017, 2018]
    assert periode_departement(programmees, de=2017) == [2017, 2018, 2019]
    assert periode_departement(programmees, a=2016) == [2015, 2016]
    with pytest.raises(PeriodeInvalide, match=r"la première année \(2018\) est après la "
                       r"dernière \(2015\)"):
        periode_departement(programmees, 2018, 2015)
    with pytest.raises(PeriodeInvalide, match=r"aucune programmation pour 2012 à 2014 "
                       r"\(années programmées : 2015 à 2019\)"):
        periode_departement(programmees, 2012, 2018)
    with pytest.raises(PeriodeInvalide, match="aucune programmation pour 2017 "):
        periode_departement([2015, 2016, 2018], 2015, 2018)
    with pytest.raises(PeriodeInvalide, match="Aucune programmation"):
        periode_departement([], 2015, 2018)


def _fills(ws, row: int, columns) -> set[str]:
    return {ws.cell(row=row, column=c).fill.fgColor.rgb[-6:] for c in columns}


def test_demo_report_marks_what_the_demo_invented(demo, tmp_path):
    """The yearly split of the équipements' 393 763 € is the demo's: marked in the report;
    the annex's own figures are said to come from it; every demo action is marked."""
    wb = load_workbook(demo.files.annexe2)
    ws = wb["Synthèse Annexe 2"]
    assert ws["A3"].value.startswith(FICTIF)
    head = [c.value for c in ws[4]]
    col = head.index(FICTIF) + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(6, 10)}
    equip, enc = rows[EQUIPEMENTS], rows[ENCOURAGEMENT]
    assert ws.cell(row=equip, column=col).value == (
        "Oui pour 2015, 2016, 2017, 2018 ; repris de l'annexe 2 du contrat : "
        "Total 2015 à 2018")
    assert ws.cell(row=enc, column=col).value == "Non : repris de l'annexe 2 du contrat"
    orange, plain = "FCE4D6", "000000"
    assert _fills(ws, equip, range(2, 10)) == {orange}       # 2015 … 2018: invented
    assert orange not in _fills(ws, equip, (10, 11))         # total 2015-2018: the annex's
    assert orange not in _fills(ws, enc, range(2, 12))
    assert plain not in _fills(ws, rows["Total"], range(2, 10))
    head, lines = _rows_below_header(wb["Actions"], "Année")
    assert wb["Actions"]["A3"].value.startswith(FICTIF)
    assert {r[head.index(FICTIF)] for r in lines if r[0] != "Total"} == {"oui"}

    ws = load_workbook(demo.files.departement)["Synthèse Annexe 2"]
    head = [c.value for c in ws[4]]
    enc_2019 = ws.cell(row=6, column=head.index(FICTIF) + 1).value
    assert ws["A6"].value == ENCOURAGEMENT and enc_2019.startswith("Oui pour 2019, Total 2015")

    plain_report = write_reporting_departement(demo.annees, demo.ref, tmp_path / "dep.xlsx",
                                               periode=(2015, 2018))
    texts = [c.value for ws in load_workbook(plain_report) for row in ws.iter_rows()
             for c in row if isinstance(c.value, str)]
    assert not any(FICTIF.lower() in t.lower() for t in texts)


def test_cli_departement_for_a_period(demo):
    """Through ``cv-excel consolider``: the period, the demo recognised by its marker file,
    invalid periods refused in French with exit code 2."""
    dossier = demo.result.dossier
    assert (dossier / DEMO_MARKER).exists()
    runner = CliRunner()
    result = runner.invoke(app, ["consolider", "--dossier", str(dossier), "--de", "2015",
                                 "--a", "2018"])
    assert result.exit_code == 0, result.output
    assert "Reporting Département 2015-2018.xlsx" in result.output
    path = dossier / "sorties" / "2019" / "Reporting Département 2015-2018.xlsx"
    table = _annexe2(path)
    assert table[ENCOURAGEMENT]["Total 2015 à 2018"] == (27, 52300)
    assert table[EQUIPEMENTS]["Total 2015 à 2018"][1] == 393763
    assert list(table[ENCOURAGEMENT]) == [2015, 2016, 2017, 2018, "Total 2015 à 2018"]
    ws = load_workbook(path)["Synthèse Annexe 2"]
    assert ws["A3"].value.startswith(FICTIF)
    for args, message in (
            (["--de", "2018", "--a", "2015"], "la première année (--de 2018) est après la "
                                              "dernière (--a 2015)"),
            (["--de", "2012", "--a", "2018"], "aucune programmation pour 2012 à 2014"),
            (["--a", "2030"], "aucune programmation pour 2020 à 2030")):
        result = runner.invoke(app, ["consolider", "--dossier", str(dossier), *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Erreur : Période invalide" in result.output and message in result.output


# --- État ------------------------------------------------------------------------------------
def test_etat_bop147_and_rapport_annuel(demo):
    prog, ref = demo.progs[2019], demo.ref
    bop = [a for a in prog.actions if a.accorde("etat") > 0]
    wb = load_workbook(demo.files.etat)
    head, rows = _rows_below_header(wb["Actions BOP 147"], "N° d'action")
    lines, total = rows[:-1], rows[-1]
    assert total[0] == "Total"
    assert [r[0] for r in lines] == sorted(a.numero for a in bop)
    assert total[head.index("Montant BOP 147")] == float(sum(a.accorde("etat") for a in bop))
    assert total[head.index("Total accordé")] == float(
        sum(a.montant_accorde_total for a in bop))
    assert total[head.index("Autres financements")] == float(
        sum(a.montant_accorde_total - a.accorde("etat") for a in bop))

    by_pilier = defaultdict(lambda: defaultdict(Decimal))
    counts = defaultdict(int)
    for a in prog.actions:
        code = ref.pilier_of(a.objectif_operationnel)
        counts[code] += 1
        for f in a.financements:
            by_pilier[code][f.libelle] += f.accorde or 0
    head, rows = _rows_below_header(wb["Financements par pilier"], "Pilier")
    for r in rows[:-1]:
        code = r[0].split(" — ")[0]
        assert r[1] == counts[code]
        for label, amount in by_pilier[code].items():
            assert r[head.index(label)] == float(amount), (code, label)
    assert rows[-1][head.index("Total")] == float(sum(a.montant_accorde_total
                                                      for a in prog.actions))

    head, rows = _rows_below_header(wb["Financements par thème"], "Thème ANCT")
    assert rows[-1][1] == len(prog.actions)
    cohesion = [a for a in prog.actions if a.theme_anct == "1 Cohésion sociale"]
    row = next(r for r in rows if r[0] == "1 Cohésion sociale")
    assert row[1] == len(cohesion)
    assert row[head.index("État (BOP 147)")] == float(sum(a.accorde("etat") for a in cohesion))


def test_beneficiaires_by_sex(demo):
    d19 = demo.annees[2019]
    bilans = list(d19.bilans.values())
    wb = load_workbook(demo.files.etat)
    ws = wb["Bénéficiaires par sexe"]
    assert f"{len(bilans)} actions sur {len(d19.actions)}" in ws["A2"].value
    head, rows = _rows_below_header(ws, "Pilier")
    total = rows[-1]
    femmes = sum(b.benef_femmes or 0 for b in bilans)
    hommes = sum(b.benef_hommes or 0 for b in bilans)
    tous = sum(b.benef_total or 0 for b in bilans)
    assert total[head.index("Actions avec bilan accepté")] == len(bilans)
    assert total[head.index("Bénéficiaires")] == tous
    assert total[head.index("Femmes")] == femmes
    assert total[head.index("Hommes")] == hommes
    assert total[head.index("Non ventilé par sexe")] == tous - femmes - hommes
    assert total[head.index("dont habitants des QPV")] == sum(b.benef_qpv or 0 for b in bilans)
    assert femmes > 0 and hommes > 0


# --- flat exports ----------------------------------------------------------------------------
def test_dauphin_csv(demo):
    bop = sorted((a for a in demo.progs[2019].actions if a.accorde("etat") > 0),
                 key=lambda a: a.numero)
    raw, rows = _read_csv(demo.files.dauphin, ";")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(rows[0]) == list(DAUPHIN_COLUMNS)
    assert [r["Numéro de l'action"] for r in rows] == [a.numero for a in bop]
    for r, a in zip(rows, bop, strict=True):
        assert Decimal(r["Montant engagé"].replace(",", ".")) == a.accorde("etat")
        assert "," in r["Montant engagé"]
        assert r["Code contrat de ville"] == demo.ref.contrat.code
        assert r["Sous-thème ANCT (regroupement)"] == a.sous_theme_anct
        # what reconciles the row with Dauphin (issue 11)
        assert r["SIRET"] == a.porteur.siret and len(r["SIRET"]) == 14
        assert r["N° de dossier Dauphin"] == a.dossier_dauphin != ""
        assert r["Code QPV"] == a.code_qpv != "" and r["Quartier"]
        assert r["Code QPV à confirmer"] == "oui"  # the contract gives no national code
        assert r["Dispositifs de l'État"] == " ; ".join(a.dispositifs_etat)
        precise = a.modalite_p147 or a.sous_theme_p147 or a.theme_p147
        if precise is None:  # only the éducation codes could be read in the source so far
            assert r["Code thème P147"] == ""
            continue
        assert r["Code thème P147"] == precise[:2] and r["Thème P147"]
        if a.modalite_p147:
            assert (r["Code sous-thème P147"], r["Code modalité P147"]) == (
                a.modalite_p147[:3], a.modalite_p147)
            assert r["Modalité P147"] and r["Sous-thème P147"]
    assert sum(1 for r in rows if r["Code modalité P147"]) >= 3


def test_formula_like_texts_stay_text(demo, tmp_path):
    d19 = copy.deepcopy(demo.annees[2019])
    target = next(a for a in d19.actions
                  if a.accorde["etat"] > 0 and a.accorde["ville"] > 0
                  and a.accorde["departement"] > 0)
    target.intitule = "=1+1"
    registre = [dict(e) for e in demo.registre.values()]
    silent = next(e for e in registre if e["type"] == "porteur"
                  and not any(s.classeur_id == e["classeur_id"] for s in d19.submissions))
    silent["destinataire"] = "=HYPERLINK(\"http://x\")"
    annees = {2019: d19}
    etat = write_reporting_etat(d19, demo.ref, tmp_path / "etat.xlsx")
    dep = write_reporting_departement(annees, demo.ref, tmp_path / "dep.xlsx")
    comp, relances = write_completude(d19, registre, demo.ref, tmp_path / "c.xlsx",
                                      tmp_path / "r.csv")
    for path, sheet, value in ((etat, "Actions BOP 147", "=1+1"), (dep, "Actions", "=1+1"),
                               (comp, "Complétude", silent["destinataire"])):
        cells = [c for row in load_workbook(path)[sheet].iter_rows() for c in row
                 if c.value == value]
        assert cells and all(c.data_type == "s" for c in cells), path.name
    _, rows = _read_csv(write_dauphin_csv(d19, demo.ref, tmp_path / "d.csv"), ";")
    assert "'=1+1" in [r["Libellé de l'action"] for r in rows]
    # The SCDL export's own neutralisation is tested with the partner's validator, in
    # test_scdl.py.
    _, rows = _read_csv(relances, ";")
    assert "'" + silent["destinataire"] in [r["destinataire"] for r in rows]


# --- complétude ------------------------------------------------------------------------------
def test_completude(demo):
    sent = list(demo.registre.values())
    # Every validation of the year: the porteurs' bilans and each step of each revue.
    runs = [demo.result.validation, *(e.validation for r in demo.result.revues.values()
                                      for e in r.etapes)]
    silent = [*demo.result.retours.silent, *(d for r in demo.result.revues.values()
                                             for e in r.etapes for d in e.retours.silent)]
    fichiers = [f for run in runs for f in run.fichiers]
    received = {f.classeur_id for f in fichiers}
    accepted = {f.classeur_id for f in fichiers if f.statut in (ACCEPTE, ACCEPTE_AVERTISSEMENTS)}
    rejected = {f.classeur_id for f in fichiers if f.statut == REJETE} - accepted
    to_chase = {(e["destinataire"], TYPES[e["type"]], e.get("revue")) for e in sent
                if e["classeur_id"] not in received or e["classeur_id"] in rejected}
    assert len(rejected) == 4 and len(to_chase) == 4 + len(silent)

    ws = load_workbook(demo.files.completude)["Complétude"]
    head, rows = _rows_below_header(ws, "Destinataire")
    assert len(rows) == len(sent)
    etat = {(r[0], r[head.index("Type")], r[head.index("Revue")]): r[head.index("État")]
            for r in rows}
    assert {d for d, e in etat.items() if e in ("non reçu", "rejeté — à corriger")} == to_chase
    assert sum(1 for e in etat.values() if e == "rejeté — à corriger") == 4
    summary = {r[0]: r[1] for r in ws.iter_rows(min_row=4, max_row=9, values_only=True)}
    assert summary["Classeurs envoyés"] == len(sent)
    assert summary["non reçu"] == len(silent)
    assert ws.auto_filter.ref and ws.conditional_formatting

    raw, relances = _read_csv(demo.files.relances, ";")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(relances[0]) == ["destinataire", "contact", "email", "type", "état", "objet",
                                 "message"]
    assert {r["destinataire"] for r in relances} == {d for d, _, _ in to_chase}
    emails = {a.porteur.raison_sociale: a.porteur.email for a in demo.progs[2019].actions}
    for r in relances:
        assert "@" in r["email"]
        if r["type"] == "Porteur":
            assert r["email"] == emails[r["destinataire"]]
        assert r["message"].startswith("Madame, Monsieur, ")
        if r["état"] == "rejeté — à corriger":
            assert "refusé pour 1 point bloquant" in r["message"]
        else:
            assert "nous n'avons pas reçu" in r["message"]


def test_completude_regenerated_workbook_counts_once(demo):
    """A workbook generated again stays in the register: one line, the return still counts."""
    d19 = demo.annees[2019]
    sent = list(demo.registre.values())
    again = [dict(e, classeur_id=e["classeur_id"] + "-bis", genere_le="9999-01-01T00:00:00")
             for e in sent]
    before = {x.destinataire: x.etat for x in completude_lines(d19, sent, demo.ref)}
    after = completude_lines(d19, sent + again, demo.ref)
    assert len(after) == len(sent)
    assert {x.destinataire: x.etat for x in after} == before
    other_year = [dict(e, fichier=e["fichier"].replace("/2019/", "/2018/")) for e in sent]
    assert len(completude_lines(d19, sent + other_year, demo.ref)) == len(sent)


# --- LibreOffice -----------------------------------------------------------------------------
def test_workbooks_open_in_libreoffice(demo, tmp_path):
    paths = [demo.files.departement, demo.files.annexe2, demo.files.etat,
             demo.files.completude]
    pdfs = convert_many(paths, tmp_path / "pdf")
    assert all(p.stat().st_size > 0 for p in pdfs)


def test_a_table_of_rows_made_as_written_counts_them_in_its_total(tmp_path):
    """Rows from a generator (nothing kept), a total made once they are written, rows kept
    as text but those the predicate refuses, which stay cells to style afterwards: the
    saved sheet holds every value, the total and the style given afterwards."""
    from openpyxl.styles import PatternFill

    from cv_excel.consolidation.reporting import ENTIER, new_workbook, table
    from cv_excel.xlsxio import save_workbook_atomic

    wb = new_workbook()
    ws = wb.create_sheet("T")
    seen = []

    def rows():
        for n in range(1, 6):
            seen.append(n)
            yield [f"ligne {n}", n, "Rouge" if n == 3 else "=1+1"]

    last = table(ws, 2, [("Nom", 10, None), ("N", 6, ENTIER), ("Feu", 8, None)], rows(),
                 as_text=lambda values: values[2] != "Rouge",
                 total=lambda: ["Total", sum(seen), None])
    ws.cell(row=5, column=3).fill = PatternFill("solid", fgColor="FFC7CE")  # the refused row
    out = load_workbook(save_workbook_atomic(wb, tmp_path / "t.xlsx"))["T"]
    assert last == 8
    assert [[c.value for c in r] for r in out.iter_rows(min_row=2, max_row=8)] == [
        ["Nom", "N", "Feu"], *[[f"ligne {n}", n, "Rouge" if n == 3 else "=1+1"]
                               for n in range(1, 6)], ["Total", 15, None]]
    assert out["C5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert out["C4"].data_type == "s" and out["C4"].quotePrefix  # a text, never a formula
    assert out.auto_filter.ref == "A2:C7"
