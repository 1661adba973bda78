"""Every capacity table of a template grows with its data (issue 12): the renderer
inserts the missing rows after the table's last row, in that sheet copy only, as Excel's
« insert rows » would; everything below moves down — cells, rows, merged ranges, page
breaks, validations, conditional formats, links, formulas and defined names."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cv_excel.generation.fingerprint import fingerprint
from cv_excel.generation.render import CapaciteInsuffisante, prepare, render
from cv_excel.intake.run import ACCEPTE, valider
from cv_excel.reader import prefilled_values, read_workbook
from cv_excel.spec import SPECS
from cv_excel.xlsx.extent import FAR_ROW
from cv_excel.xlsx.package import XlsxPackage
from cv_excel.xlsx.refs import RowShift, shift_formula, shift_sqref
from cv_excel.xlsx.sheet import SheetXml, shift_attached, shift_sheet_references
from cv_excel.xlsx.workbook import Name, Sheet, WorkbookEditor
from tests.libreoffice import convert_many
from tests.revue_classeurs import (
    TEMPLATES,
    Saisie,
    fill_referent,
    fill_releve,
    referent_plan,
    releve_plan,
    working_folder,
    write_workbook,
)

REFERENT_ID = "ccas-developpement-social"  # three objectives: A111, A112, A113
GROWN = "Objectif A112"
ACTIONS, INDICATEURS, DECISIONS = 60, 45, 60


# --- the shift itself --------------------------------------------------------------------------
def test_rows_below_an_insertion_move_and_a_range_ending_on_it_grows():
    shift = RowShift([(60, 5), (20, 2)])
    assert [shift.row(r) for r in (1, 20, 21, 60, 61)] == [1, 20, 23, 62, 68]
    assert shift.span(36, 60) == (38, 67)  # a table ending on row 60 takes the new rows
    assert shift.span(36, 60, grow=False) == (38, 62)
    assert shift.new_rows() == [(20, 21, 2), (60, 63, 5)]
    assert shift.brk(60) == 67 and shift.brk(19) == 19  # a break stays above its row
    assert not RowShift([(10, 0)]) and RowShift([(10, 1)]).total == 1


@pytest.mark.parametrize(("formula", "expected"), [
    ("B12", "B15"),
    ("$B$12", "$B$15"),
    ("B$9+$B10", "B$9+$B13"),
    ("SUM(B3:B9)", "SUM(B3:B12)"),  # ends on the insertion point: grows
    ("SUM(B3:B8)", "SUM(B3:B8)"),
    ("SUM(B10:C20)", "SUM(B13:C23)"),
    ("SUM(B9:D9)", "SUM(B9:D9)"),  # one row: a cell range across, never grown
    ('IF(C5="","B12 en texte","n° "&C12)', 'IF(C5="","B12 en texte","n° "&C15)'),
    ("LOG10(A12)+ATAN2(B12,1)", "LOG10(A15)+ATAN2(B15,1)"),
    ("$12:$14", "$15:$17"),
    ("ma_feuille!B12+Autre!B12+'Ma feuille'!B12", "ma_feuille!B15+Autre!B12+'Ma feuille'!B15"),
    ("[1]Ma_feuille!B12+TOTAL2019", "[1]Ma_feuille!B12+TOTAL2019"),
    ("A:C", "A:C"),
])
def test_formula_references_follow_their_rows(formula, expected):
    shift = RowShift([(9, 3)])
    mine = {"ma_feuille": shift, "ma feuille": shift}
    assert shift_formula(formula, shift, mine) == expected


def test_names_and_other_sheets_only_move_the_references_naming_the_grown_sheet():
    shift = RowShift([(9, 3)])
    assert shift_formula("Objectif!$B$12", None, {"objectif": shift}) == "Objectif!$B$15"
    assert shift_formula("B12", None, {"objectif": shift}) == "B12"  # no sheet: not mine


def test_sqref_grows_with_the_copied_row_formats():
    shift = RowShift([(9, 3)])
    assert shift_sqref("B9 C3:C9 D10 A:A 5:5", shift) == "B9:B12 C3:C12 D13 A:A 5:5"
    assert shift_sqref("B9 C3:C9 D10", shift, grow=False) == "B9 C3:C9 D13"


def _sheet(rows: str, tail: str = "", head: str = '<dimension ref="A1:E12"/>') -> SheetXml:
    return SheetXml.parse(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{head}<sheetData>{rows}</sheetData>{tail}</worksheet>".encode())


SMALL_ROWS = (
    '<row r="1"><c r="A1" t="str"><f>IF(B3="","x",B3&amp;"-"&amp;B11)</f><v>x</v></c></row>'
    '<row r="2" ht="20" customHeight="1"><c r="A2" s="2" t="inlineStr"><is><t>N°</t></is></c>'
    "</row>"
    '<row r="3" ht="45" customHeight="1"><c r="A3" s="5" t="n"><v>1</v></c>'
    '<c r="B3" s="7"/><c r="C3" s="8"/></row>'
    '<row r="4" ht="45" customHeight="1" outlineLevel="1"><c r="A4" s="5" t="n"><v>2</v></c>'
    '<c r="B4" s="7"/><c r="C4" s="8"/></row>'
    '<row r="6" ht="21" hidden="1"><c r="A6" s="9" t="inlineStr"><is><t>Bande</t></is></c></row>'
    '<row r="7"><c r="B7" s="3"><v>12</v></c><c r="C7" s="3"><f>SUM(B3:B4)+B7+$C$8</f></c></row>'
    '<row r="8"><c r="C8" s="3"><f t="shared" ref="C8:C9" si="0">B8*2</f></c></row>'
    '<row r="9"><c r="C9" s="3"><f t="shared" si="0"/></c></row>'
)
SMALL_TAIL = (
    '<mergeCells count="2"><mergeCell ref="A6:E6"/><mergeCell ref="C4:D4"/></mergeCells>'
    '<conditionalFormatting sqref="B3:B4 C7"><cfRule type="expression" priority="1">'
    "<formula>AND(ISNUMBER(B3),B3&gt;$C$7)</formula></cfRule></conditionalFormatting>"
    '<dataValidations count="1"><dataValidation type="whole" sqref="B3:B4 B8">'
    "<formula1>0</formula1><formula2>$B$7</formula2></dataValidation></dataValidations>"
    '<hyperlinks><hyperlink ref="A6" location="A1"/></hyperlinks>'
    '<rowBreaks count="1" manualBreakCount="1"><brk id="5" max="16383" man="1"/></rowBreaks>'
    '<colBreaks count="1" manualBreakCount="1"><brk id="4" max="1048575" man="1"/></colBreaks>'
)


def test_insert_rows_moves_everything_below_and_copies_the_last_row():
    sheet = _sheet(SMALL_ROWS, SMALL_TAIL)
    sheet.insert_rows(RowShift([(4, 3)]), "Feuille")
    xml = sheet.to_bytes().decode()
    rows = dict(re.findall(r'<row r="(\d+)"([^>]*)>', xml))
    assert sorted(map(int, rows)) == [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12]
    # The new rows 5-7 copy row 4: height, outline, styles; the numbering goes on.
    for r, n in ((5, 3), (6, 4), (7, 5)):
        assert 'ht="45"' in rows[str(r)] and 'outlineLevel="1"' in rows[str(r)]
        assert f'<c r="A{r}" s="5"><v>{n}</v></c><c r="B{r}" s="7"/><c r="C{r}" s="8"/>' in xml
    # Old rows 6-9 are now 9-12, with their height, hidden state, cells and formulas.
    assert 'ht="21" hidden="1"' in rows["9"] and '<c r="A9" s="9"' in xml
    assert '<c r="B10" s="3"><v>12</v></c>' in xml
    assert "<f>SUM(B3:B7)+B10+$C$11</f>" in xml  # the table range grew, cells moved
    assert '<f t="shared" ref="C11:C12" si="0">B11*2</f>' in xml
    assert '<c r="C12" s="3"><f t="shared" si="0"/></c>' in xml
    assert '<f>IF(B3="","x",B3&amp;"-"&amp;B14)</f>' in xml  # above the table, pointing below
    # Merges move; the last row's own merge is copied on each new row.
    merges = re.findall(r'<mergeCell ref="([^"]+)"', xml)
    assert merges == ["A9:E9", "C4:D4", "C5:D5", "C6:D6", "C7:D7"]
    assert '<mergeCells count="5">' in xml
    assert 'sqref="B3:B7 C10"' in xml and "B3&gt;$C$10" in xml
    assert 'sqref="B3:B7 B11"' in xml and "<formula2>$B$10</formula2>" in xml
    assert '<hyperlink ref="A9"' in xml
    assert '<rowBreaks count="1" manualBreakCount="1"><brk id="8"' in xml  # above the band
    assert '<colBreaks count="1" manualBreakCount="1"><brk id="4"' in xml  # columns stay


def test_insert_rows_without_any_insertion_changes_nothing():
    sheet = _sheet(SMALL_ROWS, SMALL_TAIL)
    before = sheet.to_bytes()
    sheet.insert_rows(RowShift([]))
    assert sheet.to_bytes() == before


def test_insert_rows_of_thousands_of_rows_shifts_every_reference():
    """(Its cost is measured in bench/bench_tables.py, not asserted here.)"""
    rows = "".join(f'<row r="{r}" ht="45"><c r="A{r}" s="5" t="n"><v>{r}</v></c>'
                   f'<c r="B{r}" s="7"/></row>' for r in range(1, 21))
    below = "".join(f'<row r="{r}"><c r="B{r}"><f>SUM(B1:B20)+B{r - 1}</f></c></row>'
                    for r in range(21, 121))
    for extra in (1_000, 4_000):
        sheet = _sheet(rows + below)
        sheet.insert_rows(RowShift([(20, extra)]))
        xml = sheet.to_bytes()
        assert f"<f>SUM(B1:B{20 + extra})+B20</f>" in xml.decode()
        assert f"<f>SUM(B1:B{20 + extra})+B{119 + extra}</f>" in xml.decode()
        assert f'<c r="A{20 + extra}" s="5"><v>{20 + extra}</v></c>' in xml.decode()


def test_defined_names_of_the_grown_sheet_only_move():
    editor = WorkbookEditor.__new__(WorkbookEditor)
    a, b = Sheet("Objectif A1", 1, "rId1", "x1"), Sheet("Objectif A2", 2, "rId2", "x2")
    editor.names = [
        Name("obj_pistes", "'Objectif A1'!$B$36:$D$60", a),
        Name("obj_actions", "'Objectif A1'!$A$118:$F$137", a),
        Name("obj_actions", "'Objectif A2'!$A$118:$F$137", b),
        Name("_xlnm.Print_Titles", "'Objectif A1'!$1:$1", a),
        Name("_xlnm.Print_Area", "'Objectif A1'!$A$1:$M$151", a),
        Name("liste", "Listes!$A$2:$A$7", None),
        Name("global", "'Objectif A1'!$C$140", None),
    ]
    from cv_excel.xlsx.refs import Area

    grown = {"obj_pistes": Area("Objectif A1", 2, 36, 4, 70)}
    editor.shift_rows({"Objectif A1": RowShift([(60, 10)])}, {"Objectif A1": grown})
    assert [n.text for n in editor.names] == [
        "'Objectif A1'!$B$36:$D$70", "'Objectif A1'!$A$128:$F$147",
        "'Objectif A2'!$A$118:$F$137", "'Objectif A1'!$1:$1", "'Objectif A1'!$A$1:$M$161",
        "Listes!$A$2:$A$7", "'Objectif A1'!$C$150"]


def test_drawings_comments_and_other_sheets_follow():
    shift = RowShift([(9, 3)])
    drawing = (b"<xdr:twoCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:row>2</xdr:row>"
               b"</xdr:from><xdr:to><xdr:col>3</xdr:col><xdr:row>11</xdr:row></xdr:to>"
               b"</xdr:twoCellAnchor>")
    assert b"<xdr:row>2</xdr:row>" in shift_attached(drawing, shift)
    assert b"<xdr:row>14</xdr:row>" in shift_attached(drawing, shift)
    comments = b'<comment ref="B12" authorId="0"/><x:Anchor>1, 15, 11, 2, 3, 15, 13, 4</x:Anchor>'
    moved = shift_attached(comments, shift)
    assert b'ref="B15"' in moved and b"<x:Anchor>1, 15, 14, 2, 3, 15, 16, 4</x:Anchor>" in moved
    other = b'<c r="A1"><f>\'Objectif A1\'!C12+C12</f></c>'
    assert shift_sheet_references(other, {"objectif a1": shift}) == \
        b"<c r=\"A1\"><f>'Objectif A1'!C15+C12</f></c>"


# --- real workbooks ----------------------------------------------------------------------------
def _actions(n: int) -> list[dict]:
    return [{"numero": f"2019-{i:03d}", "porteur": f"Association {i}",
             "intitule": f"Action n° {i}", "montant": 1000 + i, "realisation": "Réalisée",
             "score": 60} for i in range(1, n + 1)]


def _indicateurs(n: int) -> list[dict]:
    return [{"libelle": f"Indicateur {i}", "type": "Résultat", "cible_fiche": f"{i} %"}
            for i in range(1, n + 1)]


def _grown_referent_plan(ref):
    plan = referent_plan(ref, REFERENT_ID)
    section = next(s for s in plan.sections if s.titre == GROWN)
    section.tables["obj_actions"] = _actions(ACTIONS)
    section.tables["obj_indicateurs"] = _indicateurs(INDICATEURS)
    section.tables["obj_decisions"] = [
        {"numero": "A-2019-R1-01", "decision": "Ouvrir un atelier", "code": "A112",
         "responsable": "CCAS", "echeance": dt.date(2019, 12, 31), "statut": "Ouverte"}]
    section.values["obj_nb_actions"] = ACTIONS
    return plan


def _suivi(n: int) -> list[dict]:
    return [{"numero": f"A-2019-R1-{i:02d}", "decision": f"Décision {i}", "code": "A12",
             "responsable": "Direction", "echeance": dt.date(2019, 12, 31),
             "statut": "Ouverte"} for i in range(1, n + 1)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    work, ref = working_folder(tmp_path_factory.mktemp("extensibles") / "dossier")
    referent = write_workbook(work, _grown_referent_plan(ref), 1)
    releve = write_workbook(work, releve_plan(ref, "A", revue=1, suivi=_suivi(DECISIONS)), 1)
    return work, ref, referent, releve


def _names(path: Path, sheet: str) -> dict[str, str]:
    pkg = XlsxPackage.from_path(path)
    index = [s.name for s in pkg.sheets()].index(sheet)
    return {n.name: n.text for n in pkg.defined_names() if n.local_sheet == index}


def test_grown_referent_reads_back_every_row(folder):
    work, ref, referent, _ = folder
    lu = read_workbook(referent.path, referent.spec)
    section = next(s for s in lu.sections if s.titre == GROWN)
    actions = section.tables["obj_actions"]
    assert len(actions) == ACTIONS
    assert [row["numero"].value for row in actions] == [a["numero"] for a in _actions(ACTIONS)]
    assert actions[-1]["montant"].value == 1000 + ACTIONS
    indicateurs = section.tables["obj_indicateurs"]
    assert len(indicateurs) == INDICATEURS
    assert indicateurs[-1]["libelle"].value == f"Indicateur {INDICATEURS}"
    # What lies below the grown tables kept its content and its names.
    assert section.tables["obj_decisions"][0]["numero"].value == "A-2019-R1-01"
    assert len(section.tables["obj_nouveaux_indicateurs"]) == 5
    assert not lu.missing
    # The prefilled values read back are the ones the register's fingerprint covers.
    assert fingerprint(prefilled_values(lu)) == referent.entry["empreinte"]


def test_only_the_grown_sheet_moves(folder):
    _, _, referent, _ = folder
    template = XlsxPackage.from_path(TEMPLATES / "suivi_referent.xlsx")
    index = [s.name for s in template.sheets()].index("Objectif")
    before = {n.name: n.text.split("!")[1] for n in template.defined_names()
              if n.local_sheet == index}
    grown = {k: v.split("!")[1] for k, v in _names(referent.path, GROWN).items()}
    others = {k: v.split("!")[1] for k, v in _names(referent.path, "Objectif A111").items()}
    assert others == before
    extra_ind, extra_act = INDICATEURS - 40, ACTIONS - 20
    assert grown["obj_pistes"] == before["obj_pistes"]
    assert grown["obj_indicateurs"] == f"$B$65:$M${104 + extra_ind}"
    assert grown["obj_nouveaux_indicateurs"] == \
        f"$B${109 + extra_ind}:$J${113 + extra_ind}"
    assert grown["obj_actions"] == \
        f"$A${118 + extra_ind}:$F${137 + extra_ind + extra_act}"
    assert grown["obj_decisions"] == \
        f"$A${142 + extra_ind + extra_act}:$F${151 + extra_ind + extra_act}"
    assert grown["_xlnm.Print_Titles"] == "$1:$1"


def test_grown_rows_look_and_lock_like_the_others(folder):
    _, _, referent, _ = folder
    wb = load_workbook(referent.path)
    ws = wb[GROWN]
    first = ws.cell(65, 2)  # first indicator row: libellé prefilled, valeur à date typed
    last = INDICATEURS + 64
    for row in (65, last):
        assert ws.cell(row, 2).protection.locked and not ws.cell(row, 10).protection.locked
        assert ws.cell(row, 2).fill.fgColor.rgb == first.fill.fgColor.rgb
        assert ws.row_dimensions[row].height == ws.row_dimensions[65].height
    assert ws.cell(last, 1).value == INDICATEURS  # the numbering goes on
    assert ws.cell(last + 1, 1).value is None  # blank row, then the next band
    assert ws.cell(last + 2, 1).value == "Indicateurs proposés"
    # The validations of the typed columns cover the new rows.
    sqrefs = {str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert f"J65:J{last}" in sqrefs
    # Page breaks stay above the bands they started.
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks == [61, 114 + INDICATEURS - 40]
    assert ws.cell(breaks[1] + 1, 1).value == "Actions de la programmation"


def test_grown_workbooks_pass_intake_unchanged(folder, tmp_path):
    work, ref, referent, releve = folder
    inbox = tmp_path / "boite"
    inbox.mkdir()
    book = Saisie(referent.path, referent.spec)
    fill_referent(book)
    book.set_t(GROWN, "obj_indicateurs", INDICATEURS, "valeur_annee", 12)
    book.save(inbox / "referent.xlsx")
    book = Saisie(releve.path, releve.spec)
    fill_releve(book)
    book.set_t(book.sections[0], "dec_suivi", DECISIONS, "commentaire", "Fait en juin.")
    book.save(inbox / "releve.xlsx")
    run = valider(work, chemins=[inbox / "referent.xlsx", inbox / "releve.xlsx"], ref=ref)
    assert {f.nom: (f.statut, [x.code for x in f.findings]) for f in run.fichiers} == {
        "referent.xlsx": (ACCEPTE, []), "releve.xlsx": (ACCEPTE, [])}
    lu = read_workbook(inbox / "releve.xlsx", releve.spec)
    suivi = lu.sections[0].tables["dec_suivi"]
    assert len(suivi) == DECISIONS and suivi[-1]["commentaire"].value == "Fait en juin."
    assert len(lu.sections[0].tables["dec_nouvelles"]) == 20


def test_libreoffice_opens_the_grown_workbooks(folder, tmp_path):
    _, _, referent, releve = folder
    out = convert_many([referent.path, releve.path], tmp_path / "lo", "xlsx")
    lu = read_workbook(out[0], referent.spec)
    section = next(s for s in lu.sections if s.titre == GROWN)
    assert len(section.tables["obj_actions"]) == ACTIONS
    assert section.tables["obj_actions"][-1]["numero"].value == f"2019-{ACTIONS:03d}"
    assert section.tables["obj_decisions"][0]["numero"].value == "A-2019-R1-01"
    lu = read_workbook(out[1], releve.spec)
    assert len(lu.sections[0].tables["dec_suivi"]) == DECISIONS
    assert lu.sections[0].tables["dec_suivi"][-1]["numero"].value == f"A-2019-R1-{DECISIONS}"


def test_rendering_is_deterministic(folder):
    _, ref, _, _ = folder
    tpl = prepare(TEMPLATES / "suivi_referent.xlsx", SPECS["referent"])
    now = dt.datetime(2019, 3, 1, 9, 0, tzinfo=dt.UTC)
    first = render(tpl, _grown_referent_plan(ref), "id", now)
    second = render(tpl, _grown_referent_plan(ref), "id", now)
    assert first.data == second.data and first.empreinte == second.empreinte


def test_a_thousand_actions_under_one_objective(folder):
    """(Its cost is measured in bench/bench_tables.py, not asserted here.)"""
    _, ref, _, _ = folder
    tpl = prepare(TEMPLATES / "suivi_referent.xlsx", SPECS["referent"])
    now = dt.datetime(2019, 3, 1, 9, 0, tzinfo=dt.UTC)
    plan = _grown_referent_plan(ref)
    next(s for s in plan.sections if s.titre == GROWN).tables["obj_actions"] = _actions(1_000)
    rendu = render(tpl, plan, "id", now)
    pkg = XlsxPackage.from_bytes(rendu.data)
    index = [s.name for s in pkg.sheets()].index(GROWN)
    area = next(n.area for n in pkg.defined_names()
                if n.local_sheet == index and n.name == "obj_actions")
    assert area.height == 1_000


def test_beyond_the_rows_intake_reads_generation_refuses_in_french(folder):
    _, ref, _, _ = folder
    tpl = prepare(TEMPLATES / "suivi_referent.xlsx", SPECS["referent"])
    plan = _grown_referent_plan(ref)
    next(s for s in plan.sections if s.titre == GROWN).tables["obj_actions"] = \
        _actions(FAR_ROW)
    with pytest.raises(CapaciteInsuffisante, match="ne pourrait pas être relu"):
        render(tpl, plan, "id", dt.datetime(2019, 3, 1, tzinfo=dt.UTC))


def test_a_restyled_template_keeps_its_own_additions_in_place(folder, tmp_path):
    """A Direction's référent template with its own count below the actions, a format
    and a validation on them, a logo below, a print area: all follow the grown table, and
    LibreOffice computes the count over every action."""
    from openpyxl.drawing.image import Image
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    from PIL import Image as PILImage

    _, ref, _, _ = folder
    wb = load_workbook(TEMPLATES / "suivi_referent.xlsx")
    ws = wb["Objectif"]
    ws["B153"] = "=COUNTA(A118:A137)"  # the template's actions: rows 118-137
    ws["C153"] = "=B153+C19"
    ws.conditional_formatting.add("D118:D137", FormulaRule(
        formula=["D118>1000"], fill=PatternFill("solid", fgColor="FFC7CE")))
    own = DataValidation(type="whole", operator="between", formula1="1", formula2="9",
                         prompt="validation du modèle")
    ws.add_data_validation(own)
    own.add("M140")
    png = tmp_path / "logo.png"
    PILImage.new("RGB", (60, 30), (200, 30, 30)).save(png)
    ws.add_image(Image(str(png)), "B155")
    ws.print_area = "A1:M153"
    path = tmp_path / "suivi_referent.xlsx"
    wb.save(path)

    tpl = prepare(path, SPECS["referent"])
    rendu = render(tpl, _grown_referent_plan(ref), "id", dt.datetime(2019, 3, 1, tzinfo=dt.UTC))
    out = tmp_path / "rendu.xlsx"
    out.write_bytes(rendu.data)
    down = (INDICATEURS - 40) + (ACTIONS - 20)
    first, last = 118 + INDICATEURS - 40, 137 + down
    gen = load_workbook(out)
    grown, other = gen[GROWN], gen["Objectif A111"]
    assert grown[f"B{153 + down}"].value == f"=COUNTA(A{first}:A{last})"
    assert grown[f"C{153 + down}"].value == f"=B{153 + down}+C19"
    assert other["B153"].value == "=COUNTA(A118:A137)"  # the other objectives did not move
    assert f"D{first}:D{last}" in {str(r.sqref) for r in grown.conditional_formatting}
    assert "D118:D137" in {str(r.sqref) for r in other.conditional_formatting}
    prompts = {str(dv.sqref): dv.prompt for dv in grown.data_validations.dataValidation}
    assert prompts[f"M{140 + down}"] == "validation du modèle"
    [image] = grown._images
    assert image.anchor._from.row == 155 + down - 1  # 0-based
    assert other._images[0].anchor._from.row == 155 - 1
    assert grown.print_area == f"'{GROWN}'!$A$1:$M${153 + down}"

    lo = convert_many([out], tmp_path / "lo", "xlsx")[0]
    computed = load_workbook(lo, data_only=True)[GROWN]
    assert computed[f"B{153 + down}"].value == ACTIONS
