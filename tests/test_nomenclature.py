"""The nomenclature des crédits du P147 shipped as data: nested codes, a named source; the
Direction's ``nomenclature_p147.csv`` merged over it (should pass / should fail, each faulty
line a French finding naming it), used by the programmation's checker and model and by the
consolidation's Dauphin export; without the file, the embedded data alone."""

import csv
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cv_excel.config import DossierTravail, write_config
from cv_excel.consolidation.run import consolider, output_names
from cv_excel.findings import Severity
from cv_excel.nomenclature import (
    NOMENCLATURE_FILE,
    en_vigueur,
    lire_complement,
    nomenclature_dossier,
    nomenclature_integree,
    nomenclature_p147,
)
from cv_excel.programmation import (
    check_programmation,
    format_report,
    read_programmation,
    write_programmation,
)
from cv_excel.referentiel.load import embedded_referentiel, load_referentiel

DOC = Path(__file__).parents[1] / "docs" / "nomenclature_p147.md"


def _raw() -> dict:
    return json.loads(resources.files("cv_excel").joinpath("data/nomenclature_p147.json")
                      .read_text("utf-8"))


def test_source_and_version_are_named() -> None:
    n = nomenclature_p147()
    assert "Nomenclature des crédits du P147" in n.titre
    assert "CGET" in n.editeur and "août 2016" in n.version
    assert n.source.startswith("https://")
    doc = DOC.read_text("utf-8")
    assert n.source in doc and "août 2016" in doc


def test_codes_nest_by_prefix() -> None:
    for theme in _raw()["themes"]:
        assert len(theme["code"]) == 2 and theme["code"].isdigit()
        for sous_theme in theme["sous_themes"]:
            assert len(sous_theme["code"]) == 3
            assert sous_theme["code"].startswith(theme["code"])
            for modalite in sous_theme["modalites"]:
                assert len(modalite["code"]) == 4
                assert modalite["code"].startswith(sous_theme["code"])


def test_every_code_has_its_parent_and_a_label() -> None:
    n = nomenclature_p147()
    assert len(n.niveau(4)) >= 8  # the modalités read in the source
    for code, entry in n.codes.items():
        assert entry.libelle.strip()
        parent = n.parent(code)
        assert parent is None or parent in n.codes, code
    assert n.codes["1111"].libelle.startswith("Ingénierie et fonctionnement")
    assert n.parent("1111") == "111" and n.parent("111") == "11"


def test_what_is_not_confirmed_is_marked_and_documented() -> None:
    n = nomenclature_p147()
    doc = DOC.read_text("utf-8")
    pending = [c for c in n.codes.values() if c.a_confirmer]
    assert pending and not n.codes["1111"].a_confirmer
    for entry in pending:
        assert f"**{entry.code}" in doc or f"{entry.code} " in doc, entry.code
        assert entry.affichage.endswith("(à confirmer)")


# --- the Direction's completion: nomenclature_p147.csv ---------------------------------------
HEAD = "code;libelle;source\n"
NOUVEAU = ("12;EMPLOI;Manuel CGET 2016 p. 4\n121;Accès à l'emploi;Manuel CGET 2016 p. 4\n"
           "1211;Accompagnement vers l'emploi;Manuel CGET 2016 p. 4\n")


def _csv(tmp_path: Path, content: str | bytes):
    path = tmp_path / NOMENCLATURE_FILE
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return lire_complement(path)


EMBEDDED = len(nomenclature_integree().codes)

