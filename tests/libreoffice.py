"""Drive LibreOffice (the real spreadsheet program on these machines) from tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path, outdir: Path, fmt: str = "pdf", timeout: int = 180) -> Path:
    """Convert ``path`` with ``soffice --headless --convert-to``; raise if nothing comes out."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) est introuvable : lancez scripts/test.sh")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(path)],
            capture_output=True, text=True, timeout=timeout)
    out = outdir / (path.stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"conversion échouée ({proc.returncode}) : {proc.stdout}{proc.stderr}")
    return out


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])
