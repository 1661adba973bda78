"""Programmation: validators, writer → checker → reader round trip, should-fail table.

File-level tests follow the pyxform style: one GOOD row, a should-pass test,
then a table of single mutations, each naming the exact code, column and row
the checker must report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cv_excel.findings import Report, Severity
from cv_excel.listes import FINANCEURS, MODES_RECUEIL, PALIERS
from cv_excel.messages import CATALOGUE
from cv_excel.programmation import (
    Programmation,
    ProgrammationInvalide,
    check_programmation,
    format_report,
    read_programmation,
    write_programmation,
)
from cv_excel.programmation.on_disk import read_programmation_on_disk
from cv_excel.programmation.schema import BY_KEY, COLUMNS, SHEET
from cv_excel.programmation.validators import (
    is_valid_email,
    is_valid_rna,
    parse_amount,
    parse_date,
    parse_dates,
    parse_year,
    siret_error,
)
from cv_excel.referentiel.models import Referentiel

ANNEE = 2019


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def referentiel() -> Referentiel:
    return Referentiel.model_validate({
        "contrat": {"code": "CV-ORLY", "libelle": "Contrat de ville d'Orly",
                    "territoire": "Orly", "periode": "2015-2020"},
        "piliers": [{"code": "A", "titre": "Cohésion sociale", "responsables": ["dpv"]}],
        "orientations": [{"code": "A1", "titre": "Réussite éducative", "pilier": "A"}],
        "objectifs_strategiques": [{"code": "A11", "titre": "Prévenir le décrochage",
                                    "orientation": "A1"}],
        "objectifs_operationnels": [
            {"code": "A111", "titre": "Accompagner la scolarité", "objectif_strategique": "A11",
             "referents": ["dpv"]},
            {"code": "A112", "titre": "Soutenir la parentalité", "objectif_strategique": "A11",
             "referents": ["dpv"]},
        ],
        "referents": [{"id": "dpv", "libelle": "Direction de la politique de la ville"}],
    })


def good_row(**changes: Any) -> dict[str, Any]:
    """One complete, valid action, keyed by schema column key, values as the reader returns."""
    row: dict[str, Any] = {c.key: None for c in COLUMNS}
    row.update({
        "numero": "2019-001",
        "annee": ANNEE,
        "porteur_raison_sociale": "Association Orly Réussite",
        "porteur_siret": "73282932000074",
        "porteur_rna": "W941234567",
        "porteur_type": "Association",
        "porteur_contact": "Camille Martin",
        "porteur_email": "camille.martin@example.org",
        "intitule": "Accompagnement à la scolarité",
        "objectif_operationnel": "A111",
        "theme_anct": "1 Cohésion sociale",
        "sous_theme_anct": "1.1 Éducation",
        "territoire": "QPV",
        "dossier_dauphin": "19-000123",
        "theme_p147": "11 EDUCATION",  # the drop-down texts; the reader keeps the codes
        "sous_theme_p147": "112 Accès à l'éducation",
        "modalite_p147": "1122 Actions spécifiques d'accompagnement à la scolarité et CLAS",
        "dispositifs_etat": "Cordées de la réussite ; École ouverte",
        "code_qpv": "ORLY-QPV-EST",
        "convention_numero": "CONV-PV-2019-001",
        "convention_date": dt.date(2019, 2, 15),
        "demande_etat": Decimal("5000.00"),
        "accorde_etat": Decimal("4000.00"),
        "demande_ville": Decimal("2500.50"),
        "accorde_ville": Decimal("2500.50"),
        "verse_ville": Decimal("2500.50"),
        "dates_versement_ville": "15/03/2019 ; 20/09/2019",
        "demande_departement": Decimal("3000.00"),
        "accorde_departement": Decimal("3000.00"),
        "departement_dispositif": "Encouragement des initiatives de proximité",
        "indicateur_libelle": "Part des enfants suivis dont les résultats progressent",
        "objectif_quantifie": "Enfants suivis dont les résultats progressent",
        "valeur_cible": Decimal("20"),
        "unite": "enfants",
        "mode_recueil": MODES_RECUEIL[1],
    })
    row.update({f"declinaison_{p}": f"{p} % des enfants progressent" for p in PALIERS})
    row.update(changes)
    return row


def second_row(**changes: Any) -> dict[str, Any]:
    """Another porteur's action, with only État and Ville money."""
    row = good_row(
        numero="2019-002", porteur_raison_sociale="Maison des familles",
        porteur_siret="35600000049837", porteur_rna=None, porteur_type="Service municipal",
        porteur_email="familles@mairie-orly.fr", objectif_operationnel="A112",
        theme_anct=None, sous_theme_anct=None, territoire="Quartier de veille active",
        demande_departement=None, accorde_departement=None, departement_dispositif=None,
        autres_financeurs_detail="Fondation de France", demande_autres=Decimal("800.00"),
        accorde_autres=Decimal("800.00"), mode_recueil=MODES_RECUEIL[3],
        objectif_quantifie=None, valeur_cible=None, unite=None,  # no quantified objective
    )
    row.update(changes)
    return row


def good_rows() -> list[dict[str, Any]]:
    return [good_row(), second_row()]