# name -> (content, codes added, code whose label the file sets or None)
SHOULD_PASS = {
    "a new thème with its sous-thème and modalité": (HEAD + NOUVEAU, 3, "1211"),
    "children before their parent": (HEAD + "".join(reversed(NOUVEAU.splitlines(True))), 3,
                                     "1211"),
    "UTF-8 with BOM, header « libellé »": (
        ("\ufeffcode;libellé;source\n" + NOUVEAU.split("\n")[0] + "\n").encode(), 1, "12"),
    "Excel's Windows encoding": ((HEAD + "12;Développement économique;x\n").encode("cp1252"),
                                 1, "12"),
    "columns in another order, no source column": ("libelle;code\nEMPLOI;12\n", 1, "12"),
    "an embedded code completed (its « à confirmer » lifted)": (
        HEAD + "1132;Mesures de lutte contre le décrochage scolaire (hors PRE) des "
        "collégiens;Manuel CGET 2016 p. 3\n", 0, "1132"),
    "a label with a semicolon, quoted": (HEAD + '12;"Emploi; insertion";x\n', 1, "12"),
    "blank lines skipped": (HEAD + ";;\n\n" + NOUVEAU, 3, "121"),
    "header only": (HEAD, 0, None),
    "empty file": ("", 0, None),
}


@pytest.mark.parametrize("name", sorted(SHOULD_PASS))
def test_direction_file_should_pass(tmp_path, name):
    content, added, code = SHOULD_PASS[name]
    dossier = _csv(tmp_path, content)
    assert dossier.findings == [], [f.message for f in dossier.findings]
    n = dossier.nomenclature
    assert len(n.codes) == EMBEDDED + added
    if code is None:
        assert n.fichier_direction is None and n == nomenclature_integree()
        return
    entry = n.codes[code]
    assert entry.de_la_direction and entry.fichier_direction == NOMENCLATURE_FILE
    assert not entry.a_confirmer and n.fichier_direction == NOMENCLATURE_FILE
    assert NOMENCLATURE_FILE in entry.provenance
    for c in n.codes:  # the merged codes still nest
        assert n.parent(c) is None or n.parent(c) in n.codes, c
    for c, e in nomenclature_integree().codes.items():  # the rest of the data is untouched
        assert c == code or n.codes[c] == e, c


def test_a_code_of_the_file_wins_and_says_where_it_comes_from(tmp_path):
    dossier = _csv(tmp_path, HEAD + "1132;Mesures de lutte contre le décrochage scolaire des "
                   "collégiens;Manuel CGET 2016 p. 3\n1131;;x\n")
    entry = dossier.nomenclature.codes["1132"]
    assert entry.libelle.endswith("des collégiens") and entry.source == "Manuel CGET 2016 p. 3"
    assert entry.affichage == ("1132 Mesures de lutte contre le décrochage scolaire des "
                               "collégiens")
    assert entry.provenance == (f"fichier de la Direction « {NOMENCLATURE_FILE} », source : "
                                "Manuel CGET 2016 p. 3")
    # the faulty line changes nothing: 1131 keeps its embedded label
    assert dossier.nomenclature.codes["1131"] == nomenclature_integree().codes["1131"]
    assert not nomenclature_integree().codes["1132"].de_la_direction  # embedded data intact


# name -> (content, code, line, codes kept from the file)
SHOULD_FAIL = {
    "duplicate code": (HEAD + NOUVEAU + "121;Autre libellé;x\n", "REF_P147_CODE_EN_DOUBLE",
                       5, 3),
    "duplicate of a blank-padded code": (HEAD + "12;EMPLOI;x\n 12 ;Bis;x\n",
                                         "REF_P147_CODE_EN_DOUBLE", 3, 1),
    "one digit": (HEAD + "1;Cohésion;x\n", "REF_P147_CODE_INVALIDE", 2, 0),
    "five digits": (HEAD + "11111;Trop long;x\n", "REF_P147_CODE_INVALIDE", 2, 0),
    "a letter": (HEAD + "12a;Emploi;x\n", "REF_P147_CODE_INVALIDE", 2, 0),
    "a dot": (HEAD + "1.1;Éducation;x\n", "REF_P147_CODE_INVALIDE", 2, 0),
    "modalité without its sous-thème": (HEAD + "1251;Orpheline;x\n",
                                        "REF_P147_PARENT_ABSENT", 2, 0),
    "sous-thème without its thème": (HEAD + NOUVEAU + "131;Santé;x\n",
                                     "REF_P147_PARENT_ABSENT", 5, 3),
    "no label": (HEAD + "12;;x\n", "REF_P147_VALEUR_REQUISE", 2, 0),
    "no code": (HEAD + ";Emploi;x\n", "REF_P147_VALEUR_REQUISE", 2, 0),
    "missing column": ("code;source\n12;x\n", "REF_P147_COLONNE_ABSENTE", 1, 0),
    "a workbook renamed .csv": (b"PK\x03\x04\x14\x00\x00\x00binary",
                                "REF_P147_ILLISIBLE", None, 0),
    "unknown encoding": (HEAD.encode() + b"12;Emploi \x81\xff;x\n",
                         "REF_P147_ILLISIBLE", None, 0),
}


