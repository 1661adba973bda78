"""The contract tree as typed data.

pilier → orientation → objectif stratégique → objectif opérationnel, each level
with the people of the chain of responsibility (governance §1.2.2): responsable,
coordonnateur, pilote, référent. People are directory ids, never free text, so
one service spelled three ways in the seed is still one workbook recipient.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TypeIndicateur = Literal["impact", "resultat", "suivi"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contrat(_Model):
    code: str
    libelle: str
    territoire: str
    periode: str
    quartiers: list[str] = []


class Referent(_Model):
    """One real service or role; ``variantes`` are the seed spellings it absorbs."""

    id: str
    libelle: str
    variantes: list[str] = []
    direction: str | None = None
    nom: str | None = None
    email: str | None = None
    telephone: str | None = None


class Indicateur(_Model):
    libelle: str
    type: TypeIndicateur
    valeur_cible: str | None = None


class Pilier(_Model):
    code: str
    titre: str
    responsables: list[str] = []


class Orientation(_Model):
    code: str
    titre: str
    pilier: str
    coordonnateurs: list[str] = []
    titre_annexe4: str | None = None


class ObjectifStrategique(_Model):
    code: str
    titre: str
    orientation: str
    pilotes: list[str] = []
    titre_annexe4: str | None = None


class ObjectifOperationnel(_Model):
    """One *fiche objectif opérationnel* with every field of the seed's fiche."""

    code: str
    titre: str
    objectif_strategique: str
    referents: list[str] = []
    titre_annexe4: str | None = None
    chef_de_file: str | None = None
    role_ville: list[str] = []
    justification: str = ""
    contenu: str = ""
    pistes_action: list[str] = []
    partenariats: list[str] = []
    modalites: str = ""
    indicateurs: list[Indicateur] = []


class Decision(_Model):
    """How one flaw of the seed was resolved (mirrored in docs/referentiel.md)."""

    id: str
    sujet: str
    constat: str
    decision: str
    codes: list[str] = []


class Referentiel(_Model):
    contrat: Contrat
    piliers: list[Pilier]
    orientations: list[Orientation]
    objectifs_strategiques: list[ObjectifStrategique]
    objectifs_operationnels: list[ObjectifOperationnel]
    referents: list[Referent]
    decisions: list[Decision] = Field(default_factory=list)

    @model_validator(mode="after")
    def _links_resolve(self) -> Referentiel:
        """Every parent code and every person id must exist: a broken tree never loads."""
        problems: list[str] = []
        ids = {r.id for r in self.referents}
        if len(ids) != len(self.referents):
            problems.append("identifiants de référents en double")
        piliers = {p.code for p in self.piliers}
        orientations = {o.code for o in self.orientations}
        strategiques = {s.code for s in self.objectifs_strategiques}
        for level, items, parent_attr, parents, people_attr in (
            ("pilier", self.piliers, None, None, "responsables"),
            ("orientation", self.orientations, "pilier", piliers, "coordonnateurs"),
            ("objectif stratégique", self.objectifs_strategiques, "orientation", orientations,
             "pilotes"),
            ("objectif opérationnel", self.objectifs_operationnels, "objectif_strategique",
             strategiques, "referents"),
        ):
            codes = [i.code for i in items]
            if len(set(codes)) != len(codes):
                problems.append(f"codes {level} en double")
            for item in items:
                if parent_attr and getattr(item, parent_attr) not in parents:
                    problems.append(f"{level} {item.code} : parent inconnu "
                                    f"{getattr(item, parent_attr)!r}")
                for person in getattr(item, people_attr):
                    if person not in ids:
                        problems.append(f"{level} {item.code} : référent inconnu {person!r}")
        if problems:
            raise ValueError("référentiel incohérent : " + "; ".join(problems))
        return self

    # --- navigation -----------------------------------------------------------------------
    def referent(self, referent_id: str) -> Referent:
        return next(r for r in self.referents if r.id == referent_id)

    def objectif(self, code: str) -> ObjectifOperationnel:
        return next(o for o in self.objectifs_operationnels if o.code == code)

    def codes_oo(self) -> list[str]:
        return [o.code for o in self.objectifs_operationnels]

    def orientations_of(self, pilier: str) -> list[Orientation]:
        return [o for o in self.orientations if o.pilier == pilier]

    def strategiques_of(self, orientation: str) -> list[ObjectifStrategique]:
        return [s for s in self.objectifs_strategiques if s.orientation == orientation]

    def operationnels_of(self, strategique: str) -> list[ObjectifOperationnel]:
        return [o for o in self.objectifs_operationnels if o.objectif_strategique == strategique]

    def pilier_of(self, code_oo: str) -> str:
        oo = self.objectif(code_oo)
        os_ = next(s for s in self.objectifs_strategiques if s.code == oo.objectif_strategique)
        return next(o.pilier for o in self.orientations if o.code == os_.orientation)

    def objectifs_of_referent(self, referent_id: str) -> list[ObjectifOperationnel]:
        return [o for o in self.objectifs_operationnels if referent_id in o.referents]
