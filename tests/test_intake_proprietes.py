"""Property: whatever a person (or a program) writes into the input cells of a
generated workbook of any kind (porteur, référent, pilote, coordonnateur, relevé de
décisions), ``cv-excel valider`` never raises and
never exits non-zero, and every accepted file is stored and consolidates.

Values are huge and tiny numbers, dates far out of range, booleans, formulas,
empty strings and text of any Unicode — control characters included, written
the way Excel writes them in the XML (``_x000B_``), which the writer of this
project would never produce itself. The example count is modest in CI; the
``slow`` mark runs many more (``pytest -m slow``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import sqlite3
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.config import DossierTravail
from cv_excel.consolidation.run import consolider
from cv_excel.demo import run_demo_cycle
from cv_excel.demo.returns import filled_plan, render_return, revue_plan
from cv_excel.generation.generate import ClasseurGenere, contexte_revue, generate
from cv_excel.generation.plan import FillPlan
from cv_excel.programmation.check import read_programmation
from cv_excel.referentiel.load import load_referentiel

ACCEPTES = ("accepté", "accepté avec avertissements")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return run_demo_cycle(tmp_path_factory.mktemp("proprietes") / "base",
                          returns=False).dossier


# --- where the inputs are: walked from the spec, as generation walks it -----------------

@dataclass(frozen=True)
class Input:
    """One input cell of a plan: (where in the plan, which field)."""

    part: str  # "feuille:<key>" or "section:<i>"
    table: str | None
    row: str | int | None
    name: str


def inputs_of(plan: FillPlan) -> list[Input]:
    found: list[Input] = []
    for feuille in plan.spec.feuilles:
        if feuille.repetee or feuille.key not in plan.values:
            continue
        found += [Input(f"feuille:{feuille.key}", None, None, c.name)
                  for c in feuille.champs if c.role == "saisie"]
    section_spec = plan.spec.section
    for i, section in enumerate(plan.sections):
        found += [Input(f"section:{i}", None, None, c.name)
                  for c in section_spec.champs if c.role == "saisie"]
        for tableau in section_spec.tableaux:
            if tableau.lignes is not None:
                for ligne in tableau.lignes:
                    found += [Input(f"section:{i}", tableau.name, ligne.key, c.name)
                              for c in tableau.colonnes
                              if tableau.role_of(ligne.key, c.name) == "saisie"]
            else:
                rows = max(len(section.tables.get(tableau.name) or []), 1)
                found += [Input(f"section:{i}", tableau.name, r, c.name)
                          for r in range(rows) for c in tableau.colonnes
                          if c.role == "saisie"]
    return found


def put(plan: FillPlan, where: Input, value: Any) -> None:
    kind, key = where.part.split(":")
    if kind == "feuille":
        plan.values[key][where.name] = value
        return
    section = plan.sections[int(key)]
    if where.table is None:
        section.values[where.name] = value
        return
    table = section.tables.setdefault(where.table, {} if isinstance(where.row, str) else [])
    if isinstance(table, dict):
        table.setdefault(where.row, {})[where.name] = value
    else:
        while len(table) <= where.row:
            table.append({})
        table[where.row][where.name] = value


# --- hostile values --------------------------------------------------------------------

_TOKEN = "QZX{}QZX"
_EXCEL_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile("_x[0-9A-Fa-f]{4}_")


def excel_xml_text(text: str) -> str:
    """``text`` as Excel stores it in a sheet: ``_xHHHH_`` for what XML cannot hold."""
    text = _LITERAL_ESCAPE.sub(lambda m: "_x005F" + m[0], text)
    return escape(_EXCEL_ESCAPE.sub(lambda m: f"_x{ord(m[0]):04X}_", text))


LIST_LOOKALIKES = ["réalisée", "RÉALISÉE", unicodedata.normalize("NFD", "Réalisée"),
                   " oui ", "OUI", "Oui", "80", "80,0", "80.0", "Engagé", "engage", "Impact"]
TRICKY = ["=1+1", "=HYPERLINK(\"http://x\")", "+33 1 00 00 00 00", "-5", "@SUM(A1)",
          "1E+20", "9e18", "1" * 30, "-1e300", "1e400", "NaN", "Infinity", "0x1F",
          "1 200,50 €", "12/13/2019", "31/02/2019", "2019-02-30", "00/00/0000", "\t",
          "_x0041_", "a\r\nb", "a\x0bb", "\x00", "😀" * 20]

texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.sampled_from(TRICKY + LIST_LOOKALIKES),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "é", "😀", "\x0b", " "]),
              st.integers(0, 40_000)),
)
values = st.one_of(
    st.none(),
    st.just(""),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e20, 9e18, 2**63, -1e300, 5e-324, 0.1, 1e-7, 999_999_999.99]),
    st.dates(),
    st.datetimes(min_value=dt.datetime(1, 1, 2)),
    texts,
)


def hostile_file(base_bytes: bytes, raw: dict[str, str]) -> bytes:
    """Replace each token in the sheets by the raw text, escaped as Excel does."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base_bytes)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/") and b"QZX" in data:
                text = data.decode("utf-8")
                for token, value in raw.items():
                    text = text.replace(token, excel_xml_text(value))
                data = text.encode("utf-8")
            dst.writestr(info, data)
    return out.getvalue()


