"""Plausibility bounds: an absurd number or date is a French finding, never an overflow.

Issue 9: « 1E+20 » beneficiaries passed the checks, then storing it raised
OverflowError (an SQLite INTEGER is 64 bits), the run stopped with a traceback and
the journal was not saved. Every numeric and date input of both workbook kinds is
now bounded by the spec (:mod:`cv_excel.spec.model`); these tables write each odd
value into every such input at once and name the finding each cell must get.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import io
import json
import os
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.enregistrement import valider_et_enregistrer
from cv_excel.findings import Finding, Severity
from cv_excel.intake.checks import values as values_module
from cv_excel.intake.checks.values import check_values
from cv_excel.intake.run import ACCEPTES, REJETE
from cv_excel.programmation.validators import parse_amount, parse_number
from cv_excel.reader import SectionLue, Valeur, read_workbook
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import PORTEUR, REFERENT, SPECS
from cv_excel.spec.model import (
    BORNES_PAR_DEFAUT,
    DATE_MAX,
    DATE_MIN,
    EFFECTIF_MAX,
    MONTANT_MAX,
    Champ,
    ClasseurSpec,
)
from cv_excel.store import extract
from cv_excel.store.db import default_store_path, open_store
from tests import test_intake_values
from tests.test_intake_values import ANNEE, Book, fill_porteur, fill_referent

demo = test_intake_values.demo  # the same module-scoped fixture: good filled workbooks

NUMERIC = ("entier", "decimal", "montant")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
VALUE_CODES = {"VAL_INVRAISEMBLABLE", "VAL_NEGATIF", "VAL_PAS_UN_NOMBRE", "VAL_ENTIER",
               "VAL_PAS_UNE_DATE", "VAL_ILLISIBLE", "VAL_NOMBRE_TEXTE", "VAL_DATE_TEXTE"}


# --- every input of a kind, as cells of the first section and of the single sheets ----------

@dataclass(frozen=True)
class Input:
    champ: Champ
    sheet: str
    field: str
    set: Callable[[Book, Any], None]
    cell: Callable[[Book], str]


def inputs(spec: ClasseurSpec, book: Book, kinds: tuple[str, ...]) -> list[Input]:
    """Every saisie cell of ``kinds``: single sheets, the first section, table rows."""
    found: list[Input] = []
    targets = [(f.titre, f) for f in spec.feuilles if not f.repetee and f.titre in
               book.wb.sheetnames] + [(book.s1, spec.section)]
    for sheet, feuille in targets:
        for champ in feuille.champs:
            if champ.role == "saisie" and champ.kind in kinds:
                found.append(Input(
                    champ, sheet, champ.name,
                    lambda b, v, s=sheet, n=champ.name: b.set(s, n, v),
                    lambda b, s=sheet, n=champ.name: _named_cell(b, s, n)))
        for tableau in feuille.tableaux:
            keys = ([ligne.key for ligne in tableau.lignes] if tableau.lignes
                    else [str(i + 1) for i in range(tableau.min_capacite)])
            for key in keys:
                for col in tableau.colonnes:
                    role = tableau.role_of(key if tableau.lignes else None, col.name)
                    if role == "saisie" and col.kind in kinds:
                        args = (sheet, tableau.name, key, col.name)
                        found.append(Input(
                            col, sheet, f"{tableau.name}.{col.name}",
                            lambda b, v, a=args: b.set_t(*a, v),
                            lambda b, a=args: b._table_cell(*a).coordinate))
    return found


def _named_cell(book: Book, sheet: str, name: str) -> str:
    col, row, _, _ = book._bounds(sheet, name)
    return book.wb[sheet].cell(row, col).coordinate


# A value openpyxl cannot write (it leaves inf and NaN empty) is written as a marker,
# then the marker is replaced in the sheet XML: a hand-made file can hold anything.
_MARKER = 987654.125


@dataclass(frozen=True)
class Raw:
    xml: str  # the text of <v> in the sheet XML


def _patch(data: bytes, raw: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            part = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                part = part.replace(f"<v>{_MARKER}</v>".encode(), f"<v>{raw}</v>".encode())
            dst.writestr(item, part)
    return out.getvalue()


@dataclass
class Outcome:
    findings: list[Finding]
    cells: dict[tuple[str, str], Input]  # (sheet, cell) -> the input written there
    sections: list[SectionLue]


def write_everywhere(demo, tmp_path: Path, spec: ClasseurSpec, kinds: tuple[str, ...],
                     value: Any) -> Outcome:
    """``value`` (or ``value(champ)``) written in every input of ``kinds``, then checked."""
    book = Book(demo.porteur if spec is PORTEUR else demo.referent, spec)
    targets = inputs(spec, book, kinds)
    assert targets
    for target in targets:
        v = value(target.champ) if callable(value) else value
        target.set(book, _MARKER if isinstance(v, Raw) else v)
    data = book.to_bytes()
    raw = value if isinstance(value, Raw) else None
    if raw is not None:
        data = _patch(data, raw.xml)
    path = tmp_path / f"{spec.kind}.xlsx"
    path.write_bytes(data)
    lu = read_workbook(path, spec)
    findings = check_values(lu, demo.ctx)
    cells = {(t.sheet, t.cell(book)): t for t in targets}
    return Outcome(findings, cells, lu.sections)


def per_cell(outcome: Outcome) -> dict[tuple[str, str], list[str]]:
    """The value findings of each written cell."""
    found: dict[tuple[str, str], list[str]] = {key: [] for key in outcome.cells}
    for f in outcome.findings:
        if (f.sheet, f.cell) in found and f.code in VALUE_CODES:
            found[(f.sheet, f.cell)].append(f.code)
    return found


def assert_never_stored_out_of_range(outcome: Outcome) -> None:
    """Whatever the checks said, the store's converters neither raise nor produce an int
    an SQLite INTEGER cannot hold."""
    for section in outcome.sections:
        row = extract.bilan_row(section)
        for value in row.values():
            assert not isinstance(value, int) or INT64_MIN <= value <= INT64_MAX, row
        for _t, _k, prevu, realise in extract.budget_rows(section):
            for amount in (prevu, realise):
                assert amount is None or Decimal(amount).is_finite()


def _max(champ: Champ) -> Any:
    return champ.bornes[1]


def _over(champ: Champ) -> Any:
    return champ.bornes[1] + 1


def _over_text(champ: Champ) -> str:
    return f"{int(champ.bornes[1]) + 1:,}".replace(",", " ")


# --- numbers --------------------------------------------------------------------------------

# (name, value, code every numeric input must get). The porteur's counts and amounts are
# all at least 0, so a negative number is « négatif » before being implausible.
BAD_NUMBERS = [
    ("1E+20", 1e20, "VAL_INVRAISEMBLABLE"),
    ("9e18 (tient dans 64 bits)", 9e18, "VAL_INVRAISEMBLABLE"),
    ("-1e300", -1e300, "VAL_NEGATIF"),
    ("entier de 31 chiffres", 10**30, "VAL_INVRAISEMBLABLE"),
    ("30 chiffres en texte", "1" * 30, "VAL_INVRAISEMBLABLE"),
    ("30 chiffres en texte avec espaces", "123 456 789 012 345 678 901 234 567 890",
     "VAL_INVRAISEMBLABLE"),
    ("1e400 en texte", "1e400", "VAL_PAS_UN_NOMBRE"),
    ("1E+20 en texte", "1E+20", "VAL_PAS_UN_NOMBRE"),
    ("NaN en texte", "NaN", "VAL_PAS_UN_NOMBRE"),
    ("Infinity en texte", "Infinity", "VAL_PAS_UN_NOMBRE"),
    ("inf dans le fichier", Raw("inf"), "VAL_PAS_UN_NOMBRE"),
    ("1e400 dans le fichier", Raw("1e400"), "VAL_PAS_UN_NOMBRE"),
    ("NaN dans le fichier", Raw("NaN"), "VAL_PAS_UN_NOMBRE"),
    ("maximum + 1", _over, "VAL_INVRAISEMBLABLE"),
    ("maximum + 1 en texte", _over_text, "VAL_INVRAISEMBLABLE"),
]


@pytest.mark.parametrize(("name", "value", "code"), BAD_NUMBERS,
                         ids=[case[0] for case in BAD_NUMBERS])
def test_absurd_numbers_should_fail(demo, tmp_path, name, value, code):
    outcome = write_everywhere(demo, tmp_path, PORTEUR, NUMERIC, value)
    assert {key: codes for key, codes in per_cell(outcome).items() if codes != [code]} == {}
    for f in outcome.findings:
        assert f.severity is Severity.BLOQUANT or f.code == "VAL_NOMBRE_TEXTE"
        assert "Error" not in f.message and "<class" not in f.message and "?" not in f.message
    assert_never_stored_out_of_range(outcome)


def test_implausible_finding_names_the_bound(demo, tmp_path):
    outcome = write_everywhere(demo, tmp_path, PORTEUR, NUMERIC, 1e20)
    benef = next(f for f in outcome.findings if f.field == "act_benef_total")
    assert benef.message == ("Valeur invraisemblable pour « Nombre total de bénéficiaires » "
                             "(1E+20) : au plus 1 000 000.")
    assert "au plus 1 000 000" in benef.hint and benef.cell in benef.hint
    montant = next(f for f in outcome.findings if f.field == "bud_charges.realise")
    assert montant.message.endswith("(1E+20) : au plus 100 000 000 €.")


# (name, value, the only value finding each input may get)
GOOD_NUMBERS = [
    ("maximum plausible", _max, []),
    ("maximum plausible en texte", lambda c: f"{int(c.bornes[1]):,}".replace(",", " "),
     ["VAL_NOMBRE_TEXTE"]),
    ("zéro", 0, []),
]


@pytest.mark.parametrize(("name", "value", "expected"), GOOD_NUMBERS,
                         ids=[c[0] for c in GOOD_NUMBERS])
def test_plausible_numbers_should_pass_their_own_check(demo, tmp_path, name, value, expected):
    """At the bound, every input is read (coherence rules may still object: a total of a
    million with a million in every age band is not coherent, but it is plausible)."""
    outcome = write_everywhere(demo, tmp_path, PORTEUR, NUMERIC, value)
    assert {k: c for k, c in per_cell(outcome).items() if c != expected} == {}
    assert_never_stored_out_of_range(outcome)


def test_a_coherent_return_at_the_bounds_has_no_finding(demo, tmp_path):
    def mutate(b: Book) -> None:
        s = b.s1
        for name, n in (("act_benef_total", EFFECTIF_MAX), ("act_benef_femmes", 500_000),
                        ("act_benef_hommes", 500_000), ("act_benef_qpv", EFFECTIF_MAX),
                        ("act_benef_moins_12", 0), ("act_benef_12_17", 0),
                        ("act_benef_18_25", 0), ("act_benef_26_59", EFFECTIF_MAX),
                        ("act_benef_60_plus", 0)):
            b.set(s, name, n)
        for table, key in (("bud_charges", "62"), ("bud_produits", "70")):
            b.set_t(s, table, key, "prevu", MONTANT_MAX)
            b.set_t(s, table, key, "realise", MONTANT_MAX)
        b.set(s, "act_date_debut", dt.datetime(ANNEE, 1, 1))

    book = Book(demo.porteur, PORTEUR)
    mutate(book)
    path = tmp_path / "porteur.xlsx"
    path.write_bytes(book.to_bytes())
    findings = check_values(read_workbook(path, PORTEUR), demo.ctx)
    assert [(f.code, f.field, f.message) for f in findings] == []


def test_every_numeric_input_is_bounded_by_the_spec():
    for spec in SPECS.values():
        for feuille in spec.feuilles:
            champs = list(feuille.champs) + [c for t in feuille.tableaux for c in t.colonnes]
            for champ in champs:
                if champ.kind in NUMERIC:
                    low, high = champ.bornes
                    assert INT64_MIN < low <= high < 10**12, champ
    assert BORNES_PAR_DEFAUT.keys() == set(NUMERIC)
    assert Champ("x", "X", "entier").bornes == (-EFFECTIF_MAX, EFFECTIF_MAX)
    assert Champ("x", "X", "montant").bornes == (0, MONTANT_MAX)
    assert Champ("x", "X", "decimal", minimum=0, maximum=100).bornes == (0, 100)
    assert Champ("x", "X").bornes is None


def test_the_referent_indicator_values_are_bounded_numbers(demo, tmp_path):
    """Référent workbook v2: indicator values, reference and target are numbers (the unit
    has its own column), bounded like every number; a word there gets the indicator's own
    finding, never a crash nor an out-of-range stored value."""
    book = Book(demo.referent, REFERENT)
    numeric = inputs(REFERENT, book, NUMERIC)
    assert {i.field for i in numeric} == {
        f"{t}.{c}" for t in ("obj_indicateurs", "obj_nouveaux_indicateurs")
        for c in ("valeur_reference", "annee_reference", "valeur_cible", "valeur_annee")}
    outcome = write_everywhere(demo, tmp_path, REFERENT, NUMERIC, 1e20)
    assert {k: c for k, c in per_cell(outcome).items() if c != ["VAL_INVRAISEMBLABLE"]} == {}
    words = write_everywhere(demo, tmp_path, REFERENT, NUMERIC, "1e400")
    for f in words.findings:
        if (f.sheet, f.cell) in words.cells:
            expected = ("VAL_PAS_UN_NOMBRE" if f.field.endswith("annee_reference")
                        else "VAL_INDICATEUR_PAS_UN_NOMBRE")
            assert f.code == expected or f.code.startswith("VAL_NOUVEL"), f
    for section in outcome.sections + words.sections:
        for row in extract.indicator_rows(section):
            for name in ("valeur_reference", "valeur_cible", "valeur_annee"):
                assert row[name] is None or isinstance(row[name], str)
            assert row["annee_reference"] is None or 2000 <= row["annee_reference"] <= 2100
    texts = write_everywhere(demo, tmp_path, REFERENT, ("texte",), "1" * 30)
    # a comment typed on every piste row puts them in use: their state is then required
    assert all(f.code == "VAL_TEXTE_TROP_LONG" or f.code.startswith("VAL_NOUVEL")
               or (f.code, f.field) == ("VAL_REQUIS", "obj_pistes.etat")
               for f in texts.findings), texts.findings


# --- dates ----------------------------------------------------------------------------------

BAD_DATES = [
    ("1900", dt.datetime(1900, 1, 1), "VAL_INVRAISEMBLABLE"),
    ("9999", dt.datetime(9999, 12, 31), "VAL_INVRAISEMBLABLE"),
    ("la veille du minimum", dt.datetime.combine(DATE_MIN, dt.time()) - dt.timedelta(days=1),
     "VAL_INVRAISEMBLABLE"),
    ("le lendemain du maximum", dt.datetime.combine(DATE_MAX, dt.time()) + dt.timedelta(days=1),
     "VAL_INVRAISEMBLABLE"),
    ("9999 en texte", "31/12/9999", "VAL_INVRAISEMBLABLE"),
    ("1900 en texte ISO", "1900-01-01", "VAL_INVRAISEMBLABLE"),
    ("année seule (jour 2019 d'Excel)", 2019, "VAL_INVRAISEMBLABLE"),
    ("série Excel maximale", 2958465, "VAL_INVRAISEMBLABLE"),
    ("1E+20 dans une date", 1e20, "VAL_PAS_UNE_DATE"),
    ("nombre négatif dans une date", -5, "VAL_PAS_UNE_DATE"),
    ("NaN dans le fichier", Raw("NaN"), "VAL_INVRAISEMBLABLE"),  # calamine: 30/12/1899
    ("inf dans le fichier", Raw("inf"), "VAL_PAS_UNE_DATE"),
    ("30 chiffres en texte", "1" * 30, "VAL_PAS_UNE_DATE"),
]


@pytest.mark.parametrize("spec", [PORTEUR, REFERENT], ids=["porteur", "referent"])
@pytest.mark.parametrize(("name", "value", "code"), BAD_DATES, ids=[c[0] for c in BAD_DATES])
def test_absurd_dates_should_fail(demo, tmp_path, spec, name, value, code):
    outcome = write_everywhere(demo, tmp_path, spec, ("date",), value)
    assert {key: codes for key, codes in per_cell(outcome).items() if codes != [code]} == {}
    assert_never_stored_out_of_range(outcome)


def test_implausible_date_names_the_bounds(demo, tmp_path):
    outcome = write_everywhere(demo, tmp_path, REFERENT, ("date",), dt.datetime(9999, 12, 31))
    (f,) = outcome.findings
    assert f.message == ("Valeur invraisemblable pour « Date du suivi » (31/12/9999) : une "
                         "date entre le 01/01/2000 et le 31/12/2100.")


@pytest.mark.parametrize("day", [DATE_MIN, DATE_MAX], ids=["minimum", "maximum"])
def test_dates_at_the_bounds_pass_their_own_check(demo, tmp_path, day):
    value = dt.datetime.combine(day, dt.time())
    outcome = write_everywhere(demo, tmp_path, PORTEUR, ("date",), value)
    assert {k: c for k, c in per_cell(outcome).items() if c} == {}
    assert {f.code for f in outcome.findings} == {"VAL_DATES_ANNEE"}  # far from 2019


def test_date_bounds_match_the_generated_validation_and_the_programmation_years():
    from cv_excel.generation import validations
    from cv_excel.programmation.validators import YEAR_MAX, YEAR_MIN

    epoch = dt.date(1899, 12, 30)  # Excel's serial day 0
    serials = ((DATE_MIN - epoch).days, (DATE_MAX - epoch).days)
    assert serials == (validations.DATE_MIN, validations.DATE_MAX)
    assert (DATE_MIN.year, DATE_MAX.year) == (YEAR_MIN, YEAR_MAX)


# --- a check that fails unexpectedly ------------------------------------------------------

def test_a_check_that_crashes_gives_a_plain_french_finding_on_its_cell(demo, tmp_path,
                                                                        monkeypatch):
    def broken(ck, cell, value):
        raise decimal.InvalidOperation([decimal.InvalidOperation])

    monkeypatch.setitem(values_module._KINDS, "entier", broken)
    book = Book(demo.porteur, PORTEUR)
    path = tmp_path / "porteur.xlsx"
    path.write_bytes(book.to_bytes())
    findings = check_values(read_workbook(path, PORTEUR), demo.ctx)
    total = next(f for f in findings if f.field == "act_benef_total")
    assert total.code == "VAL_ILLISIBLE" and total.severity is Severity.BLOQUANT
    assert total.message == ("La valeur saisie dans « Nombre total de bénéficiaires » n'a pas "
                             "pu être vérifiée.")
    assert total.cell and total.cell in total.hint
    assert all("InvalidOperation" not in f.message + f.hint and "<class" not in f.message
               for f in findings)


@pytest.mark.parametrize("value", ["1" * 30, 1e20, "1" * 5000], ids=["30", "1E+20", "5000"])
def test_absurd_numbers_in_computed_and_prefilled_cells_never_raise(demo, tmp_path, value):
    """A locked cell changed anyway (tampering is another check's finding): reading it for
    the coherence rules once raised decimal.InvalidOperation out of the whole check."""
    book = Book(demo.porteur, PORTEUR)
    feuille = PORTEUR.section
    for champ in feuille.champs:
        if champ.role != "saisie" and champ.kind in NUMERIC:
            book.set(book.s1, champ.name, value)
    for tableau in feuille.tableaux:
        for ligne, colonne in tableau.prerempli:
            book.set_t(book.s1, tableau.name, ligne, colonne, value)
    path = tmp_path / "porteur.xlsx"
    path.write_bytes(book.to_bytes())
    lu = read_workbook(path, PORTEUR)
    findings = check_values(lu, demo.ctx)
    assert not [f for f in findings if f.code == "VAL_ILLISIBLE"]
    for section in lu.sections:
        extract.bilan_row(section)
        extract.budget_rows(section)


# --- the parsers and the store's converters ----------------------------------------------

@pytest.mark.parametrize("value", ["1" * 30, "1" * 5000, Decimal("1E+400"), 1e300])
def test_parse_amount_only_ever_raises_value_error(value):
    with contextlib.suppress(ValueError):
        parse_amount(value)
    assert parse_number(value) > 10**20


@pytest.mark.parametrize("value", [1e20, 9.3e18, -1e300, 10**30, "1" * 30, "1" * 5000,
                                   Decimal("1E+400"), "1e400", "NaN", float("inf"),
                                   float("nan"), "Infinity", object()])
def test_store_converters_never_raise_nor_overflow(value):
    section = SectionLue("Action 2019-001", values={
        "act_benef_total": Valeur(value, "Action 2019-001", "C20"),
        "act_score": Valeur(value, "Action 2019-001", "C30")})
    section.tables["bud_charges"] = [{"prevu": Valeur(value, "x", "C40"),
                                      "realise": Valeur(value, "x", "D40")}]
    section.table_keys["bud_charges"] = ["60"]
    row = extract.bilan_row(section)
    assert row["benef_total"] is None and row["score"] is None
    extract.budget_rows(section)
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (n INTEGER)")
        conn.execute("INSERT INTO t VALUES (?)", (row["benef_total"],))


def test_counts_keep_their_value_within_sqlite_range():
    assert extract.count(9e18) == 9 * 10**18  # fits; intake rejects it far earlier
    assert extract.count(INT64_MAX) == INT64_MAX
    assert extract.count(INT64_MAX + 1) is None
    assert extract.count("40") == 40 and extract.count(40.0) == 40
    assert extract.count("40,5") is None


# --- end to end: one absurd return among good ones -------------------------------------------

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("bornes") / "demo"
    run_demo_cycle(dossier, returns=False)
    work = DossierTravail.open(dossier)
    ref, _ = load_referentiel(work.path("referents"))
    registre = json.loads((dossier / "classeurs" / str(ANNEE) / "registre.json")
                          .read_text("utf-8"))
    return work, ref, registre


def test_one_absurd_return_does_not_stop_the_run(folder, tmp_path):
    work, ref, registre = folder
    porteurs = [e for e in registre if e["type"] == "porteur"][:4]
    referent = next(e for e in registre if e["type"] == "referent")
    inbox = tmp_path / "retours"
    inbox.mkdir()
    files: list[tuple[str, bytes]] = []
    for i, entry in enumerate(porteurs):
        book = Book((work.root / entry["fichier"]).read_bytes(), PORTEUR)
        fill_porteur(book)
        if i == 0:  # received first: before the fix, every later file was lost
            book.set(book.s1, "act_benef_total", 1e20)
        files.append((f"porteur {i}.xlsx", book.to_bytes()))
    book = Book((work.root / referent["fichier"]).read_bytes(), REFERENT)
    fill_referent(book)
    files.append(("référent.xlsx", book.to_bytes()))
    for i, (name, data) in enumerate(files):
        (inbox / name).write_bytes(data)
        os.utime(inbox / name, (1_700_000_000 + i, 1_700_000_000 + i))

    run = valider_et_enregistrer(work, [inbox], ref=ref)

    statut = {f.nom: f for f in run.fichiers}
    bad = statut["porteur 0.xlsx"]
    assert bad.statut == REJETE
    assert [f.code for f in bad.findings if f.severity is Severity.BLOQUANT] == [
        "VAL_INVRAISEMBLABLE"]
    good = [name for name, _ in files if name != "porteur 0.xlsx"]
    assert all(statut[name].statut in ACCEPTES for name in good), {
        n: (statut[n].statut, [f.code for f in statut[n].findings]) for n in good}
    with open_store(default_store_path(work)) as store:
        stored = {r.destinataire_id: r.donnees for r in store.execute(
            "SELECT destinataire_id, donnees FROM submissions")}
        benef = [r[0] for r in store.execute("SELECT benef_total FROM bilans")]
    assert stored[porteurs[0]["destinataire_id"]] == 0
    for entry in [*porteurs[1:], referent]:
        assert stored[entry["destinataire_id"]] == 1, entry["destinataire"]
    assert benef and max(benef) <= EFFECTIF_MAX
    journal = json.loads((work.path("archives") / "journal.json").read_text("utf-8"))
    assert len(journal) >= len(files)
