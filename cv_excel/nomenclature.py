"""The State's nomenclature of BOP 147 credits (politique de la ville), as data.

Thèmes are coded on two digits, sous-thèmes on three, modalités on four; a code's
prefix is its parent (« 1111 » belongs to « 111 », which belongs to « 11 »). The data,
its source and what is still « à confirmer » are in ``data/nomenclature_p147.json`` and
``docs/nomenclature_p147.md``; this module only reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

NIVEAUX = {2: "thème", 3: "sous-thème", 4: "modalité"}


@dataclass(frozen=True)
class CodeP147:
    code: str
    libelle: str
    a_confirmer: bool = False

    @property
    def niveau(self) -> int:
        return len(self.code)

    @property
    def affichage(self) -> str:
        """What the drop-down shows: « 1111 Ingénierie et fonctionnement (…) »."""
        suffix = " (à confirmer)" if self.a_confirmer else ""
        return f"{self.code} {self.libelle}{suffix}"


@dataclass(frozen=True)
class NomenclatureP147:
    titre: str
    editeur: str
    version: str
    source: str
    codes: dict[str, CodeP147]  # every code, thèmes, sous-thèmes and modalités

    def niveau(self, longueur: int) -> list[CodeP147]:
        """The codes of one level (2, 3 or 4 digits), in code order."""
        return [c for code, c in sorted(self.codes.items()) if len(code) == longueur]

    def parent(self, code: str) -> str | None:
        return code[:-1] if len(code) > 2 else None

    def libelle(self, code: str | None) -> str | None:
        return self.codes[code].libelle if code in self.codes else None


@cache
def nomenclature_p147() -> NomenclatureP147:
    raw = json.loads(resources.files("cv_excel").joinpath("data/nomenclature_p147.json")
                     .read_text("utf-8"))
    codes: dict[str, CodeP147] = {}

    def add(node: dict) -> None:
        codes[node["code"]] = CodeP147(node["code"], node["libelle"],
                                       bool(node.get("a_confirmer", False)))

    for theme in raw["themes"]:
        add(theme)
        for sous_theme in theme.get("sous_themes", []):
            add(sous_theme)
            for modalite in sous_theme.get("modalites", []):
                add(modalite)
    return NomenclatureP147(titre=raw["titre"], editeur=raw["editeur"],
                            version=raw["version"], source=raw["source"], codes=codes)
