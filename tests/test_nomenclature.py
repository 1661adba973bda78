"""The nomenclature des crédits du P147 shipped as data: nested codes, a named source."""

import json
from importlib import resources
from pathlib import Path

from cv_excel.nomenclature import nomenclature_p147

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
