"""The SCDL « subventions » open-data file, checked by the receiver's own validator.

The target is the official Table Schema 2.1.1 (copy in ``tests/data``, source and
version in ``tests/data/README.md``), validated with frictionless — the tool the
schema is written for and that the national validator (validata) runs — so an
error here is an error for the receiver. The schema's ``custom_checks`` (SIRET
checksum, SIRET or RNA) are not run by frictionless: they are checked here too.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from cv_excel.config import Attribuant, DossierTravail
from cv_excel.consolidation.opendata import (
    SCDL_COLUMNS,
    SCDL_VERSION,
    attribuant_error,
    write_scdl_subventions_csv,
)
from cv_excel.consolidation.run import consolider
from cv_excel.demo.build import DEMO_SIRET_ATTRIBUANT
from cv_excel.programmation.validators import siret_error
from cv_excel.referentiel.load import load_referentiel
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.queries import load_year

frictionless = pytest.importorskip("frictionless")

SCHEMA = Path(__file__).parent / "data" / "scdl-subventions-2.1.1.schema.json"
SCDL_NAME = "Subventions 2019 (SCDL).csv"
ATTRIBUANT = Attribuant(nom="Ville d'Orly", siret=DEMO_SIRET_ATTRIBUANT)


def validate(path: Path) -> list[str]:
    """Every frictionless error of ``path`` against the official schema, as text."""
    with frictionless.system.use_context(trusted=True):  # absolute paths are ours
        report = frictionless.validate(str(path), schema=str(SCHEMA))
    errors = [e for task in report.tasks for e in task.errors] + list(report.errors)
    return [f"{e.type} {getattr(e, 'field_name', '')} {getattr(e, 'row_number', '')}: "
            f"{e.note}" for e in errors]


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = path.read_bytes().decode("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    return header, list(csv.DictReader(io.StringIO(text)))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def demo_2019(demo_master):
    """The demo's 2019 year as the consolidation reads it from the store."""
    with open_store(default_store_path(DossierTravail.open(demo_master))) as store:
        return load_year(store, "orly-2019-2022", 2019)


@pytest.fixture
def folder(demo_master, tmp_path) -> DossierTravail:
    """A copy of the demo folder, free to change."""
    return DossierTravail.open(shutil.copytree(demo_master, tmp_path / "demo", symlinks=True))


def set_siret(work: DossierTravail, siret: str) -> DossierTravail:
    """Change the SIRET in cv_excel.toml, as the Direction would."""
    toml = work.root / "cv_excel.toml"
    text, n = re.subn(r'(?m)^siret = ".*"$', f'siret = "{siret}"', toml.read_text("utf-8"))
    assert n == 1
    toml.write_text(text, encoding="utf-8")
    return DossierTravail.open(work.root)


# --- the schema we target -------------------------------------------------------------------
def test_the_shipped_schema_is_the_version_written():
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema["name"] == "subventions" and schema["version"] == SCDL_VERSION == "2.1.1"
    assert tuple(f["name"] for f in schema["fields"]) == SCDL_COLUMNS
    readme = (SCHEMA.parent / "README.md").read_text("utf-8")
    assert "https://github.com/etalab/schema-subventions" in readme and "v2.1.1" in readme


# --- the demo's file ------------------------------------------------------------------------
def test_demo_scdl_file_is_valid_against_the_official_schema(demo_master, demo_2019):
    path = demo_master / "sorties" / "2019" / SCDL_NAME
    assert validate(path) == []
    header, rows = read_rows(path)
    assert tuple(header) == SCDL_COLUMNS
    ville = sorted((a for a in demo_2019.actions if a.accorde.get("ville", 0) > 0),
                   key=lambda a: a.numero)
    assert len(rows) == len(ville) == 73  # every subsidy of the Ville is published
    for row, action in zip(rows, ville, strict=True):
        assert row["idSubvention"] == action.numero
        assert row["idAttribuant"] == row["idServiceInstructeur"] == DEMO_SIRET_ATTRIBUANT
        assert row["idBeneficiaire"] == action.porteur_siret
        # the schema's custom checks, which frictionless does not run
        assert siret_error(row["idAttribuant"]) is None
        assert siret_error(row["idBeneficiaire"]) is None
        assert row["dateConvention"] == action.convention_date.isoformat()
        assert row["referenceDecision"] == action.convention_numero
        dates = action.dates_versement["ville"]
        expected = (dates[0].isoformat() if len(dates) == 1
                    else f"{dates[0].isoformat()}/{dates[-1].isoformat()}")
        assert row["datesPeriodeVersement"] == expected
        assert row["conditionsVersement"] == ("unique" if len(dates) == 1 else "échelonné")
        assert float(row["montant"]) == float(action.accorde["ville"])
        assert row["pourcentageSubvention"] == "1.00"
        assert row["notificationUE"] == "non" and row["nature"] == "aide en numéraire"
    assert {r["conditionsVersement"] for r in rows} == {"unique", "échelonné"}


