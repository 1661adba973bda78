"""Load the embedded référentiel and merge the Direction's contact directory.

The tree itself is package data extracted once from the contract (see
``scripts/extract_referentiel.py``); only the people's names and e-mails change
during the contract's life, and the Direction keeps them in ``referents.xlsx``
of the working folder, which this module reads and writes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from cv_excel.config import DossierTravail
from cv_excel.findings import Report, make_finding
from cv_excel.programmation.validators import is_valid_email
from cv_excel.referentiel.models import Referentiel
from cv_excel.xlsxio import save_workbook_atomic, set_text

ANNUAIRE_SHEET = "Référents"
ANNUAIRE_HEADERS = ("Identifiant", "Libellé", "Rôles dans le contrat", "Nom", "E-mail",
                    "Téléphone")


class ReferentielIntrouvable(Exception):
    """No embedded référentiel for the requested contrat."""


@lru_cache(maxsize=1)
def _embedded_text() -> str:
    return resources.files("cv_excel").joinpath("data/referentiel.json").read_text("utf-8")


def embedded_referentiel() -> Referentiel:
    """The contract tree shipped with the package (a fresh copy each call)."""
    return Referentiel.model_validate(json.loads(_embedded_text()))


def load_referentiel(
    annuaire: Path | None = None, contrat: str | None = None
) -> tuple[Referentiel, Report]:
    """The embedded tree, with names and e-mails from ``annuaire`` when it exists."""
    ref = embedded_referentiel()
    if contrat is not None and contrat != ref.contrat.code:
        raise ReferentielIntrouvable(
            f"Aucun référentiel embarqué pour le contrat « {contrat} » "
            f"(disponible : « {ref.contrat.code} »)."
        )
    report = Report(file=str(annuaire) if annuaire else None)
    if annuaire is not None and Path(annuaire).is_file():
        report = merge_annuaire(ref, Path(annuaire))
    return ref, report


def load_for_folder(work: DossierTravail) -> tuple[Referentiel, Report]:
    """The référentiel of a working folder: its contrat's — or the kit named by
    ``referentiel`` in its configuration, under the folder's contrat code and name —
    merged with its ``referents.xlsx``."""
    config = work.config
    kit = config.referentiel or config.contrat
    ref, report = load_referentiel(work.path("referents"), contrat=kit)
    if kit != config.contrat:
        ref.contrat = ref.contrat.model_copy(update={
            "code": config.contrat, "libelle": config.libelle or f"Contrat {config.contrat}",
            "territoire": config.attribuant.nom,
            "quartiers": [q.nom for q in config.territoire.quartiers]})
    return ref, report


def roles_of(ref: Referentiel, referent_id: str) -> str:
    """French summary of where a person sits in the chain of responsibility."""
    parts = []
    for label, items, attr in (
        ("Responsable", ref.piliers, "responsables"),
        ("Coordonnateur", ref.orientations, "coordonnateurs"),
        ("Pilote", ref.objectifs_strategiques, "pilotes"),
        ("Référent", ref.objectifs_operationnels, "referents"),
    ):
        codes = [i.code for i in items if referent_id in getattr(i, attr)]
        if codes:
            parts.append(f"{label} {', '.join(codes)}")
    return " ; ".join(parts)


def write_annuaire(ref: Referentiel, path: Path) -> Path:
    """The ``referents.xlsx`` the Direction fills: ids and labels locked, contacts open."""
    wb = Workbook()
    ws = wb.active
    ws.title = ANNUAIRE_SHEET
    head = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E78")
    saisie = PatternFill("solid", fgColor="FFF2CC")
    for col, header in enumerate(ANNUAIRE_HEADERS, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font, cell.fill = head, fill
    for row, r in enumerate(ref.referents, start=2):
        values = (r.id, r.libelle, roles_of(ref, r.id), r.nom, r.email, r.telephone)
        for col, value in enumerate(values, start=1):
            cell = set_text(ws.cell(row=row, column=col), value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if col >= 4:
                cell.fill = saisie
                cell.protection = Protection(locked=False)
    for letter, width in zip("ABCDEF", (26, 48, 40, 26, 32, 16), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    email = DataValidation(type="custom", formula1='ISNUMBER(SEARCH("@",E2))',
                           allow_blank=True, showErrorMessage=True,
                           errorTitle="Adresse e-mail",
                           error="Saisissez une adresse de la forme nom@domaine.fr.")
    ws.add_data_validation(email)
    email.add(f"E2:E{len(ref.referents) + 1}")
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    return save_workbook_atomic(wb, path)


def merge_annuaire(ref: Referentiel, path: Path) -> Report:
    """Copy names, e-mails and phones from ``referents.xlsx`` into ``ref`` (in place)."""
    from python_calamine import CalamineWorkbook

    report = Report(file=str(path))
    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(ANNUAIRE_SHEET).to_python()
    except Exception as exc:  # any unreadable file is reported, not raised
        report.extend([make_finding("REF_FICHIER_ILLISIBLE", file=str(path), detail=str(exc))])
        return report
    if not rows:
        return report
    header = [str(h).strip() for h in rows[0]]
    col = {name: header.index(name) for name in ANNUAIRE_HEADERS if name in header}
    by_id = {r.id: r for r in ref.referents}

    def cell(values: list, name: str) -> str | None:
        i = col.get(name)
        if i is None or i >= len(values):
            return None
        text = str(values[i]).strip()
        return text or None

    for excel_row, values in enumerate(rows[1:], start=2):
        rid = cell(values, "Identifiant")
        if rid is None:
            continue
        where = {"file": str(path), "sheet": ANNUAIRE_SHEET, "row": excel_row}
        if rid not in by_id:
            report.extend([make_finding("REF_REFERENT_INCONNU", value=rid, cell=f"A{excel_row}",
                                        column="Identifiant", **where)])
            continue
        referent = by_id[rid]
        email = cell(values, "E-mail")
        if email and not is_valid_email(email):
            report.extend([make_finding("REF_EMAIL_INVALIDE", value=email, cell=f"E{excel_row}",
                                        column="E-mail", referent=referent.libelle, **where)])
            email = None
        referent.nom = cell(values, "Nom") or referent.nom
        referent.email = email or referent.email
        referent.telephone = cell(values, "Téléphone") or referent.telephone
    return report