def letter(key: str) -> str:
    """Column letter the writer uses for a schema key."""
    return get_column_letter([c.key for c in COLUMNS].index(key) + 1)


def edit_sheet(path: Path, edit: Callable[[Any], None]) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb[SHEET])
    wb.save(path)


def write(tmp_path: Path, referentiel: Referentiel, rows: list[dict[str, Any]]) -> Path:
    return write_programmation(tmp_path / "programmation.xlsx", rows, referentiel, annee=ANNEE)


# --- validators -----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "detail"), [
    ("73282932000074", None),
    ("732 829 320 00074", None),
    ("732\u202f829\u202f320\u00a000074", None),
    ("35600000000048", None),  # La Poste siège: plain Luhn
    ("35600000049837", None),  # La Poste établissement: digit sum multiple of 5
    ("123", "il doit compter 14 chiffres"),
    ("732829320000741", "il doit compter 14 chiffres"),
    ("12345678901234", "la clé de contrôle est fausse"),
    ("73282932000075", "la clé de contrôle est fausse"),
    ("35600000049838", "la clé de contrôle est fausse"),
    ("7328293200007A", "il ne doit contenir que des chiffres"),
    ("", "il est vide"),
])
def test_siret_error(value: str, detail: str | None) -> None:
    error = siret_error(value)
    if detail is None:
        assert error is None
    else:
        assert error is not None and error.startswith(detail)


@pytest.mark.parametrize(("value", "ok"), [
    ("W941234567", True), ("w941234567", True), ("W 941 234 567", True), ("W9M2001234", True),
    ("941234567", False), ("W94123456", False), ("W9412345678", False), ("X941234567", False),
])
def test_is_valid_rna(value: str, ok: bool) -> None:
    assert is_valid_rna(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("camille.martin@example.org", True), ("c+tag@mairie-orly.fr", True),
    ("  a@b.fr ", True), ("camille.martin@", False), ("@example.org", False),
    ("camille martin@example.org", False), ("camille@example", False),
    ("camille..martin@example.org", False), ("camille@-example.org", False), ("", False),
])
def test_is_valid_email(value: str, ok: bool) -> None:
    assert is_valid_email(value) is ok


@pytest.mark.parametrize(("value", "expected"), [
    (2500, Decimal("2500.00")),
    (2500.5, Decimal("2500.50")),
    (Decimal("12.345"), Decimal("12.35")),
    ("2 500,50", Decimal("2500.50")),
    ("2\u202f500,50", Decimal("2500.50")),
    ("2\u00a0500", Decimal("2500.00")),
    ("2500 €", Decimal("2500.00")),
    ("2 500,00 €", Decimal("2500.00")),
    ("2.500,50", Decimal("2500.50")),
    ("2,500.50", Decimal("2500.50")),
    ("1.000.000", Decimal("1000000.00")),
    ("2500.5", Decimal("2500.50")),
    ("-200", Decimal("-200.00")),
    ("0", Decimal("0.00")),
])
def test_parse_amount(value: Any, expected: Decimal) -> None:
    assert parse_amount(value) == expected


@pytest.mark.parametrize("value", ["deux mille", "", "€", "2500 euros", "12a", "1,2,3.4.5",
                                   True, None, float("nan"), float("inf")])
def test_parse_amount_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_amount(value)


@pytest.mark.parametrize(("value", "expected"), [
    (2019, 2019), (2019.0, 2019), ("2019", 2019), (" 2 019 ", 2019),
])
def test_parse_year(value: Any, expected: int) -> None:
    assert parse_year(value) == expected


@pytest.mark.parametrize("value", ["deux mille dix-neuf", 19, 2019.5, "19", 1850, "", True])
def test_parse_year_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_year(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("15/03/2019", dt.date(2019, 3, 15)), ("5/3/2019", dt.date(2019, 3, 5)),
    ("2019-03-15", dt.date(2019, 3, 15)), (" 15.03.2019 ", dt.date(2019, 3, 15)),
    (dt.date(2019, 3, 15), dt.date(2019, 3, 15)), (dt.datetime(2019, 3, 15), dt.date(2019, 3, 15)),
])
def test_parse_date(value: Any, expected: dt.date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2019", "15/03/19", "mars 2019", 43539.0, "",
                                   "15/03/1850", dt.datetime(2019, 3, 15, 10, 30), None])
def test_parse_date_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_parse_dates_in_one_cell() -> None:
    assert parse_dates("20/09/2019 ; 15/03/2019") == [dt.date(2019, 3, 15), dt.date(2019, 9, 20)]
    assert parse_dates("15/03/2019, 20/09/2019\n02/01/2020") == [
        dt.date(2019, 3, 15), dt.date(2019, 9, 20), dt.date(2020, 1, 2)]
    with pytest.raises(ValueError, match="bientôt"):
        parse_dates("15/03/2019 ; bientôt")
    with pytest.raises(ValueError):
        parse_dates(" ; ")


# --- should pass ----------------------------------------------------------------------------
def test_good_rows_pass_and_read_back_equal(tmp_path: Path, referentiel: Referentiel) -> None:
    rows = good_rows()
    path = write(tmp_path, referentiel, rows)
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.findings == [], format_report(report)
    programmation = read_programmation(path, referentiel)
    assert programmation.annee == ANNEE
    assert [a.to_row() for a in programmation.actions] == rows


