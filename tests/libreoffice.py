"""Drive LibreOffice (the real spreadsheet program on these machines) from tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path, outdir: Path, fmt: str = "pdf", timeout: int = 180) -> Path:
    """Convert ``path`` with ``soffice --headless --convert-to``; raise if nothing comes out."""
    return convert_many([path], outdir, fmt, timeout)[0]


def convert_many(paths: list[Path], outdir: Path, fmt: str = "pdf",
                 timeout: int = 900) -> list[Path]:
    """Convert several files in one LibreOffice run (one start-up for all)."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) est introuvable : lancez scripts/test.sh")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)],
            capture_output=True, text=True, timeout=timeout)
    outs = [outdir / (p.stem + "." + fmt.split(":")[0]) for p in paths]
    missing = [o.name for o in outs if not o.exists()]
    if proc.returncode != 0 or missing:
        raise RuntimeError(f"conversion échouée ({proc.returncode}) pour {missing} : "
                           f"{proc.stdout}{proc.stderr}")
    return outs


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])