def test_formula_like_texts_stay_neutralised_and_the_file_valid(demo_2019, tmp_path):
    donnees = copy.deepcopy(demo_2019)
    target = next(a for a in donnees.actions if a.accorde.get("ville", 0) > 0)
    target.porteur_raison_sociale = '=HYPERLINK("http://exemple.invalid","clic")'
    target.intitule = "@SOMME(A1:A9)"
    export = write_scdl_subventions_csv(donnees, None, tmp_path / SCDL_NAME, ATTRIBUANT)
    assert validate(export.path) == []
    _, rows = read_rows(export.path)
    row = next(r for r in rows if r["idSubvention"] == target.numero)
    assert row["nomBeneficiaire"] == "'" + target.porteur_raison_sociale
    assert row["objet"] == "'@SOMME(A1:A9)"


def test_an_action_without_convention_date_or_payment_is_left_out_and_named(demo_2019,
                                                                             tmp_path):
    donnees = copy.deepcopy(demo_2019)
    ville = sorted((a for a in donnees.actions if a.accorde.get("ville", 0) > 0),
                   key=lambda a: a.numero)
    ville[0].convention_date = None
    ville[1].dates_versement["ville"] = []
    export = write_scdl_subventions_csv(donnees, None, tmp_path / SCDL_NAME, ATTRIBUANT)
    assert validate(export.path) == []
    _, rows = read_rows(export.path)
    assert [r["idSubvention"] for r in rows] == [a.numero for a in ville[2:]]
    convention, versement = export.avertissements
    assert f"1 action ({ville[0].numero})" in convention
    assert "« Convention – date »" in convention
    assert f"1 action ({ville[1].numero})" in versement
    assert "« Dates de versement – Ville d'Orly »" in versement


# --- the attribuant, from cv_excel.toml -----------------------------------------------------
@pytest.mark.parametrize(("siret", "reason"), [
    ("", "le SIRET de l'attribuant n'est pas renseigné"),
    ("12345678200003", "la clé de contrôle est fausse"),
    ("2194005", "il doit compter 14 chiffres (il en compte 7)"),
])
def test_attribuant_error_says_why_in_french(siret, reason):
    assert reason in attribuant_error(Attribuant(siret=siret))
    assert attribuant_error(Attribuant(siret="123 456 782 00002")) is None


def test_missing_attribuant_siret_gives_a_french_warning_and_no_file(folder):
    work = set_siret(folder, "")
    ref, _ = load_referentiel(work.path("referents"))
    scdl = work.path("sorties") / "2019" / SCDL_NAME
    assert scdl.exists()  # written by the demo cycle with its (fictitious) SIRET
    result = consolider(work, ref, 2019)
    assert not scdl.exists()  # the earlier file is removed: never a file that is now wrong
    assert scdl not in result.fichiers
    assert (work.path("sorties") / "2019" / "Export Dauphin 2019.csv").exists()
    (message,) = result.avertissements
    assert message.startswith(f"Le fichier de données ouvertes « {SCDL_NAME} » n'est pas "
                              "écrit : le SIRET de l'attribuant n'est pas renseigné")
    assert "cv_excel.toml" in message and "[attribuant]" in message
    again = consolider(work, ref, 2019)  # nothing new: the same warning, still no file
    assert again.rien_de_nouveau and again.avertissements == [message]
    assert not scdl.exists()


def test_invalid_attribuant_siret_gives_a_french_warning_and_no_file(folder):
    work = set_siret(folder, "12345678200003")
    ref, _ = load_referentiel(work.path("referents"))
    result = consolider(work, ref, 2019)
    assert not (work.path("sorties") / "2019" / SCDL_NAME).exists()
    (message,) = result.avertissements
    assert "« 12345678200003 »" in message and "la clé de contrôle est fausse" in message
    fixed = set_siret(work, DEMO_SIRET_ATTRIBUANT)  # corrected: the file comes back, valid
    result = consolider(fixed, ref, 2019)
    assert result.avertissements == []
    assert validate(work.path("sorties") / "2019" / SCDL_NAME) == []


def test_the_command_prints_the_warning(folder):
    from typer.testing import CliRunner

    from cv_excel.cli import app

    work = set_siret(folder, "")
    result = CliRunner().invoke(app, ["consolider", "--dossier", str(work.root)])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "Avertissement : Le fichier de données ouvertes" in output
    assert "le SIRET de l'attribuant n'est pas renseigné" in output
    assert "section [attribuant]" in output  # shown as text, not eaten as markup