def test_financements_without_amount_are_one_shared_immutable_instance(
        tmp_path: Path, referentiel: Referentiel) -> None:
    """The financeurs of an action that gave nothing are shared between actions (memory);
    a financement is immutable, so no action can change another's."""
    programmation = read_programmation(write(tmp_path, referentiel, good_rows()), referentiel)
    first, second = programmation.actions[:2]
    empty = [(a, b) for a, b in zip(first.financements, second.financements, strict=True)
             if a.accorde is None and b.accorde is None and a.demande is None
             and b.demande is None and a.verse is None and b.verse is None]
    assert empty and all(a is b for a, b in empty)
    granted = next(f for f in first.financements if f.accorde)
    assert all(granted is not f for a in programmation.actions[1:] for f in a.financements)
    with pytest.raises(ValueError):
        empty[0][0].accorde = Decimal("1.00")
    assert empty[0][1].accorde is None


def test_texts_are_held_in_the_one_normal_form(tmp_path: Path,
                                               referentiel: Referentiel) -> None:
    """A Word line break, CR-LF or an NFD accent in the programmation is the same text in the
    workbook, its fingerprint, the store and the reports (issue 9, case 6)."""
    programmation = read_programmation(write(tmp_path, referentiel, good_rows()), referentiel)
    raw = programmation.actions[0].model_dump()
    raw["intitule"] = "Aide aux de\u0301voirs\x0bdu soir\r\n(CP-CM2)\ufffe"
    raw["porteur"]["raison_sociale"] = "Association\u2028des parents"
    action = type(programmation.actions[0]).model_validate(raw)
    assert action.intitule == "Aide aux d\u00e9voirs\ndu soir\n(CP-CM2)"  # NFC, one break
    assert action.porteur.raison_sociale == "Association\ndes parents"


def test_models_helpers(tmp_path: Path, referentiel: Referentiel) -> None:
    rows = [*good_rows(), good_row(numero="2019-003", objectif_operationnel="A112")]
    programmation = read_programmation(write(tmp_path, referentiel, rows), referentiel)
    first = programmation.actions[0]
    assert [f.financeur for f in first.financements] == [f.key for f in FINANCEURS]
    assert first.accorde("etat") == Decimal("4000.00")
    assert first.accorde("caf") == Decimal("0")
    assert first.montant_accorde_total == Decimal("9500.50")
    assert [p.id for p in programmation.porteurs()] == ["73282932000074", "35600000049837"]
    assert [a.numero for a in programmation.actions_of("73282932000074")] == ["2019-001",
                                                                              "2019-003"]
    by_oo = programmation.actions_by_objectif()
    assert list(by_oo) == ["A111", "A112"]
    assert [a.numero for a in by_oo["A112"]] == ["2019-002", "2019-003"]
    assert first.indicateur.declinaisons[40] == "40 % des enfants progressent"


def test_numbers_typed_in_code_columns_are_accepted(tmp_path: Path,
                                                    referentiel: Referentiel) -> None:
    """Calamine gives 73282932000074.0 for a SIRET typed as a number; it is still a SIRET."""
    path = write(tmp_path, referentiel, good_rows())

    def as_numbers(ws: Any) -> None:
        ws[f"{letter('porteur_siret')}2"].value = 73282932000074
        ws[f"{letter('annee')}2"].value = "2019"
        ws[f"{letter('demande_etat')}2"].value = "5 000,00 €"

    edit_sheet(path, as_numbers)
    programmation = read_programmation(path, referentiel, annee=ANNEE)
    first = programmation.actions[0]
    assert first.porteur.siret == "73282932000074"
    assert first.annee == ANNEE
    assert first.financement("etat").demande == Decimal("5000.00")


def test_tolerant_headers_and_list_values(tmp_path: Path, referentiel: Referentiel) -> None:
    """Case, accents and spaces of headers and list values do not matter; order is free."""
    path = write(tmp_path, referentiel, good_rows())

    def retype(ws: Any) -> None:
        ws[f"{letter('territoire')}1"].value = "  TERRITOIRE "
        ws[f"{letter('porteur_type')}1"].value = "porteur - type de structure"
        ws[f"{letter('territoire')}2"].value = "qpv"
        ws.move_range("A1:A3", cols=200)  # N° d'action moved to the far right

    edit_sheet(path, retype)
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.findings == [], format_report(report)
    assert read_programmation(path, referentiel).actions[0].territoire == "QPV"


def test_empty_model_has_no_action(tmp_path: Path, referentiel: Referentiel) -> None:
    path = write(tmp_path, referentiel, [])
    report = check_programmation(path, referentiel)
    assert report.codes() == ["PROG_AUCUNE_ACTION"]
    assert report.valid
    assert read_programmation(path, referentiel) == Programmation(annee=None, actions=[])


# --- should fail ----------------------------------------------------------------------------
RowsEdit = Callable[[list[dict[str, Any]]], None]
FileEdit = Callable[[Any], None]


def rows_edit(index: int, **changes: Any) -> RowsEdit:
    def edit(rows: list[dict[str, Any]]) -> None:
        rows[index].update(changes)
    return edit


