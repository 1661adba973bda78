"""The per-action compte rendu financier laid out like the Cerfa 15059: every line of the
form, totals that are the sums, blanks left blank, gaps as the porteur's workbook shows
them, print setup, no formula from a porteur's text; one porteur's file converted to PDF
by LibreOffice and read back with ``pdftotext``: each action on its own pages, with the
signature sentence; and the folder written by ``consolider`` on the demo cycle."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from cv_excel.config import DossierTravail
from cv_excel.consolidation.compte_rendu import (
    ATTESTATION,
    DOSSIER,
    NON_PREVU,
    LigneCompteRendu,
    nom_fichier,
    tableau_budget,
    write_comptes_rendus,
)
from cv_excel.consolidation.mise_en_page import _wrapped_chunks, chunks, line_count, wrap
from cv_excel.consolidation.run import consolider, output_names
from cv_excel.referentiel.load import embedded_referentiel, load_referentiel
from cv_excel.spec.budget import CHARGES, CHARGES_CONTRIB, PRODUITS, PRODUITS_CONTRIB
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.models import ActionProgrammee, BilanAction, DonneesAnnee, LigneBudget
from cv_excel.store.queries import load_year
from tests.libreoffice import convert_many

D = Decimal
NOW = dt.datetime(2020, 3, 2, 10, 0, tzinfo=dt.UTC)
TABLES = {"bud_charges": CHARGES, "bud_produits": PRODUITS,
          "bud_charges_contrib": CHARGES_CONTRIB, "bud_produits_contrib": PRODUITS_CONTRIB}
LONG = ("L'écart sur les charges de personnel vient du départ d'une animatrice en juin, "
        "remplacée en septembre ; les achats ont été réduits d'autant. ") * 25


def _action(numero: str, siret: str, porteur: str, **kw) -> ActionProgrammee:
    return ActionProgrammee(
        numero=numero, annee=2019, porteur_siret=siret, porteur_raison_sociale=porteur,
        porteur_type="Association", porteur_rna="W941000001", porteur_contact="",
        porteur_email="", intitule=kw.pop("intitule", f"Ateliers {numero}"),
        objectif_operationnel="A111", theme_anct=None, sous_theme_anct=None,
        territoire="QPV", accorde={"etat": D(4000), "ville": D(1000)}, demande={},
        departement_dispositif=None, indicateur="", mode_recueil="",
        convention_numero=f"CONV-{numero}", convention_date=dt.date(2019, 2, 1), **kw)


def _bilan(numero: str, budget: dict[tuple[str, str], tuple[float | None, float | None]],
           **kw) -> BilanAction:
    lignes = [LigneBudget(t, k, None if p is None else D(str(p)),
                          None if r is None else D(str(r))) for (t, k), (p, r) in budget.items()]
    values = dict(
        numero=numero, submission_id=1, fichier=f"2019 - Bilan - {numero}.xlsx",
        recu_le="2020-02-15T10:00:00+01:00", realisation="Réalisée",
        date_debut=dt.date(2019, 3, 1), date_fin=dt.date(2019, 12, 15), benef_total=20,
        benef_femmes=None, benef_hommes=None, benef_qpv=None, benef_ages={}, score=80,
        score_justification=None, mode_recueil=None, valeur_constatee=None, resultats=None,
        difficultes=None, perspectives=None, ecarts_explication=None, budget=lignes,
        lieux_realisation="Centre social Andrée-Chedid", observations=None,
        repartition_charges_indirectes="Au prorata des heures d'animation.")
    values.update(kw)
    return BilanAction(**values)


# A budget as a porteur types it: lines left blank, a réalisé not typed yet, a réalisé
# without prévu, the 74 lines prefilled (0 where the financeur gave nothing), 86x/87x.
BUDGET = {
    ("bud_charges", "60"): (1000, 1100),
    ("bud_charges", "61"): (2000, 1500),  # −25 %
    ("bud_charges", "62"): (400, None),  # réalisé not typed: no gap
    ("bud_charges", "64"): (1600, 2200),
    ("bud_charges", "66"): (None, 150),  # réalisé without prévu
    ("bud_charges", "ci_fonctionnement"): (300, 300),
    ("bud_produits", "74_etat"): (4000, 4000),
    ("bud_produits", "74_ville"): (1000, 1000),
    ("bud_produits", "74_region"): (0, 0),
    ("bud_produits", "70"): (300, 250),
    ("bud_produits", "75"): (None, 1000),
    ("bud_charges_contrib", "864"): (500, 600),
    ("bud_produits_contrib", "870"): (500, 600),
    ("bud_produits", "74_ancienne"): (None, 50),  # a key of an earlier form version
}


def _year() -> DonneesAnnee:
    actions = [
        _action("2019-001", "12345678900011", "Asso Les Navigateurs (fictif)"),
        _action("2019-002", "12345678900011", "Asso Les Navigateurs (fictif)",
                intitule="=HYPERLINK(\"http://x\")"),
        _action("2019-003", "98765432100018", "Club « A/B » (fictif)"),
        _action("2019-004", "11122233300044", "Sans bilan (fictif)"),  # no accepted bilan
    ]
    bilans = {
        "2019-001": _bilan("2019-001", BUDGET, ecarts_explication=LONG,
                           observations="=1+1 (texte du porteur)"),
        "2019-002": _bilan("2019-002", {("bud_charges", "60"): (500, 500),
                                        ("bud_produits", "74_ville"): (500, 500)},
                           date_debut=None, date_fin=None, lieux_realisation=None),
        "2019-003": _bilan("2019-003", {("bud_charges", "64"): (900, None),
                                        ("bud_produits", "74_etat"): (900, None)}),
    }
    return DonneesAnnee("orly", 2019, actions, bilans, {}, [])


@pytest.fixture
def ecrits(tmp_path) -> list[Path]:
    return write_comptes_rendus(_year(), embedded_referentiel(), tmp_path / DOSSIER, now=NOW)


def _budget_rows(ws) -> dict[str, list]:
    """Label -> [prévu, réalisé, écart €, écart %] of every row of the budget table."""
    rows = {}
    for row in ws.iter_rows(min_col=1, max_col=5, values_only=True):
        if isinstance(row[0], str):
            rows.setdefault(row[0], list(row[1:]))
    return rows


# --- the budget as data ----------------------------------------------------------------------
def test_every_cerfa_line_in_the_form_s_order():
    lignes = tableau_budget(_bilan("x", {}))
    labels = [x.libelle for x in lignes if x.genre == "ligne"]
    expected = [ligne.label for t in TABLES.values() for ligne in t]
    order = [ligne.label for t in ("bud_charges", "bud_produits", "bud_charges_contrib",
                                   "bud_produits_contrib") for ligne in TABLES[t]]
    assert labels == order and sorted(labels) == sorted(expected)
    titles = [x.libelle for x in lignes if x.genre == "titre"]
    assert titles == ["Charges directes affectées à l'action",
                      "Charges indirectes réparties affectées à l'action",
                      "Ressources directes affectées à l'action",
                      "74 – Subventions d'exploitation"]
    # nothing typed: every amount, total and gap blank — no 0 invented
    assert all(x.prevu is None and x.realise is None and x.ecart is None
               and x.ecart_pourcent is None for x in lignes)


GAPS = [  # (prévu, réalisé) -> (écart €, écart %, to explain)
    ((1000, 1100), (D(100), 0.10, False)),
    ((2000, 1500), (D(-500), -0.25, True)),
    ((400, None), (None, None, False)),  # no réalisé yet: no gap
    ((None, 150), (D(150), NON_PREVU, True)),  # réalisé without prévu
    ((0, 150), (D(150), NON_PREVU, True)),
    ((0, 0), (D(0), None, False)),
    ((None, None), (None, None, False)),
    ((200, 0), (D(-200), -1.0, True)),
]


@pytest.mark.parametrize("amounts, expected", GAPS, ids=[str(g[0]) for g in GAPS])
def test_gap_of_a_line(amounts, expected):
    p, r = amounts
    x = LigneCompteRendu("60 – Achats", None if p is None else D(p),
                         None if r is None else D(r))
    assert (x.ecart, x.ecart_pourcent, x.a_expliquer) == expected


def test_totals_are_the_sums_and_blank_when_nothing_is_typed():
    lignes = {x.libelle: x for x in tableau_budget(_bilan("x", BUDGET))}
    charges = lignes["Total des charges"]
    assert (charges.prevu, charges.realise) == (D(1000 + 2000 + 400 + 1600 + 300),
                                                D(1100 + 1500 + 2200 + 150 + 300))
    produits = lignes["Total des produits"]
    assert (produits.prevu, produits.realise) == (D(4000 + 1000 + 0 + 300),
                                                  D(4000 + 1000 + 0 + 250 + 1000 + 50))
    assert lignes["Ligne « 74_ancienne » (version antérieure du formulaire)"].realise == 50
    assert (lignes["Total des emplois des contributions volontaires (86)"].realise,
            lignes["Total des contributions volontaires en nature (87)"].prevu) == (600, 500)
    general = lignes["Total des charges, contributions volontaires comprises"]
    assert (general.prevu, general.realise) == (charges.prevu + 500, charges.realise + 600)
    assert charges.ecart == charges.realise - charges.prevu
    none = {x.libelle: x for x in tableau_budget(_bilan("y", {("bud_charges", "60"):
                                                               (100, None)}))}
    assert none["Total des charges"].prevu == 100 and none["Total des charges"].realise is None
    assert none["Total des produits"].prevu is None and none["Total des charges"].ecart is None


@given(st.one_of(st.none(), st.text(max_size=120),
                 st.text(alphabet=" \t\n\r\x0bab", max_size=40), st.integers()),
       st.floats(min_value=1, max_value=120), st.sampled_from([8, 9, 10, 11, 14]))
def test_row_height_line_count_is_the_wrapped_count(text, width, size):
    """The short-line shortcut of line_count gives what wrapping gives."""
    assert line_count(text, width, size) == len(wrap(text, width, size))


@given(st.one_of(st.none(), st.text(max_size=120), st.integers(),
                 st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2028a-", max_size=40)),
       st.floats(min_value=1, max_value=120), st.sampled_from([8, 9, 10, 11, 14]))
def test_a_text_s_rows_are_the_wrapped_rows(text, width, size):
    """The one-short-line shortcut of chunks gives what wrapping gives."""
    assert chunks(text, width, size) == _wrapped_chunks(text, width, size)


# --- the workbooks ---------------------------------------------------------------------------
def test_one_file_per_porteur_with_a_bilan_one_sheet_per_action(ecrits, tmp_path):
    names = sorted(p.name for p in ecrits)
    assert names == sorted([nom_fichier(2019, "Asso Les Navigateurs (fictif)"),
                            nom_fichier(2019, "Club « A/B » (fictif)")])
    assert "Compte rendu 2019 - Club « A-B » (fictif).xlsx" in names  # a safe file name
    assert not any("Sans bilan" in n for n in names)
    wb = load_workbook(next(p for p in ecrits if "Navigateurs" in p.name))
    assert wb.sheetnames == ["Action 2019-001", "Action 2019-002"]
    # a porteur who no longer has an accepted bilan: its old file goes
    stale = tmp_path / DOSSIER / nom_fichier(2019, "Ancien porteur")
    stale.write_bytes(b"")
    keep = tmp_path / DOSSIER / "Compte rendu 2019 - signé.pdf"
    keep.write_bytes(b"")
    write_comptes_rendus(_year(), embedded_referentiel(), tmp_path / DOSSIER, now=NOW)
    assert not stale.exists() and keep.exists()


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.xlsx")}


def test_only_the_comptes_rendus_whose_bilans_changed_are_written_again(tmp_path):
    """One new bilan rewrites one compte rendu; a touched, replaced or removed file and a
    damaged record are written again; the result is the same list in the same order."""
    folder, etat = tmp_path / DOSSIER, tmp_path / ".etat" / "comptes rendus 2019.json"
    ref = embedded_referentiel()
    first = write_comptes_rendus(_year(), ref, folder, now=NOW, etat=etat)
    before = _stamps(folder)
    navigateurs = nom_fichier(2019, "Asso Les Navigateurs (fictif)")
    club = nom_fichier(2019, "Club « A/B » (fictif)")
    assert write_comptes_rendus(_year(), ref, folder, now=NOW, etat=etat) == first
    assert _stamps(folder) == before  # nothing new: nothing written
    changed = _year()
    changed.bilans["2019-003"].observations = "Bilan corrigé"
    assert write_comptes_rendus(changed, ref, folder, now=NOW, etat=etat) == first
    after = _stamps(folder)
    assert after[navigateurs] == before[navigateurs] and after[club] != before[club]
    texts = [c.value for row in load_workbook(folder / club).active.iter_rows() for c in row]
    assert "Bilan corrigé" in texts
    (folder / navigateurs).write_bytes(b"abime par quelqu'un")  # replaced by hand
    write_comptes_rendus(changed, ref, folder, now=NOW, etat=etat)
    assert load_workbook(folder / navigateurs).sheetnames == ["Action 2019-001",
                                                              "Action 2019-002"]
    (folder / club).unlink()
    etat.write_text("{pas du json", "utf-8")
    again = write_comptes_rendus(changed, ref, folder, now=NOW, etat=etat)
    assert [p.name for p in again] == [p.name for p in first] and (folder / club).exists()
    assert _stamps(folder)[navigateurs] != after[navigateurs]  # no record: all rewritten


def test_each_cerfa_line_total_and_blank_in_the_sheet(ecrits):
    ws = load_workbook(next(p for p in ecrits if "Navigateurs" in p.name))["Action 2019-001"]
    rows = _budget_rows(ws)
    for table in TABLES.values():
        for ligne in table:
            assert ligne.label in rows, ligne.label
    for (table, key), (prevu, realise) in BUDGET.items():
        label = next((x.label for x in TABLES[table] if x.key == key),
                     f"Ligne « {key} » (version antérieure du formulaire)")
        assert rows[label][:2] == [prevu, realise], label
    assert rows["61 – Services extérieurs"][2:] == [-500, -0.25]
    assert rows["62 – Autres services extérieurs"][1:] == [None, None, None]  # blank stays
    assert rows["63 – Impôts et taxes"] == [None, None, None, None]
    assert rows["66 – Charges financières"][2:] == [150, NON_PREVU]
    assert rows["74 – Région"] == [0, 0, 0, None]  # typed (prefilled) zeros are shown
    charges = [rows[x.label] for x in CHARGES]
    total = rows["Total des charges"]
    assert total[0] == sum(r[0] or 0 for r in charges)
    assert total[1] == sum(r[1] or 0 for r in charges)
    assert total[2] == total[1] - total[0]
    produits = [rows[x.label] for x in PRODUITS]
    assert rows["Total des produits"][1] == sum(r[1] or 0 for r in produits) + 50  # old key
    assert rows["Total des emplois des contributions volontaires (86)"][:2] == [500, 600]
    assert rows["Total des charges, contributions volontaires comprises"][:2] == [
        total[0] + 500, total[1] + 600]
    euros = next(c for row in ws.iter_rows() for c in row if c.value == 1100)
    assert "€" in euros.number_format


def test_identification_annexe_and_signature(ecrits):
    wb = load_workbook(next(p for p in ecrits if "Navigateurs" in p.name))
    texts = [str(c.value) for row in wb["Action 2019-001"].iter_rows() for c in row if c.value]
    joined = "\n".join(texts)
    for expected in ("Asso Les Navigateurs (fictif)", "12345678900011", "2019-001",
                     "Ateliers 2019-001", "CONV-2019-001 du 01/02/2019",
                     "du 01/03/2019 au 15/12/2019", "État (BOP 147) : 4 000 €",
                     "Au prorata des heures d'animation.", "Centre social Andrée-Chedid",
                     "Quelle a été la règle de répartition des charges indirectes appliquée ?",
                     "61 – Services extérieurs (prévu 2 000 €, réalisé 1 500 €, −25 %)",
                     "66 – Charges financières (réalisé 150 € sans montant prévu)",
                     "Fait à", "Signature", "(reçu le 15/02/2020)"):
        assert expected in joined, expected
    assert (f"Je soussigné(e) ……………………………, représentant(e) légal(e) de Asso Les "
            f"Navigateurs (fictif), {ATTESTATION}") in texts
    # a long explanation is cut into rows, never lost
    assert joined.replace("\n", " ").count("remplacée en septembre") == 25
    other = "\n".join(str(c.value) for row in wb["Action 2019-002"].iter_rows() for c in row
                      if c.value)
    assert "exercice 2019 (dates non renseignées)" in other
    assert "(non renseigné)" in other  # lieux de réalisation left blank


def test_print_setup_fonts_heights_and_no_formula(ecrits):
    for path in ecrits:
        for ws in load_workbook(path).worksheets:
            assert ws.page_setup.orientation == "portrait"
            assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
            # one page wide (an absent fitToWidth is 1, the format's default), any height
            assert ws.page_setup.fitToWidth in (None, 1)
            assert ws.sheet_properties.pageSetUpPr.fitToPage
            assert int(ws.page_setup.fitToHeight) == 0
            assert ws.print_area and "action n°" in ws.oddHeader.center.text
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name} {ws.title}!{cell.coordinate}"
                    if cell.value is not None:
                        assert cell.font.sz >= 8, cell.coordinate
                        assert cell.alignment.wrap_text, cell.coordinate
                        assert ws.row_dimensions[cell.row].height, cell.coordinate
            for height in (d.height for d in ws.row_dimensions.values() if d.height):
                assert height <= 409
    wb = load_workbook(next(p for p in ecrits if "Navigateurs" in p.name))
    intitule = next(c for row in wb["Action 2019-002"].iter_rows() for c in row
                    if c.value == '=HYPERLINK("http://x")')
    assert intitule.data_type == "s"
    obs = next(c for row in wb["Action 2019-001"].iter_rows() for c in row
               if c.value == "=1+1 (texte du porteur)")
    assert obs.data_type == "s"


# --- LibreOffice -----------------------------------------------------------------------------
def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_each_action_on_its_own_pages_with_the_signature_in_the_pdf(ecrits, tmp_path):
    path = next(p for p in ecrits if "Navigateurs" in p.name)
    (pdf,) = convert_many([path], tmp_path / "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [_norm(p) for p in text.split("\f") if p.strip()]
    heading = {n: re.compile(rf"l'action n° {n}\b") for n in ("2019-001", "2019-002")}
    subjects = []
    for page in pages:
        found = [n for n, h in heading.items() if h.search(page)]
        assert len(found) == 1, (found, page[:200])  # every page names its one action
        subjects.append(found[0])
    assert subjects == sorted(subjects)  # an action's pages follow each other
    for numero in heading:
        own = [p for p, s in zip(pages, subjects, strict=True) if s == numero]
        assert ATTESTATION in own[-1] and "Signature" in own[-1], numero
        assert "Total des charges" in " ".join(own)
    first = " ".join(p for p, s in zip(pages, subjects, strict=True) if s == "2019-001")
    assert first.count("remplacée en septembre") == 25  # the long explanation printed whole


# --- consolider on the demo ------------------------------------------------------------------
def test_consolider_writes_one_compte_rendu_per_porteur(demo_master, tmp_path):
    dossier = tmp_path / "demo"
    shutil.copytree(demo_master, dossier)
    work = DossierTravail.open(dossier)
    ref, _ = load_referentiel(work.path("referents"))
    folder = dossier / "sorties" / "2019" / output_names(2019)["comptes_rendus"]
    with open_store(default_store_path(work)) as store:
        donnees = load_year(store, work.config.contrat, 2019)
    porteurs = {a.porteur_raison_sociale for a in donnees.actions if a.numero in donnees.bilans}
    assert sorted(p.name for p in folder.glob("*.xlsx")) == sorted(
        nom_fichier(2019, p) for p in porteurs)
    action = next(a for a in donnees.actions if a.numero in donnees.bilans)
    wb = load_workbook(folder / nom_fichier(2019, action.porteur_raison_sociale))
    rows = _budget_rows(wb[f"Action {action.numero}"])
    bilan = donnees.bilans[action.numero]
    charges = [x for x in bilan.budget if x.tableau == "bud_charges"]
    assert rows["Total des charges"][0] == sum(x.prevu or 0 for x in charges)
    # Signed in the name the porteur typed as « Représentant légal » (kept by the store).
    assert bilan.representant == "Présidence de la structure (fictif)"
    texts = [str(c.value) for row in wb[f"Action {action.numero}"].iter_rows() for c in row
             if c.value]
    assert any(t.startswith(f"Je soussigné(e) {bilan.representant}, représentant(e) légal(e)")
               for t in texts)
    shutil.rmtree(folder)
    again = consolider(work, ref, 2019)  # a missing output is written again
    assert not again.rien_de_nouveau and folder in again.fichiers
    assert len(list(folder.glob("*.xlsx"))) == len(porteurs)
    assert consolider(work, ref, 2019).rien_de_nouveau