@pytest.mark.parametrize("name", sorted(SHOULD_FAIL))
def test_direction_file_should_fail_with_a_french_finding_naming_the_line(tmp_path, name):
    content, code, line, kept = SHOULD_FAIL[name]
    dossier = _csv(tmp_path, content)  # never raises
    (finding,) = dossier.findings
    assert finding.code == code and finding.row == line
    assert finding.severity is Severity.AVERTISSEMENT and finding.hint
    assert NOMENCLATURE_FILE in finding.message
    if line is not None and line > 1:
        assert finding.message.startswith(f"Ligne {line} du fichier")
        assert "ignorée" in finding.message
    assert len(dossier.nomenclature.codes) == EMBEDDED + kept
    assert dossier.avertissements() == [finding.message]


def test_a_child_whose_parent_is_left_out_is_left_out_too(tmp_path):
    dossier = _csv(tmp_path, HEAD + "131;Santé;x\n1311;Accès aux soins;x\n")
    assert [(f.code, f.row) for f in dossier.findings] == [
        ("REF_P147_PARENT_ABSENT", 2), ("REF_P147_PARENT_ABSENT", 3)]
    assert "« 13 »" in dossier.findings[0].message and "« 131 »" in dossier.findings[1].message
    assert dossier.nomenclature.codes == nomenclature_integree().codes


def test_the_folder_s_nomenclature_and_the_one_in_force(tmp_path):
    assert nomenclature_dossier(None).nomenclature == nomenclature_integree()
    absent = nomenclature_dossier(tmp_path)  # no file: the embedded data alone
    assert not absent.present and absent.findings == [] and absent.empreinte == "absent"
    (tmp_path / NOMENCLATURE_FILE).write_text(HEAD + NOUVEAU, "utf-8")
    dossier = nomenclature_dossier(tmp_path)
    assert dossier.present and "1211" in dossier.nomenclature.codes
    assert nomenclature_p147() == nomenclature_integree()  # nothing in force
    with en_vigueur(dossier):
        assert "1211" in nomenclature_p147().codes
        with en_vigueur(nomenclature_dossier(None)):
            assert "1211" not in nomenclature_p147().codes
        assert "1211" in nomenclature_p147().codes
    assert "1211" not in nomenclature_p147().codes
    (tmp_path / NOMENCLATURE_FILE).write_text(HEAD + "12;EMPLOI;x\n", "utf-8")
    changed = nomenclature_dossier(tmp_path)  # a changed file is read again
    assert "1211" not in changed.nomenclature.codes
    assert changed.empreinte != dossier.empreinte


# --- used by the programmation's checker and model -------------------------------------------
@pytest.fixture
def dossier(tmp_path) -> Path:
    root = tmp_path / "dossier"
    (root / "programmation").mkdir(parents=True)
    write_config(root)
    return root


def _programmation(root: Path) -> Path:
    from tests.test_programmation import good_row

    row = good_row(theme_p147=None, sous_theme_p147=None,
                   modalite_p147="1211 Accompagnement vers l'emploi")
    return write_programmation(root / "programmation" / "Programmation 2019.xlsx", [row],
                               embedded_referentiel(), annee=2019)