def cell_edit(key: str, row: int, value: Any) -> FileEdit:
    def edit(ws: Any) -> None:
        ws[f"{letter(key)}{row}"].value = value
    return edit


def no_accorde(rows: list[dict[str, Any]]) -> None:
    for f in FINANCEURS:  # nothing granted, so nothing paid either
        rows[0][f"accorde_{f.key}"] = None
        rows[0][f"verse_{f.key}"] = rows[0][f"dates_versement_{f.key}"] = None


def extra_header(ws: Any) -> None:
    ws.cell(row=1, column=len(COLUMNS) + 1, value="Remarques")
    ws.cell(row=2, column=len(COLUMNS) + 1, value="à revoir")


def duplicate_header(ws: Any) -> None:
    ws.cell(row=1, column=len(COLUMNS) + 1, value="Territoire")


# (name, edit of the rows before writing or of the sheet after, code, column header, row)
SHOULD_FAIL: list[tuple[str, RowsEdit | FileEdit, bool, str, str, int]] = [
    ("oo inconnu", rows_edit(0, objectif_operationnel="Z999"), False,
     "PROG_OO_INCONNU", "Objectif opérationnel", 2),
    ("numéro en double", rows_edit(1, numero="2019-001"), False,
     "PROG_NUMERO_DOUBLON", "N° d'action", 3),
    ("siret trop court", rows_edit(0, porteur_siret="123"), False,
     "PROG_SIRET_INVALIDE", "Porteur – SIRET", 2),
    ("siret clé fausse", rows_edit(1, porteur_siret="12345678901234"), False,
     "PROG_SIRET_INVALIDE", "Porteur – SIRET", 3),
    ("e-mail invalide", rows_edit(0, porteur_email="camille.martin@"), False,
     "PROG_EMAIL_INVALIDE", "Porteur – e-mail", 2),
    ("montant négatif", rows_edit(0, demande_etat=Decimal("-100")), False,
     "PROG_MONTANT_NEGATIF", "Demandé – État (BOP 147)", 2),
    ("montant en lettres", cell_edit("demande_ville", 2, "deux mille"), True,
     "PROG_MONTANT_NON_NUMERIQUE", "Demandé – Ville d'Orly", 2),
    ("montant invraisemblable", cell_edit("demande_ville", 2, "1" * 30), True,
     "PROG_MONTANT_INVRAISEMBLABLE", "Demandé – Ville d'Orly", 2),
    ("déclinaison manquante", rows_edit(0, declinaison_40=None), False,
     "PROG_DECLINAISON_MANQUANTE", "Déclinaison 40", 2),
    ("mode de recueil inconnu", rows_edit(1, mode_recueil="Au doigt mouillé"), False,
     "PROG_MODE_RECUEIL_INCONNU", "Mode de recueil", 3),
    ("valeur hors liste", rows_edit(0, territoire="Centre-ville"), False,
     "PROG_VALEUR_HORS_LISTE", "Territoire", 2),
    ("valeur requise", rows_edit(0, intitule=None), False,
     "PROG_VALEUR_REQUISE", "Intitulé de l'action", 2),
    ("colonne absente", cell_edit("porteur_contact", 1, None), True,
     "PROG_COLONNE_ABSENTE", "Porteur – contact", 1),
    ("colonne inconnue", extra_header, True,
     "PROG_COLONNE_INCONNUE", "Remarques", 1),
    ("colonne en double", duplicate_header, True,
     "PROG_COLONNE_EN_DOUBLE", "Territoire", 1),
    ("sous-thème d'un autre thème", rows_edit(0, sous_theme_anct="2.1 Emploi"), False,
     "PROG_SOUS_THEME_INCOHERENT", "Sous-thème ANCT", 2),
    ("département sans dispositif", rows_edit(0, departement_dispositif=None), False,
     "PROG_DISPOSITIF_DEPARTEMENT_MANQUANT", "Département – dispositif", 2),
    ("rna invalide", rows_edit(0, porteur_rna="12345"), False,
     "PROG_RNA_INVALIDE", "Porteur – RNA", 2),
    ("année en lettres", rows_edit(1, annee="deux mille dix-neuf"), False,
     "PROG_ANNEE_INVALIDE", "Année", 3),
    ("année sur deux chiffres", rows_edit(0, annee=19), False,
     "PROG_ANNEE_INVALIDE", "Année", 2),
    ("année différente", rows_edit(1, annee=2018), False,
     "PROG_ANNEE_DIFFERENTE", "Année", 3),
    ("accordé supérieur au demandé", rows_edit(0, accorde_etat=Decimal("6000")), False,
     "PROG_ACCORDE_SUPERIEUR_DEMANDE", "Accordé – État (BOP 147)", 2),
    ("aucun accordé", no_accorde, False,
     "PROG_AUCUN_FINANCEMENT", "Accordé – État (BOP 147)", 2),
    ("même siret, autre nom", rows_edit(1, porteur_siret="73282932000074"), False,
     "PROG_PORTEUR_INCOHERENT", "Porteur – raison sociale", 3),
    ("texte trop long", rows_edit(0, intitule="x" * 251), False,
     "PROG_TEXTE_TROP_LONG", "Intitulé de l'action", 2),
    ("date de convention impossible", cell_edit("convention_date", 2, "31/02/2019"), True,
     "PROG_DATE_INVALIDE", "Convention – date", 2),
    ("date de versement en lettres",
     cell_edit("dates_versement_ville", 2, "15/03/2019 ; bientôt"), True,
     "PROG_DATES_INVALIDES", "Dates de versement – Ville d'Orly", 2),
    ("versé supérieur à l'accordé", rows_edit(0, verse_ville=Decimal("3000")), False,
     "PROG_VERSE_SUPERIEUR_ACCORDE", "Versé – Ville d'Orly", 2),
    ("versé sans date", rows_edit(0, dates_versement_ville=None), False,
     "PROG_VERSE_SANS_DATE", "Dates de versement – Ville d'Orly", 2),
    ("dates sans versé", rows_edit(0, verse_ville=None), False,
     "PROG_DATES_SANS_VERSE", "Versé – Ville d'Orly", 2),
    ("versement avant la convention", rows_edit(0, convention_date=dt.date(2019, 4, 1)), False,
     "PROG_VERSEMENT_AVANT_CONVENTION", "Dates de versement – Ville d'Orly", 2),
    # a workbook made before the column existed stays readable (a warning only)
    ("colonne ajoutée depuis absente", cell_edit("verse_caf", 1, None), True,
     "PROG_COLONNE_AJOUTEE_ABSENTE", "Versé – CAF du Val-de-Marne", 1),
    ("colonne de l'État absente", cell_edit("code_qpv", 1, None), True,
     "PROG_COLONNE_ETAT_ABSENTE", "Code QPV", 1),
    # the État's columns (issue 11)
    ("modalité P147 inconnue", rows_edit(0, modalite_p147="9999"), False,
     "PROG_P147_INCONNU", "Modalité P147", 2),
    ("sous-thème P147 à 4 chiffres", rows_edit(0, sous_theme_p147="1122"), False,
     "PROG_P147_INCONNU", "Sous-thème P147", 2),
    ("sous-thème P147 d'une autre modalité", rows_edit(0, sous_theme_p147="111"), False,
     "PROG_P147_INCOHERENT", "Sous-thème P147", 2),
    ("thème P147 absent de la nomenclature", rows_edit(0, theme_p147="12",
                                                       modalite_p147=None),
     False, "PROG_P147_INCONNU", "Thème P147", 2),
    ("dispositif de l'État hors liste",
     rows_edit(0, dispositifs_etat="Adultes-relais ; Plan banlieue"), False,
     "PROG_VALEUR_HORS_LISTE", "Dispositifs de l'État", 2),
    ("code QPV hors cv_excel.toml", rows_edit(0, code_qpv="QP094999"), False,
     "PROG_CODE_QPV_INCONNU", "Code QPV", 2),
    # the quantified objective (issue 11)
    ("valeur cible en lettres", cell_edit("valeur_cible", 2, "vingt jeunes"), True,
     "PROG_NOMBRE_NON_NUMERIQUE", "Valeur cible", 2),
    ("valeur cible nulle", rows_edit(0, valeur_cible=0), False,
     "PROG_NOMBRE_HORS_BORNES", "Valeur cible", 2),
    ("valeur cible négative", rows_edit(0, valeur_cible=Decimal("-5")), False,
     "PROG_NOMBRE_HORS_BORNES", "Valeur cible", 2),
    ("valeur cible invraisemblable", cell_edit("valeur_cible", 2, "1" * 30), True,
     "PROG_NOMBRE_HORS_BORNES", "Valeur cible", 2),
    ("valeur cible au-delà d'un million", rows_edit(1, valeur_cible=1_000_001,
                                                     objectif_quantifie="Heures", unite="h"),
     False, "PROG_NOMBRE_HORS_BORNES", "Valeur cible", 3),
    ("valeur cible sans unité", rows_edit(0, unite=None), False,
     "PROG_OBJECTIF_INCOMPLET", "Unité", 2),
    ("valeur cible sans objectif ni unité", rows_edit(0, objectif_quantifie=None, unite=None),
     False, "PROG_OBJECTIF_INCOMPLET", "Objectif quantifié", 2),
    ("objectif sans valeur cible", rows_edit(0, valeur_cible=None), False,
     "PROG_OBJECTIF_INCOMPLET", "Valeur cible", 2),
    ("colonne de l'objectif absente", cell_edit("unite", 1, None), True,
     "PROG_COLONNE_OBJECTIF_ABSENTE", "Unité", 1),
]


