"""One programmation as typed data.

The checker turns the Direction's workbook into these models once, so the
workbook generator and the reports never touch raw cells again. Amounts are
``Decimal`` euros with 2 decimals; the porteur is identified by its SIRET.
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from cv_excel.listes import FINANCEURS, PALIERS
from cv_excel.nomenclature import nomenclature_p147
from cv_excel.programmation.validators import DATES_SEPARATOR, format_dates
from cv_excel.text import clean_text

_ZERO = Decimal("0.00")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _one_text_form(cls, value: Any) -> Any:
        """Texts in the one normal form of :mod:`cv_excel.text`, so an action number or an
        intitulé with a Word line break is the same everywhere (workbook, store, reports)."""
        return clean_text(value) if isinstance(value, str) else value


class Porteur(_Model):
    raison_sociale: str
    siret: str
    rna: str | None = None
    type_structure: str
    contact: str
    email: str

    @property
    def id(self) -> str:
        """The SIRET identifies a porteur across actions and years."""
        return self.siret


class Financement(_Model):
    """What one financeur asked, granted and paid for an action. Immutable: the many
    without any amount (most financeurs of most actions) are one shared instance each
    (:func:`_sans_montant`) — at the national volume, 250,000 instances were 280 MiB."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    financeur: str  # key of :data:`cv_excel.listes.FINANCEURS`
    libelle: str
    demande: Decimal | None = None
    accorde: Decimal | None = None
    verse: Decimal | None = None
    dates_versement: list[dt.date] = []  # chronological


@functools.cache
def _sans_montant(financeur: str, libelle: str) -> Financement:
    """The financement of ``financeur`` with no amount nor date, one instance for all."""
    return Financement(financeur=financeur, libelle=libelle)


class IndicateurUnique(_Model):
    """The indicateur de résultat unique and what each EPT step (0..100) means."""

    libelle: str
    declinaisons: dict[int, str]
    mode_recueil: str


