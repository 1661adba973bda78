"""Drive LibreOffice (the real spreadsheet program on these machines) from tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cv_excel.office import convert, convert_many

__all__ = ["convert", "convert_many", "pdf_pages"]


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])
