"""Pins the committed référentiel (cv_excel/data/referentiel.json) and its decisions.

The JSON is produced by scripts/extract_referentiel.py from the seed text; these tests
check the tree, the directory of référents, every recorded decision, and that the script
still reproduces the committed file byte for byte.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from cv_excel.referentiel.models import Referentiel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "cv_excel" / "data" / "referentiel.json"
DOC = ROOT / "docs" / "referentiel.md"
SCRIPT = ROOT / "scripts" / "extract_referentiel.py"
SEED = Path(__file__).parents[1].parent / "shared" / "seeds" / "000_27a91f320ed6b1bf.txt"

CODES_OO = [
    "A111", "A112", "A113", "A121", "A122", "A123", "A124", "A125",
    "A211", "A212", "A213", "A221", "A222", "A223", "A224", "A225", "A231", "A232",
    "B111", "B112", "B113", "B121", "B122", "B123", "B131", "B132", "B133", "B134",
    "B211", "B212", "B213", "B221", "B222",
    "C111", "C112", "C113", "C121", "C122", "C123", "C131", "C132",
    "C211", "C212", "C213", "C221", "C222", "C223",
    "T111", "T112", "T121", "T122", "T131", "T132",
]
CODES_OS = ["A11", "A12", "A21", "A22", "A23", "B11", "B12", "B13", "B21", "B22",
            "C11", "C12", "C13", "C21", "C22", "T11", "T12", "T13"]


@pytest.fixture(scope="module")
def ref() -> Referentiel:
    return Referentiel.model_validate(json.loads(DATA.read_text(encoding="utf-8")))


def _by_variant(ref: Referentiel) -> dict[str, str]:
    return {v: r.id for r in ref.referents for v in r.variantes}


# --- tree ---------------------------------------------------------------------------------

def test_counts(ref):
    assert [p.code for p in ref.piliers] == ["A", "B", "C", "T"]
    assert [o.code for o in ref.orientations] == ["A1", "A2", "B1", "B2", "C1", "C2", "T1"]
    assert [s.code for s in ref.objectifs_strategiques] == CODES_OS
    assert ref.codes_oo() == CODES_OO
    assert len(CODES_OO) == 53


def test_parent_chain(ref):
    for oo in ref.objectifs_operationnels:
        assert oo.objectif_strategique == oo.code[:3]
        os_ = next(s for s in ref.objectifs_strategiques if s.code == oo.objectif_strategique)
        assert os_.orientation == oo.code[:2]
        assert ref.pilier_of(oo.code) == oo.code[0]
    for o in ref.orientations:
        assert o.pilier == o.code[0]


def test_every_level_has_people(ref):
    assert all(p.responsables for p in ref.piliers)
    assert all(o.coordonnateurs for o in ref.orientations)
    assert all(s.pilotes for s in ref.objectifs_strategiques)
    assert all(oo.referents for oo in ref.objectifs_operationnels)


def test_every_oo_has_indicators_without_template_text(ref):
    template = re.compile(r"un impact est|par ex\. baisser|il s'agit ici de|^Action \d+$")
    for oo in ref.objectifs_operationnels:
        assert oo.indicateurs, oo.code
        for ind in oo.indicateurs:
            assert ind.libelle.strip() and not template.search(ind.libelle), (oo.code, ind)


def test_fiche_fields_are_filled(ref):
    for oo in ref.objectifs_operationnels:
        assert oo.justification and oo.contenu and oo.pistes_action, oo.code
        assert oo.partenariats, oo.code
        texts = [oo.titre, oo.justification, oo.contenu, oo.modalites, oo.chef_de_file or "",
                 *oo.role_ville, *oo.pistes_action, *oo.partenariats,
                 *(i.libelle for i in oo.indicateurs)]
        for text in texts:
            assert "<" not in text and "•" not in text and "→" not in text, (oo.code, text)


def test_titles_are_clean(ref):
    items = [*ref.orientations, *ref.objectifs_strategiques, *ref.objectifs_operationnels]
    for item in items:
        assert item.titre[0].isupper(), item.code
        assert not item.titre.endswith(".") and not item.titre.startswith("-"), item.code


def test_indicator_types(ref):
    a112 = ref.objectif("A112")
    assert {i.type for i in a112.indicateurs} == {"impact", "resultat"}
    a124 = ref.objectif("A124")
    assert [i.type for i in a124.indicateurs].count("impact") == 7
    assert ref.objectif("T122").indicateurs[0].type == "suivi"
    a111 = ref.objectif("A111")
    cibles = [i.valeur_cible for i in a111.indicateurs if i.valeur_cible]
    assert cibles and cibles[0].startswith("la moitié")


# --- directory ----------------------------------------------------------------------------

def _norm(label: str) -> str:
    """Same service whatever the spelling: no case, accents, title or article."""
    text = unicodedata.normalize("NFKD", label)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = re.sub(r"^(directeur|directrice|direction|responsable du service|responsable)\b",
                  " ", text.strip())
    words = [w for w in text.split() if w not in {"de", "du", "des", "la", "le", "l", "et",
                                                  "d", "en", "charge"}]
    return " ".join(words)


def test_directory_entries_are_well_formed(ref):
    for r in ref.referents:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.id), r.id
        assert r.variantes and r.libelle
        assert r.nom is None and r.email is None and r.telephone is None


def test_no_spelling_is_absorbed_twice(ref):
    variants = [v for r in ref.referents for v in r.variantes]
    assert len(variants) == len(set(variants))


def test_no_two_entries_are_the_same_service(ref):
    owner: dict[str, str] = {}
    for r in ref.referents:
        for label in {r.libelle, *r.variantes}:
            key = _norm(label)
            assert owner.setdefault(key, r.id) == r.id, (label, owner[key], r.id)


def test_norm_catches_case_variants():
    assert _norm("DGA Culture") == _norm("DGA culture")
    assert _norm("Direction démocratie de proximité") == _norm(
        "Directrice de la démocratie de proximité")


def test_every_referent_is_used(ref):
    used = {p for lvl in (ref.piliers,) for x in lvl for p in x.responsables}
    used |= {p for x in ref.orientations for p in x.coordonnateurs}
    used |= {p for x in ref.objectifs_strategiques for p in x.pilotes}
    used |= {p for x in ref.objectifs_operationnels for p in x.referents}
    assert used == {r.id for r in ref.referents}


@pytest.mark.parametrize("spellings", [
    ["DGA Culture", "DGA culture", "DGA Direction Culture", "DGA en charge de la culture"],
    ["Directeur Jeunesse et Sports", "Directeur de la Jeunesse et des sports"],
    ["Directrice Développement Sociale/CCAS", "Directrice Développement Social/CCAS"],
    ["Direction démocratie de proximité", "Direction de la démocratie de proximité",
     "Directrice de la démocratie de proximité"],
    ["Chargée de mission emploi - insertion", "Chargée de mission Emploi-insertion",
     "Chargée de mission emploi"],
    ["Responsable du CS A CHEDID", "Responsable du service du Centre Social A. CHEDID",
     "Directeur du Centre Social A. CHEDID"],
    ["Directrice Education Enfance", "Direction de l'éducation et de l'enfance"],
    ["Direction politique de la ville et développement économique",
     "Directrice politique de la ville et développement économique",
     "Directrice projet politique de la ville / développement économique",
     "Direction politique de la ville, économie", "Direction Politique de la ville"],
    ["Directrice Autonomie Santé Social / CCAS", "Directrice Autonomie Santé et Sociale"],
    ["DDU-RU-Ingénieur-e Environnement", "DDU-RU- Ingénieur-e Environnement",
     "DDU-RU- Ingénieur.e Environnement"],
])
def test_spelling_merges(ref, spellings):
    ids = {_by_variant(ref)[s] for s in spellings}
    assert len(ids) == 1, ids


def test_distinct_roles_stay_apart(ref):
    by = _by_variant(ref)
    assert by["Responsable développement économique"] != by[
        "Responsable Développement économique en charge des commerces"]
    assert by["Responsable du service des sports"] != by["Directeur Jeunesse et Sports"]
    assert by["DGA Santé, Social"] != by["Directrice Affaires sociales"]


# --- decisions ----------------------------------------------------------------------------

def test_decision_a111_three_coreferents(ref):
    assert ref.objectif("A111").referents == [
        "ccas-developpement-social", "ccas-autonomie-sante-social", "medecin-directeur"]


@pytest.mark.parametrize("code", ["A124", "A224", "T111"])
def test_decision_education_two_coreferents(ref, code):
    assert ref.objectif(code).referents == ["education-enfance", "politiques-educatives"]


def test_decision_b134_titles(ref):
    b134 = ref.objectif("B134")
    assert b134.titre == ("Participer à la dynamique impulsée par les JOP 2024 et de son "
                          "Plan Héritage")
    assert b134.titre_annexe4 == ("Améliorer l'offre en équipements sportifs en lien avec le "
                                  "Plan Héritage")


def test_decision_titre_annexe4_only_when_words_differ(ref):
    assert ref.objectif("A111").titre_annexe4 is None  # same words
    assert ref.objectif("A121").titre == ("Favoriser l'éducation artistique et sportive en "
                                          "direction des jeunes")  # capitalised
    assert ref.objectif("A124").titre.startswith("Proposer")  # leading « - » removed
    a21 = next(s for s in ref.objectifs_strategiques if s.code == "A21")
    assert a21.titre == "Faire de la culture un pilier de cohésion sociale"
    assert a21.titre_annexe4 == "Faire de la culture un ciment de cohésion sociale"


def test_decision_inherited_people(ref):
    strat = {s.code: s for s in ref.objectifs_strategiques}
    orient = {o.code: o for o in ref.orientations}
    piliers = {p.code: p for p in ref.piliers}
    assert strat["C21"].pilotes == orient["C2"].coordonnateurs == ["renouvellement-urbain"]
    assert strat["T12"].pilotes == orient["T1"].coordonnateurs == [
        "direction-affaires-sociales"]
    assert piliers["T"].responsables == orient["T1"].coordonnateurs
    assert piliers["A"].responsables == ["dpv-deveco"] == orient["A1"].coordonnateurs


def test_decision_seven_orientations(ref):
    assert len(ref.orientations) == 7
    assert len(ref.orientations_of("T")) == 1
    d01 = next(d for d in ref.decisions if d.id == "D01")
    assert "8 orientations" in d01.constat


def test_decision_fiches_without_indicator(ref):
    for code in ("A213", "C213"):
        assert [i.libelle for i in ref.objectif(code).indicateurs] == [
            "Actions afférentes réalisées, en cours de réalisation"]


def test_decisions_are_documented(ref):
    doc = DOC.read_text(encoding="utf-8")
    ids = [d.id for d in ref.decisions]
    assert ids == [f"D{n:02d}" for n in range(1, len(ids) + 1)]
    for d in ref.decisions:
        assert f"### {d.id} — {d.sujet}" in doc, d.id
        assert d.decision in doc, f"{d.id} : texte de décision différent dans {DOC.name}"
    for r in ref.referents:
        assert f"`{r.id}`" in doc, r.id


# --- reproducibility ----------------------------------------------------------------------

def test_script_reproduces_committed_json(tmp_path):
    if not SEED.exists():
        pytest.skip(f"texte source absent : {SEED}")
    sortie = tmp_path / "referentiel.json"
    subprocess.run([sys.executable, str(SCRIPT), str(SEED), "--sortie", str(sortie)],
                   check=True, cwd=ROOT, capture_output=True)
    assert sortie.read_bytes() == DATA.read_bytes()
