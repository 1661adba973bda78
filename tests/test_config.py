"""The working folder's configuration: defaults, TOML file, environment, French errors."""

import pytest

from cv_excel.config import (
    ConfigurationAbsente,
    ConfigurationInvalide,
    DossierTravail,
    write_config,
)


def test_defaults_of_a_new_file(tmp_path):
    write_config(tmp_path)
    work = DossierTravail.open(tmp_path)
    assert work.config.annee == 2019
    assert work.config.contrat == "orly-2019-2022"
    assert work.path("retours") == tmp_path.resolve() / "retours"


def test_a_folder_without_file_is_refused_and_left_empty(tmp_path):
    """No silent defaults: a command started in the wrong folder creates nothing there."""
    with pytest.raises(ConfigurationAbsente, match=r"pas de fichier cv_excel\.toml.*init"):
        DossierTravail.open(tmp_path)
    with pytest.raises(ConfigurationInvalide, match="n'existe pas"):
        DossierTravail.open(tmp_path / "absent")
    assert list(tmp_path.iterdir()) == []


def test_written_file_round_trips_with_awkward_text(tmp_path):
    write_config(tmp_path, annee=2021, direction='Direction "PV" — Orly\\Est',
                 contact_email="dpv@example.org")
    config = DossierTravail.open(tmp_path).config
    assert (config.annee, config.contact_email) == (2021, "dpv@example.org")
    assert config.direction == 'Direction "PV" — Orly\\Est'


def test_environment_overrides_file(tmp_path, monkeypatch):
    write_config(tmp_path, annee=2020)
    monkeypatch.setenv("CV_EXCEL_ANNEE", "2022")
    assert DossierTravail.open(tmp_path).config.annee == 2022


def test_custom_paths(tmp_path):
    (tmp_path / "cv_excel.toml").write_text('annee = 2020\n[chemins]\nretours = "boite"\n',
                                           encoding="utf-8")
    work = DossierTravail.open(tmp_path)
    assert work.path("retours").name == "boite"
    assert work.programmation_file(2020).name == "Programmation 2020.xlsx"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("annee = 'deux mille'\n", "« annee » : un nombre entier est attendu"),
        ("annee = 1850\n", "« annee » : valeur trop petite"),
        ("annees = 2019\n", "« annees » : réglage inconnu"),
        ("annee = \n", "n'est pas un fichier TOML lisible"),
    ],
)
def test_invalid_configuration_is_explained_in_french(tmp_path, text, expected):
    (tmp_path / "cv_excel.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationInvalide, match=expected):
        DossierTravail.open(tmp_path)
