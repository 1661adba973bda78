"""The Excel console: a macro-enabled workbook whose buttons run cv_excel through xlwings.

``build`` writes the console (XlsxWriter, no Excel needed); ``console`` holds the
Python entry point that the console's macro calls with xlwings ``RunPython``.
Nothing here imports xlwings at module level: the package works without it.
"""

from cv_excel.excel.console import ACTIONS, CONSOLE_NAME

__all__ = ["ACTIONS", "CONSOLE_NAME"]
