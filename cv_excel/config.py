"""A working folder and its configuration (``cv_excel.toml``).

Everything the Direction runs happens inside one working folder: the
programmation files, the referents directory, the generated workbooks, the
inbox of returns, the archive and the outputs. Its ``cv_excel.toml`` says which
contrat and which year; environment variables ``CV_EXCEL_*`` override it (handy
for a scheduled task). Paths in the file are relative to the folder.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from cv_excel.atomic import write_text_atomic
from cv_excel.errors import DefautDossier

CONFIG_FILE = "cv_excel.toml"


class ConfigurationInvalide(DefautDossier):
    """The working folder's configuration cannot be used; the message is French."""


class ConfigurationAbsente(ConfigurationInvalide):
    """The folder is no working folder: it does not exist or has no ``cv_excel.toml``."""


class Chemins(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programmation: str = "programmation"
    referents: str = "referents.xlsx"
    classeurs: str = "classeurs"
    retours: str = "retours"
    archives: str = "archives"
    sorties: str = "sorties"


class Attribuant(BaseModel):
    """Who grants the subsidies published in open data (SCDL « subventions »): the Ville.

    The SIRET is checked when the file is written, not here, so that a missing or
    mistyped SIRET never stops the other commands (the consolidation says why no
    SCDL file was written).
    """

    model_config = ConfigDict(extra="forbid")

    nom: str = "Ville d'Orly"
    siret: str = ""

    @field_validator("siret", mode="before")
    @classmethod
    def _digits_typed_without_quotes(cls, value: Any) -> Any:
        """``siret = 21940054600010`` (no quotes) is read as the same SIRET."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Quartier(BaseModel):
    """One quartier of the contract's geography: its code (the « Code QPV » column of the
    programmation and of the Dauphin-like export), name and kind. ``a_confirmer`` marks a
    code not confirmed from an official list (the contract gives names, no code)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1)
    nom: str
    type: Literal["QPV", "Quartier de veille active"] = "QPV"
    sous_quartiers: list[str] = []
    a_confirmer: bool = False


# From the contract (avenant 2019-2022, « Rappel des éléments de diagnostic ») : the QPV
# « quartier Est » and its five sous-quartiers, and the 4 quartiers de veille active. The
# contract gives no national QPV code (QP094xxx, décret 2014-1750): the codes below are
# local identifiers, marked à confirmer until the Direction enters the official one.
QUARTIERS_ORLY: tuple[Quartier, ...] = (
    Quartier(code="ORLY-QPV-EST", nom="Quartier Est", type="QPV",
             sous_quartiers=["Navigateurs", "Lopofa - Anotera", "Aviateurs", "Tilleuls",
                             "Racine"], a_confirmer=True),
    Quartier(code="ORLY-QVA-CALMETTE", nom="Calmette", type="Quartier de veille active",
             a_confirmer=True),
    Quartier(code="ORLY-QVA-PIERRE-AU-PRETRE", nom="Façade Pierre-au-prêtre",
             type="Quartier de veille active", a_confirmer=True),
    Quartier(code="ORLY-QVA-SAULES", nom="Les Saules", type="Quartier de veille active",
             a_confirmer=True),
    Quartier(code="ORLY-QVA-SABLIERE", nom="La Sablière", type="Quartier de veille active",
             a_confirmer=True),
)


class Territoire(BaseModel):
    """The contract's geography: the quartiers whose codes the programmation uses."""

    model_config = ConfigDict(extra="forbid")

    quartiers: list[Quartier] = list(QUARTIERS_ORLY)

    @field_validator("quartiers")
    @classmethod
    def _codes_uniques(cls, value: list[Quartier]) -> list[Quartier]:
        codes = [q.code for q in value]
        doubles = sorted({c for c in codes if codes.count(c) > 1})
        if doubles:
            raise ValueError(f"code de quartier en double : {', '.join(doubles)}")
        return value