class Action(_Model):
    numero: str
    annee: int
    porteur: Porteur
    intitule: str
    objectif_operationnel: str
    theme_anct: str | None = None
    sous_theme_anct: str | None = None
    territoire: str
    dossier_dauphin: str | None = None
    theme_p147: str | None = None  # codes of the nomenclature des crédits du P147
    sous_theme_p147: str | None = None
    modalite_p147: str | None = None
    dispositifs_etat: list[str] = []  # of :data:`cv_excel.listes.DISPOSITIFS_ETAT`
    code_qpv: str | None = None  # one of the quartiers of cv_excel.toml
    convention_numero: str | None = None
    convention_date: dt.date | None = None
    financements: list[Financement]
    departement_dispositif: str | None = None
    autres_financeurs_detail: str | None = None
    indicateur: IndicateurUnique
    # The quantified objective (issue 11): what is counted, how much, in what unit.
    objectif_quantifie: str | None = None
    valeur_cible: Decimal | None = None  # > 0
    unite: str | None = None

    @model_validator(mode="after")
    def _all_financeurs_in_order(self) -> Action:
        """Reports rely on one Financement per financeur, always in the same order."""
        keys = [f.financeur for f in self.financements]
        expected = [f.key for f in FINANCEURS]
        if keys != expected:
            raise ValueError(f"financements attendus dans l'ordre {expected}, reçu {keys}")
        return self

    def financement(self, financeur_key: str) -> Financement:
        return next(f for f in self.financements if f.financeur == financeur_key)

    def accorde(self, financeur_key: str) -> Decimal:
        """Amount granted by one financeur, 0 when none."""
        return self.financement(financeur_key).accorde or _ZERO

    @property
    def montant_accorde_total(self) -> Decimal:
        return sum((f.accorde or _ZERO for f in self.financements), _ZERO)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Action:
        """Build from a dict keyed by schema column key (clean, typed values)."""
        porteur = Porteur(
            raison_sociale=row["porteur_raison_sociale"],
            siret=row["porteur_siret"],
            rna=row.get("porteur_rna"),
            type_structure=row["porteur_type"],
            contact=row["porteur_contact"],
            email=row["porteur_email"],
        )
        financements = []
        for f in FINANCEURS:
            demande, accorde, verse, dates = (
                row.get(f"demande_{f.key}"), row.get(f"accorde_{f.key}"),
                row.get(f"verse_{f.key}"), row.get(f"dates_versement_{f.key}") or [])
            financements.append(
                _sans_montant(f.key, f.libelle)
                if demande is None and accorde is None and verse is None and not dates
                else Financement(financeur=f.key, libelle=f.libelle, demande=demande,
                                 accorde=accorde, verse=verse, dates_versement=dates))
        indicateur = IndicateurUnique(
            libelle=row["indicateur_libelle"],
            declinaisons={p: row[f"declinaison_{p}"] for p in PALIERS},
            mode_recueil=row["mode_recueil"],
        )
        return cls(
            numero=row["numero"],
            annee=row["annee"],
            porteur=porteur,
            intitule=row["intitule"],
            objectif_operationnel=row["objectif_operationnel"],
            theme_anct=row.get("theme_anct"),
            sous_theme_anct=row.get("sous_theme_anct"),
            territoire=row["territoire"],
            dossier_dauphin=row.get("dossier_dauphin"),
            theme_p147=row.get("theme_p147"),
            sous_theme_p147=row.get("sous_theme_p147"),
            modalite_p147=row.get("modalite_p147"),
            dispositifs_etat=row.get("dispositifs_etat") or [],
            code_qpv=row.get("code_qpv"),
            convention_numero=row.get("convention_numero"),
            convention_date=row.get("convention_date"),
            financements=financements,
            departement_dispositif=row.get("departement_dispositif"),
            autres_financeurs_detail=row.get("autres_financeurs_detail"),
            indicateur=indicateur,
            objectif_quantifie=row.get("objectif_quantifie"),
            valeur_cible=row.get("valeur_cible"),
            unite=row.get("unite"),
        )

    def to_row(self) -> dict[str, Any]:
        """The inverse of :meth:`from_row`: what :func:`write_programmation` expects."""
        row: dict[str, Any] = {
            "numero": self.numero,
            "annee": self.annee,
            "porteur_raison_sociale": self.porteur.raison_sociale,
            "porteur_siret": self.porteur.siret,
            "porteur_rna": self.porteur.rna,
            "porteur_type": self.porteur.type_structure,
            "porteur_contact": self.porteur.contact,
            "porteur_email": self.porteur.email,
            "intitule": self.intitule,
            "objectif_operationnel": self.objectif_operationnel,
            "theme_anct": self.theme_anct,
            "sous_theme_anct": self.sous_theme_anct,
            "territoire": self.territoire,
            "dossier_dauphin": self.dossier_dauphin,
            "theme_p147": _p147_display(self.theme_p147),
            "sous_theme_p147": _p147_display(self.sous_theme_p147),
            "modalite_p147": _p147_display(self.modalite_p147),
            "dispositifs_etat": DATES_SEPARATOR.join(self.dispositifs_etat) or None,
            "code_qpv": self.code_qpv,
            "convention_numero": self.convention_numero,
            "convention_date": self.convention_date,
        }
        for f in self.financements:
            row[f"demande_{f.financeur}"] = f.demande
            row[f"accorde_{f.financeur}"] = f.accorde
            row[f"verse_{f.financeur}"] = f.verse
            row[f"dates_versement_{f.financeur}"] = (format_dates(f.dates_versement)
                                                     if f.dates_versement else None)
        row["departement_dispositif"] = self.departement_dispositif
        row["autres_financeurs_detail"] = self.autres_financeurs_detail
        row["indicateur_libelle"] = self.indicateur.libelle
        row["objectif_quantifie"] = self.objectif_quantifie
        row["valeur_cible"] = self.valeur_cible
        row["unite"] = self.unite
        for p in PALIERS:
            row[f"declinaison_{p}"] = self.indicateur.declinaisons.get(p)
        row["mode_recueil"] = self.indicateur.mode_recueil
        return row


