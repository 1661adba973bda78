"""Loading, exporting and the contact directory of the embedded référentiel."""

import json

from openpyxl import load_workbook

from cv_excel.referentiel.export import summary, to_json, tree, write_xlsx
from cv_excel.referentiel.load import (
    ANNUAIRE_SHEET,
    embedded_referentiel,
    load_referentiel,
    roles_of,
    write_annuaire,
)
from cv_excel.referentiel.models import Referentiel


def test_json_export_has_the_agreed_keys_and_shapes():
    data = json.loads(to_json(embedded_referentiel()))
    for key in ("piliers", "orientations", "objectifs_strategiques",
                "objectifs_operationnels", "referents"):
        assert key in data
    oo = data["objectifs_operationnels"][0]
    assert {"code", "titre", "objectif_strategique", "referents", "indicateurs"} <= oo.keys()
    assert oo["code"] == "A111"
    assert {"code", "titre", "orientation", "pilotes"} <= data["objectifs_strategiques"][0].keys()
    assert {"code", "titre", "pilier", "coordonnateurs"} <= data["orientations"][0].keys()
    assert {"code", "titre", "responsables"} <= data["piliers"][0].keys()
    assert {"id", "libelle", "variantes"} <= data["referents"][0].keys()


def test_round_trip_export_load_gives_the_same_tree():
    ref = embedded_referentiel()
    again = Referentiel.model_validate(json.loads(to_json(ref)))
    assert again == ref
    assert to_json(again) == to_json(ref)


def test_every_objective_referent_resolves_to_the_directory():
    ref = embedded_referentiel()
    ids = {r.id for r in ref.referents}
    for oo in ref.objectifs_operationnels:
        assert oo.referents and set(oo.referents) <= ids, oo.code


def test_summary_counts():
    counts = summary(embedded_referentiel())
    assert counts["piliers"] == 4
    assert counts["objectifs stratégiques"] == 18
    assert counts["objectifs opérationnels"] == 53


def test_tree_names_people_at_every_level():
    from rich.console import Console

    console = Console(record=True, width=300)
    console.print(tree(embedded_referentiel()))
    text = console.export_text()
    assert "A111" in text and "T132" in text and "référent :" in text and "pilote :" in text


def test_xlsx_export_is_readable(tmp_path):
    path = write_xlsx(embedded_referentiel(), tmp_path / "ref.xlsx")
    wb = load_workbook(path)
    assert {"Piliers", "Orientations", "Objectifs stratégiques", "Objectifs opérationnels",
            "Indicateurs", "Référents", "Décisions"} <= set(wb.sheetnames)
    assert wb["Objectifs opérationnels"].max_row == 54
    assert wb["Objectifs opérationnels"]["A2"].value == "A111"


def test_annuaire_round_trip_merges_contacts(tmp_path):
    ref = embedded_referentiel()
    path = write_annuaire(ref, tmp_path / "referents.xlsx")
    wb = load_workbook(path)
    ws = wb[ANNUAIRE_SHEET]
    assert ws.protection.sheet and ws["A2"].protection.locked and not ws["E2"].protection.locked
    first_id = ws["A2"].value
    ws["D2"], ws["E2"] = "Mme Exemple", "mme.exemple@example.org"
    ws["A3"].value, ws["E3"] = "inconnu-xyz", "x@example.org"
    ws["E4"] = "pas-une-adresse"
    wb.save(path)
    merged, report = load_referentiel(path)
    assert merged.referent(first_id).email == "mme.exemple@example.org"
    assert merged.referent(first_id).nom == "Mme Exemple"
    assert sorted(report.codes()) == ["REF_EMAIL_INVALIDE", "REF_REFERENT_INCONNU"]
    bad = next(f for f in report if f.code == "REF_EMAIL_INVALIDE")
    assert bad.cell == "E4" and bad.row == 4


def test_unreadable_annuaire_is_reported_not_raised(tmp_path):
    path = tmp_path / "referents.xlsx"
    path.write_bytes(b"pas un classeur")
    _, report = load_referentiel(path)
    assert report.codes() == ["REF_FICHIER_ILLISIBLE"]


def test_roles_summarise_the_chain():
    ref = embedded_referentiel()
    pilote = ref.objectifs_strategiques[0].pilotes[0]
    assert "Pilote A11" in roles_of(ref, pilote)
