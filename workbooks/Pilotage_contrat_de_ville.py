"""Module appelé par la console Pilotage_contrat_de_ville.xlsm (macro SampleCall via RunPython).

Il doit porter le même nom que le classeur et rester à côté de lui : ne pas le renommer.
Écrit par « cv-excel console » ; le code est dans cv_excel/excel/console.py.
"""

from cv_excel.excel.console import main

__all__ = ["main"]
