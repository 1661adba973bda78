"""Flat exports: the Dauphin-like file for the État and the SCDL « subventions » file.

Two conventions, on purpose: the Dauphin export is read by people in French
Excel (``;`` separator, UTF-8 with BOM, decimal comma); the SCDL file is open
data read by programs (``,`` separator, UTF-8 without BOM, decimal point). Every
value goes through ``csv_safe`` so no cell is evaluated as a formula on opening.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from cv_excel.atomic import write_text_atomic
from cv_excel.consolidation.reporting import accorde, theme_label
from cv_excel.listes import FINANCEURS
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.models import DonneesAnnee
from cv_excel.xlsxio import csv_safe

CENTIMES = Decimal("0.01")

DAUPHIN_COLUMNS = (
    "Numéro de l'action", "Libellé de l'action", "Raison sociale", "Type de tiers",
    "Code contrat de ville", "Libellé contrat de ville", "Thème", "Sous-thème",
    "Montant engagé",
)

SCDL_COLUMNS = (
    "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
    "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
    "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention",
    "dispositifAide",
)
SCDL_DISPOSITIF = "Contrat de ville d'Orly — politique de la ville"


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              delimiter: str, bom: bool) -> Path:
    """One CSV, every cell neutralised, CRLF line ends (RFC 4180), written atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([csv_safe(c) for c in columns])
    for row in rows:
        writer.writerow([csv_safe("" if v is None else v) for v in row])
    return write_text_atomic(path, ("\ufeff" if bom else "") + buf.getvalue())


def montant(amount: Decimal, decimal_sep: str) -> str:
    return f"{Decimal(amount).quantize(CENTIMES, ROUND_HALF_UP)}".replace(".", decimal_sep)


def write_dauphin_csv(donnees: DonneesAnnee, ref: Referentiel, path: Path) -> Path:
    """One row per action funded by the État (BOP 147), as Dauphin lists them.

    Lets the Direction check the platform against the programmation line by line.
    """
    rows = [
        [a.numero, a.intitule, a.porteur_raison_sociale, a.porteur_type, ref.contrat.code,
         ref.contrat.libelle, theme_label(a), a.sous_theme_anct,
         montant(accorde(a, "etat"), ",")]
        for a in sorted(donnees.actions, key=lambda a: a.numero) if accorde(a, "etat") > 0
    ]
    return write_csv(path, DAUPHIN_COLUMNS, rows, ";", bom=True)


def write_scdl_subventions_csv(donnees: DonneesAnnee, ref: Referentiel, path: Path,
                               financeur: str = "ville", nom_attribuant: str | None = None,
                               id_attribuant: str = "") -> Path:
    """The subsidies granted by ONE attribuant, in the SCDL « subventions » schema.

    ``financeur`` is a key of :data:`FINANCEURS` (default the Ville); rows are the
    actions with an amount accordé by it. ``id_attribuant`` is the attribuant's
    SIRET: it defaults to an empty string and the Direction must set it before
    publishing. Unknown dates (convention, versements) stay empty.
    ``pourcentageSubvention`` is this financeur's share of the total accordé
    (between 0 and 1): the cost of the operation is not known here.
    """
    if nom_attribuant is None:
        nom_attribuant = next(f.libelle for f in FINANCEURS if f.key == financeur)
    rows = []
    for a in sorted(donnees.actions, key=lambda a: a.numero):
        amount = accorde(a, financeur)
        if amount <= 0:
            continue
        part = (amount / a.total_accorde).quantize(CENTIMES, ROUND_HALF_UP)
        rows.append([nom_attribuant, id_attribuant, "", "", a.porteur_raison_sociale,
                     a.porteur_siret, a.porteur_rna or "", a.intitule, montant(amount, "."),
                     "aide en numéraire", "unique", "", "", "non", str(part),
                     SCDL_DISPOSITIF])
    return write_csv(path, SCDL_COLUMNS, rows, ",", bom=False)
