"""The Direction's own copies of the templates (``modeles/`` of the working folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cv_excel.config import DossierTravail
from cv_excel.generation.generate import BUILTIN_TEMPLATES, DOSSIER_MODELES
from cv_excel.spec import SPECS


def copy_templates(work: DossierTravail, overwrite: bool = False) -> list[Path]:
    """Copy the shipped templates into ``modeles/``; existing copies are kept."""
    folder = work.root / DOSSIER_MODELES
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in SPECS.values():
        target = folder / spec.modele
        if target.exists() and not overwrite:
            continue
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(BUILTIN_TEMPLATES / spec.modele, tmp)
        tmp.replace(target)
        written.append(target)
    return written