def test_checker_uses_the_working_folder_s_file(dossier):
    path = _programmation(dossier)
    ref = embedded_referentiel()
    report = check_programmation(path, ref, annee=2019)  # embedded only: 1211 unknown
    assert "PROG_P147_INCONNU" in report.codes() and not report.valid
    (dossier / NOMENCLATURE_FILE).write_text(HEAD + NOUVEAU + "9;Mal codé;x\n", "utf-8")
    report = check_programmation(path, ref, annee=2019)
    assert report.valid and "PROG_P147_INCONNU" not in report.codes()
    (warning,) = [f for f in report.findings if f.code.startswith("REF_P147_")]
    assert warning.code == "REF_P147_CODE_INVALIDE" and warning.row == 5
    assert any(line.startswith("Avertissement – Ligne 5") and NOMENCLATURE_FILE in line
               for line in format_report(report))
    (action,) = read_programmation(path, ref, annee=2019).actions
    assert (action.theme_p147, action.sous_theme_p147, action.modalite_p147) == (
        "12", "121", "1211")  # thème and sous-thème deduced from the Direction's codes
    # an explicit nomenclature wins over the folder's
    explicit = check_programmation(path, ref, annee=2019,
                                   nomenclature=nomenclature_dossier(None))
    assert "PROG_P147_INCONNU" in explicit.codes()


def test_model_offers_the_direction_s_codes(dossier):
    (dossier / NOMENCLATURE_FILE).write_text(HEAD + NOUVEAU, "utf-8")
    path = write_programmation(dossier / "programmation" / "Programmation 2020.xlsx", [],
                               embedded_referentiel(), annee=2020)
    values = [c.value for row in load_workbook(path)["Listes"].iter_rows() for c in row
              if c.value]
    assert "1211 Accompagnement vers l'emploi" in values and "12 EMPLOI" in values
    assert "1111 Ingénierie et fonctionnement (équipes de réussite éducative)" in values
    assert "Provenance" in values
    assert any(str(v).startswith(f"fichier de la Direction « {NOMENCLATURE_FILE} »")
               for v in values)
    (dossier / NOMENCLATURE_FILE).unlink()
    path = write_programmation(dossier / "programmation" / "Programmation 2021.xlsx", [],
                               embedded_referentiel(), annee=2021)
    values = [c.value for row in load_workbook(path)["Listes"].iter_rows() for c in row
              if c.value]
    assert "1211 Accompagnement vers l'emploi" not in values and "Provenance" not in values


# --- used by the Dauphin export of the consolidation -----------------------------------------
def test_consolider_exports_the_direction_s_labels(demo_master, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(demo_master, root)
    work = DossierTravail.open(root)
    ref, _ = load_referentiel(work.path("referents"))
    export = root / "sorties" / "2019" / output_names(2019)["dauphin"]

    def modalites() -> set[tuple[str, str]]:
        with export.open(encoding="utf-8-sig", newline="") as f:
            return {(r["Code modalité P147"], r["Modalité P147"])
                    for r in csv.DictReader(f, delimiter=";") if r["Code modalité P147"]}

    assert ("1132", "Mesures de lutte contre le décrochage scolaire (hors PRE)") in modalites()
    assert consolider(work, ref, 2019).rien_de_nouveau
    label = "Mesures de lutte contre le décrochage scolaire des collégiens"
    (root / NOMENCLATURE_FILE).write_text(f"{HEAD}1132;{label};Manuel p. 3\n1251;x;y\n",
                                          "utf-8")
    changed = consolider(work, ref, 2019)
    assert not changed.rien_de_nouveau  # the file is part of what decides « nothing new »
    assert ("1132", label) in modalites()
    (warning,) = [w for w in changed.avertissements if NOMENCLATURE_FILE in w]
    assert warning.startswith("Ligne 3 du fichier")
    again = consolider(work, ref, 2019)
    assert again.rien_de_nouveau and warning in again.avertissements
    (root / NOMENCLATURE_FILE).unlink()  # back to the embedded data alone
    assert not consolider(work, ref, 2019).rien_de_nouveau
    assert ("1132", "Mesures de lutte contre le décrochage scolaire (hors PRE)") in modalites()
