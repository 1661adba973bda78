"""Generation of the porteur and référent workbooks, on the demo programmation."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cv_excel.config import DossierTravail
from cv_excel.demo import build_demo
from cv_excel.filenames import safe_stem, unique_name
from cv_excel.generation.fingerprint import fingerprint
from cv_excel.generation.generate import BUILTIN_TEMPLATES, generate, template_path
from cv_excel.generation.plan import plan_porteur
from cv_excel.generation.render import prepare, render
from cv_excel.programmation.check import read_programmation
from cv_excel.reader import prefilled_values, read_workbook
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import PORTEUR, REFERENT
from tests.libreoffice import convert, convert_many, pdf_pages

NOW = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen") / "demo"
    build_demo(root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    prog = read_programmation(work.programmation_file(2019), ref, annee=2019)
    result = generate(work, ref, prog, 2019, now=NOW)
    return work, ref, prog, result


def test_one_workbook_per_porteur_and_per_referent_with_objectives(demo):
    work, ref, prog, result = demo
    assert len(result.of_type("porteur")) == len(prog.porteurs()) == 40
    with_objectives = [r for r in ref.referents if ref.objectifs_of_referent(r.id)]
    assert len(result.of_type("referent")) == len(with_objectives)
    assert len(result.referents_sans_objectif) == len(ref.referents) - len(with_objectives)
    for c in result.classeurs:
        assert (work.root / c.fichier).is_file()
    assert (work.path("classeurs") / "2019" / "registre.json").is_file()


def test_file_names_are_recognisable(demo):
    _, _, prog, result = demo
    names = {c.fichier.rsplit("/", 1)[1] for c in result.of_type("porteur")}
    first = prog.porteurs()[0]
    assert f"2019 - Bilan - {first.raison_sociale}.xlsx" in names


def _porteur_with_most_actions(demo):
    work, _, prog, result = demo
    c = max(result.of_type("porteur"), key=lambda c: len(c.sections))
    return work.root / c.fichier, c, prog.actions_of(c.destinataire_id)


def _check_protection_and_help(wb, spec):
    """Every prefilled / computed cell locked; every input unlocked with a validation and
    an input message; every sheet protected."""
    checked = 0
    for feuille in spec.feuilles:
        titles = [t for t in wb.sheetnames if t == feuille.titre or (
            feuille.repetee and t.startswith(feuille.titre + " "))]
        assert titles, feuille.titre
        for title in titles:
            ws = wb[title]
            assert ws.protection.sheet, title
            prompts = {c: dv.prompt for dv in ws.data_validations.dataValidation
                       for c in _cells(dv.sqref)}
            targets = [(c, _addr(ws, c.name)) for c in feuille.champs]
            for t in feuille.tableaux:
                area = ws.defined_names[t.name].attr_text.split("!")[1].replace("$", "")
                rows = list(ws[area])
                keys = [ligne.key for ligne in t.lignes] if t.lignes else [None] * len(rows)
                for key, row in zip(keys, rows, strict=True):
                    for col, cell in zip(t.colonnes, row, strict=True):
                        role = t.role_of(key, col.name)
                        targets.append((type(col)(col.name, col.label, col.kind, role,
                                                  aide=col.aide), cell.coordinate))
            for champ, address in targets:
                cell = ws[address]
                assert cell.protection.locked is champ.locked, (title, champ.name, address)
                if champ.role == "saisie":
                    assert prompts.get(address), (title, champ.name, address)
                checked += 1
    return checked


def test_porteur_workbook_structure_protection_and_validations(demo):
    path, entry, actions = _porteur_with_most_actions(demo)
    assert len(actions) >= 2
    wb = load_workbook(path)
    action_sheets = [f"Action {a.numero}" for a in actions]
    assert wb.sheetnames[:2] == ["Lisez-moi", "Porteur"]
    assert wb.sheetnames[2: 2 + len(actions)] == action_sheets
    assert wb["cv_meta"].sheet_state == "veryHidden"
    assert wb["Listes"].sheet_state == "hidden"
    assert wb.security.lockStructure
    assert _check_protection_and_help(wb, PORTEUR) > 100 * len(actions)
    ws = wb[action_sheets[0]]
    assert ws[_addr(ws, "act_numero")].value == actions[0].numero
    accorde = ws[_addr(ws, "act_accorde_etat")].value
    assert Decimal(str(accorde or 0)) == actions[0].accorde("etat")
    score = next(dv for dv in ws.data_validations.dataValidation
                 if _addr(ws, "act_score") in _cells(dv.sqref))
    assert score.type == "list" and score.formula1 == "liste_score"


def test_referent_workbook_protection_and_validations(demo):
    work, _, _, result = demo
    entry = max(result.of_type("referent"), key=lambda c: len(c.sections))
    wb = load_workbook(work.root / entry.fichier)
    assert [t for t in wb.sheetnames if t.startswith("Objectif ")] == \
        [f"Objectif {code}" for code in entry.sections]
    assert _check_protection_and_help(wb, REFERENT) > 100 * len(entry.sections)


def _addr(ws, name):
    return ws.defined_names[name].attr_text.split("!")[1].replace("$", "")


def _cells(sqref):
    out = set()
    for rng in sqref.ranges:
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                from openpyxl.utils import get_column_letter
                out.add(f"{get_column_letter(col)}{row}")
    return out


def test_metadata_is_complete_and_fingerprint_matches_what_is_read_back(demo):
    work, _, _, result = demo
    for entry in (result.of_type("porteur")[0], result.of_type("referent")[0]):
        path = work.root / entry.fichier
        spec = PORTEUR if entry.type == "porteur" else REFERENT
        lu = read_workbook(path, spec)
        assert not lu.missing
        meta = lu.meta
        for key in ("meta_spec_version", "meta_modele", "meta_modele_version",
                    "meta_classeur_id", "meta_type", "meta_contrat", "meta_annee",
                    "meta_destinataire_id", "meta_generateur", "meta_genere_le",
                    "meta_empreinte", "meta_sections"):
            assert meta.get(key) not in (None, ""), key
        assert meta.get("meta_revue") in (None, "")  # annual workbooks belong to no revue
        assert meta["meta_classeur_id"] == entry.classeur_id
        assert meta["meta_type"] == entry.type
        assert meta["meta_empreinte"] == entry.empreinte
        assert fingerprint(prefilled_values(lu)) == entry.empreinte


def test_porteur_workbook_recalls_the_quantified_objective(demo):
    """Issue 11: every Action sheet recalls the programmation's objectif quantifié, valeur
    cible and unité (prefilled, locked, read back by name) and asks the valeur atteinte."""
    work, _, prog, result = demo
    by_numero = {a.numero: a for a in prog.actions}
    seen = {"avec": 0, "sans": 0}
    for entry in result.of_type("porteur"):
        lu = read_workbook(work.root / entry.fichier, PORTEUR)
        for section in lu.sections:
            action = by_numero[section.values["act_numero"].value]
            values = {n: section.values[n].value for n in (
                "act_objectif_quantifie", "act_valeur_cible", "act_unite",
                "act_valeur_atteinte", "act_taux_atteinte")}
            if action.valeur_cible is None:
                seen["sans"] += 1
                assert values["act_valeur_cible"] in (None, "")
                continue
            seen["avec"] += 1
            assert values["act_objectif_quantifie"] == action.objectif_quantifie
            assert Decimal(str(values["act_valeur_cible"])) == action.valeur_cible
            assert values["act_unite"] == action.unite
            assert values["act_valeur_atteinte"] in (None, "")  # the porteur's to type
    assert seen["avec"] > 5 * seen["sans"] > 0  # most demo actions have one
    path, _, actions = _porteur_with_most_actions(demo)
    wb = load_workbook(path)
    ws = wb[f"Action {actions[0].numero}"]
    for name in ("act_objectif_quantifie", "act_valeur_cible", "act_unite"):
        assert ws[_addr(ws, name)].protection.locked, name
    assert not ws[_addr(ws, "act_valeur_atteinte")].protection.locked
    assert ws[_addr(ws, "act_taux_atteinte")].value.startswith("=IF(")


def test_referent_workbook_lists_objectives_indicators_and_actions(demo):
    work, ref, prog, result = demo
    entry = max(result.of_type("referent"), key=lambda c: len(c.sections))
    lu = read_workbook(work.root / entry.fichier, REFERENT)
    assert [s.values["obj_code"].value for s in lu.sections] == entry.sections
    oo = ref.objectif(entry.sections[0])
    rows = lu.sections[0].tables["obj_indicateurs"]
    assert [r["libelle"].value for r in rows[: len(oo.indicateurs)]] == \
        [i.libelle for i in oo.indicateurs]
    actions = prog.actions_by_objectif().get(oo.code, [])
    numeros = [r["numero"].value for r in lu.sections[0].tables["obj_actions"] if
               r["numero"].value]
    assert numeros == [a.numero for a in actions]
    # Co-référents each get their own workbook listing the shared objective.
    a111 = [c for c in result.of_type("referent") if "A111" in c.sections]
    assert len(a111) == 3


def test_every_generated_workbook_opens_in_libreoffice(demo, tmp_path):
    work, _, _, result = demo
    pdfs = convert_many([work.root / c.fichier for c in result.classeurs], tmp_path)
    for entry, pdf in zip(result.classeurs, pdfs, strict=True):
        # Lisez-moi + identification + at least two pages per section.
        assert pdf_pages(pdf) >= 2 + 2 * len(entry.sections), entry.fichier


def test_formula_like_texts_stay_text(demo, tmp_path):
    work, ref, prog, _ = demo
    porteur = prog.porteurs()[0]
    actions = [a.model_copy(update={"intitule": '=HYPERLINK("http://x";"clic")'})
               for a in prog.actions_of(porteur.siret)]
    plan = plan_porteur(porteur, actions, ref, work.config, 2019)
    tpl = prepare(template_path(work, PORTEUR), PORTEUR)
    data = render(tpl, plan, "id", NOW).data
    out = tmp_path / "f.xlsx"
    out.write_bytes(data)
    ws = load_workbook(out)[f"Action {actions[0].numero}"]
    cell = ws[_addr(ws, "act_intitule")]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_capacity_table_grows_with_its_items(demo, tmp_path):
    """More actions than the template's rows: the table grows (issue 12), nothing is lost."""
    work, ref, prog, _ = demo
    from cv_excel.generation.plan import plan_referent

    referent = ref.referents[0]
    plan = plan_referent(referent, ref, prog, work.config, 2019)
    plan.sections[0].tables["obj_actions"] = [{"numero": str(i)} for i in range(500)]
    tpl = prepare(template_path(work, REFERENT), REFERENT)
    out = tmp_path / "r.xlsx"
    out.write_bytes(render(tpl, plan, "id", NOW).data)
    lu = read_workbook(out, REFERENT)
    rows = lu.sections[0].tables["obj_actions"]
    assert [row["numero"].value for row in rows] == [str(i) for i in range(500)]
    assert lu.sections[0].tables["obj_decisions"] is not None and not lu.missing


