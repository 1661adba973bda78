"""The register of generated workbooks read and written entry by entry: the same entries
and the same bytes as reading or writing the whole list at once, and a damaged register
refused in French wherever the damage is."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cv_excel.errors import (
    FichierInterneIllisible,
    backup_path,
    iter_registre,
    keep_previous_copy,
    pending_path,
    read_registre,
)
from cv_excel.generation.generate import _write_register
from cv_excel.intake.context import load_registre

_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                    st.floats(allow_nan=False, allow_infinity=False))
_JSON = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
_ENTRY = st.fixed_dictionaries(
    {"classeur_id": st.text(min_size=1, max_size=10), "fichier": st.text(max_size=20)},
    optional={"preremplies": st.dictionaries(st.text(max_size=8), _JSON, max_size=5),
              "revue": st.none() | st.integers(1, 3), "destinataire": st.text(max_size=15)})


@settings(max_examples=80, deadline=None)
@given(entries=st.lists(_ENTRY, max_size=6))
def test_written_as_one_dump_and_read_back_entry_by_entry(tmp_path_factory, entries):
    path = tmp_path_factory.mktemp("r") / "registre.json"
    _write_register(path, iter(entries))
    expected = json.dumps(entries, ensure_ascii=False, indent=1) + "\n"
    assert path.read_text("utf-8") == expected
    assert list(iter_registre(path)) == entries == json.loads(expected)
    # Laid out otherwise (compact, or one separator edited by hand): the same entries.
    path.write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    assert list(iter_registre(path)) == entries
    path.write_text(expected.replace("\n },\n {", "\n }  ,\n\n {", 1), "utf-8")
    assert list(iter_registre(path)) == entries


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(_ENTRY, min_size=1, max_size=8), chunk=st.integers(1, 200))
def test_read_by_pieces_whatever_their_size(tmp_path_factory, entries, chunk):
    """The file is read a piece at a time: an entry, or the separator between two, cut
    anywhere by a piece's end gives the same entries (and a damaged one the same error)."""
    from cv_excel import errors

    path = tmp_path_factory.mktemp("r") / "registre.json"
    _write_register(path, iter(entries))
    saved = errors._CHUNK
    errors._CHUNK = chunk
    try:
        assert list(iter_registre(path)) == entries
        text = path.read_text("utf-8")
        path.write_text(text.replace('"fichier"', '"fiche"'), "utf-8")  # every entry
        with pytest.raises(FichierInterneIllisible, match="n'a pas le contenu attendu"):
            list(iter_registre(path))
    finally:
        errors._CHUNK = saved


def test_an_entry_damaged_in_the_middle_of_a_register_is_refused(tmp_path):
    path = tmp_path / "registre.json"
    entries = [{"classeur_id": str(i), "fichier": f"f{i}"} for i in range(5)]
    _write_register(path, entries)
    text = path.read_text("utf-8")
    for damaged, why in ((text.replace('"fichier": "f2"', '"fiche": "f2"'),
                          "n'a pas le contenu attendu"),
                         (text.replace('"f3"', '"f3'), "JSON non valide")):
        path.write_text(damaged, "utf-8")
        with pytest.raises(FichierInterneIllisible) as caught:
            list(iter_registre(path))
        assert why in str(caught.value)
    path.write_bytes(text.encode().replace(b"f3", b"f\xff3"))
    with pytest.raises(FichierInterneIllisible, match="pas du texte UTF-8"):
        list(iter_registre(path))


@pytest.mark.parametrize("text, why", [
    ('[{"classeur_id": "a", "fichier": "x"}] ]', "JSON non valide"),
    ('[{"classeur_id": "a", "fichier": "x"} {"classeur_id": "b"}]', "JSON non valide"),
    ('[{"classeur_id": "a", "fichier": "x"},', "JSON non valide"),
    ('[{"classeur_id": "a", "fichier": "x"}, 3]', "n'a pas le contenu attendu"),
    ('[{"classeur_id": "a"}]', "n'a pas le contenu attendu"),
    ('{"classeur_id": "a", "fichier": "x"}', "n'a pas le contenu attendu"),
    ("registre", "JSON non valide"),
    ("", "JSON non valide"),
])
def test_a_damaged_register_is_refused_in_french(tmp_path, text, why):
    path = tmp_path / "registre.json"
    path.write_text(text, "utf-8")
    with pytest.raises(FichierInterneIllisible) as caught:
        read_registre(path)
    assert why in str(caught.value) and "registre des classeurs" in str(caught.value)


def test_pending_lines_add_and_take_back_entries(tmp_path):
    path = tmp_path / "registre.json"
    _write_register(path, [{"classeur_id": "a", "fichier": "x"},
                           {"classeur_id": "b", "fichier": "y"}])
    pending_path(path).write_text("\n".join([
        json.dumps({"classeur_id": "c", "fichier": "z"}), json.dumps({"retire": "a"}),
        json.dumps({"classeur_id": "d", "fichier": "w"}), json.dumps({"retire": "d"}),
        '{"classeur_id": "e", "fich']), "utf-8")  # a torn last line: skipped
    assert [e["classeur_id"] for e in iter_registre(path)] == ["b", "c"]


def test_the_intake_s_register_gives_each_entry_when_asked(tmp_path):
    folder = tmp_path / "classeurs"
    (folder / "2019").mkdir(parents=True)
    (folder / "2020").mkdir()
    _write_register(folder / "2019" / "registre.json", [
        {"classeur_id": "a", "fichier": "classeurs/2019/a.xlsx", "preremplies": {"x": 1}}])
    _write_register(folder / "2020" / "registre.json", [
        {"classeur_id": "b", "fichier": "classeurs/2020/b.xlsx"},
        {"classeur_id": "a", "fichier": "classeurs/2020/a.xlsx"}])  # a later entry wins
    registre = load_registre(folder)
    assert sorted(registre) == ["a", "b"] and len(registre) == 2
    assert registre.get("a") == {"classeur_id": "a", "fichier": "classeurs/2020/a.xlsx"}
    assert registre.get("inconnu") is None
    registre.get("b")["fichier"] = "modifié"  # each reader gets its own copy
    assert registre["b"]["fichier"] == "classeurs/2020/b.xlsx"


def test_the_previous_copy_is_made_without_reading_the_register(tmp_path, monkeypatch) -> None:
    """The national register is 83 MB: its ``.bak`` is copied by the system, the same
    bytes, never read whole into this process; no register, no copy."""
    path = tmp_path / "registre.json"
    keep_previous_copy(path)
    assert not backup_path(path).exists()
    path.write_bytes(json.dumps([{"classeur_id": str(i)} for i in range(500)]).encode())

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{self} lu en entier")

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    monkeypatch.setattr(type(path), "read_text", refuse)
    keep_previous_copy(path)
    monkeypatch.undo()
    assert backup_path(path).read_bytes() == path.read_bytes()