# Months of the default revues when ``cv_excel.toml`` gives no dates for a year: the
# contract asks for three revues de projet a year per pilier, without dates; spring,
# early summer and autumn frame the summer and the next year's programmation.
MOIS_REVUES_PAR_DEFAUT = {1: (6,), 2: (3, 10), 3: (3, 6, 11), 4: (3, 5, 9, 11)}


@dataclass(frozen=True)
class Revue:
    """One revue de projet et de coordination of a year (governance, § 2.1)."""

    annee: int
    numero: int
    date: dt.date
    indicative: bool  # a default date, not one the Direction set in cv_excel.toml

    @property
    def libelle(self) -> str:
        when = self.date.strftime("%d/%m/%Y")
        return f"Revue {self.numero} ({'date indicative : ' if self.indicative else ''}{when})"


class RevueInconnue(ValueError):
    """A revue number the year does not have; the message is French."""


class Revues(BaseModel):
    """The year's revues: ``nombre`` by default, or the dates the Direction set per year."""

    model_config = ConfigDict(extra="forbid")

    nombre: int = Field(3, ge=1, le=12)
    dates: dict[int, list[dt.date]] = {}

    @model_validator(mode="after")
    def _dates_de_leur_annee(self) -> Revues:
        for annee, dates in self.dates.items():
            if not dates:
                raise ValueError(f"aucune date de revue pour {annee}")
            if any(d.year != annee for d in dates):
                raise ValueError(f"une date de revue de {annee} n'est pas en {annee}")
            if dates != sorted(set(dates)):
                raise ValueError(f"dates de revue de {annee} en double ou dans le désordre")
        return self

    def of(self, annee: int) -> list[Revue]:
        """The revues of ``annee``, numbered from 1 in date order."""
        if annee in self.dates:
            return [Revue(annee, i, d, False) for i, d in enumerate(self.dates[annee], 1)]
        mois = MOIS_REVUES_PAR_DEFAUT.get(self.nombre) or tuple(
            1 + (12 * i) // self.nombre for i in range(self.nombre))
        return [Revue(annee, i, dt.date(annee, m, 15), True) for i, m in enumerate(mois, 1)]

    def get(self, annee: int, numero: int) -> Revue | None:
        return next((r for r in self.of(annee) if r.numero == numero), None)

    def exiger(self, annee: int, numero: int) -> Revue:
        """Revue ``numero`` of ``annee``, or :class:`RevueInconnue` saying which exist."""
        revue = self.get(annee, numero)
        if revue is None:
            numeros = ", ".join(str(r.numero) for r in self.of(annee))
            raise RevueInconnue(f"L'année {annee} n'a pas de revue {numero} (revues prévues : "
                                f"{numeros} ; voir [revues] dans cv_excel.toml).")
        return revue

    def precedente(self, annee: int, numero: int) -> tuple[int, int]:
        """The revue before revue ``numero`` of ``annee``: the one before it in the year,
        else the last revue of the year before."""
        if numero > 1:
            return annee, numero - 1
        return annee - 1, len(self.of(annee - 1))


class Configuration(BaseSettings):
    """What ``cv_excel.toml`` may hold; every field has a working default."""

    model_config = SettingsConfigDict(
        env_prefix="CV_EXCEL_", env_nested_delimiter="__", extra="forbid"
    )

    contrat: str = "orly-2019-2022"
    # The evaluation kit (embedded référentiel) the contrat uses, when its code is not the
    # contrat's own: the EPT's contrats share one kit (« évaluation cohérente et homogène
    # à l'échelle des 8 contrats de ville »). Empty: the référentiel of ``contrat``.
    referentiel: str = ""
    # The contrat's name as outputs show it, when the kit is another contrat's.
    libelle: str = ""
    annee: int = Field(2019, ge=2000, le=2100)
    echeance_retours: str = "31 janvier de l'année suivante"
    direction: str = "Direction Politique de la Ville — Ville d'Orly"
    contact_email: str = ""
    # Seconds a command waits for the working folder when the batch or the console works on it.
    attente_verrou: float = Field(30.0, ge=0)
    # The store: empty for the working folder's own SQLite file (cv_excel.sqlite); a path
    # (relative to the working folder) of another SQLite file; or a server's address,
    # « postgresql://utilisateur@serveur/base » (the password comes from PGPASSWORD or a
    # .pgpass file, never from this file). Environment: CV_EXCEL_BASE.
    base: str = ""
    # Processes that generate and check workbooks at once; 0: one per core of the machine.
    workers: int = Field(0, ge=0, le=64)
    chemins: Chemins = Chemins()
    attribuant: Attribuant = Attribuant()
    territoire: Territoire = Territoire()
    revues: Revues = Revues()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


class DossierTravail:
    """A working folder: its root, its configuration and the paths derived from it."""

    def __init__(self, root: Path, config: Configuration):
        self.root = root
        self.config = config

    @classmethod
    def open(cls, root: Path | str | None = None) -> DossierTravail:
        """Read ``cv_excel.toml`` of ``root`` (the current folder by default).

        A folder without the file is refused (:class:`ConfigurationAbsente`): no command
        but ``cv-excel init`` and ``cv-excel demo``, which write it, may create files
        in a folder that is not a working folder.
        """
        root = Path(root or ".").resolve()
        toml_file = root / CONFIG_FILE
        if not root.is_dir():
            raise ConfigurationAbsente(f"Le dossier de travail {root} n'existe pas.")
        if not toml_file.is_file():
            raise ConfigurationAbsente(
                f"{root} n'est pas un dossier de travail cv_excel (pas de fichier "
                f"{CONFIG_FILE}) : indiquez le bon dossier, ou préparez celui-ci avec "
                "« cv-excel init ».")
        try:
            config = Configuration(_toml_file=toml_file)
        except ValidationError as exc:
            details = "; ".join(
                f"« {'.'.join(str(p) for p in e['loc'])} » : {_french(e)}" for e in exc.errors()
            )
            raise ConfigurationInvalide(
                f"La configuration {toml_file} n'est pas valide : {details}."
            ) from exc
        except Exception as exc:  # malformed TOML
            raise ConfigurationInvalide(
                f"Le fichier {toml_file} n'est pas un fichier TOML lisible : {exc}."
            ) from exc
        return cls(root, config)

    def path(self, name: str) -> Path:
        """Absolute path of one of the configured locations (``chemins``)."""
        return self.root / getattr(self.config.chemins, name)

    def programmation_file(self, annee: int) -> Path:
        return self.path("programmation") / f"Programmation {annee}.xlsx"

    def create_folders(self) -> None:
        for name in ("programmation", "classeurs", "retours", "archives", "sorties"):
            self.path(name).mkdir(parents=True, exist_ok=True)


_PYDANTIC_FR = {
    "int_parsing": "un nombre entier est attendu",
    "int_type": "un nombre entier est attendu",
    "string_type": "un texte entre guillemets est attendu",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "extra_forbidden": "réglage inconnu",
    "model_type": "une section [..] est attendue",
}


def _french(error: Any) -> str:
    """French wording of a pydantic validation error (the Direction reads it)."""
    return _PYDANTIC_FR.get(error["type"], error["msg"])


def _q(value: str) -> str:
    """A TOML basic string (JSON escaping is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def write_config(root: Path, **values: Any) -> Path:
    """Write a commented ``cv_excel.toml`` (French comments) into ``root``."""
    config = Configuration(**values)
    c = config.chemins
    a = config.attribuant
    text = f"""# Configuration du dossier de travail cv_excel (contrat de ville).
# Les chemins sont relatifs à ce dossier.

# Code du contrat suivi (référentiel embarqué dans cv_excel).
contrat = {_q(config.contrat)}
# Référentiel (kit d'évaluation) embarqué à utiliser quand ce n'est pas celui du contrat
# lui-même, et nom du contrat à afficher dans ce cas (vides : ceux du contrat).
referentiel = {_q(config.referentiel)}
libelle = {_q(config.libelle)}
# Année de programmation en cours.
annee = {config.annee}
# Échéance de retour des bilans, telle qu'elle apparaît dans les classeurs.
echeance_retours = {_q(config.echeance_retours)}
# Service qui pilote le contrat et adresse de contact indiquée aux porteurs.
direction = {_q(config.direction)}
contact_email = {_q(config.contact_email)}
# Magasin de données : vide = le fichier cv_excel.sqlite de ce dossier ; sinon le chemin
# d'un autre fichier SQLite, ou l'adresse d'un serveur PostgreSQL partagé par plusieurs
# postes ou plusieurs contrats, par exemple "postgresql://cv_excel@serveur/contrats"
# (le mot de passe se met dans PGPASSWORD ou un fichier .pgpass, jamais ici).
base = {_q(config.base)}
# Processus qui génèrent et vérifient les classeurs en parallèle (0 = un par cœur).
workers = {config.workers}

[chemins]
programmation = {_q(c.programmation)}   # une programmation par année
referents = {_q(c.referents)}      # annuaire des référents (noms, e-mails)
classeurs = {_q(c.classeurs)}           # classeurs générés à envoyer
retours = {_q(c.retours)}               # boîte de réception des classeurs retournés
archives = {_q(c.archives)}             # archive de tous les fichiers reçus
sorties = {_q(c.sorties)}               # rapports, tableaux de bord

# Attribuant des subventions publiées en données ouvertes (fichier « Subventions <année>
# (SCDL).csv », schéma national SCDL « subventions ») : la commune qui signe les
# conventions. siret = SIRET de la commune (14 chiffres, clé de contrôle vérifiée), à
# relever sur https://annuaire-entreprises.data.gouv.fr. Tant qu'il manque ou qu'il est
# faux, la consolidation n'écrit pas ce fichier et dit pourquoi.
[attribuant]
nom = {_q(a.nom)}
siret = {_q(a.siret)}

# Géographie prioritaire du contrat : un bloc [[territoire.quartiers]] par quartier. Le
# code est celui que la programmation choisit dans la colonne « Code QPV » et que
# l'export Dauphin reprend. type = "QPV" ou "Quartier de veille active". Le contrat ne
# donne aucun code national (QP094xxx) : remplacez le code par celui de
# https://sig.ville.gouv.fr et passez a_confirmer à false une fois vérifié.
{_quartiers_toml(config.territoire.quartiers)}
# Revues de projet et de coordination (contrat, gouvernance § 2.1 : trois par an et par
# pilier). nombre = revues par an quand aucune date n'est donnée pour l'année ; sinon une
# ligne par année sous [revues.dates], par exemple :  2019 = [2019-03-15, 2019-06-14,
# 2019-11-15]  (les revues sont numérotées 1, 2, 3… dans l'ordre des dates).
[revues]
nombre = {config.revues.nombre}
{_revues_dates_toml(config.revues)}"""
    return write_text_atomic(root / CONFIG_FILE, text)


def _quartiers_toml(quartiers: list[Quartier]) -> str:
    blocks = []
    for q in quartiers:
        lines = ["[[territoire.quartiers]]", f"code = {_q(q.code)}", f"nom = {_q(q.nom)}",
                 f"type = {_q(q.type)}"]
        if q.sous_quartiers:
            lines.append("sous_quartiers = [" + ", ".join(map(_q, q.sous_quartiers)) + "]")
        lines.append(f"a_confirmer = {'true' if q.a_confirmer else 'false'}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _revues_dates_toml(revues: Revues) -> str:
    if not revues.dates:
        return ""
    lines = ["[revues.dates]"]
    for annee, dates in sorted(revues.dates.items()):
        lines.append(f"{annee} = [" + ", ".join(d.isoformat() for d in dates) + "]")
    return "\n".join(lines) + "\n"