def test_template_image_validation_and_restyle_survive(demo, tmp_path):
    """A Direction's template with a logo, its own validation and moved names."""
    from openpyxl.drawing.image import Image
    from openpyxl.worksheet.datavalidation import DataValidation
    from PIL import Image as PILImage

    work, ref, prog, _ = demo
    src = BUILTIN_TEMPLATES / PORTEUR.modele
    wb = load_workbook(src)
    png = tmp_path / "logo.png"
    PILImage.new("RGB", (60, 30), (200, 30, 30)).save(png)
    ws = wb["Porteur"]
    ws.add_image(Image(str(png)), "H2")
    own = DataValidation(type="whole", operator="between", formula1="1", formula2="9",
                         promptTitle="Maison", prompt="validation du modèle")
    ws.add_data_validation(own)
    own.add("H20")
    action = wb["Action"]
    old = _addr(action, "act_intitule")
    action.defined_names["act_intitule"].attr_text = "'Action'!$H$40"
    action["H40"].style = action[old].style
    folder = work.root / "modeles"
    folder.mkdir(exist_ok=True)
    wb.save(folder / PORTEUR.modele)
    try:
        tpl = prepare(template_path(work, PORTEUR), PORTEUR)
        porteur = prog.porteurs()[0]
        actions = prog.actions_of(porteur.siret)
        data = render(tpl, plan_porteur(porteur, actions, ref, work.config, 2019), "id",
                      NOW).data
        out = tmp_path / "g.xlsx"
        out.write_bytes(data)
        with zipfile.ZipFile(out) as zf:
            assert any(n.startswith("xl/media/") for n in zf.namelist())
        gen = load_workbook(out)
        prompts = [dv.prompt for dv in gen["Porteur"].data_validations.dataValidation]
        assert "validation du modèle" in prompts
        sheet = gen[f"Action {actions[0].numero}"]
        assert sheet["H40"].value == actions[0].intitule
        assert sheet["H40"].protection.locked
        convert(out, tmp_path)
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019 - Bilan - Assoc A/B: « C »?", "2019 - Bilan - Assoc A-B- « C »-"),
        ("CON", "_CON"),
        ("fin avec point. ", "fin avec point"),
        ("x" * 300, "x" * 120),
    ],
)
def test_safe_file_names(text, expected):
    assert safe_stem(text) == expected