def run_case(tmp_path: Path, referentiel: Referentiel, edit: Any, on_file: bool) -> Report:
    rows = good_rows()
    if not on_file:
        edit(rows)
    path = write(tmp_path, referentiel, rows)
    if on_file:
        edit_sheet(path, edit)
    return check_programmation(path, referentiel, annee=ANNEE)


@pytest.mark.parametrize(("name", "edit", "on_file", "code", "column", "row"), SHOULD_FAIL,
                         ids=[case[0] for case in SHOULD_FAIL])
def test_should_fail(tmp_path: Path, referentiel: Referentiel, name: str, edit: Any,
                     on_file: bool, code: str, column: str, row: int) -> None:
    report = run_case(tmp_path, referentiel, edit, on_file)
    assert report.codes() == [code], format_report(report)
    finding = report.findings[0]
    assert (finding.column, finding.row, finding.sheet) == (column, row, SHEET)
    assert finding.file == str(tmp_path / "programmation.xlsx")
    if code not in ("PROG_COLONNE_ABSENTE", "PROG_COLONNE_INCONNUE", "PROG_COLONNE_EN_DOUBLE",
                    "PROG_COLONNE_AJOUTEE_ABSENTE", "PROG_COLONNE_ETAT_ABSENTE",
                    "PROG_COLONNE_OBJECTIF_ABSENTE"):
        key = BY_KEY[finding.field].key
        assert finding.cell == f"{letter(key)}{row}"
        assert BY_KEY[finding.field].header == column
    path = tmp_path / "programmation.xlsx"
    if finding.severity is Severity.BLOQUANT:
        with pytest.raises(ProgrammationInvalide) as raised:
            read_programmation(path, referentiel)
        assert raised.value.report.codes() == [code]
        with pytest.raises(ProgrammationInvalide) as on_disk:  # the same report, no file
            read_programmation_on_disk(path, referentiel)
        assert on_disk.value.report.findings == raised.value.report.findings
    else:  # a warning: both readers give the same actions
        with read_programmation_on_disk(path, referentiel) as on_disk:
            assert list(on_disk) == read_programmation(path, referentiel).actions


