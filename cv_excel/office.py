"""LibreOffice, when present: convert workbooks to PDF for the COPIL.

The batch never needs it; ``consolider --pdf`` and the end-to-end tests do.
Each call uses its own throw-away profile, so runs never collide.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class LibreOfficeAbsent(Exception):
    """``soffice`` is not installed on this machine."""


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        raise LibreOfficeAbsent("LibreOffice (soffice) est introuvable : installez-le pour "
                                "produire les PDF.")
    return path


def convert_many(paths: list[Path], outdir: Path, fmt: str = "pdf",
                 timeout: int = 900) -> list[Path]:
    """Convert several files in one LibreOffice run; raise if one does not come out."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)],
            capture_output=True, text=True, timeout=timeout)
    outs = [outdir / (p.stem + "." + fmt.split(":")[0]) for p in paths]
    missing = [o.name for o in outs if not o.exists()]
    if proc.returncode != 0 or missing:
        raise RuntimeError(f"conversion échouée ({proc.returncode}) pour {missing} : "
                           f"{proc.stdout}{proc.stderr}")
    return outs


def convert(path: Path, outdir: Path, fmt: str = "pdf", timeout: int = 180) -> Path:
    return convert_many([path], outdir, fmt, timeout)[0]
