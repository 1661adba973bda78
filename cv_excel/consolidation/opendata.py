"""Flat exports: the Dauphin-like file for the État and the SCDL « subventions » file.

Two conventions, on purpose: the Dauphin export is read by people in French
Excel (``;`` separator, UTF-8 with BOM, decimal comma); the SCDL file is open
data read by programs (``,`` separator, UTF-8 without BOM, decimal point, ISO
dates), valid against the national SCDL « subventions » Table Schema 2.1.1, or
not written at all. Every value goes through ``csv_safe`` so no cell is
evaluated as a formula on opening.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from cv_excel.atomic import atomic_target
from cv_excel.config import QUARTIERS_ORLY, Attribuant, Quartier
from cv_excel.consolidation.reporting import accorde, theme_label
from cv_excel.listes import FINANCEURS
from cv_excel.nomenclature import nomenclature_p147
from cv_excel.programmation.check import euros
from cv_excel.programmation.validators import format_date, siret_error, strip_spaces
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import DonneesAnnee, par_numero
from cv_excel.xlsxio import csv_safe

CENTIMES = Decimal("0.01")

DAUPHIN_COLUMNS = (
    "Numéro de l'action", "N° de dossier Dauphin", "Libellé de l'action", "Raison sociale",
    "SIRET", "Type de tiers", "Code contrat de ville", "Libellé contrat de ville",
    "Code thème P147", "Thème P147", "Code sous-thème P147", "Sous-thème P147",
    "Code modalité P147", "Modalité P147", "Code QPV", "Quartier", "Code QPV à confirmer",
    "Dispositifs de l'État", "Thème ANCT (regroupement)", "Sous-thème ANCT (regroupement)",
    "Montant engagé",
)

# SCDL « subventions », version 2.1.1 (https://github.com/etalab/schema-subventions, tag
# v2.1.1; a copy ships with the tests): every field of the schema, in its order.
SCDL_VERSION = "2.1.1"
SCDL_COLUMNS = (
    "idSubvention", "nomAttribuant", "idAttribuant", "nomServiceInstructeur",
    "idServiceInstructeur", "nomBeneficiaire", "idBeneficiaire", "rnaBeneficiaire",
    "exerciceBudgetaire", "pluriannualite", "anneesPluriannualite", "dateDecision",
    "dateConvention", "referenceDecision", "dateCreation", "dateDebut", "dateFin",
    "dispositif", "sousDispositif", "statutLabel", "objet", "nature", "montantDemande",
    "montant", "nomOutilInstruction", "nomOutilVersement", "ej", "cléVersement",
    "conditionsVersement", "descriptionConditionsVersement", "datesPeriodeVersement",
    "cofinancement", "attribuantsCofinanceurs", "idCofinancement", "idRAE", "notificationUE",
    "pourcentageSubvention", "evaluationCout", "evaluation", "dateMiseAJour",
)
SCDL_DISPOSITIF = "Contrat de ville d'Orly — politique de la ville"
SCDL_OBJET_MAX = 256
_SCDL_RNA = re.compile(r"^W\d{9}$")  # the schema's pattern, stricter than the RNA itself
_LISTED = 15  # action numbers named in one warning


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              delimiter: str, bom: bool) -> Path:
    """One CSV, every cell neutralised, CRLF line ends (RFC 4180), written atomically;
    ``rows`` written as they come (a generator holds one row at a time)."""
    with atomic_target(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as out:
        if bom:
            out.write("\ufeff")
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow([csv_safe(c) for c in columns])
        for row in rows:
            writer.writerow([csv_safe("" if v is None else v) for v in row])
    return Path(path)


def montant(amount: Decimal, decimal_sep: str) -> str:
    return f"{Decimal(amount).quantize(CENTIMES, ROUND_HALF_UP)}".replace(".", decimal_sep)


def write_dauphin_csv(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                      quartiers: Sequence[Quartier] = QUARTIERS_ORLY) -> Path:
    """One row per action funded by the État (BOP 147), as Dauphin lists them.

    Lets the Direction reconcile the platform with the programmation line by line: the
    Dauphin dossier number and the porteur's SIRET identify the request, the thème /
    sous-thème / modalité are codes of the nomenclature des crédits du P147 (a missing
    level is deduced from a more precise one), the QPV code is one of ``quartiers``
    (``cv_excel.toml``), with its name and whether the code is still « à confirmer ».
    """
    nomenclature = nomenclature_p147()
    by_code = {q.code.upper(): q for q in quartiers}

    def p147(a) -> list[str | None]:
        precise = a.modalite_p147 or a.sous_theme_p147 or a.theme_p147 or ""
        codes = [a.theme_p147 or precise[:2] or None,
                 a.sous_theme_p147 or (precise[:3] if len(precise) >= 3 else None),
                 a.modalite_p147]
        return [v for code in codes for v in (code, nomenclature.libelle(code))]

    def rows() -> Iterator[list[Any]]:  # written as the year's actions are read
        for a in par_numero(donnees.actions):
            if accorde(a, "etat") <= 0:
                continue
            quartier = by_code.get((a.code_qpv or "").upper())
            confirmer = None if quartier is None else ("oui" if quartier.a_confirmer else "non")
            yield [
                a.numero, a.dossier_dauphin, a.intitule, a.porteur_raison_sociale,
                a.porteur_siret, a.porteur_type, ref.contrat.code, ref.contrat.libelle,
                *p147(a), a.code_qpv, quartier.nom if quartier else None, confirmer,
                " ; ".join(a.dispositifs_etat), theme_label(a), a.sous_theme_anct,
                montant(accorde(a, "etat"), ",")]

    return write_csv(path, DAUPHIN_COLUMNS, rows(), ";", bom=True)


@dataclass
class ExportSCDL:
    """What :func:`write_scdl_subventions_csv` did: the file (``None`` when none may be
    written) and, in French, why a file is missing or some actions are left out."""

    path: Path | None
    lignes: int = 0
    avertissements: list[str] = field(default_factory=list)


def attribuant_error(attribuant: Attribuant) -> str | None:
    """Why no SCDL file can be written for ``attribuant``, in French, or ``None``."""
    if not attribuant.nom.strip():
        return ("le nom de l'attribuant n'est pas renseigné (réglage « nom » de la section "
                "[attribuant] de cv_excel.toml)")
    if not strip_spaces(attribuant.siret):
        return ("le SIRET de l'attribuant n'est pas renseigné (réglage « siret » de la "
                "section [attribuant] de cv_excel.toml)")
    detail = siret_error(attribuant.siret)
    if detail:
        return (f"le SIRET de l'attribuant « {attribuant.siret} » (réglage « siret » de la "
                f"section [attribuant] de cv_excel.toml) n'est pas valide : {detail}")
    return None


def write_scdl_subventions_csv(donnees: DonneesAnnee, ref: Referentiel | None, path: Path,
                               attribuant: Attribuant | None = None,
                               service_instructeur: str = "", financeur: str = "ville"
                               ) -> ExportSCDL:
    """The subsidies granted by ONE attribuant, valid against the SCDL « subventions »
    schema 2.1.1 — or no file at all, never an invalid one.

    ``attribuant`` (name, SIRET) comes from ``cv_excel.toml``; when it is missing or its
    SIRET is invalid, nothing is written, a file left by an earlier run at ``path`` is
    removed, and the reason is returned. ``financeur`` is the key of :data:`FINANCEURS`
    whose amounts accordés are published (the Ville). A row needs what the schema
    requires and only the programmation holds — the convention's date and the payment
    dates: an action without them is left out and named in a warning.

    Mapping: ``idSubvention`` = the action's number, ``referenceDecision`` = the
    convention's number, ``montant`` = the amount accordé, ``conditionsVersement`` =
    « unique » for one payment date, « échelonné » for several, and
    ``datesPeriodeVersement`` = that date, or the period first/last payment;
    ``pourcentageSubvention`` = 1.00 (one beneficiary per subsidy);
    ``idServiceInstructeur`` = the attribuant's SIRET (the service is the commune's).
    """
    path = Path(path)
    if attribuant is None:
        attribuant = Attribuant(nom=next(f.libelle for f in FINANCEURS if f.key == financeur))
    probleme = attribuant_error(attribuant)
    if probleme is not None:
        path.unlink(missing_ok=True)  # a file from an earlier run would now be wrong
        return ExportSCDL(None, avertissements=[_sans_fichier(path.name, probleme)])
    rows, avertissements = _scdl_rows(donnees, attribuant, service_instructeur, financeur,
                                      path.name)
    return ExportSCDL(write_csv(path, SCDL_COLUMNS, rows, ",", bom=False), len(rows),
                      avertissements)


def scdl_avertissements(donnees: DonneesAnnee, attribuant: Attribuant, path: Path,
                        financeur: str = "ville") -> list[str]:
    """The warnings :func:`write_scdl_subventions_csv` gives, without writing anything."""
    probleme = attribuant_error(attribuant)
    if probleme is not None:
        return [_sans_fichier(Path(path).name, probleme)]
    return _scdl_rows(donnees, attribuant, "", financeur, Path(path).name)[1]


def _sans_fichier(nom_fichier: str, probleme: str) -> str:
    return (f"Le fichier de données ouvertes « {nom_fichier} » n'est pas écrit : {probleme}. "
            "Renseignez le nom et le SIRET de la commune (14 chiffres) dans cv_excel.toml, "
            "section [attribuant], puis relancez la consolidation.")


def _scdl_rows(donnees: DonneesAnnee, attribuant: Attribuant, service: str, financeur: str,
               nom_fichier: str) -> tuple[list[list[str]], list[str]]:
    siret = strip_spaces(attribuant.siret)
    libelle = next(f.libelle for f in FINANCEURS if f.key == financeur)
    rows: list[list[str]] = []
    sans_convention: list[str] = []
    sans_versement: list[str] = []
    rna_ecarte: list[str] = []
    for a in par_numero(donnees.actions):
        amount = accorde(a, financeur)
        if amount <= 0:
            continue
        dates = sorted(a.dates_versement.get(financeur) or [])
        if a.convention_date is None:
            sans_convention.append(a.numero)
        if not dates:
            sans_versement.append(a.numero)
        if a.convention_date is None or not dates:
            continue
        rna = a.porteur_rna or ""
        if rna and not _SCDL_RNA.match(rna):
            rna_ecarte.append(a.numero)
            rna = ""
        cofinanceurs = [f.libelle for f in FINANCEURS
                        if f.key != financeur and accorde(a, f.key) > 0]
        demande = a.demande.get(financeur) or Decimal(0)
        bilan = donnees.bilans.get(a.numero)
        values = {
            "idSubvention": a.numero,
            "nomAttribuant": attribuant.nom.strip(),
            "idAttribuant": siret,
            "nomServiceInstructeur": service,
            "idServiceInstructeur": siret,
            "nomBeneficiaire": a.porteur_raison_sociale,
            "idBeneficiaire": a.porteur_siret,
            "rnaBeneficiaire": rna,
            "exerciceBudgetaire": str(a.annee),
            "dateConvention": a.convention_date.isoformat(),
            "referenceDecision": a.convention_numero or "",
            "dateDebut": _iso(bilan.date_debut if bilan else None),
            "dateFin": _iso(bilan.date_fin if bilan else None),
            "dispositif": SCDL_DISPOSITIF,
            "statutLabel": "attribuée",
            "objet": a.intitule[:SCDL_OBJET_MAX - 1],  # room for csv_safe's apostrophe
            "nature": "aide en numéraire",
            "montantDemande": montant(demande, ".") if demande > 0 else "",
            "montant": montant(amount, "."),
            "conditionsVersement": "unique" if len(dates) == 1 else "échelonné",
            "descriptionConditionsVersement": _description_versement(
                dates, a.verse.get(financeur)),
            "datesPeriodeVersement": (dates[0].isoformat() if len(dates) == 1
                                      else f"{dates[0].isoformat()}/{dates[-1].isoformat()}"),
            "cofinancement": "oui" if cofinanceurs else "non",
            "attribuantsCofinanceurs": ", ".join(cofinanceurs),
            "notificationUE": "non",
            "pourcentageSubvention": "1.00",
        }
        rows.append([values.get(c, "") for c in SCDL_COLUMNS])
    avertissements = []
    annee = donnees.annee
    if sans_convention:
        avertissements.append(
            f"{_actions(sans_convention)} financée(s) par « {libelle} » ne figure(nt) pas dans "
            f"« {nom_fichier} » : la date de la convention n'est pas renseignée. Complétez la "
            f"colonne « Convention – date » de la programmation {annee}, puis relancez la "
            "consolidation.")
    if sans_versement:
        avertissements.append(
            f"{_actions(sans_versement)} financée(s) par « {libelle} » ne figure(nt) pas dans "
            f"« {nom_fichier} » : aucune date de versement n'est renseignée. Complétez la "
            f"colonne « Dates de versement – {libelle} » de la programmation {annee}, puis "
            "relancez la consolidation.")
    if rna_ecarte:
        avertissements.append(
            f"{_actions(rna_ecarte)} : le numéro RNA du porteur n'a pas la forme que le schéma "
            f"SCDL accepte (W suivi de 9 chiffres) et n'est pas publié dans « {nom_fichier} » "
            "(le SIRET suffit à identifier le porteur).")
    return rows, avertissements


def _iso(date: dt.date | None) -> str:
    return "" if date is None else date.isoformat()


def _description_versement(dates: list[dt.date], verse: Decimal | None) -> str:
    text = ("Versement en une fois" if len(dates) == 1
            else f"Versement en {len(dates)} fois, du {format_date(dates[0])} au "
                 f"{format_date(dates[-1])}")
    if verse:
        text += f" ; montant versé : {euros(verse)} €"
    return text + "."


def _actions(numeros: list[str]) -> str:
    """« 3 actions (2019-001, 2019-004, 2019-010) », at most :data:`_LISTED` numbers."""
    shown = ", ".join(numeros[:_LISTED])
    if len(numeros) > _LISTED:
        shown += f" et {len(numeros) - _LISTED} autre(s)"
    return f"{len(numeros)} action{'s' if len(numeros) > 1 else ''} ({shown})"