def test_siret_message_and_report_line(tmp_path: Path, referentiel: Referentiel) -> None:
    report = run_case(tmp_path, referentiel, rows_edit(0, porteur_siret="123"), False)
    cell = f"{letter('porteur_siret')}2"
    assert format_report(report) == [
        f"Ligne 2, colonne « Porteur – SIRET » (Programmation!{cell}) : Le SIRET « 123 » "
        "n'est pas valide : il doit compter 14 chiffres (il en compte 3). → Un SIRET compte "
        "14 chiffres (SIREN + NIC) ; recopiez-le depuis l'avis de situation INSEE ou "
        "l'annuaire des entreprises."
    ]
    key_error = run_case(tmp_path, referentiel, rows_edit(0, porteur_siret="12345678901234"),
                         False)
    assert "la clé de contrôle est fausse" in key_error.findings[0].message


def test_all_problems_reported_at_once(tmp_path: Path, referentiel: Referentiel) -> None:
    """Lazy check: several problems on several rows, all reported, in row order."""
    rows = [good_row(porteur_email="x@", territoire="Ailleurs"),
            second_row(objectif_operationnel="Z1", porteur_siret="1")]
    report = check_programmation(write(tmp_path, referentiel, rows), referentiel)
    assert sorted((f.row, f.code) for f in report) == [
        (2, "PROG_EMAIL_INVALIDE"), (2, "PROG_VALEUR_HORS_LISTE"),
        (3, "PROG_OO_INCONNU"), (3, "PROG_SIRET_INVALIDE"),
    ]
    hors_liste = next(f for f in report if f.code == "PROG_VALEUR_HORS_LISTE")
    assert "« QPV », « Quartier de veille active » ou « Hors QPV »" in hors_liste.hint


def test_not_an_xlsx_is_reported_not_raised(tmp_path: Path, referentiel: Referentiel) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"hello")
    report = check_programmation(path, referentiel)
    assert report.codes() == ["PROG_FICHIER_ILLISIBLE"]
    assert report.findings[0].file == str(path)
    missing = check_programmation(tmp_path / "absent.xlsx", referentiel)
    assert missing.codes() == ["PROG_FICHIER_ILLISIBLE"]
    csv = tmp_path / "programmation.csv"
    csv.write_text("a;b\n")
    assert check_programmation(csv, referentiel).codes() == ["PROG_FICHIER_ILLISIBLE"]


def test_missing_sheet(tmp_path: Path, referentiel: Referentiel) -> None:
    path = write(tmp_path, referentiel, good_rows())
    wb = openpyxl.load_workbook(path)
    wb[SHEET].title = "Feuil1"
    wb.save(path)
    assert check_programmation(path, referentiel).codes() == ["PROG_FEUILLE_ABSENTE"]


# --- the written workbook -------------------------------------------------------------------
def test_formula_like_text_is_stored_as_text(tmp_path: Path, referentiel: Referentiel) -> None:
    texts = {"intitule": "=1+1", "autres_financeurs_detail": "@SUM(A1)",
             "porteur_contact": "-Camille", "declinaison_0": "+ rien"}
    path = write(tmp_path, referentiel, [good_row(**texts)])
    ws = openpyxl.load_workbook(path)[SHEET]
    for key, text in texts.items():
        cell = ws[f"{letter(key)}2"]
        assert (cell.value, cell.data_type) == (text, "s")
    action = read_programmation(path, referentiel).actions[0]
    assert action.intitule == "=1+1"
    assert action.autres_financeurs_detail == "@SUM(A1)"