# --- the property ----------------------------------------------------------------------

class Cycle:
    """A working folder, and one returned file after another checked by the CLI."""

    def __init__(self, base: Path, root: Path, kind: str):
        shutil.copytree(base, root)
        self.work = DossierTravail.open(root)
        self.ref, _ = load_referentiel(self.work.path("referents"))
        self.programmation = read_programmation(self.work.programmation_file(2019), self.ref,
                                                annee=2019)
        self.revue = None
        if kind in REVUE_KINDS:  # a workbook of revue 1, answered as its recipient would
            self.revue = self.work.config.revues.exiger(2019, 1)
            generate(self.work, self.ref, self.programmation, 2019, kinds=(kind,), revue=1)
        registre = json.loads((self.work.path("classeurs") / "2019" / "registre.json")
                              .read_text("utf-8"))
        entries = [ClasseurGenere(**e) for e in registre if e["type"] == kind]
        self.entry = min(entries, key=lambda e: len(e.sections))  # the smallest workbook
        if self.revue is None:
            self.plan = filled_plan(self.work, self.ref, self.programmation, self.entry, 2019)
        else:
            self.plan = revue_plan(self.work, self.ref, self.programmation, self.entry,
                                   self.revue, contexte_revue(self.work, 2019, 1))
        self.inputs = inputs_of(self.plan)
        self.accepted: list[str] = []
        self.n = 0

    def check(self, changes: list[tuple[Input, Any]]) -> None:
        import copy

        plan = copy.deepcopy(self.plan)
        raw = {}
        for i, (where, value) in enumerate(changes):
            if isinstance(value, str):
                token = _TOKEN.format(i)
                raw[token] = value
                value = token
            put(plan, where, value)
        data = hostile_file(render_return(self.work, plan, self.entry), raw)
        self.n += 1
        path = self.work.root / "hostiles" / f"retour {self.n}.xlsx"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["valider", str(path), "--dossier",
                                          str(self.work.root)])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        report = Path(re.search(r"Rapport : (.+\.xlsx)", result.output.replace("\n", ""))[1])
        (row,) = json.loads(report.with_suffix(".json").read_text("utf-8"))["fichiers"]
        assert row["statut"] in (*ACCEPTES, "rejeté", "doublon")
        assert all(c["message"] and "Traceback" not in c["message"] for c in row["constats"])
        if row["statut"] in ACCEPTES:
            db = sqlite3.connect(self.work.root / "cv_excel.sqlite")
            try:
                (donnees,) = db.execute("SELECT donnees FROM submissions WHERE sha256 = ?",
                                        (row["empreinte SHA-256"],)).fetchone()
            finally:
                db.close()
            assert donnees == 1
            self.accepted.append(row["empreinte SHA-256"])

    def consolidates(self) -> None:
        result = consolider(self.work, self.ref, annee=2019, force=True)
        assert result.fichiers and all(p.exists() for p in result.fichiers)
        if self.revue is not None:
            result = consolider(self.work, self.ref, annee=2019, force=True, revue=1)
            assert result.fichiers and all(p.exists() for p in result.fichiers)


def _run(base: Path, root: Path, kind: str, examples: int) -> Cycle:
    cycle = Cycle(base, root, kind)
    changes = st.lists(st.tuples(st.sampled_from(cycle.inputs), values), max_size=6,
                       unique_by=lambda c: c[0])

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(changes)
    def prop(change_list):
        cycle.check(change_list)

    prop()
    cycle.check([])  # the untouched, well-filled return: accepted
    assert cycle.accepted, "aucun fichier accepté : la propriété n'a rien vérifié du stockage"
    cycle.consolidates()
    return cycle


REVUE_KINDS = ("pilote", "coordonnateur", "decisions")
KINDS = ["porteur", "referent", *REVUE_KINDS]


@pytest.mark.parametrize("kind", KINDS)
def test_any_value_in_any_input_never_breaks_valider(base, tmp_path, kind):
    _run(base, tmp_path / "dossier", kind, examples=25)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_any_value_in_any_input_never_breaks_valider_many_examples(base, tmp_path, kind):
    _run(base, tmp_path / "dossier", kind, examples=400)
