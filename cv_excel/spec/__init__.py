"""Declarative specifications of the generated workbooks (one per kind)."""

from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Ligne, Tableau
from cv_excel.spec.porteur import PORTEUR
from cv_excel.spec.referent import REFERENT

SPECS: dict[str, ClasseurSpec] = {PORTEUR.kind: PORTEUR, REFERENT.kind: REFERENT}

__all__ = ["PORTEUR", "REFERENT", "SPECS", "Champ", "ClasseurSpec", "Feuille", "Ligne",
           "Tableau"]
