"""The tableau de bord of a revue on hand-built data: every level's text, a missing
pilote return, decisions followed from one revue to the next, statuses, blank scores,
indicator trends, print setup and readable colours; the complétude of a revue; the
``consolider --revue`` outputs."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.formatting.rule import Rule

from cv_excel.config import DossierTravail, RevueInconnue, write_config
from cv_excel.consolidation import run as run_module
from cv_excel.consolidation.aggregate import (
    EN_BAISSE,
    EN_HAUSSE,
    NON_RENSEIGNE,
    RETOUR_MANQUANT,
    STABLE,
    Chiffres,
    lignes_pilier,
    tendance,
)
from cv_excel.consolidation.completude import (
    NON_RECU,
    RECU_ACCEPTE,
    completude_lines,
    write_completude_revue,
)
from cv_excel.consolidation.dashboard import (
    AVANCEMENT,
    COLUMNS,
    FEU,
    HEADER_ROW,
    SCORE,
    SYNTHESE,
    write_tableaux_de_bord,
)
from cv_excel.consolidation.mise_en_page import GRIS
from cv_excel.consolidation.run import consolider, output_names_revue
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.store.models import SerieIndicateur, Submission, cube_of
from tests.donnees_gouvernance import LONG, bilan, donnees

NOW = dt.datetime(2020, 6, 20, 9, 30)
REF = embedded_referentiel()


def _rows(ws) -> dict[str, dict[str, object]]:
    """A dashboard sheet read back: code → column name → value."""
    names = [name for name, _ in COLUMNS]
    out = {}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=len(names), values_only=True):
        if row[1] is None:
            break
        out[str(row[1])] = dict(zip(names, row, strict=True))
    return out


def _write(tmp_path, d, name="TdB.xlsx"):
    return load_workbook(write_tableaux_de_bord(d, REF, tmp_path / name, NOW))


# --- statuses and scores ---------------------------------------------------------------------
def test_reportee_and_en_cours_are_counted_apart_from_non_realisee():
    lines = {x.code: x.chiffres for x in lignes_pilier(REF, donnees(), "A")}
    a111, a112, a12 = lines["A111"], lines["A112"], lines["A12"]
    assert (a111.realisees, a111.en_cours, a111.non_realisees) == (1, 1, 0)
    assert (a112.reportees, a112.non_realisees, a112.sans_retour) == (1, 1, 0)
    assert (a12.reportees, a12.non_realisees, a12.sans_retour) == (1, 0, 1)
    pilier = lines["A"]
    assert (pilier.realisees, pilier.partielles, pilier.en_cours, pilier.reportees,
            pilier.non_realisees, pilier.sans_retour) == (1, 1, 1, 2, 1, 1)
    assert pilier.actions == 7


def test_a_blank_score_is_not_a_zero():
    c = Chiffres()
    actions = donnees().actions
    for cell in cube_of(actions[1:2], {"2020-002": bilan("2020-002", "En cours", None)}):
        c.add_cellule(cell)
    assert c.score_moyen is None and c.notees == 0
    for cell in cube_of(actions[:1], {"2020-001": bilan("2020-001", "Réalisée", 0)}):
        c.add_cellule(cell)
    assert c.score_moyen == 0 and c.notees == 1  # a real 0 is a score


def test_blank_score_is_non_renseigne_and_never_red(tmp_path):
    wb = _write(tmp_path, donnees())
    ws = wb["Pilier A"]
    rows = _rows(ws)
    assert rows["A12"][SCORE] == NON_RENSEIGNE  # its only bilan has no score
    assert rows["A111"][SCORE] == 80 and rows["A112"][SCORE] == 0
    score_col = [n for n, _ in COLUMNS].index(SCORE) + 1
    letter = ws.cell(row=1, column=score_col).column_letter
    rules: list[Rule] = [r for cf in ws.conditional_formatting for r in cf.rules
                         if re.match(rf"{letter}\d+:{letter}\d+$", str(cf.sqref))]
    assert len(rules) == 3
    for rule in rules:  # every colour of the score applies to numbers only
        assert rule.type == "expression" and "ISNUMBER(" in rule.formula[0]
    red = next(r for r in rules if r.dxf.fill.fgColor.rgb.endswith("FFC7CE"))
    assert re.search(r"<40", red.formula[0])
    row = next(c.row for c in ws["B"] if c.value == "A12")
    cell = ws.cell(row=row, column=score_col)
    assert not (cell.fill.fgColor.rgb or "").endswith("FFC7CE")
    assert cell.font.color.rgb.endswith(GRIS)  # grey, italic
    assert cell.font.i


# --- texts of every level --------------------------------------------------------------------
def test_every_level_shows_its_own_text(tmp_path):
    rows = _rows(_write(tmp_path, donnees(revue=2))["Pilier A"])
    assert rows["A11"][FEU] == "Vert" and rows["A11"][AVANCEMENT] == "Engagé"
    assert rows["A11"][SYNTHESE].split() == LONG.split()
    assert rows["A11"]["Difficultés"] == "Difficulté A11"
    assert rows["A1"][FEU] == "Orange" and rows["A1"][SYNTHESE] == "Synthèse orientation A1"
    assert rows["A21"][FEU] == "Rouge"
    # the référents' texts, each named when several référents answered
    assert "Médecin directeur" in rows["A111"][SYNTHESE]
    assert rows["A112"][SYNTHESE] == "Résultats de A112"
    # the responsable's view on the pilier row
    view = rows["A"][SYNTHESE]
    assert view.startswith("Vue du responsable")
    assert "1 vert, 0 orange, 1 rouge, 3 sans synthèse" in view
    assert "orientations : 0 vert, 1 orange, 0 rouge, 1 sans synthèse" in view
    assert "décisions ouvertes : 2" in view


def test_inferred_people_are_marked_a_confirmer(tmp_path):
    rows = _rows(_write(tmp_path, donnees())["Pilier A"])
    assert rows["A"]["Responsable de niveau"].endswith(" (à confirmer)")  # D06
    assert not rows["A11"]["Responsable de niveau"].endswith("(à confirmer)")
    rows = _rows(_write(tmp_path, donnees(), "c.xlsx")["Pilier C"])
    assert rows["C21"]["Responsable de niveau"].endswith(" (à confirmer)")  # D05
    assert not rows["C22"]["Responsable de niveau"].endswith("(à confirmer)")


def test_a_missing_pilote_return_shows_while_the_level_below_stays(tmp_path):
    rows = _rows(_write(tmp_path, donnees(revue=2, pilote_a11=False))["Pilier A"])
    assert rows["A11"][FEU] == RETOUR_MANQUANT
    assert "manquant" in rows["A11"][SYNTHESE]
    assert rows["A11"]["Actions programmées"] == 5  # its figures still add up
    assert rows["A111"][AVANCEMENT].count("Avancé") == 1
    assert "Les ateliers" in rows["A111"][SYNTHESE]
    assert rows["A112"][SYNTHESE] == "Résultats de A112"
    assert rows["A113"][AVANCEMENT] == RETOUR_MANQUANT  # no référent return either
    assert rows["A12"][FEU] == RETOUR_MANQUANT and rows["A22"][FEU] == RETOUR_MANQUANT


def test_annual_dashboard_does_not_call_a_level_missing(tmp_path):
    wb = _write(tmp_path, donnees(revue=None))
    rows = _rows(wb["Pilier A"])
    assert rows["A12"][FEU] is None and rows["A113"][AVANCEMENT] is None
    assert rows["A11"][FEU] == "Vert"  # the latest synthesis of the year
    assert "Revue" not in wb["Pilier A"]["A1"].value
    assert wb["Pilier A"]["A1"].value.startswith("Tableau de bord 2020 — pilier A")


def test_revue_titles(tmp_path):
    wb = _write(tmp_path, donnees(revue=2))
    for name in ("Synthèse", "Pilier A", "Pilier T"):
        assert "2020 — Revue 2" in wb[name]["A1"].value
    assert "revue 2" in wb["Synthèse"]["A2"].value
    assert "1 synthèse(s) pilote" in wb["Synthèse"]["A2"].value


# --- decisions -------------------------------------------------------------------------------
def _decisions(ws) -> list[dict[str, object]]:
    head = [c.value for c in ws[4]]
    return [dict(zip(head, r, strict=False)) for r in ws.iter_rows(min_row=5, values_only=True)
            if r[0]]


def _open_block(ws) -> list[str]:
    """The numéros listed under « Décisions ouvertes du pilier »."""
    start = next(c.row for c in ws["A"] if str(c.value or "").startswith("Décisions ouvertes"))
    out = []
    for row in ws.iter_rows(min_row=start + 2, max_col=1, values_only=True):
        if not row[0]:
            break
        out.append(row[0])
    return out


def test_a_decision_open_at_revue_1_and_closed_at_revue_2(tmp_path):
    r1 = _write(tmp_path, donnees(revue=1), "r1.xlsx")
    r2 = _write(tmp_path, donnees(revue=2, decisions_closed=True), "r2.xlsx")
    d1 = {d["Numéro"]: d for d in _decisions(r1["Décisions"])}
    d2 = _decisions(r2["Décisions"])
    assert d1["A-2020-R1-01"]["Statut"] == "Ouverte"
    assert "A-2020-R1-01" in _open_block(r1["Pilier A"])
    assert _rows(r1["Pilier A"])["A11"]["Décisions ouvertes"] == 1
    # revue 2: closed, listed after the open ones, gone from the pilier's open decisions
    order = [d["Numéro"] for d in d2]
    assert order.index("A-2020-R1-02") < order.index("A-2020-R1-01")
    closed = next(d for d in d2 if d["Numéro"] == "A-2020-R1-01")
    assert closed["Statut"] == "Réalisée" and closed["Dernière mise à jour"] == "2020 — revue 2"
    assert closed["Ouverte à la revue"] == "2020 — revue 1"
    assert _open_block(r2["Pilier A"]) == ["A-2020-R1-02"]
    assert _rows(r2["Pilier A"])["A11"]["Décisions ouvertes"] == 0
    assert _rows(r2["Pilier A"])["A12"]["Décisions ouvertes"] == 1


def test_overdue_open_decisions_are_flagged(tmp_path):
    rows = {d["Numéro"]: d for d in _decisions(_write(tmp_path, donnees())["Décisions"])}
    assert rows["A-2020-R1-02"]["En retard"] == "en retard"  # due 30/04/2020, still open
    assert rows["A-2020-R1-01"]["En retard"] is None  # due 2030
    assert rows["A-2020-R1-03"]["En retard"] is None  # abandoned: closed, never late
    assert rows["A-2020-R1-03"]["Niveau"] == "Pilier A"
    assert rows["A-2020-R1-01"]["Niveau"] == "Objectif stratégique A11"


# --- indicators ------------------------------------------------------------------------------
def _serie(valeurs, reference=None) -> SerieIndicateur:
    return SerieIndicateur("A111", "x", None, reference, None, None,
                           {y: Decimal(v) for y, v in valeurs.items()}, None, False)


@pytest.mark.parametrize(("valeurs", "reference", "annee", "expected"), [
    ({2019: 10, 2020: 12}, None, 2020, EN_HAUSSE),
    ({2019: 10, 2020: 8}, None, 2020, EN_BAISSE),
    ({2019: 100, 2020: "100.5"}, None, 2020, STABLE),  # under 1 %
    ({2019: 100, 2020: 102}, None, 2020, EN_HAUSSE),
    ({2019: 10, 2020: 12}, 15, 2019, EN_BAISSE),  # 2019 alone, against the reference
    ({2019: 10}, None, 2020, NON_RENSEIGNE),
    ({}, 5, 2020, NON_RENSEIGNE),
    ({2019: 10, 2021: 7, 2022: 7}, None, 2022, STABLE),
])
def test_trend(valeurs, reference, annee, expected):
    ref = None if reference is None else Decimal(reference)
    assert tendance(_serie(valeurs, ref), annee) == expected


def test_indicators_sheet(tmp_path):
    ws = _write(tmp_path, donnees())["Indicateurs"]
    head = [c.value for c in ws[4]]
    years = [h for h in head if h and h.isdigit()]
    assert years == ["2019", "2020"]  # the contract's first year up to the year consolidated
    rows = {r[1]: dict(zip(head, r, strict=True))
            for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    a111 = rows["Nombre de bénéficiaires des ateliers santé"]
    assert (a111["2019"], a111["2020"], a111["Cible"], a111["Unité"]) == (120, 130, 150,
                                                                           "personnes")
    assert a111["Tendance"] == EN_HAUSSE
    assert rows["Taux de recours aux droits"]["Tendance"] == EN_BAISSE
    assert rows["Nombre de permanences"]["Tendance"] == STABLE
    assert rows["Nouvel indicateur proposé"]["Nouveau (proposé)"] == "oui"
    dropped = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "Indicateur sans valeur")
    assert rows["Indicateur sans valeur"]["Tendance"] == NON_RENSEIGNE
    assert all(c.font.color.rgb.endswith(GRIS) for c in dropped)  # greyed
    kept = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "Taux de recours aux droits")
    assert not any(c.font.color.rgb.endswith(GRIS) for c in kept)


# --- readability -----------------------------------------------------------------------------
def _luminance(rgb: str) -> float:
    def channel(h):
        c = int(h, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    rgb = rgb[-6:]
    r, g, b = (channel(rgb[i:i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_is_readable_on_every_fill(tmp_path):
    wb = _write(tmp_path, donnees(revue=2, pilote_a11=False))
    checked = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or cell.fill.fill_type != "solid":
                    continue
                color = cell.font.color.rgb if cell.font.color is not None else "FF000000"
                assert _contrast(cell.fill.fgColor.rgb, color) >= 4.5, (ws.title, cell.coordinate)
                checked += 1
        for cf in ws.conditional_formatting:
            for rule in cf.rules:  # the traffic lights colour text and fill together
                assert rule.dxf.font is not None and rule.dxf.font.color is not None
                assert _contrast(rule.dxf.fill.fgColor.rgb, rule.dxf.font.color.rgb) >= 4.5
    assert checked > 100


def test_charts_label_every_bar(tmp_path):
    path = write_tableaux_de_bord(donnees(), REF, tmp_path / "TdB.xlsx", NOW)
    with zipfile.ZipFile(path) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2 + 2 * 4
    for xml in charts:
        axis = re.search(r"<(?:c:)?catAx>.*?</(?:c:)?catAx>", xml, re.S).group(0)
        assert re.search(r'<(?:c:)?tickLblSkip val="1"\s*/>', axis)
        assert re.search(r'<(?:c:)?delete val="0"\s*/>', axis)


def test_print_setup(tmp_path):
    wb = _write(tmp_path, donnees())
    for name in ("Retours inclus", "Décisions", "Indicateurs"):
        ws = wb[name]
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows
    ws = wb["Pilier A"]
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    last_col = re.search(r":\$?([A-Z]+)\$?\d+", area).group(1)
    names = [c.value for c in ws[HEADER_ROW]]
    printed = names[:names.index("Propositions d'arbitrage et actions correctrices") + 1]
    assert last_col == ws.cell(row=1, column=len(printed)).column_letter
    assert {FEU, AVANCEMENT, SYNTHESE, SCORE} <= set(printed)
    assert "Total versé" not in printed  # the detail stays on screen


# --- complétude of a revue -------------------------------------------------------------------
def _entry(kind, dest, revue, cid):
    return {"classeur_id": cid, "type": kind, "destinataire_id": dest,
            "destinataire": dest, "fichier": f"classeurs/2020/{cid}.xlsx",
            "sections": ["A11"], "genere_le": "2020-05-01T00:00:00", "revue": revue}


def _sub(i, kind, dest, revue, statut="accepté"):
    return Submission(i, f"h{i}", f"{i}.xlsx", "2020-05-20T10:00:00", kind, f"autre{i}",
                      "orly", 2020, dest, dest, statut, 0, 0, True, None, revue)


def test_completude_per_revue(tmp_path):
    registre = [_entry("porteur", "123", None, "p"),
                _entry("referent", "dga-culture", 1, "r1"),
                _entry("referent", "dga-culture", 2, "r2"),
                _entry("pilote", "dga-culture", 2, "pil2"),
                _entry("coordonnateur", "dpv-deveco", 2, "coo2"),
                _entry("decisions", "pilier-A", 2, "dec2")]
    d = donnees(revue=2)
    d.submissions = [_sub(1, "referent", "dga-culture", 1),  # revue 1 only
                     _sub(2, "pilote", "dga-culture", 2),
                     _sub(3, "porteur", "123", None)]
    r2 = {(x.type, x.destinataire): x for x in completude_lines(d, registre, REF, revue=2)}
    assert set(r2) == {("Référent", "dga-culture"), ("Pilote", "dga-culture"),
                       ("Coordonnateur", "dpv-deveco"), ("Relevé de décisions", "pilier-A")}
    assert r2[("Pilote", "dga-culture")].etat == RECU_ACCEPTE
    assert r2[("Référent", "dga-culture")].etat == NON_RECU  # its return was for revue 1
    assert "revue 2" in r2[("Coordonnateur", "dpv-deveco")].message
    r1 = completude_lines(d, registre, REF, revue=1)
    assert [(x.type, x.etat) for x in r1] == [("Référent", RECU_ACCEPTE)]
    annual = {(x.type, x.revue): x.etat for x in completude_lines(d, registre, REF)}
    assert len(annual) == len(registre)  # the whole year: one line per kind and revue
    assert annual[("Porteur", None)] == RECU_ACCEPTE
    assert annual[("Référent", 1)] == RECU_ACCEPTE and annual[("Référent", 2)] == NON_RECU
    path = write_completude_revue(d, registre, REF, tmp_path / "c.xlsx", 2)
    ws = load_workbook(path)["Complétude"]
    assert "revue 2" in ws["A1"].value
    assert ws.page_setup.fitToWidth == 1


# --- consolider --revue ------------------------------------------------------------------------
@pytest.fixture
def dossier(tmp_path):
    write_config(tmp_path, annee=2020)
    work = DossierTravail.open(tmp_path)
    work.create_folders()
    return work


def test_consolider_revue_writes_its_folder(dossier, monkeypatch):
    asked = []

    def fake_load_year(store, contrat, annee, revue=None):
        asked.append((annee, revue))
        return donnees(revue=revue, annee=annee)

    converted = []
    monkeypatch.setattr(run_module, "load_year", fake_load_year)
    monkeypatch.setattr(run_module, "pdf_pack", lambda paths, out: converted.append(
        (list(paths), out)) or [p.with_suffix(".pdf") for p in paths])
    result = consolider(dossier, REF, 2020, revue=2, now=NOW, pdf=True)
    out = dossier.path("sorties") / "2020" / "Revue 2"
    assert result.dossier == out and asked == [(2020, 2)]
    names = output_names_revue(2020, 2, ["A", "B", "C", "T"])
    assert names["tableaux"] == "Tableaux de bord 2020 revue 2.xlsx"
    assert names["pack A"] == "Pack COPIL 2020 revue 2 - Pilier A.xlsx"
    assert names["completude"] == "Complétude revue 2.xlsx"
    assert sorted(p.name for p in result.fichiers) == sorted(names.values())
    assert all(p.exists() for p in result.fichiers)
    # one LibreOffice run: the dashboard and the four packs
    assert len(converted) == 1 and len(converted[0][0]) == 5 and converted[0][1] == out
    wb = load_workbook(out / names["tableaux"])
    assert "Revue 2" in wb["Pilier A"]["A1"].value
    assert "Revue 2" in load_workbook(out / names["pack A"])["Couverture"]["A5"].value

    # nothing new for this revue; another revue is built apart
    for p in [out / n for n in names.values()]:
        p.with_suffix(".pdf").write_bytes(b"%PDF")  # the PDFs the fake run did not write
    again = consolider(dossier, REF, 2020, revue=2, now=NOW, pdf=True)
    assert again.rien_de_nouveau and len(converted) == 1
    other = consolider(dossier, REF, 2020, revue=1, now=NOW)
    assert not other.rien_de_nouveau and other.dossier.name == "Revue 1"
    assert "revue=2020-1" in (other.dossier / ".empreinte").read_text("utf-8")


def test_consolider_unknown_revue_is_refused_in_french(dossier):
    with pytest.raises(RevueInconnue, match="n'a pas de revue 7"):
        consolider(dossier, REF, 2020, revue=7)
    assert not (dossier.path("sorties") / "2020").exists()