def test_defined_names_and_validations(tmp_path: Path, referentiel: Referentiel) -> None:
    path = write(tmp_path, referentiel, good_rows())
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Lisez-moi", SHEET, "Listes"]
    ws = wb[SHEET]
    validations = ws.data_validations.dataValidation
    by_formula = {dv.formula1.lstrip("="): dv for dv in validations if dv.type == "list"}
    list_columns = [c for c in COLUMNS if c.list_name]
    assert list_columns
    for col in list_columns:
        assert col.list_name in wb.defined_names
        destinations = list(wb.defined_names[col.list_name].destinations)
        assert destinations[0][0] == "Listes"
        dv = by_formula[col.list_name]
        assert f"{letter(col.key)}2:{letter(col.key)}1000" in str(dv.sqref)
    listes = wb["Listes"]
    oo_ref = wb.defined_names["liste_objectifs_operationnels"].attr_text
    assert oo_ref == "'Listes'!$A$2:$A$3"
    assert [listes["A2"].value, listes["B2"].value] == ["A111", "Accompagner la scolarité"]
    cible = f"{letter('valeur_cible')}2:{letter('valeur_cible')}1000"
    decimals = [dv for dv in validations if dv.type == "decimal" and str(dv.sqref) != cible]
    assert {str(dv.sqref) for dv in decimals} >= {f"{letter('accorde_etat')}2:"
                                                   f"{letter('accorde_etat')}1000"}
    assert all(dv.operator == "greaterThanOrEqual" and dv.formula1 == "0" for dv in decimals)
    assert len(decimals) == 3 * len(FINANCEURS)  # demandé, accordé, versé
    (target,) = [dv for dv in validations if str(dv.sqref) == cible]  # a quantity > 0
    assert (target.type, target.operator, target.formula1) == ("decimal", "greaterThan", "0")
    dates = [dv for dv in validations if dv.type == "date"]
    assert [str(dv.sqref) for dv in dates] == [f"{letter('convention_date')}2:"
                                               f"{letter('convention_date')}1000"]
    assert ws[f"{letter('convention_date')}2"].number_format == "DD/MM/YYYY"
    assert ws[f"{letter('dates_versement_ville')}2"].number_format == "@"
    assert [dv.type for dv in validations
            if str(dv.sqref).startswith(f"{letter('annee')}2:")] == ["whole"]
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}3"
    assert ws[f"{letter('accorde_etat')}2"].number_format == '#,##0.00 "€"'
    assert ws[f"{letter('porteur_siret')}1"].comment.text.startswith("14 chiffres")
    assert ws.column_dimensions[letter("intitule")].width == BY_KEY["intitule"].width