def _p147_display(code: str | None) -> str | None:
    """The drop-down text of a P147 code (« 1111 Ingénierie… »), the code when unknown."""
    found = nomenclature_p147().codes.get(code or "")
    return found.affichage if found else code


class Programmation(_Model):
    annee: int | None = None
    actions: list[Action] = []

    def porteurs(self) -> list[Porteur]:
        """Unique porteurs, keyed by SIRET, in order of first appearance."""
        return [actions[0].porteur for actions in _index_of(self).by_siret.values()]

    def actions_of(self, siret: str) -> list[Action]:
        return list(_index_of(self).by_siret.get(siret, ()))

    def actions_by_porteur(self) -> dict[str, list[Action]]:
        """Actions grouped by porteur SIRET, porteurs in order of first appearance."""
        return {siret: list(actions) for siret, actions in _index_of(self).by_siret.items()}

    def actions_by_objectif(self) -> dict[str, list[Action]]:
        """Actions grouped by objectif opérationnel code, codes sorted (A111, A112, …)."""
        return dict(_index_of(self).by_objectif)

    # What the workbooks ask, as :class:`ProgrammationLue` says.
    def sirets(self) -> list[str]:
        return list(_index_of(self).by_siret)

    def raison_sociale(self, siret: str) -> str:
        return _index_of(self).by_siret[siret][0].porteur.raison_sociale

    def actions_of_objectif(self, code: str) -> list[Action]:
        return list(_index_of(self).by_objectif.get(code, ()))

    def reperes(self) -> Iterator[Repere]:
        return (Repere(a.numero, a.objectif_operationnel) for a in self.actions)


class Repere(NamedTuple):
    """What the intake checks of an action: its number and its objective."""

    numero: str
    objectif_operationnel: str


class ProgrammationLue(Protocol):
    """What generation asks of a year's programmation, held in memory
    (:class:`Programmation`) or on disk
    (:class:`~cv_excel.programmation.on_disk.ProgrammationOnDisk`)."""

    annee: int | None

    def sirets(self) -> list[str]:
        """The porteurs' SIRETs, in order of first appearance."""

    def raison_sociale(self, siret: str) -> str: ...

    def porteurs(self) -> list[Porteur]: ...

    def actions_of(self, siret: str) -> list[Action]: ...

    def actions_of_objectif(self, code: str) -> list[Action]: ...

    def reperes(self) -> Iterator[Repere]: ...


class _Index:
    """A programmation's actions indexed once (by porteur, by objective) instead of
    scanned for every workbook. Kept beside the model, not in it, so that two equal
    programmations stay equal; rebuilt when ``actions`` is replaced or changes length."""

    def __init__(self, programmation: Programmation):
        key = id(programmation)
        self.owner = weakref.ref(programmation, lambda _ref: _INDEXES.pop(key, None))
        self.actions = programmation.actions  # held: its id cannot be reused meanwhile
        self.count = len(self.actions)
        self.by_siret: dict[str, list[Action]] = {}
        groups: dict[str, list[Action]] = {}
        for action in self.actions:
            self.by_siret.setdefault(action.porteur.siret, []).append(action)
            groups.setdefault(action.objectif_operationnel, []).append(action)
        self.by_objectif = {code: groups[code] for code in sorted(groups)}

    def current(self, programmation: Programmation) -> bool:
        return (self.owner() is programmation and self.actions is programmation.actions
                and self.count == len(programmation.actions))


_INDEXES: dict[int, _Index] = {}


def _index_of(programmation: Programmation) -> _Index:
    index = _INDEXES.get(id(programmation))
    if index is None or not index.current(programmation):
        index = _INDEXES[id(programmation)] = _Index(programmation)
    return index
