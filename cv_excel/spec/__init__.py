"""Declarative specifications of the generated workbooks (one per kind)."""

from cv_excel.spec.gouvernance import COORDONNATEUR, PILOTE, RELEVE
from cv_excel.spec.model import Champ, ClasseurSpec, Feuille, Ligne, Tableau
from cv_excel.spec.porteur import PORTEUR
from cv_excel.spec.referent import REFERENT

SPECS: dict[str, ClasseurSpec] = {s.kind: s for s in (PORTEUR, REFERENT, PILOTE, COORDONNATEUR,
                                                      RELEVE)}
# The kinds of the governance cascade, in the order of a revue.
KINDS_REVUE: tuple[str, ...] = ("referent", "pilote", "coordonnateur", "decisions")

__all__ = ["COORDONNATEUR", "KINDS_REVUE", "PILOTE", "PORTEUR", "REFERENT", "RELEVE", "SPECS",
           "Champ", "ClasseurSpec", "Feuille", "Ligne", "Tableau"]