def test_unique_names_number_duplicates():
    taken: set[str] = set()
    assert unique_name("A", ".xlsx", taken) == "A.xlsx"
    assert unique_name("a", ".xlsx", taken) == "a (2).xlsx"


def test_moved_table_area_is_filled_where_the_name_now_points(demo, tmp_path):
    """The Direction moves the indicator table elsewhere in Excel: generation follows."""
    from cv_excel.generation.plan import plan_referent

    work, ref, prog, _ = demo
    wb = load_workbook(BUILTIN_TEMPLATES / REFERENT.modele)
    wb["Objectif"].defined_names["obj_indicateurs"].attr_text = "'Objectif'!$J$400:$U$440"
    template = tmp_path / REFERENT.modele
    wb.save(template)
    tpl = prepare(template, REFERENT)
    referent = next(r for r in ref.referents if ref.objectifs_of_referent(r.id))
    plan = plan_referent(referent, ref, prog, work.config, 2019)
    rendu = render(tpl, plan, "id", NOW)
    data, empreinte = rendu.data, rendu.empreinte
    out = tmp_path / "moved.xlsx"
    out.write_bytes(data)
    lu = read_workbook(out, REFERENT)
    oo = ref.objectif(plan.sections[0].key)
    rows = lu.sections[0].tables["obj_indicateurs"]
    assert rows[0]["libelle"].cell == "J400"
    assert [r["libelle"].value for r in rows[: len(oo.indicateurs)]] == \
        [i.libelle for i in oo.indicateurs]
    assert fingerprint(prefilled_values(lu)) == empreinte
    ws = load_workbook(out)[plan.sections[0].titre]
    # J: indicator (prefilled), M: unit (typed).
    assert ws["J400"].protection.locked and not ws["M400"].protection.locked
