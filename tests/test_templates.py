"""The committed templates: they verify clean, match the build script, and the verifier
catches what a person editing them in Excel can break."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName

from cv_excel.findings import Report
from cv_excel.generation.verify_template import template_names, verify_template
from cv_excel.spec import COORDONNATEUR, PILOTE, PORTEUR, REFERENT, RELEVE, SPECS
from cv_excel.spec.budget import PRODUITS
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import Area, parse_area

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
BILAN = TEMPLATES / PORTEUR.modele
SUIVI = TEMPLATES / REFERENT.modele
# Every committed template with its specification (porteur, référent and the governance kinds).
COMMITTED = [(TEMPLATES / spec.modele, spec) for spec in SPECS.values()]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_templates",
                                                  ROOT / "scripts" / "build_templates.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def mutate(tmp_path: Path, template: Path, change) -> Path:
    """Load the template with openpyxl, apply ``change(wb)``, save a copy."""
    wb = load_workbook(template)
    change(wb)
    out = tmp_path / template.name
    wb.save(out)
    return out


def only(report: Report, code: str):
    """The report holds exactly one finding, with that code."""
    assert report.codes() == [code], [f.message for f in report]
    return report.findings[0]


def redefine(ws, name: str, ref: str) -> None:
    ws.defined_names[name] = DefinedName(name, attr_text=ref)


def area_of(ws, name: str) -> Area:
    area = parse_area(ws.defined_names[name].attr_text)
    assert area is not None
    return area


# --- the committed files --------------------------------------------------------------------
def test_every_kind_has_a_committed_template():
    assert {spec.kind for _, spec in COMMITTED} == {
        "porteur", "referent", "pilote", "coordonnateur", "decisions"}
    assert {PILOTE.modele, COORDONNATEUR.modele, RELEVE.modele} <= {
        p.name for p in TEMPLATES.glob("*.xlsx")}


@pytest.mark.parametrize("path, spec", COMMITTED, ids=lambda v: getattr(v, "kind", None))
def test_committed_templates_verify_clean(path, spec):
    assert verify_template(path, spec).findings == []
    assert verify_template(path).findings == []  # the spec is detected from cv_meta


@pytest.mark.parametrize("path, spec", COMMITTED, ids=lambda v: getattr(v, "kind", None))
def test_every_spec_name_is_sheet_scoped_to_its_sheet(path, spec):
    pkg = XlsxPackage.from_path(path)
    index = {s.name: s.index for s in pkg.sheets()}
    local = {(n.name, n.local_sheet) for n in pkg.defined_names()}
    for feuille, name in spec.all_names():
        assert (name, index[feuille.titre]) in local, name
    states = {s.name: s.state for s in pkg.sheets()}
    assert states["Listes"] == "hidden" and states["cv_meta"] == "veryHidden"
    assert len(template_names(pkg, spec)) == len(spec.all_names())


def test_committed_templates_match_the_build_script(tmp_path):
    pytest.importorskip("PIL")
    _build_module().build(tmp_path)
    for committed, _ in COMMITTED:
        fresh = tmp_path / committed.name
        a, b = XlsxPackage.from_path(committed), XlsxPackage.from_path(fresh)
        assert [s.name for s in a.sheets()] == [s.name for s in b.sheets()]
        assert a.defined_names() == b.defined_names()
        assert sorted(a.parts) == sorted(b.parts)
        # Media are drawn by Pillow, whose text rendering may vary between versions.
        changed = [p for p in a.parts if a.parts[p] != b.parts[p]
                   and not p.startswith("xl/media/")]
        assert changed == [], f"{committed.name}: relancez scripts/build_templates.py"


def test_build_is_deterministic(tmp_path):
    pytest.importorskip("PIL")
    build = _build_module()
    build.build(tmp_path / "a")
    build.build(tmp_path / "b")
    for name in (spec.modele for spec in SPECS.values()):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_template_formulas_and_constants():
    wb = load_workbook(BILAN)
    ws = wb["Action"]
    cell = {n: ws.defined_names[n].attr_text.split("!")[1].replace("$", "")
            for n in ws.defined_names if not n.startswith("_xlnm")}
    assert ws[cell["act_accorde_total"]].value == (
        f"=SUM({cell['act_accorde_etat']}:{cell['act_accorde_autres']})")
    charges = cell["bud_charges"].split(":")
    assert ws[cell["bud_total_charges_prevu"]].value == f"=SUM({charges[0]}:B{charges[1][1:]})"
    cible, atteinte = cell["act_valeur_cible"], cell["act_valeur_atteinte"]
    taux = ws[cell["act_taux_atteinte"]]
    assert taux.value == (f'=IF(AND(ISNUMBER({cible}),ISNUMBER({atteinte})),'
                          f'IF({cible}>0,{atteinte}/{cible}*100,""),"")')
    assert taux.number_format == '0.0" %"' and taux.protection.locked
    meta = wb["cv_meta"]
    assert meta["B1"].value == PORTEUR.version and meta["B2"].value == PORTEUR.modele
    assert wb["Listes"]["A2"].value == 0 and wb["Listes"]["A7"].value == 100
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1


# --- should fail ----------------------------------------------------------------------------
def test_unreadable_file(tmp_path):
    bad = tmp_path / "modele.xlsx"
    bad.write_text("pas un classeur")
    f = only(verify_template(bad, PORTEUR), "TPL_FICHIER_ILLISIBLE")
    assert f.file == "modele.xlsx"


def test_unknown_workbook(tmp_path):
    wb = Workbook()
    wb.save(tmp_path / "autre.xlsx")
    only(verify_template(tmp_path / "autre.xlsx"), "TPL_MODELE_INCONNU")


def test_deleted_name(tmp_path):
    path = mutate(tmp_path, BILAN, lambda wb: wb["Action"].defined_names.pop("act_score"))
    f = only(verify_template(path, PORTEUR), "TPL_NOM_ABSENT")
    assert (f.field, f.sheet) == ("act_score", "Action")
    assert "Note de l'indicateur" in f.message


def test_renamed_name(tmp_path):
    def rename(wb):
        ws = wb["Action"]
        old = ws.defined_names.pop("act_intitule")
        ws.defined_names["act_intitulé"] = DefinedName("act_intitulé", attr_text=old.attr_text)

    f = only(verify_template(mutate(tmp_path, BILAN, rename), PORTEUR), "TPL_NOM_ABSENT")
    assert f.field == "act_intitule"


def test_name_pointing_at_ref_error(tmp_path):
    path = mutate(tmp_path, BILAN,
                  lambda wb: redefine(wb["Action"], "act_numero", "Action!#REF!"))
    f = only(verify_template(path, PORTEUR), "TPL_NOM_MAL_FORME")
    assert (f.field, f.value) == ("act_numero", "Action!#REF!")


def test_name_on_the_wrong_sheet(tmp_path):
    path = mutate(tmp_path, BILAN,
                  lambda wb: redefine(wb["Action"], "act_numero", "Porteur!$H$40"))
    f = only(verify_template(path, PORTEUR), "TPL_NOM_MAUVAISE_FEUILLE")
    assert f.field == "act_numero" and "« Porteur »" in f.message


def _resized(ws, name: str, columns: int = 0, rows: int = 0) -> Area:
    """The area of ``name`` with ``columns`` columns and ``rows`` rows more (or less)."""
    a = area_of(ws, name)
    return Area(a.sheet, a.min_col, a.min_row, a.max_col + columns, a.max_row + rows)


def test_table_one_column_too_narrow(tmp_path):
    narrow = _resized(load_workbook(SUIVI)["Objectif"], "obj_indicateurs", columns=-1)
    path = mutate(tmp_path, SUIVI,
                  lambda wb: redefine(wb["Objectif"], "obj_indicateurs", narrow.formula()))
    f = only(verify_template(path, REFERENT), "TPL_TABLEAU_LARGEUR")
    assert f.field == "obj_indicateurs" and f.cell == narrow.formula().split("!")[1].replace(
        "$", "")
    width = len(REFERENT.section.tableaux[1].colonnes)
    assert f"doit compter {width} colonnes" in f.message and f"en compte {width - 1}" in f.message


def test_table_below_its_capacity(tmp_path):
    ws = load_workbook(SUIVI)["Objectif"]
    a = area_of(ws, "obj_actions")
    short = Area(a.sheet, a.min_col, a.min_row, a.max_col, a.min_row + 3)
    path = mutate(tmp_path, SUIVI,
                  lambda wb: redefine(wb["Objectif"], "obj_actions", short.formula()))
    f = only(verify_template(path, REFERENT), "TPL_TABLEAU_CAPACITE")
    assert f.field == "obj_actions"


@pytest.mark.parametrize(("spec", "feuille", "tableau"), [
    (PILOTE, "Stratégique", "os_referents"),
    (COORDONNATEUR, "Orientation", "ori_operationnels"),
    (RELEVE, "Décisions", "dec_suivi"),
])
def test_governance_table_below_its_capacity(tmp_path, spec, feuille, tableau):
    template = TEMPLATES / spec.modele
    a = area_of(load_workbook(template)[feuille], tableau)
    short = Area(a.sheet, a.min_col, a.min_row, a.max_col, a.min_row)
    path = mutate(tmp_path, template, lambda wb: redefine(wb[feuille], tableau, short.formula()))
    f = only(verify_template(path, spec), "TPL_TABLEAU_CAPACITE")
    assert f.field == tableau


def test_budget_table_with_a_line_removed(tmp_path):
    def shorten(wb):
        ws = wb["Action"]
        area = area_of(ws, "bud_produits")
        redefine(ws, "bud_produits", Area(area.sheet, area.min_col, area.min_row,
                                          area.max_col, area.max_row - 1).formula())

    f = only(verify_template(mutate(tmp_path, BILAN, shorten), PORTEUR), "TPL_TABLEAU_HAUTEUR")
    assert f.field == "bud_produits" and f"{len(PRODUITS)} lignes" in f.message


def test_single_cell_name_turned_into_a_range(tmp_path):
    path = mutate(tmp_path, BILAN,
                  lambda wb: redefine(wb["Action"], "act_numero", "Action!$B$5:$C$5"))
    f = only(verify_template(path, PORTEUR), "TPL_CELLULE_ATTENDUE")
    assert (f.field, f.cell) == ("act_numero", "B5:C5")


def test_two_names_sharing_a_cell(tmp_path):
    def share(wb) -> None:  # act_date_fin pointed at act_date_debut's cell
        ws = wb["Action"]
        redefine(ws, "act_date_fin", ws.defined_names["act_date_debut"].attr_text)

    path = mutate(tmp_path, BILAN, share)
    f = only(verify_template(path, PORTEUR), "TPL_NOMS_SUPERPOSES")
    assert {f.field, "act_date_debut"} == {"act_date_fin", "act_date_debut"}


def test_local_and_workbook_names_that_disagree(tmp_path):
    def twin(wb):
        wb.defined_names["act_numero"] = DefinedName("act_numero", attr_text="Action!$H$1")

    f = only(verify_template(mutate(tmp_path, BILAN, twin), PORTEUR), "TPL_NOM_EN_DOUBLE")
    assert f.field == "act_numero"


def test_missing_sheet(tmp_path):
    path = mutate(tmp_path, BILAN, lambda wb: wb.remove(wb["Porteur"]))
    f = only(verify_template(path, PORTEUR), "TPL_FEUILLE_ABSENTE")
    assert f.sheet == "Porteur"


def test_renamed_list_name(tmp_path):
    def rename(wb):
        old = wb.defined_names.pop("liste_score")
        wb.defined_names["liste_scores"] = DefinedName("liste_scores", attr_text=old.attr_text)

    f = only(verify_template(mutate(tmp_path, BILAN, rename), PORTEUR), "TPL_LISTE_ABSENTE")
    assert f.field == "liste_score"


def test_list_with_a_wrong_value(tmp_path):
    path = mutate(tmp_path, BILAN, lambda wb: wb["Listes"].cell(3, 1, 25))
    f = only(verify_template(path, PORTEUR), "TPL_LISTE_DIFFERENTE")
    assert f.field == "liste_score" and f.value.startswith("0 ; 25 ; 40")


def test_wrong_spec_version(tmp_path):
    path = mutate(tmp_path, SUIVI, lambda wb: wb["cv_meta"].cell(1, 2, "0"))
    f = only(verify_template(path, REFERENT), "TPL_VERSION_INCOMPATIBLE")
    assert (f.field, f.value, f.sheet) == ("meta_spec_version", "0", "cv_meta")


# --- should pass ----------------------------------------------------------------------------
def test_restyled_template_still_verifies(tmp_path):
    def restyle(wb):
        action = wb["Action"]
        redefine(action, "act_intitule", "Action!$G$3")
        action["G3"].fill = PatternFill("solid", fgColor="E2EFDA")
        for row in action.iter_rows(min_row=1, max_row=40):
            for cell in row:
                cell.font = Font(name="Arial", size=10)

    path = mutate(tmp_path, BILAN, restyle)
    assert verify_template(path, PORTEUR).findings == []
    names = template_names(XlsxPackage.from_path(path), PORTEUR)
    assert names[("Action", "act_intitule")] == Area("Action", 7, 3, 7, 3)


def test_moved_table_still_verifies(tmp_path):
    def move(wb):
        ws = wb["Objectif"]
        redefine(ws, "obj_indicateurs", "Objectif!$J$400:$U$440")
        for row in ws.iter_rows(min_row=400, max_row=440, min_col=10, max_col=21):
            for cell in row:
                cell.fill = PatternFill("solid", fgColor="FCE4D6")

    path = mutate(tmp_path, SUIVI, move)
    assert verify_template(path, REFERENT).findings == []
    names = template_names(XlsxPackage.from_path(path), REFERENT)
    assert names[("Objectif", "obj_indicateurs")] == Area("Objectif", 10, 400, 21, 440)


def test_workbook_scoped_name_on_the_right_sheet_is_accepted(tmp_path):
    def to_workbook(wb):
        old = wb["Action"].defined_names.pop("act_numero")
        wb.defined_names["act_numero"] = DefinedName("act_numero", attr_text=old.attr_text)

    path = mutate(tmp_path, BILAN, to_workbook)
    assert any(n.name == "act_numero" and n.local_sheet is None
               for n in XlsxPackage.from_path(path).defined_names())
    assert verify_template(path, PORTEUR).findings == []
    names = template_names(XlsxPackage.from_path(path), PORTEUR)
    assert names[("Action", "act_numero")] == Area("Action", 2, 5, 2, 5)


def test_field_named_by_its_merged_range_is_its_top_left_cell(tmp_path):
    path = mutate(tmp_path, BILAN,
                  lambda wb: redefine(wb["Action"], "act_intitule", "Action!$B$6:$E$6"))
    assert verify_template(path, PORTEUR).findings == []
    names = template_names(XlsxPackage.from_path(path), PORTEUR)
    assert names[("Action", "act_intitule")] == Area("Action", 2, 6, 2, 6)


def test_spec_detected_from_sheet_titles_without_meta_value(tmp_path):
    path = mutate(tmp_path, SUIVI, lambda wb: wb["cv_meta"].cell(2, 2, None))
    assert verify_template(path).findings == []


