"""The contract tree (référentiel): models, loading, export."""

from cv_excel.referentiel.load import load_referentiel
from cv_excel.referentiel.models import Referentiel

__all__ = ["Referentiel", "load_referentiel"]