def test_lisez_moi_explains_the_rules(tmp_path: Path, referentiel: Referentiel) -> None:
    path = write(tmp_path, referentiel, [])
    ws = openpyxl.load_workbook(path)["Lisez-moi"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "Programmation 2019" in text
    assert "cv-excel programmation verifier" in text
    assert "Département – dispositif" in text
    for mode in MODES_RECUEIL:
        assert mode in text
    assert "L'action a dépassé ses résultats attendus" in text


def test_write_is_atomic(tmp_path: Path, referentiel: Referentiel) -> None:
    path = write(tmp_path, referentiel, good_rows())
    write(tmp_path, referentiel, [])  # overwriting leaves no temporary file behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# --- the catalogue, as the checker uses it --------------------------------------------------
def test_every_prog_code_is_emitted_and_fully_rendered(tmp_path: Path,
                                                       referentiel: Referentiel) -> None:
    findings = []
    for index, (_name, edit, on_file, _code, _column, _row) in enumerate(SHOULD_FAIL):
        case_dir = tmp_path / str(index)
        case_dir.mkdir()
        findings += run_case(case_dir, referentiel, edit, on_file).findings
    (tmp_path / "x.xlsx").write_bytes(b"hello")
    findings += check_programmation(tmp_path / "x.xlsx", referentiel).findings
    findings += check_programmation(write(tmp_path, referentiel, []), referentiel).findings
    path = write(tmp_path, referentiel, good_rows())
    wb = openpyxl.load_workbook(path)
    wb[SHEET].title = "Autre"
    wb.save(path)
    findings += check_programmation(path, referentiel).findings

    prog_codes = {code for code in CATALOGUE if code.startswith("PROG_")}
    assert {f.code for f in findings} == prog_codes
    for finding in findings:
        assert "?" not in finding.message + finding.hint, finding
        assert "{" not in finding.message + finding.hint, finding
    lines = format_report(Report(findings=findings))
    assert all(" : " in line for line in lines)


# --- the État's columns (issue 11) ----------------------------------------------------------
@pytest.mark.parametrize(("changes", "expected"), [
    # a modalité alone implies its sous-thème and thème
    ({"theme_p147": None, "sous_theme_p147": None, "modalite_p147": "1122"},
     ("11", "112", "1122")),
    # the drop-down text, or the code typed alone
    ({"theme_p147": "11 EDUCATION", "sous_theme_p147": None,
      "modalite_p147": "1121 Agir contre l'échec scolaire"}, ("11", "112", "1121")),
    ({"theme_p147": None, "sous_theme_p147": "111", "modalite_p147": None}, ("11", "111", None)),
    ({"theme_p147": "11", "sous_theme_p147": None, "modalite_p147": None}, ("11", None, None)),
])
def test_p147_should_pass(tmp_path: Path, referentiel: Referentiel, changes: dict[str, Any],
                          expected: tuple[str | None, ...]) -> None:
    path = write(tmp_path, referentiel, [good_row(**changes), second_row()])
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.findings == [], format_report(report)
    action = read_programmation(path, referentiel).actions[0]
    assert (action.theme_p147, action.sous_theme_p147, action.modalite_p147) == expected


def test_etat_tags_and_qpv_should_pass(tmp_path: Path, referentiel: Referentiel) -> None:
    from cv_excel.config import Quartier

    row = good_row(dispositifs_etat="adultes-relais;  QUARTIERS D'ETE ; Adultes-relais",
                   code_qpv=" qp094999 ")
    path = write(tmp_path, referentiel, [row, second_row(code_qpv=None)])
    quartiers = [Quartier(code="QP094999", nom="Quartier test")]
    report = check_programmation(path, referentiel, annee=ANNEE, quartiers=quartiers)
    assert report.findings == [], format_report(report)
    action = read_programmation(path, referentiel, quartiers=quartiers).actions[0]
    assert action.dispositifs_etat == ["Adultes-relais", "Quartiers d'été"]
    assert action.code_qpv == "QP094999"
    assert action.dossier_dauphin == "19-000123"


def test_old_programmation_without_etat_columns_is_read(tmp_path: Path,
                                                        referentiel: Referentiel) -> None:
    """A workbook made before issue 11: the six État columns are missing, it still reads
    (one warning per column, values empty)."""
    path = write(tmp_path, referentiel, good_rows())
    keys = ("dossier_dauphin", "theme_p147", "sous_theme_p147", "modalite_p147",
            "dispositifs_etat", "code_qpv")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    for index in sorted(([c.key for c in COLUMNS].index(k) + 1 for k in keys), reverse=True):
        ws.delete_cols(index)
    wb.save(path)
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.codes() == ["PROG_COLONNE_ETAT_ABSENTE"] * len(keys), format_report(report)
    assert report.valid
    action = read_programmation(path, referentiel).actions[0]
    assert (action.dossier_dauphin, action.modalite_p147, action.code_qpv) == (None,) * 3
    assert action.dispositifs_etat == []


def test_p147_and_qpv_drop_downs(tmp_path: Path, referentiel: Referentiel) -> None:
    from cv_excel.config import QUARTIERS_ORLY

    wb = openpyxl.load_workbook(write(tmp_path, referentiel, []))
    names = wb.defined_names
    for name in ("liste_theme_p147", "liste_sous_theme_p147", "liste_modalite_p147",
                 "liste_dispositifs_etat", "liste_codes_qpv"):
        assert name in names, name
    listes = wb["Listes"]
    values = {c.value for row in listes.iter_rows() for c in row}
    assert "1111 Ingénierie et fonctionnement (équipes de réussite éducative)" in values
    assert {q.code for q in QUARTIERS_ORLY} <= values


# --- the quantified objective (issue 11) ----------------------------------------------------
@pytest.mark.parametrize(("typed", "expected"), [
    (Decimal("20"), Decimal("20")),
    ("12,5", Decimal("12.5")),  # typed as French text
    ("1 500", Decimal("1500")),
    (0.25, Decimal("0.25")),
    (1_000_000, Decimal("1000000")),  # the plausibility bound itself
])
def test_quantified_objective_should_pass(tmp_path: Path, referentiel: Referentiel,
                                          typed: Any, expected: Decimal) -> None:
    path = write(tmp_path, referentiel, good_rows())
    edit_sheet(path, cell_edit("valeur_cible", 2, typed))
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.findings == [], format_report(report)
    first, second = read_programmation(path, referentiel).actions
    assert (first.objectif_quantifie, first.valeur_cible, first.unite) == (
        "Enfants suivis dont les résultats progressent", expected, "enfants")
    assert (second.objectif_quantifie, second.valeur_cible, second.unite) == (None,) * 3


def test_quantified_objective_messages_in_french(tmp_path: Path,
                                                 referentiel: Referentiel) -> None:
    report = run_case(tmp_path, referentiel, rows_edit(0, objectif_quantifie=None, unite=None),
                      False)
    (f,) = report.findings
    assert f.severity is Severity.AVERTISSEMENT
    assert "il manque « Objectif quantifié » et « Unité »" in f.message
    report = run_case(tmp_path, referentiel, cell_edit("valeur_cible", 2, "-3,5"), True)
    (f,) = report.findings
    assert "« -3,5 »" in f.message and "supérieure à 0" in f.message


def test_old_programmation_without_objective_columns_is_read(tmp_path: Path,
                                                             referentiel: Referentiel) -> None:
    """A workbook made before the quantified objective: its three columns are missing, it
    still reads (one warning per column, values empty)."""
    path = write(tmp_path, referentiel, good_rows())
    keys = ("objectif_quantifie", "valeur_cible", "unite")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    for index in sorted(([c.key for c in COLUMNS].index(k) + 1 for k in keys), reverse=True):
        ws.delete_cols(index)
    wb.save(path)
    report = check_programmation(path, referentiel, annee=ANNEE)
    assert report.codes() == ["PROG_COLONNE_OBJECTIF_ABSENTE"] * 3, format_report(report)
    assert report.valid
    action = read_programmation(path, referentiel).actions[0]
    assert (action.objectif_quantifie, action.valeur_cible, action.unite) == (None,) * 3
